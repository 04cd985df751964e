--
-- validation: every rule, SQLSTATE 22023 (22004 for nulls), input never echoed
--

-- namespaces: 1 to 64 of [a-z0-9._-], starting with a letter
SELECT regress_error($$SELECT nsvault.get_secret('', 'x')$$);
SELECT regress_error($$SELECT nsvault.get_secret(repeat('a', 65), 'x')$$);
SELECT regress_error($$SELECT nsvault.get_secret('9lives', 'x')$$);
SELECT regress_error($$SELECT nsvault.get_secret('Team', 'x')$$);
SELECT regress_error($$SELECT nsvault.get_secret('team a', 'x')$$);
SELECT regress_error($$SELECT nsvault.get_secret('@global', 'x')$$);
SELECT regress_error($$SELECT nsvault.list_secrets('a/b')$$);
SELECT regress_error($$SELECT nsvault.delete_secret('A', 'x')$$);
SELECT regress_error($$SELECT nsvault.get_secrets('A', ARRAY['x'])$$);
SELECT regress_error($$SELECT nsvault.get_secret(NULL, 'x')$$);
-- the rule, in full, is the hint
SELECT nsvault.get_secret('Team', 'x');
SELECT nsvault.set_secret(repeat('a', 64), 'x', 'v');   -- 64 is fine
SELECT nsvault.set_secret('a.b_c-d9', 'x', 'v');

-- names: 1 to 128 of [A-Za-z0-9_.-/], starting with a letter, no //, no trailing /
SELECT regress_error($$SELECT nsvault.set_secret('val', '', 'v')$$);
SELECT regress_error($$SELECT nsvault.set_secret('val', 'A' || repeat('b', 128), 'v')$$);
SELECT regress_error($$SELECT nsvault.set_secret('val', '_hidden', 'v')$$);
SELECT regress_error($$SELECT nsvault.set_secret('val', '/abs', 'v')$$);
SELECT regress_error($$SELECT nsvault.set_secret('val', 'has space', 'v')$$);
SELECT regress_error($$SELECT nsvault.set_secret('val', 'a//b', 'v')$$);
SELECT regress_error($$SELECT nsvault.set_secret('val', 'folder/', 'v')$$);
SELECT regress_error($$SELECT nsvault.set_secret('val', 'semi;colon', 'v')$$);
SELECT regress_error($$SELECT nsvault.get_secret('val', E'tab\there')$$);
SELECT regress_error($$SELECT nsvault.delete_secret('val', '')$$);
SELECT regress_error($$SELECT nsvault.set_secret('val', NULL, 'v')$$);
SELECT nsvault.set_secret('val', 'folder/', 'v');
SELECT nsvault.set_secret('val', 'A' || repeat('b', 127), 'v');   -- 128 is fine
SELECT nsvault.set_secret('val', 'Folder/Sub-1/key_2.txt', 'v');

-- values: 1 byte to 64 KiB (65,536 bytes); no message shows the value
SELECT regress_error($$SELECT nsvault.set_secret('val', 'empty', '')$$);
SELECT regress_error($$SELECT nsvault.set_secret('val', 'huge', repeat('s3cr3t', 10923))$$);
SELECT regress_error($$SELECT nsvault.set_secret('val', 'huge', repeat('x', 65535) || E'\u00e9')$$);
SELECT regress_error($$SELECT nsvault.set_secret('val', 'null', NULL)$$);
SELECT regress_error($$SELECT nsvault.set_secret('val', 'x', 'v', overwrite => NULL)$$);

-- a secret put where a name belongs is not repeated by the error
SELECT regress_error($$SELECT nsvault.set_secret('val', 'hunter2 is my password', 'v')$$);

-- nothing was written by any of the failures
SELECT name FROM nsvault.list_secrets('val');
