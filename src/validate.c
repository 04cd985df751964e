/*-------------------------------------------------------------------------
 *
 * validate.c
 *		Argument checks for the SQL functions.
 *
 * Invalid input is reported with the rule it broke and never echoed: a
 * caller who swapped two arguments may have put a secret where a name
 * belongs, and errors reach logs.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/detoast.h"
#include "catalog/namespace.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"

#include "validate.h"

/* Fails with 22004 when argument argno, SQL parameter param, is NULL. */
void
validate_not_null(FunctionCallInfo fcinfo, int argno, const char *param)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("argument \"%s\" must not be null", param)));
}

static void
invalid_namespace(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid namespace"),
			 errdetail_internal("%s", detail),
			 errhint("A namespace is 1 to %d characters: lowercase letters, digits, \"-\", \"_\" and \".\", starting with a letter.",
					 NSVAULT_NAMESPACE_MAX)));
}

static void
validate_namespace(const char *ns)
{
	size_t		len = strlen(ns);

	if (len == 0)
		invalid_namespace("The namespace is empty.");
	if (len > NSVAULT_NAMESPACE_MAX)
		invalid_namespace(psprintf("The namespace is longer than %d characters.", NSVAULT_NAMESPACE_MAX));
	if (!(ns[0] >= 'a' && ns[0] <= 'z'))
		invalid_namespace("The namespace does not start with a lowercase letter.");
	for (const char *p = ns; *p; p++)
	{
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
			  *p == '-' || *p == '_' || *p == '.'))
			invalid_namespace("The namespace contains a character that is not allowed.");
	}
}

static void
invalid_secret_name(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid secret name"),
			 errdetail_internal("%s", detail),
			 errhint("A secret name is 1 to %d characters: letters, digits, \"_\", \"-\", \".\" and \"/\", starting with a letter, without \"//\" and not ending in \"/\".",
					 NSVAULT_SECRET_NAME_MAX)));
}

/* Checks a secret name against the folder-style naming rule. */
void
validate_secret_name(const char *name)
{
	size_t		len = strlen(name);

	if (len == 0)
		invalid_secret_name("The secret name is empty.");
	if (len > NSVAULT_SECRET_NAME_MAX)
		invalid_secret_name(psprintf("The secret name is longer than %d characters.", NSVAULT_SECRET_NAME_MAX));
	if (!((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z')))
		invalid_secret_name("The secret name does not start with a letter.");
	for (const char *p = name; *p; p++)
	{
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			  (*p >= '0' && *p <= '9') ||
			  *p == '_' || *p == '-' || *p == '.' || *p == '/'))
			invalid_secret_name("The secret name contains a character that is not allowed.");
	}
	if (strstr(name, "//") != NULL)
		invalid_secret_name("The secret name contains \"//\".");
	if (name[len - 1] == '/')
		invalid_secret_name("The secret name ends in \"/\".");
}

#define REGISTRY_USER_RULE \
	"A registry user name has no control characters (U+0000 to U+001F, U+007F to U+009F) and no bidirectional formatting characters (U+202A to U+202E, U+2066 to U+2069)."

static void
invalid_registry_user(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid registry data"),
			 errdetail_internal("%s", detail),
			 errhint(REGISTRY_USER_RULE)));
}

/*
 * Returns text as UTF-8, so that one check on code points serves every
 * database encoding, or NULL when a character has no Unicode equivalent.
 * SQL_ASCII bytes are taken as they are.
 */
static const unsigned char *
text_as_utf8(const char *text, int len, int *utf8_len)
{
	int			encoding = GetDatabaseEncoding();
	Oid			proc;
	unsigned char *utf8;
	int			size = len * MAX_CONVERSION_GROWTH + 1;

	*utf8_len = len;
	if (encoding == PG_UTF8 || encoding == PG_SQL_ASCII)
		return (const unsigned char *) text;
	proc = FindDefaultConversionProc(encoding, PG_UTF8);
	utf8 = palloc(size);
	/* noError: the conversion's own message would quote the text */
	if (!OidIsValid(proc) ||
		pg_do_encoding_conversion_buf(proc, encoding, PG_UTF8, (unsigned char *) text,
									  len, utf8, size, true) < len)
		return NULL;
	*utf8_len = strlen((char *) utf8);
	return utf8;
}

/*
 * Whether text kept in clear and shown in listings could disguise itself
 * or what follows it there: a bidirectional override or isolate (U+202A to
 * U+202E, U+2066 to U+2069) reorders what a reader sees, and a control
 * character (U+0000 to U+001F, U+007F to U+009F) can break a line or move
 * the cursor.  Text shown only JSON-escaped may allow control characters.
 */
DisplayFault
validate_display_text(const char *text, int len, bool controls_allowed)
{
	int			n;
	const unsigned char *s = text_as_utf8(text, len, &n);
	int			step;

	if (s == NULL)
		return DISPLAY_UNCONVERTIBLE;
	for (int i = 0; i < n; i += step)
	{
		pg_wchar	c;

		step = pg_utf_mblen(s + i);
		if (step <= n - i && pg_utf8_islegal(s + i, step))
			c = utf8_to_unicode(s + i);
		else
		{
			/* SQL_ASCII holds any bytes: one that is not UTF-8 counts alone */
			c = s[i];
			step = 1;
		}
		if (!controls_allowed && (c <= 0x1F || (c >= 0x7F && c <= 0x9F)))
			return DISPLAY_CONTROL;
		if ((c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069))
			return DISPLAY_BIDI;
	}
	return DISPLAY_FIT;
}

/*
 * Fails with 22023 when a registry user name holds a control character or
 * a bidirectional formatting character: the name is kept in clear and
 * shown in listings and Docker configs, where either could disguise it.
 */
void
validate_registry_user(const char *user, int len)
{
	switch (validate_display_text(user, len, false))
	{
		case DISPLAY_FIT:
			break;
		case DISPLAY_UNCONVERTIBLE:
			invalid_registry_user("The user name contains a character that has no Unicode equivalent.");
			break;
		case DISPLAY_CONTROL:
			invalid_registry_user("The user name contains a control character.");
			break;
		case DISPLAY_BIDI:
			invalid_registry_user("The user name contains a bidirectional formatting character.");
			break;
	}
}

/* Returns text argument argno, which must not be NULL, as a C string. */
static char *
arg_cstring(FunctionCallInfo fcinfo, int argno, const char *param)
{
	validate_not_null(fcinfo, argno, param);
	return text_to_cstring(PG_GETARG_TEXT_PP(argno));
}

/* Returns argument argno as a valid namespace. */
char *
validate_arg_namespace(FunctionCallInfo fcinfo, int argno)
{
	char	   *ns = arg_cstring(fcinfo, argno, "namespace");

	validate_namespace(ns);
	return ns;
}

/* Returns argument argno as a namespace, or the reserved "@global". */
char *
validate_arg_namespace_or_global(FunctionCallInfo fcinfo, int argno)
{
	if (!PG_ARGISNULL(argno) &&
		strcmp(text_to_cstring(PG_GETARG_TEXT_PP(argno)), NSVAULT_GLOBAL_NAMESPACE) == 0)
		return pstrdup(NSVAULT_GLOBAL_NAMESPACE);
	return validate_arg_namespace(fcinfo, argno);
}

/* Returns argument argno as a valid secret name. */
char *
validate_arg_secret_name(FunctionCallInfo fcinfo, int argno)
{
	char	   *name = arg_cstring(fcinfo, argno, "name");

	validate_secret_name(name);
	return name;
}

/* Returns argument argno as a secret value of allowed size. */
text *
validate_arg_secret_value(FunctionCallInfo fcinfo, int argno)
{
	Size		len;

	validate_not_null(fcinfo, argno, "value");
	/* measured before detoasting, so an oversized value is never expanded */
	len = toast_raw_datum_size(PG_GETARG_DATUM(argno)) - VARHDRSZ;
	if (len == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid secret value"),
				 errdetail("The value is empty."),
				 errhint("A secret value is 1 to %d bytes of text.", NSVAULT_VALUE_MAX)));
	if (len > NSVAULT_VALUE_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid secret value"),
				 errdetail("The value is %zu bytes long.", len),
				 errhint("A secret value is 1 to %d bytes of text.", NSVAULT_VALUE_MAX)));
	return PG_GETARG_TEXT_PP(argno);
}

/* Returns version argument argno, at least 1, or 0 when it is NULL. */
int32
validate_arg_version_or_null(FunctionCallInfo fcinfo, int argno)
{
	int32		version;

	if (PG_ARGISNULL(argno))
		return 0;
	version = PG_GETARG_INT32(argno);
	if (version < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid secret version %d", version),
				 errdetail("Versions are numbered from 1.")));
	return version;
}

/* Returns boolean argument argno, which must not be NULL. */
bool
validate_arg_bool(FunctionCallInfo fcinfo, int argno, const char *param)
{
	validate_not_null(fcinfo, argno, param);
	return PG_GETARG_BOOL(argno);
}
