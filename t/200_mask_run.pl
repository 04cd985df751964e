# 200_mask_run.pl — nsvault mask and nsvault run against real clusters:
# mask by --secret, --action and --workflow/--state, every form of a value
# masked, overlapping values masked as one, a multi-line value masked line
# by line, a missing secret before any output, short values; run's
# environment, exit status and 128+N, forwarded SIGTERM, SIGINT and
# SIGHUP, stdout and stderr kept apart, masking and --no-mask (overlapping
# values split across reads, a multi-line value's lines), a missing
# secret (command not started), an invalid VAR, a command that cannot
# start, run's environment and memory closed to its own user while the
# command runs, run killed mid-stream; and no value in stderr or the server
# log.
use strict;
use warnings;
use lib 't';

use Cwd qw(abs_path);
use IPC::Run;
use JSON::PP;
use MIME::Base64 qw(encode_base64);
use Time::HiRes qw(sleep);
use PostgreSQL::Test::Utils;
use Test::More;
use NsvaultClient;
use NsvaultPair;

my ($key, $main) = NsvaultPair::start_pair(log_statement => "'none'");
my $connstr = $main->connstr('postgres');
my $dir = PostgreSQL::Test::Utils::tempdir();
my @stderrs;

# Runs the client; returns (exit status, stdout, stderr).
sub nsvault
{
	my ($stdin, @args) = @_;
	my ($status, $out, $err) = NsvaultClient::run($stdin, '-d', $connstr, @args);
	push @stderrs, $err;
	return ($status >> 8, $out, $err);
}

# Writes a file in the test's directory; returns its path.
sub write_file
{
	my ($name, $content) = @_;
	append_to_file("$dir/$name", $content);
	return "$dir/$name";
}

# URI-escaped as encodeURIComponent would, leaving RFC 3986's unreserved
sub percent
{
	my ($s) = @_;
	$s =~ s/([^A-Za-z0-9\-._~])/sprintf('%%%02X', ord($1))/ge;
	return $s;
}

# as encodeURIComponent would, leaving ! * ' ( ) too
sub uri_component
{
	my ($s) = @_;
	$s =~ s/([^A-Za-z0-9\-._~!*'()])/sprintf('%%%02X', ord($1))/ge;
	return $s;
}

# ovl_a's last 8 characters are ovl_b's first 8: where both appear
# overlapping, neither may show
my $overlap = NsvaultPair::random_hex(4);
my %value = (
	api => 'api+' . NsvaultPair::random_hex(10) . '/"q"',
	bang => 'p@ss/w!rd*(' . NsvaultPair::random_hex(8) . ")'",
	db => 'db-' . NsvaultPair::random_hex(12),
	ovl_a => 'ovl-' . NsvaultPair::random_hex(4) . $overlap,
	ovl_b => $overlap . '-tail-' . NsvaultPair::random_hex(4),
	pem => "-----BEGIN-----\nline-" . NsvaultPair::random_hex(8) . "\n-----END-----",
	short => 'ab');
my $ovl_joined = $value{ovl_a} . substr($value{ovl_b}, 8);
for my $name (sort keys %value)
{
	is((nsvault($value{$name}, 'secret', 'set', 'demo', $name))[0], 0, "secret $name is stored");
}

# --- mask ------------------------------------------------------------------

my $api = $value{api};
my $api_json = JSON::PP->new->allow_nonref->encode($api);
$api_json =~ s/^"|"$//g;
my $input = join("\n",
	"plain: $api",
	"base64: " . encode_base64($api, ''),
	"base64 inside: " . encode_base64("xy$api" . "z", ''),
	"json: {\"k\":\"$api_json\"}",
	"uri: ?t=" . percent($api),
	"db: $value{db}",
	"pem line: " . (split /\n/, $value{pem})[1],
	"");
my ($status, $out, $err) = nsvault($input, 'mask', '--namespace', 'demo', '--secret', 'api',
	'--secret', 'db', '--secret', 'pem');
is($status, 0, 'mask --secret succeeds') or diag($err);
my @lines = split /\n/, $out;
is(scalar(@lines), 7, 'mask keeps every line');
like($_, qr/\*\*\*/, "masked: " . (split /:/, $_)[0]) for @lines;
for my $name (qw(api db))
{
	ok(index($out, $value{$name}) < 0, "no $name value in mask's output");
}
ok(index($out, encode_base64($api, '')) < 0, 'no base64 of it either');
is($err, '', 'mask warns of nothing when every value is long enough');

($status, $out, $err) = nsvault("a $ovl_joined b\n", 'mask', '--namespace', 'demo',
	'--secret', 'ovl_a', '--secret', 'ovl_b');
is($out, "a *** b\n", 'two overlapping values are masked as one');
($status, $out, $err) = nsvault("key:\n$value{pem}\nafter\n", 'mask', '--namespace', 'demo',
	'--secret', 'pem');
is($out, "key:\n***\n***\n***\nafter\n", 'a multi-line value is masked line by line');
($status, $out, $err) = nsvault('{"u":"?p=' . uri_component($value{bang}) . "\"}\n", 'mask',
	'--namespace', 'demo', '--secret', 'bang');
is($out, "{\"u\":\"?p=***\"}\n", "a value as encodeURIComponent writes it, ! * ' ( ) left");

($status, $out, $err) = nsvault("x ab y $value{db}\n", 'mask', '--namespace', 'demo',
	'--secret', 'short', '--secret', 'db');
is($status, 0, 'a short value does not fail mask');
is($out, "x ab y ***\n", 'a short value is not masked, the others are');
like($err, qr/secret "short" is shorter than 4 bytes: it is not masked/, 'the short secret is named');
($status, $out) = nsvault("x ab y\n", 'mask', '--namespace', 'demo', '--secret', 'short',
	'--min-length', '2');
is($out, "x *** y\n", '--min-length 2 masks it');

($status, $out, $err) = nsvault("$value{db}\n", 'mask', '--namespace', 'demo',
	'--secret', 'db', '--secret', 'nosuch');
is($status, 3, 'a missing secret exits 3');
is($out, '', 'and mask writes nothing');
like($err, qr/nosuch|does not exist/, 'the error says so');

my $action = write_file('action.json', encode_json({ function => 'f', secrets => ['db', 'api'] }));
($status, $out, $err) = nsvault("a $value{db} b $api\n", 'mask', '--namespace', 'demo',
	'--action', $action);
is($status, 0, 'mask --action succeeds') or diag($err);
is($out, "a *** b ***\n", 'mask --action masks the secrets the action names');

my $workflow = write_file('workflow.yaml', <<'EOF');
functions:
- id: f
  image: x
  type: knative-workflow
states:
- id: first
  type: action
  action:
    function: f
    secrets: [db]
EOF
($status, $out, $err) = nsvault("a $value{db} b $api\n", 'mask', '--namespace', 'demo',
	'--workflow', $workflow, '--state', 'first');
is($status, 0, 'mask --workflow --state succeeds') or diag($err);
is($out, "a *** b $api\n", 'it masks only the secrets of that state');

($status, $out, $err) = nsvault('', 'mask', '--namespace', 'demo');
is($status, 2, 'mask without secrets is a usage error');
($status, $out, $err) = nsvault('', 'mask', '--namespace', 'demo', '--secret', 'db',
	'--action', $action);
is($status, 2, 'mask with two ways of naming secrets is a usage error');

# --- run -------------------------------------------------------------------

my $marker = "$dir/started";
my @run = ('run', '--namespace', 'demo', '--env', 'DB_PASS=db', '--env', 'API=api');

($status, $out, $err) = nsvault('', @run, '--no-mask', '--', 'sh', '-c',
	'printf "%s|%s" "$DB_PASS" "$API"');
is($status, 0, 'run --no-mask succeeds') or diag($err);
is($out, "$value{db}|$api", 'the command has the values in its environment');

($status, $out, $err) = nsvault('', @run, '--', 'sh', '-c',
	'echo "out $DB_PASS"; echo "err $API" >&2; exit 7');
is($status, 7, "run exits with the command's status");
is($out, "out ***\n", 'its stdout is masked, on stdout');
is($err, "err ***\n", 'its stderr is masked, on stderr');

# the first value, a pause (so that the masker reads twice), then what is
# left of the second
($status, $out, $err) = nsvault('', 'run', '--namespace', 'demo', '--env', 'A=ovl_a',
	'--env', 'B=ovl_b', '--env', 'PEM=pem', '--', 'sh', '-c',
	'printf "x %s" "$A"; sleep 0.5; printf "%s y\n" "${B#????????}"; printf "%s\n" "$PEM"');
is($status, 0, 'run with overlapping values succeeds') or diag($err);
is($out, "x *** y\n***\n***\n***\n",
	'overlapping values written in two reads are masked as one, a multi-line value line by line');

($status, $out, $err) = nsvault('', @run, '--', 'sh', '-c', 'kill -KILL $$');
is($status, 128 + 9, 'a command ended by signal 9 makes run exit 137');

($status, $out, $err) = nsvault('', 'run', '--namespace', 'demo', '--env', 'X=nosuch',
	'--', 'sh', '-c', "touch $marker");
is($status, 3, 'a missing secret exits 3');
ok(!-e $marker, 'and the command is not started');

for my $bad ('1X=db', 'A-B=db', '=db', 'X')
{
	($status, $out, $err) = nsvault('', 'run', '--namespace', 'demo', '--env', $bad,
		'--', 'sh', '-c', "touch $marker");
	is($status, 2, "--env $bad is a usage error");
}
ok(!-e $marker, 'no command was started');

($status, $out, $err) = nsvault('', @run, '--', "$dir/no-such-command");
is($status, 127, 'a command that cannot be started exits 127');
like($err, qr/^nsvault: error: run: could not start "[^"]+": No such file or directory\n\z/,
	'with one clear line');

# Whether a process runs: a zombie does not (where no init reaps orphans).
sub running
{
	my ($pid) = @_;
	open(my $fh, '<', "/proc/$pid/stat") or return 0;
	my $stat = <$fh>;
	return $stat !~ /^\d+ \(.*\) Z /;
}

# Starts run with the command given to sh -c; returns the harness and refs
# to what it has written so far.
sub start_run
{
	my ($script) = @_;
	my @wrapper = split(' ', $ENV{NSVAULT_CLIENT_WRAPPER} // '');
	my ($tout, $terr) = ('', '');
	my $h = IPC::Run::start([ @wrapper, abs_path('client/nsvault'), '-d', $connstr, @run, '--',
		'sh', '-c', $script ], '<', \undef, '>', \$tout, '2>', \$terr);
	return ($h, \$tout, \$terr);
}

# Pumps the harness until its stdout matches the pattern, for at most 60 s.
sub pump_output_until
{
	my ($h, $tout, $pattern) = @_;
	my $deadline = time + 60;
	$h->pump while $$tout !~ $pattern && time < $deadline;
	return $$tout =~ $pattern;
}

# SIGTERM, SIGINT and SIGHUP to run reach the command, whose trap answers
my %trap_status = (TERM => 42, INT => 43, HUP => 44);
for my $signal (sort keys %trap_status)
{
	my ($h, $tout, $terr) = start_run(
		"trap 'kill \$!; echo got-$signal \$DB_PASS; exit $trap_status{$signal}' $signal; "
		  . 'echo ready; sleep 60 & wait');
	pump_output_until($h, $tout, qr/ready/);
	$h->signal($signal);
	$h->finish;
	is($h->result(0), $trap_status{$signal},
		"run passes SIG$signal on, and exits with the status the command chose");
	is($$tout, "ready\ngot-$signal ***\n", "SIG$signal: the command's trap ran, its output masked");
	push @stderrs, $$terr;
}

# While the command runs, run's own environment and memory are closed to
# the user it runs as (it is not dumpable), and its command line names no
# value.  The command's parent is run itself (or the wrapper it runs in).
SKIP:
{
	skip 'root may read any process', 3 if $> == 0;
	my ($h, $tout, $terr) = start_run('echo "ready $PPID"; exec sleep 60');
	ok(pump_output_until($h, $tout, qr/ready \d+\n/), 'the command started');
	my ($client_pid) = $$tout =~ /ready (\d+)/;
	my $opened = 0;
	for my $file ('environ', 'mem')
	{
		$opened++ if open(my $fh, '<', "/proc/$client_pid/$file");
	}
	is($opened, 0, "run's environ and mem cannot be opened by its own user");
	my $cmdline = slurp_file("/proc/$client_pid/cmdline");
	ok(index($cmdline, $value{db}) < 0 && index($cmdline, $value{api}) < 0,
		"run's command line holds no value");
	$h->signal('TERM');
	$h->finish;
	push @stderrs, $$terr;
}

# run killed mid-stream, where no handler of its runs: what reached stdout
# was masked (not even a prefix of the value was let through), and the
# command, writing to a pipe that no one reads any more, ends.  It stops
# when a write fails, as SIGPIPE may be ignored (run passes on what it was
# started with, and the test harness ignores it).
{
	my ($h, $tout, $terr) = start_run(
		'echo "pid $$"; while echo "v=$DB_PASS"; do :; done');
	ok(pump_output_until($h, $tout, qr/(v=\*\*\*\n){100}/), 'the command writes its secret, masked');
	my ($command_pid) = $$tout =~ /^pid (\d+)/;
	$h->signal('KILL');
	$h->finish;
	is($h->full_result(0) & 127, 9, 'run was killed by SIGKILL');
	like($$tout, qr/\Apid \d+\n(v=\*\*\*\n)+(v(=\**)?)?\z/,
		'stdout holds only masked lines, the last perhaps cut short before the value');
	my $deadline = time + 30;
	sleep 0.1 while running($command_pid) && time < $deadline;
	ok(!running($command_pid), 'the command ends once it writes to the dead pipe');
	push @stderrs, $$terr;
}

# --- no value where it should not be ---------------------------------------

my $stderr_all = join('', @stderrs);
my $log = slurp_file($main->logfile) . slurp_file($key->logfile);
for my $name (qw(api bang db ovl_a ovl_b pem))
{
	my $v = $value{$name};
	my @forms = ($v, encode_base64($v, ''), percent($v), uri_component($v));
	ok(!(grep { index($stderr_all, $_) >= 0 } @forms), "no $name value in any stderr");
	ok(!(grep { index($log, $_) >= 0 } @forms), "no $name value in either server log");
}

done_testing();
