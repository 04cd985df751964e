/*-------------------------------------------------------------------------
 *
 * secrets.h
 *		Secrets and their versions: what a sealed value is bound to, and
 *		what the functions on secrets share (secrets.c, secret_write.c,
 *		secret_versions.c, secret_metadata.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef NSVAULT_SECRETS_H
#define NSVAULT_SECRETS_H

#include "lib/stringinfo.h"
#include "utils/timestamp.h"

#include "crypto.h"

/* versions a namespace keeps of each secret unless set_max_versions says otherwise */
#define SECRETS_DEFAULT_MAX_VERSIONS	10

/* a secret whose reads fail: past its expires_at (an implementation-defined subclass of 55) */
#define ERRCODE_NSVAULT_SECRET_EXPIRED	MAKE_SQLSTATE('5','5','V','0','1')

/* One version of a secret, as nsvault.secrets or nsvault.secret_versions holds it. */
typedef struct SecretVersion
{
	bool		found;
	int32		version;		/* 1 in a table without versions (before 0.6) */
	int32		key_version;	/* 0 when destroyed */
	bytea	   *ciphertext;		/* a copy; NULL when destroyed */
	bool		deleted;
	bool		expires;		/* the secret has an expires_at (current row only) */
	TimestampTz expires_at;
} SecretVersion;

extern StringInfo secrets_aad(const char *namespace, const char *name, int32 version);
extern void secrets_read_current(const char *namespace, const char *const *names, int nnames,
								 SecretVersion *rows);
extern SecretVersion *secrets_read_asked(const char *namespace, const char *name, int32 version,
										 SecretVersion *current, SecretVersion *older);
extern void secrets_read_version(const char *namespace, const char *name, int32 version,
								 SecretVersion *row);
extern void secrets_check_present(const char *namespace, const char *name,
								  const SecretVersion *current, const SecretVersion *asked);
extern void secrets_check_readable(const char *namespace, const char *name,
								   const SecretVersion *current, const SecretVersion *asked);
extern bool secrets_has_value(const SecretVersion *row);
extern bytea *secrets_open(const char *namespace, const char *name, const SecretVersion *row,
						   NamespaceKey **key);
extern void secrets_report_missing(const char *namespace, const char *name);
extern bool secrets_versioned(void);
extern int32 secrets_lock_current(Datum *key_args);
extern char *secrets_version_detail(int32 version);

#endif							/* NSVAULT_SECRETS_H */
