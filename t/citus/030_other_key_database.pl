# 030_other_key_database.pl — a worker with an older nsvault is named by
# distribute(), which changes nothing.  A worker linked to another key
# database than the one the coordinator recorded: distribute() finds the
# link there, but every call on that worker that needs a key is refused,
# as on a single server (a write through the coordinator is sealed there,
# and does not open on the worker), and the other key database makes no
# key.
use strict;
use warnings;
use lib 't';

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use NsvaultCitus;
use NsvaultPair;

my ($key, $coordinator, $workers, $certs, $password) = NsvaultCitus::start_cluster(1);
my $worker = $workers->[0];
my $other_key = NsvaultPair::start_key_node($certs, $password, 'other_key');

# the coordinator's first write records its key database
$coordinator->safe_psql('postgres',
	q{SELECT nsvault.set_secret('before', 'token', 'sealed-before')});

# a worker with an older nsvault is named, and nothing changes
$worker->safe_psql('postgres', q{
SET citus.enable_ddl_propagation = off;
SET client_min_messages = warning;
CREATE EXTENSION nsvault VERSION '0.8' CASCADE;
});
my ($rc, $out, $err) = $coordinator->psql('postgres',
	"\\set VERBOSITY verbose\nSELECT nsvault.distribute()");
like($err, qr/ERROR:  55000: worker 127\.0\.0\.1:@{[ $worker->port ]} is not ready for nsvault\.distribute\(\)\nDETAIL:  The nsvault extension is at version 0\.8/,
	'distribute() names a worker with another version of nsvault')
  or diag($err);
is($coordinator->safe_psql('postgres',
		q{SELECT count(*) FROM pg_dist_partition WHERE logicalrelid::text LIKE 'nsvault.%'}),
	'0', 'and distributes nothing');
$worker->safe_psql('postgres',
	'SET citus.enable_ddl_propagation = off; ALTER EXTENSION nsvault UPDATE');

NsvaultPair::link_key_database($worker, $other_key, $certs, $password);
$coordinator->safe_psql('postgres', 'SELECT nsvault.distribute()');

($rc, $out, $err) = $coordinator->psql('postgres',
	"\\set VERBOSITY verbose\nSELECT nsvault.get_secret('before', 'token')");
like($err, qr/ERROR:  58000: key database behind foreign server "nsvault_keydb" /,
	'a read on the worker linked to another key database is refused')
  or diag($err);
unlike($out . $err, qr/sealed-before/, 'and shows no value');
# a write through the coordinator is sealed there, with its key database;
# the worker cannot open it
is($coordinator->safe_psql('postgres', q{SELECT nsvault.set_secret('fresh', 'token', 'sealed-after')}),
	'1', 'a write through the coordinator is sealed on the coordinator');
($rc, $out, $err) = $coordinator->psql('postgres',
	"\\set VERBOSITY verbose\nSELECT nsvault.get_secret('fresh', 'token')");
like($err, qr/ERROR:  58000: key database behind foreign server "nsvault_keydb" /,
	'and read on the worker, refused');
unlike($out . $err, qr/sealed-after/, 'showing no value');
# a first write on the worker itself
($rc, $out, $err) = $worker->psql('postgres',
	"\\set VERBOSITY verbose\nSELECT nsvault.set_secret('other', 'token', 'sealed-on-worker')");
like($err, qr/ERROR:  58000: key database behind foreign server "nsvault_keydb" is not the one this database is linked to/,
	'a first write on the worker is refused');
is($other_key->safe_psql('nsvault_keys', 'SELECT count(*) FROM nsvault_keys.keys'), '0',
	'the other key database made no key');

done_testing();
