/*
 * js_text.c — text between UTF-8 and the form Duktape holds strings in.
 *
 * JavaScript strings are UTF-16; Duktape keeps them as UTF-8 with each
 * surrogate encoded on its own (CESU-8).  Data goes in with characters
 * above U+FFFF split into surrogate pairs, so that length and charAt count
 * as in any JavaScript engine; results come out as well-formed UTF-8.
 */
#include <stdint.h>

#include "nsvault.h"
#include "js_internal.h"

/*
 * Appends code point c to a buffer as UTF-8 (as_cesu: a code point above
 * U+FFFF as two encoded surrogates, the way Duktape holds JavaScript's
 * UTF-16 strings).
 */
static void
append_code_point(char **buf, size_t *len, size_t *cap, uint32_t c, bool as_cesu)
{
	char		bytes[4];
	size_t		n;

	if (c >= 0x10000 && as_cesu)
	{
		append_code_point(buf, len, cap, 0xD800 + ((c - 0x10000) >> 10), true);
		append_code_point(buf, len, cap, 0xDC00 + ((c - 0x10000) & 0x3FF), true);
		return;
	}
	if (c < 0x80)
	{
		bytes[0] = c;
		n = 1;
	}
	else if (c < 0x800)
	{
		bytes[0] = 0xC0 | (c >> 6);
		bytes[1] = 0x80 | (c & 0x3F);
		n = 2;
	}
	else if (c < 0x10000)
	{
		bytes[0] = 0xE0 | (c >> 12);
		bytes[1] = 0x80 | ((c >> 6) & 0x3F);
		bytes[2] = 0x80 | (c & 0x3F);
		n = 3;
	}
	else
	{
		bytes[0] = 0xF0 | (c >> 18);
		bytes[1] = 0x80 | ((c >> 12) & 0x3F);
		bytes[2] = 0x80 | ((c >> 6) & 0x3F);
		bytes[3] = 0x80 | (c & 0x3F);
		n = 4;
	}
	json_text_raw_append(buf, len, cap, bytes, n);
}

/*
 * Decodes the code point at s (n bytes left), surrogates included, into
 * *c; returns its length, or 0 for a byte that starts no sequence.
 */
static size_t
decode_code_point(const unsigned char *s, size_t n, uint32_t *c)
{
	size_t		len;

	if (s[0] < 0x80)
		len = 1, *c = s[0];
	else if (s[0] >= 0xC2 && s[0] <= 0xDF)
		len = 2, *c = s[0] & 0x1F;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		len = 3, *c = s[0] & 0x0F;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		len = 4, *c = s[0] & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++)
	{
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		*c = (*c << 6) | (s[i] & 0x3F);
	}
	if ((len == 3 && *c < 0x800) || (len == 4 && (*c < 0x10000 || *c > 0x10FFFF)))
		return 0;
	return len;
}

/*
 * Recodes text between UTF-8 and Duktape's form.  to_cesu: UTF-8 in, a
 * code point above U+FFFF out as a surrogate pair.  Otherwise: surrogate
 * pairs joined, and a lone surrogate or a stray byte becomes U+FFFD, as Go
 * does when a JavaScript string becomes a Go string.  Returns a new
 * buffer (never NULL) and its length.
 */
char *
js_text_recode(const char *text, size_t n, bool to_cesu, size_t *out_len)
{
	const unsigned char *s = (const unsigned char *) text;
	char	   *out = NULL;
	size_t		len = 0;
	size_t		cap = 0;
	size_t		at = 0;

	json_text_raw_append(&out, &len, &cap, "", 0);
	while (at < n)
	{
		uint32_t	c;
		size_t		step = decode_code_point(s + at, n - at, &c);

		if (step == 0)
			c = 0xFFFD, step = 1;
		else if (!to_cesu && c >= 0xD800 && c <= 0xDBFF)
		{
			uint32_t	low;
			size_t		next = (at + step < n) ? decode_code_point(s + at + step, n - at - step, &low) : 0;

			if (next != 0 && low >= 0xDC00 && low <= 0xDFFF)
			{
				c = 0x10000 + ((c - 0xD800) << 10) + (low - 0xDC00);
				step += next;
			}
			else
				c = 0xFFFD;
		}
		else if (!to_cesu && c >= 0xDC00 && c <= 0xDFFF)
			c = 0xFFFD;
		append_code_point(&out, &len, &cap, c, to_cesu);
		at += step;
	}
	*out_len = len;
	return out;
}
