/*-------------------------------------------------------------------------
 *
 * secrets.h
 *		What a sealed secret is bound to (secrets.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef NSVAULT_SECRETS_H
#define NSVAULT_SECRETS_H

#include "lib/stringinfo.h"

extern StringInfo secrets_aad(const char *namespace, const char *name);

#endif							/* NSVAULT_SECRETS_H */
