--
-- upgrade_0_4: a database that nsvault 0.3 filled reads back whole after
-- ALTER EXTENSION nsvault UPDATE to 0.4, and its readers may then ask for
-- registry credentials.  This library serves 0.3's SQL objects meanwhile.
--
\set up_db nsvault_regress_up4
\set from_version 0.3
\i test/upgrade_from.sql

-- 0.3's SQL objects, filled through this library
SELECT nsvault.set_secret('shop', 'stripe/key', 'sk_live_upgrade');
SELECT nsvault.set_secret('shop', 'db.password', 'hunter2-upgrade');
SELECT nsvault.rotate_key('shop');
SELECT nsvault.set_secret('shop', 'after-rotation', 'v2 value');
SELECT nsvault.set_registry('shop', 'https://quay.io/org', 'shop-user:shop-token');
SELECT nsvault.set_global_registry('ghcr.io', 'global-user:global-token');
SELECT nsvault.set_global_registry('gcr.io', 'private-user:private-token', true);
CREATE ROLE regress_up4_reader;
SELECT nsvault.grant_namespace('shop', 'regress_up4_reader', 'read');
SELECT pg_catalog.to_regprocedure('nsvault.registry_credential(text, text, boolean)') AS before_update;

ALTER EXTENSION nsvault UPDATE TO '0.4';
SELECT extversion FROM pg_extension WHERE extname = 'nsvault';

-- every value reads back
SELECT nsvault.get_secrets('shop', ARRAY['stripe/key', 'db.password', 'after-rotation']);
SELECT key_version, count(*) FROM nsvault.secrets GROUP BY 1 ORDER BY 1;
SELECT name FROM nsvault.list_secrets('shop') ORDER BY name COLLATE "C";
SELECT nsvault.docker_config('shop');
SELECT nsvault.docker_config(NULL, NULL, true);

-- the reader granted under 0.3 may ask for the namespace's credentials
SELECT has_function_privilege('regress_up4_reader', 'nsvault.registry_credential(text, text, boolean)',
							  'EXECUTE') AS reader_may_execute;
SET ROLE regress_up4_reader;
SELECT * FROM nsvault.registry_credential('shop', 'quay.io/org/app');
SELECT * FROM nsvault.registry_credential('shop', 'ghcr.io/owner/app');
SELECT count(*) AS none_for_docker_hub FROM nsvault.registry_credential('shop', 'ubuntu');
RESET ROLE;
SELECT * FROM nsvault.registry_credential(NULL, 'gcr.io/p/app', true);

\c :main_db
DROP DATABASE :"up_db";
DROP DATABASE :"up_db_keys";
DROP OWNED BY regress_up4_reader;
DROP ROLE regress_up4_reader;
