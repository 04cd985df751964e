/*-------------------------------------------------------------------------
 *
 * listing.c
 *		The common body of the functions that list a namespace's items:
 *		the access check, the query, the rows returned.  Listings never
 *		return a value or token, so they are not audited as reads.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "utils/builtins.h"

#include "access.h"
#include "caller.h"
#include "listing.h"
#include "secrets.h"
#include "spi_plans.h"

/*
 * Returns, as the materialized result of a set-returning function, the rows
 * of sql (prepared once into *plan; $1, when it uses it, is namespace) for a
 * caller who may read namespace.  With a secret's name, sql lists what the
 * secret has ($2 is the name), and no row means there is no such secret.
 * Text column transform_column, when transform is given, is passed through
 * it.
 */
void
listing_return_rows(FunctionCallInfo fcinfo, const char *namespace, const char *name,
					SPIPlanPtr *plan, const char *sql, int transform_column,
					char *(*transform) (const char *value))
{
	int			spi;
	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	Datum		args[2];
	Caller		caller;

	access_namespace_enter(fcinfo, &caller, namespace, PRIV_READ);
	InitMaterializedSRF(fcinfo, 0);
	args[0] = CStringGetTextDatum(namespace);
	args[1] = name ? CStringGetTextDatum(name) : (Datum) 0;
	spi = nsvault_spi_connect();
	nsvault_spi_plan(plan, sql, name ? 2 : 1, argtypes);
	nsvault_spi_execute(*plan, args, NULL, true, 0, SPI_OK_SELECT, "could not run a listing query");
	if (name != NULL && SPI_processed == 0)
		secrets_report_missing(namespace, name);
	nsvault_spi_return_rows(fcinfo, transform_column, transform);
	nsvault_spi_finish(spi);
	access_namespace_leave(&caller);
}
