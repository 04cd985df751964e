/*-------------------------------------------------------------------------
 *
 * listing.h
 *		The common body of the functions that list a namespace's items
 *		(listing.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef NSVAULT_LISTING_H
#define NSVAULT_LISTING_H

#include "executor/spi.h"
#include "fmgr.h"

extern void listing_return_rows(FunctionCallInfo fcinfo, const char *namespace,
								const char *name, SPIPlanPtr *plan, const char *sql,
								int transform_column, char *(*transform) (const char *value));

#endif							/* NSVAULT_LISTING_H */
