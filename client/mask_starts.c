/*
 * mask_starts.c — the masker's filter of where a match may start.
 *
 * Where no partial match is in hand, the masker runs its automaton only
 * from a byte pair that begins some pattern.  On x86-64 machines with
 * AVX2, 32 positions are tested at once against a looser test (the first
 * byte starts a pattern, the second is second in one), by byte shuffles
 * on each byte's nibbles; each position that passes is then tested
 * exactly against the table of pairs.  Elsewhere the pair table is read
 * byte by byte.
 */
#include <string.h>

#include "mask_starts.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_VECTOR_STARTS 1
#endif

bool		mask_starts_vector_allowed = true;

static void
add_pair(MaskStarts *starts, unsigned first, unsigned second)
{
	unsigned	pair = first | second << 8;

	starts->pairs[pair >> 3] |= 1 << (pair & 7);
	starts->rows[0][first >> 7][first & 15] |= 1 << ((first >> 4) & 7);
	starts->rows[1][second >> 7][second & 15] |= 1 << ((second >> 4) & 7);
}

/* A pattern of one byte starts every pair that begins with it. */
void
mask_starts_init(MaskStarts *starts, const MaskPatterns *patterns)
{
	memset(starts, 0, sizeof(MaskStarts));
	for (size_t i = 0; i < mask_patterns_count(patterns); i++)
	{
		size_t		len;
		const uint8_t *text = (const uint8_t *) mask_pattern_text(patterns, i, &len);

		if (len > 1)
			add_pair(starts, text[0], text[1]);
		else if (len == 1)
			for (unsigned second = 0; second < 256; second++)
				add_pair(starts, text[0], second);
	}
#ifdef HAVE_VECTOR_STARTS
	starts->vector = mask_starts_vector_allowed && __builtin_cpu_supports("avx2");
#endif
}

static inline bool
starts_here(const MaskStarts *starts, const uint8_t *text, size_t i)
{
	unsigned	pair = text[i] | text[i + 1] << 8;

	return starts->pairs[pair >> 3] & (1 << (pair & 7));
}

static size_t
next_bytewise(const MaskStarts *starts, const uint8_t *text, size_t i, size_t len)
{
	while (i + 1 < len && !starts_here(starts, text, i))
		i++;
	return i;
}

#ifdef HAVE_VECTOR_STARTS

/* 0xff in each of the 32 bytes that is in the set the rows describe. */
__attribute__((target("avx2")))
static inline __m256i
in_set(__m256i bytes, __m256i low_rows, __m256i high_rows)
{
	const __m256i nibble = _mm256_set1_epi8(0x0f);
	const __m256i bit_of = _mm256_setr_epi8(1, 2, 4, 8, 16, 32, 64, -128,
											1, 2, 4, 8, 16, 32, 64, -128,
											1, 2, 4, 8, 16, 32, 64, -128,
											1, 2, 4, 8, 16, 32, 64, -128);
	__m256i		lo = _mm256_and_si256(bytes, nibble);
	__m256i		hi = _mm256_and_si256(_mm256_srli_epi16(bytes, 4), nibble);

	/* the byte's own top bit picks the row of the upper half */
	__m256i		row = _mm256_blendv_epi8(_mm256_shuffle_epi8(low_rows, lo),
										 _mm256_shuffle_epi8(high_rows, lo), bytes);
	__m256i		bit = _mm256_shuffle_epi8(bit_of, hi);

	return _mm256_cmpeq_epi8(_mm256_and_si256(row, bit), bit);
}

__attribute__((target("avx2")))
static __m256i
load_rows(const uint8_t row[16])
{
	return _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *) row));
}

__attribute__((target("avx2")))
static size_t
next_vector(const MaskStarts *starts, const uint8_t *text, size_t i, size_t len)
{
	const __m256i first_low = load_rows(starts->rows[0][0]);
	const __m256i first_high = load_rows(starts->rows[0][1]);
	const __m256i second_low = load_rows(starts->rows[1][0]);
	const __m256i second_high = load_rows(starts->rows[1][1]);

	while (i + 32 < len)
	{
		__m256i		first = _mm256_loadu_si256((const __m256i *) (text + i));
		__m256i		second = _mm256_loadu_si256((const __m256i *) (text + i + 1));
		uint32_t	maybe = (uint32_t) _mm256_movemask_epi8(
			_mm256_and_si256(in_set(first, first_low, first_high),
							 in_set(second, second_low, second_high)));

		for (; maybe != 0; maybe &= maybe - 1)
		{
			size_t		at = i + __builtin_ctz(maybe);

			if (starts_here(starts, text, at))
				return at;
		}
		i += 32;
	}
	return next_bytewise(starts, text, i, len);
}
#endif

/* The first position from i on where a pattern may start, or the last byte. */
size_t
mask_starts_next(const MaskStarts *starts, const uint8_t *text, size_t i, size_t len)
{
#ifdef HAVE_VECTOR_STARTS
	if (starts->vector)
		return next_vector(starts, text, i, len);
#endif
	return next_bytewise(starts, text, i, len);
}
