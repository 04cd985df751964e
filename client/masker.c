/*
 * masker.c — copies a stream, writing "***" for each pattern found in it.
 *
 * One Aho-Corasick automaton over every pattern, built once into a full
 * transition table (over classes of the bytes the patterns use), so that
 * each input byte costs one table load.  Matches are leftmost-longest:
 * where one pattern is a prefix of another, the longer is masked whole.
 *
 * Where no partial match is in hand, the scan skips every byte at which no
 * pattern can start, by the pair of bytes there (mask_starts.c), without
 * the automaton's chain of loads.  A partial match begun at a skipped byte
 * could never have finished.
 *
 * Streaming in constant memory: a byte is held back only while a match
 * could still start at it, which is at most the longest pattern's length;
 * everything before is written at the end of each feed, so a live log is
 * followed line by line.  No allocation after masker_new.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mask_starts.h"
#include "masker.h"
#include "nsvault.h"

/* room for each read: large reads and writes cut the system time of a copy */
#define MASK_ROOM		(1024 * 1024)
/* pieces of output gathered for one write */
#define MASK_PIECES		64
#define NO_MATCH		SIZE_MAX

typedef struct MaskState
{
	uint32_t	depth;			/* length of the text the state stands for */
	uint32_t	match;			/* longest pattern that ends here, or 0 */
} MaskState;

struct Masker
{
	/* the automaton: rows of 1 << shift entries, each a row's offset */
	uint32_t   *delta;
	MaskState  *states;
	size_t		nstates;
	size_t		rows;			/* allocated: one per pattern byte, and the root */
	unsigned	shift;
	uint8_t		byte_class[256];
	MaskStarts	starts;
	size_t		longest;

	/* the stream: work[0, out) is written, [out, scanned) held back */
	char	   *work;
	size_t		work_cap;
	size_t		work_used;		/* the most of work that ever held input */
	size_t		len;
	size_t		out;
	size_t		scanned;
	uint32_t	state;			/* row offset of the state after work[0, scanned) */
	size_t		match_start;	/* the leftmost-longest match found, or NO_MATCH */
	size_t		match_end;

	struct iovec pieces[MASK_PIECES];	/* of work and MASK_REPLACEMENT */
	int			npieces;
	MaskWrite	write;
	void	   *context;
	bool		failed;
};

static void *
zalloc(size_t n, size_t size)
{
	void	   *p = calloc(n ? n : 1, size);

	if (p == NULL)
		die(EXIT_FAIL, "out of memory");
	return p;
}

/* Gives each byte that some pattern uses a class of its own; class 0 is the rest. */
static unsigned
assign_classes(Masker *m, const MaskPatterns *patterns, size_t *total)
{
	unsigned	nclasses = 1;

	*total = 0;
	for (size_t i = 0; i < mask_patterns_count(patterns); i++)
	{
		size_t		len;
		const uint8_t *text = (const uint8_t *) mask_pattern_text(patterns, i, &len);

		for (size_t k = 0; k < len; k++)
			if (m->byte_class[text[k]] == 0)
				m->byte_class[text[k]] = nclasses++;
		*total += len;
		if (len > m->longest)
			m->longest = len;
	}
	m->shift = 0;
	while ((1u << m->shift) < nclasses)
		m->shift++;
	return nclasses;
}

/* Builds the trie of the patterns; 0 in delta is "no edge" (the root has no parent). */
static void
build_trie(Masker *m, const MaskPatterns *patterns)
{
	m->nstates = 1;
	for (size_t i = 0; i < mask_patterns_count(patterns); i++)
	{
		size_t		len;
		const uint8_t *text = (const uint8_t *) mask_pattern_text(patterns, i, &len);
		uint32_t	s = 0;

		for (size_t k = 0; k < len; k++)
		{
			uint32_t   *edge = &m->delta[s + m->byte_class[text[k]]];

			if (*edge == 0)
			{
				*edge = (uint32_t) (m->nstates << m->shift);
				m->states[m->nstates++].depth = (uint32_t) (k + 1);
			}
			s = *edge;
		}
		m->states[s >> m->shift].match = (uint32_t) len;
	}
}

/*
 * Turns the trie into the full automaton, breadth first: a missing edge
 * goes where the failure state's edge goes, and a state's match is its own
 * pattern or else its failure state's longest.
 */
static void
build_automaton(Masker *m, unsigned nclasses)
{
	uint32_t   *queue = zalloc(m->nstates, sizeof(uint32_t));
	uint32_t   *fail = zalloc(m->nstates, sizeof(uint32_t));
	size_t		head = 0;
	size_t		tail = 0;

	for (unsigned c = 0; c < nclasses; c++)
		if (m->delta[c] != 0)
			queue[tail++] = m->delta[c];
	while (head < tail)
	{
		uint32_t	s = queue[head++];
		uint32_t	f = fail[s >> m->shift];

		if (m->states[s >> m->shift].match == 0)
			m->states[s >> m->shift].match = m->states[f >> m->shift].match;
		for (unsigned c = 0; c < nclasses; c++)
		{
			uint32_t	t = m->delta[s + c];

			if (t != 0)
			{
				fail[t >> m->shift] = m->delta[f + c];
				queue[tail++] = t;
			}
			else
				m->delta[s + c] = m->delta[f + c];
		}
	}
	free(queue);
	free(fail);
}

Masker *
masker_new(const MaskPatterns *patterns, MaskWrite write, void *context)
{
	Masker	   *m = zalloc(1, sizeof(Masker));
	size_t		total;
	unsigned	nclasses = assign_classes(m, patterns, &total);

	if (total >= (UINT32_MAX >> 9))
		die(EXIT_FAIL, "the secrets are too long to mask");
	m->rows = total + 1;
	m->delta = zalloc(m->rows << m->shift, sizeof(uint32_t));
	m->states = zalloc(m->rows, sizeof(MaskState));
	build_trie(m, patterns);
	build_automaton(m, nclasses);
	mask_starts_init(&m->starts, patterns);
	m->work_cap = m->longest + MASK_ROOM;
	/* not zeroed: most streams are short, and only what held input is wiped */
	m->work = malloc(m->work_cap);
	if (m->work == NULL)
		die(EXIT_FAIL, "out of memory");
	m->match_start = NO_MATCH;
	m->write = write;
	m->context = context;
	return m;
}

/* The heap the masker holds: the same from start to end of any stream. */
size_t
masker_memory(const Masker *m)
{
	return sizeof(Masker) + m->work_cap +
		(m->rows << m->shift) * sizeof(uint32_t) + m->rows * sizeof(MaskState);
}

static void
flush_output(Masker *m)
{
	if (m->npieces > 0 && !m->failed && !m->write(m->context, m->pieces, m->npieces))
		m->failed = true;
	m->npieces = 0;
}

/* Adds a piece to the output; it is written before work's bytes move. */
static void
emit(Masker *m, const char *data, size_t len)
{
	if (len == 0)
		return;
	if (m->npieces == MASK_PIECES)
		flush_output(m);
	m->pieces[m->npieces].iov_base = (char *) data;
	m->pieces[m->npieces].iov_len = len;
	m->npieces++;
}

/* Writes what precedes the match and "***"; scanning starts again after it. */
static void
commit_match(Masker *m)
{
	emit(m, m->work + m->out, m->match_start - m->out);
	emit(m, MASK_REPLACEMENT, strlen(MASK_REPLACEMENT));
	m->out = m->scanned = m->match_end;
	m->match_start = NO_MATCH;
	m->state = 0;
}

/*
 * Runs the automaton over work[scanned, len).  Without a match in hand a
 * byte costs a load and a test.  With one, it is kept until no match can
 * start at or before it (the current state's text starts after it); a
 * match found meanwhile replaces it if it starts before it, or at the same
 * byte and is longer.
 */
static void
scan(Masker *m)
{
	const uint8_t *work = (const uint8_t *) m->work;
	const uint32_t *delta = m->delta;
	const MaskState *states = m->states;
	const uint8_t *byte_class = m->byte_class;
	const unsigned shift = m->shift;
	const size_t len = m->len;
	uint32_t	s = m->state;
	size_t		i = m->scanned;

	while (i < len)
	{
		const MaskState *st;

		if (m->match_start == NO_MATCH)
		{
			for (;;)
			{
				if (s == 0)
					i = mask_starts_next(&m->starts, work, i, len);
				if (i >= len)
					break;
				s = delta[s + byte_class[work[i++]]];
				if (states[s >> shift].match != 0)
					break;
			}
			st = &states[s >> shift];
			if (st->match != 0)
			{
				m->match_start = i - st->match;
				m->match_end = i;
			}
			continue;
		}
		s = delta[s + byte_class[work[i++]]];
		st = &states[s >> shift];
		if (i - st->depth > m->match_start)
		{
			m->scanned = i;
			commit_match(m);
			i = m->scanned;
			s = 0;
		}
		else if (st->match != 0 && i - st->match <= m->match_start)
		{
			m->match_start = i - st->match;
			m->match_end = i;
		}
	}
	m->scanned = i;
	m->state = s;
}

/*
 * Writes all that no match can still start in (everything, at the end of
 * the stream), and moves what is held back to the front of work.
 */
static void
release(Masker *m, bool at_end)
{
	size_t		safe = at_end ? m->len : m->scanned - m->states[m->state >> m->shift].depth;
	size_t		kept;

	if (safe > m->out)
		emit(m, m->work + m->out, safe - m->out);
	if (safe < m->out)
		safe = m->out;
	flush_output(m);
	kept = m->len - safe;
	memmove(m->work, m->work + safe, kept);
	m->len = kept;
	m->scanned -= safe;
	m->out = 0;
	if (m->match_start != NO_MATCH)
	{
		m->match_start -= safe;
		m->match_end -= safe;
	}
}

/*
 * Where the next input goes, in the masker's own buffer, and how much fits
 * (at least MASK_ROOM bytes): reading straight into it saves a copy.
 */
char *
masker_room(Masker *m, size_t *room)
{
	*room = m->work_cap - m->len;
	return m->work + m->len;
}

/* Masks the len bytes just put in the room, and writes all it can. */
bool
masker_took(Masker *m, size_t len)
{
	m->len += len;
	if (m->len > m->work_used)
		m->work_used = m->len;
	scan(m);
	release(m, false);
	return !m->failed;
}

bool
masker_feed(Masker *m, const char *data, size_t len)
{
	while (len > 0 && !m->failed)
	{
		size_t		room;
		char	   *at = masker_room(m, &room);
		size_t		n = len < room ? len : room;

		memcpy(at, data, n);
		masker_took(m, n);
		data += n;
		len -= n;
	}
	return !m->failed;
}

/* Ends the stream: a match in hand is final, and what follows it is scanned again. */
bool
masker_finish(Masker *m)
{
	scan(m);
	while (m->match_start != NO_MATCH)
	{
		commit_match(m);
		scan(m);
	}
	release(m, true);
	m->state = 0;
	return !m->failed;
}

/* Wipes and frees the automaton, which holds the patterns, and the buffers. */
void
masker_free(Masker *m)
{
	if (m == NULL)
		return;
	explicit_bzero(m->delta, (m->rows << m->shift) * sizeof(uint32_t));
	explicit_bzero(m->states, m->rows * sizeof(MaskState));
	explicit_bzero(&m->starts, sizeof(m->starts));
	explicit_bzero(m->work, m->work_used);
	free(m->delta);
	free(m->states);
	free(m->work);
	free(m);
}
