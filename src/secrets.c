/*-------------------------------------------------------------------------
 *
 * secrets.c
 *		Reading secrets: a version, many current versions, the list; and
 *		deleting one.  What the functions on secrets and their versions
 *		share: the associated data, reading rows, the checks before a
 *		value is handed out.
 *
 * Values are sealed before the INSERT and opened after the SELECT, so the
 * tables, their WAL and their temp files only ever see ciphertext.  The
 * current version of a secret is its row in nsvault.secrets, read in one
 * index probe; older versions are rows of nsvault.secret_versions.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

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

static SPIPlanPtr list_plan = NULL;
static SPIPlanPtr list_versioned_plan = NULL;
static SPIPlanPtr delete_plan = NULL;
static SPIPlanPtr soft_delete_plan = NULL;

/*
 * Associated data that binds a value to its namespace, name and version.
 * Version 1 is bound as nsvault 0.5 bound every value, without a version,
 * so what it sealed stays valid as version 1.
 */
StringInfo
secrets_aad(const char *namespace, const char *name, int32 version)
{
	StringInfo	aad = makeStringInfo();

	crypto_aad_append(aad, "secret");
	crypto_aad_append(aad, namespace);
	crypto_aad_append(aad, name);
	if (version > 1)
	{
		char		digits[12];

		snprintf(digits, sizeof(digits), "%d", version);
		crypto_aad_append(aad, digits);
	}
	return aad;
}

/* Whether this database's nsvault keeps versions (its SQL is 0.6 or later). */
bool
secrets_versioned(void)
{
	return nsvault_has_relation("secret_versions");
}

/* Fails: the secret is not there (or reads as not there). */
void
secrets_report_missing(const char *namespace, const char *name)
{
	ereport(ERROR,
			(errcode(ERRCODE_NO_DATA_FOUND),
			 errmsg("secret \"%s\" not found in namespace \"%s\"", name, namespace)));
}

/* Copies the sealed value of a row's columns ciphertext and key_version, NULL when destroyed. */
static void
copy_sealed(HeapTuple tuple, TupleDesc desc, int ciphertext_attnum, int key_version_attnum,
			SecretVersion *row)
{
	bool		isnull;
	Datum		datum = heap_getattr(tuple, ciphertext_attnum, desc, &isnull);

	row->ciphertext = isnull ? NULL : DatumGetByteaPCopy(datum);
	datum = heap_getattr(tuple, key_version_attnum, desc, &isnull);
	row->key_version = isnull ? 0 : DatumGetInt32(datum);
}

/*
 * An IndexRowCallback: copies a row of nsvault.secrets, the current version,
 * into the set'th SecretVersion of arg.  A table without 0.6's columns
 * holds version 1 of each secret, never deleted, without expiry.
 */
static bool
copy_current(HeapTuple tuple, TupleDesc desc, int set, void *arg)
{
	SecretVersion *row = (SecretVersion *) arg + set;
	bool		isnull;

	memset(row, 0, sizeof(SecretVersion));
	row->found = true;
	row->version = 1;
	copy_sealed(tuple, desc, Anum_secrets_ciphertext, Anum_secrets_key_version, row);
	if (desc->natts >= Anum_secrets_expires_at)
	{
		Datum		expires_at;

		row->version = DatumGetInt32(heap_getattr(tuple, Anum_secrets_version, desc, &isnull));
		(void) heap_getattr(tuple, Anum_secrets_deleted_at, desc, &isnull);
		row->deleted = !isnull;
		expires_at = heap_getattr(tuple, Anum_secrets_expires_at, desc, &isnull);
		row->expires = !isnull;
		row->expires_at = isnull ? 0 : DatumGetTimestampTz(expires_at);
	}
	return false;
}

/* An IndexRowCallback: copies a row of nsvault.secret_versions into arg. */
static bool
copy_older_version(HeapTuple tuple, TupleDesc desc, int set, void *arg)
{
	SecretVersion *row = arg;
	bool		isnull;

	memset(row, 0, sizeof(SecretVersion));
	row->found = true;
	row->version = DatumGetInt32(heap_getattr(tuple, Anum_secret_versions_version, desc, &isnull));
	copy_sealed(tuple, desc, Anum_secret_versions_ciphertext, Anum_secret_versions_key_version, row);
	(void) heap_getattr(tuple, Anum_secret_versions_deleted_at, desc, &isnull);
	row->deleted = !isnull;
	return false;
}

/* Reads the current version of each name, as the active snapshot sees it, into rows. */
void
secrets_read_current(const char *namespace, const char *const *names, int nnames,
					 SecretVersion *rows)
{
	const char **keys = palloc(sizeof(char *) * 2 * Max(nnames, 1));

	for (int i = 0; i < nnames; i++)
	{
		keys[2 * i] = namespace;
		keys[2 * i + 1] = names[i];
		rows[i].found = false;
	}
	nsvault_index_lookup("secrets", "secrets_pkey", 2, nnames, keys, GetActiveSnapshot(),
						 copy_current, rows);
	pfree(keys);
}

/* Reads a version older than the current one into row (not found: row->found is false). */
void
secrets_read_version(const char *namespace, const char *name, int32 version, SecretVersion *row)
{
	row->found = false;
	nsvault_version_lookup(namespace, name, version, GetActiveSnapshot(), copy_older_version, row);
}

/*
 * Reads the current version of a secret into *current and, when version
 * (0: the current one) is another, that version into *older; returns the
 * version asked for.
 */
SecretVersion *
secrets_read_asked(const char *namespace, const char *name, int32 version,
				   SecretVersion *current, SecretVersion *older)
{
	secrets_read_current(namespace, &name, 1, current);
	if (version == 0 || !current->found || version == current->version)
		return current;
	secrets_read_version(namespace, name, version, older);
	older->version = version;
	return older;
}

/* Whether a version holds a value a reader may have: neither deleted nor destroyed. */
bool
secrets_has_value(const SecretVersion *row)
{
	return row->found && !row->deleted && row->ciphertext != NULL;
}

/*
 * Fails unless asked, a version of the secret whose current version is
 * current (asked may be current), holds a value: it exists, and is
 * neither deleted nor destroyed.  A secret whose current version is
 * deleted or destroyed reads as missing, exactly: get_secrets with
 * missing_ok leaves it out, and enrich --batch must answer as alone.
 */
void
secrets_check_present(const char *namespace, const char *name, const SecretVersion *current,
					  const SecretVersion *asked)
{
	if (!current->found || (asked == current && !secrets_has_value(current)))
		secrets_report_missing(namespace, name);
	if (asked != current && !secrets_has_value(asked))
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("version %d of secret \"%s\" not found in namespace \"%s\"",
						asked->version, name, namespace),
				 !asked->found ? 0 :
				 asked->deleted ? errdetail("It was deleted.") : errdetail("It was destroyed.")));
}

/* Fails unless asked can be read now: it holds a value, and the secret has not expired. */
void
secrets_check_readable(const char *namespace, const char *name, const SecretVersion *current,
					   const SecretVersion *asked)
{
	secrets_check_present(namespace, name, current, asked);
	if (current->expires && current->expires_at <= GetCurrentTimestamp())
		ereport(ERROR,
				(errcode(ERRCODE_NSVAULT_SECRET_EXPIRED),
				 errmsg("secret \"%s\" in namespace \"%s\" expired at %s",
						name, namespace, timestamptz_to_str(current->expires_at)),
				 errhint("Extend or clear its expiry with nsvault.set_secret_metadata().")));
}

/*
 * Opens a version's sealed value with *key, fetching the key version it
 * needs when *key is NULL or another; reports a value that was tampered with.
 */
bytea *
secrets_open(const char *namespace, const char *name, const SecretVersion *row,
			 NamespaceKey **key)
{
	bytea	   *plaintext;

	if (*key == NULL || (*key)->version != row->key_version)
		*key = key_cache_version(namespace, row->key_version);
	plaintext = crypto_open(*key, secrets_aad(namespace, name, row->version), row->ciphertext);
	if (plaintext == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("secret \"%s\" in namespace \"%s\" failed its integrity check",
						name, namespace),
				 errdetail("The stored ciphertext of version %d was altered, or was copied from another version, secret or namespace.",
						   row->version),
				 errhint("Set the secret again.")));
	return plaintext;
}

/* "version N", the detail of an audit event. */
char *
secrets_version_detail(int32 version)
{
	return psprintf("version %d", version);
}

/* Returns a palloc'd copy of plaintext as text, and wipes plaintext. */
static text *
plaintext_result(bytea *plaintext)
{
	text	   *result = palloc(VARSIZE_ANY(plaintext));

	memcpy(result, plaintext, VARSIZE_ANY(plaintext));
	wipe_varlena((struct varlena *) plaintext);
	return result;
}

PG_FUNCTION_INFO_V1(nsvault_get_secret);

/*
 * get_secret(namespace, name [, version]): the value of the current
 * version, or of the version asked for.  The event is recorded before the
 * value is returned; the value returned is an ordinary palloc'd copy,
 * which the executor may free, of the plaintext wiped on reset.
 */
Datum
nsvault_get_secret(PG_FUNCTION_ARGS)
{
	char	   *namespace = validate_arg_namespace(fcinfo, 0);
	char	   *name = validate_arg_secret_name(fcinfo, 1);
	int32		version = PG_NARGS() > 2 ? validate_arg_version_or_null(fcinfo, 2) : 0;
	SecretVersion current;
	SecretVersion older;
	SecretVersion *asked;
	NamespaceKey *key = NULL;
	bytea	   *plaintext;
	char	   *detail;
	Caller		caller;

	access_namespace_enter(fcinfo, &caller, namespace, PRIV_READ);
	asked = secrets_read_asked(namespace, name, version, &current, &older);
	secrets_check_readable(namespace, name, &current, asked);
	plaintext = secrets_open(namespace, name, asked, &key);
	explicit_bzero(key, sizeof(*key));

	detail = secrets_version_detail(asked->version);
	audit_reads(&caller, namespace, (const char *const *) &name, (const char *const *) &detail,
				1, "read");
	access_namespace_leave(&caller);
	PG_RETURN_TEXT_P(plaintext_result(plaintext));
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
 * Fails on the first name (in array order) whose current version cannot be
 * read, unless missing_ok and it is missing, deleted or destroyed; then
 * drops those names, and their rows, keeping the order.  An expired secret
 * fails always.  Returns how many are left.
 */
static int
keep_readable(const char *namespace, char **names, SecretVersion *rows, int nnames,
			  bool missing_ok)
{
	int			kept = 0;

	for (int i = 0; i < nnames; i++)
	{
		if (missing_ok && !secrets_has_value(&rows[i]))
			continue;
		secrets_check_readable(namespace, names[i], &rows[i], &rows[i]);
		names[kept] = names[i];
		rows[kept] = rows[i];
		kept++;
	}
	return kept;
}

PG_FUNCTION_INFO_V1(nsvault_get_secrets);

/*
 * get_secrets(namespace, names [, missing_ok]): {"name": "value", ...} of
 * every name's current version, in one call; fails naming the first name,
 * in array order, that cannot be read, or with missing_ok leaves out the
 * missing ones.  Only the secrets read are audited.
 */
Datum
nsvault_get_secrets(PG_FUNCTION_ARGS)
{
	char	   *namespace = validate_arg_namespace(fcinfo, 0);
	char	  **names;
	int			nnames;
	SecretVersion *rows;
	NamespaceKey *key = NULL;
	JsonbParseState *state = NULL;
	JsonbValue *object;
	bytea	  **plaintexts;
	char	  **details;
	Jsonb	   *result;
	Caller		caller;
	bool		missing_ok = false;

	validate_not_null(fcinfo, 1, "names");
	names = distinct_names(PG_GETARG_ARRAYTYPE_P(1), &nnames);
	/* the three-argument form, nsvault 0.5's */
	if (PG_NARGS() > 2)
		missing_ok = validate_arg_bool(fcinfo, 2, "missing_ok");

	access_namespace_enter(fcinfo, &caller, namespace, PRIV_READ);
	rows = palloc0(sizeof(SecretVersion) * Max(nnames, 1));
	secrets_read_current(namespace, (const char *const *) names, nnames, rows);
	nnames = keep_readable(namespace, names, rows, nnames, missing_ok);

	plaintexts = palloc(sizeof(bytea *) * Max(nnames, 1));
	details = palloc(sizeof(char *) * Max(nnames, 1));
	object = pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	for (int i = 0; i < nnames; i++)
	{
		plaintexts[i] = secrets_open(namespace, names[i], &rows[i], &key);
		details[i] = secrets_version_detail(rows[i].version);
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

	audit_reads(&caller, namespace, (const char *const *) names, (const char *const *) details,
				nnames, "read");
	access_namespace_leave(&caller);
	PG_RETURN_JSONB_P(result);
}

PG_FUNCTION_INFO_V1(nsvault_list_secrets);

/*
 * list_secrets(namespace): the secrets that can be read, sorted by name,
 * never values; with 0.6's SQL also their current version, description
 * and expiry.  A secret whose current version is deleted or destroyed is
 * left out.
 */
Datum
nsvault_list_secrets(PG_FUNCTION_ARGS)
{
	char	   *namespace = validate_arg_namespace(fcinfo, 0);
	TupleDesc	columns;

	if (get_call_result_type(fcinfo, NULL, &columns) == TYPEFUNC_COMPOSITE && columns->natts > 3)
		listing_return_rows(fcinfo, namespace, NULL, &list_versioned_plan,
							"SELECT name, created_at, updated_at, version AS current_version,"
							" description, expires_at FROM nsvault.secrets"
							" WHERE namespace = $1 AND deleted_at IS NULL AND ciphertext IS NOT NULL"
							" ORDER BY name COLLATE \"C\"",
							-1, NULL);
	else
		listing_return_rows(fcinfo, namespace, NULL, &list_plan,
							"SELECT name, created_at, updated_at FROM nsvault.secrets"
							" WHERE namespace = $1 ORDER BY name COLLATE \"C\"",
							-1, NULL);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(nsvault_delete_secret);

/*
 * delete_secret(namespace, name): true when a secret was deleted.  With
 * versions, its current version is marked deleted (undelete_secret
 * restores it, purge_secret removes every version); before them, its row
 * is removed.
 */
Datum
nsvault_delete_secret(PG_FUNCTION_ARGS)
{
	char	   *namespace = validate_arg_namespace(fcinfo, 0);
	char	   *name = validate_arg_secret_name(fcinfo, 1);
	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	Datum		args[2];
	bool		versioned;
	bool		deleted;
	bool		isnull;
	int32		version = 0;
	Caller		caller;
	int			spi;

	access_namespace_enter(fcinfo, &caller, namespace, PRIV_WRITE);
	args[0] = CStringGetTextDatum(namespace);
	args[1] = CStringGetTextDatum(name);
	versioned = secrets_versioned();

	spi = nsvault_spi_connect();
	if (versioned)
		nsvault_spi_execute(nsvault_spi_plan(&soft_delete_plan,
											 "UPDATE nsvault.secrets SET deleted_at = pg_catalog.now()"
											 " WHERE namespace = $1 AND name = $2"
											 " AND deleted_at IS NULL AND ciphertext IS NOT NULL"
											 " RETURNING version",
											 2, argtypes),
							args, NULL, false, 0, SPI_OK_UPDATE_RETURNING, "could not delete secret");
	else
		nsvault_spi_execute(nsvault_spi_plan(&delete_plan,
											 "DELETE FROM nsvault.secrets WHERE namespace = $1 AND name = $2",
											 2, argtypes),
							args, NULL, false, 0, SPI_OK_DELETE, "could not delete secret");
	deleted = (SPI_processed > 0);
	if (deleted && versioned)
		version = DatumGetInt32(nsvault_spi_datum(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
												  "version", &isnull));
	nsvault_spi_finish(spi);
	if (deleted)
		audit_record(&caller, namespace, name, "delete", versioned ? secrets_version_detail(version) : NULL);
	access_namespace_leave(&caller);
	PG_RETURN_BOOL(deleted);
}
