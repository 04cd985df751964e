/*-------------------------------------------------------------------------
 *
 * nsvault.c
 *		Module entry point: loads each part's settings.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"

#include "nsvault.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/* Sets the module up when a backend first loads it. */
void
_PG_init(void)
{
	guc_init();
}
