--
-- secret_versions: every write a new version; reading one; check-and-set;
-- soft delete, undelete, rollback, destroy, purge; how many versions a
-- namespace keeps; metadata and expiry; each version sealed on its own;
-- who may do what; the audit trail names the versions
--
\set SHOW_CONTEXT never

-- every write makes a version, and returns its number
SELECT nsvault.set_secret('ver', 'api', 'api-one');
SELECT nsvault.set_secret('ver', 'api', 'api-two');
SELECT nsvault.set_secret('ver', 'api', 'api-three');
SELECT nsvault.get_secret('ver', 'api') AS current,
	   nsvault.get_secret('ver', 'api', NULL) AS also_current,
	   nsvault.get_secret('ver', 'api', 1) AS first,
	   nsvault.get_secret('ver', 'api', version => 2) AS second,
	   nsvault.get_secret('ver', 'api', 3) AS third;
SELECT version, created_by, deleted_at, destroyed
  FROM nsvault.list_secret_versions('ver', 'api');
SELECT name, current_version, description, expires_at FROM nsvault.list_secrets('ver');
-- a version that never was, an invalid one, a secret that is not there
SELECT nsvault.get_secret('ver', 'api', 4);
SELECT nsvault.get_secret('ver', 'api', 0);
SELECT nsvault.get_secret('ver', 'nosuch', 1);
SELECT * FROM nsvault.list_secret_versions('ver', 'nosuch');

-- check-and-set: 0 for a secret that must not exist, N for the current version
SELECT nsvault.set_secret('ver', 'cas', 'cas-one', expected_version => 0);
SELECT nsvault.set_secret('ver', 'cas', 'cas-again', expected_version => 0);
SELECT nsvault.set_secret('ver', 'cas', 'cas-two', expected_version => 1);
SELECT nsvault.set_secret('ver', 'cas', 'cas-stale', expected_version => 1);
SELECT nsvault.set_secret('ver', 'nosuch', 'x', expected_version => 3);
SELECT nsvault.set_secret('ver', 'cas', 'x', expected_version => -1);
SELECT nsvault.get_secret('ver', 'cas');
-- overwrite => false keeps its meaning, with or without a check
SELECT nsvault.set_secret('ver', 'cas', 'x', overwrite => false);
SELECT nsvault.set_secret('ver', 'fresh', 'fresh-one', overwrite => false, expected_version => 0);

-- delete_secret marks the current version deleted: reads answer P0002,
-- the list hides the secret, its versions stay
SELECT nsvault.delete_secret('ver', 'api');
SELECT nsvault.delete_secret('ver', 'api');
SELECT nsvault.get_secret('ver', 'api');
SELECT nsvault.get_secret('ver', 'api', 3);
SELECT nsvault.get_secrets('ver', ARRAY['cas', 'api']);
SELECT nsvault.get_secrets('ver', ARRAY['cas', 'api'], missing_ok => true);
SELECT name FROM nsvault.list_secrets('ver');
SELECT nsvault.get_secret('ver', 'api', 2) AS older_versions_still_read;
SELECT version, deleted_at IS NOT NULL AS deleted, destroyed
  FROM nsvault.list_secret_versions('ver', 'api');
-- a deleted secret still exists for overwrite => false and check-and-set
SELECT nsvault.set_secret('ver', 'api', 'x', overwrite => false);
SELECT nsvault.set_secret('ver', 'api', 'x', expected_version => 0);
-- undelete restores it; a version not deleted is left as it is
SELECT nsvault.undelete_secret('ver', 'api', 3);
SELECT nsvault.undelete_secret('ver', 'api', 3);
SELECT nsvault.undelete_secret('ver', 'api', 9);
SELECT nsvault.get_secret('ver', 'api');
-- writing over a deleted current version makes a new, readable one
SELECT nsvault.delete_secret('ver', 'api');
SELECT nsvault.set_secret('ver', 'api', 'api-four');
SELECT nsvault.get_secret('ver', 'api');
SELECT version, deleted_at IS NOT NULL AS deleted FROM nsvault.list_secret_versions('ver', 'api');
SELECT nsvault.undelete_secret('ver', 'api', 3);
SELECT nsvault.get_secret('ver', 'api', 3);

-- rollback writes an older version's value as a new version
SELECT nsvault.rollback_secret('ver', 'api', 1);
SELECT nsvault.get_secret('ver', 'api');
SELECT nsvault.rollback_secret('ver', 'api', 42);
SELECT nsvault.rollback_secret('ver', 'api', NULL);
SELECT nsvault.rollback_secret('ver', 'nosuch', 1);

-- destroy removes versions' ciphertext for good, and keeps their rows
SELECT nsvault.destroy_secret_versions('ver', 'api', ARRAY[1, 2, 2]);
SELECT nsvault.destroy_secret_versions('ver', 'api', ARRAY[1]);
SELECT nsvault.get_secret('ver', 'api', 1);
SELECT nsvault.rollback_secret('ver', 'api', 2);
SELECT nsvault.undelete_secret('ver', 'api', 2);
SELECT version, destroyed, (SELECT ciphertext IS NULL AND key_version IS NULL
							  FROM nsvault.secret_versions v
							 WHERE v.namespace = 'ver' AND v.name = 'api'
							   AND v.version = l.version) AS no_ciphertext
  FROM nsvault.list_secret_versions('ver', 'api') l WHERE version <= 2;
-- the current version too: the secret then reads as not found
SELECT nsvault.destroy_secret_versions('ver', 'api', ARRAY[5]);
SELECT nsvault.get_secret('ver', 'api');
SELECT name FROM nsvault.list_secrets('ver');
SELECT nsvault.delete_secret('ver', 'api');
SELECT nsvault.set_secret('ver', 'api', 'api-six');
-- a destroy, a delete or a purge that rolls back changes nothing
BEGIN;
SELECT nsvault.destroy_secret_versions('ver', 'api', ARRAY[3, 6]);
SELECT nsvault.delete_secret('ver', 'api');
SELECT nsvault.purge_secret('ver', 'api');
ROLLBACK;
SELECT nsvault.get_secret('ver', 'api', 3) AS v3, nsvault.get_secret('ver', 'api') AS v6;
-- versions that cannot be destroyed
SELECT nsvault.destroy_secret_versions('ver', 'api', ARRAY[7]);
SELECT nsvault.destroy_secret_versions('ver', 'api', ARRAY[0]);
SELECT nsvault.destroy_secret_versions('ver', 'api', ARRAY[1, NULL]);
SELECT nsvault.destroy_secret_versions('ver', 'api', ARRAY[[1], [2]]);
SELECT nsvault.destroy_secret_versions('ver', 'api', NULL);
SELECT nsvault.destroy_secret_versions('ver', 'nosuch', ARRAY[1]);
SELECT nsvault.destroy_secret_versions('ver', 'api', ARRAY[]::integer[]);

-- purge removes every version and the metadata; the name starts again at 1
SELECT nsvault.purge_secret('ver', 'api');
SELECT nsvault.purge_secret('ver', 'api');
SELECT detail FROM nsvault.audit_events WHERE namespace = 'ver' AND action = 'purge';
SELECT count(*) AS rows_left FROM nsvault.secret_versions WHERE namespace = 'ver' AND name = 'api';
SELECT nsvault.get_secret('ver', 'api');
SELECT nsvault.set_secret('ver', 'api', 'api-again');

-- a namespace keeps 10 versions of each secret, or as many as its admin sets
SELECT nsvault.set_secret('ver', 'many', 'many-' || i) FROM generate_series(1, 12) i;
SELECT min(version), max(version), count(*) FROM nsvault.list_secret_versions('ver', 'many');
SELECT nsvault.set_max_versions('ver', 3);
SELECT max_versions FROM nsvault.get_secret_metadata('ver', 'many');
SELECT nsvault.set_secret('ver', 'many', 'many-13');
SELECT version FROM nsvault.list_secret_versions('ver', 'many');
SELECT nsvault.get_secret('ver', 'many', 10);
SELECT nsvault.set_max_versions('ver', 0);
SELECT nsvault.set_max_versions('ver', NULL);
SELECT nsvault.set_max_versions('ver', 1);
SELECT nsvault.set_secret('ver', 'many', 'many-14');
SELECT version FROM nsvault.list_secret_versions('ver', 'many');
SELECT nsvault.set_max_versions('ver', 10);

-- metadata: set what is given, leave the rest
SELECT nsvault.set_secret_metadata('ver', 'cas', description => 'the CAS test secret',
								   custom => '{"owner": "team-a"}');
SELECT nsvault.set_secret_metadata('ver', 'cas', expires_at => '2999-01-01 00:00:00+00');
SELECT current_version, description, custom, expires_at, max_versions
  FROM nsvault.get_secret_metadata('ver', 'cas');
SELECT name, current_version, description, expires_at FROM nsvault.list_secrets('ver');
SELECT nsvault.set_secret('ver', 'cas', 'cas-three');
SELECT description, custom FROM nsvault.get_secret_metadata('ver', 'cas') AS kept_by_new_version;
-- cleared by an empty description, an empty object and infinity
SELECT nsvault.set_secret_metadata('ver', 'cas', '', '{}', 'infinity');
SELECT description, custom, expires_at FROM nsvault.get_secret_metadata('ver', 'cas');
-- refused
SELECT nsvault.set_secret_metadata('ver', 'cas');
SELECT nsvault.set_secret_metadata('ver', 'cas', custom => '["a"]');
SELECT nsvault.set_secret_metadata('ver', 'cas', description => repeat('d', 1025));
SELECT nsvault.set_secret_metadata('ver', 'cas', description => E'two\nlines');
-- a listing that lies: bidirectional overrides and isolates, and C1 controls
SELECT nsvault.set_secret_metadata('ver', 'cas', description => E'invoice \u202Efdp.exe');
SELECT nsvault.set_secret_metadata('ver', 'cas', description => E'owner \u2067admin\u2069');
SELECT nsvault.set_secret_metadata('ver', 'cas', description => E'next\u0085line');
SELECT nsvault.set_secret_metadata('ver', 'cas', custom => E'{"owner": "team-\u202Ea"}');
SELECT nsvault.set_secret_metadata('ver', 'cas', custom => E'{"tags": ["ok", {"\u2066k": 1}]}');
-- custom strings may hold control characters: a listing shows them escaped
SELECT nsvault.set_secret_metadata('ver', 'cas', custom => E'{"note": "two\\nlines"}');
SELECT custom FROM nsvault.get_secret_metadata('ver', 'cas');
SELECT nsvault.set_secret_metadata('ver', 'cas', custom => '{}');
SELECT nsvault.set_secret_metadata('ver', 'cas', expires_at => '-infinity');
SELECT nsvault.set_secret_metadata('ver', 'nosuch', description => 'x');
SELECT * FROM nsvault.get_secret_metadata('ver', 'nosuch');

-- after expires_at, every read fails with 55V01, naming the secret and when
SELECT nsvault.set_secret_metadata('ver', 'cas', expires_at => '2000-01-01 00:00:00+00');
SELECT nsvault.get_secret('ver', 'cas');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT nsvault.get_secret('ver', 'cas', 1);
SELECT nsvault.get_secrets('ver', ARRAY['fresh', 'cas']);
SELECT nsvault.get_secrets('ver', ARRAY['fresh', 'cas'], missing_ok => true);
SELECT name, expires_at FROM nsvault.list_secrets('ver') WHERE expires_at IS NOT NULL;
SELECT nsvault.set_secret_metadata('ver', 'cas', expires_at => 'infinity');
SELECT nsvault.get_secret('ver', 'cas');

-- each version is sealed on its own: a ciphertext copied to another
-- version of the same secret fails its check
SELECT nsvault.set_secret('ver', 'bound', 'bound-one');
SELECT nsvault.set_secret('ver', 'bound', 'bound-two');
BEGIN;
UPDATE nsvault.secrets SET ciphertext = v.ciphertext, key_version = v.key_version
  FROM nsvault.secret_versions v
 WHERE secrets.namespace = 'ver' AND secrets.name = 'bound'
   AND v.namespace = 'ver' AND v.name = 'bound' AND v.version = 1;
SELECT nsvault.get_secret('ver', 'bound');
ROLLBACK;
BEGIN;
UPDATE nsvault.secret_versions v SET ciphertext = s.ciphertext, key_version = s.key_version
  FROM nsvault.secrets s
 WHERE s.namespace = 'ver' AND s.name = 'bound' AND v.namespace = 'ver' AND v.name = 'bound';
SELECT nsvault.get_secret('ver', 'bound', 1);
ROLLBACK;
SELECT nsvault.get_secret('ver', 'bound', 1), nsvault.get_secret('ver', 'bound');

-- rotation re-seals every kept version, and leaves destroyed ones empty
SELECT nsvault.destroy_secret_versions('ver', 'many', ARRAY[14]);
SELECT nsvault.set_secret('ver', 'many', 'many-15');
SELECT nsvault.set_secret('ver', 'many', 'many-16');
SELECT nsvault.rotate_key('ver') AS new_key_version \gset
SELECT count(*) FILTER (WHERE key_version = :new_key_version) AS on_new_key,
	   count(*) FILTER (WHERE key_version IS NULL) AS destroyed,
	   count(*) AS versions
  FROM (SELECT key_version FROM nsvault.secrets WHERE namespace = 'ver'
		UNION ALL
		SELECT key_version FROM nsvault.secret_versions WHERE namespace = 'ver') v;
SELECT nsvault.get_secret('ver', 'many', 15) AS v15, nsvault.get_secret('ver', 'many') AS v16,
	   nsvault.get_secret('ver', 'bound', 1) AS bound1;
-- older versions count as values sealed under a key version: the old key
-- goes only once rotation has re-sealed them
SELECT nsvault.set_secret('ver2', 'k', 'k-one');
SELECT nsvault.set_secret('ver2', 'k', 'k-two');
SELECT nsvault.rotate_key('ver2') AS ver2_key \gset
BEGIN;
UPDATE nsvault.secret_versions SET key_version = :ver2_key - 1 WHERE namespace = 'ver2';
SELECT nsvault.destroy_key_version('ver2', :ver2_key - 1);
ROLLBACK;
SELECT nsvault.destroy_key_version('ver2', :ver2_key - 1);
SELECT nsvault.get_secret('ver2', 'k', 1), nsvault.get_secret('ver2', 'k');

-- who may do what: reading any version needs read, every change write,
-- set_max_versions admin
CREATE ROLE regress_ver_reader;
CREATE ROLE regress_ver_writer;
SELECT nsvault.grant_namespace('ver', 'regress_ver_reader', 'read');
SELECT nsvault.grant_namespace('ver', 'regress_ver_writer', 'write');
SELECT clock_timestamp() AS before_reader_reads \gset
SET ROLE regress_ver_reader;
SELECT nsvault.get_secret('ver', 'many', 15);
SELECT count(*) FROM nsvault.list_secret_versions('ver', 'many');
SELECT current_version FROM nsvault.get_secret_metadata('ver', 'many');
SELECT nsvault.set_secret('ver', 'many', 'x');
SELECT nsvault.delete_secret('ver', 'many');
SELECT nsvault.undelete_secret('ver', 'many', 15);
SELECT nsvault.rollback_secret('ver', 'many', 15);
SELECT nsvault.destroy_secret_versions('ver', 'many', ARRAY[15]);
SELECT nsvault.purge_secret('ver', 'many');
SELECT nsvault.set_secret_metadata('ver', 'many', description => 'x');
SELECT nsvault.set_max_versions('ver', 5);
RESET ROLE;
SET ROLE regress_ver_writer;
SELECT nsvault.rollback_secret('ver', 'many', 15);
SELECT nsvault.set_secret_metadata('ver', 'many', description => 'written by a writer');
SELECT nsvault.destroy_secret_versions('ver', 'many', ARRAY[15]);
SELECT nsvault.set_max_versions('ver', 5);
RESET ROLE;
SET ROLE regress_ver_reader;
SELECT nsvault.get_secret('ver', 'many', 15);
RESET ROLE;

-- the audit trail names the versions: reads (from the queue) and changes
-- (a read reaches the trail when the writer gets to it: not in id order
-- with the changes)
SELECT regress_await_reads('ver', 1, :'before_reader_reads');
SELECT role_name, action, detail FROM nsvault.audit_events
 WHERE namespace = 'ver' AND secret_name = 'many' AND role_name LIKE 'regress_ver_%'
 ORDER BY role_name, id;
SELECT action, detail FROM nsvault.audit_events
 WHERE namespace = 'ver' AND secret_name = 'api' AND action <> 'read' ORDER BY id LIMIT 12;

SELECT nsvault.delete_namespace('ver');
SELECT count(*) AS left_behind FROM nsvault.secret_versions WHERE namespace = 'ver';
SELECT count(*) AS settings_left FROM nsvault.namespace_settings WHERE namespace = 'ver';
SELECT nsvault.delete_namespace('ver2');
DROP OWNED BY regress_ver_reader, regress_ver_writer;
DROP ROLE regress_ver_reader, regress_ver_writer;
