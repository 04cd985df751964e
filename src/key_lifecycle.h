/*-------------------------------------------------------------------------
 *
 * key_lifecycle.h
 *		Which key version seals, and when versions are made and destroyed.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NSVAULT_KEY_LIFECYCLE_H
#define NSVAULT_KEY_LIFECYCLE_H

#include "nsvault.h"

/*
 * nsvault's lock tags: advisory tags of their own kind (the fourth field),
 * so that no pg_advisory_lock() call of an application can take them.
 */
#define NSVAULT_LOCK_NAMESPACE	0x6e73	/* one namespace's key versions */
#define NSVAULT_LOCK_DESTROYER	0x6e74	/* held by a database's destroyer */

/* key_lifecycle.c */
extern NamespaceKey *key_for_write(const char *namespace);
extern NamespaceKey *key_rotate(const char *namespace);
extern void namespace_lock_exclusive(const char *namespace);
extern void key_versions_retire(const char *namespace, int32 first, int32 last);
extern void key_namespace_retire(const char *namespace);
extern void key_versions_recorded(const char *namespace, int32 *active_version,
								  int32 *highest_version);
extern void key_destructions_check(void);
extern void key_destroyer_lock(void);

/* key_destroyer.c */
extern void key_destroyer_start(void);
extern PGDLLEXPORT void nsvault_key_destroyer_main(Datum main_arg);

#endif							/* NSVAULT_KEY_LIFECYCLE_H */
