/*
 * js_internal.h — declarations shared by the modules of js(...) evaluation.
 */
#ifndef NSVAULT_JS_INTERNAL_H
#define NSVAULT_JS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <duktape.h>
#include <jansson.h>

/*
 * Heap stash keys of the built-in methods the result's conversion calls,
 * kept there (js_env.c) before any template code can replace them.
 */
#define JS_KEPT_OBJECT_TO_STRING	"Object.prototype.toString"
#define JS_KEPT_DATE_GET_TIME		"Date.prototype.getTime"
#define JS_KEPT_DATE_TO_ISO_STRING	"Date.prototype.toISOString"
#define JS_KEPT_BOOLEAN_VALUE_OF	"Boolean.prototype.valueOf"
#define JS_KEPT_NUMBER_VALUE_OF		"Number.prototype.valueOf"
#define JS_KEPT_STRING_VALUE_OF		"String.prototype.valueOf"
#define JS_KEPT_SYMBOL_VALUE_OF		"Symbol.prototype.valueOf"
#define JS_KEPT_SYMBOL_TO_STRING	"Symbol.prototype.toString"

/* js_text.c */
extern char *js_text_recode(const char *text, size_t n, bool to_cesu, size_t *out_len);

/* js_value.c */
extern void js_push_text(duk_context *ctx, const char *text, size_t n);
extern void js_push_json(duk_context *ctx, const json_t *value);
extern duk_int_t js_convert_result(duk_context *ctx, json_t **result, const char **problem,
								   bool *is_date);
extern const char js_out_of_time_problem[];
extern const char js_out_of_memory_problem[];

/* js_helper.c */
extern bool js_out_of_time(void);

/* js_env.c */
extern void js_prepare_globals(duk_context *ctx);

#endif							/* NSVAULT_JS_INTERNAL_H */
