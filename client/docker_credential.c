/*
 * docker_credential.c — docker-credential-nsvault, Docker's credential
 * helper (the docker-credential-helpers protocol) over nsvault's registries.
 *
 * Docker runs it with one action (get, store, erase, list, version) and
 * reads its answer from standard output (--help and --version are for
 * people); an error is one line there too, with exit status 1, and
 * "credentials not found in native keychain" is the line Docker takes for
 * "none".  The namespace is NSVAULT_NAMESPACE; NSVAULT_GLOBAL_SERVICE=1
 * acts for a global service instead.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "cred_helper.h"

const char *progname = "docker-credential-nsvault";

/* the protocol's own error lines, which Docker compares */
#define NOT_FOUND_MESSAGE		"credentials not found in native keychain"
#define NO_SERVER_URL_MESSAGE	"no credentials server URL"
#define NO_USERNAME_MESSAGE		"no credentials username"

#define USAGE_LINE "Usage: docker-credential-nsvault [-d CONNINFO] <store|get|erase|list|version>"

/* --help's; Docker itself passes only the action */
static const char usage[] =
"docker-credential-nsvault is Docker's credential helper for the registry\n"
"credentials of an nsvault namespace.\n"
"\n"
"Usage:\n"
"  docker-credential-nsvault [-d CONNINFO] ACTION\n"
"  docker-credential-nsvault -V, --version\n"
"\n"
"Actions:\n"
"  get      reads a server URL, host or image on standard input, and prints\n"
"           {\"ServerURL\", \"Username\", \"Secret\"} of the registry that\n"
"           serves it\n"
"  store    reads {\"ServerURL\", \"Username\", \"Secret\"} on standard input,\n"
"           and sets the namespace's registry\n"
"  erase    reads a server URL on standard input, and deletes the\n"
"           namespace's registry\n"
"  list     prints {\"URL\": \"USER-HINT\", ...} of the namespace's registries\n"
"  version  prints \"docker-credential-nsvault X.Y.Z\"\n"
"\n"
"Options:\n"
"  -d, --dbname=CONNINFO  database to use (else the PG* environment,\n"
"                         ~/.pgpass and service files)\n"
"  -V, --version          show the version, then exit\n"
"  -?, -h, --help         show this help, then exit\n"
"\n"
"The namespace is NSVAULT_NAMESPACE.  NSVAULT_GLOBAL_SERVICE=1 acts for a\n"
"global service instead: get and list then see global and global-private\n"
"registries, and store and erase act on global-private ones.\n"
"\n"
"Exit status: 0 done, 1 any failure, reported as one line on standard\n"
"output, as Docker's protocol wants (\"credentials not found in native\n"
"keychain\" when no registry serves the server URL).\n";

static const DbShape list_registries_answer =
{"nsvault.list_registries", DB_ANY_ROWS, 2, {DB_TYPE_TEXT, DB_TYPE_TEXT}, 0};
static const DbShape list_global_registries_answer =
{"nsvault.list_global_registries", DB_ANY_ROWS, 3, {DB_TYPE_TEXT, DB_TYPE_TEXT, DB_TYPE_TEXT}, 0};

/* a global service's store and erase act on the global-private scope */
#define SET_GLOBAL_REGISTRY_SQL "SELECT nsvault.set_global_registry($1, $2, true)"
#define DELETE_GLOBAL_REGISTRY_SQL "SELECT nsvault.delete_global_registry($1, true)"
#define LIST_REGISTRIES_SQL "SELECT url, user_hint FROM nsvault.list_registries($1)"
#define LIST_GLOBAL_REGISTRIES_SQL \
	"SELECT scope, url, user_hint FROM nsvault.list_global_registries()"

/* Whom an action acts for, and where. */
typedef struct HelperCall
{
	const char *conninfo;		/* NULL: libpq's environment */
	const char *namespace;		/* NULL only for a global service */
	bool		global_service;
} HelperCall;

/* Answers with the protocol's error: one line on standard output, exit 1. */
static void fail(const char *fmt,...) __attribute__((format(printf, 1, 2), noreturn));

static void
fail(const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	exit(EXIT_FAIL);
}

static PGconn *
connect_or_fail(const HelperCall *call)
{
	DbError		error;
	PGconn	   *conn = db_connect(call->conninfo, &error);

	if (conn == NULL)
		fail("%s", error.message);
	return conn;
}

/*
 * Runs sql on a connection of its own; returns the answer, or fails with
 * the server's message once values (which may hold a secret) is wiped.
 */
static PGresult *
call_or_fail(const HelperCall *call, const char *sql, int nparams,
			 const char *const *params, const DbShape *shape, char *values, size_t len)
{
	DbError		error;
	PGconn	   *conn = connect_or_fail(call);
	PGresult   *res = db_call(conn, sql, nparams, params, shape, &error);

	wipe_and_free(values, len);
	PQfinish(conn);
	if (res == NULL)
		fail("%s", error.message);
	return res;
}

/* Reads standard input as text, or fails naming what was wrong. */
static char *
read_input(size_t *len, const char *what)
{
	DbError		error;
	char	   *input = read_text(0, len, what, &error);

	if (input == NULL)
		fail("%s", error.message);
	return input;
}

/* Reads the server URL on standard input, as the protocol sends it. */
static char *
read_server_url(char **input, size_t *len)
{
	char	   *url;

	*input = read_input(len, "server URL");
	url = cred_server_url(*input, *len);
	if (*url == '\0')
		fail(NO_SERVER_URL_MESSAGE);
	return url;
}

/* get: the credential nsvault hands out for the server URL. */
static void
action_get(const HelperCall *call)
{
	size_t		len;
	char	   *input;
	char	   *url = read_server_url(&input, &len);
	DbError		error;
	PGconn	   *conn = connect_or_fail(call);
	PGresult   *res = cred_lookup(conn, call->namespace, url, call->global_service, &error);
	json_t	   *answer;
	bool		written;

	PQfinish(conn);
	if (res == NULL)
		fail("%s", error.message);
	if (PQntuples(res) == 0)
		fail(NOT_FOUND_MESSAGE);
	answer = json_pack("{s:s, s:s, s:s}", "ServerURL", url,
					   "Username", PQgetvalue(res, 0, CRED_USERNAME),
					   "Secret", PQgetvalue(res, 0, CRED_SECRET));
	written = answer != NULL && cred_print_json(answer);
	json_decref(answer);
	db_wipe_result(res);
	wipe_and_free(input, len);
	if (!written)
		fail("could not write the credentials to standard output");
}

/*
 * Returns the string member name of creds, matched as Go's encoding/json
 * matches a field: exactly, or else ignoring case; "" when it is absent
 * or null.  Fails on any other type.
 */
static const char *
credential_field(json_t *creds, const char *name)
{
	json_t	   *value = json_object_get(creds, name);
	const char *key;
	json_t	   *member;

	if (value == NULL)
		json_object_foreach(creds, key, member)
			if (strcasecmp(key, name) == 0)
				value = member;
	if (value == NULL || json_is_null(value))
		return "";
	if (!json_is_string(value))
		fail("the store request's \"%s\" is not a string", name);
	return json_string_value(value);
}

/* Builds USER:TOKEN, the registry data nsvault stores, in a buffer to wipe. */
static char *
registry_data(const char *username, const char *secret, size_t *len)
{
	size_t		user_len = strlen(username);
	size_t		secret_len = strlen(secret);
	char	   *data = malloc(user_len + secret_len + 2);

	if (data == NULL)
		fail("out of memory");
	memcpy(data, username, user_len);
	data[user_len] = ':';
	memcpy(data + user_len + 1, secret, secret_len + 1);
	*len = user_len + secret_len + 1;
	return data;
}

/* store: sets the registry from {"ServerURL", "Username", "Secret"}. */
static void
action_store(const HelperCall *call)
{
	size_t		len;
	char	   *input = read_input(&len, "store request");
	DbError		error;
	json_t	   *creds = cred_parse_json(input, len, "store request", &error);
	const char *url;
	const char *username;
	char	   *data;

	wipe_and_free(input, len);
	if (creds == NULL)
		fail("%s", error.message);
	url = credential_field(creds, "ServerURL");
	username = credential_field(creds, "Username");
	if (*url == '\0')
		fail(NO_SERVER_URL_MESSAGE);
	if (*username == '\0')
		fail(NO_USERNAME_MESSAGE);
	/* nsvault splits USER:TOKEN at the first colon */
	if (strchr(username, ':') != NULL)
		fail("the user name contains a colon, which nsvault cannot store");
	data = registry_data(username, credential_field(creds, "Secret"), &len);
	if (call->global_service)
		PQclear(call_or_fail(call, SET_GLOBAL_REGISTRY_SQL, 2, (const char *[]) {url, data},
							 &db_set_global_registry_answer, data, len));
	else
		PQclear(call_or_fail(call, DB_SET_REGISTRY_SQL, 3,
							 (const char *[]) {call->namespace, url, data},
							 &db_set_registry_answer, data, len));
	json_decref(creds);
}

/* erase: deletes the registry of the server URL. */
static void
action_erase(const HelperCall *call)
{
	size_t		len;
	char	   *input;
	char	   *url = read_server_url(&input, &len);
	PGresult   *res;
	bool		deleted;

	if (call->global_service)
		res = call_or_fail(call, DELETE_GLOBAL_REGISTRY_SQL, 1, (const char *[]) {url},
						   &db_delete_global_registry_answer, input, len);
	else
		res = call_or_fail(call, DB_DELETE_REGISTRY_SQL, 2, (const char *[]) {call->namespace, url},
						   &db_delete_registry_answer, input, len);
	deleted = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	if (!deleted)
		fail(NOT_FOUND_MESSAGE);
}

/*
 * list: {"URL": "USER-HINT", ...}, the registries store and erase manage.
 * nsvault lists no whole user name; a global service's list shows global
 * and global-private registries, the private one where a URL is in both.
 */
static void
action_list(const HelperCall *call)
{
	bool		global = call->global_service;
	PGresult   *res = global
		? call_or_fail(call, LIST_GLOBAL_REGISTRIES_SQL, 0, NULL,
					   &list_global_registries_answer, NULL, 0)
		: call_or_fail(call, LIST_REGISTRIES_SQL, 1, (const char *[]) {call->namespace},
					   &list_registries_answer, NULL, 0);
	json_t	   *answer = json_object();
	int			url = global ? 1 : 0;

	for (int row = 0; answer != NULL && row < PQntuples(res); row++)
	{
		bool		private = global && strcmp(PQgetvalue(res, row, 0), "global-private") == 0;

		if (private || json_object_get(answer, PQgetvalue(res, row, url)) == NULL)
			json_object_set_new(answer, PQgetvalue(res, row, url),
								json_string(PQgetvalue(res, row, url + 1)));
	}
	PQclear(res);
	if (answer == NULL)
		fail("out of memory");
	if (!cred_print_json(answer))
		fail("could not write the list to standard output");
	json_decref(answer);
}

/* version: "docker-credential-nsvault X.Y.Z", as --version prints it. */
static void
action_version(const HelperCall *call)
{
	printf("%s %s\n", progname, NSVAULT_CLIENT_VERSION);
}

/* Reads NSVAULT_NAMESPACE and NSVAULT_GLOBAL_SERVICE into call, or fails. */
static void
read_environment(HelperCall *call)
{
	const char *global = getenv("NSVAULT_GLOBAL_SERVICE");
	const char *namespace = getenv("NSVAULT_NAMESPACE");

	if (global != NULL && *global != '\0' && strcmp(global, "0") != 0 && strcmp(global, "1") != 0)
		fail("NSVAULT_GLOBAL_SERVICE must be 1 (a global service) or 0");
	call->global_service = global != NULL && strcmp(global, "1") == 0;
	call->namespace = namespace != NULL && *namespace != '\0' ? namespace : NULL;
	if (call->namespace == NULL && !call->global_service)
		fail("NSVAULT_NAMESPACE is not set: it names the nsvault namespace whose registries to use");
}

/*
 * Returns the action, the one operand, after -d CONNINFO if given; prints
 * the help or the version and exits if asked.
 */
static const char *
read_command_line(int argc, char **argv, HelperCall *call)
{
	static const struct option options[] = {
		{"dbname", required_argument, NULL, 'd'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	int			code;

	opterr = 0;
	while ((code = getopt_long(argc, argv, "+:d:Vh", options, NULL)) != -1)
	{
		if (code == 'V')
		{
			action_version(call);
			exit(EXIT_OK);
		}
		if (code == 'h' || (code == '?' && optopt == '?'))
		{
			fputs(usage, stdout);
			exit(EXIT_OK);
		}
		if (code != 'd')
			fail(USAGE_LINE);
		call->conninfo = optarg;
	}
	if (argc - optind != 1)
		fail(USAGE_LINE);
	return argv[optind];
}

int
main(int argc, char **argv)
{
	static const struct
	{
		const char *name;
		void		(*run) (const HelperCall *call);
	}			actions[] = {
		{"get", action_get}, {"store", action_store}, {"erase", action_erase},
		{"list", action_list}, {"version", action_version},
	};
	HelperCall	call = {NULL, NULL, false};
	const char *action;

	/* no core dumps or same-user ptrace of a process that holds secrets */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	/* output that cannot be written is an error, whatever the command */
	check_output_on_exit();

	action = read_command_line(argc, argv, &call);
	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
		if (strcmp(action, actions[i].name) == 0)
		{
			if (actions[i].run != action_version)
				read_environment(&call);
			actions[i].run(&call);
			return EXIT_OK;
		}
	fail(USAGE_LINE);
}
