# 140_audit_queue.pl — read events reach the audit trail through the shared
# queue and its background writer: every read of a pgbench load, reads whose
# transaction does not commit, at most one queue's worth lost in a crash and
# none in a fast shutdown, reads that fail closed when the queue stays full,
# when no writer can start or when every queue serves another database, a
# database with a writer that can still be dropped, and reads that go to the
# server log without preloading.
use strict;
use warnings;
use lib 't';

use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);
use POSIX qw(floor);
use NsvaultPair;

# the smallest queue, so that a crash can lose, and a blocked writer fill, little
my $queue_kb = 64;
my ($key, $main) = NsvaultPair::start_pair(
	shared_preload_libraries => "'nsvault'",
	'nsvault.audit_queue_size' => $queue_kb,
	log_statement => "'none'");
my $dir = PostgreSQL::Test::Utils::tempdir();
my $loader = $main->connstr('postgres') . ' user=loader';

# the bytes one queued read of loader's takes: a 16-byte header, then role,
# session role (none), namespace, name, action and detail ("version 1"),
# each NUL-terminated, the whole rounded up to a multiple of 8
sub event_size
{
	my ($role, $namespace, $name) = @_;
	my $len = 16 + (length($role) + 1) + 1 + (length($namespace) + 1)
	  + (length($name) + 1) + (length('read') + 1) + (length('version 1') + 1);
	return 8 * POSIX::ceil($len / 8);
}
my $capacity = floor($queue_kb * 1024 / event_size('loader', 'load', 'k'));

my $value = 'LOAD-' . NsvaultPair::random_hex(8);
$main->safe_psql('postgres', qq{
SET log_statement = 'none';
CREATE ROLE loader LOGIN;
SELECT nsvault.grant_namespace('load', 'loader', 'read');
SELECT nsvault.set_secret('load', 'k', '$value');
});

# The id of the trail's last row: later rows have greater ones.
sub last_id
{
	return $main->safe_psql('postgres',
		'SELECT coalesce(max(id), 0) FROM nsvault.audit_events');
}

# loader's reads of load/k in the trail, all or those after row $since
sub reads
{
	my ($since) = @_;
	$since //= 0;
	return $main->safe_psql('postgres', qq{
SELECT count(*) FROM nsvault.audit_events
 WHERE id > $since AND namespace = 'load' AND action = 'read' AND role_name = 'loader'});
}

# Polls until loader's reads after row $since reach $target or $timeout
# seconds pass; returns the count then and the seconds it took.
sub wait_for_reads
{
	my ($since, $target, $timeout) = @_;
	my $start = time;
	my $count;
	while (1)
	{
		$count = reads($since);
		last if $count >= $target || time - $start > $timeout;
		sleep 0.02;
	}
	return ($count, time - $start);
}

# The audit writers running, in a database or in all.
sub writers
{
	my ($database) = @_;
	my $where = defined $database ? "AND datname = '$database'" : '';
	return $main->safe_psql('postgres', qq{
SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'nsvault audit writer' $where});
}

# Runs SQL as loader in postgres with verbose errors; returns (exit, stdout, stderr).
sub as_loader
{
	my ($sql) = @_;
	return $main->psql('postgres', "\\set VERBOSITY verbose\n$sql",
		connstr => $loader, timeout => 30);
}

# A pgbench of loader's reads, for $seconds, with extra options.
sub pgbench_reads
{
	my ($seconds, @options) = @_;
	return ('pgbench', '-n', '-c', '4', '-j', '2', '-T', $seconds, @options,
		'-f', "$dir/read.sql", $loader);
}
open my $fh, '>', "$dir/read.sql" or die $!;
print $fh "SELECT nsvault.get_secret('load', 'k');\n";
close $fh;

is(reads(), 0, 'setup read nothing');

# 1. every read of a 30-second load is in the trail
my ($out, $err) = ('', '');
IPC::Run::run([ pgbench_reads(30) ], '>', \$out, '2>', \$err);
is($? >> 8, 0, 'pgbench read for 30 seconds') or diag($err);
my ($processed) = $out =~ /number of transactions actually processed: (\d+)/;
my ($failed) = $out =~ /number of failed transactions: (\d+)/;
ok(($processed // 0) > 1000, 'and did real work (' . ($processed // 0) . ' reads)');
is($failed // 0, 0, 'no read failed');
my ($count) = wait_for_reads(0, $processed // 0, 5);
is($count, $processed, "all $processed reads are in the trail");
diag("scenario 1: N = " . ($processed // 'none'));
# statistics for the polls below, which look at the newest rows by id
$main->safe_psql('postgres', 'ANALYZE nsvault.audit_events');

# 2. reads whose transaction does not commit are recorded, within a second
my @uncommitted = (
	[ 'a read in a transaction rolled back',
	  "BEGIN;\nSELECT nsvault.get_secret('load', 'k');\nROLLBACK;", 0 ],
	[ 'a read in a savepoint rolled back to',
	  "BEGIN;\nSAVEPOINT a;\nSELECT nsvault.get_secrets('load', ARRAY['k']);\nROLLBACK TO a;\nCOMMIT;", 0 ],
	# 1/0 as a literal fails at planning, before any read: the divisor
	# must be computed at run time for the error to come after the read
	[ 'a read whose statement fails after it',
	  "SELECT nsvault.get_secret('load', 'k'), 1 / (random() * 0)::int;", 3 ],
	[ 'a read in a read-only transaction',
	  "BEGIN READ ONLY;\nSELECT nsvault.get_secret('load', 'k');\nCOMMIT;", 0 ]);
my $before_uncommitted = last_id();
for my $case (@uncommitted)
{
	my ($name, $sql, $exit) = @$case;
	my $before = last_id();
	my ($ret, $stdout, $stderr) = as_loader($sql);
	is($ret, $exit, "$name: psql ends as expected") or diag($stderr);
	like($stderr, qr/division by zero/, "$name: the statement fails") if $exit;
	my ($after, $seconds) = wait_for_reads($before, 1, 1);
	is($after, 1, "$name: is in the trail");
	ok($seconds <= 1, sprintf("$name: within 1 s (%.2f s)", $seconds));
}
sleep 0.5;
is(reads($before_uncommitted), scalar @uncommitted, 'and no read is recorded twice');

# 3. a crash loses at most one queue's worth of acknowledged reads
my $before_crash = last_id();
($out, $err) = ('', '');
my $bench = IPC::Run::start([ pgbench_reads(60, '-l', "--log-prefix=$dir/tx") ],
	'>', \$out, '2>', \$err, IPC::Run::timeout(120));
sleep 4;
$main->stop('immediate');
$bench->finish;
isnt($? >> 8, 0, 'pgbench saw the crash');
my $acknowledged = 0;
for my $log (glob("$dir/tx.*"))
{
	open my $lf, '<', $log or die "$log: $!";
	$acknowledged++ while <$lf>;
	close $lf;
}
$main->start;
my $recorded = reads($before_crash);
my $bound = $capacity;
diag("scenario 3: acknowledged A = $acknowledged, recorded R = $recorded, "
	  . "loss bound = $bound events of " . event_size('loader', 'load', 'k') . " bytes");
ok($acknowledged > 100, "reads were acknowledged before the crash ($acknowledged)");
ok($recorded <= $acknowledged + 4,
	"no more recorded ($recorded) than acknowledged ($acknowledged) plus the 4 in flight");
ok($acknowledged - $recorded <= $bound,
	"at most $bound acknowledged reads lost (lost " . ($acknowledged - $recorded) . ")");

# 3b. a clean (fast) shutdown under the same load loses nothing: the
# writer, told to stop, first writes what is queued
my $before_stop = last_id();
($out, $err) = ('', '');
$bench = IPC::Run::start([ pgbench_reads(60, '-l', "--log-prefix=$dir/clean") ],
	'>', \$out, '2>', \$err, IPC::Run::timeout(120));
sleep 3;
$main->stop('fast');
$bench->finish;
$acknowledged = 0;
for my $log (glob("$dir/clean.*"))
{
	open my $lf, '<', $log or die "$log: $!";
	$acknowledged++ while <$lf>;
	close $lf;
}
$main->start;
$recorded = reads($before_stop);
diag("scenario 3b: acknowledged A = $acknowledged, recorded R = $recorded");
ok($acknowledged > 100, "reads were acknowledged before the shutdown ($acknowledged)");
ok($recorded >= $acknowledged && $recorded <= $acknowledged + 4,
	"every acknowledged read is in the trail after a fast shutdown ($recorded of $acknowledged)");

# 4. fail closed: the queue stays full while the trail is locked away
my $before_full = last_id();
my $locker = $main->background_psql('postgres');
$locker->query_safe('BEGIN; LOCK TABLE nsvault.audit_events IN ACCESS EXCLUSIVE MODE;');
my $start = time;
my ($ret, $stdout, $stderr) = as_loader(
	"SELECT count(nsvault.get_secret('load', 'k')) FROM generate_series(1, 5000);");
my $seconds = time - $start;
is($ret, 3, 'a read fails while the queue stays full');
like($stderr, qr/ERROR:  53000: could not record the read in the audit trail\nDETAIL:  The audit queue of this database stayed full for 2000 ms\./,
	'with SQLSTATE 53000 and a detail saying why');
is($stdout, '', 'and returns nothing');
ok($seconds >= 2 && $seconds < 8, sprintf('after waiting its 2 s (%.2f s)', $seconds));
$locker->query_safe('ROLLBACK;');
$locker->quit;
is($main->safe_psql('postgres', "SELECT nsvault.get_secret('load', 'k') IS NOT NULL",
	connstr => $loader), 't', 'a read succeeds once the lock is gone');
my ($landed) = wait_for_reads($before_full, $capacity + 1, 5);
ok($landed >= $capacity && $landed <= $capacity + 1,
	"the reads queued before the failure, and the one after, land in the trail ($landed; queue holds $capacity)");
is(writers('postgres'), 1, 'the writer runs');

# 5. fail closed: no writer can start
is($main->safe_psql('postgres', q{
SELECT bool_and(pg_terminate_backend(pid)) FROM pg_stat_activity
 WHERE backend_type = 'nsvault audit writer'}), 't', 'the writer is terminated');
$start = time;
sleep 0.05 while writers() ne '0' && time - $start < 10;
is(writers(), 0, 'and gone');
my $session = $main->background_psql('postgres', on_error_stop => 0,
	extra_params => [ '-U', 'loader' ]);
$session->query_safe('\set VERBOSITY verbose');
my $before_nowriter = last_id();
$main->safe_psql('template1', 'ALTER DATABASE postgres ALLOW_CONNECTIONS false');
$start = time;
my $answer = $session->query("SELECT nsvault.get_secret('load', 'k') IS NOT NULL;");
$seconds = time - $start;
like($session->{stderr}, qr/ERROR:  55000: could not record the read in the audit trail\nDETAIL:  The audit writer of this database is not running and could not be started within 2000 ms\./,
	'a read fails with SQLSTATE 55000 when no writer can start');
is($answer, '', 'and returns nothing');
ok($seconds >= 2 && $seconds < 4, sprintf('after waiting its 2 s (%.2f s)', $seconds));
$main->safe_psql('template1', 'ALTER DATABASE postgres ALLOW_CONNECTIONS true');
$session->{stderr} = '';
is($session->query("SELECT nsvault.get_secret('load', 'k') IS NOT NULL;"), 't',
	'once connections are allowed again, the next read succeeds');
is($session->{stderr}, '', 'without error');
$session->quit;
($count) = wait_for_reads($before_nowriter, 1, 1);
is($count, 1, 'it is in the trail, and the failed read is not');

# Creates a database with nsvault linked to the same key database as postgres.
my $server_options = $main->safe_psql('postgres', q{
SELECT string_agg(format('%I %L', option_name, option_value), ', ')
  FROM pg_foreign_server s, pg_options_to_table(s.srvoptions)
 WHERE s.srvname = 'nsvault_keydb'});
my $mapping_options = $main->safe_psql('postgres', q{
SELECT string_agg(format('%I %L', option_name, option_value), ', ')
  FROM pg_user_mappings m, pg_options_to_table(m.umoptions)
 WHERE m.srvname = 'nsvault_keydb' AND m.usename = current_user});

sub nsvault_database
{
	my ($name) = @_;
	$main->safe_psql('postgres', "CREATE DATABASE $name");
	$main->safe_psql($name, qq{
SET log_statement = 'none';
CREATE EXTENSION nsvault CASCADE;
CREATE SERVER nsvault_keydb FOREIGN DATA WRAPPER dblink_fdw OPTIONS ($server_options);
CREATE USER MAPPING FOR CURRENT_USER SERVER nsvault_keydb OPTIONS ($mapping_options);
SELECT nsvault.set_secret('${name}_ns', 'k', '$value');
});
}

# 6. a database whose writer runs can still be dropped
nsvault_database('second');
is($main->safe_psql('second', "SELECT nsvault.get_secret('second_ns', 'k') IS NOT NULL"), 't',
	'a read in database second');
is(writers('second'), 1, 'started the writer of second');

# ... but not stopped by a command that PostgreSQL refuses: a role with no
# rights, or one that may create databases but owns none, cannot stop it
my $writer_pid = sub {
	return $main->safe_psql('postgres', q{
SELECT pid FROM pg_stat_activity
 WHERE backend_type = 'nsvault audit writer' AND datname = 'second'});
};
my $pid_before = $writer_pid->();
$main->safe_psql('postgres', 'CREATE ROLE nobody_much LOGIN; CREATE ROLE creator LOGIN CREATEDB');
for my $attempt (
	[ 'nobody_much', 'DROP DATABASE second' ],
	[ 'nobody_much', 'DROP DATABASE second WITH (FORCE)' ],
	[ 'nobody_much', 'ALTER DATABASE second RENAME TO elsewhere' ],
	[ 'nobody_much', 'ALTER DATABASE second SET TABLESPACE pg_default' ],
	[ 'nobody_much', 'CREATE DATABASE copy TEMPLATE second' ],
	[ 'creator', 'ALTER DATABASE second RENAME TO elsewhere' ],
	[ 'creator', 'CREATE DATABASE copy TEMPLATE second' ],
	[ 'creator', 'DROP DATABASE second' ])
{
	my ($role, $sql) = @$attempt;
	($ret, $stdout, $stderr) = $main->psql('postgres', $sql,
		connstr => $main->connstr('postgres') . " user=$role");
	like($stderr, qr/must be owner|permission denied/, "$role: $sql is refused");
}
# the owner, in a transaction block, is refused too
($ret, $stdout, $stderr) = $main->psql('postgres', "BEGIN;\nDROP DATABASE second;\nROLLBACK;");
like($stderr, qr/cannot run inside a transaction block/, 'DROP DATABASE in a transaction block is refused');
sleep(0.5);
is($writer_pid->(), $pid_before, 'the writer of second still runs, the same process');
$start = time;
($ret, $stdout, $stderr) = $main->psql('postgres', 'DROP DATABASE second');
$seconds = time - $start;
is($ret, 0, 'DROP DATABASE second succeeds while its writer runs') or diag($stderr);
ok($seconds < 5, sprintf('within 5 s (%.2f s)', $seconds));
is(writers('second'), 0, 'and the writer of second is gone');

# 7. with one queue, a second database's reads fail while the first reads
$main->append_conf('postgresql.conf', "nsvault.audit_databases = 1\n");
$main->restart;
nsvault_database('third');
is($main->safe_psql('postgres', "SELECT nsvault.get_secret('load', 'k') IS NOT NULL",
	connstr => $loader), 't', 'a read in postgres takes the only queue');
($ret, $stdout, $stderr) = $main->psql('third',
	"\\set VERBOSITY verbose\nSELECT nsvault.get_secret('third_ns', 'k') IS NOT NULL;");
like($stderr, qr/ERROR:  53000: could not record the read in the audit trail\nDETAIL:  Every one of the 1 audit queues serves another database\./,
	'a read in database third fails with SQLSTATE 53000');
is($stdout, '', 'and returns nothing');
is($main->safe_psql('third', q{
SELECT count(*) FROM nsvault.audit_events WHERE action = 'read'}), '0',
	'nor is recorded in third');
$main->safe_psql('postgres', 'DROP DATABASE third');

# 8. without preloading, a read goes to the server log, even rolled back
$main->append_conf('postgresql.conf', "shared_preload_libraries = ''\n");
$main->restart;
is($main->safe_psql('postgres', 'SHOW shared_preload_libraries'), '', 'nsvault is not preloaded');
my $before_log = last_id();
my $offset = -s $main->logfile;
($ret, $stdout, $stderr) = as_loader("BEGIN;\nSELECT nsvault.get_secret('load', 'k');\nROLLBACK;");
is($ret, 0, 'a read in a transaction rolled back') or diag($stderr);
my $log = slurp_file($main->logfile, $offset);
my @lines = $log =~ /^.*nsvault audit: .*$/mg;
is(scalar @lines, 1, 'leaves one audit line in the server log');
like($lines[0] // '', qr/LOG:  nsvault audit: role "loader" read in namespace "load": k, version 1$/,
	'naming the role, the namespace, the secret and its version');
ok(index($log, $value) < 0, 'the value is not in the log');
sleep 1;
is(reads($before_log), 0, 'and no row in the table');
is(writers(), 0, 'no writer runs');

done_testing();
