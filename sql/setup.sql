--
-- setup: a key database beside the main one, linked through dblink_fdw
--
-- In production the key database lives in another cluster on another host
-- (see the TAP tests); here it is a second database of the same instance.
--
\set main_db :DBNAME
CREATE DATABASE nsvault_regress_keys;
CREATE ROLE regress_keyreader LOGIN;

\c nsvault_regress_keys
CREATE EXTENSION nsvault_keys CASCADE;
SELECT nsvault_keys.grant_reader('regress_keyreader');

\c :main_db
CREATE EXTENSION nsvault CASCADE;
SELECT extname, extnamespace::regnamespace AS schema FROM pg_extension
 WHERE extname IN ('nsvault', 'pgcrypto', 'dblink') ORDER BY 1;

\i test/link_keydb.sql

-- the first secret creates the namespace's key in the key database
SELECT nsvault.set_secret('demo', 'secretToken', 'hunter2');
SELECT nsvault.get_secret('demo', 'secretToken');

-- tests show an expected error as one line: SQLSTATE, message and detail
CREATE FUNCTION public.regress_error(sql text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	detail text;
BEGIN
	EXECUTE sql;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
	RETURN SQLSTATE || ': ' || SQLERRM || coalesce(' | ' || nullif(detail, ''), '');
END
$$;
