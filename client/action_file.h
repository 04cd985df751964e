/*
 * action_file.h — reading an action from its file or its workflow
 * (action_file.c), for enrich and mask.
 */
#ifndef NSVAULT_ACTION_FILE_H
#define NSVAULT_ACTION_FILE_H

#include "nsvault.h"

extern json_t *parse_json(const char *text, size_t len, size_t flags, json_error_t *error);
extern json_t *parse_json_file(const char *path, size_t flags, json_error_t *error);
extern const json_t *load_action(const CommandLine *cl, const char *command, json_t **doc,
								 bool *is_subflow);

#endif							/* NSVAULT_ACTION_FILE_H */
