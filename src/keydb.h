/*-------------------------------------------------------------------------
 *
 * keydb.h
 *		Requests to the key database, and what it answers.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NSVAULT_KEYDB_H
#define NSVAULT_KEYDB_H

#include "utils/uuid.h"

/*
 * One answer of the key database: who answered (its identity), a version
 * (or a count), and a key in secure memory of the caller's context.
 */
typedef struct KeyAnswer
{
	bool		found;			/* false: the key database has no such version */
	pg_uuid_t	identity;
	int32		version;
	uint8	   *key;			/* NULL: destroyed, or not a key request */
	Size		key_len;
} KeyAnswer;

/* what a request must answer */
typedef enum KeyExpectation
{
	EXPECT_KEY,					/* a row with a key */
	EXPECT_KEY_OR_NONE,			/* a row, whose version and key may be null */
	EXPECT_COUNT				/* a row with a count and no key */
} KeyExpectation;

extern const char *keydb_server_name(void);
extern void keydb_admin_required(void);
extern void keydb_writer_key(const char *namespace, int32 min_version,
							 const pg_uuid_t *expected, bool new_version,
							 KeyAnswer *answer);
extern void keydb_key_version(const char *namespace, int32 version, KeyAnswer *answer);
extern void keydb_describe(const char *namespace, KeyAnswer *answer);
extern void keydb_destroy_versions(const pg_uuid_t *expected, const char *namespace,
								   int32 first, int32 last, KeyAnswer *answer);

/* key_link.c: the key database this database is linked to */
extern bool key_link_identity(pg_uuid_t *identity);
extern void key_link_check(const KeyAnswer *answer);
extern void key_link_record(void);

#endif							/* NSVAULT_KEYDB_H */
