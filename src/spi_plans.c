/*-------------------------------------------------------------------------
 *
 * spi_plans.c
 *		SPI plans prepared once per backend and kept.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/spi.h"
#include "funcapi.h"
#include "utils/builtins.h"

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

/* Connects to SPI or fails. */
void
nsvault_spi_connect(void)
{
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
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
