# 210_secret_versions.pl — versions under concurrency and on disk: two
# sessions check-and-set the same version and exactly one wins (over an
# existing secret, for a new one, and when the first rolls back); and a
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

$first->quit;
$second->quit;

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
