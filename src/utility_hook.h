/*-------------------------------------------------------------------------
 *
 * utility_hook.h
 *		What nsvault does around other commands (utility_hook.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef NSVAULT_UTILITY_HOOK_H
#define NSVAULT_UTILITY_HOOK_H

extern void utility_hook_register(void);

#endif							/* NSVAULT_UTILITY_HOOK_H */
