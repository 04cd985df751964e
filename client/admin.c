/*
 * admin.c — the administration commands: secret ... and registry ...
 *
 * Values and credentials are read from standard input, never from the
 * command line, so they show up in neither ps nor shell history.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nsvault.h"

const char secret_usage[] =
"Usage:\n"
"  nsvault [-d CONNINFO] secret set [--no-overwrite] NAMESPACE NAME  < value\n"
"  nsvault [-d CONNINFO] secret get NAMESPACE NAME\n"
"  nsvault [-d CONNINFO] secret list NAMESPACE\n"
"  nsvault [-d CONNINFO] secret delete NAMESPACE NAME\n"
"\n"
"set       stores standard input, byte for byte, as the secret's value: UTF-8\n"
"          without NUL bytes (--no-overwrite: fail if the secret exists)\n"
"get       writes the value to standard output, byte for byte\n"
"list      prints NAME<TAB>CREATED<TAB>UPDATED per secret, sorted by name\n"
"delete    deletes the secret\n"
"\n"
"Exit status: 0 done, 2 usage error or a value that is not valid UTF-8,\n"
"3 no such secret, 1 any other failure.\n";

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
{"nsvault.set_secret", 1, 1, {DB_TYPE_VOID}};
static const DbShape get_secret_answer =
{"nsvault.get_secret", 1, 1, {DB_TYPE_TEXT}};
static const DbShape list_secrets_answer =
{"nsvault.list_secrets", DB_ANY_ROWS, 3, {DB_TYPE_TEXT, DB_TYPE_TIMESTAMPTZ, DB_TYPE_TIMESTAMPTZ}};
static const DbShape delete_secret_answer =
{"nsvault.delete_secret", 1, 1, {DB_TYPE_BOOL}};
static const DbShape list_registries_answer =
{"nsvault.list_registries", DB_ANY_ROWS, 3, {DB_TYPE_TEXT, DB_TYPE_TEXT, DB_TYPE_TIMESTAMPTZ}};
static const DbShape list_global_registries_answer =
{"nsvault.list_global_registries", DB_ANY_ROWS, 4,
{DB_TYPE_TEXT, DB_TYPE_TEXT, DB_TYPE_TEXT, DB_TYPE_TIMESTAMPTZ}};
static const DbShape docker_config_answer =
{"nsvault.docker_config", 1, 1, {DB_TYPE_JSONB}};

/* What each subcommand runs. */
#define SET_SECRET_SQL "SELECT nsvault.set_secret($1, $2, $3, $4)"
#define GET_SECRET_SQL "SELECT nsvault.get_secret($1, $2)"
#define LIST_SECRETS_SQL "SELECT name, created_at, updated_at FROM nsvault.list_secrets($1)"
#define DELETE_SECRET_SQL "SELECT nsvault.delete_secret($1, $2)"
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
	PGconn	   *conn = db_connect(call->cl->value[OPT_DBNAME], &error);

	if (conn == NULL)
		die(error.status, "%s", error.message);
	return conn;
}

/*
 * Runs the subcommand's call and returns its answer; on failure prints
 * "what: server message" and exits.
 */
static PGresult *
call_or_die(const AdminCall *call, PGconn *conn, int nparams, const char *const *params)
{
	DbError		error;
	PGresult   *res = db_call(conn, call->sub->sql, nparams, params, call->sub->answer, &error);

	if (res == NULL)
	{
		PQfinish(conn);
		die(error.status, "%s: %s", call->what, error.message);
	}
	return res;
}

/*
 * Runs a call that stores value, one of params, and wipes value whether
 * or not the call succeeds.
 */
static void
store_value(const AdminCall *call, int nparams, const char *const *params,
			char *value, size_t len)
{
	DbError		error;
	PGconn	   *conn = db_connect(call->cl->value[OPT_DBNAME], &error);
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
	PQclear(res);
	PQfinish(conn);
}

/* Runs a delete call; returns whether it deleted anything. */
static bool
delete_or_die(const AdminCall *call, int nparams, const char *const *params)
{
	PGconn	   *conn = connect_or_die(call);
	PGresult   *res = call_or_die(call, conn, nparams, params);
	bool		deleted = strcmp(PQgetvalue(res, 0, 0), "t") == 0;

	PQclear(res);
	PQfinish(conn);
	return deleted;
}

/*
 * Writes a call's one value to standard output, byte for byte, then
 * ending; wipes the answer, which may hold secrets.
 */
static void
print_answer(const AdminCall *call, int nparams, const char *const *params, const char *ending)
{
	PGconn	   *conn = connect_or_die(call);
	PGresult   *res = call_or_die(call, conn, nparams, params);
	bool		written = write_all(1, PQgetvalue(res, 0, 0), PQgetlength(res, 0, 0)) &&
		write_all(1, ending, strlen(ending));

	db_wipe_result(res);
	PQfinish(conn);
	if (!written)
		die(EXIT_FAIL, "%s: could not write to standard output", call->what);
}

/* Writes the value the operands name, as it is. */
static void
print_value(const AdminCall *call)
{
	print_answer(call, call->noperands, (const char *const *) call->operands, "");
}

/* Prints the rows of a list as tab-separated lines. */
static void
print_rows(const AdminCall *call)
{
	PGconn	   *conn = connect_or_die(call);
	PGresult   *res = call_or_die(call, conn, call->noperands,
								  (const char *const *) call->operands);

	for (int row = 0; row < PQntuples(res); row++)
		for (int col = 0; col < PQnfields(res); col++)
			printf("%s%c", PQgetvalue(res, row, col),
				   col + 1 < PQnfields(res) ? '\t' : '\n');
	PQclear(res);
	PQfinish(conn);
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
	size_t		len;
	char	   *value = read_value(&len, "value");
	const char *params[] = {call->operands[0], call->operands[1], value,
	option_given(call->cl, OPT_NO_OVERWRITE) ? "false" : "true"};

	store_value(call, 4, params, value, len);
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
	{"set", false, 2, 2, "secret set NAMESPACE NAME", set_secret, SET_SECRET_SQL, &set_secret_answer},
	{"get", false, 2, 2, "secret get NAMESPACE NAME", print_value, GET_SECRET_SQL, &get_secret_answer},
	{"list", false, 1, 1, "secret list NAMESPACE", print_rows, LIST_SECRETS_SQL, &list_secrets_answer},
	{"delete", false, 2, 2, "secret delete NAMESPACE NAME", delete_named, DELETE_SECRET_SQL,
	&delete_secret_answer},
	{NULL}
};

/* a row for each form: in a namespace, and with --global */
static const Subcommand registry_subcommands[] = {
	{"set", false, 2, 2, "registry set NAMESPACE URL", set_registry, DB_SET_REGISTRY_SQL,
	&db_set_registry_answer},
	{"set", true, 1, 1, "registry set --global [--private] URL", set_global_registry,
	SET_GLOBAL_REGISTRY_SQL, &db_set_global_registry_answer},
	{"list", false, 1, 1, "registry list NAMESPACE", print_rows, LIST_REGISTRIES_SQL,
	&list_registries_answer},
	{"list", true, 0, 0, "registry list --global", print_rows, LIST_GLOBAL_REGISTRIES_SQL,
	&list_global_registries_answer},
	{"delete", false, 2, 2, "registry delete NAMESPACE URL", delete_named, DB_DELETE_REGISTRY_SQL,
	&db_delete_registry_answer},
	{"delete", true, 1, 1, "registry delete --global [--private] URL", delete_global_registry,
	DELETE_GLOBAL_REGISTRY_SQL, &db_delete_global_registry_answer},
	{"docker-config", false, 1, 2, "registry docker-config NAMESPACE [IMAGE]", print_docker_config,
	DOCKER_CONFIG_SQL, &docker_config_answer},
	{NULL}
};

static const AdminCommand secret_command =
{"secret", "set, get, list or delete", secret_usage, secret_subcommands};

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
