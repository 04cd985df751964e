/*-------------------------------------------------------------------------
 *
 * audit_queue.c
 *		The shared queue that carries read events to the audit trail.
 *
 * A read's event must outlive whatever the reader's transaction does next,
 * so it never joins that transaction: the reader appends it to its
 * database's queue in shared memory, and a background writer of that
 * database (audit_writer.c) inserts what is queued into
 * nsvault.audit_events in its own transactions.  The reader takes no
 * transaction ID and writes no WAL for it.
 *
 * Fail closed: a read returns its value only once its events are queued
 * and a writer runs.  When the writer is not running and cannot be started,
 * or the queue stays full, within AUDIT_WAIT_MS, the read fails.
 *
 * Each database that reads gets one of nsvault.audit_databases slots, each
 * with a ring of nsvault.audit_queue_size kB.  Only a preloaded library can
 * have them; without, audit.c writes read events to the server log.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xlog.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/ipc.h"
#include "storage/shmem.h"
#include "utils/memutils.h"

#include "audit_queue.h"
#include "guc.h"

#define TRANCHE_NAME		"nsvault_audit_queue"

/* How long a read waits for a writer, or for room, before it fails. */
#define AUDIT_WAIT_MS		2000

/* A reader wakes the writer once the queue is this full (1/n); else it naps. */
#define WAKE_FRACTION		4

/*
 * An encoded event: this header, then role, session role, namespace, item,
 * action and detail, each NUL-terminated (absent ones empty), the whole
 * MAXALIGNed.  A length of 0 marks the unused end of the ring: the next
 * event starts at its beginning.
 */
typedef struct EncodedEvent
{
	uint32		len;
	uint32		flags;
	TimestampTz at;
} EncodedEvent;

#define HAS_SESSION_ROLE	0x01
#define HAS_ITEM			0x02
#define HAS_DETAIL			0x04
#define EVENT_FIELDS		6	/* role, session role, namespace, item, action, detail */
#define WRAP_MARKER			0

typedef struct AuditQueueShared
{
	LWLock	   *map_lock;		/* guards which database each slot serves */
	int			nslots;
	Size		ring_size;
	AuditQueue	slots[FLEXIBLE_ARRAY_MEMBER];
} AuditQueueShared;

static AuditQueueShared *audit_shared = NULL;
static int	my_slot = -1;		/* this backend's database's, when known */

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static Size
slots_size(void)
{
	return MAXALIGN(add_size(offsetof(AuditQueueShared, slots),
							 mul_size(nsvault_audit_databases, sizeof(AuditQueue))));
}

static Size
ring_size(void)
{
	return MAXALIGN((Size) nsvault_audit_queue_size * 1024);
}

static char *
ring_of(int slot)
{
	return (char *) audit_shared + slots_size() + slot * audit_shared->ring_size;
}

static void
audit_queue_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(add_size(slots_size(),
									mul_size(nsvault_audit_databases, ring_size())));
	RequestNamedLWLockTranche(TRANCHE_NAME, nsvault_audit_databases + 1);
}

static void
audit_queue_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	audit_shared = ShmemInitStruct("nsvault audit queues",
								   add_size(slots_size(),
											mul_size(nsvault_audit_databases, ring_size())),
								   &found);
	if (!found)
	{
		LWLockPadded *locks = GetNamedLWLockTranche(TRANCHE_NAME);

		audit_shared->map_lock = &locks[0].lock;
		audit_shared->nslots = nsvault_audit_databases;
		audit_shared->ring_size = ring_size();
		for (int i = 0; i < audit_shared->nslots; i++)
		{
			AuditQueue *queue = &audit_shared->slots[i];

			memset(queue, 0, sizeof(*queue));
			queue->lock = &locks[i + 1].lock;
			ConditionVariableInit(&queue->changed);
		}
	}
	LWLockRelease(AddinShmemInitLock);
}

/* Asks for the queues; called from _PG_init while preloading. */
void
audit_queue_shmem_register(void)
{
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = audit_queue_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = audit_queue_shmem_startup;
}

/*
 * Can read events go through the queue here?  Not without preloading, nor
 * on a hot standby, where no table can be written, nor in a single-user
 * server, which starts no background writer.
 */
bool
audit_queue_usable(void)
{
	return audit_shared != NULL && IsUnderPostmaster && !RecoveryInProgress();
}

AuditQueue *
audit_queue_slot(int slot)
{
	Assert(slot >= 0 && slot < audit_shared->nslots);
	return &audit_shared->slots[slot];
}

/* Returns the slot of this backend's database, claiming a free one if needed. */
static int
database_slot(void)
{
	int			free_slot = -1;

	if (my_slot >= 0 && audit_shared->slots[my_slot].database == MyDatabaseId)
		return my_slot;

	LWLockAcquire(audit_shared->map_lock, LW_EXCLUSIVE);
	for (int i = 0; i < audit_shared->nslots; i++)
	{
		if (audit_shared->slots[i].database == MyDatabaseId)
		{
			my_slot = i;
			break;
		}
		if (free_slot < 0 && !OidIsValid(audit_shared->slots[i].database))
			free_slot = i;
	}
	if (my_slot < 0 || audit_shared->slots[my_slot].database != MyDatabaseId)
	{
		AuditQueue *queue;

		if (free_slot < 0)
		{
			LWLockRelease(audit_shared->map_lock);
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
					 errmsg("could not record the read in the audit trail"),
					 errdetail("Every one of the %d audit queues serves another database.",
							   audit_shared->nslots),
					 errhint("Raise nsvault.audit_databases and restart the server.")));
		}
		queue = &audit_shared->slots[free_slot];
		LWLockAcquire(queue->lock, LW_EXCLUSIVE);
		queue->database = MyDatabaseId;
		queue->head = queue->tail = 0;
		queue->stop_requested = false;
		queue->closing = false;
		LWLockRelease(queue->lock);
		my_slot = free_slot;
	}
	LWLockRelease(audit_shared->map_lock);
	return my_slot;
}

/* Encodes events one after the other into a new buffer; *len gets its length. */
static char *
encode_events(const AuditEvent *events, int nevents, Size *len)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (int i = 0; i < nevents; i++)
	{
		const AuditEvent *event = &events[i];
		const char *fields[EVENT_FIELDS] = {event->role, event->session_role, event->namespace,
		event->item, event->action, event->detail};
		EncodedEvent header = {0};
		int			start = buf.len;

		header.at = event->at;
		header.flags = (event->session_role ? HAS_SESSION_ROLE : 0) |
			(event->item ? HAS_ITEM : 0) | (event->detail ? HAS_DETAIL : 0);
		appendBinaryStringInfo(&buf, (char *) &header, sizeof(header));
		for (int f = 0; f < lengthof(fields); f++)
			appendBinaryStringInfo(&buf, fields[f] ? fields[f] : "",
								   strlen(fields[f] ? fields[f] : "") + 1);
		while (buf.len % MAXIMUM_ALIGNOF != 0)
			appendStringInfoChar(&buf, '\0');
		((EncodedEvent *) (buf.data + start))->len = buf.len - start;
	}
	*len = buf.len;
	return buf.data;
}

/*
 * Bytes the encoded events take in the ring from head on, counting the
 * unused end of the ring where one would not fit.
 */
static uint64
space_needed(const char *encoded, Size len, uint64 head, Size size)
{
	uint64		end = head;

	for (Size pos = 0; pos < len;)
	{
		uint32		event_len = ((const EncodedEvent *) (encoded + pos))->len;

		if (end % size + event_len > size)
			end += size - end % size;
		end += event_len;
		pos += event_len;
	}
	return end - head;
}

/* Copies the encoded events into the ring at head; the caller holds the lock. */
static void
append_events(AuditQueue *queue, char *ring, const char *encoded, Size len)
{
	Size		size = audit_shared->ring_size;

	for (Size pos = 0; pos < len;)
	{
		uint32		event_len = ((const EncodedEvent *) (encoded + pos))->len;

		if (queue->head % size + event_len > size)
		{
			((EncodedEvent *) (ring + queue->head % size))->len = WRAP_MARKER;
			queue->head += size - queue->head % size;
		}
		memcpy(ring + queue->head % size, encoded + pos, event_len);
		queue->head += event_len;
		pos += event_len;
	}
}

static void
fail_no_writer(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("could not record the read in the audit trail"),
			 errdetail("The audit writer of this database is not running and could not be started within %d ms.",
					   AUDIT_WAIT_MS),
			 errhint("The server log tells why it did not start: all of max_worker_processes in use, say, or the database not accepting connections.")));
}

static void
fail_queue_full(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
			 errmsg("could not record the read in the audit trail"),
			 errdetail("The audit queue of this database stayed full for %d ms.", AUDIT_WAIT_MS),
			 errhint("The audit writer cannot keep up or is blocked: check nsvault.audit_events for locks, and the server log.")));
}

/*
 * Asks for a writer when none runs and no start is under way (or the last
 * one never showed up); the caller holds the queue's lock.  Returns whether
 * this backend should start it.
 */
static bool
writer_start_needed(AuditQueue *queue, TimestampTz now)
{
	if (queue->writer_pid != 0)
		return false;
	if (queue->writer_starting &&
		!TimestampDifferenceExceeds(queue->start_requested_at, now, AUDIT_WAIT_MS))
		return false;
	queue->writer_starting = true;
	queue->start_requested_at = now;
	return true;
}

/*
 * Queues events for this backend's database, in one piece.  Returns once
 * they are queued and a writer runs; fails if that takes over AUDIT_WAIT_MS.
 */
void
audit_queue_push(const AuditEvent *events, int nevents)
{
	Size		len;
	char	   *encoded = encode_events(events, nevents, &len);
	TimestampTz deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), AUDIT_WAIT_MS);

	if (len > audit_shared->ring_size / 2)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("could not record the read in the audit trail"),
				 errdetail("Its events take %zu bytes, more than half of the audit queue.", len),
				 errhint("Read fewer values in one call, or raise nsvault.audit_queue_size.")));

	for (;;)
	{
		int			slot = database_slot();
		AuditQueue *queue = &audit_shared->slots[slot];
		TimestampTz now = GetCurrentTimestamp();
		bool		start_writer = false;
		bool		queued = false;
		Latch	   *writer_latch = NULL;
		uint64		used = 0;

		LWLockAcquire(queue->lock, LW_EXCLUSIVE);
		if (queue->database != MyDatabaseId)
		{
			/* the slot was let go meanwhile: find or claim it again */
			LWLockRelease(queue->lock);
			continue;
		}
		if (queue->closing)
		{
			/* the writer was told to stop and has taken what it will write */
			LWLockRelease(queue->lock);
			fail_no_writer();
		}
		if (queue->writer_pid == 0)
			start_writer = now < deadline && writer_start_needed(queue, now);
		else if (queue->head - queue->tail +
				 space_needed(encoded, len, queue->head, audit_shared->ring_size) <=
				 audit_shared->ring_size)
		{
			append_events(queue, ring_of(slot), encoded, len);
			queued = true;
		}
		used = queue->head - queue->tail;
		writer_latch = queue->writer_latch;
		LWLockRelease(queue->lock);

		if (queued)
		{
			ConditionVariableCancelSleep();
			/* a writer that naps meanwhile is woken only when room runs short */
			if (writer_latch != NULL && used > audit_shared->ring_size / WAKE_FRACTION)
				SetLatch(writer_latch);
			pfree(encoded);
			return;
		}
		if (start_writer && !audit_writer_start(slot))
		{
			LWLockAcquire(queue->lock, LW_EXCLUSIVE);
			queue->writer_starting = false;
			LWLockRelease(queue->lock);
			fail_no_writer();
		}
		if (writer_latch != NULL)
			SetLatch(writer_latch);
		if (now >= deadline)
		{
			ConditionVariableCancelSleep();
			if (writer_latch == NULL)
				fail_no_writer();
			fail_queue_full();
		}
		ConditionVariableTimedSleep(&queue->changed, 10, PG_WAIT_EXTENSION);
	}
}

/*
 * Reads the event at *pos, which must be before end, into event (its
 * strings point into the ring) and moves *pos past it.  Returns false when
 * *pos has reached end.  Only the queue's writer calls this, on the part
 * of the ring that no reader writes to.
 */
bool
audit_queue_next_event(AuditQueue *queue, uint64 *pos, uint64 end, AuditEvent *event)
{
	Size		size = audit_shared->ring_size;
	char	   *ring = ring_of(queue - audit_shared->slots);
	const EncodedEvent *header;
	const char *field;
	const char *fields[EVENT_FIELDS];

	if (*pos < end && ((EncodedEvent *) (ring + *pos % size))->len == WRAP_MARKER)
		*pos += size - *pos % size;
	if (*pos >= end)
		return false;

	header = (const EncodedEvent *) (ring + *pos % size);
	field = (const char *) header + sizeof(EncodedEvent);
	for (int f = 0; f < lengthof(fields); f++)
	{
		fields[f] = field;
		field += strlen(field) + 1;
	}
	event->at = header->at;
	event->role = fields[0];
	event->session_role = (header->flags & HAS_SESSION_ROLE) ? fields[1] : NULL;
	event->namespace = fields[2];
	event->item = (header->flags & HAS_ITEM) ? fields[3] : NULL;
	event->action = fields[4];
	event->detail = (header->flags & HAS_DETAIL) ? fields[5] : NULL;
	*pos += header->len;
	return true;
}

/*
 * Is the queue full enough that its writer should not wait for its next
 * round?  Readers wake it at the same mark.
 */
bool
audit_queue_filling(AuditQueue *queue)
{
	uint64		used;

	LWLockAcquire(queue->lock, LW_SHARED);
	used = queue->head - queue->tail;
	LWLockRelease(queue->lock);
	return used > audit_shared->ring_size / WAKE_FRACTION;
}

/*
 * Lets the writer's slot go if nothing is queued, so that another database
 * may use it; returns whether it did.  A reader that comes later claims a
 * slot again and starts a new writer.
 */
bool
audit_queue_release_if_empty(AuditQueue *queue)
{
	bool		released = false;

	LWLockAcquire(audit_shared->map_lock, LW_EXCLUSIVE);
	LWLockAcquire(queue->lock, LW_EXCLUSIVE);
	if (queue->head == queue->tail)
	{
		queue->database = InvalidOid;
		queue->writer_pid = 0;
		queue->writer_latch = NULL;
		queue->writer_starting = false;
		queue->stop_requested = false;
		released = true;
	}
	LWLockRelease(queue->lock);
	LWLockRelease(audit_shared->map_lock);
	if (released)
		ConditionVariableBroadcast(&queue->changed);
	return released;
}

/*
 * Asks the writer of a database to empty its queue and exit: commands such
 * as DROP DATABASE refuse to run while anything is connected to it.
 */
void
audit_queue_stop_writer(Oid database)
{
	Latch	   *writer_latch = NULL;

	if (audit_shared == NULL || !OidIsValid(database))
		return;
	LWLockAcquire(audit_shared->map_lock, LW_SHARED);
	for (int i = 0; i < audit_shared->nslots; i++)
	{
		AuditQueue *queue = &audit_shared->slots[i];

		if (queue->database != database)
			continue;
		LWLockAcquire(queue->lock, LW_EXCLUSIVE);
		queue->stop_requested = true;
		writer_latch = queue->writer_latch;
		LWLockRelease(queue->lock);
	}
	LWLockRelease(audit_shared->map_lock);
	if (writer_latch != NULL)
		SetLatch(writer_latch);
}
