/*-------------------------------------------------------------------------
 *
 * catalog.c
 *		Finds the objects of the extensions nsvault calls: pgcrypto, dblink.
 *
 * Everything is looked up in the schema the extension was installed in and
 * checked to belong to that extension, so a function a user created under
 * the same name elsewhere, or in the same schema, is never called.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/dependency.h"
#include "catalog/indexing.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_proc.h"
#include "nodes/makefuncs.h"
#include "parser/parse_func.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"

#include "nsvault.h"

/* Returns the OID, schema and owner of an installed extension. */
static Oid
extension_lookup(const char *extname, Oid *schema, Oid *owner)
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

		extoid = form->oid;
		*schema = form->extnamespace;
		*owner = form->extowner;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);

	if (!OidIsValid(extoid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("extension \"%s\" is not installed", extname),
				 errhint("nsvault needs pgcrypto and dblink: CREATE EXTENSION nsvault CASCADE installs them.")));
	return extoid;
}

/* Returns the quoted name of the schema an extension is installed in. */
char *
extension_schema(const char *extname)
{
	Oid			schema;
	Oid			owner;

	extension_lookup(extname, &schema, &owner);
	return pstrdup(quote_identifier(get_namespace_name(schema)));
}

/* Returns the role that owns an extension. */
Oid
extension_owner(const char *extname)
{
	Oid			schema;
	Oid			owner;

	extension_lookup(extname, &schema, &owner);
	return owner;
}

/* Returns the OID of an extension's function, checked to be its member. */
Oid
extension_function(const char *extname, const char *funcname,
				   int nargs, const Oid *argtypes)
{
	Oid			schema;
	Oid			owner;
	Oid			extoid = extension_lookup(extname, &schema, &owner);
	List	   *qualified;
	Oid			funcoid;

	qualified = list_make2(makeString(get_namespace_name(schema)),
						   makeString(pstrdup(funcname)));
	funcoid = LookupFuncName(qualified, nargs, argtypes, false);
	if (getExtensionOfObject(ProcedureRelationId, funcoid) != extoid)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("function \"%s\" is not a member of extension \"%s\"",
						funcname, extname),
				 errdetail("nsvault calls only the extension's own functions.")));
	return funcoid;
}
