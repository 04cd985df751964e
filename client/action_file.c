/*
 * action_file.c — an action, read from its file or from its workflow's
 * state, as enrich and mask read it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "action_file.h"

/* The UTF-16 unit of the escape \uXXXX at p (n bytes left), or -1 if there is none. */
static long
escaped_unit(const char *p, size_t n)
{
	long		unit = 0;

	if (n < 6 || p[0] != '\\' || p[1] != 'u')
		return -1;
	for (int i = 2; i < 6; i++)
	{
		int			digit = (p[i] >= '0' && p[i] <= '9') ? p[i] - '0' :
			(p[i] >= 'a' && p[i] <= 'f') ? p[i] - 'a' + 10 :
			(p[i] >= 'A' && p[i] <= 'F') ? p[i] - 'A' + 10 : -1;

		if (digit < 0)
			return -1;
		unit = unit * 16 + digit;
	}
	return unit;
}

/*
 * Rewrites, in place, each escaped surrogate that is not half of a pair as
 * \uFFFD, as Go's decoder reads it (jansson refuses it).  The two are the
 * same length.
 */
static void
replace_lone_surrogates(char *text, size_t len)
{
	bool		in_string = false;

	for (size_t i = 0; i < len; i++)
	{
		long		unit;

		if (text[i] == '"')
			in_string = !in_string;
		else if (in_string && text[i] == '\\' && (unit = escaped_unit(text + i, len - i)) < 0)
			i++;				/* another escape: skip its second byte */
		else if (in_string && text[i] == '\\')
		{
			long		next = (len - i >= 12) ? escaped_unit(text + i + 6, len - i - 6) : -1;

			if (unit >= 0xD800 && unit <= 0xDBFF && next >= 0xDC00 && next <= 0xDFFF)
				i += 6;			/* a pair: both halves stay */
			else if (unit >= 0xD800 && unit <= 0xDFFF)
				memcpy(text + i + 2, "FFFD", 4);
			i += 5;
		}
	}
}

/*
 * Parses JSON as Direktiv (Go's encoding/json into interface{}) reads it:
 * every number is a float64, so integers past 2^53 round as doubles do and
 * -0 keeps its sign, while a number beyond the double range (1e400) is an
 * error; strings may hold \u0000; an escaped surrogate that is not half of
 * a pair reads as U+FFFD.
 */
json_t *
parse_json(const char *text, size_t len, size_t flags, json_error_t *error)
{
	char	   *copy = NULL;
	json_t	   *value;

	if (memchr(text, '\\', len) != NULL)
	{
		copy = malloc(len ? len : 1);
		if (copy == NULL)
			die(EXIT_FAIL, "out of memory");
		memcpy(copy, text, len);
		replace_lone_surrogates(copy, len);
		text = copy;
	}
	value = json_loadb(text, len, flags | JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, error);
	wipe_and_free(copy, len);
	return value;
}

/* parse_json on a file's contents. */
json_t *
parse_json_file(const char *path, size_t flags, json_error_t *error)
{
	int			fd = open(path, O_RDONLY);
	size_t		len;
	char	   *text = fd >= 0 ? read_all(fd, &len) : NULL;
	json_t	   *value;

	if (fd >= 0)
		close(fd);
	if (text == NULL)
	{
		int			reason = errno;

		/* no code of jansson's: json_error_code() reads the last byte */
		memset(error, 0, sizeof(*error));
		snprintf(error->text, sizeof(error->text), "%s", strerror(reason));
		return NULL;
	}
	value = parse_json(text, len, flags, error);
	wipe_and_free(text, len);
	return value;
}

/*
 * Reads a JSON or YAML file that must hold an object.  JSON with a key
 * twice goes to the YAML reader, which refuses it as Direktiv's yaml.v3 does.
 */
static json_t *
load_document(const char *path, const char *what, const char *command)
{
	json_error_t json_error;
	json_t	   *doc = parse_json_file(path, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &json_error);
	char		error[512];

	/* JSON whose only fault is a number past the double range is refused, as Direktiv refuses it */
	if (doc == NULL && json_error_code(&json_error) == json_error_numeric_overflow)
		die(EXIT_FAIL, "%s: could not read the %s: \"%s\" holds a number out of range", command, what, path);
	if (doc == NULL)
		doc = yaml_file_to_json(path, error, sizeof(error));
	if (doc == NULL)
		die(EXIT_FAIL, "%s: could not read the %s: %s", command, what, error);
	if (!json_is_object(doc))
		die(EXIT_FAIL, "%s: the %s in \"%s\" is not a mapping", command, what, path);
	return doc;
}

/* Finds the action of state id in a workflow; tells whether it calls a subflow. */
static const json_t *
workflow_action(const json_t *workflow, const char *path, const char *id, bool *is_subflow,
				const char *command)
{
	const json_t *states = json_object_get(workflow, "states");
	const json_t *functions = json_object_get(workflow, "functions");
	const json_t *state = NULL;
	const json_t *action;
	const char *function;

	for (size_t i = 0; i < json_array_size(states); i++)
	{
		const json_t *candidate = json_array_get(states, i);
		const char *candidate_id = json_string_value(json_object_get(candidate, "id"));

		if (candidate_id != NULL && strcmp(candidate_id, id) == 0)
			state = candidate;
	}
	if (state == NULL)
		die(EXIT_FAIL, "%s: workflow \"%s\" has no state \"%s\"", command, path, id);
	if (!json_is_string(json_object_get(state, "type")) ||
		strcmp(json_string_value(json_object_get(state, "type")), "action") != 0)
		die(EXIT_FAIL, "%s: state \"%s\" of workflow \"%s\" is not of type action", command, id, path);
	action = json_object_get(state, "action");
	if (!json_is_object(action))
		die(EXIT_FAIL, "%s: state \"%s\" of workflow \"%s\" has no action", command, id, path);

	*is_subflow = json_object_get(action, "workflow") != NULL;
	function = json_string_value(json_object_get(action, "function"));
	for (size_t i = 0; function != NULL && i < json_array_size(functions); i++)
	{
		const json_t *fn = json_array_get(functions, i);
		const char *fn_id = json_string_value(json_object_get(fn, "id"));
		const char *fn_type = json_string_value(json_object_get(fn, "type"));

		if (fn_id != NULL && strcmp(fn_id, function) == 0 &&
			fn_type != NULL && strcmp(fn_type, "subflow") == 0)
			*is_subflow = true;
	}
	return action;
}

/*
 * Loads the action the options name; *doc is the document that holds it,
 * for the caller to free.  Errors name command ("enrich", "mask").
 */
const json_t *
load_action(const CommandLine *cl, const char *command, json_t **doc, bool *is_subflow)
{
	const char *workflow_path = cl->value[OPT_WORKFLOW];

	if (workflow_path != NULL)
	{
		*doc = load_document(workflow_path, "workflow", command);
		return workflow_action(*doc, workflow_path, cl->value[OPT_STATE], is_subflow, command);
	}
	*doc = load_document(cl->value[OPT_ACTION], "action", command);
	*is_subflow = json_object_get(*doc, "workflow") != NULL;
	return *doc;
}
