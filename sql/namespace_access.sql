--
-- namespace_access: read, write and admin per namespace; grants, revokes,
-- the audit trail, key rotation, namespace deletion and harden_role
--
\set SHOW_CONTEXT never
CREATE ROLE regress_ops_admin LOGIN;
CREATE ROLE regress_ops_writer LOGIN;
CREATE ROLE regress_ops_reader LOGIN;
CREATE ROLE regress_ops_group NOLOGIN;
CREATE ROLE regress_ops_member LOGIN IN ROLE regress_ops_group;
CREATE ROLE regress_outsider LOGIN;

SELECT nsvault.set_secret('ops', 'db/password', 'ops-value');
SELECT nsvault.set_secret('dev', 'db/password', 'dev-value');
SELECT nsvault.grant_namespace('ops', 'regress_ops_admin', 'admin');

-- an admin grants; the grant brings the EXECUTE rights with it
SET ROLE regress_ops_admin;
SELECT nsvault.grant_namespace('ops', 'regress_ops_writer', 'write');
SELECT nsvault.grant_namespace('ops', 'regress_ops_reader', 'read');
SELECT nsvault.grant_namespace('ops', 'regress_ops_group', 'read');
SELECT regress_error($$SELECT nsvault.grant_namespace('dev', 'regress_ops_admin', 'admin')$$);
SELECT regress_error($$SELECT nsvault.grant_namespace('ops', 'regress_ops_reader', 'owner')$$);
SELECT regress_error($$SELECT nsvault.grant_namespace('ops', NULL, 'read')$$);
RESET ROLE;
SELECT namespace, grantee, level FROM nsvault.grants ORDER BY namespace COLLATE "C", grantee::text COLLATE "C";
SELECT has_function_privilege('regress_ops_reader', 'nsvault.get_secret(text, text)', 'EXECUTE') AS reader_get,
	   has_function_privilege('regress_ops_reader', 'nsvault.set_secret(text, text, text, boolean, integer)', 'EXECUTE') AS reader_set,
	   has_function_privilege('regress_ops_writer', 'nsvault.set_secret(text, text, text, boolean, integer)', 'EXECUTE') AS writer_set,
	   has_function_privilege('regress_ops_writer', 'nsvault.rotate_key(text)', 'EXECUTE') AS writer_rotate,
	   has_function_privilege('regress_ops_admin', 'nsvault.rotate_key(text)', 'EXECUTE') AS admin_rotate,
	   has_table_privilege('regress_ops_admin', 'nsvault.audit_log', 'SELECT') AS admin_audit,
	   has_table_privilege('regress_ops_writer', 'nsvault.audit_log', 'SELECT') AS writer_audit;

-- read: get, list, docker_config; never write, never another namespace
SET ROLE regress_ops_reader;
SELECT nsvault.get_secret('ops', 'db/password');
SELECT nsvault.get_secrets('ops', ARRAY['db/password']);
SELECT name FROM nsvault.list_secrets('ops');
SELECT nsvault.docker_config('ops');
SELECT regress_error($$SELECT nsvault.set_secret('ops', 'x', 'y')$$);
SELECT regress_error($$SELECT nsvault.delete_secret('ops', 'db/password')$$);
SELECT regress_error($$SELECT nsvault.get_secret('dev', 'db/password')$$);
SELECT regress_error($$SELECT nsvault.list_secrets('dev')$$);
SELECT regress_error($$SELECT nsvault.rotate_key('ops')$$);
SELECT nsvault.has_namespace_privilege('ops', 'read') AS read_ops,
	   nsvault.has_namespace_privilege('ops', 'write') AS write_ops,
	   nsvault.has_namespace_privilege('dev', 'read') AS read_dev;
RESET ROLE;

-- through a group role
SET ROLE regress_ops_member;
SELECT nsvault.get_secret('ops', 'db/password');
RESET ROLE;

-- write: read plus set and delete, of secrets and registries
SET ROLE regress_ops_writer;
SELECT nsvault.set_secret('ops', 'api/token', 'written');
SELECT nsvault.set_registry('ops', 'quay.io', 'robot:tok');
SELECT nsvault.delete_registry('ops', 'quay.io');
SELECT nsvault.delete_secret('ops', 'api/token');
SELECT regress_error($$SELECT nsvault.grant_namespace('ops', 'regress_outsider', 'read')$$);
SELECT regress_error($$SELECT nsvault.set_global_registry('ghcr.io', 'a:b')$$);
SELECT regress_error($$SELECT * FROM nsvault.audit_log$$);
RESET ROLE;

-- a role granted nothing reaches nothing
SET ROLE regress_outsider;
SELECT regress_error($$SELECT nsvault.get_secret('ops', 'db/password')$$);
RESET ROLE;

-- revoking write from an admin leaves read; revoking read leaves nothing
SELECT nsvault.grant_namespace('dev', 'regress_ops_writer', 'admin');
SELECT nsvault.revoke_namespace('dev', 'regress_ops_writer', 'write');
SELECT level FROM nsvault.grants WHERE namespace = 'dev' AND grantee = 'regress_ops_writer'::regrole;
SELECT nsvault.revoke_namespace('dev', 'regress_ops_writer', 'read');
SELECT nsvault.revoke_namespace('dev', 'regress_ops_writer', 'read');
SELECT count(*) FROM nsvault.grants WHERE namespace = 'dev' AND grantee = 'regress_ops_writer'::regrole;

-- global registries need their own right, on "@global"
SELECT nsvault.grant_namespace('@global', 'regress_ops_admin', 'admin');
SET ROLE regress_ops_admin;
SELECT nsvault.set_global_registry('https://mirror.example', 'pub:lic');
SELECT scope, url FROM nsvault.list_global_registries();
SELECT nsvault.delete_global_registry('https://mirror.example');
RESET ROLE;

-- the audit trail: every read, write, delete and grant, never a value;
-- each admin sees its own namespaces
SELECT regress_await_reads('ops', 3);
SET ROLE regress_ops_admin;
SELECT CASE WHEN role_name::text LIKE 'regress%' THEN role_name::text ELSE '(superuser)' END AS role,
	   namespace, secret_name, action, detail
  FROM nsvault.audit_log
 WHERE namespace IN ('ops', 'dev') OR role_name = 'regress_ops_admin' ORDER BY at, id;
RESET ROLE;
SELECT count(*) AS rows_with_a_value FROM nsvault.audit_events
 WHERE concat_ws(' ', secret_name, detail) ~ '(ops-value|dev-value|written|quay-token|robot:)';

-- nothing is recorded when the audit is off, or for an action that failed
SET nsvault.audit = off;
SELECT nsvault.get_secret('dev', 'db/password');
RESET nsvault.audit;
SELECT regress_error($$SELECT nsvault.get_secret('dev', 'missing')$$);

-- in a read-only transaction a read still works, and is recorded: the only
-- read of "dev" in the trail (events reach it in the order of the reads)
BEGIN READ ONLY;
SELECT nsvault.get_secret('dev', 'db/password');
COMMIT;
SELECT regress_await_reads('dev', 1);
SELECT count(*) AS dev_reads FROM nsvault.audit_events WHERE namespace = 'dev' AND action = 'read';

-- rotation: a new version, everything re-sealed under it and still readable
SELECT nsvault.set_registry('ops', 'quay.io', 'robot:quay-token');
SELECT key_version, count(*) FROM nsvault.secrets WHERE namespace = 'ops' GROUP BY 1;
SELECT ciphertext AS before_rotation FROM nsvault.secrets
 WHERE namespace = 'ops' AND name = 'db/password' \gset
SET ROLE regress_ops_admin;
SELECT nsvault.rotate_key('ops') AS new_version;
RESET ROLE;
SELECT key_version, count(*) FROM nsvault.secrets WHERE namespace = 'ops' GROUP BY 1;
SELECT key_version FROM nsvault.registries WHERE namespace = 'ops';
SELECT ciphertext <> :'before_rotation'::bytea AS resealed FROM nsvault.secrets
 WHERE namespace = 'ops' AND name = 'db/password';
SELECT nsvault.get_secret('ops', 'db/password');
SELECT nsvault.docker_config('ops', 'quay.io/x') #>> '{auths,quay.io,password}' AS token;
SELECT nsvault.set_secret('ops', 'after', 'rotation');
SELECT key_version FROM nsvault.secrets WHERE namespace = 'ops' AND name = 'after';
-- a damaged value stops a rotation, which then changes nothing
UPDATE nsvault.global_registries SET token = set_byte(token, 30, get_byte(token, 30) # 4)
 WHERE scope = 'global-private' AND registry = 'mirror.example';
SELECT regress_error($$SELECT nsvault.rotate_key('@global')$$);
DELETE FROM nsvault.global_registries WHERE registry = 'mirror.example';
SELECT nsvault.rotate_key('@global') > 1 AS global_rotated;

-- an old version can go once nothing is sealed under it; the active one cannot
SET ROLE regress_ops_admin;
SELECT regress_error($$SELECT nsvault.destroy_key_version('ops', 2)$$);
SELECT nsvault.destroy_key_version('ops', 1);
RESET ROLE;
SELECT regress_await_destructions();
\set main_db :DBNAME
\c nsvault_regress_keys
SELECT version, key IS NULL AS destroyed FROM nsvault_keys.keys WHERE namespace = 'ops' ORDER BY version;
\c :main_db
\set SHOW_CONTEXT never
SET nsvault.key_cache_seconds = 0;
SELECT nsvault.get_secret('ops', 'db/password') AS readable_after_destroying_v1;

-- deleting a namespace shreds it: a copy of its ciphertext can no longer be read
CREATE TABLE regress_ops_backup AS SELECT * FROM nsvault.secrets WHERE namespace = 'ops';
SET ROLE regress_ops_admin;
SELECT nsvault.delete_namespace('ops');
RESET ROLE;
SELECT regress_await_destructions();
SELECT count(*) AS secrets, (SELECT count(*) FROM nsvault.registries WHERE namespace = 'ops') AS registries,
	   (SELECT count(*) FROM nsvault.grants WHERE namespace = 'ops') AS grants
  FROM nsvault.secrets WHERE namespace = 'ops';
INSERT INTO nsvault.secrets SELECT * FROM regress_ops_backup;
SELECT split_part(regress_error($$SELECT nsvault.get_secret('ops', 'db/password')$$), ' | ', 1) AS restored_copy;
SELECT regress_error($$SELECT nsvault.get_secret('ops', 'db/password')$$) LIKE '%was destroyed%' AS key_is_gone;
DELETE FROM nsvault.secrets WHERE namespace = 'ops';
SELECT action FROM nsvault.audit_events WHERE namespace = 'ops' ORDER BY at DESC, id DESC LIMIT 1;

-- harden_role: the settings that keep bind parameters out of the log
SELECT nsvault.harden_role('regress_ops_writer');
SELECT setting FROM pg_db_role_setting, unnest(setconfig) AS setting
 WHERE setrole = 'regress_ops_writer'::regrole ORDER BY setting COLLATE "C";
SET ROLE regress_ops_admin;
SELECT regress_error($$SELECT nsvault.harden_role('regress_ops_writer')$$);
RESET ROLE;

-- each backend caches privileges: a grant or revoke made in one session,
-- or a change of role membership, is seen by the next call of another
CREATE ROLE regress_cache_role LOGIN;
CREATE ROLE regress_cache_group NOLOGIN;
SELECT nsvault.set_secret('cachens', 'x', 'cached');
SELECT nsvault.grant_namespace('cachens', 'regress_cache_role', 'read');
SELECT nsvault.grant_namespace('cachens', 'regress_cache_group', 'write');
-- write on another namespace: EXECUTE on set_secret, but no write on cachens
SELECT nsvault.grant_namespace('elsewhere', 'regress_cache_role', 'write');
DO $$
BEGIN
	PERFORM dblink_connect('regress_other',
		format('host=%s port=%s dbname=%s user=regress_cache_role',
			   split_part(current_setting('unix_socket_directories'), ',', 1),
			   current_setting('port'), current_database()));
END
$$;
SELECT v FROM dblink('regress_other', $$SELECT nsvault.get_secret('cachens', 'x')$$) AS t(v text);
SELECT nsvault.revoke_namespace('cachens', 'regress_cache_role', 'read');
SELECT regress_error($q$SELECT * FROM dblink('regress_other', $$SELECT nsvault.get_secret('cachens', 'x')$$) AS t(v text)$q$) AS after_revoke;
SELECT nsvault.grant_namespace('cachens', 'regress_cache_role', 'read');
SELECT v FROM dblink('regress_other', $$SELECT nsvault.get_secret('cachens', 'x')$$) AS t(v text);
SELECT regress_error($q$SELECT * FROM dblink('regress_other', $$SELECT nsvault.set_secret('cachens', 'y', 'z')::text$$) AS t(v text)$q$) AS write_before_membership;
GRANT regress_cache_group TO regress_cache_role;
SELECT v FROM dblink('regress_other', $$SELECT nsvault.set_secret('cachens', 'y', 'z')::text$$) AS t(v text);
REVOKE regress_cache_group FROM regress_cache_role;
SELECT regress_error($q$SELECT * FROM dblink('regress_other', $$SELECT nsvault.set_secret('cachens', 'y', 'z')::text$$) AS t(v text)$q$) AS write_after_membership;
SELECT dblink_disconnect('regress_other');

-- a role dropped from another database, once its EXECUTE rights were
-- revoked by hand: no hook in this database saw the drop, so its grant
-- stays as a bare number until the next grant change here removes it
CREATE ROLE regress_erin;
SELECT nsvault.grant_namespace('cachens', 'regress_erin', 'read');
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA nsvault FROM regress_erin;
REVOKE USAGE ON SCHEMA nsvault FROM regress_erin;
SELECT 'regress_erin'::regrole::oid AS erin_oid, current_database() AS regress_db \gset
\c postgres
DROP ROLE regress_erin;
\c :regress_db
SELECT count(*) AS orphaned_grants FROM nsvault.grants
 WHERE grantee::oid NOT IN (SELECT oid FROM pg_roles);
-- a dump leaves it out: pg_dump writes the rows its dump condition selects
SELECT extcondition[array_position(extconfig, 'nsvault.grants'::regclass::oid)] AS grants_condition
  FROM pg_extension WHERE extname = 'nsvault' \gset
SELECT count(*) AS dumped_orphans FROM nsvault.grants :grants_condition AND grantee::oid = :erin_oid;
SELECT nsvault.revoke_namespace('cachens', 'regress_cache_role', 'write');
SELECT count(*) AS orphaned_grants FROM nsvault.grants
 WHERE grantee::oid NOT IN (SELECT oid FROM pg_roles);
SELECT namespace, action, detail = format('all from role %s, which no longer exists', :erin_oid) AS names_the_number
  FROM nsvault.audit_events WHERE detail LIKE 'all from role %' ORDER BY id DESC LIMIT 1;
