/* nsvault--0.2--0.3.sql — a transactional key lifecycle, and a key database that is checked, not trusted */

\echo Use "ALTER EXTENSION nsvault UPDATE TO '0.3'" to load this file. \quit

/*
 * The key database this database is linked to: its identity, recorded by
 * the first write (or by accept_key_database).  Keys from any other are
 * refused.  At most one row.
 */
CREATE TABLE nsvault.key_database (
	identity uuid NOT NULL,
	foreign_server name NOT NULL,
	linked_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	linked_by name NOT NULL,
	only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row)
);
REVOKE ALL ON TABLE nsvault.key_database FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('nsvault.key_database', '');

/*
 * Per namespace: the key version writes seal with (null when there is none:
 * the next write makes one), and the highest version this database has
 * used.  The key database is never trusted to say which version is active:
 * a restored or replaced one could say another.
 */
CREATE TABLE nsvault.namespace_keys (
	namespace text PRIMARY KEY,
	active_version integer CHECK (active_version > 0),
	highest_version integer NOT NULL CHECK (highest_version >= 0),
	CHECK (active_version <= highest_version)
);
REVOKE ALL ON TABLE nsvault.namespace_keys FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('nsvault.namespace_keys', '');

INSERT INTO nsvault.namespace_keys (namespace, active_version, highest_version)
SELECT namespace, max(key_version), max(key_version)
  FROM (SELECT namespace, key_version FROM nsvault.secrets
		UNION ALL
		SELECT coalesce(namespace, '@global'), key_version FROM nsvault.registries) used
 GROUP BY namespace;

/*
 * Key versions to destroy in the key database, committed with the change
 * that retired them (delete_namespace, destroy_key_version) and destroyed
 * after that commit by a background worker.  A row stays until its
 * versions are destroyed, across crashes and restarts.
 */
CREATE TABLE nsvault.key_destructions (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	namespace text NOT NULL,
	first_version integer NOT NULL CHECK (first_version > 0),
	last_version integer NOT NULL CHECK (last_version >= first_version),
	requested_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	requested_by name NOT NULL
);
REVOKE ALL ON TABLE nsvault.key_destructions FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('nsvault.key_destructions', '');
SELECT pg_catalog.pg_extension_config_dump('nsvault.key_destructions_id_seq', '');

CREATE FUNCTION nsvault.destroy_key_version(namespace text, version integer)
RETURNS void
AS 'MODULE_PATHNAME', 'nsvault_destroy_key_version'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION nsvault.destroy_key_version(text, integer) FROM PUBLIC;

CREATE FUNCTION nsvault.accept_key_database()
RETURNS uuid
AS 'MODULE_PATHNAME', 'nsvault_accept_key_database'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION nsvault.accept_key_database() FROM PUBLIC;

/* admins of a namespace may destroy its old key versions */
DO $grant$
DECLARE
	admin regrole;
BEGIN
	FOR admin IN
		SELECT DISTINCT grantee FROM nsvault.grants WHERE level = 3
	LOOP
		EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION nsvault.destroy_key_version(text, integer) TO %s',
								  admin);
	END LOOP;
END
$grant$;
