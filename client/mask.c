/*
 * mask.c — the mask command: standard input to standard output, with
 * every form of the named secrets' values as "***"; and what run shares
 * with it: fetching the secrets, and their patterns.
 *
 * The values are fetched in one get_secrets call and wiped as soon as the
 * automaton is built: from then on only their encodings, in the masker's
 * tables, are in memory, and masker_free wipes those.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "action_file.h"
#include "mask.h"
#include "masker.h"
#include "nsvault.h"

const char mask_usage[] =
"Usage:\n"
"  nsvault [-d CONNINFO] mask [--namespace NS] --secret NAME [--secret NAME ...] [--min-length N]\n"
"  nsvault [-d CONNINFO] mask [--namespace NS] --action FILE [--min-length N]\n"
"  nsvault [-d CONNINFO] mask [--namespace NS] --workflow FILE --state ID [--min-length N]\n"
"\n"
"Copies standard input to standard output, with \"***\" wherever a secret's\n"
"value appears: the value, each line of a multi-line value, its base64\n"
"(standard and URL-safe, at any alignment inside longer base64), its JSON\n"
"string escapes and its percent-encodings, as common encoders write them.\n"
"Matches that overlap are masked as one.  Line breaks are kept, so a\n"
"multi-line value becomes one \"***\" per line.  Output follows input line\n"
"by line, so mask can follow a live log.\n"
"\n"
"  -n, --namespace=NS   namespace of the secrets; default NSVAULT_NAMESPACE, then\n"
"                       the config file's\n"
"      --secret=NAME    a secret to mask; may be repeated\n"
"  -a, --action=FILE    mask the secrets this action names (JSON or YAML)\n"
"  -w, --workflow=FILE  with --state: mask the secrets of that action state\n"
"  -s, --state=ID       the state of type action\n"
"      --min-length=N   leave values, and lines of values, shorter than N\n"
"                       bytes unmasked, with a warning (default 4)\n"
"\n"
"Exit status: 0 done, 2 usage error, 3 a named secret does not exist (before\n"
"any output), 1 any other failure.\n";


#define MASK_MAX_MIN_LENGTH 4096

/* get_secrets leaving the missing names out (nsvault 0.5's form) */
#define GET_PRESENT_SECRETS_SQL "SELECT nsvault.get_secrets($1, $2, true)"

/*
 * Copies each named value out of get_secrets' answer, {NAME: value, ...};
 * with missing_ok, a name the answer leaves out gets a NULL value.
 */
static bool
take_values(SecretSet *set, PGresult *res, const char *namespace, bool missing_ok,
			DbError *error)
{
	json_t	   *secrets = db_secrets_from_answer(res, set->names, set->n, namespace, missing_ok,
												 error);

	if (secrets == NULL)
		return false;
	set->values = calloc(set->n + 1, sizeof(char *));
	set->lens = calloc(set->n + 1, sizeof(size_t));
	if (set->values == NULL || set->lens == NULL)
		die(EXIT_FAIL, "out of memory");
	for (size_t i = 0; i < set->n; i++)
	{
		const json_t *value = json_object_get(secrets, set->names[i]);

		if (value == NULL)
			continue;
		set->lens[i] = json_string_length(value);
		set->values[i] = malloc(set->lens[i] + 1);
		if (set->values[i] == NULL)
			die(EXIT_FAIL, "out of memory");
		memcpy(set->values[i], json_string_value(value), set->lens[i] + 1);
	}
	json_decref(secrets);
	return true;
}

/*
 * Fetches the values of set->names in one get_secrets call on conn.  A
 * missing secret fails with EXIT_NOT_FOUND, or with missing_ok gets a NULL
 * value.  Returns false with the error, and no values, when the call fails.
 */
bool
secrets_fetch_on(PGconn *conn, SecretSet *set, const char *namespace, bool missing_ok,
				 DbError *error)
{
	const char *params[2];
	char	   *array = db_text_array(set->names, set->n);
	PGresult   *res;

	params[0] = namespace;
	params[1] = array;
	res = db_call(conn, missing_ok ? GET_PRESENT_SECRETS_SQL : DB_GET_SECRETS_SQL, 2, params,
				  &db_get_secrets_answer, error);
	free(array);
	return res != NULL && take_values(set, res, namespace, missing_ok, error);
}

/*
 * Fetches the values of set->names in one call; a missing secret fails
 * with EXIT_NOT_FOUND before anything else is done.
 */
void
secrets_fetch(SecretSet *set, const char *conninfo, const char *namespace,
			  const char *command)
{
	DbError		error;
	PGconn	   *conn = db_connect(conninfo, &error);

	if (conn == NULL)
		die(error.status, "%s: %s", command, error.message);
	if (!secrets_fetch_on(conn, set, namespace, false, &error))
	{
		PQfinish(conn);
		die(error.status, "%s: %s", command, error.message);
	}
	PQfinish(conn);
}

/* Wipes and frees the values (the names are the command line's). */
void
secrets_wipe(SecretSet *set)
{
	for (size_t i = 0; set->values != NULL && i < set->n; i++)
		wipe_and_free(set->values[i], set->lens[i]);
	free(set->values);
	free(set->lens);
	set->values = NULL;
	set->lens = NULL;
}

/* Parses --min-length: a whole number of bytes from 1 up. */
size_t
mask_min_length(const CommandLine *cl, const char *command)
{
	return (size_t) option_whole_number(cl, OPT_MIN_LENGTH, command, "--min-length",
										MASK_MAX_MIN_LENGTH, MASK_DEFAULT_MIN_LENGTH);
}

/*
 * The patterns of every value (a secret left out has none); warns, by name,
 * of what is too short to mask.
 */
struct MaskPatterns *
secrets_patterns(const SecretSet *set, size_t min_length, const char *command)
{
	MaskPatterns *patterns = mask_patterns_new();

	for (size_t i = 0; i < set->n; i++)
	{
		MaskShort	too_short;

		if (set->values[i] == NULL)
			continue;
		too_short = mask_patterns_add_value(patterns, set->values[i], set->lens[i],
											min_length);
		if (too_short == MASK_SHORT_VALUE)
			warn("%s: secret \"%s\" is shorter than %zu bytes: it is not masked",
				 command, set->names[i], min_length);
		else if (too_short == MASK_SHORT_LINES)
			warn("%s: secret \"%s\" has lines shorter than %zu bytes: those lines are masked only within the whole value",
				 command, set->names[i], min_length);
	}
	return patterns;
}

/* A MaskWrite to a file descriptor (context: an int *). */
bool
mask_write_fd(void *context, struct iovec *pieces, int count)
{
	return writev_all(*(const int *) context, pieces, count);
}

/* The names of the secrets the options name, directly or through an action. */
static void
names_to_mask(const CommandLine *cl, SecretSet *set, json_t **doc)
{
	bool		is_subflow;
	const json_t *action;
	const json_t *names;

	*doc = NULL;
	if (option_given(cl, OPT_SECRET))
	{
		set->n = cl->nrepeated[OPT_SECRET];
		set->names = cl->repeated[OPT_SECRET];
		return;
	}
	action = load_action(cl, "mask", doc, &is_subflow);
	names = json_object_get(action, "secrets");
	if (names != NULL && !json_is_array(names))
		die(EXIT_FAIL, "mask: the action's secrets field is not a list");
	set->n = json_array_size(names);
	set->names = malloc(sizeof(char *) * (set->n + 1));
	if (set->names == NULL)
		die(EXIT_FAIL, "out of memory");
	for (size_t i = 0; i < set->n; i++)
		if ((set->names[i] = json_string_value(json_array_get(names, i))) == NULL)
			die(EXIT_FAIL, "mask: the action's secrets field holds something other than names");
}

/* Checks that the options name the secrets one way: directly, by action, or by workflow state. */
static void
check_mask_options(const CommandLine *cl)
{
	int			ways = option_given(cl, OPT_SECRET) + option_given(cl, OPT_ACTION) +
		option_given(cl, OPT_WORKFLOW);

	if (cl->nargs > 0)
		die(EXIT_USAGE, "mask: unexpected argument \"%s\" (see \"nsvault mask --help\")", cl->args[0]);
	if (ways != 1)
		die(EXIT_USAGE, "mask: give --secret NAME, --action FILE or --workflow FILE --state ID (see \"nsvault mask --help\")");
	if (option_given(cl, OPT_WORKFLOW) != option_given(cl, OPT_STATE))
		die(EXIT_USAGE, "mask: --workflow and --state go together");
	if (cl->namespace == NULL)
		die(EXIT_USAGE, "mask: --namespace is required (or NSVAULT_NAMESPACE, or the config file's namespace)");
}

/* Copies standard input through the masker to standard output. */
static int
mask_stream(Masker *masker)
{
	int			status = EXIT_OK;

	for (;;)
	{
		size_t		room;
		char	   *buf = masker_room(masker, &room);
		ssize_t		got = read(0, buf, room);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
		{
			warn("mask: could not read standard input: %s", strerror(errno));
			status = EXIT_FAIL;
			break;
		}
		if (got == 0 || !masker_took(masker, (size_t) got))
			break;
	}
	if (!masker_finish(masker))
	{
		warn("mask: could not write to standard output: %s", strerror(errno));
		status = EXIT_FAIL;
	}
	return status;
}

int
cmd_mask(const CommandLine *cl)
{
	SecretSet	set = {0};
	json_t	   *doc;
	size_t		min_length = mask_min_length(cl, "mask");
	MaskPatterns *patterns;
	Masker	   *masker;
	static int	out_fd = 1;
	int			status;

	check_mask_options(cl);
	names_to_mask(cl, &set, &doc);
	if (set.n == 0)
		warn("mask: the action names no secrets: nothing is masked");
	else
		secrets_fetch(&set, cl->conninfo, cl->namespace, "mask");
	patterns = secrets_patterns(&set, min_length, "mask");
	secrets_wipe(&set);
	masker = masker_new(patterns, mask_write_fd, &out_fd);
	mask_patterns_free(patterns);
	status = mask_stream(masker);
	masker_free(masker);
	if (doc != NULL)
		free(set.names);
	json_decref(doc);
	return status;
}
