/*-------------------------------------------------------------------------
 *
 * validate.h
 *		Limits, and the checks of arguments against them (validate.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef NSVAULT_VALIDATE_H
#define NSVAULT_VALIDATE_H

#include "fmgr.h"

#define NSVAULT_NAMESPACE_MAX	64
#define NSVAULT_SECRET_NAME_MAX	128
#define NSVAULT_VALUE_MAX		65536
#define NSVAULT_GLOBAL_NAMESPACE	"@global"	/* key namespace of global registries */

/* what makes text unfit to be shown in a listing (validate_display_text) */
typedef enum DisplayFault
{
	DISPLAY_FIT,
	DISPLAY_UNCONVERTIBLE,
	DISPLAY_CONTROL,
	DISPLAY_BIDI
} DisplayFault;

extern void validate_not_null(FunctionCallInfo fcinfo, int argno, const char *param);
extern char *validate_arg_namespace(FunctionCallInfo fcinfo, int argno);
extern char *validate_arg_namespace_or_global(FunctionCallInfo fcinfo, int argno);
extern char *validate_arg_secret_name(FunctionCallInfo fcinfo, int argno);
extern text *validate_arg_secret_value(FunctionCallInfo fcinfo, int argno);
extern bool validate_arg_bool(FunctionCallInfo fcinfo, int argno, const char *what);
extern int32 validate_arg_version_or_null(FunctionCallInfo fcinfo, int argno);
extern void validate_secret_name(const char *name);
extern void validate_registry_user(const char *user, int len);
extern DisplayFault validate_display_text(const char *text, int len, bool controls_allowed);

#endif							/* NSVAULT_VALIDATE_H */
