--
-- get_secrets: many values in one call, as JSON
--
SELECT nsvault.set_secret('flow', 'secretToken', 'bearer-abc');
SELECT nsvault.set_secret('flow', 'db/user', 'admin');
SELECT nsvault.set_secret('flow', 'quoted', E'a "quote", a \\ backslash,\na newline and \u00e9');

SELECT nsvault.get_secrets('flow', ARRAY['secretToken', 'db/user']);

-- JSON escaping is done by jsonb itself: values come back exactly
SELECT nsvault.get_secrets('flow', ARRAY['quoted']) ->> 'quoted' =
	   E'a "quote", a \\ backslash,\na newline and \u00e9' AS exact;

-- a name asked for twice appears once
SELECT nsvault.get_secrets('flow', ARRAY['db/user', 'db/user']);

-- no names, no secrets
SELECT nsvault.get_secrets('flow', ARRAY[]::text[]);

-- the first missing name, in the order asked, is named
SELECT nsvault.get_secrets('flow', ARRAY['db/user', 'missing-one', 'missing-two']);
SELECT nsvault.get_secrets('other', ARRAY['secretToken']);

-- every name is validated, and nulls are refused
SELECT nsvault.get_secrets('flow', ARRAY['db/user', 'bad//name']);
SELECT nsvault.get_secrets('flow', ARRAY['db/user', NULL]);
SELECT nsvault.get_secrets('flow', NULL);
SELECT nsvault.get_secrets('flow', ARRAY[['secretToken'], ['db/user']]);

-- missing_ok (nsvault 0.5): the secrets that exist, the missing ones left out
SELECT nsvault.get_secrets('flow', ARRAY['missing-one', 'db/user', 'missing-two'], true);
SELECT nsvault.get_secrets('flow', ARRAY['missing-one'], missing_ok => true);
SELECT nsvault.get_secrets('other', ARRAY['secretToken'], true);
SELECT nsvault.get_secrets('flow', ARRAY['db/user', 'missing-one'], false);
-- names are still validated, and the flag must be given
SELECT nsvault.get_secrets('flow', ARRAY['db/user', 'bad//name'], true);
SELECT nsvault.get_secrets('flow', ARRAY['db/user'], NULL);
-- only what was read is audited
SELECT clock_timestamp() AS t_missing_ok \gset
SELECT nsvault.get_secrets('flow', ARRAY['missing-one', 'db/user'], true) ? 'db/user' AS read_one;
SELECT regress_await_reads('flow', 1, :'t_missing_ok');
SELECT secret_name, action FROM nsvault.audit_events
 WHERE namespace = 'flow' AND at >= :'t_missing_ok' ORDER BY id;
