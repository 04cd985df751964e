/*
 * masker.c — copies a stream, writing "***" for each pattern found in it.
 *
 * One Aho-Corasick automaton over every pattern, built once into a full
 * transition table (over classes of the bytes the patterns use), so that
 * each input byte costs one table load.  Every match counts: matches that
 * overlap are masked as one region, their union, so that no part of a
 * pattern that overlaps a masked one is let through.  A region keeps the
 * input's line breaks ("\n", and "\r\n"), each run of other bytes
 * between them written as "***", so that masked output has the input's
 * lines.
 *
 * Where no partial match is in hand, the scan skips every byte at which no
 * pattern can start, by the pair of bytes there (mask_starts.c), without
 * the automaton's chain of loads.  A partial match begun at a skipped byte
 * could never have finished.
 *
 * Streaming in constant memory: a byte is held back only while a match
 * could still start at it, which is at most the longest pattern's length;
 * everything before is written at the end of each feed (the part of a
 * region that is settled too), so a live log is followed line by line.
 * No allocation after masker_new.
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

/* A region of work to mask: the union of matches that overlap, [start, end). */
typedef struct MaskRegion
{
	size_t		start;
	size_t		end;
} MaskRegion;

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

	/*
	 * The regions found and not yet written, in order, apart from each
	 * other (a ring of region_cap).  Those that a match still in progress
	 * may reach are at most the longest pattern's length of them, and
	 * those before are written as soon as a match is found.
	 */
	MaskRegion *regions;
	size_t		region_cap;
	size_t		first_region;
	size_t		nregions;
	bool		run_masked;		/* "***" is written for the first region's current line */

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
	/* a CR held back with the longest pattern: see release */
	m->work_cap = m->longest + 1 + MASK_ROOM;
	/* not zeroed: most streams are short, and only what held input is wiped */
	m->work = malloc(m->work_cap);
	if (m->work == NULL)
		die(EXIT_FAIL, "out of memory");
	m->region_cap = m->longest + 2;
	m->regions = zalloc(m->region_cap, sizeof(MaskRegion));
	m->write = write;
	m->context = context;
	return m;
}

/* The heap the masker holds: the same from start to end of any stream. */
size_t
masker_memory(const Masker *m)
{
	return sizeof(Masker) + m->work_cap + m->region_cap * sizeof(MaskRegion) +
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

/* Region k of those held, from the first. */
static inline MaskRegion *
region_at(Masker *m, size_t k)
{
	return &m->regions[(m->first_region + k) % m->region_cap];
}

/*
 * Writes work[from, to) of the first region: its line breaks as they are,
 * and "***" for each run of other bytes between them (once for a run that
 * an earlier call began).  A CR is part of a line break only before an LF.
 */
static void
write_masked(Masker *m, size_t from, size_t to)
{
	while (from < to)
	{
		const char *lf = memchr(m->work + from, '\n', to - from);
		size_t		run_end = lf != NULL ? (size_t) (lf - m->work) : to;

		if (lf != NULL && run_end > from && m->work[run_end - 1] == '\r')
			run_end--;
		if (run_end > from && !m->run_masked)
			emit(m, MASK_REPLACEMENT, strlen(MASK_REPLACEMENT));
		if (lf == NULL)
		{
			m->run_masked = m->run_masked || run_end > from;
			return;
		}
		emit(m, m->work + run_end, (size_t) (lf - m->work) + 1 - run_end);
		m->run_masked = false;
		from = (size_t) (lf - m->work) + 1;
	}
}

/* Writes what precedes the first region, and the region masked; drops it. */
static void
write_region(Masker *m)
{
	MaskRegion *r = region_at(m, 0);

	emit(m, m->work + m->out, r->start - m->out);
	write_masked(m, r->start, r->end);
	m->out = r->end;
	m->run_masked = false;
	m->first_region = (m->first_region + 1) % m->region_cap;
	m->nregions--;
}

/* Writes the regions that end by settled, where no match can start before. */
static void
write_settled(Masker *m, size_t settled)
{
	while (m->nregions > 0 && region_at(m, 0)->end <= settled)
		write_region(m);
}

/*
 * Adds the match [start, end), which ends at or after every match before
 * it: it takes in the regions it overlaps, and is a region of its own
 * otherwise (one that only touches another stays apart).
 */
static void
add_match(Masker *m, size_t start, size_t end, size_t settled)
{
	MaskRegion *last;

	write_settled(m, settled);
	while (m->nregions > 0 && (last = region_at(m, m->nregions - 1))->end > start)
	{
		if (last->start < start)
			start = last->start;
		m->nregions--;
	}
	last = region_at(m, m->nregions++);
	last->start = start;
	last->end = end;
}

/*
 * Runs the automaton over work[scanned, len).  Without a region in hand a
 * byte costs a load and a test.  With one, each match found joins the
 * regions; once no match in progress can start before the last region's
 * end, all are written.  The longest match that ends at a byte is the
 * union of all that end there, so one pass finds every region.
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

		if (m->nregions == 0)
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
				add_match(m, i - st->match, i, i - st->depth);
			continue;
		}
		s = delta[s + byte_class[work[i++]]];
		st = &states[s >> shift];
		if (st->match != 0)
			add_match(m, i - st->match, i, i - st->depth);
		else if (i - st->depth >= region_at(m, m->nregions - 1)->end)
			write_settled(m, SIZE_MAX);
	}
	m->scanned = i;
	m->state = s;
}

/*
 * Writes all that no match can still start in (everything, at the end of
 * the stream): the regions before that point, the settled part of the one
 * across it (but a CR at its edge, which may be half of a line break), and
 * the bytes before them; and moves what is held back to the front of work.
 */
static void
release(Masker *m, bool at_end)
{
	size_t		settled = at_end ? m->len : m->scanned - m->states[m->state >> m->shift].depth;
	size_t		upto = settled;
	size_t		kept;

	write_settled(m, settled);
	if (m->nregions > 0)
	{
		MaskRegion *r = region_at(m, 0);
		size_t		cut = settled;

		if (cut > r->start && m->work[cut - 1] == '\r')
			cut--;
		if (cut > r->start)
		{
			emit(m, m->work + m->out, r->start - m->out);
			write_masked(m, r->start, cut);
			m->out = r->start = cut;
		}
		if (r->start < upto)
			upto = r->start;
	}
	if (upto > m->out)
	{
		emit(m, m->work + m->out, upto - m->out);
		m->out = upto;
	}
	flush_output(m);
	kept = m->len - m->out;
	memmove(m->work, m->work + m->out, kept);
	m->len = kept;
	m->scanned -= m->out;
	for (size_t k = 0; k < m->nregions; k++)
	{
		region_at(m, k)->start -= m->out;
		region_at(m, k)->end -= m->out;
	}
	m->out = 0;
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

/* Ends the stream: the regions in hand are final. */
bool
masker_finish(Masker *m)
{
	scan(m);
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
	free(m->regions);
	free(m);
}
