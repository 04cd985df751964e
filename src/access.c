/*-------------------------------------------------------------------------
 *
 * access.c
 *		Per-namespace privileges: read, write, admin.
 *
 * A role may use a namespace when it holds, directly or through a role it
 * is a member of, a grant of at least the privilege needed; superusers and
 * the extension's owner (who owns its functions) hold every privilege.
 * The role checked is the caller's current role (see caller.c).  The
 * reserved namespace "@global" stands for the global registries.
 *
 * Each backend caches the level a role holds on a namespace.  Grants change
 * only through grant_namespace, revoke_namespace, delete_namespace and the
 * removal of a dropped role's grants, which send a relcache invalidation
 * for nsvault.grants at commit; role membership changes invalidate the role
 * caches.  Either empties the cache in every backend, which takes effect
 * from that backend's next check, even inside a transaction older than the
 * change and whatever its isolation level: the cache is filled from a
 * snapshot taken for the purpose, never from an older transaction snapshot.
 *
 * On Citus (nsvault.distribute()), grants are matched by the role's name,
 * not its OID: each node numbers roles its own way, Citus copies rows
 * between nodes with their OIDs as they are, and a grant made on one node
 * and moved to another would name another role there.  Nor is anything
 * cached: a revoke committed through another node sends no invalidation
 * to this one.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "access.h"
#include "audit.h"
#include "caller.h"
#include "catalog.h"
#include "distribution.h"
#include "index_lookup.h"
#include "spi_plans.h"
#include "validate.h"

static SPIPlanPtr grant_plan = NULL;
static SPIPlanPtr grant_named_plan = NULL;
static SPIPlanPtr revoke_update_plan = NULL;
static SPIPlanPtr revoke_update_by_name_plan = NULL;
static SPIPlanPtr revoke_delete_plan = NULL;
static SPIPlanPtr revoke_delete_by_name_plan = NULL;
static SPIPlanPtr remove_roles_plan = NULL;
static SPIPlanPtr remove_roles_by_name_plan = NULL;
static SPIPlanPtr remove_orphans_plan = NULL;
static SPIPlanPtr remove_orphans_by_name_plan = NULL;
static SPIPlanPtr rename_plan = NULL;
static SPIPlanPtr rename_by_name_plan = NULL;

/* what a grant of a role that holds one already changes */
#define GRANT_SET_SQL \
	" SET level = GREATEST(nsvault.grants.level, EXCLUDED.level)," \
	" granted_by = EXCLUDED.granted_by, granted_at = EXCLUDED.granted_at"

/* A name as a datum of type name, for a query's parameter. */
static Datum
name_datum(const char *name)
{
	Name		datum = palloc0(sizeof(NameData));

	namestrcpy(datum, name);
	return NameGetDatum(datum);
}
static SPIPlanPtr function_exists_plan = NULL;

/*
 * The functions each privilege needs EXECUTE on, on top of the lower ones'.
 * Each is granted where this database's SQL objects have it: a newer
 * version's once it is installed, an older version's form (set_secret's
 * before 0.6) while it is still there.
 */
static const struct
{
	const char *signature;
	NamespacePrivilege privilege;
}			privilege_functions[] =
{
	{"nsvault.get_secret(text, text)", PRIV_READ},
	{"nsvault.get_secret(text, text, integer)", PRIV_READ},	/* 0.6 */
	{"nsvault.get_secrets(text, text[])", PRIV_READ},
	{"nsvault.get_secrets(text, text[], boolean)", PRIV_READ},	/* 0.5 */
	{"nsvault.list_secrets(text)", PRIV_READ},
	{"nsvault.list_secret_versions(text, text)", PRIV_READ},	/* 0.6 */
	{"nsvault.get_secret_metadata(text, text)", PRIV_READ},	/* 0.6 */
	{"nsvault.list_registries(text)", PRIV_READ},
	{"nsvault.list_global_registries()", PRIV_READ},
	{"nsvault.docker_config(text, text, boolean)", PRIV_READ},
	{"nsvault.registry_credential(text, text, boolean)", PRIV_READ},	/* 0.4 */
	{"nsvault.has_namespace_privilege(text, text)", PRIV_READ},
	{"nsvault.set_secret(text, text, text, boolean)", PRIV_WRITE},	/* before 0.6 */
	{"nsvault.set_secret(text, text, text, boolean, integer)", PRIV_WRITE},	/* 0.6 */
	{"nsvault.delete_secret(text, text)", PRIV_WRITE},
	{"nsvault.undelete_secret(text, text, integer)", PRIV_WRITE},	/* 0.6 */
	{"nsvault.rollback_secret(text, text, integer)", PRIV_WRITE},	/* 0.6 */
	{"nsvault.destroy_secret_versions(text, text, integer[])", PRIV_WRITE},	/* 0.6 */
	{"nsvault.purge_secret(text, text)", PRIV_WRITE},	/* 0.6 */
	{"nsvault.set_secret_metadata(text, text, text, jsonb, timestamptz)", PRIV_WRITE},	/* 0.6 */
	{"nsvault.set_registry(text, text, text)", PRIV_WRITE},
	{"nsvault.delete_registry(text, text)", PRIV_WRITE},
	{"nsvault.set_global_registry(text, text, boolean)", PRIV_WRITE},
	{"nsvault.delete_global_registry(text, boolean)", PRIV_WRITE},
	{"nsvault.grant_namespace(text, regrole, text)", PRIV_ADMIN},
	{"nsvault.revoke_namespace(text, regrole, text)", PRIV_ADMIN},
	{"nsvault.rotate_key(text)", PRIV_ADMIN},
	{"nsvault.delete_namespace(text)", PRIV_ADMIN},
	{"nsvault.destroy_key_version(text, integer)", PRIV_ADMIN},
	{"nsvault.set_max_versions(text, integer)", PRIV_ADMIN},	/* 0.6 */
};

static const char *
privilege_name(NamespacePrivilege privilege)
{
	switch (privilege)
	{
		case PRIV_READ:
			return "read";
		case PRIV_WRITE:
			return "write";
		case PRIV_ADMIN:
			return "admin";
	}
	return "?";
}

/* Parses "read", "write" or "admin". */
static NamespacePrivilege
arg_privilege(FunctionCallInfo fcinfo, int argno)
{
	char	   *name;

	validate_not_null(fcinfo, argno, "privilege");
	name = text_to_cstring(PG_GETARG_TEXT_PP(argno));
	if (strcmp(name, "read") == 0)
		return PRIV_READ;
	if (strcmp(name, "write") == 0)
		return PRIV_WRITE;
	if (strcmp(name, "admin") == 0)
		return PRIV_ADMIN;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid namespace privilege"),
			 errhint("A namespace privilege is \"read\", \"write\" or \"admin\".")));
	return PRIV_READ;			/* keep compiler quiet */
}

typedef struct PrivilegeKey
{
	char		namespace[NSVAULT_NAMESPACE_MAX + 2];
	Oid			role;
} PrivilegeKey;

typedef struct PrivilegeEntry
{
	PrivilegeKey key;			/* hash key, must be first */
	int			level;			/* 0 (none) to PRIV_ADMIN */
} PrivilegeEntry;

/* past this many (namespace, role) pairs the cache starts over: a bound, not a tuning knob */
#define PRIVILEGE_CACHE_MAX 65536

static HTAB *privilege_cache = NULL;
static Oid	grants_relid = InvalidOid;

static void
privilege_cache_reset(void)
{
	if (privilege_cache != NULL)
		hash_destroy(privilege_cache);
	privilege_cache = NULL;
}

/* A relcache invalidation of nsvault.grants, or of everything; also after DROP EXTENSION. */
static void
grants_invalidated(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == grants_relid)
	{
		privilege_cache_reset();
		/* the table may be gone: a re-created extension has a new one */
		grants_relid = InvalidOid;
	}
}

static void
roles_invalidated(Datum arg, int cacheid, uint32 hashvalue)
{
	privilege_cache_reset();
}

/* Returns the OID of nsvault.grants, registering the invalidation callbacks once. */
static Oid
grants_table(void)
{
	static bool callbacks_registered = false;

	if (!callbacks_registered)
	{
		CacheRegisterRelcacheCallback(grants_invalidated, (Datum) 0);
		CacheRegisterSyscacheCallback(AUTHMEMROLEMEM, roles_invalidated, (Datum) 0);
		CacheRegisterSyscacheCallback(AUTHOID, roles_invalidated, (Datum) 0);
		callbacks_registered = true;
	}
	if (!OidIsValid(grants_relid))
		grants_relid = nsvault_relation("grants");
	return grants_relid;
}

/* Whether grants record their role's name (nsvault 0.9 on). */
static bool
grants_named(void)
{
	return get_attnum(grants_table(), "grantee_name") != InvalidAttrNumber;
}

/* Tells every backend, at commit, that grants changed. */
void
access_grants_changed(void)
{
	CacheInvalidateRelcacheByRelid(grants_table());
}

/* The highest level a role holds among the grants read so far. */
typedef struct LevelSearch
{
	Oid			role;
	int			level;
} LevelSearch;

/*
 * The role a grant row names: by name on Citus, where its OID may be
 * another node's; InvalidOid when no role has that name here.
 */
static Oid
grant_role(HeapTuple tuple, TupleDesc desc)
{
	bool		isnull;

	if (nsvault_tables_distributed())
	{
		Datum		name = heap_getattr(tuple, Anum_grants_grantee_name, desc, &isnull);

		return isnull ? InvalidOid : get_role_oid(NameStr(*DatumGetName(name)), true);
	}
	return DatumGetObjectId(heap_getattr(tuple, Anum_grants_grantee, desc, &isnull));
}

static bool
consider_grant(HeapTuple tuple, TupleDesc desc, int set, void *arg)
{
	LevelSearch *search = arg;
	bool		isnull;
	Oid			grantee = grant_role(tuple, desc);
	int			level = DatumGetInt32(heap_getattr(tuple, Anum_grants_level, desc, &isnull));

	if (level > search->level && OidIsValid(grantee) && has_privs_of_role(search->role, grantee))
		search->level = level;
	return search->level < PRIV_ADMIN;
}

/*
 * Returns the highest level role holds on the namespace, directly or through
 * membership, as of now: a snapshot of its own, so that a transaction older
 * than a revoke cannot put what the revoke took back into the cache.
 */
static int
namespace_level(const char *namespace, Oid role)
{
	LevelSearch search = {role, 0};
	Snapshot	snapshot = RegisterSnapshot(GetLatestSnapshot());

	nsvault_index_lookup("grants", "grants_pkey", 1, 1, &namespace, snapshot, consider_grant, &search);
	UnregisterSnapshot(snapshot);
	return search.level;
}

/* Does the caller hold privilege on the namespace? */
static bool
namespace_allowed(const char *namespace, NamespacePrivilege privilege, const Caller *caller)
{
	Oid			role = caller->role;
	PrivilegeKey key;
	PrivilegeEntry *entry;
	bool		found;

	if (role == caller->owner || superuser_arg(role))
		return true;
	if (strlen(namespace) >= sizeof(key.namespace))
		return false;

	/* a revoke committed since the last lock this transaction took counts now */
	AcceptInvalidationMessages();
	grants_table();
	if (nsvault_tables_distributed())
		return namespace_level(namespace, role) >= (int) privilege;
	if (privilege_cache == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(PrivilegeKey);
		ctl.entrysize = sizeof(PrivilegeEntry);
		ctl.hcxt = TopMemoryContext;
		privilege_cache = hash_create("nsvault namespace privileges", 64, &ctl,
									  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	memset(&key, 0, sizeof(key));
	strlcpy(key.namespace, namespace, sizeof(key.namespace));
	key.role = role;
	entry = hash_search(privilege_cache, &key, HASH_FIND, NULL);
	if (entry == NULL)
	{
		int			level = namespace_level(namespace, role);

		/* the lookup may have processed invalidations that reset the cache */
		if (privilege_cache == NULL ||
			hash_get_num_entries(privilege_cache) >= PRIVILEGE_CACHE_MAX)
		{
			privilege_cache_reset();
			return level >= (int) privilege;
		}
		entry = hash_search(privilege_cache, &key, HASH_ENTER, &found);
		entry->level = level;
	}
	return entry->level >= (int) privilege;
}

/*
 * Identifies the caller of an nsvault function and fails with 42501, naming
 * namespace and privilege, unless it holds privilege on the namespace; then
 * acts as the function's owner until access_namespace_leave.
 */
void
access_namespace_enter(FunctionCallInfo fcinfo, Caller *caller, const char *namespace,
					   NamespacePrivilege privilege)
{
	caller_identify(fcinfo, caller);
	if (!namespace_allowed(namespace, privilege, caller))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for namespace \"%s\"", namespace),
				 errdetail("Role \"%s\" does not hold the %s privilege on namespace \"%s\".",
						   GetUserNameFromId(caller->role, false), privilege_name(privilege),
						   namespace),
				 errhint("An admin of the namespace can grant it with nsvault.grant_namespace().")));
	caller_act_as_owner(caller);
}

/* Ends what access_namespace_enter began: acts as the caller again. */
void
access_namespace_leave(Caller *caller)
{
	caller_act_as_caller(caller);
}

static Oid
arg_role(FunctionCallInfo fcinfo, int argno)
{
	validate_not_null(fcinfo, argno, "grantee");
	return PG_GETARG_OID(argno);
}

/* Whether signature names a function (of a newer version of the SQL objects). */
static bool
function_exists(const char *signature)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1] = {CStringGetTextDatum(signature)};
	bool		isnull;

	nsvault_spi_plan(&function_exists_plan,
					 "SELECT pg_catalog.to_regprocedure($1) IS NOT NULL AS found", 1, argtypes);
	nsvault_spi_execute(function_exists_plan, args, NULL, true, 1, SPI_OK_SELECT,
						"could not look up a function");
	return DatumGetBool(nsvault_spi_datum(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, "found",
										  &isnull));
}

static void
run_grant(const char *sql)
{
	int			result = SPI_execute(sql, false, 0);

	if (result != SPI_OK_UTILITY)
		elog(ERROR, "could not grant the functions of a namespace privilege: SPI_execute returned %s",
			 SPI_result_code_string(result));
}

/* Grants role EXECUTE on what privilege needs (and SELECT on the audit log for admins). */
static void
grant_execute(Oid role, NamespacePrivilege privilege)
{
	const char *grantee = quote_identifier(GetUserNameFromId(role, false));
	StringInfoData functions;
	int			spi;

	initStringInfo(&functions);
	spi = nsvault_spi_connect();
	run_grant(psprintf("GRANT USAGE ON SCHEMA nsvault TO %s", grantee));
	for (int i = 0; i < lengthof(privilege_functions); i++)
		if (privilege_functions[i].privilege <= privilege &&
			function_exists(privilege_functions[i].signature))
			appendStringInfo(&functions, "%s%s", functions.len > 0 ? ", " : "",
							 privilege_functions[i].signature);
	run_grant(psprintf("GRANT EXECUTE ON FUNCTION %s TO %s", functions.data, grantee));
	if (privilege >= PRIV_ADMIN)
		run_grant(psprintf("GRANT SELECT ON nsvault.audit_log TO %s", grantee));
	nsvault_spi_finish(spi);
}

/*
 * Removes the grants of roles that no longer exist: roles are cluster-wide,
 * and a DROP ROLE run from another database cannot reach this one's grants.
 * Such a grant matches no one (its number could one day be another role's),
 * and every grant change in the database first removes it, as the caller
 * acting as the owner, recording a revoke.
 */
static void
remove_grants_of_dropped_roles(const Caller *caller)
{
	int			spi = nsvault_spi_connect();
	SPIPlanPtr	plan = nsvault_tables_distributed() ?
		nsvault_spi_plan(&remove_orphans_by_name_plan,
						 "DELETE FROM nsvault.grants g"
						 " WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_roles r"
						 "                   WHERE r.rolname OPERATOR(pg_catalog.=) g.grantee_name)"
						 " RETURNING g.namespace, g.grantee_name::pg_catalog.text AS role",
						 0, NULL) :
		nsvault_spi_plan(&remove_orphans_plan,
						 "DELETE FROM nsvault.grants g"
						 " WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_roles r"
						 "                   WHERE r.oid OPERATOR(pg_catalog.=) g.grantee::pg_catalog.oid)"
						 " RETURNING g.namespace, g.grantee::pg_catalog.oid::pg_catalog.text AS role",
						 0, NULL);

	nsvault_spi_execute(plan, NULL, NULL, false, 0, SPI_OK_DELETE_RETURNING,
						"could not remove the grants of dropped roles");
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		HeapTuple	row = SPI_tuptable->vals[r];

		audit_record(caller, nsvault_spi_text(row, SPI_tuptable->tupdesc, "namespace"), NULL,
					 "revoke", psprintf("all from role %s, which no longer exists",
										nsvault_spi_text(row, SPI_tuptable->tupdesc, "role")));
	}
	if (SPI_processed > 0)
		access_grants_changed();
	nsvault_spi_finish(spi);
}

PG_FUNCTION_INFO_V1(nsvault_grant_namespace);

/*
 * grant_namespace(namespace, grantee, privilege): gives grantee at least
 * privilege on the namespace, and the EXECUTE rights it needs.
 */
Datum
nsvault_grant_namespace(PG_FUNCTION_ARGS)
{
	char	   *namespace = validate_arg_namespace_or_global(fcinfo, 0);
	Oid			grantee = arg_role(fcinfo, 1);
	NamespacePrivilege privilege = arg_privilege(fcinfo, 2);
	Oid			argtypes[5] = {TEXTOID, OIDOID, INT4OID, NAMEOID, NAMEOID};
	Datum		args[5];
	Caller		caller;
	SPIPlanPtr	plan;
	int			spi;

	access_namespace_enter(fcinfo, &caller, namespace, PRIV_ADMIN);
	remove_grants_of_dropped_roles(&caller);

	args[0] = CStringGetTextDatum(namespace);
	args[1] = ObjectIdGetDatum(grantee);
	args[2] = Int32GetDatum((int32) privilege);
	args[3] = name_datum(GetUserNameFromId(caller.role, false));
	args[4] = name_datum(GetUserNameFromId(grantee, false));
	spi = nsvault_spi_connect();
	if (grants_named())
		plan = nsvault_spi_plan(&grant_named_plan,
								"INSERT INTO nsvault.grants (namespace, grantee, level, granted_by, grantee_name)"
								" VALUES ($1, $2, $3, $4, $5)"
								" ON CONFLICT (namespace, grantee) DO UPDATE"
								GRANT_SET_SQL ", grantee_name = EXCLUDED.grantee_name",
								5, argtypes);
	else
		plan = nsvault_spi_plan(&grant_plan,
								"INSERT INTO nsvault.grants (namespace, grantee, level, granted_by)"
								" VALUES ($1, $2, $3, $4)"
								" ON CONFLICT (namespace, grantee) DO UPDATE" GRANT_SET_SQL,
								4, argtypes);
	nsvault_spi_execute(plan, args, NULL, false, 0, SPI_OK_INSERT, "could not record the grant");
	nsvault_spi_finish(spi);
	access_grants_changed();

	grant_execute(grantee, privilege);
	audit_record(&caller, namespace, NULL, "grant",
				 psprintf("%s to %s", privilege_name(privilege),
						  GetUserNameFromId(grantee, false)));
	access_namespace_leave(&caller);
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(nsvault_revoke_namespace);

/*
 * revoke_namespace(namespace, grantee, privilege): takes privilege, and
 * every privilege above it, from grantee; true when anything changed.
 * Revoking write from an admin leaves read.
 */
Datum
nsvault_revoke_namespace(PG_FUNCTION_ARGS)
{
	char	   *namespace = validate_arg_namespace_or_global(fcinfo, 0);
	Oid			grantee = arg_role(fcinfo, 1);
	NamespacePrivilege privilege = arg_privilege(fcinfo, 2);
	Oid			argtypes[4] = {TEXTOID, OIDOID, INT4OID, NAMEOID};
	Datum		args[4];
	bool		by_name;
	bool		changed;
	Caller		caller;
	int			spi;

	access_namespace_enter(fcinfo, &caller, namespace, PRIV_ADMIN);
	remove_grants_of_dropped_roles(&caller);

	args[0] = CStringGetTextDatum(namespace);
	args[1] = ObjectIdGetDatum(grantee);
	args[2] = Int32GetDatum((int32) privilege - 1);
	args[3] = name_datum(GetUserNameFromId(grantee, false));
	by_name = nsvault_tables_distributed();
	spi = nsvault_spi_connect();
	if (privilege == PRIV_READ)
		nsvault_spi_execute(by_name ?
							nsvault_spi_plan(&revoke_delete_by_name_plan,
											 "DELETE FROM nsvault.grants"
											 " WHERE namespace = $1 AND grantee_name = $4",
											 4, argtypes) :
							nsvault_spi_plan(&revoke_delete_plan,
											 "DELETE FROM nsvault.grants"
											 " WHERE namespace = $1 AND grantee = $2",
											 2, argtypes),
							args, NULL, false, 0, SPI_OK_DELETE, "could not revoke");
	else
		nsvault_spi_execute(by_name ?
							nsvault_spi_plan(&revoke_update_by_name_plan,
											 "UPDATE nsvault.grants SET level = $3"
											 " WHERE namespace = $1 AND grantee_name = $4 AND level > $3",
											 4, argtypes) :
							nsvault_spi_plan(&revoke_update_plan,
											 "UPDATE nsvault.grants SET level = $3"
											 " WHERE namespace = $1 AND grantee = $2 AND level > $3",
											 3, argtypes),
							args, NULL, false, 0, SPI_OK_UPDATE, "could not revoke");
	changed = SPI_processed > 0;
	nsvault_spi_finish(spi);

	if (changed)
	{
		access_grants_changed();
		audit_record(&caller, namespace, NULL, "revoke",
					 psprintf("%s from %s", privilege_name(privilege),
							  GetUserNameFromId(grantee, false)));
	}
	access_namespace_leave(&caller);
	PG_RETURN_BOOL(changed);
}

PG_FUNCTION_INFO_V1(nsvault_has_namespace_privilege);

/* has_namespace_privilege(namespace, privilege): does the caller hold it? */
Datum
nsvault_has_namespace_privilege(PG_FUNCTION_ARGS)
{
	char	   *namespace;
	NamespacePrivilege privilege;
	Caller		caller;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();
	namespace = text_to_cstring(PG_GETARG_TEXT_PP(0));
	privilege = arg_privilege(fcinfo, 1);
	caller_identify(fcinfo, &caller);
	PG_RETURN_BOOL(namespace_allowed(namespace, privilege, &caller));
}

/*
 * Removes every grant of the roles (whose names were role_names before
 * command dropped or emptied them) in the current database, recording each
 * as a revoke.  Does nothing where nsvault is not installed.
 */
void
access_grants_remove_roles(List *roles, List *role_names, const char *command)
{
	Caller		caller;
	Oid			argtypes[2] = {OIDOID, NAMEOID};
	Datum		args[2];
	ListCell   *role;
	ListCell   *name;
	Oid			owner;

	if (!nsvault_installed(&owner) || !nsvault_follows_role_changes())
		return;
	caller_identify_current(&caller, owner);
	caller_act_as_owner(&caller);

	forboth(role, roles, name, role_names)
	{
		int			spi;

		args[0] = ObjectIdGetDatum(lfirst_oid(role));
		args[1] = name_datum(lfirst(name));
		spi = nsvault_spi_connect();
		nsvault_spi_execute(nsvault_tables_distributed() ?
							nsvault_spi_plan(&remove_roles_by_name_plan,
											 "DELETE FROM nsvault.grants WHERE grantee_name = $2"
											 " RETURNING namespace",
											 2, argtypes) :
							nsvault_spi_plan(&remove_roles_plan,
											 "DELETE FROM nsvault.grants WHERE grantee = $1"
											 " RETURNING namespace",
											 1, argtypes),
							args, NULL, false, 0, SPI_OK_DELETE_RETURNING,
							"could not remove the grants of a dropped role");
		for (uint64 r = 0; r < SPI_processed; r++)
		{
			char	   *namespace = nsvault_spi_text(SPI_tuptable->vals[r], SPI_tuptable->tupdesc,
													  "namespace");

			audit_record(&caller, namespace, NULL, "revoke",
						 psprintf("all from %s, by %s", (char *) lfirst(name), command));
		}
		if (SPI_processed > 0)
			access_grants_changed();
		nsvault_spi_finish(spi);
	}
	caller_act_as_caller(&caller);
}

/*
 * Keeps the name grants record of a role renamed to new_name, which was
 * old_name: on Citus grants match by it.  A rename run from another
 * database does not reach this one's grants: there, the role's grants
 * stop matching it (they match by a name it no longer has) until it is
 * granted again.
 */
void
access_grants_rename_role(Oid role, const char *old_name, const char *new_name)
{
	Caller		caller;
	Oid			argtypes[3] = {OIDOID, NAMEOID, NAMEOID};
	Datum		args[3];
	Oid			owner;
	int			spi;

	if (!nsvault_installed(&owner) || !grants_named() || !nsvault_follows_role_changes())
		return;
	caller_identify_current(&caller, owner);
	caller_act_as_owner(&caller);
	args[0] = ObjectIdGetDatum(role);
	args[1] = name_datum(old_name);
	args[2] = name_datum(new_name);
	spi = nsvault_spi_connect();
	nsvault_spi_execute(nsvault_tables_distributed() ?
						nsvault_spi_plan(&rename_by_name_plan,
										 "UPDATE nsvault.grants SET grantee_name = $3"
										 " WHERE grantee_name = $2",
										 3, argtypes) :
						nsvault_spi_plan(&rename_plan,
										 "UPDATE nsvault.grants SET grantee_name = $3"
										 " WHERE grantee = $1",
										 3, argtypes),
						args, NULL, false, 0, SPI_OK_UPDATE, "could not rename the grants of a role");
	nsvault_spi_finish(spi);
	caller_act_as_caller(&caller);
}
