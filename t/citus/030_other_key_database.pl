# 030_other_key_database.pl — a worker linked to another key database than
# the one the coordinator recorded: distribute() finds the link there, but
# every call on that worker's namespaces that needs a key is refused, as on
# a single server, and no key of the other database seals or opens a value.
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
NsvaultPair::link_key_database($worker, $other_key, $certs, $password);
$coordinator->safe_psql('postgres', 'SELECT nsvault.distribute()');

my ($rc, $out, $err) = $coordinator->psql('postgres',
	"\\set VERBOSITY verbose\nSELECT nsvault.get_secret('before', 'token')");
like($err, qr/ERROR:  58000: key database behind foreign server "nsvault_keydb" /,
	'a read on the worker linked to another key database is refused')
  or diag($err);
unlike($out . $err, qr/sealed-before/, 'and shows no value');
($rc, $out, $err) = $coordinator->psql('postgres',
	"\\set VERBOSITY verbose\nSELECT nsvault.set_secret('fresh', 'token', 'sealed-after')");
like($err, qr/ERROR:  58000: key database behind foreign server "nsvault_keydb" is not the one this database is linked to/, 'so is a first write there');
is($other_key->safe_psql('nsvault_keys', 'SELECT count(*) FROM nsvault_keys.keys'), '0',
	'the other key database made no key');

done_testing();
