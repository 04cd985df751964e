/*
 * postgres.h (fuzz shim) — the few server facilities registry_ref.c uses,
 * on top of libc, so the parser can be fuzzed outside a backend.
 */
#ifndef FUZZ_POSTGRES_SHIM_H
#define FUZZ_POSTGRES_SHIM_H

#define _GNU_SOURCE
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CppAsString2(x)		CppAsString(x)
#define CppAsString(x)		#x
#define pstrdup(s)			strdup(s)
#define pfree(p)			free(p)
#define pnstrdup(s, n)		strndup((s), (n))
#define pg_strncasecmp(a, b, n)	strncasecmp((a), (b), (n))

static inline char *
psprintf(const char *fmt,...)
{
	va_list		ap;
	char	   *out = NULL;

	va_start(ap, fmt);
	if (vasprintf(&out, fmt, ap) < 0)
		abort();
	va_end(ap);
	return out;
}

#endif
