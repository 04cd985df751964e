/*-------------------------------------------------------------------------
 *
 * secret_metadata.c
 *		What is said of a secret besides its value: a description, custom
 *		fields, when it expires; and how many versions a namespace keeps.
 *
 * Metadata is kept in clear, like names: it must never hold a secret.  It
 * belongs to the secret, not to a version: a new version keeps it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "access.h"
#include "audit.h"
#include "caller.h"
#include "listing.h"
#include "secrets.h"
#include "spi_plans.h"
#include "validate.h"

#define DESCRIPTION_MAX		1024
#define CUSTOM_MAX			8192

static SPIPlanPtr metadata_plan = NULL;
static SPIPlanPtr set_metadata_plan = NULL;
static SPIPlanPtr max_versions_plan = NULL;

PG_FUNCTION_INFO_V1(nsvault_get_secret_metadata);

/* get_secret_metadata(namespace, name): one row, for a secret in any state. */
Datum
nsvault_get_secret_metadata(PG_FUNCTION_ARGS)
{
	char	   *namespace = validate_arg_namespace(fcinfo, 0);
	char	   *name = validate_arg_secret_name(fcinfo, 1);

	listing_return_rows(fcinfo, namespace, name, &metadata_plan,
						"SELECT s.version AS current_version, s.created_at, s.updated_at,"
						" s.deleted_at, s.description, s.custom, s.expires_at,"
						" coalesce((SELECT n.max_versions FROM nsvault.namespace_settings n"
						"           WHERE n.namespace = $1), "
						CppAsString2(SECRETS_DEFAULT_MAX_VERSIONS) ") AS max_versions"
						" FROM nsvault.secrets s WHERE s.namespace = $1 AND s.name = $2",
						-1, NULL);
	return (Datum) 0;
}

static void
invalid_description(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid secret description"),
			 errdetail_internal("%s", detail),
			 errhint("A description is one line of at most " CppAsString2(DESCRIPTION_MAX) " bytes, without control characters (U+0000 to U+001F, U+007F to U+009F) and without bidirectional formatting characters (U+202A to U+202E, U+2066 to U+2069).")));
}

/*
 * Checks the description: at most DESCRIPTION_MAX bytes, and one line that
 * shows what it holds, so that a listing's line stays one line and does not
 * lie (validate_display_text).
 */
static void
check_description(const text *description)
{
	int			len = VARSIZE_ANY_EXHDR(description);

	if (len > DESCRIPTION_MAX)
		invalid_description("The description is too long.");
	switch (validate_display_text(VARDATA_ANY(description), len, false))
	{
		case DISPLAY_FIT:
			break;
		case DISPLAY_UNCONVERTIBLE:
			invalid_description("The description contains a character that has no Unicode equivalent.");
			break;
		case DISPLAY_CONTROL:
			invalid_description("The description contains a control character.");
			break;
		case DISPLAY_BIDI:
			invalid_description("The description contains a bidirectional formatting character.");
			break;
	}
}

static void
invalid_custom(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid custom metadata"),
			 errdetail_internal("%s", detail),
			 errhint("Custom metadata is a JSON object of at most " CppAsString2(CUSTOM_MAX) " bytes, whose keys and strings have no bidirectional formatting characters (U+202A to U+202E, U+2066 to U+2069).")));
}

/*
 * Checks custom: a JSON object of at most CUSTOM_MAX bytes, whose keys and
 * strings show what they hold.  Listings print it as JSON, which escapes
 * control characters but not bidirectional ones.
 */
static void
check_custom(Jsonb *custom)
{
	JsonbIterator *it;
	JsonbValue	value;
	JsonbIteratorToken token;

	if (!JB_ROOT_IS_OBJECT(custom))
		invalid_custom("The custom metadata is not a JSON object.");
	if (VARSIZE(custom) > CUSTOM_MAX)
		invalid_custom("The custom metadata is too long.");
	it = JsonbIteratorInit(&custom->root);
	while ((token = JsonbIteratorNext(&it, &value, false)) != WJB_DONE)
	{
		DisplayFault fault;

		if ((token != WJB_KEY && token != WJB_VALUE && token != WJB_ELEM) ||
			value.type != jbvString)
			continue;
		fault = validate_display_text(value.val.string.val, value.val.string.len, true);
		if (fault == DISPLAY_BIDI)
			invalid_custom("A key or string of the custom metadata contains a bidirectional formatting character.");
		if (fault == DISPLAY_UNCONVERTIBLE)
			invalid_custom("A key or string of the custom metadata contains a character that has no Unicode equivalent.");
	}
}

/* Checks expires_at: a time, or infinity for none. */
static void
check_expires_at(TimestampTz expires_at)
{
	if (TIMESTAMP_IS_NOBEGIN(expires_at))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid expiry time -infinity"),
				 errhint("Pass infinity for a secret that does not expire.")));
}

/* The names of the fields given, for the audit event: "description, expires_at". */
static char *
fields_given(FunctionCallInfo fcinfo)
{
	static const char *const fields[] = {"description", "custom", "expires_at"};
	StringInfoData given;

	initStringInfo(&given);
	for (int i = 0; i < lengthof(fields); i++)
		if (!PG_ARGISNULL(2 + i))
			appendStringInfo(&given, "%s%s", given.len > 0 ? ", " : "", fields[i]);
	return given.data;
}

PG_FUNCTION_INFO_V1(nsvault_set_secret_metadata);

/*
 * set_secret_metadata(namespace, name, description, custom, expires_at):
 * sets the fields given; NULL leaves a field as it is.  An empty
 * description, an empty custom object and an expires_at of infinity clear
 * theirs.
 */
Datum
nsvault_set_secret_metadata(PG_FUNCTION_ARGS)
{
	char	   *namespace = validate_arg_namespace(fcinfo, 0);
	char	   *name = validate_arg_secret_name(fcinfo, 1);
	Oid			argtypes[5] = {TEXTOID, TEXTOID, TEXTOID, JSONBOID, TIMESTAMPTZOID};
	Datum		args[5];
	char		nulls[5] = "     ";
	char	   *given = fields_given(fcinfo);
	bool		found;
	Caller		caller;
	int			spi;

	if (given[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("no metadata given"),
				 errhint("Pass description, custom or expires_at.")));
	for (int i = 2; i < 5; i++)
	{
		nulls[i] = PG_ARGISNULL(i) ? 'n' : ' ';
		args[i] = PG_ARGISNULL(i) ? (Datum) 0 : PG_GETARG_DATUM(i);
	}
	if (!PG_ARGISNULL(2))
		check_description(PG_GETARG_TEXT_PP(2));
	if (!PG_ARGISNULL(3))
		check_custom(PG_GETARG_JSONB_P(3));
	if (!PG_ARGISNULL(4))
		check_expires_at(PG_GETARG_TIMESTAMPTZ(4));

	access_namespace_enter(fcinfo, &caller, namespace, PRIV_WRITE);
	args[0] = CStringGetTextDatum(namespace);
	args[1] = CStringGetTextDatum(name);
	spi = nsvault_spi_connect();
	nsvault_spi_plan(&set_metadata_plan,
					 "UPDATE nsvault.secrets SET"
					 " description = CASE WHEN $3 IS NULL THEN description ELSE nullif($3, '') END,"
					 " custom = CASE WHEN $4 IS NULL THEN custom"
					 "  WHEN $4 = '{}'::jsonb THEN NULL ELSE $4 END,"
					 " expires_at = CASE WHEN $5 IS NULL THEN expires_at"
					 "  WHEN $5 = 'infinity' THEN NULL ELSE $5 END"
					 " WHERE namespace = $1 AND name = $2",
					 5, argtypes);
	nsvault_spi_execute(set_metadata_plan, args, nulls, false, 0, SPI_OK_UPDATE,
						"could not set the metadata");
	found = SPI_processed > 0;
	nsvault_spi_finish(spi);
	if (!found)
		secrets_report_missing(namespace, name);
	audit_record(&caller, namespace, name, "metadata", given);
	access_namespace_leave(&caller);
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(nsvault_set_max_versions);

/*
 * set_max_versions(namespace, n): how many versions of each secret the
 * namespace keeps, the current one included.  Older ones are removed as
 * each secret is next written.
 */
Datum
nsvault_set_max_versions(PG_FUNCTION_ARGS)
{
	char	   *namespace = validate_arg_namespace(fcinfo, 0);
	int32		n;
	Oid			argtypes[2] = {TEXTOID, INT4OID};
	Datum		args[2];
	Caller		caller;
	int			spi;

	validate_not_null(fcinfo, 1, "n");
	n = PG_GETARG_INT32(1);
	if (n < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid number of versions %d", n),
				 errdetail("A namespace keeps at least the current version of each secret.")));

	access_namespace_enter(fcinfo, &caller, namespace, PRIV_ADMIN);
	args[0] = CStringGetTextDatum(namespace);
	args[1] = Int32GetDatum(n);
	spi = nsvault_spi_connect();
	nsvault_spi_plan(&max_versions_plan,
					 "INSERT INTO nsvault.namespace_settings (namespace, max_versions)"
					 " VALUES ($1, $2) ON CONFLICT (namespace)"
					 " DO UPDATE SET max_versions = EXCLUDED.max_versions",
					 2, argtypes);
	nsvault_spi_execute(max_versions_plan, args, NULL, false, 0, SPI_OK_INSERT,
						"could not set the number of versions");
	nsvault_spi_finish(spi);
	audit_record(&caller, namespace, NULL, "set_max_versions", psprintf("%d", n));
	access_namespace_leave(&caller);
	PG_RETURN_VOID();
}
