/* nsvault--0.1.sql — encrypted, namespace-scoped secrets */

\echo Use "CREATE EXTENSION nsvault" to load this file. \quit

/*
 * Only ciphertext and metadata.  The C functions encrypt before they
 * insert, so no plaintext ever reaches a heap page or the WAL.
 */
CREATE TABLE nsvault.secrets (
	namespace text NOT NULL,
	name text NOT NULL,
	ciphertext bytea NOT NULL,
	key_version integer NOT NULL CHECK (key_version > 0),
	created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	updated_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	PRIMARY KEY (namespace, name)
);
REVOKE ALL ON TABLE nsvault.secrets FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('nsvault.secrets', '');

CREATE FUNCTION nsvault.set_secret(namespace text, name text, value text,
								   overwrite boolean DEFAULT true)
RETURNS void
AS 'MODULE_PATHNAME', 'nsvault_set_secret'
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION nsvault.get_secret(namespace text, name text)
RETURNS text
AS 'MODULE_PATHNAME', 'nsvault_get_secret'
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION nsvault.get_secrets(namespace text, names text[])
RETURNS jsonb
AS 'MODULE_PATHNAME', 'nsvault_get_secrets'
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION nsvault.list_secrets(namespace text)
RETURNS TABLE (name text, created_at timestamptz, updated_at timestamptz)
AS 'MODULE_PATHNAME', 'nsvault_list_secrets'
LANGUAGE C STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION nsvault.delete_secret(namespace text, name text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'nsvault_delete_secret'
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;

REVOKE ALL ON FUNCTION nsvault.set_secret(text, text, text, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION nsvault.get_secret(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION nsvault.get_secrets(text, text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION nsvault.list_secrets(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION nsvault.delete_secret(text, text) FROM PUBLIC;

/*
 * Container registry credentials in three scopes.  registry is the URL
 * normalized for matching (host[:port][/path], Docker Hub as docker.io):
 * one row per registry and scope, whatever spelling of its URL was used.
 * Tokens are sealed; user names are kept in clear.
 */
CREATE TABLE nsvault.registries (
	scope text NOT NULL
		CHECK (scope IN ('namespace', 'global', 'global-private')),
	namespace text CHECK ((scope = 'namespace') = (namespace IS NOT NULL)),
	registry text NOT NULL,
	url text NOT NULL,
	user_name text NOT NULL,
	token bytea NOT NULL,
	key_version integer NOT NULL CHECK (key_version > 0),
	created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	updated_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	CONSTRAINT registries_scope_namespace_registry_key
		UNIQUE NULLS NOT DISTINCT (scope, namespace, registry)
);
REVOKE ALL ON TABLE nsvault.registries FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('nsvault.registries', '');

CREATE FUNCTION nsvault.set_registry(namespace text, url text, data text)
RETURNS void
AS 'MODULE_PATHNAME', 'nsvault_set_registry'
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION nsvault.set_global_registry(url text, data text,
											private boolean DEFAULT false)
RETURNS void
AS 'MODULE_PATHNAME', 'nsvault_set_global_registry'
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION nsvault.list_registries(namespace text)
RETURNS TABLE (url text, user_hint text, created_at timestamptz)
AS 'MODULE_PATHNAME', 'nsvault_list_registries'
LANGUAGE C STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION nsvault.list_global_registries()
RETURNS TABLE (scope text, url text, user_hint text, created_at timestamptz)
AS 'MODULE_PATHNAME', 'nsvault_list_global_registries'
LANGUAGE C STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION nsvault.delete_registry(namespace text, url text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'nsvault_delete_registry'
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION nsvault.delete_global_registry(url text, private boolean DEFAULT false)
RETURNS boolean
AS 'MODULE_PATHNAME', 'nsvault_delete_global_registry'
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION nsvault.docker_config(namespace text, image text DEFAULT NULL,
									  global_service boolean DEFAULT false)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'nsvault_docker_config'
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;

REVOKE ALL ON FUNCTION nsvault.set_registry(text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION nsvault.set_global_registry(text, text, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION nsvault.list_registries(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION nsvault.list_global_registries() FROM PUBLIC;
REVOKE ALL ON FUNCTION nsvault.delete_registry(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION nsvault.delete_global_registry(text, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION nsvault.docker_config(text, text, boolean) FROM PUBLIC;

/*
 * Per-namespace privileges: level 1 read, 2 write, 3 admin.  Namespace
 * "@global" stands for the global registries.
 */
CREATE TABLE nsvault.grants (
	namespace text NOT NULL,
	grantee regrole NOT NULL,
	level integer NOT NULL CHECK (level BETWEEN 1 AND 3),
	granted_by name NOT NULL,
	granted_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	PRIMARY KEY (namespace, grantee)
);
REVOKE ALL ON TABLE nsvault.grants FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('nsvault.grants', '');

/* The audit trail: names and actions, never a value. */
CREATE TABLE nsvault.audit_events (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	role_name name NOT NULL,
	namespace text NOT NULL,
	secret_name text,
	action text NOT NULL,
	detail text
);
REVOKE ALL ON TABLE nsvault.audit_events FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('nsvault.audit_events', '');
-- the sequence too, or a restored trail would reuse its ids
SELECT pg_catalog.pg_extension_config_dump('nsvault.audit_events_id_seq', '');

CREATE FUNCTION nsvault.has_namespace_privilege(namespace text, privilege text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'nsvault_has_namespace_privilege'
LANGUAGE C STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;

/* Each admin sees the events of the namespaces it administers. */
CREATE VIEW nsvault.audit_log WITH (security_barrier) AS
	SELECT e.id, e.at, e.role_name, e.namespace, e.secret_name, e.action, e.detail
	  FROM nsvault.audit_events e
	 WHERE nsvault.has_namespace_privilege(e.namespace, 'admin');
REVOKE ALL ON nsvault.audit_log FROM PUBLIC;

CREATE FUNCTION nsvault.grant_namespace(namespace text, grantee regrole, privilege text)
RETURNS void
AS 'MODULE_PATHNAME', 'nsvault_grant_namespace'
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION nsvault.revoke_namespace(namespace text, grantee regrole, privilege text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'nsvault_revoke_namespace'
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION nsvault.rotate_key(namespace text)
RETURNS integer
AS 'MODULE_PATHNAME', 'nsvault_rotate_key'
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION nsvault.delete_namespace(namespace text)
RETURNS void
AS 'MODULE_PATHNAME', 'nsvault_delete_namespace'
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;

/*
 * Keeps a role's bind parameters out of the server log, even with
 * log_statement = 'all' or log_min_duration_statement = 0.
 */
CREATE FUNCTION nsvault.harden_role(role regrole)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF role IS NULL THEN
		RAISE EXCEPTION 'role must not be null' USING ERRCODE = '22004';
	END IF;
	EXECUTE format('ALTER ROLE %s SET log_parameter_max_length = 0', role);
	EXECUTE format('ALTER ROLE %s SET log_parameter_max_length_on_error = 0', role);
END
$$;

REVOKE ALL ON FUNCTION nsvault.has_namespace_privilege(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION nsvault.grant_namespace(text, regrole, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION nsvault.revoke_namespace(text, regrole, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION nsvault.rotate_key(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION nsvault.delete_namespace(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION nsvault.harden_role(regrole) FROM PUBLIC;

/*
 * Each backend keeps its key-database link as a named dblink connection,
 * and dblink's named connections are shared by every caller in the
 * session.  Anyone who could call dblink could therefore send their own
 * query down that link and read any namespace's key, so dblink's functions
 * are taken away from PUBLIC.  Grant them back to trusted roles only.
 */
DO $install$
DECLARE
	fn regprocedure;
BEGIN
	FOR fn IN
		SELECT d.objid::regprocedure
		  FROM pg_catalog.pg_depend d
		  JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid
		 WHERE e.extname = 'dblink'
		   AND d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass
		   AND d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
		   AND d.deptype = 'e'
	LOOP
		EXECUTE pg_catalog.format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', fn);
	END LOOP;
END
$install$;
