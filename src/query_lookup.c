/*-------------------------------------------------------------------------
 *
 * query_lookup.c
 *		Reads the rows index_lookup.c would, through a query, for tables
 *		Citus holds.
 *
 * On a Citus node the local heap of a distributed table is an empty shell
 * (a worker) or holds rows from before the distribution (the coordinator):
 * only a query, which Citus sends to the shard that holds the namespace,
 * finds the rows.  They are handed to the same callbacks as heap tuples of
 * the table's row type, so that the callers read them as they read tuples
 * found through the index.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "query_lookup.h"
#include "spi_plans.h"

#define QUERY_PLANS_MAX 8

/* A plan per table and number of key columns, kept for the backend. */
typedef struct LookupPlan
{
	Oid			relid;
	int			nkeys;
	SPIPlanPtr	plan;
} LookupPlan;

static LookupPlan lookup_plans[QUERY_PLANS_MAX];
static int	lookup_plans_count = 0;

/*
 * The query reading rows of rel whose first nkeys columns equal $1 … $n,
 * kept for the backend (the first QUERY_PLANS_MAX of them).
 */
static SPIPlanPtr
lookup_plan(Relation rel, const char *const *columns, int nkeys, const Oid *types)
{
	StringInfoData sql;
	SPIPlanPtr	plan;

	for (int i = 0; i < lookup_plans_count; i++)
		if (lookup_plans[i].relid == RelationGetRelid(rel) && lookup_plans[i].nkeys == nkeys)
			return lookup_plans[i].plan;
	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT * FROM nsvault.%s",
					 quote_identifier(RelationGetRelationName(rel)));
	for (int i = 0; i < nkeys; i++)
		appendStringInfo(&sql, "%s%s = $%d", i > 0 ? " AND " : " WHERE ",
						 quote_identifier(columns[i]), i + 1);
	/* without keys, any one row */
	if (nkeys == 0)
		appendStringInfoString(&sql, " LIMIT 1");
	plan = SPI_prepare(sql.data, nkeys, (Oid *) types);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed for \"%s\": %s", sql.data,
			 SPI_result_code_string(SPI_result));
	if (lookup_plans_count < QUERY_PLANS_MAX)
	{
		SPI_keepplan(plan);
		lookup_plans[lookup_plans_count].relid = RelationGetRelid(rel);
		lookup_plans[lookup_plans_count].nkeys = nkeys;
		lookup_plans[lookup_plans_count].plan = plan;
		lookup_plans_count++;
	}
	return plan;
}

/*
 * Makes a tuple of rel's row type of a result row: the query returns the
 * columns that are not dropped, in order.
 */
static HeapTuple
row_as_table_tuple(Relation rel, HeapTuple row, TupleDesc row_desc)
{
	TupleDesc	desc = RelationGetDescr(rel);
	Datum	   *values = palloc(sizeof(Datum) * desc->natts);
	bool	   *nulls = palloc(sizeof(bool) * desc->natts);
	int			column = 0;

	for (int a = 0; a < desc->natts; a++)
	{
		if (TupleDescAttr(desc, a)->attisdropped)
		{
			values[a] = (Datum) 0;
			nulls[a] = true;
			continue;
		}
		if (column >= row_desc->natts)
			elog(ERROR, "a row of \"nsvault.%s\" has fewer columns than the table",
				 RelationGetRelationName(rel));
		values[a] = SPI_getbinval(row, row_desc, ++column, &nulls[a]);
	}
	return heap_form_tuple(desc, values, nulls);
}

/*
 * For each of nsets key sets (nkeys values of types each, one after the
 * other in values), calls on_row for every row of rel whose columns equal
 * the set, until it returns false for that set; with no keys, for one row
 * of rel, if it has any.  on_row runs in the caller's memory context, and
 * its tuple lives until it returns.
 */
void
nsvault_query_lookup(Relation rel, const char *const *columns, int nkeys, const Oid *types,
					 int nsets, const Datum *values, Snapshot snapshot,
					 IndexRowCallback on_row, void *arg)
{
	MemoryContext caller_context = CurrentMemoryContext;
	Oid			saved_user;
	int			saved_context;
	int			spi;
	SPIPlanPtr	plan;

	/* read as its owner, as a read through the index is, whoever calls */
	GetUserIdAndSecContext(&saved_user, &saved_context);
	SetUserIdAndSecContext(rel->rd_rel->relowner, saved_context | SECURITY_LOCAL_USERID_CHANGE);
	spi = nsvault_spi_connect();
	plan = lookup_plan(rel, columns, nkeys, types);

	for (int set = 0; set < nsets; set++)
	{
		int			result = SPI_execute_snapshot(plan, nkeys > 0 ? (Datum *) &values[set * nkeys] : NULL,
												  NULL,
												  snapshot, InvalidSnapshot, true, false, 0);
		bool		more = true;

		if (result != SPI_OK_SELECT)
			elog(ERROR, "could not read \"nsvault.%s\": SPI_execute_snapshot returned %s",
				 RelationGetRelationName(rel), SPI_result_code_string(result));
		for (uint64 r = 0; r < SPI_processed && more; r++)
		{
			HeapTuple	tuple = row_as_table_tuple(rel, SPI_tuptable->vals[r],
												   SPI_tuptable->tupdesc);
			MemoryContext spi_context = MemoryContextSwitchTo(caller_context);

			more = on_row(tuple, RelationGetDescr(rel), set, arg);
			MemoryContextSwitchTo(spi_context);
			heap_freetuple(tuple);
		}
		SPI_freetuptable(SPI_tuptable);
	}
	nsvault_spi_finish(spi);
	SetUserIdAndSecContext(saved_user, saved_context);
}
