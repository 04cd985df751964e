/*
 * run_env.c — the variables run sets in its command's environment, and the
 * secrets they hold: each --env VAR=SECRET; each variable of ours whose
 * whole value is a reference, nsvault://SECRET, as op run resolves op://;
 * and with --all or --prefix the namespace's secrets that the role can
 * read, each in the variable its name gives.
 *
 * A variable is set once: --env wins it over a reference, and a reference
 * over a listed secret; two listed secrets that give one variable are a
 * usage error.  Every secret is fetched in one get_secrets call.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mask.h"
#include "nsvault.h"
#include "run_env.h"

extern char **environ;

#define REFERENCE_SCHEME "nsvault://"
#define SECRET_NAME_MAX 128

/* what the role can read of the namespace, under a prefix ("" for all), and whether each has expired */
#define LIST_SQL \
	"SELECT name, expires_at IS NOT NULL AND expires_at <= pg_catalog.clock_timestamp()" \
	" FROM nsvault.list_secrets($1) WHERE pg_catalog.starts_with(name, $2)"
static const DbShape list_answer =
{"nsvault.list_secrets", DB_ANY_ROWS, 2, {DB_TYPE_TEXT, DB_TYPE_BOOL}, 0};

/* Whether c may stand in an environment variable's name. */
static bool
variable_char(char c)
{
	return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* Whether name is a valid environment variable name: [A-Za-z_][A-Za-z0-9_]*. */
static bool
valid_variable(const char *name, size_t len)
{
	if (len == 0 || (name[0] >= '0' && name[0] <= '9'))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!variable_char(name[i]))
			return false;
	return true;
}

/*
 * Whether name is a valid secret name, as the server checks it: 1 to 128 of
 * A-Z a-z 0-9 _ - . /, starting with a letter, no "//", not ending in "/".
 */
static bool
valid_secret_name(const char *name)
{
	size_t		len = strlen(name);

	if (len == 0 || len > SECRET_NAME_MAX || name[len - 1] == '/' ||
		!((name[0] >= 'A' && name[0] <= 'Z') || (name[0] >= 'a' && name[0] <= 'z')))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!(variable_char(name[i]) || name[i] == '-' || name[i] == '.' || name[i] == '/') ||
			(name[i] == '/' && name[i + 1] == '/'))
			return false;
	return true;
}

/* The index of secret name in the plan's set, which gets a copy of it if new. */
static size_t
plan_secret(RunPlan *plan, const char *name)
{
	json_t	   *known = json_object_get(plan->secret_index, name);
	size_t		index = plan->set.n;
	char	   *copy;

	if (known != NULL)
		return (size_t) json_integer_value(known);
	if (index == plan->names_room)
	{
		plan->names_room = plan->names_room * 2 + 8;
		plan->set.names = realloc(plan->set.names, sizeof(char *) * plan->names_room);
	}
	copy = strdup(name);
	if (plan->set.names == NULL || copy == NULL ||
		json_object_set_new(plan->secret_index, name, json_integer((json_int_t) index)) != 0)
		die(EXIT_FAIL, "out of memory");
	plan->set.names[plan->set.n++] = copy;
	return index;
}

/* Sets variable var (a malloc'd name the plan takes) to secret name. */
static void
plan_bind(RunPlan *plan, char *var, const char *name, RunSource source)
{
	RunVariable *added;

	if (plan->nvars == plan->vars_room)
	{
		plan->vars_room = plan->vars_room * 2 + 8;
		plan->vars = realloc(plan->vars, sizeof(RunVariable) * plan->vars_room);
		if (plan->vars == NULL)
			die(EXIT_FAIL, "out of memory");
	}
	added = &plan->vars[plan->nvars];
	added->name = var;
	added->secret = plan_secret(plan, name);
	added->source = source;
	if (json_object_set_new(plan->var_index, var, json_integer((json_int_t) plan->nvars)) != 0)
		die(EXIT_FAIL, "out of memory");
	plan->nvars++;
}

/* The variable already set to a secret under that name, or NULL. */
static const RunVariable *
plan_variable(const RunPlan *plan, const char *var, size_t len)
{
	json_t	   *known = json_object_getn(plan->var_index, var, len);

	return known == NULL ? NULL : &plan->vars[json_integer_value(known)];
}

/* Reads each --env VAR=SECRET; a variable given twice is a usage error. */
static void
plan_env_options(RunPlan *plan, const CommandLine *cl)
{
	for (int i = 0; i < cl->nrepeated[OPT_ENV]; i++)
	{
		const char *spec = cl->repeated[OPT_ENV][i];
		const char *equals = strchr(spec, '=');
		int			var_len = equals == NULL ? 0 : (int) (equals - spec);

		if (equals == NULL || equals[1] == '\0')
			die(EXIT_USAGE, "run: --env takes VAR=SECRET, not \"%s\" (see \"nsvault run --help\")", spec);
		if (!valid_variable(spec, var_len))
			die(EXIT_USAGE, "run: \"%.*s\" is not a valid environment variable name: it takes letters, digits and _, and does not start with a digit",
				var_len, spec);
		if (!valid_secret_name(equals + 1))
			die(EXIT_USAGE, "run: --env %.*s=...: not a valid secret name: 1 to 128 of A-Z a-z 0-9 _ - . /, starting with a letter, no \"//\", not ending in \"/\"",
				var_len, spec);
		if (plan_variable(plan, spec, var_len) != NULL)
			die(EXIT_USAGE, "run: --env sets variable %.*s twice", var_len, spec);
		plan_bind(plan, strndup(spec, var_len), equals + 1, RUN_FROM_ENV_OPTION);
	}
}

/*
 * Reads each variable of ours whose whole value is nsvault://SECRET, unless
 * --env sets it; one that is not a valid secret name after nsvault://, or
 * in a variable of an invalid name, is a usage error.
 */
static void
plan_references(RunPlan *plan)
{
	const size_t scheme_len = strlen(REFERENCE_SCHEME);

	for (char **entry = environ; *entry != NULL; entry++)
	{
		const char *equals = strchr(*entry, '=');
		int			var_len = equals == NULL ? 0 : (int) (equals - *entry);
		const char *name = equals == NULL ? NULL : equals + 1 + scheme_len;

		if (equals == NULL || strncmp(equals + 1, REFERENCE_SCHEME, scheme_len) != 0 ||
			plan_variable(plan, *entry, var_len) != NULL)
			continue;
		if (!valid_variable(*entry, var_len))
			die(EXIT_USAGE, "run: variable \"%.*s\" holds a reference, but only variables named [A-Za-z_][A-Za-z0-9_]* are resolved",
				var_len, *entry);
		if (!valid_secret_name(name))
			die(EXIT_USAGE, "run: variable %.*s holds a reference that is not " REFERENCE_SCHEME "NAME with a valid secret name: 1 to 128 of A-Z a-z 0-9 _ - . /, starting with a letter, no \"//\", not ending in \"/\"",
				var_len, *entry);
		plan_bind(plan, strndup(*entry, var_len), name, RUN_FROM_REFERENCE);
	}
}

/*
 * Starts the plan with the variables the command line and our environment
 * name; fails with a usage error if there are none and nothing to list.
 */
void
run_plan_named(RunPlan *plan, const CommandLine *cl)
{
	memset(plan, 0, sizeof(*plan));
	plan->secret_index = json_object();
	plan->var_index = json_object();
	if (plan->secret_index == NULL || plan->var_index == NULL)
		die(EXIT_FAIL, "out of memory");
	plan_env_options(plan, cl);
	plan_references(plan);
	if (plan->nvars == 0 && !option_given(cl, OPT_ALL) && !option_given(cl, OPT_PREFIX))
		die(EXIT_USAGE, "run: give at least one --env VAR=SECRET, --all or --prefix PREFIX, or a variable VAR=" REFERENCE_SCHEME "SECRET in the environment (see \"nsvault run --help\")");
	plan->first_listed_var = plan->nvars;
	plan->first_listed_secret = plan->set.n;
}

/*
 * The variable of a listed secret, from the rest of its name after the
 * prefix (its whole name with --all): upper-cased, each character other
 * than a letter, digit or _ as _.
 */
static char *
listed_variable(const char *rest)
{
	size_t		len = strlen(rest);
	char	   *var = malloc(len + 1);

	if (var == NULL)
		die(EXIT_FAIL, "out of memory");
	for (size_t i = 0; i < len; i++)
		var[i] = (rest[i] >= 'a' && rest[i] <= 'z') ? rest[i] - 'a' + 'A'
			: variable_char(rest[i]) ? rest[i] : '_';
	var[len] = '\0';
	return var;
}

/*
 * Sets a listed secret's variable, unless --env or a reference set it
 * already; one another listed secret set is a usage error naming both.
 */
static void
plan_listed_secret(RunPlan *plan, PGconn *conn, char *var, const char *name)
{
	const RunVariable *taken = plan_variable(plan, var, strlen(var));

	if (taken == NULL)
	{
		plan_bind(plan, var, name, RUN_FROM_LISTING);
		return;
	}
	if (taken->source == RUN_FROM_LISTING)
	{
		PQfinish(conn);
		die(EXIT_USAGE, "run: secrets \"%s\" and \"%s\" both give variable %s: set it with --env %s=SECRET",
			plan->set.names[taken->secret], name, var, var);
	}
	free(var);
}

/*
 * Why a listed secret is left out, if it is: it has expired, or the rest of
 * its name after the prefix gives no variable name.  NULL if it is not.
 */
static const char *
left_out(bool expired, const char *rest)
{
	if (expired)
		return "it has expired";
	if (rest[0] == '\0')
		return "its name is the prefix, which leaves nothing to name a variable (--env VAR=NAME sets one)";
	if (rest[0] >= '0' && rest[0] <= '9')
		return "the rest of its name after the prefix starts with a digit, as a variable name cannot (--env VAR=NAME sets one)";
	return NULL;
}

/*
 * Adds the namespace's secrets that the role can read, whose names start
 * with --prefix's (all of them with --all), each in the variable its name
 * gives.  An expired one, or one whose name gives no variable, is left out
 * with a warning.
 */
static void
plan_listed(RunPlan *plan, PGconn *conn, const CommandLine *cl)
{
	const char *prefix = option_given(cl, OPT_PREFIX) ? cl->value[OPT_PREFIX] : "";
	const char *params[2] = {cl->namespace, prefix};
	DbError		error;
	PGresult   *res = db_call(conn, LIST_SQL, 2, params, &list_answer, &error);

	if (res == NULL)
	{
		PQfinish(conn);
		die(error.status, "run: %s", error.message);
	}
	if (PQntuples(res) == 0)
		warn("run: namespace \"%s\" has no secret%s%s%s that this role can read",
			 cl->namespace, prefix[0] ? " whose name starts with \"" : "", prefix,
			 prefix[0] ? "\"" : "");
	for (int row = 0; row < PQntuples(res); row++)
	{
		const char *name = PQgetvalue(res, row, 0);
		const char *rest = name + strlen(prefix);
		const char *why = left_out(PQgetvalue(res, row, 1)[0] == 't', rest);

		if (why != NULL)
			warn("run: secret \"%s\" is left out: %s", name, why);
		else
			plan_listed_secret(plan, conn, listed_variable(rest), name);
	}
	PQclear(res);
}

/* Forgets what plan_listed added, to list again. */
static void
plan_forget_listed(RunPlan *plan)
{
	for (size_t i = plan->first_listed_var; i < plan->nvars; i++)
	{
		json_object_del(plan->var_index, plan->vars[i].name);
		free(plan->vars[i].name);
	}
	plan->nvars = plan->first_listed_var;
	for (size_t i = plan->first_listed_secret; i < plan->set.n; i++)
	{
		json_object_del(plan->secret_index, plan->set.names[i]);
		free((char *) plan->set.names[i]);
	}
	plan->set.n = plan->first_listed_secret;
}

/*
 * Fails, before the command starts, on the first variable of --env or of a
 * reference whose secret does not exist: EXIT_NOT_FOUND.  A listed secret
 * deleted since it was listed has no value, and is left out.
 */
static void
check_named_found(const RunPlan *plan, const char *namespace)
{
	for (size_t i = 0; i < plan->first_listed_var; i++)
	{
		const RunVariable *var = &plan->vars[i];
		const char *name = plan->set.names[var->secret];

		if (plan->set.values[var->secret] != NULL)
			continue;
		if (var->source == RUN_FROM_REFERENCE)
			die(EXIT_NOT_FOUND, "run: secret \"%s\" not found in namespace \"%s\"; variable %s refers to it",
				name, namespace, var->name);
		die(EXIT_NOT_FOUND, "run: secret \"%s\" not found in namespace \"%s\"", name, namespace);
	}
}

/*
 * Lists the namespace's secrets for --all or --prefix, then fetches every
 * secret of the plan in one get_secrets call, on one connection.  When a
 * listed secret expired between the two, it lists and fetches once more.
 */
void
run_plan_fetch(RunPlan *plan, const CommandLine *cl)
{
	bool		listing = option_given(cl, OPT_ALL) || option_given(cl, OPT_PREFIX);
	DbError		error;
	PGconn	   *conn = db_connect(cl->conninfo, &error);

	if (conn == NULL)
		die(error.status, "run: %s", error.message);
	for (int attempt = 1;; attempt++)
	{
		if (listing)
			plan_listed(plan, conn, cl);
		if (plan->set.n == 0 ||
			secrets_fetch_on(conn, &plan->set, cl->namespace, true, &error))
			break;
		if (!listing || !error.expired || attempt > 1)
		{
			PQfinish(conn);
			die(error.status, "run: %s", error.message);
		}
		plan_forget_listed(plan);
	}
	PQfinish(conn);
	check_named_found(plan, cl->namespace);
}

/*
 * The command's environment: ours, less each variable the plan sets, and
 * then each VAR=value.  The caller wipes the entries from *first_added on.
 */
char	  **
run_plan_environment(const RunPlan *plan, size_t *first_added)
{
	size_t		n = 0;
	size_t		kept = 0;
	char	  **env;

	while (environ[n] != NULL)
		n++;
	env = malloc(sizeof(char *) * (n + plan->nvars + 1));
	if (env == NULL)
		die(EXIT_FAIL, "out of memory");
	for (size_t i = 0; i < n; i++)
	{
		const char *equals = strchr(environ[i], '=');
		size_t		len = equals ? (size_t) (equals - environ[i]) : strlen(environ[i]);

		if (plan_variable(plan, environ[i], len) == NULL)
			env[kept++] = environ[i];
	}
	*first_added = kept;
	for (size_t i = 0; i < plan->nvars; i++)
	{
		const RunVariable *var = &plan->vars[i];
		const char *value = plan->set.values[var->secret];
		size_t		var_len = strlen(var->name);
		size_t		value_len = plan->set.lens[var->secret];
		char	   *entry;

		if (value == NULL)
			continue;
		entry = malloc(var_len + 1 + value_len + 1);
		if (entry == NULL)
			die(EXIT_FAIL, "out of memory");
		memcpy(entry, var->name, var_len);
		entry[var_len] = '=';
		memcpy(entry + var_len + 1, value, value_len + 1);
		env[kept++] = entry;
	}
	env[kept] = NULL;
	return env;
}

/* Frees the plan; its values must have been wiped (secrets_wipe). */
void
run_plan_free(RunPlan *plan)
{
	for (size_t i = 0; i < plan->nvars; i++)
		free(plan->vars[i].name);
	for (size_t i = 0; i < plan->set.n; i++)
		free((char *) plan->set.names[i]);
	free(plan->vars);
	free(plan->set.names);
	json_decref(plan->secret_index);
	json_decref(plan->var_index);
}
