/*
 * fuzz_readers.c — libFuzzer target for the client's readers: a YAML
 * document (client/yaml_json.c) and JSON through the client's writer
 * (client/json_text.c), which must read back to an equal value.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "nsvault.h"

const char *progname = "fuzz_readers";

void
die(int status, const char *fmt,...)
{
	abort();
}

void
warn(const char *fmt,...)
{
}

static int yaml_fd = -1;

/* What the writer writes, the reader must read; frees doc. */
static void
check_round_trip(json_t *doc)
{
	json_error_t json_error;
	char	   *out = json_text(doc);
	json_t	   *again = json_loads(out, JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL, &json_error);

	if (again == NULL)
		abort();
	json_decref(again);
	free(out);
	json_decref(doc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		path[64];
	char		error[512];
	json_error_t json_error;
	json_t	   *doc;

	/* YAML, from a file as the client reads it */
	if (yaml_fd < 0)
		yaml_fd = memfd_create("fuzz-yaml", 0);
	if (ftruncate(yaml_fd, 0) != 0 || pwrite(yaml_fd, data, size, 0) != (ssize_t) size)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", yaml_fd);
	doc = yaml_file_to_json(path, error, sizeof(error));
	if (doc != NULL)
		check_round_trip(doc);

	/* JSON: writer and reader agree */
	doc = json_loadb((const char *) data, size, JSON_DECODE_ANY, &json_error);
	if (doc != NULL)
		check_round_trip(doc);
	return 0;
}
