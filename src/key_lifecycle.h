/*-------------------------------------------------------------------------
 *
 * key_lifecycle.h
 *		Which key version seals, and when versions are made and destroyed.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NSVAULT_KEY_LIFECYCLE_H
#define NSVAULT_KEY_LIFECYCLE_H

#include "crypto.h"

/*
 * The advisory lock tag of a database's key destroyer: a kind of its own
 * (the fourth field), so that no pg_advisory_lock() call can take it.
 */
#define NSVAULT_LOCK_DESTROYER	0x6e74

/* key_lifecycle.c */
extern NamespaceKey *key_for_write(const char *namespace);
extern void key_versions_lock(const char *namespace, int32 *active_version,
							  int32 *highest_version);
extern NamespaceKey *key_rotate(const char *namespace, int32 highest_version);
extern void key_versions_retire(const char *namespace, int32 first, int32 last);
extern void key_namespace_retire(const char *namespace, int32 highest_version);
extern void key_destructions_check(void);
extern void key_destroyer_lock(void);

/* key_destroyer.c */
extern void key_destroyer_start(void);
extern void key_destroyer_stop(Oid database);
extern PGDLLEXPORT void nsvault_key_destroyer_main(Datum main_arg);

#endif							/* NSVAULT_KEY_LIFECYCLE_H */
