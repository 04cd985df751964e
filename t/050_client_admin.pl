# 050_client_admin.pl — the client's secret and registry commands against
# real clusters: values from stdin byte for byte, every exit status, values
# that are not UTF-8 refused before they are sent, and no value in stderr or
# in the server log, even when a write fails.
use strict;
use warnings;
use lib 't';

use MIME::Base64 qw(decode_base64);
use PostgreSQL::Test::Utils;
use Test::More;
use NsvaultClient;
use NsvaultPair;

# the server's default logging: statements are not logged, failing ones are
my ($key, $main) = NsvaultPair::start_pair(log_statement => "'none'");
my $connstr = $main->connstr('postgres');
my @stderrs;

# Runs the client on the main cluster; returns (exit status, stdout, stderr).
sub nsvault
{
	my ($stdin, @args) = @_;
	my ($status, $out, $err) = NsvaultClient::run($stdin, '-d', $connstr, @args);
	push @stderrs, $err;
	return ($status >> 8, $out, $err);
}

my $value = "first line\nsecond line \x{c3}\x{bc}ber \$HOME %s\n\n";
my ($rc, $out, $err) = nsvault($value, 'secret', 'set', 'ops', 'db/password');
is($rc, 0, 'secret set exits 0') or diag($err);
is($out, "1\n", 'and prints the version it wrote');
($rc, $out) = nsvault('', 'secret', 'get', 'ops', 'db/password');
is($rc, 0, 'secret get exits 0');
is($out, $value, 'secret get writes back exactly the bytes of stdin');

# --no-overwrite on an existing name fails and keeps the old value
my $refused = 'REFUSED-' . NsvaultPair::random_hex(8);
($rc, $out, $err) = nsvault($refused, 'secret', 'set', '--no-overwrite', 'ops', 'db/password');
is($rc, 1, 'secret set --no-overwrite on an existing secret exits 1');
like($err, qr/^nsvault: error: secret set: secret "db\/password" already exists in namespace "ops"\n\z/,
	'one line naming what failed');
is((nsvault('', 'secret', 'get', 'ops', 'db/password'))[1], $value, 'the old value is kept');
($rc) = nsvault('new value', 'secret', 'set', 'ops', 'api-token', '--no-overwrite');
is($rc, 0, '--no-overwrite after the operands, on a new name');

($rc, $out, $err) = nsvault('', 'secret', 'list', 'ops');
is($rc, 0, 'secret list exits 0');
like($out, qr/^api-token\t[^\t]+\t[^\t]+\t1\t\t\ndb\/password\t[^\t]+\t[^\t]+\t1\t\t\n\z/,
	'list: name, created, updated, version, and no description or expiry');

# missing secrets: exit 3, nothing on stdout
($rc, $out, $err) = nsvault('', 'secret', 'get', 'ops', 'nope');
is($rc, 3, 'secret get of a missing secret exits 3');
is($out, '', 'and prints nothing on stdout');
like($err, qr/secret "nope" not found in namespace "ops"/, 'and names it');

($rc) = nsvault('', 'secret', 'delete', 'ops', 'api-token');
is($rc, 0, 'secret delete exits 0');
($rc, $out, $err) = nsvault('', 'secret', 'delete', 'ops', 'api-token');
is($rc, 3, 'deleting it again exits 3');
like($err, qr/secret "api-token" not found in namespace "ops"/, 'naming it');

# versions: check-and-set, reading one, listing, rollback, undelete, destroy, purge
($rc, $out, $err) = nsvault('v2', 'secret', 'set', '--cas', '1', 'ver', 'key');
is("$rc:$out", '4:', '--cas 1 on a secret that does not exist exits 4, writing nothing');
like($err, qr/^nsvault: error: secret set: check-and-set failed for secret "key" in namespace "ver" \(Version 1 was expected; the secret does not exist\.\)\n\z/,
	'naming the current state');
is(join('', map { (nsvault("value $_", 'secret', 'set', '--cas', $_ - 1, 'ver', 'key'))[1] } 1 .. 3),
	"1\n2\n3\n", '--cas 0, 1, 2 write versions 1, 2, 3');
($rc, $out) = nsvault('stale', 'secret', 'set', 'ver', 'key', '--cas', '2');
is($rc, 4, 'a stale --cas exits 4');
is((nsvault('', 'secret', 'get', 'ver', 'key'))[1], 'value 3', 'and the value stays');
is((nsvault('', 'secret', 'get', '--version', '1', 'ver', 'key'))[1], 'value 1', 'get --version 1');
($rc, $out) = nsvault('', 'secret', 'get', 'ver', 'key', '--version', '9');
is("$rc:$out", '3:', 'get --version of a version that is not there exits 3');
($rc, $out) = nsvault('', 'secret', 'versions', 'ver', 'key');
like($out, qr/^1\t[^\t]+\t\w+\t\tf\n2\t[^\t]+\t\w+\t\tf\n3\t[^\t]+\t\w+\t\tf\n\z/,
	'versions: version, created, by whom, not deleted, not destroyed');
# the JSON forms (here for the valgrind run too) and the default namespace
($rc, $out) = nsvault('', '-n', 'ver', 'secret', 'versions', 'key', '--json');
like($out, qr/^\[\{"version":1,.*"destroyed":false\}\]\n\z/, 'versions --json, with -n');
($rc, $out) = nsvault('', 'secret', 'list', 'ver', '--json');
like($out, qr/^\[\{"name":"key","created_at":"[^"]+Z",.*"current_version":3,/, 'list --json');
($rc, $out) = nsvault('', 'secret', 'meta', 'ver', 'key', '--json');
like($out, qr/^\{"current_version":3,.*"max_versions":\d+\}\n\z/, 'meta --json');
is((nsvault('', 'secret', 'rollback', 'ver', 'key', '1'))[1], "4\n", 'rollback prints the new version');
is((nsvault('', 'secret', 'get', 'ver', 'key'))[1], 'value 1', "which holds version 1's value");
is((nsvault('', 'secret', 'delete', 'ver', 'key'))[0], 0, 'delete marks it deleted');
is((nsvault('', 'secret', 'get', 'ver', 'key'))[0], 3, 'a deleted secret reads as not found');
is((nsvault('', 'secret', 'undelete', 'ver', 'key', '4'))[0], 0, 'undelete exits 0');
is((nsvault('', 'secret', 'get', 'ver', 'key'))[1], 'value 1', 'and the value reads again');
($rc, $out) = nsvault('', 'secret', 'destroy', 'ver', 'key', '1', '2');
is("$rc:$out", '0:', 'destroy exits 0');
like((nsvault('', 'secret', 'versions', 'ver', 'key'))[1], qr/^1\t.*\tt\n2\t.*\tt\n3\t.*\tf\n/,
	'and the versions show it');
is((nsvault('', 'secret', 'rollback', 'ver', 'key', '2'))[0], 3, 'rollback to a destroyed version exits 3');
($rc, $out) = nsvault('', 'secret', 'meta', 'ver', 'key', '--description', 'the test key',
	'--expires', '2999-01-01 00:00:00+00');
is("$rc:$out", '0:', 'meta sets the description and the expiry');
($rc, $out) = nsvault('', 'secret', 'meta', 'ver', 'key');
like($out, qr/^current_version\t4\n.*^description\tthe test key\n.*^expires_at\t2999-/ms,
	'meta without options prints the fields');
is((nsvault('', 'secret', 'list', '--expiring', '7 days', 'ver'))[1], '', '--expiring: nothing soon');
nsvault('', 'secret', 'meta', 'ver', 'key', '--expires', '2000-01-01 00:00:00+00');
like((nsvault('', 'secret', 'list', '--expiring', '7 days', 'ver'))[1], qr/^key\t/,
	'--expiring: an expired secret');
($rc, $out, $err) = nsvault('', 'secret', 'get', 'ver', 'key');
is("$rc:$out", '1:', 'an expired secret exits 1');
like($err, qr/secret "key" in namespace "ver" expired at /, 'saying when it expired');
is((nsvault('', 'secret', 'purge', 'ver', 'key'))[0], 0, 'purge exits 0');
is((nsvault('', 'secret', 'purge', 'ver', 'key'))[0], 3, 'purging it again exits 3');
# a database whose nsvault is older than the client: told what to do
$main->safe_psql('postgres', 'CREATE DATABASE older');
$main->safe_psql('older', "CREATE EXTENSION nsvault VERSION '0.5' CASCADE");
($rc, $out, $err) = NsvaultClient::run('', '-d', $main->connstr('older'), 'secret', 'versions',
	'ver', 'key');
push @stderrs, $err;
is(($rc >> 8) . ":$out", '1:', 'a command nsvault 0.5 lacks exits 1');
my $client_version = NsvaultClient::version();
like($err, qr/function nsvault\.list_secret_versions\(.*\) does not exist; the database's nsvault is older than this client \(\Q$client_version\E\): ALTER EXTENSION nsvault UPDATE updates it\n\z/,
	'saying that the database is older and how to update it');
for my $usage ([ 'secret', 'get', '--cas', '1', 'ver', 'key' ],
	[ 'secret', 'set', '--version', '1', 'ver', 'key' ], [ 'secret', 'list', '--global', 'ver' ],
	[ 'secret', 'set', '--cas', '-1', 'ver', 'key' ], [ 'secret', 'set', '--cas', 'x', 'ver', 'key' ],
	[ 'secret', 'rollback', 'ver', 'key', '0' ], [ 'secret', 'destroy', 'ver', 'key' ],
	[ 'secret', 'destroy', 'ver', 'key', '1', 'two' ], [ 'registry', 'list', '--cas', '1', 'ops' ])
{
	($rc, $out, $err) = nsvault('v', @$usage);
	is("$rc:$out", '2:', "usage error exits 2: nsvault @$usage");
}

# bad input and bad usage
($rc, $out, $err) = nsvault("a\0b", 'secret', 'set', 'ops', 'nul');
is($rc, 2, 'a NUL byte on stdin exits 2, as text that is not valid');
like($err, qr/NUL byte/, 'saying why');

# a value that is not UTF-8 is refused by the client itself, exit 2, before
# it connects: the server's own refusal would quote up to 4 of its bytes, in
# the error and in the server log; the message gives only where
my $utf8_marker = 'UTF8-' . NsvaultPair::random_hex(8);
my @ill_formed = (
	[ 'an overlong 2-byte "/"', "\xC0\xAF" ],
	[ 'an overlong 3-byte "/"', "\xE0\x80\xAF" ],
	[ 'an overlong 4-byte "/"', "\xF0\x80\x80\xAF" ],
	[ 'a sequence cut short at the end', "\xE2\x82" ],
	[ 'a sequence cut short by ASCII', "\xE2\x82-after" ],
	[ 'a lone continuation byte', "\x80-after" ],
	[ 'a surrogate (U+D800)', "\xED\xA0\x80-after" ],
	[ 'a code point above U+10FFFF', "\xF4\x90\x80\x80-after" ],
	[ 'a byte that UTF-8 never has', "\xFF-after" ],
);
for my $i (0 .. $#ill_formed)
{
	my ($what, $bad) = @{ $ill_formed[$i] };
	my $at = length($utf8_marker) + 1;
	($rc, $out, $err) = nsvault("$utf8_marker$bad", 'secret', 'set', 'utf', "bad$i");
	is($rc, 2, "$what on stdin exits 2");
	is($err, "nsvault: error: the value on standard input is not valid UTF-8 (at byte $at)\n",
		"$what: one line giving the offset, and none of the bytes");
	is((nsvault('', 'secret', 'get', 'utf', "bad$i"))[0], 3, "$what: nothing is stored");
}
($rc, $out, $err) = nsvault("robot:$utf8_marker\xED\xA0\x80", 'registry', 'set', 'utf', 'quay.io');
is($rc, 2, 'registry data that is not UTF-8 exits 2');
is($err, 'nsvault: error: the registry data on standard input is not valid UTF-8 (at byte '
	  . (length("robot:$utf8_marker") + 1) . ")\n", 'saying where, with none of the bytes');
($rc, $out) = nsvault('', 'registry', 'list', 'utf');
is("$rc:$out", '0:', 'and nothing is stored');
# the edges of what UTF-8 may hold round-trip: U+0080, U+D7FF, U+E000,
# U+FFFF, U+10000 and U+10FFFF
my $edges = "\xC2\x80 \xED\x9F\xBF \xEE\x80\x80 \xEF\xBF\xBF \xF0\x90\x80\x80 \xF4\x8F\xBF\xBF";
($rc, $out, $err) = nsvault($edges, 'secret', 'set', 'utf', 'edges');
is($rc, 0, 'well-formed UTF-8 at the edges of the ranges is accepted') or diag($err);
is((nsvault('', 'secret', 'get', 'utf', 'edges'))[1], $edges, 'and reads back exactly');

($rc, $out, $err) = nsvault('v', 'secret', 'set', 'Bad NS', 'x');
is($rc, 1, 'an invalid namespace exits 1');
like($err, qr/^nsvault: error: secret set: invalid namespace \(The namespace does not start with a lowercase letter\.\)\n\z/,
	"with the server's message and detail on one line");
($rc, $out, $err) = nsvault('', 'secret', 'set', 'ops', '');
is($rc, 1, 'an empty value exits 1');
for my $usage ([], ['secret'], [ 'secret', 'set', 'ops' ], [ 'secret', 'get', 'a', 'b', 'c' ],
	[ 'secret', 'frob' ], [ 'secret', 'list', '--bogus', 'ops' ], ['frob'],
	[ 'registry', 'set', '--private', 'ops', 'quay.io' ], [ 'registry', 'list' ])
{
	($rc) = nsvault('', @$usage);
	is($rc, 2, "usage error exits 2: nsvault @$usage");
}
for my $help ([ '--help' ], [ 'secret', '--help' ], [ 'registry', '--help' ], [ 'enrich', '--help' ],
	[ 'secret', 'set', '--help' ])
{
	($rc, $out) = nsvault('', @$help);
	is($rc, 0, "nsvault @$help exits 0");
	like($out, qr/Usage:/, "nsvault @$help prints usage");
}
{
	my ($status, $o, $e) = NsvaultClient::run('', '-d', 'host=/nonexistent-socket-dir', 'secret', 'list', 'ops');
	is($status >> 8, 1, 'a connection failure exits 1');
	like($e, qr/^nsvault: error: could not connect: /, 'saying so');
}

# options stand anywhere, as psql takes them: before the command, between
# its words, after its operands; "--" makes all that follows operands
for my $args (
	[ 'secret', 'get', 'ops', 'db/password', '-d', $connstr ],
	[ 'secret', 'get', 'ops', 'db/password', "--dbname=$connstr" ],
	[ 'secret', '-d', $connstr, 'get', 'ops', 'db/password' ],
	[ 'secret', 'get', '-d', $connstr, 'ops', 'db/password' ],
	[ 'secret', 'get', 'ops', '-d', $connstr, 'db/password' ],
	[ '-d', $connstr, 'secret', 'get', '--', 'ops', 'db/password' ])
{
	my ($status, $o, $e) = NsvaultClient::run('', @$args);
	is($status >> 8, 0, "options anywhere: nsvault @$args") or diag($e);
	is($o, $value, "options anywhere: the value of nsvault @$args");
}
{
	# POSIXLY_CORRECT would stop getopt at the first operand; it has no say here
	local $ENV{POSIXLY_CORRECT} = 1;
	my ($status, $o) = NsvaultClient::run('', 'secret', 'get', 'ops', 'db/password', '-d', $connstr);
	is("$status:$o", "0:$value", 'an option after the operands, with POSIXLY_CORRECT set');
}
($rc, $out, $err) = nsvault($refused, 'secret', '--no-overwrite', 'set', 'ops', 'db/password');
is($rc, 1, "a command's option between the command and its subcommand is read");
($rc, $out) = nsvault('', 'registry', '--global', 'list');
is($rc, 0, 'registry --global list exits 0');
($rc, $out, $err) = nsvault('', 'secret', 'get', 'ops', '--', '-d');
is($rc, 1, 'after "--", a word that starts with "-" is an operand');
like($err, qr/^nsvault: error: secret get: invalid secret name /, 'and goes to the server as a name');
($rc, $out, $err) = nsvault('', 'secret', 'list', '--', 'ops', '--help');
is("$rc:$out", '2:', 'after "--", --help is an operand too: too many operands');
for my $args ([ '--bogus', 'secret', 'list', 'ops' ], [ 'secret', '--bogus', 'list', 'ops' ],
	[ 'secret', 'list', '--bogus', 'ops' ], [ 'secret', 'list', 'ops', '--bogus' ],
	[ 'secret', 'list', 'ops', '-x' ], [ 'registry', 'list', 'ops', '--bogus' ],
	[ 'enrich', '--bogus' ], [ '--bogus' ])
{
	($rc, $out, $err) = nsvault('', @$args);
	is("$rc:$out", '2:', "an unknown option exits 2: nsvault @$args");
	like($err, qr/^nsvault: error: (\w+: )?unknown option "(--bogus|-x)" \(see "nsvault (\w+ )?--help"\)\n\z/,
		"one line naming it: nsvault @$args");
}
for my $args ([ 'secret', 'list', 'ops', '--batch' ], [ '--js-timeout=5', 'registry', 'list', 'ops' ],
	[ 'enrich', '--global' ], [ 'secret', 'list', 'ops', '--global=yes' ])
{
	($rc, $out, $err) = nsvault('', @$args);
	is($rc, 2, "another command's option, or a value for a flag, exits 2: nsvault @$args");
}
{
	my ($status, $o, $e) = NsvaultClient::run('', 'secret', 'list', 'ops', '-d');
	is($status >> 8, 2, 'an option without its value exits 2');
	like($e, qr/^nsvault: error: secret: option "-d" needs a value /, 'saying so');
}

# registries: USER:TOKEN on stdin, one trailing newline dropped
my $token = 'tok:en"with\\odd%$chars-' . NsvaultPair::random_hex(8);
($rc, $out, $err) = nsvault("robot:$token\n", 'registry', 'set', 'ops', 'https://quay.io');
is($rc, 0, 'registry set exits 0') or diag($err);
($rc, $out) = nsvault('', 'registry', 'docker-config', 'ops', 'quay.io/org/app:1');
is($rc, 0, 'registry docker-config exits 0');
my $auth = ($out =~ /"auth": "([^"]+)"/)[0];
is(decode_base64($auth // ''), "robot:$token", 'the token round-trips exactly, colons and all');
($rc, $out) = nsvault('', 'registry', 'list', 'ops');
like($out, qr/^https:\/\/quay.io\tr\*\*\*t\t[^\t]+\n\z/, 'registry list: URL, user hint, created');

($rc) = nsvault("svc:$token", 'registry', 'set', '--global', '--private', 'ghcr.io');
is($rc, 0, 'registry set --global --private exits 0');
($rc, $out) = nsvault('', 'registry', 'list', '--global');
like($out, qr/^global-private\tghcr.io\t\*\*\*\t/, 'registry list --global shows the scope');
($rc, $out) = nsvault('', 'registry', 'docker-config', 'ops', 'ghcr.io/x/y', '--global-service');
like($out, qr/"username": "svc"/, 'docker-config --global-service sees global-private registries');
($rc, $out) = nsvault('', 'registry', 'docker-config', 'ops', 'ghcr.io/x/y');
is($out, qq({"auths": {}}\n), 'a namespace service does not');
($rc, $out, $err) = nsvault('', 'registry', 'docker-config', 'ops', 'Not/An/Image');
is($rc, 1, 'an invalid image reference exits 1');
($rc, $out, $err) = nsvault('no-colon', 'registry', 'set', 'ops', 'ghcr.io');
is($rc, 1, 'credentials without a colon exit 1');
like($err, qr/invalid registry data/, 'saying so');

($rc) = nsvault('', 'registry', 'delete', 'ops', 'quay.io/');
is($rc, 0, 'registry delete, by any spelling of the URL, exits 0');
($rc, $out, $err) = nsvault('', 'registry', 'delete', 'ops', 'quay.io');
is($rc, 3, 'deleting it again exits 3');
($rc) = nsvault('', 'registry', 'delete', '--global', '--private', 'ghcr.io');
is($rc, 0, 'registry delete --global --private exits 0');
($rc, $out, $err) = nsvault('', 'registry', 'delete', '--global', 'ghcr.io');
is($rc, 3, 'a global registry that is not there exits 3');
like($err, qr/global registry "ghcr.io" not found/, 'naming it');

# output that cannot be written, to a full disk or a closed descriptor,
# fails every command that prints, exit 1 with one line; one that prints
# nothing does not mind
nsvault("robot:$token", 'registry', 'set', 'out', 'quay.io');
nsvault("svc:$token", 'registry', 'set', '--global', 'out.example');
nsvault('v1', 'secret', 'set', 'out', 'key');
my %reason = (full => 'No space left on device', closed => 'Bad file descriptor');
for my $to ('full', 'closed')
{
	for my $args ([ 'secret', 'set', 'out', 'key' ], [ 'secret', 'list', 'out' ],
		[ 'secret', 'versions', 'out', 'key' ], [ 'secret', 'meta', 'out', 'key' ],
		[ 'secret', 'get', 'out', 'key' ], [ 'secret', 'rollback', 'out', 'key', '1' ],
		[ 'registry', 'list', 'out' ], [ 'registry', 'list', '--global' ],
		[ 'registry', 'docker-config', 'out' ], ['--help'], [ 'secret', 'help' ])
	{
		my ($status, $e) = NsvaultClient::run_program_output_to($to, 'nsvault', 'v2', '-d', $connstr, '-q', @$args);
		push @stderrs, $e;
		is($status >> 8, 1, "stdout $to: nsvault @$args exits 1");
		like($e, qr/^nsvault: error: (?:[a-z -]+: )?could not write to standard output: $reason{$to}\n\z/,
			"stdout $to: nsvault @$args says so, in one line");
	}
	my ($status, $e) = NsvaultClient::run_program_output_to($to, 'nsvault', '', '-d', $connstr,
		'-q', 'secret', 'meta', 'out', 'key', '--description', 'd');
	is("$status:$e", '0:', "stdout $to: a command that prints nothing exits 0");
}

# no value anywhere it should not be
my $stderr_all = join('', @stderrs);
my $log = slurp_file($main->logfile);
like($log, qr/already exists/, 'the failed write is in the server log');
for my $secret ($refused, $token, 'second line', 'new value', $utf8_marker)
{
	ok(index($stderr_all, $secret) < 0, "no value in the client's stderr: $secret");
	ok(index($log, $secret) < 0, "no value in the server log: $secret");
}
unlike($log, qr/invalid byte sequence/, 'no value that is not UTF-8 reached the server');
for my $case (@ill_formed)
{
	my ($what, $bad) = @$case;
	my $bytes = ($bad =~ /^([\x80-\xFF]+)/)[0];
	my $hex = join(' ', map { sprintf('0x%02x', ord) } split(//, $bytes));
	ok(index($stderr_all, $bytes) < 0 && index($stderr_all, $hex) < 0,
		"$what: its bytes are not in the client's stderr, raw or as hex");
	ok(index($log, $bytes) < 0 && index($log, $hex) < 0,
		"$what: its bytes are not in the server log, raw or as hex");
}

done_testing();
