/*-------------------------------------------------------------------------
 *
 * audit.h
 *		Recording what was done to a namespace (audit.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef NSVAULT_AUDIT_H
#define NSVAULT_AUDIT_H

#include "caller.h"

extern void audit_record(const Caller *caller, const char *namespace, const char *item,
						 const char *action, const char *detail);
extern void audit_reads(const Caller *caller, const char *namespace,
						const char *const *items, const char *const *details, int nitems,
						const char *action);

#endif							/* NSVAULT_AUDIT_H */
