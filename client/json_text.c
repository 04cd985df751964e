/*
 * json_text.c — compact JSON text: object keys sorted, integral numbers
 * without a fraction, other numbers in their shortest exact form.
 *
 * jansson's own encoder writes reals with 17 significant digits (0.1 as
 * 0.10000000000000001) and keeps 100.0 as "100.0"; Direktiv's engine writes
 * neither, so the client writes JSON itself.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nsvault.h"

/* Appends n raw bytes to a growing buffer. */
void
json_text_raw_append(char **buf, size_t *len, size_t *cap, const char *data, size_t n)
{
	if (*len + n + 1 > *cap)
	{
		size_t		want = *cap ? *cap : 256;
		char	   *bigger;

		while (*len + n + 1 > want)
			want *= 2;
		bigger = realloc(*buf, want);
		if (bigger == NULL)
			die(EXIT_FAIL, "out of memory");
		*buf = bigger;
		*cap = want;
	}
	memcpy(*buf + *len, data, n);
	*len += n;
	(*buf)[*len] = '\0';
}

static void
append_string(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
	json_text_raw_append(buf, len, cap, "\"", 1);
	for (size_t i = 0; i < n; i++)
	{
		unsigned char c = (unsigned char) s[i];
		char		esc[8];

		switch (c)
		{
			case '"':
				json_text_raw_append(buf, len, cap, "\\\"", 2);
				break;
			case '\\':
				json_text_raw_append(buf, len, cap, "\\\\", 2);
				break;
			case '\n':
				json_text_raw_append(buf, len, cap, "\\n", 2);
				break;
			case '\r':
				json_text_raw_append(buf, len, cap, "\\r", 2);
				break;
			case '\t':
				json_text_raw_append(buf, len, cap, "\\t", 2);
				break;
			default:
				/* as Go's json.Marshal: the rest of C0, and <, > and & */
				if (c < 0x20 || c == '<' || c == '>' || c == '&')
				{
					snprintf(esc, sizeof(esc), "\\u%04x", c);
					json_text_raw_append(buf, len, cap, esc, 6);
				}
				/* U+2028 and U+2029, which end a line in JavaScript */
				else if (c == 0xe2 && i + 2 < n && (unsigned char) s[i + 1] == 0x80 &&
						 ((unsigned char) s[i + 2] == 0xa8 || (unsigned char) s[i + 2] == 0xa9))
				{
					json_text_raw_append(buf, len, cap,
										 (unsigned char) s[i + 2] == 0xa8 ? "\\u2028" : "\\u2029", 6);
					i += 2;
				}
				else
					json_text_raw_append(buf, len, cap, (const char *) &s[i], 1);
		}
	}
	json_text_raw_append(buf, len, cap, "\"", 1);
}

/*
 * Puts into digits the fewest significant digits of d (finite, not 0) that
 * read back exactly, without trailing zeros; returns how many, and sets
 * *exponent to the power of ten of the first.
 */
static int
shortest_digits(double d, char *digits, int *exponent)
{
	char		text[64];
	int			ndigits = 0;

	for (int precision = 1; precision <= 17; precision++)
	{
		snprintf(text, sizeof(text), "%.*e", precision - 1, d);
		if (strtod(text, NULL) == d)
			break;
	}
	for (const char *p = text; *p && *p != 'e'; p++)
		if (*p >= '0' && *p <= '9')
			digits[ndigits++] = *p;
	*exponent = atoi(strchr(text, 'e') + 1);
	while (ndigits > 1 && digits[ndigits - 1] == '0')
		ndigits--;
	return ndigits;
}

/* Writes digits as d.ddde-7 or d.ddde+21 into text; returns the length. */
static int
exponent_form(char *text, size_t size, const char *digits, int ndigits, int exponent)
{
	int			out = 0;

	text[out++] = digits[0];
	if (ndigits > 1)
	{
		text[out++] = '.';
		memcpy(text + out, digits + 1, ndigits - 1);
		out += ndigits - 1;
	}
	/* encoding/json writes e-07 as e-7, and e+21 as it is */
	out += snprintf(text + out, size - out, "e%c%0*d", exponent < 0 ? '-' : '+',
					exponent < 0 ? 1 : 2, abs(exponent));
	return out;
}

/* Writes digits in plain notation (0.000123, 12.5, 1200) into text; returns the length. */
static int
plain_form(char *text, const char *digits, int ndigits, int exponent)
{
	int			out = 0;

	if (exponent >= ndigits - 1)
	{
		memcpy(text, digits, ndigits);
		out = ndigits;
		for (int i = 0; i < exponent - (ndigits - 1); i++)
			text[out++] = '0';
	}
	else if (exponent >= 0)
	{
		memcpy(text, digits, exponent + 1);
		out = exponent + 1;
		text[out++] = '.';
		memcpy(text + out, digits + exponent + 1, ndigits - exponent - 1);
		out += ndigits - exponent - 1;
	}
	else
	{
		text[out++] = '0';
		text[out++] = '.';
		for (int i = 0; i < -exponent - 1; i++)
			text[out++] = '0';
		memcpy(text + out, digits, ndigits);
		out += ndigits;
	}
	return out;
}

/*
 * Formats a double as Go's encoding/json writes a float64, which is what
 * Direktiv puts into text: the fewest digits that read back exactly, in
 * plain notation for 1e-6 <= |d| < 1e21 (and 0), else as d.ddde-7 or
 * d.ddde+21.
 */
static void
append_real(char **buf, size_t *len, size_t *cap, double d)
{
	char		text[64];
	char		digits[32];
	int			ndigits;
	int			exponent;
	int			out = 0;

	if (isnan(d))
	{
		json_text_raw_append(buf, len, cap, "null", 4);
		return;
	}
	if (isinf(d))
		d = d > 0 ? 1.7976931348623157e308 : -1.7976931348623157e308;
	if (d == 0)
	{
		json_text_raw_append(buf, len, cap, signbit(d) ? "-0" : "0", signbit(d) ? 2 : 1);
		return;
	}
	ndigits = shortest_digits(d, digits, &exponent);
	if (d < 0)
		text[out++] = '-';
	if (fabs(d) < 1e-6 || fabs(d) >= 1e21)
		out += exponent_form(text + out, sizeof(text) - out, digits, ndigits, exponent);
	else
		out += plain_form(text + out, digits, ndigits, exponent);
	json_text_raw_append(buf, len, cap, text, out);
}

static int
compare_keys(const void *a, const void *b)
{
	return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* Appends the compact text of value to a growing buffer. */
void
json_text_append(const json_t *value, char **buf, size_t *len, size_t *cap)
{
	char		text[32];

	switch (json_typeof(value))
	{
		case JSON_NULL:
			json_text_raw_append(buf, len, cap, "null", 4);
			break;
		case JSON_TRUE:
			json_text_raw_append(buf, len, cap, "true", 4);
			break;
		case JSON_FALSE:
			json_text_raw_append(buf, len, cap, "false", 5);
			break;
		case JSON_INTEGER:
			snprintf(text, sizeof(text), "%" JSON_INTEGER_FORMAT, json_integer_value(value));
			json_text_raw_append(buf, len, cap, text, strlen(text));
			break;
		case JSON_REAL:
			append_real(buf, len, cap, json_real_value(value));
			break;
		case JSON_STRING:
			append_string(buf, len, cap, json_string_value(value), json_string_length(value));
			break;
		case JSON_ARRAY:
			json_text_raw_append(buf, len, cap, "[", 1);
			for (size_t i = 0; i < json_array_size(value); i++)
			{
				if (i > 0)
					json_text_raw_append(buf, len, cap, ",", 1);
				json_text_append(json_array_get(value, i), buf, len, cap);
			}
			json_text_raw_append(buf, len, cap, "]", 1);
			break;
		case JSON_OBJECT:
			{
				size_t		n = json_object_size(value);
				const char **keys = malloc(sizeof(char *) * (n ? n : 1));
				const char *key;
				json_t	   *member;
				size_t		i = 0;

				if (keys == NULL)
					die(EXIT_FAIL, "out of memory");
				json_object_foreach((json_t *) value, key, member)
					keys[i++] = key;
				qsort(keys, n, sizeof(char *), compare_keys);
				json_text_raw_append(buf, len, cap, "{", 1);
				for (i = 0; i < n; i++)
				{
					if (i > 0)
						json_text_raw_append(buf, len, cap, ",", 1);
					append_string(buf, len, cap, keys[i], strlen(keys[i]));
					json_text_raw_append(buf, len, cap, ":", 1);
					json_text_append(json_object_get(value, keys[i]), buf, len, cap);
				}
				json_text_raw_append(buf, len, cap, "}", 1);
				free(keys);
			}
			break;
	}
}

/* Returns the compact text of value in a malloc'd string. */
char *
json_text(const json_t *value)
{
	char	   *buf = NULL;
	size_t		len = 0;
	size_t		cap = 0;

	json_text_append(value, &buf, &len, &cap);
	return buf;
}
