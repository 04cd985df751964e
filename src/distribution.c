/*-------------------------------------------------------------------------
 *
 * distribution.c
 *		Refuses to work on nsvault's tables once Citus has distributed any
 *		of them in a layout nsvault does not know.
 *
 * Citus keeps a distributed table's rows in shards, but leaves the rows
 * the table had before on the coordinator's disk, and the table on a
 * worker is an empty shell.  nsvault reads some tables straight through
 * their indexes and fills the audit trail straight into its heap: on a
 * distributed table, both would use the local heap as if it were the
 * table, and answer a value overwritten since, or lose an audit event.
 * So every call that touches a table first checks that no nsvault table
 * is in Citus's metadata (pg_dist_partition).
 *
 * The answer is kept for the backend until a relation cache invalidation
 * arrives: Citus invalidates a table's relation cache entry whenever its
 * row in pg_dist_partition changes, and sends it when that change commits.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "parser/parse_relation.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "distribution.h"

static bool layout_checked = false;

static void
relations_changed(Datum arg, Oid relid)
{
	layout_checked = false;
}

/* What Citus's partition method letter means, for the error. */
static const char *
distribution_kind(char method)
{
	switch (method)
	{
		case 'h':
			return "hash-distributed";
		case 'n':
			return "a reference table or a Citus local table";
		case 'a':
			return "append-distributed";
		case 'r':
			return "range-distributed";
		default:
			return "in Citus's metadata";
	}
}

/* Refuses every call: relid, an nsvault table, is in pg_dist_partition. */
static void
refuse_distributed(Oid relid, char method)
{
	char	   *relname = get_rel_name(relid);

	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("table \"nsvault.%s\" is distributed by Citus in a layout nsvault does not know",
					relname),
			 errdetail("The table is %s.  Citus leaves a table's rows from before its distribution in the local table, so nsvault refuses every call rather than answer from it.",
					   distribution_kind(method)),
			 errhint("Distribute nsvault's tables only with SELECT nsvault.distribute(), which sets all of them up in the layout nsvault reads.")));
}

/*
 * Fails when Citus's metadata lists any table of schema nsvault.  Without
 * Citus in this database there is no pg_catalog.pg_dist_partition, and
 * this costs one cached catalog lookup.
 */
static void
check_layout(void)
{
	Oid			partitions_relid = get_relname_relid("pg_dist_partition", PG_CATALOG_NAMESPACE);
	Oid			nsvault_schema;
	Relation	partitions;
	SysScanDesc scan;
	HeapTuple	tuple;
	AttrNumber	relid_column;
	AttrNumber	method_column;

	if (!OidIsValid(partitions_relid))
		return;
	nsvault_schema = get_namespace_oid("nsvault", true);
	partitions = table_open(partitions_relid, AccessShareLock);
	relid_column = attnameAttNum(partitions, "logicalrelid", false);
	method_column = attnameAttNum(partitions, "partmethod", false);
	if (relid_column == InvalidAttrNumber || method_column == InvalidAttrNumber)
		elog(ERROR, "pg_catalog.pg_dist_partition lacks the columns Citus gives it");
	scan = systable_beginscan(partitions, InvalidOid, false, NULL, 0, NULL);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		bool		isnull;
		Oid			relid = DatumGetObjectId(heap_getattr(tuple, relid_column,
														  RelationGetDescr(partitions), &isnull));
		char		method;

		if (isnull || get_rel_namespace(relid) != nsvault_schema)
			continue;
		method = DatumGetChar(heap_getattr(tuple, method_column,
										   RelationGetDescr(partitions), &isnull));
		refuse_distributed(relid, isnull ? '\0' : method);
	}
	systable_endscan(scan);
	table_close(partitions, AccessShareLock);
}

/*
 * Fails unless nsvault's tables are local, as nsvault reads them.  Called
 * before each call touches a table, and again once the table is locked,
 * which takes in every invalidation committed before.
 */
void
nsvault_distribution_check(void)
{
	static bool callback_registered = false;

	if (!callback_registered)
	{
		CacheRegisterRelcacheCallback(relations_changed, (Datum) 0);
		callback_registered = true;
	}
	AcceptInvalidationMessages();
	if (layout_checked)
		return;
	check_layout();
	layout_checked = true;
}
