/*
 * fuzz_common.c — see fuzz_common.h.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "nsvault.h"

void
die(int status, const char *fmt,...)
{
	abort();
}

void
warn(const char *fmt,...)
{
}

static bool
has_any(const char *text, const char *const *words)
{
	for (int i = 0; words != NULL && words[i]; i++)
		if (strstr(text, words[i]) != NULL)
			return true;
	return false;
}

bool
fuzz_tame(const char *text, size_t len, const char *const *extra)
{
	static const char *const unbounded[] = {
		"range", "repeat", "recurse", "while", "until", "limit", "foreach",
		"reduce", "def", "splits", "*", "pow", "exp", "ldexp", "scalb",
		"significand", "getpath", "paths", "walk", "env", "halt", "infinite",
		"tojson", "implode", "$__loc__", NULL
	};
	int			digits = 0;

	if (memchr(text, '\0', len) != NULL || has_any(text, unbounded) || has_any(text, extra))
		return false;
	for (size_t i = 0; i < len; i++)
	{
		digits = (text[i] >= '0' && text[i] <= '9') ? digits + 1 : 0;
		if (digits > 4)
			return false;
	}
	return true;
}
