/*
 * masker.h — the output masker of mask and run: the forms of secret values
 * (mask_forms.c) and a streaming matcher that writes "***" for the union of
 * the matches that overlap, keeping line breaks (masker.c).
 *
 * Pure C without libpq or jansson, so that the unit tests and the fuzz
 * target build it alone.
 */
#ifndef NSVAULT_MASKER_H
#define NSVAULT_MASKER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/uio.h>

#define MASK_DEFAULT_MIN_LENGTH	4
#define MASK_REPLACEMENT		"***"

/* The patterns to mask: copies, wiped when freed. */
typedef struct MaskPatterns MaskPatterns;

/* What adding a value left unmasked because it was too short. */
typedef enum MaskShort
{
	MASK_SHORT_NONE,			/* all of it is masked */
	MASK_SHORT_VALUE,			/* the value: nothing of it is masked */
	MASK_SHORT_LINES			/* some lines of a multi-line value */
} MaskShort;

extern MaskPatterns *mask_patterns_new(void);
extern void mask_patterns_add(MaskPatterns *patterns, const char *text, size_t len);
extern MaskShort mask_patterns_add_value(MaskPatterns *patterns, const char *value,
										 size_t len, size_t min_length);
extern size_t mask_patterns_count(const MaskPatterns *patterns);
extern const char *mask_pattern_text(const MaskPatterns *patterns, size_t i, size_t *len);
extern void mask_patterns_free(MaskPatterns *patterns);

/*
 * Where masked output goes: count pieces, in order, which the function may
 * change (as writev_all does); false on failure, which the masker passes on.
 */
typedef bool (*MaskWrite) (void *context, struct iovec *pieces, int count);

typedef struct Masker Masker;

/* Builds the automaton of patterns (which stay the caller's to free). */
extern Masker *masker_new(const MaskPatterns *patterns, MaskWrite write, void *context);
extern bool masker_feed(Masker *masker, const char *data, size_t len);
/* the same without a copy: read up to *room bytes into the room, then say how many */
extern char *masker_room(Masker *masker, size_t *room);
extern bool masker_took(Masker *masker, size_t len);
/* ends the stream: all is written, and the masker can take a new stream */
extern bool masker_finish(Masker *masker);
extern size_t masker_memory(const Masker *masker);
extern void masker_free(Masker *masker);

#endif							/* NSVAULT_MASKER_H */
