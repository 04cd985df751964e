/*
 * io.c — reading and writing whole values with read(2) and write(2).
 *
 * Values go straight between the file descriptor and a heap buffer that is
 * wiped: stdio would keep a copy in its own buffers.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/uio.h>

#include "nsvault.h"

/* Reads all of fd; returns a NUL-terminated buffer and its length, or NULL. */
char *
read_all(int fd, size_t *len)
{
	size_t		cap = 4096;
	size_t		used = 0;
	char	   *buf = malloc(cap);

	if (buf == NULL)
		return NULL;
	for (;;)
	{
		ssize_t		got;

		if (cap - used < 2)
		{
			char	   *bigger = realloc(buf, cap * 2);

			if (bigger == NULL)
			{
				wipe_and_free(buf, used);
				return NULL;
			}
			buf = bigger;
			cap *= 2;
		}
		got = read(fd, buf + used, cap - used - 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
		{
			wipe_and_free(buf, used);
			return NULL;
		}
		if (got == 0)
			break;
		used += got;
	}
	buf[used] = '\0';
	*len = used;
	return buf;
}

/* Writes all of buf to fd; false on failure. */
bool
write_all(int fd, const char *buf, size_t len)
{
	while (len > 0)
	{
		ssize_t		done = write(fd, buf, len);

		if (done < 0 && errno == EINTR)
			continue;
		if (done <= 0)
			return false;
		buf += done;
		len -= done;
	}
	return true;
}

/* Writes all of the pieces to fd, moving them past what is written; false on failure. */
bool
writev_all(int fd, struct iovec *pieces, int count)
{
	while (count > 0)
	{
		ssize_t		done = writev(fd, pieces, count);

		if (done < 0 && errno == EINTR)
			continue;
		if (done <= 0)
			return false;
		for (; count > 0 && (size_t) done >= pieces->iov_len; pieces++, count--)
			done -= pieces->iov_len;
		if (count > 0)
		{
			pieces->iov_base = (char *) pieces->iov_base + done;
			pieces->iov_len -= done;
		}
	}
	return true;
}

/* Zeroes and frees a buffer that held a secret. */
void
wipe_and_free(char *buf, size_t len)
{
	if (buf == NULL)
		return;
	explicit_bzero(buf, len);
	free(buf);
}
