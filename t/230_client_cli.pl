# 230_client_cli.pl — the client as people use a secrets CLI: its version,
# per-command help, a default namespace from -n, NSVAULT_NAMESPACE or the
# config file (and the file's connection service), JSON output, a header
# and a newline on a terminal only, confirmations on stderr and -q,
# metadata with secret set in one transaction, and errors in the user's
# words (a missing privilege, a time that cannot be read).
use strict;
use warnings;
use lib 't';

use Cwd qw(abs_path);
use IPC::Run;
use PostgreSQL::Test::Utils;
use Test::More;
use NsvaultClient;
use NsvaultPair;

my ($key, $main) = NsvaultPair::start_pair();
my $connstr = $main->connstr('postgres');
my $client = abs_path('client/nsvault');
my $tmp = PostgreSQL::Test::Utils::tempdir();
my @stderrs;

# Runs the client with -d; returns (exit status, stdout, stderr).
sub nsvault
{
	my ($stdin, @args) = @_;
	my ($status, $out, $err) = NsvaultClient::run($stdin, '-d', $connstr, @args);
	push @stderrs, $err;
	return ($status >> 8, $out, $err);
}

# Runs the client with %env added to the environment and without -d.
sub nsvault_env
{
	my ($env, $stdin, @args) = @_;
	local %ENV = (%ENV, %$env);
	delete $ENV{$_} for grep { !defined $env->{$_} && exists $env->{$_} } keys %$env;
	my ($status, $out, $err) = NsvaultClient::run($stdin, @args);
	push @stderrs, $err;
	return ($status >> 8, $out, $err);
}

# Runs the client with its stdout on a terminal; returns (exit status, stdout).
sub nsvault_on_terminal
{
	my (@args) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run([ $client, '-d', $connstr, @args ], '<', \'', '>pty>', \$out, '2>', \$err);
	push @stderrs, $err;
	$out =~ s/\r\n/\n/g;
	return ($? >> 8, $out);
}

$main->safe_psql('postgres', q{
CREATE ROLE reader LOGIN;
CREATE ROLE outsider LOGIN;
SELECT nsvault.grant_namespace('cli', 'reader', 'read');
SELECT nsvault.grant_namespace('other', 'outsider', 'write');
});

# 1. the version
my ($rc, $out, $err) = nsvault('', 'version');
like("$rc:$out", qr/^0:nsvault \d+\.\d+\.\d+\n\z/, 'nsvault version prints "nsvault X.Y.Z"');
my $version_line = $out;
is((nsvault('', '-V'))[1], $version_line, '-V prints the same');
is((nsvault('', '--version'))[1], $version_line, '--version prints the same');
($rc, $out) = nsvault('', 'version', '--json');
like($out, qr/^\{"program":"nsvault","version":"\d+\.\d+\.\d+"\}\n\z/, 'version --json is an object');
($rc, $out, $err) = nsvault('', 'secret', 'list', 'cli', '--version');
is("$rc:$out", '2:', '--version with another command is a usage error');

# 2. help for one subcommand
($rc, $out) = nsvault('', 'secret', 'set', '--help');
is($rc, 0, 'secret set --help exits 0');
like($out, qr/secret set \[--no-overwrite\]/, 'it shows secret set');
unlike($out, qr/secret get|secret list/, 'and no other subcommand');
($rc, $out) = nsvault('', 'secret', '--help');
like($out, qr/secret set .*secret get .*secret meta/s, 'secret --help shows them all');
($rc, $out) = nsvault('', 'registry', 'docker-config', '--help');
like($out, qr/registry docker-config/, 'registry docker-config --help shows it');
unlike($out, qr/registry set/, 'and not registry set');
($rc, $out) = nsvault('', 'secret', 'help', 'get');
unlike($out, qr/secret set/, 'secret help get shows get only');
($rc, $out) = nsvault('', 'help', 'secret', 'get');
like($out, qr/secret get \[--secret-version N\]/, 'help secret get shows it');
unlike($out, qr/secret set/, 'and only it');

# 3. set with metadata, in one transaction; confirmations and -q
($rc, $out, $err) = nsvault('v1', 'secret', 'set', 'cli', 'db/password',
	'--description', 'the database', '--expires', '2031-02-03T04:05:06Z');
is("$rc:$out", "0:1\n", 'secret set with --description and --expires prints the version');
is($err, "stored version 1 of secret \"db/password\" in namespace \"cli\"\n",
	'and confirms on stderr in one line');
($rc, $out) = nsvault('', 'secret', 'meta', 'cli', 'db/password', '--json');
like($out, qr/"description":"the database"/, 'the description was set with the value');
like($out, qr/"expires_at":"2031-02-03T04:05:06Z"/, 'and the expiry, in RFC 3339 UTC');
($rc, $out, $err) = nsvault('v1', 'secret', 'set', 'cli', 'late', '--expires', 'next week');
is("$rc:$out", '2:', 'a time that cannot be read is a usage error');
like($err, qr/^nsvault: error: secret set: --expires "next week" is not a time: give one in RFC 3339 .*"tomorrow".*"infinity"/,
	'listing the forms it takes');
unlike($err, qr/invalid input syntax/, 'not the server\'s own words');
($rc, $out, $err) = nsvault('', 'secret', 'get', 'cli', 'late');
is($rc, 3, 'and the value was not stored without its expiry');
($rc, $out, $err) = nsvault('', 'secret', 'meta', 'cli', 'db/password', '--expires', 'someday');
is($rc, 2, 'secret meta --expires that cannot be read exits 2');
($rc, $out, $err) = nsvault('', 'secret', 'list', 'cli', '--expiring', 'a while');
is($rc, 2, '--expiring that cannot be read exits 2');
like($err, qr/--expiring "a while" is not an interval: give one such as "7 days"/, 'listing forms');

($rc, $out, $err) = nsvault('v2', '-q', 'secret', 'set', 'cli', 'db/password');
is("$rc:$out:$err", "0:2\n:", '-q: the version on stdout, nothing on stderr');
my @confirmations = (
	[ [ 'secret', 'delete', 'cli', 'db/password' ], qr/^deleted secret "db\/password" in namespace "cli"\n\z/ ],
	[ [ 'secret', 'undelete', 'cli', 'db/password', '2' ], qr/^undeleted version 2 of secret "db\/password" in namespace "cli"\n\z/ ],
	[ [ 'secret', 'rollback', 'cli', 'db/password', '1' ], qr/^rolled back secret "db\/password" in namespace "cli" to version 1's value, as version 3\n\z/, "3\n" ],
	[ [ 'secret', 'destroy', 'cli', 'db/password', '1', '2' ], qr/^destroyed versions 1,2 of secret "db\/password" in namespace "cli"\n\z/ ],
	[ [ 'secret', 'meta', 'cli', 'db/password', '--description', 'd' ], qr/^set the description of secret "db\/password" in namespace "cli"\n\z/ ],
	[ [ 'registry', 'delete', 'cli', 'quay.io' ], qr/^deleted registry "quay.io" in namespace "cli"\n\z/ ],
	[ [ 'registry', 'delete', '--global', 'mirror.example' ], qr/^deleted global registry "mirror.example"\n\z/ ],
);
nsvault('robot:tok-en', 'registry', 'set', 'cli', 'quay.io');
($rc, $out, $err) = nsvault('m:tok', 'registry', 'set', '--global', 'mirror.example');
is($err, "stored global registry \"mirror.example\"\n", 'registry set --global confirms');
for my $c (@confirmations)
{
	($rc, $out, $err) = nsvault('', @{ $c->[0] });
	is("$rc:$out", '0:' . ($c->[2] // ''), "nsvault @{ $c->[0] } prints " . ($c->[2] ? 'the version' : 'nothing') . ' on stdout');
	like($err, $c->[1], "and confirms on stderr");
}
($rc, $out, $err) = nsvault('', '--quiet', 'secret', 'purge', 'cli', 'db/password');
is("$rc:$out:$err", '0::', '--quiet purge: nothing on stdout or stderr');

# 4. JSON output: types kept, times in RFC 3339 UTC
nsvault('s1', 'secret', 'set', 'cli', 'a');
nsvault('s2', 'secret', 'set', 'cli', 'b', '--description', 'a "quoted" \\ text');
nsvault('s3', 'secret', 'set', 'cli', 'b');
nsvault('', 'secret', 'delete', 'cli', 'b');
nsvault('s4', 'secret', 'set', 'cli', 'b');
nsvault('', 'secret', 'destroy', 'cli', 'b', '1');
my $time = qr/"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z"/;
($rc, $out) = nsvault('', 'secret', 'list', 'cli', '--json');
like($out, qr/^\[\{"name":"a","created_at":$time,"updated_at":$time,"current_version":1,"description":null,"expires_at":null\},\{"name":"b",.*"current_version":3,"description":"a \\"quoted\\" \\\\ text","expires_at":null\}\]\n\z/,
	'secret list --json: an array of objects, integers, nulls, escaped text');
($rc, $out) = nsvault('', 'secret', 'versions', 'cli', 'b', '--json');
like($out, qr/^\[\{"version":1,"created_at":$time,"created_by":"postgres","deleted_at":null,"destroyed":true\},\{"version":2,"created_at":$time,"created_by":"postgres","deleted_at":$time,"destroyed":false\},\{"version":3,.*"destroyed":false\}\]\n\z/,
	'secret versions --json: booleans as true and false, times in UTC');
($rc, $out) = nsvault('', 'secret', 'meta', 'cli', 'a', '--json');
like($out, qr/^\{"current_version":1,"created_at":$time,"updated_at":$time,"deleted_at":null,"description":null,"custom":null,"expires_at":null,"max_versions":10\}\n\z/,
	'secret meta --json: one object');
($rc, $out) = nsvault('', 'secret', 'get', 'cli', 'a', '--json');
is($out, qq({"namespace":"cli","name":"a","value":"s1"}\n), 'secret get --json');
($rc, $out) = nsvault('s5', 'secret', 'set', 'cli', 'a', '--json');
is($out, qq({"namespace":"cli","name":"a","version":2}\n), 'secret set --json');
($rc, $out) = nsvault('', 'secret', 'rollback', 'cli', 'a', '1', '--json');
is($out, qq({"namespace":"cli","name":"a","version":3}\n), 'secret rollback --json');
nsvault('robot:tok-en', 'registry', 'set', 'cli', 'quay.io');
nsvault('m:tok', 'registry', 'set', '--global', '--private', 'mirror.example');
($rc, $out) = nsvault('', 'registry', 'list', 'cli', '--json');
like($out, qr/^\[\{"url":"quay.io","user_hint":"[^"]*","created_at":$time\}\]\n\z/, 'registry list --json');
($rc, $out) = nsvault('', 'registry', 'list', '--global', '--json');
like($out, qr/^\[\{"scope":"global-private","url":"mirror.example","user_hint":"[^"]*","created_at":$time\}\]\n\z/,
	'registry list --global --json');
($rc, $out, $err) = nsvault('', 'secret', 'delete', 'cli', 'a', '--json');
is($rc, 2, '--json on a command that prints nothing is a usage error');
($rc, $out) = nsvault('', 'secret', 'list', 'cli');
unlike($out, qr/NAME/, 'without a terminal, no header line');

# 5. a terminal: the header line, and the newline after a value
($rc, $out) = nsvault_on_terminal('secret', 'list', 'cli');
like($out, qr/^NAME\tCREATED\tUPDATED\tVERSION\tDESCRIPTION\tEXPIRES\na\t/, 'on a terminal, list starts with a header line');
($rc, $out) = nsvault_on_terminal('secret', 'versions', 'cli', 'a');
like($out, qr/^VERSION\tCREATED\tCREATED-BY\tDELETED\tDESTROYED\n1\t/, 'and versions');
($rc, $out) = nsvault_on_terminal('secret', 'get', 'cli', 'a');
is($out, "s1\n", 'on a terminal, get ends the value with a newline');
($rc, $out) = nsvault_on_terminal('secret', 'get', 'cli', 'a', '--no-newline');
is($out, 's1', '--no-newline: none');
is((nsvault('', 'secret', 'get', 'cli', 'a'))[1], 's1', 'and not on a pipe');

# 6. --secret-version, and its old spelling in secret get
is((nsvault('', 'secret', 'get', '--secret-version', '2', 'cli', 'a'))[1], 's5', 'get --secret-version 2');
is((nsvault('', 'secret', 'get', '--version', '2', 'cli', 'a'))[1], 's5', 'get --version 2, the old spelling');
is((nsvault('', 'secret', 'get', 'cli', 'a', '--version=1'))[1], 's1', 'get ... --version=1');
($rc, $out) = nsvault('', 'secret', 'get', 'cli', 'a', '--version');
is("$rc:$out", '2:', 'get --version without a value is a usage error');
($rc, $out) = nsvault('', 'secret', 'get', '--version', '1', '--secret-version', '2', 'cli', 'a');
is("$rc:$out", '2:', 'both spellings at once is a usage error');

# 7. the default namespace: -n, NSVAULT_NAMESPACE, the config file
is((nsvault('', '-n', 'cli', 'secret', 'get', 'a'))[1], 's1', '-n: the NAMESPACE operand is left out');
($rc, $out, $err) = nsvault('', '-n', 'cli', 'secret', 'get', 'cli', 'a');
is("$rc:$out", '2:', '-n and a NAMESPACE operand is a usage error');
like($err, qr/-n gave the namespace, so the NAMESPACE operand is left out/, 'saying so');
my %no_pg = map { $_ => undef } qw(PGHOST PGPORT PGDATABASE PGSERVICE PGHOSTADDR NSVAULT_NAMESPACE);
is((nsvault_env({ NSVAULT_NAMESPACE => 'cli' }, '', '-d', $connstr, 'secret', 'get', 'a'))[1], 's1',
	'NSVAULT_NAMESPACE names it');
is((nsvault_env({ NSVAULT_NAMESPACE => 'other' }, '', '-d', $connstr, 'secret', 'get', 'cli', 'a'))[1],
	's1', 'a NAMESPACE operand beats NSVAULT_NAMESPACE');
is((nsvault_env({ NSVAULT_NAMESPACE => 'cli' }, '', '-d', $connstr, 'secret', 'list'))[0], 0,
	'secret list with NSVAULT_NAMESPACE');

my $service_file = "$tmp/pg_service.conf";
append_to_file($service_file,
	"[cli-test]\nhost=" . $main->host . "\nport=" . $main->port . "\ndbname=postgres\n");
my $config = "$tmp/config";
append_to_file($config, "# nsvault's defaults\nservice = cli-test\n\nnamespace = cli\n");
my %with_file = (%no_pg, NSVAULT_CONFIG => $config, PGSERVICEFILE => $service_file);
($rc, $out, $err) = nsvault_env(\%with_file, '', 'secret', 'get', 'a');
is("$rc:$out", '0:s1', 'the config file gives the service and the namespace');
is((nsvault_env({ %with_file, NSVAULT_NAMESPACE => 'ns2' }, 's', 'secret', 'set', 'x'))[0], 0,
	'NSVAULT_NAMESPACE beats the file');
is((nsvault('', 'secret', 'get', 'ns2', 'x'))[1], 's', 'the secret went to NSVAULT_NAMESPACE\'s namespace');
is((nsvault_env({ %with_file, NSVAULT_NAMESPACE => 'ns2' }, '', '-n', 'cli', 'secret', 'get', 'a'))[1], 's1',
	'-n beats NSVAULT_NAMESPACE');
($rc, $out, $err) = nsvault_env({ %with_file, PGHOST => '/nonexistent' }, '', 'secret', 'get', 'a');
like($err, qr/nonexistent/, 'PGHOST beats the file\'s service');
my $home = "$tmp/home";
mkdir $home;
mkdir "$home/.config";
mkdir "$home/.config/nsvault";
append_to_file("$home/.config/nsvault/config", "service=cli-test\nnamespace=cli\n");
($rc, $out) = nsvault_env({ %no_pg, HOME => $home, XDG_CONFIG_HOME => undef, NSVAULT_CONFIG => undef,
		PGSERVICEFILE => $service_file }, '', 'secret', 'get', 'a');
is("$rc:$out", '0:s1', '~/.config/nsvault/config is read');
my $bad = "$tmp/bad-config";
append_to_file($bad, "namespace = cli\npassword = x\n");
($rc, $out, $err) = nsvault_env({ %no_pg, NSVAULT_CONFIG => $bad }, '', 'secret', 'get', 'a');
is($rc, 2, 'an unknown key in the config file is a usage error');
like($err, qr/config file "\Q$bad\E", line 2: unknown key "password"/, 'naming the file, line and key');

# destroy and docker-config, whose operand counts overlap
nsvault_env({ NSVAULT_NAMESPACE => 'cli' }, 'x', '-d', $connstr, 'secret', 'set', 'd');
nsvault_env({ NSVAULT_NAMESPACE => 'cli' }, 'y', '-d', $connstr, 'secret', 'set', 'd');
($rc) = nsvault_env({ NSVAULT_NAMESPACE => 'cli' }, '', '-d', $connstr, 'secret', 'destroy', 'd', '1');
is($rc, 0, 'destroy NAME VERSION with a default namespace');
($rc) = nsvault_env({ NSVAULT_NAMESPACE => 'other' }, '', '-d', $connstr, 'secret', 'destroy', 'cli', 'd', '2');
is($rc, 0, 'destroy NAMESPACE NAME VERSION beside a default namespace');
($rc, $out) = nsvault('', 'secret', 'versions', 'cli', 'd', '--json');
like($out, qr/"version":1,[^}]*"destroyed":true\},\{"version":2,[^}]*"destroyed":true/, 'both were destroyed where named');
($rc, $out) = nsvault_env({ NSVAULT_NAMESPACE => 'other' }, '', '-d', $connstr, 'registry', 'docker-config', 'cli');
like("$rc:$out", qr/^0:\{"auths": \{"quay\.io"/, 'docker-config NAMESPACE beside a default namespace');
($rc, $out) = nsvault('', '-n', 'cli', 'registry', 'docker-config', 'quay.io/org/app');
like("$rc:$out", qr/^0:\{"auths": \{"quay\.io"/, 'docker-config -n NS IMAGE');
($rc, $out, $err) = nsvault('', '-n', 'cli', 'registry', 'list', '--global');
is($rc, 2, '-n with a --global form is a usage error');

# 8. errors in the user's words
my $reader = $main->connstr('postgres') . ' user=reader';
($rc, $out, $err) = NsvaultClient::run('v', '-d', $reader, 'secret', 'set', 'cli', 'a');
push @stderrs, $err;
is($rc >> 8, 1, 'a write with only the read grant fails');
is($err, "nsvault: error: secret set: permission denied for namespace \"cli\": secret set needs the write privilege on it (an admin of the namespace can grant it with nsvault.grant_namespace())\n",
	'naming the namespace and the privilege, not a function');
is((nsvault('', 'secret', 'get', 'cli', 'a'))[1], 's1', 'and nothing was written');
($rc, $out, $err) = NsvaultClient::run('', '-d', $reader, 'registry', 'delete', '--global', 'x.example');
like($err, qr/permission denied for namespace "\@global": registry delete needs the admin privilege/,
	'a global registry names @global and admin');
($rc, $out, $err) = NsvaultClient::run('v', '-d', $main->connstr('postgres') . ' user=outsider',
	'secret', 'set', 'cli', 'a');
like($err, qr/permission denied for namespace "cli"/, 'a writer of another namespace is refused for this one');

my $action = "$tmp/action.json";
append_to_file($action, '{"input": {"x": 1}}');
($rc, $out, $err) = nsvault('', 'enrich', '--action', $action, '--data', "$tmp/none.json");
like($err, qr/^nsvault: error: enrich: could not read the data: /, 'enrich\'s data errors name enrich');
($rc, $out, $err) = nsvault('not json', 'enrich', '--action', $action);
like($err, qr/^nsvault: error: enrich: the data on standard input is not JSON/, 'on standard input too');
($rc, $out, $err) = nsvault('{}', 'enrich', '--workflow', $action, '--state', 'nope');
like($err, qr/^nsvault: error: enrich: workflow "[^"]+" has no state "nope"/, 'and its workflow errors');
($rc, $out, $err) = nsvault('', 'mask', '-n', 'cli', '--action', "$tmp/none.yaml");
like($err, qr/^nsvault: error: mask: could not read the action: /, 'mask\'s name its command');

# values never reach stderr
unlike(join('', @stderrs), qr/s1|s5|tok-en/, 'no value in any stderr');

done_testing();
