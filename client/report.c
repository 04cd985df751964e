/*
 * report.c — errors and warnings on stderr, "PROGRAM: error: ...", for
 * each of the client's programs (each defines progname).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "nsvault.h"

static void
report(const char *kind, const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: %s: ", progname, kind);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

/* Prints "PROGRAM: error: ..." on stderr and exits with status. */
void
die(int status, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	report("error", fmt, ap);
	va_end(ap);
	exit(status);
}

/* Prints "PROGRAM: warning: ..." on stderr. */
void
warn(const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	report("warning", fmt, ap);
	va_end(ap);
}
