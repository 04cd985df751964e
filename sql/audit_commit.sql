--
-- audit_commit: a transaction that only read secrets does not wait for the
-- flush of its audit rows; any other write keeps the commit as configured
--
CREATE TABLE regress_audit_other (n int);
SELECT nsvault.set_secret('auditc', 'a', 'value a');
SET client_min_messages = debug1;

-- a plain read: the DEBUG line says the commit does not wait
SELECT nsvault.get_secret('auditc', 'a');
SELECT nsvault.get_secrets('auditc', ARRAY['a']);
BEGIN;
SELECT nsvault.get_secret('auditc', 'a');
SELECT nsvault.get_secret('auditc', 'a');
COMMIT;

-- writes of secrets, or of anything else before or after the read, wait
SELECT nsvault.set_secret('auditc', 'b', 'value b');
BEGIN;
INSERT INTO regress_audit_other VALUES (1);
SELECT nsvault.get_secret('auditc', 'a');
COMMIT;
BEGIN;
SELECT nsvault.get_secret('auditc', 'a');
INSERT INTO regress_audit_other VALUES (2);
COMMIT;
BEGIN;
SELECT nsvault.get_secret('auditc', 'a');
INSERT INTO regress_audit_other VALUES (3);
SELECT nsvault.get_secret('auditc', 'a');
COMMIT;
-- a rolled-back read writes nothing
BEGIN;
SELECT nsvault.get_secret('auditc', 'a');
ROLLBACK;

-- nsvault.audit_sync_reads = on keeps every commit waiting
SET nsvault.audit_sync_reads = on;
SELECT nsvault.get_secret('auditc', 'a');
RESET nsvault.audit_sync_reads;
-- and with the audit trail off there is nothing to commit
SET nsvault.audit = off;
SELECT nsvault.get_secret('auditc', 'a');
RESET nsvault.audit;
RESET client_min_messages;

-- every read above that committed is in the trail
SELECT action, count(*) FROM nsvault.audit_log WHERE namespace = 'auditc'
 GROUP BY action ORDER BY action COLLATE "C";
-- the session's own setting is untouched
SHOW synchronous_commit;
SELECT nsvault.delete_namespace('auditc');
DROP TABLE regress_audit_other;
