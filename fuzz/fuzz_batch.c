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

#include "fuzz_common.h"
#include "nsvault.h"

const char *progname = "fuzz_batch";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool stdout_closed = false;
	char	   *text = strndup((const char *) data, size);
	CommandLine cl = {.value = {
			[OPT_DBNAME] = "host=/nonexistent dbname=fuzz connect_timeout=1",
			[OPT_BATCH] = "", [OPT_JS_TIMEOUT] = "1", [OPT_JS_MEMORY] = "16"}};
	FILE	   *saved = stdin;
	FILE	   *requests;

	if (!stdout_closed)
	{
		int			null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		close(null);
		stdout_closed = true;
	}
	/* a workflow file path would be read from disk */
	static const char *const skipped[] = {"workflow", NULL};

	if (text == NULL || size == 0 || !fuzz_tame(text, size, skipped))
	{
		free(text);
		return 0;
	}
	requests = fmemopen(text, size, "r");
	if (requests == NULL)
		abort();
	stdin = requests;
	(void) cmd_enrich(&cl);
	stdin = saved;
	fclose(requests);
	free(text);
	return 0;
}
