/*
 * js_scan.c — where a js(...) template expression ends.
 *
 * The closing parenthesis is found by JavaScript's own lexical rules, so
 * that a ")" inside a string, a template literal, a comment or a regular
 * expression does not end the expression.  Direktiv counts every
 * parenthesis instead; there, return ")" cuts the body short.
 */
#include <ctype.h>
#include <stdbool.h>
#include <string.h>

#include "nsvault.h"

/* Template literals nest through ${ ... }; deeper text is refused. */
#define SCAN_MAX_DEPTH	64

static const char *code_end(const char *p, char closer, int depth);

static bool
is_word_char(char c)
{
	return isalnum((unsigned char) c) || c == '_' || c == '$' || (unsigned char) c >= 0x80;
}

/*
 * Whether a "/" after the word [start, end) begins a regular expression:
 * after these keywords an expression starts, after any other word it is a
 * division.
 */
static bool
keyword_before_expression(const char *start, const char *end)
{
	static const char *const keywords[] = {
		"return", "typeof", "instanceof", "in", "of", "new", "delete", "void",
		"throw", "case", "do", "else", "yield", "await"
	};
	size_t		len = end - start;

	for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
		if (strlen(keywords[i]) == len && memcmp(keywords[i], start, len) == 0)
			return true;
	return false;
}

/* Skips a quoted string starting at its opening quote; returns its closing quote or NULL. */
static const char *
string_end(const char *p)
{
	char		quote = *p;

	for (p++; *p; p++)
	{
		if (*p == '\\' && p[1] != '\0')
			p++;
		else if (*p == quote)
			return p;
	}
	return NULL;
}

/* Skips a template literal starting at its backquote; returns its closing backquote or NULL. */
static const char *
template_end(const char *p, int depth)
{
	for (p++; *p; p++)
	{
		if (*p == '\\' && p[1] != '\0')
			p++;
		else if (*p == '`')
			return p;
		else if (p[0] == '$' && p[1] == '{')
		{
			p = code_end(p + 2, '}', depth + 1);
			if (p == NULL)
				return NULL;
		}
	}
	return NULL;
}

/* Skips a regular expression literal starting at its "/"; returns its closing "/" or NULL. */
static const char *
regex_end(const char *p)
{
	bool		in_class = false;

	for (p++; *p && *p != '\n'; p++)
	{
		if (*p == '\\' && p[1] != '\0')
			p++;
		else if (*p == '[')
			in_class = true;
		else if (*p == ']')
			in_class = false;
		else if (*p == '/' && !in_class)
			return p;
	}
	return NULL;
}

/*
 * The ")" that closes the expression when open parentheses are still open
 * at p, counting every parenthesis from p as Direktiv counts them; NULL if
 * there is none.
 */
static const char *
counted_close(const char *p, int open)
{
	for (; *p; p++)
		if (*p == '(')
			open++;
		else if (*p == ')' && open-- == 0)
			return p;
	return NULL;
}

/*
 * Scans code from p to the closer (")" or "}") that is not matched inside
 * it; returns that closer or NULL.
 */
static const char *
code_end(const char *p, char closer, int depth)
{
	char		opener = (closer == ')') ? '(' : '{';
	int			open = 0;
	bool		regex_allowed = true;	/* whether a "/" here starts a regular expression */

	if (depth > SCAN_MAX_DEPTH)
		return NULL;
	for (; *p; p++)
	{
		if (isspace((unsigned char) *p))
			continue;
		/*
		 * a line comment runs to the end of its line; on the template's last
		 * line, to the ")" that Direktiv's count closes the expression with
		 * (Direktiv puts a newline after the body, which ends the comment)
		 */
		if (p[0] == '/' && p[1] == '/')
		{
			const char *line_end = strchr(p, '\n');

			if (line_end == NULL)
				return (closer == ')' && depth == 0) ? counted_close(p, open) : NULL;
			p = line_end;
			continue;
		}
		if (p[0] == '/' && p[1] == '*')
		{
			p = strstr(p + 2, "*/");
			if (p == NULL)
				return NULL;
			p++;
			continue;
		}
		if (*p == '\'' || *p == '"')
			p = string_end(p);
		else if (*p == '`')
			p = template_end(p, depth);
		else if (*p == '/' && regex_allowed)
			p = regex_end(p);
		else if (is_word_char(*p))
		{
			const char *start = p;

			while (is_word_char(p[1]))
				p++;
			regex_allowed = !isdigit((unsigned char) *start) &&
				keyword_before_expression(start, p + 1);
			continue;
		}
		else
		{
			if (*p == opener)
				open++;
			else if (*p == closer && open-- == 0)
				return p;
			/* after ")" or "]" a "/" divides; after an operator or an opening it starts a pattern */
			regex_allowed = !(*p == ')' || *p == ']');
			continue;
		}
		if (p == NULL)
			return NULL;
		regex_allowed = false;	/* after a string, template or pattern */
	}
	return NULL;
}

/* Returns the ")" that closes the js( expression whose body starts at p, or NULL. */
const char *
js_expression_end(const char *p)
{
	return code_end(p, ')', 0);
}
