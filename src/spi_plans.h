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
extern void nsvault_spi_connect(void);
extern void nsvault_spi_return_rows(FunctionCallInfo fcinfo, int transform_column,
									char *(*transform) (const char *));

#endif							/* NSVAULT_SPI_PLANS_H */
