/*
 * args.c — values of command-line arguments.
 */
#include <errno.h>
#include <stdlib.h>

#include "nsvault.h"

/* Parses text as a whole number from 1 to max into *result; false if it is not one. */
bool
parse_whole_number(const char *text, long max, long *result)
{
	char	   *end;

	errno = 0;
	*result = strtol(text, &end, 10);
	return errno == 0 && end != text && *end == '\0' && *result >= 1 && *result <= max;
}

/*
 * Returns option opt of command as a whole number from 1 to max, or
 * default_value when it is not given; fails with a usage error otherwise.
 */
long
option_whole_number(const CommandLine *cl, Option opt, const char *command,
					const char *option, long max, long default_value)
{
	long		n;

	if (!option_given(cl, opt))
		return default_value;
	if (!parse_whole_number(cl->value[opt], max, &n))
		die(EXIT_USAGE, "%s: %s takes a whole number from 1 to %ld, not \"%s\"",
			command, option, max, cl->value[opt]);
	return n;
}
