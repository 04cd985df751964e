/*
 * mask_reference.h — a naive masker to check masker.c against: every
 * pattern tried at every byte, and the union of the matches that overlap
 * written as "***", line breaks kept.
 */
#ifndef MASK_REFERENCE_H
#define MASK_REFERENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/uio.h>

/* What a masker wrote, gathered in memory (a MaskWrite's context). */
typedef struct MaskSink
{
	char	   *buf;
	size_t		len;
	size_t		cap;
} MaskSink;

extern bool mask_sink_write(void *context, struct iovec *pieces, int count);

/* Returns the masked text (malloc'd, *out_len long). */
extern char *mask_reference(const char *const *patterns, const size_t *lens, size_t npatterns,
							const char *input, size_t len, size_t *out_len);

#endif							/* MASK_REFERENCE_H */
