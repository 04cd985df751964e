/*-------------------------------------------------------------------------
 *
 * caller.h
 *		The role that called an nsvault function (caller.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef NSVAULT_CALLER_H
#define NSVAULT_CALLER_H

#include "fmgr.h"

/*
 * The role that called an nsvault function, and what acting as the
 * function's owner meanwhile saved.
 */
typedef struct Caller
{
	Oid			role;			/* current_user at the call: the role authorized */
	Oid			session_role;	/* the session's current role (SET ROLE) */
	Oid			owner;			/* the function's owner, the extension's owner */
	Oid			saved_user;
	int			saved_context;
	bool		acting_as_owner;
} Caller;

extern void caller_identify(FunctionCallInfo fcinfo, Caller *caller);
extern void caller_identify_current(Caller *caller, Oid owner);
extern void caller_act_as_owner(Caller *caller);
extern void caller_act_as_caller(Caller *caller);
extern Oid	caller_other_session_role(const Caller *caller);

#endif							/* NSVAULT_CALLER_H */
