/*-------------------------------------------------------------------------
 *
 * guc.c
 *		The nsvault.* configuration parameters.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "miscadmin.h"
#include "utils/guc.h"

#include "guc.h"

bool		nsvault_audit = true;
int			nsvault_audit_queue_size = 1024;
int			nsvault_audit_databases = 8;
char	   *nsvault_keydb_server = NULL;
char	   *nsvault_keydb_admin_server = NULL;
int			nsvault_key_cache_seconds = 300;
int			nsvault_key_cache_size = 32768;
int			nsvault_shared_key_cache_size = 32768;
int			nsvault_key_link_connect_timeout = 10;
int			nsvault_key_link_keepalives = 10;
int			nsvault_key_link_tcp_user_timeout = 10000;
int			nsvault_key_link_statement_timeout = 10000;
int			nsvault_key_link_idle_seconds = 60;

/* which foreign servers the key link uses, and how long it may wait */
static void
define_key_link_gucs(void)
{
	DefineCustomStringVariable("nsvault.keydb_server",
							   "Foreign server (dblink_fdw) through which keys are fetched.",
							   "Its user mapping holds the key database credentials.",
							   &nsvault_keydb_server,
							   "nsvault_keydb",
							   PGC_SUSET,
							   0,
							   NULL, NULL, NULL);

	DefineCustomStringVariable("nsvault.keydb_admin_server",
							   "Foreign server (dblink_fdw) through which keys are rotated and destroyed.",
							   "Its user mapping is for a key database role granted nsvault_keys.grant_admin(); without it, rotation, namespace deletion and key destruction fail.",
							   &nsvault_keydb_admin_server,
							   "nsvault_keydb_admin",
							   PGC_SUSET,
							   0,
							   NULL, NULL, NULL);

	DefineCustomIntVariable("nsvault.key_link_connect_timeout",
							"How long opening the key link may take.",
							"A call that needs the link fails with a class 08 error after it, whatever the key server does.",
							&nsvault_key_link_connect_timeout,
							10,
							1, 3600,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("nsvault.key_link_keepalives",
							"Idle time before the key link's TCP keepalives start, and between them.",
							"After three unanswered keepalives the link is given up.",
							&nsvault_key_link_keepalives,
							10,
							1, 3600,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("nsvault.key_link_tcp_user_timeout",
							"How long data sent over the key link may stay unacknowledged.",
							"0 leaves the system's default.",
							&nsvault_key_link_tcp_user_timeout,
							10000,
							0, 3600 * 1000,
							PGC_SUSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("nsvault.key_link_statement_timeout",
							"The key server's statement_timeout for a key request.",
							NULL,
							&nsvault_key_link_statement_timeout,
							10000,
							1, 3600 * 1000,
							PGC_SUSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("nsvault.key_link_idle_seconds",
							"How long a backend keeps its key link open without using it.",
							"An idle session then holds none of the key server's connections.",
							&nsvault_key_link_idle_seconds,
							60,
							1, 24 * 3600,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);
}

static void
define_key_cache_gucs(void)
{
	DefineCustomIntVariable("nsvault.key_cache_seconds",
							"How long a backend keeps a fetched key in memory.",
							"0 fetches the key for every call and keeps nothing.",
							&nsvault_key_cache_seconds,
							300,
							0, 7 * 24 * 3600,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("nsvault.key_cache_size",
							"Most key versions a backend keeps in memory at once.",
							"Each key version in use takes one entry, about 200 bytes.",
							&nsvault_key_cache_size,
							32768,
							1, 1000000,
							PGC_SUSET,
							0,
							NULL, NULL, NULL);

	/* shared memory is only to be had while preloading */
	if (process_shared_preload_libraries_in_progress)
		DefineCustomIntVariable("nsvault.shared_key_cache_size",
								"Most key versions the server keeps in its shared key cache.",
								"Only with nsvault in shared_preload_libraries; 0 keeps a cache per backend instead.",
								&nsvault_shared_key_cache_size,
								32768,
								0, 1000000,
								PGC_POSTMASTER,
								0,
								NULL, NULL, NULL);
}

static void
define_audit_gucs(void)
{
	DefineCustomBoolVariable("nsvault.audit",
							 "Records reads, writes, deletes, grants and rotations in the audit trail.",
							 NULL,
							 &nsvault_audit,
							 true,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	/* the read audit queues live in shared memory, too */
	if (process_shared_preload_libraries_in_progress)
	{
		DefineCustomIntVariable("nsvault.audit_queue_size",
								"Room for the read events of one database on their way to the audit trail.",
								"A read fails when its database's queue stays full.",
								&nsvault_audit_queue_size,
								1024,
								64, 1024 * 1024,
								PGC_POSTMASTER,
								GUC_UNIT_KB,
								NULL, NULL, NULL);

		DefineCustomIntVariable("nsvault.audit_databases",
								"Most databases whose reads are audited at the same time.",
								"Each has an audit queue and, while it reads, an audit writer (a background worker).",
								&nsvault_audit_databases,
								8,
								1, 1024,
								PGC_POSTMASTER,
								0,
								NULL, NULL, NULL);
	}
}

/*
 * Defines the parameters.  All are superuser-only: a caller who could point
 * the key link at another foreign server, or keep keys in memory longer
 * than the administrator allows, would defeat the point of them.
 */
void
nsvault_guc_init(void)
{
	define_key_link_gucs();
	define_key_cache_gucs();
	define_audit_gucs();
	MarkGUCPrefixReserved("nsvault");
}
