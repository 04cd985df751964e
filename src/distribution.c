/*-------------------------------------------------------------------------
 *
 * distribution.c
 *		Whether Citus holds nsvault's tables, and in which layout: as
 *		nsvault.distribute() lays them out, or in one nsvault refuses.
 *
 * Citus keeps a distributed table's rows in shards, but leaves the rows
 * the table had before on the coordinator's disk, and the table on a
 * worker is an empty shell.  nsvault reads some tables straight through
 * their indexes and fills the audit trail straight into its heap: on a
 * distributed table, both would use the local heap as if it were the
 * table, and answer a value overwritten since, or lose an audit event.
 * So every call first checks Citus's metadata (pg_dist_partition): with
 * no nsvault table in it, the tables are local and read as such; with
 * all of them as nsvault.distribute() lays them out, they are read and
 * filled through queries, which Citus routes to the shards; with anything
 * else, every call refuses.
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
#include "nodes/primnodes.h"
#include "parser/parse_relation.h"
#include "utils/builtins.h"
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

/* How nsvault.distribute() lays out each table Citus may hold of nsvault's. */
typedef enum TableLayout
{
	LAYOUT_BY_NAMESPACE,		/* hash-distributed by namespace, colocated with secrets */
	LAYOUT_REFERENCE			/* a copy on every node */
} TableLayout;

static const struct
{
	const char *relname;
	TableLayout layout;
}			distributed_tables[] = {
	{"secrets", LAYOUT_BY_NAMESPACE},
	{"secret_versions", LAYOUT_BY_NAMESPACE},
	{"grants", LAYOUT_BY_NAMESPACE},
	{"namespace_keys", LAYOUT_BY_NAMESPACE},
	{"namespace_settings", LAYOUT_BY_NAMESPACE},
	{"registries", LAYOUT_BY_NAMESPACE},
	{"audit_events", LAYOUT_BY_NAMESPACE},
	{"key_destructions", LAYOUT_BY_NAMESPACE},
	{"key_database", LAYOUT_REFERENCE},
	{"global_registries", LAYOUT_REFERENCE},
};

/* One row of pg_dist_partition, of a table of schema nsvault. */
typedef struct Distribution
{
	Oid			relid;
	char		method;			/* 'h' hash, 'n' none (reference or local), ... */
	char		replication;	/* 't' for a reference table */
	AttrNumber	column;			/* the distribution column, or 0 */
	int32		colocation;
} Distribution;

/* Whether nsvault's tables are laid out as nsvault.distribute() does. */
static bool tables_distributed = false;

/* Whether this node is Citus's coordinator (group 0), when they are. */
static bool on_coordinator = true;

/* Refuses every call: a table is distributed, and nsvault cannot read it so. */
static void
refuse_distributed(Oid relid, const char *detail)
{
	char	   *relname = get_rel_name(relid);

	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("table \"nsvault.%s\" is distributed by Citus in a layout nsvault does not know",
					relname),
			 errdetail("%s  Citus leaves a table's rows from before its distribution in the local table, so nsvault refuses every call rather than answer from it.",
					   detail),
			 errhint("Run SELECT nsvault.distribute() on the coordinator: it lays out all of nsvault's tables as nsvault reads them.")));
}

/* Reads a row of pg_dist_partition; *columns are its attribute numbers. */
static Distribution
read_distribution(HeapTuple tuple, TupleDesc desc, const AttrNumber *columns)
{
	Distribution dist = {0};
	bool		isnull;
	Datum		key;

	dist.relid = DatumGetObjectId(heap_getattr(tuple, columns[0], desc, &isnull));
	dist.method = DatumGetChar(heap_getattr(tuple, columns[1], desc, &isnull));
	dist.replication = DatumGetChar(heap_getattr(tuple, columns[2], desc, &isnull));
	dist.colocation = DatumGetInt32(heap_getattr(tuple, columns[3], desc, &isnull));
	key = heap_getattr(tuple, columns[4], desc, &isnull);
	if (!isnull)
	{
		Node	   *var = stringToNode(TextDatumGetCString(key));

		if (IsA(var, Var))
			dist.column = ((Var *) var)->varattno;
	}
	return dist;
}

/* Fails unless dist is as nsvault.distribute() lays its table out. */
static void
check_table_layout(const Distribution *dist, const char *relname, int32 colocation)
{
	int			i;

	for (i = 0; i < lengthof(distributed_tables); i++)
		if (strcmp(distributed_tables[i].relname, relname) == 0)
			break;
	if (i == lengthof(distributed_tables))
		refuse_distributed(dist->relid, "nsvault.distribute() distributes no table of that name.");
	if (distributed_tables[i].layout == LAYOUT_REFERENCE)
	{
		if (dist->method != 'n' || dist->replication != 't')
			refuse_distributed(dist->relid, "It is not a reference table.");
		return;
	}
	if (dist->method != 'h' || dist->column != get_attnum(dist->relid, "namespace"))
		refuse_distributed(dist->relid, "It is not hash-distributed by column namespace.");
	/* without a distributed secrets, the check of what is local names the fault */
	if (colocation >= 0 && dist->colocation != colocation)
		refuse_distributed(dist->relid, "It is not colocated with nsvault.secrets.");
}

/*
 * Reads the rows of pg_dist_partition of tables of schema nsvault into
 * dists; returns how many there are.
 */
static int
read_distributions(Oid partitions_relid, Oid nsvault_schema, Distribution *dists, int max)
{
	static const char *const column_names[] = {"logicalrelid", "partmethod", "repmodel",
	"colocationid", "partkey"};
	Relation	partitions = table_open(partitions_relid, AccessShareLock);
	AttrNumber	columns[lengthof(column_names)];
	SysScanDesc scan;
	HeapTuple	tuple;
	int			n = 0;

	for (int c = 0; c < lengthof(column_names); c++)
	{
		columns[c] = attnameAttNum(partitions, column_names[c], false);
		if (columns[c] == InvalidAttrNumber)
			elog(ERROR, "pg_catalog.pg_dist_partition lacks column \"%s\"", column_names[c]);
	}
	scan = systable_beginscan(partitions, InvalidOid, false, NULL, 0, NULL);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Distribution dist = read_distribution(tuple, RelationGetDescr(partitions), columns);

		if (get_rel_namespace(dist.relid) != nsvault_schema)
			continue;
		if (n == max)
			refuse_distributed(dist.relid, "nsvault.distribute() distributes no table of that name.");
		dists[n++] = dist;
	}
	systable_endscan(scan);
	table_close(partitions, AccessShareLock);
	return n;
}

/* This node's Citus group: 0 on the coordinator. */
static int32
local_group(void)
{
	Oid			relid = get_relname_relid("pg_dist_local_group", PG_CATALOG_NAMESPACE);
	Relation	rel;
	SysScanDesc scan;
	HeapTuple	tuple;
	int32		group = -1;

	if (!OidIsValid(relid))
		elog(ERROR, "pg_catalog.pg_dist_local_group is missing");
	rel = table_open(relid, AccessShareLock);
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 0, NULL);
	if (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		bool		isnull;
		AttrNumber	column = attnameAttNum(rel, "groupid", false);

		if (column != InvalidAttrNumber)
			group = DatumGetInt32(heap_getattr(tuple, column, RelationGetDescr(rel), &isnull));
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return group;
}

/*
 * Sets tables_distributed: false when Citus's metadata lists no table of
 * schema nsvault (without Citus in this database there is no
 * pg_catalog.pg_dist_partition, and this costs one cached catalog lookup),
 * true when it lists every table nsvault.distribute() lays out, each as it
 * does.  Fails otherwise.
 */
static void
check_layout(void)
{
	Oid			partitions_relid = get_relname_relid("pg_dist_partition", PG_CATALOG_NAMESPACE);
	Oid			nsvault_schema;
	Distribution dists[lengthof(distributed_tables)];
	int			n;
	int32		colocation = -1;

	tables_distributed = false;
	on_coordinator = true;
	if (!OidIsValid(partitions_relid))
		return;
	nsvault_schema = get_namespace_oid("nsvault", true);
	n = read_distributions(partitions_relid, nsvault_schema, dists, lengthof(dists));
	if (n == 0)
		return;
	for (int i = 0; i < n; i++)
		if (dists[i].relid == get_relname_relid("secrets", nsvault_schema))
			colocation = dists[i].colocation;
	for (int i = 0; i < n; i++)
		check_table_layout(&dists[i], get_rel_name(dists[i].relid), colocation);
	/* each table the layout has, where this database's nsvault has it */
	for (int t = 0; t < lengthof(distributed_tables); t++)
	{
		Oid			relid = get_relname_relid(distributed_tables[t].relname, nsvault_schema);
		bool		listed = !OidIsValid(relid);

		for (int i = 0; i < n && !listed; i++)
			listed = dists[i].relid == relid;
		if (!listed)
			refuse_distributed(dists[0].relid,
							   psprintf("Table \"nsvault.%s\" is still a local table.",
										distributed_tables[t].relname));
	}
	tables_distributed = true;
	on_coordinator = local_group() == 0;
}

/*
 * Fails unless nsvault's tables are local or laid out by
 * nsvault.distribute().  Called before each call touches a table, and
 * again once a table read directly is locked, which takes in every
 * invalidation committed before.
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

/*
 * Whether Citus holds nsvault's tables, as nsvault.distribute() laid them
 * out: their local heaps are then empty or stale, and they are read and
 * filled through queries, which Citus sends to the shards.  Fails when
 * they are distributed otherwise.
 */
bool
nsvault_tables_distributed(void)
{
	nsvault_distribution_check();
	return tables_distributed;
}

/*
 * Whether changes that Citus passes on to every node (of roles) are for
 * this node to follow in nsvault's tables: always with local tables; with
 * distributed ones only on the coordinator, where the command was given,
 * since nsvault's tables there reach every shard.
 */
bool
nsvault_follows_role_changes(void)
{
	return !nsvault_tables_distributed() || on_coordinator;
}
