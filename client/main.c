/*
 * main.c — the nsvault client: its command line and command dispatch.
 *
 * Every command's options are read in one pass, wherever they stand: before
 * the command, between its words or after its operands, as psql reads its
 * own.  Each command then refuses the options that are not its own.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "nsvault.h"

const char *progname = "nsvault";

static const char usage[] =
"nsvault is the client of the nsvault secret store: administration, and\n"
"action-input enrichment for workflow engines.\n"
"\n"
"Usage:\n"
"  nsvault [OPTION]... COMMAND ...\n"
"\n"
"Commands:\n"
"  secret set|get|list|delete|versions|rollback|undelete|destroy|purge|meta\n"
"                                    manage a namespace's secrets\n"
"  registry set|list|delete|docker-config\n"
"                                    manage container registry credentials\n"
"  enrich                            print an action's input, with its secrets\n"
"  mask                              copy standard input, masking secret values\n"
"  run                               run a command with secrets in its environment\n"
"  version                           print the client's version, then exit\n"
"  help                              show this help, then exit\n"
"\n"
"Options:\n"
"  -d, --dbname=CONNINFO  database to use: a keyword string or URI; without it\n"
"                         the PG* environment variables, ~/.pgpass and service\n"
"                         files apply, as for psql, else the config file's\n"
"                         service\n"
"  -n, --namespace=NS     namespace to use; without it NSVAULT_NAMESPACE, else\n"
"                         the config file's namespace\n"
"  -q, --quiet            no confirmation of a change on standard error\n"
"      --json             print JSON (the commands that print listings or\n"
"                         versions)\n"
"  -V, --version          print the client's version, then exit\n"
"  -?, --help             show this help, then exit\n"
"\n"
"Options may stand anywhere: before the command, between its words, after its\n"
"operands; \"--\" makes all that follows operands.  \"nsvault COMMAND --help\"\n"
"describes each command, \"nsvault secret set --help\" one subcommand.  Values\n"
"are read from standard input, never from arguments.\n"
"\n"
"The config file, $NSVAULT_CONFIG or else ~/.config/nsvault/config, is\n"
"optional: \"service = NAME\" and \"namespace = NS\" lines.  Flags beat the\n"
"environment, which beats the file.\n"
"\n"
"Exit status: 0 done, 2 usage error or a value that is not valid UTF-8, 3 a\n"
"named secret or registry does not exist, 4 a check-and-set found another\n"
"version, 1 any other failure.\n";

/*
 * Every option, at the index of its Option.  An option without a letter
 * gets a code above any character's.
 */
#define LONG_ONLY(opt) (256 + (opt))
static const struct option long_options[] = {
	/* every command's */
	[OPT_DBNAME] = {"dbname", required_argument, NULL, 'd'},
	[OPT_HELP] = {"help", no_argument, NULL, 'h'},
	[OPT_VERSION] = {"version", optional_argument, NULL, 'V'},
	[OPT_NAMESPACE] = {"namespace", required_argument, NULL, 'n'},
	[OPT_QUIET] = {"quiet", no_argument, NULL, 'q'},
	[OPT_JSON] = {"json", no_argument, NULL, LONG_ONLY(OPT_JSON)},
	/* enrich's */
	[OPT_WORKFLOW] = {"workflow", required_argument, NULL, 'w'},
	[OPT_STATE] = {"state", required_argument, NULL, 's'},
	[OPT_ACTION] = {"action", required_argument, NULL, 'a'},
	[OPT_DATA] = {"data", required_argument, NULL, LONG_ONLY(OPT_DATA)},
	[OPT_BATCH] = {"batch", no_argument, NULL, LONG_ONLY(OPT_BATCH)},
	[OPT_JS_TIMEOUT] = {"js-timeout", required_argument, NULL, LONG_ONLY(OPT_JS_TIMEOUT)},
	[OPT_JS_MEMORY] = {"js-memory", required_argument, NULL, LONG_ONLY(OPT_JS_MEMORY)},
	/* secret's and registry's */
	[OPT_NO_OVERWRITE] = {"no-overwrite", no_argument, NULL, LONG_ONLY(OPT_NO_OVERWRITE)},
	[OPT_GLOBAL] = {"global", no_argument, NULL, LONG_ONLY(OPT_GLOBAL)},
	[OPT_PRIVATE] = {"private", no_argument, NULL, LONG_ONLY(OPT_PRIVATE)},
	[OPT_GLOBAL_SERVICE] = {"global-service", no_argument, NULL, LONG_ONLY(OPT_GLOBAL_SERVICE)},
	[OPT_CAS] = {"cas", required_argument, NULL, LONG_ONLY(OPT_CAS)},
	[OPT_SECRET_VERSION] = {"secret-version", required_argument, NULL, LONG_ONLY(OPT_SECRET_VERSION)},
	[OPT_NO_NEWLINE] = {"no-newline", no_argument, NULL, LONG_ONLY(OPT_NO_NEWLINE)},
	[OPT_DESCRIPTION] = {"description", required_argument, NULL, LONG_ONLY(OPT_DESCRIPTION)},
	[OPT_EXPIRES] = {"expires", required_argument, NULL, LONG_ONLY(OPT_EXPIRES)},
	[OPT_EXPIRING] = {"expiring", required_argument, NULL, LONG_ONLY(OPT_EXPIRING)},
	/* mask's and run's */
	[OPT_SECRET] = {"secret", required_argument, NULL, LONG_ONLY(OPT_SECRET)},
	[OPT_ENV] = {"env", required_argument, NULL, 'e'},
	[OPT_NO_MASK] = {"no-mask", no_argument, NULL, LONG_ONLY(OPT_NO_MASK)},
	[OPT_MIN_LENGTH] = {"min-length", required_argument, NULL, LONG_ONLY(OPT_MIN_LENGTH)},
	[OPT_ALL] = {"all", no_argument, NULL, LONG_ONLY(OPT_ALL)},
	[OPT_PREFIX] = {"prefix", required_argument, NULL, LONG_ONLY(OPT_PREFIX)},
	[NUM_OPTIONS] = {NULL, 0, NULL, 0}
};

/*
 * The letters of the table, after "-", which hands over operands in order
 * whatever POSIXLY_CORRECT says, and ":", which tells a missing value from
 * an unknown option.  -? is help too; getopt reports it as unknown.
 */
#define SHORT_OPTIONS "-:d:hVn:qw:s:a:e:"

#define ADMIN_OPTIONS \
	(OPTION_BIT(OPT_NO_OVERWRITE) | OPTION_BIT(OPT_GLOBAL) | \
	 OPTION_BIT(OPT_PRIVATE) | OPTION_BIT(OPT_GLOBAL_SERVICE) | OPTION_BIT(OPT_CAS) | \
	 OPTION_BIT(OPT_SECRET_VERSION) | OPTION_BIT(OPT_NO_NEWLINE) | OPTION_BIT(OPT_DESCRIPTION) | \
	 OPTION_BIT(OPT_EXPIRES) | OPTION_BIT(OPT_EXPIRING) | OPTION_BIT(OPT_JSON))
#define ENRICH_OPTIONS \
	(OPTION_BIT(OPT_WORKFLOW) | OPTION_BIT(OPT_STATE) | \
	 OPTION_BIT(OPT_ACTION) | OPTION_BIT(OPT_DATA) | OPTION_BIT(OPT_BATCH) | \
	 OPTION_BIT(OPT_JS_TIMEOUT) | OPTION_BIT(OPT_JS_MEMORY) | OPTION_BIT(OPT_JSON))
#define MASK_OPTIONS \
	(OPTION_BIT(OPT_SECRET) | OPTION_BIT(OPT_ACTION) | \
	 OPTION_BIT(OPT_WORKFLOW) | OPTION_BIT(OPT_STATE) | OPTION_BIT(OPT_MIN_LENGTH))
#define RUN_OPTIONS \
	(OPTION_BIT(OPT_ENV) | OPTION_BIT(OPT_NO_MASK) | OPTION_BIT(OPT_MIN_LENGTH) | \
	 OPTION_BIT(OPT_ALL) | OPTION_BIT(OPT_PREFIX))
/* options that may be given more than once, each value kept */
#define REPEATED_OPTIONS (OPTION_BIT(OPT_SECRET) | OPTION_BIT(OPT_ENV))
/* every command takes these */
#define COMMON_OPTIONS \
	(OPTION_BIT(OPT_DBNAME) | OPTION_BIT(OPT_HELP) | OPTION_BIT(OPT_NAMESPACE) | \
	 OPTION_BIT(OPT_QUIET))

typedef struct Command
{
	const char *name;
	int			(*run) (const CommandLine *cl);
	const char *usage;			/* what --help prints */
	uint64_t	options;		/* OPTION_BIT of each option it takes */
	/* what --help prints after the command's first operand, if not usage */
	const char *(*usage_of) (const CommandLine *cl);
} Command;

static int	print_usage(const CommandLine *cl);
static int	print_version(const CommandLine *cl);

static const char version_usage[] =
"Usage:\n"
"  nsvault version [--json]\n"
"  nsvault -V, --version\n"
"\n"
"Prints the client's version, \"nsvault X.Y.Z\" (--json: an object with\n"
"\"program\" and \"version\"), then exits.\n";

/* An option's long name, without "--". */
const char *
option_name(Option opt)
{
	return long_options[opt].name;
}

static const Command commands[] = {
	{"secret", cmd_secret, NULL, COMMON_OPTIONS | ADMIN_OPTIONS, secret_usage_of},
	{"registry", cmd_registry, NULL, COMMON_OPTIONS | ADMIN_OPTIONS, registry_usage_of},
	{"enrich", cmd_enrich, enrich_usage, COMMON_OPTIONS | ENRICH_OPTIONS, NULL},
	{"mask", cmd_mask, mask_usage, COMMON_OPTIONS | MASK_OPTIONS, NULL},
	{"run", cmd_run, run_usage, COMMON_OPTIONS | RUN_OPTIONS, NULL},
	{"version", print_version, version_usage,
	COMMON_OPTIONS | OPTION_BIT(OPT_VERSION) | OPTION_BIT(OPT_JSON), NULL},
	{"help", print_usage, usage, COMMON_OPTIONS, NULL},
};

#define lengthof(array) (sizeof(array) / sizeof((array)[0]))

static const Command *find_command(const char *name);
static void print_help_of(const Command *command, const CommandLine *cl);

/* Prints the help, or with operands (help secret set) the help they name. */
static int
print_usage(const CommandLine *cl)
{
	CommandLine rest = *cl;

	if (cl->nargs == 0)
	{
		fputs(usage, stdout);
		return EXIT_OK;
	}
	rest.args = cl->args + 1;
	rest.nargs = cl->nargs - 1;
	print_help_of(find_command(cl->args[0]), &rest);
	return EXIT_OK;
}

static int
print_version(const CommandLine *cl)
{
	if (option_given(cl, OPT_JSON))
		printf("{\"program\":\"nsvault\",\"version\":\"%s\"}\n", NSVAULT_CLIENT_VERSION);
	else
		printf("nsvault %s\n", NSVAULT_CLIENT_VERSION);
	return EXIT_OK;
}

/*
 * Fails with a usage error, naming the command once there is one, and
 * pointing to its help.
 */
static void
usage_error(const Command *command, const char *fmt,...)
	__attribute__((format(printf, 2, 3), noreturn));

static void
usage_error(const Command *command, const char *fmt,...)
{
	va_list		ap;
	char		message[512];

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	if (command == NULL)
		die(EXIT_USAGE, "%s (see \"nsvault --help\")", message);
	die(EXIT_USAGE, "%s: %s (see \"nsvault %s --help\")", command->name, message, command->name);
}

static const Command *
find_command(const char *name)
{
	for (size_t i = 0; i < lengthof(commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	usage_error(NULL, "unknown command \"%s\"", name);
}

/* Prints the help of command (NULL: the client's), or of the subcommand cl names. */
static void
print_help_of(const Command *command, const CommandLine *cl)
{
	if (command == NULL || command->run == print_usage)
		fputs(usage, stdout);
	else if (command->usage_of != NULL)
		fputs(command->usage_of(cl), stdout);
	else
		fputs(command->usage, stdout);
}

/* Maps getopt_long's code for an option to the option. */
static Option
option_of(int code)
{
	for (int opt = 0; opt < NUM_OPTIONS; opt++)
		if (long_options[opt].val == code)
			return (Option) opt;
	return OPT_HELP;			/* -?, the one letter getopt does not know */
}

/*
 * Fails on an option getopt_long could not read: arg is the argument it
 * was reading, "--name[=value]" or a cluster of letters (then optopt is the
 * letter).
 */
static void
bad_option(const Command *command, const CommandLine *cl, const char *arg, bool missing_value)
{
	char		name[64];
	const char *equals = strchr(arg, '=');

	if (strncmp(arg, "--", 2) != 0)
		snprintf(name, sizeof(name), "-%c", optopt);
	else
		snprintf(name, sizeof(name), "%.*s",
				 equals ? (int) (equals - arg) : (int) strlen(arg), arg);
	if (missing_value)
		usage_error(command, "option \"%s\" needs a value", name);
	for (int opt = 0; equals != NULL && opt < NUM_OPTIONS; opt++)
		if (strcmp(name + 2, long_options[opt].name) == 0)
			usage_error(command, "option \"%s\" takes no value", name);
	/* run's command, once named, takes its own options only after "--" */
	if (command != NULL && command->run == cmd_run && cl->nargs > 0)
		usage_error(command, "unknown option \"%s\"; if it is an option of \"%s\", put \"--\" before the command: nsvault run ... -- %s %s",
					name, cl->args[0], cl->args[0], arg);
	usage_error(command, "unknown option \"%s\"", name);
}

/* Takes one operand: the command, or one of its operands. */
static const Command *
add_operand(CommandLine *cl, const Command *command, char *operand)
{
	if (command == NULL)
		return find_command(operand);
	cl->args[cl->nargs++] = operand;
	return command;
}

/* Keeps an option's value; every value of one that may be repeated. */
static void
set_option(CommandLine *cl, Option opt, const char *value, int argc)
{
	cl->value[opt] = value != NULL ? value : "";
	if (!(REPEATED_OPTIONS & OPTION_BIT(opt)))
		return;
	if (cl->repeated[opt] == NULL)
		cl->repeated[opt] = malloc(sizeof(char *) * argc);
	if (cl->repeated[opt] == NULL)
		die(EXIT_FAIL, "out of memory");
	cl->repeated[opt][cl->nrepeated[opt]++] = value;
}

/*
 * Reads the command line into cl and returns the command (NULL if there
 * is none).  An unknown command fails at once, so that what follows it
 * can be reported against it.  --help ends the reading; "--" makes the
 * rest operands.
 */
static const Command *
read_command_line(int argc, char **argv, CommandLine *cl)
{
	const Command *command = NULL;
	int			code;
	int			arg = optind;

	memset(cl, 0, sizeof(*cl));
	cl->dashes_at = -1;
	cl->version_bare_at = -1;
	cl->args = calloc(argc + 1, sizeof(char *));	/* NULL after the last, as for exec */
	if (cl->args == NULL)
		die(EXIT_FAIL, "out of memory");
	opterr = 0;
	while ((code = getopt_long(argc, argv, SHORT_OPTIONS, long_options, NULL)) != -1)
	{
		Option		opt;

		if (code == 1)
			command = add_operand(cl, command, optarg);
		else if (code == ':' || (code == '?' && optopt != '?'))
			bad_option(command, cl, argv[arg], code == ':');
		else if ((opt = option_of(code)) == OPT_HELP)
		{
			cl->value[OPT_HELP] = "";
			return command;
		}
		else
		{
			/* "--version N" in secret get: N may be its value (see secret_version_spelling) */
			if (opt == OPT_VERSION && optarg == NULL && strncmp(argv[arg], "--", 2) == 0)
				cl->version_bare_at = cl->nargs;
			set_option(cl, opt, optarg, argc);
		}
		arg = optind;
	}
	if (optind > 1 && strcmp(argv[optind - 1], "--") == 0)
		cl->dashes_at = cl->nargs;
	while (optind < argc)
		command = add_operand(cl, command, argv[optind++]);
	return command;
}

/* Fails if an option was given that the command does not take. */
static void
refuse_other_options(const Command *command, const CommandLine *cl)
{
	for (int opt = 0; opt < NUM_OPTIONS; opt++)
		if (option_given(cl, opt) && !(command->options & OPTION_BIT(opt)))
			usage_error(command, "unknown option \"--%s\"", long_options[opt].name);
}

static void
free_command_line(CommandLine *cl)
{
	free(cl->args);
	for (int opt = 0; opt < NUM_OPTIONS; opt++)
		free(cl->repeated[opt]);
}

/*
 * Reads "secret get --version N", the spelling of --secret-version before
 * --version printed the version: true if cl is such a command, which then
 * has its --secret-version.  Any other command refuses --version.
 */
static bool
secret_version_spelling(const Command *command, CommandLine *cl)
{
	const char *value = cl->value[OPT_VERSION];

	if (command == NULL || command->run != cmd_secret || cl->nargs < 1 ||
		strcmp(cl->args[0], "get") != 0)
		return false;
	if (option_given(cl, OPT_SECRET_VERSION))
		usage_error(command, "give --secret-version once, not with --version too");
	if (value[0] == '\0')
	{
		if (cl->version_bare_at < 1 || cl->version_bare_at >= cl->nargs)
			usage_error(command, "option \"--version\" needs a value");
		value = cl->args[cl->version_bare_at];
		memmove(&cl->args[cl->version_bare_at], &cl->args[cl->version_bare_at + 1],
				sizeof(char *) * (cl->nargs - cl->version_bare_at));
		cl->nargs--;
	}
	cl->value[OPT_SECRET_VERSION] = value;
	cl->value[OPT_VERSION] = NULL;
	return true;
}

int
main(int argc, char **argv)
{
	CommandLine cl;
	const Command *command;
	int			status;

	/* no core dumps or same-user ptrace of a process that holds secrets */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	/* output that cannot be written is an error, whatever the command */
	check_output_on_exit();

	command = read_command_line(argc, argv, &cl);
	if (option_given(&cl, OPT_HELP))
	{
		print_help_of(command, &cl);
		free_command_line(&cl);
		return EXIT_OK;
	}
	/* alone, --version is the version command; with another, it is refused */
	if (option_given(&cl, OPT_VERSION) && command == NULL)
		command = find_command("version");
	else if (option_given(&cl, OPT_VERSION))
		secret_version_spelling(command, &cl);
	if (command == NULL)
		usage_error(NULL, "no command given");
	refuse_other_options(command, &cl);
	config_apply(&cl);
	status = command->run(&cl);
	free_command_line(&cl);
	config_release();
	return status;
}
