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
 * Tables Citus holds are read through a query instead (query_lookup.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "catalog/pg_index.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "distribution.h"
#include "index_lookup.h"
#include "query_lookup.h"

#define LOOKUP_MAX_KEYS 2

/*
 * The OID of schema nsvault, remembered until any schema changes, and the
 * OIDs of the relations opened so far.  An OID is used only once the
 * relation it opens, locked (which takes in every change committed before),
 * is still nsvault.<relname>.
 */
static Oid	nsvault_namespace = InvalidOid;

typedef struct KnownRelation
{
	const char *relname;
	Oid			relid;
} KnownRelation;

#define KNOWN_RELATIONS_MAX 8
static KnownRelation known_relations[KNOWN_RELATIONS_MAX];
static int	known_relations_count = 0;

static void
namespaces_changed(Datum arg, int cacheid, uint32 hashvalue)
{
	nsvault_namespace = InvalidOid;
}

static Oid
namespace_oid(void)
{
	static bool callback_registered = false;

	if (!callback_registered)
	{
		CacheRegisterSyscacheCallback(NAMESPACEOID, namespaces_changed, (Datum) 0);
		callback_registered = true;
	}
	if (!OidIsValid(nsvault_namespace))
		nsvault_namespace = get_namespace_oid("nsvault", false);
	return nsvault_namespace;
}

/*
 * Returns the OID of relation nsvault.<relname>.  A table this library
 * needs is missing only when the extension's SQL is older than it.
 */
Oid
nsvault_relation(const char *relname)
{
	Oid			relid = get_relname_relid(relname, namespace_oid());

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("extension \"nsvault\" must be updated before it can be used"),
				 errdetail("Relation nsvault.%s, which this version of its library needs, does not exist.",
						   relname),
				 errhint("Run ALTER EXTENSION nsvault UPDATE in this database.")));
	return relid;
}

/*
 * Whether relation nsvault.<relname> exists: what this database's nsvault
 * SQL objects have, which may be older than this library.
 */
bool
nsvault_has_relation(const char *relname)
{
	return OidIsValid(get_relname_relid(relname, namespace_oid()));
}

/*
 * Opens nsvault.<relname>, a relation of kind relkind, with lockmode: by its
 * OID when that is known and still names it.  relname must be a string
 * constant.
 */
static Relation
open_relation(const char *relname, char relkind, LOCKMODE lockmode)
{
	KnownRelation *known = NULL;
	Relation	rel;

	for (int i = 0; i < known_relations_count && known == NULL; i++)
		if (strcmp(known_relations[i].relname, relname) == 0)
			known = &known_relations[i];
	if (known == NULL && known_relations_count < KNOWN_RELATIONS_MAX)
	{
		known = &known_relations[known_relations_count++];
		known->relname = relname;
		known->relid = InvalidOid;
	}
	if (known != NULL && OidIsValid(known->relid) && OidIsValid(nsvault_namespace))
	{
		rel = try_relation_open(known->relid, lockmode);
		if (rel != NULL)
		{
			if (RelationGetNamespace(rel) == nsvault_namespace &&
				strcmp(RelationGetRelationName(rel), relname) == 0 &&
				rel->rd_rel->relkind == relkind)
				return rel;
			relation_close(rel, lockmode);
		}
	}
	rel = relation_open(nsvault_relation(relname), lockmode);
	if (rel->rd_rel->relkind != relkind)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"nsvault.%s\" is not a %s", relname,
						relkind == RELKIND_INDEX ? "index" : "table")));
	if (known != NULL)
		known->relid = RelationGetRelid(rel);
	return rel;
}

/*
 * The indexes nsvault reads through, and the key columns each must have, in
 * order: an index that has others, or fewer, would answer for other rows.
 */
typedef struct ExpectedIndex
{
	const char *indexname;
	int			ncolumns;
	const char *columns[3];
} ExpectedIndex;

static const ExpectedIndex expected_indexes[] = {
	{"secrets_pkey", 2, {"namespace", "name"}},
	{"secret_versions_pkey", 3, {"namespace", "name", "version"}},
	{"grants_pkey", 2, {"namespace", "grantee"}},
};

/* What index nsvault.<indexname> must be. */
static const ExpectedIndex *
expected_index(const char *indexname)
{
	for (int i = 0; i < lengthof(expected_indexes); i++)
		if (strcmp(expected_indexes[i].indexname, indexname) == 0)
			return &expected_indexes[i];
	elog(ERROR, "index \"nsvault.%s\" has no expected definition", indexname);
	return NULL;
}

/* Whether index finds every row of rel by exactly the expected key columns. */
static bool
index_is_as_expected(Relation index, Relation rel, const ExpectedIndex *expected)
{
	Form_pg_index form = index->rd_index;

	if (form->indrelid != RelationGetRelid(rel) || !form->indisvalid || !form->indisunique ||
		index->rd_rel->relam != BTREE_AM_OID ||
		!heap_attisnull(index->rd_indextuple, Anum_pg_index_indpred, NULL) ||
		!heap_attisnull(index->rd_indextuple, Anum_pg_index_indexprs, NULL) ||
		IndexRelationGetNumberOfKeyAttributes(index) != expected->ncolumns)
		return false;
	for (int i = 0; i < expected->ncolumns; i++)
	{
		AttrNumber	attnum = form->indkey.values[i];

		if (attnum <= 0 || attnum > RelationGetNumberOfAttributes(rel) ||
			strcmp(NameStr(TupleDescAttr(RelationGetDescr(rel), attnum - 1)->attname),
				   expected->columns[i]) != 0)
			return false;
	}
	return true;
}

/*
 * Opens index nsvault.<indexname> of rel.  An index that is not the one
 * the extension made (of another table, not yet valid, partial, on other
 * columns or expressions, not unique, not a btree) would find wrong rows or
 * miss rows: refused.
 */
static Relation
open_index_of(Relation rel, const char *indexname)
{
	Relation	index = open_relation(indexname, RELKIND_INDEX, AccessShareLock);
	const ExpectedIndex *expected = expected_index(indexname);

	if (!index_is_as_expected(index, rel, expected))
	{
		StringInfoData columns;

		initStringInfo(&columns);
		for (int i = 0; i < expected->ncolumns; i++)
			appendStringInfo(&columns, "%s%s", i > 0 ? ", " : "(", expected->columns[i]);
		appendStringInfoChar(&columns, ')');
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("\"nsvault.%s\" is not a valid index of \"nsvault.%s\"",
						indexname, RelationGetRelationName(rel)),
				 errdetail("nsvault reads through a valid unique btree index on %s, with no predicate and no expression.",
						   columns.data),
				 errhint("Recreate the index as the extension's scripts define it.")));
	}
	return index;
}

/* Sets a key on text column i of index to value. */
static void
text_key(ScanKey key, Relation index, int i, const char *value)
{
	ScanKeyInit(key, i + 1, BTEqualStrategyNumber, F_TEXTEQ, CStringGetTextDatum(value));
	/* the index orders by its own collation: searching by another misses rows */
	key->sk_collation = index->rd_indcollation[i];
}

/* Calls on_row for each row that scan finds with keys, until it returns false. */
static void
scan_rows(IndexScanDesc scan, int nkeys, ScanKey keys, TupleTableSlot *slot,
		  IndexRowCallback on_row, int set, void *arg)
{
	index_rescan(scan, keys, nkeys, NULL, 0);
	while (index_getnext_slot(scan, ForwardScanDirection, slot))
	{
		bool		should_free;
		HeapTuple	tuple = ExecFetchSlotHeapTuple(slot, false, &should_free);
		bool		more = on_row(tuple, RelationGetDescr(scan->heapRelation), set, arg);

		if (should_free)
			heap_freetuple(tuple);
		if (!more)
			break;
	}
}

/*
 * For each of nsets key sets (nkeys values each, one after the other in
 * keys), calls on_row for every row of nsvault.<relname> whose leading text
 * columns, in the order of index nsvault.<indexname>, equal the set, until
 * on_row returns false.  Rows are those snapshot sees; tuples passed to
 * on_row live until it returns.  relname and indexname must be string
 * constants.
 */
void
nsvault_index_lookup(const char *relname, const char *indexname, int nkeys, int nsets,
					 const char *const *keys, Snapshot snapshot, IndexRowCallback on_row, void *arg)
{
	Relation	rel = open_relation(relname, RELKIND_RELATION, AccessShareLock);
	Relation	index;
	TupleTableSlot *slot;
	IndexScanDesc scan;
	ScanKeyData scankeys[LOOKUP_MAX_KEYS];

	Assert(nkeys <= LOOKUP_MAX_KEYS);
	/* asked once the lock has taken in any distribution committed before */
	if (nsvault_tables_distributed())
	{
		Oid			types[LOOKUP_MAX_KEYS] = {TEXTOID, TEXTOID};
		Datum	   *values = palloc(sizeof(Datum) * Max(nsets * nkeys, 1));

		for (int i = 0; i < nsets * nkeys; i++)
			values[i] = CStringGetTextDatum(keys[i]);
		nsvault_query_lookup(rel, expected_index(indexname)->columns, nkeys, types, nsets,
							 values, snapshot, on_row, arg);
		relation_close(rel, AccessShareLock);
		return;
	}
	index = open_index_of(rel, indexname);
	slot = table_slot_create(rel, NULL);
	/* one scan, rescanned per set: a btree scan's state is some 27 kB */
	scan = index_beginscan(rel, index, snapshot, nkeys, 0);
	for (int set = 0; set < nsets; set++)
	{
		for (int i = 0; i < nkeys; i++)
			text_key(&scankeys[i], index, i, keys[set * nkeys + i]);
		scan_rows(scan, nkeys, scankeys, slot, on_row, set, arg);
	}
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	relation_close(index, AccessShareLock);
	relation_close(rel, AccessShareLock);
}

/*
 * Calls on_row for the row of nsvault.secret_versions of one version of a
 * secret, if there is one that snapshot sees.
 */
void
nsvault_version_lookup(const char *namespace, const char *name, int32 version,
					   Snapshot snapshot, IndexRowCallback on_row, void *arg)
{
	Relation	rel = open_relation("secret_versions", RELKIND_RELATION, AccessShareLock);
	Relation	index;
	TupleTableSlot *slot;
	IndexScanDesc scan;
	ScanKeyData scankeys[3];

	/* asked once the lock has taken in any distribution committed before */
	if (nsvault_tables_distributed())
	{
		Oid			types[3] = {TEXTOID, TEXTOID, INT4OID};
		Datum		values[3] = {CStringGetTextDatum(namespace), CStringGetTextDatum(name),
		Int32GetDatum(version)};

		nsvault_query_lookup(rel, expected_index("secret_versions_pkey")->columns, 3, types, 1,
							 values, snapshot, on_row, arg);
		relation_close(rel, AccessShareLock);
		return;
	}
	index = open_index_of(rel, "secret_versions_pkey");
	slot = table_slot_create(rel, NULL);
	scan = index_beginscan(rel, index, snapshot, 3, 0);
	text_key(&scankeys[0], index, 0, namespace);
	text_key(&scankeys[1], index, 1, name);
	ScanKeyInit(&scankeys[2], 3, BTEqualStrategyNumber, F_INT4EQ, Int32GetDatum(version));
	scan_rows(scan, 3, scankeys, slot, on_row, 0, arg);
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	relation_close(index, AccessShareLock);
	relation_close(rel, AccessShareLock);
}

/*
 * Calls on_row for one row of table relid, if it has any that snapshot
 * sees (a table Citus holds: through a query, as of now).  For the
 * one-row table and the queue that are read only for their first row.
 */
void
nsvault_any_row(Oid relid, Snapshot snapshot, IndexRowCallback on_row, void *arg)
{
	Relation	rel = table_open(relid, AccessShareLock);

	/* asked once the lock has taken in any distribution committed before */
	if (nsvault_tables_distributed())
		nsvault_query_lookup(rel, NULL, 0, NULL, 1, NULL, snapshot, on_row, arg);
	else
	{
		SysScanDesc scan = systable_beginscan(rel, InvalidOid, false, snapshot, 0, NULL);
		HeapTuple	tuple = systable_getnext(scan);

		if (HeapTupleIsValid(tuple))
			on_row(tuple, RelationGetDescr(rel), 0, arg);
		systable_endscan(scan);
	}
	table_close(rel, AccessShareLock);
}
