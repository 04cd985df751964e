/*-------------------------------------------------------------------------
 *
 * namespace_admin.c
 *		Key rotation and namespace deletion (crypto-shredding).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"

#include "nsvault.h"

static SPIPlanPtr secrets_plan = NULL;
static SPIPlanPtr reseal_secret_plan = NULL;
static SPIPlanPtr registries_plan = NULL;
static SPIPlanPtr reseal_registry_plan = NULL;
static SPIPlanPtr delete_plans[3];

/*
 * Re-seals every row select_plan returns (key version, sealed value, ctid,
 * then what the associated data is made of) under new_key with update_plan.
 * aad_of builds a row's associated data from its identifying columns.
 */
static int
reseal_rows(const char *namespace, SPIPlanPtr select_plan, SPIPlanPtr update_plan,
			StringInfo (*aad_of) (HeapTuple, TupleDesc, const char *),
			const NamespaceKey *new_key)
{
	Datum		args[1];
	SPITupleTable *rows;
	uint64		nrows;
	NamespaceKey *key = NULL;

	args[0] = CStringGetTextDatum(namespace);
	if (SPI_execute_plan(select_plan, args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read what to re-seal");
	rows = SPI_tuptable;
	nrows = SPI_processed;

	for (uint64 r = 0; r < nrows; r++)
	{
		HeapTuple	row = rows->vals[r];
		bool		isnull;
		int32		version = DatumGetInt32(SPI_getbinval(row, rows->tupdesc, 1, &isnull));
		bytea	   *sealed = DatumGetByteaPP(SPI_getbinval(row, rows->tupdesc, 2, &isnull));
		StringInfo	aad = aad_of(row, rows->tupdesc, namespace);
		bytea	   *plaintext;
		Datum		update_args[3];

		if (key == NULL || key->version != version)
			key = key_cache_version(namespace, version);
		plaintext = crypto_open(key, aad, sealed);
		if (plaintext == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("cannot rotate the key of namespace \"%s\": a stored value failed its integrity check",
							namespace),
					 errhint("Set or delete the damaged secret or registry, then rotate again.")));
		update_args[0] = PointerGetDatum(crypto_seal(new_key, aad, plaintext));
		update_args[1] = Int32GetDatum(new_key->version);
		update_args[2] = PointerGetDatum(SPI_getbinval(row, rows->tupdesc, 3, &isnull));
		wipe_varlena((struct varlena *) plaintext);
		if (SPI_execute_plan(update_plan, update_args, NULL, false, 0) != SPI_OK_UPDATE)
			elog(ERROR, "could not re-seal");
	}
	return (int) nrows;
}

static StringInfo
secret_row_aad(HeapTuple row, TupleDesc desc, const char *namespace)
{
	return secret_aad(namespace, SPI_getvalue(row, desc, 4));
}

static StringInfo
registry_row_aad(HeapTuple row, TupleDesc desc, const char *namespace)
{
	char	   *scope = SPI_getvalue(row, desc, 4);

	return registry_aad(scope, strcmp(scope, "namespace") == 0 ? namespace : NULL,
						SPI_getvalue(row, desc, 5));
}

PG_FUNCTION_INFO_V1(nsvault_rotate_key);

/*
 * rotate_key(namespace): makes a new key version and re-seals every secret
 * and registry token of the namespace under it, in this transaction.
 * Readers are not blocked: they see the old rows until it commits.
 * Returns the new version.  "@global" rotates the global registries' key.
 */
Datum
nsvault_rotate_key(PG_FUNCTION_ARGS)
{
	char	   *namespace = arg_namespace_or_global(fcinfo, 0);
	bool		global = strcmp(namespace, NSVAULT_GLOBAL_NAMESPACE) == 0;
	Oid			argtypes[3] = {BYTEAOID, INT4OID, TIDOID};
	Oid			ns_type[1] = {TEXTOID};
	NamespaceKey *new_key;
	int			resealed;
	int32		version;
	Caller		caller;

	namespace_enter(fcinfo, &caller, namespace, PRIV_ADMIN);
	new_key = key_cache_rotate(namespace);
	version = new_key->version;

	spi_connect();
	plan_once(&secrets_plan,
			  "SELECT key_version, ciphertext, ctid, name FROM nsvault.secrets"
			  " WHERE namespace = $1 FOR UPDATE",
			  1, ns_type);
	plan_once(&reseal_secret_plan,
			  "UPDATE nsvault.secrets SET ciphertext = $1, key_version = $2,"
			  " updated_at = pg_catalog.now() WHERE ctid = $3",
			  3, argtypes);
	plan_once(&registries_plan,
			  "SELECT key_version, token, ctid, scope, registry FROM nsvault.registries"
			  " WHERE (scope = 'namespace' AND namespace = $1)"
			  " OR (scope <> 'namespace' AND $1 = '" NSVAULT_GLOBAL_NAMESPACE "') FOR UPDATE",
			  1, ns_type);
	plan_once(&reseal_registry_plan,
			  "UPDATE nsvault.registries SET token = $1, key_version = $2,"
			  " updated_at = pg_catalog.now() WHERE ctid = $3",
			  3, argtypes);
	resealed = global ? 0 : reseal_rows(namespace, secrets_plan, reseal_secret_plan,
										secret_row_aad, new_key);
	resealed += reseal_rows(namespace, registries_plan, reseal_registry_plan,
							registry_row_aad, new_key);
	SPI_finish();
	explicit_bzero(new_key, sizeof(*new_key));

	audit_record(&caller, namespace, NULL, "rotate",
				 psprintf("version %d, %d values re-sealed", version, resealed));
	namespace_leave(&caller);
	PG_RETURN_INT32(version);
}

PG_FUNCTION_INFO_V1(nsvault_delete_namespace);

/*
 * delete_namespace(namespace): deletes its secrets, registries and grants,
 * then destroys all of its keys in the key database.  The keys go last:
 * if anything before fails, nothing is destroyed.  Once they are gone, no
 * copy of the ciphertext, in a backup or anywhere, can be read again.
 */
Datum
nsvault_delete_namespace(PG_FUNCTION_ARGS)
{
	char	   *namespace = arg_namespace(fcinfo, 0);
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	const char *deletes[3] = {
		"DELETE FROM nsvault.secrets WHERE namespace = $1",
		"DELETE FROM nsvault.registries WHERE scope = 'namespace' AND namespace = $1",
		"DELETE FROM nsvault.grants WHERE namespace = $1",
	};
	int32		destroyed;
	Caller		caller;

	namespace_enter(fcinfo, &caller, namespace, PRIV_ADMIN);

	args[0] = CStringGetTextDatum(namespace);
	spi_connect();
	for (int i = 0; i < 3; i++)
	{
		plan_once(&delete_plans[i], deletes[i], 1, argtypes);
		if (SPI_execute_plan(delete_plans[i], args, NULL, false, 0) != SPI_OK_DELETE)
			elog(ERROR, "could not delete the namespace's rows");
	}
	SPI_finish();
	grants_changed();

	audit_record(&caller, namespace, NULL, "delete_namespace", NULL);
	destroyed = keydb_destroy_namespace(namespace);
	/* after the destruction: a fetch racing it must not stay cached */
	key_cache_forget(namespace);
	elog(DEBUG1, "nsvault: destroyed %d key versions of namespace \"%s\"", destroyed, namespace);
	namespace_leave(&caller);
	PG_RETURN_VOID();
}
