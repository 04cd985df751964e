/*
 * credential_provider.c — nsvault-credential-provider, the kubelet's image
 * credential provider (credentialprovider.kubelet.k8s.io/v1) over nsvault's
 * registries.
 *
 * The kubelet writes a CredentialProviderRequest to standard input and
 * reads one CredentialProviderResponse from standard output: the one
 * credential nsvault hands out for the image, keyed so that the kubelet's
 * matching picks it.  Errors go to standard error, with nothing on
 * standard output.  The namespace is the service account's
 * nsvault.io/namespace annotation, else --namespace, else NSVAULT_NAMESPACE.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "cred_helper.h"

const char *progname = "nsvault-credential-provider";

static const char usage[] =
"nsvault-credential-provider answers the kubelet's image credential provider\n"
"requests with the registry credentials of an nsvault namespace.\n"
"\n"
"Usage:\n"
"  nsvault-credential-provider [OPTION]... < CredentialProviderRequest\n"
"\n"
"Options:\n"
"  -d, --dbname=CONNINFO        database to use (else the PG* environment,\n"
"                               ~/.pgpass and service files)\n"
"  -n, --namespace=NS           the namespace when the service account has no\n"
"                               nsvault.io/namespace annotation (else\n"
"                               NSVAULT_NAMESPACE)\n"
"      --cache-duration=DURATION\n"
"                               how long the kubelet may keep an answer, a Go\n"
"                               duration (default 5m; 0 keeps none)\n"
"      --cache-key-type=Registry|Image\n"
"                               what the kubelet keeps an answer for: every\n"
"                               image of the registry's host (default), or\n"
"                               one image; Image where one host has registries\n"
"                               with different paths (quay.io, quay.io/org)\n"
"  -V, --version                show the version, then exit\n"
"  -?, -h, --help               show this help, then exit\n"
"\n"
"Exit status: 0 answered (auth is {} when no registry serves the image),\n"
"2 usage error, 1 any other failure (reported on standard error).\n";

#define REQUEST_KIND		"CredentialProviderRequest"
#define RESPONSE_KIND		"CredentialProviderResponse"
#define NAMESPACE_ANNOTATION "nsvault.io/namespace"
#define DEFAULT_CACHE_DURATION "5m"
#define DEFAULT_CACHE_KEY_TYPE "Registry"

/* the kubelet's API versions of this plugin API; the response echoes the request's */
static const char *const api_versions[] = {
	"credentialprovider.kubelet.k8s.io/v1",
	"credentialprovider.kubelet.k8s.io/v1beta1",
	"credentialprovider.kubelet.k8s.io/v1alpha1",
};

typedef struct ProviderOptions
{
	const char *conninfo;
	const char *namespace;
	const char *cache_duration;
	const char *cache_key_type;	/* "Registry" or "Image" */
} ProviderOptions;

/* What the request asks, pointing into its JSON. */
typedef struct ProviderRequest
{
	json_t	   *json;
	const char *api_version;
	const char *image;
	bool		has_token;		/* a serviceAccountToken came with it */
	const char *annotated_namespace;	/* NULL without the annotation */
} ProviderRequest;

/* Returns the member name of request if it is a string (or absent: NULL), or fails. */
static const char *
string_member(json_t *request, const char *name)
{
	json_t	   *value = json_object_get(request, name);

	if (value == NULL || json_is_null(value))
		return NULL;
	if (!json_is_string(value))
		die(EXIT_FAIL, "the request's \"%s\" is not a string", name);
	return json_string_value(value);
}

/* Fails unless the request is a CredentialProviderRequest of a version this plugin speaks. */
static void
check_type(const ProviderRequest *req)
{
	const char *kind = string_member(req->json, "kind");
	bool		known = false;

	for (size_t i = 0; req->api_version != NULL && i < sizeof(api_versions) / sizeof(api_versions[0]); i++)
		known |= strcmp(req->api_version, api_versions[i]) == 0;
	if (!known)
		die(EXIT_FAIL, "the request's apiVersion is not one this plugin speaks (%s)", api_versions[0]);
	if (kind == NULL || strcmp(kind, REQUEST_KIND) != 0)
		die(EXIT_FAIL, "the request's kind is not " REQUEST_KIND);
}

/* Reads the namespace annotation of the service account, if it came. */
static const char *
annotated_namespace(json_t *request)
{
	json_t	   *annotations = json_object_get(request, "serviceAccountAnnotations");
	json_t	   *value;

	if (annotations == NULL || json_is_null(annotations))
		return NULL;
	if (!json_is_object(annotations))
		die(EXIT_FAIL, "the request's \"serviceAccountAnnotations\" is not an object");
	value = json_object_get(annotations, NAMESPACE_ANNOTATION);
	if (value == NULL || json_is_null(value))
		return NULL;
	if (!json_is_string(value))
		die(EXIT_FAIL, "the service account's " NAMESPACE_ANNOTATION " annotation is not a string");
	return *json_string_value(value) != '\0' ? json_string_value(value) : NULL;
}

/* Reads the request from standard input, or fails without a word on standard output. */
static void
read_request(ProviderRequest *req)
{
	DbError		error;
	size_t		len;
	char	   *text = read_text(0, &len, "request", &error);
	const char *token;

	if (text == NULL)
		die(error.status == EXIT_USAGE ? EXIT_FAIL : error.status, "%s", error.message);
	req->json = cred_parse_json(text, len, "request", &error);
	/* the request may carry a service account token */
	wipe_and_free(text, len);
	if (req->json == NULL)
		die(EXIT_FAIL, "%s", error.message);
	req->api_version = string_member(req->json, "apiVersion");
	check_type(req);
	req->image = string_member(req->json, "image");
	if (req->image == NULL || *req->image == '\0')
		die(EXIT_FAIL, "the request names no image");
	token = string_member(req->json, "serviceAccountToken");
	req->has_token = token != NULL && *token != '\0';
	req->annotated_namespace = annotated_namespace(req->json);
}

/* The namespace, in order: the annotation, --namespace, NSVAULT_NAMESPACE. */
static const char *
choose_namespace(const ProviderRequest *req, const ProviderOptions *options)
{
	const char *env = getenv("NSVAULT_NAMESPACE");

	if (req->annotated_namespace != NULL)
		return req->annotated_namespace;
	if (options->namespace != NULL)
		return options->namespace;
	if (env != NULL && *env != '\0')
		return env;
	die(EXIT_FAIL, "no namespace: the service account has no " NAMESPACE_ANNOTATION
		" annotation, and neither --namespace nor NSVAULT_NAMESPACE is set");
}

/*
 * Builds the response.  A service account token makes the kubelet want
 * serviceAccountTokenCacheType; the answer depends on the service account
 * (its annotation), not on the pod.
 */
static json_t *
build_response(const ProviderRequest *req, const ProviderOptions *options, PGresult *res)
{
	json_t	   *auth = json_object();
	json_t	   *response;
	char		key[1024];

	if (auth != NULL && PQntuples(res) == 1)
	{
		if (!cred_auth_key(PQgetvalue(res, 0, CRED_REGISTRY), req->image, key, sizeof(key)))
			die(EXIT_FAIL, "the registry's name is too long for an auth key");
		json_object_set_new(auth, key,
							json_pack("{s:s, s:s}",
									  "username", PQgetvalue(res, 0, CRED_USERNAME),
									  "password", PQgetvalue(res, 0, CRED_SECRET)));
	}
	response = json_pack("{s:s, s:s, s:s, s:s, s:o}",
						 "apiVersion", req->api_version, "kind", RESPONSE_KIND,
						 "cacheKeyType", options->cache_key_type, "cacheDuration", options->cache_duration,
						 "auth", auth);
	if (response != NULL && req->has_token)
		json_object_set_new(response, "serviceAccountTokenCacheType", json_string("ServiceAccount"));
	if (response == NULL)
		die(EXIT_FAIL, "out of memory");
	return response;
}

/*
 * Reads the options; --help and --version print, then exit.  There are no
 * operands.
 */
static void
read_options(int argc, char **argv, ProviderOptions *options)
{
	static const struct option long_options[] = {
		{"dbname", required_argument, NULL, 'd'},
		{"namespace", required_argument, NULL, 'n'},
		{"cache-duration", required_argument, NULL, 'c'},
		{"cache-key-type", required_argument, NULL, 'k'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0}
	};
	int			code;

	opterr = 0;
	while ((code = getopt_long(argc, argv, "+:d:n:hV", long_options, NULL)) != -1)
	{
		if (code == 'd')
			options->conninfo = optarg;
		else if (code == 'n')
			options->namespace = optarg;
		else if (code == 'c')
			options->cache_duration = optarg;
		else if (code == 'k')
			options->cache_key_type = optarg;
		else if (code == 'h' || (code == '?' && optopt == '?'))
		{
			fputs(usage, stdout);
			exit(EXIT_OK);
		}
		else if (code == 'V')
		{
			printf("%s %s\n", progname, NSVAULT_CLIENT_VERSION);
			exit(EXIT_OK);
		}
		else
		{
			/* the name only: a mistyped --dbname=... may hold a password */
			const char *arg = argv[optind - 1];

			die(EXIT_USAGE, "%s \"%.*s\" (see --help)",
				code == ':' ? "option needs a value:" : "unknown option",
				(int) strcspn(arg, "="), arg);
		}
	}
	if (optind < argc)
		die(EXIT_USAGE, "unexpected argument \"%s\" (see --help)", argv[optind]);
	if (!cred_go_duration_valid(options->cache_duration))
		die(EXIT_USAGE, "--cache-duration is not a duration such as 30s, 5m or 1h30m");
	/*
	 * Registry serves an answer to every image of the host: with quay.io
	 * and quay.io/org set, quay.io/org/app's credential would serve
	 * quay.io/other/app too.  Image asks once per repository.
	 */
	if (strcmp(options->cache_key_type, "Registry") != 0 &&
		strcmp(options->cache_key_type, "Image") != 0)
		die(EXIT_USAGE, "--cache-key-type is neither Registry nor Image");
}

int
main(int argc, char **argv)
{
	ProviderOptions options = {NULL, NULL, DEFAULT_CACHE_DURATION, DEFAULT_CACHE_KEY_TYPE};
	ProviderRequest req;
	DbError		error;
	const char *namespace;
	PGconn	   *conn;
	PGresult   *res;
	json_t	   *response;
	bool		written;
	int			reason;

	/* no core dumps or same-user ptrace of a process that holds secrets */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	/* output that cannot be written is an error, whatever the command */
	check_output_on_exit();

	read_options(argc, argv, &options);
	read_request(&req);
	namespace = choose_namespace(&req, &options);
	if ((conn = db_connect(options.conninfo, &error)) == NULL)
		die(error.status, "%s", error.message);
	res = cred_lookup(conn, namespace, req.image, false, &error);
	PQfinish(conn);
	if (res == NULL)
		die(EXIT_FAIL, "%s", error.message);
	response = build_response(&req, &options, res);
	db_wipe_result(res);
	written = cred_print_json(response);
	reason = errno;
	json_decref(response);
	json_decref(req.json);
	if (!written)
		die(EXIT_FAIL, "could not write the response to standard output: %s", strerror(reason));
	return EXIT_OK;
}
