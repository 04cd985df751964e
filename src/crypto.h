/*-------------------------------------------------------------------------
 *
 * crypto.h
 *		Sealing and opening values in pgcrypto's format, with OpenSSL (crypto.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef NSVAULT_CRYPTO_H
#define NSVAULT_CRYPTO_H

#include "lib/stringinfo.h"

#define NSVAULT_KEY_LEN			32	/* raw and derived keys: 256 bits */
#define SEAL_FORMAT_CURRENT		2	/* what crypto_seal writes */

/*
 * The working keys of one version of a namespace key: the raw key from the
 * key database is never kept, only these two derived from it.
 */
typedef struct NamespaceKey
{
	int32		version;
	uint8		enc_key[NSVAULT_KEY_LEN];
	uint8		mac_key[NSVAULT_KEY_LEN];
} NamespaceKey;

extern void crypto_init(void);
extern void crypto_derive_keys(const uint8 *raw_key, NamespaceKey *key);
extern bytea *crypto_seal(const NamespaceKey *key, const StringInfo aad,
						  const struct varlena *plaintext);
extern bytea *crypto_open(const NamespaceKey *key, const StringInfo aad,
						  const bytea *sealed);
extern void crypto_aad_append(StringInfo aad, const char *field);
extern int	crypto_sealed_format(const bytea *sealed);

#endif							/* NSVAULT_CRYPTO_H */
