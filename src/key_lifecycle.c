/*-------------------------------------------------------------------------
 *
 * key_lifecycle.c
 *		Which key version seals, and when versions are made and destroyed.
 *
 * This database, not the key database, says which version of a
 * namespace's key is active (nsvault.namespace_keys): a key database that
 * was restored or replaced cannot make writes use another key.
 *
 * Writers, rotation and deletion of one namespace serialize on a lock of
 * the namespace's row in nsvault.namespace_keys, held to the end of the
 * transaction: FOR SHARE for writers, FOR UPDATE for rotate_key,
 * delete_namespace and destroy_key_version, taken before any key is
 * fetched.  So a rotation waits for writers that hold the old key, and
 * re-seals what they wrote; and a writer after a rotation or a deletion
 * reads the version they recorded.  A row lock, unlike a lock-table entry,
 * costs nothing to hold however many namespaces one transaction writes.
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

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "crypto.h"
#include "index_lookup.h"
#include "key_cache.h"
#include "key_lifecycle.h"
#include "keydb.h"
#include "spi_plans.h"

/* What this database records of a namespace's key versions. */
typedef struct NamespaceKeys
{
	int32		active_version; /* 0: none */
	int32		highest_version;
} NamespaceKeys;

static SPIPlanPtr placeholder_plan = NULL;
static SPIPlanPtr write_plan = NULL;
static SPIPlanPtr retire_plan = NULL;

/* a session starts a destroyer for what is left queued at most this often */
#define DESTROYER_START_INTERVAL_MS 10000
#define DESTROYER_CHECK_INTERVAL_MS 1000

/* a committing transaction retired versions: start the destroyer */
static bool destroyer_wanted = false;

/* How a change of a namespace reads its row. */
typedef enum RowLock
{
	ROW_LOCK_NONE,				/* a look, without a lock */
	ROW_LOCK_WRITER,			/* FOR SHARE: writers exclude only the below */
	ROW_LOCK_KEYS				/* FOR UPDATE: rotation, deletion, destruction,
								 * and the write that makes the first key */
} RowLock;

#define ROW_LOCK_KINDS (ROW_LOCK_KEYS + 1)

static SPIPlanPtr read_plans[ROW_LOCK_KINDS];	/* by RowLock */

/* Sets tag to the lock a database's destroyer holds while it works. */
static void
destroyer_lock_tag(LOCKTAG *tag)
{
	SET_LOCKTAG_ADVISORY(*tag, MyDatabaseId, 0, 0, NSVAULT_LOCK_DESTROYER);
}

/*
 * The destroyer of this database holds this lock, for its session, while
 * it works: one at a time, and key_destructions_check can tell one runs.
 */
void
key_destroyer_lock(void)
{
	LOCKTAG		tag;

	destroyer_lock_tag(&tag);
	(void) LockAcquire(&tag, ExclusiveLock, true, false);
}

/*
 * Reads the namespace's row under lock, which makes the row first for a
 * namespace never written (ROW_LOCK_NONE reads it as the snapshot sees it,
 * zeros when there is none).  A lock waits for a rotation or deletion in
 * flight and then reads what it committed; under REPEATABLE READ or
 * SERIALIZABLE one that committed after the snapshot is a serialization
 * failure.  The caller is connected to SPI.
 */
static void
namespace_row(const char *namespace, RowLock lock, NamespaceKeys *keys)
{
	static const char *const reads[ROW_LOCK_KINDS] = {
		"SELECT active_version, highest_version FROM nsvault.namespace_keys WHERE namespace = $1",
		"SELECT active_version, highest_version FROM nsvault.namespace_keys WHERE namespace = $1"
		" FOR SHARE",
		"SELECT active_version, highest_version FROM nsvault.namespace_keys WHERE namespace = $1"
		" FOR UPDATE",
	};
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1] = {CStringGetTextDatum(namespace)};
	HeapTuple	row;
	bool		isnull;
	Datum		active;

	nsvault_spi_plan(&read_plans[lock], reads[lock], 1, argtypes);
	for (int attempt = 0;; attempt++)
	{
		nsvault_spi_execute(read_plans[lock], args, NULL, lock == ROW_LOCK_NONE, 1, SPI_OK_SELECT,
							"could not read the namespace's key versions");
		if (SPI_processed == 1 || lock == ROW_LOCK_NONE)
			break;
		if (attempt > 0)
			ereport(ERROR,
					(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
					 errmsg("could not serialize access to the keys of namespace \"%s\" due to a concurrent first write",
							namespace),
					 errhint("Retry the transaction.")));
		nsvault_spi_plan(&placeholder_plan,
						 "INSERT INTO nsvault.namespace_keys (namespace, highest_version)"
						 " VALUES ($1, 0) ON CONFLICT (namespace) DO NOTHING",
						 1, argtypes);
		nsvault_spi_execute(placeholder_plan, args, NULL, false, 0, SPI_OK_INSERT,
							"could not record the namespace's key versions");
	}
	keys->active_version = 0;
	keys->highest_version = 0;
	if (SPI_processed == 0)
		return;
	row = SPI_tuptable->vals[0];
	active = nsvault_spi_datum(row, SPI_tuptable->tupdesc, "active_version", &isnull);
	keys->active_version = isnull ? 0 : DatumGetInt32(active);
	keys->highest_version = DatumGetInt32(nsvault_spi_datum(row, SPI_tuptable->tupdesc,
															"highest_version", &isnull));
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
	nsvault_spi_plan(&write_plan,
					 "INSERT INTO nsvault.namespace_keys AS k (namespace, active_version, highest_version)"
					 " VALUES ($1, $2, $3) ON CONFLICT (namespace) DO UPDATE"
					 " SET active_version = EXCLUDED.active_version,"
					 " highest_version = GREATEST(k.highest_version, EXCLUDED.highest_version)",
					 3, argtypes);
	nsvault_spi_execute(write_plan, args, nulls, false, 0, SPI_OK_INSERT,
						"could not record the namespace's key versions");
}

/*
 * The key a write to the namespace seals with: its active version, or, when
 * it has none, a version the key database makes above every one it used.
 * Holds the namespace's writer lock until the transaction ends; the write
 * that makes the namespace's key holds it alone, since it records the
 * version (writers sharing the lock and each updating the row would
 * deadlock).
 */
NamespaceKey *
key_for_write(const char *namespace)
{
	int			spi;
	NamespaceKeys keys;
	NamespaceKey *key;

	spi = nsvault_spi_connect();
	namespace_row(namespace, ROW_LOCK_NONE, &keys);
	if (keys.active_version > 0)
		namespace_row(namespace, ROW_LOCK_WRITER, &keys);
	/* none, or a deletion committed meanwhile */
	if (keys.active_version == 0)
		namespace_row(namespace, ROW_LOCK_KEYS, &keys);
	nsvault_spi_finish(spi);
	key_link_record();
	key_destructions_check();
	if (keys.active_version > 0)
		return key_cache_version(namespace, keys.active_version);

	key = key_cache_new_active(namespace, keys.highest_version + 1, false);
	spi = nsvault_spi_connect();
	namespace_keys_write(namespace, key->version, key->version);
	nsvault_spi_finish(spi);
	return key;
}

/*
 * Locks the namespace's keys against writers, rotations, deletions and
 * destructions until the transaction ends (for those three), and returns
 * its active version (0: none) and the highest version it used.
 */
void
key_versions_lock(const char *namespace, int32 *active_version, int32 *highest_version)
{
	NamespaceKeys keys;
	int			spi;

	spi = nsvault_spi_connect();
	namespace_row(namespace, ROW_LOCK_KEYS, &keys);
	nsvault_spi_finish(spi);
	key_link_record();
	*active_version = keys.active_version;
	*highest_version = keys.highest_version;
}

/*
 * Makes a new key version, above highest_version, and records it as the
 * namespace's active one; the caller holds key_versions_lock and re-seals.
 */
NamespaceKey *
key_rotate(const char *namespace, int32 highest_version)
{
	NamespaceKey *key = key_cache_new_active(namespace, highest_version + 1, true);
	int			spi;

	spi = nsvault_spi_connect();
	namespace_keys_write(namespace, key->version, key->version);
	nsvault_spi_finish(spi);
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
 * once this transaction commits.  The caller holds key_versions_lock.
 */
void
key_versions_retire(const char *namespace, int32 first, int32 last)
{
	static bool callback_registered = false;
	Oid			argtypes[4] = {TEXTOID, INT4OID, INT4OID, NAMEOID};
	Datum		args[4];
	int			spi;

	/* fail closed now: without key administration nothing would destroy them */
	keydb_admin_required();
	args[0] = CStringGetTextDatum(namespace);
	args[1] = Int32GetDatum(first);
	args[2] = Int32GetDatum(last);
	args[3] = CStringGetDatum(GetUserNameFromId(GetOuterUserId(), false));
	spi = nsvault_spi_connect();
	nsvault_spi_plan(&retire_plan,
					 "INSERT INTO nsvault.key_destructions (namespace, first_version, last_version, requested_by)"
					 " VALUES ($1, $2, $3, $4)",
					 4, argtypes);
	nsvault_spi_execute(retire_plan, args, NULL, false, 0, SPI_OK_INSERT,
						"could not queue the key destruction");
	nsvault_spi_finish(spi);

	if (!callback_registered)
	{
		RegisterXactCallback(start_destroyer_at_commit, NULL);
		callback_registered = true;
	}
	destroyer_wanted = true;
}

/*
 * For delete_namespace, under key_versions_lock: retires every version the
 * namespace ever had, here (up to highest_version) or in the key database
 * (a rotation that rolled back leaves one there), so the next write makes
 * a new one.
 */
void
key_namespace_retire(const char *namespace, int32 highest_version)
{
	int			spi;
	KeyAnswer	answer;
	int32		highest;

	keydb_describe(namespace, &answer);
	key_link_check(&answer);
	highest = Max(highest_version, answer.version);
	if (highest == 0)
		return;
	spi = nsvault_spi_connect();
	namespace_keys_write(namespace, 0, highest);
	nsvault_spi_finish(spi);
	key_versions_retire(namespace, 1, highest);
}

static bool
note_row(HeapTuple tuple, TupleDesc desc, int set, void *arg)
{
	*(bool *) arg = true;
	return false;
}

/*
 * Are destructions queued in this database, as of now?  On Citus, those of
 * every node.
 */
static bool
destructions_pending(void)
{
	Snapshot	snapshot = RegisterSnapshot(GetLatestSnapshot());
	bool		pending = false;

	nsvault_any_row(nsvault_relation("key_destructions"), snapshot, note_row, &pending);
	UnregisterSnapshot(snapshot);
	return pending;
}

/*
 * Starts the destroyer when destructions are queued and none runs: after a
 * crash or restart, or when the last one gave up.  Called on every key
 * fetch and write, so a read after a restart is enough; a session starts
 * one at most every DESTROYER_START_INTERVAL_MS, so a key server that
 * stays down does not get a worker per write, and looks at the queue at
 * most every DESTROYER_CHECK_INTERVAL_MS while it finds it empty, so that
 * a busy writer does not scan it on every write.
 */
void
key_destructions_check(void)
{
	static TimestampTz last_start = 0;
	static TimestampTz last_found_empty = 0;
	TimestampTz now = GetCurrentTimestamp();
	LOCKTAG		tag;

	if (RecoveryInProgress() || !IsUnderPostmaster ||
		!TimestampDifferenceExceeds(last_start, now, DESTROYER_START_INTERVAL_MS) ||
		!TimestampDifferenceExceeds(last_found_empty, now, DESTROYER_CHECK_INTERVAL_MS))
		return;
	if (!destructions_pending())
	{
		last_found_empty = now;
		return;
	}
	destroyer_lock_tag(&tag);
	if (LockAcquire(&tag, ShareLock, false, true) == LOCKACQUIRE_NOT_AVAIL)
		return;
	LockRelease(&tag, ShareLock, false);
	last_start = GetCurrentTimestamp();
	key_destroyer_start();
}
