/*-------------------------------------------------------------------------
 *
 * secure_mem.c
 *		Memory for keys and plaintext that is wiped, whatever the exit path.
 *
 * A chunk from secure_alloc() registers a reset callback on the current
 * memory context, so it is zeroed when that context is reset or deleted,
 * including when an error unwinds the call that allocated it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/memutils.h"

#include "secure_mem.h"

typedef struct SecureChunk
{
	MemoryContextCallback callback;
	Size		size;
} SecureChunk;

#define SECURE_CHUNK_HEADER MAXALIGN(sizeof(SecureChunk))

static void
secure_chunk_wipe(void *arg)
{
	SecureChunk *chunk = (SecureChunk *) arg;

	explicit_bzero((char *) chunk + SECURE_CHUNK_HEADER, chunk->size);
}

/* Allocates zeroed memory in CurrentMemoryContext that is wiped on reset. */
void *
secure_alloc(Size size)
{
	SecureChunk *chunk = palloc0(SECURE_CHUNK_HEADER + size);

	chunk->size = size;
	chunk->callback.func = secure_chunk_wipe;
	chunk->callback.arg = chunk;
	MemoryContextRegisterResetCallback(CurrentMemoryContext, &chunk->callback);
	return (char *) chunk + SECURE_CHUNK_HEADER;
}

/* Zeroes the contents of an in-line (detoasted) varlena. */
void
wipe_varlena(struct varlena *value)
{
	if (value != NULL && !VARATT_IS_EXTERNAL(value))
		explicit_bzero(VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value));
}
