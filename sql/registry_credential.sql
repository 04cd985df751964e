--
-- registry_credential: the one credential docker_config would hand out for
-- an image reference, a registry URL or a registry host
--
SELECT nsvault.set_registry('cred', 'https://index.docker.io/v1/', 'hub-user:hub-token');
SELECT nsvault.set_registry('cred', 'quay.io', 'quay-user:quay-token');
SELECT nsvault.set_registry('cred', 'https://quay.io/org', 'quay-org-user:quay-org-token');
SELECT nsvault.set_registry('cred', 'localhost:5000', 'local-user:local-token');
SELECT nsvault.set_registry('cred', 'https://registry.example.com:8443/team/', 'team-user:team-token');

-- images: the very registry docker_config picks (its username shows which)
SELECT image, c.registry, c.username, c.secret,
	   c.username IS NOT DISTINCT FROM
	   (SELECT v ->> 'username' FROM jsonb_each(nsvault.docker_config('cred', image) -> 'auths') AS e(k, v))
	   AS as_docker_config
  FROM (VALUES
	('ubuntu'), ('docker.io/library/ubuntu:22.04'), ('registry-1.docker.io/someone/app'),
	('quay.io/org/app:1.0'), ('quay.io/org/team/app'), ('quay.io/other/app'), ('quay.io/organisation/app'),
	('localhost:5000/app'), ('localhost:5001/app'),
	('registry.example.com:8443/team/app'), ('registry.example.com:8443/teamwork/app'),
	('ghcr.io/owner/app')
  ) AS t(image)
  LEFT JOIN LATERAL nsvault.registry_credential('cred', image) c ON true;

-- registry URLs and bare hosts, as Docker asks its credential helpers
SELECT reference, c.registry, c.username
  FROM (VALUES
	('https://index.docker.io/v1/'), ('index.docker.io'), ('registry-1.docker.io'), ('docker.io'),
	('quay.io'), ('https://quay.io'), ('https://quay.io/org'), ('quay.io/org'), ('QUAY.IO'),
	('localhost:5000'), ('http://localhost:5000/v2/'), ('localhost'), ('localhost:5001'),
	('registry.example.com:8443'), ('https://registry.example.com:8443/team'), ('ghcr.io')
  ) AS t(reference)
  LEFT JOIN LATERAL nsvault.registry_credential('cred', reference) c ON true;

-- scopes: the namespace's own over a global one for the same registry;
-- global-private only for a global service, which sees no namespace's
SELECT nsvault.set_global_registry('quay.io', 'global-quay-user:global-quay-token');
SELECT nsvault.set_global_registry('ghcr.io', 'global-ghcr-user:global-ghcr-token');
SELECT nsvault.set_global_registry('gcr.io', 'private-gcr-user:private-gcr-token', true);
SELECT reference, global_service, c.registry, c.username, c.secret
  FROM (VALUES
	('quay.io/app', false), ('ghcr.io/owner/app', false), ('gcr.io/p/app', false),
	('quay.io/app', true), ('ghcr.io/owner/app', true), ('gcr.io/p/app', true),
	('localhost:5000/app', true)
  ) AS t(reference, global_service)
  LEFT JOIN LATERAL nsvault.registry_credential(CASE WHEN global_service THEN NULL ELSE 'cred' END,
												reference, global_service) c ON true;

-- what it hands out is audited as docker_config's reads are
SELECT clock_timestamp() AS t0 \gset
SELECT username FROM nsvault.registry_credential('cred', 'quay.io/org/app');
SELECT username FROM nsvault.registry_credential('cred', 'ghcr.io/owner/app');
SELECT username FROM nsvault.registry_credential(NULL, 'gcr.io/p/app', true);
SELECT count(*) AS nothing_handed_out FROM nsvault.registry_credential('cred', 'example.org/app');
-- a read that rolls back is a read all the same
BEGIN;
SELECT username FROM nsvault.registry_credential('cred', 'localhost:5000/app');
ROLLBACK;
SELECT regress_await_reads('cred', 2, :'t0'), regress_await_reads('@global', 2, :'t0');
SELECT namespace, secret_name, action, detail FROM nsvault.audit_events
 WHERE namespace IN ('cred', '@global') AND action = 'registry_read' AND at >= :'t0'
 ORDER BY at, id;

-- a reader of the namespace may ask; a reader of another may not
CREATE ROLE regress_cred_reader;
CREATE ROLE regress_cred_other;
SELECT nsvault.grant_namespace('cred', 'regress_cred_reader', 'read');
SELECT nsvault.grant_namespace('elsewhere', 'regress_cred_other', 'read');
SELECT has_function_privilege('regress_cred_reader', 'nsvault.registry_credential(text, text, boolean)',
							  'EXECUTE') AS reader_may_execute;
SET ROLE regress_cred_reader;
SELECT registry, username FROM nsvault.registry_credential('cred', 'localhost:5000/app');
SELECT regress_error($$SELECT * FROM nsvault.registry_credential(NULL, 'gcr.io/p/app', true)$$);
RESET ROLE;
SET ROLE regress_cred_other;
SELECT regress_error($$SELECT * FROM nsvault.registry_credential('cred', 'quay.io/app')$$);
RESET ROLE;

-- bad arguments: the reference is never echoed
SELECT regress_error($$SELECT * FROM nsvault.registry_credential('cred', NULL)$$);
SELECT regress_error($$SELECT * FROM nsvault.registry_credential(NULL, 'quay.io')$$);
SELECT regress_error($$SELECT * FROM nsvault.registry_credential('cred', 'quay.io', NULL)$$);
SELECT reference, regress_error(format('SELECT * FROM nsvault.registry_credential(%L, %L)', 'cred', reference))
  FROM (VALUES (''), ('ftp://quay.io'), ('quay.io:99999'), ('Ubuntu'), ('quay.io/Org/app'),
			   ('secret-looking token with spaces')) AS t(reference);

SELECT nsvault.delete_global_registry('quay.io');
SELECT nsvault.delete_global_registry('ghcr.io');
SELECT nsvault.delete_global_registry('gcr.io', true);
SELECT nsvault.delete_namespace('cred');
DROP OWNED BY regress_cred_reader, regress_cred_other;
DROP ROLE regress_cred_reader;
DROP ROLE regress_cred_other;
