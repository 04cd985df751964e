/*
 * yaml_json.c — reads a YAML file (workflow or action) into JSON values, as
 * Direktiv does: gopkg.in/yaml.v3 decodes it, encoding/json writes it.
 *
 * libyaml's event API gives each node's tag, style and anchor, which its
 * document loader hides, so the nodes are built here from events:
 *
 * - Plain scalars resolve as yaml.v3's resolve() does: null, ~ and the
 *   empty scalar are null; true and false in three cases are booleans;
 *   an unquoted date or date and time is a timestamp, written as Go's
 *   time.Time writes JSON (RFC 3339, "Z" for UTC); integers are read as
 *   strconv.ParseInt(s, 0, 64) reads them once every "_" is removed (017
 *   is octal, 0b101 binary, 0x1F hex); then YAML-style decimal floats.
 *   Everything else, and every quoted scalar, is a string.
 * - Explicit tags: !!str makes a string of anything; !!int, !!float,
 *   !!bool, !!null and !!timestamp must match what the text resolves to (a
 *   !!float may hold an integer); any other tag leaves a string.
 * - Merge keys (<<) add the keys of a mapping, or of a sequence of
 *   mappings, that the mapping lacks: its own keys win wherever they
 *   stand, and an earlier source wins over a later one.
 * - Refused, as Direktiv refuses them: .inf and .nan (json.Marshal cannot
 *   write them), a mapping key that is not a string (the map cannot be
 *   marshalled), a key twice in one mapping (yaml.v3: "already defined"),
 *   an alias to an anchor not yet complete, excessive aliasing (yaml.v3's
 *   ratio), and !!binary, which is not supported here.
 *
 * Only the first document of a stream is read.  Errors name a line, never
 * the text of the file.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "nsvault.h"

#define YAML_MAX_DEPTH	512

/* the tags yaml.v3 resolves a scalar to, or checks it against */
typedef enum ScalarTag
{
	TAG_NONE,					/* no tag, or the non-specific "!" */
	TAG_STR,
	TAG_BOOL,
	TAG_INT,
	TAG_FLOAT,
	TAG_NULL,
	TAG_TIMESTAMP,
	TAG_BINARY,
	TAG_MERGE,
	TAG_OTHER
} ScalarTag;

static const char *const tag_names[] = {
	"", "!!str", "!!bool", "!!int", "!!float", "!!null", "!!timestamp", "!!binary", "!!merge", ""
};

/* A scalar resolved: its tag, its value, or why JSON cannot hold it. */
typedef struct Resolved
{
	ScalarTag	tag;
	json_t	   *value;
	const char *unwritable;		/* what Direktiv's json.Marshal would refuse */
} Resolved;

#define NON_FINITE "an infinite or NaN number (.inf, .nan) cannot be written as JSON"
#define LONG_OFFSET "a timestamp's zone offset of 24 hours or more cannot be written as JSON"

/* A node read: its value and what yaml.v3 would make of it as a key. */
typedef struct Node
{
	json_t	   *value;
	bool		string_key;		/* yaml.v3's ShortTag() is !!str */
	bool		merge;			/* the merge key, << */
	size_t		nodes;			/* decode steps it takes, aliases expanded */
	int			height;			/* nesting, aliases expanded */
} Node;

typedef struct Reader
{
	yaml_parser_t parser;
	yaml_event_t event;			/* the event being read */
	bool		have_event;
	json_t	   *anchors;		/* name -> {"v": value, "k": key?, "n": nodes, "h": height} */
	size_t		decode_count;	/* yaml.v3's counters against alias bombs */
	size_t		alias_count;
	char	   *error;
	size_t		error_len;
} Reader;

static bool read_node(Reader *r, int depth, Node *out);

/* Records an error at the current event's line; returns false. */
static bool
fail_at(Reader *r, const char *message)
{
	snprintf(r->error, r->error_len, "line %lu: %s",
			 (unsigned long) r->event.start_mark.line + 1, message);
	return false;
}

/* ---- scalars: yaml.v3's resolve() ---- */

/* The tag of a scalar event, as yaml.v3's shortTag() names it. */
static ScalarTag
scalar_tag(const yaml_char_t *tag)
{
	static const char prefix[] = "tag:yaml.org,2002:";
	const char *t = (const char *) tag;

	if (t == NULL || strcmp(t, "!") == 0)
		return TAG_NONE;
	if (strncmp(t, prefix, sizeof(prefix) - 1) != 0)
		return TAG_OTHER;
	t += sizeof(prefix) - 1;
	for (int i = TAG_STR; i < TAG_OTHER; i++)
		if (strcmp(t, tag_names[i] + 2) == 0)
			return (ScalarTag) i;
	return TAG_OTHER;
}

static bool
matches(const char *s, const char *const *words)
{
	for (; *words; words++)
		if (strcmp(s, *words) == 0)
			return true;
	return false;
}

/* yaml.v3's resolveMap: the words with a fixed meaning. */
static bool
resolve_word(const char *s, Resolved *res)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
	static const char *const trues[] = {"true", "True", "TRUE", NULL};
	static const char *const falses[] = {"false", "False", "FALSE", NULL};
	static const char *const non_finite[] = {".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF",
		"+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", NULL};

	if (matches(s, nulls))
		*res = (Resolved) {TAG_NULL, json_null(), NULL};
	else if (matches(s, trues))
		*res = (Resolved) {TAG_BOOL, json_true(), NULL};
	else if (matches(s, falses))
		*res = (Resolved) {TAG_BOOL, json_false(), NULL};
	else if (matches(s, non_finite))
		*res = (Resolved) {TAG_FLOAT, NULL, NON_FINITE};
	else
		return false;
	return true;
}

/* Go's underscoreOK: each "_" stands between digits (or a base prefix and one). */
static bool
underscores_ok(const char *s)
{
	char		saw = '^';
	bool		hex = false;

	if (*s == '+' || *s == '-')
		s++;
	if (s[0] == '0' && (tolower((unsigned char) s[1]) == 'b' || tolower((unsigned char) s[1]) == 'o' ||
						tolower((unsigned char) s[1]) == 'x'))
	{
		hex = tolower((unsigned char) s[1]) == 'x';
		saw = '0';
		s += 2;
	}
	for (; *s; s++)
	{
		if (isdigit((unsigned char) *s) || (hex && isxdigit((unsigned char) *s)))
			saw = '0';
		else if (*s == '_')
		{
			if (saw != '0')
				return false;
			saw = '_';
		}
		else if (saw == '_')
			return false;
		else
			saw = '!';
	}
	return saw != '_';
}

/* A copy of s without its underscores, in buf of at least strlen(s) + 1. */
static char *
without_underscores(const char *s, char *buf)
{
	char	   *out = buf;

	for (; *s; s++)
		if (*s != '_')
			*out++ = *s;
	*out = '\0';
	return buf;
}

/*
 * Go's strconv.ParseInt(s, 0, 64), falling back to ParseUint: 1 for an
 * int64 in *value, 2 for a uint64 beyond it in *uvalue, 0 if neither reads s.
 */
static int
parse_go_integer(const char *s, long long *value, unsigned long long *uvalue)
{
	const char *p = s + (*s == '+' || *s == '-');
	bool		negative = *s == '-';
	unsigned	base = 10;
	unsigned long long n = 0;

	if (*p == '\0')
		return 0;
	if (p[0] == '0')
	{
		char		c = strlen(p) >= 3 ? tolower((unsigned char) p[1]) : '\0';

		base = c == 'b' ? 2 : c == 'x' ? 16 : 8;
		p += c == 'b' || c == 'o' || c == 'x' ? 2 : 1;
	}
	for (; *p; p++)
	{
		unsigned	d = isdigit((unsigned char) *p) ? (unsigned) (*p - '0') :
			isalpha((unsigned char) *p) ? (unsigned) (tolower((unsigned char) *p) - 'a' + 10) : 99;

		if (d >= base || n > (ULLONG_MAX - d) / base)
			return 0;
		n = n * base + d;
	}
	if (negative ? n > (unsigned long long) LLONG_MAX + 1 : n > (unsigned long long) LLONG_MAX)
	{
		if (negative || *s == '+')
			return 0;
		*uvalue = n;
		return 2;
	}
	*value = negative ? (long long) (0 - n) : (long long) n;
	return 1;
}

/* yaml.v3's yamlStyleFloat: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static bool
yaml_style_float(const char *s)
{
	size_t		before;

	s += *s == '+' || *s == '-';
	before = strspn(s, "0123456789");
	s += before;
	if (*s == '.')
	{
		size_t		after = strspn(s + 1, "0123456789");

		if (before == 0 && after == 0)
			return false;
		s += 1 + after;
	}
	else if (before == 0)
		return false;
	if (*s == 'e' || *s == 'E')
	{
		s += 1 + (s[1] == '+' || s[1] == '-');
		if (strspn(s, "0123456789") == 0)
			return false;
		s += strspn(s, "0123456789");
	}
	return *s == '\0';
}

/* strconv.ParseFloat on text yaml_style_float accepts: false if it overflows. */
static bool
parse_float(const char *s, Resolved *res)
{
	double		d = strtod(s, NULL);

	if (isinf(d))
		return false;
	*res = (Resolved) {TAG_FLOAT, json_real(d), NULL};
	return true;
}

/* ---- timestamps: yaml.v3's parseTimestamp(), Go's time.Parse ---- */

typedef struct Timestamp
{
	int			year,
				month,
				day,
				hour,
				minute,
				second;
	long		nanosecond;
	int			offset_minutes;
} Timestamp;

/* Go's getnum for a non-fixed field: one or two digits. */
static bool
two_digits(const char **p, int *value)
{
	if (!isdigit((unsigned char) (*p)[0]))
		return false;
	*value = (*p)[0] - '0';
	(*p)++;
	if (isdigit((unsigned char) (*p)[0]))
	{
		*value = *value * 10 + (*p)[0] - '0';
		(*p)++;
	}
	return true;
}

static int
days_in_month(int month, int year)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool		leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);

	return month == 2 && leap ? 29 : days[month - 1];
}

/* "2006-1-2": the date every form starts with. */
static bool
parse_date(const char **p, Timestamp *t)
{
	const char *s = *p;

	if (strspn(s, "0123456789") < 4 || s[4] != '-')
		return false;
	t->year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	s += 5;
	if (!two_digits(&s, &t->month) || t->month < 1 || t->month > 12 || *s++ != '-' ||
		!two_digits(&s, &t->day) || t->day < 1 || t->day > days_in_month(t->month, t->year))
		return false;
	*p = s;
	return true;
}

/* "15:4:5.999999999": the time, with any fraction ("." or ","), nanoseconds kept. */
static bool
parse_clock(const char **p, Timestamp *t)
{
	const char *s = *p;

	if (!two_digits(&s, &t->hour) || t->hour > 23 || *s++ != ':' ||
		!two_digits(&s, &t->minute) || t->minute > 59 || *s++ != ':' ||
		!two_digits(&s, &t->second) || t->second > 59)
		return false;
	t->nanosecond = 0;
	if ((s[0] == '.' || s[0] == ',') && isdigit((unsigned char) s[1]))
	{
		int			digits = 0;

		for (s++; isdigit((unsigned char) *s); s++, digits++)
			if (digits < 9)
				t->nanosecond = t->nanosecond * 10 + (*s - '0');
		for (; digits < 9; digits++)
			t->nanosecond *= 10;
	}
	*p = s;
	return true;
}

/* "Z07:00": Z, or a sign and hh:mm (hours up to 24 and minutes up to 60, as Go allows). */
static bool
parse_zone(const char **p, Timestamp *t)
{
	const char *s = *p;
	int			hours,
				minutes;

	t->offset_minutes = 0;
	if (*s == 'Z')
	{
		*p = s + 1;
		return true;
	}
	if ((s[0] != '+' && s[0] != '-') || !isdigit((unsigned char) s[1]) ||
		!isdigit((unsigned char) s[2]) || s[3] != ':' || !isdigit((unsigned char) s[4]) ||
		!isdigit((unsigned char) s[5]))
		return false;
	hours = (s[1] - '0') * 10 + (s[2] - '0');
	minutes = (s[4] - '0') * 10 + (s[5] - '0');
	if (hours > 24 || minutes > 60)	/* Go's time.Parse refuses these */
		return false;
	t->offset_minutes = (s[0] == '-' ? -1 : 1) * (hours * 60 + minutes);
	*p = s + 6;
	return true;
}

/*
 * yaml.v3's four forms, tried in its order: "2006-1-2T15:4:5.999999999Z07:00"
 * (T or t), "2006-1-2 15:4:5.999999999" (UTC; a layout's space matches any
 * run of spaces in Go) and "2006-1-2".
 */
static bool
parse_timestamp(const char *s, Timestamp *t)
{
	if (!parse_date(&s, t))
		return false;
	t->hour = t->minute = t->second = 0;
	t->nanosecond = 0;
	t->offset_minutes = 0;
	if (*s == '\0')
		return true;
	if (*s == 'T' || *s == 't')
	{
		s++;
		return parse_clock(&s, t) && parse_zone(&s, t) && *s == '\0';
	}
	if (*s != ' ')
		return false;
	s += strspn(s, " ");
	return parse_clock(&s, t) && *s == '\0';
}

/* Writes t as Go's time.Time.MarshalJSON does (RFC3339Nano). */
static json_t *
timestamp_json(const Timestamp *t)
{
	char		text[64];
	int			n = snprintf(text, sizeof(text), "%04d-%02d-%02dT%02d:%02d:%02d",
							 t->year, t->month, t->day, t->hour, t->minute, t->second);

	if (t->nanosecond != 0)
	{
		n += snprintf(text + n, sizeof(text) - n, ".%09ld", t->nanosecond);
		while (text[n - 1] == '0')
			text[--n] = '\0';
	}
	if (t->offset_minutes == 0)
		snprintf(text + n, sizeof(text) - n, "Z");
	else
		snprintf(text + n, sizeof(text) - n, "%c%02d:%02d", t->offset_minutes < 0 ? '-' : '+',
				 abs(t->offset_minutes) / 60, abs(t->offset_minutes) % 60);
	return json_string(text);
}

/* ---- resolve() ---- */

/* A scalar that starts with a digit or a sign: timestamp, integer or float. */
static bool
resolve_number(const char *s, ScalarTag tag, Resolved *res)
{
	char	   *plain = malloc(strlen(s) + 1);
	Timestamp	t;
	long long	value;
	unsigned long long uvalue;
	int			kind;
	bool		found = true;

	if (plain == NULL)
		die(EXIT_FAIL, "out of memory");
	without_underscores(s, plain);
	if ((tag == TAG_NONE || tag == TAG_TIMESTAMP) && parse_timestamp(s, &t))
		/* Go 1.20's MarshalJSON refuses an offset of 24 hours or more */
		*res = abs(t.offset_minutes) >= 24 * 60 ? (Resolved) {TAG_TIMESTAMP, NULL, LONG_OFFSET} :
			(Resolved) {TAG_TIMESTAMP, timestamp_json(&t), NULL};
	else if ((kind = parse_go_integer(plain, &value, &uvalue)) == 1)
		*res = (Resolved) {TAG_INT, json_integer(value), NULL};
	else if (kind == 2)			/* exact in Go; jansson holds 64-bit signed integers */
		*res = (Resolved) {TAG_INT, json_real((double) uvalue), NULL};
	else
		found = yaml_style_float(plain) && parse_float(plain, res);
	free(plain);
	return found;
}

/* A scalar that starts with ".": Go's ParseFloat, underscores as Go allows them. */
static bool
resolve_dot(const char *s, Resolved *res)
{
	char	   *plain;
	bool		found;

	if (!underscores_ok(s))
		return false;
	plain = malloc(strlen(s) + 1);
	if (plain == NULL)
		die(EXIT_FAIL, "out of memory");
	without_underscores(s, plain);
	found = plain[0] == '.' && yaml_style_float(plain) && parse_float(plain, res);
	free(plain);
	return found;
}

/*
 * yaml.v3's resolve(tag, s) for tag TAG_NONE or a tag it resolves: the
 * first character hints at what s may be; anything else is a string.
 */
static Resolved
resolve(const char *s, size_t len, ScalarTag tag)
{
	Resolved	res;
	char		hint = s[0];

	if (resolve_word(s, &res))
		return res;
	if (hint == '.' && resolve_dot(s, &res))
		return res;
	if ((isdigit((unsigned char) hint) || hint == '+' || hint == '-') && resolve_number(s, tag, &res))
		return res;
	return (Resolved) {TAG_STR, json_stringn(s, len), NULL};
}

/* Resolves a scalar event's value as yaml.v3 decodes it into an interface{}. */
static bool
resolve_scalar(Reader *r, Resolved *res)
{
	const char *s = (const char *) r->event.data.scalar.value;
	size_t		len = r->event.data.scalar.length;
	ScalarTag	tag = scalar_tag(r->event.data.scalar.tag);
	bool		quoted = r->event.data.scalar.style != YAML_PLAIN_SCALAR_STYLE;

	if (tag == TAG_BINARY)
		return fail_at(r, "the !!binary tag is not supported");
	if (tag == TAG_STR || tag == TAG_OTHER || tag == TAG_MERGE || (tag == TAG_NONE && quoted))
	{
		*res = (Resolved) {TAG_STR, json_stringn(s, len), NULL};
		return true;
	}
	*res = resolve(s, len, tag);
	if (tag == TAG_FLOAT && res->tag == TAG_INT)
	{
		double		d = json_number_value(res->value);

		json_decref(res->value);
		*res = (Resolved) {TAG_FLOAT, json_real(d), NULL};
	}
	if (tag != TAG_NONE && tag != res->tag)
	{
		char		message[64];

		json_decref(res->value);
		snprintf(message, sizeof(message), "the scalar does not match its tag %s", tag_names[tag]);
		return fail_at(r, message);
	}
	return true;
}

/* ---- nodes ---- */

/* Moves to the next event. */
static bool
next_event(Reader *r)
{
	if (r->have_event)
		yaml_event_delete(&r->event);
	r->have_event = yaml_parser_parse(&r->parser, &r->event);
	if (!r->have_event)
		snprintf(r->error, r->error_len, "line %lu: %s",
				 (unsigned long) r->parser.problem_mark.line + 1,
				 r->parser.problem ? r->parser.problem : "not valid YAML");
	return r->have_event;
}

/* Records a node's anchor: pending (value NULL) until the node is complete. */
static void
set_anchor(Reader *r, const yaml_char_t *anchor, const Node *node)
{
	json_t	   *entry;

	if (anchor == NULL)
		return;
	entry = json_object();
	if (node != NULL)
	{
		json_object_set(entry, "v", node->value);
		json_object_set_new(entry, "k", json_boolean(node->string_key));
		json_object_set_new(entry, "n", json_integer((json_int_t) node->nodes));
		json_object_set_new(entry, "h", json_integer(node->height));
	}
	json_object_set_new_nocheck(r->anchors, (const char *) anchor, entry);
}

/* yaml.v3's allowedAliasRatio: 99% up to 400,000 decodes, falling to 10% at 4,000,000. */
static bool
excessive_aliasing(const Reader *r)
{
	double		allowed = r->decode_count <= 400000 ? 0.99 : r->decode_count >= 4000000 ? 0.10 :
		0.99 - 0.89 * ((double) (r->decode_count - 400000) / 3600000.0);

	return r->alias_count > 100 && r->decode_count > 1000 &&
		(double) r->alias_count / (double) r->decode_count > allowed;
}

static bool
read_scalar(Reader *r, Node *out)
{
	const yaml_event_t *e = &r->event;
	ScalarTag	tag = scalar_tag(e->data.scalar.tag);
	bool		plain = e->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	Resolved	res;

	/* as jansson does for JSON: text with NUL cannot round-trip */
	if (memchr(e->data.scalar.value, '\0', e->data.scalar.length) != NULL)
		return fail_at(r, "a scalar contains a NUL character");
	if (!resolve_scalar(r, &res))
		return false;
	if (res.unwritable != NULL)
		return fail_at(r, res.unwritable);
	if (res.value == NULL)
		return fail_at(r, "a scalar is not valid UTF-8");
	out->value = res.value;
	out->merge = strcmp((const char *) e->data.scalar.value, "<<") == 0 &&
		(tag == TAG_MERGE || (plain && tag == TAG_NONE));
	out->string_key = res.tag == TAG_STR && tag != TAG_OTHER && tag != TAG_MERGE && !out->merge;
	out->nodes = 1;
	out->height = 0;
	set_anchor(r, e->data.scalar.anchor, out);
	return true;
}

/* An alias: a copy of its anchor's value, counted as yaml.v3 counts it. */
static bool
read_alias(Reader *r, int depth, Node *out)
{
	json_t	   *entry = json_object_get(r->anchors, (const char *) r->event.data.alias.anchor);
	json_t	   *value = json_object_get(entry, "v");

	if (value == NULL)
		return fail_at(r, "an alias refers to an anchor that is not defined, or not yet complete");
	out->nodes = (size_t) json_integer_value(json_object_get(entry, "n"));
	out->height = (int) json_integer_value(json_object_get(entry, "h"));
	out->string_key = json_is_true(json_object_get(entry, "k"));
	out->merge = false;
	r->decode_count += out->nodes;
	r->alias_count += out->nodes;
	if (excessive_aliasing(r))
		return fail_at(r, "the document contains excessive aliasing");
	if (depth + out->height > YAML_MAX_DEPTH)
		return fail_at(r, "nesting deeper than 512 levels");
	out->value = json_deep_copy(value);
	if (out->value == NULL)
		die(EXIT_FAIL, "out of memory");
	return true;
}

/* Adds a child's counts to its collection's. */
static void
count_child(Node *parent, const Node *child)
{
	parent->nodes += child->nodes;
	if (child->height + 1 > parent->height)
		parent->height = child->height + 1;
}

static bool
read_sequence(Reader *r, int depth, Node *out)
{
	yaml_char_t *anchor = r->event.data.sequence_start.anchor;
	char	   *name = anchor ? strdup((const char *) anchor) : NULL;
	bool		ok = true;

	set_anchor(r, anchor, NULL);
	*out = (Node) {json_array(), false, false, 1, 1};
	while (ok && (ok = next_event(r)) && r->event.type != YAML_SEQUENCE_END_EVENT)
	{
		Node		item;

		if ((ok = read_node(r, depth + 1, &item)))
		{
			count_child(out, &item);
			json_array_append_new(out->value, item.value);
		}
	}
	if (ok)
		set_anchor(r, (yaml_char_t *) name, out);
	else
		json_decref(out->value);
	free(name);
	return ok;
}

/* Adds the keys of source that object lacks. */
static void
merge_absent(json_t *object, json_t *source)
{
	const char *key;
	size_t		key_len;
	json_t	   *value;

	json_object_keylen_foreach(source, key, key_len, value)
		if (json_object_getn(object, key, key_len) == NULL)
			json_object_setn(object, key, key_len, value);
}

/* Whether a << key's value is a mapping, or a sequence of mappings. */
static bool
is_merge_source(const json_t *source)
{
	if (json_is_object(source))
		return true;
	if (!json_is_array(source))
		return false;
	for (size_t i = 0; i < json_array_size(source); i++)
		if (!json_is_object(json_array_get(source, i)))
			return false;
	return true;
}

/* Applies a << key's value: its mappings' keys, earlier ones first. */
static bool
apply_merge(Reader *r, json_t *object, json_t *source, unsigned long line)
{
	if (!is_merge_source(source))
	{
		snprintf(r->error, r->error_len,
				 "line %lu: a merge key (<<) needs a mapping or a sequence of mappings", line);
		return false;
	}
	if (json_is_object(source))
		merge_absent(object, source);
	for (size_t i = 0; json_is_array(source) && i < json_array_size(source); i++)
		merge_absent(object, json_array_get(source, i));
	return true;
}

/*
 * Checks a key against the keys before it in its mapping, as yaml.v3 does:
 * same kind of node, same text.  seen maps "s" or "a" and the text to a line.
 */
static bool
check_duplicate(Reader *r, json_t *seen)
{
	const yaml_event_t *e = &r->event;
	char	   *id;
	size_t		len;
	json_t	   *before;

	if (e->type == YAML_SCALAR_EVENT)
		len = e->data.scalar.length, id = malloc(len + 2);
	else if (e->type == YAML_ALIAS_EVENT)
		len = strlen((const char *) e->data.alias.anchor), id = malloc(len + 2);
	else
		return true;
	if (id == NULL)
		die(EXIT_FAIL, "out of memory");
	id[0] = e->type == YAML_SCALAR_EVENT ? 's' : 'a';
	memcpy(id + 1, e->type == YAML_SCALAR_EVENT ? e->data.scalar.value : e->data.alias.anchor, len);
	before = json_object_getn(seen, id, len + 1);
	if (before == NULL)
		json_object_setn_new_nocheck(seen, id, len + 1,
									 json_integer((json_int_t) e->start_mark.line + 1));
	free(id);
	if (before != NULL)
	{
		char		message[96];

		snprintf(message, sizeof(message), "a mapping key is already defined at line %lld",
				 (long long) json_integer_value(before));
		return fail_at(r, message);
	}
	return true;
}

/* Reads one key and its value into object; a << value goes to *merge. */
static bool
read_pair(Reader *r, int depth, Node *out, json_t *seen, json_t **merge, unsigned long *merge_line)
{
	unsigned long line = (unsigned long) r->event.start_mark.line + 1;
	Node		key,
				value;

	if (!check_duplicate(r, seen) || !read_node(r, depth + 1, &key))
		return false;
	count_child(out, &key);
	if (!key.string_key && !key.merge)
	{
		json_decref(key.value);
		snprintf(r->error, r->error_len, "line %lu: a mapping key is not a string", line);
		return false;
	}
	if (!next_event(r) || !read_node(r, depth + 1, &value))
		return json_decref(key.value), false;
	count_child(out, &value);
	if (key.merge)
	{
		*merge = value.value;
		*merge_line = line;
	}
	else
		json_object_setn_new(out->value, json_string_value(key.value),
							 json_string_length(key.value), value.value);
	json_decref(key.value);
	return true;
}

static bool
read_mapping(Reader *r, int depth, Node *out)
{
	yaml_char_t *anchor = r->event.data.mapping_start.anchor;
	char	   *name = anchor ? strdup((const char *) anchor) : NULL;
	json_t	   *seen = json_object();
	json_t	   *merge = NULL;
	unsigned long merge_line = 0;
	bool		ok = true;

	set_anchor(r, anchor, NULL);
	*out = (Node) {json_object(), false, false, 1, 1};
	while (ok && (ok = next_event(r)) && r->event.type != YAML_MAPPING_END_EVENT)
		ok = read_pair(r, depth, out, seen, &merge, &merge_line);
	if (ok && merge != NULL)
		ok = apply_merge(r, out->value, merge, merge_line);
	if (ok)
		set_anchor(r, (yaml_char_t *) name, out);
	else
		json_decref(out->value);
	json_decref(merge);
	json_decref(seen);
	free(name);
	return ok;
}

/* Reads the node that starts at the current event, through its last event. */
static bool
read_node(Reader *r, int depth, Node *out)
{
	if (depth > YAML_MAX_DEPTH)
		return fail_at(r, "nesting deeper than 512 levels");
	r->decode_count++;
	switch (r->event.type)
	{
		case YAML_SCALAR_EVENT:
			return read_scalar(r, out);
		case YAML_ALIAS_EVENT:
			return read_alias(r, depth, out);
		case YAML_SEQUENCE_START_EVENT:
			return read_sequence(r, depth, out);
		case YAML_MAPPING_START_EVENT:
			return read_mapping(r, depth, out);
		default:
			return fail_at(r, "not valid YAML");
	}
}

/* Reads the stream's first document; NULL with r->error set, or "" if it is empty. */
static json_t *
read_document(Reader *r)
{
	Node		root;

	if (!next_event(r) || !next_event(r))
		return NULL;
	if (r->event.type == YAML_STREAM_END_EVENT)
		return NULL;
	if (!next_event(r) || !read_node(r, 0, &root))
		return NULL;
	if (!next_event(r))
	{
		json_decref(root.value);
		return NULL;
	}
	return root.value;
}

/* Reads the YAML file at path; NULL with a message on error. */
json_t *
yaml_file_to_json(const char *path, char *error, size_t error_len)
{
	FILE	   *file = fopen(path, "rb");
	char		detail[256] = "";
	Reader		r = {.error = detail, .error_len = sizeof(detail)};
	json_t	   *result;

	if (file == NULL)
	{
		snprintf(error, error_len, "could not open \"%s\": %s", path, strerror(errno));
		return NULL;
	}
	yaml_parser_initialize(&r.parser);
	yaml_parser_set_input_file(&r.parser, file);
	r.anchors = json_object();
	result = read_document(&r);
	if (result == NULL && detail[0] == '\0')
		snprintf(error, error_len, "\"%s\" is empty", path);
	else if (result == NULL)
		snprintf(error, error_len, "\"%s\" %s", path, detail);
	if (r.have_event)
		yaml_event_delete(&r.event);
	json_decref(r.anchors);
	yaml_parser_delete(&r.parser);
	fclose(file);
	return result;
}
