/*
 * js_value.c — values between JSON (jansson) and JavaScript (Duktape).
 *
 * Data goes in as JSON.parse would make it.  A result comes out as goja's
 * Export and Go's encoding/json make it in Direktiv: integral numbers up
 * to 2^53 are integers and others float64; a Date is its RFC 3339 time
 * (years 0 to 9999 only); a symbol is its description; a Boolean, Number
 * or Symbol object is its primitive value; a String object, typed array
 * or DataView is its own enumerable properties less its elements, and an
 * ArrayBuffer is {}; undefined inside a value is null; a function, NaN or
 * a cycle is an error.
 *
 * The conversion is bounded as the template is: jansson allocates against
 * the memory limit (the helper sets its allocator), so that a result that
 * refers to one value many times (a = [a, a], forty times over) stops at
 * the limit, not at gigabytes; and it looks at the clock as it goes.
 */
#include <math.h>
#include <stdint.h>
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

/* whether the result is a Date (Direktiv writes it as JSON, quoted, inside text) */
static bool result_is_date;

/* goja keeps an integral number as an int64 up to this magnitude, as a float64 past it */
#define GOJA_MAX_INT	9007199254740992.0

/* the largest array index, and one more: every index */
#define EVERY_INDEX		4294967295.0

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
 * A number as goja exports it: integral values up to 2^53 as integers
 * (goja's int64 values), others (and -0) as floating point, which Go
 * writes in the fewest digits that read back; NaN and the infinities have
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
	if (d == floor(d) && fabs(d) <= GOJA_MAX_INT && !(d == 0 && signbit(d)))
		return made(json_integer((json_int_t) d));
	return made(json_real(d));
}

/* Pushes the built-in method kept under key (js_env.c), and the value at idx as its this. */
static void
push_kept_call(duk_context *ctx, const char *key, duk_idx_t idx)
{
	duk_push_heap_stash(ctx);
	duk_get_prop_string(ctx, -1, key);
	duk_remove(ctx, -2);
	duk_dup(ctx, idx);
}

/*
 * Calls the built-in method kept under key with the value at idx as this,
 * and pushes what it returns.  Unprotected: a method that cannot fail on
 * the value, or whose failure is the template's error.
 */
static void
call_kept(duk_context *ctx, const char *key, duk_idx_t idx)
{
	push_kept_call(ctx, key, idx);
	duk_call_method(ctx, 0);
}

/*
 * Calls a kept valueOf or getTime, which throw a TypeError when this is
 * not of their kind: pushes the primitive value and returns true, or
 * pushes nothing and returns false.  Any other error goes on.
 */
static bool
unwrap_kept(duk_context *ctx, const char *key, duk_idx_t idx)
{
	push_kept_call(ctx, key, idx);
	if (duk_pcall_method(ctx, 0) == DUK_EXEC_SUCCESS)
		return true;
	if (duk_get_error_code(ctx, -1) != DUK_ERR_TYPE_ERROR)
		(void) duk_throw(ctx);
	duk_pop(ctx);
	return false;
}

/* A symbol as goja exports it: its description, empty if it has none. */
static json_t *
symbol_value(duk_context *ctx, duk_idx_t idx)
{
	json_t	   *value;
	duk_size_t	len;

	call_kept(ctx, JS_KEPT_SYMBOL_TO_STRING, idx);	/* "Symbol(description)" */
	len = duk_get_length(ctx, -1);
	duk_substring(ctx, -1, 7, len > 7 ? len - 1 : 7);
	value = text_value(ctx, -1);
	duk_pop(ctx);
	return value;
}

/*
 * A Date (its time value on the stack top) as goja exports it and Go
 * writes a time.Time: RFC 3339 with the fraction's trailing zeros dropped;
 * an invalid Date is nil (null); a year outside 0 to 9999 is Go's
 * MarshalJSON error.  The ISO text comes from the Date prototype's own
 * method, kept in the stash before the template ran.
 */
static json_t *
date_value(duk_context *ctx, duk_idx_t idx, int depth)
{
	char		iso[64];
	char	   *dot;
	size_t		len;

	if (isnan(duk_get_number(ctx, -1)))
		return json_null();
	call_kept(ctx, JS_KEPT_DATE_TO_ISO_STRING, idx);
	snprintf(iso, sizeof(iso), "%s", duk_to_string(ctx, -1));
	duk_pop(ctx);
	/* years outside 0 to 9999 are written with a sign and six digits */
	if (iso[0] == '+' || iso[0] == '-')
	{
		result_problem = "the result holds a Date outside the years 0 to 9999, which JSON cannot represent";
		return NULL;
	}
	if (depth == 0)
		result_is_date = true;
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

/* Whether key is an array index ("0", "17", ...) below limit. */
static bool
index_below(const char *key, duk_size_t len, double limit)
{
	double		n = 0;

	if (len == 0 || len > 10 || (key[0] == '0' && len > 1))
		return false;
	for (duk_size_t i = 0; i < len; i++)
	{
		if (key[i] < '0' || key[i] > '9')
			return false;
		n = n * 10 + (key[i] - '0');
	}
	return n < EVERY_INDEX && n < limit;
}

/*
 * An object's own enumerable properties, less the array indices below
 * skip_below: the characters of a String object and the elements of a
 * typed array, which goja's export does not see.
 */
static json_t *
object_value(duk_context *ctx, duk_idx_t idx, int depth, double skip_below)
{
	json_t	   *result = made(json_object());

	if (result == NULL)
		return NULL;
	duk_enum(ctx, idx, DUK_ENUM_OWN_PROPERTIES_ONLY);
	while (duk_next(ctx, -1, 1))
	{
		json_t	   *member;
		json_t	   *key;
		duk_size_t	key_len;
		const char *key_text = duk_get_lstring(ctx, -2, &key_len);

		if (skip_below > 0 && index_below(key_text, key_len, skip_below))
		{
			duk_pop_2(ctx);
			continue;
		}
		member = to_json(ctx, -1, depth + 1);
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

/* The kept method that takes the primitive value out of an object of this class, or NULL. */
static const char *
unwrapping_method(const char *class)
{
	static const char *const methods[][2] = {
		{"[object Boolean]", JS_KEPT_BOOLEAN_VALUE_OF},
		{"[object Number]", JS_KEPT_NUMBER_VALUE_OF},
		{"[object String]", JS_KEPT_STRING_VALUE_OF},
		{"[object Symbol]", JS_KEPT_SYMBOL_VALUE_OF},
		{"[object Date]", JS_KEPT_DATE_GET_TIME},
	};

	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (class != NULL && strcmp(class, methods[i][0]) == 0)
			return methods[i][1];
	return NULL;
}

/*
 * An object that is not a function or an array, as goja exports it.  Its
 * class (Object.prototype.toString's) says what it may be, and the kept
 * valueOf or getTime confirms it (a class can be claimed through
 * Symbol.toStringTag): a Date is its time; a Boolean, Number or Symbol
 * object is its primitive value; a String object is its properties less
 * its characters.  A typed array or DataView is its properties less its
 * elements, an ArrayBuffer is {} (goja.ArrayBuffer, with no exported
 * fields); anything else is its own enumerable properties.
 */
static json_t *
object_export(duk_context *ctx, duk_idx_t idx, int depth)
{
	const char *method;
	json_t	   *result;
	bool		array_buffer;

	call_kept(ctx, JS_KEPT_OBJECT_TO_STRING, idx);
	method = unwrapping_method(duk_get_string(ctx, -1));
	array_buffer = strcmp(duk_safe_to_string(ctx, -1), "[object ArrayBuffer]") == 0;
	duk_pop(ctx);

	if (duk_is_buffer_data(ctx, idx))
		return array_buffer ? made(json_object()) : object_value(ctx, idx, depth, EVERY_INDEX);
	if (method == NULL || !unwrap_kept(ctx, method, idx))
		return object_value(ctx, idx, depth, 0);
	if (strcmp(method, JS_KEPT_DATE_GET_TIME) == 0)
		result = date_value(ctx, idx, depth);
	else if (strcmp(method, JS_KEPT_STRING_VALUE_OF) == 0)
		result = object_value(ctx, idx, depth, (double) duk_get_length(ctx, -1));
	else
		result = to_json(ctx, -1, depth);
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
			if (duk_is_symbol(ctx, idx))
				return symbol_value(ctx, idx);
			return text_value(ctx, idx);
		case DUK_TYPE_OBJECT:
			if (duk_is_function(ctx, idx))
				break;
			if (duk_is_array(ctx, idx))
				return array_value(ctx, idx, depth);
			return object_export(ctx, idx, depth);
		default:
			break;
	}
	result_problem = "the result holds a function, which JSON cannot represent";
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
 * limit stopped it, else what the result holds that JSON cannot.  A
 * result of null is what goja exports as nil: null, undefined or an
 * invalid Date.  *is_date: the result is a Date, its time as a string.
 */
duk_int_t
js_convert_result(duk_context *ctx, json_t **result, const char **problem, bool *is_date)
{
	duk_int_t	rc;

	*result = NULL;
	result_problem = NULL;
	result_values = 0;
	result_is_date = false;
	rc = duk_safe_call(ctx, convert_top, result, 1, 1);
	*problem = result_problem;
	*is_date = result_is_date;
	return rc;
}
