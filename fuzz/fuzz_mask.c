/*
 * fuzz_mask.c — libFuzzer target for the masker (client/masker.c): random
 * patterns, or the forms of random values, over random input fed in random
 * pieces, must give what the naive masker of client/test gives (the union
 * of overlapping matches, line breaks kept).
 *
 * The input: a byte of flags, a count of patterns, each pattern as a
 * length byte and its bytes, then the text.  Flag 1 squeezes every byte
 * into "ab\r\n" so that patterns overlap, chain and repeat, and regions
 * cross lines; flag 2 adds each
 * pattern as a secret value (all its forms) rather than as it is.  Flag 4
 * feeds the text in one piece, so that the vector scan of mask_starts.c
 * sees long runs; flag 8 turns that scan off for the byte-by-byte one.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mask_starts.h"
#include "masker.h"
#include "mask_reference.h"
#include "nsvault.h"

const char *progname = "fuzz_mask";

void
die(int status, const char *fmt,...)
{
	abort();
}

void
warn(const char *fmt,...)
{
}

/*
 * Reads the patterns after the two header bytes of text (the input, its
 * bytes squeezed or not); returns where the text to mask starts.
 */
static size_t
read_patterns(MaskPatterns *patterns, unsigned flags, unsigned count,
			  const char *text, size_t size)
{
	size_t		at = 2;

	for (unsigned p = 0; p < count % 8 + 1 && at < size; p++)
	{
		size_t		len = (uint8_t) text[at++] % 24;

		if (len > size - at)
			len = size - at;
		if (flags & 2)
			mask_patterns_add_value(patterns, text + at, len, 1 + (flags >> 4) % 4);
		else
			mask_patterns_add(patterns, text + at, len);
		at += len;
	}
	return at;
}

/* Feeds the text in pieces whose sizes come from its own bytes. */
static void
feed_in_pieces(Masker *m, const char *text, size_t len, unsigned seed)
{
	for (size_t at = 0; at < len;)
	{
		size_t		n = 1 + (seed + (uint8_t) text[at]) % 17;

		if (n > len - at)
			n = len - at;
		if (!masker_feed(m, text + at, n))
			abort();
		at += n;
		seed = seed * 31 + 7;
	}
	if (!masker_finish(m))
		abort();
}

/* Compares the automaton's output with the reference's; aborts on a difference. */
static void
compare_with_reference(const MaskPatterns *patterns, const char *text, size_t len,
					   unsigned flags, unsigned seed)
{
	size_t		npatterns = mask_patterns_count(patterns);
	const char **texts = malloc(sizeof(char *) * (npatterns + 1));
	size_t	   *lens = malloc(sizeof(size_t) * (npatterns + 1));
	MaskSink	sink = {malloc(3 * len + 1), 0, 3 * len + 1};
	Masker	   *m;
	char	   *ref;
	size_t		ref_len;

	for (size_t i = 0; i < npatterns; i++)
		texts[i] = mask_pattern_text(patterns, i, &lens[i]);
	ref = mask_reference(texts, lens, npatterns, text, len, &ref_len);
	mask_starts_vector_allowed = !(flags & 8);
	m = masker_new(patterns, mask_sink_write, &sink);
	if (flags & 4)
	{
		if (!masker_feed(m, text, len) || !masker_finish(m))
			abort();
	}
	else
		feed_in_pieces(m, text, len, seed);
	if (sink.len != ref_len || memcmp(sink.buf, ref, ref_len) != 0)
		abort();
	masker_free(m);
	free(sink.buf);
	free(ref);
	free(texts);
	free(lens);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	MaskPatterns *patterns;
	char	   *text;
	size_t		at;

	if (size < 2)
		return 0;
	text = malloc(size);
	for (size_t i = 0; i < size; i++)
		text[i] = (data[0] & 1) ? "ab\r\n"[data[i] % 4] : (char) data[i];
	patterns = mask_patterns_new();
	at = read_patterns(patterns, data[0], data[1], text, size);
	compare_with_reference(patterns, text + at, size - at, data[0], data[1]);
	mask_patterns_free(patterns);
	free(text);
	return 0;
}
