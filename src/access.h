/*-------------------------------------------------------------------------
 *
 * access.h
 *		Who may use a namespace: grants and the access check (access.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef NSVAULT_ACCESS_H
#define NSVAULT_ACCESS_H

#include "nodes/pg_list.h"

#include "caller.h"

typedef enum NamespacePrivilege
{
	PRIV_READ = 1,
	PRIV_WRITE = 2,
	PRIV_ADMIN = 3
} NamespacePrivilege;

extern void access_namespace_enter(FunctionCallInfo fcinfo, Caller *caller,
								   const char *namespace, NamespacePrivilege privilege);
extern void access_namespace_leave(Caller *caller);
extern void access_grants_changed(void);
extern void access_grants_remove_roles(List *roles, List *role_names, const char *command);
extern void access_grants_rename_role(Oid role, const char *old_name, const char *new_name);

#endif							/* NSVAULT_ACCESS_H */
