/*
 * output.h — what the administration commands print (output.c).
 */
#ifndef NSVAULT_OUTPUT_H
#define NSVAULT_OUTPUT_H

#include <stdbool.h>

#include <jansson.h>
#include <libpq-fe.h>

extern const char OUTPUT_TRANSACTION_SQL[];
extern json_t *output_row_json(const PGresult *res, int row, const char *const *fields);
extern void output_json(json_t *value);
extern void output_rows(const PGresult *res, const char *const *fields,
						const char *const *headers, bool json);
extern void output_fields(const PGresult *res, const char *const *fields, bool json);

#endif							/* NSVAULT_OUTPUT_H */
