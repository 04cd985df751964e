--
-- collation: secrets and grants are read straight from primary key indexes;
-- under a database collation that orders names unlike "C" every one is found
--
\set main_db :DBNAME
CREATE DATABASE nsvault_regress_icu TEMPLATE template0
	LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C';
\c nsvault_regress_icu
SET client_min_messages = warning;
CREATE EXTENSION nsvault CASCADE;
RESET client_min_messages;
\i test/link_keydb.sql

-- 400 names mixing case and punctuation, in three namespaces
CREATE TEMP TABLE names AS
SELECT 'icu' || (ARRAY['-', '_', '.'])[1 + i % 3] || 'ns' AS ns,
	   (ARRAY['a', 'B', 'b', 'A'])[1 + i % 4] || (ARRAY['-', '_', '.', '/', ''])[1 + (i / 4) % 5]
	   || (i / 20)::text AS name
  FROM generate_series(0, 399) i;
-- this collation does order them unlike "C"
SELECT (SELECT array_agg(name ORDER BY name) FROM names)
	<> (SELECT array_agg(name ORDER BY name COLLATE "C") FROM names) AS orders_differ;
SELECT count(nsvault.set_secret(ns, name, 'value of ' || name)) FROM names;

-- every secret reads back, one by one and all at once
SELECT count(*) AS read_back FROM names
 WHERE nsvault.get_secret(ns, name) = 'value of ' || name;
SELECT ns, count(*) AS read_back
  FROM (SELECT ns, (jsonb_each_text(nsvault.get_secrets(ns, array_agg(name)))).*
		  FROM names GROUP BY ns) s
 WHERE value = 'value of ' || key
 GROUP BY ns ORDER BY ns COLLATE "C";

-- grants on each namespace are found for the role they name
CREATE ROLE regress_icu_reader;
SELECT nsvault.grant_namespace('icu_ns', 'regress_icu_reader', 'read');
SELECT nsvault.grant_namespace('icu.ns', 'regress_icu_reader', 'write');
SET ROLE regress_icu_reader;
SELECT ns, nsvault.has_namespace_privilege(ns, 'read') AS can_read,
	   nsvault.has_namespace_privilege(ns, 'write') AS can_write
  FROM (VALUES ('icu-ns'), ('icu.ns'), ('icu_ns')) s (ns) ORDER BY ns COLLATE "C";
RESET ROLE;

SELECT nsvault.delete_namespace(ns) FROM (SELECT DISTINCT ns FROM names) s;
\c :main_db
DROP DATABASE nsvault_regress_icu;
DROP ROLE regress_icu_reader;
