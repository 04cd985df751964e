/*
 * js_env.c — the global object a js(...) expression sees.
 *
 * ECMAScript's built-ins as Duktape 2.7 has them, less Duktape's own
 * additions, plus atob and btoa as Direktiv provides them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nsvault.h"
#include "js_internal.h"

/* atob and btoa, as Direktiv provides them: base64 of the UTF-8 text. */
static const char base64_alphabet[] =
"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static duk_ret_t
js_btoa(duk_context *ctx)
{
	duk_size_t	n;
	const char *s = duk_require_lstring(ctx, 0, &n);
	size_t		len;
	unsigned char *bytes = (unsigned char *) js_text_recode(s, n, false, &len);
	char	   *out = malloc(4 * ((len + 2) / 3) + 1);
	char	   *p = out;

	if (out == NULL)
	{
		free(bytes);
		return duk_error(ctx, DUK_ERR_RANGE_ERROR, "out of memory");
	}
	for (size_t i = 0; i < len; i += 3)
	{
		uint32_t	v = (uint32_t) bytes[i] << 16;

		v |= (i + 1 < len) ? (uint32_t) bytes[i + 1] << 8 : 0;
		v |= (i + 2 < len) ? bytes[i + 2] : 0;
		*p++ = base64_alphabet[(v >> 18) & 63];
		*p++ = base64_alphabet[(v >> 12) & 63];
		*p++ = (i + 1 < len) ? base64_alphabet[(v >> 6) & 63] : '=';
		*p++ = (i + 2 < len) ? base64_alphabet[v & 63] : '=';
	}
	duk_push_lstring(ctx, out, p - out);
	free(out);
	free(bytes);
	return 1;
}

static duk_ret_t
js_atob(duk_context *ctx)
{
	duk_size_t	n;
	const char *s = duk_require_lstring(ctx, 0, &n);
	unsigned char *out;
	size_t		len = 0;

	if (n % 4 != 0)
		return duk_error(ctx, DUK_ERR_TYPE_ERROR, "atob: the argument is not base64");
	out = malloc(n / 4 * 3 + 1);
	if (out == NULL)
		return duk_error(ctx, DUK_ERR_RANGE_ERROR, "out of memory");
	for (size_t i = 0; i < n; i += 4)
	{
		uint32_t	v = 0;
		int			pad = 0;

		for (int j = 0; j < 4; j++)
		{
			const char *at = (s[i + j] == '\0') ? NULL : strchr(base64_alphabet, s[i + j]);

			/* "=" only at the end: the last one, or the last two */
			if (s[i + j] == '=' && i + 4 == n && j >= 2 && (j == 3 || s[i + 3] == '='))
				pad++;
			else if (at == NULL || pad > 0)
			{
				free(out);
				return duk_error(ctx, DUK_ERR_TYPE_ERROR, "atob: the argument is not base64");
			}
			v = (v << 6) | (at ? (uint32_t) (at - base64_alphabet) : 0);
		}
		out[len++] = v >> 16;
		if (pad < 2)
			out[len++] = (v >> 8) & 0xFF;
		if (pad < 1)
			out[len++] = v & 0xFF;
	}
	js_push_text(ctx, (const char *) out, len);
	free(out);
	return 1;
}

/*
 * Duktape's additions to the global object that goja has not: a template
 * written for Direktiv does not use them, and performance.now() is a
 * fine timer no template needs.
 */
static const char *const removed_globals[] = {
	"Duktape", "CBOR", "Buffer", "TextEncoder", "TextDecoder", "performance"
};

/* The built-in methods the result's conversion calls (js_value.c), by constructor and name */
static const struct
{
	const char *constructor;
	const char *method;
	const char *key;
}			kept_methods[] = {
	{"Object", "toString", JS_KEPT_OBJECT_TO_STRING},
	{"Date", "getTime", JS_KEPT_DATE_GET_TIME},
	{"Date", "toISOString", JS_KEPT_DATE_TO_ISO_STRING},
	{"Boolean", "valueOf", JS_KEPT_BOOLEAN_VALUE_OF},
	{"Number", "valueOf", JS_KEPT_NUMBER_VALUE_OF},
	{"String", "valueOf", JS_KEPT_STRING_VALUE_OF},
	{"Symbol", "valueOf", JS_KEPT_SYMBOL_VALUE_OF},
	{"Symbol", "toString", JS_KEPT_SYMBOL_TO_STRING},
};

/*
 * Sets up the global object: the built-in methods the conversion calls
 * are kept in the stash before any template code can replace them;
 * Duktape's additions go; atob and btoa come in, as Direktiv provides them.
 */
void
js_prepare_globals(duk_context *ctx)
{
	duk_push_heap_stash(ctx);
	for (size_t i = 0; i < sizeof(kept_methods) / sizeof(kept_methods[0]); i++)
	{
		duk_get_global_string(ctx, kept_methods[i].constructor);
		duk_get_prop_string(ctx, -1, "prototype");
		duk_get_prop_string(ctx, -1, kept_methods[i].method);
		duk_put_prop_string(ctx, -4, kept_methods[i].key);
		duk_pop_2(ctx);
	}
	duk_pop(ctx);

	duk_push_global_object(ctx);
	for (size_t i = 0; i < sizeof(removed_globals) / sizeof(removed_globals[0]); i++)
		duk_del_prop_string(ctx, -1, removed_globals[i]);
	duk_push_c_function(ctx, js_atob, 1);
	duk_put_prop_string(ctx, -2, "atob");
	duk_push_c_function(ctx, js_btoa, 1);
	duk_put_prop_string(ctx, -2, "btoa");
	duk_pop(ctx);
}
