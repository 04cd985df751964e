# NsvaultCitus.pm — starts nsvault on Citus for the scale-out tests
# (make test-citus): the key cluster, a coordinator linked to it as the
# main cluster is, and workers.  Every Citus node preloads citus and
# nsvault, and the nodes talk to each other over TLS.
package NsvaultCitus;

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use NsvaultPair;

# postgresql.conf of every Citus node
sub node_conf
{
	my ($certs) = @_;
	return (
		shared_preload_libraries => "'citus,nsvault'",
		listen_addresses => "'127.0.0.1'",
		ssl => 'on',
		ssl_cert_file => "'$certs/server.crt'",
		ssl_key_file => "'$certs/server.key'",
		# Citus's maintenance daemon and connections to the other nodes
		max_worker_processes => 16,
		max_connections => 200,
		# fewer shards than Citus's 32: the same layout, made faster
		'citus.shard_count' => 8,
		# a stopped worker is given up on after 2 s, not 30
		'citus.node_connection_timeout' => 2000);
}

# Starts a worker named $name, with Citus created in database postgres.
sub start_worker
{
	my ($name, $certs) = @_;
	my %conf = node_conf($certs);
	my $node = PostgreSQL::Test::Cluster->new($name);

	$node->init;
	$node->append_conf('postgresql.conf',
		join('', map { "$_ = $conf{$_}\n" } sort keys %conf));
	$node->start;
	$node->safe_psql('postgres', 'CREATE EXTENSION citus');
	return $node;
}

# Starts the key cluster, a coordinator with nsvault linked to it, and
# $nworkers workers added to the coordinator; returns (key node,
# coordinator, [workers], cert folder, key link password).
sub start_cluster
{
	my ($nworkers) = @_;
	my $certs = NsvaultPair::make_certs();
	my $password = NsvaultPair::random_hex(24);
	my $key = NsvaultPair::start_key_node($certs, $password);
	my $coordinator = NsvaultPair::start_main_node($key, $certs, $password, node_conf($certs));
	my @workers = map { start_worker("worker$_", $certs) } 1 .. $nworkers;

	$coordinator->safe_psql('postgres', qq{
CREATE EXTENSION citus;
SELECT citus_set_coordinator_host('127.0.0.1', @{[ $coordinator->port ]});
});
	$coordinator->safe_psql('postgres', "SELECT citus_add_node('127.0.0.1', @{[ $_->port ]})")
	  foreach @workers;
	return ($key, $coordinator, \@workers, $certs, $password);
}

1;
