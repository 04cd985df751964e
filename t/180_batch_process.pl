# enrich --batch as a process an engine talks to: it answers each request
# as it arrives; the process a js(...) expression runs in (nsvault-js, the
# client's child), what it holds, and what becomes of it when it, or the
# client, is killed.  No database: the requests name no secrets.  Run as
# root too (by scripts/run-tests.sh), where its descriptors and environment
# can be seen.
use strict;
use warnings;
use Cwd qw(abs_path);
use IPC::Run qw(start pump finish timeout timer);
use Time::HiRes qw(sleep time);
use Test::More;

my $client = abs_path('client/nsvault');

# The pid of the client's child, waited for up to 10 s while IPC::Run
# passes on what was written to the client (it buffers).
sub child_of
{
	my ($h) = @_;
	my $parent = $h->{KIDS}[0]{PID};
	my $deadline = time + 10;
	while (time < $deadline)
	{
		$h->pump_nb;
		for my $status (glob '/proc/[0-9]*/status')
		{
			open my $fh, '<', $status or next;
			my ($pid, $ppid);
			while (<$fh>)
			{
				$pid = $1 if /^Pid:\s+(\d+)/;
				$ppid = $1 if /^PPid:\s+(\d+)/;
			}
			return $pid if defined $ppid && $ppid == $parent;
		}
		sleep 0.05;
	}
	return undef;
}

sub gone_within
{
	my ($pid, $seconds) = @_;
	my $deadline = time + $seconds;
	while (time < $deadline)
	{
		return 1 unless -e "/proc/$pid";
		# a zombie has been killed; only its parent's wait is missing
		open my $fh, '<', "/proc/$pid/stat" or return 1;
		my $stat = <$fh>;
		return 1 if defined $stat && $stat =~ /^\d+ \(.*\) Z/;
		sleep 0.05;
	}
	return 0;
}

sub slurp
{
	my ($path) = @_;
	open my $fh, '<', $path or return undef;
	local $/;
	return <$fh> // '';
}

sub request
{
	my ($template) = @_;
	return qq({"namespace": "t", "action": {"function": "f", "input": "$template"}, "data": {"x": 1}}\n);
}

my ($in, $out, $err) = ('', '', '');
# a password in the environment, which the js(...) process must not get
local $ENV{PGPASSWORD} = 'env-secret-' . $$;
my $h = start([ $client, 'enrich', '--batch', '--js-timeout=30' ], \$in, \$out, \$err, timeout(60));

# 1. one request, and its answer before the next is sent
for my $n (1 .. 3)
{
	$in .= request("jq(.x + $n)");
	pump $h until ($out =~ tr/\n//) >= $n;
}
is($out, qq({"input":2}\n{"input":3}\n{"input":4}\n), 'each request is answered before the next one comes');
$out = '';

# 1b. a whole request is answered while the next line is still being
# written: the partial line does not count as a request that is waiting
{
	my ($pin, $pout, $perr) = ('', '', '');
	my $t = timer(10);
	my $p = start([ $client, 'enrich', '--batch' ], \$pin, \$pout, \$perr, $t);
	my $second = request('jq(.x + 20)');
	my $half = int(length($second) / 2);
	# in one write, so that both reach the client in one read
	$pin .= request('jq(.x + 10)') . substr($second, 0, $half);
	pump $p until $pout =~ /\n/ || $t->is_expired;
	is($pout, qq({"input":11}\n), 'a request is answered while the next one is half written');
	$t->start(10);
	$pin .= substr($second, $half);
	pump $p until ($pout =~ tr/\n//) >= 2 || $t->is_expired;
	is($pout, qq({"input":11}\n{"input":21}\n), 'and the next one once its line is whole');
	# and the last, at the end of the input, may end without one
	$pin .= substr(request('jq(.x + 30)'), 0, -1);
	$t->start(10);
	eval { finish $p };
	is($pout, qq({"input":11}\n{"input":21}\n{"input":31}\n), 'a last line without a newline is a request');
	$p->kill_kill if $p->pumpable;
}

# 2. what the child holds while it runs
$in .= request('js(for (;;) {})');
my $child = child_of($h);
ok(defined $child, 'an endless js(...) runs in a process of its own, the client\'s child');

# its limits, once it has set them (it is found as soon as it exists)
my $limits = '';
for (1 .. 100)
{
	$limits = slurp("/proc/$child/limits") // '';
	last if $limits =~ /^Max address space\s+\d/m;
	sleep 0.05;
}
like($limits, qr/^Max core file size\s+0\s+0\s/m, 'the child cannot dump core');
like($limits, qr/^Max cpu time\s+31\s+32\s/m, 'its CPU time is bounded one second past the time limit');
my $address_space = 4 * 64 * 2**20 + 256 * 2**20;
like($limits, qr/^Max address space\s+$address_space\s+$address_space\s/m,
	'its address space is bounded at four times the memory limit and 256 MB');

like(slurp("/proc/$child/cmdline"), qr/^nsvault-js\0/, 'it is nsvault-js');
SKIP:
{
	# /proc/PID/fd and environ of a process that is not dumpable are root's alone
	skip 'descriptors and environment: only root may look', 6 if $> != 0;
	my @fds = sort { $a <=> $b } map { m{/(\d+)$} } glob "/proc/$child/fd/*";
	is("@fds", '0 1 2', 'it has descriptors 0 to 2 only: no connection, no other request');
	like(readlink("/proc/$child/fd/0") // '', qr/^pipe:/, 'its standard input is the request pipe');
	like(readlink("/proc/$child/fd/1") // '', qr/^pipe:/, 'its standard output is its answer pipe, not the batch');
	isnt(readlink("/proc/$child/fd/1"), readlink("/proc/$h->{KIDS}[0]{PID}/fd/1"), 'which is not the client\'s output');
	is(readlink("/proc/$child/fd/2"), '/dev/null', 'its standard error is /dev/null, not the client\'s');
	is(slurp("/proc/$child/environ"), '', 'its environment is empty (no PGPASSWORD, no PG* variables)');
}
SKIP:
{
	skip 'root reads any process', 2 if $> == 0;
	ok(!opendir(my $fd_dir, "/proc/$child/fd"), 'it is not dumpable: its descriptors are closed to its own user');
	ok(!open(my $env_fh, '<', "/proc/$child/environ"), 'and so are its environment and memory');
}

# 3. a child killed by a signal fails its request; the batch goes on
ok(kill('SEGV', $child), 'the child can be signalled');
$in .= request('js(return data.x + 1)');
pump $h until ($out =~ tr/\n//) >= 2 || !$h->pumpable;
my @lines = split /\n/, $out;
is($lines[0], '{"error":{"code":"template","message":"input: js: the evaluator ended with signal 11"}}',
	'a child killed by a signal fails its own request');
is($lines[1], '{"input":2}', 'and the next request is answered');

# 4. the child dies with the client
$in .= request('js(for (;;) {})');
$child = child_of($h);
ok(defined $child, 'another endless js(...) runs');
kill 'KILL', $h->{KIDS}[0]{PID};
eval { finish $h };
ok(gone_within($child, 5), 'killing the client ends its js(...) child at once');

# 5. the child stops converting a result at the time limit by itself: at
# 4096 MB, a = [a, a] forty times over would take the limit's worth of
# memory first (run here as the client runs it, this test its parent)
my $request = '{"body": "var a = [1]; for (var i = 0; i < 40; i++) a = [a, a]; return a", "data": {}}';
my $answer = '';
my $started = time;
IPC::Run::run([ abs_path('client/nsvault-js'), 1, 4096, $$ ], \$request, \$answer, timeout(30));
my $took = time - $started;
is($answer, 'Ejs: the time limit of 1 s was reached', 'a result converted past the time limit: the child stops');
cmp_ok($took, '<', 3, sprintf('at the limit (in %.1f s), not one second of CPU later', $took));

done_testing();
