# 020_distribute.pl — nsvault.distribute() on a coordinator with two
# workers: refused to a non-superuser and while a worker lacks the key
# link (naming the worker and what it lacks, changing nothing); then it
# lays out every table, completing the issue's hand distribution of
# secrets without answering its stale value; it is idempotent.  1,000
# namespaces written and read back through the coordinator, spread over
# both workers, each call run on the worker that holds its namespace; a
# worker reads its own namespaces and the other's; enrich --batch against
# the coordinator; grants and revokes seen
# at once on every node, also in a worker session that read before; the
# audit trail; delete_namespace and its key destruction; rotation; a shard
# move, after which grants still name their roles (OIDs differ between
# nodes); a role renamed; a worker stopped.
use strict;
use warnings;
use lib 't';

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);
use NsvaultCitus;
use NsvaultClient;
use NsvaultPair;

my ($key, $coordinator, $workers, $certs, $password) = NsvaultCitus::start_cluster(2);
my @workers = @$workers;

# Runs $sql on $node, and returns (exit code, stdout, stderr).
sub try_sql
{
	my ($node, $sql) = @_;
	my ($rc, $out, $err) = $node->psql('postgres', "\\set VERBOSITY verbose\n$sql");
	return ($rc, $out, $err);
}

# roles get other OIDs on each node: the second worker has used more
$workers[1]->safe_psql('postgres', 'CREATE TEMP TABLE oid_filler (a int)');

# the issue's case: a value, then secrets distributed by hand
$coordinator->safe_psql('postgres', q{
SELECT nsvault.set_secret('perf', 'secretToken', 'value-before-distribution');
SELECT nsvault.set_secret('perf', 'secretToken', 'value-at-distribution');
SELECT nsvault.set_global_registry('mirror.example', 'global-user:global-token');
CREATE ROLE app LOGIN;
CREATE ROLE reader LOGIN;
SELECT nsvault.grant_namespace('perf', 'app', 'read');
SELECT create_distributed_table('nsvault.secrets', 'namespace');
});

$coordinator->safe_psql('postgres', 'GRANT USAGE ON SCHEMA nsvault TO app');
my ($rc, $out, $err) = try_sql($coordinator, 'SET ROLE app; SELECT nsvault.distribute()');
like($err, qr/ERROR:  42501: permission denied for function distribute/,
	'distribute() is not granted to PUBLIC');
$coordinator->safe_psql('postgres', 'GRANT EXECUTE ON FUNCTION nsvault.distribute() TO app');
($rc, $out, $err) = try_sql($coordinator, 'SET ROLE app; SELECT nsvault.distribute()');
like($err, qr/ERROR:  42501: permission denied for function distribute\nDETAIL:  Only a superuser/,
	'and refuses a non-superuser it was granted to');
$coordinator->safe_psql('postgres', 'REVOKE EXECUTE ON FUNCTION nsvault.distribute() FROM app');

($rc, $out, $err) = try_sql($coordinator, 'SELECT nsvault.distribute()');
like($err,
	qr/ERROR:  55000: worker 127\.0\.0\.1:\d+ is not ready for nsvault\.distribute\(\)\nDETAIL:  (?:The files of nsvault 0\.9 are not installed|No foreign server nsvault_keydb with a user mapping)/,
	'distribute() names a worker without the key link')
  or diag($err);
is($coordinator->safe_psql('postgres', q{
SELECT count(*) FROM pg_dist_partition WHERE logicalrelid::text LIKE 'nsvault.%'}),
	'1', 'and changes nothing');

# each worker linked to the key database as the coordinator is
NsvaultPair::link_key_database($_, $key, $certs, $password) foreach @workers;

$coordinator->safe_psql('postgres', 'SELECT nsvault.distribute()');
is($coordinator->safe_psql('postgres', q{
SELECT string_agg(logicalrelid::text || ':' || partmethod::text, ',' ORDER BY logicalrelid::text)
  FROM pg_dist_partition WHERE logicalrelid::text LIKE 'nsvault.%'}),
	'nsvault.audit_events:h,nsvault.global_registries:n,nsvault.grants:h,'
	  . 'nsvault.key_database:n,nsvault.key_destructions:h,nsvault.namespace_keys:h,'
	  . 'nsvault.namespace_settings:h,nsvault.registries:h,nsvault.secret_versions:h,'
	  . 'nsvault.secrets:h',
	'distribute() lays out every table');
is($coordinator->safe_psql('postgres', q{
SELECT count(DISTINCT colocationid) FROM pg_dist_partition
 WHERE logicalrelid::text LIKE 'nsvault.%' AND partmethod = 'h'}), '1',
	'the per-namespace tables are colocated');
$coordinator->safe_psql('postgres', 'SELECT nsvault.distribute()');
pass('distribute() runs again without a change');

is($coordinator->safe_psql('postgres', q{SELECT nsvault.get_secret('perf', 'secretToken')}),
	'value-at-distribution', 'the value at distribution reads back, not an older one');
$coordinator->safe_psql('postgres',
	q{SELECT nsvault.set_secret('perf', 'secretToken', 'changed-after-distribution')});
is($coordinator->safe_psql('postgres', q{SELECT nsvault.get_secret('perf', 'secretToken')}),
	'changed-after-distribution', 'a value written after distribution reads back');
is($coordinator->safe_psql('postgres', q{SELECT nsvault.get_secret('perf', 'secretToken', 1)}),
	'value-before-distribution', 'and so do older versions');

# calls in a transaction block run on the coordinator, which reads and
# writes the shards through Citus
is($coordinator->safe_psql('postgres', q{
BEGIN;
SELECT nsvault.set_secret('perf', 'inTransaction', 'written in a block');
SELECT nsvault.set_secret_metadata('perf', 'inTransaction', 'a description');
SELECT nsvault.get_secret('perf', 'inTransaction');
COMMIT;
SELECT description FROM nsvault.get_secret_metadata('perf', 'inTransaction');
}), "1\n\nwritten in a block\na description", 'a transaction block writes and reads through the coordinator');

# 1,000 namespaces, each call on its own (so Citus can send it to the worker)
my $writes = join('', map { "SELECT nsvault.set_secret('ns$_', 'token', 'value-$_');\n" } 1 .. 1000);
$coordinator->safe_psql('postgres', $writes);
my $reads = join('', map { "SELECT nsvault.get_secret('ns$_', 'token');\n" } 1 .. 1000);
is($coordinator->safe_psql('postgres', $reads),
	join("\n", map { "value-$_" } 1 .. 1000), '1,000 namespaces read back through the coordinator');
my %per_node = split /[|\n]/, $coordinator->safe_psql('postgres', q{
SELECT n.nodeport, count(*)
  FROM generate_series(1, 1000) i
  JOIN pg_dist_placement p
	ON p.shardid = get_shard_id_for_distribution_column('nsvault.secrets', ('ns' || i)::text)
  JOIN pg_dist_node n ON n.groupid = p.groupid
 GROUP BY 1});
ok(keys(%per_node) == 2 && (grep { $_ > 100 } values %per_node) == 2,
	'the namespaces are spread over both workers')
  or diag(explain \%per_node);
is($workers[0]->safe_psql('postgres', q{
SELECT count(*) FROM generate_series(1, 1000) i
 WHERE nsvault.get_secret('ns' || i, 'token') = 'value-' || i}), '1000',
	'a worker reads every namespace, its own and the other worker\'s');

# a value written through the coordinator, with every statement logged on
# every node: the value never leaves the coordinator in the clear (it is
# sealed there; Citus does not send set_secret's call to a worker), and
# the writer's role is hardened, as a single server's should be, so that
# its bind parameters are not logged
foreach my $node ($coordinator, @workers)
{
	$node->safe_psql('postgres', q{ALTER SYSTEM SET log_statement = 'all'; SELECT pg_reload_conf()});
}
$coordinator->safe_psql('postgres', q{SELECT nsvault.harden_role('postgres')});
my $leak_value = 'leak-canary-' . NsvaultPair::random_hex(8);
my ($set_status, $set_out, $set_err) = NsvaultClient::run($leak_value,
	'-d', $coordinator->connstr('postgres'), 'secret', 'set', 'ns12', 'canary');
is($set_status, 0, 'the client writes a value through the coordinator') or diag($set_err);
is($coordinator->safe_psql('postgres', q{SELECT nsvault.get_secret('ns12', 'canary')}), $leak_value,
	'and it reads back');
foreach my $node ($coordinator, @workers)
{
	$node->safe_psql('postgres', q{ALTER SYSTEM RESET log_statement; SELECT pg_reload_conf()});
	unlike(slurp_file($node->logfile), qr/\Q$leak_value\E/,
		'no statement in the log of ' . $node->name . ' holds the value');
}

# enrich --batch against the coordinator: one connection, many namespaces
my $requests = join('', map {
	qq({"namespace": "ns$_", "action": {"secrets": ["token"], "input": {"v": "jq(.secrets.token)"}}, "data": {}}\n)
} 11 .. 110);
my ($status, $batch_out, $batch_err) = NsvaultClient::run($requests,
	'-d', $coordinator->connstr('postgres'), 'enrich', '--batch');
is($status, 0, 'enrich --batch against the coordinator exits 0') or diag($batch_err);
is($batch_out, join('', map { qq({"input":{"v":"value-$_"}}\n) } 11 .. 110),
	'and answers each of 100 namespaces\' requests with its value');

# grants and revokes, seen at once everywhere
$coordinator->safe_psql('postgres', q{
SELECT nsvault.grant_namespace('ns7', 'reader', 'read');
});
foreach my $node ($coordinator, @workers)
{
	is($node->safe_psql('postgres',
			q{SET ROLE reader; SELECT nsvault.get_secret('ns7', 'token')}),
		'value-7', 'a grant is honoured on ' . $node->name);
}
# a session on a worker that read before the revoke
my $long = $workers[0]->background_psql('postgres', on_error_stop => 0);
$long->query_safe('SET ROLE reader');
is($long->query_safe(q{SELECT nsvault.get_secret('ns7', 'token')}), 'value-7',
	'a worker session reads with the grant');
$coordinator->safe_psql('postgres', q{SELECT nsvault.revoke_namespace('ns7', 'reader', 'read')});
$long->query(q{SELECT nsvault.get_secret('ns7', 'token')});
like($long->{stderr}, qr/permission denied for namespace "ns7"/,
	'the same session is refused once the revoke committed');
$long->quit;
foreach my $node ($coordinator, @workers)
{
	($rc, $out, $err) = try_sql($node, q{SET ROLE reader; SELECT nsvault.get_secret('ns7', 'token')});
	like($err, qr/ERROR:  42501/, 'a revoke is honoured at once on ' . $node->name);
}

# the audit trail, read through the coordinator
cmp_ok($coordinator->safe_psql('postgres', q{
SELECT count(*) FROM nsvault.audit_log WHERE namespace = 'ns7' AND action IN ('read', 'grant', 'revoke')}),
	'>=', 3, 'the audit trail holds the namespace\'s reads, grant and revoke');

# rotation re-seals on the worker that holds the namespace
is($coordinator->safe_psql('postgres', q{
SELECT nsvault.rotate_key('ns8');
SELECT nsvault.get_secret('ns8', 'token');
SELECT DISTINCT key_version FROM nsvault.secrets WHERE namespace = 'ns8';
}), "2\nvalue-8\n2", 'rotate_key re-seals, and the value reads back');

# delete_namespace, and its keys destroyed once it committed
$coordinator->safe_psql('postgres', q{SELECT nsvault.delete_namespace('ns9')});
($rc, $out, $err) = try_sql($coordinator, q{SELECT nsvault.get_secret('ns9', 'token')});
like($err, qr/ERROR:  P0002|not found/, 'a deleted namespace is gone');
ok($coordinator->poll_query_until('postgres',
		q{SELECT count(*) = 0 FROM nsvault.key_destructions}),
	'its key destruction is done');
is($key->safe_psql('nsvault_keys',
		q{SELECT count(*) > 0 AND bool_and(key IS NULL) FROM nsvault_keys.keys WHERE namespace = 'ns9'}),
	't', 'and every version of its key is destroyed in the key database');

# a shard move: the sealed rows move as they are, and a grant keeps its
# role (grants hold role OIDs, which differ from node to node)
$coordinator->safe_psql('postgres', q{SELECT nsvault.grant_namespace('ns10', 'reader', 'read')});
my $shard = $coordinator->safe_psql('postgres',
	q{SELECT get_shard_id_for_distribution_column('nsvault.secrets', 'ns10'::text)});
my ($from, $to) = $coordinator->safe_psql('postgres', qq{
SELECT n.nodeport FROM pg_dist_placement p JOIN pg_dist_node n ON n.groupid = p.groupid
 WHERE p.shardid = $shard}) eq $workers[0]->port ? @workers : reverse @workers;
$coordinator->safe_psql('postgres', qq{
SELECT citus_move_shard_placement($shard, '127.0.0.1', @{[ $from->port ]},
								  '127.0.0.1', @{[ $to->port ]}, shard_transfer_mode => 'block_writes')});
is($coordinator->safe_psql('postgres', q{
SELECT grantee_name FROM nsvault.grants WHERE namespace = 'ns10';
SET ROLE reader;
SELECT nsvault.get_secret('ns10', 'token');
}), "reader\nvalue-10", 'a grant of a moved namespace still names its role, and is honoured');
isnt($workers[0]->safe_psql('postgres', q{SELECT 'reader'::regrole::oid}),
	$workers[1]->safe_psql('postgres', q{SELECT 'reader'::regrole::oid}),
	'(the role has another OID on each worker)');
# a grant made before distribute() (copied to a worker with its OID), and
# a role renamed: grants follow the role by name on every node
$coordinator->safe_psql('postgres', 'ALTER ROLE app RENAME TO app_renamed');
is($coordinator->safe_psql('postgres', q{
SET ROLE app_renamed;
SELECT nsvault.get_secret('perf', 'secretToken');
}), 'changed-after-distribution', 'a grant made before distribute() follows its role, renamed');
my @kept = grep { $_ != 9 } 1 .. 1000;
is($coordinator->safe_psql('postgres',
		join('', map { "SELECT nsvault.get_secret('ns$_', 'token');\n" } @kept)),
	join("\n", map { "value-$_" } @kept), 'after a shard move every value reads back');

# a worker stopped: its namespaces fail fast, the other worker's go on
my ($up_ns, $down_ns);
foreach my $i (1 .. 1000)
{
	next if $i == 9;
	my $port = $coordinator->safe_psql('postgres', qq{
SELECT n.nodeport FROM pg_dist_placement p JOIN pg_dist_node n ON n.groupid = p.groupid
 WHERE p.shardid = get_shard_id_for_distribution_column('nsvault.secrets', 'ns$i'::text)});
	$up_ns //= "ns$i" if $port == $workers[0]->port;
	$down_ns //= "ns$i" if $port == $workers[1]->port;
	last if defined $up_ns && defined $down_ns;
}
$workers[1]->stop('immediate');
my $start = time;
($rc, $out, $err) = try_sql($coordinator, qq{SELECT nsvault.get_secret('$down_ns', 'token')});
my $waited = time - $start;
ok($rc != 0 && $err =~ /127\.0\.0\.1:@{[ $workers[1]->port ]}/,
	'a namespace on the stopped worker fails, naming its node')
  or diag($err);
cmp_ok($waited, '<', 15, 'and does not hang');
is($coordinator->safe_psql('postgres', qq{SELECT nsvault.get_secret('$up_ns', 'token')}),
	(split /ns/, $up_ns)[1] =~ s/^/value-/r, 'a namespace on the other worker reads on');
$workers[1]->start;
is($coordinator->safe_psql('postgres', qq{SELECT nsvault.get_secret('$down_ns', 'token')}),
	(split /ns/, $down_ns)[1] =~ s/^/value-/r, 'the worker back, its namespaces read again');

# a role dropped on the coordinator loses its grants on every node, and a
# role made again under its name gets none of them
$coordinator->safe_psql('postgres', q{
CREATE ROLE leaver LOGIN;
SELECT nsvault.grant_namespace('ns13', 'leaver', 'read');
});
is($workers[0]->safe_psql('postgres', q{SET ROLE leaver; SELECT nsvault.get_secret('ns13', 'token')}),
	'value-13', 'a role with a grant reads');
$coordinator->safe_psql('postgres', 'DROP OWNED BY leaver; DROP ROLE leaver');
is($coordinator->safe_psql('postgres', q{SELECT count(*) FROM nsvault.grants WHERE grantee_name = 'leaver'}),
	'0', 'DROP ROLE on the coordinator removes its grants');
$coordinator->safe_psql('postgres', q{
CREATE ROLE leaver LOGIN;
GRANT USAGE ON SCHEMA nsvault TO leaver;
GRANT EXECUTE ON FUNCTION nsvault.get_secret(text, text) TO leaver;
});
foreach my $node ($coordinator, @workers)
{
	($rc, $out, $err) = try_sql($node, q{SET ROLE leaver; SELECT nsvault.get_secret('ns13', 'token')});
	like($err, qr/ERROR:  42501: permission denied for namespace "ns13"/,
		'a role made again under the name has no grant on ' . $node->name);
}

done_testing();
