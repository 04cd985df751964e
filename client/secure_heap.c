/*
 * secure_heap.c — every heap block is zeroed when it is freed.
 *
 * Secret values pass through buffers of libpq, jansson and libjq that the
 * client cannot reach to wipe one by one.  Replacing glibc's malloc family
 * with thin wrappers that zero a block before glibc frees it wipes them
 * all.  Not linked into the sanitizer build of the unit tests, whose
 * runtime brings its own allocator.
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <string.h>

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void __libc_free(void *ptr);

void	   *malloc(size_t size);
void	   *calloc(size_t n, size_t size);
void	   *realloc(void *ptr, size_t size);
void		free(void *ptr);

void *
malloc(size_t size)
{
	return __libc_malloc(size);
}

void *
calloc(size_t n, size_t size)
{
	return __libc_calloc(n, size);
}

void
free(void *ptr)
{
	if (ptr == NULL)
		return;
	explicit_bzero(ptr, malloc_usable_size(ptr));
	__libc_free(ptr);
}

/* Grows by copying, so the old block is wiped by free() rather than by no one. */
void *
realloc(void *ptr, size_t size)
{
	size_t		old;
	void	   *grown;

	if (ptr == NULL)
		return __libc_malloc(size);
	if (size == 0)
	{
		free(ptr);
		return NULL;
	}
	old = malloc_usable_size(ptr);
	if (size <= old)
		return ptr;
	grown = __libc_malloc(size);
	if (grown == NULL)
		return NULL;
	memcpy(grown, ptr, old);
	free(ptr);
	return grown;
}
