--
-- keys: nsvault_keys in the key database
--
\c nsvault_regress_keys
\set SHOW_CONTEXT never

-- the first call creates version 1, a random 256-bit key
SELECT version, octet_length(key) AS key_bytes FROM nsvault_keys.active_key('alpha');

-- later calls return the same key and create nothing
SELECT (SELECT key FROM nsvault_keys.active_key('alpha')) =
	   (SELECT key FROM nsvault_keys.active_key('alpha')) AS same_key;
SELECT count(*) AS versions FROM nsvault_keys.keys WHERE namespace = 'alpha';

-- a version can be asked for by number
SELECT nsvault_keys.key('alpha', 1) = (SELECT key FROM nsvault_keys.active_key('alpha')) AS same_key;

-- each namespace has a key of its own
SELECT (SELECT key FROM nsvault_keys.active_key('beta')) <>
	   (SELECT key FROM nsvault_keys.active_key('alpha')) AS different_keys;

-- unknown versions and namespaces are errors, never a fresh key
SELECT nsvault_keys.key('alpha', 2);
SELECT nsvault_keys.key('nobody', 1);
SELECT count(*) AS keys_of_nobody FROM nsvault_keys.keys WHERE namespace = 'nobody';
SELECT nsvault_keys.key('alpha', NULL);

-- malformed namespaces are refused
SELECT * FROM nsvault_keys.active_key('Not A Namespace');
SELECT * FROM nsvault_keys.active_key(NULL);
SELECT nsvault_keys.key('', 1);

-- the reader role may call the two key functions and nothing else
SET ROLE regress_keyreader;
SELECT version FROM nsvault_keys.active_key('alpha');
SELECT nsvault_keys.key('alpha', 1) IS NOT NULL AS readable;
SELECT count(*) FROM nsvault_keys.keys;
SELECT nsvault_keys.new_key();
SELECT nsvault_keys.grant_reader('regress_keyreader');
INSERT INTO nsvault_keys.keys (namespace, version, key) VALUES ('alpha', 9, '\x00');
RESET ROLE;

-- a role that was never granted cannot even reach the schema
CREATE ROLE regress_stranger LOGIN;
SET ROLE regress_stranger;
SELECT * FROM nsvault_keys.active_key('alpha');
RESET ROLE;

-- nothing in nsvault_keys is executable by PUBLIC
SELECT p.oid::regprocedure AS public_function
  FROM pg_proc p
 WHERE p.pronamespace = 'nsvault_keys'::regnamespace
   AND (p.proacl IS NULL OR EXISTS (
		SELECT 1 FROM aclexplode(p.proacl) a
		 WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE'));

-- grant_reader gave exactly EXECUTE on the two key functions and schema USAGE
SELECT p.oid::regprocedure::text AS reader_may_execute
  FROM pg_proc p
 WHERE p.pronamespace = 'nsvault_keys'::regnamespace
   AND has_function_privilege('regress_keyreader', p.oid, 'EXECUTE')
 ORDER BY p.oid::regprocedure::text COLLATE "C";
SELECT has_schema_privilege('regress_keyreader', 'nsvault_keys', 'USAGE') AS usage,
	   has_schema_privilege('regress_keyreader', 'nsvault_keys', 'CREATE') AS "create",
	   has_table_privilege('regress_keyreader', 'nsvault_keys.keys', 'SELECT') AS "select";
