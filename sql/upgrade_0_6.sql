--
-- upgrade_0_6: a database that nsvault 0.5 filled reads back whole after
-- ALTER EXTENSION nsvault UPDATE to 0.6: each secret becomes version 1 with
-- its ciphertext as it was, and each role granted before gets the new
-- functions its grant allows.  This library serves 0.5's SQL objects
-- meanwhile, without versions.
--
\set up_db nsvault_regress_up6
\set from_version 0.5
\i test/upgrade_from.sql

-- 0.5's SQL objects, filled through this library: no versions yet
SELECT nsvault.set_secret('shop', 'stripe/key', 'sk_live_upgrade6');
SELECT nsvault.rotate_key('shop');
SELECT nsvault.set_secret('shop', 'db.password', 'hunter1-upgrade6');
SELECT nsvault.set_secret('shop', 'db.password', 'hunter2-upgrade6');
SELECT nsvault.set_secret('shop', 'db.password', 'other', overwrite => false);
SELECT nsvault.set_secret('shop', 'gone', 'gone-upgrade6');
SELECT nsvault.delete_secret('shop', 'gone');
SELECT count(*) AS rows_of_gone FROM nsvault.secrets WHERE name = 'gone';
SELECT * FROM nsvault.list_secrets('shop') WHERE false;
SELECT name FROM nsvault.list_secrets('shop');
SELECT nsvault.set_registry('shop', 'https://quay.io/org', 'shop-user:shop-token');
CREATE ROLE regress_up6_reader;
CREATE ROLE regress_up6_writer;
CREATE ROLE regress_up6_admin;
SELECT nsvault.grant_namespace('shop', 'regress_up6_reader', 'read');
SELECT nsvault.grant_namespace('shop', 'regress_up6_writer', 'write');
SELECT nsvault.grant_namespace('shop', 'regress_up6_admin', 'admin');
SELECT pg_catalog.to_regprocedure('nsvault.list_secret_versions(text, text)') AS before_update;
SELECT string_agg(name || ':' || key_version || ':' || md5(ciphertext), ',' ORDER BY name)
	   AS sealed_before FROM nsvault.secrets \gset

ALTER EXTENSION nsvault UPDATE TO '0.6';
SELECT extversion FROM pg_extension WHERE extname = 'nsvault';

-- every secret is version 1, its ciphertext untouched, and reads back
SELECT string_agg(name || ':' || key_version || ':' || md5(ciphertext), ',' ORDER BY name)
	   = :'sealed_before' AS ciphertext_unchanged,
	   bool_and(version = 1) AS all_version_1
  FROM nsvault.secrets;
SELECT nsvault.get_secrets('shop', ARRAY['stripe/key', 'db.password']);
SELECT nsvault.get_secret('shop', 'db.password', 1);
SELECT name, current_version, description, expires_at FROM nsvault.list_secrets('shop');
SELECT version, created_by, deleted_at, destroyed
  FROM nsvault.list_secret_versions('shop', 'db.password');
SELECT * FROM nsvault.registry_credential('shop', 'quay.io/org/app');

-- the next write is version 2, and version 1 still reads; rotation
-- re-seals both
SELECT nsvault.set_secret('shop', 'db.password', 'hunter3-upgrade6');
SELECT nsvault.rotate_key('shop');
SELECT nsvault.get_secret('shop', 'db.password', 1) AS v1,
	   nsvault.get_secret('shop', 'db.password') AS v2;

-- the roles granted under 0.5 have what their grants allow, and no more
SELECT r.role, f.fn, has_function_privilege(r.role, f.fn, 'EXECUTE') AS may_execute
  FROM (VALUES ('regress_up6_reader'), ('regress_up6_writer'), ('regress_up6_admin')) r(role),
	   (VALUES ('nsvault.get_secret(text, text, integer)'),
			   ('nsvault.list_secrets(text)'),
			   ('nsvault.list_secret_versions(text, text)'),
			   ('nsvault.set_secret(text, text, text, boolean, integer)'),
			   ('nsvault.purge_secret(text, text)'),
			   ('nsvault.set_max_versions(text, integer)')) f(fn)
 ORDER BY r.role, f.fn;
SET ROLE regress_up6_reader;
SELECT nsvault.get_secret('shop', 'db.password', 1);
SELECT name, current_version FROM nsvault.list_secrets('shop');
RESET ROLE;
SET ROLE regress_up6_writer;
SELECT nsvault.set_secret('shop', 'db.password', 'hunter4-upgrade6', expected_version => 2);
RESET ROLE;
SET ROLE regress_up6_admin;
SELECT nsvault.set_max_versions('shop', 2);
RESET ROLE;

\c :main_db
DROP DATABASE :"up_db";
DROP DATABASE :"up_db_keys";
DROP OWNED BY regress_up6_reader, regress_up6_writer, regress_up6_admin;
DROP ROLE regress_up6_reader, regress_up6_writer, regress_up6_admin;
