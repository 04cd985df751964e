/*-------------------------------------------------------------------------
 *
 * key_cache.c
 *		Cache of namespace keys fetched from the key database.
 *
 * An entry holds the working keys of one version of a namespace's key, in
 * one database, and the identity of the key database that answered.
 * Which version is active is not cached here: each database records it in
 * nsvault.namespace_keys.  Entries live nsvault.key_cache_seconds
 * and are wiped when they expire, are evicted or the cache goes away.
 * Callers get a copy in secure memory of their own context, so no pointer
 * into the cache escapes.
 *
 * With nsvault in shared_preload_libraries the cache is one table in shared
 * memory, bounded by nsvault.shared_key_cache_size: a key fetched by one
 * backend serves every later backend of its database, and a destroyed
 * version leaves it for all of them at once.  Without it each backend keeps its own
 * table, bounded by nsvault.key_cache_size and wiped when the backend exits.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/ipc.h"
#include "utils/memutils.h"

#include "crypto.h"
#include "guc.h"
#include "key_cache.h"
#include "key_lifecycle.h"
#include "keydb.h"
#include "secure_mem.h"

/* How often a shared cache in use is swept of expired entries, in ms. */
#define SHARED_SWEEP_INTERVAL_MS 1000

static HTAB *local_cache = NULL;
static bool exit_wipe_registered = false;

static void
local_cache_exit(int code, Datum arg)
{
	HASH_SEQ_STATUS status;
	KeyCacheEntry *entry;

	if (local_cache == NULL)
		return;
	hash_seq_init(&status, local_cache);
	while ((entry = hash_seq_search(&status)) != NULL)
		explicit_bzero(&entry->key, sizeof(entry->key));
}

/* The table in use: the shared one if there is one, else this backend's. */
static HTAB *
cache_table(void)
{
	HASHCTL		ctl;

	if (key_cache_shared_entries != NULL)
		return key_cache_shared_entries;
	if (local_cache == NULL)
	{
		ctl.keysize = sizeof(KeyCacheTag);
		ctl.entrysize = sizeof(KeyCacheEntry);
		ctl.hcxt = TopMemoryContext;
		local_cache = hash_create("nsvault key cache", 64, &ctl,
								  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		if (!exit_wipe_registered)
			on_proc_exit(local_cache_exit, (Datum) 0);
		exit_wipe_registered = true;
	}
	return local_cache;
}

static int
cache_capacity(void)
{
	return key_cache_shared ? nsvault_shared_key_cache_size : nsvault_key_cache_size;
}

/* Locks the shared cache; a backend's own cache needs no lock. */
static void
cache_lock(LWLockMode mode)
{
	if (key_cache_shared)
		LWLockAcquire(key_cache_shared->lock, mode);
}

static void
cache_unlock(void)
{
	if (key_cache_shared)
		LWLockRelease(key_cache_shared->lock);
}

/* Counts rotations and deletions, so a fetch that raced one is not cached. */
static uint64
cache_generation(void)
{
	return key_cache_shared ? key_cache_shared->generation : 0;
}

static bool
expired(const KeyCacheEntry *entry, TimestampTz now)
{
	return TimestampDifferenceExceeds(entry->fetched_at, now,
									  nsvault_key_cache_seconds * 1000);
}

static void
make_tag(KeyCacheTag *tag, const char *namespace, int32 version)
{
	if (strlen(namespace) >= sizeof(tag->namespace))
		elog(ERROR, "key namespace too long for the key cache");
	memset(tag, 0, sizeof(*tag));
	tag->database = MyDatabaseId;
	strlcpy(tag->namespace, namespace, sizeof(tag->namespace));
	tag->version = version;
}

/* Wipes and removes one entry; the caller holds the lock exclusively. */
static void
evict(HTAB *table, KeyCacheEntry *entry)
{
	KeyCacheTag tag = entry->tag;

	explicit_bzero(&entry->key, sizeof(entry->key));
	hash_search(table, &tag, HASH_REMOVE, NULL);
}

/* Which entries evict_matching removes. */
typedef enum EvictWhat
{
	EVICT_EXPIRED,				/* expired ones, of every database */
	EVICT_DATABASE,				/* this database's */
	EVICT_NAMESPACE				/* this database's of one namespace */
} EvictWhat;

/* Wipes and removes entries; the caller holds the lock exclusively. */
static void
evict_matching(HTAB *table, EvictWhat what, const char *namespace)
{
	HASH_SEQ_STATUS status;
	KeyCacheEntry *entry;
	TimestampTz now = GetCurrentTimestamp();

	hash_seq_init(&status, table);
	while ((entry = hash_seq_search(&status)) != NULL)
	{
		if (what == EVICT_EXPIRED ? !expired(entry, now) :
			(entry->tag.database != MyDatabaseId ||
			 (what == EVICT_NAMESPACE && strcmp(entry->tag.namespace, namespace) != 0)))
			continue;
		evict(table, entry);
	}
}

/* Makes room for one more entry, evicting the oldest when still full. */
static void
make_room(HTAB *table)
{
	HASH_SEQ_STATUS status;
	KeyCacheEntry *entry;
	KeyCacheEntry *oldest;

	if (hash_get_num_entries(table) < cache_capacity())
		return;
	evict_matching(table, EVICT_EXPIRED, NULL);
	while (hash_get_num_entries(table) >= cache_capacity())
	{
		oldest = NULL;
		hash_seq_init(&status, table);
		while ((entry = hash_seq_search(&status)) != NULL)
		{
			if (oldest == NULL || entry->fetched_at < oldest->fetched_at)
				oldest = entry;
		}
		evict(table, oldest);
	}
}

/* Caches key under tag; the caller holds the lock exclusively. */
static void
store(HTAB *table, const KeyCacheTag *tag, const pg_uuid_t *keydb, const NamespaceKey *key,
	  TimestampTz now)
{
	KeyCacheEntry *entry;

	make_room(table);
	/* shared memory cannot grow: were it ever exhausted, caching is optional */
	entry = hash_search(table, tag, key_cache_shared ? HASH_ENTER_NULL : HASH_ENTER, NULL);
	if (entry == NULL)
		return;
	entry->keydb = *keydb;
	entry->fetched_at = now;
	entry->key = *key;
}

/*
 * Wipes the shared cache's expired entries now and then, so a key nobody
 * asks for again does not outlive its lifetime by much.
 */
static void
sweep_shared(TimestampTz now)
{
	if (key_cache_shared == NULL ||
		!TimestampDifferenceExceeds(key_cache_shared->last_sweep, now,
									SHARED_SWEEP_INTERVAL_MS))
		return;
	cache_lock(LW_EXCLUSIVE);
	if (TimestampDifferenceExceeds(key_cache_shared->last_sweep, now,
								   SHARED_SWEEP_INTERVAL_MS))
	{
		evict_matching(key_cache_shared_entries, EVICT_EXPIRED, NULL);
		key_cache_shared->last_sweep = now;
	}
	cache_unlock();
}

/*
 * Derives the working keys of a key just fetched into result, wipes the raw
 * key, and caches them under tag (its version set here), unless keys were
 * forgotten since generation was read: then what was fetched may be a
 * version being destroyed.  Returns result.
 */
static NamespaceKey *
adopt_key(KeyCacheTag *tag, KeyAnswer *answer, uint64 generation, NamespaceKey *result)
{
	TimestampTz now;

	crypto_derive_keys(answer->key, result);
	explicit_bzero(answer->key, NSVAULT_KEY_LEN);
	result->version = answer->version;
	tag->version = answer->version;
	if (nsvault_key_cache_seconds > 0)
	{
		now = GetCurrentTimestamp();
		cache_lock(LW_EXCLUSIVE);
		if (cache_generation() == generation)
			store(cache_table(), tag, &answer->identity, result, now);
		cache_unlock();
	}
	return result;
}

/*
 * Copies the cached key of tag into result and returns true, if it is
 * cached and fresh; otherwise returns false and sets generation for
 * adopt_key.
 */
static bool
cache_find(const KeyCacheTag *tag, NamespaceKey *result, uint64 *generation)
{
	HTAB	   *table = cache_table();
	KeyCacheEntry *entry;
	TimestampTz now = GetCurrentTimestamp();

	if (nsvault_key_cache_seconds == 0)
	{
		cache_lock(LW_EXCLUSIVE);
		evict_matching(table, EVICT_DATABASE, NULL);
		*generation = cache_generation();
		cache_unlock();
		return false;
	}

	sweep_shared(now);
	cache_lock(LW_SHARED);
	entry = hash_search(table, tag, HASH_FIND, NULL);
	if (entry != NULL && !expired(entry, now))
	{
		*result = entry->key;
		cache_unlock();
		return true;
	}
	*generation = cache_generation();
	cache_unlock();
	if (entry != NULL)
	{
		cache_lock(LW_EXCLUSIVE);
		entry = hash_search(table, tag, HASH_FIND, NULL);
		if (entry != NULL && expired(entry, now))
			evict(table, entry);
		cache_unlock();
	}
	return false;
}

/* Fails closed: the key database cannot give a key that values need. */
static void
report_unusable_version(const char *namespace, int32 version, bool destroyed)
{
	if (destroyed)
		ereport(ERROR,
				(errcode(ERRCODE_SYSTEM_ERROR),
				 errmsg("key version %d of namespace \"%s\" was destroyed", version, namespace),
				 errdetail("Values sealed under it can never be read again.")));
	ereport(ERROR,
			(errcode(ERRCODE_SYSTEM_ERROR),
			 errmsg("key database behind foreign server \"%s\" lacks key version %d of namespace \"%s\"",
					keydb_server_name(), version, namespace),
			 errdetail("This database has values sealed under that version. The key database was replaced, reset, or restored from a backup older than this database."),
			 errhint("Restore the key database from a backup that has the version, or both databases from matching backups.")));
}

/* Returns one version of the namespace's key, from the cache or fetched. */
NamespaceKey *
key_cache_version(const char *namespace, int32 version)
{
	NamespaceKey *result = secure_alloc(sizeof(NamespaceKey));
	KeyCacheTag tag;
	uint64		generation;
	KeyAnswer	answer;

	if (version <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("invalid key version %d", version)));
	make_tag(&tag, namespace, version);
	if (cache_find(&tag, result, &generation))
		return result;

	key_destructions_check();
	keydb_key_version(namespace, version, &answer);
	key_link_check(&answer);
	if (!answer.found || answer.key == NULL)
		report_unusable_version(namespace, version, answer.found);
	return adopt_key(&tag, &answer, generation, result);
}

/*
 * Gets the namespace's active key from the key database, at least version
 * min_version: a new version when rotate, else its highest one (made if
 * there is none that high).  The caller records the version answered.
 */
NamespaceKey *
key_cache_new_active(const char *namespace, int32 min_version, bool rotate)
{
	NamespaceKey *result = secure_alloc(sizeof(NamespaceKey));
	KeyCacheTag tag;
	uint64		generation;
	KeyAnswer	answer;
	pg_uuid_t	recorded;
	const pg_uuid_t *expected;

	make_tag(&tag, namespace, min_version);
	cache_lock(LW_SHARED);
	generation = cache_generation();
	cache_unlock();
	/* the key database makes no key unless it is the one expected */
	expected = key_link_identity(&recorded) ? &recorded : NULL;
	keydb_writer_key(namespace, min_version, expected, rotate, &answer);
	key_link_check(&answer);
	/* it makes no version it cannot make above all this database has used */
	if (!answer.found || answer.key == NULL || answer.version < min_version)
		ereport(ERROR,
				(errcode(ERRCODE_SYSTEM_ERROR),
				 errmsg("key database behind foreign server \"%s\" is older than this database for namespace \"%s\"",
						keydb_server_name(), namespace),
				 errdetail("This database has used key versions up to %d of it, and the key database has not. It was restored from an older backup, or is not the one this database was linked to.",
						   min_version - 1),
				 errhint("Restore the key database from a backup at least as new as this database's.")));
	return adopt_key(&tag, &answer, generation, result);
}

/*
 * Wipes and drops this database's cached versions of the namespace's key,
 * in every backend when the cache is shared.
 */
void
key_cache_forget(const char *namespace)
{
	HTAB	   *table = cache_table();

	cache_lock(LW_EXCLUSIVE);
	if (key_cache_shared)
		key_cache_shared->generation++;
	evict_matching(table, EVICT_NAMESPACE, namespace);
	cache_unlock();
}

/* Wipes and drops every cached key of this database. */
void
key_cache_forget_database(void)
{
	HTAB	   *table = cache_table();

	cache_lock(LW_EXCLUSIVE);
	if (key_cache_shared)
		key_cache_shared->generation++;
	evict_matching(table, EVICT_DATABASE, NULL);
	cache_unlock();
}

/*
 * Wipes this backend's own cache, if it has one: told that another backend
 * destroyed keys or changed the key database, it cannot know which.
 */
void
key_cache_local_reset(void)
{
	if (local_cache == NULL)
		return;
	local_cache_exit(0, (Datum) 0);
	hash_destroy(local_cache);
	local_cache = NULL;
}
