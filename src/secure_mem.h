/*-------------------------------------------------------------------------
 *
 * secure_mem.h
 *		Memory for secrets, wiped when freed (secure_mem.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef NSVAULT_SECURE_MEM_H
#define NSVAULT_SECURE_MEM_H

extern void *secure_alloc(Size size);
extern void wipe_varlena(struct varlena *value);

#endif							/* NSVAULT_SECURE_MEM_H */
