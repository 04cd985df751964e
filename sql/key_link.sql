--
-- key_link: the dblink link to the key database and its failures
--
\set main_db :DBNAME
\set SHOW_CONTEXT never
-- with the cache off, every call asks the key server
SET nsvault.key_cache_seconds = 0;
SELECT nsvault.set_secret('link', 'a', 'value a');
SELECT nsvault.get_secret('link', 'a');

-- one connection per backend, kept open between calls
SELECT count(*) AS key_connections FROM pg_stat_activity
 WHERE datname = 'nsvault_regress_keys' AND usename = 'regress_keyreader';

-- the key server drops the connection: reopened without the caller noticing
SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity
 WHERE datname = 'nsvault_regress_keys' AND usename = 'regress_keyreader';
SELECT nsvault.get_secret('link', 'a');
SELECT count(*) AS key_connections FROM pg_stat_activity
 WHERE datname = 'nsvault_regress_keys' AND usename = 'regress_keyreader';

-- a foreign server that does not exist
SET nsvault.keydb_server = 'no_such_server';
SELECT regress_error($$SELECT nsvault.get_secret('link', 'a')$$);

-- a key server that cannot be reached: class 08, naming the foreign server
DO $$
BEGIN
	EXECUTE format('CREATE SERVER regress_dead_keydb FOREIGN DATA WRAPPER dblink_fdw OPTIONS (host %L, port %L, dbname %L)',
				   split_part(current_setting('unix_socket_directories'), ',', 1),
				   '1', 'nsvault_regress_keys');
END
$$;
CREATE USER MAPPING FOR CURRENT_USER SERVER regress_dead_keydb
	OPTIONS (user 'regress_keyreader', password 'not-shown-anywhere');
SET nsvault.keydb_server = 'regress_dead_keydb';
SELECT split_part(regress_error($$SELECT nsvault.set_secret('link', 'b', 'value b')$$), ' | ', 1);
SELECT split_part(regress_error($$SELECT nsvault.get_secret('link', 'a')$$), ' | ', 1);
SELECT split_part(regress_error($$SELECT nsvault.set_secret('link', 'a', 'new a')$$), ' | ', 1);
SELECT regress_error($$SELECT nsvault.set_secret('link', 'b', 'value b')$$) ~ 'failed' AS detail_has_libpq_reason,
	   position('not-shown' IN regress_error($$SELECT nsvault.set_secret('link', 'b', 'value b')$$)) AS password_at;

-- nothing was written, nothing was changed
SELECT name FROM nsvault.list_secrets('link');
RESET nsvault.keydb_server;
SELECT nsvault.get_secret('link', 'a');

-- in a transaction, the failure aborts it and the earlier write goes too
BEGIN;
SELECT nsvault.set_secret('link', 'c', 'value c');
SET LOCAL nsvault.keydb_server = 'regress_dead_keydb';
\set VERBOSITY terse
SELECT nsvault.set_secret('link', 'd', 'value d');
\set VERBOSITY default
COMMIT;
SELECT name FROM nsvault.list_secrets('link');

-- the key server refuses: a fixed SQLSTATE (38000), its own code and message in the detail
\c nsvault_regress_keys
REVOKE EXECUTE ON FUNCTION nsvault_keys.key_version(text, integer) FROM regress_keyreader;
\c :main_db
SELECT regress_error($$SELECT nsvault.get_secret('link', 'a')$$);
\c nsvault_regress_keys
SELECT nsvault_keys.grant_reader('regress_keyreader');
\c :main_db
SELECT nsvault.get_secret('link', 'a');

-- a key server that answers too many rows, or a key far too long, is refused
-- (and sends at most two rows and no long key, unless it is hostile itself)
\c nsvault_regress_keys
ALTER FUNCTION nsvault_keys.key_version(text, integer) RENAME TO key_version_real;
CREATE FUNCTION nsvault_keys.key_version(namespace text, wanted integer)
RETURNS TABLE (identity uuid, version integer, key bytea)
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
	SELECT k.identity, k.version,
		   CASE WHEN current_setting('regress.answer') = 'long'
				THEN pg_catalog.decode(repeat('ab', 1000000), 'hex') ELSE k.key END
	  FROM nsvault_keys.key_version_real(namespace, wanted) k,
		   generate_series(1, CASE WHEN current_setting('regress.answer') = 'rows' THEN 100000 ELSE 1 END)
$$;
GRANT EXECUTE ON FUNCTION nsvault_keys.key_version(text, integer) TO regress_keyreader;
ALTER ROLE regress_keyreader SET regress.answer = 'rows';
\c :main_db
SET nsvault.key_cache_seconds = 0;
SELECT regress_error($$SELECT nsvault.get_secret('link', 'a')$$);
\c nsvault_regress_keys
ALTER ROLE regress_keyreader SET regress.answer = 'long';
\c :main_db
SET nsvault.key_cache_seconds = 0;
SELECT regress_error($$SELECT nsvault.get_secret('link', 'a')$$);
\c nsvault_regress_keys
ALTER ROLE regress_keyreader RESET regress.answer;
DROP FUNCTION nsvault_keys.key_version(text, integer);
ALTER FUNCTION nsvault_keys.key_version_real(text, integer) RENAME TO key_version;
\c :main_db
SET nsvault.key_cache_seconds = 0;
SELECT nsvault.get_secret('link', 'a');

DROP USER MAPPING FOR CURRENT_USER SERVER regress_dead_keydb;
DROP SERVER regress_dead_keydb;
