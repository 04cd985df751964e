/*
 * js.c — js(...) template expressions: each runs in a process of its own.
 *
 * The text inside js(...) is the body of a function of one argument,
 * data, as in Direktiv.  Each expression is evaluated by nsvault-js
 * (js_helper.c), started afresh with posix_spawn: it gets the body and the
 * data of its own request on a pipe, an empty environment and no other
 * descriptor (its standard error is /dev/null), so that it holds nothing
 * of the client's other requests, connection or environment, and a
 * template that loops forever, allocates without end or crashes costs that
 * one request and nothing else.  The client waits at most the time limit
 * (wall clock), and reads an answer of at most the memory limit; past
 * either it kills the process.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "nsvault.h"

#define HELPER_NAME		"nsvault-js"

static int	time_limit_seconds = JS_DEFAULT_TIME_LIMIT;
static int	memory_limit_mb = JS_DEFAULT_MEMORY_LIMIT_MB;

void
js_set_limits(int seconds, int megabytes)
{
	time_limit_seconds = seconds;
	memory_limit_mb = megabytes;
}

/*
 * Where nsvault-js is: NSVAULT_JS_HELPER if set (the unit tests and fuzz
 * targets, whose executables live elsewhere), else beside this executable,
 * where make builds and installs it.
 */
static const char *
helper_path(void)
{
	static char path[PATH_MAX];
	const char *from_env = getenv("NSVAULT_JS_HELPER");
	ssize_t		n;
	char	   *slash;

	if (from_env != NULL)
		return from_env;
	if (path[0] != '\0')
		return path;
	n = readlink("/proc/self/exe", path, sizeof(path) - sizeof(HELPER_NAME) - 1);
	if (n <= 0 || (slash = memrchr(path, '/', n)) == NULL)
		return HELPER_NAME;
	strcpy(slash + 1, HELPER_NAME);
	return path;
}

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* How reading the helper's answer ended. */
typedef enum AnswerEnd
{
	ANSWER_WHOLE,				/* the helper closed its output */
	ANSWER_LATE,				/* the time limit came first */
	ANSWER_TOO_LARGE			/* the answer outgrew the memory limit */
} AnswerEnd;

/*
 * Reads the helper's whole answer, waiting at most until deadline and
 * taking at most the memory limit's size of result text (a tag byte and
 * the JSON text), so that no answer can make the client grow past it.
 */
static AnswerEnd
read_answer(int fd, double deadline, char **buf, size_t *len, size_t *cap)
{
	size_t		max_len = 1 + ((size_t) memory_limit_mb << 20);
	char		chunk[8192];

	for (;;)
	{
		struct pollfd pfd = {fd, POLLIN, 0};
		double		left = deadline - now_seconds();
		ssize_t		n;
		int			ready;

		if (left <= 0)
			return ANSWER_LATE;
		ready = poll(&pfd, 1, (int) (left * 1000) + 1);
		if (ready < 0 && errno == EINTR)
			continue;
		if (ready <= 0)
			continue;
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return ANSWER_WHOLE;
		if ((size_t) n > max_len - *len)
			return ANSWER_TOO_LARGE;
		json_text_raw_append(buf, len, cap, chunk, n);
	}
}

/*
 * Starts the helper with its standard input and output on two new pipes,
 * and its standard error on /dev/null: nothing it could print reaches the
 * client's; returns its pid, or -1 with errno set.  *to and *from are the
 * client's ends.
 */
static pid_t
start_helper(int *to, int *from)
{
	int			in[2];
	int			out[2];
	char		seconds[16];
	char		megabytes[16];
	char		parent[16];
	char	   *argv[] = {HELPER_NAME, seconds, megabytes, parent, NULL};
	char	   *no_environment[] = {NULL};
	posix_spawn_file_actions_t actions;
	posix_spawnattr_t attr;
	sigset_t	pipe_signal;
	pid_t		pid;
	int			rc;

	if (pipe2(in, O_CLOEXEC) != 0)
		return -1;
	if (pipe2(out, O_CLOEXEC) != 0)
	{
		close(in[0]);
		close(in[1]);
		return -1;
	}
	snprintf(seconds, sizeof(seconds), "%d", time_limit_seconds);
	snprintf(megabytes, sizeof(megabytes), "%d", memory_limit_mb);
	snprintf(parent, sizeof(parent), "%d", (int) getpid());

	posix_spawn_file_actions_init(&actions);
	posix_spawn_file_actions_adddup2(&actions, in[0], 0);
	posix_spawn_file_actions_adddup2(&actions, out[1], 1);
	posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addclosefrom_np(&actions, 3);
	/* the client ignores SIGPIPE (see js_evaluate); the helper need not */
	posix_spawnattr_init(&attr);
	sigemptyset(&pipe_signal);
	sigaddset(&pipe_signal, SIGPIPE);
	posix_spawnattr_setsigdefault(&attr, &pipe_signal);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
	rc = posix_spawn(&pid, helper_path(), &actions, &attr, argv, no_environment);
	posix_spawn_file_actions_destroy(&actions);
	posix_spawnattr_destroy(&attr);
	close(in[0]);
	close(out[1]);
	if (rc != 0)
	{
		close(in[1]);
		close(out[0]);
		errno = rc;
		return -1;
	}
	*to = in[1];
	*from = out[0];
	return pid;
}

/*
 * Puts the helper's outcome (exit status and answer) into a result or
 * error, and *is_date: the answer is a Date ("D"), its time as a string.
 */
static json_t *
outcome(AnswerEnd end, int status, const char *buf, size_t len, bool *is_date,
		char *error, size_t error_len)
{
	json_error_t parse_error;
	json_t	   *result;

	if (end == ANSWER_LATE || (WIFSIGNALED(status) && WTERMSIG(status) == SIGXCPU))
		snprintf(error, error_len, "js: the time limit of %d s was reached", time_limit_seconds);
	else if (end == ANSWER_TOO_LARGE)
		snprintf(error, error_len, "js: the memory limit of %d MB was reached", memory_limit_mb);
	else if (len > 0 && buf[0] == 'E')
		snprintf(error, error_len, "%.*s", (int) (len - 1), buf + 1);
	else if (len > 0 && (buf[0] == 'R' || buf[0] == 'D'))
	{
		*is_date = (buf[0] == 'D');
		result = json_loadb(buf + 1, len - 1, JSON_DECODE_ANY | JSON_ALLOW_NUL, &parse_error);
		if (result != NULL)
			return result;
		snprintf(error, error_len, "js: the evaluator's answer is not JSON");
	}
	else if (WIFSIGNALED(status))
		snprintf(error, error_len, "js: the evaluator ended with signal %d", WTERMSIG(status));
	else
		snprintf(error, error_len, "js: the evaluator ended without an answer");
	return NULL;
}

/*
 * Evaluates the body of a js(...) expression against data.  Returns its
 * value, or NULL with the reason in error ("js: ...").  *is_date: the
 * value is a Date, as a string that text holds as JSON, quoted (Direktiv
 * writes goja's time.Time with json.Marshal there).
 */
json_t *
js_evaluate(const char *body, const json_t *data, bool *is_date, char *error, size_t error_len)
{
	double		deadline = now_seconds() + time_limit_seconds;
	json_t	   *request = json_pack("{s:s,s:O}", "body", body, "data", data);
	size_t		request_len = request ? json_dumpb(request, NULL, 0, JSON_COMPACT) : 0;
	char	   *request_text = malloc(request_len + 1);
	char	   *buf = NULL;
	size_t		len = 0;
	size_t		cap = 0;
	AnswerEnd	end;
	int			to;
	int			from;
	int			status;
	pid_t		pid;
	json_t	   *result;

	*is_date = false;
	if (request == NULL || request_text == NULL)
		die(EXIT_FAIL, "out of memory");
	json_dumpb(request, request_text, request_len, JSON_COMPACT);
	json_decref(request);

	/* a helper that ends before reading it all must not end the client */
	signal(SIGPIPE, SIG_IGN);
	pid = start_helper(&to, &from);
	if (pid < 0)
	{
		snprintf(error, error_len, "js: could not start the evaluator %s: %s",
				 helper_path(), strerror(errno));
		wipe_and_free(request_text, request_len);
		return NULL;
	}
	(void) write_all(to, request_text, request_len);
	close(to);
	wipe_and_free(request_text, request_len);

	end = read_answer(from, deadline, &buf, &len, &cap);
	close(from);
	if (end != ANSWER_WHOLE)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	result = outcome(end, status, buf, len, is_date, error, error_len);
	if (buf != NULL)
		wipe_and_free(buf, len);
	return result;
}
