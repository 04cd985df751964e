# 040_upgrade_then_distribute.pl — a Citus cluster whose coordinator ran
# nsvault 0.8 with local tables (secrets with versions, metadata, a
# namespace registry and global ones, grants, the audit trail): ALTER
# EXTENSION nsvault UPDATE, then nsvault.distribute(), and everything reads
# back through the coordinator and on the workers.
use strict;
use warnings;
use lib 't';

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use NsvaultCitus;
use NsvaultPair;

my $certs = NsvaultPair::make_certs();
my $password = NsvaultPair::random_hex(24);
my $key = NsvaultPair::start_key_node($certs, $password);
my %conf = NsvaultCitus::node_conf($certs);
my $coordinator = PostgreSQL::Test::Cluster->new('main');
$coordinator->init;
$coordinator->append_conf('postgresql.conf', join('', map { "$_ = $conf{$_}\n" } sort keys %conf));
$coordinator->start;
$coordinator->safe_psql('postgres', q{
SET client_min_messages = warning;
CREATE EXTENSION nsvault VERSION '0.8' CASCADE;
});
NsvaultPair::link_key_database($coordinator, $key, $certs, $password);

# what 0.8 wrote
$coordinator->safe_psql('postgres', q{
SELECT nsvault.set_secret('shop', 'db.password', 'hunter1');
SELECT nsvault.set_secret('shop', 'db.password', 'hunter2');
SELECT nsvault.set_secret_metadata('shop', 'db.password', 'the database');
SELECT nsvault.set_registry('shop', 'quay.io/org', 'shop-user:shop-token');
SELECT nsvault.set_global_registry('mirror.example', 'global-user:global-token');
SELECT nsvault.set_global_registry('private.example', 'svc-user:svc-token', true);
CREATE ROLE engine LOGIN;
SELECT nsvault.grant_namespace('shop', 'engine', 'read');
});
my $events_before = $coordinator->safe_psql('postgres', 'SELECT count(*) FROM nsvault.audit_events');

# Citus beside it, with two workers, then the update and the distribution
my @workers = map { NsvaultCitus::start_worker("worker$_", $certs) } 1 .. 2;
$coordinator->safe_psql('postgres', qq{
CREATE EXTENSION citus;
SELECT citus_set_coordinator_host('127.0.0.1', @{[ $coordinator->port ]});
});
$coordinator->safe_psql('postgres', "SELECT citus_add_node('127.0.0.1', @{[ $_->port ]})")
  foreach @workers;
# the workers get nsvault (the new version) and their key link first:
# Citus passes ALTER EXTENSION on to every node
NsvaultPair::link_key_database($_, $key, $certs, $password) foreach @workers;
$coordinator->safe_psql('postgres', 'ALTER EXTENSION nsvault UPDATE');
is($coordinator->safe_psql('postgres', q{SELECT extversion FROM pg_extension WHERE extname = 'nsvault'}),
	'0.9', 'the coordinator is at 0.9');
$coordinator->safe_psql('postgres', 'SELECT nsvault.distribute()');

my $expected = join("\n",
	'hunter2', 'hunter1', 'the database',
	'{"auths": {"quay.io/org": {"auth": "c2hvcC11c2VyOnNob3AtdG9rZW4=", "password": "shop-token", "username": "shop-user"}, '
	  . '"mirror.example": {"auth": "Z2xvYmFsLXVzZXI6Z2xvYmFsLXRva2Vu", "password": "global-token", "username": "global-user"}}}',
	'svc-token');
my $reads = q{
SET ROLE engine;
SELECT nsvault.get_secret('shop', 'db.password');
SELECT nsvault.get_secret('shop', 'db.password', 1);
SELECT description FROM nsvault.get_secret_metadata('shop', 'db.password');
SELECT nsvault.docker_config('shop');
RESET ROLE;
SELECT secret FROM nsvault.registry_credential('shop', 'private.example/app', true);
};
is($coordinator->safe_psql('postgres', $reads), $expected,
	'after the update and distribute(), everything reads back through the coordinator');
is($_->safe_psql('postgres', $reads), $expected, 'and on ' . $_->name) foreach @workers;
cmp_ok($coordinator->safe_psql('postgres', 'SELECT count(*) FROM nsvault.audit_events'),
	'>=', $events_before, 'the audit trail kept its events');
is($coordinator->safe_psql('postgres', q{SELECT nsvault.set_secret('shop', 'after', 'distributed')}),
	'1', 'and writes go on');

done_testing();
