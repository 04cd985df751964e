/*-------------------------------------------------------------------------
 *
 * registry_handout.c
 *		Handing out registry credentials: docker_config's Docker config
 *		JSON, and registry_credential's one credential for the credential
 *		helpers.  Both choose alike: of a namespace's registries and the
 *		global ones, one winner per registry (the specific scope over
 *		global); for an image, the most specific registry that serves it.
 *		Every token handed out is audited as a read.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/base64.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/jsonb.h"

#include "access.h"
#include "audit.h"
#include "caller.h"
#include "crypto.h"
#include "jsonb_build.h"
#include "key_cache.h"
#include "registries.h"
#include "registry_ref.h"
#include "secure_mem.h"
#include "spi_plans.h"
#include "validate.h"

static SPIPlanPtr candidates_plan = NULL;
static SPIPlanPtr global_candidates_plan = NULL;
static SPIPlanPtr candidates_apart_plan = NULL;
static SPIPlanPtr global_candidates_apart_plan = NULL;

/* what is read of a registry that may be handed out */
#define CANDIDATE_COLUMNS "scope, registry, url, user_name, token, key_version"

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

/* One registry row, its token opened. */
typedef struct OpenedRegistry
{
	char	   *scope;
	char	   *registry;		/* normalized: host[:port][/path] */
	char	   *url;
	char	   *user;
	bytea	   *token;
} OpenedRegistry;

/* Opens the token of a candidate row of namespace (NULL: a global service). */
static void
open_registry(HeapTuple row, TupleDesc desc, const char *namespace, OpenedRegistry *opened)
{
	bool		isnull;
	bytea	   *sealed = DatumGetByteaPP(nsvault_spi_datum(row, desc, "token", &isnull));
	int32		version = DatumGetInt32(nsvault_spi_datum(row, desc, "key_version", &isnull));
	const char *row_namespace;
	NamespaceKey *key;

	opened->scope = nsvault_spi_text(row, desc, "scope");
	opened->registry = nsvault_spi_text(row, desc, "registry");
	opened->url = nsvault_spi_text(row, desc, "url");
	opened->user = nsvault_spi_text(row, desc, "user_name");
	row_namespace = strcmp(opened->scope, SCOPE_NAMESPACE) == 0 ? namespace : NULL;
	key = key_cache_version(registry_key_namespace(row_namespace), version);
	opened->token = crypto_open(key, registry_aad(crypto_sealed_format(sealed), opened->scope,
												  row_namespace, opened->registry, opened->url,
												  opened->user),
								sealed);
	explicit_bzero(key, sizeof(*key));
	if (opened->token == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("token of registry \"%s\" (%s) failed its integrity check",
						opened->url, opened->scope),
				 errdetail("The stored ciphertext, URL or user name was altered, or the token was copied from another registry or scope."),
				 errhint("Set the registry again.")));
}

/* Adds "url": {"username", "password", "auth"} for an opened registry. */
static void
push_auth(JsonbParseState **state, const OpenedRegistry *opened)
{
	const char *user = opened->user;
	const char *url = opened->url;
	bytea	   *token = opened->token;
	int			token_len = VARSIZE_ANY_EXHDR(token);
	int			pair_len;
	char	   *pair;
	int			auth_len;
	char	   *auth;

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

/* Notes, by scope, the URL of a token handed out, for the audit trail. */
static void
note_handed_out(HandedOut *out, const OpenedRegistry *opened)
{
	int			scope = scope_index(opened->scope);
	MemoryContext oldcxt = MemoryContextSwitchTo(out->cxt);

	out->urls[scope] = lappend(out->urls[scope], pstrdup(opened->url));
	MemoryContextSwitchTo(oldcxt);
}

/* Adds one candidate row's credentials to the config. */
static void
hand_out(JsonbParseState **state, HeapTuple row, TupleDesc desc, const char *namespace,
		 HandedOut *out)
{
	OpenedRegistry opened;

	open_registry(row, desc, namespace, &opened);
	push_auth(state, &opened);
	note_handed_out(out, &opened);
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
		const char **details;
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
		details = palloc(sizeof(char *) * n);
		for (int k = 0; k < n; k++)
			details[k] = detail;
		audit_reads(caller, i == 0 ? namespace : NSVAULT_GLOBAL_NAMESPACE, urls, details, n,
					"registry_read");
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

	SPIPlanPtr	plan;
	bool		apart = registries_global_apart();

	if (global_service)
	{
		plan = apart ?
			nsvault_spi_plan(&global_candidates_apart_plan,
							 "SELECT " CANDIDATE_COLUMNS " FROM nsvault.global_registries",
							 0, NULL) :
			nsvault_spi_plan(&global_candidates_plan,
							 "SELECT " CANDIDATE_COLUMNS " FROM nsvault.registries"
							 " WHERE scope IN ('global', 'global-private')",
							 0, NULL);
		nsvault_spi_execute(plan, NULL, NULL, true, 0, SPI_OK_SELECT, "could not read registries");
		return;
	}
	args[0] = CStringGetTextDatum(namespace);
	plan = apart ?
		nsvault_spi_plan(&candidates_apart_plan,
						 "SELECT " CANDIDATE_COLUMNS " FROM nsvault.registries"
						 " WHERE scope = 'namespace' AND namespace = $1"
						 " UNION ALL"
						 " SELECT " CANDIDATE_COLUMNS " FROM nsvault.global_registries"
						 " WHERE scope = 'global'",
						 1, argtypes) :
		nsvault_spi_plan(&candidates_plan,
						 "SELECT " CANDIDATE_COLUMNS " FROM nsvault.registries"
						 " WHERE (scope = 'namespace' AND namespace = $1) OR scope = 'global'",
						 1, argtypes);
	nsvault_spi_execute(plan, args, NULL, true, 0, SPI_OK_SELECT, "could not read registries");
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

/* The most specific winning registry that serves wanted (an image's location), or NULL. */
static Candidate *
best_match(HTAB *winners, const RegistryLocation *wanted)
{
	HASH_SEQ_STATUS status;
	Candidate  *candidate;
	Candidate  *best = NULL;

	hash_seq_init(&status, winners);
	while ((candidate = hash_seq_search(&status)) != NULL)
	{
		RegistryLocation loc;

		registry_location_from_key(candidate->registry, &loc);
		if (registry_matches(&loc, wanted) &&
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
		candidate = best_match(winners, image);
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
PG_FUNCTION_INFO_V1(nsvault_registry_credential);

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
	int			spi;

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

	spi = nsvault_spi_connect();
	read_candidates(namespace, global_service);
	winners = choose_winners();
	config = build_docker_config(winners, have_image ? &image : NULL, namespace, &handed_out,
								 callcxt);
	nsvault_spi_finish(spi);
	audit_handed_out(&caller, namespace, global_service, &handed_out);
	access_namespace_leave(&caller);
	PG_RETURN_JSONB_P(config);
}

/*
 * The location a credential is asked for: a registry URL (with a scheme,
 * or a bare host such as "quay.io" or "localhost:5000", as Docker's
 * credential helpers are asked), or else an image reference.
 */
static void
parse_reference(const char *reference, RegistryLocation *wanted)
{
	const char *colon = strchr(reference, ':');
	bool		bare_host = strchr(reference, '/') == NULL &&
		(strchr(reference, '.') != NULL || strcmp(reference, "localhost") == 0 ||
		 (colon != NULL && colon[1] != '\0' &&
		  strspn(colon + 1, "0123456789") == strlen(colon + 1)));
	const char *problem;

	if (strstr(reference, "://") != NULL || bare_host)
		problem = registry_parse_url(reference, wanted);
	else
		problem = image_parse_reference(reference, wanted);
	if (problem != NULL)
		invalid_registry(REGISTRY_REFERENCE, problem);
}

/* Returns the opened registry as the one row (registry, username, secret). */
static void
return_credential(FunctionCallInfo fcinfo, const OpenedRegistry *opened)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	values[0] = CStringGetTextDatum(opened->registry);
	values[1] = CStringGetTextDatum(opened->user);
	values[2] = PointerGetDatum(opened->token);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/*
 * registry_credential(namespace, reference, global_service): the credential
 * docker_config would hand out for reference, as one row (registry,
 * username, secret), or no row when no registry serves it.
 */
Datum
nsvault_registry_credential(PG_FUNCTION_ARGS)
{
	bool		global_service = validate_arg_bool(fcinfo, 2, "global_service");
	char	   *namespace = NULL;
	RegistryLocation wanted;
	HandedOut	handed_out = {CurrentMemoryContext};
	Caller		caller;
	Candidate  *best;
	int			spi;

	if (!global_service || !PG_ARGISNULL(0))
		namespace = validate_arg_namespace(fcinfo, 0);
	validate_not_null(fcinfo, 1, "reference");
	parse_reference(text_to_cstring(PG_GETARG_TEXT_PP(1)), &wanted);
	access_namespace_enter(fcinfo, &caller, global_service ? NSVAULT_GLOBAL_NAMESPACE : namespace,
						   PRIV_READ);
	InitMaterializedSRF(fcinfo, 0);

	spi = nsvault_spi_connect();
	read_candidates(namespace, global_service);
	best = best_match(choose_winners(), &wanted);
	if (best != NULL)
	{
		OpenedRegistry opened;

		open_registry(SPI_tuptable->vals[best->row], SPI_tuptable->tupdesc, namespace, &opened);
		return_credential(fcinfo, &opened);
		note_handed_out(&handed_out, &opened);
	}
	nsvault_spi_finish(spi);
	audit_handed_out(&caller, namespace, global_service, &handed_out);
	access_namespace_leave(&caller);
	return (Datum) 0;
}
