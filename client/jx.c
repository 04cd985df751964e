/*
 * jx.c — structured JX evaluation: the seed engine's action-input templates.
 *
 * A template is any JSON value.  null, booleans and numbers are returned as
 * they are, arrays element by element, objects value by value (keys are
 * never evaluated).  A string is trimmed, then scanned for jq(...) : a
 * string that is exactly one jq(...) becomes the expression's value, with
 * its type; otherwise literal text and results are concatenated, strings
 * raw and anything else as compact JSON.  Each expression must give
 * exactly one output that is not null.
 *
 * Compiling a jq program costs about 22 ms in libjq 1.6 (it parses and
 * binds all its jq-defined builtins each time), so programs are compiled
 * once and kept, and plain paths such as .secrets.token are looked up
 * directly without jq at all.  A batch stages the templates of a window
 * first (jx_stage), and the new expressions among them are compiled
 * together, up to GROUP_MAX to one jq program that picks the expression by
 * an index passed beside the data: the builtins' cost is paid once a group.
 * Programs are wrapped so that env and $ENV are {}, stderr and debug print
 * nothing, and import or include are syntax errors: a template cannot read
 * the environment, files, or leak the data to stderr.
 *
 * Errors name where in the template they happened and a fixed kind, never
 * jq's runtime message: error(.secrets.token), tonumber, "cannot add" and
 * the like quote the data, and the data holds the secrets.  A compile
 * error keeps jq's message: it comes from the template text alone.
 */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jq.h>
#include <jv.h>

#include "nsvault.h"

/*
 * What jq could reach beyond the template's data is shadowed.  input and
 * inputs read further inputs, which a template has none of: libjq 1.6
 * leaves their callback unset (a crash), so they fail here, and the
 * callback is set besides.
 */
#define PROGRAM_PRELUDE \
	"def env: {}; def stderr: .; def debug: .; def input_filename: null; " \
	"def get_search_list: []; def modulemeta: error; " \
	"def input: error(\"no input\"); def inputs: input; {} as $ENV | ("
#define PROGRAM_EPILOGUE	"\n)"
#define RUNTIME_ERROR	"jq: error " HIDDEN_MESSAGE

/*
 * What the cache keeps before it starts again: jq states, and expressions
 * (a group's expressions share one state).  The table of expressions has
 * twice as many slots, so that probes stay short.
 */
#define PROGRAM_CACHE_MAX	256
#define EXPRESSION_CACHE_MAX	4096
#define EXPRESSION_SLOTS	(2 * EXPRESSION_CACHE_MAX)

/*
 * A group's bounds.  libjq 1.6 keeps branch offsets in 16 bits: a group's
 * text stays far below what could compile to 65,536 instructions, and a
 * longer expression is compiled alone.
 */
#define GROUP_MAX			64
#define GROUP_TEXT_MAX		4096
#define GROUPED_EXPRESSION_MAX	512
#define STAGED_MAX			1024

/* A compiled jq program: one expression's, or a group's. */
typedef struct Program
{
	jq_state   *jq;
	int			size;			/* 1: the input is the data; more: [index, data] */
} Program;

/* An expression's entry in the cache. */
typedef struct Compiled
{
	char	   *text;
	Program    *program;		/* NULL when it did not compile */
	int			index;			/* its place in program's group */
	char	   *compile_error;	/* NULL when it compiled */
} Compiled;

static Program *program_cache[PROGRAM_CACHE_MAX];
static int	program_count = 0;
static Compiled *expression_slots[EXPRESSION_SLOTS];
static int	expression_count = 0;

/* the expressions of a batch window that are still to compile */
static char *staged[STAGED_MAX];
static int	staged_count = 0;

/* The state of one evaluation. */
typedef struct Eval
{
	const json_t *data;
	jv			data_jv;		/* data for jq, converted on first need */
	bool		have_data_jv;
	char	   *path;			/* where in the template, e.g. input.headers.x */
	size_t		path_len;
	size_t		path_cap;
	char	   *error;
	size_t		error_len;
	bool		failed;
} Eval;

static void
fail(Eval *ev, const char *fmt,...)
{
	va_list		ap;
	int			n;

	if (ev->failed)
		return;
	ev->failed = true;
	n = snprintf(ev->error, ev->error_len, "%s: ", ev->path);
	if (n < 0 || (size_t) n >= ev->error_len)
		return;
	va_start(ap, fmt);
	vsnprintf(ev->error + n, ev->error_len - n, fmt, ap);
	va_end(ap);
}

static void
path_push(Eval *ev, const char *fmt,...)
{
	va_list		ap;
	char		part[512];
	size_t		n;

	va_start(ap, fmt);
	vsnprintf(part, sizeof(part), fmt, ap);
	va_end(ap);
	n = strlen(part);
	if (ev->path_len + n + 1 > ev->path_cap)
	{
		ev->path_cap = (ev->path_len + n + 1) * 2;
		ev->path = realloc(ev->path, ev->path_cap);
		if (ev->path == NULL)
			die(EXIT_FAIL, "out of memory");
	}
	memcpy(ev->path + ev->path_len, part, n + 1);
	ev->path_len += n;
}

static void
path_pop(Eval *ev, size_t len)
{
	ev->path_len = len;
	ev->path[len] = '\0';
}

static int
compare_key_pointers(const void *a, const void *b)
{
	return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/*
 * Converts a jansson value to jq's.  Object keys go in sorted, as gojq
 * (Direktiv's jq) iterates them: .[], to_entries and tojson see that order.
 */
static jv
to_jv(const json_t *value)
{
	const char *key;
	json_t	   *member;
	jv			result;
	const char **keys;
	size_t		n = 0;

	switch (json_typeof(value))
	{
		case JSON_OBJECT:
			keys = malloc(sizeof(char *) * (json_object_size(value) + 1));
			if (keys == NULL)
				die(EXIT_FAIL, "out of memory");
			json_object_foreach((json_t *) value, key, member)
				keys[n++] = key;
			qsort(keys, n, sizeof(char *), compare_key_pointers);
			result = jv_object();
			for (size_t i = 0; i < n; i++)
				result = jv_object_set(result, jv_string(keys[i]),
									   to_jv(json_object_get(value, keys[i])));
			free(keys);
			return result;
		case JSON_ARRAY:
			result = jv_array();
			for (size_t i = 0; i < json_array_size(value); i++)
				result = jv_array_append(result, to_jv(json_array_get(value, i)));
			return result;
		case JSON_STRING:
			return jv_string_sized(json_string_value(value), (int) json_string_length(value));
		case JSON_INTEGER:
			return jv_number((double) json_integer_value(value));
		case JSON_REAL:
			return jv_number(json_real_value(value));
		case JSON_TRUE:
			return jv_true();
		case JSON_FALSE:
			return jv_false();
		default:
			return jv_null();
	}
}

/* Does a jq value hold NaN anywhere?  Direktiv refuses such a result. */
static bool
holds_nan(jv value)
{
	bool		found = false;

	switch (jv_get_kind(value))
	{
		case JV_KIND_NUMBER:
			return isnan(jv_number_value(value));
		case JV_KIND_ARRAY:
			jv_array_foreach(value, i, element)
			{
				found = found || holds_nan(element);
				jv_free(element);
			}
			return found;
		case JV_KIND_OBJECT:
			jv_object_foreach(value, key, member)
			{
				found = found || holds_nan(member);
				jv_free(key);
				jv_free(member);
			}
			return found;
		default:
			return false;
	}
}

/*
 * Whether gojq would compute text in floats: it keeps a number literal
 * without "." or an exponent, and what length and the like count, as an
 * integer, while the data (read by Go's decoder) and the other literals
 * are float64.  Only the sign of a zero tells the two apart: libjq's -0
 * and -1 * 0 are -0.0, gojq's the integer 0.
 */
static bool
program_uses_floats(const char *text)
{
	for (const char *p = text; *p; p++)
		if (*p == '.' || ((*p == 'e' || *p == 'E') && p > text && isdigit((unsigned char) p[-1])))
			return true;
	return false;
}

/*
 * Converts (and frees) a jq value to jansson: integral numbers become
 * integers, and -0.0 stays a real -0 only when keep_negative_zero.
 */
static json_t *
from_jv(jv value, bool keep_negative_zero)
{
	json_t	   *result;

	switch (jv_get_kind(value))
	{
		case JV_KIND_OBJECT:
			result = json_object();
			jv_object_foreach(value, key, member)
			{
				json_object_set_new(result, jv_string_value(key),
									from_jv(member, keep_negative_zero));
				jv_free(key);
			}
			break;
		case JV_KIND_ARRAY:
			result = json_array();
			jv_array_foreach(value, i, element)
				json_array_append_new(result, from_jv(element, keep_negative_zero));
			break;
		case JV_KIND_STRING:
			result = json_stringn_nocheck(jv_string_value(value),
										  jv_string_length_bytes(jv_copy(value)));
			break;
		case JV_KIND_NUMBER:
			{
				double		d = jv_number_value(value);

				if (isnan(d))
					result = json_null();
				else if (d == 0 && signbit(d) && keep_negative_zero)
					result = json_real(d);
				else if (d == floor(d) && fabs(d) < 9007199254740992.0)
					result = json_integer((json_int_t) d);
				else if (isinf(d))
					result = json_real(d > 0 ? 1.7976931348623157e308 : -1.7976931348623157e308);
				else
					result = json_real(d);
			}
			break;
		case JV_KIND_TRUE:
			result = json_true();
			break;
		case JV_KIND_FALSE:
			result = json_false();
			break;
		default:
			result = json_null();
	}
	jv_free(value);
	return result;
}

static void
collect_compile_error(void *data, jv message)
{
	char	  **slot = (char **) data;
	jv			formatted;
	const char *text;
	const char *cut;
	size_t		len;

	if (*slot != NULL)
	{
		jv_free(message);
		return;
	}
	formatted = jq_format_error(message);
	text = jv_string_value(formatted);
	if (strncmp(text, "jq: error: ", 11) == 0)
		text += 11;
	/* one line; the position refers to the wrapped program: drop it */
	len = strcspn(text, "\n");
	cut = strstr(text, " at <top-level>");
	if (cut != NULL && (size_t) (cut - text) < len)
		len = cut - text;
	*slot = strndup(text, len);
	jv_free(formatted);
}

/* Drops a message jq reports while a program runs: it may quote the data. */
static void
drop_message(void *data, jv message)
{
	jv_free(message);
}

/* The input callback: a template has no further input. */
static jv
no_more_input(jq_state *jq, void *arg)
{
	return jv_invalid();
}

/* The slot of text in the expression table: its entry's, or the empty one it would take. */
static Compiled **
expression_slot(const char *text)
{
	uint32_t	hash = 2166136261u;	/* FNV-1a */
	size_t		i;

	for (const unsigned char *p = (const unsigned char *) text; *p; p++)
		hash = (hash ^ *p) * 16777619u;
	for (i = hash % EXPRESSION_SLOTS;; i = (i + 1) % EXPRESSION_SLOTS)
		if (expression_slots[i] == NULL || strcmp(expression_slots[i]->text, text) == 0)
			return &expression_slots[i];
}

/* Frees every compiled program and expression; staged ones stay staged. */
static void
cache_clear(void)
{
	for (int i = 0; i < EXPRESSION_SLOTS; i++)
	{
		if (expression_slots[i] == NULL)
			continue;
		free(expression_slots[i]->text);
		free(expression_slots[i]->compile_error);
		free(expression_slots[i]);
		expression_slots[i] = NULL;
	}
	expression_count = 0;
	for (int i = 0; i < program_count; i++)
	{
		jq_teardown(&program_cache[i]->jq);
		free(program_cache[i]);
	}
	program_count = 0;
}

/* Frees every compiled program and forgets the staged expressions. */
void
jx_reset(void)
{
	cache_clear();
	for (int i = 0; i < staged_count; i++)
		free(staged[i]);
	staged_count = 0;
}

/* Makes room in the cache for programs new programs of expressions new expressions. */
static void
cache_make_room(int programs, int expressions)
{
	if (program_count + programs > PROGRAM_CACHE_MAX ||
		expression_count + expressions > EXPRESSION_CACHE_MAX)
		cache_clear();
}

/* Adds text's entry, compiled as expression index of program (NULL: error). */
static void
cache_add(const char *text, Program *program, int index, char *compile_error)
{
	Compiled  **slot = expression_slot(text);
	Compiled   *compiled = malloc(sizeof(Compiled));

	if (compiled == NULL || (compiled->text = strdup(text)) == NULL)
		die(EXIT_FAIL, "out of memory");
	compiled->program = program;
	compiled->index = index;
	compiled->compile_error = compile_error;
	*slot = compiled;
	expression_count++;
}

/*
 * Compiles source, whose expressions give a program of size size; NULL when
 * it does not compile, with jq's first message in *error if error is not
 * NULL.
 */
static Program *
compile_program(const char *source, int size, char **error)
{
	Program    *program = malloc(sizeof(Program));
	char	   *message = NULL;

	if (program == NULL || (program->jq = jq_init()) == NULL)
		die(EXIT_FAIL, "out of memory");
	program->size = size;
	jq_set_attr(program->jq, jv_string("JQ_LIBRARY_PATH"), jv_array());
	jq_set_input_cb(program->jq, no_more_input, NULL);
	jq_set_error_cb(program->jq, collect_compile_error, &message);
	if (!jq_compile(program->jq, source))
	{
		jq_teardown(&program->jq);
		free(program);
		if (error != NULL)
			*error = (message != NULL) ? message : strdup("compile error");
		else
			free(message);
		return NULL;
	}
	free(message);
	/* NULL would restore jq's own callback, which prints to stderr */
	jq_set_error_cb(program->jq, drop_message, NULL);
	program_cache[program_count++] = program;
	return program;
}

/*
 * Compiles text as a program of its own and caches it.  The compiler sees
 * the template text and nothing else, so its message may be shown.
 */
static Compiled *
compile_alone(const char *text)
{
	char	   *source = NULL;
	size_t		len = 0;
	size_t		cap = 0;
	char	   *error = NULL;
	Program    *program;

	cache_make_room(1, 1);
	json_text_raw_append(&source, &len, &cap, PROGRAM_PRELUDE, strlen(PROGRAM_PRELUDE));
	json_text_raw_append(&source, &len, &cap, text, strlen(text));
	json_text_raw_append(&source, &len, &cap, PROGRAM_EPILOGUE, strlen(PROGRAM_EPILOGUE) + 1);
	program = compile_program(source, 1, &error);
	free(source);
	cache_add(text, program, 0, error);
	return *expression_slot(text);
}

/* Returns text's compiled expression, compiling it alone on first use. */
static Compiled *
compiled_for(const char *text)
{
	Compiled   *compiled = *expression_slot(text);

	return (compiled != NULL) ? compiled : compile_alone(text);
}

/*
 * May text share a program with others?  Inside its group's program an
 * expression must mean what it means alone: so its brackets must balance
 * as jq's lexer reads them, or it could close its own parentheses and
 * change the expressions after it; it must hold no comment, whose end jq
 * and this check might see apart; and no __loc__, whose line number would
 * differ.  Any other expression is compiled alone.
 */
static bool
groupable(const char *text)
{
	char		open[GROUPED_EXPRESSION_MAX];	/* ( [ { and '"' for a string */
	int			depth = 0;

	if (strlen(text) > GROUPED_EXPRESSION_MAX || strstr(text, "__loc__") != NULL)
		return false;
	for (const char *p = text; *p; p++)
	{
		char		top = (depth > 0) ? open[depth - 1] : '\0';

		if (top == '"')
		{
			if (p[0] == '\\' && p[1] == '(')
			{
				open[depth++] = '(';	/* an interpolation, code until its ")" */
				p++;
			}
			else if (p[0] == '\\' && p[1] != '\0')
				p++;
			else if (p[0] == '\\')
				return false;
			else if (p[0] == '"')
				depth--;
		}
		else if (*p == '#')
			return false;
		else if (*p == '"' || *p == '(' || *p == '[' || *p == '{')
			open[depth++] = *p;
		else if (*p == ')' || *p == ']' || *p == '}')
		{
			if (top != (*p == ')' ? '(' : *p == ']' ? '[' : '{'))
				return false;
			depth--;
		}
	}
	return depth == 0;
}

/*
 * Appends the jq code that runs expression number .[0] of texts[lo..hi)
 * on the data .[1]: a binary tree of ifs, so that a run takes log2(n)
 * comparisons, and no name the expressions could see.
 */
static void
append_dispatch(char **source, size_t *len, size_t *cap, char **texts, int lo, int hi)
{
	char		test[64];
	int			mid = lo + (hi - lo) / 2;

	if (hi - lo == 1)
	{
		json_text_raw_append(source, len, cap, "(.[1] | (", 9);
		json_text_raw_append(source, len, cap, texts[lo], strlen(texts[lo]));
		json_text_raw_append(source, len, cap, "\n))", 3);
		return;
	}
	snprintf(test, sizeof(test), "if .[0] < %d then ", mid);
	json_text_raw_append(source, len, cap, test, strlen(test));
	append_dispatch(source, len, cap, texts, lo, mid);
	json_text_raw_append(source, len, cap, " else ", 6);
	append_dispatch(source, len, cap, texts, mid, hi);
	json_text_raw_append(source, len, cap, " end", 4);
}

/*
 * Compiles n groupable expressions as one program.  When that fails, one of
 * them at least does not compile: each half is tried on its own, down to
 * single expressions, compiled alone for their own messages.
 */
static void
compile_group(char **texts, int n)
{
	char	   *source = NULL;
	size_t		len = 0;
	size_t		cap = 0;
	Program    *program;

	if (n == 1)
	{
		compile_alone(texts[0]);
		return;
	}
	cache_make_room(1, n);
	json_text_raw_append(&source, &len, &cap, PROGRAM_PRELUDE, strlen(PROGRAM_PRELUDE));
	append_dispatch(&source, &len, &cap, texts, 0, n);
	json_text_raw_append(&source, &len, &cap, PROGRAM_EPILOGUE, strlen(PROGRAM_EPILOGUE) + 1);
	program = compile_program(source, n, NULL);
	free(source);
	if (program != NULL)
	{
		for (int i = 0; i < n; i++)
			cache_add(texts[i], program, i, NULL);
		return;
	}
	compile_group(texts, n / 2);
	compile_group(texts + n / 2, n - n / 2);
}

/*
 * Compiles the staged expressions: those that may share a program in
 * groups of up to GROUP_MAX and GROUP_TEXT_MAX bytes, in the order staged;
 * the others wait to be compiled alone when they run.
 */
static void
compile_staged(void)
{
	char	   *group[GROUP_MAX];
	int			n = 0;
	size_t		text_len = 0;

	for (int i = 0; i <= staged_count; i++)
	{
		size_t		len = (i < staged_count) ? strlen(staged[i]) : 0;

		if (n > 0 && (i == staged_count || n == GROUP_MAX || text_len + len > GROUP_TEXT_MAX))
		{
			compile_group(group, n);
			n = 0;
			text_len = 0;
		}
		if (i < staged_count && groupable(staged[i]) && *expression_slot(staged[i]) == NULL)
		{
			group[n++] = staged[i];
			text_len += len;
		}
	}
	for (int i = 0; i < staged_count; i++)
		free(staged[i]);
	staged_count = 0;
}

/*
 * Looks up a plain path (., .a, .a.b, .["k"], .[0], .a[1].b) directly.
 * Returns false when text is not such a path or the lookup meets a value
 * jq would complain about: jq then runs it, so the outcome is jq's.
 */
static bool
plain_path(const char *text, const json_t *data, const json_t **result)
{
	const json_t *current = data;
	const char *p = text;

	if (*p != '.')
		return false;
	if (p[1] == '\0')
	{
		*result = data;
		return true;
	}
	while (*p)
	{
		if (p[0] == '.' && (isalpha((unsigned char) p[1]) || p[1] == '_'))
		{
			char		key[256];
			size_t		n = 0;

			p++;
			while (isalnum((unsigned char) *p) || *p == '_')
			{
				if (n + 1 >= sizeof(key))
					return false;
				key[n++] = *p++;
			}
			key[n] = '\0';
			if (json_is_null(current))
				continue;
			if (!json_is_object(current))
				return false;
			current = json_object_get(current, key);
			if (current == NULL)
				current = json_null();
		}
		else if (p[0] == '[' || (p[0] == '.' && p[1] == '['))
		{
			char	   *end;
			long		index;

			p += (p[0] == '.') ? 2 : 1;
			if (!(isdigit((unsigned char) *p) || (*p == '-' && isdigit((unsigned char) p[1]))))
				return false;
			index = strtol(p, &end, 10);
			if (*end != ']')
				return false;
			p = end + 1;
			if (json_is_null(current))
				continue;
			if (!json_is_array(current))
				return false;
			if (index < 0)
				index += (long) json_array_size(current);
			current = (index < 0 || (size_t) index >= json_array_size(current))
				? json_null() : json_array_get(current, index);
		}
		else
			return false;
	}
	*result = current;
	return true;
}

/*
 * Reports an invalid jq value as an error.  Its message is dropped unread:
 * jq puts the data it failed on there, and the data holds the secrets.
 */
static void
fail_invalid(Eval *ev, jv invalid)
{
	bool		has_message = jv_invalid_has_msg(jv_copy(invalid));

	jv_free(invalid);
	fail(ev, "%s", has_message ? RUNTIME_ERROR : "jq: no results");
}

/* Runs one expression; returns its single non-null output, or NULL after fail(). */
static json_t *
run_expression(Eval *ev, const char *text)
{
	const json_t *found;
	Compiled   *compiled;
	jv			input;
	jv			first;
	jv			second;
	const char *p = text;

	/* jq() is the identity, as in gojq and jq '' */
	while (*p && isspace((unsigned char) *p))
		p++;
	if (*p == '\0')
		text = ".";

	if (plain_path(text, ev->data, &found))
	{
		if (json_is_null(found))
		{
			fail(ev, "jq: no results");
			return NULL;
		}
		return json_incref((json_t *) found);
	}

	compiled = compiled_for(text);
	if (compiled->compile_error != NULL)
	{
		fail(ev, "jq: %s", compiled->compile_error);
		return NULL;
	}
	if (!ev->have_data_jv)
	{
		ev->data_jv = to_jv(ev->data);
		ev->have_data_jv = true;
	}
	input = jv_copy(ev->data_jv);
	if (compiled->program->size > 1)
		input = jv_array_append(jv_array_append(jv_array(), jv_number(compiled->index)), input);
	jq_start(compiled->program->jq, input, 0);
	first = jq_next(compiled->program->jq);
	if (!jv_is_valid(first))
	{
		fail_invalid(ev, first);
		return NULL;
	}
	if (jv_get_kind(first) == JV_KIND_NULL)
	{
		jv_free(first);
		fail(ev, "jq: no results");
		return NULL;
	}
	second = jq_next(compiled->program->jq);
	if (jv_is_valid(second))
	{
		jv_free(first);
		jv_free(second);
		fail(ev, "jq: multiple outputs");
		return NULL;
	}
	if (jv_invalid_has_msg(jv_copy(second)))
	{
		jv_free(first);
		fail_invalid(ev, second);
		return NULL;
	}
	jv_free(second);
	if (holds_nan(first))
	{
		jv_free(first);
		fail(ev, "jq: the result is not a number (NaN)");
		return NULL;
	}
	return from_jv(first, program_uses_floats(text));
}

/*
 * The ")" that closes an expression at depth open (the parentheses still
 * open), counting every parenthesis from p as Direktiv counts them; NULL
 * if there is none.
 */
static const char *
counted_close(const char *p, int open)
{
	for (; *p; p++)
		if (*p == '(')
			open++;
		else if (*p == ')' && --open == 0)
			return p;
	return NULL;
}

/*
 * Finds the end of the expression starting at p (just after "jq("): the
 * ")" that closes it, counting nested parentheses outside jq string
 * literals and comments.  Inside a string, \( opens an interpolation,
 * which is code again until its own ")".  A "#" comment runs to the end of
 * its line; one on the template's last line ends at the ")" that closes
 * the expression by Direktiv's count (gojq sees the comment end there too).
 * Returns NULL when the string ends first.
 */
static const char *
expression_end(const char *p)
{
	/* each level: the parenthesis depth of code, or -1 inside a string */
	int			stack[256];
	int			top = 0;

	stack[0] = 1;
	for (; *p; p++)
	{
		if (stack[top] < 0)
		{
			if (*p == '\\' && p[1] == '(')
			{
				if (top + 1 >= (int) (sizeof(stack) / sizeof(stack[0])))
					return NULL;
				stack[++top] = 1;
				p++;
			}
			else if (*p == '\\' && p[1] != '\0')
				p++;
			else if (*p == '"')
				top--;
		}
		else if (*p == '"')
		{
			if (top + 1 >= (int) (sizeof(stack) / sizeof(stack[0])))
				return NULL;
			stack[++top] = -1;
		}
		else if (*p == '#')
		{
			const char *line_end = strchr(p, '\n');

			if (line_end == NULL)
				return (top == 0) ? counted_close(p, stack[0]) : NULL;
			p = line_end;
		}
		else if (*p == '(')
			stack[top]++;
		else if (*p == ')' && --stack[top] == 0)
		{
			if (top == 0)
				return p;
			top--;				/* back into the string */
		}
	}
	return NULL;
}

/* The kinds of expression a string template holds, and how each is written. */
typedef enum ExprKind
{
	EXPR_JQ,
	EXPR_JS
} ExprKind;

/* Finds the next jq( or js( at or after p; NULL if none. */
static const char *
next_expression(const char *p, ExprKind *kind)
{
	const char *jq = strstr(p, "jq(");
	const char *js = strstr(p, "js(");

	*kind = (js != NULL && (jq == NULL || js < jq)) ? EXPR_JS : EXPR_JQ;
	return (*kind == EXPR_JS) ? js : jq;
}

/* The ")" that closes the expression opened at open ("jq(" or "js("), or NULL. */
static const char *
expression_close(const char *open, ExprKind kind)
{
	return (kind == EXPR_JS) ? js_expression_end(open + 3) : expression_end(open + 3);
}

/*
 * A template string may hold NUL characters, but the scanners, libjq and
 * Duktape read C strings: while a template is scanned, each NUL is stood
 * for by 0xFF, a byte that well-formed UTF-8 (all jansson lets in) never
 * holds.
 */
#define NUL_STAND_IN	'\xff'

/* Appends n bytes of literal template text, each stand-in back as NUL. */
static void
append_literal(char **out, size_t *len, size_t *cap, const char *p, size_t n)
{
	size_t		start = *len;

	json_text_raw_append(out, len, cap, p, n);
	for (size_t i = start; i < *len; i++)
		if ((*out)[i] == NUL_STAND_IN)
			(*out)[i] = '\0';
}

/*
 * Returns the body between open and close in a malloc'd string, each
 * stand-in written as the escape \u0000: in a jq or JavaScript string
 * literal that is the NUL the template held, and elsewhere a syntax error
 * in both, as a raw NUL is to gojq and goja.
 */
static char *
expression_body(const char *open, const char *close)
{
	char	   *body = NULL;
	size_t		len = 0;
	size_t		cap = 0;

	json_text_raw_append(&body, &len, &cap, "", 0);
	for (const char *p = open + 3; p < close; p++)
		if (*p == NUL_STAND_IN)
			json_text_raw_append(&body, &len, &cap, "\\u0000", 6);
		else
			json_text_raw_append(&body, &len, &cap, p, 1);
	return body;
}

/*
 * Runs the expression between open and its closing parenthesis.
 * *is_date: the value is a js(...) Date, a string that text holds quoted.
 */
static json_t *
run_between(Eval *ev, ExprKind kind, const char *open, const char *close, bool *is_date)
{
	char	   *body = expression_body(open, close);
	json_t	   *result;

	*is_date = false;
	if (kind == EXPR_JQ)
		result = run_expression(ev, body);
	else
	{
		char		message[512];

		result = js_evaluate(body, ev->data, is_date, message, sizeof(message));
		if (result == NULL)
			fail(ev, "%s", message);
	}
	free(body);
	return result;
}

/* Evaluates the trimmed, terminated string template s. */
static json_t *
evaluate_trimmed(Eval *ev, const char *s)
{
	const char *p = s;
	ExprKind	kind;
	const char *next = next_expression(s, &kind);
	char	   *out = NULL;
	size_t		out_len = 0;
	size_t		out_cap = 0;
	json_t	   *result;
	bool		is_date;

	if (next == NULL)
	{
		append_literal(&out, &out_len, &out_cap, s, strlen(s));
		result = json_stringn_nocheck(out, out_len);
		free(out);
		return result;
	}

	/* exactly one expression: its value, with its type */
	if (next == s)
	{
		const char *close = expression_close(s, kind);

		if (close != NULL && close[1] == '\0')
			return run_between(ev, kind, s, close, &is_date);
	}

	for (; next != NULL; next = next_expression(p, &kind))
	{
		const char *close = expression_close(next, kind);
		json_t	   *value;

		append_literal(&out, &out_len, &out_cap, p, next - p);
		if (close == NULL)
		{
			fail(ev, "%s: missing bracket", kind == EXPR_JS ? "js" : "jq");
			free(out);
			return NULL;
		}
		value = run_between(ev, kind, next, close, &is_date);
		if (value == NULL)
		{
			free(out);
			return NULL;
		}
		/* strings raw; a Date as Go's json.Marshal writes a time.Time, quoted */
		if (json_is_string(value) && !is_date)
			json_text_raw_append(&out, &out_len, &out_cap,
								 json_string_value(value), json_string_length(value));
		else
			json_text_append(value, &out, &out_len, &out_cap);
		json_decref(value);
		p = close + 1;
	}
	append_literal(&out, &out_len, &out_cap, p, strlen(p));
	result = json_stringn_nocheck(out, out_len);
	free(out);
	return result;
}

/*
 * The length of the UTF-8 white space character (Unicode White_Space, as
 * Go's strings.TrimSpace sees it) that starts at p, before end; 0 if none.
 */
static int
white_space_at(const char *p, const char *end)
{
	const unsigned char *u = (const unsigned char *) p;
	size_t		left = end - p;

	if (left >= 1 && (u[0] == ' ' || (u[0] >= '\t' && u[0] <= '\r')))
		return 1;
	if (left >= 2 && u[0] == 0xc2 && (u[1] == 0x85 || u[1] == 0xa0))
		return 2;
	if (left >= 3 && u[0] == 0xe1 && u[1] == 0x9a && u[2] == 0x80)	/* U+1680 */
		return 3;
	if (left >= 3 && u[0] == 0xe2 && u[1] == 0x80 &&
		(u[2] <= 0x8a || u[2] == 0xa8 || u[2] == 0xa9 || u[2] == 0xaf))	/* U+2000-200A, 2028, 2029, 202F */
		return 3;
	if (left >= 3 && u[0] == 0xe2 && u[1] == 0x81 && u[2] == 0x9f)	/* U+205F */
		return 3;
	if (left >= 3 && u[0] == 0xe3 && u[1] == 0x80 && u[2] == 0x80)	/* U+3000 */
		return 3;
	return 0;
}

/* The length of the white space character that ends just before end, after start; 0 if none. */
static int
white_space_before(const char *start, const char *end)
{
	for (int n = 1; n <= 3 && end - n >= start; n++)
		if (white_space_at(end - n, end) == n)
			return n;
	return 0;
}

/* Evaluates a string template: trimmed of white space first. */
static json_t *
evaluate_string(Eval *ev, const char *s, size_t len)
{
	const char *start = s;
	const char *end = s + len;
	char	   *trimmed;
	json_t	   *result;
	int			n;

	while (start < end && (n = white_space_at(start, end)) > 0)
		start += n;
	while (end > start && (n = white_space_before(start, end)) > 0)
		end -= n;
	trimmed = malloc(end - start + 1);
	if (trimmed == NULL)
		die(EXIT_FAIL, "out of memory");
	for (size_t i = 0; i < (size_t) (end - start); i++)
		trimmed[i] = (start[i] == '\0') ? NUL_STAND_IN : start[i];
	trimmed[end - start] = '\0';
	result = evaluate_trimmed(ev, trimmed);
	free(trimmed);
	return result;
}

static json_t *
evaluate_node(Eval *ev, const json_t *node)
{
	size_t		mark = ev->path_len;
	json_t	   *result;

	switch (json_typeof(node))
	{
		case JSON_STRING:
			return evaluate_string(ev, json_string_value(node), json_string_length(node));
		case JSON_ARRAY:
			result = json_array();
			for (size_t i = 0; i < json_array_size(node); i++)
			{
				json_t	   *element;

				path_push(ev, "[%zu]", i);
				element = evaluate_node(ev, json_array_get(node, i));
				path_pop(ev, mark);
				if (element == NULL)
				{
					json_decref(result);
					return NULL;
				}
				json_array_append_new(result, element);
			}
			return result;
		case JSON_OBJECT:
			{
				const char *key;
				json_t	   *member;

				result = json_object();
				json_object_foreach((json_t *) node, key, member)
				{
					json_t	   *value;

					path_push(ev, ".%s", key);
					value = evaluate_node(ev, member);
					path_pop(ev, mark);
					if (value == NULL)
					{
						json_decref(result);
						return NULL;
					}
					json_object_set_new(result, key, value);
				}
				return result;
			}
		default:
			return json_deep_copy(node);
	}
}

/*
 * Evaluates template against data.  Returns the result, or NULL with a
 * message naming where it failed ("input.headers.x: jq: no results").
 */
json_t *
jx_evaluate(const json_t *template, const json_t *data, char *error, size_t error_len)
{
	Eval		ev;
	json_t	   *result;

	memset(&ev, 0, sizeof(ev));
	ev.data = data;
	ev.error = error;
	ev.error_len = error_len;
	path_push(&ev, "input");
	result = evaluate_node(&ev, template);
	if (ev.have_data_jv)
		jv_free(ev.data_jv);
	free(ev.path);
	return result;
}

/* Stages the jq expression text for compiling, unless it needs none. */
static void
stage_expression(const char *text)
{
	const json_t *found;
	const char *p = text;

	while (*p && isspace((unsigned char) *p))
		p++;
	/* a plain path meets nothing in null that would send it to jq */
	if (*p == '\0' || plain_path(text, json_null(), &found) || *expression_slot(text) != NULL)
		return;
	for (int i = 0; i < staged_count; i++)
		if (strcmp(staged[i], text) == 0)
			return;
	if (staged_count == STAGED_MAX)
		compile_staged();
	if ((staged[staged_count] = strdup(text)) == NULL)
		die(EXIT_FAIL, "out of memory");
	staged_count++;
}

/* Stages the jq expressions of a string template. */
static void
stage_string(const char *s)
{
	ExprKind	kind;

	for (const char *next = next_expression(s, &kind); next != NULL; next = next_expression(s, &kind))
	{
		const char *close = expression_close(next, kind);
		char	   *body;

		if (close == NULL)
			return;
		if (kind == EXPR_JQ)
		{
			if ((body = strndup(next + 3, close - next - 3)) == NULL)
				die(EXIT_FAIL, "out of memory");
			stage_expression(body);
			free(body);
		}
		s = close + 1;
	}
}

/*
 * Stages the jq expressions of template for jx_compile_staged, which
 * compiles the new ones together: a batch stages its window's templates
 * before it evaluates them.  Staging changes no outcome, only when the
 * compiling is done.
 */
void
jx_stage(const json_t *template)
{
	const char *key;
	json_t	   *member;

	if (json_is_string(template))
		stage_string(json_string_value(template));
	else if (json_is_array(template))
		for (size_t i = 0; i < json_array_size(template); i++)
			jx_stage(json_array_get(template, i));
	else if (json_is_object(template))
		json_object_foreach((json_t *) template, key, member)
			jx_stage(member);
}

/* Compiles the staged expressions, in groups where they may share a program. */
void
jx_compile_staged(void)
{
	compile_staged();
}
