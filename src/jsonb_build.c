/*-------------------------------------------------------------------------
 *
 * jsonb_build.c
 *		Building jsonb objects member by member, escaped by jsonb itself.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/jsonb.h"

#include "jsonb_build.h"

/* Pushes a string as a key or a value onto a jsonb object being built. */
void
nsvault_jsonb_push_string(JsonbParseState **state, JsonbIteratorToken token,
						  const char *s, int len)
{
	JsonbValue	value;

	value.type = jbvString;
	value.val.string.val = (char *) s;
	value.val.string.len = len;
	pushJsonbValue(state, token, &value);
}
