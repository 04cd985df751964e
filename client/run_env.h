/*
 * run_env.h — the variables run sets in its command's environment, and the
 * secrets they hold (run_env.c).
 */
#ifndef NSVAULT_RUN_ENV_H
#define NSVAULT_RUN_ENV_H

#include "nsvault.h"

/* Where a variable's secret was named; an earlier source wins a variable. */
typedef enum RunSource
{
	RUN_FROM_ENV_OPTION,		/* --env VAR=SECRET */
	RUN_FROM_REFERENCE,			/* VAR=nsvault://SECRET in our environment */
	RUN_FROM_LISTING			/* --all or --prefix */
} RunSource;

typedef struct RunVariable
{
	char	   *name;
	size_t		secret;			/* its secret's index in the plan's set */
	RunSource	source;
} RunVariable;

/* The variables, and the distinct secrets they hold, to be fetched in one call. */
typedef struct RunPlan
{
	SecretSet	set;			/* each name a copy of our own */
	RunVariable *vars;
	size_t		nvars;
	size_t		vars_room;
	size_t		names_room;
	json_t	   *secret_index;	/* secret name: its index in set */
	json_t	   *var_index;		/* variable: its index in vars */
	size_t		first_listed_var;	/* where the listing's variables begin */
	size_t		first_listed_secret;	/* and the secrets only it names */
} RunPlan;

extern void run_plan_named(RunPlan *plan, const CommandLine *cl);
extern void run_plan_fetch(RunPlan *plan, const CommandLine *cl);
extern char **run_plan_environment(const RunPlan *plan, size_t *first_added);
extern void run_plan_free(RunPlan *plan);

#endif							/* NSVAULT_RUN_ENV_H */
