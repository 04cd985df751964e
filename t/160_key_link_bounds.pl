# 160_key_link_bounds.pl — the key link is bounded and interruptible: a key
# server that accepts connections and never answers costs a call the
# connect timeout, not forever; a key request stuck behind a lock ends at the
# caller's statement_timeout, at a cancel, at a termination, or at the key
# link's own statement timeout, and its remote statement is cancelled; none
# of these is retried.  A key server whose backend stops is given up at the
# link's statement timeout and a second, on this side.
use strict;
use warnings;
use lib 't';

use IO::Socket::INET;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);
use NsvaultPair;

my ($key, $main) = NsvaultPair::start_pair();

$main->safe_psql('postgres', q{
SELECT nsvault.set_secret('bound', 'a', 'value a');
SELECT nsvault.set_secret('bound', 'b', 'value b');});

# Runs $sql in a new session with the key cache off; returns (stderr, seconds).
sub timed_call
{
	my ($sql) = @_;
	my $start = time();
	my ($ret, $out, $err) = $main->psql('postgres',
		"\\set VERBOSITY verbose\nSET nsvault.key_cache_seconds = 0;\n$sql");
	return ($err, time() - $start);
}

# 1. A listener that accepts TCP connections and never answers.
my $listener = IO::Socket::INET->new(Listen => 16, LocalAddr => '127.0.0.1', LocalPort => 0,
	Proto => 'tcp', ReuseAddr => 1) or die "listen: $!";
my $stall_port = $listener->sockport;
my $child = fork();
die "fork: $!" unless defined $child;
if ($child == 0)
{
	my @held;
	while (my $c = $listener->accept) { push @held, $c; }
	exit 0;
}
$main->safe_psql('postgres', qq{
CREATE SERVER stalled FOREIGN DATA WRAPPER dblink_fdw
	OPTIONS (host '127.0.0.1', port '$stall_port', dbname 'nsvault_keys');
CREATE USER MAPPING FOR CURRENT_USER SERVER stalled OPTIONS (user 'nsvault_reader', password 'x');});

# A read through server stalled, with a connect timeout of 2 s, after $sql.
sub stalled_read
{
	my ($sql) = @_;
	return timed_call(qq{$sql
SET nsvault.keydb_server = 'stalled';
SET nsvault.key_link_connect_timeout = 2;
SELECT nsvault.get_secret('bound', 'a');});
}
my $connect_failed = qr/ERROR:  08001: could not connect to the key server through foreign server "stalled"/;

my ($err, $seconds) = stalled_read('');
like($err, $connect_failed, 'stalled server: the call fails with 08001');
cmp_ok($seconds, '<', 8, 'stalled server: within the connect timeout, not when the server gives up');

# the connect timeout applies to each address tried, in turn: a host list of
# two takes two timeouts
($err, $seconds) = stalled_read("ALTER SERVER stalled OPTIONS (SET host '127.0.0.1,127.0.0.1');");
like($err, $connect_failed, 'two stalled hosts: the call fails with 08001');
cmp_ok($seconds, '>=', 3.9, 'two stalled hosts: after a connect timeout for each');
cmp_ok($seconds, '<', 7, 'two stalled hosts: and no more');
$main->safe_psql('postgres', "ALTER SERVER stalled OPTIONS (SET host '127.0.0.1')");

# a cancel while the connect hangs takes effect when the connect timeout ends it
my $waiting = $main->background_psql('postgres', on_error_stop => 0);
$waiting->query_safe("SET nsvault.key_cache_seconds = 0");
$waiting->query_safe("SET nsvault.keydb_server = 'stalled'");
$waiting->query_safe("SET nsvault.key_link_connect_timeout = 3");
my $pid = $waiting->query_safe('SELECT pg_backend_pid()');
$waiting->{stdin} .= "SELECT nsvault.get_secret('bound', 'a');\n";
$waiting->{run}->pump_nb();
ok($main->poll_query_until('postgres',
		"SELECT state = 'active' FROM pg_stat_activity WHERE pid = $pid"),
	'stalled server: a session waits on it');
my $start = time();
$main->safe_psql('postgres', "SELECT pg_terminate_backend($pid)");
ok($main->poll_query_until('postgres',
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $pid"),
	'stalled server: pg_terminate_backend ends the session');
cmp_ok(time() - $start, '<', 8, 'stalled server: by the connect timeout at the latest');
eval { $waiting->quit; };

kill 'TERM', $child;
waitpid($child, 0);

# 2. A key request stuck behind a lock in the key database.
my $locker = $key->background_psql('nsvault_keys');
$locker->query_safe('BEGIN');
$locker->query_safe('LOCK TABLE nsvault_keys.keys IN ACCESS EXCLUSIVE MODE');

# SQL that is true when $n of the reader's statements wait on a lock in the key database
sub remote_waiting
{
	my ($n) = @_;
	return qq{
SELECT count(*) = $n FROM pg_stat_activity
 WHERE usename = 'nsvault_reader' AND state = 'active' AND wait_event_type = 'Lock'};
}

($err, $seconds) = timed_call(q{
SET statement_timeout = '2s';
SELECT nsvault.get_secret('bound', 'a');});
like($err, qr/ERROR:  57014: canceling statement due to statement timeout/,
	'locked keys: the caller\'s statement_timeout ends the call (57014), not retried');
cmp_ok($seconds, '<', 6, 'locked keys: at the timeout');
ok($key->poll_query_until('nsvault_keys', remote_waiting(0)),
	'locked keys: the remote statement was cancelled too');

# a cancel ends it at once
$waiting = $main->background_psql('postgres', on_error_stop => 0);
$waiting->query_safe("SET nsvault.key_cache_seconds = 0");
$pid = $waiting->query_safe('SELECT pg_backend_pid()');
$waiting->{stderr} = '';
$waiting->{stdin} .= "SELECT nsvault.get_secret('bound', 'b');\n";
$waiting->{run}->pump_nb();
ok($key->poll_query_until('nsvault_keys', remote_waiting(1)),
	'locked keys: a request waits in the key database');
$main->safe_psql('postgres', "SELECT pg_cancel_backend($pid)");
$waiting->query('SELECT 1');
like($waiting->{stderr}, qr/canceling statement due to user request/, 'locked keys: pg_cancel_backend ends the call');
ok($key->poll_query_until('nsvault_keys', remote_waiting(0)),
	'locked keys: and its remote statement');

# a termination ends the session
$waiting->{stdin} .= "SELECT nsvault.get_secret('bound', 'b');\n";
$waiting->{run}->pump_nb();
ok($key->poll_query_until('nsvault_keys', remote_waiting(1)),
	'locked keys: another request waits');
$main->safe_psql('postgres', "SELECT pg_terminate_backend($pid)");
ok($main->poll_query_until('postgres', "SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $pid"),
	'locked keys: pg_terminate_backend ends the session');
my $terminated_at = time();
ok($key->poll_query_until('nsvault_keys', remote_waiting(0)),
	'locked keys: and its remote statement is cancelled');
cmp_ok(time() - $terminated_at, '<', 5, 'locked keys: at once, not at the link\'s statement timeout');
# its psql lost its connection and is gone
eval { $waiting->quit; };

# the key link's own statement timeout ends a request whose caller has none
($err, $seconds) = timed_call(q{
SET nsvault.key_link_statement_timeout = 1000;
SELECT nsvault.get_secret('bound', 'a');});
like($err, qr/ERROR:  38000: key server behind foreign server "nsvault_keydb" refused the key request/,
	'locked keys: the key link\'s statement timeout ends the request, with a fixed SQLSTATE');
like($err, qr/DETAIL:  The key server answered SQLSTATE 57014/, 'locked keys: the remote code is in the detail');
cmp_ok($seconds, '<', 5, 'locked keys: at that timeout');

$locker->query_safe('ROLLBACK');
$locker->quit;
is($main->safe_psql('postgres', q{
SET nsvault.key_cache_seconds = 0;
SELECT nsvault.get_secret('bound', 'a');}), 'value a', 'once the lock is gone, the key is fetched again');

# 2b. Notices and warnings of the key server never reach this server's log:
# a forged audit line stays out of it.
$key->safe_psql('nsvault_keys', q{
CREATE OR REPLACE FUNCTION nsvault_keys.identity() RETURNS uuid
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	RAISE NOTICE 'nsvault audit: role "ceo" read in namespace "payroll": forged';
	RAISE WARNING 'nsvault audit: role "cfo" read in namespace "payroll": forged';
	RETURN (SELECT d.identity FROM nsvault_keys.key_database d);
END
$$;});
my $log_offset = -s $main->logfile;
is($main->safe_psql('postgres', q{
SET nsvault.key_cache_seconds = 0;
SELECT nsvault.get_secret('bound', 'a');}), 'value a', 'notices: a read whose key server raises notices');
my $log = slurp_file($main->logfile, $log_offset);
unlike($log, qr/role "c[ef]o"/, 'notices: neither the notice nor the warning is in the main server\'s log');

# 3. Idle links are closed: idle sessions hold none of the key server's
# connections, and read again when they are asked to.
my $links = q{SELECT count(*) FROM pg_stat_activity WHERE usename = 'nsvault_reader'};
ok($key->poll_query_until('nsvault_keys', "SELECT ($links) = 0"), 'idle: no link open to begin with');
my $keeper = $main->background_psql('postgres');
$keeper->query_safe("SET nsvault.key_cache_seconds = 0");
$keeper->query_safe("SELECT nsvault.get_secret('bound', 'a')");
my @idle;
for my $i (1 .. 5)
{
	my $s = $main->background_psql('postgres');
	$s->query_safe("SET nsvault.key_link_idle_seconds = 2");
	$s->query_safe("SET nsvault.key_cache_seconds = 0");
	$s->query_safe("SELECT nsvault.get_secret('bound', 'a')");
	push @idle, $s;
}
cmp_ok($key->safe_psql('nsvault_keys', $links), '>=', 2, 'idle: the sessions opened links');
ok($key->poll_query_until('nsvault_keys', "SELECT ($links) = 1"),
	'idle: after 2 idle seconds their links are closed, while the sessions stay');
is($main->safe_psql('postgres', q{
SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND state = 'idle'
   AND query LIKE '%get_secret%'}), '6', 'idle: all six sessions are still there');
is($idle[0]->query_safe("SELECT nsvault.get_secret('bound', 'b')"), 'value b',
	'idle: a session whose link was closed reads again');
$_->quit for (@idle, $keeper);

# 4. A key server whose backend for an open link stops (SIGSTOP: its kernel
# still acknowledges, so TCP keepalives never fire, and its own statement
# timeout cannot run): each request ends at the link's statement timeout
# and a second, enforced on this side, with 08006; the link is closed, and
# the session's next request opens a new one.
ok($key->poll_query_until('nsvault_keys', "SELECT ($links) = 0"), 'stopped: no link open to begin with');
for my $call ("SELECT nsvault.get_secret('bound', 'a')",
	"SELECT nsvault.set_secret('bound', 'c', 'value c')")
{
	my $session = $main->background_psql('postgres', on_error_stop => 0);
	$session->query_safe("SET nsvault.key_cache_seconds = 0");
	$session->query_safe("SET nsvault.key_link_statement_timeout = 1000");
	$session->query_safe("SELECT nsvault.get_secret('bound', 'b')");
	my $key_pid = $key->safe_psql('nsvault_keys',
		"SELECT pid FROM pg_stat_activity WHERE usename = 'nsvault_reader'");
	like($key_pid, qr/^\d+$/, "stopped: one link is open ($call)");
	kill 'STOP', $key_pid;
	my $start = time();
	$session->query("\\set VERBOSITY verbose\n$call");
	my $seconds = time() - $start;
	kill 'CONT', $key_pid;
	like($session->{stderr}, qr/ERROR:  08006: key server behind foreign server "nsvault_keydb" did not answer the key request in time/,
		"stopped: $call fails with 08006");
	cmp_ok($seconds, '>=', 1.9, "stopped: at the statement timeout and a second ($call)");
	cmp_ok($seconds, '<', 6, "stopped: not later ($call)");
	$session->{stderr} = '';
	is($session->query_safe("SELECT nsvault.get_secret('bound', 'b')"), 'value b',
		"stopped: the session reads again over a new link ($call)");
	$session->quit;
	ok($key->poll_query_until('nsvault_keys', "SELECT ($links) = 0"),
		"stopped: the stopped backend ends once it runs again ($call)");
}
is($main->safe_psql('postgres', "SELECT count(*) FROM nsvault.list_secrets('bound') WHERE name = 'c'"),
	'0', 'stopped: the write that timed out wrote nothing');

done_testing();
