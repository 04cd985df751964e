/* nsvault--0.3--0.4.sql — one registry credential, for credential helpers */

\echo Use "ALTER EXTENSION nsvault UPDATE TO '0.4'" to load this file. \quit

/*
 * The credential docker_config would hand out for an image reference, a
 * registry URL or a registry host: at most one row.  Docker's credential
 * helper and the kubelet's image credential provider ask for it at pull
 * time.
 */
CREATE FUNCTION nsvault.registry_credential(namespace text, reference text,
											global_service boolean DEFAULT false)
RETURNS TABLE (registry text, username text, secret text)
AS 'MODULE_PATHNAME', 'nsvault_registry_credential'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION nsvault.registry_credential(text, text, boolean) FROM PUBLIC;

/* whoever may read a namespace may ask for its credentials, as for docker_config */
DO $grant$
DECLARE
	reader regrole;
BEGIN
	FOR reader IN
		SELECT DISTINCT grantee FROM nsvault.grants
	LOOP
		EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION nsvault.registry_credential(text, text, boolean) TO %s',
								  reader);
	END LOOP;
END
$grant$;
