/*-------------------------------------------------------------------------
 *
 * crypto.c
 *		The sealed-value format, built on OpenSSL's EVP interface.
 *
 * Stored in one bytea:
 *
 *		format | IV (16) | AES-256-CBC ciphertext, PKCS#7 padded | tag (32)
 *
 *		tag = HMAC-SHA256(mac_key, format | be32(len(aad)) | aad | IV | ciphertext)
 *
 * The format byte says what the associated data holds.  Format 2, which
 * new values are sealed in, binds a registry token to its URL and user
 * name as well; format 1 (before nsvault 0.3) did not.  The byte is part
 * of the tag, so a value cannot be passed off as the older format.
 *
 * Encrypt-then-MAC: the tag is checked, in constant time, before any byte
 * is decrypted, so tampering is reported and never decrypts to garbage.
 * The associated data (aad) names what the value belongs to, so a sealed
 * value copied to another row fails its check.  enc_key and mac_key are
 * HMAC-SHA256(raw key, label), one label each, computed once per key.
 *
 * This is exactly what pgcrypto's encrypt_iv(…, 'aes-cbc/pad:pkcs') and
 * hmac(…, 'sha256') compute, so a value can always be opened with
 * pgcrypto alone (regress test crypto_format).  The work is done here with
 * OpenSSL, the library under pgcrypto, because pgcrypto sets OpenSSL up
 * anew on every call: the cipher and the MAC are fetched once per process
 * (in the postmaster when nsvault is preloaded) and one context of each is
 * reused.  No key stays in a context after a call: the MAC context is
 * keyed again with zeros and the cipher context is reset, on success and
 * before any error is raised.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "port/pg_bswap.h"

#include "crypto.h"
#include "secure_mem.h"

#define SEAL_FORMAT_OLDEST		1
#define SEAL_IV_LEN				16
#define SEAL_BLOCK_LEN			16
#define SEAL_TAG_LEN			32
#define SEAL_HEADER_LEN			(1 + SEAL_IV_LEN)
#define SEAL_MIN_LEN			(SEAL_HEADER_LEN + SEAL_BLOCK_LEN + SEAL_TAG_LEN)

#define LABEL_ENCRYPTION		"nsvault/v1/encryption"
#define LABEL_AUTHENTICATION	"nsvault/v1/authentication"

static EVP_CIPHER *aes_256_cbc = NULL;
static EVP_CIPHER_CTX *cipher_ctx = NULL;
static EVP_MAC_CTX *hmac_ctx = NULL;

static const uint8 zero_key[NSVAULT_KEY_LEN];

/* What failed, for openssl_failure. */
typedef enum CryptoStep
{
	STEP_SETUP,
	STEP_HMAC,
	STEP_ENCRYPT,
	STEP_DECRYPT,
} CryptoStep;

/*
 * Clears what a failed call may have left keyed in the contexts, then
 * reports the failure with OpenSSL's reason (a library message, never data).
 */
static void
pg_attribute_noreturn()
openssl_failure(CryptoStep step)
{
	unsigned long code = ERR_get_error();
	const char *reason = code ? ERR_reason_error_string(code) : NULL;

	ERR_clear_error();
	if (cipher_ctx)
		EVP_CIPHER_CTX_reset(cipher_ctx);
	if (hmac_ctx)
		(void) EVP_MAC_init(hmac_ctx, zero_key, sizeof(zero_key), NULL);
	ereport(ERROR,
			(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
			 step == STEP_SETUP ? errmsg("could not set up AES-256-CBC and HMAC-SHA256 in OpenSSL") :
			 step == STEP_HMAC ? errmsg("could not compute an HMAC-SHA256") :
			 step == STEP_ENCRYPT ? errmsg("could not encrypt a value") :
			 errmsg("could not decrypt a value"),
			 errdetail_internal("OpenSSL: %s", reason ? reason : "no reason given")));
}

/*
 * Fetches AES-256-CBC and HMAC-SHA256 and makes their contexts, once per
 * process; a backend forked from a postmaster that did it inherits them.
 */
void
crypto_init(void)
{
	EVP_MAC   *hmac;
	OSSL_PARAM params[2];

	if (hmac_ctx != NULL)
		return;

	if (aes_256_cbc == NULL)
		aes_256_cbc = EVP_CIPHER_fetch(NULL, "AES-256-CBC", NULL);
	if (aes_256_cbc == NULL)
		openssl_failure(STEP_SETUP);
	if (cipher_ctx == NULL)
		cipher_ctx = EVP_CIPHER_CTX_new();
	if (cipher_ctx == NULL)
		openssl_failure(STEP_SETUP);

	hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (hmac == NULL)
		openssl_failure(STEP_SETUP);
	hmac_ctx = EVP_MAC_CTX_new(hmac);
	EVP_MAC_free(hmac);			/* the context holds its own reference */
	if (hmac_ctx == NULL)
		openssl_failure(STEP_SETUP);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if (!EVP_MAC_CTX_set_params(hmac_ctx, params))
	{
		EVP_MAC_CTX_free(hmac_ctx);
		hmac_ctx = NULL;
		openssl_failure(STEP_SETUP);
	}
}

/* Keys the MAC context with key; the caller must call hmac_finish. */
static void
hmac_start(const uint8 *key)
{
	crypto_init();
	if (!EVP_MAC_init(hmac_ctx, key, NSVAULT_KEY_LEN, NULL))
		openssl_failure(STEP_HMAC);
}

static void
hmac_add(const void *data, Size len)
{
	if (!EVP_MAC_update(hmac_ctx, data, len))
		openssl_failure(STEP_HMAC);
}

/* Writes the HMAC into out, and leaves no key in the context. */
static void
hmac_finish(uint8 *out)
{
	size_t		out_len;

	if (!EVP_MAC_final(hmac_ctx, out, &out_len, SEAL_TAG_LEN) || out_len != SEAL_TAG_LEN)
		openssl_failure(STEP_HMAC);
	if (!EVP_MAC_init(hmac_ctx, zero_key, sizeof(zero_key), NULL))
		openssl_failure(STEP_HMAC);
}

/* Appends one length-prefixed field to associated data. */
void
crypto_aad_append(StringInfo aad, const char *field)
{
	uint32		len = strlen(field);
	uint32		len_be = pg_hton32(len);

	appendBinaryStringInfo(aad, (char *) &len_be, sizeof(len_be));
	appendBinaryStringInfo(aad, field, len);
}

/* Derives the encryption and MAC keys from a raw key-database key. */
void
crypto_derive_keys(const uint8 *raw_key, NamespaceKey *key)
{
	hmac_start(raw_key);
	hmac_add(LABEL_ENCRYPTION, strlen(LABEL_ENCRYPTION));
	hmac_finish(key->enc_key);
	hmac_start(raw_key);
	hmac_add(LABEL_AUTHENTICATION, strlen(LABEL_AUTHENTICATION));
	hmac_finish(key->mac_key);
}

/* Computes the tag over format byte, aad, IV and ciphertext. */
static void
seal_tag(const NamespaceKey *key, uint8 format, const StringInfo aad,
		 const char *iv_and_ciphertext, Size len, uint8 *tag)
{
	uint32		aad_len_be = pg_hton32((uint32) aad->len);

	hmac_start(key->mac_key);
	hmac_add(&format, 1);
	hmac_add(&aad_len_be, sizeof(aad_len_be));
	hmac_add(aad->data, aad->len);
	hmac_add(iv_and_ciphertext, len);
	hmac_finish(tag);
}

/*
 * Runs AES-256-CBC with PKCS#7 padding over in into out, which has room for
 * len plus a block; returns the length written, or -1 for a decryption
 * whose padding is wrong.  Leaves no key in the context.
 */
static int
aes_cbc(bool encrypt, const uint8 *enc_key, const uint8 *iv,
		const uint8 *in, int len, uint8 *out)
{
	int			out_len;
	int			final_len;

	crypto_init();
	if (!EVP_CipherInit_ex2(cipher_ctx, aes_256_cbc, enc_key, iv, encrypt ? 1 : 0, NULL) ||
		!EVP_CipherUpdate(cipher_ctx, out, &out_len, in, len))
		openssl_failure(encrypt ? STEP_ENCRYPT : STEP_DECRYPT);
	if (!EVP_CipherFinal_ex(cipher_ctx, out + out_len, &final_len))
	{
		if (encrypt)
			openssl_failure(STEP_ENCRYPT);
		ERR_clear_error();
		EVP_CIPHER_CTX_reset(cipher_ctx);
		return -1;
	}
	EVP_CIPHER_CTX_reset(cipher_ctx);
	return out_len + final_len;
}

/* Encrypts and authenticates plaintext under key, bound to aad. */
bytea *
crypto_seal(const NamespaceKey *key, const StringInfo aad,
			const struct varlena *plaintext)
{
	Size		len = VARSIZE_ANY_EXHDR(plaintext);
	Size		ct_len = (len / SEAL_BLOCK_LEN + 1) * SEAL_BLOCK_LEN;
	Size		total = VARHDRSZ + SEAL_HEADER_LEN + ct_len + SEAL_TAG_LEN;
	bytea	   *sealed;
	uint8	   *body;

	sealed = palloc(total);
	SET_VARSIZE(sealed, total);
	body = (uint8 *) VARDATA(sealed);
	body[0] = SEAL_FORMAT_CURRENT;
	if (!pg_strong_random(body + 1, SEAL_IV_LEN))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate a random initialization vector")));
	if (aes_cbc(true, key->enc_key, body + 1, (const uint8 *) VARDATA_ANY(plaintext), len,
				body + SEAL_HEADER_LEN) != ct_len)
		elog(ERROR, "AES-256-CBC wrote an unexpected length");
	seal_tag(key, SEAL_FORMAT_CURRENT, aad, (char *) body + 1, SEAL_IV_LEN + ct_len,
			 body + SEAL_HEADER_LEN + ct_len);
	return sealed;
}

/*
 * The format a sealed value was sealed in, which decides its associated
 * data; fails for one this version does not read.
 */
int
crypto_sealed_format(const bytea *sealed)
{
	int			format = VARSIZE_ANY_EXHDR(sealed) > 0 ? (uint8) *VARDATA_ANY(sealed) : 0;

	if (format < SEAL_FORMAT_OLDEST || format > SEAL_FORMAT_CURRENT)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("unsupported sealed value format %d", format),
				 errdetail("This version of nsvault reads formats %d to %d.",
						   SEAL_FORMAT_OLDEST, SEAL_FORMAT_CURRENT)));
	return format;
}

/*
 * Checks and decrypts a sealed value.  Returns NULL when the value is not
 * authentic under key and aad, or not padded as sealing pads: the caller
 * reports it, naming the value.
 * The plaintext is returned in secure memory of the current context.
 */
bytea *
crypto_open(const NamespaceKey *key, const StringInfo aad, const bytea *sealed)
{
	const uint8 *body = (const uint8 *) VARDATA_ANY(sealed);
	Size		len = VARSIZE_ANY_EXHDR(sealed);
	Size		ct_len;
	uint8		tag[SEAL_TAG_LEN];
	bytea	   *plaintext;
	int			plain_len;

	if (len < SEAL_MIN_LEN ||
		(len - SEAL_HEADER_LEN - SEAL_TAG_LEN) % SEAL_BLOCK_LEN != 0)
		return NULL;
	(void) crypto_sealed_format(sealed);
	ct_len = len - SEAL_HEADER_LEN - SEAL_TAG_LEN;

	seal_tag(key, body[0], aad, (const char *) body + 1, SEAL_IV_LEN + ct_len, tag);
	if (timingsafe_bcmp(tag, body + SEAL_HEADER_LEN + ct_len, SEAL_TAG_LEN) != 0)
		return NULL;

	/* decrypted straight into memory that is wiped even on error */
	plaintext = secure_alloc(VARHDRSZ + ct_len + SEAL_BLOCK_LEN);
	plain_len = aes_cbc(false, key->enc_key, body + 1, body + SEAL_HEADER_LEN, ct_len,
						(uint8 *) VARDATA(plaintext));
	if (plain_len < 0)
		return NULL;			/* authentic, yet not sealed as nsvault seals */
	SET_VARSIZE(plaintext, VARHDRSZ + plain_len);
	return plaintext;
}
