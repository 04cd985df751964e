/*-------------------------------------------------------------------------
 *
 * utility_hook.c
 *		What nsvault does around other commands: removes the grants of a
 *		role that is dropped, renames them with a role renamed, and stops
 *		audit writers and key destroyers that would keep a database from
 *		being dropped, renamed or copied.
 *
 * DROP OWNED BY revokes a role's privileges in the current database, and
 * DROP ROLE ends a role: both remove the role's nsvault grants in the
 * current database, in the same transaction, so that no grant outlives its
 * role and no dump names a role by a number that a restore could give to
 * another.  (PostgreSQL refuses DROP ROLE while the EXECUTE rights that
 * grant_namespace gives remain, so a role is normally DROP OWNED first, in
 * each database.)  ALTER ROLE … RENAME TO updates the name grants record
 * of the role, by which they match on Citus.  The hook is in place in every backend when nsvault is
 * preloaded, and otherwise once a backend has loaded it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_database.h"
#include "commands/dbcommands.h"
#include "commands/defrem.h"
#include "commands/tablespace.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/syscache.h"

#include "access.h"
#include "audit_queue.h"
#include "key_lifecycle.h"
#include "utility_hook.h"

static ProcessUtility_hook_type prev_ProcessUtility = NULL;

/* The roles a DROP ROLE or DROP OWNED names, that exist. */
static List *
roles_named(Node *parsetree)
{
	List	   *specs = IsA(parsetree, DropRoleStmt) ? ((DropRoleStmt *) parsetree)->roles
		: ((DropOwnedStmt *) parsetree)->roles;
	List	   *roles = NIL;
	ListCell   *lc;

	foreach(lc, specs)
	{
		Oid			role = get_rolespec_oid(lfirst(lc), true);

		if (OidIsValid(role))
			roles = lappend_oid(roles, role);
	}
	return roles;
}

/* Whether the current role may create databases, as PostgreSQL decides it. */
static bool
may_create_databases(void)
{
	HeapTuple	tuple;
	bool		result;

	if (superuser())
		return true;
	tuple = SearchSysCache1(AUTHOID, ObjectIdGetDatum(GetUserId()));
	if (!HeapTupleIsValid(tuple))
		return false;
	result = ((Form_pg_authid) GETSTRUCT(tuple))->rolcreatedb;
	ReleaseSysCache(tuple);
	return result;
}

/* Whether a database is marked as a template anyone may copy. */
static bool
is_template_database(Oid database)
{
	HeapTuple	tuple = SearchSysCache1(DATABASEOID, ObjectIdGetDatum(database));
	bool		result;

	if (!HeapTupleIsValid(tuple))
		return false;
	result = ((Form_pg_database) GETSTRUCT(tuple))->datistemplate;
	ReleaseSysCache(tuple);
	return result;
}

static const char *
option_string(List *options, const char *name)
{
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *option = lfirst(lc);

		if (strcmp(option->defname, name) == 0 && option->arg != NULL)
			return defGetString(option);
	}
	return NULL;
}

/*
 * The database a command needs to itself, or InvalidOid: only for a command
 * that PostgreSQL's own checks will let run (the caller's rights on it, not
 * the current database, outside a transaction block where PostgreSQL wants
 * that), so that a refused command never stops its workers.  A command that
 * passes these and then fails later (another session connected) stops them
 * until their next use starts them again, as a successful one would.
 */
static Oid
database_needed_alone(Node *parsetree, bool top_level)
{
	bool		outside_block = top_level && !IsTransactionBlock() && !IsSubTransaction();
	Oid			database;

	switch (nodeTag(parsetree))
	{
		case T_DropdbStmt:
			database = get_database_oid(((DropdbStmt *) parsetree)->dbname, true);
			if (!outside_block || !OidIsValid(database) || database == MyDatabaseId ||
				!pg_database_ownercheck(database, GetUserId()) ||
				is_template_database(database))
				return InvalidOid;
			return database;
		case T_AlterDatabaseStmt:
			{
				AlterDatabaseStmt *stmt = (AlterDatabaseStmt *) parsetree;
				const char *tablespace = option_string(stmt->options, "tablespace");
				Oid			tablespace_oid;

				/* of ALTER DATABASE's forms only SET TABLESPACE needs it alone */
				if (tablespace == NULL || !outside_block)
					return InvalidOid;
				database = get_database_oid(stmt->dbname, true);
				tablespace_oid = get_tablespace_oid(tablespace, true);
				if (!OidIsValid(database) || database == MyDatabaseId ||
					!OidIsValid(tablespace_oid) ||
					!pg_database_ownercheck(database, GetUserId()) ||
					pg_tablespace_aclcheck(tablespace_oid, GetUserId(), ACL_CREATE) != ACLCHECK_OK)
					return InvalidOid;
				return database;
			}
		case T_RenameStmt:
			{
				RenameStmt *stmt = (RenameStmt *) parsetree;

				if (stmt->renameType != OBJECT_DATABASE)
					return InvalidOid;
				database = get_database_oid(stmt->subname, true);
				if (!OidIsValid(database) || database == MyDatabaseId ||
					OidIsValid(get_database_oid(stmt->newname, true)) ||
					!pg_database_ownercheck(database, GetUserId()) ||
					!may_create_databases())
					return InvalidOid;
				return database;
			}
		case T_CreatedbStmt:
			{
				CreatedbStmt *stmt = (CreatedbStmt *) parsetree;
				const char *template = option_string(stmt->options, "template");

				database = get_database_oid(template ? template : "template1", true);
				if (!outside_block || !OidIsValid(database) || !may_create_databases() ||
					OidIsValid(get_database_oid(stmt->dbname, true)) ||
					(!is_template_database(database) &&
					 !pg_database_ownercheck(database, GetUserId())))
					return InvalidOid;
				return database;
			}
		default:
			return InvalidOid;
	}
}

static void
nsvault_process_utility(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
						ProcessUtilityContext context, ParamListInfo params,
						QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *parsetree = pstmt->utilityStmt;
	Oid			database = database_needed_alone(parsetree,
												  context == PROCESS_UTILITY_TOPLEVEL);
	List	   *dropped_roles = NIL;
	List	   *role_names = NIL;
	Oid			renamed_role = InvalidOid;
	ListCell   *lc;

	if (OidIsValid(database))
	{
		audit_queue_stop_writer(database);
		key_destroyer_stop(database);
	}
	if (IsA(parsetree, DropRoleStmt) || IsA(parsetree, DropOwnedStmt))
	{
		dropped_roles = roles_named(parsetree);
		/* names now: after DROP ROLE there are none */
		foreach(lc, dropped_roles)
			role_names = lappend(role_names, GetUserNameFromId(lfirst_oid(lc), false));
	}

	if (IsA(parsetree, RenameStmt) && ((RenameStmt *) parsetree)->renameType == OBJECT_ROLE)
		renamed_role = get_role_oid(((RenameStmt *) parsetree)->subname, true);

	if (prev_ProcessUtility)
		prev_ProcessUtility(pstmt, queryString, readOnlyTree, context, params,
							queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params,
								queryEnv, dest, qc);

	if (dropped_roles != NIL)
		access_grants_remove_roles(dropped_roles, role_names,
								   IsA(parsetree, DropRoleStmt) ? "DROP ROLE" : "DROP OWNED");
	if (OidIsValid(renamed_role))
		access_grants_rename_role(renamed_role, ((RenameStmt *) parsetree)->subname,
								  ((RenameStmt *) parsetree)->newname);
}

/* Puts the hook in place; called from _PG_init. */
void
utility_hook_register(void)
{
	prev_ProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = nsvault_process_utility;
}
