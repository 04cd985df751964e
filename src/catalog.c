/*-------------------------------------------------------------------------
 *
 * catalog.c
 *		Finds where an extension nsvault calls is installed (dblink), and
 *		whether nsvault itself is installed in the current database.
 *
 * dblink's functions are called qualified by the schema its extension was
 * installed in, so a function a user created under the same name elsewhere
 * is never called.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/pg_extension.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "catalog.h"

/*
 * Returns the OID, schema, owner and version of an extension, or
 * InvalidOid when it is not installed.
 */
static Oid
extension_find(const char *extname, Oid *schema, Oid *owner, char **version)
{
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	Oid			extoid = InvalidOid;

	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber,
				F_NAMEEQ, CStringGetDatum(extname));
	scan = systable_beginscan(rel, ExtensionNameIndexId, true, NULL, 1, &key);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
	{
		Form_pg_extension form = (Form_pg_extension) GETSTRUCT(tuple);

		bool		isnull;
		Datum		datum = heap_getattr(tuple, Anum_pg_extension_extversion,
										 RelationGetDescr(rel), &isnull);

		extoid = form->oid;
		*schema = form->extnamespace;
		*owner = form->extowner;
		*version = isnull ? NULL : TextDatumGetCString(datum);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return extoid;
}

/* Returns the OID, schema and owner of an installed extension, or fails. */
static Oid
extension_lookup(const char *extname, Oid *schema, Oid *owner)
{
	char	   *version;
	Oid			extoid = extension_find(extname, schema, owner, &version);

	if (!OidIsValid(extoid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("extension \"%s\" is not installed", extname),
				 errhint("nsvault needs pgcrypto and dblink: CREATE EXTENSION nsvault CASCADE installs them.")));
	return extoid;
}

/* Returns the quoted name of the schema an extension is installed in. */
char *
nsvault_extension_schema(const char *extname)
{
	Oid			schema;
	Oid			owner;

	extension_lookup(extname, &schema, &owner);
	return pstrdup(quote_identifier(get_namespace_name(schema)));
}

/*
 * Is nsvault installed in the current database with SQL this library can
 * use (not 0.1's)?  *owner gets the extension's owner.
 */
bool
nsvault_installed(Oid *owner)
{
	Oid			schema;
	char	   *version = NULL;

	return OidIsValid(extension_find("nsvault", &schema, owner, &version)) &&
		version != NULL && strcmp(version, "0.1") != 0;
}
