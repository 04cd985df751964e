-- included by the regression tests: the current database's foreign server
-- nsvault_keydb reaches key database :keydb (nsvault_regress_keys unless
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
END
$$;
CREATE USER MAPPING FOR CURRENT_USER SERVER nsvault_keydb
	OPTIONS (user 'regress_keyreader');
