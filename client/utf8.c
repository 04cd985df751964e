/*
 * utf8.c — text from standard input, checked to be well-formed UTF-8
 * before it is sent.
 *
 * PostgreSQL refuses ill-formed UTF-8 itself, but its message quotes up to
 * four bytes of the input, and the message reaches the server log; the
 * client refuses first, naming only where.
 */
#include <stdio.h>
#include <string.h>

#include "nsvault.h"

/*
 * Returns the length of the well-formed sequence at s (n bytes left), or 0.
 * The ranges are Unicode's table 3-7: they leave out overlong forms,
 * surrogates (U+D800 to U+DFFF) and everything above U+10FFFF.
 */
static size_t
sequence_length(const unsigned char *s, size_t n)
{
	unsigned char lo = 0x80;
	unsigned char hi = 0xBF;
	size_t		len;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		len = 2;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		len = 3;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		len = 4;
	else
		return 0;				/* a continuation byte, C0, C1 or F5 to FF */
	if (s[0] == 0xE0)
		lo = 0xA0;				/* overlong below U+0800 */
	else if (s[0] == 0xED)
		hi = 0x9F;				/* surrogates */
	else if (s[0] == 0xF0)
		lo = 0x90;				/* overlong below U+10000 */
	else if (s[0] == 0xF4)
		hi = 0x8F;				/* above U+10FFFF */
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 0;
	return len;
}

/* Returns the offset of the first ill-formed sequence in s, or len if none. */
size_t
utf8_invalid_offset(const char *s, size_t len)
{
	const unsigned char *bytes = (const unsigned char *) s;
	size_t		at = 0;

	while (at < len)
	{
		size_t		step = sequence_length(bytes + at, len - at);

		if (step == 0)
			return at;
		at += step;
	}
	return len;
}

/*
 * Reads all of fd as text, refusing what PostgreSQL's text cannot hold:
 * returns a NUL-terminated buffer and its length, or NULL with the reason
 * (what names the input: "value").  The client checks UTF-8 itself: the
 * server's refusal would quote the bytes.  A usage error is EXIT_USAGE.
 */
char *
read_text(int fd, size_t *len, const char *what, DbError *error)
{
	char	   *text = read_all(fd, len);
	size_t		bad;

	error->status = EXIT_USAGE;
	if (text == NULL)
	{
		error->status = EXIT_FAIL;
		snprintf(error->message, sizeof(error->message),
				 "could not read the %s from standard input", what);
		return NULL;
	}
	if (memchr(text, '\0', *len) != NULL)
		snprintf(error->message, sizeof(error->message),
				 "the %s on standard input contains a NUL byte, which text cannot hold", what);
	else if ((bad = utf8_invalid_offset(text, *len)) < *len)
		snprintf(error->message, sizeof(error->message),
				 "the %s on standard input is not valid UTF-8 (at byte %zu)", what, bad + 1);
	else
		return text;
	wipe_and_free(text, *len);
	return NULL;
}
