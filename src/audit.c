/*-------------------------------------------------------------------------
 *
 * audit.c
 *		The audit trail: who read, wrote or deleted what, and when.
 *
 * Writes, deletes, grants, revokes, rotations and namespace deletions are
 * recorded in nsvault.audit_events in the same transaction as the change:
 * one that rolls back leaves no row, one that commits always does.
 *
 * A read must be recorded whatever the reader's transaction does next, so
 * its event never joins that transaction.  With nsvault preloaded, it goes
 * through a shared-memory queue that a background writer inserts into the
 * table in its own transactions (audit_queue.c, audit_writer.c); the read
 * fails rather than return a value the queue did not take.  Without
 * preloading, and on a hot standby, it goes to the server log as a LOG
 * line, before the value is returned.  Never a value: only names.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/timestamp.h"

#include "audit.h"
#include "audit_insert.h"
#include "audit_queue.h"
#include "caller.h"
#include "guc.h"

/* Sends one event to the server log, where no table can take it. */
static void
log_event(const AuditEvent *event)
{
	StringInfoData who;

	initStringInfo(&who);
	appendStringInfo(&who, "role \"%s\"", event->role);
	if (event->session_role != NULL)
		appendStringInfo(&who, " (session role \"%s\")", event->session_role);
	ereport(LOG,
			(errmsg("nsvault audit: %s %s in namespace \"%s\"%s%s%s%s",
					who.data, event->action, event->namespace,
					event->item ? ": " : "", event->item ? event->item : "",
					event->detail ? ", " : "", event->detail ? event->detail : ""),
			 errhidestmt(true)));
}

/* Fills in what every event of one call shares. */
static AuditEvent
caller_event(const Caller *caller, const char *namespace, const char *action,
			 const char *detail)
{
	AuditEvent	event;
	Oid			session_role = caller_other_session_role(caller);

	event.at = GetCurrentTimestamp();
	event.role = GetUserNameFromId(caller->role, false);
	event.session_role = OidIsValid(session_role) ? GetUserNameFromId(session_role, false) : NULL;
	event.namespace = namespace;
	event.item = NULL;
	event.action = action;
	event.detail = detail;
	return event;
}

/*
 * Records the change the caller just made in the namespace, in the same
 * transaction; item is a secret name, a registry URL or NULL.
 */
void
audit_record(const Caller *caller, const char *namespace, const char *item,
			 const char *action, const char *detail)
{
	AuditEvent	event;

	if (!nsvault_audit)
		return;
	event = caller_event(caller, namespace, action, detail);
	/* the time of the change's transaction, as the column's default now() */
	event.at = GetCurrentTransactionStartTimestamp();
	event.item = item;
	audit_insert_events(&event, 1);
}

/*
 * Records that the caller was handed nitems values of a namespace (secret
 * names or registry URLs; details, when not NULL, says more of each), where
 * no rollback of the caller's can undo it.  Returns only once the events
 * are in the queue or the log: a read whose event cannot be taken fails.
 */
void
audit_reads(const Caller *caller, const char *namespace, const char *const *items,
			const char *const *details, int nitems, const char *action)
{
	AuditEvent *events;
	AuditEvent	shared;

	if (!nsvault_audit || nitems == 0)
		return;
	events = palloc(sizeof(AuditEvent) * nitems);
	shared = caller_event(caller, namespace, action, NULL);
	for (int i = 0; i < nitems; i++)
	{
		events[i] = shared;
		events[i].item = items[i];
		events[i].detail = details ? details[i] : NULL;
	}
	if (audit_queue_usable())
		audit_queue_push(events, nitems);
	else
	{
		for (int i = 0; i < nitems; i++)
			log_event(&events[i]);
	}
}
