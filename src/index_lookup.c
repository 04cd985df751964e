/*-------------------------------------------------------------------------
 *
 * index_lookup.c
 *		Reads rows of nsvault's tables through their primary key index.
 *
 * The hot lookups (a secret by namespace and name, a namespace's grants)
 * go straight to the index instead of through SPI: a query must be parsed
 * and planned once in every backend, which costs a new backend more than
 * the rest of the call.  Rows are read under the snapshot the caller
 * passes: the active one, exactly as a query would see them, or a newer one.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "index_lookup.h"

#define LOOKUP_MAX_KEYS 2

/*
 * Returns the OID of relation nsvault.<relname>.  A table this library
 * needs is missing only when the extension's SQL is older than it.
 */
Oid
nsvault_relation(const char *relname)
{
	Oid			relid = get_relname_relid(relname, get_namespace_oid("nsvault", false));

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("extension \"nsvault\" must be updated before it can be used"),
				 errdetail("Relation nsvault.%s, which this version of its library needs, does not exist.",
						   relname),
				 errhint("Run ALTER EXTENSION nsvault UPDATE in this database.")));
	return relid;
}

/* Sets a key on text column i of index to value. */
static void
text_key(ScanKey key, Relation index, int i, const char *value)
{
	ScanKeyInit(key, index->rd_index->indkey.values[i], BTEqualStrategyNumber, F_TEXTEQ,
				CStringGetTextDatum(value));
	/* the index orders by its own collation: searching by another misses rows */
	key->sk_collation = index->rd_indcollation[i];
}

/* Calls on_row for each row of rel that the keys find through index, until it returns false. */
static void
scan_rows(Relation rel, Relation index, int nkeys, ScanKey keys, Snapshot snapshot,
		  IndexRowCallback on_row, int set, void *arg)
{
	SysScanDesc scan = systable_beginscan(rel, RelationGetRelid(index), true, snapshot,
										  nkeys, keys);
	HeapTuple	tuple;

	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		if (!on_row(tuple, RelationGetDescr(rel), set, arg))
			break;
	}
	systable_endscan(scan);
}

/*
 * For each of nsets key sets (nkeys values each, one after the other in
 * keys), calls on_row for every row of nsvault.<relname> whose leading text
 * columns, in the order of index nsvault.<indexname>, equal the set, until
 * on_row returns false.  Rows are those snapshot sees; tuples passed to
 * on_row live until it returns.
 */
void
nsvault_index_lookup(const char *relname, const char *indexname, int nkeys, int nsets,
					 const char *const *keys, Snapshot snapshot, IndexRowCallback on_row, void *arg)
{
	Relation	rel;
	Relation	index;
	ScanKeyData scankeys[LOOKUP_MAX_KEYS];

	Assert(nkeys <= LOOKUP_MAX_KEYS);
	rel = table_open(nsvault_relation(relname), AccessShareLock);
	index = index_open(nsvault_relation(indexname), AccessShareLock);
	for (int set = 0; set < nsets; set++)
	{
		for (int i = 0; i < nkeys; i++)
			text_key(&scankeys[i], index, i, keys[set * nkeys + i]);
		scan_rows(rel, index, nkeys, scankeys, snapshot, on_row, set, arg);
	}
	index_close(index, AccessShareLock);
	table_close(rel, AccessShareLock);
}

/*
 * Calls on_row for the row of nsvault.secret_versions of one version of a
 * secret, if there is one that snapshot sees.
 */
void
nsvault_version_lookup(const char *namespace, const char *name, int32 version,
					   Snapshot snapshot, IndexRowCallback on_row, void *arg)
{
	Relation	rel = table_open(nsvault_relation("secret_versions"), AccessShareLock);
	Relation	index = index_open(nsvault_relation("secret_versions_pkey"), AccessShareLock);
	ScanKeyData scankeys[3];

	text_key(&scankeys[0], index, 0, namespace);
	text_key(&scankeys[1], index, 1, name);
	ScanKeyInit(&scankeys[2], index->rd_index->indkey.values[2],
				BTEqualStrategyNumber, F_INT4EQ, Int32GetDatum(version));
	scan_rows(rel, index, 3, scankeys, snapshot, on_row, 0, arg);
	index_close(index, AccessShareLock);
	table_close(rel, AccessShareLock);
}
