--
-- integrity: altered or misplaced ciphertext is detected, never decrypted
--
\set SHOW_CONTEXT never
SELECT nsvault.set_secret('vault', 'one', 'first value');
SELECT nsvault.set_secret('vault', 'two', 'second value');
SELECT nsvault.set_secret('elsewhere', 'one', 'third value');

-- a superuser flips one bit of the ciphertext
UPDATE nsvault.secrets
   SET ciphertext = set_byte(ciphertext, 20, get_byte(ciphertext, 20) # 1)
 WHERE namespace = 'vault' AND name = 'one';
SELECT nsvault.get_secret('vault', 'one');
SELECT nsvault.get_secrets('vault', ARRAY['two', 'one']);

-- the tag itself altered
SELECT nsvault.set_secret('vault', 'one', 'first value');
UPDATE nsvault.secrets
   SET ciphertext = set_byte(ciphertext, octet_length(ciphertext) - 1,
							 get_byte(ciphertext, octet_length(ciphertext) - 1) # 128)
 WHERE namespace = 'vault' AND name = 'one';
SELECT nsvault.get_secret('vault', 'one');

-- a ciphertext copied onto another row of the same namespace
UPDATE nsvault.secrets t
   SET ciphertext = s.ciphertext
  FROM nsvault.secrets s
 WHERE t.namespace = 'vault' AND t.name = 'one'
   AND s.namespace = 'vault' AND s.name = 'two';
SELECT nsvault.get_secret('vault', 'one');
SELECT nsvault.get_secret('vault', 'two');

-- a ciphertext copied into another namespace under the same name
SELECT nsvault.set_secret('vault', 'one', 'first value');
UPDATE nsvault.secrets t
   SET ciphertext = s.ciphertext, key_version = s.key_version
  FROM nsvault.secrets s
 WHERE t.namespace = 'elsewhere' AND t.name = 'one'
   AND s.namespace = 'vault' AND s.name = 'one';
SELECT nsvault.get_secret('elsewhere', 'one');

-- truncated, and from an unknown format
UPDATE nsvault.secrets SET ciphertext = substring(ciphertext FROM 1 FOR 40)
 WHERE namespace = 'vault' AND name = 'two';
SELECT nsvault.get_secret('vault', 'two');
SELECT nsvault.set_secret('vault', 'two', 'second value');
UPDATE nsvault.secrets SET ciphertext = set_byte(ciphertext, 0, 3)
 WHERE namespace = 'vault' AND name = 'two';
SELECT nsvault.get_secret('vault', 'two');
-- the format byte is part of the tag: a value passes for no other format
SELECT nsvault.set_secret('vault', 'two', 'second value');
UPDATE nsvault.secrets SET ciphertext = set_byte(ciphertext, 0, 1)
 WHERE namespace = 'vault' AND name = 'two';
SELECT nsvault.get_secret('vault', 'two');

-- a key version that does not exist in the key database
SELECT nsvault.set_secret('vault', 'two', 'second value');
UPDATE nsvault.secrets SET key_version = 7 WHERE namespace = 'vault' AND name = 'two';
SELECT nsvault.get_secret('vault', 'two');

-- untouched rows still read
SELECT nsvault.set_secret('vault', 'two', 'second value');
SELECT nsvault.get_secrets('vault', ARRAY['one', 'two']);
