/*
 * admin.c — the administration commands: secret ... and registry ...
 *
 * Values and credentials are read from standard input, never from the
 * command line, so they show up in neither ps nor shell history.  What a
 * command changes it confirms in one line on standard error (-q: not);
 * what it prints goes to standard output, as text or JSON (output.c).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nsvault.h"
#include "output.h"

/* What each function answers (see nsvault--0.1.sql). */
static const DbShape set_secret_answer =
{"nsvault.set_secret", 1, 1, {DB_TYPE_INT4}, 0};
static const DbShape get_secret_answer =
{"nsvault.get_secret", 1, 1, {DB_TYPE_TEXT}, 0};
static const DbShape list_secrets_answer =
{"nsvault.list_secrets", DB_ANY_ROWS, 6,
{DB_TYPE_TEXT, DB_TYPE_TIMESTAMPTZ, DB_TYPE_TIMESTAMPTZ, DB_TYPE_INT4, DB_TYPE_TEXT,
DB_TYPE_TIMESTAMPTZ}, DB_NULLABLE(4) | DB_NULLABLE(5)};
static const DbShape delete_secret_answer =
{"nsvault.delete_secret", 1, 1, {DB_TYPE_BOOL}, 0};
static const DbShape list_versions_answer =
{"nsvault.list_secret_versions", DB_ANY_ROWS, 5,
{DB_TYPE_INT4, DB_TYPE_TIMESTAMPTZ, DB_TYPE_NAME, DB_TYPE_TIMESTAMPTZ, DB_TYPE_BOOL},
DB_NULLABLE(2) | DB_NULLABLE(3)};
static const DbShape rollback_answer =
{"nsvault.rollback_secret", 1, 1, {DB_TYPE_INT4}, 0};
static const DbShape undelete_answer =
{"nsvault.undelete_secret", 1, 1, {DB_TYPE_BOOL}, 0};
static const DbShape destroy_answer =
{"nsvault.destroy_secret_versions", 1, 1, {DB_TYPE_INT4}, 0};
static const DbShape purge_answer =
{"nsvault.purge_secret", 1, 1, {DB_TYPE_BOOL}, 0};
static const DbShape set_metadata_answer =
{"nsvault.set_secret_metadata", 1, 1, {DB_TYPE_VOID}, 0};
static const DbShape metadata_answer =
{"nsvault.get_secret_metadata", 1, 8,
{DB_TYPE_INT4, DB_TYPE_TIMESTAMPTZ, DB_TYPE_TIMESTAMPTZ, DB_TYPE_TIMESTAMPTZ, DB_TYPE_TEXT,
DB_TYPE_JSONB, DB_TYPE_TIMESTAMPTZ, DB_TYPE_INT4},
DB_NULLABLE(3) | DB_NULLABLE(4) | DB_NULLABLE(5) | DB_NULLABLE(6)};
static const DbShape list_registries_answer =
{"nsvault.list_registries", DB_ANY_ROWS, 3, {DB_TYPE_TEXT, DB_TYPE_TEXT, DB_TYPE_TIMESTAMPTZ}, 0};
static const DbShape list_global_registries_answer =
{"nsvault.list_global_registries", DB_ANY_ROWS, 4,
{DB_TYPE_TEXT, DB_TYPE_TEXT, DB_TYPE_TEXT, DB_TYPE_TIMESTAMPTZ}, 0};
static const DbShape docker_config_answer =
{"nsvault.docker_config", 1, 1, {DB_TYPE_JSONB}, 0};

/* What each subcommand runs. */
#define SET_SECRET_SQL "SELECT nsvault.set_secret($1, $2, $3, $4, $5)"
#define GET_SECRET_SQL "SELECT nsvault.get_secret($1, $2, $3)"
#define LIST_SECRETS_SQL \
	"SELECT name, created_at, updated_at, current_version, description, expires_at" \
	" FROM nsvault.list_secrets($1)" \
	" WHERE $2::interval IS NULL OR expires_at <= pg_catalog.now() + $2::interval"
#define DELETE_SECRET_SQL "SELECT nsvault.delete_secret($1, $2)"
#define LIST_VERSIONS_SQL \
	"SELECT version, created_at, created_by, deleted_at, destroyed" \
	" FROM nsvault.list_secret_versions($1, $2)"
#define ROLLBACK_SQL "SELECT nsvault.rollback_secret($1, $2, $3)"
#define UNDELETE_SQL "SELECT nsvault.undelete_secret($1, $2, $3)"
#define DESTROY_SQL "SELECT nsvault.destroy_secret_versions($1, $2, $3)"
#define PURGE_SQL "SELECT nsvault.purge_secret($1, $2)"
#define SET_METADATA_SQL "SELECT nsvault.set_secret_metadata($1, $2, $3, NULL, $4)"
#define METADATA_SQL \
	"SELECT current_version, created_at, updated_at, deleted_at, description, custom," \
	" expires_at, max_versions FROM nsvault.get_secret_metadata($1, $2)"
#define SET_GLOBAL_REGISTRY_SQL "SELECT nsvault.set_global_registry($1, $2, $3)"
#define LIST_REGISTRIES_SQL "SELECT url, user_hint, created_at FROM nsvault.list_registries($1)"
#define LIST_GLOBAL_REGISTRIES_SQL \
	"SELECT scope, url, user_hint, created_at FROM nsvault.list_global_registries()"
#define DELETE_GLOBAL_REGISTRY_SQL "SELECT nsvault.delete_global_registry($1, $2)"
#define DOCKER_CONFIG_SQL "SELECT nsvault.docker_config($1, $2, $3)"


/* Each listing's fields: their JSON names, and the header line's words. */
static const char *const secret_list_fields[] = {"name", "created_at", "updated_at",
"current_version", "description", "expires_at"};
static const char *const secret_list_headers[] = {"NAME", "CREATED", "UPDATED", "VERSION",
"DESCRIPTION", "EXPIRES"};
static const char *const version_list_fields[] = {"version", "created_at", "created_by",
"deleted_at", "destroyed"};
static const char *const version_list_headers[] = {"VERSION", "CREATED", "CREATED-BY",
"DELETED", "DESTROYED"};
static const char *const metadata_fields[] = {"current_version", "created_at", "updated_at",
"deleted_at", "description", "custom", "expires_at", "max_versions"};
static const char *const registry_list_fields[] = {"url", "user_hint", "created_at"};
static const char *const registry_list_headers[] = {"URL", "USER-HINT", "CREATED"};
static const char *const global_registry_list_fields[] = {"scope", "url", "user_hint",
"created_at"};
static const char *const global_registry_list_headers[] = {"SCOPE", "URL", "USER-HINT",
"CREATED"};

typedef struct Subcommand Subcommand;

/* One run of a subcommand. */
typedef struct AdminCall
{
	const CommandLine *cl;
	const char *command;		/* "secret" */
	const Subcommand *sub;
	char		what[64];		/* how messages name it: "secret get" */
	char	  **operands;		/* those after the subcommand's name, the
								 * namespace first where it takes one */
	int			noperands;
} AdminCall;

/*
 * A subcommand: the operands it takes after its name (the namespace among
 * them, first, where namespace_operand), what it does with them, and the
 * function it calls.  A registry subcommand has a row of its own for its
 * --global form.
 */
struct Subcommand
{
	const char *name;
	bool		global;
	bool		namespace_operand;
	int			min_operands;
	int			max_operands;
	const char *form;			/* its synopsis */
	const char *help;			/* what it does, as its command's help lists it */
	void		(*run) (const AdminCall *call);
	const char *sql;
	const DbShape *answer;
	uint64_t	options;		/* OPTION_BIT of each option of its own */
	const char *privilege;		/* the namespace privilege it needs */
};

typedef struct AdminCommand
{
	const char *name;
	const char *choices;		/* the subcommands, as a usage error lists them */
	const char *footer;			/* its help's last paragraphs */
	const Subcommand *subcommands;	/* ends with a NULL name */
} AdminCommand;

/* Reads a value from standard input as text, or fails. */
static char *
read_value(size_t *len, const char *what)
{
	DbError		error;
	char	   *value = read_text(0, len, what, &error);

	if (value == NULL)
		die(error.status, "%s", error.message);
	return value;
}

/*
 * Runs a statement without an answer, named step in messages (BEGIN,
 * COMMIT); false on an error, with the reason in error.
 */
static bool
transaction_command(PGconn *conn, const char *sql, const char *step, DbError *error)
{
	PGresult   *res = PQexec(conn, sql);
	bool		ok = PQresultStatus(res) == PGRES_COMMAND_OK;

	if (!ok)
	{
		const char *message = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

		snprintf(error->message, sizeof(error->message), "%s failed: %s",
				 step, message ? message : PQerrorMessage(conn));
		error->status = EXIT_FAIL;
	}
	PQclear(res);
	return ok;
}

/*
 * Whether the call runs in a transaction of its own: with --json, whose
 * settings are SET LOCAL so that they end with it (behind a pooler the
 * session goes on to other clients), and for metadata stored with a value.
 */
static bool
in_transaction(const AdminCall *call, bool metadata)
{
	return metadata || option_given(call->cl, OPT_JSON);
}

/* Opens the call's transaction, if it runs in one (in_transaction). */
static bool
begin_call(const AdminCall *call, PGconn *conn, bool metadata, DbError *error)
{
	if (!in_transaction(call, metadata))
		return true;
	return transaction_command(conn, option_given(call->cl, OPT_JSON) ?
							   OUTPUT_TRANSACTION_SQL : "BEGIN", "BEGIN", error);
}

/* Connects, and opens the call's transaction; NULL with the error on failure. */
static PGconn *
connect_for_call(const AdminCall *call, bool metadata, DbError *error)
{
	PGconn	   *conn = db_connect(call->cl->conninfo, error);

	if (conn != NULL && !begin_call(call, conn, metadata, error))
	{
		PQfinish(conn);
		return NULL;
	}
	return conn;
}

/* Commits the call's transaction, if it runs in one; fails on an error. */
static void
end_call(const AdminCall *call, PGconn *conn, bool metadata)
{
	DbError		error;

	if (in_transaction(call, metadata) && !transaction_command(conn, "COMMIT", "COMMIT", &error))
	{
		PQfinish(conn);
		die(error.status, "%s: %s", call->what, error.message);
	}
}

/*
 * Says in the user's words what the server refused in its own: a function
 * the role may not execute is a privilege it lacks on the namespace, and a
 * time or interval the server cannot read lists the forms it can, and is
 * a usage error.
 */
static void
explain_error(const AdminCall *call, DbError *error)
{
	const CommandLine *cl = call->cl;
	const char *namespace = call->sub->global ? "@global" : call->operands[0];

	if (strcmp(error->sqlstate, DB_SQLSTATE_INSUFFICIENT_PRIVILEGE) == 0 &&
		strncmp(error->message, "permission denied for function", 30) == 0)
		snprintf(error->message, sizeof(error->message),
				 "permission denied for namespace \"%s\": %s needs the %s privilege on it (an admin of the namespace can grant it with nsvault.grant_namespace())",
				 namespace, call->what, call->sub->privilege);
	else if ((strcmp(error->sqlstate, DB_SQLSTATE_BAD_DATETIME) == 0 ||
			  strcmp(error->sqlstate, DB_SQLSTATE_DATETIME_OVERFLOW) == 0) &&
			 option_given(cl, OPT_EXPIRES))
	{
		error->status = EXIT_USAGE;
		snprintf(error->message, sizeof(error->message),
				 "--expires \"%s\" is not a time: give one in RFC 3339 (\"2027-03-01T12:00:00Z\"), a date (\"2027-03-01\"), one of PostgreSQL's such as \"2027-03-01 12:00 Europe/Berlin\" or \"tomorrow\", or \"infinity\" for no expiry",
				 cl->value[OPT_EXPIRES]);
	}
	else if (strcmp(error->sqlstate, DB_SQLSTATE_BAD_DATETIME) == 0 &&
			 option_given(cl, OPT_EXPIRING))
	{
		error->status = EXIT_USAGE;
		snprintf(error->message, sizeof(error->message),
				 "--expiring \"%s\" is not an interval: give one such as \"7 days\", \"12 hours\", \"1 day 6 hours\" or \"P7D\"",
				 cl->value[OPT_EXPIRING]);
	}
}

/* Fails with a call's error: "what: message". */
static void
die_call(const AdminCall *call, DbError *error)
{
	explain_error(call, error);
	die(error->status, "%s: %s", call->what, error->message);
}

/*
 * Runs sql, which must answer shape, on conn and returns its answer; on
 * failure closes conn (rolling back its transaction) and fails with
 * "what: server message".
 */
static PGresult *
call_on_or_die(const AdminCall *call, PGconn *conn, const char *sql, const DbShape *shape,
			   int nparams, const char *const *params)
{
	DbError		error;
	PGresult   *res = db_call(conn, sql, nparams, params, shape, &error);

	if (res == NULL)
	{
		PQfinish(conn);
		die_call(call, &error);
	}
	return res;
}

/* Runs sql as call_on_or_die does, on a connection of its own. */
static PGresult *
call_sql_or_die(const AdminCall *call, const char *sql, const DbShape *shape,
				int nparams, const char *const *params)
{
	DbError		error;
	PGconn	   *conn = connect_for_call(call, false, &error);
	PGresult   *res;

	if (conn == NULL)
		die(error.status, "%s", error.message);
	res = call_on_or_die(call, conn, sql, shape, nparams, params);
	end_call(call, conn, false);
	PQfinish(conn);
	return res;
}

/* Runs the subcommand's own call. */
static PGresult *
call_or_die(const AdminCall *call, int nparams, const char *const *params)
{
	return call_sql_or_die(call, call->sub->sql, call->sub->answer, nparams, params);
}

/* Confirms a change on standard error, unless -q. */
static void
confirm(const AdminCall *call, const char *fmt,...)
	__attribute__((format(printf, 2, 3)));

static void
confirm(const AdminCall *call, const char *fmt,...)
{
	va_list		ap;

	if (option_given(call->cl, OPT_QUIET))
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Prints the version a write made: the number, or with --json an object. */
static void
print_version_made(const AdminCall *call, const char *version)
{
	if (option_given(call->cl, OPT_JSON))
		output_json(json_pack("{s:s, s:s, s:i}", "namespace", call->operands[0],
							  "name", call->operands[1], "version", atoi(version)));
	else
		printf("%s\n", version);
}

/*
 * Stores value, one of params, with the subcommand's call, and wipes it
 * whether or not the call succeeds.  Where metadata is given (secret set
 * with --description or --expires), sets it in the same transaction.
 * Returns the call's answer.
 */
static PGresult *
store_value(const AdminCall *call, int nparams, const char *const *params,
			char *value, size_t len, const char *const *metadata)
{
	DbError		error;
	PGconn	   *conn = connect_for_call(call, metadata != NULL, &error);
	PGresult   *res;

	if (conn == NULL)
	{
		wipe_and_free(value, len);
		die(error.status, "%s", error.message);
	}
	res = db_call(conn, call->sub->sql, nparams, params, call->sub->answer, &error);
	wipe_and_free(value, len);
	if (res == NULL)
	{
		PQfinish(conn);
		die_call(call, &error);
	}
	if (metadata != NULL)
		PQclear(call_on_or_die(call, conn, SET_METADATA_SQL, &set_metadata_answer, 4, metadata));
	end_call(call, conn, metadata != NULL);
	PQfinish(conn);
	return res;
}

/* Runs a delete call; returns whether it deleted anything. */
static bool
delete_or_die(const AdminCall *call, int nparams, const char *const *params)
{
	PGresult   *res = call_or_die(call, nparams, params);
	bool		deleted = strcmp(PQgetvalue(res, 0, 0), "t") == 0;

	PQclear(res);
	return deleted;
}

/* Writes buf to standard output, or fails naming the call. */
static void
write_or_die(const AdminCall *call, const char *buf, size_t len)
{
	if (!write_all(1, buf, len))
		die(EXIT_FAIL, "%s: could not write to standard output: %s", call->what, strerror(errno));
}

/*
 * A version operand or option: a whole number from 1 (0 too where
 * zero_allowed, for --cas), or a usage error naming it.
 */
static const char *
version_text(const AdminCall *call, const char *text, const char *what, bool zero_allowed)
{
	long		version;

	if (!(zero_allowed && strcmp(text, "0") == 0) && !parse_whole_number(text, INT32_MAX, &version))
		die(EXIT_USAGE, "%s: %s must be a whole number from %d, not \"%s\"",
			call->what, what, zero_allowed ? 0 : 1, text);
	return text;
}

/*
 * Writes the value of the current version, or of --secret-version N, byte
 * for byte; on a terminal a newline follows, unless --no-newline.  With
 * --json, an object that holds it.  The answer is wiped.
 */
static void
print_value(const AdminCall *call)
{
	const CommandLine *cl = call->cl;
	const char *version = cl->value[OPT_SECRET_VERSION];
	const char *params[] = {call->operands[0], call->operands[1],
	version ? version_text(call, version, "--secret-version", false) : NULL};
	PGresult   *res = call_or_die(call, 3, params);

	if (option_given(cl, OPT_JSON))
	{
		json_t	   *value = json_stringn(PQgetvalue(res, 0, 0), PQgetlength(res, 0, 0));

		if (value == NULL)
			die(EXIT_FAIL, "%s: the value is not valid UTF-8", call->what);
		output_json(json_pack("{s:s, s:s, s:o}", "namespace", call->operands[0],
							  "name", call->operands[1], "value", value));
	}
	else
	{
		write_or_die(call, PQgetvalue(res, 0, 0), PQgetlength(res, 0, 0));
		if (isatty(1) && !option_given(cl, OPT_NO_NEWLINE))
			write_or_die(call, "\n", 1);
	}
	db_wipe_result(res);
}

/* Prints the rows a listing answers: lines, or with --json an array. */
static void
print_listing(const AdminCall *call, int nparams, const char *const *params,
			  const char *const *fields, const char *const *headers)
{
	PGresult   *res = call_or_die(call, nparams, params);

	output_rows(res, fields, headers, option_given(call->cl, OPT_JSON));
	PQclear(res);
}

/* Lists the secrets of a namespace, or those --expiring within an interval. */
static void
list_secrets(const AdminCall *call)
{
	const char *params[] = {call->operands[0], call->cl->value[OPT_EXPIRING]};

	print_listing(call, 2, params, secret_list_fields, secret_list_headers);
}

static void
list_versions(const AdminCall *call)
{
	print_listing(call, 2, (const char *const *) call->operands,
				  version_list_fields, version_list_headers);
}

static void
list_registries(const AdminCall *call)
{
	print_listing(call, 1, (const char *const *) call->operands,
				  registry_list_fields, registry_list_headers);
}

static void
list_global_registries(const AdminCall *call)
{
	print_listing(call, 0, NULL, global_registry_list_fields, global_registry_list_headers);
}

static void
delete_secret(const AdminCall *call)
{
	if (!delete_or_die(call, 2, (const char *const *) call->operands))
		die(EXIT_NOT_FOUND, "%s: secret \"%s\" not found in namespace \"%s\"",
			call->what, call->operands[1], call->operands[0]);
	confirm(call, "deleted secret \"%s\" in namespace \"%s\"", call->operands[1], call->operands[0]);
}

static void
set_secret(const AdminCall *call)
{
	const CommandLine *cl = call->cl;
	const char *cas = cl->value[OPT_CAS];
	const char *expected = cas ? version_text(call, cas, "--cas", true) : NULL;
	const char *metadata[] = {call->operands[0], call->operands[1],
	cl->value[OPT_DESCRIPTION], cl->value[OPT_EXPIRES]};
	bool		with_metadata = metadata[2] != NULL || metadata[3] != NULL;
	size_t		len;
	char	   *value = read_value(&len, "value");
	const char *params[] = {call->operands[0], call->operands[1], value,
	option_given(cl, OPT_NO_OVERWRITE) ? "false" : "true", expected};
	PGresult   *res = store_value(call, 5, params, value, len, with_metadata ? metadata : NULL);

	print_version_made(call, PQgetvalue(res, 0, 0));
	confirm(call, "stored version %s of secret \"%s\" in namespace \"%s\"",
			PQgetvalue(res, 0, 0), call->operands[1], call->operands[0]);
	PQclear(res);
}

static void
rollback_secret(const AdminCall *call)
{
	const char *params[] = {call->operands[0], call->operands[1],
	version_text(call, call->operands[2], "VERSION", false)};
	PGresult   *res = call_or_die(call, 3, params);

	print_version_made(call, PQgetvalue(res, 0, 0));
	confirm(call, "rolled back secret \"%s\" in namespace \"%s\" to version %s's value, as version %s",
			call->operands[1], call->operands[0], call->operands[2], PQgetvalue(res, 0, 0));
	PQclear(res);
}

static void
undelete_secret(const AdminCall *call)
{
	const char *params[] = {call->operands[0], call->operands[1],
	version_text(call, call->operands[2], "VERSION", false)};

	PQclear(call_or_die(call, 3, params));
	confirm(call, "undeleted version %s of secret \"%s\" in namespace \"%s\"",
			call->operands[2], call->operands[1], call->operands[0]);
}

/* Destroys the VERSIONs that follow NAMESPACE NAME, as one array. */
static void
destroy_versions(const AdminCall *call)
{
	size_t		size = 3;
	char	   *array;
	const char *params[3];

	for (int i = 2; i < call->noperands; i++)
		size += strlen(version_text(call, call->operands[i], "VERSION", false)) + 1;
	array = malloc(size);
	if (array == NULL)
		die(EXIT_FAIL, "out of memory");
	strcpy(array, "{");
	for (int i = 2; i < call->noperands; i++)
		strcat(strcat(array, call->operands[i]), i + 1 < call->noperands ? "," : "}");
	params[0] = call->operands[0];
	params[1] = call->operands[1];
	params[2] = array;
	PQclear(call_or_die(call, 3, params));
	/* the braces stripped: "1,2" */
	array[strlen(array) - 1] = '\0';
	confirm(call, "destroyed version%s %s of secret \"%s\" in namespace \"%s\"",
			call->noperands > 3 ? "s" : "", array + 1, call->operands[1], call->operands[0]);
	free(array);
}

/* Purges a secret; one that is not there is not found. */
static void
purge_secret(const AdminCall *call)
{
	if (!delete_or_die(call, 2, (const char *const *) call->operands))
		die(EXIT_NOT_FOUND, "%s: secret \"%s\" not found in namespace \"%s\"",
			call->what, call->operands[1], call->operands[0]);
	confirm(call, "purged secret \"%s\" in namespace \"%s\": every version and its metadata",
			call->operands[1], call->operands[0]);
}

/* Sets the description or the expiry given, or prints every field of the metadata. */
static void
secret_metadata(const AdminCall *call)
{
	const char *params[] = {call->operands[0], call->operands[1],
		call->cl->value[OPT_DESCRIPTION], call->cl->value[OPT_EXPIRES]};
	PGresult   *res;

	if (params[2] != NULL || params[3] != NULL)
	{
		PQclear(call_or_die(call, 4, params));
		confirm(call, "set the %s of secret \"%s\" in namespace \"%s\"",
				params[2] == NULL ? "expiry" : params[3] == NULL ? "description" :
				"description and the expiry", call->operands[1], call->operands[0]);
		return;
	}
	res = call_sql_or_die(call, METADATA_SQL, &metadata_answer, 2, params);
	output_fields(res, metadata_fields, option_given(call->cl, OPT_JSON));
	PQclear(res);
}

/*
 * Reads USER:TOKEN from standard input, without one trailing newline (as
 * docker login --password-stdin reads it).
 */
static char *
read_registry_data(size_t *len)
{
	char	   *data = read_value(len, "registry data");

	if (*len > 0 && data[*len - 1] == '\n')
		data[--*len] = '\0';
	if (*len > 0 && data[*len - 1] == '\r')
		data[--*len] = '\0';
	return data;
}

static void
set_registry(const AdminCall *call)
{
	size_t		len;
	char	   *data = read_registry_data(&len);
	const char *params[] = {call->operands[0], call->operands[1], data};

	PQclear(store_value(call, 3, params, data, len, NULL));
	confirm(call, "stored registry \"%s\" in namespace \"%s\"", call->operands[1], call->operands[0]);
}

/* "global" or "global-private": the scope of a --global registry. */
static const char *
global_scope(const AdminCall *call)
{
	return option_given(call->cl, OPT_PRIVATE) ? "global-private" : "global";
}

static void
set_global_registry(const AdminCall *call)
{
	size_t		len;
	char	   *data = read_registry_data(&len);
	const char *params[] = {call->operands[0], data,
	option_given(call->cl, OPT_PRIVATE) ? "true" : "false"};

	PQclear(store_value(call, 3, params, data, len, NULL));
	confirm(call, "stored %s registry \"%s\"", global_scope(call), call->operands[0]);
}

static void
delete_registry(const AdminCall *call)
{
	if (!delete_or_die(call, 2, (const char *const *) call->operands))
		die(EXIT_NOT_FOUND, "%s: registry \"%s\" not found in namespace \"%s\"",
			call->what, call->operands[1], call->operands[0]);
	confirm(call, "deleted registry \"%s\" in namespace \"%s\"", call->operands[1], call->operands[0]);
}

static void
delete_global_registry(const AdminCall *call)
{
	const char *params[] = {call->operands[0],
	option_given(call->cl, OPT_PRIVATE) ? "true" : "false"};

	if (!delete_or_die(call, 2, params))
		die(EXIT_NOT_FOUND, "%s: %s registry \"%s\" not found",
			call->what, global_scope(call), call->operands[0]);
	confirm(call, "deleted %s registry \"%s\"", global_scope(call), call->operands[0]);
}

/* Prints the Docker config JSON (JSON already, with or without --json); wipes it. */
static void
print_docker_config(const AdminCall *call)
{
	const char *params[] = {call->operands[0], call->noperands > 1 ? call->operands[1] : NULL,
	option_given(call->cl, OPT_GLOBAL_SERVICE) ? "true" : "false"};
	PGresult   *res = call_or_die(call, 3, params);

	write_or_die(call, PQgetvalue(res, 0, 0), PQgetlength(res, 0, 0));
	write_or_die(call, "\n", 1);
	db_wipe_result(res);
}

#define SECRET_SET_OPTIONS \
	(OPTION_BIT(OPT_NO_OVERWRITE) | OPTION_BIT(OPT_CAS) | OPTION_BIT(OPT_DESCRIPTION) | \
	 OPTION_BIT(OPT_EXPIRES) | OPTION_BIT(OPT_JSON))

static const Subcommand secret_subcommands[] = {
	{"set", false, true, 2, 2,
		"secret set [--no-overwrite] [--cas N] [--description TEXT]\n"
		"                                 [--expires TIME] [NAMESPACE] NAME  < value",
		"set       stores standard input, byte for byte, as a new version of the\n"
		"          secret: UTF-8 without NUL bytes; prints the version.\n"
		"          --no-overwrite: fail if the secret exists; --cas N: only if N is\n"
		"          its current version, 0 if it must not exist; --description and\n"
		"          --expires set its metadata in the same transaction (see meta)\n",
	set_secret, SET_SECRET_SQL, &set_secret_answer, SECRET_SET_OPTIONS, "write"},
	{"get", false, true, 2, 2, "secret get [--secret-version N] [--no-newline] [NAMESPACE] NAME",
		"get       writes the value of the current version, or of --secret-version N\n"
		"          (also spelled --version N here), to standard output, byte for\n"
		"          byte; on a terminal a newline follows, unless --no-newline\n",
		print_value, GET_SECRET_SQL, &get_secret_answer,
	OPTION_BIT(OPT_SECRET_VERSION) | OPTION_BIT(OPT_NO_NEWLINE) | OPTION_BIT(OPT_JSON), "read"},
	{"list", false, true, 1, 1, "secret list [--expiring INTERVAL] [NAMESPACE]",
		"list      prints NAME<TAB>CREATED<TAB>UPDATED<TAB>VERSION<TAB>DESCRIPTION<TAB>EXPIRES\n"
		"          per secret, sorted by name; --expiring: only those that expire\n"
		"          within INTERVAL (\"7 days\"), or have expired\n",
	list_secrets, LIST_SECRETS_SQL, &list_secrets_answer, OPTION_BIT(OPT_EXPIRING) | OPTION_BIT(OPT_JSON), "read"},
	{"delete", false, true, 2, 2, "secret delete [NAMESPACE] NAME",
		"delete    marks the current version deleted: reads fail until undelete\n",
	delete_secret, DELETE_SECRET_SQL, &delete_secret_answer, 0, "write"},
	{"versions", false, true, 2, 2, "secret versions [NAMESPACE] NAME",
		"versions  prints VERSION<TAB>CREATED<TAB>CREATED-BY<TAB>DELETED<TAB>DESTROYED\n",
	list_versions, LIST_VERSIONS_SQL, &list_versions_answer, OPTION_BIT(OPT_JSON), "read"},
	{"rollback", false, true, 3, 3, "secret rollback [NAMESPACE] NAME VERSION",
		"rollback  writes VERSION's value as a new version, and prints its number\n",
	rollback_secret, ROLLBACK_SQL, &rollback_answer, OPTION_BIT(OPT_JSON), "write"},
	{"undelete", false, true, 3, 3, "secret undelete [NAMESPACE] NAME VERSION",
		"undelete  makes a deleted VERSION readable again\n",
	undelete_secret, UNDELETE_SQL, &undelete_answer, 0, "write"},
	{"destroy", false, true, 3, INT32_MAX, "secret destroy [NAMESPACE] NAME VERSION...",
		"destroy   removes the values of the VERSIONs for good\n",
	destroy_versions, DESTROY_SQL, &destroy_answer, 0, "write"},
	{"purge", false, true, 2, 2, "secret purge [NAMESPACE] NAME",
		"purge     removes every version of the secret, and its metadata\n",
	purge_secret, PURGE_SQL, &purge_answer, 0, "write"},
	{"meta", false, true, 2, 2, "secret meta [--description TEXT] [--expires TIME] [NAMESPACE] NAME",
		"meta      sets the description or the expiry (\"infinity\" for none), or\n"
		"          without them prints FIELD<TAB>VALUE lines of the metadata.  TIME is\n"
		"          RFC 3339 (\"2027-03-01T12:00:00Z\"), a date, or one of PostgreSQL's\n"
		"          forms (\"2027-03-01 12:00 Europe/Berlin\", \"tomorrow\")\n",
		secret_metadata, SET_METADATA_SQL, &set_metadata_answer,
	OPTION_BIT(OPT_DESCRIPTION) | OPTION_BIT(OPT_EXPIRES) | OPTION_BIT(OPT_JSON), "write"},
	{NULL}
};

/* a row for each form: in a namespace, and with --global */
static const Subcommand registry_subcommands[] = {
	{"set", false, true, 2, 2, "registry set [NAMESPACE] URL                < USER:TOKEN",
		"set            stores the credentials on standard input, USER:TOKEN split at\n"
		"               the first colon (one trailing newline is dropped, as docker\n"
		"               login --password-stdin does)\n",
	set_registry, DB_SET_REGISTRY_SQL, &db_set_registry_answer, 0, "write"},
	{"set", true, false, 1, 1, "registry set --global [--private] URL     < USER:TOKEN",
		"set --global   the same for all namespaces; --private: for global services\n"
		"               only\n",
		set_global_registry, SET_GLOBAL_REGISTRY_SQL, &db_set_global_registry_answer,
	OPTION_BIT(OPT_GLOBAL) | OPTION_BIT(OPT_PRIVATE), "admin"},
	{"list", false, true, 1, 1, "registry list [NAMESPACE]",
		"list           prints URL<TAB>USER-HINT<TAB>CREATED\n",
	list_registries, LIST_REGISTRIES_SQL, &list_registries_answer, OPTION_BIT(OPT_JSON), "read"},
	{"list", true, false, 0, 0, "registry list --global",
		"list --global  prints SCOPE<TAB>URL<TAB>USER-HINT<TAB>CREATED\n",
		list_global_registries, LIST_GLOBAL_REGISTRIES_SQL, &list_global_registries_answer,
	OPTION_BIT(OPT_GLOBAL) | OPTION_BIT(OPT_JSON), "read"},
	{"delete", false, true, 2, 2, "registry delete [NAMESPACE] URL",
		"delete         deletes the registry\n",
	delete_registry, DB_DELETE_REGISTRY_SQL, &db_delete_registry_answer, 0, "write"},
	{"delete", true, false, 1, 1, "registry delete --global [--private] URL",
		"delete --global  deletes the global (--private: global-private) registry\n",
		delete_global_registry, DELETE_GLOBAL_REGISTRY_SQL, &db_delete_global_registry_answer,
	OPTION_BIT(OPT_GLOBAL) | OPTION_BIT(OPT_PRIVATE), "admin"},
	{"docker-config", false, true, 1, 2,
		"registry docker-config [--global-service] [NAMESPACE] [IMAGE]",
		"docker-config  prints the Docker config JSON for a service of NAMESPACE, for\n"
		"               IMAGE only if given; --global-service for a global service.\n"
		"               With a default namespace and one operand, the operand is the\n"
		"               namespace: give -n NS for IMAGE alone\n",
		print_docker_config, DOCKER_CONFIG_SQL, &docker_config_answer,
	OPTION_BIT(OPT_GLOBAL_SERVICE) | OPTION_BIT(OPT_JSON), "read"},
	{NULL}
};

#define DEFAULTS_NOTE \
"NAMESPACE may be left out when -n NS, NSVAULT_NAMESPACE or the config file\n" \
"names one (see \"nsvault --help\").  A change is confirmed in one line on\n" \
"standard error (-q: not).  --json prints JSON: field names as in the\n" \
"header, lower-case, booleans as true and false, times in RFC 3339, UTC.\n"

static const AdminCommand secret_command =
{"secret", "set, get, list, delete, versions, rollback, undelete, destroy, purge or meta",
	DEFAULTS_NOTE
	"\n"
	"Exit status: 0 done, 2 usage error or a value that is not valid UTF-8,\n"
	"3 no such secret or version, 4 --cas found another version, 1 any other\n"
	"failure.\n",
secret_subcommands};

static const AdminCommand registry_command =
{"registry", "set, list, delete or docker-config",
	DEFAULTS_NOTE
	"\n"
	"Exit status: 0 done, 2 usage error or data that is not valid UTF-8,\n"
	"3 no such registry, 1 any other failure.\n",
registry_subcommands};

/*
 * Returns the help of command, or of its subcommand named name only (all
 * its forms) when it has one of that name.
 */
static const char *
admin_usage(const AdminCommand *command, const char *name)
{
	static char *text = NULL;
	size_t		size;
	FILE	   *out;
	bool		one = false;

	for (const Subcommand *sub = command->subcommands; name != NULL && sub->name; sub++)
		one |= strcmp(sub->name, name) == 0;
	free(text);
	out = open_memstream(&text, &size);
	if (out == NULL)
		die(EXIT_FAIL, "out of memory");
	fputs("Usage:\n", out);
	for (const Subcommand *sub = command->subcommands; sub->name; sub++)
		if (!one || strcmp(sub->name, name) == 0)
			fprintf(out, "  nsvault [OPTION]... %s\n", sub->form);
	fputc('\n', out);
	for (const Subcommand *sub = command->subcommands; sub->name; sub++)
		if (!one || strcmp(sub->name, name) == 0)
			fputs(sub->help, out);
	fprintf(out, "\n%s", command->footer);
	if (fclose(out) != 0)
		die(EXIT_FAIL, "out of memory");
	return text;
}

const char *
secret_usage_of(const CommandLine *cl)
{
	return admin_usage(&secret_command, cl->nargs > 0 ? cl->args[0] : NULL);
}

const char *
registry_usage_of(const CommandLine *cl)
{
	return admin_usage(&registry_command, cl->nargs > 0 ? cl->args[0] : NULL);
}

/*
 * Returns the subcommand's name, the first operand; "help" prints the
 * command's usage and exits.
 */
static const char *
subcommand_name(const AdminCommand *command, const CommandLine *cl)
{
	if (cl->nargs < 1)
		die(EXIT_USAGE, "%s: expected %s (see \"nsvault %s --help\")",
			command->name, command->choices, command->name);
	if (strcmp(cl->args[0], "help") == 0)
	{
		fputs(admin_usage(command, cl->nargs > 1 ? cl->args[1] : NULL), stdout);
		exit(EXIT_OK);
	}
	return cl->args[0];
}

/* Fails with a usage error on an option that the subcommand does not take. */
static void
refuse_other_options(const AdminCall *call)
{
	static const Option own_options[] = {OPT_JSON, OPT_NO_OVERWRITE, OPT_GLOBAL, OPT_PRIVATE,
		OPT_GLOBAL_SERVICE, OPT_CAS, OPT_SECRET_VERSION, OPT_NO_NEWLINE, OPT_DESCRIPTION,
	OPT_EXPIRES, OPT_EXPIRING};

	for (size_t i = 0; i < sizeof(own_options) / sizeof(own_options[0]); i++)
		if (option_given(call->cl, own_options[i]) &&
			!(call->sub->options & OPTION_BIT(own_options[i])))
			die(EXIT_USAGE, "%s: it takes no --%s (see \"nsvault %s %s --help\")",
				call->what, option_name(own_options[i]), call->command, call->sub->name);
}

/*
 * Puts the namespace in effect before the operands of a subcommand that
 * takes one, unless they name it first.  With -n they never do.  Else the
 * count tells: one operand fewer than the subcommand takes means the
 * namespace was left out.  Where both counts fit (destroy's VERSION list,
 * docker-config's IMAGE), the operands name it, except that destroy's
 * second operand is its NAME, which starts with a letter, or already a
 * VERSION.
 */
static void
place_namespace(AdminCall *call)
{
	const Subcommand *sub = call->sub;
	const CommandLine *cl = call->cl;
	int			n = call->noperands;
	bool		named = n >= sub->min_operands && n <= sub->max_operands;
	bool		left_out = cl->namespace != NULL &&
		n >= sub->min_operands - 1 && n <= sub->max_operands - 1;
	long		version;
	char	  **operands;

	if (cl->namespace_from == NAMESPACE_FLAG)
		named = false;
	else if (named && left_out)
		left_out = sub->run == destroy_versions && parse_whole_number(call->operands[1], INT32_MAX, &version);
	if (named && !left_out)
		return;
	if (!left_out && cl->namespace_from == NAMESPACE_FLAG &&
		n >= sub->min_operands && n <= sub->max_operands)
		die(EXIT_USAGE, "%s: -n gave the namespace, so the NAMESPACE operand is left out: nsvault %s",
			call->what, sub->form);
	if (!left_out)
		die(EXIT_USAGE, "usage: nsvault %s (see \"nsvault %s %s --help\")",
			sub->form, call->command, sub->name);
	operands = malloc(sizeof(char *) * (n + 1));
	if (operands == NULL)
		die(EXIT_FAIL, "out of memory");
	operands[0] = (char *) cl->namespace;
	memcpy(operands + 1, call->operands, sizeof(char *) * n);
	call->operands = operands;
	call->noperands = n + 1;
}

/* Checks the operand count of a --global form, which takes no namespace. */
static void
check_global_operands(const AdminCall *call)
{
	const Subcommand *sub = call->sub;

	if (call->cl->namespace_from == NAMESPACE_FLAG)
		die(EXIT_USAGE, "%s --global: it takes no namespace, and -n gave one", call->what);
	if (call->noperands < sub->min_operands || call->noperands > sub->max_operands)
		die(EXIT_USAGE, "usage: nsvault %s (see \"nsvault %s %s --help\")",
			sub->form, call->command, sub->name);
}

/*
 * Runs the subcommand named by the first operand, in its --global form if
 * global, once it has the operands it takes.
 */
static int
run_subcommand(const AdminCommand *command, const CommandLine *cl, bool global)
{
	AdminCall	call = {cl, command->name, NULL, "", cl->args + 1, cl->nargs - 1};

	for (call.sub = command->subcommands; call.sub->name != NULL; call.sub++)
	{
		if (strcmp(call.sub->name, cl->args[0]) != 0 || call.sub->global != global)
			continue;
		snprintf(call.what, sizeof(call.what), "%s %s", command->name, call.sub->name);
		refuse_other_options(&call);
		if (call.sub->namespace_operand)
			place_namespace(&call);
		else
			check_global_operands(&call);
		call.sub->run(&call);
		if (call.operands != cl->args + 1)
			free(call.operands);
		return EXIT_OK;
	}
	die(EXIT_USAGE, "%s: unknown subcommand \"%s\" (see \"nsvault %s --help\")",
		command->name, cl->args[0], command->name);
}

/* Runs a secret subcommand; registry's options are read here too, and mean nothing. */
int
cmd_secret(const CommandLine *cl)
{
	subcommand_name(&secret_command, cl);
	return run_subcommand(&secret_command, cl, false);
}

int
cmd_registry(const CommandLine *cl)
{
	const char *name = subcommand_name(&registry_command, cl);
	bool		global = option_given(cl, OPT_GLOBAL);

	if (option_given(cl, OPT_PRIVATE) && !global)
		die(EXIT_USAGE, "registry %s: --private goes with --global", name);
	if (global && strcmp(name, "docker-config") == 0)
		die(EXIT_USAGE, "registry docker-config: use --global-service, not --global");
	return run_subcommand(&registry_command, cl, global);
}
