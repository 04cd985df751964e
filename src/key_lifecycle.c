/*-------------------------------------------------------------------------
 *
 * key_lifecycle.c
 *		Which key version seals, and when versions are made and destroyed.
 *
 * This database, not the key database, says which version of a
 * namespace's key is active (nsvault.namespace_keys): a key database that
 * was restored or replaced cannot make writes use another key.
 *
 * Writers, rotation and deletion of one namespace serialize on a
 * transaction-level lock on the namespace: shared for writers, exclusive
 * for rotate_key, delete_namespace and destroy_key_version, taken before
 * any key is fetched.  So a rotation waits for writers that hold the old
 * key, and re-seals what they wrote; and a writer after a rotation or a
 * deletion reads the version they recorded.
 *
 * Keys are destroyed only after the transaction that retired them
 * commits: it inserts into nsvault.key_destructions, and at commit a
 * background worker (key_destroyer.c) destroys them in the key database.
 * A retired version is never active again: the next write makes a version
 * above every version the namespace had, so a destruction still pending
 * never touches a key in use.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/table.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/snapmgr.h"

#include "key_cache.h"
#include "key_lifecycle.h"
#include "keydb.h"

/* What this database records of a namespace's key versions. */
typedef struct NamespaceKeys
{
	bool		found;
	int32		active_version; /* 0: none */
	int32		highest_version;
} NamespaceKeys;

static SPIPlanPtr read_plan = NULL;
static SPIPlanPtr write_plan = NULL;
static SPIPlanPtr retire_plan = NULL;

/* a committing transaction retired versions: start the destroyer */
static bool destroyer_wanted = false;

/* Sets tag to the lock of one namespace, or to the destroyer's. */
static void
lock_tag(LOCKTAG *tag, const char *namespace)
{
	uint64		hash = namespace ? hash_bytes_extended((const unsigned char *) namespace,
													   strlen(namespace), 0) : 0;

	SET_LOCKTAG_ADVISORY(*tag, MyDatabaseId, (uint32) (hash >> 32), (uint32) hash,
						 namespace ? NSVAULT_LOCK_NAMESPACE : NSVAULT_LOCK_DESTROYER);
}

static void
namespace_lock(const char *namespace, LOCKMODE mode)
{
	LOCKTAG		tag;

	lock_tag(&tag, namespace);
	(void) LockAcquire(&tag, mode, false, false);
}

/* For rotate_key, delete_namespace and destroy_key_version. */
void
namespace_lock_exclusive(const char *namespace)
{
	namespace_lock(namespace, ExclusiveLock);
}

/*
 * The destroyer of this database holds this lock, for its session, while
 * it works: one at a time, and key_destructions_check can tell one runs.
 */
void
key_destroyer_lock(void)
{
	LOCKTAG		tag;

	lock_tag(&tag, NULL);
	(void) LockAcquire(&tag, ExclusiveLock, true, false);
}

/*
 * Reads what is recorded of the namespace as of now, whatever this
 * transaction's snapshot: after the namespace's lock, that includes what
 * a rotation or deletion it waited for committed.  The caller is connected
 * to SPI.
 */
static void
namespace_keys_read(const char *namespace, NamespaceKeys *keys)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1] = {CStringGetTextDatum(namespace)};
	bool		isnull;

	plan_once(&read_plan,
			  "SELECT active_version, highest_version FROM nsvault.namespace_keys"
			  " WHERE namespace = $1",
			  1, argtypes);
	if (SPI_execute_snapshot(read_plan, args, NULL, GetLatestSnapshot(), InvalidSnapshot,
							 true, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read the namespace's key versions");
	keys->found = (SPI_processed == 1);
	keys->active_version = 0;
	keys->highest_version = 0;
	if (keys->found)
	{
		Datum		active = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		keys->active_version = isnull ? 0 : DatumGetInt32(active);
		keys->highest_version = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0],
															SPI_tuptable->tupdesc, 2, &isnull));
	}
}

/*
 * Records the namespace's active version (0: none) and a version it used,
 * in this transaction.  The caller is connected to SPI.
 */
static void
namespace_keys_write(const char *namespace, int32 active_version, int32 used_version)
{
	Oid			argtypes[3] = {TEXTOID, INT4OID, INT4OID};
	Datum		args[3];
	char		nulls[3] = {' ', active_version > 0 ? ' ' : 'n', ' '};

	args[0] = CStringGetTextDatum(namespace);
	args[1] = Int32GetDatum(active_version);
	args[2] = Int32GetDatum(used_version);
	plan_once(&write_plan,
			  "INSERT INTO nsvault.namespace_keys AS k (namespace, active_version, highest_version)"
			  " VALUES ($1, $2, $3) ON CONFLICT (namespace) DO UPDATE"
			  " SET active_version = EXCLUDED.active_version,"
			  " highest_version = GREATEST(k.highest_version, EXCLUDED.highest_version)",
			  3, argtypes);
	if (SPI_execute_plan(write_plan, args, nulls, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not record the namespace's key versions");
}

/* Reads the namespace's record, connecting to SPI for it. */
static void
namespace_keys_get(const char *namespace, NamespaceKeys *keys)
{
	spi_connect();
	namespace_keys_read(namespace, keys);
	SPI_finish();
}

/*
 * The key a write to the namespace seals with: its active version, or, when
 * it has none, a version the key database makes above every one it used.
 * Holds the namespace's shared lock until the transaction ends.
 */
NamespaceKey *
key_for_write(const char *namespace)
{
	NamespaceKeys keys;
	NamespaceKey *key;

	namespace_lock(namespace, ShareLock);
	key_link_record();
	key_destructions_check();
	namespace_keys_get(namespace, &keys);
	if (keys.active_version > 0)
		return key_cache_version(namespace, keys.active_version);

	key = key_cache_new_active(namespace, keys.highest_version + 1, false);
	spi_connect();
	namespace_keys_write(namespace, key->version, key->version);
	SPI_finish();
	return key;
}

/*
 * Makes a new key version and records it as the namespace's active one;
 * the caller holds the namespace's exclusive lock and re-seals.
 */
NamespaceKey *
key_rotate(const char *namespace)
{
	NamespaceKeys keys;
	NamespaceKey *key;

	key_link_record();
	namespace_keys_get(namespace, &keys);
	key = key_cache_new_active(namespace, keys.highest_version + 1, true);
	spi_connect();
	namespace_keys_write(namespace, key->version, key->version);
	SPI_finish();
	return key;
}

static void
start_destroyer_at_commit(XactEvent event, void *arg)
{
	if (!destroyer_wanted)
		return;
	if (event == XACT_EVENT_COMMIT)
		key_destroyer_start();
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT)
		destroyer_wanted = false;
}

/*
 * Queues versions first to last of the namespace's key for destruction
 * once this transaction commits.  The caller holds the namespace's
 * exclusive lock.
 */
void
key_versions_retire(const char *namespace, int32 first, int32 last)
{
	static bool callback_registered = false;
	Oid			argtypes[4] = {TEXTOID, INT4OID, INT4OID, NAMEOID};
	Datum		args[4];

	args[0] = CStringGetTextDatum(namespace);
	args[1] = Int32GetDatum(first);
	args[2] = Int32GetDatum(last);
	args[3] = CStringGetDatum(GetUserNameFromId(GetOuterUserId(), false));
	spi_connect();
	plan_once(&retire_plan,
			  "INSERT INTO nsvault.key_destructions (namespace, first_version, last_version, requested_by)"
			  " VALUES ($1, $2, $3, $4)",
			  4, argtypes);
	if (SPI_execute_plan(retire_plan, args, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not queue the key destruction");
	SPI_finish();

	if (!callback_registered)
	{
		RegisterXactCallback(start_destroyer_at_commit, NULL);
		callback_registered = true;
	}
	destroyer_wanted = true;
}

/*
 * For delete_namespace, under the namespace's exclusive lock: retires
 * every version the namespace ever had, here or in the key database (a
 * rotation that rolled back leaves one there), so the next write makes a
 * new one.
 */
void
key_namespace_retire(const char *namespace)
{
	NamespaceKeys keys;
	KeyAnswer	answer;
	int32		highest;

	key_link_record();
	namespace_keys_get(namespace, &keys);
	keydb_describe(namespace, &answer);
	key_link_check(&answer);
	highest = Max(keys.highest_version, answer.version);
	if (highest == 0)
		return;
	spi_connect();
	namespace_keys_write(namespace, 0, highest);
	SPI_finish();
	key_versions_retire(namespace, 1, highest);
}

/*
 * For destroy_key_version, under the namespace's exclusive lock: what is
 * recorded of the namespace (0, 0 when nothing).
 */
void
key_versions_recorded(const char *namespace, int32 *active_version, int32 *highest_version)
{
	NamespaceKeys keys;

	key_link_record();
	namespace_keys_get(namespace, &keys);
	*active_version = keys.active_version;
	*highest_version = keys.highest_version;
}

/* Are destructions queued in this database, as of now? */
static bool
destructions_pending(void)
{
	Relation	rel = table_open(nsvault_relation("key_destructions"), AccessShareLock);
	Snapshot	snapshot = RegisterSnapshot(GetLatestSnapshot());
	SysScanDesc scan = systable_beginscan(rel, InvalidOid, false, snapshot, 0, NULL);
	bool		pending = HeapTupleIsValid(systable_getnext(scan));

	systable_endscan(scan);
	UnregisterSnapshot(snapshot);
	table_close(rel, AccessShareLock);
	return pending;
}

/*
 * Starts the destroyer when destructions are queued and none runs: after a
 * crash or restart, or when the last one gave up.  Called on every key
 * fetch and write, so a read after a restart is enough.
 */
void
key_destructions_check(void)
{
	LOCKTAG		tag;

	if (RecoveryInProgress() || !IsUnderPostmaster || !destructions_pending())
		return;
	lock_tag(&tag, NULL);
	if (LockAcquire(&tag, ShareLock, false, true) == LOCKACQUIRE_NOT_AVAIL)
		return;
	LockRelease(&tag, ShareLock, false);
	key_destroyer_start();
}
