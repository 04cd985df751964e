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
#include "utils/builtins.h"

#include "nsvault.h"

#define NAMESPACE_RULE \
	"A namespace is 1 to 64 characters: lowercase letters, digits, \"-\", \"_\" and \".\", starting with a letter."
#define SECRET_NAME_RULE \
	"A secret name is 1 to 128 characters: letters, digits, \"_\", \"-\", \".\" and \"/\", starting with a letter, without \"//\" and not ending in \"/\"."

/* Fails with 22004 when argument argno is NULL. */
static void
require_not_null(FunctionCallInfo fcinfo, int argno, const char *what)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", what)));
}

static void
invalid_namespace(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid namespace"),
			 errdetail("%s", detail),
			 errhint(NAMESPACE_RULE)));
}

static void
validate_namespace(const char *ns)
{
	size_t		len = strlen(ns);

	if (len == 0)
		invalid_namespace("The namespace is empty.");
	if (len > NSVAULT_NAMESPACE_MAX)
		invalid_namespace("The namespace is longer than 64 characters.");
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
			 errdetail("%s", detail),
			 errhint(SECRET_NAME_RULE)));
}

/* Checks a secret name against the folder-style naming rule. */
void
validate_secret_name(const char *name)
{
	size_t		len = strlen(name);

	if (len == 0)
		invalid_secret_name("The secret name is empty.");
	if (len > NSVAULT_SECRET_NAME_MAX)
		invalid_secret_name("The secret name is longer than 128 characters.");
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

/* Returns text argument argno, which must not be NULL, as a C string. */
static char *
arg_cstring(FunctionCallInfo fcinfo, int argno, const char *what)
{
	require_not_null(fcinfo, argno, what);
	return text_to_cstring(PG_GETARG_TEXT_PP(argno));
}

/* Returns argument argno as a valid namespace. */
char *
arg_namespace(FunctionCallInfo fcinfo, int argno)
{
	char	   *ns = arg_cstring(fcinfo, argno, "namespace");

	validate_namespace(ns);
	return ns;
}

/* Returns argument argno as a valid secret name. */
char *
arg_secret_name(FunctionCallInfo fcinfo, int argno)
{
	char	   *name = arg_cstring(fcinfo, argno, "secret name");

	validate_secret_name(name);
	return name;
}

/* Returns argument argno as a secret value of allowed size. */
text *
arg_secret_value(FunctionCallInfo fcinfo, int argno)
{
	Size		len;

	require_not_null(fcinfo, argno, "secret value");
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

/* Returns boolean argument argno, which must not be NULL. */
bool
arg_bool(FunctionCallInfo fcinfo, int argno, const char *what)
{
	require_not_null(fcinfo, argno, what);
	return PG_GETARG_BOOL(argno);
}
