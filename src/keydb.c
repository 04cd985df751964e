/*-------------------------------------------------------------------------
 *
 * keydb.c
 *		The link to the key database: one dblink connection per backend.
 *
 * The link is opened to the foreign server named by nsvault.keydb_server.
 * nsvault builds its connection string from the server's options and the
 * user mapping's (which hold the credentials: no password appears in a
 * query text or an error), and adds what bounds it: a connect timeout, TCP
 * keepalives and a user timeout, and a statement_timeout and
 * client_min_messages for the key server's side.  So a key server that
 * stalls costs a call at most the connect timeout (for each address libpq
 * tries), and one that stalls later at most the statement timeout and a
 * second, which this side enforces itself: a stalled key server enforces
 * nothing, and TCP keepalives are answered by its kernel.
 *
 * A request is sent without waiting (dblink_send_query) and polled, so a
 * query cancel, a statement timeout or a termination of this backend ends
 * it; the remote statement is cancelled then, and the link closed.  The
 * link stays open for the life of the backend; when a request finds it
 * lost (the key server restarted, say), it is reopened once and the
 * request repeated.  Nothing else is retried.
 *
 * A link unused for nsvault.key_link_idle_seconds is closed, so idle
 * sessions do not hold the key server's connections.  The timer cannot
 * close it itself (it fires in a signal handler); it asks the backend for
 * a sinval catch-up, which an idle backend answers with an empty
 * transaction, and the link is closed as that (or any) transaction ends.
 * An error disables every timeout of the backend (PostgresMain's error
 * recovery), so a transaction that aborts arms the timer again: else a
 * session, or a pooler's server connection, that once failed a statement
 * after using its link would hold it until its next key request.
 *
 * Each dblink call runs in an internal subtransaction, so that its error
 * can be examined and replaced by one with a fixed SQLSTATE that names the
 * foreign server: the key server's own code and message go in the detail,
 * and a hostile key server cannot choose the caller's error code.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "executor/spi.h"
#include "foreign/foreign.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/sinval.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"
#include "utils/timeout.h"
#include "utils/uuid.h"

#include "catalog.h"
#include "crypto.h"
#include "guc.h"
#include "keydb.h"
#include "secure_mem.h"
#include "spi_plans.h"

/* dblink's connection names start so; the connections are per backend */
#define LINK_NAME_PREFIX "nsvault_keydb_"

/*
 * A request looks at the link without pausing for its first POLL_FIRST_MS,
 * then naps between looks, from POLL_FIRST_MS up to POLL_MOST_MS.
 */
#define POLL_FIRST_MS	2
#define POLL_MOST_MS	50

/*
 * A request not answered within the link's statement timeout and this much
 * more is given up here: the key server enforces that timeout, and one
 * that stalls (stopped, swapping, partitioned behind a kernel that still
 * acknowledges) enforces nothing.  The margin lets a live key server's own
 * timeout, which names the cause, come first.
 */
#define LOCAL_DEADLINE_MARGIN_MS	1000

/*
 * The two links: the reader's, for keys, and the administrator's, for
 * rotation and destruction, each through its own foreign server and user
 * mapping, so that the role reads and writes use can do nothing else.
 */
typedef struct KeyLink
{
	const char *name;			/* dblink's name for the connection */
	char	  **server_setting; /* the setting naming its foreign server */
	const char *setting_name;
	const char *purpose;		/* what it is for, in errors */
	char	   *connected_server;	/* where it is open to, or NULL */
	bool		request_in_flight;	/* an exit now cancels it at the key server */
} KeyLink;

static KeyLink links[] = {
	{LINK_NAME_PREFIX "link", &nsvault_keydb_server, "nsvault.keydb_server",
	"the key database", NULL, false},
	{LINK_NAME_PREFIX "admin_link", &nsvault_keydb_admin_server, "nsvault.keydb_admin_server",
	"key administration", NULL, false},
};

#define READER_LINK (&links[0])
#define ADMIN_LINK	(&links[1])

/* the link the current request uses */
static KeyLink *current = READER_LINK;

/* the link's idle timer, whether it has run out, and when a link was last used */
static TimeoutId idle_timeout = MAX_TIMEOUTS;
static volatile sig_atomic_t link_idle = false;
static TimestampTz link_last_used = 0;

static SPIPlanPtr connect_plan = NULL;
static SPIPlanPtr disconnect_plan = NULL;
static SPIPlanPtr send_plan = NULL;
static SPIPlanPtr busy_plan = NULL;
static SPIPlanPtr result_plan = NULL;
static SPIPlanPtr cancel_plan = NULL;

/* A key request and, once it has run, its answer. */
typedef struct KeyRequest
{
	const char *remote_sql;
	MemoryContext result_cxt;	/* where the key is copied to */
	uint64		rows;
	bool		timed_out;		/* no answer by the local deadline */
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
	const char *dblink = nsvault_extension_schema("dblink");

	nsvault_spi_plan(&connect_plan, psprintf("SELECT %s.dblink_connect($1, $2)", dblink),
					 2, argtypes);
	nsvault_spi_plan(&disconnect_plan, psprintf("SELECT %s.dblink_disconnect($1)", dblink),
					 1, argtypes);
	nsvault_spi_plan(&send_plan, psprintf("SELECT %s.dblink_send_query($1, $2)", dblink),
					 2, argtypes);
	nsvault_spi_plan(&busy_plan, psprintf("SELECT %s.dblink_is_busy($1)", dblink),
					 1, argtypes);
	nsvault_spi_plan(&result_plan,
					 psprintf("SELECT k.identity, k.version, k.key FROM %s.dblink_get_result($1)"
					 " AS k(identity uuid, version integer, key bytea)",
					 dblink),
					 1, argtypes);
	nsvault_spi_plan(&cancel_plan, psprintf("SELECT %s.dblink_cancel_query($1)", dblink),
					 1, argtypes);
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

/*
 * Is the error this backend's cancel, timeout or shutdown, which must end
 * the call?  dblink raises the key server's errors with their own codes
 * (57014 for its statement timeout, too), in a context naming the link.
 */
static bool
interrupted(const ErrorData *error)
{
	bool		remote = error->context != NULL &&
		strstr(error->context, "\"" LINK_NAME_PREFIX) != NULL;

	return !remote &&
		(error->sqlerrcode == ERRCODE_QUERY_CANCELED ||
		 ERRCODE_TO_CATEGORY(error->sqlerrcode) == ERRCODE_OPERATOR_INTERVENTION);
}

/*
 * Did the error end the link?  The connection failed (class 08), or the
 * key server's session ended (a shutdown or restart: class 57, but not
 * 57014, its statement timeout).
 */
static bool
link_lost(const ErrorData *error)
{
	int			category = ERRCODE_TO_CATEGORY(error->sqlerrcode);

	return category == ERRCODE_CONNECTION_EXCEPTION ||
		(category == ERRCODE_OPERATOR_INTERVENTION &&
		 error->sqlerrcode != ERRCODE_QUERY_CANCELED);
}

/* Appends keyword='value' to a libpq connection string, quoted as libpq wants. */
static void
append_conninfo(StringInfo conninfo, const char *keyword, const char *value)
{
	appendStringInfo(conninfo, "%s%s='", conninfo->len > 0 ? " " : "", keyword);
	for (const char *c = value; *c; c++)
	{
		if (*c == '\'' || *c == '\\')
			appendStringInfoChar(conninfo, '\\');
		appendStringInfoChar(conninfo, *c);
	}
	appendStringInfoChar(conninfo, '\'');
}

/*
 * The link's connection string: the foreign server's options, the user
 * mapping's, then nsvault's bounds, which take precedence; the key
 * server's own options are kept and nsvault's added to them.  It holds the
 * password: the caller wipes it.
 */
static char *
link_conninfo(const char *server_name)
{
	ForeignServer *server = GetForeignServerByName(server_name, false);
	UserMapping *mapping = GetUserMapping(GetUserId(), server->serverid);
	List	   *options = list_concat_copy(server->options, mapping->options);
	StringInfoData conninfo;
	StringInfoData remote;
	ListCell   *lc;

	initStringInfo(&conninfo);
	initStringInfo(&remote);
	foreach(lc, options)
	{
		DefElem    *option = lfirst_node(DefElem, lc);

		if (strcmp(option->defname, "options") == 0)
			appendStringInfo(&remote, "%s ", defGetString(option));
		else
			append_conninfo(&conninfo, option->defname, defGetString(option));
	}
	append_conninfo(&conninfo, "connect_timeout", psprintf("%d", nsvault_key_link_connect_timeout));
	append_conninfo(&conninfo, "keepalives", "1");
	append_conninfo(&conninfo, "keepalives_idle", psprintf("%d", nsvault_key_link_keepalives));
	append_conninfo(&conninfo, "keepalives_interval", psprintf("%d", nsvault_key_link_keepalives));
	append_conninfo(&conninfo, "keepalives_count", "3");
	append_conninfo(&conninfo, "tcp_user_timeout", psprintf("%d", nsvault_key_link_tcp_user_timeout));
	/* a notice of the key server would reach this server's log unmarked */
	appendStringInfo(&remote, "-c statement_timeout=%d -c client_min_messages=error",
					 nsvault_key_link_statement_timeout);
	append_conninfo(&conninfo, "options", remote.data);
	pfree(remote.data);
	return conninfo.data;
}

/* Opens the link to the foreign server named arg. */
static void
connect_call(void *arg)
{
	char	   *conninfo = link_conninfo((const char *) arg);
	Datum		args[2];

	args[0] = CStringGetTextDatum(current->name);
	args[1] = CStringGetTextDatum(conninfo);
	explicit_bzero(conninfo, strlen(conninfo));
	PG_TRY();
	{
		nsvault_spi_execute(connect_plan, args, NULL, false, 1, SPI_OK_SELECT,
							"dblink_connect did not run");
	}
	PG_FINALLY();
	{
		wipe_varlena((struct varlena *) DatumGetPointer(args[1]));
	}
	PG_END_TRY();
}

static void
disconnect_call(void *arg)
{
	Datum		args[1];

	args[0] = CStringGetTextDatum(current->name);
	SPI_execute_plan(disconnect_plan, args, NULL, false, 1);
}

/* Asks the key server to cancel what the link runs; errors are ignored. */
static void
cancel_call(void *arg)
{
	Datum		args[1];

	args[0] = CStringGetTextDatum(current->name);
	SPI_execute_plan(cancel_plan, args, NULL, false, 1);
}

/* Runs a plan over the link that answers one integer. */
static int32
link_int_call(SPIPlanPtr plan, Datum *args)
{
	bool		isnull;
	Datum		value;

	nsvault_spi_execute(plan, args, NULL, false, 1, SPI_OK_SELECT, "dblink call did not run");
	if (SPI_processed != 1)
		elog(ERROR, "dblink call returned " UINT64_FORMAT " rows", SPI_processed);
	value = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return isnull ? -1 : DatumGetInt32(value);
}

/* Calls one of dblink's C functions on a link, ignoring its errors. */
static void
call_dblink_directly(const char *function, const KeyLink *link)
{
	PG_TRY();
	{
		PGFunction	fn = load_external_function("$libdir/dblink", function, true, NULL);

		(void) DirectFunctionCall1(fn, CStringGetTextDatum(link->name));
	}
	PG_CATCH();
	{
		FlushErrorState();
	}
	PG_END_TRY();
}

static void
idle_timer_fired(void)
{
	link_idle = true;
	HandleCatchupInterrupt();
}

/*
 * Closes the links that have been idle long enough.  There may be no
 * statement (an idle backend's catch-up), so dblink is called without SPI.
 */
static void
close_idle_links(void)
{
	if (!link_idle)
		return;
	link_idle = false;
	for (int i = 0; i < lengthof(links); i++)
	{
		if (links[i].connected_server == NULL || links[i].request_in_flight)
			continue;
		call_dblink_directly("dblink_disconnect", &links[i]);
		pfree(links[i].connected_server);
		links[i].connected_server = NULL;
	}
}

/*
 * Arms the idle timer again for the links still open, once an error has
 * disabled it; one whose time has passed fires at once.  Not while the
 * backend exits: its links close with it.
 */
static void
rearm_idle_timer(void)
{
	bool		open = false;

	if (proc_exit_inprogress || get_timeout_active(idle_timeout))
		return;
	for (int i = 0; i < lengthof(links); i++)
		open |= links[i].connected_server != NULL;
	if (open)
		enable_timeout_at(idle_timeout,
						  TimestampTzPlusMilliseconds(link_last_used,
													  (int64) nsvault_key_link_idle_seconds * 1000));
}

/*
 * As a transaction commits, closes the links that have been idle long
 * enough; as one aborts, arms their timer again (error recovery disabled
 * it).
 */
static void
idle_links_at_xact_end(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_PRE_COMMIT)
		close_idle_links();
	else if (event == XACT_EVENT_ABORT)
		rearm_idle_timer();
}

/* Starts the idle timer anew: the link was just used. */
static void
link_used(void)
{
	if (idle_timeout == MAX_TIMEOUTS)
	{
		idle_timeout = RegisterTimeout(USER_TIMEOUT, idle_timer_fired);
		RegisterXactCallback(idle_links_at_xact_end, NULL);
	}
	link_idle = false;
	link_last_used = GetCurrentTimestamp();
	enable_timeout_after(idle_timeout, nsvault_key_link_idle_seconds * 1000);
}

/*
 * At exit (pg_terminate_backend, say) with a request out: asks the key
 * server to cancel it, which would otherwise run on to its statement
 * timeout.  Calls dblink's C function, there being no transaction for SPI.
 */
static void
cancel_at_exit(int code, Datum arg)
{
	for (int i = 0; i < lengthof(links); i++)
	{
		if (!links[i].request_in_flight)
			continue;
		links[i].request_in_flight = false;
		call_dblink_directly("dblink_cancel_query", &links[i]);
	}
}

/*
 * Sends the request and waits for its answer, looking at the link at
 * growing intervals and handling interrupts in between; false when the
 * local deadline passed first.
 */
static bool
send_and_wait(const char *remote_sql)
{
	static bool exit_cancel_registered = false;
	Datum		args[2];
	long		nap = POLL_FIRST_MS;
	TimestampTz sent_at;
	TimestampTz deadline;

	if (!exit_cancel_registered)
	{
		before_shmem_exit(cancel_at_exit, (Datum) 0);
		exit_cancel_registered = true;
	}

	args[0] = CStringGetTextDatum(current->name);
	args[1] = CStringGetTextDatum(remote_sql);
	if (link_int_call(send_plan, args) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_CONNECTION_FAILURE),
				 errmsg("could not send the key request")));
	sent_at = GetCurrentTimestamp();
	deadline = TimestampTzPlusMilliseconds(sent_at, (int64) nsvault_key_link_statement_timeout +
										   LOCAL_DEADLINE_MARGIN_MS);
	current->request_in_flight = true;
	while (link_int_call(busy_plan, args) == 1)
	{
		TimestampTz now = GetCurrentTimestamp();

		/* an answer is usually back within a few hundred microseconds */
		if (!TimestampDifferenceExceeds(sent_at, now, POLL_FIRST_MS))
		{
			CHECK_FOR_INTERRUPTS();
			continue;
		}
		if (now >= deadline)
			return false;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 Min(nap, TimestampDifferenceMilliseconds(now, deadline) + 1),
						 PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		nap = Min(nap * 2, POLL_MOST_MS);
	}
	current->request_in_flight = false;
	return true;
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
	Datum		args[1];
	HeapTuple	row;
	TupleDesc	desc;
	Datum		identity;
	Datum		version;
	Datum		key_datum;
	bool		key_null;
	MemoryContext oldcxt;

	if (!send_and_wait(request->remote_sql))
	{
		request->timed_out = true;
		return;
	}
	args[0] = CStringGetTextDatum(current->name);
	nsvault_spi_execute(result_plan, args, NULL, false, 0, SPI_OK_SELECT,
						"dblink key request did not run");
	request->rows = SPI_processed;
	if (SPI_processed != 1)
	{
		SPI_freetuptable(SPI_tuptable);
		return;
	}

	row = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	identity = nsvault_spi_datum(row, desc, "identity", &request->identity_null);
	version = nsvault_spi_datum(row, desc, "version", &request->version_null);
	key_datum = nsvault_spi_datum(row, desc, "key", &key_null);
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
	/* the link is ready for the next request once its empty result is read */
	nsvault_spi_execute(result_plan, args, NULL, false, 0, SPI_OK_SELECT,
						"dblink key request did not finish");
	if (SPI_processed != 0)
		request->rows += SPI_processed;
}

/* Closes the link, if any, ignoring errors: it may be dead already. */
static void
keydb_disconnect(void)
{
	ErrorData  *error;

	current->request_in_flight = false;
	if (current->connected_server == NULL)
		return;
	pfree(current->connected_server);
	current->connected_server = NULL;
	error = run_guarded(disconnect_call, NULL);
	if (error != NULL)
		FreeErrorData(error);
}

/* Opens the link to server; on failure raises a class 08 error naming it. */
static void
keydb_connect(const char *server)
{
	ErrorData  *error = run_guarded(connect_call, (void *) server);

	if (error != NULL && interrupted(error))
		ReThrowError(error);
	if (error != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION),
				 errmsg("could not connect to the key server through foreign server \"%s\"",
						server),
				 errdetail_internal("%s", error->detail ? error->detail : error->message),
				 errhint("Check that the key server is running and that foreign server \"%s\" and its user mapping are right.",
						 server)));
	current->connected_server = MemoryContextStrdup(TopMemoryContext, server);
}

/* Fails unless the foreign server of a link exists. */
static const char *
link_server(const KeyLink *link)
{
	const char *server = *link->server_setting;

	if (server == NULL || server[0] == '\0' ||
		GetForeignServerByName(server, true) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("foreign server \"%s\" for %s does not exist",
						server ? server : "", link->purpose),
				 link == ADMIN_LINK ?
				 errhint("Rotation, namespace deletion and key destruction need it: create it with CREATE SERVER ... FOREIGN DATA WRAPPER dblink_fdw and a user mapping for a role granted nsvault_keys.grant_admin(), or set %s.",
						 link->setting_name) :
				 errhint("Create it with CREATE SERVER ... FOREIGN DATA WRAPPER dblink_fdw, or set %s.",
						 link->setting_name)));
	return server;
}

/* Name of the foreign server the key database is reached through. */
const char *
keydb_server_name(void)
{
	return link_server(READER_LINK);
}

/* Fails closed unless key administration (rotation, destruction) is set up. */
void
keydb_admin_required(void)
{
	(void) link_server(ADMIN_LINK);
}

/*
 * Fails a key request that raised error: closes the link (cancelling the
 * statement first when the request was cut off mid-way) and reports it.
 */
static void
request_failed(ErrorData *error, const char *server)
{
	/* a request cut off leaves the link mid-statement: cancel it, close it */
	if (interrupted(error))
	{
		ErrorData  *ignored = run_guarded(cancel_call, NULL);

		if (ignored != NULL)
			FreeErrorData(ignored);
		keydb_disconnect();
		ReThrowError(error);
	}
	keydb_disconnect();
	if (link_lost(error))
		ereport(ERROR,
				(errcode(ERRCODE_CONNECTION_FAILURE),
				 errmsg("lost the connection to the key server through foreign server \"%s\"",
						server),
				 errdetail_internal("%s", error->message)));
	ereport(ERROR,
			(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
			 errmsg("key server behind foreign server \"%s\" refused the key request",
					server),
			 errdetail_internal("The key server answered SQLSTATE %s: %s",
								unpack_sql_state(error->sqlerrcode), error->message)));
}

/*
 * Fails a key request that the key server did not answer in time, closing
 * the link.  No cancel is sent: it would need a new connection to the key
 * server, which libpq opens without a time limit, and the key server ends
 * the statement by its own timeout, or when it finds the link closed.
 */
static void
request_timed_out(const char *server)
{
	keydb_disconnect();
	ereport(ERROR,
			(errcode(ERRCODE_CONNECTION_FAILURE),
			 errmsg("key server behind foreign server \"%s\" did not answer the key request in time",
					server),
			 errdetail("No answer came within the key link's statement timeout (%d ms) and %d ms more.",
					   nsvault_key_link_statement_timeout, LOCAL_DEADLINE_MARGIN_MS),
			 errhint("Check that the key server is running and reachable; nsvault.key_link_statement_timeout sets the limit.")));
}

/* Fails unless the request's answer is one row of the shape expect asks for. */
static void
check_answer(const KeyRequest *request, KeyExpectation expect, const char *server)
{
	KeyAnswer  *answer = request->answer;
	bool		usable;

	answer->found = !request->version_null;
	usable = (request->rows == 1 && !request->identity_null &&
			  (answer->found || expect == EXPECT_KEY_OR_NONE) &&
			  (expect == EXPECT_COUNT ? answer->version >= 0
			   : answer->version > 0 || !answer->found) &&
			  (answer->key == NULL ? expect != EXPECT_KEY : answer->key_len == NSVAULT_KEY_LEN));
	if (!usable)
		ereport(ERROR,
				(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
				 errmsg("key server behind foreign server \"%s\" returned an unusable answer",
						server),
				 errdetail("Expected one row with the key database's identity, a positive version and a %d-byte key.",
						   NSVAULT_KEY_LEN),
				 errhint("The key database's extension may be older than this one's (ALTER EXTENSION nsvault_keys UPDATE there), or the server is not an nsvault key database.")));
}

/*
 * Sends remote_sql to the key database, which answers (identity, version,
 * key) in one row; version is null for a version it does not have, where
 * expect allows it.  Fills answer.
 */
static void
keydb_request(KeyLink *link, const char *remote_sql, KeyExpectation expect, KeyAnswer *answer)
{
	const char *server = link_server(link);
	KeyRequest	request;
	ErrorData  *error;
	bool		reused;
	int			spi;

	memset(answer, 0, sizeof(*answer));
	memset(&request, 0, sizeof(request));
	/* an honest key server whose table was tampered with answers boundedly */
	request.remote_sql = psprintf("SELECT a.identity, a.version,"
								  " CASE WHEN pg_catalog.octet_length(a.key) > %d"
								  " THEN '\\x'::pg_catalog.bytea ELSE a.key END"
								  " FROM (%s) a LIMIT 2",
								  NSVAULT_KEY_LEN, remote_sql);
	request.result_cxt = CurrentMemoryContext;
	request.answer = answer;

	current = link;
	spi = nsvault_spi_connect();
	if (send_plan == NULL)
		prepare_plans();

	if (link->connected_server != NULL && strcmp(link->connected_server, server) != 0)
		keydb_disconnect();
	reused = (link->connected_server != NULL);
	if (!reused)
		keydb_connect(server);

	error = run_guarded(request_call, &request);
	if (error != NULL && reused && !interrupted(error) && link_lost(error))
	{
		/* the link died since its last use: reopen it, try once more */
		FreeErrorData(error);
		keydb_disconnect();
		keydb_connect(server);
		error = run_guarded(request_call, &request);
	}
	if (error != NULL)
		request_failed(error, server);
	if (request.timed_out)
		request_timed_out(server);
	nsvault_spi_finish(spi);
	link_used();
	check_answer(&request, expect, server);
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
	keydb_request(new_version ? ADMIN_LINK : READER_LINK,
				  psprintf("SELECT * FROM nsvault_keys.%s(%s, %d, %s)",
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
	keydb_request(READER_LINK, psprintf("SELECT * FROM nsvault_keys.key_version(%s, %d)",
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
	keydb_request(READER_LINK, psprintf("SELECT * FROM nsvault_keys.describe(%s)",
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
	keydb_request(ADMIN_LINK, psprintf("SELECT * FROM nsvault_keys.destroy_versions(%s, %s, %d, %d)",
						   identity_literal(expected), quote_literal_cstr(namespace),
						   first, last),
				  EXPECT_COUNT, answer);
}
