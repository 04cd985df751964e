/*-------------------------------------------------------------------------
 *
 * crypto.c
 *		The sealed-value format, built on pgcrypto's functions.
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
 * pgcrypto's C functions are taken from its library once per backend (the
 * postmaster has loaded it already when nsvault is preloaded) and called
 * through fmgr: no query and no catalog lookup per call, and nothing in the
 * database, search_path included, can redirect them.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "port/pg_bswap.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

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

static bool pgcrypto_ready = false;
static FmgrInfo encrypt_iv_fn;
static FmgrInfo decrypt_iv_fn;
static FmgrInfo hmac_fn;
static FmgrInfo random_bytes_fn;
static Datum cipher_type;		/* 'aes-cbc/pad:pkcs' */
static Datum hash_type;			/* 'sha256' */

/* Points fn at one of pgcrypto's C functions. */
static void
pgcrypto_function(FmgrInfo *fn, const char *symbol, short nargs)
{
	MemSet(fn, 0, sizeof(*fn));
	fn->fn_addr = load_external_function(PGCRYPTO_LIBRARY, symbol, true, NULL);
	fn->fn_oid = InvalidOid;
	fn->fn_nargs = nargs;
	fn->fn_strict = true;
	fn->fn_mcxt = TopMemoryContext;
}

/* Finds pgcrypto's functions, once per backend. */
static void
pgcrypto_init(void)
{
	MemoryContext oldcxt;

	if (pgcrypto_ready)
		return;

	pgcrypto_function(&encrypt_iv_fn, "pg_encrypt_iv", 4);
	pgcrypto_function(&decrypt_iv_fn, "pg_decrypt_iv", 4);
	pgcrypto_function(&hmac_fn, "pg_hmac", 3);
	pgcrypto_function(&random_bytes_fn, "pg_random_bytes", 1);

	oldcxt = MemoryContextSwitchTo(TopMemoryContext);
	cipher_type = CStringGetTextDatum("aes-cbc/pad:pkcs");
	hash_type = CStringGetTextDatum("sha256");
	MemoryContextSwitchTo(oldcxt);

	pgcrypto_ready = true;
}

/* Copies key bytes into a bytea that is wiped with the current context. */
static bytea *
key_bytea(const uint8 *key)
{
	bytea	   *result = secure_alloc(VARHDRSZ + NSVAULT_KEY_LEN);

	SET_VARSIZE(result, VARHDRSZ + NSVAULT_KEY_LEN);
	memcpy(VARDATA(result), key, NSVAULT_KEY_LEN);
	return result;
}

/* Computes HMAC-SHA256 of data under key into out. */
static void
hmac_sha256(const bytea *data, const bytea *key, uint8 *out)
{
	bytea	   *mac;

	mac = DatumGetByteaPP(FunctionCall3(&hmac_fn,
										PointerGetDatum(data),
										PointerGetDatum(key),
										hash_type));
	if (VARSIZE_ANY_EXHDR(mac) != SEAL_TAG_LEN)
		elog(ERROR, "pgcrypto hmac returned %zu bytes, expected %d",
			 VARSIZE_ANY_EXHDR(mac), SEAL_TAG_LEN);
	memcpy(out, VARDATA_ANY(mac), SEAL_TAG_LEN);
	wipe_varlena(mac);
	pfree(mac);
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
	bytea	   *raw = key_bytea(raw_key);

	pgcrypto_init();
	hmac_sha256((bytea *) cstring_to_text(LABEL_ENCRYPTION), raw, key->enc_key);
	hmac_sha256((bytea *) cstring_to_text(LABEL_AUTHENTICATION), raw, key->mac_key);
	wipe_varlena(raw);
}

/* Returns nbytes from pgcrypto's strong random source. */
static bytea *
crypto_random_bytes(int nbytes)
{
	pgcrypto_init();
	return DatumGetByteaPP(FunctionCall1(&random_bytes_fn, Int32GetDatum(nbytes)));
}

/* Computes the tag over format byte, aad, IV and ciphertext. */
static void
seal_tag(const NamespaceKey *key, char format, const StringInfo aad,
		 const char *iv_and_ciphertext, Size len, uint8 *tag)
{
	Size		total = 1 + sizeof(uint32) + aad->len + len;
	bytea	   *input = palloc(VARHDRSZ + total);
	char	   *p = VARDATA(input);
	uint32		aad_len_be = pg_hton32((uint32) aad->len);
	bytea	   *mac_key = key_bytea(key->mac_key);

	SET_VARSIZE(input, VARHDRSZ + total);
	*p++ = format;
	memcpy(p, &aad_len_be, sizeof(aad_len_be));
	p += sizeof(aad_len_be);
	memcpy(p, aad->data, aad->len);
	p += aad->len;
	memcpy(p, iv_and_ciphertext, len);

	hmac_sha256(input, mac_key, tag);
	wipe_varlena(mac_key);
	pfree(input);
}

/* Encrypts and authenticates plaintext under key, bound to aad. */
bytea *
crypto_seal(const NamespaceKey *key, const StringInfo aad,
			const struct varlena *plaintext)
{
	bytea	   *iv;
	bytea	   *enc_key;
	bytea	   *ciphertext;
	Size		ct_len;
	bytea	   *sealed;
	char	   *body;

	pgcrypto_init();
	iv = crypto_random_bytes(SEAL_IV_LEN);
	enc_key = key_bytea(key->enc_key);
	ciphertext = DatumGetByteaPP(FunctionCall4(&encrypt_iv_fn,
											   PointerGetDatum(plaintext),
											   PointerGetDatum(enc_key),
											   PointerGetDatum(iv),
											   cipher_type));
	wipe_varlena(enc_key);

	ct_len = VARSIZE_ANY_EXHDR(ciphertext);
	sealed = palloc(VARHDRSZ + SEAL_HEADER_LEN + ct_len + SEAL_TAG_LEN);
	SET_VARSIZE(sealed, VARHDRSZ + SEAL_HEADER_LEN + ct_len + SEAL_TAG_LEN);
	body = VARDATA(sealed);
	body[0] = SEAL_FORMAT_CURRENT;
	memcpy(body + 1, VARDATA_ANY(iv), SEAL_IV_LEN);
	memcpy(body + SEAL_HEADER_LEN, VARDATA_ANY(ciphertext), ct_len);
	seal_tag(key, SEAL_FORMAT_CURRENT, aad, body + 1, SEAL_IV_LEN + ct_len,
			 (uint8 *) body + SEAL_HEADER_LEN + ct_len);

	pfree(ciphertext);
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
 * authentic under key and aad: the caller reports it, naming the value.
 * The plaintext is returned in secure memory of the current context.
 */
bytea *
crypto_open(const NamespaceKey *key, const StringInfo aad, const bytea *sealed)
{
	const char *body = VARDATA_ANY(sealed);
	Size		len = VARSIZE_ANY_EXHDR(sealed);
	Size		ct_len;
	uint8		tag[SEAL_TAG_LEN];
	bytea	   *ciphertext;
	bytea	   *iv;
	bytea	   *enc_key;
	bytea	   *decrypted;
	bytea	   *plaintext;

	if (len < SEAL_MIN_LEN ||
		(len - SEAL_HEADER_LEN - SEAL_TAG_LEN) % SEAL_BLOCK_LEN != 0)
		return NULL;
	(void) crypto_sealed_format(sealed);
	ct_len = len - SEAL_HEADER_LEN - SEAL_TAG_LEN;

	pgcrypto_init();
	seal_tag(key, body[0], aad, body + 1, SEAL_IV_LEN + ct_len, tag);
	if (timingsafe_bcmp(tag, body + SEAL_HEADER_LEN + ct_len, SEAL_TAG_LEN) != 0)
		return NULL;

	iv = palloc(VARHDRSZ + SEAL_IV_LEN);
	SET_VARSIZE(iv, VARHDRSZ + SEAL_IV_LEN);
	memcpy(VARDATA(iv), body + 1, SEAL_IV_LEN);
	ciphertext = palloc(VARHDRSZ + ct_len);
	SET_VARSIZE(ciphertext, VARHDRSZ + ct_len);
	memcpy(VARDATA(ciphertext), body + SEAL_HEADER_LEN, ct_len);

	enc_key = key_bytea(key->enc_key);
	decrypted = DatumGetByteaPP(FunctionCall4(&decrypt_iv_fn,
											  PointerGetDatum(ciphertext),
											  PointerGetDatum(enc_key),
											  PointerGetDatum(iv),
											  cipher_type));
	wipe_varlena(enc_key);

	/* move the plaintext into memory that is wiped even on error */
	plaintext = secure_alloc(VARSIZE_ANY(decrypted));
	memcpy(plaintext, decrypted, VARSIZE_ANY(decrypted));
	wipe_varlena(decrypted);
	pfree(decrypted);
	pfree(ciphertext);
	pfree(iv);
	return plaintext;
}
