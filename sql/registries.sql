--
-- registries: three scopes, precedence, listing hints, docker_config
--

-- Direktiv's example: POST .../registries/namespaces/NAMESPACE
--   {"data": "admin:8QwFLg%D$qg*", "reg": "https://index.docker.io"}
SELECT nsvault.set_registry('shop', 'https://index.docker.io', 'admin:8QwFLg%D$qg*');
SELECT * FROM nsvault.docker_config('shop');
SELECT convert_from(decode(nsvault.docker_config('shop') #>> '{auths,https://index.docker.io,auth}', 'base64'), 'UTF8')
	   = 'admin:8QwFLg%D$qg*' AS auth_is_user_colon_token;

-- tokens are sealed like secrets; user names are kept in clear
SELECT scope, namespace, registry, url, user_name, key_version, get_byte(token, 0) AS format,
	   position(convert_to('8QwFLg', 'UTF8') IN token) AS token_at
  FROM nsvault.registries;

-- odd tokens round-trip exactly: colons, quotes, backslashes, %, $, newlines
SELECT nsvault.set_registry('shop', 'ghcr.io', E'bot:p:a:s:s "quoted" \\back\\ 100% $HOME\n\u00e9\u2603');
SELECT nsvault.docker_config('shop', 'ghcr.io/owner/app') #>> '{auths,ghcr.io,password}'
	   = E'p:a:s:s "quoted" \\back\\ 100% $HOME\n\u00e9\u2603' AS exact_password,
	   nsvault.docker_config('shop', 'ghcr.io/owner/app') #>> '{auths,ghcr.io,username}' AS username,
	   convert_from(decode(nsvault.docker_config('shop', 'ghcr.io/owner/app') #>> '{auths,ghcr.io,auth}', 'base64'), 'UTF8')
	   = E'bot:p:a:s:s "quoted" \\back\\ 100% $HOME\n\u00e9\u2603' AS exact_auth;

-- the same registry under another spelling replaces, and keeps the new URL
SELECT nsvault.set_registry('shop', 'https://ghcr.io/v2/', 'bot2:second');
SELECT url, user_hint, created_at <= now() AS created FROM nsvault.list_registries('shop');
SELECT nsvault.docker_config('shop', 'ghcr.io/owner/app');

-- listing hints never show the whole of a name longer than three characters
SELECT nsvault.set_registry('hints', 'a.example', 'bob:t');
SELECT nsvault.set_registry('hints', 'b.example', 'anna:t');
SELECT nsvault.set_registry('hints', 'c.example', 'admin:t');
SELECT nsvault.set_registry('hints', 'd.example', 'administrator:t');
SELECT nsvault.set_registry('hints', 'e.example', E'J\u00f6rg\u00e9n:t');
SELECT url, user_hint FROM nsvault.list_registries('hints');

-- global and global-private scopes
SELECT nsvault.set_global_registry('https://quay.io', 'global-user:global-token');
SELECT nsvault.set_global_registry('quay.io', 'private-user:private-token', private => true);
SELECT nsvault.set_global_registry('https://registry.internal:5000', 'svc:svc-token', private => true);
SELECT scope, url, user_hint FROM nsvault.list_global_registries();

-- a namespace service: its own registries and the global ones, never global-private
SELECT jsonb_object_keys(nsvault.docker_config('shop') -> 'auths') AS shop_registries;
SELECT nsvault.docker_config('shop', 'quay.io/org/app') #>> '{auths,https://quay.io,username}' AS shop_quay_user;
SELECT nsvault.docker_config('elsewhere');

-- the namespace's registry wins over a global one for the same registry
SELECT nsvault.set_registry('shop', 'quay.io/', 'shop-user:shop-token');
SELECT nsvault.docker_config('shop', 'quay.io/org/app');
SELECT nsvault.docker_config('elsewhere', 'quay.io/org/app') #>> '{auths,https://quay.io,username}' AS elsewhere_quay_user;

-- a global service: global-private and global, never a namespace's
SELECT jsonb_object_keys(nsvault.docker_config(NULL, global_service => true) -> 'auths') AS global_service_registries;
SELECT nsvault.docker_config(NULL, 'quay.io/org/app', global_service => true) #>> '{auths,quay.io,username}' AS global_service_quay_user;
SELECT nsvault.docker_config('shop', 'registry.internal:5000/svc/api') AS private_is_not_for_namespaces;
SELECT nsvault.docker_config(NULL, 'registry.internal:5000/svc/api', true) #>> '{auths,https://registry.internal:5000,username}' AS global_service_user;

-- registries take effect at once: nothing to recreate
SELECT nsvault.delete_registry('shop', 'https://quay.io');
SELECT nsvault.delete_registry('shop', 'https://quay.io');
SELECT nsvault.docker_config('shop', 'quay.io/org/app') #>> '{auths,https://quay.io,username}' AS back_to_global;
SELECT nsvault.delete_global_registry('quay.io', private => true);
SELECT nsvault.delete_global_registry('quay.io', private => true);
SELECT nsvault.docker_config(NULL, 'quay.io/org/app', global_service => true) #>> '{auths,https://quay.io,username}' AS now_global;
SELECT nsvault.delete_global_registry('https://quay.io/');
SELECT nsvault.docker_config('shop', 'quay.io/org/app') AS nothing_left;

-- invalid input: 22023 (22004 for nulls), the token never repeated
SELECT regress_error($$SELECT nsvault.set_registry('shop', '', 'u:t')$$);
SELECT regress_error($$SELECT nsvault.set_registry('shop', 'ftp://files.example', 'u:t')$$);
SELECT regress_error($$SELECT nsvault.set_registry('shop', 'https://user:pw@host.example', 'u:t')$$);
SELECT regress_error($$SELECT nsvault.set_registry('shop', 'host.example:70000', 'u:t')$$);
SELECT regress_error($$SELECT nsvault.set_registry('shop', 'host.example/Org', 'u:t')$$);
SELECT regress_error($$SELECT nsvault.set_registry('shop', 'host .example', 'u:t')$$);
SELECT regress_error($$SELECT nsvault.set_registry('shop', 'quay.io', 'no-colon-s3cr3t')$$);
SELECT regress_error($$SELECT nsvault.set_registry('shop', 'quay.io', ':s3cr3t')$$);
SELECT regress_error($$SELECT nsvault.set_registry('shop', 'quay.io', 'user:')$$);
SELECT regress_error($$SELECT nsvault.set_registry('shop', 'quay.io', 'user:' || repeat('s', 65537))$$);
SELECT regress_error($$SELECT nsvault.set_registry('shop', 'quay.io', NULL)$$);
SELECT regress_error($$SELECT nsvault.set_registry('Shop', 'quay.io', 'u:t')$$);
SELECT regress_error($$SELECT nsvault.set_global_registry(NULL, 'u:t')$$);
SELECT regress_error($$SELECT nsvault.set_global_registry('quay.io', 'u:t', NULL)$$);
SELECT regress_error($$SELECT nsvault.docker_config(NULL)$$);
SELECT regress_error($$SELECT nsvault.docker_config('shop', 'Not An Image')$$);
SELECT regress_error($$SELECT nsvault.delete_registry('shop', 'ftp://x')$$);
SELECT count(*) AS registries_of_shop FROM nsvault.list_registries('shop');

-- user names: no control characters (C0, DEL, C1) and no bidirectional
-- overrides or isolates, which could make a listed name read as another;
-- the name is never repeated
SELECT regress_error($$SELECT nsvault.set_registry('names', 'tab.example', E'ro\tbot:s3cr3t')$$);
SELECT regress_error($$SELECT nsvault.set_registry('names', 'del.example', E'ro\u007fbot:s3cr3t')$$);
SELECT regress_error($$SELECT nsvault.set_registry('names', 'nel.example', E'ro\u0085bot:s3cr3t')$$);
SELECT regress_error($$SELECT nsvault.set_registry('names', 'c1.example', E'ro\u009fbot:s3cr3t')$$);
SELECT regress_error($$SELECT nsvault.set_registry('names', 'rlo.example', E'ro\u202ebot:s3cr3t')$$);
SELECT regress_error($$SELECT nsvault.set_registry('names', 'lre.example', E'ro\u202abot:s3cr3t')$$);
SELECT regress_error($$SELECT nsvault.set_global_registry('lri.example', E'ro\u2066bot:s3cr3t')$$);
SELECT regress_error($$SELECT nsvault.set_global_registry('pdi.example', E'ro\u2069bot:s3cr3t', true)$$);
SELECT count(*) AS stored FROM nsvault.registries WHERE user_name LIKE 'ro%bot';
-- the neighbours of those ranges, and other non-ASCII letters, are accepted
SELECT nsvault.set_registry('names', 'intl.example', E'J\u00f6rg\u00a0\u4e16\u2029\u2070:t');
SELECT user_name = E'J\u00f6rg\u00a0\u4e16\u2029\u2070' AS kept_exactly
  FROM nsvault.registries WHERE namespace = 'names';

-- tampering and transplanting are detected
\set SHOW_CONTEXT never
SELECT nsvault.set_global_registry('https://mirror.example', 'pub:public-token');
SELECT nsvault.set_global_registry('https://mirror.example', 'priv:private-token', true);
UPDATE nsvault.global_registries SET token = (SELECT token FROM nsvault.global_registries WHERE scope = 'global' AND registry = 'mirror.example')
 WHERE scope = 'global-private' AND registry = 'mirror.example';
SELECT nsvault.docker_config(NULL, 'mirror.example/app', true);
-- nor moved between the namespaces' table and the global one
SELECT nsvault.set_global_registry('https://mirror.example', 'priv:private-token', true);
SELECT nsvault.set_registry('shop', 'https://mirror.example', 'pub:public-token');
UPDATE nsvault.global_registries SET token = (SELECT token FROM nsvault.registries WHERE namespace = 'shop' AND registry = 'mirror.example')
 WHERE scope = 'global-private' AND registry = 'mirror.example';
SELECT nsvault.docker_config(NULL, 'mirror.example/app', true);
SELECT nsvault.delete_registry('shop', 'https://mirror.example');
UPDATE nsvault.registries SET token = set_byte(token, 30, get_byte(token, 30) # 4)
 WHERE scope = 'namespace' AND namespace = 'shop' AND registry = 'docker.io';
SELECT nsvault.docker_config('shop', 'ubuntu');
-- a token is sealed with its URL and user name: neither can be changed beside it
SELECT nsvault.set_global_registry('https://mirror.example', 'pub:public-token');
UPDATE nsvault.global_registries SET url = 'https://attacker.example'
 WHERE scope = 'global' AND registry = 'mirror.example';
SELECT nsvault.docker_config('shop', 'mirror.example/app');
SELECT nsvault.set_global_registry('https://mirror.example', 'pub:public-token');
UPDATE nsvault.global_registries SET user_name = 'attacker'
 WHERE scope = 'global' AND registry = 'mirror.example';
SELECT nsvault.docker_config('shop', 'mirror.example/app');
SELECT nsvault.set_global_registry('https://mirror.example', 'pub:public-token');
SELECT nsvault.docker_config('shop', 'mirror.example/app') #>> '{auths,https://mirror.example,username}' AS user_again;

-- global registries are found through the index, however many namespace
-- registries there are: a few heap blocks, not the table's thousands
SELECT nsvault.set_global_registry('https://mirror.example', 'priv:private-token', true);
INSERT INTO nsvault.registries (scope, namespace, registry, url, user_name, token, key_version)
SELECT 'namespace', 'bulk' || i, 'bulk.example', 'https://bulk.example', 'u', '\x00', 1
  FROM generate_series(1, 100000) i;
ANALYZE nsvault.registries;
SELECT pg_relation_size('nsvault.registries') / 8192 > 1000 AS table_has_thousands_of_blocks;
BEGIN;
SELECT pg_stat_get_xact_blocks_fetched('nsvault.registries'::regclass) AS blocks_before \gset
SELECT jsonb_object_keys(nsvault.docker_config(NULL, NULL, true) -> 'auths') AS global_service ORDER BY 1;
SELECT scope, url FROM nsvault.list_global_registries() ORDER BY 1, 2;
SELECT jsonb_object_keys(nsvault.docker_config('nobulk') -> 'auths') AS namespace_service ORDER BY 1;
SELECT pg_stat_get_xact_blocks_fetched('nsvault.registries'::regclass) - :blocks_before < 100 AS few_blocks;
COMMIT;
DELETE FROM nsvault.registries WHERE namespace LIKE 'bulk%';
