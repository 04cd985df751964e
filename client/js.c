/*
 * js.c — js(...) template expressions, evaluated by Duktape in a sandbox.
 *
 * The text inside js(...) is the body of a function of one argument,
 * data, as in Direktiv.  Each expression runs in a child process of its
 * own, so that a template that loops forever or allocates without end
 * costs that one request and nothing else:
 *
 *	- time: the parent waits at most the time limit (wall clock), then
 *	  kills the child; RLIMIT_CPU is a backstop should the parent die;
 *	- memory: Duktape allocates through a counting allocator that refuses
 *	  past the memory limit;
 *	- reach: Duktape without its extras has no I/O, no module loading and
 *	  no process environment; the child also drops every descriptor but its
 *	  answer pipe, cannot dump core, and dies with its parent.
 *
 * The child answers on a pipe: "R" and the result as JSON text, or "E" and
 * an error message.  A runtime error is reported by its kind alone
 * (TypeError, ...): its message may quote the data, and the data holds the
 * secrets.  A syntax error keeps Duktape's message, which comes from the
 * template text alone, as it is compiled before anything runs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <duktape.h>

#include "nsvault.h"
#include "js_internal.h"

#define HIDDEN_MESSAGE		"(the message is not shown: it may contain secret values)"

static int	time_limit_seconds = JS_DEFAULT_TIME_LIMIT;
static size_t memory_limit = (size_t) JS_DEFAULT_MEMORY_LIMIT_MB << 20;

/*
 * The heap, made and set up once in the parent and never given template
 * code there: each child starts from a copy of it (fork's copy on write),
 * which spares each expression the making of a heap (about a third of
 * its cost).
 */
static duk_context *heap;

/* the child's state: its allocator's account and where it answers */
static size_t heap_used;
static bool heap_exhausted;
static bool in_fatal;
static int	answer_fd = -1;

void
js_set_limits(int seconds, int megabytes)
{
	time_limit_seconds = seconds;
	memory_limit = (size_t) megabytes << 20;
}

/* ---- the child ---- */

/* Each block carries its size in front, so that the account can be kept. */
typedef union BlockHeader
{
	size_t		size;
	max_align_t align;
} BlockHeader;

static void *
limited_alloc(void *udata, duk_size_t size)
{
	BlockHeader *block;

	if (size > memory_limit - heap_used)
	{
		heap_exhausted = true;
		return NULL;
	}
	block = malloc(sizeof(BlockHeader) + size);
	if (block == NULL)
		return NULL;
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
	if (size > old_size && size - old_size > memory_limit - heap_used)
	{
		heap_exhausted = true;
		return NULL;
	}
	block = realloc(block, sizeof(BlockHeader) + size);
	if (block == NULL)
		return NULL;
	block->size = size;
	heap_used = heap_used - old_size + size;
	return block + 1;
}

/*
 * Sends the answer and ends the child; _exit, so that no stdio buffer of
 * the parent's is flushed twice.  The child's copy of the heap goes first
 * (not after a fatal error, when it is in no state to), so that a leak
 * checker sees nothing left behind.
 */
static void
answer(char kind, const char *text, size_t len)
{
	char		tag = kind;

	if (heap != NULL && !in_fatal)
		duk_destroy_heap(heap);

	if (write(answer_fd, &tag, 1) == 1)
		(void) write_all(answer_fd, text, len);
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
	if (answer_fd < 0)
		die(EXIT_FAIL, "js: the evaluator could not be set up");
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

static void
confine_child(int fd)
{
	struct rlimit no_core = {0, 0};
	struct rlimit cpu = {time_limit_seconds + 1, time_limit_seconds + 2};
	pid_t		parent = getppid();
	int			null_fd;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);				/* the parent died before the signal was asked for */
	prctl(PR_SET_DUMPABLE, 0);
	setrlimit(RLIMIT_CORE, &no_core);
	setrlimit(RLIMIT_CPU, &cpu);
	null_fd = open("/dev/null", O_RDWR);
	if (null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(null_fd, 1) < 0 ||
		dup2(fd, 3) < 0)
		_exit(1);
	answer_fd = 3;
	close_range(4, ~0U, 0);
}

static void
run_child(int fd, const char *body, const json_t *data)
{
	duk_context *ctx;
	char	   *source;
	json_t	   *result;
	const char *problem;
	char	   *text;

	confine_child(fd);
	ctx = heap;
	if (ctx == NULL)
		memory_or("the evaluator could not start");

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
	js_push_json(ctx, data);
	if (duk_pcall(ctx, 1) != 0)
		answer_thrown(ctx);
	if (duk_is_null_or_undefined(ctx, -1))
		answer_error("js: no results");
	if (js_convert_result(ctx, &result, &problem) != DUK_EXEC_SUCCESS)
		answer_thrown(ctx);
	if (result == NULL)
		answer_error("js: %s", problem);
	text = json_dumps(result, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(result);
	if (text == NULL)
		memory_or("out of memory");
	answer('R', text, strlen(text));
}

/* ---- the parent ---- */

/* Frees the heap; the next expression makes a new one. */
void
js_reset(void)
{
	if (heap != NULL)
		duk_destroy_heap(heap);
	heap = NULL;
}

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Reads the child's whole answer, waiting at most until deadline; returns
 * false when the deadline passed first.
 */
static bool
read_answer(int fd, double deadline, char **buf, size_t *len, size_t *cap)
{
	char		chunk[8192];

	for (;;)
	{
		struct pollfd pfd = {fd, POLLIN, 0};
		double		left = deadline - now_seconds();
		ssize_t		n;
		int			ready;

		if (left <= 0)
			return false;
		ready = poll(&pfd, 1, (int) (left * 1000) + 1);
		if (ready < 0 && errno == EINTR)
			continue;
		if (ready <= 0)
			continue;
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return true;
		json_text_raw_append(buf, len, cap, chunk, n);
	}
}

/*
 * Evaluates the body of a js(...) expression against data.  Returns its
 * value, or NULL with the reason in error ("js: ...").
 */
json_t *
js_evaluate(const char *body, const json_t *data, char *error, size_t error_len)
{
	int			fds[2];
	pid_t		pid;
	char	   *buf = NULL;
	size_t		len = 0;
	size_t		cap = 0;
	bool		in_time;
	int			status;
	json_t	   *result = NULL;

	if (heap == NULL)
	{
		heap = duk_create_heap(limited_alloc, limited_realloc, limited_free, NULL, on_fatal);
		if (heap != NULL)
		{
			js_prepare_globals(heap);
			heap_exhausted = false;
		}
	}
	if (pipe2(fds, O_CLOEXEC) != 0)
	{
		snprintf(error, error_len, "js: could not create a pipe: %s", strerror(errno));
		return NULL;
	}
	pid = fork();
	if (pid < 0)
	{
		snprintf(error, error_len, "js: could not start the evaluator: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return NULL;
	}
	if (pid == 0)
		run_child(fds[1], body, data);
	close(fds[1]);
	in_time = read_answer(fds[0], now_seconds() + time_limit_seconds, &buf, &len, &cap);
	close(fds[0]);
	if (!in_time)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;

	if (!in_time || (WIFSIGNALED(status) && WTERMSIG(status) == SIGXCPU))
		snprintf(error, error_len, "js: the time limit of %d s was reached", time_limit_seconds);
	else if (len > 0 && buf[0] == 'E')
		snprintf(error, error_len, "%.*s", (int) (len - 1), buf + 1);
	else if (len > 0 && buf[0] == 'R')
	{
		json_error_t parse_error;

		result = json_loadb(buf + 1, len - 1, JSON_DECODE_ANY | JSON_ALLOW_NUL, &parse_error);
		if (result == NULL)
			snprintf(error, error_len, "js: the evaluator's answer is not JSON");
	}
	else if (WIFSIGNALED(status))
		snprintf(error, error_len, "js: the evaluator ended with signal %d", WTERMSIG(status));
	else
		snprintf(error, error_len, "js: the evaluator ended without an answer");
	if (buf != NULL)
		wipe_and_free(buf, len);
	return result;
}
