/*
 * run.c — the run command: a command started with secrets in its
 * environment, its output masked.
 *
 * The values go into the child's environment only, never its argv.  Its
 * standard output and standard error each pass through a masker of their
 * own, to ours, so the two streams stay apart.  Once the child has started
 * the values are wiped: the maskers keep only the patterns.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "masker.h"
#include "nsvault.h"

extern char **environ;

const char run_usage[] =
"Usage:\n"
"  nsvault [-d CONNINFO] run --namespace NS --env VAR=SECRET [--env VAR=SECRET ...]\n"
"                            [--no-mask] [--min-length N] -- COMMAND [ARG ...]\n"
"\n"
"Runs COMMAND with each secret's value in its environment variable VAR.  Its\n"
"standard output and standard error are masked as \"nsvault mask\" masks\n"
"(see \"nsvault mask --help\"), each on its own stream.  SIGINT, SIGTERM and\n"
"SIGHUP are passed on to it.\n"
"\n"
"  -n, --namespace=NS     namespace of the secrets\n"
"  -e, --env=VAR=SECRET   put secret SECRET's value in variable VAR; may be repeated\n"
"      --no-mask          pass the command's output through untouched\n"
"      --min-length=N     leave values shorter than N bytes unmasked (default 4)\n"
"\n"
"Exit status: the command's; 128+N if a signal N ended it; 127 if it could\n"
"not be started; 2 usage error; 3 a named secret does not exist (the command\n"
"is not started); 1 any other failure.\n";

#define RUN_EXIT_NOT_STARTED 127

static volatile sig_atomic_t child_pid = 0;
static volatile sig_atomic_t pending_signal = 0;

/* Passes a signal on to the command, or keeps it until the command exists. */
static void
forward_signal(int sig)
{
	if (child_pid > 0)
		kill((pid_t) child_pid, sig);
	else
		pending_signal = sig;
}

static void
handle_signals(void)
{
	static const int signals[] = {SIGINT, SIGTERM, SIGHUP};
	struct sigaction action;

	memset(&action, 0, sizeof(action));
	action.sa_handler = forward_signal;
	sigemptyset(&action.sa_mask);
	for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
		sigaction(signals[i], &action, NULL);
}

/* Whether name is a valid environment variable name: [A-Za-z_][A-Za-z0-9_]*. */
static bool
valid_variable(const char *name, size_t len)
{
	if (len == 0 || (name[0] >= '0' && name[0] <= '9'))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!(name[i] == '_' || (name[i] >= 'A' && name[i] <= 'Z') ||
			  (name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9')))
			return false;
	return true;
}

/* Reads each --env VAR=SECRET: the secrets' names into set; the variables' lengths. */
static size_t *
read_env_options(const CommandLine *cl, SecretSet *set)
{
	int			n = cl->nrepeated[OPT_ENV];
	size_t	   *var_lens = malloc(sizeof(size_t) * (n + 1));

	set->n = n;
	set->names = malloc(sizeof(char *) * (n + 1));
	if (var_lens == NULL || set->names == NULL)
		die(EXIT_FAIL, "out of memory");
	for (int i = 0; i < n; i++)
	{
		const char *spec = cl->repeated[OPT_ENV][i];
		const char *equals = strchr(spec, '=');

		if (equals == NULL || equals[1] == '\0')
			die(EXIT_USAGE, "run: --env takes VAR=SECRET, not \"%s\" (see \"nsvault run --help\")", spec);
		if (!valid_variable(spec, equals - spec))
			die(EXIT_USAGE, "run: \"%.*s\" is not a valid environment variable name: it takes letters, digits and _, and does not start with a digit",
				(int) (equals - spec), spec);
		var_lens[i] = equals - spec;
		set->names[i] = equals + 1;
	}
	return var_lens;
}

/* Checks run's command line: a namespace, at least one --env, and a command after "--". */
static void
check_run_options(const CommandLine *cl)
{
	if (cl->namespace == NULL)
		die(EXIT_USAGE, "run: --namespace is required (or NSVAULT_NAMESPACE, or the config file's namespace; see \"nsvault run --help\")");
	if (!option_given(cl, OPT_ENV))
		die(EXIT_USAGE, "run: give at least one --env VAR=SECRET (see \"nsvault run --help\")");
	if (cl->dashes_at != 0 || cl->nargs == 0)
		die(EXIT_USAGE, "run: give the command after \"--\" (see \"nsvault run --help\")");
}

/*
 * The child's environment: ours, less any variable that --env sets, and
 * then each VAR=value.  The caller wipes the entries it added.
 */
static char **
child_environment(const CommandLine *cl, const SecretSet *set, const size_t *var_lens,
				  size_t *first_added)
{
	size_t		n = 0;
	char	  **env;

	while (environ[n] != NULL)
		n++;
	env = malloc(sizeof(char *) * (n + set->n + 1));
	if (env == NULL)
		die(EXIT_FAIL, "out of memory");
	*first_added = 0;
	for (size_t i = 0; i < n; i++)
	{
		bool		replaced = false;

		for (size_t k = 0; k < set->n; k++)
			if (strncmp(environ[i], cl->repeated[OPT_ENV][k], var_lens[k] + 1) == 0)
				replaced = true;
		if (!replaced)
			env[(*first_added)++] = environ[i];
	}
	for (size_t k = 0; k < set->n; k++)
	{
		char	   *entry = malloc(var_lens[k] + 1 + set->lens[k] + 1);

		if (entry == NULL)
			die(EXIT_FAIL, "out of memory");
		memcpy(entry, cl->repeated[OPT_ENV][k], var_lens[k] + 1);
		memcpy(entry + var_lens[k] + 1, set->values[k], set->lens[k] + 1);
		env[*first_added + k] = entry;
	}
	env[*first_added + set->n] = NULL;
	return env;
}

/* Wipes and frees the entries child_environment added, and the array. */
static void
wipe_environment(char **env, size_t first_added)
{
	for (size_t i = first_added; env[i] != NULL; i++)
		wipe_and_free(env[i], strlen(env[i]));
	free(env);
}

/* One output stream of the command: the pipe it writes to, and its masker. */
typedef struct Stream
{
	int			pipe[2];
	int			target;			/* our descriptor it goes to */
	Masker	   *masker;
	bool		open;
} Stream;

/*
 * In the child: the streams' pipes as its output (their own descriptors
 * close on exec), then the command; an exec that fails sends its errno
 * back through report.  Caught signals return to their defaults at exec.
 */
static void
exec_command(char **argv, char **env, const Stream *streams, int report)
{
	int			err;

	for (int i = 0; streams != NULL && i < 2; i++)
		if (dup2(streams[i].pipe[1], streams[i].target) < 0)
			break;
	execvpe(argv[0], argv, env);
	err = errno;
	if (write(report, &err, sizeof(err)) < 0)
		_exit(RUN_EXIT_NOT_STARTED);
	_exit(RUN_EXIT_NOT_STARTED);
}

/*
 * Starts the command with env, its output to the streams' pipes unless
 * streams is NULL.  Fails with 127 and one line if it cannot be started.
 */
static pid_t
start_command(char **argv, char **env, const Stream *streams)
{
	int			report[2];
	int			err = 0;
	ssize_t		got;
	pid_t		pid;

	if (pipe2(report, O_CLOEXEC) != 0)
		die(EXIT_FAIL, "run: could not make a pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		die(EXIT_FAIL, "run: could not start a process: %s", strerror(errno));
	if (pid == 0)
		exec_command(argv, env, streams, report[1]);
	close(report[1]);
	while ((got = read(report[0], &err, sizeof(err))) < 0 && errno == EINTR)
		;
	close(report[0]);
	if (got == sizeof(err))
	{
		waitpid(pid, NULL, 0);
		die(RUN_EXIT_NOT_STARTED, "run: could not start \"%s\": %s", argv[0], strerror(err));
	}
	return pid;
}

/* Reads what a stream's pipe holds into its masker; closes it at its end. */
static bool
drain(Stream *stream)
{
	size_t		room;
	char	   *buf = masker_room(stream->masker, &room);
	ssize_t		got = read(stream->pipe[0], buf, room);

	if (got < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (got > 0)
		return masker_took(stream->masker, (size_t) got);
	close(stream->pipe[0]);
	stream->open = false;
	return masker_finish(stream->masker);
}

/* Passes both streams through their maskers until the command closes them. */
static int
relay_output(Stream *streams)
{
	int			status = EXIT_OK;

	while (streams[0].open || streams[1].open)
	{
		struct pollfd pfd[2];

		for (int i = 0; i < 2; i++)
		{
			pfd[i].fd = streams[i].open ? streams[i].pipe[0] : -1;
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
		}
		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			die(EXIT_FAIL, "run: could not wait for the command's output: %s", strerror(errno));
		for (int i = 0; i < 2; i++)
			if (pfd[i].revents != 0 && !drain(&streams[i]) && status == EXIT_OK)
			{
				warn("run: could not write the command's output: %s", strerror(errno));
				status = EXIT_FAIL;
			}
	}
	return status;
}

/* Waits for the command; returns its exit status, or 128+N for signal N. */
static int
wait_command(pid_t pid)
{
	int			wstatus;

	while (waitpid(pid, &wstatus, 0) < 0)
		if (errno != EINTR)
			die(EXIT_FAIL, "run: could not wait for the command: %s", strerror(errno));
	child_pid = 0;
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return WEXITSTATUS(wstatus);
}

/* Makes the pipes and maskers of the two streams, from the patterns. */
static void
open_streams(Stream *streams, const MaskPatterns *patterns)
{
	for (int i = 0; i < 2; i++)
	{
		streams[i].target = i + 1;
		if (pipe2(streams[i].pipe, O_CLOEXEC) != 0)
			die(EXIT_FAIL, "run: could not make a pipe: %s", strerror(errno));
		streams[i].masker = masker_new(patterns, mask_write_fd, &streams[i].target);
		streams[i].open = true;
	}
}

/* Starts the command with the secrets in its environment, then wipes them. */
static pid_t
start_with_secrets(const CommandLine *cl, SecretSet *set, const size_t *var_lens,
				   Stream *streams)
{
	size_t		first_added;
	char	  **env = child_environment(cl, set, var_lens, &first_added);
	pid_t		pid;

	handle_signals();
	pid = start_command(cl->args, env, streams);
	child_pid = pid;
	if (pending_signal != 0)
		kill(pid, pending_signal);
	wipe_environment(env, first_added);
	secrets_wipe(set);
	for (int i = 0; streams != NULL && i < 2; i++)
		close(streams[i].pipe[1]);
	return pid;
}

int
cmd_run(const CommandLine *cl)
{
	SecretSet	set = {0};
	size_t		min_length = mask_min_length(cl, "run");
	size_t	   *var_lens;
	bool		masking = !option_given(cl, OPT_NO_MASK);
	Stream		streams[2] = {0};
	int			relay_status = EXIT_OK;
	int			status;
	pid_t		pid;

	check_run_options(cl);
	var_lens = read_env_options(cl, &set);
	secrets_fetch(&set, cl->conninfo, cl->namespace, "run");
	if (masking)
	{
		MaskPatterns *patterns = secrets_patterns(&set, min_length, "run");

		open_streams(streams, patterns);
		mask_patterns_free(patterns);
	}
	pid = start_with_secrets(cl, &set, var_lens, masking ? streams : NULL);
	if (masking)
		relay_status = relay_output(streams);
	status = wait_command(pid);
	for (int i = 0; masking && i < 2; i++)
		masker_free(streams[i].masker);
	free(var_lens);
	free(set.names);
	return relay_status != EXIT_OK && status == EXIT_OK ? relay_status : status;
}
