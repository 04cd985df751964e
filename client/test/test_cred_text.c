/*
 * test_cred_text.c — unit tests of cred_text.c: the server URL Docker
 * sends, Go durations, and the kubelet's auth keys.  Exits non-zero on the
 * first failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cred_helper.h"

const char *progname = "test_cred_text";

static int	failures = 0;

static void
check(bool ok, const char *what, const char *input)
{
	if (!ok)
	{
		fprintf(stderr, "FAIL: %s: \"%s\"\n", what, input);
		failures++;
	}
}

/* what docker-credential-helpers' Get reads from its standard input */
static void
test_server_url(void)
{
	static const char *const cases[][2] = {
		{"https://index.docker.io/v1/\n", "https://index.docker.io/v1/"},
		{"quay.io", "quay.io"},
		{"  quay.io \r\n", "quay.io"},
		{"quay\n.io\n", "quay.io"},		/* lines are joined */
		{"a\rb\r\n", "a\rb"},			/* a lone CR inside a line stays */
		{"\n\n", ""},
		{"", ""},
		{" \t\n", ""},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		char	   *input = strdup(cases[i][0]);

		check(strcmp(cred_server_url(input, strlen(input)), cases[i][1]) == 0,
			  "server URL", cases[i][0]);
		free(input);
	}
}

static void
test_go_duration(void)
{
	static const char *const valid[] = {
		"5m", "0", "+0", "0s", "1h30m", "1.5h", ".5s", "1.s", "300ms", "10us", "10\xC2\xB5s",
		"10\xCE\xBCs", "7ns", "2562047h", "9223372036854775807ns",
	};
	static const char *const invalid[] = {
		"", "5", "m", "5 m", "5m ", " 5m", "-5m", "-0", "5d", "1.5.5s", ".s", "5M", "1h-5m",
		"2562048h", "9223372036854775808ns", "99999999999999999999s", "0x10s", "five",
	};

	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++)
		check(cred_go_duration_valid(valid[i]), "a Go duration refused", valid[i]);
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++)
		check(!cred_go_duration_valid(invalid[i]), "not a Go duration accepted", invalid[i]);
}

static void
test_auth_key(void)
{
	/* registry, image as the kubelet sends it, key */
	static const char *const cases[][3] = {
		{"quay.io/org", "quay.io/org/app", "quay.io/org"},
		{"quay.io", "quay.io/other/app", "quay.io"},
		{"docker.io", "docker.io/library/nginx", "docker.io"},
		{"docker.io/team", "docker.io/team/app", "docker.io/team"},
		{"docker.io", "registry-1.docker.io/library/nginx", "registry-1.docker.io"},
		{"docker.io", "index.docker.io/library/nginx", "index.docker.io"},
		{"docker.io/team", "registry-1.docker.io/team/app", "registry-1.docker.io/team"},
		{"localhost:5000", "localhost:5000/app", "localhost:5000"},
		{"quay.io", "Quay.IO/org/app", "Quay.IO"},
		/* a first component without "/" after it is no host */
		{"docker.io", "nginx", "docker.io"},
		{"quay.io", "quay.io.example.com/x", "quay.io"},
	};
	char		key[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check(cred_auth_key(cases[i][0], cases[i][1], key, sizeof(key)) &&
			  strcmp(key, cases[i][2]) == 0, "auth key", cases[i][1]);
	check(!cred_auth_key("quay.io/a-rather-long-path", "quay.io/a-rather-long-path/x", key, 8),
		  "a key too long for its buffer", "quay.io/a-rather-long-path");
}

int
main(void)
{
	test_server_url();
	test_go_duration();
	test_auth_key();
	if (failures > 0)
		return 1;
	printf("test_cred_text: all passed\n");
	return 0;
}
