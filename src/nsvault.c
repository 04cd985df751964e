/*-------------------------------------------------------------------------
 *
 * nsvault.c
 *		Module entry point: loads each part's settings and hooks, and
 *		reserves the shared key cache and the audit queues when the server
 *		preloads the module.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"

#include "audit_queue.h"
#include "crypto.h"
#include "guc.h"
#include "key_cache.h"
#include "utility_hook.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/* Sets the module up when a backend first loads it. */
void
_PG_init(void)
{
	nsvault_guc_init();
	utility_hook_register();
	if (process_shared_preload_libraries_in_progress)
	{
		key_cache_shmem_register();
		audit_queue_shmem_register();
		/* every backend then inherits the fetched cipher and MAC */
		crypto_init();
	}
}
