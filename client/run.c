/*
 * run.c — the run command: a command started with secrets in its
 * environment, its output masked.
 *
 * Which variables hold which secrets is run_env.c's.  The values go into
 * the child's environment only, never its argv.  Its standard output and
 * standard error each pass through a masker of their own, to ours, so the
 * two streams stay apart.  Once the child has started the values are
 * wiped: the maskers keep only the patterns.
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
#include "run_env.h"

const char run_usage[] =
"Usage:\n"
"  nsvault [-d CONNINFO] run [--namespace NS] [--env VAR=SECRET ...] [--all | --prefix PREFIX]\n"
"                            [--no-mask] [--min-length N] -- COMMAND [ARG ...]\n"
"\n"
"Runs COMMAND with secrets' values in its environment.  Its standard output\n"
"and standard error are masked as \"nsvault mask\" masks (see \"nsvault mask\n"
"--help\"), each on its own stream.  SIGINT, SIGTERM and SIGHUP are passed\n"
"on to it.\n"
"\n"
"The secrets: each --env's, in its VAR; in each variable of ours whose whole\n"
"value is a reference, nsvault://SECRET, that secret; with --all every\n"
"secret of the namespace that the role can read, with --prefix those whose\n"
"names start with PREFIX, each in the variable its name gives: the name\n"
"(after PREFIX) upper-cased, each character other than a letter, digit or\n"
"_ as _, so db/password is DB_PASSWORD, and PASSWORD with --prefix db/.\n"
"--env wins a variable over a reference, a reference over --all, and each\n"
"over a variable of ours.  --all and --prefix leave out, with a warning, an\n"
"expired secret and one whose name gives no variable.\n"
"\n"
"  -n, --namespace=NS     namespace of the secrets; default NSVAULT_NAMESPACE,\n"
"                         then the config file's\n"
"  -e, --env=VAR=SECRET   put secret SECRET's value in variable VAR; may be repeated\n"
"      --all              put every secret the role can read in the environment\n"
"      --prefix=PREFIX    the same for the secrets whose names start with PREFIX\n"
"      --no-mask          pass the command's output through untouched\n"
"      --min-length=N     leave values shorter than N bytes unmasked (default 4)\n"
"\n"
"Exit status: the command's; 128+N if a signal N ended it; 127 if it could\n"
"not be started; 2 usage error, two listed secrets that give one variable\n"
"or a reference that is not nsvault://SECRET; 3 a secret named by --env or\n"
"a reference does not exist (the command is not started); 1 any other\n"
"failure.\n";

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

/*
 * Checks run's command line: a namespace, not both --all and --prefix, a
 * prefix that is not empty, and a command after "--".  run_plan_named
 * checks that something names a secret.
 */
static void
check_run_options(const CommandLine *cl)
{
	if (cl->namespace == NULL)
		die(EXIT_USAGE, "run: --namespace is required (or NSVAULT_NAMESPACE, or the config file's namespace; see \"nsvault run --help\")");
	if (option_given(cl, OPT_ALL) && option_given(cl, OPT_PREFIX))
		die(EXIT_USAGE, "run: give --all or --prefix PREFIX, not both (see \"nsvault run --help\")");
	if (option_given(cl, OPT_PREFIX) && cl->value[OPT_PREFIX][0] == '\0')
		die(EXIT_USAGE, "run: --prefix takes a prefix that is not empty; --all takes every secret (see \"nsvault run --help\")");
	if (cl->dashes_at != 0 || cl->nargs == 0)
		die(EXIT_USAGE, "run: give the command after \"--\" (see \"nsvault run --help\")");
}

/* Wipes and frees the entries run_plan_environment added, and the array. */
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
 * streams is NULL.  Returns -1 with *exec_error set if it could not be
 * started.
 */
static pid_t
start_command(char **argv, char **env, const Stream *streams, int *exec_error)
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
		*exec_error = err;
		return -1;
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

/*
 * Starts the command with the secrets in its environment, then wipes them;
 * fails with 127 and one line, once they are wiped, if it cannot start.
 */
static pid_t
start_with_secrets(const CommandLine *cl, RunPlan *plan, Stream *streams)
{
	size_t		first_added;
	char	  **env = run_plan_environment(plan, &first_added);
	int			exec_error = 0;
	pid_t		pid;

	handle_signals();
	pid = start_command(cl->args, env, streams, &exec_error);
	wipe_environment(env, first_added);
	secrets_wipe(&plan->set);
	if (pid < 0)
		die(RUN_EXIT_NOT_STARTED, "run: could not start \"%s\": %s", cl->args[0],
			strerror(exec_error));
	child_pid = pid;
	if (pending_signal != 0)
		kill(pid, pending_signal);
	for (int i = 0; streams != NULL && i < 2; i++)
		close(streams[i].pipe[1]);
	return pid;
}

int
cmd_run(const CommandLine *cl)
{
	RunPlan		plan;
	size_t		min_length = mask_min_length(cl, "run");
	bool		masking = !option_given(cl, OPT_NO_MASK);
	Stream		streams[2] = {0};
	int			relay_status = EXIT_OK;
	int			status;
	pid_t		pid;

	check_run_options(cl);
	run_plan_named(&plan, cl);
	run_plan_fetch(&plan, cl);
	if (masking)
	{
		MaskPatterns *patterns = secrets_patterns(&plan.set, min_length, "run");

		open_streams(streams, patterns);
		mask_patterns_free(patterns);
	}
	pid = start_with_secrets(cl, &plan, masking ? streams : NULL);
	if (masking)
		relay_status = relay_output(streams);
	status = wait_command(pid);
	for (int i = 0; masking && i < 2; i++)
		masker_free(streams[i].masker);
	run_plan_free(&plan);
	return relay_status != EXIT_OK && status == EXIT_OK ? relay_status : status;
}
