/*-------------------------------------------------------------------------
 *
 * distribution.h
 *		Whether Citus has distributed nsvault's tables (distribution.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef NSVAULT_DISTRIBUTION_H
#define NSVAULT_DISTRIBUTION_H

extern void nsvault_distribution_check(void);
extern bool nsvault_tables_distributed(void);
extern bool nsvault_follows_role_changes(void);

#endif							/* NSVAULT_DISTRIBUTION_H */
