/*-------------------------------------------------------------------------
 *
 * key_cache.h
 *		The key cache's entries, and its optional shared-memory home.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NSVAULT_KEY_CACHE_H
#define NSVAULT_KEY_CACHE_H

#include "storage/lwlock.h"
#include "utils/hsearch.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "crypto.h"
#include "validate.h"

/*
 * Keys are cached per database: two databases of one cluster, linked to
 * two key databases, never see each other's keys.  An entry was fetched
 * from the key database the database is linked to (key_link.c checks every
 * answer), and goes when the database accepts another.
 */
typedef struct KeyCacheTag
{
	Oid			database;
	char		namespace[NSVAULT_NAMESPACE_MAX + 2];	/* room for a reserved "@" */
	int32		version;
} KeyCacheTag;

typedef struct KeyCacheEntry
{
	KeyCacheTag tag;			/* hash key, must be first */
	pg_uuid_t	keydb;			/* identity of the key database that answered */
	TimestampTz fetched_at;
	NamespaceKey key;
} KeyCacheEntry;

/* State of the shared cache, guarded by lock. */
typedef struct KeyCacheShared
{
	LWLock	   *lock;
	uint64		generation;		/* bumped whenever keys are rotated or forgotten */
	TimestampTz last_sweep;		/* when expired entries were last wiped */
} KeyCacheShared;

/* key_cache_shmem.c: set only when nsvault is in shared_preload_libraries */
extern KeyCacheShared *key_cache_shared;
extern HTAB *key_cache_shared_entries;
extern void key_cache_shmem_register(void);

/* key_cache.c */
extern NamespaceKey *key_cache_version(const char *namespace, int32 version);
extern void key_cache_forget(const char *namespace);
extern void key_cache_forget_database(void);
extern NamespaceKey *key_cache_new_active(const char *namespace, int32 min_version, bool rotate);
extern void key_cache_local_reset(void);

#endif							/* NSVAULT_KEY_CACHE_H */
