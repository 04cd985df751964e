/*
 * config.c — the defaults a command runs with: the connection and the
 * namespace, from the flags, the environment and the config file, in that
 * order of precedence.
 *
 * The file ($NSVAULT_CONFIG, else $XDG_CONFIG_HOME/nsvault/config, else
 * ~/.config/nsvault/config) is optional.  It holds "KEY = VALUE" lines:
 * "service", a connection service of pg_service.conf, and "namespace".
 * It names where secrets are, never a secret or a password.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nsvault.h"

#define CONFIG_LINE_MAX 1024

/* what config_apply made for the command line, until config_release */
static char *made_conninfo;
static char *file_namespace;

typedef struct ConfigFile
{
	char		path[4096];
	char	   *service;
	char	   *namespace;
} ConfigFile;

/* Finds the file's path; false if there is no home to look in. */
static bool
config_path(ConfigFile *config)
{
	const char *explicit = getenv("NSVAULT_CONFIG");
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");

	if (explicit != NULL && explicit[0] != '\0')
		snprintf(config->path, sizeof(config->path), "%s", explicit);
	else if (xdg != NULL && xdg[0] == '/')
		snprintf(config->path, sizeof(config->path), "%s/nsvault/config", xdg);
	else if (home != NULL && home[0] != '\0')
		snprintf(config->path, sizeof(config->path), "%s/.config/nsvault/config", home);
	else
		return false;
	return true;
}

/* Returns s without the white space around it, in place. */
static char *
trim(char *s)
{
	char	   *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

static char *
copy_or_die(const char *s)
{
	char	   *copy = strdup(s);

	if (copy == NULL)
		die(EXIT_FAIL, "out of memory");
	return copy;
}

/* Reads one "KEY = VALUE" line; blank lines and "#" comments are skipped. */
static void
read_config_line(ConfigFile *config, char *line, int lineno)
{
	char	   *text = trim(line);
	char	   *equals;
	char	   *key;
	char	   *value;

	if (text[0] == '\0' || text[0] == '#')
		return;
	equals = strchr(text, '=');
	if (equals == NULL)
		die(EXIT_USAGE, "config file \"%s\", line %d: expected KEY = VALUE", config->path, lineno);
	*equals = '\0';
	key = trim(text);
	value = trim(equals + 1);
	if (value[0] == '\0')
		die(EXIT_USAGE, "config file \"%s\", line %d: \"%s\" has no value", config->path, lineno, key);
	if (strcmp(key, "service") == 0)
		config->service = copy_or_die(value);
	else if (strcmp(key, "namespace") == 0)
		config->namespace = copy_or_die(value);
	else
		die(EXIT_USAGE, "config file \"%s\", line %d: unknown key \"%s\" (it takes service and namespace)",
			config->path, lineno, key);
}

/* Reads the config file if there is one; a file that cannot be read fails. */
static void
read_config(ConfigFile *config)
{
	FILE	   *file;
	char		line[CONFIG_LINE_MAX];
	int			lineno = 0;

	if (!config_path(config))
		return;
	file = fopen(config->path, "r");
	if (file == NULL)
	{
		if (errno == ENOENT || errno == ENOTDIR)
			return;
		die(EXIT_FAIL, "could not read config file \"%s\": %s", config->path, strerror(errno));
	}
	while (fgets(line, sizeof(line), file) != NULL)
	{
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(file))
			die(EXIT_USAGE, "config file \"%s\", line %d: longer than %d bytes",
				config->path, lineno, CONFIG_LINE_MAX - 2);
		read_config_line(config, line, lineno);
	}
	if (ferror(file))
		die(EXIT_FAIL, "could not read config file \"%s\": %s", config->path, strerror(errno));
	fclose(file);
}

/*
 * Whether the environment names a connection: then the file's service
 * gives way to it, as libpq would otherwise let the service override it.
 */
static bool
environment_names_connection(void)
{
	static const char *const variables[] = {"PGSERVICE", "PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE"};

	for (size_t i = 0; i < sizeof(variables) / sizeof(variables[0]); i++)
	{
		const char *value = getenv(variables[i]);

		if (value != NULL && value[0] != '\0')
			return true;
	}
	return false;
}

/*
 * Sets cl's connection and namespace: -d, else the environment's PG*
 * variables (libpq reads them), else the file's service; -n, else
 * NSVAULT_NAMESPACE, else the file's namespace.
 */
void
config_apply(CommandLine *cl)
{
	ConfigFile	config = {"", NULL, NULL};
	const char *env_namespace = getenv("NSVAULT_NAMESPACE");

	read_config(&config);
	cl->conninfo = cl->value[OPT_DBNAME];
	if (cl->conninfo == NULL && config.service != NULL && !environment_names_connection())
	{
		size_t		size = strlen(config.service) * 2 + sizeof("service=''");
		char	   *conninfo = malloc(size);
		char	   *out = conninfo;

		if (conninfo == NULL)
			die(EXIT_FAIL, "out of memory");
		/* a conninfo value in quotes, its quotes and backslashes escaped */
		out += sprintf(out, "service='");
		for (const char *p = config.service; *p; p++)
		{
			if (*p == '\'' || *p == '\\')
				*out++ = '\\';
			*out++ = *p;
		}
		strcpy(out, "'");
		cl->conninfo = made_conninfo = conninfo;
	}
	if (option_given(cl, OPT_NAMESPACE))
	{
		cl->namespace = cl->value[OPT_NAMESPACE];
		cl->namespace_from = NAMESPACE_FLAG;
	}
	else if (env_namespace != NULL && env_namespace[0] != '\0')
	{
		cl->namespace = env_namespace;
		cl->namespace_from = NAMESPACE_ENV;
	}
	else if (config.namespace != NULL)
	{
		cl->namespace = config.namespace;
		cl->namespace_from = NAMESPACE_FILE;
	}
	free(config.service);
	file_namespace = config.namespace;
}

/* Frees what config_apply made; the command line must not use it after. */
void
config_release(void)
{
	free(made_conninfo);
	free(file_namespace);
	made_conninfo = file_namespace = NULL;
}
