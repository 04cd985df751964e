# 010_key_link_tls.pl — the key link runs over TLS with verify-full, and the
# key server accepts nothing else.
use strict;
use warnings;
use lib 't';

use PostgreSQL::Test::Utils;
use Test::More;
use NsvaultPair;

my ($key, $main, $certs) = NsvaultPair::start_pair();

# the harness logs every statement: the roles' and user mappings' passwords,
# set through psql variables, must not be among them
foreach my $node ($key, $main)
{
	unlike(slurp_file($node->logfile), qr/password\s*'[0-9a-z-]+'/i,
		$node->name . ': no password of the setup reached the server log');
}

# the round trip over the link
$main->safe_psql('postgres', "SELECT nsvault.set_secret('httpget', 'secretToken', 'bearer-123')");
is($main->safe_psql('postgres', "SELECT nsvault.get_secret('httpget', 'secretToken')"),
	'bearer-123', 'a secret set through the TLS link reads back');

# the main backend's key connection is encrypted
my $session = $main->background_psql('postgres');
$session->query_safe("SELECT nsvault.set_secret('tls', 'probe', 'x')");
is( $key->safe_psql(
		'postgres', q{
SELECT s.ssl, s.version LIKE 'TLSv1.%', a.datname
  FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
 WHERE a.usename = 'nsvault_reader'}),
	't|t|nsvault_keys',
	'pg_stat_ssl shows the key connection encrypted');
$session->quit;

# the key server refuses unencrypted connections, even with the right password
my $port = $key->port;
my ($stdout, $stderr);
my $rc = IPC::Run::run(
	[ 'psql', '-X', '-c', 'SELECT 1',
	  "host=127.0.0.1 port=$port dbname=nsvault_keys user=nsvault_reader sslmode=disable" ],
	'>', \$stdout, '2>', \$stderr);
ok(!$rc, 'a connection without TLS is refused');
like($stderr, qr/no pg_hba.conf entry.*no encryption/s, 'refused by pg_hba.conf for lack of TLS');

# verify-full really verifies: a server certificate from another CA is refused
my $other = NsvaultPair::make_certs();
$main->safe_psql('postgres', qq{
CREATE SERVER regress_wrong_ca FOREIGN DATA WRAPPER dblink_fdw
	OPTIONS (host 'localhost', port '$port', dbname 'nsvault_keys',
			 sslmode 'verify-full', sslrootcert '$other/ca.crt');
CREATE USER MAPPING FOR CURRENT_USER SERVER regress_wrong_ca OPTIONS (user 'nsvault_reader');
});
my ($ret, $out, $err) = $main->psql('postgres', q{
SET nsvault.keydb_server = 'regress_wrong_ca';
SET nsvault.key_cache_seconds = 0;
\set VERBOSITY verbose
SELECT nsvault.set_secret('other', 'x', 'y');});
isnt($ret, 0, 'a key server with an untrusted certificate is not used');
like($err, qr/ERROR:  08001: could not connect to the key server through foreign server "regress_wrong_ca"/,
	'the error is class 08 and names the foreign server');
like($err, qr/certificate verify failed/, 'the detail says why');

# ... and so is a host name the certificate does not name
$main->safe_psql('postgres', qq{
CREATE SERVER regress_wrong_host FOREIGN DATA WRAPPER dblink_fdw
	OPTIONS (host '127.0.0.2', hostaddr '127.0.0.1', port '$port', dbname 'nsvault_keys',
			 sslmode 'verify-full', sslrootcert '$certs/ca.crt');
CREATE USER MAPPING FOR CURRENT_USER SERVER regress_wrong_host OPTIONS (user 'nsvault_reader');
});
($ret, $out, $err) = $main->psql('postgres', q{
SET nsvault.keydb_server = 'regress_wrong_host';
SET nsvault.key_cache_seconds = 0;
SELECT nsvault.set_secret('other', 'x', 'y');});
like($err, qr/does not match host name "127.0.0.2"/, 'verify-full checks the host name');
is($main->safe_psql('postgres', "SELECT count(*) FROM nsvault.secrets WHERE namespace = 'other'"),
	'0', 'nothing was written without a key');

done_testing();
