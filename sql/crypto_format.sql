--
-- crypto_format: the sealed format is pgcrypto's, byte for byte.  nsvault
-- seals with OpenSSL directly; an operator must still be able to open any
-- value with pgcrypto's SQL functions alone, and nsvault must open what
-- pgcrypto sealed.  The recipe is the one docs/security.md gives.
--
\set SHOW_CONTEXT never
\set main_db :DBNAME
SELECT nsvault.set_secret('fmt', 'plain', 'hunter2');
SELECT nsvault.set_secret('fmt', 'block', '0123456789abcdef');	-- a whole block: one block of padding
SELECT nsvault.set_secret('fmt', 'utf8', 'grüße, 秘密 🔑');
SELECT nsvault.set_secret('fmt', 'long', repeat('x', 65536));
SELECT nsvault.set_secret('fmt', 'versioned', 'first');
SELECT nsvault.set_secret('fmt', 'versioned', 'second');		-- version 2: its number is in the aad
SELECT nsvault.set_registry('fmt', 'https://registry.example.com/', 'fmt-user:fmt-token');

-- the raw key of fmt's version 1, as the key database holds it
\c nsvault_regress_keys
SELECT key AS raw_key FROM nsvault_keys.keys WHERE namespace = 'fmt' AND version = 1 \gset
\c :main_db
SELECT key_version, count(*) FROM nsvault.secrets WHERE namespace = 'fmt' GROUP BY 1;

-- pgcrypto only, from here: the documented derivation and layout
CREATE FUNCTION pg_temp.field(s text) RETURNS bytea LANGUAGE sql IMMUTABLE
AS $$ SELECT int4send(octet_length(convert_to(s, 'UTF8'))) || convert_to(s, 'UTF8') $$;
CREATE FUNCTION pg_temp.enc_key(raw bytea) RETURNS bytea LANGUAGE sql IMMUTABLE
AS $$ SELECT hmac('nsvault/v1/encryption'::bytea, raw, 'sha256') $$;
CREATE FUNCTION pg_temp.mac_key(raw bytea) RETURNS bytea LANGUAGE sql IMMUTABLE
AS $$ SELECT hmac('nsvault/v1/authentication'::bytea, raw, 'sha256') $$;
CREATE FUNCTION pg_temp.secret_aad(ns text, name text, version int) RETURNS bytea LANGUAGE sql IMMUTABLE
AS $$ SELECT pg_temp.field('secret') || pg_temp.field(ns) || pg_temp.field(name)
			 || CASE WHEN version > 1 THEN pg_temp.field(version::text) ELSE '' END $$;
CREATE FUNCTION pg_temp.tag(raw bytea, format bytea, aad bytea, iv_and_ct bytea) RETURNS bytea
LANGUAGE sql IMMUTABLE
AS $$ SELECT hmac(format || int4send(length(aad)) || aad || iv_and_ct, pg_temp.mac_key(raw), 'sha256') $$;
-- opens a sealed value: NULL when its tag does not match
CREATE FUNCTION pg_temp.open(raw bytea, aad bytea, sealed bytea) RETURNS text LANGUAGE sql IMMUTABLE
AS $$
	SELECT CASE WHEN pg_temp.tag(raw, substring(sealed FROM 1 FOR 1), aad,
								 substring(sealed FROM 2 FOR length(sealed) - 33))
					 = substring(sealed FROM length(sealed) - 31)
		   THEN convert_from(decrypt_iv(substring(sealed FROM 18 FOR length(sealed) - 49),
										pg_temp.enc_key(raw), substring(sealed FROM 2 FOR 16),
										'aes-cbc/pad:pkcs'), 'UTF8') END
$$;
-- seals a value: format byte, IV, ciphertext, tag
CREATE FUNCTION pg_temp.seal(raw bytea, format int, aad bytea, value text, iv bytea) RETURNS bytea
LANGUAGE sql IMMUTABLE
AS $$
	SELECT f || iv || ct || pg_temp.tag(raw, f, aad, iv || ct)
	  FROM (SELECT set_byte('\x00'::bytea, 0, format) AS f,
				   encrypt_iv(convert_to(value, 'UTF8'), pg_temp.enc_key(raw), iv,
							  'aes-cbc/pad:pkcs') AS ct) s
$$;

-- every value nsvault sealed opens with pgcrypto, and is the value stored
SELECT name, version, get_byte(ciphertext, 0) AS format, length(ciphertext) AS sealed_bytes,
	   pg_temp.open(:'raw_key', pg_temp.secret_aad(namespace, name, version), ciphertext)
		 = nsvault.get_secret(namespace, name) AS pgcrypto_opens_it
  FROM nsvault.secrets WHERE namespace = 'fmt' ORDER BY name;
SELECT name, version,
	   pg_temp.open(:'raw_key', pg_temp.secret_aad(namespace, name, version), ciphertext) AS opened
  FROM nsvault.secret_versions WHERE namespace = 'fmt' ORDER BY name, version;
SELECT pg_temp.open(:'raw_key', pg_temp.secret_aad(namespace, name, version), ciphertext) AS opened
  FROM nsvault.secrets WHERE namespace = 'fmt' AND name IN ('plain', 'utf8', 'versioned') ORDER BY name;

-- byte for byte: pgcrypto, given nsvault's IV, writes the same bytes
SELECT name, pg_temp.seal(:'raw_key', 2, pg_temp.secret_aad(namespace, name, version),
						  nsvault.get_secret(namespace, name),
						  substring(ciphertext FROM 2 FOR 16)) = ciphertext AS identical
  FROM nsvault.secrets WHERE namespace = 'fmt' ORDER BY name;

-- a registry token: scope, namespace, registry, URL and user name in its aad
SELECT pg_temp.open(:'raw_key',
					pg_temp.field('registry') || pg_temp.field(scope) || pg_temp.field(namespace)
					|| pg_temp.field(registry) || pg_temp.field(url) || pg_temp.field(user_name),
					token) AS token
  FROM nsvault.registries WHERE namespace = 'fmt';

-- the wrong associated data or key opens nothing
SELECT pg_temp.open(:'raw_key', pg_temp.secret_aad('fmt', 'block', 1), ciphertext) AS other_name,
	   pg_temp.open(sha256(:'raw_key'), pg_temp.secret_aad('fmt', 'plain', 1), ciphertext) AS other_key
  FROM nsvault.secrets WHERE namespace = 'fmt' AND name = 'plain';

-- what pgcrypto seals, nsvault opens: format 2, as nsvault 0.3 and later seal
UPDATE nsvault.secrets
   SET ciphertext = pg_temp.seal(:'raw_key', 2, pg_temp.secret_aad('fmt', 'plain', 1),
								 'sealed by pgcrypto', gen_random_bytes(16))
 WHERE namespace = 'fmt' AND name = 'plain';
SELECT nsvault.get_secret('fmt', 'plain');
UPDATE nsvault.secrets
   SET ciphertext = pg_temp.seal(:'raw_key', 2, pg_temp.secret_aad('fmt', 'versioned', 2),
								 'version 2 sealed by pgcrypto', gen_random_bytes(16))
 WHERE namespace = 'fmt' AND name = 'versioned';
SELECT nsvault.get_secret('fmt', 'versioned'), nsvault.get_secret('fmt', 'versioned', 1);
-- ... and format 1, which nsvault before 0.3 wrote: a token bound to its registry only
UPDATE nsvault.registries
   SET token = pg_temp.seal(:'raw_key', 1,
							pg_temp.field('registry') || pg_temp.field(scope) || pg_temp.field(namespace)
							|| pg_temp.field(registry),
							'format-1-token', gen_random_bytes(16))
 WHERE namespace = 'fmt';
SELECT registry, username, secret FROM nsvault.registry_credential('fmt', 'registry.example.com/app:1');
-- a pgcrypto-sealed value under the wrong aad is refused, not opened
UPDATE nsvault.secrets
   SET ciphertext = pg_temp.seal(:'raw_key', 2, pg_temp.secret_aad('fmt', 'other', 1),
								 'misplaced', gen_random_bytes(16))
 WHERE namespace = 'fmt' AND name = 'plain';
SELECT regress_error($$SELECT nsvault.get_secret('fmt', 'plain')$$);
-- authentic but wrongly padded (pgcrypto without padding): an error from
-- OpenSSL, reported as corruption; the next read is unaffected
UPDATE nsvault.secrets
   SET ciphertext = f || iv || ct || pg_temp.tag(:'raw_key', f, pg_temp.secret_aad('fmt', 'plain', 1), iv || ct)
  FROM (SELECT '\x02'::bytea AS f, iv,
			   encrypt_iv('no padding here!'::bytea, pg_temp.enc_key(:'raw_key'), iv, 'aes-cbc/pad:none') AS ct
		  FROM gen_random_bytes(16) AS iv) s
 WHERE namespace = 'fmt' AND name = 'plain';
SELECT regress_error($$SELECT nsvault.get_secret('fmt', 'plain')$$);
SELECT nsvault.get_secret('fmt', 'utf8');

-- leaves no namespace behind for the tests after it
SELECT nsvault.delete_namespace('fmt');
