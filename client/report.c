/*
 * report.c — errors and warnings on stderr, "PROGRAM: error: ...", for
 * each of the client's programs (each defines progname); and, at exit, the
 * error of output that could not be written.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* Prints "PROGRAM: error: ..." on stderr, and goes on. */
static void
error_line(const char *fmt,...)
	__attribute__((format(printf, 1, 2)));

static void
error_line(const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	report("error", fmt, ap);
	va_end(ap);
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

/*
 * At exit: writes what stdio still holds for standard output and closes
 * it.  A write that failed, now or earlier (a full disk, a closed
 * descriptor), fails the program, whatever status it was ending with: one
 * line, exit 1.  _exit, since exit is already under way.
 */
static void
check_output_at_exit(void)
{
	bool		failed = ferror(stdout) != 0;
	int			reason;

	errno = 0;
	if (fclose(stdout) != 0)
		failed = true;
	reason = errno;
	if (!failed)
		return;
	if (reason != 0)
		error_line("could not write to standard output: %s", strerror(reason));
	else
		error_line("could not write to standard output");
	_exit(EXIT_FAIL);
}

/*
 * Makes a failed write to standard output an error, exit 1, for every
 * command: main calls it first.  A standard descriptor that is closed is
 * opened on /dev/null the other way round (output read-only), so that a
 * connection or pipe opened later cannot take its number and get what is
 * written to it, and writing to it still fails.
 */
void
check_output_on_exit(void)
{
	for (int fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF &&
			open("/dev/null", fd == 0 ? O_WRONLY : O_RDONLY) != fd)
			_exit(EXIT_FAIL);
	if (atexit(check_output_at_exit) != 0)
		die(EXIT_FAIL, "out of memory");
}
