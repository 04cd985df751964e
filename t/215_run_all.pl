# 215_run_all.pl — nsvault run as doppler run and op run work, against real
# clusters: --all puts every secret the role can read in the environment
# under the variable its name gives (db/password as DB_PASSWORD), --prefix
# those under a prefix (the rest of the name as the variable), and a
# variable of ours whose whole value is nsvault://SECRET gets that secret;
# --env beats a reference, which beats --all, which beats our own variable;
# two secrets that give one variable are exit 2, naming both, until --env
# settles it; a missing reference is exit 3 and a malformed one exit 2, the
# command not started; an expired secret is left out of --all with a
# warning but fails when named; a deleted one is not listed; a role with
# only the read grant lists and reads; values masked; the "--" hint; and no
# value in stderr or either server's log, every statement logged.
use strict;
use warnings;
use lib 't';

use PostgreSQL::Test::Utils;
use Test::More;
use NsvaultClient;
use NsvaultPair;

my ($key, $main) = NsvaultPair::start_pair(log_statement => "'none'");
my $connstr = $main->connstr('postgres');
my $dir = PostgreSQL::Test::Utils::tempdir();
my @stderrs;

# Runs the client, as $role if given; returns (exit status, stdout, stderr).
sub nsvault_as
{
	my ($role, @args) = @_;
	my $conn = defined $role ? "$connstr user=$role" : $connstr;
	my ($status, $out, $err) = NsvaultClient::run('', '-d', $conn, @args);
	push @stderrs, $err;
	return ($status >> 8, $out, $err);
}

sub nsvault { return nsvault_as(undef, @_); }

# A file that a command touches, to tell whether it was started.
my $marker_count = 0;
sub new_marker { return "$dir/started-" . ++$marker_count; }

# The shell command that prints each variable, "unset" for one not set, "|" after each.
sub print_vars
{
	return ('sh', '-c', join('', map { "printf '%s|' \"\${$_-unset}\";" } @_));
}

my %value = map { $_ => "v-$_-" . NsvaultPair::random_hex(10) }
  qw(db/password db/user db db/2fa api-key stripe.live/key Mixed.Case old gone);
for my $name (sort keys %value)
{
	my ($status, $out, $err) = NsvaultClient::run($value{$name}, '-d', $connstr,
		'secret', 'set', 'app', $name);
	is($status >> 8, 0, "secret $name is stored") or diag($err);
}
my %clash = map { $_ => "c-$_-" . NsvaultPair::random_hex(10) } qw(db-password db/password);
for my $name (sort keys %clash)
{
	NsvaultClient::run($clash{$name}, '-d', $connstr, 'secret', 'set', 'clash', $name);
}
$main->safe_psql('postgres', q{
SELECT nsvault.set_secret_metadata('app', 'old', expires_at => now() - interval '1 day');
SELECT nsvault.delete_secret('app', 'gone');
CREATE ROLE reader LOGIN;
CREATE ROLE stranger LOGIN;
SELECT nsvault.grant_namespace('app', 'reader', 'read');
SELECT nsvault.grant_namespace('elsewhere', 'stranger', 'read');
});

# from here on every statement is logged, with its parameters
$main->safe_psql('postgres', q{
ALTER SYSTEM SET log_statement = 'all';
SELECT pg_reload_conf();
});
my $log_from = -s $main->logfile;
my $key_log_from = -s $key->logfile;

# --- --all -----------------------------------------------------------------

my ($status, $out, $err) = nsvault('run', '-n', 'app', '--all', '--no-mask', '--',
	print_vars(qw(DB_PASSWORD DB_USER DB DB_2FA API_KEY STRIPE_LIVE_KEY MIXED_CASE OLD GONE)));
is($status, 0, 'run --all succeeds') or diag($err);
is($out, join('|', @value{qw(db/password db/user db db/2fa api-key stripe.live/key Mixed.Case)},
		'unset', 'unset') . '|',
	'each readable secret in the variable its name gives: upper-cased, - . / as _; not the expired or deleted one');
like($err, qr/^nsvault: warning: run: secret "old" is left out: it has expired$/m,
	'the expired secret is left out with a warning that names it');
unlike($err, qr/gone/, 'the deleted one is not listed, so not named');

($status, $out, $err) = nsvault('run', '-n', 'app', '--all', '--', 'sh', '-c',
	'echo "out $DB_PASSWORD $STRIPE_LIVE_KEY"; echo "err $MIXED_CASE" >&2');
is($status, 0, 'run --all with masking succeeds');
is($out, "out *** ***\n", "--all's values are masked on stdout");
like($err, qr/^err \*\*\*$/m, 'and on stderr');

{
	local $ENV{NSVAULT_NAMESPACE} = 'app';
	local $ENV{API_KEY} = 'ours';
	local $ENV{KEEP} = 'kept';
	($status, $out, $err) = nsvault('run', '--all', '--no-mask', '--', print_vars(qw(API_KEY KEEP)));
	is($status, 0, 'run --all takes the namespace from NSVAULT_NAMESPACE') or diag($err);
	is($out, "$value{'api-key'}|kept|", 'a listed secret replaces our variable of its name, the others stay');
}

($status, $out, $err) = nsvault('run', '-n', 'app', '--all', '--env', 'DB_PASSWORD=api-key',
	'--env', 'PW=db/password', '--no-mask', '--', print_vars(qw(DB_PASSWORD PW)));
is($status, 0, 'run --all with --env succeeds') or diag($err);
is($out, "$value{'api-key'}|$value{'db/password'}|", '--env wins its variable over --all');

my $marker = new_marker();
($status, $out, $err) = nsvault('run', '-n', 'clash', '--all', '--', 'touch', $marker);
is($status, 2, 'two secrets that give one variable exit 2');
like($err, qr/secrets "db-password" and "db\/password" both give variable DB_PASSWORD/,
	'naming both secrets and the variable');
ok(!-e $marker, 'and the command is not started');
($status, $out, $err) = nsvault('run', '-n', 'clash', '--all', '--env', 'DB_PASSWORD=db/password',
	'--no-mask', '--', print_vars('DB_PASSWORD'));
is($status, 0, '--env for the variable settles the clash') or diag($err);
is($out, "$clash{'db/password'}|", 'with the secret it names');

($status, $out, $err) = nsvault('run', '-n', 'empty', '--all', '--', 'sh', '-c', 'echo ran');
is($status, 0, '--all on a namespace without secrets runs the command');
is($out, "ran\n", 'which ran');
like($err, qr/warning: run: namespace "empty" has no secret that this role can read/,
	'with a warning');

# --- --prefix --------------------------------------------------------------

($status, $out, $err) = nsvault('run', '-n', 'app', '--prefix', 'db/', '--no-mask', '--',
	print_vars(qw(PASSWORD USER DB_PASSWORD API_KEY)));
is($status, 0, 'run --prefix db/ succeeds') or diag($err);
is($out, "$value{'db/password'}|$value{'db/user'}|unset|unset|",
	'the rest of each name under the prefix is its variable; nothing else is set');
like($err, qr/secret "db\/2fa" is left out: the rest of its name after the prefix starts with a digit/,
	'a rest that starts with a digit is left out with a warning');

($status, $out, $err) = nsvault('run', '-n', 'app', '--prefix', 'db', '--no-mask', '--',
	print_vars(qw(_PASSWORD DB)));
is($status, 0, 'run --prefix db succeeds') or diag($err);
is($out, "$value{'db/password'}|unset|", 'db/password is _PASSWORD');
like($err, qr/secret "db" is left out: its name is the prefix/,
	'the secret named the prefix is left out with a warning');

for my $bad ([ '--all', '--prefix', 'db/' ], [ '--prefix', '' ])
{
	($status, $out, $err) = nsvault('run', '-n', 'app', @$bad, '--', 'true');
	is($status, 2, "run @$bad is a usage error");
}

# --- references ------------------------------------------------------------

{
	local $ENV{DATABASE_URL} = 'nsvault://db/password';
	local $ENV{NOT_WHOLE} = 'see nsvault://db/password';
	($status, $out, $err) = nsvault('run', '-n', 'app', '--no-mask', '--',
		print_vars(qw(DATABASE_URL NOT_WHOLE)));
	is($status, 0, 'run with only a reference succeeds') or diag($err);
	is($out, "$value{'db/password'}|see nsvault://db/password|",
		'the reference is resolved; a value that is not wholly one is left');
	($status, $out, $err) = nsvault('run', '-n', 'app', '--', 'sh', '-c', 'echo "$DATABASE_URL"');
	is($out, "***\n", "a reference's value is masked");
}

{
	local $ENV{DB_USER} = 'nsvault://api-key';
	local $ENV{API_KEY} = 'nsvault://nosuch';
	($status, $out, $err) = nsvault('run', '-n', 'app', '--all', '--env', 'API_KEY=db/user',
		'--no-mask', '--', print_vars(qw(DB_USER API_KEY)));
	is($status, 0, 'references with --all and --env succeed') or diag($err);
	is($out, "$value{'api-key'}|$value{'db/user'}|",
		'a reference wins over --all, --env over a reference (which is then not read)');
}

for my $case ([ 'nosuch', 3, qr/secret "nosuch" not found in namespace "app"; variable X_URL refers to it/ ],
	[ 'gone', 3, qr/secret "gone" not found in namespace "app"; variable X_URL refers to it/ ],
	[ 'old', 1, qr/secret "old" in namespace "app" expired at/ ])
{
	my ($name, $want, $message) = @$case;
	local $ENV{X_URL} = "nsvault://$name";
	$marker = new_marker();
	($status, $out, $err) = nsvault('run', '-n', 'app', '--env', 'PW=db/password', '--',
		'touch', $marker);
	is($status, $want, "a reference to $name exits $want");
	like($err, $message, 'naming the secret (and the variable, when missing)');
	ok(!-e $marker, 'and the command is not started');
}

for my $bad ('nsvault://', 'nsvault://1bad', 'nsvault://a//b', 'nsvault://a/', 'nsvault://a b',
	'nsvault://' . ('a' x 129))
{
	local $ENV{X_URL} = $bad;
	$marker = new_marker();
	($status, $out, $err) = nsvault('run', '-n', 'app', '--all', '--', 'touch', $marker);
	is($status, 2, "a malformed reference ($bad) exits 2");
	like($err, qr/variable X_URL holds a reference that is not nsvault:\/\/NAME/, 'naming the variable');
	ok(!-e $marker, 'and the command is not started');
}

# --- named secrets, and usage ----------------------------------------------

$marker = new_marker();
($status, $out, $err) = nsvault('run', '-n', 'app', '--env', 'OLD=old', '--', 'touch', $marker);
is($status, 1, 'an expired secret named by --env fails');
ok(!-e $marker, 'and the command is not started');

($status, $out, $err) = nsvault('run', '-n', 'app', '--', 'true');
is($status, 2, 'without --env, --all, --prefix or a reference, run is a usage error');
like($err, qr/give at least one --env VAR=SECRET, --all or --prefix PREFIX, or a variable/,
	'saying what it takes');

($status, $out, $err) = nsvault('run', '-n', 'app', '-e', 'X=db/password', 'ls', '-la');
is($status, 2, 'an option of the command without "--" is a usage error');
like($err, qr/put "--" before the command/, 'with a hint to put "--" before it');

# --- roles -----------------------------------------------------------------

($status, $out, $err) = nsvault_as('reader', 'run', '-n', 'app', '--all', '--no-mask', '--',
	print_vars(qw(DB_PASSWORD API_KEY)));
is($status, 0, 'a role with only the read grant runs --all') or diag($err);
is($out, "$value{'db/password'}|$value{'api-key'}|", 'with the values');

$marker = new_marker();
($status, $out, $err) = nsvault_as('stranger', 'run', '-n', 'app', '--all', '--', 'touch', $marker);
is($status, 1, 'a role without a grant on the namespace fails --all');
like($err, qr/permission denied for namespace "app"/, 'saying so');
ok(!-e $marker, 'and the command is not started');

# --- no value where it should not be ---------------------------------------

my $log = substr(slurp_file($main->logfile), $log_from);
like($log, qr/nsvault\.list_secrets/, 'the main log holds the statements run sent');
$log .= substr(slurp_file($key->logfile), $key_log_from);
my $stderr_all = join('', @stderrs);
for my $name (sort keys %value, map { "clash:$_" } sort keys %clash)
{
	my $v = $name =~ /^clash:(.*)/ ? $clash{$1} : $value{$name};
	ok(index($stderr_all, $v) < 0, "no value of $name in any stderr");
	ok(index($log, $v) < 0, "no value of $name in either server log");
}

done_testing();
