# 240_pgbouncer.pl — nsvault behind Debian's PgBouncer, in transaction
# mode and in session mode, in front of the main cluster: reads, writes,
# grants and revokes by several roles, interleaved, through per-user pools
# (a backend serves one login role); a gateway role that switches roles per
# transaction with SET LOCAL ROLE on one backend; the privilege cache of a
# pooled backend never serving one role's rights to another, and a revoke
# seen at once by the backend that cached the right; the audit trail naming
# the role; enrich --batch (libpq's pipeline mode) through it; the key link
# of pooled backends closed when idle, also after a failed statement; and
# what session state does: a session SET of nsvault.* (key_cache_seconds,
# audit) or SET ROLE sticks to the server connection in transaction mode
# and reaches the pool's next client, SET LOCAL does not, and ALTER ROLE …
# SET reaches the pool's new server connections; the client's --json times,
# and what the pool's next client sees of them; no server connection lost,
# no pooler error.
use strict;
use warnings;
use lib 't';

use IPC::Run;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);
use NsvaultClient;
use NsvaultPair;

my ($pgbouncer) = grep { -x $_ } map { "$_/pgbouncer" } (split(/:/, $ENV{PATH}), '/usr/sbin');
die "pgbouncer is not installed: make deps installs it\n" unless defined $pgbouncer;

# preloaded, so that reads reach the audit table and keys are cached for
# all backends; a time zone that is not UTC, so that a session set to UTC
# shows; idle key links closed after 2 s
my ($key, $main) = NsvaultPair::start_pair(
	shared_preload_libraries => "'nsvault'",
	timezone => "'Pacific/Auckland'",
	'nsvault.key_link_idle_seconds' => 2);
# every key request the main server makes, and every link it opens, in the
# key server's log
$key->append_conf('postgresql.conf', "log_statement = 'all'\nlog_connections = on\n");
$key->reload;

# nsvault's roles: an admin of the namespaces, a writer (app), a reader
# (engine, which writes only its own namespace, so that it has EXECUTE on
# set_secret and nsvault's own check is what refuses it elsewhere), and a
# gateway that holds no grant and switches to app or engine per transaction
my @roles = qw(postgres vault_admin app engine gateway);
my %password = map { $_ => NsvaultPair::random_hex(12) } @roles;
$main->safe_psql('postgres', join('', map { "ALTER ROLE $_ PASSWORD '$password{$_}';\n" } 'postgres')
	. join('', map { "CREATE ROLE $_ LOGIN PASSWORD '$password{$_}';\n" } grep { $_ ne 'postgres' } @roles)
	. q{
ALTER ROLE gateway NOINHERIT;
GRANT app, engine TO gateway;
SELECT nsvault.grant_namespace('engineown', 'engine', 'write');
SELECT nsvault.set_secret('engineown', 'own', 'engine-own-value');
});

# The auth_file: each role's SCRAM secret as pg_authid holds it, so clients
# log in to PgBouncer with their own passwords; PgBouncer reaches the server
# over its socket as the same role (a pool per user).
my $userlist = $main->safe_psql('postgres', q{
SELECT string_agg(format('"%s" "%s"', rolname, rolpassword), E'\n' ORDER BY rolname)
  FROM pg_authid WHERE rolname IN ('postgres', 'vault_admin', 'app', 'engine', 'gateway')});

# Starts a PgBouncer in pool mode $mode in front of database postgres, one
# server connection per pool; returns {mode, port, dir, handle}.
sub start_bouncer
{
	my ($mode) = @_;
	my $dir = PostgreSQL::Test::Utils::tempdir("pgbouncer_$mode");
	my $port = PostgreSQL::Test::Cluster::get_free_port();
	my ($host, $main_port) = ($main->host, $main->port);

	open my $fh, '>', "$dir/userlist.txt" or die $!;
	print $fh "$userlist\n";
	close $fh;
	open $fh, '>', "$dir/pgbouncer.ini" or die $!;
	print $fh <<"INI";
[databases]
postgres = host=$host port=$main_port dbname=postgres

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir = $dir
auth_type = scram-sha-256
auth_file = $dir/userlist.txt
admin_users = postgres
pool_mode = $mode
default_pool_size = 1
max_client_conn = 100
server_reset_query = DISCARD ALL
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
INI
	close $fh;
	my $handle = IPC::Run::start([ $pgbouncer, "$dir/pgbouncer.ini" ],
		'<', \undef, '>', "$dir/stdout", '2>', "$dir/stderr");
	my $bouncer = { mode => $mode, port => $port, dir => $dir, handle => $handle };
	# pg_isready reads no stdin: psql, refused, could exit before reading its
	for (1 .. 100)
	{
		return $bouncer
		  if IPC::Run::run([ 'pg_isready', '-q', '-h', '127.0.0.1', '-p', $port, '-d', 'pgbouncer' ],
			'<', \undef, '>', \my $out, '2>', \my $err);
		sleep 0.1;
	}
	die "pgbouncer ($mode) did not start: " . slurp_file("$dir/stderr");
}

# The connection string of $user through $bouncer.
sub conninfo
{
	my ($bouncer, $user, $dbname) = @_;
	$dbname //= 'postgres';
	return "host=127.0.0.1 port=$bouncer->{port} dbname=$dbname user=$user password=$password{$user}";
}

# Runs $sql as $user through $bouncer, a client of its own; returns
# (exit status, stdout, stderr).
sub via
{
	my ($bouncer, $user, $sql) = @_;
	# an error goes on to the transaction's end, as a client would: a client
	# that leaves in a transaction costs the pool its server connection
	my ($ret, $out, $err) = $main->psql('postgres', $sql,
		connstr => conninfo($bouncer, $user), timeout => 60, on_error_stop => 0);
	return ($ret, $out, $err);
}

# Runs $sql as via does; dies on an error.
sub via_safe
{
	my ($bouncer, $user, $sql) = @_;
	my ($ret, $out, $err) = via($bouncer, $user, $sql);
	die "$user through pgbouncer ($bouncer->{mode}): $err" if $ret != 0 || $err ne '';
	return $out;
}

# The server backend that serves $user's next transaction.
sub backend_of
{
	my ($bouncer, $user) = @_;
	return via_safe($bouncer, $user, 'SELECT pg_backend_pid()');
}

# Runs the client as $user through $bouncer; returns (exit status, stdout, stderr).
sub nsvault
{
	my ($bouncer, $user, $stdin, @args) = @_;
	my ($status, $out, $err) = NsvaultClient::run($stdin, '-d', conninfo($bouncer, $user), @args);
	return ($status >> 8, $out, $err);
}

# The key requests for $namespace in the key server's log after $offset.
sub key_requests
{
	my ($namespace, $offset) = @_;
	my $log = slurp_file($key->logfile, $offset);
	return scalar(() = $log =~ /statement: SELECT a\.identity.*nsvault_keys\.key_version\('$namespace'/g);
}

# The rows of the audit trail after id $since, as "role action secret" lines, sorted.
sub audit_since
{
	my ($since, $namespace) = @_;
	return $main->safe_psql('postgres', qq{
SELECT string_agg(format('%s %s %s', role_name, action, coalesce(secret_name, '-')), E'\n'
				  ORDER BY role_name, action, secret_name)
  FROM nsvault.audit_events WHERE id > $since AND namespace = '$namespace'});
}

sub last_audit_id
{
	return $main->safe_psql('postgres', 'SELECT coalesce(max(id), 0) FROM nsvault.audit_events');
}

# Polls until the audit trail after $since holds $expected (read events
# arrive through the audit writer) or 10 s pass; returns what it holds.
sub wait_for_audit
{
	my ($since, $namespace, $expected) = @_;
	my $deadline = time() + 10;
	my $got;
	while (1)
	{
		$got = audit_since($since, $namespace);
		last if $got eq $expected || time() > $deadline;
		sleep 0.1;
	}
	return $got;
}

my %bouncers = map { $_ => start_bouncer($_) } qw(transaction session);
# the values the nsvault client sent through the poolers
my @client_values;
END
{
	local $?;
	for my $bouncer (values %bouncers)
	{
		$bouncer->{handle}->kill_kill if $bouncer->{handle};
	}
}

# PgBouncer checks the password of each role
{
	my $wrong = conninfo($bouncers{transaction}, 'engine');
	$wrong =~ s/password=\S+/password=$password{app}/;
	my ($status, $out, $err) = NsvaultClient::run('', '-d', $wrong, 'secret', 'get', 'engineown', 'own');
	is($status >> 8, 1, 'pgbouncer: engine with app\'s password is refused');
	like($err, qr/could not connect: .*SASL authentication failed/, 'pgbouncer: as a wrong password');
}

for my $mode (qw(transaction session))
{
	my $b = $bouncers{$mode};
	my $ns = $mode eq 'transaction' ? 'pooltx' : 'poolsession';
	my $since = last_audit_id();

	# 1. a pool per user: one backend each, kept across clients
	my %backend = map { $_ => backend_of($b, $_) } qw(vault_admin app engine gateway);
	is(backend_of($b, 'app'), $backend{app}, "$mode: app's next client gets app's backend again");
	is(scalar(keys %{ { reverse %backend } }), 4, "$mode: each role has a backend of its own");
	is($main->safe_psql('postgres', qq{
SELECT string_agg(usename, ' ' ORDER BY usename) FROM pg_stat_activity
 WHERE pid IN ($backend{vault_admin}, $backend{app}, $backend{engine}, $backend{gateway})}),
		'app engine gateway vault_admin', "$mode: each backend is logged in as its role");

	# 2. grants, writes and reads, interleaved, each role a client of its own
	$main->safe_psql('postgres', "SELECT nsvault.grant_namespace('$ns', 'vault_admin', 'admin')");
	via_safe($b, 'vault_admin', qq{
SELECT nsvault.grant_namespace('$ns', 'app', 'write');
SELECT nsvault.grant_namespace('$ns', 'engine', 'read');});
	my $v1 = 'v1-' . NsvaultPair::random_hex(8);
	push @client_values, $v1;
	my ($rc, $out, $err) = nsvault($b, 'app', $v1, 'secret', 'set', $ns, 'db');
	is($rc, 0, "$mode: app writes through the pooler") or diag($err);
	($rc, $out, $err) = nsvault($b, 'engine', '', 'secret', 'get', $ns, 'db');
	is("$rc $out", "0 $v1", "$mode: engine reads it through the pooler");
	my $engine_value = 'engine-' . NsvaultPair::random_hex(8);
	push @client_values, $engine_value;
	($rc, $out, $err) = nsvault($b, 'engine', $engine_value, 'secret', 'set', $ns, 'db');
	is($rc, 1, "$mode: engine cannot write, though app's backend just wrote");
	like($err, qr/permission denied for namespace "$ns".*Role "engine" does not hold the write privilege/,
		"$mode: refused by nsvault's check, naming engine");
	($rc, $out) = nsvault($b, 'app', '', 'secret', 'get', $ns, 'db');
	is($out, $v1, "$mode: and wrote nothing");
	is(backend_of($b, 'app'), $backend{app}, "$mode: app is still on the backend that cached its right");

	# 3. a revoke reaches the backend that cached app's write at once
	via_safe($b, 'vault_admin', "SELECT nsvault.revoke_namespace('$ns', 'app', 'write')");
	($rc, $out, $err) = nsvault($b, 'app', 'after-revoke', 'secret', 'set', $ns, 'db');
	is($rc, 1, "$mode: after the revoke app's pooled backend refuses app's write");
	like($err, qr/Role "app" does not hold the write privilege/, "$mode: naming app and write");
	($rc, $out) = nsvault($b, 'app', '', 'secret', 'get', $ns, 'db');
	is("$rc $out", "0 $v1", "$mode: app keeps read, and nothing was written");
	is(backend_of($b, 'app'), $backend{app}, "$mode: on the same pooled backend");
	via_safe($b, 'vault_admin', "SELECT nsvault.grant_namespace('$ns', 'app', 'write')");
	($rc) = nsvault($b, 'app', 'v2', 'secret', 'set', $ns, 'db');
	is($rc, 0, "$mode: a grant again reaches it too");

	# 4. one backend, two roles: the gateway switches with SET LOCAL ROLE in
	# each transaction, each a client of its own
	($rc, $out, $err) = via($b, 'gateway', qq{
BEGIN; SET LOCAL ROLE app; SELECT nsvault.set_secret('$ns', 'gw', 'by-app'); COMMIT;});
	is($rc, 0, "$mode: gateway as app writes") or diag($err);
	($rc, $out, $err) = via($b, 'gateway', qq{
BEGIN; SET LOCAL ROLE engine; SELECT nsvault.set_secret('$ns', 'gw', 'by-engine'); COMMIT;});
	like($err, qr/permission denied for namespace "$ns".*Role "engine" does not hold the write privilege/s,
		"$mode: gateway as engine, next, cannot write");
	is(via_safe($b, 'gateway', qq{
BEGIN; SET LOCAL ROLE engine; SELECT pg_backend_pid(), nsvault.get_secret('$ns', 'gw'); COMMIT;}),
		"$backend{gateway}|by-app", "$mode: but reads, on the backend that cached app's write");
	is(via_safe($b, 'gateway', 'SELECT current_user'), 'gateway', "$mode: SET LOCAL ROLE ended with its transaction");
	($rc, $out, $err) = via($b, 'gateway', "SELECT nsvault.get_secret('$ns', 'gw')");
	like($err, qr/permission denied/, "$mode: gateway itself holds nothing");
	via_safe($b, 'vault_admin', "SELECT nsvault.revoke_namespace('$ns', 'app', 'write')");
	($rc, $out, $err) = via($b, 'gateway', qq{
BEGIN; SET LOCAL ROLE app; SELECT nsvault.set_secret('$ns', 'gw', 'after-revoke'); COMMIT;});
	like($err, qr/Role "app" does not hold the write privilege/, "$mode: gateway as app after a revoke cannot write");
	via_safe($b, 'vault_admin', "SELECT nsvault.grant_namespace('$ns', 'app', 'write')");

	# 5. the audit trail names each role, never the gateway that logged in
	my $expected = join("\n",
		'app read db', 'app read db', 'app write db', 'app write db', 'app write gw',
		'engine read db', 'engine read gw',
		'postgres grant -',
		('vault_admin grant -') x 4, ('vault_admin revoke -') x 2);
	is(wait_for_audit($since, $ns, $expected), $expected,
		"$mode: the audit trail names the role of each read, write, grant and revoke");

	# 6. enrich --batch: libpq's pipeline mode, a sync after each call, two
	# namespaces to a window, three windows; in the second, a name the server
	# refuses fails its group's call inside the pipeline, and the group is
	# asked again one request at a time
	my %value = ("$ns/db" => 'v2', "$ns/gw" => 'by-app', 'engineown/own' => 'engine-own-value');
	my (@requests, @expected);
	for my $i (1 .. 150)
	{
		my ($n, $name) = $i == 100 ? ($ns, 'bad//name')
		  : $i % 3 == 0 ? ('engineown', 'own')
		  : $i % 10 == 1 ? ($ns, "gone$i")
		  : ($ns, $i % 2 ? 'db' : 'gw');
		push @requests, qq({"namespace": "$n", "action": {"secrets": ["$name"],)
		  . qq( "input": "jq(.n)=jq(.secrets | to_entries[0].value)"}, "data": {"n": $i}});
		push @expected, exists $value{"$n/$name"} ? qq({"input":"$i=$value{"$n/$name"}"})
		  : qq({"error":{"code":"not_found","message":"secret \\"$name\\" not found in namespace \\"$n\\""}});
	}
	($rc, $out, $err) = nsvault($b, 'engine', join("\n", @requests) . "\n", 'enrich', '--batch');
	is($rc, 0, "$mode: enrich --batch as engine exits 0") or diag($err);
	my @replies = split /\n/, $out;
	is(scalar(@replies), 150, "$mode: enrich --batch: 150 requests, 150 replies");
	like($replies[99] // '', qr/^\{"error":\{"code":"\w+","message":"invalid secret name/,
		"$mode: enrich --batch: the name the server refuses fails its own request");
	is_deeply([ grep { $_ != 99 && ($replies[$_] // '') ne $expected[$_] } 0 .. 149 ], [],
		"$mode: enrich --batch: each other reply is its request's, in order");

	# 7. --json sets the session's time zone and date style; its times are
	# RFC 3339 UTC, and the pool's next client has the server's settings
	# (PgBouncer tracks TimeZone and DateStyle per client and sets them again
	# on the server connection a client gets; SET LOCAL in the client's
	# transaction would not need it)
	($rc, $out, $err) = nsvault($b, 'app', '', 'secret', 'list', $ns, '--json');
	is($rc, 0, "$mode: secret list --json as app") or diag($err);
	my $list = eval { decode_json($out) } // [];
	my @times = map { @$_{qw(created_at updated_at)} } @$list;
	is(scalar(@times), 4, "$mode: secret list --json: two secrets, two times each");
	is_deeply([ grep { !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z\z/ } @times ], [],
		"$mode: secret list --json: every time is RFC 3339 UTC");
	is(via_safe($b, 'app', q{
SELECT pg_backend_pid(), current_setting('TimeZone'), current_setting('DateStyle')}),
		"$backend{app}|Pacific/Auckland|ISO, MDY",
		"$mode: the pool's next client, on the same backend, has the server's TimeZone and DateStyle");

	# 8. a session SET of nsvault.* (superusers only)
	my $pg_backend = backend_of($b, 'postgres');
	via_safe($b, 'postgres', "SELECT nsvault.get_secret('$ns', 'db')");    # the key is cached now
	my $offset = -s $key->logfile;
	via_safe($b, 'postgres', "SELECT nsvault.get_secret('$ns', 'db');\n" x 3);
	is(key_requests($ns, $offset), 0, "$mode: reads with the key cached ask the key server nothing");
	via_safe($b, 'postgres', 'SET nsvault.key_cache_seconds = 0');
	$offset = -s $key->logfile;
	is(via_safe($b, 'postgres', qq{
SELECT pg_backend_pid(), current_setting('nsvault.key_cache_seconds');
SELECT nsvault.get_secret('$ns', 'db');
SELECT nsvault.get_secret('$ns', 'db');}),
		$mode eq 'transaction' ? "$pg_backend|0\nv2\nv2" : "$pg_backend|5min\nv2\nv2",
		$mode eq 'transaction'
		? "$mode: a client's SET nsvault.key_cache_seconds = 0 reaches the pool's next client, on the same backend"
		: "$mode: a client's SET nsvault.key_cache_seconds = 0 ends with it (DISCARD ALL), on the same backend");
	is(key_requests($ns, $offset), $mode eq 'transaction' ? 2 : 0,
		$mode eq 'transaction'
		? "$mode: which fetches the key for each of its reads"
		: "$mode: whose reads use the cached key");
	via_safe($b, 'postgres', 'RESET nsvault.key_cache_seconds');

	# nsvault.audit = off the same way: the pool's next client's write
	# (recorded in its own transaction, when it is) goes unrecorded
	via_safe($b, 'postgres', 'SET nsvault.audit = off');
	my $before = last_audit_id();
	via_safe($b, 'postgres', "SELECT nsvault.set_secret('$ns', 'audited', 'x')");
	# (the reads above may reach the trail later, through the audit writer)
	is(join(',', grep { / audited$/ } split /\n/, audit_since($before, $ns)),
		$mode eq 'transaction' ? '' : 'postgres write audited',
		$mode eq 'transaction'
		? "$mode: a client's SET nsvault.audit = off leaves the pool's next client's write out of the trail"
		: "$mode: a client's SET nsvault.audit = off ends with it");
	via_safe($b, 'postgres', 'RESET nsvault.audit');

	# 9. a session SET ROLE
	via_safe($b, 'gateway', 'SET ROLE engine');
	is(via_safe($b, 'gateway', 'SELECT current_user'), $mode eq 'transaction' ? 'engine' : 'gateway',
		$mode eq 'transaction'
		? "$mode: a gateway client's SET ROLE engine reaches the pool's next client"
		: "$mode: a gateway client's SET ROLE engine ends with it");
	via_safe($b, 'gateway', 'RESET ROLE');
}

# 10. Transaction mode: SET LOCAL ends with its transaction.
my $tx = $bouncers{transaction};
my $pg_backend = backend_of($tx, 'postgres');
my $offset = -s $key->logfile;
is(via_safe($tx, 'postgres', q{
BEGIN;
SET LOCAL nsvault.key_cache_seconds = 0;
SELECT nsvault.get_secret('pooltx', 'db');
COMMIT;}), 'v2', 'transaction: a read with SET LOCAL nsvault.key_cache_seconds = 0');
is(key_requests('pooltx', $offset), 1, 'transaction: fetches its key');
$offset = -s $key->logfile;
is(via_safe($tx, 'postgres', q{
SELECT pg_backend_pid(), current_setting('nsvault.key_cache_seconds');
SELECT nsvault.get_secret('pooltx', 'db');
SELECT nsvault.get_secret('pooltx', 'db');}), "$pg_backend|5min\nv2\nv2",
	'transaction: the pool\'s next client, on the same backend, has the default');
# a read with the cache off empties the database's entries of the shared
# cache: the first read after it fetches, and caches, the key again
is(key_requests('pooltx', $offset), 1, 'transaction: and its second read uses the key its first cached');

# 11. ALTER ROLE … SET applies to a role's new server connections: those
# open keep what they started with until PgBouncer replaces them (RECONNECT)
$main->safe_psql('postgres', 'ALTER ROLE engine SET nsvault.key_cache_seconds = 0');
my $engine_backend = backend_of($tx, 'engine');
is(via_safe($tx, 'engine', "SELECT current_setting('nsvault.key_cache_seconds')"), '5min',
	'transaction: after ALTER ROLE engine SET, its open pooled backend keeps the old value');
$main->safe_psql('pgbouncer', 'RECONNECT postgres', connstr => conninfo($tx, 'postgres', 'pgbouncer'));
my $deadline = time() + 10;
sleep 0.1 while backend_of($tx, 'engine') eq $engine_backend && time() < $deadline;
$offset = -s $key->logfile;
is(via_safe($tx, 'engine', q{
SELECT current_setting('nsvault.key_cache_seconds');
SELECT nsvault.get_secret('pooltx', 'db');
SELECT nsvault.get_secret('pooltx', 'db');}), "0\nv2\nv2",
	'transaction: after RECONNECT, engine\'s new pooled backend has it');
is(key_requests('pooltx', $offset), 2, 'transaction: and fetches the key for each read');
$main->safe_psql('postgres', 'ALTER ROLE engine RESET nsvault.key_cache_seconds');

# 12. The key links of pooled backends close after key_link_idle_seconds
# (2 s) while PgBouncer keeps the backends, even when the last statement
# failed (an error disables the backend's timeouts), and open again when
# needed.  Engine's backend has the cache off (ALTER ROLE, above).
my $links = q{SELECT count(*) FROM pg_stat_activity WHERE usename = 'nsvault_reader'};
my %pooled = map { $_ => backend_of($tx, $_) } qw(postgres engine);
my ($ret, $stdout, $stderr) = via($tx, 'postgres', q{
BEGIN;
SET LOCAL nsvault.key_cache_seconds = 0;
SELECT nsvault.get_secret('pooltx', 'db');
COMMIT;
SELECT 1 / (random() * 0)::int;});
like($stderr, qr/division by zero/, 'idle: postgres\'s pooled backend fails a statement after a key request');
($ret, $stdout, $stderr) = via($tx, 'engine', q{
SELECT nsvault.get_secret('pooltx', 'db');
SELECT nsvault.set_secret('pooltx', 'db', 'no');});
like($stderr, qr/permission denied for namespace/, 'idle: so does engine\'s');
cmp_ok($key->safe_psql('nsvault_keys', $links), '>=', 2,
	'idle: the pooled backends of postgres and engine hold key links');
$deadline = time() + 15;
sleep 0.2 while $key->safe_psql('nsvault_keys', $links) ne '0' && time() < $deadline;
is($key->safe_psql('nsvault_keys', $links), '0', 'idle: their links are closed after 2 idle seconds');
is($main->safe_psql('postgres',
	"SELECT count(*) FROM pg_stat_activity WHERE pid IN ($pooled{postgres}, $pooled{engine})"),
	'2', 'idle: while the pooled backends stay');
$offset = -s $key->logfile;
is(via_safe($tx, 'postgres', q{
BEGIN;
SET LOCAL nsvault.key_cache_seconds = 0;
SELECT pg_backend_pid(), nsvault.get_secret('pooltx', 'db');
COMMIT;}), "$pooled{postgres}|v2", 'idle: the pooled backend reads again');
my $reopened = () = slurp_file($key->logfile, $offset) =~ /connection authorized: user=nsvault_reader/g;
is($reopened, 1, 'idle: over a new link');

# 13. PgBouncer kept every server connection until RECONNECT (a client
# that left in a transaction, or a pipeline out of step, would have cost
# one) and logged no warning or error but the wrong password's.
for my $mode (sort keys %bouncers)
{
	my @log = split /\n/, slurp_file("$bouncers{$mode}{dir}/pgbouncer.log");
	is_deeply([ grep { /\b(WARNING|ERROR)\b/ && !/engine\@127\.0\.0\.1:\d+ (pooler error: )?(SASL|password) authentication failed/ } @log ],
		[], "pgbouncer ($mode): no warning or error but the wrong password's");
	is_deeply([ grep { /S-\S+: .* closing because: (?!database configuration changed)/ } @log ],
		[], "pgbouncer ($mode): no server connection closed but by RECONNECT");
	my $whole = join("\n", @log);
	is_deeply([ grep { index($whole, $_) >= 0 } @client_values ], [],
		"pgbouncer ($mode): no value the client sent through it is in its log");
}

done_testing();
