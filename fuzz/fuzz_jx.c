/*
 * fuzz_jx.c — libFuzzer target for the client's template engine
 * (client/jx.c) and its JSON writer (client/json_text.c).
 *
 * Input: a template and instance data, two JSON texts separated by a
 * newline.  Programs that would make jq itself run or allocate without
 * bound (range, repeat, string repetition, ...) are skipped: the target
 * is the evaluator around jq, not jq's own complexity.  js(...) runs with
 * small limits; its child process ending without an answer (a crash, or
 * a sanitizer's report) fails the target.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "nsvault.h"

const char *progname = "fuzz_jx";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *text = strndup((const char *) data, size);
	char	   *newline = strchr(text, '\n');
	json_error_t error;
	json_t	   *template;
	json_t	   *input;
	json_t	   *result;
	char		message[1024];

	/* input reads further inputs, which the engine refuses on its own */
	static const char *const skipped[] = {"input", NULL};

	if (newline == NULL || !fuzz_tame(text, strlen(text), skipped))
	{
		free(text);
		return 0;
	}
	*newline = '\0';
	template = json_loads(text, JSON_DECODE_ANY, &error);
	input = json_loads(newline + 1, 0, &error);
	if (template != NULL && json_is_object(input))
	{
		js_set_limits(1, 16);
		result = jx_evaluate(template, input, message, sizeof(message));
		if (result == NULL && strstr(message, "js: the evaluator ended") != NULL)
			abort();
		if (result != NULL)
		{
			char	   *out = json_text(result);
			json_t	   *again = json_loads(out, JSON_DECODE_ANY, &error);

			/* what the writer writes, the reader reads */
			if (again == NULL)
				abort();
			json_decref(again);
			free(out);
			json_decref(result);
		}
	}
	json_decref(template);
	json_decref(input);
	free(text);
	/* compiled programs are kept across calls: free them, so leaks show */
	jx_reset();
	return 0;
}
