--
-- caller: nsvault authorizes the role that calls it (current_user), never
-- the session role.  A SECURITY DEFINER function authorizes its owner, and
-- a table's maintenance (ANALYZE, CREATE INDEX, REINDEX, REFRESH
-- MATERIALIZED VIEW) authorizes the table's owner: code that one role owns
-- never runs with another role's nsvault rights.
--
\set SHOW_CONTEXT never
SELECT clock_timestamp() AS t0 \gset
CREATE ROLE regress_low LOGIN;
CREATE ROLE regress_high LOGIN;
SELECT nsvault.set_secret('lowns', 'mine', 'low value');
SELECT nsvault.set_secret('highns', 'token', 'high value');
SELECT nsvault.grant_namespace('lowns', 'regress_low', 'admin');
SELECT nsvault.grant_namespace('highns', 'regress_high', 'admin');
CREATE SCHEMA regress_low_schema AUTHORIZATION regress_low;
GRANT USAGE ON SCHEMA regress_low_schema TO regress_high;

-- the low role's code: definer functions that read, or grant, for whoever calls them
SET ROLE regress_low;
CREATE TABLE regress_low_schema.loot (v text);
CREATE FUNCTION regress_low_schema.steal() RETURNS void LANGUAGE sql SECURITY DEFINER
	AS $$ INSERT INTO regress_low_schema.loot SELECT nsvault.get_secret('highns', 'token') $$;
CREATE FUNCTION regress_low_schema.escalate() RETURNS void LANGUAGE sql SECURITY DEFINER
	AS $$ SELECT nsvault.grant_namespace('highns', 'regress_low', 'admin') $$;
CREATE FUNCTION regress_low_schema.own() RETURNS text LANGUAGE sql SECURITY DEFINER
	AS $$ SELECT nsvault.get_secret('lowns', 'mine') $$;
RESET ROLE;

-- called by the high role, or by a superuser, they run as their owner
SET ROLE regress_high;
SELECT nsvault.get_secret('highns', 'token');
SELECT regress_error($$SELECT regress_low_schema.steal()$$);
SELECT regress_error($$SELECT regress_low_schema.escalate()$$);
SELECT regress_low_schema.own();
RESET ROLE;
SELECT regress_error($$SELECT regress_low_schema.steal()$$);
SELECT count(*) AS stolen FROM regress_low_schema.loot;
SELECT count(*) AS low_grants_on_highns FROM nsvault.grants
 WHERE namespace = 'highns' AND grantee = 'regress_low'::regrole;
SELECT nsvault.has_namespace_privilege('highns', 'read') AS superuser_reads_highns;

-- the trail names the role authorized, and the session's role where it differs
SELECT regress_await_reads('lowns', 1, :'t0'), regress_await_reads('highns', 1, :'t0');
SELECT role_name, session_role, namespace, secret_name FROM nsvault.audit_events
 WHERE action = 'read' AND at >= :'t0' ORDER BY at, id;

-- an index expression or a materialized view of the low role's, armed only
-- once someone else maintains the table
SET ROLE regress_low;
CREATE FUNCTION regress_low_schema.peek(t text) RETURNS text LANGUAGE sql IMMUTABLE
	AS $$ SELECT CASE WHEN current_setting('regress.armed', true) = 'on'
					  THEN nsvault.get_secret('highns', 'token') || t ELSE t END $$;
CREATE TABLE regress_low_schema.t (x text);
INSERT INTO regress_low_schema.t SELECT 'row ' || i FROM generate_series(1, 20) i;
CREATE INDEX t_peek ON regress_low_schema.t (regress_low_schema.peek(x));
CREATE MATERIALIZED VIEW regress_low_schema.mv AS
	SELECT regress_low_schema.peek('v') AS v WITH NO DATA;
RESET ROLE;
SET regress.armed = on;
SELECT regress_error($$ANALYZE regress_low_schema.t$$);
SELECT regress_error($$REINDEX TABLE regress_low_schema.t$$);
SELECT regress_error($$CREATE INDEX ON regress_low_schema.t (regress_low_schema.peek(x || '!'))$$);
SELECT regress_error($$REFRESH MATERIALIZED VIEW regress_low_schema.mv$$);
SELECT regress_error($$CLUSTER regress_low_schema.t USING t_peek$$);
RESET regress.armed;
SELECT count(*) AS statistics FROM pg_stats WHERE schemaname = 'regress_low_schema';
SELECT relispopulated FROM pg_class WHERE oid = 'regress_low_schema.mv'::regclass;

-- the owner's own rights hold there: an index expression that reads the low
-- role's namespace is analyzed, with the key fetched over the key link
-- inside the maintenance, and each read is recorded as the low role's
SET ROLE regress_low;
CREATE FUNCTION regress_low_schema.own_peek(t text) RETURNS text LANGUAGE sql IMMUTABLE
	AS $$ SELECT CASE WHEN current_setting('regress.armed', true) = 'on'
					  THEN length(nsvault.get_secret('lowns', 'mine')) || t ELSE t END $$;
CREATE TABLE regress_low_schema.u (x text);
INSERT INTO regress_low_schema.u SELECT 'row ' || i FROM generate_series(1, 5) i;
CREATE INDEX ON regress_low_schema.u (regress_low_schema.own_peek(x));
RESET ROLE;
SET regress.armed = on;
SET nsvault.key_cache_seconds = 0;
ANALYZE regress_low_schema.u;
RESET nsvault.key_cache_seconds;
RESET regress.armed;
SELECT regress_await_reads('lowns', 6, :'t0');
SELECT role_name, session_role IS NOT NULL AS from_another_session_role, count(*)
  FROM nsvault.audit_events WHERE namespace = 'lowns' AND action = 'read' AND at >= :'t0'
 GROUP BY 1, 2 ORDER BY 1, 2;

-- a grant through a group counts only while the membership lasts: a
-- revoked membership takes effect at the next call
CREATE ROLE regress_high_group;
SELECT nsvault.grant_namespace('highns', 'regress_high_group', 'read');
GRANT regress_high_group TO regress_low;
SET ROLE regress_low;
SELECT nsvault.get_secret('highns', 'token');
RESET ROLE;
REVOKE regress_high_group FROM regress_low;
SET ROLE regress_low;
SELECT regress_error($$SELECT nsvault.get_secret('highns', 'token')$$);
RESET ROLE;
SELECT nsvault.revoke_namespace('highns', 'regress_high_group', 'read');
DROP OWNED BY regress_high_group;
DROP ROLE regress_high_group;

-- whoever calls directly is authorized as itself: SET ROLE is the caller
SET ROLE regress_low;
SELECT regress_error($$SELECT nsvault.get_secret('highns', 'token')$$);
RESET ROLE;

DROP SCHEMA regress_low_schema CASCADE;
SELECT nsvault.delete_namespace('lowns');
SELECT nsvault.delete_namespace('highns');

-- a role's grants go with it: DROP OWNED revokes them, DROP ROLE too
SELECT nsvault.grant_namespace('keptns', 'regress_low', 'read');
SELECT nsvault.grant_namespace('keptns', 'regress_high', 'write');
DROP OWNED BY regress_low;
DROP ROLE regress_low;
SELECT grantee, level FROM nsvault.grants WHERE namespace = 'keptns';
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA nsvault FROM regress_high;
REVOKE ALL ON SCHEMA nsvault FROM regress_high;
REVOKE ALL ON nsvault.audit_log FROM regress_high;
DROP ROLE regress_high;
SELECT count(*) AS grants_left FROM nsvault.grants WHERE namespace = 'keptns';
SELECT action, detail FROM nsvault.audit_events
 WHERE namespace = 'keptns' AND action = 'revoke' ORDER BY id;
