/*-------------------------------------------------------------------------
 *
 * audit_queue.h
 *		Read events on their way to the audit trail: the shared queue of
 *		each database, and the background writer that empties it.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NSVAULT_AUDIT_QUEUE_H
#define NSVAULT_AUDIT_QUEUE_H

#include "storage/condition_variable.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "utils/timestamp.h"

/* One event of the audit trail. */
typedef struct AuditEvent
{
	TimestampTz at;
	const char *role;			/* the role authorized */
	const char *session_role;	/* the session's role, or NULL when it is role */
	const char *namespace;
	const char *item;			/* secret name, registry URL, or NULL */
	const char *action;
	const char *detail;			/* or NULL */
} AuditEvent;

/*
 * The queue of one database: a ring of encoded events between tail (the
 * first not yet committed to the table) and head, both counted in bytes
 * since the slot was claimed.  Readers append at head, the writer alone
 * advances tail once its transaction has committed, so [tail, head) is
 * never overwritten while the writer reads it.  Guarded by lock, except
 * that database changes only under the map lock as well.
 */
typedef struct AuditQueue
{
	LWLock	   *lock;
	Oid			database;		/* InvalidOid: the slot is free */
	uint64		head;
	uint64		tail;
	int			writer_pid;		/* 0: no writer runs */
	Latch	   *writer_latch;
	bool		writer_starting;	/* a start was asked for, not yet seen */
	TimestampTz start_requested_at;
	bool		stop_requested; /* the writer should empty the queue and exit */
	bool		closing;		/* the writer is writing its last: take no more */
	ConditionVariable changed;	/* a writer came or went, or room was made */
} AuditQueue;

/* audit_queue.c */
extern void audit_queue_shmem_register(void);
extern bool audit_queue_usable(void);
extern void audit_queue_push(const AuditEvent *events, int nevents);
extern AuditQueue *audit_queue_slot(int slot);
extern bool audit_queue_next_event(AuditQueue *queue, uint64 *pos, uint64 end,
								   AuditEvent *event);
extern bool audit_queue_filling(AuditQueue *queue);
extern bool audit_queue_release_if_empty(AuditQueue *queue);
extern void audit_queue_stop_writer(Oid database);

/* audit_writer.c */
extern bool audit_writer_start(int slot);
extern PGDLLEXPORT void nsvault_audit_writer_main(Datum main_arg);

#endif							/* NSVAULT_AUDIT_QUEUE_H */
