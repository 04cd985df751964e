/* nsvault--0.5--0.6.sql — secret versions, check-and-set, soft delete, metadata and expiry */

\echo Use "ALTER EXTENSION nsvault UPDATE TO '0.6'" to load this file. \quit

/*
 * nsvault.secrets keeps one row per secret: its current version, read in
 * one index probe, and the secret's metadata.  Every secret of 0.5 becomes
 * version 1; version 1 is sealed with the associated data 0.5 used, so its
 * ciphertext stays as it is.  A destroyed version keeps its row without
 * ciphertext.  updated_at is when the current version was written, and
 * updated_by who wrote it (unknown for what 0.5 wrote).
 */
ALTER TABLE nsvault.secrets
	ADD COLUMN version integer NOT NULL DEFAULT 1 CHECK (version > 0),
	ADD COLUMN updated_by name,
	ADD COLUMN deleted_at timestamptz,
	ADD COLUMN description text,
	ADD COLUMN custom jsonb,
	ADD COLUMN expires_at timestamptz,
	ALTER COLUMN ciphertext DROP NOT NULL,
	ALTER COLUMN key_version DROP NOT NULL,
	ADD CONSTRAINT secrets_destroyed_has_no_key_version
		CHECK ((ciphertext IS NULL) = (key_version IS NULL));
ALTER TABLE nsvault.secrets ALTER COLUMN version DROP DEFAULT;

/* The versions before the current one, each sealed on its own. */
CREATE TABLE nsvault.secret_versions (
	namespace text NOT NULL,
	name text NOT NULL,
	version integer NOT NULL CHECK (version > 0),
	ciphertext bytea,
	key_version integer CHECK (key_version > 0),
	created_at timestamptz NOT NULL,
	created_by name,
	deleted_at timestamptz,
	PRIMARY KEY (namespace, name, version),
	CONSTRAINT secret_versions_destroyed_has_no_key_version
		CHECK ((ciphertext IS NULL) = (key_version IS NULL))
);
REVOKE ALL ON TABLE nsvault.secret_versions FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('nsvault.secret_versions', '');

/* How many versions of each secret a namespace keeps (10 where it has no row). */
CREATE TABLE nsvault.namespace_settings (
	namespace text PRIMARY KEY,
	max_versions integer NOT NULL CHECK (max_versions > 0)
);
REVOKE ALL ON TABLE nsvault.namespace_settings FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('nsvault.namespace_settings', '');

/*
 * set_secret returns the version it wrote, and takes the version expected
 * (check-and-set); list_secrets gains columns.  Both are made anew, and
 * their grants given again below.
 */
DROP FUNCTION nsvault.set_secret(text, text, text, boolean);
CREATE FUNCTION nsvault.set_secret(namespace text, name text, value text,
								   overwrite boolean DEFAULT true,
								   expected_version integer DEFAULT NULL)
RETURNS integer
AS 'MODULE_PATHNAME', 'nsvault_set_secret'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;

DROP FUNCTION nsvault.list_secrets(text);
CREATE FUNCTION nsvault.list_secrets(namespace text)
RETURNS TABLE (name text, created_at timestamptz, updated_at timestamptz,
			   current_version integer, description text, expires_at timestamptz)
AS 'MODULE_PATHNAME', 'nsvault_list_secrets'
LANGUAGE C STABLE
SET search_path = pg_catalog, pg_temp;

/*
 * get_secret(namespace, name, version): a version, or with NULL the
 * current one.  An overload: get_secret(namespace, name) stays, with its
 * grants and what depends on it.
 *
 * The functions that read secrets have no search_path of their own: set and
 * restored on every call, it cost a read much of its time.  They look
 * nothing up by name, and the library fixes search_path around every query
 * it runs.
 */
CREATE FUNCTION nsvault.get_secret(namespace text, name text, version integer)
RETURNS text
AS 'MODULE_PATHNAME', 'nsvault_get_secret'
LANGUAGE C VOLATILE;
ALTER FUNCTION nsvault.get_secret(text, text) RESET search_path;
ALTER FUNCTION nsvault.get_secrets(text, text[]) RESET search_path;
ALTER FUNCTION nsvault.get_secrets(text, text[], boolean) RESET search_path;

CREATE FUNCTION nsvault.list_secret_versions(namespace text, name text)
RETURNS TABLE (version integer, created_at timestamptz, created_by name,
			   deleted_at timestamptz, destroyed boolean)
AS 'MODULE_PATHNAME', 'nsvault_list_secret_versions'
LANGUAGE C STABLE
SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION nsvault.get_secret_metadata(namespace text, name text)
RETURNS TABLE (current_version integer, created_at timestamptz, updated_at timestamptz,
			   deleted_at timestamptz, description text, custom jsonb,
			   expires_at timestamptz, max_versions integer)
AS 'MODULE_PATHNAME', 'nsvault_get_secret_metadata'
LANGUAGE C STABLE
SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION nsvault.undelete_secret(namespace text, name text, version integer)
RETURNS boolean
AS 'MODULE_PATHNAME', 'nsvault_undelete_secret'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION nsvault.rollback_secret(namespace text, name text, version integer)
RETURNS integer
AS 'MODULE_PATHNAME', 'nsvault_rollback_secret'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION nsvault.destroy_secret_versions(namespace text, name text, versions integer[])
RETURNS integer
AS 'MODULE_PATHNAME', 'nsvault_destroy_secret_versions'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION nsvault.purge_secret(namespace text, name text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'nsvault_purge_secret'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION nsvault.set_secret_metadata(namespace text, name text,
											description text DEFAULT NULL,
											custom jsonb DEFAULT NULL,
											expires_at timestamptz DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'nsvault_set_secret_metadata'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION nsvault.set_max_versions(namespace text, n integer)
RETURNS void
AS 'MODULE_PATHNAME', 'nsvault_set_max_versions'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;

REVOKE ALL ON FUNCTION nsvault.set_secret(text, text, text, boolean, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION nsvault.list_secrets(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION nsvault.get_secret(text, text, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION nsvault.list_secret_versions(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION nsvault.get_secret_metadata(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION nsvault.undelete_secret(text, text, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION nsvault.rollback_secret(text, text, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION nsvault.destroy_secret_versions(text, text, integer[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION nsvault.purge_secret(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION nsvault.set_secret_metadata(text, text, text, jsonb, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION nsvault.set_max_versions(text, integer) FROM PUBLIC;

/* each grantee gets the new functions its highest grant allows, as grant_namespace gives them */
DO $grant$
DECLARE
	grantee regrole;
	level integer;
	fn text;
BEGIN
	FOR grantee, level IN
		SELECT g.grantee, max(g.level) FROM nsvault.grants g GROUP BY g.grantee
	LOOP
		FOR fn IN
			SELECT f.signature FROM (VALUES
				('nsvault.list_secrets(text)', 1),
				('nsvault.get_secret(text, text, integer)', 1),
				('nsvault.list_secret_versions(text, text)', 1),
				('nsvault.get_secret_metadata(text, text)', 1),
				('nsvault.set_secret(text, text, text, boolean, integer)', 2),
				('nsvault.undelete_secret(text, text, integer)', 2),
				('nsvault.rollback_secret(text, text, integer)', 2),
				('nsvault.destroy_secret_versions(text, text, integer[])', 2),
				('nsvault.purge_secret(text, text)', 2),
				('nsvault.set_secret_metadata(text, text, text, jsonb, timestamptz)', 2),
				('nsvault.set_max_versions(text, integer)', 3)) AS f(signature, needs)
			 WHERE f.needs <= level
		LOOP
			EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO %s', fn, grantee);
		END LOOP;
	END LOOP;
END
$grant$;
