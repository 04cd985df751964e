--
-- upgrade: a database that nsvault 0.1 filled (its rows and keys, as 0.1
-- wrote them, are in test/upgrade-0.1/) reads back whole after ALTER
-- EXTENSION nsvault UPDATE.  Until then, this library refuses to work on
-- 0.1's SQL objects, whose SECURITY DEFINER functions hide the caller.
--
\set main_db :DBNAME
CREATE DATABASE nsvault_regress_up_keys;
CREATE DATABASE nsvault_regress_up;

\c nsvault_regress_up_keys
SET client_min_messages = warning;
CREATE EXTENSION nsvault_keys VERSION '0.1' CASCADE;
SELECT nsvault_keys.grant_reader('regress_keyreader') IS NULL AS granted;
\copy nsvault_keys.keys (namespace, version, key) FROM 'test/upgrade-0.1/keys.copy'

-- the key database first: 0.1's reader keeps its access, to 0.2's functions
ALTER EXTENSION nsvault_keys UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'nsvault_keys';
-- rotation and destruction now need a role of their own
SELECT nsvault_keys.grant_admin('regress_keyadmin') IS NULL AS admin_granted;
SELECT p.oid::regprocedure::text AS reader_may_execute
  FROM pg_proc p
 WHERE p.pronamespace = 'nsvault_keys'::regnamespace
   AND has_function_privilege('regress_keyreader', p.oid, 'EXECUTE')
 ORDER BY p.oid::regprocedure::text COLLATE "C";
SELECT count(*) AS keys, count(key) AS live, count(*) FILTER (WHERE key IS NULL) AS destroyed
  FROM nsvault_keys.keys;
SELECT count(*) AS identities FROM nsvault_keys.key_database;

\c nsvault_regress_up
SET client_min_messages = warning;
CREATE EXTENSION nsvault VERSION '0.1' CASCADE;
\set keydb nsvault_regress_up_keys
\i test/link_keydb.sql
CREATE ROLE regress_upgrade_admin;
CREATE ROLE regress_upgrade_reader;
CREATE ROLE regress_upgrade_gone;
-- what 0.1's grant_namespace gave them besides their rows
GRANT USAGE ON SCHEMA nsvault TO regress_upgrade_admin, regress_upgrade_reader;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA nsvault TO regress_upgrade_admin, regress_upgrade_reader;
GRANT SELECT ON nsvault.audit_log TO regress_upgrade_admin;
\copy nsvault.secrets FROM 'test/upgrade-0.1/secrets.copy'
\copy nsvault.registries FROM 'test/upgrade-0.1/registries.copy'
\copy nsvault.grants FROM 'test/upgrade-0.1/grants.copy'
\copy nsvault.audit_events FROM 'test/upgrade-0.1/audit_events.copy'
SELECT setval('nsvault.audit_events_id_seq', 14);
-- 0.1 kept the grants of a dropped role
INSERT INTO nsvault.grants VALUES ('shop', 'regress_upgrade_gone', 1, 'postgres');
DROP ROLE regress_upgrade_gone;
SELECT count(*) AS grants FROM nsvault.grants;

-- before the update: refused, with the way out
\set SHOW_CONTEXT never
CREATE FUNCTION public.regress_error(sql text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	detail text;
	hint text;
BEGIN
	EXECUTE sql;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
	RETURN SQLSTATE || ': ' || SQLERRM || coalesce(' | ' || nullif(detail, ''), '')
		   || coalesce(' | ' || nullif(hint, ''), '');
END
$$;
SELECT regress_error($$SELECT nsvault.get_secret('shop', 'stripe/key')$$);
SELECT regress_error($$SELECT nsvault.set_secret('shop', 'new', 'x')$$);
SELECT count(*) AS secrets FROM nsvault.secrets;

ALTER EXTENSION nsvault UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'nsvault';
-- the versions in use become the active ones; the key database is recorded at the first write
SELECT * FROM nsvault.namespace_keys ORDER BY namespace COLLATE "C";
SELECT count(*) AS linked FROM nsvault.key_database;
SELECT count(*) AS definer_functions FROM pg_proc
 WHERE pronamespace = 'nsvault'::regnamespace AND prosecdef AND proname <> 'harden_role';

-- every value reads back, under both key versions of "ops"
SELECT nsvault.get_secret('shop', 'stripe/key'), nsvault.get_secret('shop', 'db.password');
SELECT nsvault.get_secrets('ops', ARRAY['token', 'token2', 'multi']);
SELECT key_version, count(*) FROM nsvault.secrets GROUP BY 1 ORDER BY 1;
SELECT nsvault.docker_config('shop');
SELECT nsvault.docker_config(NULL, NULL, true);

-- the grants hold, the dropped role's is gone
SELECT namespace, grantee, level FROM nsvault.grants
 ORDER BY namespace COLLATE "C", grantee::text COLLATE "C";
SET ROLE regress_upgrade_reader;
SELECT nsvault.get_secret('shop', 'stripe/key');
SELECT nsvault.set_secret('ops', 'after-upgrade', 'written by the reader');
SELECT regress_error($$SELECT nsvault.set_secret('shop', 'x', 'y')$$);
RESET ROLE;
SET ROLE regress_upgrade_admin;
SELECT name FROM nsvault.list_secrets('shop') ORDER BY name COLLATE "C";
SELECT nsvault.rotate_key('shop');
SELECT action, count(*) FROM nsvault.audit_log
 WHERE namespace = 'shop' AND action NOT IN ('read', 'registry_read')
 GROUP BY action ORDER BY action COLLATE "C";
RESET ROLE;
SELECT nsvault.get_secret('shop', 'stripe/key') AS after_rotation;
-- 0.1's tokens are in sealed-value format 1, which did not bind URL and
-- user name; a rotation re-seals them in format 2, and both read
-- (the global ones are in their own table from 0.9 on)
SELECT scope, namespace, get_byte(token, 0) AS format
  FROM (SELECT scope, namespace, token FROM nsvault.registries
		UNION ALL
		SELECT scope, '-', token FROM nsvault.global_registries) r
 ORDER BY scope COLLATE "C", namespace COLLATE "C";
SELECT jsonb_object_keys(nsvault.docker_config('shop') -> 'auths') AS readable ORDER BY 1;
SELECT count(*) AS linked FROM nsvault.key_database;
SELECT * FROM nsvault.namespace_keys ORDER BY namespace COLLATE "C";

-- the trail keeps 0.1's rows, and goes on after them
SELECT count(*) AS old_rows, count(session_role) AS with_session_role
  FROM nsvault.audit_events WHERE id <= 14;
SELECT min(id) > 14 AS ids_go_on FROM nsvault.audit_events WHERE id > 14;

\c :main_db
DROP DATABASE nsvault_regress_up;
DROP DATABASE nsvault_regress_up_keys;
