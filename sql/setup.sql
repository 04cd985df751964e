--
-- setup: a key database beside the main one, linked through dblink_fdw
--
-- In production the key database lives in another cluster on another host
-- (see the TAP tests); here it is a second database of the same instance.
--
\set main_db :DBNAME
CREATE DATABASE nsvault_regress_keys;
CREATE ROLE regress_keyreader LOGIN;
CREATE ROLE regress_keyadmin LOGIN;

\c nsvault_regress_keys
CREATE EXTENSION nsvault_keys CASCADE;
SELECT nsvault_keys.grant_reader('regress_keyreader');
SELECT nsvault_keys.grant_admin('regress_keyadmin');

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

-- read events reach the trail through the audit writer, within a second of
-- the read: waits up to that second for n read rows of a namespace (made
-- since a moment)
CREATE FUNCTION public.regress_await_reads(ns text, n bigint,
										   since timestamptz DEFAULT '-infinity') RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	deadline timestamptz := clock_timestamp() + interval '1 second';
	found bigint;
BEGIN
	LOOP
		SELECT count(*) INTO found FROM nsvault.audit_events
		 WHERE namespace = ns AND action IN ('read', 'registry_read') AND at >= since;
		IF found >= n OR clock_timestamp() > deadline THEN
			RETURN found || ' of ' || n || ' reads of ' || ns || ' in the trail'
				   || CASE WHEN found < n THEN ' after 1 s' ELSE '' END;
		END IF;
		PERFORM pg_sleep(0.02);
	END LOOP;
END
$$;

-- retired keys are destroyed by a background worker after the commit:
-- waits up to 10 seconds for the queue of this database to empty
CREATE FUNCTION public.regress_await_destructions() RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	deadline timestamptz := clock_timestamp() + interval '10 seconds';
	left_queued bigint;
BEGIN
	LOOP
		SELECT count(*) INTO left_queued FROM nsvault.key_destructions;
		IF left_queued = 0 THEN
			RETURN 'destroyed';
		ELSIF clock_timestamp() > deadline THEN
			RETURN left_queued || ' destructions still queued after 10 s';
		END IF;
		PERFORM pg_sleep(0.05);
	END LOOP;
END
$$;
