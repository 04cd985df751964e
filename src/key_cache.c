/*-------------------------------------------------------------------------
 *
 * key_cache.c
 *		Per-backend cache of namespace keys fetched from the key database.
 *
 * An entry holds the working keys of one (namespace, version); version 0
 * stands for "the active version".  Entries live nsvault.key_cache_seconds
 * and at most nsvault.key_cache_size are kept; every entry is wiped when it
 * expires, is evicted or the backend exits.  Callers get a copy in secure
 * memory of their own context, so no pointer into the cache escapes.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "storage/ipc.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "nsvault.h"

#define ACTIVE_VERSION 0

typedef struct KeyCacheTag
{
	char		namespace[NSVAULT_NAMESPACE_MAX + 2];	/* room for a reserved "@" */
	int32		version;
} KeyCacheTag;

typedef struct KeyCacheEntry
{
	KeyCacheTag tag;			/* hash key, must be first */
	TimestampTz fetched_at;
	NamespaceKey key;
} KeyCacheEntry;

static HTAB *key_cache = NULL;

/* Wipes and removes one entry. */
static void
evict(KeyCacheEntry *entry)
{
	KeyCacheTag tag = entry->tag;

	explicit_bzero(&entry->key, sizeof(entry->key));
	hash_search(key_cache, &tag, HASH_REMOVE, NULL);
}

/* Wipes and removes every entry, or only the expired ones. */
static void
evict_all(bool expired_only)
{
	HASH_SEQ_STATUS status;
	KeyCacheEntry *entry;
	TimestampTz now = GetCurrentTimestamp();

	if (key_cache == NULL)
		return;
	hash_seq_init(&status, key_cache);
	while ((entry = hash_seq_search(&status)) != NULL)
	{
		if (!expired_only ||
			TimestampDifferenceExceeds(entry->fetched_at, now,
									   nsvault_key_cache_seconds * 1000))
			evict(entry);
	}
}

static void
key_cache_exit(int code, Datum arg)
{
	evict_all(false);
}

static void
key_cache_create(void)
{
	HASHCTL		ctl;

	ctl.keysize = sizeof(KeyCacheTag);
	ctl.entrysize = sizeof(KeyCacheEntry);
	ctl.hcxt = TopMemoryContext;
	key_cache = hash_create("nsvault key cache", 64, &ctl,
							HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	on_proc_exit(key_cache_exit, (Datum) 0);
}

/* Makes room for one more entry, evicting the oldest when still full. */
static void
make_room(void)
{
	HASH_SEQ_STATUS status;
	KeyCacheEntry *entry;
	KeyCacheEntry *oldest = NULL;

	if (hash_get_num_entries(key_cache) < nsvault_key_cache_size)
		return;
	evict_all(true);
	while (hash_get_num_entries(key_cache) >= nsvault_key_cache_size)
	{
		oldest = NULL;
		hash_seq_init(&status, key_cache);
		while ((entry = hash_seq_search(&status)) != NULL)
		{
			if (oldest == NULL || entry->fetched_at < oldest->fetched_at)
				oldest = entry;
		}
		evict(oldest);
	}
}

static void
store(const char *namespace, int32 version, const NamespaceKey *key,
	  TimestampTz now)
{
	KeyCacheTag tag;
	KeyCacheEntry *entry;

	memset(&tag, 0, sizeof(tag));
	strlcpy(tag.namespace, namespace, sizeof(tag.namespace));
	tag.version = version;
	make_room();
	entry = hash_search(key_cache, &tag, HASH_ENTER, NULL);
	entry->fetched_at = now;
	entry->key = *key;
}

/*
 * Derives the working keys of a raw key just fetched into result, wipes the
 * raw key, and caches them under their version (and as the active one when
 * active).  Returns result.
 */
static NamespaceKey *
adopt_key(const char *namespace, uint8 *raw, int32 version, bool active,
		  NamespaceKey *result)
{
	TimestampTz now;

	crypto_derive_keys(raw, result);
	explicit_bzero(raw, NSVAULT_KEY_LEN);
	result->version = version;
	if (nsvault_key_cache_seconds > 0)
	{
		if (key_cache == NULL)
			key_cache_create();
		now = GetCurrentTimestamp();
		store(namespace, version, result, now);
		if (active)
			store(namespace, ACTIVE_VERSION, result, now);
	}
	return result;
}

/* Returns the key of (namespace, version), from the cache or fetched. */
static NamespaceKey *
key_cache_lookup(const char *namespace, int32 version)
{
	NamespaceKey *result = secure_alloc(sizeof(NamespaceKey));
	KeyCacheTag tag;
	KeyCacheEntry *entry;
	uint8	   *raw;
	int32		fetched_version = version;

	if (strlen(namespace) >= sizeof(tag.namespace))
		elog(ERROR, "key namespace too long for the key cache");

	if (nsvault_key_cache_seconds == 0)
		evict_all(false);
	else
	{
		if (key_cache == NULL)
			key_cache_create();
		memset(&tag, 0, sizeof(tag));
		strlcpy(tag.namespace, namespace, sizeof(tag.namespace));
		tag.version = version;
		entry = hash_search(key_cache, &tag, HASH_FIND, NULL);
		if (entry != NULL)
		{
			if (!TimestampDifferenceExceeds(entry->fetched_at, GetCurrentTimestamp(),
											nsvault_key_cache_seconds * 1000))
			{
				*result = entry->key;
				return result;
			}
			evict(entry);
		}
	}

	if (version == ACTIVE_VERSION)
		raw = keydb_fetch_active_key(namespace, &fetched_version);
	else
		raw = keydb_fetch_key(namespace, version);
	return adopt_key(namespace, raw, fetched_version, version == ACTIVE_VERSION, result);
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

/* Makes a new key version in the key database and caches it as the active one. */
NamespaceKey *
key_cache_rotate(const char *namespace)
{
	NamespaceKey *result = secure_alloc(sizeof(NamespaceKey));
	int32		version;
	uint8	   *raw = keydb_rotate_key(namespace, &version);

	return adopt_key(namespace, raw, version, true, result);
}

/* Wipes and drops every cached version of the namespace's key. */
void
key_cache_forget(const char *namespace)
{
	HASH_SEQ_STATUS status;
	KeyCacheEntry *entry;

	if (key_cache == NULL)
		return;
	hash_seq_init(&status, key_cache);
	while ((entry = hash_seq_search(&status)) != NULL)
	{
		if (strcmp(entry->tag.namespace, namespace) == 0)
			evict(entry);
	}
}
