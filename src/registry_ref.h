/*-------------------------------------------------------------------------
 *
 * registry_ref.h
 *		Registry URLs and image references, parsed for matching
 *		(registry_ref.c).  Needs nothing of the server but palloc and
 *		pstrdup, so the fuzz target builds it against a small shim.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NSVAULT_REGISTRY_REF_H
#define NSVAULT_REGISTRY_REF_H

#define NSVAULT_REGISTRY_URL_MAX	2048
/* a normalized registry, NUL included */
#define NSVAULT_REGISTRY_KEY_MAX	(NSVAULT_REGISTRY_URL_MAX + 1)

typedef struct RegistryLocation
{
	char	   *host;			/* lower-case host[:port]; Docker Hub is docker.io */
	char	   *path;			/* repository path prefix, or "" */
} RegistryLocation;

extern const char *registry_parse_url(const char *url, RegistryLocation *loc);
extern const char *image_parse_reference(const char *image, RegistryLocation *loc);
extern char *registry_location_key(const RegistryLocation *loc);
extern void registry_location_from_key(const char *key, RegistryLocation *loc);
extern bool registry_matches(const RegistryLocation *registry,
							 const RegistryLocation *image);

#endif							/* NSVAULT_REGISTRY_REF_H */
