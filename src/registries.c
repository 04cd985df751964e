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
#include "common/base64.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/jsonb.h"

#include "access.h"
#include "audit.h"
#include "caller.h"
#include "crypto.h"
#include "jsonb_build.h"
#include "key_cache.h"
#include "key_lifecycle.h"
#include "listing.h"
#include "registries.h"
#include "registry_ref.h"
#include "secure_mem.h"
#include "spi_plans.h"
#include "validate.h"

#define SCOPE_NAMESPACE			"namespace"
#define SCOPE_GLOBAL			"global"
#define SCOPE_GLOBAL_PRIVATE	"global-private"
#define REGISTRY_USER_MAX		256

static SPIPlanPtr upsert_plan = NULL;
static SPIPlanPtr list_plan = NULL;
static SPIPlanPtr list_global_plan = NULL;
static SPIPlanPtr delete_plan = NULL;
static SPIPlanPtr candidates_plan = NULL;
static SPIPlanPtr global_candidates_plan = NULL;

/* Credentials split out of "USER:TOKEN". */
typedef struct RegistryCredentials
{
	char	   *user;
	text	   *token;			/* in secure memory */
} RegistryCredentials;

/* The registry function arguments that are parsed. */
typedef enum RegistryInput
{
	REGISTRY_URL,
	REGISTRY_DATA,
	IMAGE_REFERENCE
} RegistryInput;

static void
invalid_registry(RegistryInput input, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 input == REGISTRY_URL ? errmsg("invalid registry URL")
			 : input == REGISTRY_DATA ? errmsg("invalid registry data")
			 : errmsg("invalid image reference"),
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

static const char *
key_namespace(const char *namespace)
{
	return namespace ? namespace : NSVAULT_GLOBAL_NAMESPACE;
}

/* Seals and stores a registry, replacing the same registry in the same scope. */
static void
store_registry(const Caller *caller, const char *scope, const char *namespace, const char *url,
			   const RegistryLocation *loc, const RegistryCredentials *creds)
{
	char	   *registry = registry_location_key(loc);
	NamespaceKey *key = key_for_write(key_namespace(namespace));
	bytea	   *sealed = crypto_seal(key, registry_aad(SEAL_FORMAT_CURRENT, scope, namespace,
													   registry, url, creds->user),
									 creds->token);
	Oid			argtypes[7] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, BYTEAOID, INT4OID};
	Datum		args[7];
	char		nulls[7] = {' ', namespace ? ' ' : 'n', ' ', ' ', ' ', ' ', ' '};

	args[0] = CStringGetTextDatum(scope);
	args[1] = namespace ? CStringGetTextDatum(namespace) : (Datum) 0;
	args[2] = CStringGetTextDatum(registry);
	args[3] = CStringGetTextDatum(url);
	args[4] = CStringGetTextDatum(creds->user);
	args[5] = PointerGetDatum(sealed);
	args[6] = Int32GetDatum(key->version);
	explicit_bzero(key, sizeof(*key));
	wipe_varlena((struct varlena *) creds->token);

	nsvault_spi_connect();
	nsvault_spi_plan(&upsert_plan,
					 "INSERT INTO nsvault.registries"
					 " (scope, namespace, registry, url, user_name, token, key_version)"
					 " VALUES ($1, $2, $3, $4, $5, $6, $7)"
					 " ON CONFLICT ON CONSTRAINT registries_scope_namespace_registry_key DO UPDATE"
					 " SET url = EXCLUDED.url, user_name = EXCLUDED.user_name,"
					 " token = EXCLUDED.token, key_version = EXCLUDED.key_version,"
					 " updated_at = pg_catalog.now()",
					 7, argtypes);
	nsvault_spi_execute(upsert_plan, args, nulls, false, 0, SPI_OK_INSERT,
						"could not store registry");
	SPI_finish();
	audit_record(caller, key_namespace(namespace), url, "registry_write", scope);
}

/* Deletes a registry of a scope; true when one was deleted. */
static bool
remove_registry(const Caller *caller, const char *scope, const char *namespace,
				const RegistryLocation *loc, const char *url)
{
	Oid			argtypes[3] = {TEXTOID, TEXTOID, TEXTOID};
	Datum		args[3];
	char		nulls[3] = {' ', namespace ? ' ' : 'n', ' '};
	bool		deleted;

	args[0] = CStringGetTextDatum(scope);
	args[1] = namespace ? CStringGetTextDatum(namespace) : (Datum) 0;
	args[2] = CStringGetTextDatum(registry_location_key(loc));

	nsvault_spi_connect();
	nsvault_spi_plan(&delete_plan,
					 "DELETE FROM nsvault.registries"
					 " WHERE scope = $1 AND namespace IS NOT DISTINCT FROM $2 AND registry = $3",
					 3, argtypes);
	nsvault_spi_execute(delete_plan, args, nulls, false, 0, SPI_OK_DELETE,
						"could not delete registry");
	deleted = (SPI_processed > 0);
	SPI_finish();
	if (deleted)
		audit_record(caller, key_namespace(namespace), url, "registry_delete", scope);
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
	listing_return_rows(fcinfo, validate_arg_namespace(fcinfo, 0), &list_plan,
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
	listing_return_rows(fcinfo, NSVAULT_GLOBAL_NAMESPACE, &list_global_plan,
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

/* A candidate registry for docker_config: the winning row of its registry. */
typedef struct Candidate
{
	char		registry[NSVAULT_REGISTRY_KEY_MAX];
	int			row;
	int			rank;			/* 0: the specific scope, 1: global */
} Candidate;

/* Pushes one string member "key": value onto a jsonb object being built. */
static void
push_string_member(JsonbParseState **state, const char *key, const char *value, int len)
{
	nsvault_jsonb_push_string(state, WJB_KEY, key, strlen(key));
	nsvault_jsonb_push_string(state, WJB_VALUE, value, len);
}

/* Adds "url": {"username", "password", "auth"} for one registry row; returns the URL. */
static char *
push_auth(JsonbParseState **state, HeapTuple row, TupleDesc desc, const char *namespace)
{
	bool		isnull;
	char	   *scope = nsvault_spi_text(row, desc, "scope");
	char	   *registry = nsvault_spi_text(row, desc, "registry");
	char	   *url = nsvault_spi_text(row, desc, "url");
	char	   *user = nsvault_spi_text(row, desc, "user_name");
	bytea	   *sealed = DatumGetByteaPP(nsvault_spi_datum(row, desc, "token", &isnull));
	int32		version = DatumGetInt32(nsvault_spi_datum(row, desc, "key_version", &isnull));
	const char *row_namespace = strcmp(scope, SCOPE_NAMESPACE) == 0 ? namespace : NULL;
	NamespaceKey *key = key_cache_version(key_namespace(row_namespace), version);
	bytea	   *token = crypto_open(key, registry_aad(crypto_sealed_format(sealed), scope,
													  row_namespace, registry, url, user),
									sealed);
	int			token_len;
	int			pair_len;
	char	   *pair;
	int			auth_len;
	char	   *auth;

	explicit_bzero(key, sizeof(*key));
	if (token == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("token of registry \"%s\" (%s) failed its integrity check", url, scope),
				 errdetail("The stored ciphertext, URL or user name was altered, or the token was copied from another registry or scope."),
				 errhint("Set the registry again.")));
	token_len = VARSIZE_ANY_EXHDR(token);

	/* auth = base64(USER:TOKEN), built in memory that is wiped */
	pair_len = strlen(user) + 1 + token_len;
	pair = secure_alloc(pair_len);
	memcpy(pair, user, strlen(user));
	pair[strlen(user)] = ':';
	memcpy(pair + strlen(user) + 1, VARDATA_ANY(token), token_len);
	auth = secure_alloc(pg_b64_enc_len(pair_len) + 1);
	auth_len = pg_b64_encode(pair, pair_len, auth, pg_b64_enc_len(pair_len));
	if (auth_len < 0)
		elog(ERROR, "could not encode registry credentials");

	nsvault_jsonb_push_string(state, WJB_KEY, url, strlen(url));
	pushJsonbValue(state, WJB_BEGIN_OBJECT, NULL);
	push_string_member(state, "username", user, strlen(user));
	push_string_member(state, "password", VARDATA_ANY(token), token_len);
	push_string_member(state, "auth", auth, auth_len);
	pushJsonbValue(state, WJB_END_OBJECT, NULL);
	return url;
}

/* The scopes in the order of their rank. */
static const char *const scopes[] = {SCOPE_NAMESPACE, SCOPE_GLOBAL, SCOPE_GLOBAL_PRIVATE};
#define NSCOPES lengthof(scopes)

/* The URLs of the tokens docker_config handed out, by scope. */
typedef struct HandedOut
{
	MemoryContext cxt;			/* the call's, which outlives SPI's */
	List	   *urls[NSCOPES];
} HandedOut;

static int
scope_index(const char *scope)
{
	for (int i = 0; i < NSCOPES; i++)
		if (strcmp(scope, scopes[i]) == 0)
			return i;
	elog(ERROR, "unknown registry scope");
	return 0;					/* keep compiler quiet */
}

/* Adds one registry row's credentials to the config, noting its URL by scope. */
static void
hand_out(JsonbParseState **state, HeapTuple row, TupleDesc desc, const char *namespace,
		 HandedOut *out)
{
	char	   *url = push_auth(state, row, desc, namespace);
	int			scope = scope_index(nsvault_spi_text(row, desc, "scope"));
	MemoryContext oldcxt = MemoryContextSwitchTo(out->cxt);

	out->urls[scope] = lappend(out->urls[scope], pstrdup(url));
	MemoryContextSwitchTo(oldcxt);
}

/*
 * Records the tokens handed out: a namespace's under the namespace, global
 * ones under "@global", whose admins own them, with their scope and who
 * they were read for.
 */
static void
audit_handed_out(const Caller *caller, const char *namespace, bool global_service,
				 const HandedOut *out)
{
	for (int i = 0; i < NSCOPES; i++)
	{
		int			n = list_length(out->urls[i]);
		const char **urls;
		const char *detail = scopes[i];
		ListCell   *lc;

		if (n == 0)
			continue;
		urls = palloc(sizeof(char *) * n);
		foreach(lc, out->urls[i])
			urls[foreach_current_index(lc)] = lfirst(lc);
		if (i > 0)
			detail = global_service ? psprintf("%s, for a global service", scopes[i])
				: psprintf("%s, for namespace %s", scopes[i], namespace);
		audit_reads(caller, i == 0 ? namespace : NSVAULT_GLOBAL_NAMESPACE, urls, n,
					"registry_read", detail);
	}
}

/*
 * Reads the candidate rows into SPI_tuptable: a global service's are the
 * global and global-private registries, a namespace's its own and the
 * global ones.
 */
static void
read_candidates(const char *namespace, bool global_service)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];

	if (global_service)
	{
		nsvault_spi_plan(&global_candidates_plan,
						 "SELECT scope, registry, url, user_name, token, key_version"
						 " FROM nsvault.registries WHERE scope IN ('global', 'global-private')",
						 0, NULL);
		nsvault_spi_execute(global_candidates_plan, NULL, NULL, true, 0, SPI_OK_SELECT,
							"could not read registries");
		return;
	}
	args[0] = CStringGetTextDatum(namespace);
	nsvault_spi_plan(&candidates_plan,
					 "SELECT scope, registry, url, user_name, token, key_version"
					 " FROM nsvault.registries"
					 " WHERE (scope = 'namespace' AND namespace = $1) OR scope = 'global'",
					 1, argtypes);
	nsvault_spi_execute(candidates_plan, args, NULL, true, 0, SPI_OK_SELECT, "could not read registries");
}

/* One winner per registry among the candidate rows: the specific scope over global. */
static HTAB *
choose_winners(void)
{
	HASHCTL		ctl;
	HTAB	   *winners;

	ctl.keysize = NSVAULT_REGISTRY_KEY_MAX;
	ctl.entrysize = sizeof(Candidate);
	ctl.hcxt = CurrentMemoryContext;
	winners = hash_create("nsvault docker_config candidates", 16, &ctl,
						  HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		HeapTuple	row = SPI_tuptable->vals[r];
		char	   *scope = nsvault_spi_text(row, SPI_tuptable->tupdesc, "scope");
		char	   *registry = nsvault_spi_text(row, SPI_tuptable->tupdesc, "registry");
		int			rank = strcmp(scope, SCOPE_GLOBAL) == 0 ? 1 : 0;
		Candidate  *candidate;
		bool		found;

		if (strlen(registry) >= NSVAULT_REGISTRY_KEY_MAX)
			elog(ERROR, "stored registry key too long");
		candidate = hash_search(winners, registry, HASH_ENTER, &found);
		if (!found || rank < candidate->rank)
		{
			candidate->row = (int) r;
			candidate->rank = rank;
		}
	}
	return winners;
}

/* The most specific winning registry that serves image, or NULL. */
static Candidate *
best_for_image(HTAB *winners, const RegistryLocation *image)
{
	HASH_SEQ_STATUS status;
	Candidate  *candidate;
	Candidate  *best = NULL;

	hash_seq_init(&status, winners);
	while ((candidate = hash_seq_search(&status)) != NULL)
	{
		RegistryLocation loc;

		registry_location_from_key(candidate->registry, &loc);
		if (registry_matches(&loc, image) &&
			(best == NULL || strlen(candidate->registry) > strlen(best->registry)))
			best = candidate;
	}
	return best;
}

/*
 * {"auths": {...}} with every winner's credentials, or with an image only
 * those of the registry that serves it; made in callcxt, which outlives SPI.
 */
static Jsonb *
build_docker_config(HTAB *winners, const RegistryLocation *image, const char *namespace,
					HandedOut *handed_out, MemoryContext callcxt)
{
	JsonbParseState *state = NULL;
	JsonbValue *result;
	HASH_SEQ_STATUS status;
	Candidate  *candidate;

	pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	nsvault_jsonb_push_string(&state, WJB_KEY, "auths", strlen("auths"));
	pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	if (image != NULL)
	{
		candidate = best_for_image(winners, image);
		if (candidate != NULL)
			hand_out(&state, SPI_tuptable->vals[candidate->row], SPI_tuptable->tupdesc,
					 namespace, handed_out);
	}
	else
	{
		hash_seq_init(&status, winners);
		while ((candidate = hash_seq_search(&status)) != NULL)
			hand_out(&state, SPI_tuptable->vals[candidate->row], SPI_tuptable->tupdesc,
					 namespace, handed_out);
	}
	pushJsonbValue(&state, WJB_END_OBJECT, NULL);
	result = pushJsonbValue(&state, WJB_END_OBJECT, NULL);

	MemoryContextSwitchTo(callcxt);
	return JsonbValueToJsonb(result);
}

PG_FUNCTION_INFO_V1(nsvault_docker_config);

/*
 * docker_config(namespace, image, global_service): the Docker config JSON
 * with the credentials a service needs.  Candidates are the namespace's
 * registries and the global ones (global-private and global for a global
 * service); of two candidates for the same registry the more specific
 * scope wins.  Without an image, every candidate; with one, only the most
 * specific registry that serves it.
 */
Datum
nsvault_docker_config(PG_FUNCTION_ARGS)
{
	bool		global_service = validate_arg_bool(fcinfo, 2, "global_service");
	char	   *namespace = NULL;
	RegistryLocation image;
	bool		have_image = !PG_ARGISNULL(1);
	MemoryContext callcxt = CurrentMemoryContext;
	HandedOut	handed_out = {callcxt};
	Caller		caller;
	HTAB	   *winners;
	Jsonb	   *config;

	if (!global_service || !PG_ARGISNULL(0))
		namespace = validate_arg_namespace(fcinfo, 0);
	if (have_image)
	{
		const char *problem = image_parse_reference(text_to_cstring(PG_GETARG_TEXT_PP(1)),
													&image);

		if (problem != NULL)
			invalid_registry(IMAGE_REFERENCE, problem);
	}
	access_namespace_enter(fcinfo, &caller, global_service ? NSVAULT_GLOBAL_NAMESPACE : namespace,
						   PRIV_READ);

	nsvault_spi_connect();
	read_candidates(namespace, global_service);
	winners = choose_winners();
	config = build_docker_config(winners, have_image ? &image : NULL, namespace, &handed_out,
								 callcxt);
	SPI_finish();
	audit_handed_out(&caller, namespace, global_service, &handed_out);
	access_namespace_leave(&caller);
	PG_RETURN_JSONB_P(config);
}
