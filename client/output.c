/*
 * output.c — what the administration commands print: tab-separated lines
 * (with a header line on a terminal), or JSON with --json.
 *
 * JSON keeps each column's type: integers and booleans as such, NULL as
 * null, jsonb as JSON, and timestamps in RFC 3339, UTC (the session's time
 * zone is set to UTC first: see OUTPUT_TRANSACTION_SQL).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nsvault.h"
#include "output.h"

/*
 * Opens a transaction that writes timestamps as ISO 8601 in UTC, which
 * rfc3339_of turns into RFC 3339.  SET LOCAL: the settings end with the
 * transaction, so a pooler's next client of the session never has them.
 */
const char OUTPUT_TRANSACTION_SQL[] =
"BEGIN; SET LOCAL TimeZone = 'UTC'; SET LOCAL DateStyle = 'ISO, YMD'";

/*
 * Writes a timestamp of a UTC, ISO session ("2026-12-07 01:29:25.5+00")
 * in RFC 3339 ("2026-12-07T01:29:25.5Z"); infinity and dates outside
 * RFC 3339's years stay as PostgreSQL writes them.
 */
static json_t *
rfc3339_of(const char *text)
{
	size_t		len = strlen(text);
	char	   *copy;
	json_t	   *result;

	if (len < 20 || text[10] != ' ' || strcmp(text + len - 3, "+00") != 0)
		return json_string(text);
	copy = malloc(len);
	if (copy == NULL)
		die(EXIT_FAIL, "out of memory");
	memcpy(copy, text, len - 3);
	copy[10] = 'T';
	strcpy(copy + len - 3, "Z");
	result = json_string(copy);
	free(copy);
	return result;
}

/* Returns one column of a row as JSON, keeping its type. */
static json_t *
column_json(const PGresult *res, int row, int col)
{
	const char *text = PQgetvalue(res, row, col);
	json_t	   *value;

	if (PQgetisnull(res, row, col))
		return json_null();
	switch (PQftype(res, col))
	{
		case DB_TYPE_BOOL:
			return json_boolean(text[0] == 't');
		case DB_TYPE_INT4:
			return json_integer(strtol(text, NULL, 10));
		case DB_TYPE_TIMESTAMPTZ:
			value = rfc3339_of(text);
			break;
		case DB_TYPE_JSONB:
			value = json_loads(text, JSON_DECODE_ANY, NULL);
			break;
		default:
			value = json_stringn(text, PQgetlength(res, row, col));
			break;
	}
	if (value == NULL)
		die(EXIT_FAIL, "could not write column \"%s\" as JSON", PQfname(res, col));
	return value;
}

/* Returns a row as a JSON object, its columns under the names in fields. */
json_t *
output_row_json(const PGresult *res, int row, const char *const *fields)
{
	json_t	   *object = json_object();

	for (int col = 0; col < PQnfields(res); col++)
		json_object_set_new(object, fields[col], column_json(res, row, col));
	return object;
}

/*
 * Prints value as one line of JSON, and frees it.  Written past stdio, whose
 * buffer nothing wipes: the JSON may hold a value (secret get --json).
 */
void
output_json(json_t *value)
{
	char	   *text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
	size_t		len;
	bool		written;

	json_decref(value);
	if (text == NULL)
		die(EXIT_FAIL, "out of memory");
	len = strlen(text);
	text[len] = '\n';
	fflush(stdout);
	written = write_all(1, text, len + 1);
	wipe_and_free(text, len + 1);
	if (!written)
		die(EXIT_FAIL, "could not write to standard output: %s", strerror(errno));
}

/*
 * Prints every row: a JSON array of objects, or tab-separated lines (an
 * empty field for NULL), after a header line when a person reads them.
 */
void
output_rows(const PGresult *res, const char *const *fields, const char *const *headers,
			bool json)
{
	int			columns = PQnfields(res);

	if (json)
	{
		json_t	   *rows = json_array();

		for (int row = 0; row < PQntuples(res); row++)
			json_array_append_new(rows, output_row_json(res, row, fields));
		output_json(rows);
		return;
	}
	if (isatty(1))
		for (int col = 0; col < columns; col++)
			printf("%s%c", headers[col], col + 1 < columns ? '\t' : '\n');
	for (int row = 0; row < PQntuples(res); row++)
		for (int col = 0; col < columns; col++)
			printf("%s%c", PQgetvalue(res, row, col), col + 1 < columns ? '\t' : '\n');
}

/* Prints the one row of res: a JSON object, or FIELD<TAB>VALUE lines. */
void
output_fields(const PGresult *res, const char *const *fields, bool json)
{
	if (json)
	{
		output_json(output_row_json(res, 0, fields));
		return;
	}
	for (int col = 0; col < PQnfields(res); col++)
		printf("%s\t%s\n", fields[col], PQgetvalue(res, 0, col));
}
