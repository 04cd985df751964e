/*-------------------------------------------------------------------------
 *
 * registries.c
 *		The SQL functions on container registry credentials.
 *
 * A registry is kept in one of three scopes: a namespace's (used by its
 * services), global (used by every service) and global-private (used only
 * by global services).  Tokens are sealed like secret values, bound to
 * scope, namespace and registry; global scopes use the reserved key
 * namespace "@global", which no user namespace can be.  User names are
 * kept in clear and listed only as a hint.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"

#include "access.h"
#include "audit.h"
#include "caller.h"
#include "crypto.h"
#include "index_lookup.h"
#include "key_lifecycle.h"
#include "listing.h"
#include "registries.h"
#include "registry_ref.h"
#include "secure_mem.h"
#include "spi_plans.h"
#include "validate.h"

#define REGISTRY_USER_MAX		256

static SPIPlanPtr upsert_plan = NULL;
static SPIPlanPtr upsert_global_plan = NULL;
static SPIPlanPtr list_plan = NULL;
static SPIPlanPtr list_global_plan = NULL;
static SPIPlanPtr list_global_apart_plan = NULL;
static SPIPlanPtr delete_plan = NULL;
static SPIPlanPtr delete_global_plan = NULL;

/* Credentials split out of "USER:TOKEN". */
typedef struct RegistryCredentials
{
	char	   *user;
	text	   *token;			/* in secure memory */
} RegistryCredentials;

/* Fails with 22023: the input was refused, for the reason detail gives. */
void
invalid_registry(RegistryInput input, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 input == REGISTRY_URL ? errmsg("invalid registry URL")
			 : input == REGISTRY_DATA ? errmsg("invalid registry data")
			 : input == IMAGE_REFERENCE ? errmsg("invalid image reference")
			 : errmsg("invalid registry reference"),
			 errdetail_internal("%s", detail)));
}

/* Returns argument argno as a parsed registry URL; *url gets the text. */
static RegistryLocation
arg_registry_url(FunctionCallInfo fcinfo, int argno, char **url)
{
	RegistryLocation loc;
	const char *problem;

	validate_not_null(fcinfo, argno, "url");
	*url = text_to_cstring(PG_GETARG_TEXT_PP(argno));
	problem = registry_parse_url(*url, &loc);
	if (problem != NULL)
		invalid_registry(REGISTRY_URL, problem);
	return loc;
}

/*
 * Splits argument argno, "USER:TOKEN", at its first colon.  The token may
 * hold anything, colons included; neither part is ever quoted in an error.
 */
static RegistryCredentials
arg_registry_data(FunctionCallInfo fcinfo, int argno)
{
	RegistryCredentials creds;
	text	   *data;
	const char *bytes;
	int			len;
	const char *colon;
	int			user_len;
	int			token_len;

	validate_not_null(fcinfo, argno, "data");
	data = PG_GETARG_TEXT_PP(argno);
	bytes = VARDATA_ANY(data);
	len = VARSIZE_ANY_EXHDR(data);
	colon = memchr(bytes, ':', len);
	if (colon == NULL)
		invalid_registry(REGISTRY_DATA,
						 "The data has no \":\" between user name and token.");
	user_len = colon - bytes;
	token_len = len - user_len - 1;
	if (user_len == 0)
		invalid_registry(REGISTRY_DATA, "The user name before the first \":\" is empty.");
	if (user_len > REGISTRY_USER_MAX)
		invalid_registry(REGISTRY_DATA, psprintf("The user name is longer than %d bytes.",
												  REGISTRY_USER_MAX));
	validate_registry_user(bytes, user_len);
	if (token_len == 0)
		invalid_registry(REGISTRY_DATA, "The token after the first \":\" is empty.");
	if (token_len > NSVAULT_VALUE_MAX)
		invalid_registry(REGISTRY_DATA, psprintf("The token is longer than %d bytes.",
												  NSVAULT_VALUE_MAX));

	creds.user = pnstrdup(bytes, user_len);
	creds.token = secure_alloc(VARHDRSZ + token_len);
	SET_VARSIZE(creds.token, VARHDRSZ + token_len);
	memcpy(VARDATA(creds.token), colon + 1, token_len);
	return creds;
}

/*
 * Associated data binding a token to its scope, namespace and registry,
 * and, from sealed-value format 2, to the URL and user name it is handed
 * out with.
 */
StringInfo
registry_aad(int format, const char *scope, const char *namespace, const char *registry,
			 const char *url, const char *user)
{
	StringInfo	aad = makeStringInfo();

	crypto_aad_append(aad, "registry");
	crypto_aad_append(aad, scope);
	crypto_aad_append(aad, namespace ? namespace : "");
	crypto_aad_append(aad, registry);
	if (format >= 2)
	{
		crypto_aad_append(aad, url);
		crypto_aad_append(aad, user);
	}
	return aad;
}

/*
 * Whether the global registries have a table of their own,
 * nsvault.global_registries (nsvault 0.9 on); before, they are the rows of
 * nsvault.registries without a namespace.
 */
bool
registries_global_apart(void)
{
	return nsvault_has_relation("global_registries");
}

/* The key namespace of a registry: its namespace's, or "@global"'s. */
const char *
registry_key_namespace(const char *namespace)
{
	return namespace ? namespace : NSVAULT_GLOBAL_NAMESPACE;
}

/* what replacing a registry in its scope changes */
#define UPSERT_SET_SQL \
	" SET url = EXCLUDED.url, user_name = EXCLUDED.user_name," \
	" token = EXCLUDED.token, key_version = EXCLUDED.key_version," \
	" updated_at = EXCLUDED.updated_at"

/* Seals and stores a registry, replacing the same registry in the same scope. */
static void
store_registry(const Caller *caller, const char *scope, const char *namespace, const char *url,
			   const RegistryLocation *loc, const RegistryCredentials *creds)
{
	char	   *registry = registry_location_key(loc);
	NamespaceKey *key = key_for_write(registry_key_namespace(namespace));
	bytea	   *sealed = crypto_seal(key, registry_aad(SEAL_FORMAT_CURRENT, scope, namespace,
													   registry, url, creds->user),
									 creds->token);
	Oid			argtypes[7] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, BYTEAOID, INT4OID};
	Datum		args[7];
	char		nulls[7] = {' ', namespace ? ' ' : 'n', ' ', ' ', ' ', ' ', ' '};
	SPIPlanPtr	plan;
	int			spi;

	args[0] = CStringGetTextDatum(scope);
	args[1] = namespace ? CStringGetTextDatum(namespace) : (Datum) 0;
	args[2] = CStringGetTextDatum(registry);
	args[3] = CStringGetTextDatum(url);
	args[4] = CStringGetTextDatum(creds->user);
	args[5] = PointerGetDatum(sealed);
	args[6] = Int32GetDatum(key->version);
	explicit_bzero(key, sizeof(*key));
	wipe_varlena((struct varlena *) creds->token);

	spi = nsvault_spi_connect();
	if (namespace == NULL && registries_global_apart())
		plan = nsvault_spi_plan(&upsert_global_plan,
								"INSERT INTO nsvault.global_registries"
								" (scope, registry, url, user_name, token, key_version)"
								" VALUES ($1, $3, $4, $5, $6, $7)"
								" ON CONFLICT ON CONSTRAINT global_registries_pkey DO UPDATE"
								UPSERT_SET_SQL,
								7, argtypes);
	else
		plan = nsvault_spi_plan(&upsert_plan,
								"INSERT INTO nsvault.registries"
								" (scope, namespace, registry, url, user_name, token, key_version)"
								" VALUES ($1, $2, $3, $4, $5, $6, $7)"
								" ON CONFLICT ON CONSTRAINT registries_scope_namespace_registry_key DO UPDATE"
								UPSERT_SET_SQL,
								7, argtypes);
	nsvault_spi_execute(plan, args, nulls, false, 0, SPI_OK_INSERT, "could not store registry");
	nsvault_spi_finish(spi);
	audit_record(caller, registry_key_namespace(namespace), url, "registry_write", scope);
}

/* Deletes a registry of a scope; true when one was deleted. */
static bool
remove_registry(const Caller *caller, const char *scope, const char *namespace,
				const RegistryLocation *loc, const char *url)
{
	int			spi;
	Oid			argtypes[3] = {TEXTOID, TEXTOID, TEXTOID};
	Datum		args[3];
	char		nulls[3] = {' ', namespace ? ' ' : 'n', ' '};
	SPIPlanPtr	plan;
	bool		deleted;

	args[0] = CStringGetTextDatum(scope);
	args[1] = namespace ? CStringGetTextDatum(namespace) : (Datum) 0;
	args[2] = CStringGetTextDatum(registry_location_key(loc));

	spi = nsvault_spi_connect();
	if (namespace == NULL && registries_global_apart())
		plan = nsvault_spi_plan(&delete_global_plan,
								"DELETE FROM nsvault.global_registries"
								" WHERE scope = $1 AND registry = $3",
								3, argtypes);
	else
		plan = nsvault_spi_plan(&delete_plan,
								"DELETE FROM nsvault.registries"
								" WHERE scope = $1 AND namespace IS NOT DISTINCT FROM $2 AND registry = $3",
								3, argtypes);
	nsvault_spi_execute(plan, args, nulls, false, 0, SPI_OK_DELETE, "could not delete registry");
	deleted = (SPI_processed > 0);
	nsvault_spi_finish(spi);
	if (deleted)
		audit_record(caller, registry_key_namespace(namespace), url, "registry_delete", scope);
	return deleted;
}

/*
 * Returns a hint of a user name that never shows the whole of a name longer
 * than three characters: "ad***or", "a***n", "***".
 */
static char *
user_hint(const char *user)
{
	int			chars = pg_mbstrlen(user);
	int			shown = chars >= 6 ? 2 : (chars >= 4 ? 1 : 0);
	const char *tail = user;
	int			head_bytes;

	if (shown == 0)
		return pstrdup("***");
	head_bytes = pg_mbcharcliplen(user, strlen(user), shown);
	for (int i = 0; i < chars - shown; i++)
		tail += pg_mblen(tail);
	return psprintf("%.*s***%s", head_bytes, user, tail);
}

PG_FUNCTION_INFO_V1(nsvault_set_registry);

/* set_registry(namespace, url, data): creates or replaces a namespace registry. */
Datum
nsvault_set_registry(PG_FUNCTION_ARGS)
{
	char	   *namespace = validate_arg_namespace(fcinfo, 0);
	char	   *url;
	RegistryLocation loc = arg_registry_url(fcinfo, 1, &url);
	RegistryCredentials creds = arg_registry_data(fcinfo, 2);
	Caller		caller;

	access_namespace_enter(fcinfo, &caller, namespace, PRIV_WRITE);
	store_registry(&caller, SCOPE_NAMESPACE, namespace, url, &loc, &creds);
	access_namespace_leave(&caller);
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(nsvault_set_global_registry);

/* set_global_registry(url, data, private): creates or replaces a global registry. */
Datum
nsvault_set_global_registry(PG_FUNCTION_ARGS)
{
	char	   *url;
	RegistryLocation loc = arg_registry_url(fcinfo, 0, &url);
	RegistryCredentials creds = arg_registry_data(fcinfo, 1);
	bool		private = validate_arg_bool(fcinfo, 2, "private");
	Caller		caller;

	access_namespace_enter(fcinfo, &caller, NSVAULT_GLOBAL_NAMESPACE, PRIV_ADMIN);
	store_registry(&caller, private ? SCOPE_GLOBAL_PRIVATE : SCOPE_GLOBAL, NULL, url, &loc,
				   &creds);
	access_namespace_leave(&caller);
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(nsvault_list_registries);

/* list_registries(namespace): URL, user hint and creation time, never a token. */
Datum
nsvault_list_registries(PG_FUNCTION_ARGS)
{
	listing_return_rows(fcinfo, validate_arg_namespace(fcinfo, 0), NULL, &list_plan,
						"SELECT url, user_name, created_at FROM nsvault.registries"
						" WHERE scope = 'namespace' AND namespace = $1 ORDER BY url COLLATE \"C\"",
						1, user_hint);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(nsvault_list_global_registries);

/* list_global_registries(): scope, URL, user hint and creation time. */
Datum
nsvault_list_global_registries(PG_FUNCTION_ARGS)
{
	if (registries_global_apart())
		listing_return_rows(fcinfo, NSVAULT_GLOBAL_NAMESPACE, NULL, &list_global_apart_plan,
							"SELECT scope, url, user_name, created_at FROM nsvault.global_registries"
							" ORDER BY scope COLLATE \"C\", url COLLATE \"C\"",
							2, user_hint);
	else
		listing_return_rows(fcinfo, NSVAULT_GLOBAL_NAMESPACE, NULL, &list_global_plan,
							"SELECT scope, url, user_name, created_at FROM nsvault.registries"
							" WHERE scope IN ('global', 'global-private')"
							" ORDER BY scope COLLATE \"C\", url COLLATE \"C\"",
							2, user_hint);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(nsvault_delete_registry);

/* delete_registry(namespace, url): true when a registry was deleted. */
Datum
nsvault_delete_registry(PG_FUNCTION_ARGS)
{
	char	   *namespace = validate_arg_namespace(fcinfo, 0);
	char	   *url;
	RegistryLocation loc = arg_registry_url(fcinfo, 1, &url);
	Caller		caller;
	bool		deleted;

	access_namespace_enter(fcinfo, &caller, namespace, PRIV_WRITE);
	deleted = remove_registry(&caller, SCOPE_NAMESPACE, namespace, &loc, url);
	access_namespace_leave(&caller);
	PG_RETURN_BOOL(deleted);
}

PG_FUNCTION_INFO_V1(nsvault_delete_global_registry);

/* delete_global_registry(url, private): true when a registry was deleted. */
Datum
nsvault_delete_global_registry(PG_FUNCTION_ARGS)
{
	char	   *url;
	RegistryLocation loc = arg_registry_url(fcinfo, 0, &url);
	bool		private = validate_arg_bool(fcinfo, 1, "private");
	Caller		caller;
	bool		deleted;

	access_namespace_enter(fcinfo, &caller, NSVAULT_GLOBAL_NAMESPACE, PRIV_ADMIN);
	deleted = remove_registry(&caller, private ? SCOPE_GLOBAL_PRIVATE : SCOPE_GLOBAL,
							  NULL, &loc, url);
	access_namespace_leave(&caller);
	PG_RETURN_BOOL(deleted);
}
