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

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "access/htup_details.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"

#include "nsvault.h"

static SPIPlanPtr upsert_plan = NULL;
static SPIPlanPtr insert_plan = NULL;
static SPIPlanPtr select_many_plan = NULL;
static SPIPlanPtr list_plan = NULL;
static SPIPlanPtr delete_plan = NULL;

/* Associated data that binds a value to its namespace and name. */
StringInfo
secret_aad(const char *namespace, const char *name)
{
	StringInfo	aad = makeStringInfo();

	aad_append(aad, "secret");
	aad_append(aad, namespace);
	aad_append(aad, name);
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
	bytea	   *plaintext = crypto_open(key, secret_aad(namespace, name), sealed);

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
	char	   *namespace = arg_namespace(fcinfo, 0);
	char	   *name = arg_secret_name(fcinfo, 1);
	text	   *value = arg_secret_value(fcinfo, 2);
	bool		overwrite = arg_bool(fcinfo, 3, "overwrite");
	NamespaceKey *key;
	bytea	   *sealed;
	Oid			argtypes[4] = {TEXTOID, TEXTOID, BYTEAOID, INT4OID};
	Datum		args[4];
	SPIPlanPtr	plan;

	namespace_require(namespace, PRIV_WRITE);

	/* the key comes first: if the key server is down, nothing is written */
	key = key_cache_active(namespace);
	sealed = crypto_seal(key, secret_aad(namespace, name), value);

	args[0] = CStringGetTextDatum(namespace);
	args[1] = CStringGetTextDatum(name);
	args[2] = PointerGetDatum(sealed);
	args[3] = Int32GetDatum(key->version);
	explicit_bzero(key, sizeof(*key));

	spi_connect();
	if (overwrite)
		plan = plan_once(&upsert_plan,
						 "INSERT INTO nsvault.secrets (namespace, name, ciphertext, key_version)"
						 " VALUES ($1, $2, $3, $4)"
						 " ON CONFLICT (namespace, name) DO UPDATE"
						 " SET ciphertext = EXCLUDED.ciphertext,"
						 " key_version = EXCLUDED.key_version,"
						 " updated_at = pg_catalog.now()",
						 4, argtypes);
	else
		plan = plan_once(&insert_plan,
						 "INSERT INTO nsvault.secrets (namespace, name, ciphertext, key_version)"
						 " VALUES ($1, $2, $3, $4)"
						 " ON CONFLICT (namespace, name) DO NOTHING",
						 4, argtypes);
	if (SPI_execute_plan(plan, args, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not store secret");
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNIQUE_VIOLATION),
				 errmsg("secret \"%s\" already exists in namespace \"%s\"", name, namespace),
				 errhint("Pass overwrite => true to replace it.")));
	SPI_finish();
	audit_record(namespace, name, "write", NULL);
	PG_RETURN_VOID();
}

/* What get_secret reads of a secret's row. */
typedef struct SealedRow
{
	bool		found;
	int32		key_version;
	bytea	   *ciphertext;		/* a copy: the row is gone after the scan */
} SealedRow;

static bool
copy_sealed_row(HeapTuple tuple, TupleDesc desc, void *arg)
{
	SealedRow  *row = arg;
	bool		isnull;

	row->found = true;
	row->key_version = DatumGetInt32(heap_getattr(tuple, Anum_secrets_key_version, desc, &isnull));
	row->ciphertext = DatumGetByteaPCopy(heap_getattr(tuple, Anum_secrets_ciphertext, desc, &isnull));
	return false;
}

PG_FUNCTION_INFO_V1(nsvault_get_secret);

/* get_secret(namespace, name): the secret's value. */
Datum
nsvault_get_secret(PG_FUNCTION_ARGS)
{
	char	   *namespace = arg_namespace(fcinfo, 0);
	char	   *name = arg_secret_name(fcinfo, 1);
	const char *keys[2] = {namespace, name};
	SealedRow	row = {0};
	NamespaceKey *key;
	bytea	   *plaintext;

	namespace_require(namespace, PRIV_READ);
	index_lookup("secrets", "secrets_pkey", 2, keys, copy_sealed_row, &row);
	if (!row.found)
		report_missing(namespace, name);

	key = key_cache_version(namespace, row.key_version);
	plaintext = open_secret(namespace, name, key, row.ciphertext);
	explicit_bzero(key, sizeof(*key));

	audit_record(namespace, name, "read", NULL);
	PG_RETURN_TEXT_P((text *) plaintext);
}

/* A row of get_secrets' query, found by name. */
typedef struct NamedRow
{
	char		name[NSVAULT_SECRET_NAME_MAX + 1];
	int			row;
	bool		emitted;
} NamedRow;

PG_FUNCTION_INFO_V1(nsvault_get_secrets);

/*
 * get_secrets(namespace, names): {"name": "value", ...} for every name, in
 * one call; fails naming the first name, in array order, that is missing.
 */
Datum
nsvault_get_secrets(PG_FUNCTION_ARGS)
{
	char	   *namespace = arg_namespace(fcinfo, 0);
	MemoryContext callcxt = CurrentMemoryContext;
	ArrayType  *names_array;
	Datum	   *name_datums;
	bool	   *name_nulls;
	int			nnames;
	char	  **names;
	Oid			argtypes[2] = {TEXTOID, TEXTARRAYOID};
	Datum		args[2];
	HASHCTL		ctl;
	HTAB	   *rows;
	NamespaceKey *key = NULL;
	JsonbParseState *state = NULL;
	JsonbValue *object;
	List	   *plaintexts = NIL;
	ListCell   *lc;
	Jsonb	   *result;
	int			nread;

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("secret names must not be null")));
	names_array = PG_GETARG_ARRAYTYPE_P(1);
	if (ARR_NDIM(names_array) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("secret names must be a one-dimensional array")));
	deconstruct_array(names_array, TEXTOID, -1, false, TYPALIGN_INT,
					  &name_datums, &name_nulls, &nnames);
	names = palloc(sizeof(char *) * (nnames + 1));
	for (int i = 0; i < nnames; i++)
	{
		if (name_nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("secret names must not contain null")));
		names[i] = TextDatumGetCString(name_datums[i]);
		validate_secret_name(names[i]);
	}

	namespace_require(namespace, PRIV_READ);
	args[0] = CStringGetTextDatum(namespace);
	args[1] = PointerGetDatum(names_array);
	spi_connect();
	plan_once(&select_many_plan,
			  "SELECT name, key_version, ciphertext FROM nsvault.secrets"
			  " WHERE namespace = $1 AND name = ANY ($2)",
			  2, argtypes);
	if (SPI_execute_plan(select_many_plan, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read secrets");

	ctl.keysize = NSVAULT_SECRET_NAME_MAX + 1;
	ctl.entrysize = sizeof(NamedRow);
	ctl.hcxt = CurrentMemoryContext;
	rows = hash_create("nsvault get_secrets rows", Max(nnames, 1), &ctl,
					   HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		char	   *row_name = SPI_getvalue(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1);
		NamedRow   *entry = hash_search(rows, row_name, HASH_ENTER, NULL);

		entry->row = (int) r;
		entry->emitted = false;
	}
	for (int i = 0; i < nnames; i++)
	{
		if (hash_search(rows, names[i], HASH_FIND, NULL) == NULL)
			report_missing(namespace, names[i]);
	}

	object = pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	for (int i = 0; i < nnames; i++)
	{
		NamedRow   *entry = hash_search(rows, names[i], HASH_FIND, NULL);
		HeapTuple	tuple = SPI_tuptable->vals[entry->row];
		bool		isnull;
		int32		version;
		bytea	   *plaintext;

		if (entry->emitted)
			continue;
		entry->emitted = true;

		version = DatumGetInt32(SPI_getbinval(tuple, SPI_tuptable->tupdesc, 2, &isnull));
		if (key == NULL || key->version != version)
			key = key_cache_version(namespace, version);
		plaintext = open_secret(namespace, names[i], key,
								DatumGetByteaPP(SPI_getbinval(tuple, SPI_tuptable->tupdesc,
															  3, &isnull)));
		plaintexts = lappend(plaintexts, plaintext);
		jsonb_push_string(&state, WJB_KEY, names[i], strlen(names[i]));
		jsonb_push_string(&state, WJB_VALUE, VARDATA_ANY(plaintext),
						  VARSIZE_ANY_EXHDR(plaintext));
	}
	object = pushJsonbValue(&state, WJB_END_OBJECT, NULL);

	MemoryContextSwitchTo(callcxt);
	result = JsonbValueToJsonb(object);
	foreach(lc, plaintexts)
		wipe_varlena((struct varlena *) lfirst(lc));
	if (key != NULL)
		explicit_bzero(key, sizeof(*key));
	SPI_finish();

	/* one event per distinct name, in array order */
	nread = 0;
	for (int i = 0; i < nnames; i++)
	{
		bool		repeated = false;

		for (int j = 0; j < i && !repeated; j++)
			repeated = strcmp(names[i], names[j]) == 0;
		if (!repeated)
			names[nread++] = names[i];
	}
	audit_record_items(namespace, (const char *const *) names, nread, "read", NULL);
	PG_RETURN_JSONB_P(result);
}

PG_FUNCTION_INFO_V1(nsvault_list_secrets);

/* list_secrets(namespace): names and timestamps, sorted by name, never values. */
Datum
nsvault_list_secrets(PG_FUNCTION_ARGS)
{
	char	   *namespace = arg_namespace(fcinfo, 0);
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];

	namespace_require(namespace, PRIV_READ);
	InitMaterializedSRF(fcinfo, 0);
	args[0] = CStringGetTextDatum(namespace);

	spi_connect();
	plan_once(&list_plan,
			  "SELECT name, created_at, updated_at FROM nsvault.secrets"
			  " WHERE namespace = $1 ORDER BY name COLLATE \"C\"",
			  1, argtypes);
	if (SPI_execute_plan(list_plan, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not list secrets");

	spi_return_rows(fcinfo, 0, NULL);
	SPI_finish();
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(nsvault_delete_secret);

/* delete_secret(namespace, name): true when a secret was deleted. */
Datum
nsvault_delete_secret(PG_FUNCTION_ARGS)
{
	char	   *namespace = arg_namespace(fcinfo, 0);
	char	   *name = arg_secret_name(fcinfo, 1);
	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	Datum		args[2];
	bool		deleted;

	namespace_require(namespace, PRIV_WRITE);
	args[0] = CStringGetTextDatum(namespace);
	args[1] = CStringGetTextDatum(name);

	spi_connect();
	plan_once(&delete_plan,
			  "DELETE FROM nsvault.secrets WHERE namespace = $1 AND name = $2",
			  2, argtypes);
	if (SPI_execute_plan(delete_plan, args, NULL, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "could not delete secret");
	deleted = (SPI_processed > 0);
	SPI_finish();
	if (deleted)
		audit_record(namespace, name, "delete", NULL);
	PG_RETURN_BOOL(deleted);
}
