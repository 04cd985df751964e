/*-------------------------------------------------------------------------
 *
 * key_destroyer.c
 *		The background worker that destroys retired key versions after the
 *		transaction that retired them committed.
 *
 * delete_namespace and destroy_key_version queue what they retire in
 * nsvault.key_destructions, in their transaction; when it commits, a
 * destroyer of that database starts, asks the key database to destroy the
 * versions, and deletes each row once its destruction is done.  Destroying
 * is idempotent, so a crash between the two only repeats it.  A row left
 * behind by a crash, a restart or a key server that stayed down is taken
 * up by a destroyer that the database's next key fetch or write starts.
 *
 * While the key server cannot be reached (or is not the one this database
 * is linked to) it tries again every DESTROYER_RETRY_MS, DESTROYER_TRIES
 * times in all, then exits, logging why: a worker that lingered would keep
 * DROP DATABASE waiting, and a later key fetch or write starts another.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/backend_status.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/snapmgr.h"

#include "catalog.h"
#include "distribution.h"
#include "index_lookup.h"
#include "key_cache.h"
#include "key_lifecycle.h"
#include "keydb.h"
#include "spi_plans.h"

#define DESTROYER_RETRY_MS	1000
#define DESTROYER_TRIES		3
#define DESTROYER_BATCH		100		/* rows per transaction */
#define DESTROYER_TYPE		"nsvault key destroyer"

static SPIPlanPtr pending_plan = NULL;
static SPIPlanPtr done_plan = NULL;

/*
 * Asks the postmaster for a destroyer of this backend's database; logs a
 * warning when no background worker slot is free (the next key fetch or
 * write tries again).  Safe at commit: it raises no error.
 */
void
key_destroyer_start(void)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	snprintf(worker.bgw_name, BGW_MAXLEN, "nsvault key destroyer for database %u", MyDatabaseId);
	snprintf(worker.bgw_type, BGW_MAXLEN, DESTROYER_TYPE);
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "nsvault");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "nsvault_key_destroyer_main");
	worker.bgw_main_arg = ObjectIdGetDatum(MyDatabaseId);
	if (!RegisterDynamicBackgroundWorker(&worker, NULL))
		ereport(WARNING,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("could not start the nsvault key destroyer"),
				 errdetail("No background worker slot is free.  Retired key versions stay queued in nsvault.key_destructions until a key fetch or write in this database starts it."),
				 errhint("Raise max_worker_processes.")));
}

/*
 * Tells the destroyers connected to a database to exit: DROP DATABASE and
 * its kin wait for every connection to it.  What they leave queued, a
 * later one does.
 */
void
key_destroyer_stop(Oid database)
{
	int			backends = pgstat_fetch_stat_numbackends();

	for (int i = 1; i <= backends; i++)
	{
		PgBackendStatus *status = &pgstat_fetch_stat_local_beentry(i)->backendStatus;
		const char *type;

		if (status->st_databaseid != database || status->st_backendType != B_BG_WORKER)
			continue;
		type = GetBackgroundWorkerTypeByPid(status->st_procpid);
		if (type != NULL && strcmp(type, DESTROYER_TYPE) == 0)
			(void) kill(status->st_procpid, SIGTERM);
	}
}

/*
 * Destroys the versions of one queued row and deletes it, acting as the
 * extension's owner (whose user mapping reaches the key database).
 */
static void
destroy_row(HeapTuple row, TupleDesc desc)
{
	bool		isnull;
	Datum		id = nsvault_spi_datum(row, desc, "id", &isnull);
	char	   *namespace = nsvault_spi_text(row, desc, "namespace");
	int32		first = DatumGetInt32(nsvault_spi_datum(row, desc, "first_version", &isnull));
	int32		last = DatumGetInt32(nsvault_spi_datum(row, desc, "last_version", &isnull));
	Oid			argtypes[2] = {TEXTOID, INT8OID};
	Datum		args[2] = {CStringGetTextDatum(namespace), id};
	pg_uuid_t	identity;
	KeyAnswer	answer;

	/* retiring recorded it; without one, the key server's own will do */
	if (!key_link_identity(&identity))
	{
		keydb_describe(NULL, &answer);
		identity = answer.identity;
	}
	keydb_destroy_versions(&identity, namespace, first, last, &answer);
	key_link_check(&answer);
	key_cache_forget(namespace);

	/* by the whole key: Citus sends it to the namespace's shard */
	nsvault_spi_plan(&done_plan,
					 "DELETE FROM nsvault.key_destructions WHERE namespace = $1 AND id = $2",
					 2, argtypes);
	nsvault_spi_execute(done_plan, args, NULL, false, 0, SPI_OK_DELETE,
						"could not delete a done key destruction");
	ereport(LOG,
			(errmsg("nsvault destroyed %d key versions of namespace \"%s\" (versions %d to %d)",
					answer.version, namespace, first, last)));
}

/*
 * Works through up to DESTROYER_BATCH queued rows in one transaction;
 * returns how many it found.  Errors propagate.
 */
static uint64
destroy_batch(void)
{
	Oid			owner;
	Oid			saved_user;
	int			saved_context;
	uint64		found = 0;
	SPITupleTable *rows;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "destroying retired key versions");
	if (nsvault_installed(&owner))
	{
		int			spi;

		nsvault_distribution_check();
		GetUserIdAndSecContext(&saved_user, &saved_context);
		SetUserIdAndSecContext(owner, saved_context | SECURITY_LOCAL_USERID_CHANGE);
		spi = nsvault_spi_connect();
		nsvault_spi_plan(&pending_plan,
						 "SELECT id, namespace, first_version, last_version"
						 " FROM nsvault.key_destructions ORDER BY id LIMIT " CppAsString2(DESTROYER_BATCH),
						 0, NULL);
		nsvault_spi_execute(pending_plan, NULL, NULL, false, 0, SPI_OK_SELECT,
							"could not read the queued key destructions");
		found = SPI_processed;
		rows = SPI_tuptable;
		for (uint64 r = 0; r < found; r++)
			destroy_row(rows->vals[r], rows->tupdesc);
		/* backends with a cache of their own drop it at this commit */
		if (found > 0)
			CacheInvalidateRelcacheByRelid(nsvault_relation("key_destructions"));
		nsvault_spi_finish(spi);
		SetUserIdAndSecContext(saved_user, saved_context);
	}
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
	return found;
}

/* Destroys everything queued; false when a try failed (it was logged). */
static bool
destroy_queued(void)
{
	volatile bool done = false;

	PG_TRY();
	{
		while (destroy_batch() == DESTROYER_BATCH)
			CHECK_FOR_INTERRUPTS();
		done = true;
	}
	PG_CATCH();
	{
		HOLD_INTERRUPTS();
		EmitErrorReport();
		AbortCurrentTransaction();
		FlushErrorState();
		RESUME_INTERRUPTS();
	}
	PG_END_TRY();
	return done;
}

/* Entry point of the destroyer of the database main_arg. */
void
nsvault_key_destroyer_main(Datum main_arg)
{
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(DatumGetObjectId(main_arg), InvalidOid, 0);
	SetConfigOption("search_path", NSVAULT_SEARCH_PATH, PGC_SUSET, PGC_S_OVERRIDE);

	/* one destroyer at a time: a later one waits, then finds what is left */
	key_destroyer_lock();
	for (int tries = 1; !destroy_queued(); tries++)
	{
		if (tries == DESTROYER_TRIES)
		{
			ereport(LOG,
					(errmsg("nsvault key destroyer gives up after %d tries", tries),
					 errdetail("Retired key versions stay queued in nsvault.key_destructions; the next key fetch or write in this database starts a destroyer again.")));
			break;
		}
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 DESTROYER_RETRY_MS, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
	proc_exit(0);
}
