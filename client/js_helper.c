/*
 * js_helper.c — nsvault-js, the program one js(...) expression runs in.
 *
 * The client starts it for each expression (client/js.c) with an empty
 * environment, standard input and output on two pipes, standard error on
 * /dev/null, and no other descriptor:
 *
 *	nsvault-js SECONDS MEGABYTES PARENT_PID  < {"body": ..., "data": ...}
 *
 * It answers on standard output: "R" and the result as JSON text, "D"
 * and the result as JSON text when it is a Date (a string that Direktiv
 * writes as JSON, quoted, inside text), or "E" and an error message.  A process of its own holds nothing but its own
 * request: not the client's other requests, connection or environment.
 *
 *	- time: RLIMIT_CPU one second past the limit, a backstop to the
 *	  client's wall-clock limit; the result's conversion stops at the limit;
 *	- memory: Duktape, and jansson while the result is converted, allocate
 *	  through one counting allocator that refuses past the limit; the
 *	  result's JSON text may be at most the limit; RLIMIT_AS bounds the
 *	  rest (see bound_address_space);
 *	- reach: Duktape without its extras has no I/O, no module loading and
 *	  no environment; the process cannot dump core and dies with its
 *	  parent.
 *
 * A runtime error is reported by its kind alone (TypeError, ...): its
 * message may quote the data, and the data holds the secrets.  A syntax
 * error keeps Duktape's message, which comes from the template text alone,
 * as it is compiled before anything runs.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <duktape.h>

#include "nsvault.h"
#include "js_internal.h"

const char *progname = "nsvault-js";

/*
 * The address space beyond the memory limit: code, libraries and stacks
 * (4 MB, measured), and what the count does not see: malloc's own
 * overhead on each counted block, the request as read and parsed, and
 * text converted on its way in and out of Duktape.
 */
#define ADDRESS_SPACE_FACTOR	4
#define ADDRESS_SPACE_EXTRA		((size_t) 256 << 20)

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ADDRESS_SANITIZER
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ADDRESS_SANITIZER
#endif
#endif

/* the largest piece of the answer's JSON text written at once */
#define ANSWER_CHUNK			65536

static int	time_limit_seconds;
static size_t memory_limit;
static struct timespec deadline;

/* the heap, its allocator's account, and whether a fatal error came */
static duk_context *heap;
static size_t heap_used;
static bool heap_exhausted;
static bool in_fatal;

/* Each block carries its size in front, so that the account can be kept. */
typedef union BlockHeader
{
	size_t		size;
	max_align_t align;
} BlockHeader;

/* Whether more bytes would take the heap past the limit; notes it if so. */
static bool
over_limit(size_t more)
{
	if (heap_used > memory_limit || more > memory_limit - heap_used)
	{
		heap_exhausted = true;
		return true;
	}
	return false;
}

static void *
limited_alloc(void *udata, duk_size_t size)
{
	BlockHeader *block;

	if (over_limit(size))
		return NULL;
	block = malloc(sizeof(BlockHeader) + size);
	if (block == NULL)
	{
		heap_exhausted = true;	/* the address space ran out first */
		return NULL;
	}
	block->size = size;
	heap_used += size;
	return block + 1;
}

static void
limited_free(void *udata, void *ptr)
{
	BlockHeader *block;

	if (ptr == NULL)
		return;
	block = (BlockHeader *) ptr - 1;
	heap_used -= block->size;
	free(block);
}

static void *
limited_realloc(void *udata, void *ptr, duk_size_t size)
{
	BlockHeader *block;
	size_t		old_size;

	if (ptr == NULL)
		return limited_alloc(udata, size);
	if (size == 0)
	{
		limited_free(udata, ptr);
		return NULL;
	}
	block = (BlockHeader *) ptr - 1;
	old_size = block->size;
	if (size > old_size && over_limit(size - old_size))
		return NULL;
	block = realloc(block, sizeof(BlockHeader) + size);
	if (block == NULL)
	{
		heap_exhausted = true;
		return NULL;
	}
	block->size = size;
	heap_used = heap_used - old_size + size;
	return block + 1;
}

/* jansson's allocation, counted with Duktape's once the result is converted */
static void *
counted_json_alloc(size_t size)
{
	return limited_alloc(NULL, size);
}

static void
counted_json_free(void *ptr)
{
	limited_free(NULL, ptr);
}

/*
 * Writes the answer and exits.  The heap goes first (not after a fatal
 * error, when it is in no state to), so that a leak checker sees nothing
 * left behind.
 */
static void
answer(char kind, const char *text, size_t len)
{
	char		tag = kind;

	if (heap != NULL && !in_fatal)
		duk_destroy_heap(heap);

	if (write(1, &tag, 1) == 1)
		(void) write_all(1, text, len);
	_exit(0);
}

static void
answer_error(const char *fmt,...)
{
	char		message[512];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	answer('E', message, strlen(message));
}

/* Answers with what, or that the memory limit was reached if that is why it happened. */
static void
memory_or(const char *what)
{
	if (heap_exhausted)
		answer_error("js: the memory limit of %zu MB was reached", memory_limit >> 20);
	answer_error("js: %s", what);
}

/* Whether the time limit has passed (the client's deadline, give or take the start). */
bool
js_out_of_time(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > deadline.tv_sec ||
		(now.tv_sec == deadline.tv_sec && now.tv_nsec >= deadline.tv_nsec);
}

/* The answer's JSON text on its way out, a chunk at a time. */
typedef struct AnswerText
{
	size_t		len;
	char		chunk[ANSWER_CHUNK];
} AnswerText;

static int
write_answer_text(const char *text, size_t n, void *data)
{
	AnswerText *out = data;

	if (n > sizeof(out->chunk) - out->len)
	{
		if (!write_all(1, out->chunk, out->len))
			return -1;
		out->len = 0;
		if (n > sizeof(out->chunk))
			return write_all(1, text, n) ? 0 : -1;
	}
	memcpy(out->chunk + out->len, text, n);
	out->len += n;
	return 0;
}

/*
 * Answers with the result (tag "R", or "D" for a Date) and exits.  Its
 * JSON text may be at most the memory limit; it is written as it is made,
 * not built in memory first.  The heap goes first: the result holds
 * nothing of it.
 */
static void
answer_result(json_t *result, char tag)
{
	static AnswerText out;
	size_t		flags = JSON_COMPACT | JSON_ENCODE_ANY;
	size_t		len;

	duk_destroy_heap(heap);
	heap = NULL;
	len = json_dumpb(result, NULL, 0, flags);
	if (len == 0)
		memory_or("out of memory");
	if (len > memory_limit)
		answer_error("js: the memory limit of %zu MB was reached", memory_limit >> 20);
	out.chunk[out.len++] = tag;
	if (json_dump_callback(result, write_answer_text, &out, flags) == 0)
		(void) write_all(1, out.chunk, out.len);
	json_decref(result);
	_exit(0);
}

static const char *error_kind(duk_context *ctx);

/* Answers with the kind of the error on the stack top. */
static void
answer_thrown(duk_context *ctx)
{
	if (heap_exhausted)
		memory_or("out of memory");
	answer_error("js: %s " HIDDEN_MESSAGE, error_kind(ctx));
}

static void
on_fatal(void *udata, const char *msg)
{
	/* msg is not shown: it can hold an uncaught error's message */
	in_fatal = true;
	memory_or("the evaluator failed");
}

/* The kind of a thrown value, from the built-in prototypes (not from the value's own properties). */
static const char *
error_kind(duk_context *ctx)
{
	switch (duk_get_error_code(ctx, -1))
	{
		case DUK_ERR_EVAL_ERROR:
			return "EvalError";
		case DUK_ERR_RANGE_ERROR:
			return "RangeError";
		case DUK_ERR_REFERENCE_ERROR:
			return "ReferenceError";
		case DUK_ERR_SYNTAX_ERROR:
			return "SyntaxError";
		case DUK_ERR_TYPE_ERROR:
			return "TypeError";
		case DUK_ERR_URI_ERROR:
			return "URIError";
		case DUK_ERR_ERROR:
			return "Error";
		default:
			return "a thrown value";
	}
}

/*
 * Bounds the process before any template code runs: no core file, CPU
 * time one second past the limit (the parent's wall clock is the limit;
 * this is a backstop should the parent be gone), not dumpable (its /proc
 * files and memory closed to its own user), and dead with its parent.
 */
static void
confine(pid_t parent)
{
	struct rlimit no_core = {0, 0};
	struct rlimit cpu = {time_limit_seconds + 1, time_limit_seconds + 2};

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += time_limit_seconds;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);				/* the parent died before the signal was asked for */
	prctl(PR_SET_DUMPABLE, 0);
	setrlimit(RLIMIT_CORE, &no_core);
	setrlimit(RLIMIT_CPU, &cpu);
}

/*
 * Bounds the address space, once the request is in and before Duktape
 * starts: a backstop for what the count misses, at ADDRESS_SPACE_FACTOR
 * times the memory limit and ADDRESS_SPACE_EXTRA more.  Not under
 * AddressSanitizer, whose shadow memory reserves terabytes; valgrind
 * follows no child unless told to (--trace-children).
 */
static void
bound_address_space(void)
{
#ifndef UNDER_ADDRESS_SANITIZER
	struct rlimit as;

	as.rlim_cur = as.rlim_max = ADDRESS_SPACE_FACTOR * memory_limit + ADDRESS_SPACE_EXTRA;
	setrlimit(RLIMIT_AS, &as);
#endif
}

/*
 * Evaluates the request's body against its data and answers; never
 * returns.  The request goes once Duktape has its own copy of the data;
 * from then on jansson allocates as Duktape does, against the limit.
 */
static void
run(json_t *request)
{
	const char *body = json_string_value(json_object_get(request, "body"));
	duk_context *ctx;
	char	   *source;
	json_t	   *result;
	const char *problem;
	bool		is_date;

	bound_address_space();
	ctx = heap = duk_create_heap(limited_alloc, limited_realloc, limited_free, NULL, on_fatal);
	if (ctx == NULL)
		memory_or("the evaluator could not start");
	js_prepare_globals(ctx);

	if (asprintf(&source, "function (data) {\n%s\n}", body) < 0)
		memory_or("out of memory");
	duk_push_string(ctx, "js");
	if (duk_pcompile_string_filename(ctx, DUK_COMPILE_FUNCTION, source) != 0)
	{
		if (heap_exhausted || duk_get_error_code(ctx, -1) != DUK_ERR_SYNTAX_ERROR)
			memory_or("the template could not be compiled");
		answer_error("js: %s", duk_safe_to_string(ctx, -1));
	}
	free(source);
	js_push_json(ctx, json_object_get(request, "data"));
	json_decref(request);
	json_set_alloc_funcs(counted_json_alloc, counted_json_free);

	if (duk_pcall(ctx, 1) != 0)
		answer_thrown(ctx);
	if (js_convert_result(ctx, &result, &problem, &is_date) != DUK_EXEC_SUCCESS)
		answer_thrown(ctx);
	if (problem == js_out_of_time_problem)
		answer_error("js: the time limit of %d s was reached", time_limit_seconds);
	if (problem == js_out_of_memory_problem)
		memory_or(problem);
	if (result == NULL)
		answer_error("js: %s", problem);
	/* what goja exports as nil: null, undefined, an invalid Date */
	if (json_is_null(result))
		answer_error("js: no results");
	answer_result(result, is_date ? 'D' : 'R');
}

/* Parses a whole number from 1 to max, or exits. */
static long
number_argument(const char *text, long max)
{
	long		n;

	if (!parse_whole_number(text, max, &n))
		die(EXIT_USAGE, "invalid argument \"%s\"", text);
	return n;
}

int
main(int argc, char **argv)
{
	size_t		len;
	char	   *text;
	json_t	   *request;
	json_error_t parse_error;

	if (argc != 4)
		die(EXIT_USAGE, "usage: nsvault-js SECONDS MEGABYTES PARENT_PID < request (run by nsvault, not by hand)");
	time_limit_seconds = (int) number_argument(argv[1], JS_MAX_TIME_LIMIT);
	memory_limit = (size_t) number_argument(argv[2], JS_MAX_MEMORY_LIMIT_MB) << 20;
	confine((pid_t) number_argument(argv[3], INT32_MAX));

	text = read_all(0, &len);
	if (text == NULL)
		die(EXIT_FAIL, "could not read the request");
	request = json_loadb(text, len, JSON_ALLOW_NUL, &parse_error);
	wipe_and_free(text, len);
	if (!json_is_string(json_object_get(request, "body")) ||
		!json_is_object(json_object_get(request, "data")))
		die(EXIT_FAIL, "the request is not {\"body\": ..., \"data\": {...}}");
	run(request);
}
