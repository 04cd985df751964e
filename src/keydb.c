/*-------------------------------------------------------------------------
 *
 * keydb.c
 *		The link to the key database: one dblink connection per backend.
 *
 * The connection is opened through the foreign server named by
 * nsvault.keydb_server, whose user mapping holds the credentials, so no
 * password appears here, in a query text or in an error.  It stays open
 * for the life of the backend; when a request on it fails (the key server
 * restarted, say) it is reopened once and the request repeated, so a
 * session survives a key server restart without noticing.
 *
 * dblink reports failures as errors; each dblink call therefore runs in an
 * internal subtransaction so that the error can be examined and replaced by
 * one that names the foreign server.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "foreign/foreign.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/uuid.h"

#include "keydb.h"

/* dblink's name for the connection; connections are per backend */
#define KEYDB_CONNECTION "nsvault_keydb_link"

/* server the named connection is open to, or NULL when there is none */
static char *connected_server = NULL;

static SPIPlanPtr connect_plan = NULL;
static SPIPlanPtr disconnect_plan = NULL;
static SPIPlanPtr request_plan = NULL;

/* A key request and, once it has run, its answer. */
typedef struct KeyRequest
{
	const char *remote_sql;
	MemoryContext result_cxt;	/* where the key is copied to */
	uint64		rows;
	bool		identity_null;
	bool		version_null;
	KeyAnswer  *answer;
} KeyRequest;

typedef void (*GuardedCall) (void *arg);

/* Prepares the plans over dblink's functions, in dblink's schema. */
static void
prepare_plans(void)
{
	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	const char *dblink = extension_schema("dblink");

	plan_once(&connect_plan, psprintf("SELECT %s.dblink_connect($1, $2)", dblink),
			  2, argtypes);
	plan_once(&disconnect_plan, psprintf("SELECT %s.dblink_disconnect($1)", dblink),
			  1, argtypes);
	plan_once(&request_plan,
			  psprintf("SELECT k.identity, k.version, k.key FROM %s.dblink($1, $2)"
					   " AS k(identity uuid, version integer, key bytea)",
					   dblink),
			  2, argtypes);
}

/*
 * Runs fn in an internal subtransaction.  Returns NULL on success, or the
 * error it raised, with the subtransaction rolled back.
 */
static ErrorData *
run_guarded(GuardedCall fn, void *arg)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	ErrorData  *error = NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		fn(arg);
		ReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		error = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(cxt);
	CurrentResourceOwner = owner;
	return error;
}

static void
connect_call(void *arg)
{
	Datum		args[2];

	args[0] = CStringGetTextDatum(KEYDB_CONNECTION);
	args[1] = CStringGetTextDatum((const char *) arg);
	if (SPI_execute_plan(connect_plan, args, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "dblink_connect did not run");
}

static void
disconnect_call(void *arg)
{
	Datum		args[1];

	args[0] = CStringGetTextDatum(KEYDB_CONNECTION);
	SPI_execute_plan(disconnect_plan, args, NULL, false, 1);
}

/*
 * Runs the key request and copies the answer out, wiping the row's copy of
 * the key.  The answer is checked by the caller, outside the subtransaction,
 * so that a bad answer is not mistaken for a failed link.
 */
static void
request_call(void *arg)
{
	KeyRequest *request = (KeyRequest *) arg;
	KeyAnswer  *answer = request->answer;
	Datum		args[2];
	HeapTuple	row;
	TupleDesc	desc;
	Datum		identity;
	Datum		version;
	Datum		key_datum;
	bool		key_null;
	MemoryContext oldcxt;

	args[0] = CStringGetTextDatum(KEYDB_CONNECTION);
	args[1] = CStringGetTextDatum(request->remote_sql);
	if (SPI_execute_plan(request_plan, args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "dblink key request did not run");
	request->rows = SPI_processed;
	if (SPI_processed != 1)
		return;

	row = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	identity = SPI_getbinval(row, desc, 1, &request->identity_null);
	version = SPI_getbinval(row, desc, 2, &request->version_null);
	key_datum = SPI_getbinval(row, desc, 3, &key_null);
	if (!request->identity_null)
		answer->identity = *DatumGetUUIDP(identity);
	answer->version = request->version_null ? 0 : DatumGetInt32(version);
	if (!key_null)
	{
		bytea	   *key = DatumGetByteaPP(key_datum);
		Size		len = VARSIZE_ANY_EXHDR(key);

		oldcxt = MemoryContextSwitchTo(request->result_cxt);
		answer->key = secure_alloc(NSVAULT_KEY_LEN);
		MemoryContextSwitchTo(oldcxt);
		answer->key_len = len;
		memcpy(answer->key, VARDATA_ANY(key), Min(len, NSVAULT_KEY_LEN));
		explicit_bzero(VARDATA_ANY(key), len);
	}
	SPI_freetuptable(SPI_tuptable);
}

/* Closes the link, if any, ignoring errors: it may be dead already. */
static void
keydb_disconnect(void)
{
	ErrorData  *error;

	if (connected_server == NULL)
		return;
	pfree(connected_server);
	connected_server = NULL;
	error = run_guarded(disconnect_call, NULL);
	if (error != NULL)
		FreeErrorData(error);
}

/* Opens the link to server; on failure raises a class 08 error naming it. */
static void
keydb_connect(const char *server)
{
	ErrorData  *error = run_guarded(connect_call, (void *) server);

	if (error != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION),
				 errmsg("could not connect to the key server through foreign server \"%s\"",
						server),
				 errdetail_internal("%s", error->detail ? error->detail : error->message),
				 errhint("Check that the key server is running and that foreign server \"%s\" and its user mapping are right.",
						 server)));
	connected_server = MemoryContextStrdup(TopMemoryContext, server);
}

/* Fails unless the configured foreign server exists. */
static const char *
keydb_server(void)
{
	const char *server = nsvault_keydb_server;

	if (server == NULL || server[0] == '\0' ||
		GetForeignServerByName(server, true) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("foreign server \"%s\" for the key database does not exist",
						server ? server : ""),
				 errhint("Create it with CREATE SERVER ... FOREIGN DATA WRAPPER dblink_fdw, or set nsvault.keydb_server.")));
	return server;
}

/* Name of the foreign server the key database is reached through. */
const char *
keydb_server_name(void)
{
	return keydb_server();
}

/*
 * Sends remote_sql to the key database, which answers (identity, version,
 * key) in one row; version is null for a version it does not have, where
 * expect allows it.  Fills answer.
 */
static void
keydb_request(const char *remote_sql, KeyExpectation expect, KeyAnswer *answer)
{
	const char *server = keydb_server();
	KeyRequest	request;
	ErrorData  *error;
	bool		reused;
	bool		usable;

	memset(answer, 0, sizeof(*answer));
	memset(&request, 0, sizeof(request));
	request.remote_sql = remote_sql;
	request.result_cxt = CurrentMemoryContext;
	request.answer = answer;

	spi_connect();
	if (request_plan == NULL)
		prepare_plans();

	if (connected_server != NULL && strcmp(connected_server, server) != 0)
		keydb_disconnect();
	reused = (connected_server != NULL);
	if (!reused)
		keydb_connect(server);

	error = run_guarded(request_call, &request);
	if (error != NULL && reused)
	{
		/* the link may have died since its last use: reopen it, try again */
		FreeErrorData(error);
		keydb_disconnect();
		keydb_connect(server);
		error = run_guarded(request_call, &request);
	}
	if (error != NULL)
	{
		bool		link_failed = (ERRCODE_TO_CATEGORY(error->sqlerrcode) ==
								   ERRCODE_CONNECTION_EXCEPTION);

		keydb_disconnect();
		if (link_failed)
			ereport(ERROR,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg("lost the connection to the key server through foreign server \"%s\"",
							server),
					 errdetail_internal("%s", error->message)));
		ereport(ERROR,
				(errcode(error->sqlerrcode),
				 errmsg("key server behind foreign server \"%s\" refused the key request",
						server),
				 errdetail_internal("%s", error->message)));
	}
	SPI_finish();

	answer->found = !request.version_null;
	usable = (request.rows == 1 && !request.identity_null &&
			  (answer->found || expect == EXPECT_KEY_OR_NONE) &&
			  (expect == EXPECT_COUNT ? answer->version >= 0 : answer->version > 0 || !answer->found) &&
			  (answer->key == NULL ? expect != EXPECT_KEY : answer->key_len == NSVAULT_KEY_LEN));
	if (!usable)
		ereport(ERROR,
				(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
				 errmsg("key server behind foreign server \"%s\" returned an unusable answer",
						server),
				 errdetail("Expected one row with the key database's identity, a positive version and a %d-byte key.",
						   NSVAULT_KEY_LEN),
				 errhint("Update the key database's extension: ALTER EXTENSION nsvault_keys UPDATE.")));
}

/* The identity as an SQL literal, or NULL. */
static const char *
identity_literal(const pg_uuid_t *identity)
{
	if (identity == NULL)
		return "NULL";
	return quote_literal_cstr(DatumGetCString(DirectFunctionCall1(uuid_out,
																  UUIDPGetDatum((pg_uuid_t *) identity))));
}

/*
 * The namespace's key for writes: the key database's highest version if it
 * is at least min_version, else (or always, when new_version) a new one
 * above every version it had.  A key database other than expected (NULL:
 * none is expected yet) answers only its identity, and makes no key.
 */
void
keydb_writer_key(const char *namespace, int32 min_version, const pg_uuid_t *expected,
				 bool new_version, KeyAnswer *answer)
{
	keydb_request(psprintf("SELECT * FROM nsvault_keys.%s(%s, %d, %s)",
						   new_version ? "add_key_version" : "active_key",
						   quote_literal_cstr(namespace), min_version, identity_literal(expected)),
				  EXPECT_KEY_OR_NONE, answer);
}

/*
 * One version of the namespace's key: answer->found is false when the key
 * database does not have it, answer->key NULL when it was destroyed.
 */
void
keydb_key_version(const char *namespace, int32 version, KeyAnswer *answer)
{
	keydb_request(psprintf("SELECT * FROM nsvault_keys.key_version(%s, %d)",
						   quote_literal_cstr(namespace), version),
				  EXPECT_KEY_OR_NONE, answer);
	if (answer->found && answer->version != version)
		ereport(ERROR,
				(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
				 errmsg("key server answered version %d when asked for version %d",
						answer->version, version)));
}

/*
 * The key database's identity and, for a namespace (not NULL), the highest
 * version it ever had, in answer->version.
 */
void
keydb_describe(const char *namespace, KeyAnswer *answer)
{
	keydb_request(psprintf("SELECT * FROM nsvault_keys.describe(%s)",
						   namespace ? quote_literal_cstr(namespace) : "NULL"),
				  EXPECT_COUNT, answer);
}

/*
 * Destroys versions first to last of the namespace's key, if the key
 * database is the one identified by expected; answer->version is how many
 * it destroyed now.  The caller checks answer->identity.
 */
void
keydb_destroy_versions(const pg_uuid_t *expected, const char *namespace,
					   int32 first, int32 last, KeyAnswer *answer)
{
	keydb_request(psprintf("SELECT * FROM nsvault_keys.destroy_versions(%s, %s, %d, %d)",
						   identity_literal(expected), quote_literal_cstr(namespace),
						   first, last),
				  EXPECT_COUNT, answer);
}
