--
-- upgrade_0_7: a database that nsvault 0.6 filled reads back whole after
-- ALTER EXTENSION nsvault UPDATE to 0.7: every version of every secret,
-- registry tokens, metadata, grants and the audit trail, which gains an
-- index on time.  Values sealed before the update (by pgcrypto, in the
-- 0.6 library) and after it (by OpenSSL directly) are the same format.
--
\set up_db nsvault_regress_up7
\set from_version 0.6
\i test/upgrade_from.sql
\set SHOW_CONTEXT never

-- this database's own: waits up to a second for n read events of shop
CREATE FUNCTION pg_temp.await_reads(n bigint) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	deadline timestamptz := clock_timestamp() + interval '1 second';
	found bigint;
BEGIN
	LOOP
		SELECT count(*) INTO found FROM nsvault.audit_events WHERE namespace = 'shop' AND action = 'read';
		IF found >= n OR clock_timestamp() > deadline THEN
			RETURN found || ' of ' || n || ' reads in the trail';
		END IF;
		PERFORM pg_sleep(0.02);
	END LOOP;
END
$$;

SELECT nsvault.set_secret('shop', 'stripe/key', 'sk_live_upgrade7');
SELECT nsvault.set_secret('shop', 'db.password', 'hunter1-upgrade7');
SELECT nsvault.set_secret('shop', 'db.password', 'hunter2-upgrade7');
SELECT nsvault.rotate_key('shop');
SELECT nsvault.set_secret('shop', 'db.password', 'hunter3-upgrade7');
SELECT nsvault.set_secret('shop', 'gone', 'gone-upgrade7');
SELECT nsvault.delete_secret('shop', 'gone');
SELECT nsvault.set_secret_metadata('shop', 'stripe/key', 'the live key', '{"team": "billing"}',
								   '2999-01-01 00:00:00+00');
SELECT nsvault.set_registry('shop', 'https://quay.io/org', 'shop-user:shop-token');
CREATE ROLE regress_up7_reader;
SELECT nsvault.grant_namespace('shop', 'regress_up7_reader', 'read');
SET ROLE regress_up7_reader;
SELECT nsvault.get_secret('shop', 'stripe/key');
RESET ROLE;
SELECT pg_temp.await_reads(1);
-- as 0.6 was first published: the reads with a search_path of their own
ALTER FUNCTION nsvault.get_secret(text, text) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION nsvault.get_secrets(text, text[]) SET search_path = pg_catalog, pg_temp;
SELECT string_agg(name || ':' || version || ':' || key_version || ':' || md5(ciphertext), ','
				  ORDER BY name) AS sealed_before FROM nsvault.secrets \gset

ALTER EXTENSION nsvault UPDATE TO '0.7';
SELECT extversion FROM pg_extension WHERE extname = 'nsvault';

-- nothing sealed was touched, and everything reads back
SELECT string_agg(name || ':' || version || ':' || key_version || ':' || md5(ciphertext), ','
				  ORDER BY name) = :'sealed_before' AS ciphertext_unchanged
  FROM nsvault.secrets;
SELECT nsvault.get_secrets('shop', ARRAY['stripe/key', 'db.password']);
SELECT v, nsvault.get_secret('shop', 'db.password', v) FROM generate_series(1, 3) v;
SELECT nsvault.get_secret('shop', 'gone');
SELECT nsvault.undelete_secret('shop', 'gone', 1);
SELECT nsvault.get_secret('shop', 'gone');
SELECT name, current_version, description, expires_at FROM nsvault.list_secrets('shop');
SELECT description, custom FROM nsvault.get_secret_metadata('shop', 'stripe/key');
SELECT * FROM nsvault.registry_credential('shop', 'quay.io/org/app');
SELECT proname, proconfig FROM pg_proc
 WHERE oid IN ('nsvault.get_secret(text, text)'::regprocedure, 'nsvault.get_secrets(text, text[])'::regprocedure);

-- the grant carries over; the trail keeps its events, gains its index, and
-- the writer goes on filling it
SET ROLE regress_up7_reader;
SELECT nsvault.get_secret('shop', 'db.password', 2);
RESET ROLE;
-- 7 reads of shop before this one: the reader's, and the superuser's above
SELECT pg_temp.await_reads(8);
SELECT indexrelid::regclass, amname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
  JOIN pg_am a ON a.oid = c.relam WHERE indrelid = 'nsvault.audit_events'::regclass ORDER BY 1;
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM nsvault.audit_events WHERE at >= now() - interval '1 hour';
SELECT role_name, secret_name, detail FROM nsvault.audit_events
 WHERE at >= now() - interval '1 hour' AND action = 'read' ORDER BY id;
RESET enable_seqscan;

-- a write after the update, sealed by this library, reads back, and
-- rotation re-seals every version
SELECT nsvault.set_secret('shop', 'db.password', 'hunter4-upgrade7');
SELECT nsvault.rotate_key('shop');
SELECT v, nsvault.get_secret('shop', 'db.password', v) FROM generate_series(1, 4) v;

\c :main_db
DROP DATABASE :"up_db";
DROP DATABASE :"up_db_keys";
DROP OWNED BY regress_up7_reader;
DROP ROLE regress_up7_reader;
