/*-------------------------------------------------------------------------
 *
 * key_link.c
 *		Which key database this database is linked to, checked on every
 *		answer.
 *
 * nsvault_keys makes a random identity when it is created and returns it
 * with every answer.  The first write of this database records the
 * identity of the key database it reached (nsvault.key_database); from
 * then on an answer from any other is refused, so a key database that was
 * recreated empty, replaced, or reached through a changed foreign server
 * can neither hand out keys nor make new ones.  A superuser accepts
 * another on purpose with accept_key_database(), which first checks that
 * the values of this database open with its keys.
 *
 * Each backend keeps the recorded identity; a change of it (or a key
 * destruction, for the key cache) reaches the others as a relcache
 * invalidation of the table.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/snapmgr.h"

#include "audit.h"
#include "caller.h"
#include "crypto.h"
#include "index_lookup.h"
#include "key_cache.h"
#include "keydb.h"
#include "registries.h"
#include "secrets.h"
#include "secure_mem.h"
#include "spi_plans.h"
#include "validate.h"

#define Anum_key_database_identity	1

static bool identity_known = false;
static bool identity_recorded = false;
static pg_uuid_t recorded_identity;
static Oid	key_database_relid = InvalidOid;
static Oid	key_destructions_relid = InvalidOid;

static SPIPlanPtr record_plan = NULL;
static SPIPlanPtr accept_plan = NULL;
static SPIPlanPtr used_versions_plan = NULL;
static SPIPlanPtr used_versions_unversioned_plan = NULL;

/*
 * One value of each (namespace, key version) in use: secrets (version is
 * their version column, or 1 before nsvault 0.6; more filters them and
 * adds the older versions) and registry tokens.
 */
#define USED_VERSIONS_SQL(version, more, global) \
	"SELECT DISTINCT ON (1, 2) * FROM (" \
	" SELECT namespace, key_version, ciphertext AS sealed, 'secret' AS kind, name," \
	"  NULL AS registry_namespace, NULL AS url, NULL AS user_name, " version " AS version" \
	"  FROM nsvault.secrets" more \
	" UNION ALL" \
	" SELECT coalesce(namespace, '" NSVAULT_GLOBAL_NAMESPACE "'), key_version, token," \
	"  scope, registry, namespace, url, user_name, 1" \
	"  FROM nsvault.registries" global ") v"
#define USED_VERSIONS_OLDER_SQL \
	" WHERE ciphertext IS NOT NULL" \
	" UNION ALL" \
	" SELECT namespace, key_version, ciphertext, 'secret', name," \
	"  NULL, NULL, NULL, version" \
	"  FROM nsvault.secret_versions WHERE ciphertext IS NOT NULL"
#define USED_VERSIONS_GLOBAL_SQL \
	" UNION ALL" \
	" SELECT '" NSVAULT_GLOBAL_NAMESPACE "', key_version, token," \
	"  scope, registry, NULL, url, user_name, 1" \
	"  FROM nsvault.global_registries"
static SPIPlanPtr used_versions_apart_plan = NULL;
static SPIPlanPtr active_versions_plan = NULL;

/*
 * A relcache invalidation of nsvault.key_database (a new identity), of
 * nsvault.key_destructions (keys destroyed), or of everything.
 */
static void
link_invalidated(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == key_database_relid)
	{
		identity_known = false;
		/* a re-created extension has new tables */
		key_database_relid = InvalidOid;
		key_destructions_relid = InvalidOid;
	}
	if (relid == InvalidOid || relid == key_database_relid ||
		relid == key_destructions_relid)
		key_cache_local_reset();
}

/* Finds the tables, registering the invalidation callback once. */
static void
link_tables(void)
{
	static bool callback_registered = false;

	if (!callback_registered)
	{
		CacheRegisterRelcacheCallback(link_invalidated, (Datum) 0);
		callback_registered = true;
	}
	if (!OidIsValid(key_database_relid))
	{
		key_database_relid = nsvault_relation("key_database");
		key_destructions_relid = nsvault_relation("key_destructions");
	}
}

/* Takes the identity from the row of nsvault.key_database. */
static bool
identity_row(HeapTuple tuple, TupleDesc desc, int set, void *arg)
{
	bool		isnull;

	recorded_identity = *DatumGetUUIDP(heap_getattr(tuple, Anum_key_database_identity, desc,
													&isnull));
	identity_recorded = true;
	return false;
}

/* Reads the recorded identity, as of now. */
static void
load_identity(void)
{
	Snapshot	snapshot = RegisterSnapshot(GetLatestSnapshot());

	identity_recorded = false;
	nsvault_any_row(key_database_relid, snapshot, identity_row, NULL);
	UnregisterSnapshot(snapshot);
	identity_known = true;
}

/*
 * Sets identity to the key database's identity this database recorded and
 * returns true; or zeros and false when none is recorded yet.
 */
bool
key_link_identity(pg_uuid_t *identity)
{
	AcceptInvalidationMessages();
	link_tables();
	if (!identity_known)
		load_identity();
	if (identity_recorded)
		*identity = recorded_identity;
	else
		memset(identity, 0, sizeof(*identity));
	return identity_recorded;
}

static char *
identity_text(const pg_uuid_t *identity)
{
	return DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum((pg_uuid_t *) identity)));
}

/* Fails closed unless the answer comes from the key database recorded (if any). */
void
key_link_check(const KeyAnswer *answer)
{
	pg_uuid_t	recorded;

	if (key_link_identity(&recorded) &&
		memcmp(&recorded, &answer->identity, sizeof(recorded)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_SYSTEM_ERROR),
				 errmsg("key database behind foreign server \"%s\" is not the one this database is linked to",
						keydb_server_name()),
				 errdetail("This database was linked to key database %s; the server answers as %s. It was recreated, reset or replaced, and its keys would not open this database's values.",
						   identity_text(&recorded), identity_text(&answer->identity)),
				 errhint("Point the foreign server at the right key database. If both databases were restored from matching backups, a superuser can accept it with nsvault.accept_key_database().")));
}

/* Writes the identity row; accept replaces one, else an existing one stays. */
static void
record_identity(const pg_uuid_t *identity, bool replace)
{
	int			spi;
	Oid			argtypes[3] = {UUIDOID, NAMEOID, NAMEOID};
	Datum		args[3];

	args[0] = UUIDPGetDatum((pg_uuid_t *) identity);
	args[1] = CStringGetDatum(keydb_server_name());
	args[2] = CStringGetDatum(GetUserNameFromId(GetOuterUserId(), false));
	spi = nsvault_spi_connect();
	if (replace)
		nsvault_spi_plan(&accept_plan,
						 "INSERT INTO nsvault.key_database (identity, foreign_server, linked_by)"
						 " VALUES ($1, $2, $3) ON CONFLICT (only_row) DO UPDATE"
						 " SET identity = EXCLUDED.identity, foreign_server = EXCLUDED.foreign_server,"
						 " linked_at = EXCLUDED.linked_at, linked_by = EXCLUDED.linked_by",
						 3, argtypes);
	else
		nsvault_spi_plan(&record_plan,
						 "INSERT INTO nsvault.key_database (identity, foreign_server, linked_by)"
						 " VALUES ($1, $2, $3) ON CONFLICT (only_row) DO NOTHING",
						 3, argtypes);
	nsvault_spi_execute(replace ? accept_plan : record_plan, args, NULL, false, 0, SPI_OK_INSERT,
						"could not record the key database's identity");
	nsvault_spi_finish(spi);
	/* every backend, this one included, reads it again */
	CacheInvalidateRelcacheByRelid(key_database_relid);
	identity_known = false;
}

/*
 * Records the identity of the key database reached now, if none is
 * recorded yet: done by writes, rotations and deletions, in their
 * transaction.  Fails closed if another identity is recorded meanwhile.
 */
void
key_link_record(void)
{
	pg_uuid_t	recorded;
	KeyAnswer	answer;

	if (key_link_identity(&recorded))
		return;
	keydb_describe(NULL, &answer);
	record_identity(&answer.identity, false);
	key_link_check(&answer);
	/* keys fetched before, unchecked, are fetched again */
	key_cache_forget_database();
}

/* What check_opens checks. */
typedef enum CheckedItem
{
	CHECKED_SECRET,
	CHECKED_REGISTRY,
	CHECKED_ACTIVE_VERSION		/* no value: that the version is there */
} CheckedItem;

/*
 * Fails unless the key database identified by identity has key version
 * version of the namespace and, when sealed is given, the value sealed
 * (bound to aad) opens with it.
 */
static void
check_opens(const pg_uuid_t *identity, const char *namespace, int32 version,
			StringInfo aad, const bytea *sealed, CheckedItem kind, const char *item)
{
	KeyAnswer	answer;
	bool		opens = false;

	keydb_key_version(namespace, version, &answer);
	if (answer.found && answer.key != NULL &&
		memcmp(&answer.identity, identity, sizeof(*identity)) == 0)
	{
		NamespaceKey key;
		bytea	   *plaintext;

		crypto_derive_keys(answer.key, &key);
		explicit_bzero(answer.key, NSVAULT_KEY_LEN);
		plaintext = sealed ? crypto_open(&key, aad, sealed) : NULL;
		explicit_bzero(&key, sizeof(key));
		opens = (sealed == NULL || plaintext != NULL);
		if (plaintext != NULL)
			wipe_varlena((struct varlena *) plaintext);
	}
	if (!opens)
		ereport(ERROR,
				(errcode(ERRCODE_SYSTEM_ERROR),
				 errmsg("cannot accept the key database behind foreign server \"%s\"",
						keydb_server_name()),
				 kind == CHECKED_SECRET ?
				 errdetail("Secret \"%s\" of namespace \"%s\" does not open with its key version %d.",
						   item, namespace, version) :
				 kind == CHECKED_REGISTRY ?
				 errdetail("Registry \"%s\" of namespace \"%s\" does not open with its key version %d.",
						   item, namespace, version) :
				 errdetail("The active key version %d of namespace \"%s\" is not in the key database.",
						   version, namespace),
				 errhint("Link this database to the key database its values were sealed with, which has their keys.  Nothing was changed.")));
}

/*
 * Checks one value of each (namespace, key version) this database uses,
 * and that every active version exists, against the key database
 * identified by identity.
 */
static void
check_key_database(const pg_uuid_t *identity)
{
	SPITupleTable *rows;
	uint64		nrows;
	SPIPlanPtr	plan;
	int			spi;

	spi = nsvault_spi_connect();
	if (registries_global_apart())
		plan = nsvault_spi_plan(&used_versions_apart_plan,
								USED_VERSIONS_SQL("version", USED_VERSIONS_OLDER_SQL,
												  USED_VERSIONS_GLOBAL_SQL),
								0, NULL);
	else if (secrets_versioned())
		plan = nsvault_spi_plan(&used_versions_plan,
								USED_VERSIONS_SQL("version", USED_VERSIONS_OLDER_SQL, ""),
								0, NULL);
	else
		plan = nsvault_spi_plan(&used_versions_unversioned_plan, USED_VERSIONS_SQL("1", "", ""),
								0, NULL);
	nsvault_spi_execute(plan, NULL, NULL, true, 0, SPI_OK_SELECT,
						"could not read the values to check");
	rows = SPI_tuptable;
	nrows = SPI_processed;
	for (uint64 r = 0; r < nrows; r++)
	{
		HeapTuple	row = rows->vals[r];
		TupleDesc	desc = rows->tupdesc;
		bool		isnull;
		char	   *namespace = nsvault_spi_text(row, desc, "namespace");
		int32		version = DatumGetInt32(nsvault_spi_datum(row, desc, "key_version", &isnull));
		bytea	   *sealed = DatumGetByteaPP(nsvault_spi_datum(row, desc, "sealed", &isnull));
		char	   *kind = nsvault_spi_text(row, desc, "kind");
		char	   *name = nsvault_spi_text(row, desc, "name");
		bool		secret = strcmp(kind, "secret") == 0;
		StringInfo	aad = secret ?
			secrets_aad(namespace, name,
						DatumGetInt32(nsvault_spi_datum(row, desc, "version", &isnull)))
			: registry_aad(crypto_sealed_format(sealed), kind,
						   nsvault_spi_text(row, desc, "registry_namespace"), name,
						   nsvault_spi_text(row, desc, "url"),
						   nsvault_spi_text(row, desc, "user_name"));

		check_opens(identity, namespace, version, aad, sealed,
					secret ? CHECKED_SECRET : CHECKED_REGISTRY, name);
	}

	nsvault_spi_plan(&active_versions_plan,
					 "SELECT namespace, active_version FROM nsvault.namespace_keys"
					 " WHERE active_version IS NOT NULL",
					 0, NULL);
	nsvault_spi_execute(active_versions_plan, NULL, NULL, true, 0, SPI_OK_SELECT,
						"could not read the active key versions");
	rows = SPI_tuptable;
	nrows = SPI_processed;
	for (uint64 r = 0; r < nrows; r++)
	{
		HeapTuple	row = rows->vals[r];
		bool		isnull;

		/* no value to open: that the version is there is enough */
		check_opens(identity, nsvault_spi_text(row, rows->tupdesc, "namespace"),
					DatumGetInt32(nsvault_spi_datum(row, rows->tupdesc, "active_version",
													&isnull)),
					NULL, NULL, CHECKED_ACTIVE_VERSION, NULL);
	}
	nsvault_spi_finish(spi);
}

PG_FUNCTION_INFO_V1(nsvault_accept_key_database);

/*
 * accept_key_database(): links this database to the key database its
 * foreign server reaches now, after checking that this database's values
 * open with its keys; superusers only.  Returns the identity accepted.
 */
Datum
nsvault_accept_key_database(PG_FUNCTION_ARGS)
{
	Caller		caller;
	KeyAnswer	answer;
	pg_uuid_t  *identity = palloc(sizeof(pg_uuid_t));

	caller_identify(fcinfo, &caller);
	if (!superuser_arg(caller.role))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to accept a key database"),
				 errdetail("Only superusers can link this database to another key database.")));
	caller_act_as_owner(&caller);
	link_tables();

	keydb_describe(NULL, &answer);
	*identity = answer.identity;
	check_key_database(identity);
	record_identity(identity, true);
	key_cache_forget_database();

	audit_record(&caller, NSVAULT_GLOBAL_NAMESPACE, NULL, "accept_key_database",
				 psprintf("key database %s, through foreign server \"%s\"",
						  identity_text(identity), keydb_server_name()));
	caller_act_as_caller(&caller);
	PG_RETURN_UUID_P(identity);
}
