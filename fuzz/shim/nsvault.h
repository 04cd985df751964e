/*
 * nsvault.h (fuzz shim) — the registry parser's declarations only.
 */
#ifndef FUZZ_NSVAULT_SHIM_H
#define FUZZ_NSVAULT_SHIM_H

#define NSVAULT_REGISTRY_KEY_MAX	2049

typedef struct RegistryLocation
{
	char	   *host;
	char	   *path;
} RegistryLocation;

const char *registry_parse_url(const char *url, RegistryLocation *loc);
const char *image_parse_reference(const char *image, RegistryLocation *loc);
char	   *registry_location_key(const RegistryLocation *loc);
void		registry_location_from_key(const char *key, RegistryLocation *loc);
bool		registry_matches(const RegistryLocation *registry, const RegistryLocation *image);

#endif
