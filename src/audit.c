/*-------------------------------------------------------------------------
 *
 * audit.c
 *		The audit trail: who read, wrote or deleted what, and when.
 *
 * Rows go into nsvault.audit_events in the same transaction as the action,
 * so an action that rolls back leaves no row, and one that commits always
 * does.  A hot standby, or a read-only transaction, cannot write: there
 * each event goes to the server log as a LOG line instead.  Never a value:
 * only names.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "nsvault.h"

static SPIPlanPtr insert_plan = NULL;

/* Records an action on a namespace; item is a secret name or registry URL. */
void
audit_record(const char *namespace, const char *item, const char *action,
			 const char *detail)
{
	const char *role = GetUserNameFromId(GetOuterUserId(), false);
	Oid			argtypes[5] = {NAMEOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	Datum		args[5];
	char		nulls[5] = {' ', ' ', item ? ' ' : 'n', ' ', detail ? ' ' : 'n'};

	if (!nsvault_audit)
		return;
	if (RecoveryInProgress() || XactReadOnly)
	{
		ereport(LOG,
				(errmsg("nsvault audit: role \"%s\" %s in namespace \"%s\"%s%s%s%s",
						role, action, namespace,
						item ? ": " : "", item ? item : "",
						detail ? ", " : "", detail ? detail : ""),
				 errhidestmt(true)));
		return;
	}

	args[0] = CStringGetDatum(role);
	args[1] = CStringGetTextDatum(namespace);
	args[2] = item ? CStringGetTextDatum(item) : (Datum) 0;
	args[3] = CStringGetTextDatum(action);
	args[4] = detail ? CStringGetTextDatum(detail) : (Datum) 0;
	spi_connect();
	plan_once(&insert_plan,
			  "INSERT INTO nsvault.audit_events (role_name, namespace, secret_name, action, detail)"
			  " VALUES ($1, $2, $3, $4, $5)",
			  5, argtypes);
	if (SPI_execute_plan(insert_plan, args, nulls, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not write the audit trail");
	SPI_finish();
}
