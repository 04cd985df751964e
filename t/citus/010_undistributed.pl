# 010_undistributed.pl — nsvault's tables distributed by hand, without
# nsvault.distribute(): every nsvault function refuses with SQLSTATE 55000
# naming the table, on the coordinator and on a worker, in a new session
# and in one that read before the distribution, and never answers the
# value the coordinator's local heap still holds.  The same for a
# reference table and a Citus local table.
use strict;
use warnings;
use lib 't';

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use NsvaultCitus;

my ($key, $coordinator, $workers) = NsvaultCitus::start_cluster(2);

$coordinator->safe_psql('postgres', q{
SELECT nsvault.set_secret('perf', 'secretToken', 'value-before-distribution');
SELECT nsvault.set_secret('other', 'token', 'other-value');
SELECT nsvault.set_max_versions('perf', 5);
});

# a session that has read before the distribution, and keeps its backend
my $early = $coordinator->background_psql('postgres', on_error_stop => 0);
$early->query_safe('\set VERBOSITY verbose');
is($early->query_safe(q{SELECT nsvault.get_secret('perf', 'secretToken')}),
	'value-before-distribution', 'a session reads before any distribution');

# Runs $sql on $node; passes when it fails with 55000 naming nsvault.$table
# and shows no secret value.
sub refused
{
	my ($node, $sql, $table, $name) = @_;
	my ($rc, $out, $err) = $node->psql('postgres', "\\set VERBOSITY verbose\n$sql");
	ok($rc != 0 && $err =~ /ERROR:  55000: table "nsvault\.\Q$table\E" is distributed by Citus/,
		$name) or diag("rc $rc, out: $out, err: $err");
	unlike("$out$err", qr/value-before-distribution|other-value/, "$name: no value shown");
}

my @calls = (
	q{SELECT nsvault.get_secret('perf', 'secretToken')},
	q{SELECT nsvault.get_secrets('perf', ARRAY['secretToken'])},
	q{SELECT nsvault.set_secret('perf', 'secretToken', 'changed-after-distribution')},
	q{SELECT * FROM nsvault.list_secrets('perf')},
	q{SELECT nsvault.has_namespace_privilege('perf', 'read')},
	q{SELECT nsvault.set_registry('perf', 'r.example', 'u:p')},
	q{SELECT nsvault.rotate_key('perf')},
	q{SELECT nsvault.delete_namespace('other')});

# the table the issue found answering a stale value
$coordinator->safe_psql('postgres',
	q{SELECT create_distributed_table('nsvault.secrets', 'namespace')});
refused($coordinator, $_, 'secrets', "distributed secrets, coordinator: $_") foreach @calls;
refused($workers->[0], $calls[0], 'secrets', 'distributed secrets, on a worker');
my $late = $early->query(q{SELECT nsvault.get_secret('perf', 'secretToken')});
like($early->{stderr}, qr/55000: table "nsvault\.secrets" is distributed/,
	'a session that read before the distribution refuses after it');
unlike($late, qr/value-before-distribution/, 'that session shows no stale value');
$early->{stderr} = '';
# the rows Citus left behind are still on the coordinator's disk
is($coordinator->safe_psql('postgres',
		q{SELECT count(*) FROM ONLY nsvault.secrets WHERE namespace = 'perf'}), '1',
	'the local heap still holds the row from before the distribution');

# A reference table and a Citus local table, each in a database of its
# own on the coordinator (Citus keeps metadata per database, and cannot
# undistribute a table an extension owns).
foreach my $case (
	[ 'reference', 'namespace_settings', 'create_reference_table' ],
	[ 'citus_local', 'grants', 'citus_add_local_table_to_metadata' ])
{
	my ($db, $table, $make) = @$case;
	$coordinator->safe_psql('postgres', "CREATE DATABASE $db");
	$coordinator->safe_psql($db, qq{
SET client_min_messages = warning;
CREATE EXTENSION citus;
CREATE EXTENSION nsvault CASCADE;
SELECT citus_set_coordinator_host('127.0.0.1', @{[ $coordinator->port ]});
});
	is($coordinator->safe_psql($db, q{SELECT nsvault.has_namespace_privilege('perf', 'read')}),
		't', "$db: local tables answer");
	$coordinator->safe_psql($db, "SELECT $make('nsvault.$table')");
	my ($rc, $out, $err) = $coordinator->psql($db,
		"\\set VERBOSITY verbose\nSELECT nsvault.has_namespace_privilege('perf', 'read')");
	ok($rc != 0 && $err =~ /ERROR:  55000: table "nsvault\.$table" is distributed by Citus/,
		"$db: every call refuses, naming nsvault.$table")
	  or diag("rc $rc, out: $out, err: $err");
}
$early->quit;
done_testing();
