/*-------------------------------------------------------------------------
 *
 * nsvault.h
 *		Declarations shared by the nsvault extension's modules.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NSVAULT_H
#define NSVAULT_H

#include "access/htup.h"
#include "access/tupdesc.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "nodes/pg_list.h"
#include "utils/jsonb.h"
#include "utils/snapshot.h"

#define NSVAULT_KEY_LEN			32	/* raw and derived keys: 256 bits */
#define NSVAULT_NAMESPACE_MAX	64
#define NSVAULT_SECRET_NAME_MAX	128
#define NSVAULT_VALUE_MAX		65536
#define NSVAULT_GLOBAL_NAMESPACE	"@global"	/* key namespace of global registries */
#define PGCRYPTO_LIBRARY		"$libdir/pgcrypto"	/* whose C functions crypto.c calls */

/*
 * The working keys of one version of a namespace key: the raw key from the
 * key database is never kept, only these two derived from it.
 */
typedef struct NamespaceKey
{
	int32		version;
	uint8		enc_key[NSVAULT_KEY_LEN];
	uint8		mac_key[NSVAULT_KEY_LEN];
} NamespaceKey;

typedef enum NamespacePrivilege
{
	PRIV_READ = 1,
	PRIV_WRITE = 2,
	PRIV_ADMIN = 3
} NamespacePrivilege;

/*
 * The role that called an nsvault function, and what acting as the
 * function's owner meanwhile saved (caller.c).
 */
typedef struct Caller
{
	Oid			role;			/* current_user at the call: the role authorized */
	Oid			session_role;	/* the session's current role (SET ROLE) */
	Oid			owner;			/* the function's owner, the extension's owner */
	Oid			saved_user;
	int			saved_context;
	bool		acting_as_owner;
} Caller;

/* guc.c */
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
extern void guc_init(void);

/* caller.c */
extern void caller_identify(FunctionCallInfo fcinfo, Caller *caller);
extern void caller_identify_current(Caller *caller, Oid owner);
extern void caller_act_as_owner(Caller *caller);
extern void caller_act_as_caller(Caller *caller);
extern Oid	caller_other_session_role(const Caller *caller);

/* access.c */
extern const char *privilege_name(NamespacePrivilege privilege);
extern void namespace_enter(FunctionCallInfo fcinfo, Caller *caller, const char *namespace,
							NamespacePrivilege privilege);
extern void namespace_leave(Caller *caller);
extern void grants_changed(void);
extern void grants_remove_roles(List *roles, List *role_names, const char *command);
extern char *arg_namespace_or_global(FunctionCallInfo fcinfo, int argno);

/* audit.c */
extern void audit_record(const Caller *caller, const char *namespace, const char *item,
						 const char *action, const char *detail);
extern void audit_reads(const Caller *caller, const char *namespace,
						const char *const *items, int nitems, const char *action,
						const char *detail);

/* catalog.c */
extern char *extension_schema(const char *extname);
extern bool nsvault_installed(Oid *owner);

/* utility_hook.c */
extern void utility_hook_register(void);

/* columns read straight from tuples (see nsvault--0.1.sql) */
#define Anum_secrets_ciphertext		3
#define Anum_secrets_key_version	4
#define Anum_grants_grantee			2
#define Anum_grants_level			3

/* index_lookup.c */
typedef bool (*IndexRowCallback) (HeapTuple tuple, TupleDesc desc, int set, void *arg);
extern Oid	nsvault_relation(const char *relname);
extern void index_lookup(const char *relname, const char *indexname, int nkeys, int nsets,
						 const char *const *keys, Snapshot snapshot,
						 IndexRowCallback on_row, void *arg);

/* jsonb_build.c */
extern void jsonb_push_string(JsonbParseState **state, JsonbIteratorToken token,
							  const char *s, int len);

/* spi_plans.c */
extern SPIPlanPtr plan_once(SPIPlanPtr *slot, const char *sql, int nargs,
							 Oid *argtypes);
extern void spi_connect(void);
extern void spi_return_rows(FunctionCallInfo fcinfo, int transform_column,
							char *(*transform) (const char *));

/* validate.c */
extern char *arg_namespace(FunctionCallInfo fcinfo, int argno);
extern char *arg_secret_name(FunctionCallInfo fcinfo, int argno);
extern text *arg_secret_value(FunctionCallInfo fcinfo, int argno);
extern bool arg_bool(FunctionCallInfo fcinfo, int argno, const char *what);
extern void validate_secret_name(const char *name);
extern void validate_registry_user(const char *user, int len);

/* secure_mem.c */
extern void *secure_alloc(Size size);
extern void wipe_varlena(struct varlena *value);

/* crypto.c */
extern void crypto_derive_keys(const uint8 *raw_key, NamespaceKey *key);
extern bytea *crypto_random_bytes(int nbytes);
extern bytea *crypto_seal(const NamespaceKey *key, const StringInfo aad,
						  const struct varlena *plaintext);
extern bytea *crypto_open(const NamespaceKey *key, const StringInfo aad,
						  const bytea *sealed);
extern void aad_append(StringInfo aad, const char *field);
extern int	crypto_sealed_format(const bytea *sealed);

#define SEAL_FORMAT_CURRENT		2	/* what crypto_seal writes */

/* secrets.c, registries.c: what a sealed value is bound to */
extern StringInfo secret_aad(const char *namespace, const char *name);
extern StringInfo registry_aad(int format, const char *scope, const char *namespace,
							   const char *registry, const char *url, const char *user);

/* key_cache.c */
extern NamespaceKey *key_cache_version(const char *namespace, int32 version);
extern void key_cache_forget(const char *namespace);
extern void key_cache_forget_database(void);

#endif							/* NSVAULT_H */
