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

#endif							/* NSVAULT_DISTRIBUTION_H */
