/*
 * connection.c — the client's libpq connection and its function calls.
 *
 * Every value travels as a bind parameter of PQexecParams, never inside SQL
 * text, so no value reaches the server log with the statement.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nsvault.h"

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

/* Connects with a conninfo string or URI, or the PG* environment when NULL. */
PGconn *
db_connect(const char *conninfo, DbError *error)
{
	const char *keywords[] = {"dbname", "fallback_application_name", NULL};
	const char *values[] = {conninfo, "nsvault", NULL};
	PGconn	   *conn = PQconnectdbParams(keywords, values, 1);

	if (conn == NULL || PQstatus(conn) != CONNECTION_OK)
	{
		char		reason[900];

		one_line(reason, sizeof(reason), conn ? PQerrorMessage(conn) : "out of memory");
		snprintf(error->message, sizeof(error->message), "could not connect: %s", reason);
		error->status = EXIT_FAIL;
		PQfinish(conn);
		return NULL;
	}
	return conn;
}

/*
 * Checks a result: returns true for one that succeeded, or false with the
 * server's message; a missing secret or registry (SQLSTATE P0002) sets
 * status EXIT_NOT_FOUND.  A failed result is cleared.
 */
bool
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
	snprintf(error->message, sizeof(error->message), "%s", line);
	error->status = (sqlstate != NULL && strcmp(sqlstate, "P0002") == 0)
		? EXIT_NOT_FOUND : EXIT_FAIL;
	PQclear(res);
	return false;
}

/* Runs sql with text parameters; returns its result, or NULL with the error. */
PGresult *
db_call(PGconn *conn, const char *sql, int nparams, const char *const *values,
		DbError *error)
{
	PGresult   *res = PQexecParams(conn, sql, nparams, NULL, values, NULL, NULL, 0);

	return db_result_ok(conn, res, error) ? res : NULL;
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
