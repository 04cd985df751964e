/*-------------------------------------------------------------------------
 *
 * audit_writer.c
 *		The background worker that moves one database's queued read events
 *		into nsvault.audit_events.
 *
 * A reader starts the writer of its database when none runs.  The writer
 * inserts what is queued in one transaction a round, commits it (never
 * without waiting for the flush, so a commit is on disk), and only then
 * frees that part of the queue.  Between rounds it naps WRITER_NAP_MS, so
 * an event reaches the table within about that long; when the queue fills
 * up, a reader wakes it sooner and it goes on without napping.  Few rounds
 * mean few commits, each a disk flush.  After WRITER_IDLE_MS
 * without events, or when asked to (DROP DATABASE and its kin wait for
 * every connection to a database to end), it lets its slot go and exits.
 * Told to stop (SIGTERM: a server shutdown, pg_terminate_backend), it first
 * writes what is queued, so that a clean shutdown loses no event.
 *
 * An error (the table locked away, a trigger failing) ends the writer with
 * the events still queued; the next read starts a new one, which tries
 * again, and reads fail while the queue stays full.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/snapmgr.h"

#include "audit_insert.h"
#include "audit_queue.h"
#include "spi_plans.h"

#define WRITER_NAP_MS		200
#define WRITER_IDLE_MS		30000
#define WRITER_BATCH_MAX	10000	/* events per transaction */

/*
 * Asks the postmaster to start the writer of a queue slot for this
 * backend's database; false when no background worker slot is free.
 */
bool
audit_writer_start(int slot)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	snprintf(worker.bgw_name, BGW_MAXLEN, "nsvault audit writer for database %u", MyDatabaseId);
	snprintf(worker.bgw_type, BGW_MAXLEN, "nsvault audit writer");
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "nsvault");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "nsvault_audit_writer_main");
	worker.bgw_main_arg = Int32GetDatum(slot);
	memcpy(worker.bgw_extra, &MyDatabaseId, sizeof(Oid));
	return RegisterDynamicBackgroundWorker(&worker, NULL);
}

/* Becomes the writer of queue, unless it serves another database or has one. */
static bool
writer_attach(AuditQueue *queue, Oid database)
{
	bool		attached = false;

	LWLockAcquire(queue->lock, LW_EXCLUSIVE);
	if (queue->database == database && queue->writer_pid == 0)
	{
		queue->writer_pid = MyProcPid;
		queue->writer_latch = MyLatch;
		queue->writer_starting = false;
		queue->closing = false;
		attached = true;
	}
	LWLockRelease(queue->lock);
	ConditionVariableBroadcast(&queue->changed);
	return attached;
}

/* At exit, however it comes: the queue has no writer any more. */
static void
writer_detach(int code, Datum arg)
{
	AuditQueue *queue = (AuditQueue *) DatumGetPointer(arg);

	LWLockAcquire(queue->lock, LW_EXCLUSIVE);
	if (queue->writer_pid == MyProcPid)
	{
		queue->writer_pid = 0;
		queue->writer_latch = NULL;
		queue->closing = false;
	}
	LWLockRelease(queue->lock);
	ConditionVariableBroadcast(&queue->changed);
}

/*
 * Inserts the events queued in [start, end), at most WRITER_BATCH_MAX of
 * them, in the current transaction; returns where the next one starts.
 * The events' strings point into the queue, whose room is freed only after
 * the commit.
 */
static uint64
insert_events(AuditQueue *queue, uint64 start, uint64 end)
{
	uint64		pos = start;
	/* no event is shorter than its header and six NULs */
	int			most = Min(WRITER_BATCH_MAX, (end - start) / 24 + 1);
	AuditEvent *events = palloc(sizeof(AuditEvent) * most);
	int			n = 0;

	while (n < most && audit_queue_next_event(queue, &pos, end, &events[n]))
		n++;
	audit_insert_events(events, n);
	pfree(events);
	return pos;
}

/*
 * Writes one transaction's worth of queued events and frees their room;
 * returns false when nothing was queued.
 */
static bool
write_batch(AuditQueue *queue)
{
	uint64		start;
	uint64		end;
	uint64		next;

	LWLockAcquire(queue->lock, LW_SHARED);
	start = queue->tail;
	end = queue->head;
	LWLockRelease(queue->lock);
	if (start == end)
		return false;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "inserting queued audit events");
	next = insert_events(queue, start, end);
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);

	LWLockAcquire(queue->lock, LW_EXCLUSIVE);
	queue->tail = next;
	LWLockRelease(queue->lock);
	ConditionVariableBroadcast(&queue->changed);
	return true;
}

/*
 * Writes what is queued, and closes the queue to readers at the same
 * moment: a read still running during a shutdown either queued its event
 * before (and it is written) or is refused, never acknowledged unrecorded.
 */
static void
write_queued_now(AuditQueue *queue)
{
	uint64		head;
	uint64		tail;

	LWLockAcquire(queue->lock, LW_EXCLUSIVE);
	queue->closing = true;
	head = queue->head;
	LWLockRelease(queue->lock);
	do
	{
		if (!write_batch(queue))
			break;
		LWLockAcquire(queue->lock, LW_SHARED);
		tail = queue->tail;
		LWLockRelease(queue->lock);
	} while (tail < head);
}

/* Entry point of the writer of queue slot main_arg. */
void
nsvault_audit_writer_main(Datum main_arg)
{
	AuditQueue *queue = audit_queue_slot(DatumGetInt32(main_arg));
	Oid			database;
	TimestampTz last_event;
	bool		stop;

	memcpy(&database, MyBgworkerEntry->bgw_extra, sizeof(Oid));
	pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(database, InvalidOid, 0);

	if (!writer_attach(queue, database))
		proc_exit(0);
	before_shmem_exit(writer_detach, PointerGetDatum(queue));

	SetConfigOption("search_path", NSVAULT_SEARCH_PATH, PGC_SUSET, PGC_S_OVERRIDE);
	/* a commit is on disk before the room of its events is freed */
	if (synchronous_commit == SYNCHRONOUS_COMMIT_OFF)
		SetConfigOption("synchronous_commit", "local", PGC_SUSET, PGC_S_OVERRIDE);

	last_event = GetCurrentTimestamp();
	for (;;)
	{
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		/* one transaction a round, more only while readers are short of room */
		while (!ShutdownRequestPending && write_batch(queue))
		{
			last_event = GetCurrentTimestamp();
			if (!audit_queue_filling(queue))
				break;
		}
		if (ShutdownRequestPending)
		{
			write_queued_now(queue);
			proc_exit(0);
		}

		LWLockAcquire(queue->lock, LW_SHARED);
		stop = queue->stop_requested;
		LWLockRelease(queue->lock);
		if ((stop || TimestampDifferenceExceeds(last_event, GetCurrentTimestamp(), WRITER_IDLE_MS)) &&
			audit_queue_release_if_empty(queue))
			proc_exit(0);

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 WRITER_NAP_MS, PG_WAIT_EXTENSION);
	}
}
