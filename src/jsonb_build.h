/*-------------------------------------------------------------------------
 *
 * jsonb_build.h
 *		Building jsonb results (jsonb_build.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef NSVAULT_JSONB_BUILD_H
#define NSVAULT_JSONB_BUILD_H

#include "utils/jsonb.h"

extern void nsvault_jsonb_push_string(JsonbParseState **state, JsonbIteratorToken token,
									  const char *s, int len);

#endif							/* NSVAULT_JSONB_BUILD_H */
