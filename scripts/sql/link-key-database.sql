-- link-key-database.sql: makes nsvault in the main database (or a Citus
-- worker's), unless it is there already, and links it
-- to the key database through foreign servers nsvault_keydb (the reader)
-- and nsvault_keydb_admin (key administration), with TLS verify-full.
-- Run with psql, with key_port, ca_cert and the two passwords set
-- beforehand on standard input, never on a command line.
SET client_min_messages = warning;
SET log_statement = 'none';
-- on Citus, each node links itself: Citus does not copy user mappings,
-- and refuses a foreign server made on a worker unless told to keep it local
SET citus.enable_ddl_propagation = off;
CREATE EXTENSION IF NOT EXISTS nsvault CASCADE;
CREATE SERVER nsvault_keydb FOREIGN DATA WRAPPER dblink_fdw
	OPTIONS (host 'localhost', port :'key_port', dbname 'nsvault_keys',
			 sslmode 'verify-full', sslrootcert :'ca_cert');
CREATE USER MAPPING FOR CURRENT_USER SERVER nsvault_keydb
	OPTIONS (user 'nsvault_reader', password :'reader_password');
CREATE SERVER nsvault_keydb_admin FOREIGN DATA WRAPPER dblink_fdw
	OPTIONS (host 'localhost', port :'key_port', dbname 'nsvault_keys',
			 sslmode 'verify-full', sslrootcert :'ca_cert');
CREATE USER MAPPING FOR CURRENT_USER SERVER nsvault_keydb_admin
	OPTIONS (user 'nsvault_admin', password :'admin_password');
