# 210_secret_versions.pl — versions under concurrency, on disk and through
# a crash: two sessions check-and-set the same version and exactly one wins
# (over an existing secret, for a new one, and when the first rolls back);
# a rotation racing a write, or a destroy, either way round, leaves every
# kept version sealed under the new key and every destroyed one destroyed;
# a write cut off by a crash leaves the versions as they were; and a
# destroyed version's ciphertext is in no file of the main cluster's
# tables once the table is rewritten, while the versions kept are.
use strict;
use warnings;
use lib 't';

use File::Find;
use PostgreSQL::Test::Utils;
use Test::More;
use NsvaultPair;

my ($key, $main) = NsvaultPair::start_pair();

# A session that reports errors with their SQLSTATE, and its backend's pid.
sub session
{
	my $s = $main->background_psql('postgres', on_error_stop => 0);
	$s->query_safe('\set VERBOSITY verbose');
	return ($s, $s->query_safe('SELECT pg_backend_pid()'));
}

# Runs $sql in $s; returns (stdout, stderr) of that statement alone.
sub run_in
{
	my ($s, $sql) = @_;
	$s->{stderr} = '';
	my $out = $s->query($sql);
	return ($out, $s->{stderr});
}

# Sends $sql to $s, and waits until its backend $pid waits on a lock.
sub send_and_wait_for_lock
{
	my ($s, $pid, $sql) = @_;
	$s->{stderr} = '';
	$s->{stdin} .= "$sql;\n";
	$s->{run}->pump_nb();
	return $main->poll_query_until('postgres',
		"SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $pid");
}

# Waits for what $s was sent; returns its (stdout, stderr).
sub collect
{
	my ($s) = @_;
	my $out = $s->query('SELECT 1');
	$out =~ s/\n?1\z//;
	return ($out, $s->{stderr});
}

my ($first, $first_pid) = session();
my ($second, $second_pid) = session();
my ($out, $err);

# --- check-and-set: one winner -----------------------------------------------

$main->safe_psql('postgres', "SELECT nsvault.set_secret('race', 'token', 'token-one')");

# both expect version 1; the first writes and holds its transaction open
$first->query_safe('BEGIN');
($out) = run_in($first,
	"SELECT nsvault.set_secret('race', 'token', 'first', expected_version => 1)");
is($out, '2', 'the first writer makes version 2');
ok(send_and_wait_for_lock($second, $second_pid,
		"SELECT nsvault.set_secret('race', 'token', 'second', expected_version => 1)"),
	'the second writer, expecting version 1 too, waits for the first');
$first->query_safe('COMMIT');
($out, $err) = collect($second);
like($err, qr/ERROR:  40001: check-and-set failed for secret "token" in namespace "race"\nDETAIL:  Version 1 was expected; the current version is 2\./,
	'the second fails once the first commits, naming the current version');
is($main->safe_psql('postgres',
		"SELECT nsvault.get_secret('race', 'token') || ' ' || count(*)"
		  . " FROM nsvault.list_secret_versions('race', 'token')"),
	'first 2', 'exactly one writer won: its value, two versions');

# the same for a secret that must not exist yet (expected_version => 0)
$first->query_safe('BEGIN');
($out) = run_in($first, "SELECT nsvault.set_secret('race', 'new', 'first', expected_version => 0)");
is($out, '1', 'the first creator makes version 1');
ok(send_and_wait_for_lock($second, $second_pid,
		"SELECT nsvault.set_secret('race', 'new', 'second', expected_version => 0)"),
	'the second creator waits for the first');
$first->query_safe('COMMIT');
($out, $err) = collect($second);
like($err, qr/ERROR:  40001: check-and-set failed for secret "new" in namespace "race"\nDETAIL:  Version 0 was expected; the current version is 1\./,
	'the second creator fails once the first commits');
is($main->safe_psql('postgres', "SELECT nsvault.get_secret('race', 'new')"), 'first',
	'the first creator won');

# when the first rolls back, the second wins
$first->query_safe('BEGIN');
run_in($first, "SELECT nsvault.set_secret('race', 'token', 'rolled back', expected_version => 2)");
ok(send_and_wait_for_lock($second, $second_pid,
		"SELECT nsvault.set_secret('race', 'token', 'second', expected_version => 2)"),
	'the second writer waits for the first');
$first->query_safe('ROLLBACK');
($out, $err) = collect($second);
is($out . $err, '3', 'the first rolled back: the second writes version 3');
is($main->safe_psql('postgres', "SELECT nsvault.get_secret('race', 'token')"), 'second',
	'with its value');

# --- rotation racing writes and destroys --------------------------------------

$main->safe_psql('postgres',
	"SELECT nsvault.set_secret('rot', 's', 'v' || i) FROM generate_series(1, 3) i");

# Fails unless every value of namespace rot is sealed under its active key
# version, and returns that version.
sub sealed_under_active_key
{
	my ($what) = @_;
	my ($active, $others) = split /\|/, $main->safe_psql('postgres', q{
SELECT k.active_version, count(*) FILTER (WHERE v.key_version <> k.active_version)
  FROM nsvault.namespace_keys k,
	   (SELECT key_version FROM nsvault.secrets WHERE namespace = 'rot' AND ciphertext IS NOT NULL
		UNION ALL
		SELECT key_version FROM nsvault.secret_versions WHERE namespace = 'rot' AND ciphertext IS NOT NULL) v
 WHERE k.namespace = 'rot' GROUP BY k.active_version});
	is($others, '0', "$what: every kept version is sealed under key version $active");
	return $active;
}

# "version:value" of each version of rot/s, or "version:destroyed"
sub versions_read
{
	return $main->safe_psql('postgres', q{
SELECT string_agg(version || ':' || CASE WHEN destroyed THEN 'destroyed'
				  ELSE nsvault.get_secret('rot', 's', version) END, ' ' ORDER BY version)
  FROM nsvault.list_secret_versions('rot', 's')});
}

# the writer first: the rotation waits, then re-seals the new version too
$first->query_safe('BEGIN');
($out) = run_in($first, "SELECT nsvault.set_secret('rot', 's', 'v4')");
is($out, '4', 'a writer makes version 4 and holds its transaction open');
ok(send_and_wait_for_lock($second, $second_pid, "SELECT nsvault.rotate_key('rot')"),
	'a rotation waits for the writer');
$first->query_safe('COMMIT');
($out, $err) = collect($second);
is($err, '', 'the rotation ends once the writer commits');
my $active = sealed_under_active_key('writer first');
is($main->safe_psql('postgres', "SELECT nsvault.destroy_key_version('rot', $active - 1)"), '',
	'writer first: the previous key version can be destroyed');
is(versions_read(), '1:v1 2:v2 3:v3 4:v4', 'writer first: every version reads back');

# the rotation first: the writer waits, then seals under the new key
$first->query_safe('BEGIN');
run_in($first, "SELECT nsvault.rotate_key('rot')");
ok(send_and_wait_for_lock($second, $second_pid, "SELECT nsvault.set_secret('rot', 's', 'v5')"),
	'a writer waits for a rotation');
$first->query_safe('COMMIT');
($out, $err) = collect($second);
is($out . $err, '5', 'the writer makes version 5 once the rotation commits');
$active = sealed_under_active_key('rotation first');
$main->safe_psql('postgres', "SELECT nsvault.destroy_key_version('rot', $active - 1)");
is(versions_read(), '1:v1 2:v2 3:v3 4:v4 5:v5', 'rotation first: every version reads back');

# a destroy waits for a rotation that re-seals the version, and wins after it
$first->query_safe('BEGIN');
run_in($first, "SELECT nsvault.rotate_key('rot')");
ok(send_and_wait_for_lock($second, $second_pid,
		"SELECT nsvault.destroy_secret_versions('rot', 's', ARRAY[1])"),
	'a destroy waits for a rotation');
$first->query_safe('COMMIT');
($out, $err) = collect($second);
is($out . $err, '1', 'the destroy ends once the rotation commits');

# a rotation waits for a destroy, and does not bring the version back
$first->query_safe('BEGIN');
run_in($first, "SELECT nsvault.destroy_secret_versions('rot', 's', ARRAY[2])");
ok(send_and_wait_for_lock($second, $second_pid, "SELECT nsvault.rotate_key('rot')"),
	'a rotation waits for a destroy');
$first->query_safe('COMMIT');
($out, $err) = collect($second);
is($err, '', 'the rotation ends once the destroy commits');
is($main->safe_psql('postgres', q{
SELECT count(*) FROM nsvault.secret_versions
 WHERE namespace = 'rot' AND version IN (1, 2) AND ciphertext IS NULL AND key_version IS NULL}),
	'2', 'both destroyed versions hold no ciphertext');
$active = sealed_under_active_key('destroys and rotations');
$main->safe_psql('postgres', "SELECT nsvault.destroy_key_version('rot', $active - 1)");
is(versions_read(), '1:destroyed 2:destroyed 3:v3 4:v4 5:v5',
	'the destroyed versions stay destroyed; the others read back');

$first->quit;
$second->quit;

# --- a write cut off by a crash ------------------------------------------------

($first, $first_pid) = session();
$first->query_safe('BEGIN');
($out) = run_in($first, "SELECT nsvault.set_secret('rot', 's', 'cut off')");
is($out, '6', 'a write of version 6 is under way');
$main->stop('immediate');
$first->{run}->finish;
$main->start;
is(versions_read(), '1:destroyed 2:destroyed 3:v3 4:v4 5:v5',
	'after the crash the versions are as they were');
is($main->safe_psql('postgres', "SELECT nsvault.set_secret('rot', 's', 'v6')"), '6',
	'and the next write makes version 6');

# --- destroyed versions leave no ciphertext in the table's files -------------

$main->safe_psql('postgres', q{
SELECT nsvault.set_secret('disk', 'cert', 'cert-version-' || i) FROM generate_series(1, 3) i;
SELECT nsvault.set_secret('disk', 'long', repeat('L', 6000) || i) FROM generate_series(1, 2) i;
});
# the ciphertext of what is destroyed, and of what is kept
my %sealed = map { split /\|/ } split /\n/, $main->safe_psql('postgres', q{
SELECT name || version, encode(ciphertext, 'hex') FROM nsvault.secret_versions
 WHERE namespace = 'disk'});
is(scalar(keys %sealed), 3, 'three older versions hold ciphertext');
is($main->safe_psql('postgres', q{
SELECT nsvault.destroy_secret_versions('disk', 'cert', ARRAY[1]),
	   nsvault.destroy_secret_versions('disk', 'long', ARRAY[1])}),
	'1|1', 'version 1 of each is destroyed');

# VACUUM FULL rewrites the tables (and their TOAST) without dead rows; the
# old files go at the checkpoint
$main->safe_psql('postgres',
	'VACUUM FULL nsvault.secret_versions; VACUUM FULL nsvault.secrets; CHECKPOINT;');

# Returns the files under the data directory, WAL aside, that hold $bytes.
sub files_holding
{
	my ($bytes) = @_;
	my @found;
	find(
		{
			no_chdir => 1,
			wanted => sub {
				return if $File::Find::name =~ m{/pg_wal/};
				return unless -f $_;
				open my $fh, '<:raw', $_ or return;
				local $/;
				my $content = <$fh>;
				push @found, $File::Find::name if index($content, $bytes) >= 0;
			}
		},
		$main->data_dir);
	return @found;
}

# a long ciphertext is split into TOAST chunks: look for its first 1 kB
sub needle { return substr(pack('H*', $sealed{ $_[0] }), 0, 1024); }

ok(scalar(files_holding(needle('cert2'))) > 0, 'control: a version kept is found on disk');
ok(scalar(files_holding(needle('long2'))) > 0, 'control: a long version kept is found on disk');
is_deeply([ files_holding(needle('cert1')) ], [], 'the destroyed version is in no file');
is_deeply([ files_holding(needle('long1')) ], [], 'nor the destroyed long one, TOASTed');
is($main->safe_psql('postgres', q{
SELECT nsvault.get_secret('disk', 'cert', 2) || ' ' || nsvault.get_secret('disk', 'cert')}),
	'cert-version-2 cert-version-3', 'the versions kept read back');

done_testing();
