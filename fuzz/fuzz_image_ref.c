/*
 * fuzz_image_ref.c — libFuzzer target for the registry URL and image
 * reference parsers (src/registry_ref.c, built against fuzz/shim).
 *
 * Input: a registry URL, a newline, an image reference.  Besides not
 * crashing, the parsers must keep their promises: a parsed location's key
 * splits back into the same location, hosts are lower case, and a
 * registry always serves an image of its own host and path.
 */
#include <assert.h>
#include <ctype.h>
#include <stdint.h>

#include "postgres.h"
#include "registry_ref.h"

static void
check_location(const RegistryLocation *loc)
{
	char	   *key = registry_location_key(loc);
	RegistryLocation back;

	for (const char *p = loc->host; *p; p++)
		assert(!isupper((unsigned char) *p));
	registry_location_from_key(key, &back);
	assert(strcmp(back.host, loc->host) == 0);
	assert(strcmp(back.path, loc->path) == 0);
	assert(registry_matches(loc, loc));
	free(key);
	free(back.host);
	free(back.path);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *text = strndup((const char *) data, size);
	char	   *newline = strchr(text, '\n');
	const char *image = newline ? newline + 1 : "";
	RegistryLocation registry = {0};
	RegistryLocation reference = {0};
	bool		have_registry;
	bool		have_image;

	if (newline)
		*newline = '\0';
	have_registry = registry_parse_url(text, &registry) == NULL;
	have_image = image_parse_reference(image, &reference) == NULL;
	if (have_registry)
		check_location(&registry);
	if (have_image)
	{
		assert(reference.path[0] != '\0');
		check_location(&reference);
	}
	if (have_registry && have_image)
		(void) registry_matches(&registry, &reference);

	free(registry.host);
	free(registry.path);
	free(reference.host);
	free(reference.path);
	free(text);
	return 0;
}
