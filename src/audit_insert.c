/*-------------------------------------------------------------------------
 *
 * audit_insert.c
 *		Inserting audit events into nsvault.audit_events: the audit writer's
 *		batches of reads, and each change a backend records.
 *
 * The table as nsvault made it is filled directly, as COPY fills a table:
 * the rows go in with table_multi_insert (one WAL record per page, not per
 * row), then each row into the table's indexes, with its NOT NULL and
 * CHECK constraints checked and its id from the identity sequence.  A
 * table a site has changed in a way that direct filling would skip (a
 * trigger or rule, a column nsvault does not fill, another type, a
 * partition or partitioned table), and a table Citus distributes, get the
 * same rows through an SPI INSERT instead, which fires triggers and fills
 * defaults as any INSERT does, and which Citus sends to the shards.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "access/tableam.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "nodes/makefuncs.h"
#include "utils/builtins.h"
#include "utils/rel.h"

#include "audit_insert.h"
#include "distribution.h"
#include "spi_plans.h"

/* Rows handed to table_multi_insert at a time, as COPY buffers them. */
#define MULTI_INSERT_ROWS	1000

/* The columns nsvault fills, by their name in the table. */
typedef enum AuditColumn
{
	COL_ID,						/* the identity: its sequence's next value */
	COL_AT,
	COL_ROLE_NAME,
	COL_SESSION_ROLE,
	COL_NAMESPACE,
	COL_SECRET_NAME,
	COL_ACTION,
	COL_DETAIL,
	NCOLUMNS
} AuditColumn;

static const struct
{
	const char *name;
	Oid			type;
}			audit_columns[NCOLUMNS] =
{
	[COL_ID] = {"id", INT8OID},
	[COL_AT] = {"at", TIMESTAMPTZOID},
	[COL_ROLE_NAME] = {"role_name", NAMEOID},
	[COL_SESSION_ROLE] = {"session_role", NAMEOID},
	[COL_NAMESPACE] = {"namespace", TEXTOID},
	[COL_SECRET_NAME] = {"secret_name", TEXTOID},
	[COL_ACTION] = {"action", TEXTOID},
	[COL_DETAIL] = {"detail", TEXTOID},
};

static SPIPlanPtr insert_plan = NULL;

/*
 * Row slots, kept from call to call: made anew for every batch, slots cost
 * as much as a small batch's rows.  They are virtual slots over a copy of
 * the table's row type, which pins nothing, and only as many as the
 * largest call has needed (the audit writer's batches: MULTI_INSERT_ROWS;
 * a backend recording its changes: one).
 */
static TupleTableSlot *row_slots[MULTI_INSERT_ROWS];
static int	row_slots_made = 0;
static TupleDesc row_slots_desc = NULL;

/*
 * Returns at least n (at most MULTI_INSERT_ROWS) kept slots, all made anew
 * when the table's row type has changed.
 */
static TupleTableSlot **
row_slots_for(Relation rel, int n)
{
	MemoryContext oldcxt;

	n = Min(n, MULTI_INSERT_ROWS);
	if (row_slots_desc != NULL && !equalTupleDescs(row_slots_desc, RelationGetDescr(rel)))
	{
		for (int i = 0; i < row_slots_made; i++)
			ExecDropSingleTupleTableSlot(row_slots[i]);
		row_slots_made = 0;
		FreeTupleDesc(row_slots_desc);
		row_slots_desc = NULL;
	}
	oldcxt = MemoryContextSwitchTo(TopMemoryContext);
	if (row_slots_desc == NULL)
		row_slots_desc = CreateTupleDescCopyConstr(RelationGetDescr(rel));
	for (; row_slots_made < n; row_slots_made++)
		row_slots[row_slots_made] = MakeSingleTupleTableSlot(row_slots_desc, &TTSOpsVirtual);
	MemoryContextSwitchTo(oldcxt);
	return row_slots;
}

/*
 * Maps each attribute of the table to the column nsvault fills there;
 * false when the table is not one nsvault may fill directly.
 */
static bool
direct_insert_map(Relation rel, AuditColumn *column_of)
{
	TupleDesc	desc = RelationGetDescr(rel);

	if (rel->rd_rel->relkind != RELKIND_RELATION || rel->rd_rel->relispartition ||
		rel->trigdesc != NULL || rel->rd_rules != NULL)
		return false;
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute attr = TupleDescAttr(desc, i);
		int			c;

		if (attr->attisdropped)
			continue;
		for (c = 0; c < NCOLUMNS; c++)
			if (strcmp(NameStr(attr->attname), audit_columns[c].name) == 0)
				break;
		if (c == NCOLUMNS || attr->atttypid != audit_columns[c].type || attr->attgenerated ||
			(c == COL_ID) != (attr->attidentity == ATTRIBUTE_IDENTITY_ALWAYS))
			return false;
		column_of[i] = c;
	}
	return true;
}

static Datum
text_or_null(const char *s, bool *isnull)
{
	*isnull = (s == NULL);
	return s ? CStringGetTextDatum(s) : (Datum) 0;
}

static Datum
name_or_null(const char *s, bool *isnull)
{
	*isnull = (s == NULL);
	return s ? DirectFunctionCall1(namein, CStringGetDatum(s)) : (Datum) 0;
}

/* Puts one event into slot, in the table's attribute order. */
static void
fill_slot(TupleTableSlot *slot, const AuditColumn *column_of, Oid id_sequence,
		  const AuditEvent *event)
{
	TupleDesc	desc = slot->tts_tupleDescriptor;

	ExecClearTuple(slot);
	for (int i = 0; i < desc->natts; i++)
	{
		Datum	   *value = &slot->tts_values[i];
		bool	   *isnull = &slot->tts_isnull[i];

		*isnull = false;
		if (TupleDescAttr(desc, i)->attisdropped)
		{
			*isnull = true;
			continue;
		}
		switch (column_of[i])
		{
			case COL_ID:
				*value = Int64GetDatum(nextval_internal(id_sequence, false));
				break;
			case COL_AT:
				*value = TimestampTzGetDatum(event->at);
				break;
			case COL_ROLE_NAME:
				*value = name_or_null(event->role, isnull);
				break;
			case COL_SESSION_ROLE:
				*value = name_or_null(event->session_role, isnull);
				break;
			case COL_NAMESPACE:
				*value = text_or_null(event->namespace, isnull);
				break;
			case COL_SECRET_NAME:
				*value = text_or_null(event->item, isnull);
				break;
			case COL_ACTION:
				*value = text_or_null(event->action, isnull);
				break;
			case COL_DETAIL:
				*value = text_or_null(event->detail, isnull);
				break;
			case NCOLUMNS:
				pg_unreachable();
		}
	}
	ExecStoreVirtualTuple(slot);
}

/* Inserts events into rel, mapped by column_of, as COPY inserts rows. */
static void
insert_directly(Relation rel, const AuditColumn *column_of, const AuditEvent *events, int n)
{
	EState	   *estate = CreateExecutorState();
	RangeTblEntry *rte = makeNode(RangeTblEntry);
	ResultRelInfo *result_rel = makeNode(ResultRelInfo);
	TupleTableSlot **slots = row_slots_for(rel, n);
	CommandId	cid = GetCurrentCommandId(true);
	Oid			id_sequence = InvalidOid;
	bool		check_constraints = RelationGetDescr(rel)->constr != NULL;

	for (int i = 0; i < RelationGetDescr(rel)->natts; i++)
		if (!TupleDescAttr(RelationGetDescr(rel), i)->attisdropped && column_of[i] == COL_ID)
			id_sequence = getIdentitySequence(RelationGetRelid(rel), i + 1, false);

	/* what ExecConstraints needs to name a failing row's relation */
	rte->rtekind = RTE_RELATION;
	rte->relid = RelationGetRelid(rel);
	rte->relkind = rel->rd_rel->relkind;
	rte->rellockmode = RowExclusiveLock;
	ExecInitRangeTable(estate, list_make1(rte));
	InitResultRelInfo(result_rel, rel, 1, NULL, 0);
	ExecOpenIndices(result_rel, false);
	estate->es_output_cid = cid;

	for (int done = 0; done < n;)
	{
		int			rows = Min(n - done, MULTI_INSERT_ROWS);

		for (int i = 0; i < rows; i++)
		{
			fill_slot(slots[i], column_of, id_sequence, &events[done + i]);
			if (check_constraints)
				ExecConstraints(result_rel, slots[i], estate);
		}
		table_multi_insert(rel, slots, rows, cid, 0, NULL);
		for (int i = 0; i < rows; i++)
		{
			ResetPerTupleExprContext(estate);
			(void) ExecInsertIndexTuples(result_rel, slots[i], estate, false, false, NULL, NIL);
		}
		done += rows;
	}

	for (int i = 0; i < Min(n, MULTI_INSERT_ROWS); i++)
		ExecClearTuple(slots[i]);
	ExecCloseIndices(result_rel);
	FreeExecutorState(estate);
}

/* A text[] or timestamptz[] of n datums, NULL where nulls says. */
static Datum
column_array(Datum *values, bool *nulls, int n, Oid type)
{
	int			dims[1] = {n};
	int			lbs[1] = {1};

	if (type == TIMESTAMPTZOID)
		return PointerGetDatum(construct_md_array(values, nulls, 1, dims, lbs, type,
												  sizeof(TimestampTz), true, TYPALIGN_DOUBLE));
	return PointerGetDatum(construct_md_array(values, nulls, 1, dims, lbs, type,
											  -1, false, TYPALIGN_INT));
}

/* Inserts events with one INSERT over arrays, as a site's triggers expect. */
static void
insert_with_spi(const AuditEvent *events, int n)
{
	/* the columns other than id, in the order of the INSERT's arrays */
	const int	ncolumns = NCOLUMNS - 1;
	Oid			types[NCOLUMNS - 1] = {TIMESTAMPTZARRAYOID, TEXTARRAYOID, TEXTARRAYOID,
	TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID};
	Datum		args[NCOLUMNS - 1];
	Datum	   *values[NCOLUMNS - 1];
	bool	   *nulls[NCOLUMNS - 1];
	int			spi;

	for (int c = 0; c < ncolumns; c++)
	{
		values[c] = palloc(sizeof(Datum) * Max(n, 1));
		nulls[c] = palloc(sizeof(bool) * Max(n, 1));
	}
	for (int i = 0; i < n; i++)
	{
		values[0][i] = TimestampTzGetDatum(events[i].at);
		nulls[0][i] = false;
		values[1][i] = text_or_null(events[i].role, &nulls[1][i]);
		values[2][i] = text_or_null(events[i].session_role, &nulls[2][i]);
		values[3][i] = text_or_null(events[i].namespace, &nulls[3][i]);
		values[4][i] = text_or_null(events[i].item, &nulls[4][i]);
		values[5][i] = text_or_null(events[i].action, &nulls[5][i]);
		values[6][i] = text_or_null(events[i].detail, &nulls[6][i]);
	}
	args[0] = column_array(values[0], nulls[0], n, TIMESTAMPTZOID);
	for (int c = 1; c < ncolumns; c++)
		args[c] = column_array(values[c], nulls[c], n, TEXTOID);

	spi = nsvault_spi_connect();
	nsvault_spi_plan(&insert_plan,
					 "INSERT INTO nsvault.audit_events"
					 " (at, role_name, session_role, namespace, secret_name, action, detail)"
					 " SELECT * FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2),"
					 " pg_catalog.unnest($3), pg_catalog.unnest($4), pg_catalog.unnest($5),"
					 " pg_catalog.unnest($6), pg_catalog.unnest($7))",
					 ncolumns, types);
	nsvault_spi_execute(insert_plan, args, NULL, false, 0, SPI_OK_INSERT,
						"could not insert audit events");
	nsvault_spi_finish(spi);
}

/* Inserts n events into nsvault.audit_events, in the current transaction. */
void
audit_insert_events(const AuditEvent *events, int n)
{
	Oid			relid = RangeVarGetRelid(makeRangeVar("nsvault", "audit_events", -1),
										 RowExclusiveLock, false);
	Relation	rel = table_open(relid, NoLock);
	AuditColumn *column_of = palloc(sizeof(AuditColumn) * Max(RelationGetDescr(rel)->natts, 1));

	/* a table Citus holds is filled through Citus, which sends rows to the shards */
	if (!nsvault_tables_distributed() && direct_insert_map(rel, column_of))
		insert_directly(rel, column_of, events, n);
	else
		insert_with_spi(events, n);
	table_close(rel, NoLock);
}
