/*
 * main.c — the nsvault client: global options and command dispatch.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "nsvault.h"

const char *progname = "nsvault";

static const char *usage =
"nsvault is the client of the nsvault secret store: administration, and\n"
"action-input enrichment for workflow engines.\n"
"\n"
"Usage:\n"
"  nsvault [-d CONNINFO] COMMAND ...\n"
"\n"
"Commands:\n"
"  secret set|get|list|delete        manage a namespace's secrets\n"
"  registry set|list|delete|docker-config\n"
"                                    manage container registry credentials\n"
"  enrich                            print an action's input, with its secrets\n"
"\n"
"Options:\n"
"  -d, --dbname=CONNINFO  database to use: a keyword string or URI; without it\n"
"                         the PG* environment variables, ~/.pgpass and service\n"
"                         files apply, as for psql\n"
"  -?, --help             show this help, then exit\n"
"\n"
"\"nsvault COMMAND --help\" describes each command.  Values are read from\n"
"standard input, never from arguments.\n"
"\n"
"Exit status: 0 done, 2 usage error or a value that is not valid UTF-8, 3 a\n"
"named secret or registry does not exist, 1 any other failure.\n";

int
main(int argc, char **argv)
{
	static const struct option long_options[] = {
		{"dbname", required_argument, NULL, 'd'},
		{"help", no_argument, NULL, '?'},
		{NULL, 0, NULL, 0}
	};
	const char *conninfo = NULL;
	int			c;

	/* no core dumps or same-user ptrace of a process that holds secrets */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+d:?", long_options, NULL)) != -1)
	{
		switch (c)
		{
			case 'd':
				conninfo = optarg;
				break;
			case '?':
				if (optopt != 0 && optopt != '?')
					die(EXIT_USAGE, "unknown option \"%s\" (see \"nsvault --help\")",
						argv[optind - 1]);
				fputs(usage, stdout);
				return EXIT_OK;
		}
	}
	if (optind >= argc)
		die(EXIT_USAGE, "no command given (see \"nsvault --help\")");

	argc -= optind;
	argv += optind;
	if (strcmp(argv[0], "secret") == 0)
		return cmd_secret(conninfo, argc, argv);
	if (strcmp(argv[0], "registry") == 0)
		return cmd_registry(conninfo, argc, argv);
	if (strcmp(argv[0], "enrich") == 0)
		return cmd_enrich(conninfo, argc, argv);
	if (strcmp(argv[0], "help") == 0)
	{
		fputs(usage, stdout);
		return EXIT_OK;
	}
	die(EXIT_USAGE, "unknown command \"%s\" (see \"nsvault --help\")", argv[0]);
}
