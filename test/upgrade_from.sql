-- included by the upgrade tests: makes database :up_db with nsvault at
-- version :from_version, linked to a key database :up_db_keys of its own,
-- and connects to it; :main_db is the database to come back to
\set main_db :DBNAME
\set up_db_keys :up_db _keys
CREATE DATABASE :"up_db_keys";
CREATE DATABASE :"up_db";

\c :up_db_keys
SET client_min_messages = warning;
CREATE EXTENSION nsvault_keys CASCADE;
SELECT nsvault_keys.grant_reader('regress_keyreader') IS NULL AS reader_granted;
SELECT nsvault_keys.grant_admin('regress_keyadmin') IS NULL AS admin_granted;

\c :up_db
SET client_min_messages = warning;
CREATE EXTENSION nsvault VERSION :'from_version' CASCADE;
\set keydb :up_db_keys
\i test/link_keydb.sql
