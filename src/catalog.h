/*-------------------------------------------------------------------------
 *
 * catalog.h
 *		Looking up extensions in the system catalogs (catalog.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef NSVAULT_CATALOG_H
#define NSVAULT_CATALOG_H

extern char *nsvault_extension_schema(const char *extname);
extern bool nsvault_installed(Oid *owner);

#endif							/* NSVAULT_CATALOG_H */
