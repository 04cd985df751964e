/* nsvault--0.4--0.5.sql — get_secrets that leaves missing secrets out, for batches */

\echo Use "ALTER EXTENSION nsvault UPDATE TO '0.5'" to load this file. \quit

/*
 * get_secrets(namespace, names, missing_ok): with missing_ok, the secrets
 * that exist, the missing ones left out, so that a batch can read the
 * names of many requests in one call and tell each request what it lacks.
 * An overload, without a default: get_secrets(namespace, names) stays as
 * it was, with its grants.
 */
CREATE FUNCTION nsvault.get_secrets(namespace text, names text[], missing_ok boolean)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'nsvault_get_secrets'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION nsvault.get_secrets(text, text[], boolean) FROM PUBLIC;

/* whoever may read a namespace may call it, as the two-argument form */
DO $grant$
DECLARE
	reader regrole;
BEGIN
	FOR reader IN
		SELECT DISTINCT grantee FROM nsvault.grants
	LOOP
		EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION nsvault.get_secrets(text, text[], boolean) TO %s',
								  reader);
	END LOOP;
END
$grant$;
