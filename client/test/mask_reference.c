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

/*
 * Appends region[0, len) masked: "\n" and "\r\n" as they are, and "***"
 * for each run of other bytes.
 */
static size_t
append_masked(char *out, const char *region, size_t len)
{
	size_t		n = 0;
	bool		in_run = false;

	for (size_t i = 0; i < len; i++)
	{
		if (region[i] == '\n' || (region[i] == '\r' && i + 1 < len && region[i + 1] == '\n'))
		{
			out[n++] = region[i];
			in_run = false;
		}
		else if (!in_run)
		{
			memcpy(out + n, "***", 3);
			n += 3;
			in_run = true;
		}
	}
	return n;
}

char *
mask_reference(const char *const *patterns, const size_t *lens, size_t npatterns,
			   const char *input, size_t len, size_t *out_len)
{
	char	   *out = malloc(3 * len + 1);
	size_t	   *ends = calloc(len + 1, sizeof(size_t));
	size_t		n = 0;

	/* ends[i]: the end of the longest match that starts at i, or 0 */
	for (size_t i = 0; i < len; i++)
		for (size_t p = 0; p < npatterns; p++)
			if (lens[p] > 0 && lens[p] <= len - i && i + lens[p] > ends[i] &&
				memcmp(input + i, patterns[p], lens[p]) == 0)
				ends[i] = i + lens[p];
	for (size_t i = 0; i < len;)
	{
		size_t		end = ends[i];

		if (end == 0)
		{
			out[n++] = input[i++];
			continue;
		}
		/* every match that starts inside the region joins it */
		for (size_t j = i + 1; j < end; j++)
			if (ends[j] > end)
				end = ends[j];
		n += append_masked(out + n, input + i, end - i);
		i = end;
	}
	free(ends);
	*out_len = n;
	return out;
}
