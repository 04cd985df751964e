/*-------------------------------------------------------------------------
 *
 * guc.h
 *		The nsvault.* configuration parameters (guc.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef NSVAULT_GUC_H
#define NSVAULT_GUC_H

extern bool nsvault_audit;
extern int	nsvault_audit_queue_size;
extern int	nsvault_audit_databases;
extern char *nsvault_keydb_server;
extern char *nsvault_keydb_admin_server;
extern int	nsvault_key_cache_seconds;
extern int	nsvault_key_cache_size;
extern int	nsvault_shared_key_cache_size;
extern int	nsvault_key_link_connect_timeout;
extern int	nsvault_key_link_keepalives;
extern int	nsvault_key_link_tcp_user_timeout;
extern int	nsvault_key_link_statement_timeout;
extern int	nsvault_key_link_idle_seconds;

extern void nsvault_guc_init(void);

#endif							/* NSVAULT_GUC_H */
