--
-- secrets: set, get, list and delete
--
SELECT nsvault.set_secret('team-a', 'db/password', 'correct horse battery staple');
SELECT nsvault.set_secret('team-a', 'api.token', 'tok_123');
SELECT nsvault.set_secret('team-b', 'db/password', 'another value');

SELECT nsvault.get_secret('team-a', 'db/password');
SELECT nsvault.get_secret('team-b', 'db/password');

-- the table holds ciphertext only: format byte 1, key version 1, no plaintext
SELECT namespace, name, key_version, get_byte(ciphertext, 0) AS format,
	   octet_length(ciphertext) AS bytes,
	   position(convert_to('correct horse', 'UTF8') IN ciphertext) AS plaintext_at
  FROM nsvault.secrets ORDER BY namespace COLLATE "C", name COLLATE "C";

-- overwriting is the default; created_at stays, updated_at moves
SELECT created_at AS created, updated_at AS updated
  FROM nsvault.secrets WHERE namespace = 'team-a' AND name = 'api.token' \gset first_
SELECT pg_sleep(0.01);
SELECT nsvault.set_secret('team-a', 'api.token', 'tok_456');
SELECT nsvault.get_secret('team-a', 'api.token');
SELECT created_at = :'first_created' AS created_kept, updated_at > :'first_updated' AS updated_moved
  FROM nsvault.secrets WHERE namespace = 'team-a' AND name = 'api.token';

-- the same value twice seals differently (fresh IV each time)
SELECT ciphertext AS first_seal FROM nsvault.secrets
 WHERE namespace = 'team-a' AND name = 'api.token' \gset
SELECT nsvault.set_secret('team-a', 'api.token', 'tok_456');
SELECT ciphertext <> :'first_seal'::bytea AS sealed_anew FROM nsvault.secrets
 WHERE namespace = 'team-a' AND name = 'api.token';

-- overwrite => false refuses an existing name and keeps the old value
SELECT nsvault.set_secret('team-a', 'api.token', 'tok_789', overwrite => false);
SELECT nsvault.get_secret('team-a', 'api.token');
SELECT nsvault.set_secret('team-a', 'fresh', 'new value', overwrite => false);
SELECT nsvault.get_secret('team-a', 'fresh');

-- any text round-trips exactly, up to 64 KiB
SELECT nsvault.set_secret('team-a', 'unicode', E'p\u00e4ss "w\\rd" ''q'' \u2603\n$x%');
SELECT nsvault.get_secret('team-a', 'unicode') = E'p\u00e4ss "w\\rd" ''q'' \u2603\n$x%' AS exact;
SELECT nsvault.set_secret('team-a', 'big', repeat('x', 65536));
SELECT length(nsvault.get_secret('team-a', 'big')) AS big_length,
	   nsvault.get_secret('team-a', 'big') = repeat('x', 65536) AS exact;

-- missing secrets: SQLSTATE P0002
\set VERBOSITY default
\set SHOW_CONTEXT never
SELECT nsvault.get_secret('team-a', 'nope');
SELECT nsvault.get_secret('nowhere', 'db/password');
DO $$
BEGIN
	PERFORM nsvault.get_secret('team-a', 'nope');
EXCEPTION WHEN no_data_found THEN
	RAISE NOTICE 'SQLSTATE P0002: %', SQLERRM;
END
$$;

-- list: names and times, sorted by name, never values
SELECT name, created_at IS NOT NULL AS has_created, updated_at >= created_at AS times_ok
  FROM nsvault.list_secrets('team-a');
SELECT * FROM nsvault.list_secrets('nowhere');
SELECT proargnames FROM pg_proc WHERE oid = 'nsvault.list_secrets'::regproc;

-- delete: true when something went
SELECT nsvault.delete_secret('team-a', 'fresh');
SELECT nsvault.delete_secret('team-a', 'fresh');
SELECT nsvault.get_secret('team-a', 'fresh');
SELECT nsvault.get_secret('team-b', 'db/password');

-- a rebuilt index and a table put in the old one's place (new OIDs: the
-- library remembers the old ones) are read at once
SELECT 'nsvault.secrets_pkey'::regclass::oid AS old_index \gset
REINDEX INDEX CONCURRENTLY nsvault.secrets_pkey;
SELECT 'nsvault.secrets_pkey'::regclass::oid <> :old_index AS index_replaced;
SELECT nsvault.get_secret('team-a', 'db/password');
CREATE TABLE nsvault.secrets_copy (LIKE nsvault.secrets INCLUDING ALL);
INSERT INTO nsvault.secrets_copy SELECT * FROM nsvault.secrets
 WHERE (namespace, name) <> ('team-a', 'db/password');
ALTER TABLE nsvault.secrets RENAME TO secrets_kept;
ALTER INDEX nsvault.secrets_pkey RENAME TO secrets_kept_pkey;
ALTER TABLE nsvault.secrets_copy RENAME TO secrets;
ALTER INDEX nsvault.secrets_copy_pkey RENAME TO secrets_pkey;
SELECT nsvault.get_secret('team-a', 'db/password');
SELECT nsvault.get_secret('team-b', 'db/password');
DROP TABLE nsvault.secrets;
ALTER TABLE nsvault.secrets_kept RENAME TO secrets;
ALTER INDEX nsvault.secrets_kept_pkey RENAME TO secrets_pkey;
SELECT nsvault.get_secret('team-a', 'db/password');
-- a table put in the place of nsvault.secrets without its index is refused:
-- nsvault.secrets_pkey indexes another table
ALTER TABLE nsvault.secrets RENAME TO secrets_kept;
CREATE TABLE nsvault.secrets (LIKE nsvault.secrets_kept);
INSERT INTO nsvault.secrets SELECT * FROM nsvault.secrets_kept;
SELECT nsvault.get_secret('team-a', 'db/password');
DROP TABLE nsvault.secrets;
ALTER TABLE nsvault.secrets_kept RENAME TO secrets;
SELECT nsvault.get_secret('team-a', 'db/password');

-- an index put in the place of a primary key that would miss rows or find
-- others is refused (55000), never read through: partial, on an
-- expression, on other columns, in another order, or not unique
SELECT nsvault.get_secret('team-a', 'db/password') IS NOT NULL AS readable;
BEGIN;
ALTER TABLE nsvault.secrets DROP CONSTRAINT secrets_pkey CASCADE;
CREATE UNIQUE INDEX secrets_pkey ON nsvault.secrets (namespace, name) WHERE name <> 'db/password';
SELECT nsvault.get_secret('team-a', 'db/password');
ROLLBACK;
BEGIN;
ALTER TABLE nsvault.secrets DROP CONSTRAINT secrets_pkey CASCADE;
CREATE UNIQUE INDEX secrets_pkey ON nsvault.secrets (namespace, upper(name));
SELECT nsvault.get_secret('team-a', 'db/password');
ROLLBACK;
BEGIN;
ALTER TABLE nsvault.secrets DROP CONSTRAINT secrets_pkey CASCADE;
CREATE UNIQUE INDEX secrets_pkey ON nsvault.secrets (name, namespace);
SELECT nsvault.get_secret('team-a', 'db/password');
ROLLBACK;
BEGIN;
ALTER TABLE nsvault.secrets DROP CONSTRAINT secrets_pkey CASCADE;
CREATE INDEX secrets_pkey ON nsvault.secrets (namespace, name);
SELECT nsvault.get_secret('team-a', 'db/password');
ROLLBACK;
BEGIN;
ALTER TABLE nsvault.secrets DROP CONSTRAINT secrets_pkey CASCADE;
CREATE UNIQUE INDEX secrets_pkey ON nsvault.secrets (namespace, name, updated_at);
SELECT nsvault.get_secret('team-a', 'db/password');
ROLLBACK;
BEGIN;
SELECT nsvault.set_secret('team-a', 'db/password', 'a second version');
ALTER TABLE nsvault.secret_versions DROP CONSTRAINT secret_versions_pkey CASCADE;
CREATE UNIQUE INDEX secret_versions_pkey ON nsvault.secret_versions (namespace, name, version)
 WHERE version > 1;
SELECT nsvault.get_secret('team-a', 'db/password', 1);
ROLLBACK;
-- the extension's own index is read again
SELECT nsvault.get_secret('team-a', 'db/password') IS NOT NULL AS readable;
