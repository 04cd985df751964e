/*-------------------------------------------------------------------------
 *
 * registries.h
 *		Container registry credentials: what registries.c, which stores
 *		them, shares with registry_handout.c, which hands them out.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NSVAULT_REGISTRIES_H
#define NSVAULT_REGISTRIES_H

#include "lib/stringinfo.h"

#define SCOPE_NAMESPACE			"namespace"
#define SCOPE_GLOBAL			"global"
#define SCOPE_GLOBAL_PRIVATE	"global-private"

/* The arguments of the registry functions that are parsed. */
typedef enum RegistryInput
{
	REGISTRY_URL,
	REGISTRY_DATA,
	IMAGE_REFERENCE,
	REGISTRY_REFERENCE			/* an image reference, a registry URL or host */
} RegistryInput;

extern void invalid_registry(RegistryInput input, const char *detail) pg_attribute_noreturn();
extern StringInfo registry_aad(int format, const char *scope, const char *namespace,
							   const char *registry, const char *url, const char *user);
extern const char *registry_key_namespace(const char *namespace);
extern bool registries_global_apart(void);

#endif							/* NSVAULT_REGISTRIES_H */
