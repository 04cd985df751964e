/*
 * mask_starts.h — where a match may start: the masker's filter, which
 * skips the bytes at which no pattern can begin (mask_starts.c).
 */
#ifndef NSVAULT_MASK_STARTS_H
#define NSVAULT_MASK_STARTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "masker.h"

typedef struct MaskStarts
{
	/* bit b0 | b1 << 8: some pattern starts with the bytes b0 b1 */
	uint8_t		pairs[65536 / 8];

	/*
	 * The same, loosened to "b0 starts some pattern and b1 is second in
	 * some pattern", as 16-byte rows for a vector byte shuffle: for byte
	 * position k of the pair, rows[k][0][lo] has bit hi set for each byte
	 * hi << 4 | lo of the set with hi < 8, and rows[k][1][lo] bit hi - 8
	 * for the rest.
	 */
	uint8_t		rows[2][2][16];
	bool		vector;			/* the machine has the instructions for rows */
} MaskStarts;

extern void mask_starts_init(MaskStarts *starts, const MaskPatterns *patterns);
extern size_t mask_starts_next(const MaskStarts *starts, const uint8_t *text,
							   size_t i, size_t len);

/* Tests clear this to check the byte-by-byte scan on machines that have the vector one. */
extern bool mask_starts_vector_allowed;

#endif							/* NSVAULT_MASK_STARTS_H */
