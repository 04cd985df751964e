-- key-database.sql: makes the key database's extension and its two login
-- roles, the reader and the key administrator.  Run with psql in database
-- nsvault_keys, with the passwords set beforehand on standard input
-- (\set reader_password, \set admin_password), never on a command line.
SET client_min_messages = warning;
SET log_statement = 'none';
CREATE EXTENSION nsvault_keys CASCADE;
CREATE ROLE nsvault_reader LOGIN PASSWORD :'reader_password';
SELECT nsvault_keys.grant_reader('nsvault_reader') \g /dev/null
CREATE ROLE nsvault_admin LOGIN PASSWORD :'admin_password';
SELECT nsvault_keys.grant_admin('nsvault_admin') \g /dev/null
