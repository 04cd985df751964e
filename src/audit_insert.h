/*-------------------------------------------------------------------------
 *
 * audit_insert.h
 *		Inserting a batch of read events into the audit trail (audit_insert.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef NSVAULT_AUDIT_INSERT_H
#define NSVAULT_AUDIT_INSERT_H

#include "audit_queue.h"

extern void audit_insert_events(const AuditEvent *events, int n);

#endif							/* NSVAULT_AUDIT_INSERT_H */
