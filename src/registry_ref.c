/*-------------------------------------------------------------------------
 *
 * registry_ref.c
 *		Registry URLs and image references, parsed for matching.
 *
 * Follows Docker's reference grammar and the kubelet's keyring rules: an
 * image's registry is its first path component when that contains "." or
 * ":", is "localhost" or has upper-case letters, otherwise Docker Hub; a
 * registry URL is compared without its scheme and without a trailing /v1/
 * or /v2/; host and port must be equal; a URL with a path matches only
 * images under that path, on whole segments; docker.io, index.docker.io
 * and registry-1.docker.io are one registry; tags and digests are ignored.
 *
 * Parsers return NULL on success or a sentence saying what is wrong; the
 * input itself is never quoted back.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "registry_ref.h"

#define DOCKER_HUB				"docker.io"
#define IMAGE_REFERENCE_MAX		4096
#define IMAGE_NAME_MAX			255		/* Docker's NameTotalLengthMax */
#define IMAGE_TAG_MAX			128

static bool
is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool
is_alnum(char c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Folds the host to lower case and Docker Hub's aliases to docker.io. */
static char *
canonical_host(const char *host, size_t len)
{
	char	   *result = pnstrdup(host, len);

	for (char *p = result; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p += 'a' - 'A';
	if (strcmp(result, "index.docker.io") == 0 ||
		strcmp(result, "registry-1.docker.io") == 0)
	{
		pfree(result);
		return pstrdup(DOCKER_HUB);
	}
	return result;
}

/*
 * Checks host[:port]: DNS labels of letters, digits and "-" (not at either
 * end of a label) joined by ".", or an IPv6 address in brackets, then an
 * optional port of 1 to 65535.
 */
static bool
valid_host_port(const char *s, size_t len)
{
	size_t		i = 0;

	if (len == 0)
		return false;
	if (s[0] == '[')
	{
		for (i = 1; i < len && s[i] != ']'; i++)
			if (!(is_digit(s[i]) || (s[i] >= 'a' && s[i] <= 'f') ||
				  (s[i] >= 'A' && s[i] <= 'F') || s[i] == ':'))
				return false;
		if (i >= len || i == 1)
			return false;
		i++;
	}
	else
	{
		size_t		label = 0;

		for (; i < len && s[i] != ':'; i++)
		{
			if (s[i] == '.')
			{
				if (label == 0 || s[i - 1] == '-')
					return false;
				label = 0;
			}
			else if (is_alnum(s[i]) || (s[i] == '-' && label > 0))
				label++;
			else
				return false;
		}
		if (label == 0 || s[i - 1] == '-')
			return false;
	}
	if (i < len)
	{
		long		port = 0;
		size_t		digits = 0;

		if (s[i] != ':')
			return false;
		for (i++; i < len; i++, digits++)
		{
			if (!is_digit(s[i]) || digits >= 5)
				return false;
			port = port * 10 + (s[i] - '0');
		}
		if (digits == 0 || port < 1 || port > 65535)
			return false;
	}
	return true;
}

/*
 * Checks one repository path component, as Docker's grammar has it:
 * lower-case letters and digits, separated by ".", "_", "__" or dashes.
 */
static bool
valid_path_component(const char *s, size_t len)
{
	size_t		i = 0;

	if (len == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[len - 1]))
		return false;
	while (i < len)
	{
		if (is_lower_alnum(s[i]))
		{
			i++;
			continue;
		}
		if (s[i] == '.' || (s[i] == '_' && s[i + 1] != '_'))
			i++;
		else if (s[i] == '_')
			i += 2;
		else if (s[i] == '-')
			while (i < len && s[i] == '-')
				i++;
		else
			return false;
		if (i >= len || !is_lower_alnum(s[i]))
			return false;
	}
	return true;
}

/* Checks a "/"-separated repository path. */
static bool
valid_path(const char *s, size_t len)
{
	size_t		start = 0;

	for (size_t i = 0; i <= len; i++)
	{
		if (i == len || s[i] == '/')
		{
			if (!valid_path_component(s + start, i - start))
				return false;
			start = i + 1;
		}
	}
	return true;
}

/* Parses a registry URL such as https://quay.io/org or index.docker.io/v1/. */
const char *
registry_parse_url(const char *url, RegistryLocation *loc)
{
	size_t		len = strlen(url);
	const char *rest = url;
	const char *slash;
	size_t		path_len;

	if (len == 0)
		return "The registry URL is empty.";
	if (len > NSVAULT_REGISTRY_URL_MAX)
		return "The registry URL is longer than " CppAsString2(NSVAULT_REGISTRY_URL_MAX) " characters.";
	for (const char *p = url; *p; p++)
		if ((unsigned char) *p <= ' ' || *p == 0x7f)
			return "The registry URL contains white space or a control character.";

	if (strstr(url, "://") != NULL)
	{
		if (pg_strncasecmp(url, "https://", 8) == 0)
			rest = url + 8;
		else if (pg_strncasecmp(url, "http://", 7) == 0)
			rest = url + 7;
		else
			return "The registry URL's scheme is not http or https.";
	}

	slash = strchr(rest, '/');
	if (!valid_host_port(rest, slash ? (size_t) (slash - rest) : strlen(rest)))
		return "The registry URL does not start with a valid host name and optional port.";
	loc->host = canonical_host(rest, slash ? (size_t) (slash - rest) : strlen(rest));

	/* the path, without trailing slashes and a trailing API version */
	rest = slash ? slash + 1 : "";
	path_len = strlen(rest);
	while (path_len > 0 && rest[path_len - 1] == '/')
		path_len--;
	if ((path_len == 2 || (path_len > 2 && rest[path_len - 3] == '/')) &&
		(strncmp(rest + path_len - 2, "v1", 2) == 0 ||
		 strncmp(rest + path_len - 2, "v2", 2) == 0))
	{
		path_len = path_len > 2 ? path_len - 3 : 0;
		while (path_len > 0 && rest[path_len - 1] == '/')
			path_len--;
	}
	if (path_len > 0 && !valid_path(rest, path_len))
		return "The registry URL's path is not a repository path (lower-case letters, digits, \".\", \"_\", \"-\", separated by \"/\").";
	loc->path = pnstrdup(rest, path_len);
	return NULL;
}

/* Parses an image reference such as ubuntu, quay.io/org/app:1.2 or x@sha256:.... */
/* Checks a digest, "@" algorithm ":" encoded; NULL or what is wrong. */
static const char *
check_digest(const char *at)
{
	const char *colon = strchr(at + 1, ':');
	size_t		encoded = 0;

	if (colon == NULL || colon == at + 1)
		return "The image reference's digest is not of the form algorithm:hex.";
	for (const char *p = at + 1; p < colon; p++)
		if (!(is_lower_alnum(*p) || *p == '+' || *p == '.' || *p == '_' || *p == '-'))
			return "The image reference's digest algorithm is not valid.";
	for (const char *p = colon + 1; *p; p++, encoded++)
		if (!(is_alnum(*p) || *p == '=' || *p == '_' || *p == '-'))
			return "The image reference's digest is not of the form algorithm:hex.";
	if (encoded < 32)
		return "The image reference's digest is too short.";
	return NULL;
}

/*
 * Sets loc->host from the name's first component when that looks like a
 * host, otherwise to Docker Hub; *path gets where the repository starts.
 */
static const char *
split_registry(const char *name, size_t name_len, RegistryLocation *loc, const char **path)
{
	const char *slash = memchr(name, '/', name_len);
	size_t		first_len;
	bool		is_registry;

	loc->host = NULL;
	*path = name;
	if (slash == NULL)
	{
		loc->host = pstrdup(DOCKER_HUB);
		return NULL;
	}
	first_len = slash - name;
	is_registry = (first_len == 9 && strncmp(name, "localhost", 9) == 0);
	for (size_t i = 0; i < first_len && !is_registry; i++)
		if (name[i] == '.' || name[i] == ':' || (name[i] >= 'A' && name[i] <= 'Z'))
			is_registry = true;
	if (!is_registry)
	{
		loc->host = pstrdup(DOCKER_HUB);
		return NULL;
	}
	if (!valid_host_port(name, first_len))
		return "The image reference's registry is not a valid host name and optional port.";
	loc->host = canonical_host(name, first_len);
	*path = slash + 1;
	return NULL;
}

/* Drops a tag (after ":" in the last component) from *path_len; NULL or what is wrong. */
static const char *
strip_tag(const char *path, size_t *path_len)
{
	const char *tag = NULL;
	size_t		tag_len;

	for (const char *p = path + *path_len; p > path; p--)
	{
		if (p[-1] == '/')
			break;
		if (p[-1] == ':')
		{
			tag = p;
			break;
		}
	}
	if (tag == NULL)
		return NULL;
	tag_len = path + *path_len - tag;
	if (tag_len == 0 || tag_len > IMAGE_TAG_MAX || !(is_alnum(tag[0]) || tag[0] == '_'))
		return "The image reference's tag is not valid.";
	for (size_t i = 0; i < tag_len; i++)
		if (!(is_alnum(tag[i]) || tag[i] == '_' || tag[i] == '.' || tag[i] == '-'))
			return "The image reference's tag is not valid.";
	*path_len = tag - 1 - path;
	return NULL;
}

const char *
image_parse_reference(const char *image, RegistryLocation *loc)
{
	size_t		len = strlen(image);
	const char *at = strchr(image, '@');
	size_t		name_len = at ? (size_t) (at - image) : len;
	const char *path;
	size_t		path_len;
	const char *problem;

	if (len == 0)
		return "The image reference is empty.";
	if (len > IMAGE_REFERENCE_MAX)
		return "The image reference is too long.";
	/* tags and digests are checked, then ignored for matching */
	if (at != NULL && (problem = check_digest(at)) != NULL)
		return problem;
	if (name_len == 0)
		return "The image reference has no name.";
	if ((problem = split_registry(image, name_len, loc, &path)) != NULL)
		return problem;
	path_len = name_len - (path - image);
	if ((problem = strip_tag(path, &path_len)) != NULL)
		return problem;

	if (path_len == 0 || !valid_path(path, path_len))
		return "The image reference's repository is not lower-case letters, digits and separators.";
	if (strlen(loc->host) + 1 + path_len > IMAGE_NAME_MAX)
		return "The image name is longer than " CppAsString2(IMAGE_NAME_MAX) " characters.";

	/* Docker Hub's official images live under library/ */
	if (strcmp(loc->host, DOCKER_HUB) == 0 && memchr(path, '/', path_len) == NULL)
		loc->path = psprintf("library/%.*s", (int) path_len, path);
	else
		loc->path = pnstrdup(path, path_len);
	return NULL;
}

/* Returns "host" or "host/path": what makes two registries the same one. */
char *
registry_location_key(const RegistryLocation *loc)
{
	if (loc->path[0] == '\0')
		return pstrdup(loc->host);
	return psprintf("%s/%s", loc->host, loc->path);
}

/* Splits a key made by registry_location_key() back into host and path. */
void
registry_location_from_key(const char *key, RegistryLocation *loc)
{
	const char *slash = strchr(key, '/');

	loc->host = slash ? pnstrdup(key, slash - key) : pstrdup(key);
	loc->path = slash ? pstrdup(slash + 1) : pstrdup("");
}

/* Does the registry serve the image?  Same host and port, path on segments. */
bool
registry_matches(const RegistryLocation *registry, const RegistryLocation *image)
{
	size_t		len = strlen(registry->path);

	if (strcmp(registry->host, image->host) != 0)
		return false;
	if (len == 0)
		return true;
	return strncmp(image->path, registry->path, len) == 0 &&
		(image->path[len] == '\0' || image->path[len] == '/');
}
