/* nsvault--0.1--0.2.sql — authorize the calling role, audit reads outside the reader's transaction */

\echo Use "ALTER EXTENSION nsvault UPDATE TO '0.2'" to load this file. \quit

/*
 * The C functions authorize the role that is current when they are called
 * (current_user), so they must not change it on the way in: SECURITY
 * INVOKER.  They act as the extension's owner themselves, only around the
 * access to nsvault's tables and to the key link.  search_path stays fixed.
 */
ALTER FUNCTION nsvault.set_secret(text, text, text, boolean) SECURITY INVOKER;
ALTER FUNCTION nsvault.get_secret(text, text) SECURITY INVOKER;
ALTER FUNCTION nsvault.get_secrets(text, text[]) SECURITY INVOKER;
ALTER FUNCTION nsvault.list_secrets(text) SECURITY INVOKER;
ALTER FUNCTION nsvault.delete_secret(text, text) SECURITY INVOKER;
ALTER FUNCTION nsvault.set_registry(text, text, text) SECURITY INVOKER;
ALTER FUNCTION nsvault.set_global_registry(text, text, boolean) SECURITY INVOKER;
ALTER FUNCTION nsvault.list_registries(text) SECURITY INVOKER;
ALTER FUNCTION nsvault.list_global_registries() SECURITY INVOKER;
ALTER FUNCTION nsvault.delete_registry(text, text) SECURITY INVOKER;
ALTER FUNCTION nsvault.delete_global_registry(text, boolean) SECURITY INVOKER;
ALTER FUNCTION nsvault.docker_config(text, text, boolean) SECURITY INVOKER;
ALTER FUNCTION nsvault.has_namespace_privilege(text, text) SECURITY INVOKER;
ALTER FUNCTION nsvault.grant_namespace(text, regrole, text) SECURITY INVOKER;
ALTER FUNCTION nsvault.revoke_namespace(text, regrole, text) SECURITY INVOKER;
ALTER FUNCTION nsvault.rotate_key(text) SECURITY INVOKER;
ALTER FUNCTION nsvault.delete_namespace(text) SECURITY INVOKER;

/*
 * The audit trail names the role authorized (role_name) and, where it is
 * another, the session's role (SET ROLE's) that the call came from.
 */
ALTER TABLE nsvault.audit_events ADD COLUMN session_role name;

CREATE OR REPLACE VIEW nsvault.audit_log WITH (security_barrier) AS
	SELECT e.id, e.at, e.role_name, e.namespace, e.secret_name, e.action, e.detail,
		   e.session_role
	  FROM nsvault.audit_events e
	 WHERE nsvault.has_namespace_privilege(e.namespace, 'admin');

/*
 * A grant goes with its role: DROP ROLE and DROP OWNED remove it from now
 * on.  Grants left behind by roles dropped before are removed here, and a
 * dump never writes a grant whose role does not exist (it would write the
 * number, which a restore could give to another role).
 */
DELETE FROM nsvault.grants g
 WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_roles r
				   WHERE r.oid OPERATOR(pg_catalog.=) g.grantee::pg_catalog.oid);
SELECT pg_catalog.pg_extension_config_dump('nsvault.grants',
	'WHERE EXISTS (SELECT FROM pg_catalog.pg_roles r'
	' WHERE r.oid OPERATOR(pg_catalog.=) grantee::pg_catalog.oid)');
