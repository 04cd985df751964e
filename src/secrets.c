/*-------------------------------------------------------------------------
 *
 * secrets.c
 *		The SQL functions on secrets: set, get, get many, list, delete.
 *
 * Values are sealed before the INSERT and opened after the SELECT, so the
 * table, its WAL and its temp files only ever see ciphertext.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"

#include "access.h"
#include "audit.h"
#include "caller.h"
#include "crypto.h"
#include "index_lookup.h"
#include "jsonb_build.h"
#include "key_cache.h"
#include "key_lifecycle.h"
#include "listing.h"
#include "secrets.h"
#include "secure_mem.h"
#include "spi_plans.h"
#include "validate.h"

static SPIPlanPtr upsert_plan = NULL;
static SPIPlanPtr insert_plan = NULL;
static SPIPlanPtr list_plan = NULL;
static SPIPlanPtr delete_plan = NULL;

/* Associated data that binds a value to its namespace and name. */
StringInfo
secrets_aad(const char *namespace, const char *name)
{
	StringInfo	aad = makeStringInfo();

	crypto_aad_append(aad, "secret");
	crypto_aad_append(aad, namespace);
	crypto_aad_append(aad, name);
	return aad;
}

static void
report_missing(const char *namespace, const char *name)
{
	ereport(ERROR,
			(errcode(ERRCODE_NO_DATA_FOUND),
			 errmsg("secret \"%s\" not found in namespace \"%s\"", name, namespace)));
}

/* Opens a sealed value of a row, or reports that it was tampered with. */
static bytea *
open_secret(const char *namespace, const char *name,
			const NamespaceKey *key, const bytea *sealed)
{
	bytea	   *plaintext = crypto_open(key, secrets_aad(namespace, name), sealed);

	if (plaintext == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("secret \"%s\" in namespace \"%s\" failed its integrity check",
						name, namespace),
				 errdetail("The stored ciphertext was altered, or was copied from another secret or namespace."),
				 errhint("Set the secret again.")));
	return plaintext;
}

PG_FUNCTION_INFO_V1(nsvault_set_secret);

/*
 * set_secret(namespace, name, value, overwrite): stores value sealed under
 * the namespace's active key.
 */
Datum
nsvault_set_secret(PG_FUNCTION_ARGS)
{
	char	   *namespace = validate_arg_namespace(fcinfo, 0);
	char	   *name = validate_arg_secret_name(fcinfo, 1);
	text	   *value = validate_arg_secret_value(fcinfo, 2);
	bool		overwrite = validate_arg_bool(fcinfo, 3, "overwrite");
	NamespaceKey *key;
	bytea	   *sealed;
	Oid			argtypes[4] = {TEXTOID, TEXTOID, BYTEAOID, INT4OID};
	Datum		args[4];
	SPIPlanPtr	plan;
	Caller		caller;

	access_namespace_enter(fcinfo, &caller, namespace, PRIV_WRITE);

	/* the key comes first: if the key server is down, nothing is written */
	key = key_for_write(namespace);
	sealed = crypto_seal(key, secrets_aad(namespace, name), value);

	args[0] = CStringGetTextDatum(namespace);
	args[1] = CStringGetTextDatum(name);
	args[2] = PointerGetDatum(sealed);
	args[3] = Int32GetDatum(key->version);
	explicit_bzero(key, sizeof(*key));

	nsvault_spi_connect();
	if (overwrite)
		plan = nsvault_spi_plan(&upsert_plan,
								"INSERT INTO nsvault.secrets (namespace, name, ciphertext, key_version)"
								" VALUES ($1, $2, $3, $4)"
								" ON CONFLICT (namespace, name) DO UPDATE"
								" SET ciphertext = EXCLUDED.ciphertext,"
								" key_version = EXCLUDED.key_version,"
								" updated_at = pg_catalog.now()",
								4, argtypes);
	else
		plan = nsvault_spi_plan(&insert_plan,
								"INSERT INTO nsvault.secrets (namespace, name, ciphertext, key_version)"
								" VALUES ($1, $2, $3, $4)"
								" ON CONFLICT (namespace, name) DO NOTHING",
								4, argtypes);
	nsvault_spi_execute(plan, args, NULL, false, 0, SPI_OK_INSERT, "could not store secret");
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNIQUE_VIOLATION),
				 errmsg("secret \"%s\" already exists in namespace \"%s\"", name, namespace),
				 errhint("Pass overwrite => true to replace it.")));
	SPI_finish();
	audit_record(&caller, namespace, name, "write", NULL);
	access_namespace_leave(&caller);
	PG_RETURN_VOID();
}

/* What get_secret and get_secrets read of a secret's row. */
typedef struct SealedRow
{
	bool		found;
	int32		key_version;
	bytea	   *ciphertext;		/* a copy: the row is gone after the scan */
} SealedRow;

/* Copies a row's key version and ciphertext into the set'th SealedRow of arg. */
static bool
copy_sealed_row(HeapTuple tuple, TupleDesc desc, int set, void *arg)
{
	SealedRow  *row = (SealedRow *) arg + set;
	bool		isnull;

	row->found = true;
	row->key_version = DatumGetInt32(heap_getattr(tuple, Anum_secrets_key_version, desc, &isnull));
	row->ciphertext = DatumGetByteaPCopy(heap_getattr(tuple, Anum_secrets_ciphertext, desc, &isnull));
	return false;
}

PG_FUNCTION_INFO_V1(nsvault_get_secret);

/*
 * get_secret(namespace, name): the secret's value.  The event is recorded
 * before the value is returned; the value returned is an ordinary palloc'd
 * copy, which the executor may free, of the plaintext wiped on reset.
 */
Datum
nsvault_get_secret(PG_FUNCTION_ARGS)
{
	char	   *namespace = validate_arg_namespace(fcinfo, 0);
	char	   *name = validate_arg_secret_name(fcinfo, 1);
	const char *keys[2] = {namespace, name};
	SealedRow	row = {0};
	NamespaceKey *key;
	bytea	   *plaintext;
	text	   *result;
	Caller		caller;

	access_namespace_enter(fcinfo, &caller, namespace, PRIV_READ);
	nsvault_index_lookup("secrets", "secrets_pkey", 2, 1, keys, GetActiveSnapshot(), copy_sealed_row, &row);
	if (!row.found)
		report_missing(namespace, name);

	key = key_cache_version(namespace, row.key_version);
	plaintext = open_secret(namespace, name, key, row.ciphertext);
	explicit_bzero(key, sizeof(*key));

	audit_reads(&caller, namespace, (const char *const *) &name, 1, "read", NULL);
	access_namespace_leave(&caller);
	result = palloc(VARSIZE_ANY(plaintext));
	memcpy(result, plaintext, VARSIZE_ANY(plaintext));
	wipe_varlena((struct varlena *) plaintext);
	PG_RETURN_TEXT_P(result);
}

/* Names of an array of secret names, validated, each once, in array order. */
static char **
distinct_names(ArrayType *names_array, int *count)
{
	Datum	   *name_datums;
	bool	   *name_nulls;
	int			nnames;
	char	  **names;
	HASHCTL		ctl;
	HTAB	   *seen;
	bool		found;

	if (ARR_NDIM(names_array) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("secret names must be a one-dimensional array")));
	deconstruct_array(names_array, TEXTOID, -1, false, TYPALIGN_INT,
					  &name_datums, &name_nulls, &nnames);
	ctl.keysize = NSVAULT_SECRET_NAME_MAX + 1;
	ctl.entrysize = ctl.keysize;
	ctl.hcxt = CurrentMemoryContext;
	seen = hash_create("nsvault get_secrets names", Max(nnames, 1), &ctl,
					   HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	names = palloc(sizeof(char *) * (nnames + 1));
	*count = 0;
	for (int i = 0; i < nnames; i++)
	{
		char	   *name;

		if (name_nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("secret names must not contain null")));
		name = TextDatumGetCString(name_datums[i]);
		validate_secret_name(name);
		hash_search(seen, name, HASH_ENTER, &found);
		if (!found)
			names[(*count)++] = name;
	}
	return names;
}

/*
 * Fails on the first name (in array order) that was not found, unless
 * missing_ok; then drops those names, and their rows, keeping the order.
 * Returns how many are left.
 */
static int
keep_found(const char *namespace, char **names, SealedRow *rows, int nnames, bool missing_ok)
{
	int			kept = 0;

	for (int i = 0; i < nnames; i++)
	{
		if (!rows[i].found)
		{
			if (!missing_ok)
				report_missing(namespace, names[i]);
			continue;
		}
		names[kept] = names[i];
		rows[kept] = rows[i];
		kept++;
	}
	return kept;
}

PG_FUNCTION_INFO_V1(nsvault_get_secrets);

/*
 * get_secrets(namespace, names [, missing_ok]): {"name": "value", ...} for
 * every name, in one call; fails naming the first name, in array order,
 * that is missing, or with missing_ok leaves the missing ones out.  Only
 * the secrets read are audited.
 */
Datum
nsvault_get_secrets(PG_FUNCTION_ARGS)
{
	char	   *namespace = validate_arg_namespace(fcinfo, 0);
	char	  **names;
	int			nnames;
	const char **keys;
	SealedRow  *rows;
	NamespaceKey *key = NULL;
	JsonbParseState *state = NULL;
	JsonbValue *object;
	bytea	  **plaintexts;
	Jsonb	   *result;
	Caller		caller;
	bool		missing_ok = false;

	validate_not_null(fcinfo, 1, "names");
	names = distinct_names(PG_GETARG_ARRAYTYPE_P(1), &nnames);
	/* the three-argument form, nsvault 0.5's */
	if (PG_NARGS() > 2)
		missing_ok = validate_arg_bool(fcinfo, 2, "missing_ok");

	access_namespace_enter(fcinfo, &caller, namespace, PRIV_READ);
	keys = palloc(sizeof(char *) * 2 * Max(nnames, 1));
	for (int i = 0; i < nnames; i++)
	{
		keys[2 * i] = namespace;
		keys[2 * i + 1] = names[i];
	}
	rows = palloc0(sizeof(SealedRow) * Max(nnames, 1));
	nsvault_index_lookup("secrets", "secrets_pkey", 2, nnames, keys, GetActiveSnapshot(),
						 copy_sealed_row, rows);
	nnames = keep_found(namespace, names, rows, nnames, missing_ok);

	plaintexts = palloc(sizeof(bytea *) * Max(nnames, 1));
	object = pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	for (int i = 0; i < nnames; i++)
	{
		if (key == NULL || key->version != rows[i].key_version)
			key = key_cache_version(namespace, rows[i].key_version);
		plaintexts[i] = open_secret(namespace, names[i], key, rows[i].ciphertext);
		nsvault_jsonb_push_string(&state, WJB_KEY, names[i], strlen(names[i]));
		nsvault_jsonb_push_string(&state, WJB_VALUE, VARDATA_ANY(plaintexts[i]),
								  VARSIZE_ANY_EXHDR(plaintexts[i]));
	}
	object = pushJsonbValue(&state, WJB_END_OBJECT, NULL);
	result = JsonbValueToJsonb(object);
	for (int i = 0; i < nnames; i++)
		wipe_varlena((struct varlena *) plaintexts[i]);
	if (key != NULL)
		explicit_bzero(key, sizeof(*key));

	audit_reads(&caller, namespace, (const char *const *) names, nnames, "read", NULL);
	access_namespace_leave(&caller);
	PG_RETURN_JSONB_P(result);
}

PG_FUNCTION_INFO_V1(nsvault_list_secrets);

/* list_secrets(namespace): names and timestamps, sorted by name, never values. */
Datum
nsvault_list_secrets(PG_FUNCTION_ARGS)
{
	listing_return_rows(fcinfo, validate_arg_namespace(fcinfo, 0), &list_plan,
						"SELECT name, created_at, updated_at FROM nsvault.secrets"
						" WHERE namespace = $1 ORDER BY name COLLATE \"C\"",
						-1, NULL);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(nsvault_delete_secret);

/* delete_secret(namespace, name): true when a secret was deleted. */
Datum
nsvault_delete_secret(PG_FUNCTION_ARGS)
{
	char	   *namespace = validate_arg_namespace(fcinfo, 0);
	char	   *name = validate_arg_secret_name(fcinfo, 1);
	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	Datum		args[2];
	bool		deleted;
	Caller		caller;

	access_namespace_enter(fcinfo, &caller, namespace, PRIV_WRITE);
	args[0] = CStringGetTextDatum(namespace);
	args[1] = CStringGetTextDatum(name);

	nsvault_spi_connect();
	nsvault_spi_plan(&delete_plan,
					 "DELETE FROM nsvault.secrets WHERE namespace = $1 AND name = $2",
					 2, argtypes);
	nsvault_spi_execute(delete_plan, args, NULL, false, 0, SPI_OK_DELETE, "could not delete secret");
	deleted = (SPI_processed > 0);
	SPI_finish();
	if (deleted)
		audit_record(&caller, namespace, name, "delete", NULL);
	access_namespace_leave(&caller);
	PG_RETURN_BOOL(deleted);
}
