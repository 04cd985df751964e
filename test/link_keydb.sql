-- included by the regression tests: the current database's foreign servers
-- nsvault_keydb (as the reader) and nsvault_keydb_admin (as the key
-- administrator) reach key database :keydb (nsvault_regress_keys unless
-- set) over the instance's socket
\if :{?keydb}
\else
\set keydb nsvault_regress_keys
\endif
SELECT set_config('regress.keydb', :'keydb', false) AS key_database;
DO $$
BEGIN
	EXECUTE format('CREATE SERVER nsvault_keydb FOREIGN DATA WRAPPER dblink_fdw OPTIONS (host %L, port %L, dbname %L)',
				   split_part(current_setting('unix_socket_directories'), ',', 1),
				   current_setting('port'), current_setting('regress.keydb'));
	EXECUTE format('CREATE SERVER nsvault_keydb_admin FOREIGN DATA WRAPPER dblink_fdw OPTIONS (host %L, port %L, dbname %L)',
				   split_part(current_setting('unix_socket_directories'), ',', 1),
				   current_setting('port'), current_setting('regress.keydb'));
END
$$;
CREATE USER MAPPING FOR CURRENT_USER SERVER nsvault_keydb
	OPTIONS (user 'regress_keyreader');
CREATE USER MAPPING FOR CURRENT_USER SERVER nsvault_keydb_admin
	OPTIONS (user 'regress_keyadmin');
