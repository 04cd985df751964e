/*-------------------------------------------------------------------------
 *
 * key_cache.c
 *		Cache of namespace keys fetched from the key database.
 *
 * An entry holds the working keys of one (namespace, version); version 0
 * stands for "the active version".  Entries live nsvault.key_cache_seconds
 * and are wiped when they expire, are evicted or the cache goes away.
 * Callers get a copy in secure memory of their own context, so no pointer
 * into the cache escapes.
 *
 * With nsvault in shared_preload_libraries the cache is one table in shared
 * memory, bounded by nsvault.shared_key_cache_size: a key fetched by one
 * backend serves every later backend, and a rotation or namespace deletion
 * is seen by all of them at once.  Without it each backend keeps its own
 * table, bounded by nsvault.key_cache_size and wiped when the backend exits.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "storage/ipc.h"
#include "utils/memutils.h"

#include "key_cache.h"

#define ACTIVE_VERSION 0

/* How often a shared cache in use is swept of expired entries, in ms. */
#define SHARED_SWEEP_INTERVAL_MS 1000

static HTAB *local_cache = NULL;

static void
local_cache_exit(int code, Datum arg)
{
	HASH_SEQ_STATUS status;
	KeyCacheEntry *entry;

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
		on_proc_exit(local_cache_exit, (Datum) 0);
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
	memset(tag, 0, sizeof(*tag));
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

/*
 * Wipes and removes the entries of one namespace (or of all when NULL),
 * only the expired ones if asked; the caller holds the lock exclusively.
 */
static void
evict_matching(HTAB *table, const char *namespace, bool expired_only)
{
	HASH_SEQ_STATUS status;
	KeyCacheEntry *entry;
	TimestampTz now = GetCurrentTimestamp();

	hash_seq_init(&status, table);
	while ((entry = hash_seq_search(&status)) != NULL)
	{
		if (namespace != NULL && strcmp(entry->tag.namespace, namespace) != 0)
			continue;
		if (!expired_only || expired(entry, now))
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
	evict_matching(table, NULL, true);
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

/* Caches key under one version; the caller holds the lock exclusively. */
static void
store(HTAB *table, const char *namespace, int32 version,
	  const NamespaceKey *key, TimestampTz now)
{
	KeyCacheTag tag;
	KeyCacheEntry *entry;

	make_tag(&tag, namespace, version);
	make_room(table);
	/* shared memory cannot grow: were it ever exhausted, caching is optional */
	entry = hash_search(table, &tag, key_cache_shared ? HASH_ENTER_NULL : HASH_ENTER, NULL);
	if (entry == NULL)
		return;
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
		evict_matching(key_cache_shared_entries, NULL, true);
		key_cache_shared->last_sweep = now;
	}
	cache_unlock();
}

/*
 * Derives the working keys of a raw key just fetched into result, wipes the
 * raw key, and caches them under their version (and as the active one when
 * active), unless keys were rotated or forgotten since generation was read:
 * then what was fetched may already be stale.  Returns result.
 */
static NamespaceKey *
adopt_key(const char *namespace, uint8 *raw, int32 version, bool active,
		  uint64 generation, NamespaceKey *result)
{
	HTAB	   *table;
	TimestampTz now;

	crypto_derive_keys(raw, result);
	explicit_bzero(raw, NSVAULT_KEY_LEN);
	result->version = version;
	if (nsvault_key_cache_seconds > 0)
	{
		table = cache_table();
		now = GetCurrentTimestamp();
		cache_lock(LW_EXCLUSIVE);
		if (cache_generation() == generation)
		{
			store(table, namespace, version, result, now);
			if (active)
				store(table, namespace, ACTIVE_VERSION, result, now);
		}
		cache_unlock();
	}
	return result;
}

/* Returns the key of (namespace, version), from the cache or fetched. */
static NamespaceKey *
key_cache_lookup(const char *namespace, int32 version)
{
	NamespaceKey *result = secure_alloc(sizeof(NamespaceKey));
	HTAB	   *table = cache_table();
	KeyCacheTag tag;
	KeyCacheEntry *entry;
	TimestampTz now = GetCurrentTimestamp();
	uint64		generation;
	uint8	   *raw;
	int32		fetched_version = version;

	if (strlen(namespace) >= sizeof(tag.namespace))
		elog(ERROR, "key namespace too long for the key cache");
	make_tag(&tag, namespace, version);

	if (nsvault_key_cache_seconds == 0)
	{
		cache_lock(LW_EXCLUSIVE);
		evict_matching(table, NULL, false);
		generation = cache_generation();
		cache_unlock();
	}
	else
	{
		sweep_shared(now);
		cache_lock(LW_SHARED);
		entry = hash_search(table, &tag, HASH_FIND, NULL);
		if (entry != NULL && !expired(entry, now))
		{
			*result = entry->key;
			cache_unlock();
			return result;
		}
		generation = cache_generation();
		cache_unlock();
		if (entry != NULL)
		{
			cache_lock(LW_EXCLUSIVE);
			entry = hash_search(table, &tag, HASH_FIND, NULL);
			if (entry != NULL && expired(entry, now))
				evict(table, entry);
			cache_unlock();
		}
	}

	if (version == ACTIVE_VERSION)
		raw = keydb_fetch_active_key(namespace, &fetched_version);
	else
		raw = keydb_fetch_key(namespace, version);
	return adopt_key(namespace, raw, fetched_version, version == ACTIVE_VERSION,
					 generation, result);
}

/* Returns the namespace's active key, creating it in the key database on first use. */
NamespaceKey *
key_cache_active(const char *namespace)
{
	return key_cache_lookup(namespace, ACTIVE_VERSION);
}

/* Returns one version of the namespace's key. */
NamespaceKey *
key_cache_version(const char *namespace, int32 version)
{
	if (version <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("invalid key version %d", version)));
	return key_cache_lookup(namespace, version);
}

/*
 * Wipes and drops every cached version of the namespace's key, in every
 * backend when the cache is shared; returns the generation that follows.
 */
static uint64
forget_namespace(const char *namespace)
{
	HTAB	   *table = cache_table();
	uint64		generation;

	cache_lock(LW_EXCLUSIVE);
	if (key_cache_shared)
		key_cache_shared->generation++;
	evict_matching(table, namespace, false);
	generation = cache_generation();
	cache_unlock();
	return generation;
}

/* Wipes and drops every cached version of the namespace's key. */
void
key_cache_forget(const char *namespace)
{
	(void) forget_namespace(namespace);
}

/* Makes a new key version in the key database and caches it as the active one. */
NamespaceKey *
key_cache_rotate(const char *namespace)
{
	NamespaceKey *result = secure_alloc(sizeof(NamespaceKey));
	int32		version;
	uint8	   *raw = keydb_rotate_key(namespace, &version);

	/* drops the stale active alias; old versions are fetched again if needed */
	return adopt_key(namespace, raw, version, true, forget_namespace(namespace), result);
}
