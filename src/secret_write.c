/*-------------------------------------------------------------------------
 *
 * secret_write.c
 *		Writing a secret: set_secret, with check-and-set, and
 *		rollback_secret.  Every write makes a new version.
 *
 * A write locks the secret's row (FOR UPDATE), so that writers of one
 * secret take turns: each sees the version the last one committed, and a
 * check-and-set has exactly one winner.  The version that was current
 * moves to nsvault.secret_versions as it is; the new one is sealed with
 * its version in the associated data.  Versions older than the newest
 * max_versions (set_max_versions, default 10) are removed as new ones are
 * written.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "access.h"
#include "audit.h"
#include "caller.h"
#include "crypto.h"
#include "key_lifecycle.h"
#include "secrets.h"
#include "secure_mem.h"
#include "spi_plans.h"
#include "validate.h"

/* no version was expected: the write does not check-and-set */
#define NO_EXPECTED_VERSION (-1)

static SPIPlanPtr upsert_plan = NULL;
static SPIPlanPtr insert_plan = NULL;
static SPIPlanPtr lock_plan = NULL;
static SPIPlanPtr create_plan = NULL;
static SPIPlanPtr replace_plan = NULL;

/*
 * Locks the secret's row (key_args: namespace, name) and returns its
 * current version, 0 when there is none.  The caller is connected to SPI.
 */
int32
secrets_lock_current(Datum *key_args)
{
	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	bool		isnull;

	nsvault_spi_plan(&lock_plan,
					 "SELECT version FROM nsvault.secrets WHERE namespace = $1 AND name = $2"
					 " FOR UPDATE",
					 2, argtypes);
	nsvault_spi_execute(lock_plan, key_args, NULL, false, 0, SPI_OK_SELECT,
						"could not read the current version");
	if (SPI_processed == 0)
		return 0;
	return DatumGetInt32(nsvault_spi_datum(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
										   "version", &isnull));
}

/* Fails when the write may not go ahead over current (0: no secret). */
static void
check_write_allowed(const char *namespace, const char *name, int32 current, bool overwrite,
					int32 expected)
{
	if (expected != NO_EXPECTED_VERSION && expected != current)
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("check-and-set failed for secret \"%s\" in namespace \"%s\"",
						name, namespace),
				 current == 0 ?
				 errdetail("Version %d was expected; the secret does not exist.", expected) :
				 errdetail("Version %d was expected; the current version is %d.",
						   expected, current),
				 errhint("Read the current version, and write again if the value is still right.")));
	if (!overwrite && current != 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNIQUE_VIOLATION),
				 errmsg("secret \"%s\" already exists in namespace \"%s\"", name, namespace),
				 errhint("Pass overwrite => true to write over it.")));
}

/*
 * Stores the sealed value as the first version of a secret.  Returns false
 * when it lost the race to a concurrent writer's first version.
 */
static bool
store_first_version(Datum *args, Oid *argtypes)
{
	nsvault_spi_plan(&create_plan,
					 "INSERT INTO nsvault.secrets"
					 " (namespace, name, ciphertext, key_version, version, updated_by)"
					 " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (namespace, name) DO NOTHING",
					 6, argtypes);
	nsvault_spi_execute(create_plan, args, NULL, false, 0, SPI_OK_INSERT,
						"could not store secret");
	return SPI_processed > 0;
}

/*
 * Stores the sealed value as version $5 over the current version, in one
 * statement: the current version moves to the older ones unless it is
 * already beyond the newest max_versions, and older ones beyond them are
 * removed.  (The parts of one statement see the same snapshot, so the
 * removal cannot see the version moved beside it: hence the condition on
 * the move.)
 */
/*
 * The newest version that writing version $5 drops: each part of the
 * statement reads the namespace's own rows only, so that Citus runs the
 * whole of it on the namespace's shards.
 */
#define NEWEST_DROPPED_SQL \
	"($5 - coalesce((SELECT s.max_versions FROM nsvault.namespace_settings s" \
	" WHERE s.namespace = $1), " CppAsString2(SECRETS_DEFAULT_MAX_VERSIONS) "))"

static void
store_next_version(Datum *args, Oid *argtypes)
{
	nsvault_spi_plan(&replace_plan,
					 "WITH kept AS (INSERT INTO nsvault.secret_versions (namespace, name, version,"
					 " ciphertext, key_version, created_at, created_by, deleted_at)"
					 " SELECT namespace, name, version, ciphertext, key_version, updated_at,"
					 " updated_by, deleted_at FROM nsvault.secrets"
					 " WHERE namespace = $1 AND name = $2"
					 " AND version > " NEWEST_DROPPED_SQL "),"
					 " pruned AS (DELETE FROM nsvault.secret_versions v"
					 " WHERE v.namespace = $1 AND v.name = $2"
					 " AND v.version <= " NEWEST_DROPPED_SQL ")"
					 " UPDATE nsvault.secrets SET ciphertext = $3, key_version = $4, version = $5,"
					 " updated_at = pg_catalog.now(), updated_by = $6, deleted_at = NULL"
					 " WHERE namespace = $1 AND name = $2",
					 6, argtypes);
	nsvault_spi_execute(replace_plan, args, NULL, false, 0, SPI_OK_UPDATE,
						"could not store secret");
}

/*
 * Stores the sealed value as version (the first when current is 0, else
 * over the current version, which moves to the older ones).  Returns false
 * when a first version lost the race to a concurrent writer's.
 */
static bool
store_version(Datum *key_args, int32 current, int32 version, bytea *sealed, int32 key_version,
			  Oid role)
{
	Oid			argtypes[6] = {TEXTOID, TEXTOID, BYTEAOID, INT4OID, INT4OID, NAMEOID};
	Datum		args[6];

	args[0] = key_args[0];
	args[1] = key_args[1];
	args[2] = PointerGetDatum(sealed);
	args[3] = Int32GetDatum(key_version);
	args[4] = Int32GetDatum(version);
	args[5] = CStringGetDatum(GetUserNameFromId(role, false));
	if (current == 0)
		return store_first_version(args, argtypes);
	store_next_version(args, argtypes);
	return true;
}

/*
 * Writes value as a new version of the secret, unless overwrite is false
 * and the secret exists, or expected (NO_EXPECTED_VERSION: not checked) is
 * not its current version (0: there must be no secret).  Returns the new
 * version.  The caller has entered the namespace with write privilege.
 */
static int32
write_version(const Caller *caller, const char *namespace, const char *name, text *value,
			  bool overwrite, int32 expected)
{
	NamespaceKey *key;
	Datum		key_args[2];
	int32		current;
	int32		version;
	bytea	   *sealed;
	int			spi;

	/* the key comes first: if the key server is down, nothing is written */
	key = key_for_write(namespace);
	key_args[0] = CStringGetTextDatum(namespace);
	key_args[1] = CStringGetTextDatum(name);

	spi = nsvault_spi_connect();
	for (;;)
	{
		current = secrets_lock_current(key_args);
		check_write_allowed(namespace, name, current, overwrite, expected);
		version = current + 1;
		sealed = crypto_seal(key, secrets_aad(namespace, name, version), value);
		if (store_version(key_args, current, version, sealed, key->version, caller->role))
			break;
		/* another writer made the first version meanwhile: its row is there now */
	}
	nsvault_spi_finish(spi);
	explicit_bzero(key, sizeof(*key));
	return version;
}

/* The 0.5 form, set_secret(namespace, name, value, overwrite), over a table without versions. */
static void
write_unversioned(const char *namespace, const char *name, text *value, bool overwrite)
{
	NamespaceKey *key = key_for_write(namespace);
	Oid			argtypes[4] = {TEXTOID, TEXTOID, BYTEAOID, INT4OID};
	Datum		args[4];
	SPIPlanPtr	plan;
	bool		existed;
	int			spi;

	args[0] = CStringGetTextDatum(namespace);
	args[1] = CStringGetTextDatum(name);
	args[2] = PointerGetDatum(crypto_seal(key, secrets_aad(namespace, name, 1), value));
	args[3] = Int32GetDatum(key->version);
	explicit_bzero(key, sizeof(*key));

	spi = nsvault_spi_connect();
	if (overwrite)
		plan = nsvault_spi_plan(&upsert_plan,
								"INSERT INTO nsvault.secrets (namespace, name, ciphertext, key_version)"
								" VALUES ($1, $2, $3, $4)"
								" ON CONFLICT (namespace, name) DO UPDATE"
								" SET ciphertext = EXCLUDED.ciphertext,"
								" key_version = EXCLUDED.key_version,"
								" updated_at = EXCLUDED.updated_at",
								4, argtypes);
	else
		plan = nsvault_spi_plan(&insert_plan,
								"INSERT INTO nsvault.secrets (namespace, name, ciphertext, key_version)"
								" VALUES ($1, $2, $3, $4)"
								" ON CONFLICT (namespace, name) DO NOTHING",
								4, argtypes);
	nsvault_spi_execute(plan, args, NULL, false, 0, SPI_OK_INSERT, "could not store secret");
	existed = SPI_processed == 0;
	nsvault_spi_finish(spi);
	check_write_allowed(namespace, name, existed ? 1 : 0, overwrite, NO_EXPECTED_VERSION);
}

PG_FUNCTION_INFO_V1(nsvault_set_secret);

/*
 * set_secret(namespace, name, value, overwrite, expected_version): stores
 * value sealed under the namespace's active key as a new version, and
 * returns its number.  expected_version checks and sets: 0, that there is
 * no such secret; N, that N is its current version.  nsvault 0.5's SQL
 * calls it without expected_version, and has no versions.
 */
Datum
nsvault_set_secret(PG_FUNCTION_ARGS)
{
	char	   *namespace = validate_arg_namespace(fcinfo, 0);
	char	   *name = validate_arg_secret_name(fcinfo, 1);
	text	   *value = validate_arg_secret_value(fcinfo, 2);
	bool		overwrite = validate_arg_bool(fcinfo, 3, "overwrite");
	int32		expected = NO_EXPECTED_VERSION;
	int32		version = 0;
	Caller		caller;

	if (PG_NARGS() > 4 && !PG_ARGISNULL(4))
	{
		expected = PG_GETARG_INT32(4);
		if (expected < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid expected version %d", expected),
					 errdetail("Pass 0 for a secret that must not exist yet, or its current version.")));
	}

	access_namespace_enter(fcinfo, &caller, namespace, PRIV_WRITE);
	if (PG_NARGS() > 4)
		version = write_version(&caller, namespace, name, value, overwrite, expected);
	else
		write_unversioned(namespace, name, value, overwrite);
	audit_record(&caller, namespace, name, "write",
				 version > 0 ? secrets_version_detail(version) : NULL);
	access_namespace_leave(&caller);
	PG_RETURN_INT32(version);
}

PG_FUNCTION_INFO_V1(nsvault_rollback_secret);

/*
 * rollback_secret(namespace, name, version): writes the value of an older
 * version as a new version, and returns its number.  The version must
 * hold a value: not deleted, not destroyed.
 */
Datum
nsvault_rollback_secret(PG_FUNCTION_ARGS)
{
	char	   *namespace = validate_arg_namespace(fcinfo, 0);
	char	   *name = validate_arg_secret_name(fcinfo, 1);
	int32		asked_version;
	SecretVersion current;
	SecretVersion older;
	SecretVersion *asked;
	NamespaceKey *key = NULL;
	bytea	   *plaintext;
	int32		version;
	Caller		caller;

	validate_not_null(fcinfo, 2, "version");
	asked_version = validate_arg_version_or_null(fcinfo, 2);
	access_namespace_enter(fcinfo, &caller, namespace, PRIV_WRITE);
	asked = secrets_read_asked(namespace, name, asked_version, &current, &older);
	secrets_check_present(namespace, name, &current, asked);
	plaintext = secrets_open(namespace, name, asked, &key);
	explicit_bzero(key, sizeof(*key));

	version = write_version(&caller, namespace, name, (text *) plaintext, true,
							NO_EXPECTED_VERSION);
	wipe_varlena((struct varlena *) plaintext);
	audit_record(&caller, namespace, name, "rollback",
				 psprintf("version %d from version %d", version, asked_version));
	access_namespace_leave(&caller);
	PG_RETURN_INT32(version);
}
