/*-------------------------------------------------------------------------
 *
 * spi_plans.c
 *		SPI helpers: plans prepared once per backend and kept, columns
 *		read by name, rows returned from a set-returning function.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/spi.h"
#include "catalog/namespace.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "spi_plans.h"

/* Prepares sql into *slot the first time it is needed and keeps it. */
SPIPlanPtr
nsvault_spi_plan(SPIPlanPtr *slot, const char *sql, int nargs, Oid *argtypes)
{
	if (*slot == NULL)
	{
		SPIPlanPtr	plan = SPI_prepare(sql, nargs, argtypes);

		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed for \"%s\": %s",
				 sql, SPI_result_code_string(SPI_result));
		SPI_keepplan(plan);
		*slot = plan;
	}
	return *slot;
}

/*
 * Runs plan, and fails unless SPI answers expected; failed says what could
 * not be done, and the error adds SPI's code.
 */
void
nsvault_spi_execute(SPIPlanPtr plan, Datum *args, const char *nulls, bool read_only, long count,
					int expected, const char *failed)
{
	int			result = SPI_execute_plan(plan, args, nulls, read_only, count);

	if (result != expected)
		elog(ERROR, "%s: SPI_execute_plan returned %s", failed, SPI_result_code_string(result));
}

/*
 * Connects to SPI or fails, with search_path fixed until nsvault_spi_finish:
 * nsvault's queries name their tables and functions with their schemas, but
 * an unqualified operator or cast would still be looked up in the caller's
 * search_path, and a kept plan is parsed again when search_path changes.
 * The functions that read secrets have no fixed search_path of their own
 * (set and restored on every call, it cost a read much of its time), so it
 * is fixed here, where a query runs.  Returns what nsvault_spi_finish must be given.
 */
int
nsvault_spi_connect(void)
{
	int			nestlevel = 0;
	int			result;

	if (strcmp(namespace_search_path, NSVAULT_SEARCH_PATH) != 0)
	{
		nestlevel = NewGUCNestLevel();
		(void) set_config_option("search_path", NSVAULT_SEARCH_PATH, PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
	}
	result = SPI_connect();
	if (result != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed: %s", SPI_result_code_string(result));
	return nestlevel;
}

/*
 * Disconnects from SPI and restores the search_path that nsvault_spi_connect
 * fixed.  After an error, the transaction's or subtransaction's abort
 * restores it.
 */
void
nsvault_spi_finish(int nestlevel)
{
	SPI_finish();
	if (nestlevel > 0)
		AtEOXact_GUC(true, nestlevel);
}

/*
 * Returns column name of an SPI result row, found by name so that a query
 * can change the order of its columns.
 */
Datum
nsvault_spi_datum(HeapTuple row, TupleDesc desc, const char *name, bool *isnull)
{
	int			attno = SPI_fnumber(desc, name);

	if (attno <= 0)
		elog(ERROR, "query result has no column \"%s\"", name);
	return SPI_getbinval(row, desc, attno, isnull);
}

/* Returns text column name of an SPI result row as a C string, or NULL. */
char *
nsvault_spi_text(HeapTuple row, TupleDesc desc, const char *name)
{
	bool		isnull;
	Datum		value = nsvault_spi_datum(row, desc, name, &isnull);

	return isnull ? NULL : TextDatumGetCString(value);
}

/*
 * Returns the rows of the last SPI query as the materialized result of a
 * set-returning function; when transform is given, column transform_column
 * (text) is passed through it first.
 */
void
nsvault_spi_return_rows(FunctionCallInfo fcinfo, int transform_column,
						char *(*transform) (const char *))
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	TupleDesc	desc = SPI_tuptable->tupdesc;
	Datum	   *values = palloc(sizeof(Datum) * desc->natts);
	bool	   *nulls = palloc(sizeof(bool) * desc->natts);

	for (uint64 r = 0; r < SPI_processed; r++)
	{
		for (int col = 0; col < desc->natts; col++)
			values[col] = SPI_getbinval(SPI_tuptable->vals[r], desc, col + 1, &nulls[col]);
		if (transform != NULL && !nulls[transform_column])
			values[transform_column] =
				CStringGetTextDatum(transform(TextDatumGetCString(values[transform_column])));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
}
