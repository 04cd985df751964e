/*-------------------------------------------------------------------------
 *
 * index_lookup.h
 *		Reading nsvault's tables by index, without SPI (index_lookup.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef NSVAULT_INDEX_LOOKUP_H
#define NSVAULT_INDEX_LOOKUP_H

#include "access/htup.h"
#include "access/tupdesc.h"
#include "utils/snapshot.h"

/* columns read straight from tuples (see nsvault--0.1.sql, nsvault--0.5--0.6.sql) */
#define Anum_secrets_ciphertext		3
#define Anum_secrets_key_version	4
#define Anum_secrets_version		7
#define Anum_secrets_deleted_at		9
#define Anum_secrets_expires_at		12
#define Anum_secret_versions_version	3
#define Anum_secret_versions_ciphertext	4
#define Anum_secret_versions_key_version	5
#define Anum_secret_versions_deleted_at	8
#define Anum_grants_grantee			2
#define Anum_grants_level			3
#define Anum_grants_grantee_name	6

typedef bool (*IndexRowCallback) (HeapTuple tuple, TupleDesc desc, int set, void *arg);

extern Oid	nsvault_relation(const char *relname);
extern bool nsvault_has_relation(const char *relname);
extern void nsvault_index_lookup(const char *relname, const char *indexname, int nkeys,
								 int nsets, const char *const *keys, Snapshot snapshot,
								 IndexRowCallback on_row, void *arg);
extern void nsvault_any_row(Oid relid, Snapshot snapshot, IndexRowCallback on_row, void *arg);
extern void nsvault_version_lookup(const char *namespace, const char *name, int32 version,
								   Snapshot snapshot, IndexRowCallback on_row, void *arg);

#endif							/* NSVAULT_INDEX_LOOKUP_H */
