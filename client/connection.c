/*
 * connection.c — the client's libpq connection and its function calls.
 *
 * Every value travels as a bind parameter of PQexecParams, never inside SQL
 * text, so no value reaches the server log with the statement.  Every
 * answer is checked against the shape its call must have before any of it
 * is read: a server that answers otherwise (an old or a foreign schema
 * named nsvault) gets a clear error, never a crash or an empty success.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nsvault.h"

const DbShape db_get_secrets_answer = {"nsvault.get_secrets", 1, 1, {DB_TYPE_JSONB}, 0};
const DbShape db_set_registry_answer = {"nsvault.set_registry", 1, 1, {DB_TYPE_VOID}, 0};
const DbShape db_set_global_registry_answer = {"nsvault.set_global_registry", 1, 1, {DB_TYPE_VOID}, 0};
const DbShape db_delete_registry_answer = {"nsvault.delete_registry", 1, 1, {DB_TYPE_BOOL}, 0};
const DbShape db_delete_global_registry_answer =
{"nsvault.delete_global_registry", 1, 1, {DB_TYPE_BOOL}, 0};

/* Copies a (possibly multi-line) libpq message into one line. */
static void
one_line(char *dst, size_t size, const char *src)
{
	size_t		n = 0;

	for (; *src && n + 1 < size; src++)
	{
		if (*src == '\n')
		{
			if (src[1] == '\0')
				break;
			if (n + 2 >= size)
				break;
			dst[n++] = ';';
			dst[n++] = ' ';
			while (src[1] == '\t' || src[1] == ' ')
				src++;
		}
		else
			dst[n++] = *src;
	}
	dst[n] = '\0';
}

/*
 * Connects with a conninfo string or URI, or the PG* environment when NULL;
 * the program's name is the application name unless PGAPPNAME or conninfo
 * gives one.
 */
PGconn *
db_connect(const char *conninfo, DbError *error)
{
	const char *keywords[] = {"dbname", "fallback_application_name", NULL};
	const char *values[] = {conninfo, progname, NULL};
	PGconn	   *conn = PQconnectdbParams(keywords, values, 1);

	if (conn == NULL || PQstatus(conn) != CONNECTION_OK)
	{
		char		reason[900];

		one_line(reason, sizeof(reason), conn ? PQerrorMessage(conn) : "out of memory");
		snprintf(error->message, sizeof(error->message), "could not connect: %s", reason);
		error->status = EXIT_FAIL;
		error->expired = false;
		error->sqlstate[0] = '\0';
		PQfinish(conn);
		return NULL;
	}
	return conn;
}

/*
 * Checks a result: returns true for one that succeeded, or false with the
 * server's message; a missing secret or registry sets status
 * EXIT_NOT_FOUND, a failed check-and-set EXIT_CONFLICT.  A function that
 * does not exist is one of a newer nsvault: the message says so.  A failed
 * result is cleared.
 */
static bool
db_result_ok(PGconn *conn, PGresult *res, DbError *error)
{
	const char *sqlstate;
	const char *message;
	const char *detail;
	char		line[900];

	if (res != NULL && PQresultStatus(res) == PGRES_TUPLES_OK)
		return true;

	sqlstate = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	message = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
	if (message == NULL)
		one_line(line, sizeof(line), PQerrorMessage(conn));
	else if (detail != NULL)
	{
		char		both[900];

		snprintf(both, sizeof(both), "%s (%s)", message, detail);
		one_line(line, sizeof(line), both);
	}
	else
		one_line(line, sizeof(line), message);
	if (sqlstate != NULL && strcmp(sqlstate, DB_SQLSTATE_UNDEFINED_FUNCTION) == 0)
		snprintf(error->message, sizeof(error->message),
				 "%s; the database's nsvault is older than this client (" NSVAULT_CLIENT_VERSION
				 "): ALTER EXTENSION nsvault UPDATE updates it", line);
	else
		snprintf(error->message, sizeof(error->message), "%s", line);
	error->status = EXIT_FAIL;
	if (sqlstate != NULL && strcmp(sqlstate, DB_SQLSTATE_NOT_FOUND) == 0)
		error->status = EXIT_NOT_FOUND;
	else if (sqlstate != NULL && strcmp(sqlstate, DB_SQLSTATE_CONFLICT) == 0)
		error->status = EXIT_CONFLICT;
	error->expired = sqlstate != NULL && strcmp(sqlstate, DB_SQLSTATE_EXPIRED) == 0;
	snprintf(error->sqlstate, sizeof(error->sqlstate), "%s", sqlstate ? sqlstate : "");
	PQclear(res);
	return false;
}

/* Writes a type's name, or its OID for a type no answer has. */
static const char *
type_name(Oid type, char *buf, size_t size)
{
	switch (type)
	{
		case DB_TYPE_BOOL:
			return "boolean";
		case DB_TYPE_NAME:
			return "name";
		case DB_TYPE_INT4:
			return "integer";
		case DB_TYPE_TEXT:
			return "text";
		case DB_TYPE_TIMESTAMPTZ:
			return "timestamptz";
		case DB_TYPE_VOID:
			return "void";
		case DB_TYPE_JSONB:
			return "jsonb";
	}
	snprintf(buf, size, "type OID %u", type);
	return buf;
}

/* Writes what is wrong with a result's columns; false when nothing is. */
static bool
columns_mismatch(const PGresult *res, const DbShape *shape, char *reason, size_t size)
{
	int			columns = PQnfields(res);
	char		got[32];
	char		wanted[32];

	if (columns != shape->columns)
	{
		snprintf(reason, size, "%d column%s, expected %d",
				 columns, columns == 1 ? "" : "s", shape->columns);
		return true;
	}
	for (int col = 0; col < columns; col++)
		if (PQftype(res, col) != shape->types[col])
		{
			snprintf(reason, size, "column %d is %s, expected %s", col + 1,
					 type_name(PQftype(res, col), got, sizeof(got)),
					 type_name(shape->types[col], wanted, sizeof(wanted)));
			return true;
		}
	return false;
}

/* Writes what is wrong with a result's rows and NULLs; false when nothing is. */
static bool
rows_mismatch(const PGresult *res, const DbShape *shape, char *reason, size_t size)
{
	int			rows = PQntuples(res);

	if (shape->rows == DB_AT_MOST_ONE_ROW ? rows > 1
		: shape->rows != DB_ANY_ROWS && rows != shape->rows)
	{
		if (shape->rows == DB_AT_MOST_ONE_ROW)
			snprintf(reason, size, "%d rows, expected at most 1", rows);
		else
			snprintf(reason, size, "%d row%s, expected %d",
					 rows, rows == 1 ? "" : "s", shape->rows);
		return true;
	}
	for (int row = 0; row < rows; row++)
		for (int col = 0; col < shape->columns; col++)
			if (shape->types[col] != DB_TYPE_VOID && !(shape->nullable & DB_NULLABLE(col)) &&
				PQgetisnull(res, row, col))
			{
				snprintf(reason, size, "a NULL in column %d of row %d", col + 1, row + 1);
				return true;
			}
	return false;
}

/*
 * Checks that a call succeeded and answered the shape it must have, so no
 * caller reads a row or column that is not there.  Returns false with the
 * reason, the result wiped and cleared; a wrong shape is EXIT_FAIL.
 */
bool
db_answer_ok(PGconn *conn, PGresult *res, const DbShape *shape, DbError *error)
{
	char		reason[128];

	if (!db_result_ok(conn, res, error))
		return false;
	if (!columns_mismatch(res, shape, reason, sizeof(reason)) &&
		!rows_mismatch(res, shape, reason, sizeof(reason)))
		return true;
	snprintf(error->message, sizeof(error->message),
			 "the server answered an unexpected result for %s (%s)", shape->function, reason);
	error->status = EXIT_FAIL;
	error->expired = false;
	error->sqlstate[0] = '\0';
	db_wipe_result(res);
	return false;
}

/* Runs sql with text parameters; returns its result, of the given shape, or NULL with the error. */
PGresult *
db_call(PGconn *conn, const char *sql, int nparams, const char *const *values,
		const DbShape *shape, DbError *error)
{
	PGresult   *res = PQexecParams(conn, sql, nparams, NULL, values, NULL, NULL, 0);

	return db_answer_ok(conn, res, shape, error) ? res : NULL;
}

/* What a JSON value is, for a message that must not show it. */
static const char *
json_kind(const json_t *value)
{
	switch (json_typeof(value))
	{
		case JSON_OBJECT:
			return "an object";
		case JSON_ARRAY:
			return "an array";
		case JSON_STRING:
			return "a string";
		case JSON_INTEGER:
		case JSON_REAL:
			return "a number";
		case JSON_TRUE:
		case JSON_FALSE:
			return "a boolean";
		case JSON_NULL:
			break;
	}
	return "null";
}

/* Whether every key of secrets is one of the n names (looked up in a hash of them). */
static bool
only_names_asked(const json_t *secrets, const char *const *names, size_t n)
{
	json_t	   *asked = json_object();
	const char *name;
	json_t	   *value;
	bool		only = true;

	if (asked == NULL)
		die(EXIT_FAIL, "out of memory");
	for (size_t i = 0; i < n; i++)
		json_object_set_new(asked, names[i], json_true());
	json_object_foreach((json_t *) secrets, name, value)
		if (json_object_get(asked, name) == NULL)
			only = false;
	json_decref(asked);
	return only;
}

/* Fails a get_secrets answer of the wrong shape, saying why; returns NULL. */
static json_t *
secrets_shape_error(json_t *secrets, DbError *error, const char *fmt,...)
	__attribute__((format(printf, 3, 4)));

static json_t *
secrets_shape_error(json_t *secrets, DbError *error, const char *fmt,...)
{
	va_list		ap;
	char		reason[256];

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	json_decref(secrets);
	snprintf(error->message, sizeof(error->message),
			 "the server answered an unexpected result for %s (%s)",
			 db_get_secrets_answer.function, reason);
	error->status = EXIT_FAIL;
	error->expired = false;
	error->sqlstate[0] = '\0';
	return NULL;
}

/*
 * Reads get_secrets' answer, of db_get_secrets_answer's shape, for the n
 * names asked (a name may be asked twice): a JSON object whose keys are
 * names asked and whose values are strings, and that holds every name
 * asked unless missing_ok.  The result is wiped.  Returns the object, or
 * NULL with the error: one of another shape is EXIT_FAIL, naming a secret
 * asked but never a value, nor a key that was not asked for; a name
 * missing is EXIT_NOT_FOUND, the first in the order asked.
 */
json_t *
db_secrets_from_answer(PGresult *res, const char *const *names, size_t n,
					   const char *namespace, bool missing_ok, DbError *error)
{
	json_error_t parse_error;
	json_t	   *secrets = json_loadb(PQgetvalue(res, 0, 0), PQgetlength(res, 0, 0), 0,
									 &parse_error);
	json_t	   *value;

	db_wipe_result(res);
	if (!json_is_object(secrets))
		return secrets_shape_error(secrets, error, "not a JSON object");
	if (!only_names_asked(secrets, names, n))
		return secrets_shape_error(secrets, error, "a secret that was not asked for");
	for (size_t i = 0; i < n; i++)
	{
		value = json_object_get(secrets, names[i]);
		if (value != NULL && !json_is_string(value))
			return secrets_shape_error(secrets, error, "secret \"%s\" is %s, not text",
									   names[i], json_kind(value));
	}
	for (size_t i = 0; i < n && !missing_ok; i++)
		if (json_object_get(secrets, names[i]) == NULL)
		{
			json_decref(secrets);
			snprintf(error->message, sizeof(error->message),
					 "secret \"%s\" not found in namespace \"%s\"", names[i], namespace);
			error->status = EXIT_NOT_FOUND;
			error->expired = false;
			error->sqlstate[0] = '\0';
			return NULL;
		}
	return secrets;
}

/* Zeroes every value of a result before it is cleared. */
void
db_wipe_result(PGresult *res)
{
	if (res == NULL)
		return;
	for (int row = 0; row < PQntuples(res); row++)
		for (int col = 0; col < PQnfields(res); col++)
			explicit_bzero(PQgetvalue(res, row, col), PQgetlength(res, row, col));
	PQclear(res);
}

/* Returns a text[] literal {"a","b"} of items, quoted for any content. */
char *
db_text_array(const char *const *items, size_t n)
{
	size_t		cap = 3;
	char	   *out;
	char	   *p;

	for (size_t i = 0; i < n; i++)
		cap += 3 + 2 * strlen(items[i]);
	out = malloc(cap);
	if (out == NULL)
		die(EXIT_FAIL, "out of memory");
	p = out;
	*p++ = '{';
	for (size_t i = 0; i < n; i++)
	{
		if (i > 0)
			*p++ = ',';
		*p++ = '"';
		for (const char *c = items[i]; *c; c++)
		{
			if (*c == '"' || *c == '\\')
				*p++ = '\\';
			*p++ = *c;
		}
		*p++ = '"';
	}
	*p++ = '}';
	*p = '\0';
	return out;
}
