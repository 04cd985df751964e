/*
 * fuzz_common.h — what the client's fuzz targets share: die() and warn()
 * in place of the client's (a die is a finding), and the guard that skips
 * jq programs whose run or allocation jq itself does not bound.
 */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Whether text (len bytes) is free of NUL bytes, of numbers longer than
 * four digits, and of jq's own unbounded builtins and of the words in
 * extra (NULL-terminated, may be NULL).
 */
extern bool fuzz_tame(const char *text, size_t len, const char *const *extra);

#endif							/* FUZZ_COMMON_H */
