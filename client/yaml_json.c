/*
 * yaml_json.c — reads a YAML file (workflow or action) into JSON values.
 *
 * Plain scalars are resolved with YAML 1.2's core schema: null, ~ and the
 * empty scalar are null; true and false (any case form YAML allows) are
 * booleans; decimal, 0x and 0o integers and decimal, .inf and .nan floats
 * are numbers; everything else, and every quoted scalar, is a string.
 * Aliases are expanded; the first document of a stream is used.  Explicit
 * tags are not honoured: libyaml's loader cannot tell them from its defaults.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "nsvault.h"

static bool
matches(const char *s, const char *const *words)
{
	for (; *words; words++)
		if (strcmp(s, *words) == 0)
			return true;
	return false;
}

/* Resolves a plain scalar to null, boolean, number or string. */
static json_t *
plain_scalar(const char *s, size_t len)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
	static const char *const trues[] = {"true", "True", "TRUE", NULL};
	static const char *const falses[] = {"false", "False", "FALSE", NULL};
	static const char *const infs[] = {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", NULL};
	static const char *const ninfs[] = {"-.inf", "-.Inf", "-.INF", NULL};
	static const char *const nans[] = {".nan", ".NaN", ".NAN", NULL};
	char	   *end;
	size_t		digits;

	if (matches(s, nulls))
		return json_null();
	if (matches(s, trues))
		return json_true();
	if (matches(s, falses))
		return json_false();
	if (matches(s, infs))
		return json_real(1.7976931348623157e308);
	if (matches(s, ninfs))
		return json_real(-1.7976931348623157e308);
	if (matches(s, nans))
		return json_null();

	/* integers: [-+]?[0-9]+, 0o[0-7]+, 0x[0-9a-fA-F]+ */
	if ((strncmp(s, "0x", 2) == 0 && len > 2) || (strncmp(s, "0o", 2) == 0 && len > 2))
	{
		long long	value;

		errno = 0;
		value = strtoll(s + 2, &end, s[1] == 'x' ? 16 : 8);
		if (*end == '\0' && errno == 0)
			return json_integer(value);
		return json_stringn(s, len);
	}
	digits = strspn(s + (s[0] == '-' || s[0] == '+'), "0123456789");
	if (digits > 0 && digits + (s[0] == '-' || s[0] == '+') == len)
	{
		long long	value;

		errno = 0;
		value = strtoll(s, &end, 10);
		if (errno == 0)
			return json_integer(value);
		return json_real(strtod(s, NULL));
	}

	/* floats: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
	{
		const char *p = s + (s[0] == '-' || s[0] == '+');
		size_t		before = strspn(p, "0123456789");
		size_t		after = 0;

		p += before;
		if (*p == '.')
		{
			after = strspn(p + 1, "0123456789");
			p += 1 + after;
		}
		if (before + after > 0 && (before > 0 || after > 0))
		{
			if (*p == 'e' || *p == 'E')
			{
				const char *q = p + 1 + (p[1] == '-' || p[1] == '+');
				size_t		exp = strspn(q, "0123456789");

				p = exp > 0 ? q + exp : p;
			}
			if (*p == '\0')
			{
				double		d = strtod(s, NULL);

				if (isfinite(d))
					return json_real(d);
			}
		}
	}
	return json_stringn(s, len);
}

static json_t *
node_to_json(yaml_document_t *doc, yaml_node_t *node, int depth, char *error, size_t error_len)
{
	json_t	   *result;

	if (depth > 512)
	{
		snprintf(error, error_len, "nesting deeper than 512 levels");
		return NULL;
	}
	switch (node->type)
	{
		case YAML_SCALAR_NODE:
			{
				const char *value = (const char *) node->data.scalar.value;
				size_t		len = node->data.scalar.length;

				/* as jansson does for JSON: text with NUL cannot round-trip */
				if (memchr(value, '\0', len) != NULL)
				{
					snprintf(error, error_len, "line %lu: a scalar contains a NUL character",
							 (unsigned long) node->start_mark.line + 1);
					return NULL;
				}
				/* libyaml's loader tags every untagged scalar !!str, so style decides */
				if (node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
					result = plain_scalar(value, len);
				else
					result = json_stringn(value, len);
				if (result == NULL)
					snprintf(error, error_len, "a scalar is not valid UTF-8");
				return result;
			}
		case YAML_SEQUENCE_NODE:
			result = json_array();
			for (yaml_node_item_t *item = node->data.sequence.items.start;
				 item < node->data.sequence.items.top; item++)
			{
				json_t	   *element = node_to_json(doc, yaml_document_get_node(doc, *item),
												   depth + 1, error, error_len);

				if (element == NULL)
				{
					json_decref(result);
					return NULL;
				}
				json_array_append_new(result, element);
			}
			return result;
		case YAML_MAPPING_NODE:
			result = json_object();
			for (yaml_node_pair_t *pair = node->data.mapping.pairs.start;
				 pair < node->data.mapping.pairs.top; pair++)
			{
				yaml_node_t *key = yaml_document_get_node(doc, pair->key);
				json_t	   *value;

				if (key->type != YAML_SCALAR_NODE)
				{
					snprintf(error, error_len, "line %lu: a mapping key is not a scalar",
							 (unsigned long) key->start_mark.line + 1);
					json_decref(result);
					return NULL;
				}
				value = node_to_json(doc, yaml_document_get_node(doc, pair->value),
									 depth + 1, error, error_len);
				if (value == NULL)
				{
					json_decref(result);
					return NULL;
				}
				json_object_setn_new(result, (const char *) key->data.scalar.value,
									 key->data.scalar.length, value);
			}
			return result;
		default:
			return json_null();
	}
}

/* Reads the YAML file at path; NULL with a message on error. */
json_t *
yaml_file_to_json(const char *path, char *error, size_t error_len)
{
	FILE	   *file = fopen(path, "rb");
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	json_t	   *result = NULL;

	if (file == NULL)
	{
		snprintf(error, error_len, "could not open \"%s\": %s", path, strerror(errno));
		return NULL;
	}
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, file);
	if (!yaml_parser_load(&parser, &doc))
	{
		snprintf(error, error_len, "\"%s\" line %lu: %s", path,
				 (unsigned long) parser.problem_mark.line + 1,
				 parser.problem ? parser.problem : "not valid YAML");
		yaml_parser_delete(&parser);
		fclose(file);
		return NULL;
	}
	root = yaml_document_get_root_node(&doc);
	if (root == NULL)
		snprintf(error, error_len, "\"%s\" is empty", path);
	else
	{
		char		detail[256] = "";

		result = node_to_json(&doc, root, 0, detail, sizeof(detail));
		if (result == NULL)
			snprintf(error, error_len, "\"%s\": %s", path, detail);
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	fclose(file);
	return result;
}
