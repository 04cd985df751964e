/* nsvault--0.7--0.8.sql — a namespace's admins see only its present tenant's audit trail */

\echo Use "ALTER EXTENSION nsvault UPDATE TO '0.8'" to load this file. \quit

/*
 * delete_namespace keeps the namespace's events, and a namespace of the
 * same name may be made again, by others.  Its deletions, found through a
 * partial index that holds only them, mark where its present tenant's
 * trail begins.
 */
CREATE INDEX audit_events_namespace_deletions ON nsvault.audit_events (namespace, at)
	WHERE action = 'delete_namespace';

/*
 * Each admin sees the events of the namespaces it administers that come
 * after the namespace's last deletion; a superuser sees them all.
 */
CREATE OR REPLACE VIEW nsvault.audit_log WITH (security_barrier) AS
	SELECT e.id, e.at, e.role_name, e.namespace, e.secret_name, e.action, e.detail,
		   e.session_role
	  FROM nsvault.audit_events e
	  LEFT JOIN (SELECT d.namespace, pg_catalog.max(d.at) AS deleted_at
				   FROM nsvault.audit_events d
				  WHERE d.action = 'delete_namespace'
				  GROUP BY d.namespace) last_deletion
		ON last_deletion.namespace = e.namespace
	 WHERE nsvault.has_namespace_privilege(e.namespace, 'admin')
	   AND (last_deletion.deleted_at IS NULL OR e.at > last_deletion.deleted_at
			OR (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = CURRENT_USER));
