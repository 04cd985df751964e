/*
 * nsvault.h — declarations shared by the nsvault client's modules.
 */
#ifndef NSVAULT_CLIENT_H
#define NSVAULT_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include <jansson.h>
#include <libpq-fe.h>

/*
 * The version of the client's programs: the distribution's, META.json's
 * "version", which client/Makefile passes as -DNSVAULT_CLIENT_VERSION.
 */
#ifndef NSVAULT_CLIENT_VERSION
#error "NSVAULT_CLIENT_VERSION is not defined: client/Makefile passes META.json's version"
#endif

/* exit statuses */
#define EXIT_OK			0
#define EXIT_FAIL		1
#define EXIT_USAGE		2
#define EXIT_NOT_FOUND	3
#define EXIT_CONFLICT	4		/* a check-and-set found another version */

extern const char *progname;

/* report.c; each program defines progname */
extern void die(int status, const char *fmt,...) __attribute__((format(printf, 2, 3), noreturn));
extern void warn(const char *fmt,...) __attribute__((format(printf, 1, 2)));
extern void check_output_on_exit(void);

/* connection.c */
typedef struct DbError
{
	int			status;			/* EXIT_NOT_FOUND for a missing secret, EXIT_CONFLICT
								 * for a check-and-set that failed, else EXIT_FAIL */
	bool		expired;		/* the secret is past its expires_at */
	char		sqlstate[6];	/* the server's, or "" */
	char		message[1024];
} DbError;

/* built-in types of the answers; their OIDs are fixed in every release */
#define DB_TYPE_BOOL		16
#define DB_TYPE_NAME		19
#define DB_TYPE_INT4		23
#define DB_TYPE_TEXT		25
#define DB_TYPE_TIMESTAMPTZ	1184
#define DB_TYPE_VOID		2278
#define DB_TYPE_JSONB		3802

/* the SQLSTATEs nsvault answers that the client tells apart */
#define DB_SQLSTATE_NOT_FOUND	"P0002"
#define DB_SQLSTATE_CONFLICT	"40001"
#define DB_SQLSTATE_EXPIRED		"55V01"
#define DB_SQLSTATE_UNDEFINED_FUNCTION	"42883"
#define DB_SQLSTATE_INSUFFICIENT_PRIVILEGE	"42501"
#define DB_SQLSTATE_BAD_DATETIME	"22007"
#define DB_SQLSTATE_DATETIME_OVERFLOW	"22008"

#define DB_ANY_ROWS		(-1)
#define DB_AT_MOST_ONE_ROW	(-2)
#define DB_MAX_COLUMNS	8

/* The answer a call must give; NULL is expected only in a void or nullable column. */
typedef struct DbShape
{
	const char *function;		/* named in messages: "nsvault.get_secret" */
	int			rows;			/* exact count, DB_ANY_ROWS or DB_AT_MOST_ONE_ROW */
	int			columns;
	Oid			types[DB_MAX_COLUMNS];
	unsigned	nullable;		/* DB_NULLABLE(col) of each column that may be NULL */
} DbShape;

#define DB_NULLABLE(col)	(1u << (col))

extern PGconn *db_connect(const char *conninfo, DbError *error);
extern bool db_answer_ok(PGconn *conn, PGresult *res, const DbShape *shape,
						 DbError *error);
extern PGresult *db_call(PGconn *conn, const char *sql, int nparams,
						 const char *const *values, const DbShape *shape,
						 DbError *error);
extern void db_wipe_result(PGresult *res);
extern char *db_text_array(const char *const *items, size_t n);

/* nsvault.get_secrets(namespace, names), and the answer it must give */
#define DB_GET_SECRETS_SQL "SELECT nsvault.get_secrets($1, $2)"
extern const DbShape db_get_secrets_answer;
extern json_t *db_secrets_from_answer(PGresult *res, const char *const *names, size_t n,
									  const char *namespace, bool missing_ok,
									  DbError *error);

/* what the registry calls that nsvault and the Docker helper share answer */
#define DB_SET_REGISTRY_SQL "SELECT nsvault.set_registry($1, $2, $3)"
#define DB_DELETE_REGISTRY_SQL "SELECT nsvault.delete_registry($1, $2)"
extern const DbShape db_set_registry_answer;
extern const DbShape db_set_global_registry_answer;
extern const DbShape db_delete_registry_answer;
extern const DbShape db_delete_global_registry_answer;

/*
 * The command line, as main.c reads it: every command's options, wherever
 * they stand, and the operands in order.  Option is also the index of an
 * option in main.c's table.
 */
typedef enum Option
{
	OPT_DBNAME,
	OPT_HELP,
	OPT_VERSION,				/* --version, -V; in secret get, the old --secret-version */
	OPT_NAMESPACE,
	OPT_QUIET,
	OPT_JSON,
	/* enrich */
	OPT_WORKFLOW,
	OPT_STATE,
	OPT_ACTION,
	OPT_DATA,
	OPT_BATCH,
	OPT_JS_TIMEOUT,
	OPT_JS_MEMORY,
	/* secret and registry */
	OPT_NO_OVERWRITE,
	OPT_GLOBAL,
	OPT_PRIVATE,
	OPT_GLOBAL_SERVICE,
	OPT_CAS,
	OPT_SECRET_VERSION,
	OPT_NO_NEWLINE,
	OPT_DESCRIPTION,
	OPT_EXPIRES,
	OPT_EXPIRING,
	/* mask and run */
	OPT_SECRET,
	OPT_ENV,
	OPT_NO_MASK,
	OPT_MIN_LENGTH,
	OPT_ALL,
	OPT_PREFIX,
	NUM_OPTIONS
} Option;

/* Where the namespace in effect came from: flags beat the environment, which beats the file. */
typedef enum NamespaceSource
{
	NAMESPACE_NONE,
	NAMESPACE_FLAG,				/* -n, --namespace */
	NAMESPACE_ENV,				/* NSVAULT_NAMESPACE */
	NAMESPACE_FILE				/* the config file's namespace */
} NamespaceSource;

typedef struct CommandLine
{
	const char *value[NUM_OPTIONS];	/* an option's value, "" for one that
									 * takes none, NULL if not given */
	int			nargs;			/* the operands after the command */
	char	  **args;			/* followed by NULL */
	int			dashes_at;		/* how many operands came before "--", or -1 */
	int			version_bare_at;	/* how many came before a bare "--version", or -1 */
	/* every value of an option that may be repeated (--secret, --env) */
	int			nrepeated[NUM_OPTIONS];
	const char **repeated[NUM_OPTIONS];
	/* the defaults in effect, from the flags, the environment and the file */
	const char *conninfo;		/* NULL: libpq's own defaults */
	const char *namespace;		/* NULL: none */
	NamespaceSource namespace_from;
} CommandLine;

#define OPTION_BIT(opt) (UINT64_C(1) << (opt))

/* main.c */
extern const char *option_name(Option opt);

/* config.c */
extern void config_apply(CommandLine *cl);
extern void config_release(void);

static inline bool
option_given(const CommandLine *cl, Option opt)
{
	return cl->value[opt] != NULL;
}

/* admin.c */
extern const char *secret_usage_of(const CommandLine *cl);
extern const char *registry_usage_of(const CommandLine *cl);
extern int	cmd_secret(const CommandLine *cl);
extern int	cmd_registry(const CommandLine *cl);

/* enrich.c */
extern const char enrich_usage[];
extern int	cmd_enrich(const CommandLine *cl);

/* mask.c: mask, and what run shares with it */
extern const char mask_usage[];
extern int	cmd_mask(const CommandLine *cl);

/* The values of the secrets a command fetched, in the order of their names. */
typedef struct SecretSet
{
	size_t		n;
	const char **names;
	char	  **values;
	size_t	   *lens;
} SecretSet;

extern void secrets_fetch(SecretSet *set, const char *conninfo, const char *namespace,
						  const char *command);
extern void secrets_wipe(SecretSet *set);
extern size_t mask_min_length(const CommandLine *cl, const char *command);
struct MaskPatterns;
extern struct MaskPatterns *secrets_patterns(const SecretSet *set, size_t min_length,
											 const char *command);
extern bool mask_write_fd(void *context, struct iovec *pieces, int count);

/* run.c */
extern const char run_usage[];
extern int	cmd_run(const CommandLine *cl);

/* jx.c */
extern json_t *jx_evaluate(const json_t *template, const json_t *data,
						   char *error, size_t error_len);
extern void jx_reset(void);
extern void jx_stage(const json_t *template);
extern void jx_compile_staged(void);

/* js.c, js_scan.c (js_helper.c is the separate program nsvault-js) */
#define JS_DEFAULT_TIME_LIMIT		10	/* seconds, as Direktiv bounds it */
#define JS_DEFAULT_MEMORY_LIMIT_MB	64
#define JS_MAX_TIME_LIMIT			3600
#define JS_MAX_MEMORY_LIMIT_MB		4096
extern void js_set_limits(int seconds, int megabytes);
extern json_t *js_evaluate(const char *body, const json_t *data, bool *is_date,
						   char *error, size_t error_len);
extern const char *js_expression_end(const char *p);

/* json_text.c */
extern char *json_text(const json_t *value);
extern void json_text_append(const json_t *value, char **buf, size_t *len, size_t *cap);
extern void json_text_raw_append(char **buf, size_t *len, size_t *cap,
								 const char *data, size_t n);

/* yaml_json.c */
extern json_t *yaml_file_to_json(const char *path, char *error, size_t error_len);

/* args.c */
extern bool parse_whole_number(const char *text, long max, long *result);
extern long option_whole_number(const CommandLine *cl, Option opt, const char *command,
								const char *option, long max, long default_value);

/* what an error that may quote secret values says instead of its message */
#define HIDDEN_MESSAGE	"(the message is not shown: it may contain secret values)"

/* utf8.c */
extern size_t utf8_invalid_offset(const char *s, size_t len);
extern char *read_text(int fd, size_t *len, const char *what, DbError *error);

/* io.c */
extern char *read_all(int fd, size_t *len);
extern bool write_all(int fd, const char *buf, size_t len);
extern bool writev_all(int fd, struct iovec *pieces, int count);
extern void wipe_and_free(char *buf, size_t len);

#endif							/* NSVAULT_CLIENT_H */
