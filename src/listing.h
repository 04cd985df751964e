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

/* One listing: its query, and the text column a transform rewrites (or -1). */
typedef struct Listing
{
	SPIPlanPtr *plan;			/* where the prepared plan is kept */
	const char *sql;			/* $1, when there is one, is the namespace */
	int			nargs;			/* 0 or 1 */
	int			transform_column;
	char	   *(*transform) (const char *value);
} Listing;

extern void listing_return_rows(FunctionCallInfo fcinfo, const char *namespace,
								const Listing *listing);

#endif							/* NSVAULT_LISTING_H */
