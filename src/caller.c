/*-------------------------------------------------------------------------
 *
 * caller.c
 *		Who calls an nsvault function, and acting as its owner meanwhile.
 *
 * nsvault's functions are SECURITY INVOKER, so on entry the current user,
 * GetUserId(), is the role that calls: what current_user shows the caller.
 * That is the role authorized.  A SECURITY DEFINER function in between
 * makes it that function's owner, and a table's maintenance (ANALYZE and
 * autovacuum, CREATE INDEX, REINDEX, CLUSTER, VACUUM FULL, REFRESH
 * MATERIALIZED VIEW) makes it the table's owner: code one role owns never
 * runs with another role's nsvault rights.  The session role (SET ROLE's,
 * GetOuterUserId()) is never authorized, only recorded where it differs.
 *
 * Once authorized, a call reads and writes nsvault's tables and uses the key
 * link as the function's owner, the extension's owner.  An error needs no
 * restore here: the (sub)transaction abort resets the user, as it does for
 * SECURITY DEFINER functions.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_proc.h"
#include "miscadmin.h"
#include "utils/syscache.h"

#include "caller.h"
#include "distribution.h"

/*
 * Identifies the caller of the SQL function fcinfo belongs to.  Version 0.1
 * of the extension's SQL made the functions SECURITY DEFINER, which hides
 * the calling role: with it, every call is refused until the update.
 */
void
caller_identify(FunctionCallInfo fcinfo, Caller *caller)
{
	HeapTuple	tuple;
	Form_pg_proc proc;
	bool		definer;

	tuple = SearchSysCache1(PROCOID, ObjectIdGetDatum(fcinfo->flinfo->fn_oid));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for function %u", fcinfo->flinfo->fn_oid);
	proc = (Form_pg_proc) GETSTRUCT(tuple);
	caller->owner = proc->proowner;
	definer = proc->prosecdef;
	ReleaseSysCache(tuple);
	if (definer)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("extension \"nsvault\" must be updated before it can be used"),
				 errdetail("The extension's SQL objects in this database are older than its library."),
				 errhint("Run ALTER EXTENSION nsvault UPDATE in this database.")));
	caller_identify_current(caller, caller->owner);
}

/* Identifies the current user as the caller of work that owner is to do. */
void
caller_identify_current(Caller *caller, Oid owner)
{
	/* every call, even one answered without a table, refuses a layout nsvault cannot read */
	nsvault_distribution_check();
	caller->owner = owner;
	caller->role = GetUserId();
	caller->session_role = GetOuterUserId();
	caller->acting_as_owner = false;
}

/* Acts as the function's owner, for access to nsvault's tables and the key link. */
void
caller_act_as_owner(Caller *caller)
{
	Assert(!caller->acting_as_owner);
	GetUserIdAndSecContext(&caller->saved_user, &caller->saved_context);
	SetUserIdAndSecContext(caller->owner,
						   caller->saved_context | SECURITY_LOCAL_USERID_CHANGE);
	caller->acting_as_owner = true;
}

/* Acts as the caller again. */
void
caller_act_as_caller(Caller *caller)
{
	if (!caller->acting_as_owner)
		return;
	SetUserIdAndSecContext(caller->saved_user, caller->saved_context);
	caller->acting_as_owner = false;
}

/* The session role, when it is not the role authorized; else InvalidOid. */
Oid
caller_other_session_role(const Caller *caller)
{
	return caller->session_role == caller->role ? InvalidOid : caller->session_role;
}
