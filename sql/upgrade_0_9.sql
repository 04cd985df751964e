--
-- upgrade_0_9: a database that nsvault 0.8 filled reads back whole after
-- ALTER EXTENSION nsvault UPDATE to 0.9, which moves the global registries
-- to a table of their own and leads the audit trail's and the key
-- destruction queue's keys with the namespace: every version of every
-- secret, the registry tokens of every scope, grants and the audit trail.
--
\set up_db nsvault_regress_up9
\set from_version 0.8
\i test/upgrade_from.sql
\set SHOW_CONTEXT never

SELECT nsvault.set_secret('shop', 'stripe/key', 'sk_live_upgrade9');
SELECT nsvault.set_secret('shop', 'db.password', 'hunter1-upgrade9');
SELECT nsvault.set_secret('shop', 'db.password', 'hunter2-upgrade9');
SELECT nsvault.set_registry('shop', 'https://quay.io/org', 'shop-user:shop-token-9');
SELECT nsvault.set_registry('shop', 'mirror.example', 'shop-mirror:shop-mirror-token-9');
SELECT nsvault.set_global_registry('mirror.example', 'global-user:global-token-9');
SELECT nsvault.set_global_registry('ghcr.io/acme', 'public-user:public-token-9');
SELECT nsvault.set_global_registry('private.example', 'svc-user:svc-token-9', true);
SELECT nsvault.rotate_key('@global');
CREATE ROLE regress_up9_reader;
SELECT nsvault.grant_namespace('shop', 'regress_up9_reader', 'read');
SELECT nsvault.set_secret('gone', 'x', 'deleted before the update');
SELECT nsvault.delete_namespace('gone');
SELECT string_agg(registry || ':' || key_version || ':' || md5(token), ',' ORDER BY scope, registry)
	   AS tokens_before FROM nsvault.registries \gset
SELECT count(*) AS events_before, max(id) AS last_event FROM nsvault.audit_events \gset

ALTER EXTENSION nsvault UPDATE TO '0.9';
SELECT extversion FROM pg_extension WHERE extname = 'nsvault';

-- every token moved as it was: the namespace's stay, the global ones moved
SELECT string_agg(registry || ':' || key_version || ':' || md5(token), ',' ORDER BY scope, registry)
	   = :'tokens_before' AS tokens_unchanged
  FROM (SELECT scope, registry, key_version, token FROM nsvault.registries
		UNION ALL
		SELECT scope, registry, key_version, token FROM nsvault.global_registries) t;
SELECT scope, namespace, registry FROM nsvault.registries ORDER BY registry;
SELECT scope, registry FROM nsvault.global_registries ORDER BY scope, registry;
SELECT scope, url, user_hint FROM nsvault.list_global_registries();

-- and everything reads back: the namespace's registry wins over the global one
SELECT nsvault.get_secrets('shop', ARRAY['stripe/key', 'db.password']);
SELECT v, nsvault.get_secret('shop', 'db.password', v) FROM generate_series(1, 2) v;
SELECT nsvault.docker_config('shop');
SELECT nsvault.docker_config('shop', 'private.example/app', true);
SELECT * FROM nsvault.registry_credential('shop', 'ghcr.io/acme/app');
SET ROLE regress_up9_reader;
SELECT * FROM nsvault.registry_credential('shop', 'mirror.example/app');
RESET ROLE;

-- global registries are written, rotated and deleted in their table now
SELECT nsvault.set_global_registry('mirror.example', 'global-user:global-token-9b');
SELECT nsvault.rotate_key('@global') AS rotated_to \gset
SELECT count(*) AS global_tokens, count(*) FILTER (WHERE key_version <> :rotated_to) AS not_resealed
  FROM nsvault.global_registries;
SELECT * FROM nsvault.registry_credential('other', 'mirror.example/app');
SELECT nsvault.delete_global_registry('ghcr.io/acme');
SELECT nsvault.delete_global_registry('private.example', true);
SELECT scope, url FROM nsvault.list_global_registries();
-- a global row cannot be written to the namespaces' table any more
\set VERBOSITY terse
INSERT INTO nsvault.registries (scope, namespace, registry, url, user_name, token, key_version)
VALUES ('global', NULL, 'x', 'x', 'u', '\x00', 1);
INSERT INTO nsvault.registries (scope, namespace, registry, url, user_name, token, key_version)
VALUES ('global', 'shop', 'x', 'x', 'u', '\x00', 1);
\set VERBOSITY default

-- the trail and the destruction queue keep their rows, keyed by namespace first
SELECT count(*) >= :events_before AS events_kept, min(id) > 0 AS ids_kept FROM nsvault.audit_events;
SELECT conrelid::regclass AS table_name, pg_get_constraintdef(oid) AS key
  FROM pg_constraint
 WHERE conrelid IN ('nsvault.audit_events'::regclass, 'nsvault.key_destructions'::regclass)
   AND contype = 'p'
 ORDER BY 1;
-- grants record their role's name, which follows a rename
SELECT namespace, grantee, grantee_name FROM nsvault.grants ORDER BY 1, 2;
ALTER ROLE regress_up9_reader RENAME TO regress_up9_renamed;
SELECT namespace, grantee, grantee_name FROM nsvault.grants ORDER BY 1, 2;
SET ROLE regress_up9_renamed;
SELECT nsvault.get_secret('shop', 'stripe/key');
RESET ROLE;
ALTER ROLE regress_up9_renamed RENAME TO regress_up9_reader;

SELECT nsvault.set_secret('shop', 'after', 'written after the update');
SELECT nsvault.get_secret('shop', 'after');
SELECT max(id) > :last_event AS new_events_follow FROM nsvault.audit_events;

\c :main_db
DROP DATABASE :"up_db";
DROP DATABASE :"up_db_keys";
DROP ROLE regress_up9_reader;
