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
