/*
 * cred_text.c — the text rules of the credential helpers' protocols: the
 * server URL Docker sends, a Go duration, and the auth key the kubelet
 * matches.  No I/O, so the unit tests can run them alone.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cred_helper.h"

/*
 * Reads the server URL Docker sends, in place, as docker-credential-helpers
 * does: lines joined without their line ends ("\n" or "\r\n"), then white
 * space trimmed from both ends.  Returns the start of the URL within input
 * (of len bytes, NUL-terminated); "" for none.
 */
char *
cred_server_url(char *input, size_t len)
{
	size_t		out = 0;
	char	   *start = input;
	char	   *end;

	for (size_t i = 0; i < len; i++)
	{
		bool		line_end = input[i] == '\n' ||
			(input[i] == '\r' && (i + 1 == len || input[i + 1] == '\n'));

		if (!line_end)
			input[out++] = input[i];
	}
	input[out] = '\0';
	while (*start != '\0' && strchr(" \t\n\v\f\r", *start) != NULL)
		start++;
	end = input + out;
	while (end > start && strchr(" \t\n\v\f\r", end[-1]) != NULL)
		*--end = '\0';
	return start;
}

/* Returns the nanoseconds of a Go duration unit at s (n bytes), or 0 for none. */
static uint64_t
duration_unit(const char *s, size_t n)
{
	static const struct
	{
		const char *name;
		uint64_t	ns;
	}			units[] = {
		{"ns", 1}, {"us", 1000}, {"\xC2\xB5s", 1000}, {"\xCE\xBCs", 1000},
		{"ms", 1000000}, {"s", 1000000000}, {"m", UINT64_C(60000000000)},
		{"h", UINT64_C(3600000000000)},
	};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strlen(units[i].name) == n && memcmp(units[i].name, s, n) == 0)
			return units[i].ns;
	return 0;
}

/*
 * Reads one "NUMBER[.FRACTION]UNIT" of a Go duration at *s and adds it to
 * *total; false if it is not one, or the sum passes Go's largest duration.
 */
static bool
duration_term(const char **s, long double *total)
{
	const char *p = *s;
	long double value = 0;
	long double scale = 1;
	bool		digits = false;
	const char *unit;
	uint64_t	ns;

	for (; *p >= '0' && *p <= '9'; p++, digits = true)
		value = value * 10 + (*p - '0');
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++, digits = true)
			value += (*p - '0') / (scale *= 10);
	for (unit = p; *p != '\0' && *p != '.' && !(*p >= '0' && *p <= '9'); p++)
		;
	if (!digits || (ns = duration_unit(unit, p - unit)) == 0)
		return false;
	*total += value * ns;
	*s = p;
	return *total <= (long double) INT64_MAX;
}

/*
 * Is text a duration Go's time.ParseDuration reads ("5m", "1h30m", "0.5s",
 * "0"), and not negative?  metav1.Duration, the kubelet's cacheDuration,
 * is read so.
 */
bool
cred_go_duration_valid(const char *text)
{
	long double total = 0;

	if (*text == '+')
		text++;
	if (strcmp(text, "0") == 0)
		return true;
	if (*text == '\0')
		return false;
	while (*text != '\0')
		if (!duration_term(&text, &total))
			return false;
	return true;
}

/* Is host one of the names of Docker Hub's registry? */
static bool
docker_hub_host(const char *host, size_t n)
{
	static const char *const names[] = {"docker.io", "index.docker.io", "registry-1.docker.io"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == n && strncasecmp(names[i], host, n) == 0)
			return true;
	return false;
}

/*
 * Writes the kubelet's auth key for registry ("host[:port][/path]", as
 * registry_credential names it) serving image.  The kubelet matches a key
 * against the image it asks for (which it has normalized: "nginx" is
 * "docker.io/library/nginx") host part by part, case-sensitively, so the
 * key spells the host as the image does: "registry-1.docker.io/x" needs
 * that host, not "docker.io".  False if the key does not fit in size.
 */
bool
cred_auth_key(const char *registry, const char *image, char *key, size_t size)
{
	size_t		reg_host = strcspn(registry, "/");
	size_t		img_host = strcspn(image, "/");
	const char *host = registry;
	size_t		host_len = reg_host;

	/* the image's first component names a host only with a "/" after it */
	if (image[img_host] == '/' &&
		((img_host == reg_host && strncasecmp(image, registry, reg_host) == 0) ||
		 (docker_hub_host(image, img_host) && docker_hub_host(registry, reg_host))))
	{
		host = image;
		host_len = img_host;
	}
	return (size_t) snprintf(key, size, "%.*s%s", (int) host_len, host,
							 registry + reg_host) < size;
}
