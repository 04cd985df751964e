/*
 * test_mask.c — unit tests of the masker (masker.c, mask_forms.c): every
 * form of a value at every alignment, matches across read boundaries,
 * overlapping matches masked as their union (random ones against the naive
 * masker, fed in random pieces), multi-line values masked line by line,
 * each encoder's escapes, UTF-8 and short values, and a 100 MB stream in
 * constant memory.  With a file argument, also each value of it as the
 * real encoders wrote it (test/mask_encoders.py).  Exits non-zero if
 * anything failed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "mask_starts.h"
#include "masker.h"
#include "mask_reference.h"
#include "nsvault.h"

const char *progname = "test_mask";

static int	failures = 0;


static void
fail(const char *what, const char *input, size_t len)
{
	fprintf(stderr, "FAIL: %s: \"%.*s\"\n", what, (int) len, input);
	failures++;
}

/* Masks input as one stream of m's, fed in pieces of chunk bytes (0: all at once), into sink. */
static void
mask_stream(Masker *m, MaskSink *sink, const char *input, size_t len, size_t chunk)
{
	sink->len = 0;
	for (size_t at = 0; at < len;)
	{
		size_t		n = chunk == 0 || chunk > len - at ? len - at : chunk;

		masker_feed(m, input + at, n);
		at += n;
	}
	masker_finish(m);
}

/* Masks input, fed in pieces of chunk bytes (0: all at once); returns the output. */
static char *
mask_text(const MaskPatterns *patterns, const char *input, size_t len, size_t chunk,
		  size_t *out_len)
{
	MaskSink	sink = {malloc(16), 0, 16};
	Masker	   *m = masker_new(patterns, mask_sink_write, &sink);

	mask_stream(m, &sink, input, len, chunk);
	masker_free(m);
	*out_len = sink.len;
	return sink.buf;
}

/*
 * Checks the masked input, fed in every chunk size up to its length (as
 * streams of one masker, one after another), and the reference's.
 */
static void
check_masked(const MaskPatterns *patterns, const char *input, const char *expected,
			 const char *what)
{
	size_t		len = strlen(input);
	size_t		count = mask_patterns_count(patterns);
	const char **texts = malloc(sizeof(char *) * (count + 1));
	size_t	   *lens = malloc(sizeof(size_t) * (count + 1));
	MaskSink	sink = {malloc(16), 0, 16};
	Masker	   *m = masker_new(patterns, mask_sink_write, &sink);
	size_t		ref_len;
	char	   *ref;

	for (size_t i = 0; i < count; i++)
		texts[i] = mask_pattern_text(patterns, i, &lens[i]);
	ref = mask_reference(texts, lens, count, input, len, &ref_len);
	if (ref_len != strlen(expected) || memcmp(ref, expected, ref_len) != 0)
		fail("the reference masker disagrees with the table", input, len);
	for (size_t chunk = 0; chunk <= len + 1; chunk++)
	{
		mask_stream(m, &sink, input, len, chunk);
		if (sink.len != strlen(expected) || memcmp(sink.buf, expected, sink.len) != 0)
		{
			fprintf(stderr, "  %s, in chunks of %zu: got \"%.*s\", want \"%s\"\n",
					what, chunk, (int) sink.len, sink.buf, expected);
			fail(what, input, len);
			chunk = len + 1;
		}
	}
	masker_free(m);
	free(sink.buf);
	free(ref);
	free(texts);
	free(lens);
}

/* Masks input with one value's forms. */
static void
check_value(const char *value, const char *input, const char *expected, const char *what)
{
	MaskPatterns *patterns = mask_patterns_new();

	mask_patterns_add_value(patterns, value, strlen(value), MASK_DEFAULT_MIN_LENGTH);
	check_masked(patterns, input, expected, what);
	mask_patterns_free(patterns);
}

/* every form at every alignment, as Python encodes them */
static void
test_forms(void)
{
	static const char *const cases[][3] = {
#include "mask_cases.inc"
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_value(cases[i][0], cases[i][1], cases[i][2], "a form of a value");
}

/* Decodes hex into a new string; NULL if it is not hex. */
static char *
from_hex(const char *hex, size_t len)
{
	char	   *text = malloc(len / 2 + 1);

	if (len % 2 != 0)
		len = 0;
	for (size_t i = 0; i < len / 2; i++)
		if (sscanf(hex + 2 * i, "%2hhx", (unsigned char *) &text[i]) != 1)
			len = 0;
	text[len / 2] = '\0';
	if (len == 0)
	{
		free(text);
		return NULL;
	}
	return text;
}

/*
 * Each line of file (test/mask_encoders.py's): a tool, a form, a value and
 * the value as that tool wrote it, those two in hex.  The form in brackets
 * is masked whole.
 */
static void
test_encoded_file(const char *file)
{
	FILE	   *f = fopen(file, "r");
	char		line[8192];
	int			lines = 0;

	if (f == NULL)
	{
		perror(file);
		failures++;
		return;
	}
	while (fgets(line, sizeof(line), f) != NULL)
	{
		char	   *fields[4];
		char	   *save = NULL;
		char	   *value;
		char	   *encoded;
		char		input[4096];
		char		what[256];

		for (int k = 0; k < 4; k++)
			fields[k] = strtok_r(k == 0 ? line : NULL, "\t\n", &save);
		if (fields[3] == NULL ||
			(value = from_hex(fields[2], strlen(fields[2]))) == NULL ||
			(encoded = from_hex(fields[3], strlen(fields[3]))) == NULL)
		{
			fail("a line of the encoders' file", line, strlen(line));
			continue;
		}
		snprintf(input, sizeof(input), "[%s]", encoded);
		snprintf(what, sizeof(what), "a value as %s's %s writes it", fields[0], fields[1]);
		check_value(value, input, "[***]", what);
		free(value);
		free(encoded);
		lines++;
	}
	fclose(f);
	if (lines == 0)
		fail("the encoders' file has lines", file, strlen(file));
	printf("test_mask: %d values as the encoders wrote them\n", lines);
}

/* Masks input with several values. */
static void
check_values(const char *const *values, const char *input, const char *expected,
			 size_t min_length, const char *what)
{
	MaskPatterns *patterns = mask_patterns_new();

	for (const char *const *v = values; *v != NULL; v++)
		mask_patterns_add_value(patterns, *v, strlen(*v), min_length);
	check_masked(patterns, input, expected, what);
	mask_patterns_free(patterns);
}

static void
test_overlaps(void)
{
	const char *prefix[] = {"abcd", "abcdefgh", NULL};
	const char *inner[] = {"bcde", "abcdefgh", NULL};
	const char *chain[] = {"aaaa", "aaaaaa", NULL};
	const char *issue[] = {"abcd", "bcdefghijklmnop", NULL};
	const char *links[] = {"abcd", "cdef", "efgh", NULL};
	const char *apart[] = {"abcd", "efgh", NULL};
	const char *later[] = {"cdef", "abcdefgh", "ghij", NULL};

	check_values(prefix, "x abcdefgh y", "x *** y", 4, "the longer of two values masked whole");
	check_values(prefix, "x abcdefg y", "x ***efg y", 4, "the shorter where the longer breaks off");
	check_values(prefix, "abcdabcdefghabcd", "*********", 4, "values back to back");
	check_values(inner, "abcdefg", "a***fg", 4, "the inner value, when the longer breaks off");
	check_values(inner, "abcdefgh", "***", 4, "the longer, when it completes");
	check_values(issue, "abcdefghijklmnop", "***", 4, "two overlapping values masked as one");
	check_values(issue, "x abcdefghijklmnop y", "x *** y", 4, "two overlapping values in a line");
	check_values(issue, "abcdefghijklmno", "***efghijklmno", 4, "the first alone, where the second breaks off");
	check_values(links, "x abcdefgh y", "x *** y", 4, "a chain of overlapping values");
	check_values(apart, "abcdefgh", "******", 4, "values that only touch stay apart");
	check_values(later, "abcdefghij", "***", 4, "a match that starts before the region it joins");
	check_values(chain, "aaaaaaaaaaa", "***", 4, "a run of one letter");
	check_values(chain, "aaaaaaa", "***", 4, "a run of one letter, longest first");
}

/* A small pseudo-random generator (xorshift64), so that a failure repeats. */
static uint64_t random_state = 0x9E3779B97F4A7C15u;

static size_t
random_below(size_t n)
{
	random_state ^= random_state << 13;
	random_state ^= random_state >> 7;
	random_state ^= random_state << 17;
	return (size_t) (random_state % n);
}

/* Masks text as one stream of m's, fed in pieces of random sizes up to max_piece, into sink. */
static void
mask_in_random_pieces(Masker *m, MaskSink *sink, const char *text, size_t len,
					  size_t max_piece)
{
	sink->len = 0;
	for (size_t at = 0; at < len;)
	{
		size_t		n = 1 + random_below(max_piece);

		if (n > len - at)
			n = len - at;
		masker_feed(m, text + at, n);
		at += n;
	}
	masker_finish(m);
}

/* Makes up to 5 random patterns over the first alphabet letters. */
static MaskPatterns *
random_patterns(const char *letters, size_t alphabet)
{
	MaskPatterns *patterns = mask_patterns_new();
	size_t		npatterns = 1 + random_below(5);
	char		pattern[8];

	for (size_t p = 0; p < npatterns; p++)
	{
		size_t		plen = 1 + random_below(sizeof(pattern));

		for (size_t k = 0; k < plen; k++)
			pattern[k] = letters[random_below(alphabet)];
		mask_patterns_add(patterns, pattern, plen);
	}
	return patterns;
}

/*
 * Random patterns over a few letters, line feeds and CRs, so that matches
 * overlap, chain, repeat and cross lines, over random texts fed in random
 * pieces (so that regions cross read boundaries): the same as the naive
 * masker's, every time.
 */
static void
test_random_overlaps(void)
{
	static const char letters[] = "abc\r\n";
	char		text[400];
	bool		failed = false;

	for (int round = 0; round < 600 && !failed; round++)
	{
		size_t		alphabet = 2 + random_below(4);
		MaskPatterns *patterns = random_patterns(letters, alphabet);
		size_t		count = mask_patterns_count(patterns);
		const char **texts = malloc(sizeof(char *) * count);
		size_t	   *lens = malloc(sizeof(size_t) * count);
		MaskSink	sink = {malloc(16), 0, 16};
		Masker	   *m = masker_new(patterns, mask_sink_write, &sink);

		for (size_t i = 0; i < count; i++)
			texts[i] = mask_pattern_text(patterns, i, &lens[i]);
		for (int t = 0; t < 8 && !failed; t++)
		{
			size_t		len = random_below(sizeof(text));
			size_t		ref_len;
			char	   *ref;

			for (size_t k = 0; k < len; k++)
				text[k] = letters[random_below(alphabet)];
			ref = mask_reference(texts, lens, count, text, len, &ref_len);
			for (size_t max_piece = 1; max_piece <= 64 && !failed; max_piece *= 4)
			{
				mask_in_random_pieces(m, &sink, text, len, max_piece);
				if (sink.len != ref_len || memcmp(sink.buf, ref, ref_len) != 0)
				{
					fprintf(stderr, "  round %d, pieces up to %zu: got \"%.*s\", want \"%.*s\"\n",
							round, max_piece, (int) sink.len, sink.buf, (int) ref_len, ref);
					fail("random overlapping patterns, as the naive masker masks them", text, len);
					failed = true;
				}
			}
			free(ref);
		}
		masker_free(m);
		free(sink.buf);
		free(texts);
		free(lens);
		mask_patterns_free(patterns);
	}
}

/*
 * A region longer than the masker's buffer: the union of a multi-line
 * value's overlapping matches over 3 MB, fed in 64 kB reads, is one "***"
 * per line, written before the region ends.
 */
static void
test_long_region(void)
{
	const char *value = "aaaa\naaaa";
	size_t		lines = 600000;
	size_t		len = 5 * lines;
	char	   *text = malloc(len);
	char	   *want = malloc(4 * lines);
	MaskPatterns *patterns = mask_patterns_new();
	MaskSink	sink = {malloc(16), 0, 16};
	Masker	   *m;
	bool		written_early;

	for (size_t n = 0; n < lines; n++)
	{
		memcpy(text + 5 * n, "aaaa\n", 5);
		memcpy(want + 4 * n, "***\n", 4);
	}
	mask_patterns_add_value(patterns, value, strlen(value), 4);
	m = masker_new(patterns, mask_sink_write, &sink);
	for (size_t at = 0; at < len; at += 65536)
		masker_feed(m, text + at, len - at < 65536 ? len - at : 65536);
	written_early = sink.len >= 4 * (lines - 1);
	masker_finish(m);
	if (!written_early || sink.len != 4 * lines || memcmp(sink.buf, want, sink.len) != 0)
		fail("a region of 3 MB is masked line by line, as it comes", value, strlen(value));
	masker_free(m);
	mask_patterns_free(patterns);
	free(sink.buf);
	free(text);
	free(want);
}

static void
test_lines(void)
{
	const char *pem[] = {"-----BEGIN KEY-----\r\nMIIBOgIBAAJBAK\r\nab\r\n-----END KEY-----", NULL};
	const char *three[] = {"line-one-x\nline-two-x\nline-three-x", NULL};
	const char *trailing[] = {"hunter22\n", NULL};
	const char *blank[] = {"first-line\n\nthird-line", NULL};
	const char *utf8[] = {"p\xc3\xa4ssw\xc3\xb6rd\xf0\x9f\x94\x91", NULL};
	MaskPatterns *patterns = mask_patterns_new();

	check_values(pem, "key: MIIBOgIBAAJBAK\nend", "key: ***\nend", 4, "a line of a multi-line value");
	check_values(pem, "x -----BEGIN KEY-----\r\nMIIBOgIBAAJBAK\r\nab\r\n-----END KEY----- y",
				 "x ***\r\n***\r\n***\r\n*** y", 4, "a multi-line value whole, line by line, CRLF kept");
	check_values(pem, "ab\r\n-----END KEY-----", "ab\r\n***", 4, "a short line stays");
	check_values(pem, "\"-----BEGIN KEY-----\\r\\nMIIBOgIBAAJBAK\\r\\nab\\r\\n-----END KEY-----\"",
				 "\"***\"", 4, "a multi-line value, JSON-escaped");
	check_values(three, "<line-one-x\nline-two-x\nline-three-x>\n", "<***\n***\n***>\n", 4,
				 "a multi-line value keeps its line count");
	check_values(three, "line-two-x\nline-one-x\n", "***\n***\n", 4, "lines alone, in any order");
	check_values(trailing, "pw: hunter22\nnext\n", "pw: ***\nnext\n", 4,
				 "a value's final line feed stays");
	check_values(blank, "first-line\n\nthird-line\n", "***\n\n***\n", 4, "an empty line of a value stays");
	check_values(utf8, "[p\xc3\xa4ssw\xc3\xb6rd\xf0\x9f\x94\x91]", "[***]", 4, "a UTF-8 value");
	check_values(utf8, "[p\\u00e4ssw\\u00f6rd\\ud83d\\udd11]", "[***]", 4, "a UTF-8 value, ASCII-escaped");
	check_values(utf8, "[p%C3%A4ssw%C3%B6rd%F0%9F%94%91]", "[***]", 4, "a UTF-8 value, percent-encoded");
	if (mask_patterns_add_value(patterns, pem[0], strlen(pem[0]), 4) != MASK_SHORT_LINES)
		fail("a short line is reported", pem[0], strlen(pem[0]));
	mask_patterns_free(patterns);
}

/*
 * Each encoder's own escapes: what one encoder leaves as it is, another
 * escapes (test/mask_encoders.py checks these against the tools).
 */
static void
test_encoders(void)
{
	static const char *const cases[][3] = {
		/* encodeURIComponent leaves ! * ' ( ) */
		{"p@ss/w!rd", "[p%40ss%2Fw!rd]", "[***]"},
		{"it's*(ok)!", "[it's*(ok)!%20x]", "[***%20x]"},
		{"it's*(ok)! x", "[it's*(ok)!%20x]", "[***]"},
		/* encodeURI leaves the reserved characters too */
		{"a b/c?d#e", "[a%20b/c?d#e]", "[***]"},
		/* Go's url.PathEscape leaves @ $ & + : = */
		{"p@ss w$rd&x=y+z:/", "[p@ss%20w$rd&x=y+z:%2F]", "[***]"},
		/* Go's url.QueryEscape and Python's quote_plus */
		{"p@ss w$rd&x=y+z:/", "[p%40ss+w%24rd%26x%3Dy%2Bz%3A%2F]", "[***]"},
		/* a password in a Go connection URL */
		{"p@ss:w$rd,x;y/", "[postgres://u:p%40ss%3Aw$rd,x;y%2F@host]", "[postgres://u:***@host]"},
		/* Python's quote leaves / */
		{"path/to secret", "[path/to%20secret]", "[***]"},
		/* URLSearchParams escapes ~ and leaves * */
		{"~tilde* x", "[%7Etilde*+x]", "[***]"},
		/* DEL as jq and Python write it; as jansson and Go do */
		{"pass\177word", "[\"pass\\u007fword\"]", "[\"***\"]"},
		{"pass\177word", "[\"pass\177word\"]", "[\"***\"]"},
		/* \b and \f as Go before 1.22 writes them, and as everyone else does */
		{"pass\bw\fd", "[\"pass\\u0008w\\u000cd\"]", "[\"***\"]"},
		{"pass\bw\fd", "[\"pass\\bw\\fd\"]", "[\"***\"]"},
		/* Go without HTML escaping: U+2028 still escaped, < left */
		{"a<b\xe2\x80\xa8" "c", "[\"a<b\\u2028c\"]", "[\"***\"]"},
		/* DEL and non-ASCII, as Python's ensure_ascii writes them */
		{"\xc3\xa9t\xc3\xa9\177", "[\"\\u00e9t\\u00e9\\u007f\"]", "[\"***\"]"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_value(cases[i][0], cases[i][1], cases[i][2], "an encoder's form of a value");
}

static void
test_short_values(void)
{
	const char *values[] = {"abc", "abcd", NULL};
	MaskPatterns *patterns = mask_patterns_new();

	check_values(values, "abc abcd abcde", "abc *** ***e", 4, "a value shorter than 4 is not masked");
	check_values(values, "ab abc abcd", "ab *** ***", 3, "with a minimum of 3 it is");
	if (mask_patterns_add_value(patterns, "abc", 3, 4) != MASK_SHORT_VALUE ||
		mask_patterns_count(patterns) != 0)
		fail("a short value is reported and adds nothing", "abc", 3);
	if (mask_patterns_add_value(patterns, "", 0, 4) != MASK_SHORT_VALUE)
		fail("an empty value is reported", "", 0);
	mask_patterns_free(patterns);
}

/* Masks text fed in one piece, and compares with the reference. */
static void
check_with_reference(const MaskPatterns *patterns, const char *text, size_t len,
					 const char *what)
{
	size_t		count = mask_patterns_count(patterns);
	const char **texts = malloc(sizeof(char *) * (count + 1));
	size_t	   *lens = malloc(sizeof(size_t) * (count + 1));
	size_t		ref_len;
	size_t		out_len;
	char	   *ref;
	char	   *out;

	for (size_t i = 0; i < count; i++)
		texts[i] = mask_pattern_text(patterns, i, &lens[i]);
	ref = mask_reference(texts, lens, count, text, len, &ref_len);
	out = mask_text(patterns, text, len, 0, &out_len);
	if (out_len != ref_len || memcmp(out, ref, ref_len) != 0)
		fail(what, text, len);
	free(out);
	free(ref);
	free(texts);
	free(lens);
}

/*
 * The vector scan tests 32 positions at once, loosely, then each exactly:
 * a pattern at every offset in and across its blocks and in the tail it
 * leaves to the byte-by-byte scan, among bytes from both halves of the
 * byte range.  Around it, near misses: pairs that pass the loose test
 * only (so that one run of blocks reaches the pattern), or that start a
 * pattern which then breaks off (so that the scan starts again at many
 * offsets).
 */
static void
test_start_filter(void)
{
	static const char *const raw[] = {"Zq8x", "\xc3\xa4q\xf0", "q\xff!", "\x7f"};
	static const char *const near_misses[] = {
		"Za q8 \xc3q \xa4Z \xc3\xc3 ",
		"Zq8 \xc3\xa4q Za \xa4Z q\xfe \x7e\x80 q8x ",
	};
	MaskPatterns *patterns = mask_patterns_new();
	char		text[160];

	for (size_t i = 0; i < sizeof(raw) / sizeof(raw[0]); i++)
		mask_patterns_add(patterns, raw[i], strlen(raw[i]));
	for (size_t n = 0; n < sizeof(near_misses) / sizeof(near_misses[0]); n++)
		for (size_t p = 0; p < sizeof(raw) / sizeof(raw[0]); p++)
			for (size_t at = 0; at + strlen(raw[p]) <= sizeof(text); at++)
			{
				for (size_t i = 0; i < sizeof(text); i++)
					text[i] = near_misses[n][i % strlen(near_misses[n])];
				memcpy(text + at, raw[p], strlen(raw[p]));
				check_with_reference(patterns, text, sizeof(text),
									 "a pattern at any offset of the vector scan's blocks");
			}
	mask_patterns_free(patterns);
}

/* Counts what the masker writes, and the masks in it, keeping nothing. */
typedef struct Counter
{
	size_t		bytes;
	size_t		masks;
	int			stars;			/* of a mask that a write may have split */
} Counter;

static bool
count_write(void *context, struct iovec *pieces, int count)
{
	Counter    *c = context;

	for (int k = 0; k < count; k++)
	{
		const char *buf = pieces[k].iov_base;

		for (size_t i = 0; i < pieces[k].iov_len; i++)
			if (buf[i] != '*')
				c->stars = 0;
			else if (++c->stars == 3)
			{
				c->masks++;
				c->stars = 0;
			}
		c->bytes += pieces[k].iov_len;
	}
	return true;
}

static long
peak_rss_kb(void)
{
	struct rusage usage;

	getrusage(RUSAGE_SELF, &usage);
	return usage.ru_maxrss;
}

/* 100 MB of log lines with a secret in every 1000th, fed in reads of odd sizes. */
static void
test_constant_memory(void)
{
	const char *secret = "Zq8-secret-value-Zq8";
	char		line[256];
	MaskPatterns *patterns = mask_patterns_new();
	Counter		counter = {0};
	Masker	   *m;
	size_t		memory;
	size_t		planted = 0;
	long		rss_before;
	size_t		total = 0;

	mask_patterns_add_value(patterns, secret, strlen(secret), 4);
	m = masker_new(patterns, count_write, &counter);
	memory = masker_memory(m);
	rss_before = peak_rss_kb();
	for (size_t n = 0; total < 100u * 1024 * 1024; n++)
	{
		int			len = snprintf(line, sizeof(line),
								   "2024-01-01T00:00:%02zu request %zu served %s in 12ms\n",
								   n % 60, n, n % 1000 == 0 ? secret : "nothing");

		planted += n % 1000 == 0;
		masker_feed(m, line, (size_t) len);
		total += len;
	}
	masker_finish(m);
	if (counter.masks != planted)
		fail("every planted secret is masked in a long stream", secret, strlen(secret));
	if (masker_memory(m) != memory || peak_rss_kb() - rss_before > 16 * 1024)
		fail("the masker's memory stays the same over 100 MB", "", 0);
	masker_free(m);
	mask_patterns_free(patterns);
	printf("test_mask: 100 MB masked, %zu secrets, masker memory %zu kB, peak RSS growth %ld kB\n",
		   planted, memory / 1024, peak_rss_kb() - rss_before);
}

int
main(int argc, char **argv)
{
	/* each table with the vector scan, where the machine has it, and without */
	for (int vector = 1; vector >= 0; vector--)
	{
		mask_starts_vector_allowed = vector;
		test_forms();
		test_overlaps();
		test_random_overlaps();
		test_lines();
		test_encoders();
		test_short_values();
		test_start_filter();
	}
	mask_starts_vector_allowed = true;
	if (argc > 1)
		test_encoded_file(argv[1]);
	test_long_region();
	test_constant_memory();
	if (failures > 0)
	{
		fprintf(stderr, "test_mask: %d failures\n", failures);
		return 1;
	}
	printf("test_mask: all passed\n");
	return 0;
}
