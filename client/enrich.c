/*
 * enrich.c — the enrich command: an action's input, as Direktiv's engine
 * makes it.
 *
 * Copy the instance data; if the action names secrets, fetch them all in
 * one round trip (nsvault.get_secrets) and put them under .secrets,
 * replacing whatever was there; evaluate the action's input template
 * against that; print the result; throw the enriched data away.  An action
 * that names no secrets opens no database connection.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "action_file.h"
#include "nsvault.h"

/* a limit's number, in text */
#define TEXT_OF(n) #n
#define NUMBER_TEXT(n) TEXT_OF(n)

const char enrich_usage[] =
"Usage:\n"
"  nsvault [-d CONNINFO] enrich [--namespace NS] --workflow FILE --state ID [--data FILE] [LIMITS]\n"
"  nsvault [-d CONNINFO] enrich [--namespace NS] --action FILE [--data FILE] [LIMITS]\n"
"  nsvault [-d CONNINFO] enrich --batch [LIMITS]\n"
"\n"
"Prints the input an action's function gets, as JSON: the action's input\n"
"template evaluated against the instance data, with the secrets the action\n"
"names under .secrets.\n"
"\n"
"  -n, --namespace=NS   namespace of the secrets (needed when the action names\n"
"                       any); default NSVAULT_NAMESPACE, then the config file's\n"
"  -w, --workflow=FILE  workflow definition (YAML); with --state, its action state\n"
"  -s, --state=ID       the state of type action to enrich\n"
"  -a, --action=FILE    an action definition alone (JSON or YAML)\n"
"      --data=FILE      instance data, a JSON object (default: standard input)\n"
"      --batch          read requests as JSON lines on standard input:\n"
"                       {\"namespace\": ..., \"action\": {...}, \"data\": {...}}\n"
"                       and write one line each, in order: {\"input\": ...} or\n"
"                       {\"error\": {\"code\": ..., \"message\": ...}}; codes are\n"
"                       invalid_request, not_found, expired, template and\n"
"                       database\n"
"\n"
"LIMITS, on each js(...) expression:\n"
"      --js-timeout=SECONDS  time, from 1 to " NUMBER_TEXT(JS_MAX_TIME_LIMIT)
" (default " NUMBER_TEXT(JS_DEFAULT_TIME_LIMIT) ")\n"
"      --js-memory=MB   memory, from 1 to " NUMBER_TEXT(JS_MAX_MEMORY_LIMIT_MB)
" (default " NUMBER_TEXT(JS_DEFAULT_MEMORY_LIMIT_MB) ")\n"
"\n"
"Exit status: 0 done, 2 usage error, 3 a named secret does not exist,\n"
"1 any other failure.\n";

/* What enrichment of one action needs and keeps across requests. */
typedef struct Enricher
{
	const char *conninfo;
	PGconn	   *conn;			/* opened on the first action that names secrets */
	const char *warn_prefix;	/* "" or "request N: " */
} Enricher;

/* The outcome of enriching one action. */
typedef struct Outcome
{
	int			status;			/* EXIT_* */
	const char *code;			/* batch error code */
	char		message[1024];
} Outcome;

static json_t *
failed(Outcome *out, int status, const char *code, const char *fmt,...)
	__attribute__((format(printf, 4, 5)));

static json_t *
failed(Outcome *out, int status, const char *code, const char *fmt,...)
{
	va_list		ap;

	out->status = status;
	out->code = code;
	va_start(ap, fmt);
	vsnprintf(out->message, sizeof(out->message), fmt, ap);
	va_end(ap);
	return NULL;
}


/*
 * Checks an action and its data before anything is fetched.  Returns the
 * names of the secrets it needs (possibly none), or NULL with out set.
 */
static const json_t *
check_action(const char *namespace, const json_t *action, const json_t *data, Outcome *out)
{
	static json_t *no_names = NULL;
	const json_t *names = json_object_get(action, "secrets");

	if (!json_is_object(data))
		return failed(out, EXIT_FAIL, "invalid_request", "the instance data is not a JSON object");
	if (names == NULL || json_is_null(names))
	{
		if (no_names == NULL)
			no_names = json_array();
		return no_names;
	}
	if (!json_is_array(names))
		return failed(out, EXIT_FAIL, "invalid_request", "the action's secrets field is not a list");
	for (size_t i = 0; i < json_array_size(names); i++)
	{
		const json_t *name = json_array_get(names, i);

		if (!json_is_string(name))
			return failed(out, EXIT_FAIL, "invalid_request",
						  "the action's secrets field holds something other than names");
		/* a NUL would cut the name short on its way to the server */
		if (strlen(json_string_value(name)) != json_string_length(name))
			return failed(out, EXIT_FAIL, "invalid_request",
						  "the action's secrets field holds a name with a NUL character");
	}
	if (json_array_size(names) > 0 && namespace == NULL)
		return failed(out, EXIT_USAGE, "invalid_request",
					  "the action names secrets: a namespace is required");
	return names;
}

/* Returns the names of a checked secrets list as an array of strings, to free. */
static const char **
name_items(const json_t *names)
{
	size_t		n = json_array_size(names);
	const char **items = malloc(sizeof(char *) * (n ? n : 1));

	if (items == NULL)
		die(EXIT_FAIL, "out of memory");
	for (size_t i = 0; i < n; i++)
		items[i] = json_string_value(json_array_get(names, i));
	return items;
}

/* Returns the text[] literal of the names, for get_secrets' bind parameter. */
static char *
names_literal(const json_t *names)
{
	const char **items = name_items(names);
	char	   *array = db_text_array(items, json_array_size(names));

	free(items);
	return array;
}

/* Fails with a database error, naming its batch code. */
static json_t *
failed_call(Outcome *out, const DbError *error)
{
	return failed(out, error->status,
				  error->status == EXIT_NOT_FOUND ? "not_found" :
				  error->expired ? "expired" : "database",
				  "%s", error->message);
}

/*
 * Turns get_secrets' result for names into {NAME: value, ...}, checking
 * its shape: only names asked, each a string, and all of them unless
 * missing_ok.  NULL with out set when it is not.
 */
static json_t *
secrets_from_result(PGconn *conn, PGresult *res, const json_t *names, const char *namespace,
					bool missing_ok, Outcome *out)
{
	DbError		error;
	const char **items;
	json_t	   *secrets;

	if (!db_answer_ok(conn, res, &db_get_secrets_answer, &error))
		return failed_call(out, &error);
	items = name_items(names);
	secrets = db_secrets_from_answer(res, items, json_array_size(names), namespace, missing_ok,
									 &error);
	free(items);
	if (secrets == NULL)
		return failed_call(out, &error);
	return secrets;
}

/* Opens the connection on first need; false with out set when it cannot. */
static bool
ensure_connection(Enricher *en, Outcome *out)
{
	DbError		error;

	if (en->conn != NULL && PQstatus(en->conn) != CONNECTION_OK)
		PQreset(en->conn);
	if (en->conn == NULL)
		en->conn = db_connect(en->conninfo, &error);
	if (en->conn == NULL || PQstatus(en->conn) != CONNECTION_OK)
	{
		if (en->conn != NULL)
		{
			snprintf(error.message, sizeof(error.message), "the connection was lost");
			error.status = EXIT_FAIL;
		}
		failed(out, error.status, "database", "%s", error.message);
		return false;
	}
	return true;
}

/* Fetches the named secrets in one round trip; returns {NAME: value, ...}. */
static json_t *
fetch_secrets(Enricher *en, const char *namespace, const json_t *names, Outcome *out)
{
	char	   *array;
	const char *params[2];
	PGresult   *res;

	if (!ensure_connection(en, out))
		return NULL;
	array = names_literal(names);
	params[0] = namespace;
	params[1] = array;
	res = PQexecParams(en->conn, DB_GET_SECRETS_SQL, 2, NULL, params, NULL, NULL, 0);
	free(array);
	return secrets_from_result(en->conn, res, names, namespace, false, out);
}

/*
 * Evaluates a checked action's input against a copy of the data with
 * secrets (taken over; NULL for none) under .secrets.  Returns the input,
 * or NULL with out set.  is_subflow says the action calls a subflow.
 */
static json_t *
evaluate_action(Enricher *en, const json_t *action, const json_t *data, json_t *secrets,
				bool is_subflow, Outcome *out)
{
	const json_t *template = json_object_get(action, "input");
	json_t	   *implicit = NULL;
	json_t	   *enriched;
	json_t	   *input;
	char		error[1024];

	/* Direktiv reads "input": null as no input */
	if (template == NULL || json_is_null(template))
	{
		warn("%saction has no input: the whole data, secrets included, goes to the function",
			 en->warn_prefix);
		template = implicit = json_string("jq(.)");
	}
	if (is_subflow && secrets != NULL)
		warn("%sthe action calls a subflow: its input, secrets included, will be logged and kept in the subflow's instance data",
			 en->warn_prefix);
	else if (is_subflow)
		warn("%sthe action calls a subflow: its input will be logged and kept in the subflow's instance data",
			 en->warn_prefix);

	enriched = json_deep_copy(data);
	if (secrets != NULL)
		json_object_set_new(enriched, "secrets", secrets);
	input = jx_evaluate(template, enriched, error, sizeof(error));
	json_decref(enriched);
	json_decref(implicit);
	if (input == NULL)
		return failed(out, EXIT_FAIL, "template", "%s", error);
	return input;
}

/* Enriches one action, fetching its secrets on its own; NULL with out set on failure. */
static json_t *
enrich_action(Enricher *en, const char *namespace, const json_t *action,
			  const json_t *data, bool is_subflow, Outcome *out)
{
	const json_t *names = check_action(namespace, action, data, out);
	json_t	   *secrets = NULL;

	if (names == NULL)
		return NULL;
	if (json_array_size(names) > 0)
	{
		secrets = fetch_secrets(en, namespace, names, out);
		if (secrets == NULL)
			return NULL;
	}
	return evaluate_action(en, action, data, secrets, is_subflow, out);
}

/* Writes a JSON value and a newline to standard output; false with errno if it could not. */
static bool
print_json_line(const json_t *value)
{
	char	   *text = json_text(value);
	size_t		len = strlen(text);
	bool		ok = write_all(1, text, len) && write_all(1, "\n", 1);
	int			reason = errno;

	wipe_and_free(text, len);
	errno = reason;
	return ok;
}

/* One request of a batch window. */
typedef struct Request
{
	json_t	   *line;			/* the parsed request, or NULL */
	const json_t *action;
	const json_t *data;
	const char *namespace;
	const json_t *names;		/* NULL when the request failed its checks */
	int			group;			/* its namespace's Group, or -1 */
	bool		sent;			/* a get_secrets of its own is in the pipeline */
	Outcome		out;
	long		number;
} Request;

#define BATCH_WINDOW 64

/*
 * The requests of a window that read one namespace: the union of their
 * names, read in one get_secrets call that leaves missing names out, so
 * that each request can be told what it lacks.
 */
typedef struct Group
{
	const char *namespace;
	json_t	   *names;			/* each name once */
	json_t	   *seen;			/* the same names, as keys */
	json_t	   *secrets;		/* the answer, or NULL */
	bool		sent;
	bool		failed;			/* its requests ask one by one instead */
} Group;

#define GET_PRESENT_SECRETS_SQL "SELECT nsvault.get_secrets($1, $2, true)"

/* Parses and checks one line into request. */
static void
read_request(Request *req, const char *line, size_t len, json_t *empty)
{
	json_error_t parse_error;

	req->line = parse_json(line, len, 0, &parse_error);
	if (req->line == NULL && json_error_code(&parse_error) == json_error_numeric_overflow)
	{
		failed(&req->out, EXIT_FAIL, "invalid_request", "line %ld holds a number out of range",
			   req->number);
		return;
	}
	if (!json_is_object(req->line))
	{
		failed(&req->out, EXIT_FAIL, "invalid_request", "line %ld is not a JSON object", req->number);
		return;
	}
	req->action = json_object_get(req->line, "action");
	req->data = json_object_get(req->line, "data");
	if (req->data == NULL)
		req->data = empty;
	if (!json_is_object(req->action))
	{
		failed(&req->out, EXIT_FAIL, "invalid_request", "the request has no action object");
		return;
	}
	if (json_object_get(req->line, "namespace") != NULL &&
		!json_is_string(json_object_get(req->line, "namespace")))
	{
		failed(&req->out, EXIT_FAIL, "invalid_request", "the request's namespace is not a string");
		return;
	}
	req->namespace = json_string_value(json_object_get(req->line, "namespace"));
	req->names = check_action(req->namespace, req->action, req->data, &req->out);
}

/*
 * Reads the result of a get_secrets call sent for names, its end and its
 * sync; returns the secrets, or NULL with out set.
 */
static json_t *
receive_secrets(Enricher *en, const json_t *names, const char *namespace, bool missing_ok,
				Outcome *out)
{
	PGresult   *res = PQgetResult(en->conn);
	PGresult   *extra;
	json_t	   *secrets;

	if (res == NULL)
		return failed(out, EXIT_FAIL, "database", "the server sent no result");
	secrets = secrets_from_result(en->conn, res, names, namespace, missing_ok, out);
	/* the query's results end with NULL; its sync comes after */
	while ((extra = PQgetResult(en->conn)) != NULL)
		PQclear(extra);
	extra = PQgetResult(en->conn);
	if (extra == NULL || PQresultStatus(extra) != PGRES_PIPELINE_SYNC)
		die(EXIT_FAIL, "enrich --batch: the server's replies are out of step");
	PQclear(extra);
	return secrets;
}

/* Queues one get_secrets call of sql in the pipeline, with a sync of its own. */
static bool
send_get_secrets(Enricher *en, const char *sql, const char *namespace, const json_t *names,
				 Outcome *out)
{
	char	   *array;
	const char *params[2];
	bool		sent;

	if (!ensure_connection(en, out))
		return false;
	if (PQpipelineStatus(en->conn) == PQ_PIPELINE_OFF && !PQenterPipelineMode(en->conn))
		die(EXIT_FAIL, "enrich --batch: could not enter pipeline mode");
	array = names_literal(names);
	params[0] = namespace;
	params[1] = array;
	/* a sync per call: an error aborts only its own call */
	sent = PQsendQueryParams(en->conn, sql, 2, NULL, params, NULL, NULL, 0) &&
		PQpipelineSync(en->conn);
	free(array);
	if (!sent)
		failed(out, EXIT_FAIL, "database", "could not send the request");
	return sent;
}

/* Queues get_secrets for a request of its own. */
static void
send_request(Enricher *en, Request *req)
{
	req->sent = send_get_secrets(en, DB_GET_SECRETS_SQL, req->namespace, req->names, &req->out);
	if (!req->sent)
		req->names = NULL;
}

/*
 * Sorts a window's requests that name secrets into groups by namespace,
 * each with the union of its requests' names; returns how many groups.
 */
static int
group_requests(Request *window, int n, Group *groups)
{
	int			ngroups = 0;

	for (int i = 0; i < n; i++)
	{
		Request    *req = &window[i];
		int			g;

		req->group = -1;
		if (req->names == NULL || json_array_size(req->names) == 0)
			continue;
		for (g = 0; g < ngroups; g++)
			if (strcmp(groups[g].namespace, req->namespace) == 0)
				break;
		if (g == ngroups)
		{
			memset(&groups[g], 0, sizeof(groups[g]));
			groups[g].namespace = req->namespace;
			groups[g].names = json_array();
			groups[g].seen = json_object();
			ngroups++;
		}
		req->group = g;
		for (size_t k = 0; k < json_array_size(req->names); k++)
		{
			json_t	   *name = json_array_get(req->names, k);

			/* the names so far are keys of seen, each looked up at once */
			if (json_object_get(groups[g].seen, json_string_value(name)) == NULL)
			{
				json_object_set_new(groups[g].seen, json_string_value(name), json_true());
				json_array_append(groups[g].names, name);
			}
		}
	}
	return ngroups;
}

/*
 * Reads every group's answer, then asks one by one for the requests of a
 * group whose call failed (a name or namespace the server refuses, say, or
 * an answer of the wrong shape), so that each request gets the answer it
 * would get alone.
 */
static void
fetch_groups(Enricher *en, Request *window, int n, Group *groups, int ngroups)
{
	for (int g = 0; g < ngroups; g++)
	{
		Outcome		ignored;

		groups[g].sent = send_get_secrets(en, GET_PRESENT_SECRETS_SQL, groups[g].namespace,
										  groups[g].names, &ignored);
	}
	for (int g = 0; g < ngroups; g++)
	{
		Outcome		ignored;

		groups[g].secrets = groups[g].sent
			? receive_secrets(en, groups[g].names, groups[g].namespace, true, &ignored)
			: NULL;
		groups[g].failed = (groups[g].secrets == NULL);
	}
	for (int i = 0; i < n; i++)
		if (window[i].group >= 0 && groups[window[i].group].failed)
			send_request(en, &window[i]);
}

/*
 * A request's secrets from its group's answer, in the answer's order (as
 * get_secrets orders them); NULL with out set, naming the first missing
 * name in the request's order, as get_secrets would.
 */
static json_t *
request_secrets(const Request *req, const Group *group, Outcome *out)
{
	json_t	   *wanted = json_object();
	json_t	   *secrets;
	const char *name;
	json_t	   *value;

	for (size_t k = 0; k < json_array_size(req->names); k++)
	{
		name = json_string_value(json_array_get(req->names, k));
		if (json_object_get(group->secrets, name) == NULL)
		{
			json_decref(wanted);
			return failed(out, EXIT_NOT_FOUND, "not_found",
						  "secret \"%s\" not found in namespace \"%s\"", name, req->namespace);
		}
		json_object_set_new(wanted, name, json_true());
	}
	secrets = json_object();
	json_object_foreach((json_t *) group->secrets, name, value)
		if (json_object_get(wanted, name) != NULL)
			json_object_set(secrets, name, value);
	json_decref(wanted);
	return secrets;
}

/*
 * Standard input's request lines.  From a descriptor they are read with
 * read(2) into a buffer of our own, so that what has arrived can be looked
 * at without waiting: in stdio's buffer a line that is still being written
 * would pass for a whole one, and getline would then wait for its end.  A
 * stream that is no descriptor (a string, in the fuzz target) is read with
 * getline, and never waits.
 */
typedef struct LineReader
{
	FILE	   *stream;
	int			fd;				/* stream's descriptor, or -1 */
	char	   *buf;
	size_t		cap;
	size_t		start;			/* where the next line begins */
	size_t		end;			/* where what has been read ends */
	bool		at_end;			/* read(2) found the end, or failed */
} LineReader;

static void
reader_init(LineReader *reader, FILE *stream)
{
	memset(reader, 0, sizeof(*reader));
	reader->stream = stream;
	reader->fd = fileno(stream);
}

/* Whether the buffer holds a whole line. */
static bool
reader_has_line(const LineReader *reader)
{
	return memchr(reader->buf + reader->start, '\n', reader->end - reader->start) != NULL;
}

/*
 * Reads once from the descriptor, after the lines already read are moved
 * out of the way (and wiped) or the buffer made bigger.  The end of the
 * input, or an error, sets at_end.
 */
static void
reader_fill(LineReader *reader)
{
	ssize_t		got;

	if (reader->start > 0)
	{
		size_t		kept = reader->end - reader->start;

		memmove(reader->buf, reader->buf + reader->start, kept);
		explicit_bzero(reader->buf + kept, reader->end - kept);
		reader->start = 0;
		reader->end = kept;
	}
	if (reader->cap - reader->end < 4096)
	{
		size_t		cap = reader->cap < 65536 ? 65536 : reader->cap * 2;
		char	   *bigger = realloc(reader->buf, cap);

		if (bigger == NULL)
			die(EXIT_FAIL, "out of memory");
		reader->buf = bigger;
		reader->cap = cap;
	}
	while ((got = read(reader->fd, reader->buf + reader->end, reader->cap - reader->end)) < 0 &&
		   errno == EINTR)
		;
	if (got <= 0)
		reader->at_end = true;
	else
		reader->end += got;
}

/*
 * Whether the next line can be read without waiting: a whole line has
 * arrived, or the input has ended.  A line still being written does not
 * count.
 */
static bool
reader_line_waiting(LineReader *reader)
{
	struct pollfd pfd = {reader->fd, POLLIN, 0};

	if (reader->fd < 0)
		return true;
	while (!reader_has_line(reader) && !reader->at_end)
	{
		int			ready = poll(&pfd, 1, 0);

		if (ready < 0 && errno == EINTR)
			continue;
		if (ready <= 0)
			return false;
		reader_fill(reader);
	}
	return true;
}

/*
 * Returns the next line, with its newline if it has one, and its length;
 * -1 at the end of the input.  The line stays valid until the next call.
 */
static ssize_t
reader_next(LineReader *reader, const char **line)
{
	char	   *newline;
	size_t		len;

	if (reader->fd < 0)
	{
		ssize_t		got = getline(&reader->buf, &reader->cap, reader->stream);

		*line = reader->buf;
		return got;
	}
	while (!reader_has_line(reader) && !reader->at_end)
		reader_fill(reader);
	if (reader->start == reader->end)
		return -1;
	newline = memchr(reader->buf + reader->start, '\n', reader->end - reader->start);
	len = newline != NULL ? (size_t) (newline - reader->buf) + 1 - reader->start
		: reader->end - reader->start;
	*line = reader->buf + reader->start;
	reader->start += len;
	return (ssize_t) len;
}

static void
reader_free(LineReader *reader)
{
	wipe_and_free(reader->buf, reader->cap);
	reader->buf = NULL;
}

/* Evaluates one request whose secrets have been fetched; returns its answer. */
static json_t *
answer_request(Enricher *en, Request *req, const Group *groups)
{
	json_t	   *input = NULL;
	json_t	   *reply;

	if (req->names != NULL)
	{
		json_t	   *secrets = NULL;
		bool		have_secrets = true;

		if (req->sent)
			have_secrets = (secrets = receive_secrets(en, req->names, req->namespace, false,
														  &req->out)) != NULL;
		else if (req->group >= 0)
			have_secrets = (secrets = request_secrets(req, &groups[req->group], &req->out)) != NULL;
		if (have_secrets)
			input = evaluate_action(en, req->action, req->data, secrets,
									json_object_get(req->action, "workflow") != NULL,
									&req->out);
	}
	if (input != NULL)
		reply = json_pack("{s:o}", "input", input);
	else
		reply = json_pack("{s:{s:s,s:s}}", "error", "code", req->out.code,
						  "message", req->out.message);
	if (reply == NULL)
		die(EXIT_FAIL, "out of memory");
	return reply;
}

/*
 * Answers a window's requests, in order, in one write.  Their secrets are
 * read in one get_secrets call per namespace, all of them in libpq's
 * pipeline mode: one round trip, not one each.
 */
static void
answer_window(Enricher *en, Request *window, int n, char *prefix, size_t prefix_size)
{
	Group		groups[BATCH_WINDOW];
	int			ngroups = group_requests(window, n, groups);
	char	   *text = NULL;
	size_t		len = 0;
	size_t		cap = 0;

	fetch_groups(en, window, n, groups, ngroups);
	/* the window's new jq expressions are compiled together */
	for (int i = 0; i < n; i++)
		if (window[i].names != NULL)
			jx_stage(json_object_get(window[i].action, "input"));
	jx_compile_staged();
	for (int i = 0; i < n; i++)
	{
		json_t	   *reply;

		snprintf(prefix, prefix_size, "request %ld: ", window[i].number);
		reply = answer_request(en, &window[i], groups);
		json_text_append(reply, &text, &len, &cap);
		json_text_raw_append(&text, &len, &cap, "\n", 1);
		json_decref(reply);
		json_decref(window[i].line);
	}
	if (len > 0 && !write_all(1, text, len))
		die(EXIT_FAIL, "enrich: could not write to standard output: %s", strerror(errno));
	wipe_and_free(text, len);
	for (int g = 0; g < ngroups; g++)
	{
		json_decref(groups[g].names);
		json_decref(groups[g].seen);
		json_decref(groups[g].secrets);
	}
}

/*
 * Serves JSON-line requests until standard input ends.  A window is the
 * requests that have arrived, up to BATCH_WINDOW: it is answered as soon as
 * no further whole request is waiting, so that an engine that sends one
 * request and waits for its answer gets it, even when it has begun to write
 * the next.
 */
static int
run_batch(Enricher *en)
{
	LineReader	reader;
	const char *line;
	ssize_t		len;
	long		number = 0;
	char		prefix[64];
	json_t	   *empty = json_object();
	Request		window[BATCH_WINDOW];
	bool		at_end = false;

	en->warn_prefix = prefix;
	reader_init(&reader, stdin);
	while (!at_end)
	{
		int			n = 0;

		while (n < BATCH_WINDOW)
		{
			Request    *req = &window[n];

			if (n > 0 && !reader_line_waiting(&reader))
				break;
			if ((len = reader_next(&reader, &line)) < 0)
			{
				at_end = true;
				break;
			}
			number++;
			if (len == 0 || (len == 1 && line[0] == '\n'))
				continue;
			memset(req, 0, sizeof(*req));
			req->number = number;
			read_request(req, line, len, empty);
			n++;
		}

		answer_window(en, window, n, prefix, sizeof(prefix));
	}
	json_decref(empty);
	reader_free(&reader);
	return EXIT_OK;
}

/* the options of a one-shot enrich, which --batch refuses */
static const Option one_action_options[] = {OPT_NAMESPACE, OPT_WORKFLOW, OPT_STATE, OPT_ACTION, OPT_DATA};

/* Checks that the options name one action: in a workflow, or alone. */
static void
check_action_options(const CommandLine *cl)
{
	bool		workflow = option_given(cl, OPT_WORKFLOW);
	bool		state = option_given(cl, OPT_STATE);

	if (workflow == option_given(cl, OPT_ACTION))
		die(EXIT_USAGE, "enrich: give either --workflow FILE --state ID or --action FILE");
	if (workflow && !state)
		die(EXIT_USAGE, "enrich: --workflow needs --state ID");
	if (!workflow && state)
		die(EXIT_USAGE, "enrich: --state goes with --workflow");
}

/* Reads the instance data from a file, or from standard input if path is NULL. */
static json_t *
read_data(const char *path)
{
	json_error_t parse_error;
	size_t		len;
	char	   *text;
	json_t	   *data;

	if (path != NULL)
	{
		data = parse_json_file(path, JSON_DECODE_ANY, &parse_error);
		if (data == NULL)
			die(EXIT_FAIL, "enrich: could not read the data: %s: %s", path, parse_error.text);
		return data;
	}
	text = read_all(0, &len);
	if (text == NULL)
		die(EXIT_FAIL, "enrich: could not read the data from standard input");
	data = parse_json(text, len, JSON_DECODE_ANY, &parse_error);
	wipe_and_free(text, len);
	if (data == NULL)
		die(EXIT_FAIL, "enrich: the data on standard input is not JSON: line %d: %s",
			parse_error.line, parse_error.text);
	return data;
}

/* Enriches the one action the options name, and prints its input. */
static int
enrich_one(Enricher *en, const CommandLine *cl)
{
	json_t	   *doc;
	const json_t *action;
	bool		is_subflow = false;
	json_t	   *data;
	json_t	   *input;
	Outcome		out = {0};
	bool		written;
	int			reason;

	check_action_options(cl);
	action = load_action(cl, "enrich", &doc, &is_subflow);
	data = read_data(cl->value[OPT_DATA]);
	input = enrich_action(en, cl->namespace, action, data, is_subflow, &out);
	PQfinish(en->conn);
	en->conn = NULL;
	json_decref(data);
	json_decref(doc);
	if (input == NULL)
	{
		jx_reset();
		die(out.status, "enrich: %s", out.message);
	}
	written = print_json_line(input);
	reason = errno;
	json_decref(input);
	if (!written)
	{
		jx_reset();
		die(EXIT_FAIL, "enrich: could not write to standard output: %s", strerror(reason));
	}
	return EXIT_OK;
}

int
cmd_enrich(const CommandLine *cl)
{
	Enricher	en = {cl->conninfo, NULL, ""};
	int			status;

	if (cl->nargs > 0)
		die(EXIT_USAGE, "enrich: unexpected argument \"%s\"", cl->args[0]);
	js_set_limits(option_whole_number(cl, OPT_JS_TIMEOUT, "enrich", "--js-timeout",
									  JS_MAX_TIME_LIMIT, JS_DEFAULT_TIME_LIMIT),
				  option_whole_number(cl, OPT_JS_MEMORY, "enrich", "--js-memory",
									  JS_MAX_MEMORY_LIMIT_MB, JS_DEFAULT_MEMORY_LIMIT_MB));
	if (option_given(cl, OPT_BATCH))
	{
		for (size_t i = 0; i < sizeof(one_action_options) / sizeof(Option); i++)
			if (option_given(cl, one_action_options[i]))
				die(EXIT_USAGE, "enrich --batch takes its requests on standard input, and no option but the limits");
		status = run_batch(&en);
	}
	else
		status = enrich_one(&en, cl);
	PQfinish(en.conn);
	jx_reset();
	return status;
}
