# 110_harden_role_logs.pl — with log_statement = 'all' and
# log_min_duration_statement = 0, a role hardened with harden_role leaves
# no value in the server log, even for a failing write; an unhardened role
# does leave one (the control).
use strict;
use warnings;
use lib 't';

use Cwd qw(abs_path);
use PostgreSQL::Test::Utils;
use Test::More;
use NsvaultPair;

my ($key, $main) = NsvaultPair::start_pair(log_statement => "'all'",
	log_min_duration_statement => 0);
my $client = abs_path('client/nsvault');

$main->safe_psql('postgres', q{
CREATE ROLE hardened LOGIN;
CREATE ROLE plain LOGIN;
SELECT nsvault.grant_namespace('logs', 'hardened', 'write');
SELECT nsvault.grant_namespace('logs', 'plain', 'write');
SELECT nsvault.harden_role('hardened');
});

sub client_as
{
	my ($role, $stdin, @args) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run([ $client, '-d', $main->connstr('postgres') . " user=$role", @args ],
		'<', \$stdin, '>', \$out, '2>', \$err);
	return $? >> 8;
}

my $stored = 'HARDENED-' . NsvaultPair::random_hex(8);
my $refused = 'REFUSED-' . NsvaultPair::random_hex(8);
my $control = 'CONTROL-' . NsvaultPair::random_hex(8);
is(client_as('hardened', $stored, 'secret', 'set', 'logs', 'a'), 0, 'the hardened role writes');
is(client_as('hardened', $refused, 'secret', 'set', '--no-overwrite', 'logs', 'a'), 1,
	'and a write of it fails');
is(client_as('plain', $control, 'secret', 'set', 'logs', 'b'), 0, 'the plain role writes');

my $log = slurp_file($main->logfile);
like($log, qr/statement: SELECT nsvault\.set_secret|execute <unnamed>: SELECT nsvault\.set_secret/,
	'statements are logged');
like($log, qr/already exists/, 'the failing statement is logged');
ok(index($log, $control) >= 0, 'control: a plain role\'s bind parameters reach the log');
ok(index($log, $stored) < 0, 'the hardened role\'s value is not in the log');
ok(index($log, $refused) < 0, 'nor the value of its failed write');

done_testing();
