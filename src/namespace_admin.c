/*-------------------------------------------------------------------------
 *
 * namespace_admin.c
 *		Key rotation, namespace deletion (crypto-shredding), and the
 *		destruction of old key versions.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/snapmgr.h"

#include "access.h"
#include "audit.h"
#include "caller.h"
#include "crypto.h"
#include "key_cache.h"
#include "key_lifecycle.h"
#include "registries.h"
#include "secrets.h"
#include "secure_mem.h"
#include "spi_plans.h"
#include "validate.h"

static SPIPlanPtr secrets_plan = NULL;
static SPIPlanPtr secrets_unversioned_plan = NULL;
static SPIPlanPtr reseal_secret_plan = NULL;
static SPIPlanPtr versions_plan = NULL;
static SPIPlanPtr reseal_version_plan = NULL;
static SPIPlanPtr registries_plan = NULL;
static SPIPlanPtr reseal_registry_plan = NULL;
static SPIPlanPtr global_registries_plan = NULL;
static SPIPlanPtr reseal_global_registry_plan = NULL;

/* what re-sealing a registry's token reads of it, and how it writes it back */
#define RESEAL_REGISTRY_COLUMNS "key_version, token AS sealed, scope, registry, url, user_name"
#define RESEAL_REGISTRY_SET_SQL \
	" SET token = $1, key_version = $2, updated_at = pg_catalog.now()"

/*
 * The key columns by which a re-sealed row is written back, as the select
 * names them: by key, not by ctid, which Citus would send to every shard,
 * and which differs between the copies of a reference table.
 */
static const char *const secret_key[] = {"namespace", "name", NULL};
static const char *const version_key[] = {"namespace", "name", "version", NULL};
static const char *const registry_key[] = {"namespace", "scope", "registry", NULL};
static const char *const global_registry_key[] = {"scope", "registry", NULL};

/* what deleting a namespace deletes; the last two exist from nsvault 0.6 on */
static const char *const namespace_deletes[] = {
	"DELETE FROM nsvault.secrets WHERE namespace = $1",
	"DELETE FROM nsvault.registries WHERE scope = 'namespace' AND namespace = $1",
	"DELETE FROM nsvault.grants WHERE namespace = $1",
	"DELETE FROM nsvault.secret_versions WHERE namespace = $1",
	"DELETE FROM nsvault.namespace_settings WHERE namespace = $1",
};
#define UNVERSIONED_DELETES 3
static SPIPlanPtr delete_plans[lengthof(namespace_deletes)];

/* values sealed under a version, or under any other: in secrets, registries and versions */
#define COUNT_SEALED_SQL(versions) \
	"SELECT (SELECT count(*) FROM nsvault.secrets WHERE namespace = $1" \
	"         AND (key_version = $2) <> $3)" \
	"     + (SELECT count(*) FROM nsvault.registries" \
	"         WHERE coalesce(namespace, '" NSVAULT_GLOBAL_NAMESPACE "') = $1" \
	"         AND (key_version = $2) <> $3)" \
	versions
#define COUNT_SEALED_VERSIONS_SQL \
	"     + (SELECT count(*) FROM nsvault.secret_versions" \
	"         WHERE namespace = $1" \
	"         AND (key_version = $2) <> $3)"
#define COUNT_SEALED_GLOBAL_SQL \
	"     + (SELECT count(*) FROM nsvault.global_registries" \
	"         WHERE $1 = '" NSVAULT_GLOBAL_NAMESPACE "'" \
	"         AND (key_version = $2) <> $3)"
static SPIPlanPtr sealed_under_plan = NULL;
static SPIPlanPtr sealed_under_versioned_plan = NULL;
static SPIPlanPtr sealed_under_apart_plan = NULL;

/*
 * Re-seals every row select_plan returns (key_version, sealed, the key
 * columns and the columns the associated data is made of) under new_key
 * with update_plan, which is given the sealed value, the key version and
 * the key columns, in the current sealed-value format.  aad_of builds a
 * row's associated data, in a format, from its identifying columns.
 */
static int
reseal_rows(const char *namespace, SPIPlanPtr select_plan, SPIPlanPtr update_plan,
			const char *const *row_key, StringInfo (*aad_of) (HeapTuple, TupleDesc, const char *, int),
			const NamespaceKey *new_key)
{
	Datum		args[1];
	SPITupleTable *rows;
	uint64		nrows;
	NamespaceKey *key = NULL;

	args[0] = CStringGetTextDatum(namespace);
	nsvault_spi_execute(select_plan, args, NULL, false, 0, SPI_OK_SELECT,
						"could not read what to re-seal");
	rows = SPI_tuptable;
	nrows = SPI_processed;

	for (uint64 r = 0; r < nrows; r++)
	{
		HeapTuple	row = rows->vals[r];
		bool		isnull;
		int32		version = DatumGetInt32(nsvault_spi_datum(row, rows->tupdesc, "key_version",
															  &isnull));
		bytea	   *sealed = DatumGetByteaPP(nsvault_spi_datum(row, rows->tupdesc, "sealed",
															   &isnull));
		bytea	   *plaintext;
		Datum		update_args[2 + 3];
		char		update_nulls[2 + 3];

		if (key == NULL || key->version != version)
			key = key_cache_version(namespace, version);
		plaintext = crypto_open(key, aad_of(row, rows->tupdesc, namespace,
											crypto_sealed_format(sealed)),
								sealed);
		if (plaintext == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("cannot rotate the key of namespace \"%s\"", namespace),
					 errdetail("A stored value failed its integrity check."),
					 errhint("Set or delete the damaged secret or registry, then rotate again.")));
		update_args[0] = PointerGetDatum(crypto_seal(new_key,
													 aad_of(row, rows->tupdesc, namespace,
															SEAL_FORMAT_CURRENT),
													 plaintext));
		update_args[1] = Int32GetDatum(new_key->version);
		memset(update_nulls, ' ', sizeof(update_nulls));
		for (int k = 0; row_key[k] != NULL; k++)
		{
			update_args[2 + k] = nsvault_spi_datum(row, rows->tupdesc, row_key[k], &isnull);
			update_nulls[2 + k] = isnull ? 'n' : ' ';
		}
		wipe_varlena((struct varlena *) plaintext);
		nsvault_spi_execute(update_plan, update_args, update_nulls, false, 0, SPI_OK_UPDATE,
							"could not re-seal");
		if (SPI_processed != 1)
			elog(ERROR, "re-sealing wrote " UINT64_FORMAT " rows instead of one", SPI_processed);
	}
	return (int) nrows;
}

/* A secret's associated data is the same in every format; it names the version. */
static StringInfo
secret_row_aad(HeapTuple row, TupleDesc desc, const char *namespace, int format)
{
	bool		isnull;

	return secrets_aad(namespace, nsvault_spi_text(row, desc, "name"),
					   DatumGetInt32(nsvault_spi_datum(row, desc, "version", &isnull)));
}

static StringInfo
registry_row_aad(HeapTuple row, TupleDesc desc, const char *namespace, int format)
{
	char	   *scope = nsvault_spi_text(row, desc, "scope");

	return registry_aad(format, scope, strcmp(scope, "namespace") == 0 ? namespace : NULL,
						nsvault_spi_text(row, desc, "registry"),
						nsvault_spi_text(row, desc, "url"),
						nsvault_spi_text(row, desc, "user_name"));
}

/*
 * Re-seals every version of every secret of the namespace that holds a
 * value (from nsvault 0.6 on, the older versions too; before, every secret
 * is version 1).  A version's time stays as it is: it was not rewritten.
 */
static int
reseal_secrets(const char *namespace, const NamespaceKey *new_key)
{
	Oid			argtypes[5] = {BYTEAOID, INT4OID, TEXTOID, TEXTOID, INT4OID};
	Oid			ns_type[1] = {TEXTOID};
	bool		versioned = secrets_versioned();
	int			resealed;

	nsvault_spi_plan(&reseal_secret_plan,
					 "UPDATE nsvault.secrets SET ciphertext = $1, key_version = $2"
					 " WHERE namespace = $3 AND name = $4",
					 4, argtypes);
	if (!versioned)
		return reseal_rows(namespace,
						   nsvault_spi_plan(&secrets_unversioned_plan,
											"SELECT key_version, ciphertext AS sealed, namespace, name,"
											" 1 AS version FROM nsvault.secrets"
											" WHERE namespace = $1 FOR UPDATE",
											1, ns_type),
						   reseal_secret_plan, secret_key, secret_row_aad, new_key);
	resealed = reseal_rows(namespace,
						   nsvault_spi_plan(&secrets_plan,
											"SELECT key_version, ciphertext AS sealed, namespace, name,"
											" version FROM nsvault.secrets"
											" WHERE namespace = $1 AND ciphertext IS NOT NULL FOR UPDATE",
											1, ns_type),
						   reseal_secret_plan, secret_key, secret_row_aad, new_key);
	nsvault_spi_plan(&reseal_version_plan,
					 "UPDATE nsvault.secret_versions SET ciphertext = $1, key_version = $2"
					 " WHERE namespace = $3 AND name = $4 AND version = $5",
					 5, argtypes);
	resealed += reseal_rows(namespace,
							nsvault_spi_plan(&versions_plan,
											 "SELECT key_version, ciphertext AS sealed, namespace, name,"
											 " version FROM nsvault.secret_versions"
											 " WHERE namespace = $1 AND ciphertext IS NOT NULL FOR UPDATE",
											 1, ns_type),
							reseal_version_plan, version_key, secret_row_aad, new_key);
	return resealed;
}

/*
 * Counts the secrets and registry tokens of the namespace sealed under a
 * version (or, when other_than, under any other) as of now, whatever this
 * transaction's snapshot.  The caller is connected to SPI.
 */
static int64
count_sealed(const char *namespace, int32 version, bool other_than)
{
	Oid			argtypes[3] = {TEXTOID, INT4OID, BOOLOID};
	Datum		args[3];
	bool		isnull;
	int			result;
	SPIPlanPtr	plan;

	args[0] = CStringGetTextDatum(namespace);
	args[1] = Int32GetDatum(version);
	args[2] = BoolGetDatum(other_than);
	if (registries_global_apart())
		plan = nsvault_spi_plan(&sealed_under_apart_plan,
								COUNT_SEALED_SQL(COUNT_SEALED_VERSIONS_SQL COUNT_SEALED_GLOBAL_SQL),
								3, argtypes);
	else if (secrets_versioned())
		plan = nsvault_spi_plan(&sealed_under_versioned_plan,
								COUNT_SEALED_SQL(COUNT_SEALED_VERSIONS_SQL), 3, argtypes);
	else
		plan = nsvault_spi_plan(&sealed_under_plan, COUNT_SEALED_SQL(""), 3, argtypes);
	result = SPI_execute_snapshot(plan, args, NULL, GetLatestSnapshot(),
								  InvalidSnapshot, true, false, 1);
	if (result != SPI_OK_SELECT)
		elog(ERROR, "could not count sealed values: SPI_execute_snapshot returned %s",
			 SPI_result_code_string(result));
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/*
 * Fails when values of the namespace committed by others are not on
 * version (for a deletion, 0: when any are left).  Under READ COMMITTED
 * each statement sees what the writers it waited for committed; an older
 * snapshot (REPEATABLE READ, SERIALIZABLE) may not, and the keys of what
 * it missed would be destroyed.
 */
static void
refuse_rows_left_behind(const char *namespace, int32 version, bool deleting)
{
	if (count_sealed(namespace, version, true) > 0)
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 deleting ? errmsg("could not delete namespace \"%s\"", namespace)
				 : errmsg("could not rotate the key of namespace \"%s\"", namespace),
				 errdetail("Values were written to it since this transaction began."),
				 errhint("Retry the transaction, in READ COMMITTED isolation.")));
}

PG_FUNCTION_INFO_V1(nsvault_rotate_key);

/*
 * rotate_key(namespace): makes a new key version and re-seals every secret
 * and registry token of the namespace under it, in this transaction.
 * Writers of the namespace wait for it (and it for them); readers are not
 * blocked: they see the old rows until it commits.  Returns the new
 * version.  "@global" rotates the global registries' key.
 */
Datum
nsvault_rotate_key(PG_FUNCTION_ARGS)
{
	char	   *namespace = validate_arg_namespace_or_global(fcinfo, 0);
	bool		global = strcmp(namespace, NSVAULT_GLOBAL_NAMESPACE) == 0;
	Oid			argtypes[5] = {BYTEAOID, INT4OID, TEXTOID, TEXTOID, TEXTOID};
	Oid			global_argtypes[4] = {BYTEAOID, INT4OID, TEXTOID, TEXTOID};
	Oid			ns_type[1] = {TEXTOID};
	NamespaceKey *new_key;
	int			resealed;
	int32		version;
	int32		active;
	int32		highest;
	Caller		caller;
	int			spi;

	access_namespace_enter(fcinfo, &caller, namespace, PRIV_ADMIN);
	key_versions_lock(namespace, &active, &highest);
	new_key = key_rotate(namespace, highest);
	version = new_key->version;

	spi = nsvault_spi_connect();
	if (global && registries_global_apart())
		resealed = reseal_rows(namespace,
							   nsvault_spi_plan(&global_registries_plan,
												"SELECT " RESEAL_REGISTRY_COLUMNS
												" FROM nsvault.global_registries FOR UPDATE",
												1, ns_type),
							   nsvault_spi_plan(&reseal_global_registry_plan,
												"UPDATE nsvault.global_registries" RESEAL_REGISTRY_SET_SQL
												" WHERE scope = $3 AND registry = $4",
												4, global_argtypes),
							   global_registry_key, registry_row_aad, new_key);
	else
	{
		resealed = global ? 0 : reseal_secrets(namespace, new_key);
		resealed += reseal_rows(namespace,
								nsvault_spi_plan(&registries_plan,
												 "SELECT " RESEAL_REGISTRY_COLUMNS ", namespace"
												 " FROM nsvault.registries"
												 " WHERE (scope = 'namespace' AND namespace = $1)"
												 " OR (scope IN ('global', 'global-private') AND $1 = '" NSVAULT_GLOBAL_NAMESPACE "') FOR UPDATE",
												 1, ns_type),
								nsvault_spi_plan(&reseal_registry_plan,
												 "UPDATE nsvault.registries" RESEAL_REGISTRY_SET_SQL
												 " WHERE namespace IS NOT DISTINCT FROM $3"
												 " AND scope = $4 AND registry = $5",
												 5, argtypes),
								registry_key, registry_row_aad, new_key);
	}
	refuse_rows_left_behind(namespace, version, false);
	nsvault_spi_finish(spi);
	explicit_bzero(new_key, sizeof(*new_key));

	audit_record(&caller, namespace, NULL, "rotate",
				 psprintf("version %d, %d values re-sealed", version, resealed));
	access_namespace_leave(&caller);
	PG_RETURN_INT32(version);
}

PG_FUNCTION_INFO_V1(nsvault_delete_namespace);

/*
 * delete_namespace(namespace): deletes its secrets, registries and grants,
 * and retires every version of its key.  The key database destroys them
 * once this transaction has committed (key_destroyer.c); if it rolls back,
 * nothing is destroyed.  Once they are gone, no copy of the ciphertext, in
 * a backup or anywhere, can be read again.
 */
Datum
nsvault_delete_namespace(PG_FUNCTION_ARGS)
{
	char	   *namespace = validate_arg_namespace(fcinfo, 0);
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	int32		active;
	int32		highest;
	int			ndeletes;
	Caller		caller;
	int			spi;

	access_namespace_enter(fcinfo, &caller, namespace, PRIV_ADMIN);
	key_versions_lock(namespace, &active, &highest);

	args[0] = CStringGetTextDatum(namespace);
	ndeletes = secrets_versioned() ? lengthof(namespace_deletes) : UNVERSIONED_DELETES;
	spi = nsvault_spi_connect();
	for (int i = 0; i < ndeletes; i++)
	{
		nsvault_spi_plan(&delete_plans[i], namespace_deletes[i], 1, argtypes);
		nsvault_spi_execute(delete_plans[i], args, NULL, false, 0, SPI_OK_DELETE,
							"could not delete the namespace's rows");
	}
	refuse_rows_left_behind(namespace, 0, true);
	nsvault_spi_finish(spi);
	access_grants_changed();

	key_namespace_retire(namespace, highest);
	audit_record(&caller, namespace, NULL, "delete_namespace", NULL);
	access_namespace_leave(&caller);
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(nsvault_destroy_key_version);

/*
 * destroy_key_version(namespace, version): retires one old version of the
 * namespace's key; the key database destroys it once this transaction has
 * committed.  Refused while it is the active version, or while any value
 * of the namespace is sealed under it.
 */
Datum
nsvault_destroy_key_version(PG_FUNCTION_ARGS)
{
	char	   *namespace = validate_arg_namespace_or_global(fcinfo, 0);
	int32		version;
	int32		active;
	int32		highest;
	int64		sealed;
	Caller		caller;
	int			spi;

	validate_not_null(fcinfo, 1, "version");
	version = PG_GETARG_INT32(1);

	access_namespace_enter(fcinfo, &caller, namespace, PRIV_ADMIN);
	key_versions_lock(namespace, &active, &highest);
	if (version < 1 || version > highest)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("key version %d of namespace \"%s\" does not exist", version, namespace)));
	if (version == active)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_IN_USE),
				 errmsg("cannot destroy key version %d of namespace \"%s\"", version, namespace),
				 errdetail("It is the active version."),
				 errhint("Rotate the key first with nsvault.rotate_key(), then destroy the old version.")));
	spi = nsvault_spi_connect();
	sealed = count_sealed(namespace, version, false);
	nsvault_spi_finish(spi);
	if (sealed > 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_IN_USE),
				 errmsg("cannot destroy key version %d of namespace \"%s\"", version, namespace),
				 errdetail_plural("%lld value is sealed under it.",
								  "%lld values are sealed under it.",
								  sealed, (long long) sealed),
				 errhint("Rotate the key: nsvault.rotate_key() re-seals every value under a new version.")));

	key_versions_retire(namespace, version, version);
	audit_record(&caller, namespace, NULL, "destroy_key_version",
				 psprintf("version %d", version));
	access_namespace_leave(&caller);
	PG_RETURN_VOID();
}
