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
 * A transaction whose only writes are audit rows (a plain read of secrets)
 * commits without waiting for its WAL to reach disk, unless
 * nsvault.audit_sync_reads is on: the wait would make every read cost a
 * disk flush, while the values read are sent before the commit anyway.  A
 * transaction that wrote anything else commits as configured.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "nsvault.h"

static SPIPlanPtr insert_one_plan = NULL;
static SPIPlanPtr insert_many_plan = NULL;

/*
 * Whether this transaction's only WAL so far is its audit rows, and where
 * the last one ended: any other record moves XactLastRecEnd past it.
 */
static bool only_audit_written = false;
static XLogRecPtr audit_wal_end = InvalidXLogRecPtr;
static bool xact_callback_registered = false;

/* Before commit, stops waiting for the flush of a read's audit rows. */
static void
audit_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_PRE_COMMIT && only_audit_written &&
		XactLastRecEnd == audit_wal_end && !nsvault_audit_sync_reads)
	{
		(void) set_config_option("synchronous_commit", "off",
								 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_LOCAL,
								 true, 0, false);
		elog(DEBUG1, "nsvault: only audit rows written, commit does not wait for their flush");
	}
	if (event != XACT_EVENT_PRE_COMMIT)
		only_audit_written = false;
}

/*
 * Notes, around one audit insert, whether the transaction has written
 * anything besides audit rows.
 */
static void
track_audit_only(bool before_insert)
{
	if (before_insert)
	{
		if (!TransactionIdIsValid(GetTopTransactionIdIfAny()))
			only_audit_written = true;
		else if (XactLastRecEnd != audit_wal_end)
			only_audit_written = false;
		if (!xact_callback_registered)
		{
			RegisterXactCallback(audit_xact_callback, NULL);
			xact_callback_registered = true;
		}
	}
	else
		audit_wal_end = XactLastRecEnd;
}

/* Sends one event to the server log, where the trail cannot be written. */
static void
log_event(const char *role, const char *namespace, const char *item,
		  const char *action, const char *detail)
{
	ereport(LOG,
			(errmsg("nsvault audit: role \"%s\" %s in namespace \"%s\"%s%s%s%s",
					role, action, namespace,
					item ? ": " : "", item ? item : "",
					detail ? ", " : "", detail ? detail : ""),
			 errhidestmt(true)));
}

/* A text[] of n strings, NULL ones included. */
static ArrayType *
text_array(const char *const *strings, int n)
{
	Datum	   *datums = palloc(sizeof(Datum) * n);
	bool	   *nulls = palloc(sizeof(bool) * n);
	int			dims[1] = {n};
	int			lbs[1] = {1};

	for (int i = 0; i < n; i++)
	{
		nulls[i] = strings[i] == NULL;
		datums[i] = strings[i] ? CStringGetTextDatum(strings[i]) : (Datum) 0;
	}
	return construct_md_array(datums, nulls, 1, dims, lbs, TEXTOID, -1, false, TYPALIGN_INT);
}

/*
 * Records the same action on nitems items of a namespace (a secret name or
 * registry URL each; one NULL item stands for the namespace itself), in one
 * insert.
 */
void
audit_record_items(const char *namespace, const char *const *items, int nitems,
				   const char *action, const char *detail)
{
	const char *role = GetUserNameFromId(GetOuterUserId(), false);
	Oid			argtypes[5] = {NAMEOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	Datum		args[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', detail ? ' ' : 'n'};
	SPIPlanPtr	plan;

	if (!nsvault_audit || nitems == 0)
		return;
	if (RecoveryInProgress() || XactReadOnly)
	{
		for (int i = 0; i < nitems; i++)
			log_event(role, namespace, items[i], action, detail);
		return;
	}

	args[0] = CStringGetDatum(role);
	args[1] = CStringGetTextDatum(namespace);
	args[3] = CStringGetTextDatum(action);
	args[4] = detail ? CStringGetTextDatum(detail) : (Datum) 0;
	track_audit_only(true);
	spi_connect();
	/* one item is the common case, and VALUES costs a new backend less to plan */
	if (nitems == 1)
	{
		nulls[2] = items[0] ? ' ' : 'n';
		args[2] = items[0] ? CStringGetTextDatum(items[0]) : (Datum) 0;
		plan = plan_once(&insert_one_plan,
						 "INSERT INTO nsvault.audit_events (role_name, namespace, secret_name, action, detail)"
						 " VALUES ($1, $2, $3, $4, $5)",
						 5, argtypes);
	}
	else
	{
		args[2] = PointerGetDatum(text_array(items, nitems));
		argtypes[2] = TEXTARRAYOID;
		plan = plan_once(&insert_many_plan,
						 "INSERT INTO nsvault.audit_events (role_name, namespace, secret_name, action, detail)"
						 " SELECT $1, $2, item, $4, $5 FROM pg_catalog.unnest($3) AS item",
						 5, argtypes);
	}
	if (SPI_execute_plan(plan, args, nulls, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not write the audit trail");
	SPI_finish();
	track_audit_only(false);
}

/* Records an action on a namespace; item is a secret name, a registry URL or NULL. */
void
audit_record(const char *namespace, const char *item, const char *action,
			 const char *detail)
{
	audit_record_items(namespace, &item, 1, action, detail);
}
