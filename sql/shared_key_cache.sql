--
-- shared_key_cache: with nsvault preloaded, keys are cached in shared memory
-- and serve every backend; rotation and deletion reach all of them at once
--
\set SHOW_CONTEXT never
-- the instance preloads nsvault (test/regress.conf)
SELECT current_setting('shared_preload_libraries') AS preloaded,
	   current_setting('nsvault.shared_key_cache_size') AS shared_size;

-- a key server that cannot be reached
DO $$
BEGIN
	EXECUTE format('CREATE SERVER regress_down_keydb FOREIGN DATA WRAPPER dblink_fdw OPTIONS (host %L, port %L, dbname %L)',
				   split_part(current_setting('unix_socket_directories'), ',', 1),
				   '1', 'nsvault_regress_keys');
END
$$;
CREATE USER MAPPING FOR CURRENT_USER SERVER regress_down_keydb
	OPTIONS (user 'regress_keyreader');

-- a second backend, through dblink, whose key server is down: it can only
-- get keys from the shared cache
SELECT dblink_connect('other', format('host=%s port=%s dbname=%s',
	split_part(current_setting('unix_socket_directories'), ',', 1),
	current_setting('port'), current_database()));
SELECT dblink_exec('other', 'SET nsvault.keydb_server = regress_down_keydb');
CREATE FUNCTION pg_temp.in_other(sql text) RETURNS text
LANGUAGE sql AS $$
	SELECT v FROM dblink('other', format('SELECT (%s)::text', sql)) AS t(v text)
$$;
CREATE FUNCTION pg_temp.error_in_other(sql text) RETURNS text
LANGUAGE sql AS $$
	SELECT split_part(v, ' | ', 1)
	  FROM dblink('other', format('SELECT public.regress_error(%L)', sql)) AS t(v text)
$$;

-- this backend fetches the key; the other one reads with it
SELECT nsvault.set_secret('cached', 'a', 'value a');
SELECT pg_temp.in_other($$nsvault.get_secret('cached', 'a')$$);
-- a namespace nobody has used yet needs the key server
SELECT pg_temp.error_in_other($$SELECT nsvault.get_secret('demo', 'secretToken')$$);
SELECT pg_temp.error_in_other($$SELECT nsvault.set_secret('unused', 'a', 'x')$$);

-- a rotation here is seen there at once: its writes use the new version,
-- and the re-sealed rows open with it
SELECT nsvault.rotate_key('cached');
SELECT pg_temp.in_other($$nsvault.get_secret('cached', 'a')$$);
SELECT pg_temp.in_other($$nsvault.set_secret('cached', 'b', 'value b')$$) AS written;
SELECT name, key_version FROM nsvault.secrets WHERE namespace = 'cached' ORDER BY name COLLATE "C";
SELECT nsvault.get_secret('cached', 'b');

-- an expired key is not used, whatever backend cached it
SELECT dblink_exec('other', 'SET nsvault.key_cache_seconds = 1');
SELECT pg_sleep(1.2);
SELECT pg_temp.error_in_other($$SELECT nsvault.get_secret('cached', 'a')$$);
SELECT dblink_exec('other', 'RESET nsvault.key_cache_seconds');

-- deleting the namespace wipes its keys from the shared cache too, once
-- they are destroyed: a copy of a deleted row no longer opens there
SELECT nsvault.get_secret('cached', 'a');
CREATE TEMP TABLE cached_copy AS SELECT * FROM nsvault.secrets WHERE namespace = 'cached';
SELECT nsvault.delete_namespace('cached');
SELECT pg_temp.error_in_other($$SELECT nsvault.set_secret('cached', 'c', 'value c')$$);
SELECT regress_await_destructions();
INSERT INTO nsvault.secrets SELECT * FROM cached_copy;
SELECT pg_temp.error_in_other($$SELECT nsvault.get_secret('cached', 'a')$$);
DELETE FROM nsvault.secrets WHERE namespace = 'cached';

-- with the cache turned off, nothing cached is used
SELECT nsvault.set_secret('cached', 'a', 'value a2');
SELECT pg_temp.in_other($$nsvault.get_secret('cached', 'a')$$);
SELECT dblink_exec('other', 'SET nsvault.key_cache_seconds = 0');
SELECT pg_temp.error_in_other($$SELECT nsvault.get_secret('cached', 'a')$$);
SELECT dblink_exec('other', 'RESET nsvault.key_cache_seconds');
SELECT pg_temp.error_in_other($$SELECT nsvault.get_secret('cached', 'a')$$);

-- the size is fixed at server start
SELECT regress_error($$SET nsvault.shared_key_cache_size = 10$$);

SELECT dblink_disconnect('other');
SELECT nsvault.delete_namespace('cached');
DROP USER MAPPING FOR CURRENT_USER SERVER regress_down_keydb;
DROP SERVER regress_down_keydb;
