/*-------------------------------------------------------------------------
 *
 * spi_plans.h
 *		SPI helpers: saved plans, connecting, returning rows (spi_plans.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef NSVAULT_SPI_PLANS_H
#define NSVAULT_SPI_PLANS_H

#include "executor/spi.h"
#include "fmgr.h"

extern SPIPlanPtr nsvault_spi_plan(SPIPlanPtr *slot, const char *sql, int nargs,
								   Oid *argtypes);
/* what nsvault's queries run under, and its functions declare */
#define NSVAULT_SEARCH_PATH "pg_catalog, pg_temp"

extern int	nsvault_spi_connect(void);
extern void nsvault_spi_finish(int nestlevel);
extern void nsvault_spi_execute(SPIPlanPtr plan, Datum *args, const char *nulls,
								bool read_only, long count, int expected, const char *failed);
extern Datum nsvault_spi_datum(HeapTuple row, TupleDesc desc, const char *name,
							   bool *isnull);
extern char *nsvault_spi_text(HeapTuple row, TupleDesc desc, const char *name);
extern void nsvault_spi_return_rows(FunctionCallInfo fcinfo, int transform_column,
									char *(*transform) (const char *));

#endif							/* NSVAULT_SPI_PLANS_H */
