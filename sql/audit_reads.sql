--
-- audit_reads: every value handed out is in the trail within a second,
-- whatever the reader's transaction does next; changes are recorded in the
-- transaction that makes them, so one that rolls back leaves no row
--
\set SHOW_CONTEXT never
SELECT clock_timestamp() AS t0 \gset
CREATE ROLE regress_audit_reader LOGIN;
SELECT nsvault.set_secret('auditr', 'a', 'value a');
SELECT nsvault.set_secret('auditr', 'b', 'value b');
SELECT nsvault.grant_namespace('auditr', 'regress_audit_reader', 'read');
CREATE TABLE regress_zero AS SELECT 0 AS z;
GRANT SELECT ON regress_zero TO regress_audit_reader;

SET ROLE regress_audit_reader;
-- a read in a transaction that rolls back
BEGIN;
SELECT nsvault.get_secret('auditr', 'a');
ROLLBACK;
RESET ROLE;
SELECT regress_await_reads('auditr', 1);

-- reads rolled back to a savepoint
SET ROLE regress_audit_reader;
BEGIN;
SAVEPOINT s;
SELECT nsvault.get_secrets('auditr', ARRAY['a', 'b']);
ROLLBACK TO s;
COMMIT;
RESET ROLE;
SELECT regress_await_reads('auditr', 3);

-- a DO block that shows the value, then fails
SET ROLE regress_audit_reader;
DO $$
BEGIN
	RAISE NOTICE 'got %', nsvault.get_secret('auditr', 'a');
	RAISE EXCEPTION 'and fails';
END
$$;
RESET ROLE;
SELECT regress_await_reads('auditr', 4);

-- a statement that fails after the read
SET ROLE regress_audit_reader;
SELECT nsvault.get_secret('auditr', 'b'), 1 / z FROM regress_zero;
RESET ROLE;
SELECT regress_await_reads('auditr', 5);

-- a read-only transaction
SET ROLE regress_audit_reader;
BEGIN READ ONLY;
SELECT nsvault.get_secret('auditr', 'a');
COMMIT;
RESET ROLE;
SELECT regress_await_reads('auditr', 6);

-- a failed read, a refused read and an unaudited read leave nothing
SET ROLE regress_audit_reader;
SELECT regress_error($$SELECT nsvault.get_secret('auditr', 'missing')$$);
SELECT regress_error($$SELECT nsvault.get_secret('other', 'a')$$);
RESET ROLE;
SET nsvault.audit = off;
SELECT nsvault.get_secret('auditr', 'a');
RESET nsvault.audit;

-- a change that rolls back leaves no row; one that commits does
BEGIN;
SELECT nsvault.set_secret('auditr', 'c', 'rolled back');
ROLLBACK;
SELECT nsvault.set_secret('auditr', 'd', 'kept');

-- docker_config: a namespace's token under the namespace, global ones
-- under "@global", whose admins own them, with their scope
SELECT nsvault.set_registry('auditr', 'https://registry.auditr.example', 'ns-user:ns-token');
SELECT nsvault.set_global_registry('https://global.example', 'g-user:g-token');
SELECT nsvault.set_global_registry('https://private.example', 'p-user:p-token', true);
SET ROLE regress_audit_reader;
SELECT jsonb_object_keys(nsvault.docker_config('auditr') -> 'auths') AS handed_out ORDER BY 1;
RESET ROLE;
SELECT jsonb_object_keys(nsvault.docker_config(NULL, NULL, true) -> 'auths') AS handed_out ORDER BY 1;
SELECT regress_await_reads('auditr', 7), regress_await_reads('@global', 4, :'t0');
SELECT role_name, session_role, namespace, secret_name, action, detail
  FROM nsvault.audit_events WHERE namespace IN ('auditr', '@global') AND at >= :'t0'
 ORDER BY at, id;

-- an admin of "@global" sees who read its tokens
CREATE ROLE regress_global_admin;
SELECT nsvault.grant_namespace('@global', 'regress_global_admin', 'admin');
SET ROLE regress_global_admin;
SELECT namespace, secret_name, detail FROM nsvault.audit_log
 WHERE action = 'registry_read' AND at >= :'t0' ORDER BY at, id;
RESET ROLE;

-- reads (through the writer) and changes go into the table directly,
-- unless a site has put a trigger or a column of its own on it: then an
-- INSERT, which fires the trigger and fills the column's default
CREATE TABLE regress_trail_copy (secret_name text, action text);
CREATE FUNCTION regress_copy_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO public.regress_trail_copy VALUES (NEW.secret_name, NEW.action);
	RETURN NEW;
END
$$;
CREATE TRIGGER regress_copy AFTER INSERT ON nsvault.audit_events
	FOR EACH ROW EXECUTE FUNCTION regress_copy_event();
SET ROLE regress_audit_reader;
SELECT nsvault.get_secret('auditr', 'b');
RESET ROLE;
SELECT nsvault.set_secret('auditr', 'e', 'value e');
SELECT regress_await_reads('auditr', 8);
SELECT * FROM regress_trail_copy ORDER BY action;
DROP TRIGGER regress_copy ON nsvault.audit_events;
ALTER TABLE nsvault.audit_events ADD COLUMN regress_site text DEFAULT 'site default';
SET ROLE regress_audit_reader;
SELECT nsvault.get_secret('auditr', 'a');
RESET ROLE;
SELECT nsvault.set_secret('auditr', 'e', 'value e again');
SELECT regress_await_reads('auditr', 9);
SELECT DISTINCT ON (action) action, secret_name, regress_site FROM nsvault.audit_events
 WHERE namespace = 'auditr' AND action IN ('read', 'write') ORDER BY action, id DESC;
ALTER TABLE nsvault.audit_events DROP COLUMN regress_site;
-- and directly again, the dropped column left as it is
SET ROLE regress_audit_reader;
SELECT nsvault.get_secret('auditr', 'b');
RESET ROLE;
SELECT regress_await_reads('auditr', 10);
SELECT nsvault.set_secret('auditr', 'e', 'value e directly');
SELECT DISTINCT ON (action) action, role_name, session_role, secret_name, detail
  FROM nsvault.audit_events
 WHERE namespace = 'auditr' AND action IN ('read', 'write') ORDER BY action, id DESC;
DROP TABLE regress_trail_copy;
DROP FUNCTION regress_copy_event();

SELECT nsvault.delete_global_registry('https://global.example');
SELECT nsvault.delete_global_registry('https://private.example', true);
SELECT nsvault.delete_namespace('auditr');
DROP TABLE regress_zero;

-- a namespace deleted and made again: its new admins see only what came
-- after the deletion, never the previous tenant's trail; a superuser sees all
CREATE ROLE regress_tenant_old;
CREATE ROLE regress_tenant_new;
SELECT nsvault.grant_namespace('tenancy', 'regress_tenant_old', 'admin');
SET ROLE regress_tenant_old;
SELECT nsvault.set_secret('tenancy', 'old/token', 'the old tenant''s token');
SELECT nsvault.get_secret('tenancy', 'old/token');
SELECT action, secret_name FROM nsvault.audit_log WHERE namespace = 'tenancy' ORDER BY at, action;
RESET ROLE;
SELECT regress_await_reads('tenancy', 1);
SELECT nsvault.delete_namespace('tenancy');
SELECT nsvault.grant_namespace('tenancy', 'regress_tenant_new', 'admin');
SET ROLE regress_tenant_new;
SELECT nsvault.set_secret('tenancy', 'new/token', 'the new tenant''s token');
SELECT nsvault.get_secret('tenancy', 'new/token');
RESET ROLE;
SELECT regress_await_reads('tenancy', 2);
SET ROLE regress_tenant_new;
SELECT action, secret_name, detail FROM nsvault.audit_log WHERE namespace = 'tenancy' ORDER BY at, action;
RESET ROLE;
SELECT action, secret_name FROM nsvault.audit_log WHERE namespace = 'tenancy' ORDER BY at, action;
SELECT nsvault.delete_namespace('tenancy');
-- the deletions are in their index, which the audit writer's direct inserts fill too
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM nsvault.audit_events
 WHERE action = 'delete_namespace' AND namespace = 'tenancy';
SELECT count(*) AS deletions FROM nsvault.audit_events
 WHERE action = 'delete_namespace' AND namespace = 'tenancy';
RESET enable_seqscan;
RESET enable_bitmapscan;
DROP OWNED BY regress_tenant_old, regress_tenant_new;
DROP ROLE regress_tenant_old, regress_tenant_new;
