/*
 * fuzz_batch.c — libFuzzer target for the client's batch mode
 * (client/enrich.c's enrich --batch): sequences of requests through one
 * process, so that state one request leaves behind (compiled programs,
 * jq's own) meets the next.
 *
 * Input: request lines, as enrich --batch reads them.  No key server is
 * reachable: requests that name secrets fail to connect, each on its own,
 * which is part of what is fuzzed.  Replies go to /dev/null.  Templates
 * that would make jq itself run or allocate without bound are skipped, as
 * in fuzz_jx.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nsvault.h"

const char *progname = "fuzz_batch";

void
die(int status, const char *fmt,...)
{
	abort();
}

void
warn(const char *fmt,...)
{
}

/* The same guard as fuzz_jx: jq's own unbounded builtins are not the target. */
static bool
tame(const char *text, size_t len)
{
	static const char *const unbounded[] = {
		"range", "repeat", "recurse", "while", "until", "limit", "foreach",
		"reduce", "def", "splits", "*", "pow", "exp", "ldexp", "scalb",
		"significand", "getpath", "paths", "walk", "env", "halt", "infinite",
		"tojson", "implode", "$__loc__", "workflow", NULL
	};
	int			digits = 0;

	if (memchr(text, '\0', len) != NULL)
		return false;
	for (int i = 0; unbounded[i]; i++)
		if (strstr(text, unbounded[i]) != NULL)
			return false;
	for (size_t i = 0; i < len; i++)
	{
		digits = (text[i] >= '0' && text[i] <= '9') ? digits + 1 : 0;
		if (digits > 4)
			return false;
	}
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool stdout_closed = false;
	char	   *text = strndup((const char *) data, size);
	char	   *argv[] = {"enrich", "--batch", NULL};
	FILE	   *saved = stdin;
	FILE	   *requests;

	if (!stdout_closed)
	{
		int			null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		close(null);
		stdout_closed = true;
	}
	if (text == NULL || !tame(text, size) || size == 0)
	{
		free(text);
		return 0;
	}
	requests = fmemopen(text, size, "r");
	if (requests == NULL)
		abort();
	stdin = requests;
	(void) cmd_enrich("host=/nonexistent dbname=fuzz connect_timeout=1", 2, argv);
	stdin = saved;
	fclose(requests);
	free(text);
	return 0;
}
