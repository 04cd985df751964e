/*-------------------------------------------------------------------------
 *
 * utility_hook.c
 *		What nsvault does around other commands: removes the grants of a
 *		role that is dropped, and stops audit writers and key destroyers
 *		that would keep a database from being dropped, renamed or copied.
 *
 * DROP OWNED BY revokes a role's privileges in the current database, and
 * DROP ROLE ends a role: both remove the role's nsvault grants in the
 * current database, in the same transaction, so that no grant outlives its
 * role and no dump names a role by a number that a restore could give to
 * another.  (PostgreSQL refuses DROP ROLE while the EXECUTE rights that
 * grant_namespace gives remain, so a role is normally DROP OWNED first, in
 * each database.)  The hook is in place in every backend when nsvault is
 * preloaded, and otherwise once a backend has loaded it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/dbcommands.h"
#include "commands/defrem.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "tcop/utility.h"
#include "utils/acl.h"

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

/* The database a command needs to itself, by name, or NULL. */
static const char *
database_needed_alone(Node *parsetree)
{
	ListCell   *lc;

	switch (nodeTag(parsetree))
	{
		case T_DropdbStmt:
			return ((DropdbStmt *) parsetree)->dbname;
		case T_AlterDatabaseStmt:
			return ((AlterDatabaseStmt *) parsetree)->dbname;
		case T_RenameStmt:
			if (((RenameStmt *) parsetree)->renameType == OBJECT_DATABASE)
				return ((RenameStmt *) parsetree)->subname;
			return NULL;
		case T_CreatedbStmt:
			foreach(lc, ((CreatedbStmt *) parsetree)->options)
			{
				DefElem    *option = lfirst(lc);

				if (strcmp(option->defname, "template") == 0 && option->arg != NULL)
					return defGetString(option);
			}
			return "template1";
		default:
			return NULL;
	}
}

static void
nsvault_process_utility(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
						ProcessUtilityContext context, ParamListInfo params,
						QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *parsetree = pstmt->utilityStmt;
	const char *database = database_needed_alone(parsetree);
	List	   *dropped_roles = NIL;
	List	   *role_names = NIL;
	ListCell   *lc;

	if (database != NULL)
	{
		audit_queue_stop_writer(get_database_oid(database, true));
		key_destroyer_stop(get_database_oid(database, true));
	}
	if (IsA(parsetree, DropRoleStmt) || IsA(parsetree, DropOwnedStmt))
	{
		dropped_roles = roles_named(parsetree);
		/* names now: after DROP ROLE there are none */
		foreach(lc, dropped_roles)
			role_names = lappend(role_names, GetUserNameFromId(lfirst_oid(lc), false));
	}

	if (prev_ProcessUtility)
		prev_ProcessUtility(pstmt, queryString, readOnlyTree, context, params,
							queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params,
								queryEnv, dest, qc);

	if (dropped_roles != NIL)
		access_grants_remove_roles(dropped_roles, role_names,
								   IsA(parsetree, DropRoleStmt) ? "DROP ROLE" : "DROP OWNED");
}

/* Puts the hook in place; called from _PG_init. */
void
utility_hook_register(void)
{
	prev_ProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = nsvault_process_utility;
}
