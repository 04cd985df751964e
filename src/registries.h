/*-------------------------------------------------------------------------
 *
 * registries.h
 *		What a sealed registry credential is bound to (registries.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef NSVAULT_REGISTRIES_H
#define NSVAULT_REGISTRIES_H

#include "lib/stringinfo.h"

extern StringInfo registry_aad(int format, const char *scope, const char *namespace,
							   const char *registry, const char *url, const char *user);

#endif							/* NSVAULT_REGISTRIES_H */
