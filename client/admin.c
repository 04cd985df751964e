/*
 * admin.c — the administration commands: secret ... and registry ...
 *
 * Values and credentials are read from standard input, never from the
 * command line, so they show up in neither ps nor shell history.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nsvault.h"

const char secret_usage[] =
"Usage:\n"
"  nsvault [-d CONNINFO] secret set [--no-overwrite] [--cas N] NAMESPACE NAME  < value\n"
"  nsvault [-d CONNINFO] secret get [--version N] NAMESPACE NAME\n"
"  nsvault [-d CONNINFO] secret list [--expiring INTERVAL] NAMESPACE\n"
"  nsvault [-d CONNINFO] secret delete NAMESPACE NAME\n"
"  nsvault [-d CONNINFO] secret versions NAMESPACE NAME\n"
"  nsvault [-d CONNINFO] secret rollback NAMESPACE NAME VERSION\n"
"  nsvault [-d CONNINFO] secret undelete NAMESPACE NAME VERSION\n"
"  nsvault [-d CONNINFO] secret destroy NAMESPACE NAME VERSION...\n"
"  nsvault [-d CONNINFO] secret purge NAMESPACE NAME\n"
"  nsvault [-d CONNINFO] secret meta NAMESPACE NAME [--description TEXT] [--expires TIMESTAMP]\n"
"\n"
"set       stores standard input, byte for byte, as a new version of the\n"
"          secret: UTF-8 without NUL bytes; prints the version (--no-overwrite:\n"
"          fail if the secret exists; --cas N: only if N is its current\n"
"          version, 0 if it must not exist)\n"
"get       writes the value of the current version, or of --version N, to\n"
"          standard output, byte for byte\n"
"list      prints NAME<TAB>CREATED<TAB>UPDATED<TAB>VERSION<TAB>DESCRIPTION<TAB>EXPIRES\n"
"          per secret, sorted by name; --expiring: only those that expire\n"
"          within INTERVAL (\"7 days\"), or have expired\n"
"delete    marks the current version deleted: reads fail until undelete\n"
"versions  prints VERSION<TAB>CREATED<TAB>CREATED-BY<TAB>DELETED<TAB>DESTROYED\n"
"rollback  writes VERSION's value as a new version, and prints its number\n"
"undelete  makes a deleted VERSION readable again\n"
"destroy   removes the values of the VERSIONs for good\n"
"purge     removes every version of the secret, and its metadata\n"
"meta      sets the description or the expiry (\"infinity\" for none), or\n"
"          without them prints FIELD<TAB>VALUE lines of the metadata\n"
"\n"
"Exit status: 0 done, 2 usage error or a value that is not valid UTF-8,\n"
"3 no such secret or version, 4 --cas found another version, 1 any other\n"
"failure.\n";

const char registry_usage[] =
"Usage:\n"
"  nsvault [-d CONNINFO] registry set NAMESPACE URL                < USER:TOKEN\n"
"  nsvault [-d CONNINFO] registry set --global [--private] URL     < USER:TOKEN\n"
"  nsvault [-d CONNINFO] registry list NAMESPACE\n"
"  nsvault [-d CONNINFO] registry list --global\n"
"  nsvault [-d CONNINFO] registry delete NAMESPACE URL\n"
"  nsvault [-d CONNINFO] registry delete --global [--private] URL\n"
"  nsvault [-d CONNINFO] registry docker-config NAMESPACE [IMAGE] [--global-service]\n"
"\n"
"set            stores the credentials on standard input, USER:TOKEN split at\n"
"               the first colon (one trailing newline is dropped, as docker\n"
"               login --password-stdin does); --global for all namespaces,\n"
"               --private for global services only\n"
"list           prints URL<TAB>USER-HINT<TAB>CREATED (with --global, SCOPE first)\n"
"delete         deletes the registry\n"
"docker-config  prints the Docker config JSON for a service of NAMESPACE, for\n"
"               IMAGE only if given; --global-service for a global service\n"
"\n"
"Exit status: 0 done, 2 usage error or data that is not valid UTF-8,\n"
"3 no such registry, 1 any other failure.\n";

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

typedef struct Subcommand Subcommand;

/* One run of a subcommand. */
typedef struct AdminCall
{
	const CommandLine *cl;
	const char *command;		/* "secret" */
	const Subcommand *sub;
	char		what[64];		/* how messages name it: "secret get" */
	char	  **operands;		/* those after the subcommand's name */
	int			noperands;
} AdminCall;

/*
 * A subcommand: the operands it takes after its name, what it does with
 * them, and the function it calls.  A registry subcommand has a row of its
 * own for its --global form.
 */
struct Subcommand
{
	const char *name;
	bool		global;
	int			min_operands;
	int			max_operands;
	const char *form;			/* shown by a usage error */
	void		(*run) (const AdminCall *call);
	const char *sql;
	const DbShape *answer;
	uint64_t	options;		/* OPTION_BIT of each option it takes besides -d */
};

typedef struct AdminCommand
{
	const char *name;
	const char *choices;		/* the subcommands, as a usage error lists them */
	const char *usage;
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

static PGconn *
connect_or_die(const AdminCall *call)
{
	DbError		error;
	PGconn	   *conn = db_connect(call->cl->conninfo, &error);

	if (conn == NULL)
		die(error.status, "%s", error.message);
	return conn;
}

/*
 * Runs sql, which must answer shape, on a connection of its own, and
 * returns its answer; on failure prints "what: server message" and exits.
 */
static PGresult *
call_sql_or_die(const AdminCall *call, const char *sql, const DbShape *shape,
				int nparams, const char *const *params)
{
	DbError		error;
	PGconn	   *conn = connect_or_die(call);
	PGresult   *res = db_call(conn, sql, nparams, params, shape, &error);

	PQfinish(conn);
	if (res == NULL)
		die(error.status, "%s: %s", call->what, error.message);
	return res;
}

/* Runs the subcommand's own call. */
static PGresult *
call_or_die(const AdminCall *call, int nparams, const char *const *params)
{
	return call_sql_or_die(call, call->sub->sql, call->sub->answer, nparams, params);
}

/*
 * Runs a call that stores value, one of params, and wipes value whether
 * or not the call succeeds; prints what it answers, unless nothing (void).
 */
static void
store_value(const AdminCall *call, int nparams, const char *const *params,
			char *value, size_t len)
{
	DbError		error;
	PGconn	   *conn = db_connect(call->cl->conninfo, &error);
	PGresult   *res = NULL;

	if (conn != NULL)
		res = db_call(conn, call->sub->sql, nparams, params, call->sub->answer, &error);
	wipe_and_free(value, len);
	if (conn == NULL)
		die(error.status, "%s", error.message);
	if (res == NULL)
	{
		PQfinish(conn);
		die(error.status, "%s: %s", call->what, error.message);
	}
	if (call->sub->answer->types[0] != DB_TYPE_VOID)
		printf("%s\n", PQgetvalue(res, 0, 0));
	PQclear(res);
	PQfinish(conn);
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

/*
 * Writes a call's one value to standard output, byte for byte, then
 * ending; wipes the answer, which may hold secrets.
 */
static void
print_answer(const AdminCall *call, int nparams, const char *const *params, const char *ending)
{
	PGresult   *res = call_or_die(call, nparams, params);
	bool		written = write_all(1, PQgetvalue(res, 0, 0), PQgetlength(res, 0, 0)) &&
		write_all(1, ending, strlen(ending));
	int			reason = errno;

	db_wipe_result(res);
	if (!written)
		die(EXIT_FAIL, "%s: could not write to standard output: %s", call->what, strerror(reason));
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

/* Writes the value of the current version, or of --version N, as it is. */
static void
print_value(const AdminCall *call)
{
	const char *version = call->cl->value[OPT_SECRET_VERSION];
	const char *params[] = {call->operands[0], call->operands[1],
	version ? version_text(call, version, "--secret-version", false) : NULL};

	print_answer(call, 3, params, "");
}

/* Prints the rows params answer as tab-separated lines; NULL is empty. */
static void
print_rows_of(const AdminCall *call, int nparams, const char *const *params)
{
	PGresult   *res = call_or_die(call, nparams, params);

	for (int row = 0; row < PQntuples(res); row++)
		for (int col = 0; col < PQnfields(res); col++)
			printf("%s%c", PQgetvalue(res, row, col),
				   col + 1 < PQnfields(res) ? '\t' : '\n');
	PQclear(res);
}

/* Prints the rows of a list of the operands as tab-separated lines. */
static void
print_rows(const AdminCall *call)
{
	print_rows_of(call, call->noperands, (const char *const *) call->operands);
}

/* Lists the secrets of a namespace, or those --expiring within an interval. */
static void
list_secrets(const AdminCall *call)
{
	const char *params[] = {call->operands[0], call->cl->value[OPT_EXPIRING]};

	print_rows_of(call, 2, params);
}

/* Deletes what NAMESPACE NAME names: a secret or a registry. */
static void
delete_named(const AdminCall *call)
{
	if (!delete_or_die(call, 2, (const char *const *) call->operands))
		die(EXIT_NOT_FOUND, "%s: %s \"%s\" not found in namespace \"%s\"",
			call->what, call->command, call->operands[1], call->operands[0]);
}

static void
set_secret(const AdminCall *call)
{
	const char *cas = call->cl->value[OPT_CAS];
	const char *expected = cas ? version_text(call, cas, "--cas", true) : NULL;
	size_t		len;
	char	   *value = read_value(&len, "value");
	const char *params[] = {call->operands[0], call->operands[1], value,
		option_given(call->cl, OPT_NO_OVERWRITE) ? "false" : "true", expected};

	store_value(call, 5, params, value, len);
}

/* Runs a call on NAMESPACE NAME VERSION, and prints what it answers unless it is a boolean. */
static void
version_call(const AdminCall *call)
{
	const char *params[] = {call->operands[0], call->operands[1],
	version_text(call, call->operands[2], "VERSION", false)};

	if (call->sub->answer->types[0] == DB_TYPE_BOOL)
		PQclear(call_or_die(call, 3, params));
	else
		print_answer(call, 3, params, "\n");
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
	free(array);
}

/* Purges a secret; one that is not there is not found. */
static void
purge_secret(const AdminCall *call)
{
	if (!delete_or_die(call, 2, (const char *const *) call->operands))
		die(EXIT_NOT_FOUND, "%s: secret \"%s\" not found in namespace \"%s\"",
			call->what, call->operands[1], call->operands[0]);
}

/* Sets the description or the expiry given, or prints every field of the metadata. */
static void
secret_metadata(const AdminCall *call)
{
	static const char *const fields[] = {"current_version", "created_at", "updated_at",
		"deleted_at", "description", "custom", "expires_at", "max_versions"};
	const char *params[] = {call->operands[0], call->operands[1],
		call->cl->value[OPT_DESCRIPTION], call->cl->value[OPT_EXPIRES]};
	PGresult   *res;

	if (params[2] != NULL || params[3] != NULL)
	{
		PQclear(call_or_die(call, 4, params));
		return;
	}
	res = call_sql_or_die(call, METADATA_SQL, &metadata_answer, 2, params);
	for (int col = 0; col < PQnfields(res); col++)
		printf("%s\t%s\n", fields[col], PQgetvalue(res, 0, col));
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

	store_value(call, 3, params, data, len);
}

static void
set_global_registry(const AdminCall *call)
{
	size_t		len;
	char	   *data = read_registry_data(&len);
	const char *params[] = {call->operands[0], data,
	option_given(call->cl, OPT_PRIVATE) ? "true" : "false"};

	store_value(call, 3, params, data, len);
}

static void
delete_global_registry(const AdminCall *call)
{
	bool		private = option_given(call->cl, OPT_PRIVATE);
	const char *params[] = {call->operands[0], private ? "true" : "false"};

	if (!delete_or_die(call, 2, params))
		die(EXIT_NOT_FOUND, "%s: %s registry \"%s\" not found",
			call->what, private ? "global-private" : "global", call->operands[0]);
}

static void
print_docker_config(const AdminCall *call)
{
	const char *params[] = {call->operands[0], call->noperands > 1 ? call->operands[1] : NULL,
	option_given(call->cl, OPT_GLOBAL_SERVICE) ? "true" : "false"};

	print_answer(call, 3, params, "\n");
}

static const Subcommand secret_subcommands[] = {
	{"set", false, 2, 2, "secret set [--no-overwrite] [--cas N] NAMESPACE NAME", set_secret,
		SET_SECRET_SQL, &set_secret_answer, OPTION_BIT(OPT_NO_OVERWRITE) | OPTION_BIT(OPT_CAS)},
	{"get", false, 2, 2, "secret get [--version N] NAMESPACE NAME", print_value, GET_SECRET_SQL,
	&get_secret_answer, OPTION_BIT(OPT_SECRET_VERSION)},
	{"list", false, 1, 1, "secret list [--expiring INTERVAL] NAMESPACE", list_secrets,
	LIST_SECRETS_SQL, &list_secrets_answer, OPTION_BIT(OPT_EXPIRING)},
	{"delete", false, 2, 2, "secret delete NAMESPACE NAME", delete_named, DELETE_SECRET_SQL,
	&delete_secret_answer, 0},
	{"versions", false, 2, 2, "secret versions NAMESPACE NAME", print_rows, LIST_VERSIONS_SQL,
	&list_versions_answer, 0},
	{"rollback", false, 3, 3, "secret rollback NAMESPACE NAME VERSION", version_call,
	ROLLBACK_SQL, &rollback_answer, 0},
	{"undelete", false, 3, 3, "secret undelete NAMESPACE NAME VERSION", version_call,
	UNDELETE_SQL, &undelete_answer, 0},
	{"destroy", false, 3, INT32_MAX, "secret destroy NAMESPACE NAME VERSION...", destroy_versions,
	DESTROY_SQL, &destroy_answer, 0},
	{"purge", false, 2, 2, "secret purge NAMESPACE NAME", purge_secret, PURGE_SQL, &purge_answer, 0},
	{"meta", false, 2, 2, "secret meta NAMESPACE NAME [--description TEXT] [--expires TIMESTAMP]",
		secret_metadata, SET_METADATA_SQL, &set_metadata_answer,
	OPTION_BIT(OPT_DESCRIPTION) | OPTION_BIT(OPT_EXPIRES)},
	{NULL}
};

/* a row for each form: in a namespace, and with --global */
static const Subcommand registry_subcommands[] = {
	{"set", false, 2, 2, "registry set NAMESPACE URL", set_registry, DB_SET_REGISTRY_SQL,
	&db_set_registry_answer, 0},
	{"set", true, 1, 1, "registry set --global [--private] URL", set_global_registry,
	SET_GLOBAL_REGISTRY_SQL, &db_set_global_registry_answer,
	OPTION_BIT(OPT_GLOBAL) | OPTION_BIT(OPT_PRIVATE)},
	{"list", false, 1, 1, "registry list NAMESPACE", print_rows, LIST_REGISTRIES_SQL,
	&list_registries_answer, 0},
	{"list", true, 0, 0, "registry list --global", print_rows, LIST_GLOBAL_REGISTRIES_SQL,
	&list_global_registries_answer, OPTION_BIT(OPT_GLOBAL)},
	{"delete", false, 2, 2, "registry delete NAMESPACE URL", delete_named, DB_DELETE_REGISTRY_SQL,
	&db_delete_registry_answer, 0},
	{"delete", true, 1, 1, "registry delete --global [--private] URL", delete_global_registry,
	DELETE_GLOBAL_REGISTRY_SQL, &db_delete_global_registry_answer,
	OPTION_BIT(OPT_GLOBAL) | OPTION_BIT(OPT_PRIVATE)},
	{"docker-config", false, 1, 2, "registry docker-config NAMESPACE [IMAGE] [--global-service]",
		print_docker_config, DOCKER_CONFIG_SQL, &docker_config_answer,
	OPTION_BIT(OPT_GLOBAL_SERVICE)},
	{NULL}
};

static const AdminCommand secret_command =
{"secret", "set, get, list, delete, versions, rollback, undelete, destroy, purge or meta",
secret_usage, secret_subcommands};

static const AdminCommand registry_command =
{"registry", "set, list, delete or docker-config", registry_usage, registry_subcommands};

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
		fputs(command->usage, stdout);
		exit(EXIT_OK);
	}
	return cl->args[0];
}

/* Fails with a usage error on an option that the subcommand does not take. */
static void
refuse_other_options(const AdminCall *call)
{
	for (Option opt = OPT_NO_OVERWRITE; opt <= OPT_EXPIRING; opt++)
		if (option_given(call->cl, opt) && !(call->sub->options & OPTION_BIT(opt)))
			die(EXIT_USAGE, "%s: it takes no --%s (see \"nsvault %s --help\")",
				call->what, option_name(opt), call->command);
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
		if (call.noperands < call.sub->min_operands || call.noperands > call.sub->max_operands)
			die(EXIT_USAGE, "usage: nsvault %s (see --help)", call.sub->form);
		snprintf(call.what, sizeof(call.what), "%s %s", command->name, call.sub->name);
		refuse_other_options(&call);
		call.sub->run(&call);
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

const char *
secret_usage_of(const CommandLine *cl)
{
	return secret_usage;
}

const char *
registry_usage_of(const CommandLine *cl)
{
	return registry_usage;
}
