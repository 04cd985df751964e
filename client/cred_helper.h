/*
 * cred_helper.h — what docker-credential-nsvault and
 * nsvault-credential-provider share: cred_helper.c (the call, stdin's
 * JSON, stdout's answer) and cred_text.c (their text rules).
 */
#ifndef NSVAULT_CRED_HELPER_H
#define NSVAULT_CRED_HELPER_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "nsvault.h"

/* the columns of nsvault.registry_credential's one row */
#define CRED_REGISTRY	0
#define CRED_USERNAME	1
#define CRED_SECRET		2

/* cred_helper.c */
extern PGresult *cred_lookup(PGconn *conn, const char *namespace, const char *reference,
							 bool global_service, DbError *error);
extern json_t *cred_parse_json(const char *text, size_t len, const char *what,
							   DbError *error);
extern bool cred_print_json(const json_t *value);

/* cred_text.c */
extern char *cred_server_url(char *input, size_t len);
extern bool cred_go_duration_valid(const char *text);
extern bool cred_auth_key(const char *registry, const char *image, char *key, size_t size);

#endif							/* NSVAULT_CRED_HELPER_H */
