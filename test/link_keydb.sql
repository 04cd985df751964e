-- included by the regression tests: the current database's foreign server
-- nsvault_keydb reaches the key database over the instance's socket
DO $$
BEGIN
	EXECUTE format('CREATE SERVER nsvault_keydb FOREIGN DATA WRAPPER dblink_fdw OPTIONS (host %L, port %L, dbname %L)',
				   split_part(current_setting('unix_socket_directories'), ',', 1),
				   current_setting('port'), 'nsvault_regress_keys');
END
$$;
CREATE USER MAPPING FOR CURRENT_USER SERVER nsvault_keydb
	OPTIONS (user 'regress_keyreader');
