/*
 * cred_helper.c — the parts of the credential helpers that talk: the call
 * to nsvault.registry_credential, the JSON read from standard input, and
 * the JSON answer written to standard output.
 *
 * Every buffer that held a credential is wiped: the answer's text here,
 * libpq's and jansson's blocks by secure_heap.c when they are freed.
 */
#include <stdio.h>
#include <string.h>

#include "cred_helper.h"

/* registry_credential answers at most one row (see nsvault--0.3--0.4.sql). */
static const DbShape registry_credential_answer =
{"nsvault.registry_credential", DB_AT_MOST_ONE_ROW, 3,
{DB_TYPE_TEXT, DB_TYPE_TEXT, DB_TYPE_TEXT}, 0};

#define REGISTRY_CREDENTIAL_SQL \
	"SELECT registry, username, secret FROM nsvault.registry_credential($1, $2, $3)"

/*
 * Asks for the credential that serves reference (an image, a registry URL
 * or host) in namespace, or for a global service.  Returns the answer, no
 * row when none serves it; NULL with the server's message on failure.  The
 * caller wipes the answer with db_wipe_result.
 */
PGresult *
cred_lookup(PGconn *conn, const char *namespace, const char *reference,
			bool global_service, DbError *error)
{
	const char *params[] = {namespace, reference, global_service ? "true" : "false"};

	return db_call(conn, REGISTRY_CREDENTIAL_SQL, 3, params,
				   &registry_credential_answer, error);
}

/*
 * Parses text as a JSON object.  A failure names only where: jansson's own
 * message quotes the input, which may hold a secret.
 */
json_t *
cred_parse_json(const char *text, size_t len, const char *what, DbError *error)
{
	json_error_t parse_error;
	json_t	   *value = json_loadb(text, len, 0, &parse_error);

	error->status = EXIT_FAIL;
	if (value == NULL)
	{
		snprintf(error->message, sizeof(error->message),
				 "the %s on standard input is not valid JSON (line %d, column %d)",
				 what, parse_error.line, parse_error.column);
		return NULL;
	}
	if (!json_is_object(value))
	{
		json_decref(value);
		snprintf(error->message, sizeof(error->message),
				 "the %s on standard input is not a JSON object", what);
		return NULL;
	}
	return value;
}

/* Writes value's JSON text and a newline to standard output; false if it could not. */
bool
cred_print_json(const json_t *value)
{
	char	   *text = json_text(value);
	size_t		len = strlen(text);
	bool		written = write_all(1, text, len) && write_all(1, "\n", 1);

	wipe_and_free(text, len);
	return written;
}
