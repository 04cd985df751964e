# 060_client_enrich.pl — nsvault enrich against real clusters: Direktiv's
# workflow, .secrets replaced, no connection without secrets, a missing
# secret, the warnings, batch mode over one connection, template errors
# that quote no secret, and no value in the server log or stderr.
use strict;
use warnings;
use lib 't';

use JSON::PP;
use MIME::Base64 qw(encode_base64);
use PostgreSQL::Test::Utils;
use Test::More;
use NsvaultClient;
use NsvaultPair;

my ($key, $main) = NsvaultPair::start_pair(log_statement => "'none'", log_connections => 'on');
my $connstr = $main->connstr('postgres');
my $dir = PostgreSQL::Test::Utils::tempdir();
my @stderrs;

# Runs the client on the database $conn; returns (exit status, stdout, stderr).
sub run_client
{
	my ($conn, $stdin, @args) = @_;
	my ($status, $out, $err) = NsvaultClient::run($stdin, '-d', $conn, @args);
	push @stderrs, $err;
	return ($status >> 8, $out, $err);
}
sub nsvault { return run_client($connstr, @_); }

sub write_file
{
	my ($name, $content) = @_;
	open my $fh, '>', "$dir/$name" or die "$name: $!";
	print $fh $content;
	close $fh;
	return "$dir/$name";
}

my $token = 'tok-' . NsvaultPair::random_hex(12);
my $other = 'other-' . NsvaultPair::random_hex(12);
is((nsvault($token, 'secret', 'set', 'demo', 'secretToken'))[0], 0, 'the example secret is stored');
is((nsvault($other, 'secret', 'set', 'demo', 'db/password'))[0], 0, 'a second secret is stored');

# Direktiv's httpget example workflow, shipped in examples/
my ($rc, $out, $err) = nsvault('', 'enrich', '--namespace', 'demo',
	'--workflow', 'examples/httpget.yaml', '--state', 'getter', '--data', 'examples/httpget-data.json');
is($rc, 0, "enrich of Direktiv's httpget example workflow exits 0") or diag($err);
is($out,
	qq({"headers":{"Authorization":"bearer $token","Content-type":"application/json; charset=UTF-8"},)
	  . qq("method":"GET","url":"https://jsonplaceholder.typicode.com/todos/1"}\n),
	'the input has the bearer token filled in');
is($err, '', 'and nothing on stderr');

# .secrets is replaced; the rest of the data stays; data from stdin
my $action = write_file('action.json', qq({"function": "f", "secrets": ["db/password"],
	"input": {"s": "jq(.secrets)", "keep": "jq(.keep)"}}));
($rc, $out, $err) = nsvault(qq({"keep": 1, "secrets": {"forged": "x"}}),
	'enrich', '-n', 'demo', '--action', $action);
is($out, qq({"keep":1,"s":{"db/password":"$other"}}\n), '.secrets replaced, the rest kept');

# YAML actions too
my $yaml_action = write_file('action.yaml', "secrets: [secretToken]\ninput:\n  t: \"x jq(.secrets.secretToken) y\"\n");
($rc, $out) = nsvault('{}', 'enrich', '-n', 'demo', '-a', $yaml_action);
is($out, qq({"t":"x $token y"}\n), 'a YAML action');

# no secrets: no connection at all, not even a namespace
my $plain = write_file('plain.json', '{"function": "f", "input": {"n": "jq(.n + 1)"}}');
($rc, $out, $err) = run_client('host=/nonexistent-socket-dir', '{"n": 41}', 'enrich', '--action', $plain);
is($rc, 0, 'an action without secrets needs no database') or diag($err);
is($out, qq({"n":42}\n), 'and is evaluated');

# a missing secret: exit 3, named, nothing on stdout
my $missing = write_file('missing.json', '{"secrets": ["secretToken", "gone"], "input": "jq(.secrets)"}');
($rc, $out, $err) = nsvault('{}', 'enrich', '-n', 'demo', '-a', $missing);
is($rc, 3, 'a missing secret exits 3');
is($out, '', 'with nothing on stdout');
like($err, qr/^nsvault: error: enrich: secret "gone" not found in namespace "demo"\n\z/, 'naming it');

# options stand anywhere: -d after enrich's own
{
	my ($status, $o, $e) = NsvaultClient::run('{}', 'enrich', '-n', 'demo', '-a', $missing, '-d', $connstr);
	is($status >> 8, 3, '-d after the command\'s options is read');
	push @stderrs, $e;
}

# usage and input errors
($rc, $out, $err) = nsvault('{}', 'enrich', '-a', $missing);
is($rc, 2, 'secrets without --namespace exit 2');
like($err, qr/a namespace is required/, 'saying so');
($rc) = nsvault('{}', 'enrich', '--workflow', 'examples/httpget.yaml');
is($rc, 2, '--workflow without --state exits 2');
($rc) = nsvault('{}', 'enrich', '--workflow', 'examples/httpget.yaml', '--action', $plain, '--state', 'getter');
is($rc, 2, '--workflow with --action exits 2');
($rc, $out, $err) = nsvault('{}', 'enrich', '-n', 'demo', '--workflow', 'examples/httpget.yaml', '--state', 'nope');
is($rc, 1, 'an unknown state exits 1');
like($err, qr/has no state "nope"/, 'naming it');
($rc, $out, $err) = nsvault('[1]', 'enrich', '--action', $plain);
is($rc, 1, 'data that is not an object exits 1');
($rc, $out, $err) = nsvault('{"n": 1', 'enrich', '--action', $plain);
is($rc, 1, 'data that is not JSON exits 1');
my $broken = write_file('broken.json', '{"input": {"h": {"x": "a jq(.nope) b"}}}');
($rc, $out, $err) = nsvault('{}', 'enrich', '-a', $broken);
is($rc, 1, 'a template error exits 1');
like($err, qr/^nsvault: error: enrich: input.h.x: jq: no results\n\z/, 'naming where');
my $state = write_file('wf.yaml', "id: w\nstates:\n- id: s\n  type: noop\n");
($rc, $out, $err) = nsvault('{}', 'enrich', '-w', $state, '-s', 's');
is($rc, 1, 'a state that is not an action exits 1');

# the warnings: no input (everything, secrets included, goes out) and subflows
my $no_input = write_file('noinput.json', '{"function": "f", "secrets": ["secretToken"]}');
($rc, $out, $err) = nsvault('{"a": 1}', 'enrich', '-n', 'demo', '-a', $no_input);
is($out, qq({"a":1,"secrets":{"secretToken":"$token"}}\n), 'no input sends the whole enriched data');
like($err, qr/^nsvault: warning: action has no input: the whole data, secrets included, goes to the function\n\z/,
	'with a warning');
my $subflow = write_file('sub.yaml', <<'YAML');
id: parent
functions:
- id: child
  type: subflow
  workflow: child-workflow
states:
- id: call
  type: action
  action:
    function: child
    secrets: [secretToken]
    input:
      token: jq(.secrets.secretToken)
YAML
($rc, $out, $err) = nsvault('{}', 'enrich', '-n', 'demo', '-w', $subflow, '-s', 'call');
is($rc, 0, 'a subflow action is enriched');
like($err, qr/warning: the action calls a subflow: its input, secrets included, will be logged/,
	'with a warning about subflows');

# batch: JSON lines in, JSON lines out, in order, one connection
my $connections_before = () = slurp_file($main->logfile) =~ /connection authorized/g;
my $batch = join("\n",
	qq({"namespace": "demo", "action": {"secrets": ["secretToken"], "input": {"auth": "bearer jq(.secrets.secretToken)"}}, "data": {}}),
	qq({"namespace": "demo", "action": {"secrets": ["gone"], "input": "jq(.)"}, "data": {}}),
	qq(not json),
	qq({"action": {"input": "jq(.n)"}, "data": {"n": 7}}),
	qq({"namespace": "demo", "action": {"secrets": ["db/password"], "input": "jq(.missing)"}, "data": {}}),
	qq({"namespace": "demo", "action": {"secrets": ["secretToken", "db/password"], "input": ["jq(.secrets | length)"]}, "data": {"x": 1}}))
  . "\n";
($rc, $out, $err) = nsvault($batch, 'enrich', '--batch');
is($rc, 0, 'enrich --batch exits 0');
my @lines = split /\n/, $out;
is(scalar(@lines), 6, 'one line per request');
is($lines[0], qq({"input":{"auth":"bearer $token"}}), 'request 1: the input');
is($lines[1], q({"error":{"code":"not_found","message":"secret \"gone\" not found in namespace \"demo\""}}),
	'request 2: a missing secret');
like($lines[2], qr/^\{"error":\{"code":"invalid_request",/, 'request 3: not JSON');
is($lines[3], q({"input":7}), 'request 4: no secrets');
is($lines[4], q({"error":{"code":"template","message":"input: jq: no results"}}), 'request 5: a template error');
is($lines[5], q({"input":[2]}), 'request 6: two secrets');
my $connections_after = () = slurp_file($main->logfile) =~ /connection authorized/g;
is($connections_after - $connections_before, 1, 'the batch used one connection');

# more requests than one pipeline window, failures among them: each
# failure stays with its own request, and the order is kept
my @many = map {
	my $name = $_ % 10 == 0 ? "gone$_" : 'secretToken';
	qq({"namespace": "demo", "action": {"secrets": ["$name"], "input": "jq(.n)-jq(.secrets | keys[0])"}, "data": {"n": $_}})
} 1 .. 150;
($rc, $out, $err) = nsvault(join("\n", @many) . "\n", 'enrich', '--batch');
my @replies = split /\n/, $out;
is(scalar(@replies), 150, '150 requests, 150 replies');
is_deeply(
	[ grep { $replies[ $_ - 1 ] ne ($_ % 10 == 0
				? qq({"error":{"code":"not_found","message":"secret \\"gone$_\\" not found in namespace \\"demo\\""}})
				: qq({"input":"$_-secretToken"})) } 1 .. 150 ],
	[], 'each reply belongs to its request, in order');

# A window's requests are read per namespace, the union of their names in
# one call that leaves missing names out: every request still gets what
# enriching it alone gives (one-shot enrich, which reads its own names).
# Mixed namespaces, missing and repeated names, a namespace never written,
# a refused name and a refused namespace (whose group falls back to one
# call per request), a request without secrets and one without namespace;
# an expired secret (its group falls back too) and a deleted one.
my $codec = JSON::PP->new->canonical->allow_nonref;
my $third = 'third-' . NsvaultPair::random_hex(12);
is((nsvault($third, 'secret', 'set', 'other', 'api/key'))[0], 0, 'a secret in a second namespace');
$main->safe_psql('postgres', q{
SELECT nsvault.set_secret('other', 'old/key', 'expired-value');
SELECT nsvault.set_secret_metadata('other', 'old/key', expires_at => '2000-01-01 00:00:00+00');
SELECT nsvault.set_secret('other', 'deleted/key', 'deleted-value');
SELECT nsvault.delete_secret('other', 'deleted/key');});
my @mixed = (
	[ 'demo', [ 'secretToken' ] ],
	[ 'other', [ 'api/key' ] ],
	[ 'demo', [ 'db/password', 'secretToken' ] ],
	[ 'other', [ 'api/key', 'nope' ] ],
	[ 'demo', [ 'gone', 'secretToken', 'gone2' ] ],
	[ 'never', [ 'anything' ] ],
	[ 'demo', [ 'secretToken', 'secretToken' ] ],
	[ 'other', [ 'bad//name', 'api/key' ] ],
	[ 'other', [ 'api/key' ] ],
	[ 'Bad NS', [ 'x' ] ],
	[ 'demo', [] ],
	[ undef, [ 'secretToken' ] ],
	[ 'demo', [ 'db/password' ] ],
	[ 'demo', [ 'secretToken', 'db/password' ] ],
	[ 'demo', [ "secretToken\x{0}x" ] ],
	[ 'other', [ 'api/key', 'old/key' ] ],
	[ 'other', [ 'deleted/key' ] ],
	[ 'other', [ 'api/key' ] ]);
my (@lines_in, @alone);
for my $i (0 .. $#mixed)
{
	my ($ns, $names) = @{ $mixed[$i] };
	my $action = { secrets => $names, input => { n => $i, s => 'jq(.secrets)' } };
	push @lines_in, $codec->encode({ (defined $ns ? (namespace => $ns) : ()), action => $action, data => {} });
	my $file = write_file("mixed$i.json", $codec->encode($action));
	my ($rc1, $out1, $err1) = nsvault('{}', 'enrich', (defined $ns ? ('-n', $ns) : ()), '--action', $file);
	chomp $out1;
	push @alone, $rc1 == 0 ? qq({"input":$out1})
	  : $err1 =~ /^nsvault: error: enrich: (.*)$/m ? "$rc1 $1" : "$rc1 ?$err1";
}
($rc, $out, $err) = nsvault(join("\n", @lines_in) . "\n", 'enrich', '--batch');
my @grouped = map {
	my $reply = $codec->decode($_);
	$reply->{error} ? ($reply->{error}{code} eq 'not_found' ? 3 : $reply->{error}{code} eq 'invalid_request' && $reply->{error}{message} =~ /namespace is required/ ? 2 : 1) . " $reply->{error}{message}"
	  : $_
} split /\n/, $out;
is_deeply(\@grouped, \@alone, 'a batch of mixed namespaces and missing names answers as each request alone, byte for byte');
like($alone[4], qr/^3 secret "gone" not found in namespace "demo"$/, 'alone: the first missing name, in order');
like($alone[-3], qr/^1 secret "old\/key" in namespace "other" expired at /, 'alone: an expired secret');
like($alone[-2], qr/^3 secret "deleted\/key" not found in namespace "other"/, 'alone: a deleted secret');
like($alone[-1], qr/^\{"input":/, 'alone: a secret of the same namespace');
like((split /\n/, $out)[-3], qr/^\{"error":\{"code":"expired",/, 'batch: the code of an expired secret');
like($alone[7], qr/^1 invalid secret name/, 'alone: a refused name');
like($alone[14], qr/^1 the action's secrets field holds a name with a NUL character$/,
	'alone: a name with a NUL is refused, not cut short to another name');

# template errors carry no secret: jq's own message can quote the data
# (error(.secrets.x), tonumber, "cannot be added", a bad regex flag), so an
# error names the place and the kind only.  "leak" has a quote, a backslash
# and a slash, so its JSON form differs; "leak64" is base64 text, checked
# for what it decodes to as well.
my $leak = 'lk' . NsvaultPair::random_hex(10) . q{"\/} . NsvaultPair::random_hex(6);
my $leak_plain = 'pl!' . NsvaultPair::random_hex(9) . '#';
my $leak64 = encode_base64($leak_plain, '');
is((nsvault($leak, 'secret', 'set', 'demo', 'leak'))[0], 0, 'a secret with a quote and a backslash is stored');
is((nsvault($leak64, 'secret', 'set', 'demo', 'leak64'))[0], 0, 'a secret that is base64 text is stored');

my $json = JSON::PP->new->canonical->allow_nonref;
my @leak_forms = ($leak, substr($json->encode($leak), 1, -1), encode_base64($leak, ''),
	$leak64, encode_base64($leak64, ''), $leak_plain);

# Returns the first 6-character piece of a secret, in any of its forms, found in text.
sub leaked_piece
{
	my ($text) = @_;
	for my $form (@leak_forms)
	{
		for my $i (0 .. length($form) - 6)
		{
			my $piece = substr($form, $i, 6);
			return $piece if index($text, $piece) >= 0;
		}
	}
	return undef;
}

# Each template fails on a secret, one-shot and in a batch; the error must
# match $hidden (the place and the kind) and hold no part of a secret.
sub check_leaky_templates
{
	my ($hidden, @templates) = @_;
	my @actions = map {
		{ secrets => [ 'leak', 'leak64' ], input => { headers => { Authorization => $_ } } }
	} @templates;
	my $message = qr/input\.headers\.Authorization: $hidden/;

	for my $i (0 .. $#templates)
	{
		my $file = write_file("leaky$i.json", $json->encode($actions[$i]));
		my ($rc, $out, $err) = nsvault('{}', 'enrich', '-n', 'demo', '-a', $file);
		is($rc, 1, "$templates[$i]: a template error exits 1");
		is($out, '', "$templates[$i]: with nothing on stdout");
		like($err, qr/^nsvault: error: enrich: $message\n\z/,
			"$templates[$i]: stderr names the place and the kind");
		is(leaked_piece($err), undef, "$templates[$i]: and holds no part of a secret");
	}

	my ($rc, $out, $err) = nsvault(join('', map { $json->encode({ namespace => 'demo', action => $_, data => {} }) . "\n" }
			@actions), 'enrich', '--batch');
	is($rc, 0, 'a batch of template errors exits 0');
	is($err, '', 'with nothing on stderr');
	my @lines = split /\n/, $out;
	is(scalar(@lines), scalar(@templates), 'one line per request');
	for my $i (0 .. $#templates)
	{
		my $reply = eval { $json->decode($lines[$i] // '') } // {};
		is($reply->{error}{code}, 'template', "--batch $templates[$i]: a template error");
		like($reply->{error}{message} // '', qr/^$message\z/,
			"--batch $templates[$i]: naming the place and the kind");
		is(leaked_piece($lines[$i] // ''), undef, "--batch $templates[$i]: and no part of a secret");
	}
}

check_leaky_templates(
	qr/\Qjq: error (the message is not shown: it may contain secret values)\E/,
	'jq(error(.secrets.leak))',
	'jq(.secrets.leak|tonumber)',
	'bearer jq(.secrets.leak + 1)',
	'jq({a: .secrets.leak}|error)',
	'jq(.secrets.leak|@base64|error)',
	'jq(.secrets.leak64|@base64d|tonumber)',
	'jq(.secrets.leak as $s | "x" | test("x"; $s))',
	'x jq("t=\(.secrets.leak)"|error) y');

# a js(...) runtime error names its kind, never its message
check_leaky_templates(
	qr/js: (?:[A-Za-z]+|a thrown value) \(the message is not shown: it may contain secret values\)/,
	'js(throw new Error(data.secrets.leak))',
	'js(throw data.secrets.leak)',
	'js(return null[data.secrets.leak])',
	'bearer js(return data.secrets.leak.x.y)',
	'js(return JSON.parse(data.secrets.leak))',
	'js(return eval(data.secrets.leak))',
	'js(return atob(data.secrets.leak))');

# jq's input and inputs have nothing to read: each fails its own request
# cleanly and the batch goes on (libjq 1.6 crashed the process here)
($rc, $out, $err) = nsvault(join("\n",
		map { qq({"namespace": "demo", "action": {"function": "f", "input": "$_"}, "data": {"x": 1}}) }
		'jq(1)', 'jq(input)', 'jq([inputs])', 'jq(first(inputs))', 'jq(.x)') . "\n", 'enrich', '--batch');
is($rc, 0, 'input, inputs: the batch exits 0, it did not crash');
@lines = split /\n/, $out;
is(scalar(@lines), 5, 'input, inputs: one reply per request');
is($lines[0], '{"input":1}', 'input, inputs: the request before them is answered');
like($lines[$_], qr/^\{"error":\{"code":"template"/, "input, inputs: request $_ is a template error")
	for 1 .. 3;
is($lines[4], '{"input":1}', 'input, inputs: and the batch goes on after them');

# data as Direktiv reads it: "input": null is no input (the whole data),
# integers past 64 bits are doubles, strings may hold \u0000
($rc, $out, $err) = nsvault(join("\n",
		'{"namespace": "demo", "action": {"input": null}, "data": {"x": 1}}',
		'{"namespace": "demo", "action": {"input": "jq(.huge)"}, "data": {"huge": 100000000000000000000}}',
		'{"namespace": "demo", "action": {"input": "jq(.nul)"}, "data": {"nul": "a\\u0000b"}}',
		'{"namespace": "demo", "action": {"input": 123456789012345678901}, "data": {}}') . "\n",
	'enrich', '--batch');
@lines = split /\n/, $out;
is($lines[0], '{"input":{"x":1}}', 'input null: the whole data');
like($err, qr/request 1: action has no input/, 'input null: with the warning');
is($lines[1], '{"input":100000000000000000000}', 'a 21-digit integer in the data is read');
is($lines[2], '{"input":"a\\u0000b"}', 'a string holding \u0000 is read');
like($lines[3], qr/^\{"input":12345678901234568\d{4}\}$/, 'a 21-digit number as the template is accepted');

# js(...) sees the data, and the secrets under data.secrets
my $js_action = write_file('js.json',
	'{"secrets": ["secretToken"], "input": {"auth": "bearer js(return data.secrets.secretToken)", "n": "js(return data.n * 2)"}}');
($rc, $out, $err) = nsvault('{"n": 21}', 'enrich', '-n', 'demo', '-a', $js_action);
is($rc, 0, 'js: enrich exits 0');
is($out, qq({"auth":"bearer $token","n":42}\n), 'js: the secret and the data reach the expression');

# an endless loop or a memory bomb fails its own request; the batch goes on
($rc, $out, $err) = nsvault(join("\n",
		map { qq({"namespace": "demo", "action": {"function": "f", "input": "$_"}, "data": {"x": 1}}) }
		'js(return data.x)', 'js(for (;;) {})', 'js(var s = \'x\'; for (;;) s += s)', 'js(return data.x + 1)') . "\n",
	'enrich', '--batch', '--js-timeout=1', '--js-memory=16');
is($rc, 0, 'js limits: the batch exits 0');
@lines = split /\n/, $out;
is($lines[0], '{"input":1}', 'js limits: the request before is answered');
is($lines[1], '{"error":{"code":"template","message":"input: js: the time limit of 1 s was reached"}}',
	'js limits: an endless loop reaches the time limit');
is($lines[2], '{"error":{"code":"template","message":"input: js: the memory limit of 16 MB was reached"}}',
	'js limits: a memory bomb reaches the memory limit');
is($lines[3], '{"input":2}', 'js limits: and the batch goes on');
($rc, $out, $err) = nsvault('', 'enrich', '--batch', '--js-timeout=0');
is($rc, 2, 'js limits: a limit out of range is a usage error');

# a result that grows as it is converted or sent reaches the memory limit
# (64 MB) soon, not gigabytes and the time limit; the batch goes on
my @bombs = (
	'js(var a = [1]; for (var i = 0; i < 40; i++) a = [a, a]; return a)',
	'js(var s = data.secrets.secretToken; while (s.length < 8 << 20) s += s; '
	  . 'var a = []; for (var i = 0; i < 48; i++) a.push(s); return a)',
	'js(return \'\\u0001\'.repeat(16 << 20))',
	'js(return data.x)');
my $started = time;
($rc, $out, $err) = nsvault(join('', map {
			$json->encode({ namespace => 'demo', data => { x => 1 },
				action => { function => 'f', secrets => ['secretToken'], input => $_ } }) . "\n"
		} @bombs),
	'enrich', '--batch');
my $took = time - $started;
@lines = split /\n/, $out;
my $memory_error = '{"error":{"code":"template","message":"input: js: the memory limit of 64 MB was reached"}}';
is($lines[0], $memory_error, 'js limits: a = [a, a] forty times over reaches the memory limit');
is($lines[1], $memory_error, 'js limits: 48 references to one 8 MB string reach the memory limit');
is($lines[2], $memory_error, 'js limits: a result whose JSON text is past the limit reaches it');
is($lines[3], '{"input":1}', 'js limits: and the batch goes on');
cmp_ok($took, '<', 25, "js limits: the three end soon (in $took s, not the time limit each)");

# output that cannot be written fails enrich, exit 1; a closed standard
# output does not become the connection's descriptor, which would send the
# answers, secrets and all, to the server as protocol messages
my %reason = (full => 'No space left on device', closed => 'Bad file descriptor');
my $secret_request = '{"namespace": "demo", "action": {"secrets": ["secretToken"], "input": "jq(.secrets.secretToken)"}}';
for my $to ('full', 'closed')
{
	for my $call ([ "$secret_request\n" x 2, 'enrich', '--batch' ],
		[ '{"n": 21}', 'enrich', '-n', 'demo', '-a', $js_action ])
	{
		my ($stdin, @args) = @$call;
		my ($status, $e) = NsvaultClient::run_program_output_to($to, 'nsvault', $stdin, '-d', $connstr, @args);
		push @stderrs, $e;
		is($status >> 8, 1, "stdout $to: nsvault @args exits 1");
		like($e, qr/^nsvault: error: enrich: could not write to standard output: $reason{$to}\n\z/,
			"stdout $to: nsvault @args says so, in one line");
	}
}
unlike(slurp_file($main->logfile), qr/invalid frontend message/, 'no answer went to the server');

# no value in the server log or in anything the client wrote to stderr
my $log = slurp_file($main->logfile);
my $stderr_all = join('', @stderrs);
for my $secret ($token, $other, $leak, $leak64, $leak_plain)
{
	ok(index($log, $secret) < 0, 'no secret value in the server log');
	ok(index($stderr_all, $secret) < 0, "no secret value in the client's stderr");
}

done_testing();
