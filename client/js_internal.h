/*
 * js_internal.h — declarations shared by the modules of js(...) evaluation.
 */
#ifndef NSVAULT_JS_INTERNAL_H
#define NSVAULT_JS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <duktape.h>
#include <jansson.h>

/* heap stash keys of the built-ins the result conversion relies on */
#define JS_STASH_DATE			"Date"
#define JS_STASH_TO_ISO_STRING	"toISOString"

/* js_text.c */
extern char *js_text_recode(const char *text, size_t n, bool to_cesu, size_t *out_len);

/* js_value.c */
extern void js_push_text(duk_context *ctx, const char *text, size_t n);
extern void js_push_json(duk_context *ctx, const json_t *value);
extern duk_int_t js_convert_result(duk_context *ctx, json_t **result, const char **problem);
extern const char js_out_of_time_problem[];
extern const char js_out_of_memory_problem[];

/* js_helper.c */
extern bool js_out_of_time(void);

/* js_env.c */
extern void js_prepare_globals(duk_context *ctx);

#endif							/* NSVAULT_JS_INTERNAL_H */
