--
-- privileges: nothing for PUBLIC, the README's grants, and callers'
-- search_path tricks never reach pgcrypto, dblink or an operator
--
\set SHOW_CONTEXT never

-- no nsvault function, and no dblink function, is executable by PUBLIC
SELECT p.oid::regprocedure AS public_function
  FROM pg_proc p
 WHERE p.pronamespace = 'nsvault'::regnamespace
   AND has_function_privilege('public', p.oid, 'EXECUTE');
SELECT count(*) AS public_dblink_functions
  FROM pg_depend d
  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'dblink'
 WHERE d.classid = 'pg_proc'::regclass AND d.deptype = 'e'
   AND has_function_privilege('public', d.objid, 'EXECUTE');
SELECT has_table_privilege('public', 'nsvault.secrets', 'SELECT') AS public_select;

-- every function but harden_role is SECURITY INVOKER (it authorizes its
-- caller), and every one but those that read secrets has a fixed
-- search_path (nsvault fixes it around each query it runs: the trap below)
SELECT proname, prosecdef, proconfig FROM pg_proc
 WHERE pronamespace = 'nsvault'::regnamespace ORDER BY proname;

-- the README's roles: an administrator and a read-only reader of namespace
-- "shop"; grant_namespace gives them the EXECUTE rights they need
CREATE ROLE regress_vault_admin LOGIN;
CREATE ROLE regress_vault_reader LOGIN;
CREATE ROLE regress_nobody LOGIN;
SELECT nsvault.grant_namespace('shop', 'regress_vault_admin', 'admin');
SELECT nsvault.grant_namespace('shop', 'regress_vault_reader', 'read');
SELECT nsvault.grant_namespace('newshop', 'regress_vault_admin', 'write');

SET ROLE regress_vault_admin;
SELECT nsvault.set_secret('shop', 'stripe/key', 'sk_live_1');
SELECT nsvault.get_secret('shop', 'stripe/key');
SELECT count(*) FROM nsvault.secrets;
RESET ROLE;

SET ROLE regress_vault_reader;
SELECT nsvault.get_secret('shop', 'stripe/key');
SELECT name FROM nsvault.list_secrets('shop');
SELECT nsvault.set_secret('shop', 'stripe/key', 'changed');
SELECT nsvault.delete_secret('shop', 'stripe/key');
SELECT ciphertext FROM nsvault.secrets;
RESET ROLE;

SET ROLE regress_nobody;
SELECT nsvault.get_secret('shop', 'stripe/key');
SET nsvault.key_cache_seconds = 0;
SET nsvault.keydb_server = 'elsewhere';
RESET ROLE;

-- a reader plants functions named like pgcrypto's and dblink's, and an
-- equality operator on text, first in its search_path
CREATE SCHEMA regress_trojan AUTHORIZATION regress_vault_reader;
SET ROLE regress_vault_reader;
CREATE TABLE regress_trojan.calls (fn text);
CREATE FUNCTION regress_trojan.note(fn text) RETURNS void LANGUAGE sql
	AS $$ INSERT INTO regress_trojan.calls VALUES (fn) $$;
CREATE FUNCTION regress_trojan.encrypt_iv(bytea, bytea, bytea, text) RETURNS bytea
	LANGUAGE plpgsql AS $$ BEGIN PERFORM regress_trojan.note('encrypt_iv'); RETURN $1; END $$;
CREATE FUNCTION regress_trojan.decrypt_iv(bytea, bytea, bytea, text) RETURNS bytea
	LANGUAGE plpgsql AS $$ BEGIN PERFORM regress_trojan.note('decrypt_iv'); RETURN $1; END $$;
CREATE FUNCTION regress_trojan.hmac(bytea, bytea, text) RETURNS bytea
	LANGUAGE plpgsql AS $$ BEGIN PERFORM regress_trojan.note('hmac'); RETURN $1; END $$;
CREATE FUNCTION regress_trojan.gen_random_bytes(integer) RETURNS bytea
	LANGUAGE plpgsql AS $$ BEGIN PERFORM regress_trojan.note('gen_random_bytes'); RETURN '\x00'; END $$;
CREATE FUNCTION regress_trojan.dblink_connect(text, text) RETURNS text
	LANGUAGE plpgsql AS $$ BEGIN PERFORM regress_trojan.note('dblink_connect'); RETURN 'OK'; END $$;
CREATE FUNCTION regress_trojan.dblink(text, text) RETURNS SETOF record
	LANGUAGE plpgsql AS $$ BEGIN PERFORM regress_trojan.note('dblink'); END $$;
CREATE FUNCTION regress_trojan.text_eq(text, text) RETURNS boolean
	LANGUAGE plpgsql AS $$ BEGIN PERFORM regress_trojan.note('='); RETURN $1 OPERATOR(pg_catalog.=) $2; END $$;
CREATE OPERATOR regress_trojan.= (LEFTARG = text, RIGHTARG = text, FUNCTION = regress_trojan.text_eq);
CREATE FUNCTION regress_trojan.now() RETURNS timestamptz
	LANGUAGE plpgsql AS $$ BEGIN PERFORM regress_trojan.note('now'); RETURN 'epoch'; END $$;
-- types named like those a query over the key link declares: a domain's
-- check would see each key fetched
CREATE FUNCTION regress_trojan.noted(fn text) RETURNS boolean
	LANGUAGE plpgsql AS $$ BEGIN PERFORM regress_trojan.note(fn); RETURN true; END $$;
CREATE DOMAIN regress_trojan.bytea AS pg_catalog.bytea CHECK (regress_trojan.noted('bytea'));
CREATE DOMAIN regress_trojan.uuid AS pg_catalog.uuid CHECK (regress_trojan.noted('uuid'));
RESET ROLE;

-- every call below fetches its key over dblink: nothing is cached
SET nsvault.key_cache_seconds = 0;
SET search_path = regress_trojan, pg_catalog, public;

SET ROLE regress_vault_reader;
SELECT nsvault.get_secret('shop', 'stripe/key');
SELECT nsvault.get_secrets('shop', ARRAY['stripe/key']);
SELECT name FROM nsvault.list_secrets('shop');
RESET ROLE;
GRANT regress_vault_admin TO regress_vault_reader;
SET ROLE regress_vault_reader;
SELECT nsvault.set_secret('shop', 'stripe/key', 'sk_live_2');
SELECT nsvault.set_secret('newshop', 'k', 'v');
SELECT nsvault.delete_secret('newshop', 'k');
SELECT nsvault.get_secret('shop', 'stripe/key');
SELECT count(*) AS trojan_calls FROM regress_trojan.calls;

-- the trap is real: an unqualified call in the reader's own query springs it
SELECT hmac('x'::bytea, 'y'::bytea, 'sha256') IS NOT NULL AS called;
SELECT fn AS trojan_called FROM regress_trojan.calls;
RESET ROLE;
REVOKE regress_vault_admin FROM regress_vault_reader;
RESET search_path;
RESET nsvault.key_cache_seconds;

-- a grants index that misses rows is refused (55000), never read through
SELECT 'regress_vault_reader'::regrole::oid AS reader_oid \gset
BEGIN;
ALTER TABLE nsvault.grants DROP CONSTRAINT grants_pkey CASCADE;
CREATE UNIQUE INDEX grants_pkey ON nsvault.grants (namespace, grantee)
 WHERE grantee::oid <> :reader_oid;
SET ROLE regress_vault_reader;
SELECT nsvault.get_secret('shop', 'stripe/key');
ROLLBACK;
