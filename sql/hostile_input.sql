--
-- hostile_input: quotes, escapes, injection attempts, huge and odd
-- strings, NULLs and wrong types through every text argument
--
\set SHOW_CONTEXT never

-- SQL injection through every text argument: refused by validation, never run
CREATE TABLE regress_canary (alive boolean);
INSERT INTO regress_canary VALUES (true);
SELECT arg, regress_error(format(sql, arg)) AS error
  FROM (VALUES ($$x'); DROP TABLE regress_canary; --$$),
			   ($$x$$ || chr(39) || $$||(SELECT 1)||$$ || chr(39)),
			   ($$a"; SELECT pg_sleep(10); --$$),
			   ($$a\'; DELETE FROM nsvault.secrets; --$$)) AS a(arg),
	   (VALUES ('SELECT nsvault.set_secret(%L, ''n'', ''v'')'),
			   ('SELECT nsvault.set_secret(''ns'', %L, ''v'')'),
			   ('SELECT nsvault.get_secret(%L, ''n'')'),
			   ('SELECT nsvault.get_secret(''ns'', %L)'),
			   ('SELECT nsvault.get_secrets(''ns'', ARRAY[%L])'),
			   ('SELECT nsvault.list_secrets(%L)'),
			   ('SELECT nsvault.delete_secret(''ns'', %L)'),
			   ('SELECT nsvault.set_registry(''ns'', %L, ''u:t'')'),
			   ('SELECT nsvault.docker_config(''ns'', %L)'),
			   ('SELECT nsvault.grant_namespace(%L, CURRENT_USER::regrole, ''read'')'),
			   ('SELECT nsvault.rotate_key(%L)'),
			   ('SELECT nsvault.delete_namespace(%L)')) AS s(sql)
 ORDER BY sql COLLATE "C", arg COLLATE "C";
SELECT alive FROM regress_canary;

-- values are data: quotes, backslashes, SQL and JSON look-alikes round-trip
SELECT nsvault.set_secret('hostile', 'quotes', $$'; DROP TABLE regress_canary; --"\x00\'$$);
SELECT nsvault.get_secret('hostile', 'quotes') = $$'; DROP TABLE regress_canary; --"\x00\'$$ AS exact;
SELECT nsvault.set_registry('hostile', 'quay.io', $$u:'); DROP TABLE regress_canary; --$$);
SELECT nsvault.docker_config('hostile', 'quay.io/x') #>> '{auths,quay.io,password}' AS token;
SELECT alive FROM regress_canary;

-- the key database's own functions, called directly
\set main_db :DBNAME
\c nsvault_regress_keys
\set SHOW_CONTEXT never
CREATE FUNCTION pg_temp.error_of(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE sql;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;
SELECT pg_temp.error_of($q$SELECT * FROM nsvault_keys.active_key($$x'); DELETE FROM nsvault_keys.keys; --$$, 1, NULL)$q$);
SELECT pg_temp.error_of($q$SELECT * FROM nsvault_keys.key_version($$x' OR '1'='1$$, 1)$q$);
SELECT pg_temp.error_of($q$SELECT * FROM nsvault_keys.add_key_version(repeat('a', 100000), 1, NULL)$q$);
SELECT pg_temp.error_of($q$SELECT * FROM nsvault_keys.destroy_versions(nsvault_keys.identity(), $$%$$, 1, 1000)$q$);
SELECT count(*) > 0 AS keys_intact FROM nsvault_keys.keys;
\c :main_db
\set SHOW_CONTEXT never

-- NUL bytes cannot even reach the functions
SELECT regress_error($$SELECT nsvault.set_secret('ns', 'n', E'a\000b')$$);
SELECT regress_error($$SELECT nsvault.set_secret('ns', 'n', 'a' || chr(0) || 'b')$$);
SELECT regress_error($$SELECT nsvault.set_secret('ns', 'n', convert_from('\x610062', 'UTF8'))$$);

-- huge inputs are refused quickly, and not echoed
SELECT left(regress_error($$SELECT nsvault.set_secret(repeat('a', 1000000), 'n', 'v')$$), 80);
SELECT left(regress_error($$SELECT nsvault.set_secret('ns', repeat('a', 1000000), 'v')$$), 80);
SELECT left(regress_error($$SELECT nsvault.set_secret('ns', 'n', repeat('v', 10000000))$$), 80);
SELECT left(regress_error($$SELECT nsvault.get_secrets('ns', array_fill('a'::text, ARRAY[10]) || repeat('b', 1000000))$$), 80);
SELECT left(regress_error($$SELECT nsvault.set_registry('ns', repeat('a', 1000000), 'u:t')$$), 80);
SELECT left(regress_error($$SELECT nsvault.set_registry('ns', 'quay.io', 'u:' || repeat('t', 1000000))$$), 80);
SELECT left(regress_error($$SELECT nsvault.docker_config('ns', repeat('a', 1000000))$$), 80);
SELECT left(regress_error($$SELECT nsvault.docker_config('ns', repeat('a/', 100) || 'b')$$), 80);

-- look-alike and invisible characters
SELECT regress_error($$SELECT nsvault.get_secret(E'\u0430dmin', 'n')$$);
SELECT regress_error($$SELECT nsvault.get_secret('ns', E'to\u200Bken')$$);
SELECT regress_error($$SELECT nsvault.get_secret('ns', E'line\nbreak')$$);
SELECT regress_error($$SELECT nsvault.set_registry('ns', E'quay\u2024io', 'u:t')$$);

-- NULLs in every position
SELECT sql, regress_error(sql) AS error FROM (VALUES
	('SELECT nsvault.set_secret(NULL, NULL, NULL, NULL)'),
	('SELECT nsvault.get_secrets(''ns'', ARRAY[NULL]::text[])'),
	('SELECT nsvault.set_registry(''ns'', ''quay.io'', NULL)'),
	('SELECT nsvault.set_global_registry(''quay.io'', ''u:t'', NULL)'),
	('SELECT nsvault.docker_config(''ns'', NULL, NULL)'),
	('SELECT nsvault.grant_namespace(''ns'', NULL, ''read'')'),
	('SELECT nsvault.revoke_namespace(''ns'', CURRENT_USER::regrole, NULL)'),
	('SELECT nsvault.rotate_key(NULL)'),
	('SELECT nsvault.delete_namespace(NULL)'),
	('SELECT nsvault.harden_role(NULL)')) AS t(sql);

-- wrong types
SELECT regress_error($$SELECT nsvault.set_secret('ns', 'n', 42)$$);
SELECT regress_error($$SELECT nsvault.get_secrets('ns', 'not an array')$$);
SELECT regress_error($$SELECT nsvault.get_secrets('ns', '{{a},{b}}')$$);
SELECT regress_error($$SELECT nsvault.grant_namespace('ns', 'regress_no_such_role', 'read')$$);
SELECT regress_error($$SELECT nsvault.set_secret('ns', 'n', 'v', 'maybe')$$);
