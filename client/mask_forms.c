/*
 * mask_forms.c — the forms in which a secret value can appear in output,
 * as the patterns the masker looks for.
 *
 * GitHub Actions' runner masks a value, each line of a multi-line value,
 * its base64 at each byte alignment and its escaped forms; so do we.  A
 * pattern shorter than the minimum length is left out: masking every "abc"
 * in a log hides more than it protects.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "masker.h"
#include "nsvault.h"

struct MaskPatterns
{
	char	  **text;
	size_t	   *len;
	size_t		count;
	size_t		cap;
	size_t		value_first;	/* the first pattern of the value being added */
};

MaskPatterns *
mask_patterns_new(void)
{
	MaskPatterns *patterns = calloc(1, sizeof(MaskPatterns));

	if (patterns == NULL)
		die(EXIT_FAIL, "out of memory");
	return patterns;
}

/* Adds one pattern as it is; an empty one matches nothing and is dropped. */
void
mask_patterns_add(MaskPatterns *patterns, const char *text, size_t len)
{
	char	   *copy;

	if (len == 0)
		return;
	if (patterns->count == patterns->cap)
	{
		size_t		cap = patterns->cap ? patterns->cap * 2 : 16;
		char	  **texts = realloc(patterns->text, cap * sizeof(char *));
		size_t	   *lens = texts ? realloc(patterns->len, cap * sizeof(size_t)) : NULL;

		if (lens == NULL)
			die(EXIT_FAIL, "out of memory");
		patterns->text = texts;
		patterns->len = lens;
		patterns->cap = cap;
	}
	copy = malloc(len);
	if (copy == NULL)
		die(EXIT_FAIL, "out of memory");
	memcpy(copy, text, len);
	patterns->text[patterns->count] = copy;
	patterns->len[patterns->count++] = len;
}

size_t
mask_patterns_count(const MaskPatterns *patterns)
{
	return patterns->count;
}

/* Pattern i, for the automaton and the tests. */
const char *
mask_pattern_text(const MaskPatterns *patterns, size_t i, size_t *len)
{
	*len = patterns->len[i];
	return patterns->text[i];
}

void
mask_patterns_free(MaskPatterns *patterns)
{
	if (patterns == NULL)
		return;
	for (size_t i = 0; i < patterns->count; i++)
		wipe_and_free(patterns->text[i], patterns->len[i]);
	free(patterns->text);
	free(patterns->len);
	free(patterns);
}

/* A buffer for one encoding, wiped once added. */
typedef struct Form
{
	char	   *buf;
	size_t		len;
} Form;

static Form
form_new(size_t cap)
{
	Form		form = {malloc(cap ? cap : 1), 0};

	if (form.buf == NULL)
		die(EXIT_FAIL, "out of memory");
	return form;
}

/* Whether the value being added has this form already (many encoders agree). */
static bool
form_known(const MaskPatterns *patterns, const Form *form)
{
	for (size_t i = patterns->value_first; i < patterns->count; i++)
		if (patterns->len[i] == form->len && memcmp(patterns->text[i], form->buf, form->len) == 0)
			return true;
	return false;
}

/* Adds the form if it is long enough and new, then wipes it. */
static void
form_add(MaskPatterns *patterns, Form *form, size_t min_length)
{
	if (form->len >= min_length && !form_known(patterns, form))
		mask_patterns_add(patterns, form->buf, form->len);
	wipe_and_free(form->buf, form->len);
	form->buf = NULL;
}

static const char hex_upper[] = "0123456789ABCDEF";
static const char hex_lower[] = "0123456789abcdef";

/*
 * The base64 of the value preceded by align bytes, in both alphabets: only
 * the characters that the value's bits alone decide, so that the value is
 * found inside a longer base64 text whatever comes before or after it.  At
 * alignment 0 the whole encoding, padded and not, is added too, so that a
 * value encoded alone is masked to its last character.
 */
static void
add_base64(MaskPatterns *patterns, const unsigned char *value, size_t len,
		   size_t align, size_t min_length)
{
	static const char *const alphabets[] = {
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	};
	size_t		bits = 8 * (align + len);
	size_t		first = (8 * align + 5) / 6;
	size_t		last = bits / 6;	/* the characters [first, last) are stable */
	size_t		full = (bits + 5) / 6;	/* with the last, partial character */

	for (int a = 0; a < 2; a++)
	{
		Form		form = form_new(full + 2);

		for (size_t k = 0; k < full; k++)
		{
			unsigned	sextet = 0;

			for (size_t b = 6 * k; b < 6 * k + 6; b++)
			{
				size_t		byte = b / 8;
				unsigned	bit = 0;

				if (byte >= align && byte < align + len)
					bit = (value[byte - align] >> (7 - b % 8)) & 1;
				sextet = (sextet << 1) | bit;
			}
			form.buf[k] = alphabets[a][sextet];
		}
		if (align == 0 && full > last)
		{
			Form		whole = form_new(full + 2);

			memcpy(whole.buf, form.buf, full);
			whole.len = full;
			while (whole.len % 4 != 0)
				whole.buf[whole.len++] = '=';
			form_add(patterns, &whole, min_length);
			whole = form_new(full);
			memcpy(whole.buf, form.buf, full);
			whole.len = full;
			form_add(patterns, &whole, min_length);
		}
		memmove(form.buf, form.buf + first, last > first ? last - first : 0);
		form.len = last > first ? last - first : 0;
		form_add(patterns, &form, min_length);
	}
}

/* Appends \u followed by four lowercase hex digits. */
static void
json_u_escape(Form *form, unsigned code)
{
	form->buf[form->len++] = '\\';
	form->buf[form->len++] = 'u';
	for (int shift = 12; shift >= 0; shift -= 4)
		form->buf[form->len++] = hex_lower[(code >> shift) & 0xF];
}

/* Decodes one UTF-8 sequence at s (n bytes left); returns its length, or 0. */
static size_t
utf8_decode(const unsigned char *s, size_t n, unsigned *code)
{
	size_t		len = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC0 ? 2 : 0;

	if (len == 0 || len > n || utf8_invalid_offset((const char *) s, len) != len)
		return 0;
	*code = s[0] & (0x7F >> len);
	for (size_t i = 1; i < len; i++)
		*code = (*code << 6) | (s[i] & 0x3F);
	return len;
}

/*
 * Escapes a non-ASCII character as ensure_ascii writers (Python's json,
 * jq -a) do; returns the bytes it took, or 0 for invalid UTF-8.
 */
static size_t
json_ascii_escape(Form *form, const unsigned char *s, size_t n)
{
	unsigned	code;
	size_t		used = utf8_decode(s, n, &code);

	if (used == 0)
		return 0;
	if (code >= 0x10000)
	{
		code -= 0x10000;
		json_u_escape(form, 0xD800 | (code >> 10));
		json_u_escape(form, 0xDC00 | (code & 0x3FF));
	}
	else
		json_u_escape(form, code);
	return used;
}

/*
 * How a JSON writer escapes a string, beyond what every writer escapes
 * (", \, and the controls below U+0020: \n \r \t, and the rest as \u00XX).
 */
typedef struct JsonStyle
{
	bool		short_bf;		/* \b and \f, not \u0008 and \u000c */
	bool		del;			/* DEL as \u007f */
	bool		ascii;			/* every non-ASCII character as \uXXXX */
	bool		html;			/* <, > and & as \u003c, \u003e, \u0026 */
	bool		line_separators;	/* U+2028 and U+2029 as \u2028, \u2029 */
} JsonStyle;

/*
 * The JSON writers whose escapes are masked, and what each writes; docs/
 * client.md lists them, and test/mask_encoders.py checks each against the
 * tool itself.
 */
static const JsonStyle json_styles[] = {
	/* jansson, Python with ensure_ascii=False, JavaScript's JSON.stringify */
	{.short_bf = true},
	/* jq */
	{.short_bf = true, .del = true},
	/* Python's default (ensure_ascii), jq -a */
	{.short_bf = true, .del = true, .ascii = true},
	/* Go's encoding/json from 1.22, and before it */
	{.short_bf = true, .html = true, .line_separators = true},
	{.html = true, .line_separators = true},
	/* the same with SetEscapeHTML(false) */
	{.short_bf = true, .line_separators = true},
	{.line_separators = true},
};

/* Appends the escape of s[0] in style; returns the bytes it took, or 0. */
static size_t
json_escape_one(Form *form, const unsigned char *s, size_t n, const JsonStyle *style)
{
	static const char short_escapes[] = "\"\"\\\\\nn\rr\tt";
	const char *esc = memchr(short_escapes, s[0], sizeof(short_escapes) - 1);

	if (s[0] != 0 && esc != NULL && (esc - short_escapes) % 2 == 0)
	{
		form->buf[form->len++] = '\\';
		form->buf[form->len++] = esc[1];
	}
	else if (style->short_bf && (s[0] == '\b' || s[0] == '\f'))
	{
		form->buf[form->len++] = '\\';
		form->buf[form->len++] = s[0] == '\b' ? 'b' : 'f';
	}
	else if (s[0] < 0x20 || (style->del && s[0] == 0x7F) ||
			 (style->html && s[0] != 0 && strchr("<>&", s[0])))
		json_u_escape(form, s[0]);
	else if (style->line_separators && n >= 3 && s[0] == 0xE2 && s[1] == 0x80 &&
			 (s[2] == 0xA8 || s[2] == 0xA9))
	{
		json_u_escape(form, 0x2028 + (s[2] - 0xA8));
		return 3;
	}
	else if (style->ascii && s[0] >= 0x80)
		return json_ascii_escape(form, s, n);
	else
		form->buf[form->len++] = s[0];
	return 1;
}

/* The value as the inside of a JSON string; nothing for invalid UTF-8 in ASCII style. */
static void
add_json(MaskPatterns *patterns, const unsigned char *value, size_t len,
		 const JsonStyle *style, size_t min_length)
{
	Form		form = form_new(12 * len);

	for (size_t i = 0; i < len;)
	{
		size_t		used = json_escape_one(&form, value + i, len - i, style);

		if (used == 0)
		{
			form.len = 0;
			break;
		}
		i += used;
	}
	form_add(patterns, &form, min_length);
}

/*
 * How a percent-encoder writes a value: the characters besides letters and
 * digits that it leaves as they are, and whether a space is "+".  Every one
 * writes its hex digits in capitals.
 */
typedef struct PercentStyle
{
	const char *kept;
	bool		plus;
} PercentStyle;

/*
 * The percent-encoders whose output is masked, and what each leaves
 * (docs/client.md lists them; test/mask_encoders.py checks each against
 * the tool itself).
 */
static const PercentStyle percent_styles[] = {
	/* RFC 3986's unreserved: Python's quote(safe=""), jq 1.7's @uri, .NET's EscapeDataString */
	{"-._~", false},
	/* Python's quote_plus, Go's url.QueryEscape and url.Values.Encode */
	{"-._~", true},
	/* Python's quote with its default safe="/" */
	{"-._~/", false},
	/* JavaScript's encodeURIComponent, Node's querystring.escape, jq 1.6's @uri */
	{"-._~!*'()", false},
	/* JavaScript's encodeURI */
	{"-._~!*'();/?:@&=+$,#", false},
	/* URLSearchParams (HTML forms), Java's URLEncoder */
	{"-._*", true},
	/* Go's url.PathEscape */
	{"-._~$&+:=@", false},
	/* Go's url.UserPassword in a URL (a password in a connection URL) */
	{"-._~$&+,;=", false},
	/* Go's url.URL path (EscapedPath) */
	{"-._~$&+,/:;=@", false},
};

/* The value percent-encoded in style. */
static void
add_percent(MaskPatterns *patterns, const unsigned char *value, size_t len,
			const PercentStyle *style, size_t min_length)
{
	Form		form = form_new(3 * len);

	for (size_t i = 0; i < len; i++)
	{
		unsigned char c = value[i];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			(c != 0 && strchr(style->kept, c)))
			form.buf[form.len++] = c;
		else if (style->plus && c == ' ')
			form.buf[form.len++] = '+';
		else
		{
			form.buf[form.len++] = '%';
			form.buf[form.len++] = hex_upper[c >> 4];
			form.buf[form.len++] = hex_upper[c & 0xF];
		}
	}
	form_add(patterns, &form, min_length);
}

/*
 * Adds each line of a multi-line value (without its CR); reports whether a
 * line that is not empty was too short.
 */
static bool
add_lines(MaskPatterns *patterns, const char *value, size_t len, size_t min_length)
{
	const char *end = value + len;
	bool		some_short = false;

	if (memchr(value, '\n', len) == NULL)
		return false;
	for (const char *line = value;;)
	{
		const char *nl = memchr(line, '\n', end - line);
		size_t		n = (nl ? nl : end) - line;

		if (n > 0 && line[n - 1] == '\r')
			n--;
		if (n >= min_length)
			mask_patterns_add(patterns, line, n);
		else if (n > 0)
			some_short = true;
		if (nl == NULL)
			break;
		line = nl + 1;
	}
	return some_short;
}

/* Adds every form of a secret value that is at least min_length bytes long. */
MaskShort
mask_patterns_add_value(MaskPatterns *patterns, const char *value, size_t len,
						size_t min_length)
{
	const unsigned char *v = (const unsigned char *) value;

	if (min_length == 0)
		min_length = 1;
	if (len < min_length)
		return MASK_SHORT_VALUE;
	patterns->value_first = patterns->count;
	mask_patterns_add(patterns, value, len);
	for (size_t align = 0; align < 3; align++)
		add_base64(patterns, v, len, align, min_length);
	for (size_t i = 0; i < sizeof(json_styles) / sizeof(json_styles[0]); i++)
		add_json(patterns, v, len, &json_styles[i], min_length);
	for (size_t i = 0; i < sizeof(percent_styles) / sizeof(percent_styles[0]); i++)
		add_percent(patterns, v, len, &percent_styles[i], min_length);
	return add_lines(patterns, value, len, min_length) ? MASK_SHORT_LINES : MASK_SHORT_NONE;
}
