--
-- keys: nsvault_keys in the key database
--
\c nsvault_regress_keys
\set SHOW_CONTEXT never

-- the key database has one random identity, returned with every answer
SELECT count(*) AS identities, bool_and(identity IS NOT NULL) AS set FROM nsvault_keys.key_database;
SELECT identity = nsvault_keys.identity() AS answers_as_itself
  FROM nsvault_keys.active_key('alpha', 1, NULL);

-- the first call created version 1, a random 256-bit key
SELECT version, octet_length(key) AS key_bytes FROM nsvault_keys.active_key('alpha', 1, NULL);

-- later calls return the same key and create nothing
SELECT (SELECT key FROM nsvault_keys.active_key('alpha', 1, NULL)) =
	   (SELECT key FROM nsvault_keys.active_key('alpha', 1, NULL)) AS same_key;
SELECT count(*) AS versions FROM nsvault_keys.keys WHERE namespace = 'alpha';

-- a version can be asked for by number
SELECT (SELECT key FROM nsvault_keys.key_version('alpha', 1)) =
	   (SELECT key FROM nsvault_keys.active_key('alpha', 1, NULL)) AS same_key;

-- each namespace has a key of its own
SELECT (SELECT key FROM nsvault_keys.active_key('beta', 1, NULL)) <>
	   (SELECT key FROM nsvault_keys.active_key('alpha', 1, NULL)) AS different_keys;

-- a minimum above the next version means a main database newer than this
-- key database (restored from an older backup): nothing is made
SELECT version, key FROM nsvault_keys.active_key('gamma', 3, NULL);
SELECT version, key FROM nsvault_keys.add_key_version('gamma', 2, NULL);
SELECT count(*) AS made FROM nsvault_keys.keys WHERE namespace = 'gamma';
SELECT version FROM nsvault_keys.active_key('gamma', 1, NULL);
SELECT version FROM nsvault_keys.add_key_version('gamma', 1, NULL);
SELECT version FROM nsvault_keys.active_key('gamma', 1, NULL);

-- unknown versions and namespaces answer no version, never a fresh key
SELECT identity = nsvault_keys.identity() AS answers_as_itself, version, key
  FROM nsvault_keys.key_version('alpha', 2);
SELECT version, key FROM nsvault_keys.key_version('nobody', 1);
SELECT count(*) AS keys_of_nobody FROM nsvault_keys.keys WHERE namespace = 'nobody';
SELECT * FROM nsvault_keys.key_version('alpha', NULL);
SELECT version FROM nsvault_keys.describe('nobody');

-- destroyed versions keep their number: a tombstone, never reused
SELECT version FROM nsvault_keys.add_key_version('delta', 1, NULL);
SELECT version FROM nsvault_keys.add_key_version('delta', 1, NULL);
SELECT version FROM nsvault_keys.destroy_versions(nsvault_keys.identity(), 'delta', 1, 2);
SELECT version FROM nsvault_keys.destroy_versions(nsvault_keys.identity(), 'delta', 1, 2);
SELECT version, key IS NULL AS destroyed FROM nsvault_keys.key_version('delta', 2);
SELECT version FROM nsvault_keys.describe('delta');
SELECT version FROM nsvault_keys.active_key('delta', 1, NULL);

-- a main database that expects another key database gets no key, and none is made
SELECT identity = nsvault_keys.identity() AS answers_as_itself, version, key
  FROM nsvault_keys.active_key('epsilon', 1, '00000000-0000-0000-0000-000000000000');
SELECT version, key FROM nsvault_keys.add_key_version('alpha', 1, '00000000-0000-0000-0000-000000000000');
SELECT count(*) AS made FROM nsvault_keys.keys WHERE namespace = 'epsilon' OR (namespace = 'alpha' AND version > 1);
SELECT version FROM nsvault_keys.active_key('alpha', 1, nsvault_keys.identity());

-- destroy_versions for another key database's identity destroys nothing
SELECT version FROM nsvault_keys.destroy_versions('00000000-0000-0000-0000-000000000000', 'alpha', 1, 1);
SELECT key IS NOT NULL AS alpha_kept FROM nsvault_keys.key_version('alpha', 1);

-- the administrators' destroy_key refuses the active version
SELECT nsvault_keys.destroy_key('gamma', 2);
SELECT nsvault_keys.destroy_key('gamma', 1);
SELECT nsvault_keys.destroy_key('gamma', 1);

-- malformed namespaces and versions are refused
SELECT * FROM nsvault_keys.active_key('Not A Namespace', 1, NULL);
SELECT * FROM nsvault_keys.active_key(NULL, 1, NULL);
SELECT * FROM nsvault_keys.active_key('alpha', 0, NULL);
SELECT * FROM nsvault_keys.key_version('', 1);

-- the reader role may get keys, and neither rotate nor destroy them
SET ROLE regress_keyreader;
SELECT version FROM nsvault_keys.active_key('alpha', 1, NULL);
SELECT key IS NOT NULL AS readable FROM nsvault_keys.key_version('alpha', 1);
SELECT * FROM nsvault_keys.add_key_version('alpha', 1, NULL);
SELECT * FROM nsvault_keys.destroy_versions(NULL, 'alpha', 1, 1);
SELECT count(*) FROM nsvault_keys.keys;
SELECT nsvault_keys.new_key();
SELECT nsvault_keys.grant_reader('regress_keyreader');
SELECT nsvault_keys.destroy_key('alpha', 1);
INSERT INTO nsvault_keys.keys (namespace, version, key) VALUES ('alpha', 9, '\x00');
RESET ROLE;

-- a role that was never granted cannot even reach the schema
CREATE ROLE regress_stranger LOGIN;
SET ROLE regress_stranger;
SELECT * FROM nsvault_keys.active_key('alpha', 1, NULL);
RESET ROLE;

-- nothing in nsvault_keys is executable by PUBLIC
SELECT p.oid::regprocedure AS public_function
  FROM pg_proc p
 WHERE p.pronamespace = 'nsvault_keys'::regnamespace
   AND (p.proacl IS NULL OR EXISTS (
		SELECT 1 FROM aclexplode(p.proacl) a
		 WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE'));

-- the administrator role may rotate and destroy, and get no key
SET ROLE regress_keyadmin;
SELECT * FROM nsvault_keys.key_version('alpha', 1);
SELECT * FROM nsvault_keys.active_key('alpha', 1, NULL);
RESET ROLE;
SELECT p.oid::regprocedure::text AS admin_may_execute
  FROM pg_proc p
 WHERE p.pronamespace = 'nsvault_keys'::regnamespace
   AND has_function_privilege('regress_keyadmin', p.oid, 'EXECUTE')
 ORDER BY p.oid::regprocedure::text COLLATE "C";

-- grant_reader gave exactly EXECUTE on those functions and schema USAGE
SELECT p.oid::regprocedure::text AS reader_may_execute
  FROM pg_proc p
 WHERE p.pronamespace = 'nsvault_keys'::regnamespace
   AND has_function_privilege('regress_keyreader', p.oid, 'EXECUTE')
 ORDER BY p.oid::regprocedure::text COLLATE "C";
SELECT has_schema_privilege('regress_keyreader', 'nsvault_keys', 'USAGE') AS usage,
	   has_schema_privilege('regress_keyreader', 'nsvault_keys', 'CREATE') AS "create",
	   has_table_privilege('regress_keyreader', 'nsvault_keys.keys', 'SELECT') AS "select";
