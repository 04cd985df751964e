/*-------------------------------------------------------------------------
 *
 * key_cache_shmem.c
 *		Reserves the shared-memory key cache when nsvault is preloaded.
 *
 * Only a library in shared_preload_libraries may ask for shared memory, so
 * without preloading these stay NULL and each backend keeps its own cache.
 * The table has a fixed number of entries, nsvault.shared_key_cache_size,
 * all reserved at server start.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/shmem.h"

#include "guc.h"
#include "key_cache.h"

#define TRANCHE_NAME	"nsvault_key_cache"

KeyCacheShared *key_cache_shared = NULL;
HTAB	   *key_cache_shared_entries = NULL;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static void
key_cache_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(KeyCacheShared)) +
						   hash_estimate_size(nsvault_shared_key_cache_size,
											  sizeof(KeyCacheEntry)));
	RequestNamedLWLockTranche(TRANCHE_NAME, 1);
}

static void
key_cache_shmem_startup(void)
{
	HASHCTL		ctl;
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	key_cache_shared = ShmemInitStruct("nsvault key cache state",
									   sizeof(KeyCacheShared), &found);
	if (!found)
	{
		key_cache_shared->lock = &(GetNamedLWLockTranche(TRANCHE_NAME))->lock;
		key_cache_shared->generation = 0;
		key_cache_shared->last_sweep = 0;
	}
	ctl.keysize = sizeof(KeyCacheTag);
	ctl.entrysize = sizeof(KeyCacheEntry);
	key_cache_shared_entries = ShmemInitHash("nsvault key cache",
											 nsvault_shared_key_cache_size,
											 nsvault_shared_key_cache_size,
											 &ctl, HASH_ELEM | HASH_BLOBS);
	LWLockRelease(AddinShmemInitLock);
}

/* Asks for the shared cache; called from _PG_init while preloading. */
void
key_cache_shmem_register(void)
{
	if (nsvault_shared_key_cache_size == 0)
		return;
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = key_cache_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = key_cache_shmem_startup;
}
