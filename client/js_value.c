/*
 * js_value.c — values between JSON (jansson) and JavaScript (Duktape).
 *
 * Data goes in as JSON.parse would make it.  A result comes out as goja's
 * Export and Go's encoding/json make it in Direktiv: integral numbers that
 * fit in 64 bits are integers, a Date is its RFC 3339 time, undefined
 * inside a value is null, and a function, NaN or a cycle is an error.
 *
 * The conversion is bounded as the template is: jansson allocates against
 * the memory limit (the helper sets its allocator), so that a result that
 * refers to one value many times (a = [a, a], forty times over) stops at
 * the limit, not at gigabytes; and it looks at the clock as it goes.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nsvault.h"
#include "js_internal.h"

/* results nested deeper than this (or cyclic) are refused, as Go's encoder refuses cycles */
#define RESULT_MAX_DEPTH	1000

/* how many values the conversion takes between looks at the clock */
#define RESULT_CLOCK_EVERY	4096

/* js_convert_result's problems that are limits, not the result's form */
const char	js_out_of_time_problem[] = "the time limit was reached";
const char	js_out_of_memory_problem[] = "out of memory";

/* The reason the result could not be converted; NULL while it could. */
static const char *result_problem;

/* the values converted so far */
static unsigned long result_values;

/* Returns a value jansson made, noting that memory ran out if it could not. */
static json_t *
made(json_t *value)
{
	if (value == NULL)
		result_problem = js_out_of_memory_problem;
	return value;
}

void
js_push_text(duk_context *ctx, const char *text, size_t n)
{
	size_t		len;
	char	   *cesu = js_text_recode(text, n, true, &len);

	duk_push_lstring(ctx, cesu, len);
	free(cesu);
}

/* Pushes a JSON value as the JavaScript value JSON.parse would make of it. */
void
js_push_json(duk_context *ctx, const json_t *value)
{
	const char *key;
	json_t	   *member;

	duk_require_stack(ctx, 3);
	switch (json_typeof(value))
	{
		case JSON_OBJECT:
			duk_push_object(ctx);
			json_object_foreach((json_t *) value, key, member)
			{
				js_push_text(ctx, key, strlen(key));
				js_push_json(ctx, member);
				/* defined, not assigned: a key "__proto__" is a property, as JSON.parse makes it */
				duk_def_prop(ctx, -3, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_SET_WEC);
			}
			break;
		case JSON_ARRAY:
			duk_push_array(ctx);
			for (size_t i = 0; i < json_array_size(value); i++)
			{
				js_push_json(ctx, json_array_get(value, i));
				duk_put_prop_index(ctx, -2, (duk_uarridx_t) i);
			}
			break;
		case JSON_STRING:
			js_push_text(ctx, json_string_value(value), json_string_length(value));
			break;
		case JSON_INTEGER:
			duk_push_number(ctx, (double) json_integer_value(value));
			break;
		case JSON_REAL:
			duk_push_number(ctx, json_real_value(value));
			break;
		case JSON_TRUE:
		case JSON_FALSE:
			duk_push_boolean(ctx, json_is_true(value));
			break;
		case JSON_NULL:
			duk_push_null(ctx);
			break;
	}
}

static json_t *
text_value(duk_context *ctx, duk_idx_t idx)
{
	duk_size_t	n;
	const char *s = duk_get_lstring(ctx, idx, &n);
	size_t		len;
	char	   *utf8 = js_text_recode(s, n, false, &len);
	json_t	   *value = made(json_stringn_nocheck(utf8, len));

	free(utf8);
	return value;
}

/*
 * A number as goja exports it: integral values that fit in 64 bits as
 * integers, others (and -0) as floating point; NaN and the infinities have
 * no JSON form.
 */
static json_t *
number_value(double d)
{
	if (isnan(d) || isinf(d))
	{
		result_problem = "the result holds a number that JSON cannot represent (NaN or an infinity)";
		return NULL;
	}
	if (d == floor(d) && fabs(d) < 9223372036854775808.0 && !(d == 0 && signbit(d)))
		return made(json_integer((json_int_t) d));
	return made(json_real(d));
}

/*
 * A Date as Go writes a time.Time: RFC 3339 with the fraction's trailing
 * zeros dropped.  The ISO text comes from the Date prototype's own method,
 * fetched from the stash before the template ran.
 */
static json_t *
date_value(duk_context *ctx, duk_idx_t idx)
{
	char		iso[64];
	char	   *dot;
	size_t		len;

	duk_push_heap_stash(ctx);
	duk_get_prop_string(ctx, -1, JS_STASH_TO_ISO_STRING);
	duk_dup(ctx, idx);
	duk_call_method(ctx, 0);
	snprintf(iso, sizeof(iso), "%s", duk_to_string(ctx, -1));
	duk_pop_2(ctx);
	dot = strchr(iso, '.');
	len = strlen(iso);
	if (dot != NULL && len > 0 && iso[len - 1] == 'Z')
	{
		char	   *end = iso + len - 1;	/* the Z */

		while (end > dot + 1 && end[-1] == '0')
			end--;
		if (end == dot + 1)
			end = dot;
		memmove(end, "Z", 2);
	}
	return made(json_string(iso));
}

static json_t *
to_json(duk_context *ctx, duk_idx_t idx, int depth);

/* An array element by element, holes as null. */
static json_t *
array_value(duk_context *ctx, duk_idx_t idx, int depth)
{
	json_t	   *result = made(json_array());
	duk_size_t	n = duk_get_length(ctx, idx);

	for (duk_size_t i = 0; result != NULL && i < n; i++)
	{
		json_t	   *element;

		duk_get_prop_index(ctx, idx, (duk_uarridx_t) i);
		element = to_json(ctx, -1, depth + 1);
		duk_pop(ctx);
		if (element == NULL)
		{
			json_decref(result);
			return NULL;
		}
		if (json_array_append_new(result, element) != 0)
		{
			json_decref(result);
			return made(NULL);
		}
	}
	return result;
}

/* An object's own enumerable properties. */
static json_t *
object_value(duk_context *ctx, duk_idx_t idx, int depth)
{
	json_t	   *result = made(json_object());

	if (result == NULL)
		return NULL;
	duk_enum(ctx, idx, DUK_ENUM_OWN_PROPERTIES_ONLY);
	while (duk_next(ctx, -1, 1))
	{
		json_t	   *member = to_json(ctx, -1, depth + 1);
		json_t	   *key;

		if (member == NULL)
		{
			json_decref(result);
			return NULL;
		}
		key = text_value(ctx, -2);
		/* on failure, setn_new has freed the member */
		if (key == NULL || json_object_setn_new_nocheck(result, json_string_value(key),
														json_string_length(key), member) != 0)
		{
			if (key == NULL)
				json_decref(member);
			json_decref(key);
			json_decref(result);
			return made(NULL);
		}
		json_decref(key);
		duk_pop_2(ctx);
	}
	duk_pop(ctx);
	return result;
}

/*
 * Converts the value at idx as goja's Export and Go's encoder would: a
 * function, or NaN, has no JSON form; undefined inside a value is null.
 */
static json_t *
to_json(duk_context *ctx, duk_idx_t idx, int depth)
{
	idx = duk_normalize_index(ctx, idx);
	duk_require_stack(ctx, 8);
	if (++result_values % RESULT_CLOCK_EVERY == 0 && js_out_of_time())
	{
		result_problem = js_out_of_time_problem;
		return NULL;
	}
	if (depth > RESULT_MAX_DEPTH)
	{
		result_problem = "the result is nested too deeply, or refers to itself";
		return NULL;
	}
	switch (duk_get_type(ctx, idx))
	{
		case DUK_TYPE_UNDEFINED:
		case DUK_TYPE_NULL:
			return json_null();
		case DUK_TYPE_BOOLEAN:
			return json_boolean(duk_get_boolean(ctx, idx));
		case DUK_TYPE_NUMBER:
			return number_value(duk_get_number(ctx, idx));
		case DUK_TYPE_STRING:
			return text_value(ctx, idx);
		case DUK_TYPE_OBJECT:
			if (duk_is_function(ctx, idx))
				break;
			duk_push_heap_stash(ctx);
			duk_get_prop_string(ctx, -1, JS_STASH_DATE);
			if (duk_instanceof(ctx, idx, -1))
			{
				duk_pop_2(ctx);
				return date_value(ctx, idx);
			}
			duk_pop_2(ctx);
			if (duk_is_array(ctx, idx))
				return array_value(ctx, idx, depth);
			return object_value(ctx, idx, depth);
		default:
			break;
	}
	result_problem = "the result holds a value that JSON cannot represent (a function, a symbol or a buffer)";
	return NULL;
}

/* Converts the value on the stack top; run protected, as getters and proxies run template code. */
static duk_ret_t
convert_top(duk_context *ctx, void *udata)
{
	*(json_t **) udata = to_json(ctx, -1, 0);
	return 0;
}

/*
 * Converts the function's result, on the stack top, to JSON.  Returns
 * DUK_EXEC_ERROR when template code threw (the error on the stack top);
 * else DUK_EXEC_SUCCESS with *result, or with NULL and the reason in
 * *problem: js_out_of_time_problem or js_out_of_memory_problem when a
 * limit stopped it, else what the result holds that JSON cannot.
 */
duk_int_t
js_convert_result(duk_context *ctx, json_t **result, const char **problem)
{
	duk_int_t	rc;

	*result = NULL;
	result_problem = NULL;
	result_values = 0;
	rc = duk_safe_call(ctx, convert_top, result, 1, 1);
	*problem = result_problem;
	return rc;
}
