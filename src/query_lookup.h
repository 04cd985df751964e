/*-------------------------------------------------------------------------
 *
 * query_lookup.h
 *		Reading rows of tables Citus holds through a query (query_lookup.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef NSVAULT_QUERY_LOOKUP_H
#define NSVAULT_QUERY_LOOKUP_H

#include "index_lookup.h"
#include "utils/relcache.h"

extern void nsvault_query_lookup(Relation rel, const char *const *columns, int nkeys,
								 const Oid *types, int nsets, const Datum *values,
								 Snapshot snapshot, IndexRowCallback on_row, void *arg);

#endif							/* NSVAULT_QUERY_LOOKUP_H */
