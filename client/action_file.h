/*
 * action_file.h — reading an action from its file or its workflow
 * (action_file.c), for enrich and mask.
 */
#ifndef NSVAULT_ACTION_FILE_H
#define NSVAULT_ACTION_FILE_H

#include "nsvault.h"

extern json_t *parse_json(const char *text, size_t len, size_t flags, json_error_t *error);
extern json_t *parse_json_file(const char *path, size_t flags, json_error_t *error);
extern json_t *load_document(const char *path, const char *what);
extern const json_t *workflow_action(const json_t *workflow, const char *path, const char *id,
									 bool *is_subflow);
extern const json_t *load_action(const CommandLine *cl, json_t **doc, bool *is_subflow);

#endif							/* NSVAULT_ACTION_FILE_H */
