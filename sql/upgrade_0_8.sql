--
-- upgrade_0_8: a database that nsvault 0.7 filled reads back whole after
-- ALTER EXTENSION nsvault UPDATE to 0.8: every version of every secret,
-- registry tokens, metadata, grants and the audit trail, whose view now
-- shows a namespace's admins only what followed its last deletion.
--
\set up_db nsvault_regress_up8
\set from_version 0.7
\i test/upgrade_from.sql
\set SHOW_CONTEXT never

SELECT nsvault.set_secret('shop', 'stripe/key', 'sk_live_upgrade8');
SELECT nsvault.set_secret('shop', 'db.password', 'hunter1-upgrade8');
SELECT nsvault.set_secret('shop', 'db.password', 'hunter2-upgrade8');
SELECT nsvault.rotate_key('shop');
SELECT nsvault.set_secret_metadata('shop', 'stripe/key', 'the live key', '{"team": "billing"}',
								   '2999-01-01 00:00:00+00');
SELECT nsvault.set_registry('shop', 'https://quay.io/org', 'shop-user:shop-token');
CREATE ROLE regress_up8_admin;
-- a namespace that a previous tenant used, then deleted, before the update
SELECT nsvault.grant_namespace('reused', 'regress_up8_admin', 'admin');
SELECT nsvault.set_secret('reused', 'old', 'the old tenant''s');
SELECT nsvault.delete_namespace('reused');
SELECT nsvault.grant_namespace('shop', 'regress_up8_admin', 'admin');
SELECT nsvault.grant_namespace('reused', 'regress_up8_admin', 'admin');
SELECT nsvault.set_secret('reused', 'new', 'the new tenant''s');
SET ROLE regress_up8_admin;
SELECT action, secret_name FROM nsvault.audit_log
 WHERE namespace = 'reused' AND action <> 'read' ORDER BY at, action;
RESET ROLE;
SELECT string_agg(name || ':' || version || ':' || key_version || ':' || md5(ciphertext), ','
				  ORDER BY name, version) AS sealed_before FROM nsvault.secret_versions \gset
SELECT count(*) AS events_before FROM nsvault.audit_events \gset

ALTER EXTENSION nsvault UPDATE TO '0.8';
SELECT extversion FROM pg_extension WHERE extname = 'nsvault';

-- nothing sealed was touched, and everything reads back
SELECT string_agg(name || ':' || version || ':' || key_version || ':' || md5(ciphertext), ','
				  ORDER BY name, version) = :'sealed_before' AS ciphertext_unchanged
  FROM nsvault.secret_versions;
SELECT nsvault.get_secrets('shop', ARRAY['stripe/key', 'db.password']);
SELECT v, nsvault.get_secret('shop', 'db.password', v) FROM generate_series(1, 2) v;
SELECT nsvault.get_secret('reused', 'new');
SELECT description, custom FROM nsvault.get_secret_metadata('shop', 'stripe/key');
SELECT * FROM nsvault.registry_credential('shop', 'quay.io/org/app');

-- the trail keeps every event; the admin's view of the reused namespace
-- starts after its deletion, the superuser's does not
SELECT count(*) >= :events_before AS events_kept FROM nsvault.audit_events;
SET ROLE regress_up8_admin;
SELECT action, secret_name FROM nsvault.audit_log
 WHERE namespace = 'reused' AND action <> 'read' ORDER BY at, action;
SELECT count(*) > 0 AS sees_shop FROM nsvault.audit_log WHERE namespace = 'shop';
RESET ROLE;
SELECT action, secret_name FROM nsvault.audit_log
 WHERE namespace = 'reused' AND action <> 'read' ORDER BY at, action;

-- descriptions that would lie in a listing are refused from now on
SELECT nsvault.set_secret_metadata('shop', 'stripe/key', E'the \u202Eevil key');
SELECT nsvault.set_secret('shop', 'db.password', 'hunter3-upgrade8');
SELECT v, nsvault.get_secret('shop', 'db.password', v) FROM generate_series(1, 3) v;

\c :main_db
DROP DATABASE :"up_db";
DROP DATABASE :"up_db_keys";
DROP OWNED BY regress_up8_admin;
DROP ROLE regress_up8_admin;
