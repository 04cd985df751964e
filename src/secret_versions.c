/*-------------------------------------------------------------------------
 *
 * secret_versions.c
 *		A secret's versions: listing them, undeleting one, destroying some,
 *		purging them all.
 *
 * A destroyed version keeps its row, without ciphertext or key version,
 * so that its number is never given to another value and the listing can
 * say it was destroyed.  The ciphertext is gone from the table at once;
 * the bytes of the old row stay in the table's file until VACUUM reuses
 * its space, and in WAL and backups, sealed under the namespace's key
 * (docs/security.md says how to make those unreadable too).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "access.h"
#include "audit.h"
#include "caller.h"
#include "listing.h"
#include "secrets.h"
#include "spi_plans.h"
#include "validate.h"

static SPIPlanPtr list_plan = NULL;
static SPIPlanPtr lock_current_version_plan = NULL;
static SPIPlanPtr lock_older_plan = NULL;
static SPIPlanPtr undelete_plan = NULL;
static SPIPlanPtr undelete_older_plan = NULL;
static SPIPlanPtr destroy_plan = NULL;
static SPIPlanPtr destroy_older_plan = NULL;
static SPIPlanPtr purge_older_plan = NULL;
static SPIPlanPtr purge_plan = NULL;

/* What a change of versions needs to know of one, as its locked row says. */
typedef struct LockedVersion
{
	bool		found;
	bool		deleted;
	bool		destroyed;
} LockedVersion;

/*
 * Locks the secret's current row, and fails when there is none; returns
 * its version.  The caller is connected to SPI.
 */
static int32
lock_secret(const char *namespace, const char *name, Datum *key_args)
{
	int32		current = secrets_lock_current(key_args);

	if (current == 0)
		secrets_report_missing(namespace, name);
	return current;
}

/* Reads one version under lock: the current one from nsvault.secrets, an older one from secret_versions. */
static LockedVersion
lock_version(Datum *key_args, int32 version, bool is_current)
{
	Oid			argtypes[3] = {TEXTOID, TEXTOID, INT4OID};
	Datum		args[3] = {key_args[0], key_args[1], Int32GetDatum(version)};
	LockedVersion found = {false, false, false};
	bool		isnull;
	SPIPlanPtr	plan;

	if (is_current)
		plan = nsvault_spi_plan(&lock_current_version_plan,
								"SELECT deleted_at IS NOT NULL AS deleted, ciphertext IS NULL AS destroyed"
								" FROM nsvault.secrets WHERE namespace = $1 AND name = $2 AND version = $3"
								" FOR UPDATE",
								3, argtypes);
	else
		plan = nsvault_spi_plan(&lock_older_plan,
								"SELECT deleted_at IS NOT NULL AS deleted, ciphertext IS NULL AS destroyed"
								" FROM nsvault.secret_versions"
								" WHERE namespace = $1 AND name = $2 AND version = $3 FOR UPDATE",
								3, argtypes);
	nsvault_spi_execute(plan, args, NULL, false, 0, SPI_OK_SELECT, "could not read a version");
	if (SPI_processed > 0)
	{
		HeapTuple	row = SPI_tuptable->vals[0];

		found.found = true;
		found.deleted = DatumGetBool(nsvault_spi_datum(row, SPI_tuptable->tupdesc, "deleted", &isnull));
		found.destroyed = DatumGetBool(nsvault_spi_datum(row, SPI_tuptable->tupdesc, "destroyed",
														 &isnull));
	}
	return found;
}

static void
report_version_missing(const char *namespace, const char *name, int32 version)
{
	ereport(ERROR,
			(errcode(ERRCODE_NO_DATA_FOUND),
			 errmsg("version %d of secret \"%s\" not found in namespace \"%s\"",
					version, name, namespace)));
}

PG_FUNCTION_INFO_V1(nsvault_list_secret_versions);

/*
 * list_secret_versions(namespace, name): every version the secret keeps,
 * oldest first, deleted and destroyed ones included; never a value.
 */
Datum
nsvault_list_secret_versions(PG_FUNCTION_ARGS)
{
	char	   *namespace = validate_arg_namespace(fcinfo, 0);
	char	   *name = validate_arg_secret_name(fcinfo, 1);

	listing_return_rows(fcinfo, namespace, name, &list_plan,
						"SELECT version, created_at, created_by, deleted_at, destroyed FROM ("
						" SELECT version, updated_at AS created_at, updated_by AS created_by,"
						"  deleted_at, ciphertext IS NULL AS destroyed FROM nsvault.secrets"
						"  WHERE namespace = $1 AND name = $2"
						" UNION ALL"
						" SELECT version, created_at, created_by, deleted_at,"
						"  ciphertext IS NULL FROM nsvault.secret_versions"
						"  WHERE namespace = $1 AND name = $2) v"
						" ORDER BY version",
						-1, NULL);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(nsvault_undelete_secret);

/*
 * undelete_secret(namespace, name, version): makes a deleted version
 * readable again; true when it was deleted.  A destroyed version cannot
 * be undeleted.
 */
Datum
nsvault_undelete_secret(PG_FUNCTION_ARGS)
{
	char	   *namespace = validate_arg_namespace(fcinfo, 0);
	char	   *name = validate_arg_secret_name(fcinfo, 1);
	int32		version;
	int32		current;
	Oid			argtypes[3] = {TEXTOID, TEXTOID, INT4OID};
	Datum		args[3];
	LockedVersion found;
	Caller		caller;
	int			spi;

	validate_not_null(fcinfo, 2, "version");
	version = validate_arg_version_or_null(fcinfo, 2);
	access_namespace_enter(fcinfo, &caller, namespace, PRIV_WRITE);
	args[0] = CStringGetTextDatum(namespace);
	args[1] = CStringGetTextDatum(name);
	args[2] = Int32GetDatum(version);

	spi = nsvault_spi_connect();
	current = lock_secret(namespace, name, args);
	found = lock_version(args, version, version == current);
	if (!found.found)
		report_version_missing(namespace, name, version);
	if (found.destroyed)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot undelete version %d of secret \"%s\" in namespace \"%s\"",
						version, name, namespace),
				 errdetail("It was destroyed: its value is gone.")));
	if (found.deleted)
		nsvault_spi_execute(version == current ?
							nsvault_spi_plan(&undelete_plan,
											 "UPDATE nsvault.secrets SET deleted_at = NULL"
											 " WHERE namespace = $1 AND name = $2 AND version = $3",
											 3, argtypes) :
							nsvault_spi_plan(&undelete_older_plan,
											 "UPDATE nsvault.secret_versions SET deleted_at = NULL"
											 " WHERE namespace = $1 AND name = $2 AND version = $3",
											 3, argtypes),
							args, NULL, false, 0, SPI_OK_UPDATE, "could not undelete the version");
	nsvault_spi_finish(spi);
	if (found.deleted)
		audit_record(&caller, namespace, name, "undelete", secrets_version_detail(version));
	access_namespace_leave(&caller);
	PG_RETURN_BOOL(found.deleted);
}

/*
 * The distinct versions of an array, each from 1 to current, in array
 * order; fails naming the first that is not.
 */
static int32 *
versions_of_array(const char *namespace, const char *name, ArrayType *array, int32 current,
				  int *count)
{
	Datum	   *datums;
	bool	   *nulls;
	int			n;
	int32	   *versions;

	if (ARR_NDIM(array) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("versions must be a one-dimensional array")));
	deconstruct_array(array, INT4OID, sizeof(int32), true, TYPALIGN_INT, &datums, &nulls, &n);
	versions = palloc(sizeof(int32) * Max(n, 1));
	*count = 0;
	for (int i = 0; i < n; i++)
	{
		int32		version;
		bool		seen = false;

		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("versions must not contain null")));
		version = DatumGetInt32(datums[i]);
		if (version < 1 || version > current)
			report_version_missing(namespace, name, version);
		for (int k = 0; k < *count; k++)
			seen |= versions[k] == version;
		if (!seen)
			versions[(*count)++] = version;
	}
	return versions;
}

/* Removes one version's ciphertext; false when it had none, or no row (removed as old). */
static bool
destroy_version(Datum *key_args, int32 version, bool is_current)
{
	Oid			argtypes[3] = {TEXTOID, TEXTOID, INT4OID};
	Datum		args[3] = {key_args[0], key_args[1], Int32GetDatum(version)};

	SPIPlanPtr	plan;

	if (is_current)
		plan = nsvault_spi_plan(&destroy_plan,
								"UPDATE nsvault.secrets SET ciphertext = NULL, key_version = NULL"
								" WHERE namespace = $1 AND name = $2 AND version = $3"
								" AND ciphertext IS NOT NULL",
								3, argtypes);
	else
		plan = nsvault_spi_plan(&destroy_older_plan,
								"UPDATE nsvault.secret_versions SET ciphertext = NULL, key_version = NULL"
								" WHERE namespace = $1 AND name = $2 AND version = $3"
								" AND ciphertext IS NOT NULL",
								3, argtypes);
	nsvault_spi_execute(plan, args, NULL, false, 0, SPI_OK_UPDATE, "could not destroy a version");
	return SPI_processed > 0;
}

PG_FUNCTION_INFO_V1(nsvault_destroy_secret_versions);

/*
 * destroy_secret_versions(namespace, name, versions): removes those
 * versions' ciphertext for good; returns how many had a value to remove.
 * A version already destroyed, or removed as older than the namespace
 * keeps, is skipped.
 */
Datum
nsvault_destroy_secret_versions(PG_FUNCTION_ARGS)
{
	char	   *namespace = validate_arg_namespace(fcinfo, 0);
	char	   *name = validate_arg_secret_name(fcinfo, 1);
	Datum		key_args[2];
	int32		current;
	int32	   *versions;
	int			nversions;
	int			destroyed = 0;
	StringInfoData detail;
	Caller		caller;
	int			spi;

	validate_not_null(fcinfo, 2, "versions");
	access_namespace_enter(fcinfo, &caller, namespace, PRIV_WRITE);
	key_args[0] = CStringGetTextDatum(namespace);
	key_args[1] = CStringGetTextDatum(name);
	initStringInfo(&detail);

	spi = nsvault_spi_connect();
	current = lock_secret(namespace, name, key_args);
	versions = versions_of_array(namespace, name, PG_GETARG_ARRAYTYPE_P(2), current, &nversions);
	for (int i = 0; i < nversions; i++)
	{
		if (!destroy_version(key_args, versions[i], versions[i] == current))
			continue;
		appendStringInfo(&detail, "%s%d", destroyed == 0 ? "versions " : ", ", versions[i]);
		destroyed++;
	}
	nsvault_spi_finish(spi);
	if (destroyed > 0)
		audit_record(&caller, namespace, name, "destroy_versions", detail.data);
	access_namespace_leave(&caller);
	PG_RETURN_INT32(destroyed);
}

PG_FUNCTION_INFO_V1(nsvault_purge_secret);

/*
 * purge_secret(namespace, name): removes every version of the secret and
 * its metadata; true when there was a secret.  A secret written again
 * afterwards starts at version 1.
 */
Datum
nsvault_purge_secret(PG_FUNCTION_ARGS)
{
	char	   *namespace = validate_arg_namespace(fcinfo, 0);
	char	   *name = validate_arg_secret_name(fcinfo, 1);
	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	Datum		args[2];
	bool		purged;
	bool		isnull;
	int32		current = 0;
	Caller		caller;
	int			spi;

	access_namespace_enter(fcinfo, &caller, namespace, PRIV_WRITE);
	args[0] = CStringGetTextDatum(namespace);
	args[1] = CStringGetTextDatum(name);

	spi = nsvault_spi_connect();
	nsvault_spi_plan(&purge_plan,
					 "DELETE FROM nsvault.secrets WHERE namespace = $1 AND name = $2"
					 " RETURNING version",
					 2, argtypes);
	nsvault_spi_execute(purge_plan, args, NULL, false, 0, SPI_OK_DELETE_RETURNING,
						"could not purge secret");
	purged = SPI_processed > 0;
	if (purged)
		current = DatumGetInt32(nsvault_spi_datum(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
												  "version", &isnull));
	nsvault_spi_plan(&purge_older_plan,
					 "DELETE FROM nsvault.secret_versions WHERE namespace = $1 AND name = $2",
					 2, argtypes);
	nsvault_spi_execute(purge_older_plan, args, NULL, false, 0, SPI_OK_DELETE,
						"could not purge secret");
	nsvault_spi_finish(spi);
	if (purged)
		audit_record(&caller, namespace, name, "purge",
					 psprintf("versions up to %d", current));
	access_namespace_leave(&caller);
	PG_RETURN_BOOL(purged);
}
