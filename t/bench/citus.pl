# citus.pl — make bench-citus: nsvault's reads and writes per second on
# Citus (a coordinator, two workers, the key cluster) against a single
# node, and where the time goes: the coordinator's routing against the
# worker's own work.  pgbench with one client, ROUNDS runs of
# SECONDS_PER_RUN seconds of each side in turn: the medians of A and B,
# and the median and range of the runs' ratios; figures are only
# comparable within one run.  No goal: these are two cores.
use strict;
use warnings;
use lib 't';

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use NsvaultCitus;
use NsvaultPair;

my $rounds = $ENV{ROUNDS} // 3;
my $seconds = $ENV{SECONDS_PER_RUN} // 5;
my $namespaces = 100;

my ($key, $coordinator, $workers, $certs, $password) = NsvaultCitus::start_cluster(2);
NsvaultPair::link_key_database($_, $key, $certs, $password) foreach @$workers;
$coordinator->safe_psql('postgres', 'SELECT nsvault.distribute()');

# the single node: the same key setup, nsvault preloaded, no Citus
my $single_key = NsvaultPair::start_key_node($certs, $password, 'single_key');
my $single = PostgreSQL::Test::Cluster->new('single');
$single->init;
$single->append_conf('postgresql.conf', "shared_preload_libraries = 'nsvault'\n");
$single->start;
NsvaultPair::link_key_database($single, $single_key, $certs, $password);

my $fill = join('', map { "SELECT nsvault.set_secret('ns$_', 'token', 'value-$_');\n" } 1 .. $namespaces)
  . "SELECT nsvault.set_global_registry('mirror.example', 'global-user:global-token');\n"
  . join('', map { "SELECT nsvault.set_registry('ns$_', 'quay.io/ns$_', 'user:token-$_');\n" } 1 .. $namespaces);
$_->safe_psql('postgres', $fill) foreach ($single, $coordinator);

# the namespaces the first worker holds, read there directly
my $worker = $workers->[0];
my @own = split /\n/, $coordinator->safe_psql('postgres', qq{
SELECT 'ns' || i FROM generate_series(1, $namespaces) i
  JOIN pg_dist_placement p
	ON p.shardid = get_shard_id_for_distribution_column('nsvault.secrets', ('ns' || i)::text)
  JOIN pg_dist_node n ON n.groupid = p.groupid
 WHERE n.nodeport = @{[ $worker->port ]}});
my $own_array = 'ARRAY[' . join(',', map { "'$_'" } @own) . ']';

my $dir = PostgreSQL::Test::Utils::tempdir();
my %script = (
	'read.sql' => "\\set n random(1, $namespaces)\nSELECT nsvault.get_secret('ns' || :n, 'token');\n",
	'write.sql' => "\\set n random(1, $namespaces)\nSELECT nsvault.set_secret('ns' || :n, 'token', 'bench');\n",
	'registries.sql' => "\\set n random(1, $namespaces)\nSELECT nsvault.docker_config('ns' || :n);\n",
	'read-own.sql' => "\\set i random(1, @{[ scalar @own ]})\n"
	  . "SELECT nsvault.get_secret(($own_array)[:i], 'token');\n");
while (my ($name, $text) = each %script)
{
	open my $fh, '>', "$dir/$name" or die "$dir/$name: $!";
	print $fh $text;
	close $fh;
}

# pgbench TPS of $script on $node (simple protocol: Citus sends a call
# with constant arguments to the worker that holds the namespace)
sub tps
{
	my ($node, $script) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run([ 'pgbench', '-n', '-M', 'simple', '-c', '1', '-T', $seconds,
			'-f', "$dir/$script", '-h', $node->host, '-p', $node->port, 'postgres' ],
		'>', \$out, '2>', \$err);
	die "pgbench failed: $err" unless $out =~ /^tps = ([0-9.]+)/m;
	return $1;
}

sub median { my @s = sort { $a <=> $b } @_; return $s[ int($#s / 2) ]; }

# Runs A and B in turn ROUNDS times; prints their medians and A/B.
sub compare
{
	my ($id, $what, $a_node, $a_script, $b_node, $b_script) = @_;
	my (@a, @b, @ratios);
	for (1 .. $rounds)
	{
		push @a, tps($a_node, $a_script);
		push @b, tps($b_node, $b_script);
		push @ratios, $a[-1] / $b[-1];
	}
	my @sorted = sort { $a <=> $b } @ratios;
	diag(sprintf('%-4s %-58s %9.1f %9.1f %6.3f  %.3f-%.3f', $id, $what, median(@a), median(@b),
			median(@ratios), $sorted[0], $sorted[-1]));
}

diag(sprintf('%-4s %-58s %9s %9s %6s  %s', 'id', 'measures', 'A', 'B', 'A/B', 'range'));
compare('C1', 'get_secret TPS through the coordinator / a single node',
	$coordinator, 'read.sql', $single, 'read.sql');
compare('C2', 'set_secret TPS through the coordinator / a single node',
	$coordinator, 'write.sql', $single, 'write.sql');
compare('C3', 'get_secret TPS on the worker holding it / a single node',
	$worker, 'read-own.sql', $single, 'read-own.sql');
compare('C4', 'get_secret TPS through the coordinator / on the worker',
	$coordinator, 'read-own.sql', $worker, 'read-own.sql');
# a namespace's registry and a global one, read on the namespace's worker
compare('C5', 'docker_config TPS through the coordinator / a single node',
	$coordinator, 'registries.sql', $single, 'registries.sql');
pass('measured');
done_testing();
