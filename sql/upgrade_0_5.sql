--
-- upgrade_0_5: a database that nsvault 0.4 filled reads back whole after
-- ALTER EXTENSION nsvault UPDATE to 0.5, and its readers may then call
-- get_secrets with missing_ok.  This library serves 0.4's SQL objects
-- meanwhile.
--
\set up_db nsvault_regress_up5
\set from_version 0.4
\i test/upgrade_from.sql

-- 0.4's SQL objects, filled through this library
SELECT nsvault.set_secret('shop', 'stripe/key', 'sk_live_upgrade5');
SELECT nsvault.rotate_key('shop');
SELECT nsvault.set_secret('shop', 'db.password', 'hunter2-upgrade5');
SELECT nsvault.set_registry('shop', 'https://quay.io/org', 'shop-user:shop-token');
CREATE ROLE regress_up5_reader;
SELECT nsvault.grant_namespace('shop', 'regress_up5_reader', 'read');
SELECT pg_catalog.to_regprocedure('nsvault.get_secrets(text, text[], boolean)') AS before_update;

ALTER EXTENSION nsvault UPDATE TO '0.5';
SELECT extversion FROM pg_extension WHERE extname = 'nsvault';

-- every value reads back, through both forms of get_secrets
SELECT nsvault.get_secrets('shop', ARRAY['stripe/key', 'db.password']);
SELECT nsvault.get_secrets('shop', ARRAY['stripe/key', 'gone', 'db.password'], true);
SELECT * FROM nsvault.registry_credential('shop', 'quay.io/org/app');

-- the reader granted under 0.4 may call the new form, and the old one still
SELECT has_function_privilege('regress_up5_reader', 'nsvault.get_secrets(text, text[], boolean)',
							  'EXECUTE') AS reader_may_execute;
SET ROLE regress_up5_reader;
SELECT nsvault.get_secrets('shop', ARRAY['db.password', 'gone'], missing_ok => true);
SELECT nsvault.get_secrets('shop', ARRAY['db.password']);
RESET ROLE;

\c :main_db
DROP DATABASE :"up_db";
DROP DATABASE :"up_db_keys";
DROP OWNED BY regress_up5_reader;
DROP ROLE regress_up5_reader;
