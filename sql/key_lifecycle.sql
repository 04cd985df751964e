--
-- key_lifecycle: keys are destroyed only after the change that retired them
-- commits; caches keep databases apart; the key database is checked, not
-- trusted; reads never create keys
--
\set main_db :DBNAME
-- the key versions of a namespace in the key database: which are destroyed
-- (the regression's reader may read the key table, for this test only)
\c nsvault_regress_keys
GRANT SELECT ON nsvault_keys.keys TO regress_keyreader;
\c :main_db
\set SHOW_CONTEXT never
SET nsvault.key_cache_seconds = 0;
CREATE FUNCTION public.regress_live_keys(ns text) RETURNS text LANGUAGE sql AS $$
	SELECT coalesce(string_agg(version::text || CASE WHEN key IS NULL THEN ' destroyed' ELSE '' END,
							   ', ' ORDER BY version), 'none')
	  FROM dblink('nsvault_keydb', format('SELECT version, key FROM nsvault_keys.keys WHERE namespace = %L', ns))
		   AS k(version integer, key bytea)
$$;

-- a delete_namespace that rolls back destroys nothing
SELECT nsvault.set_secret('lc', 'x', 'kept');
BEGIN;
SELECT nsvault.delete_namespace('lc');
ROLLBACK;
SELECT pg_sleep(0.5);
SELECT nsvault.get_secret('lc', 'x') AS after_rollback, regress_live_keys('lc');
SELECT count(*) AS queued FROM nsvault.key_destructions;

-- one that commits retires every version; a worker destroys them after the commit
SELECT nsvault.rotate_key('lc');
SELECT nsvault.delete_namespace('lc');
SELECT regress_await_destructions();
SELECT regress_live_keys('lc');
SELECT * FROM nsvault.namespace_keys WHERE namespace = 'lc';

-- the namespace, written again, gets a version above every one it had
SELECT nsvault.set_secret('lc', 'y', 'new life');
SELECT key_version FROM nsvault.secrets WHERE namespace = 'lc';
SELECT nsvault.get_secret('lc', 'y'), regress_live_keys('lc');

-- a rotation that rolls back leaves a version in the key database, never used
BEGIN;
SELECT nsvault.rotate_key('lc');
ROLLBACK;
SELECT regress_live_keys('lc'), (SELECT active_version FROM nsvault.namespace_keys WHERE namespace = 'lc');
SELECT nsvault.rotate_key('lc');

-- destroy_key_version: for admins only, refused while anything needs the version
CREATE ROLE regress_lc_writer;
SELECT nsvault.grant_namespace('lc', 'regress_lc_writer', 'write');
SET ROLE regress_lc_writer;
SELECT regress_error($$SELECT nsvault.destroy_key_version('lc', 3)$$);
RESET ROLE;
SELECT nsvault.set_secret('lc', 'z', 'on version 5');
SELECT regress_error($$SELECT nsvault.destroy_key_version('lc', 5)$$);
SELECT regress_error($$SELECT nsvault.destroy_key_version('lc', 9)$$);
SELECT regress_error($$SELECT nsvault.destroy_key_version('lc', 0)$$);
SELECT regress_error($$SELECT nsvault.destroy_key_version('lc', NULL)$$);
UPDATE nsvault.secrets SET key_version = 3 WHERE namespace = 'lc' AND name = 'y';
SELECT regress_error($$SELECT nsvault.destroy_key_version('lc', 3)$$);
UPDATE nsvault.secrets SET key_version = 5 WHERE namespace = 'lc' AND name = 'y';
-- once nothing is sealed under it, it goes, after the commit
BEGIN;
SELECT nsvault.destroy_key_version('lc', 3);
ROLLBACK;
SELECT pg_sleep(0.5);
SELECT regress_live_keys('lc');
SELECT nsvault.destroy_key_version('lc', 3);
SELECT regress_await_destructions();
SELECT regress_live_keys('lc');
SELECT nsvault.get_secrets('lc', ARRAY['y', 'z']);
SELECT action, detail FROM nsvault.audit_events
 WHERE namespace = 'lc' AND action IN ('destroy_key_version', 'delete_namespace') ORDER BY id;

-- rotation, deletion and destruction need the key administrator's foreign
-- server: without it they fail closed, and nothing changes
SET nsvault.keydb_admin_server = 'regress_no_such_server';
SELECT regress_error($$SELECT nsvault.rotate_key('lc')$$);
SELECT regress_error($$SELECT nsvault.delete_namespace('lc')$$);
SELECT regress_error($$SELECT nsvault.destroy_key_version('lc', 4)$$);
RESET nsvault.keydb_admin_server;
SELECT count(*) AS queued FROM nsvault.key_destructions;
SELECT active_version FROM nsvault.namespace_keys WHERE namespace = 'lc';
SELECT nsvault.get_secrets('lc', ARRAY['y', 'z']);

-- a key database without the versions a deleted namespace had (restored
-- from an older backup) makes no key below them: the write fails closed
SELECT nsvault.set_secret('older', 'a', 'x');
SELECT nsvault.rotate_key('older');
SELECT nsvault.delete_namespace('older');
SELECT regress_await_destructions();
\c nsvault_regress_keys
DELETE FROM nsvault_keys.keys WHERE namespace = 'older';
\c :main_db
\set SHOW_CONTEXT never
SELECT regress_error($$SELECT nsvault.set_secret('older', 'b', 'y')$$);
SELECT regress_live_keys('older');

-- reads never create keys
SELECT regress_error($$SELECT nsvault.get_secret('neverwritten', 'x')$$);
SELECT regress_error($$SELECT nsvault.get_secrets('neverwritten', ARRAY['x'])$$);
SELECT nsvault.docker_config('neverwritten');
SELECT count(*) AS secrets FROM nsvault.list_secrets('neverwritten');
SELECT regress_live_keys('neverwritten');

-- two databases of this (preloaded) cluster, each linked to its own key
-- database: neither is ever given the other's keys, from the shared cache or else
RESET nsvault.key_cache_seconds;
SELECT nsvault.set_secret('shared', 'a', 'in the main database');
CREATE DATABASE nsvault_regress_keys2;
CREATE DATABASE nsvault_regress_main2;
\c nsvault_regress_keys2
SET client_min_messages = warning;
CREATE EXTENSION nsvault_keys CASCADE;
SELECT nsvault_keys.grant_reader('regress_keyreader') IS NULL AS granted,
	   nsvault_keys.grant_admin('regress_keyadmin') IS NULL AS admin_granted;
\c nsvault_regress_main2
SET client_min_messages = warning;
CREATE EXTENSION nsvault CASCADE;
\set keydb nsvault_regress_keys2
\i test/link_keydb.sql
\set SHOW_CONTEXT never
CREATE FUNCTION public.regress_error(sql text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE sql;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;
SELECT nsvault.set_secret('shared', 'a', 'in the second database');
SELECT nsvault.get_secret('shared', 'a');
SELECT count(*) AS keys_in_keys2
  FROM dblink('nsvault_keydb', 'SELECT 1 FROM nsvault_keys.key_version(''shared'', 1) WHERE key IS NOT NULL') AS k(one int);
-- with the key cache off, the value opens with the second key database's key alone
SET nsvault.key_cache_seconds = 0;
SELECT nsvault.get_secret('shared', 'a');
\c :main_db
\set SHOW_CONTEXT never
SELECT nsvault.get_secret('shared', 'a');
SET nsvault.key_cache_seconds = 0;
SELECT nsvault.get_secret('shared', 'a');

-- a key database recreated empty: every key operation fails closed, and no key is made
\c nsvault_regress_keys2
CREATE TABLE public.saved_keys AS SELECT * FROM nsvault_keys.keys;
SET client_min_messages = warning;
DROP EXTENSION nsvault_keys;
CREATE EXTENSION nsvault_keys;
SELECT nsvault_keys.grant_reader('regress_keyreader') IS NULL AS granted,
	   nsvault_keys.grant_admin('regress_keyadmin') IS NULL AS admin_granted;
\c nsvault_regress_main2
\set SHOW_CONTEXT never
SET nsvault.key_cache_seconds = 0;
SELECT regress_error($$SELECT nsvault.get_secret('shared', 'a')$$);
SELECT regress_error($$SELECT nsvault.set_secret('shared', 'b', 'x')$$);
SELECT regress_error($$SELECT nsvault.set_secret('brandnew', 'b', 'x')$$);
SELECT regress_error($$SELECT nsvault.rotate_key('shared')$$);
\c nsvault_regress_keys2
SELECT count(*) AS keys_made FROM nsvault_keys.keys;
\c nsvault_regress_main2
\set SHOW_CONTEXT never

-- accept_key_database: superusers only, and only a key database that opens the values
CREATE ROLE regress_lc_admin;
SELECT nsvault.grant_namespace('shared', 'regress_lc_admin', 'admin');
GRANT EXECUTE ON FUNCTION nsvault.accept_key_database() TO regress_lc_admin;
SET ROLE regress_lc_admin;
SELECT regress_error($$SELECT nsvault.accept_key_database()$$);
RESET ROLE;
SELECT nsvault.accept_key_database();
SELECT identity AS linked_before FROM nsvault.key_database \gset
-- its keys back (restored from a backup, say): now it is accepted
\c nsvault_regress_keys2
INSERT INTO nsvault_keys.keys SELECT * FROM public.saved_keys;
SELECT nsvault_keys.identity() AS recreated_identity \gset
\c nsvault_regress_main2
\set SHOW_CONTEXT never
SELECT nsvault.accept_key_database() = :'recreated_identity' AS accepted;
SELECT identity <> :'linked_before' AS relinked, foreign_server FROM nsvault.key_database;
SELECT nsvault.get_secret('shared', 'a');
SELECT action, role_name FROM nsvault.audit_events WHERE action = 'accept_key_database';

-- a value that only an older version of a secret holds is checked too: the
-- key database serves another key under the version it was sealed with
SELECT nsvault.set_secret('oldonly', 's', 'one');
SELECT nsvault.set_secret('oldonly', 's', 'two');
SELECT nsvault.destroy_secret_versions('oldonly', 's', ARRAY[2]);
\c nsvault_regress_keys2
CREATE TABLE public.oldonly_keys AS SELECT * FROM nsvault_keys.keys WHERE namespace = 'oldonly';
UPDATE nsvault_keys.keys SET key = pg_catalog.sha256(key) WHERE namespace = 'oldonly';
\c nsvault_regress_main2
\set SHOW_CONTEXT never
DO $$
DECLARE
	detail text;
BEGIN
	PERFORM nsvault.accept_key_database();
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
	RAISE NOTICE '%: % %', SQLSTATE, SQLERRM, detail;
END
$$;
\c nsvault_regress_keys2
UPDATE nsvault_keys.keys k SET key = o.key FROM public.oldonly_keys o
 WHERE k.namespace = o.namespace AND k.version = o.version;
\c nsvault_regress_main2
\set SHOW_CONTEXT never
SELECT nsvault.accept_key_database() = :'recreated_identity' AS accepted;
SELECT nsvault.get_secret('oldonly', 's', 1);

-- a key database restored from an older backup lacks a newer version: fail closed
SELECT nsvault.rotate_key('shared');
\c nsvault_regress_keys2
DELETE FROM nsvault_keys.keys WHERE namespace = 'shared' AND version = 2;
\c nsvault_regress_main2
\set SHOW_CONTEXT never
SET nsvault.key_cache_seconds = 0;
SELECT regress_error($$SELECT nsvault.get_secret('shared', 'a')$$);
SELECT regress_error($$SELECT nsvault.set_secret('shared', 'c', 'x')$$);
SELECT nsvault.accept_key_database();

\c :main_db
DROP DATABASE nsvault_regress_main2;
DROP DATABASE nsvault_regress_keys2;
DROP FUNCTION regress_live_keys(text);
\c nsvault_regress_keys
REVOKE SELECT ON nsvault_keys.keys FROM regress_keyreader;
