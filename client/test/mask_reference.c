/*
 * mask_reference.c — the naive masker of mask_reference.h, which the unit
 * tests and the fuzz target compare the automaton with, and a sink that
 * gathers what the automaton writes.
 */
#include <stdlib.h>
#include <string.h>

#include "mask_reference.h"

bool
mask_sink_write(void *context, struct iovec *pieces, int count)
{
	MaskSink   *sink = context;

	for (int i = 0; i < count; i++)
	{
		size_t		len = pieces[i].iov_len;

		if (sink->len + len > sink->cap)
		{
			sink->cap = 2 * (sink->len + len);
			sink->buf = realloc(sink->buf, sink->cap);
			if (sink->buf == NULL)
				abort();
		}
		memcpy(sink->buf + sink->len, pieces[i].iov_base, len);
		sink->len += len;
	}
	return true;
}

char *
mask_reference(const char *const *patterns, const size_t *lens, size_t npatterns,
			   const char *input, size_t len, size_t *out_len)
{
	char	   *out = malloc(3 * len + 1);
	size_t		n = 0;

	for (size_t i = 0; i < len;)
	{
		size_t		longest = 0;

		for (size_t p = 0; p < npatterns; p++)
			if (lens[p] > longest && lens[p] <= len - i &&
				memcmp(input + i, patterns[p], lens[p]) == 0)
				longest = lens[p];
		if (longest > 0)
		{
			memcpy(out + n, "***", 3);
			n += 3;
			i += longest;
		}
		else
			out[n++] = input[i++];
	}
	*out_len = n;
	return out;
}
