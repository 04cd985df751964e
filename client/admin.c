/*
 * admin.c — the administration commands: secret ... and registry ...
 *
 * Values and credentials are read from standard input, never from the
 * command line, so they show up in neither ps nor shell history.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nsvault.h"

static const char *secret_usage =
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

static const char *registry_usage =
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
static const DbShape set_registry_answer =
{"nsvault.set_registry", 1, 1, {DB_TYPE_VOID}};
static const DbShape set_global_registry_answer =
{"nsvault.set_global_registry", 1, 1, {DB_TYPE_VOID}};
static const DbShape list_registries_answer =
{"nsvault.list_registries", DB_ANY_ROWS, 3, {DB_TYPE_TEXT, DB_TYPE_TEXT, DB_TYPE_TIMESTAMPTZ}};
static const DbShape list_global_registries_answer =
{"nsvault.list_global_registries", DB_ANY_ROWS, 4,
{DB_TYPE_TEXT, DB_TYPE_TEXT, DB_TYPE_TEXT, DB_TYPE_TIMESTAMPTZ}};
static const DbShape delete_registry_answer =
{"nsvault.delete_registry", 1, 1, {DB_TYPE_BOOL}};
static const DbShape delete_global_registry_answer =
{"nsvault.delete_global_registry", 1, 1, {DB_TYPE_BOOL}};
static const DbShape docker_config_answer =
{"nsvault.docker_config", 1, 1, {DB_TYPE_JSONB}};

/* Options of the admin subcommands; getopt sees argv from the subcommand on. */
typedef struct AdminOptions
{
	bool		no_overwrite;
	bool		global;
	bool		private;
	bool		global_service;
	int			nargs;
	char	  **args;
} AdminOptions;

static void
parse_options(int argc, char **argv, const char *usage, AdminOptions *opts)
{
	static const struct option long_options[] = {
		{"no-overwrite", no_argument, NULL, 'n'},
		{"global", no_argument, NULL, 'g'},
		{"private", no_argument, NULL, 'p'},
		{"global-service", no_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	int			c;

	memset(opts, 0, sizeof(*opts));
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", long_options, NULL)) != -1)
	{
		switch (c)
		{
			case 'n':
				opts->no_overwrite = true;
				break;
			case 'g':
				opts->global = true;
				break;
			case 'p':
				opts->private = true;
				break;
			case 's':
				opts->global_service = true;
				break;
			case 'h':
				fputs(usage, stdout);
				exit(EXIT_OK);
			default:
				die(EXIT_USAGE, "%s: unknown option \"%s\"", argv[0], argv[optind - 1]);
		}
	}
	/* options may also follow the operands */
	opts->args = malloc(sizeof(char *) * (argc + 1));
	if (opts->args == NULL)
		die(EXIT_FAIL, "out of memory");
	for (int i = optind; i < argc; i++)
	{
		if (strcmp(argv[i], "--no-overwrite") == 0)
			opts->no_overwrite = true;
		else if (strcmp(argv[i], "--global") == 0)
			opts->global = true;
		else if (strcmp(argv[i], "--private") == 0)
			opts->private = true;
		else if (strcmp(argv[i], "--global-service") == 0)
			opts->global_service = true;
		else if (strcmp(argv[i], "--help") == 0)
		{
			fputs(usage, stdout);
			exit(EXIT_OK);
		}
		else if (strncmp(argv[i], "--", 2) == 0 && argv[i][2] != '\0')
			die(EXIT_USAGE, "%s: unknown option \"%s\"", argv[0], argv[i]);
		else
			opts->args[opts->nargs++] = argv[i];
	}
}

/* Fails with a usage error unless the subcommand got min to max operands. */
static void
expect_operands(const AdminOptions *opts, int min, int max, const char *form)
{
	if (opts->nargs < min || opts->nargs > max)
		die(EXIT_USAGE, "usage: nsvault %s (see --help)", form);
}

/*
 * Reads a value from standard input, refusing what text cannot hold.  The
 * client checks UTF-8 itself: the server's refusal would quote the bytes.
 */
static char *
read_value(size_t *len, const char *what)
{
	char	   *value = read_all(0, len);
	size_t		bad;

	if (value == NULL)
		die(EXIT_FAIL, "could not read the %s from standard input", what);
	if (memchr(value, '\0', *len) != NULL)
	{
		wipe_and_free(value, *len);
		die(EXIT_USAGE, "the %s on standard input contains a NUL byte, which text cannot hold", what);
	}
	bad = utf8_invalid_offset(value, *len);
	if (bad < *len)
	{
		wipe_and_free(value, *len);
		die(EXIT_USAGE, "the %s on standard input is not valid UTF-8 (at byte %zu)", what, bad + 1);
	}
	return value;
}

/* Runs one call; on failure prints "what: server message" and exits. */
static PGresult *
call_or_die(PGconn *conn, const char *what, const DbShape *shape, const char *sql,
			int nparams, const char *const *values)
{
	DbError		error;
	PGresult   *res = db_call(conn, sql, nparams, values, shape, &error);

	if (res == NULL)
	{
		PQfinish(conn);
		die(error.status, "%s: %s", what, error.message);
	}
	return res;
}

static PGconn *
connect_or_die(const char *conninfo)
{
	DbError		error;
	PGconn	   *conn = db_connect(conninfo, &error);

	if (conn == NULL)
		die(error.status, "%s", error.message);
	return conn;
}

/* Prints a result's rows as tab-separated lines. */
static void
print_rows(PGresult *res)
{
	for (int row = 0; row < PQntuples(res); row++)
		for (int col = 0; col < PQnfields(res); col++)
			printf("%s%c", PQgetvalue(res, row, col),
				   col + 1 < PQnfields(res) ? '\t' : '\n');
}

int
cmd_secret(const char *conninfo, int argc, char **argv)
{
	AdminOptions opts;
	PGconn	   *conn;
	PGresult   *res;
	const char *sub;

	if (argc < 2)
		die(EXIT_USAGE, "secret: expected set, get, list or delete (see \"nsvault secret --help\")");
	sub = argv[1];
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0)
	{
		fputs(secret_usage, stdout);
		return EXIT_OK;
	}
	parse_options(argc - 1, argv + 1, secret_usage, &opts);

	if (strcmp(sub, "set") == 0)
	{
		size_t		len;
		char	   *value;
		const char *params[4];
		DbError		error;

		expect_operands(&opts, 2, 2, "secret set NAMESPACE NAME");
		value = read_value(&len, "value");
		params[0] = opts.args[0];
		params[1] = opts.args[1];
		params[2] = value;
		params[3] = opts.no_overwrite ? "false" : "true";
		conn = connect_or_die(conninfo);
		res = db_call(conn, "SELECT nsvault.set_secret($1, $2, $3, $4)", 4, params,
					  &set_secret_answer, &error);
		wipe_and_free(value, len);
		if (res == NULL)
		{
			PQfinish(conn);
			die(error.status, "secret set: %s", error.message);
		}
		PQclear(res);
	}
	else if (strcmp(sub, "get") == 0)
	{
		expect_operands(&opts, 2, 2, "secret get NAMESPACE NAME");
		conn = connect_or_die(conninfo);
		res = call_or_die(conn, "secret get", &get_secret_answer,
						  "SELECT nsvault.get_secret($1, $2)", 2,
						  (const char *const *) opts.args);
		if (!write_all(1, PQgetvalue(res, 0, 0), PQgetlength(res, 0, 0)))
		{
			db_wipe_result(res);
			die(EXIT_FAIL, "secret get: could not write to standard output");
		}
		db_wipe_result(res);
	}
	else if (strcmp(sub, "list") == 0)
	{
		expect_operands(&opts, 1, 1, "secret list NAMESPACE");
		conn = connect_or_die(conninfo);
		res = call_or_die(conn, "secret list", &list_secrets_answer,
						  "SELECT name, created_at, updated_at FROM nsvault.list_secrets($1)",
						  1, (const char *const *) opts.args);
		print_rows(res);
		PQclear(res);
	}
	else if (strcmp(sub, "delete") == 0)
	{
		bool		deleted;

		expect_operands(&opts, 2, 2, "secret delete NAMESPACE NAME");
		conn = connect_or_die(conninfo);
		res = call_or_die(conn, "secret delete", &delete_secret_answer,
						  "SELECT nsvault.delete_secret($1, $2)", 2,
						  (const char *const *) opts.args);
		deleted = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
		PQclear(res);
		if (!deleted)
		{
			PQfinish(conn);
			die(EXIT_NOT_FOUND, "secret delete: secret \"%s\" not found in namespace \"%s\"",
				opts.args[1], opts.args[0]);
		}
	}
	else
		die(EXIT_USAGE, "secret: unknown subcommand \"%s\" (see \"nsvault secret --help\")", sub);

	PQfinish(conn);
	free(opts.args);
	return EXIT_OK;
}

int
cmd_registry(const char *conninfo, int argc, char **argv)
{
	AdminOptions opts;
	PGconn	   *conn;
	PGresult   *res;
	const char *sub;

	if (argc < 2)
		die(EXIT_USAGE, "registry: expected set, list, delete or docker-config (see \"nsvault registry --help\")");
	sub = argv[1];
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0)
	{
		fputs(registry_usage, stdout);
		return EXIT_OK;
	}
	parse_options(argc - 1, argv + 1, registry_usage, &opts);
	if (opts.private && !opts.global)
		die(EXIT_USAGE, "registry %s: --private goes with --global", sub);

	if (strcmp(sub, "set") == 0)
	{
		size_t		len;
		char	   *data;
		const char *params[3];
		DbError		error;

		if (opts.global)
			expect_operands(&opts, 1, 1, "registry set --global [--private] URL");
		else
			expect_operands(&opts, 2, 2, "registry set NAMESPACE URL");
		data = read_value(&len, "registry data");
		if (len > 0 && data[len - 1] == '\n')
			data[--len] = '\0';
		if (len > 0 && data[len - 1] == '\r')
			data[--len] = '\0';
		conn = connect_or_die(conninfo);
		if (opts.global)
		{
			params[0] = opts.args[0];
			params[1] = data;
			params[2] = opts.private ? "true" : "false";
			res = db_call(conn, "SELECT nsvault.set_global_registry($1, $2, $3)", 3, params,
						  &set_global_registry_answer, &error);
		}
		else
		{
			params[0] = opts.args[0];
			params[1] = opts.args[1];
			params[2] = data;
			res = db_call(conn, "SELECT nsvault.set_registry($1, $2, $3)", 3, params,
						  &set_registry_answer, &error);
		}
		wipe_and_free(data, len);
		if (res == NULL)
		{
			PQfinish(conn);
			die(error.status, "registry set: %s", error.message);
		}
		PQclear(res);
	}
	else if (strcmp(sub, "list") == 0)
	{
		conn = NULL;
		if (opts.global)
		{
			expect_operands(&opts, 0, 0, "registry list --global");
			conn = connect_or_die(conninfo);
			res = call_or_die(conn, "registry list", &list_global_registries_answer,
							  "SELECT scope, url, user_hint, created_at FROM nsvault.list_global_registries()",
							  0, NULL);
		}
		else
		{
			expect_operands(&opts, 1, 1, "registry list NAMESPACE");
			conn = connect_or_die(conninfo);
			res = call_or_die(conn, "registry list", &list_registries_answer,
							  "SELECT url, user_hint, created_at FROM nsvault.list_registries($1)",
							  1, (const char *const *) opts.args);
		}
		print_rows(res);
		PQclear(res);
	}
	else if (strcmp(sub, "delete") == 0)
	{
		bool		deleted;
		const char *params[2];

		if (opts.global)
			expect_operands(&opts, 1, 1, "registry delete --global [--private] URL");
		else
			expect_operands(&opts, 2, 2, "registry delete NAMESPACE URL");
		conn = connect_or_die(conninfo);
		if (opts.global)
		{
			params[0] = opts.args[0];
			params[1] = opts.private ? "true" : "false";
			res = call_or_die(conn, "registry delete", &delete_global_registry_answer,
							  "SELECT nsvault.delete_global_registry($1, $2)", 2, params);
		}
		else
			res = call_or_die(conn, "registry delete", &delete_registry_answer,
							  "SELECT nsvault.delete_registry($1, $2)",
							  2, (const char *const *) opts.args);
		deleted = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
		PQclear(res);
		if (!deleted)
		{
			PQfinish(conn);
			if (opts.global)
				die(EXIT_NOT_FOUND, "registry delete: %s registry \"%s\" not found",
					opts.private ? "global-private" : "global", opts.args[0]);
			die(EXIT_NOT_FOUND, "registry delete: registry \"%s\" not found in namespace \"%s\"",
				opts.args[1], opts.args[0]);
		}
	}
	else if (strcmp(sub, "docker-config") == 0)
	{
		const char *params[3];

		if (opts.global)
			die(EXIT_USAGE, "registry docker-config: use --global-service, not --global");
		expect_operands(&opts, 1, 2, "registry docker-config NAMESPACE [IMAGE]");
		params[0] = opts.args[0];
		params[1] = opts.nargs > 1 ? opts.args[1] : NULL;
		params[2] = opts.global_service ? "true" : "false";
		conn = connect_or_die(conninfo);
		res = call_or_die(conn, "registry docker-config", &docker_config_answer,
						  "SELECT nsvault.docker_config($1, $2, $3)", 3, params);
		if (!write_all(1, PQgetvalue(res, 0, 0), PQgetlength(res, 0, 0)) ||
			!write_all(1, "\n", 1))
		{
			db_wipe_result(res);
			die(EXIT_FAIL, "registry docker-config: could not write to standard output");
		}
		db_wipe_result(res);
	}
	else
		die(EXIT_USAGE, "registry: unknown subcommand \"%s\" (see \"nsvault registry --help\")", sub);

	PQfinish(conn);
	free(opts.args);
	return EXIT_OK;
}
