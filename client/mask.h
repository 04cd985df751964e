/*
 * mask.h — what mask.c shares with run.c beyond nsvault.h's SecretSet:
 * fetching the secrets on a connection of the caller's.
 */
#ifndef NSVAULT_MASK_H
#define NSVAULT_MASK_H

#include "nsvault.h"

extern bool secrets_fetch_on(PGconn *conn, SecretSet *set, const char *namespace,
							 bool missing_ok, DbError *error);

#endif							/* NSVAULT_MASK_H */
