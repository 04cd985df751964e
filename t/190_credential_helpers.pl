# 190_credential_helpers.pl — docker-credential-nsvault and
# nsvault-credential-provider against real clusters, driven with each
# protocol's exact JSON: the credential each hands out (the most specific
# registry, Docker Hub's aliases, the three scopes), every error line and
# exit status, the namespace's precedence, their --version and --help, and
# no value in stderr or in either server's log.
use strict;
use warnings;
use lib 't';

use JSON::PP;
use MIME::Base64 qw(encode_base64);
use PostgreSQL::Test::Utils;
use Test::More;
use NsvaultClient;
use NsvaultPair;

# the server's default logging: statements are not logged, failing ones are
my ($key, $main) = NsvaultPair::start_pair(log_statement => "'none'");
my $connstr = $main->connstr('postgres');
my $json = JSON::PP->new->canonical;
my @stderrs;
my @failed_stdouts;    # a failing docker helper's error line is on stdout

my %token = map { $_ => "$_-token-" . NsvaultPair::random_hex(8) }
  qw(quay org hub local team other global private stored gsvc refused sa);
# a token of letters alone, which a JSON parser's message would quote if it
# stood unquoted (jansson's does: "invalid token near '...'")
$token{bare} = join('', map { chr(ord('g') + hex($_)) } split(//, NsvaultPair::random_hex(8)));

$main->safe_psql('postgres', q{
CREATE ROLE shop_writer LOGIN;
CREATE ROLE node LOGIN;
CREATE ROLE outsider LOGIN;
CREATE ROLE global_admin LOGIN;
SELECT nsvault.grant_namespace('shop', 'shop_writer', 'write');
SELECT nsvault.grant_namespace('shop', 'node', 'read');
SELECT nsvault.grant_namespace('team', 'node', 'read');
SELECT nsvault.grant_namespace('other', 'node', 'write');
SELECT nsvault.grant_namespace('elsewhere', 'outsider', 'read');
SELECT nsvault.grant_namespace('@global', 'global_admin', 'admin');
});

# the registries, set with the client (the tokens as bind parameters)
for my $set (
	[ 'quay-user', 'quay', 'shop', 'quay.io' ],
	[ 'org-user', 'org', 'shop', 'https://quay.io/org' ],
	[ 'hub-user', 'hub', 'shop', 'https://index.docker.io/v1/' ],
	[ 'local-user', 'local', 'shop', 'localhost:5000' ],
	[ 'team-user', 'team', 'team', 'quay.io' ],
	[ 'other-user', 'other', 'other', 'quay.io' ],
	[ 'global-user', 'global', '--global', 'ghcr.io' ],
	[ 'private-user', 'private', '--global', '--private', 'gcr.io' ])
{
	my ($user, $which, @where) = @$set;
	my ($status, $out, $err) =
	  NsvaultClient::run("$user:$token{$which}", '-d', $connstr, 'registry', 'set', @where);
	is($status >> 8, 0, "registry set @where") or diag($err);
}

# libpq's environment for a role, as Docker would run the helper
sub pg_env
{
	my ($role) = @_;
	return (PGHOST => $main->host, PGPORT => $main->port, PGDATABASE => 'postgres',
		PGUSER => $role);
}

# Runs client/$program with exactly the nsvault and PG variables of %env;
# returns (exit status, stdout, stderr).
sub run_with_env
{
	my ($program, $env, $stdin, @args) = @_;
	local %ENV = %ENV;
	delete $ENV{$_} for grep { /^(NSVAULT_(NAMESPACE|GLOBAL_SERVICE)|PG\w+)$/ } keys %ENV;
	$ENV{$_} = $env->{$_} for keys %$env;
	my ($status, $out, $err) = NsvaultClient::run_program($program, $stdin, @args);
	push @stderrs, $err;
	push @failed_stdouts, $out if $status != 0;
	return ($status >> 8, $out, $err);
}

sub docker
{
	my ($env, $stdin, @args) = @_;
	return run_with_env('docker-credential-nsvault', $env, $stdin, @args);
}

my %shop = (pg_env('shop_writer'), NSVAULT_NAMESPACE => 'shop');
my %global = (pg_env('global_admin'), NSVAULT_GLOBAL_SERVICE => '1');
my $not_found = "credentials not found in native keychain\n";
my $usage = "Usage: docker-credential-nsvault [-d CONNINFO] <store|get|erase|list|version>\n";

# Checks one get: exit 0, stderr empty, and exactly the three members.
sub docker_get_is
{
	my ($env, $asked, $echo, $user, $secret, $what) = @_;
	my ($rc, $out, $err) = docker($env, $asked, 'get');
	is("$rc|$err", '0|', "get $what: exit 0, nothing on stderr") or diag($out);
	my $got = eval { decode_json($out) } // {};
	is_deeply($got, { ServerURL => $echo, Username => $user, Secret => $secret },
		"get $what: ServerURL echoed, the user and the token");
}

# --- docker-credential-nsvault -------------------------------------------

my ($rc, $out, $err);
my $version = NsvaultClient::version();
for my $args (['version'], ['--version'], ['-V'], [ '-d', $connstr, '--version' ])
{
	($rc, $out, $err) = docker({}, '', @$args);
	is("$rc|$out|$err", "0|docker-credential-nsvault $version\n|",
		"@$args: the version of META.json, exit 0");
}
like($version, qr/^\d+\.\d+\.\d+$/, 'the client\'s version is MAJOR.MINOR.PATCH');
for my $args (['--help'], ['-h'], ['-?'], [ '--help', 'get' ])
{
	($rc, $out, $err) = docker({}, '', @$args);
	is("$rc|$err", '0|', "@$args: exit 0, nothing on stderr");
	like($out, qr/^docker-credential-nsvault is Docker's credential helper.*\nUsage:\n.*\nActions:\n.*\nOptions:\n.*\n  -V, --version .*\nExit status: /s,
		"@$args: the help, with its actions and options");
}

docker_get_is(\%shop, "quay.io/org/app\n", 'quay.io/org/app', 'org-user', $token{org},
	'quay.io/org/app (quay.io/org over quay.io)');
docker_get_is(\%shop, "quay.io\n", 'quay.io', 'quay-user', $token{quay}, 'quay.io');
docker_get_is(\%shop, "quay.io/other/app", 'quay.io/other/app', 'quay-user', $token{quay},
	'quay.io/other/app, without a newline');
for my $hub ('https://index.docker.io/v1/', 'index.docker.io', 'registry-1.docker.io',
	'docker.io', 'nginx')
{
	docker_get_is(\%shop, "$hub\n", $hub, 'hub-user', $token{hub}, "Docker Hub as $hub");
}
docker_get_is(\%shop, "  localhost:5000 \r\n", 'localhost:5000', 'local-user', $token{local},
	'localhost:5000, white space trimmed');
docker_get_is(\%shop, "ghcr.io\n", 'ghcr.io', 'global-user', $token{global},
	'a global registry, for a namespace service');
docker_get_is(\%global, "gcr.io\n", 'gcr.io', 'private-user', $token{private},
	'a global-private registry, for a global service');
docker_get_is(\%global, "ghcr.io\n", 'ghcr.io', 'global-user', $token{global},
	'a global registry, for a global service');
{
	my %both = (%global, NSVAULT_NAMESPACE => 'shop');
	docker_get_is(\%both, "gcr.io\n", 'gcr.io', 'private-user', $token{private},
		'a global service with NSVAULT_NAMESPACE set too');
}
for my $missing ([ \%shop, 'localhost:5001', 'another port' ],
	[ \%shop, 'gcr.io', 'global-private, for a namespace service' ],
	[ \%global, 'quay.io', "a namespace's, for a global service" ])
{
	my ($env, $asked, $what) = @$missing;
	($rc, $out, $err) = docker($env, "$asked\n", 'get');
	is("$rc|$out|$err", "1|$not_found|", "get, none for $what: the not-found line, exit 1");
}
for my $empty ('', "\n", " \t\r\n")
{
	($rc, $out) = docker(\%shop, $empty, 'get');
	is("$rc|$out", "1|no credentials server URL\n", 'get without a server URL: ' . length($empty) . ' bytes');
}
($rc, $out) = docker(\%shop, "Not/An/Image\n", 'get');
is($rc, 1, 'get of a reference Docker would refuse exits 1');
like($out, qr/^[^\n]+\n\z/, 'with one line');
isnt($out, $not_found, 'which is not the not-found line');
($rc, $out) = docker({ pg_env('outsider'), NSVAULT_NAMESPACE => 'shop' }, "quay.io\n", 'get');
is($rc, 1, 'get without read on the namespace exits 1');
like($out, qr/^permission denied for namespace "shop"[^\n]*\n\z/, "with the server's message, one line");
($rc, $out) = docker({ pg_env('shop_writer') }, "quay.io\n", 'get');
is("$rc|$out", "1|NSVAULT_NAMESPACE is not set: it names the nsvault namespace whose registries to use\n",
	'no NSVAULT_NAMESPACE: one line, exit 1');
($rc, $out) = docker({ %shop, NSVAULT_GLOBAL_SERVICE => 'yes' }, "quay.io\n", 'get');
is($rc, 1, 'NSVAULT_GLOBAL_SERVICE other than 0 or 1 exits 1');
like($out, qr/^NSVAULT_GLOBAL_SERVICE must be 1 \(a global service\) or 0\n\z/, 'saying so');

# usage: what Docker never sends
for my $args ([], ['frob'], [ 'get', 'list' ], [ '-x', 'get' ], ['-d'], [ 'get', '--help' ],
	[ '--versions', 'get' ])
{
	($rc, $out, $err) = docker(\%shop, "quay.io\n", @$args);
	is("$rc|$out|$err", "1|$usage|", "usage line on stdout, exit 1: @$args");
}
($rc, $out, $err) = docker({ NSVAULT_NAMESPACE => 'shop' }, "quay.io\n", '-d', "$connstr user=node", 'get');
is("$rc|$err", '0|', '-d CONNINFO before the action');
is((eval { decode_json($out) } // {})->{Secret}, $token{quay}, 'connects as -d says');

# store, then get and list
my %creds = (ServerURL => 'https://registry.example.com', Username => 'robot', Secret => $token{stored});
($rc, $out, $err) = docker(\%shop, $json->encode(\%creds), 'store');
is("$rc|$out|$err", '0||', 'store: exit 0, nothing on stdout or stderr');
docker_get_is(\%shop, "registry.example.com\n", 'registry.example.com', 'robot', $token{stored},
	'after store');
($rc, $out, $err) = docker(\%shop, '', 'list');
is("$rc|$err", '0|', 'list exits 0');
is_deeply(eval { decode_json($out) } // {},
	{ 'quay.io' => 'qu***er', 'https://quay.io/org' => 'or***er',
	  'https://index.docker.io/v1/' => 'hu***er', 'localhost:5000' => 'lo***er',
	  'https://registry.example.com' => 'r***t' },
	"list: the namespace's URLs, each with its user hint, never the whole name");
($rc, $out) = docker(\%shop, qq({"serverurl":"store.example.com","USERNAME":"ci","secret":"$token{stored}"}), 'store');
is("$rc|$out", '0|', "store reads the members' names in any case, as Go does");
docker_get_is(\%shop, 'store.example.com', 'store.example.com', 'ci', $token{stored}, 'after that store');

for my $bad (
	[ { Username => 'u', Secret => $token{refused} }, "no credentials server URL\n", 'no ServerURL' ],
	[ { ServerURL => '', Username => 'u', Secret => $token{refused} }, "no credentials server URL\n", 'an empty ServerURL' ],
	[ { ServerURL => 'x.example.com', Secret => $token{refused} }, "no credentials username\n", 'no Username' ],
	[ { ServerURL => 'x.example.com', Username => '', Secret => $token{refused} }, "no credentials username\n", 'an empty Username' ],
	[ { ServerURL => 'x.example.com', Username => 'a:b', Secret => $token{refused} },
		"the user name contains a colon, which nsvault cannot store\n", 'a user name with a colon' ],
	[ { ServerURL => 'x.example.com', Username => 5, Secret => $token{refused} },
		"the store request's \"Username\" is not a string\n", 'a Username that is a number' ])
{
	my ($creds, $line, $what) = @$bad;
	($rc, $out, $err) = docker(\%shop, $json->encode($creds), 'store');
	is("$rc|$out|$err", "1|$line|", "store with $what: its line, exit 1");
}
for my $malformed (qq({"ServerURL":"x.example.com","Username":"u","Secret":"$token{refused}"),
	qq({"ServerURL":"x.example.com","Username":"u","Secret":$token{bare}}))
{
	($rc, $out) = docker(\%shop, $malformed, 'store');
	is($rc, 1, 'store of malformed JSON exits 1');
	like($out, qr/^the store request on standard input is not valid JSON \(line 1, column \d+\)\n\z/,
		'saying where, and none of it');
}
($rc, $out) = docker(\%shop, $json->encode({ %creds, ServerURL => 'x.example.com', Secret => '' }), 'store');
is($rc, 1, 'store of an empty Secret exits 1');
like($out, qr/^invalid registry data \([^\n]+\)\n\z/, "with the server's message and detail, one line");
($rc, $out) = docker({ pg_env('node'), NSVAULT_NAMESPACE => 'shop' },
	$json->encode({ %creds, ServerURL => 'x.example.com', Secret => $token{refused} }), 'store');
is($rc, 1, 'store without write on the namespace exits 1');
like($out, qr/^permission denied for namespace "shop"[^\n]*\n\z/, "with the server's message");
($rc, $out) = docker(\%shop, "x.example.com\n", 'get');
is("$rc|$out", "1|$not_found", 'no refused store stored anything');

# erase
($rc, $out, $err) = docker(\%shop, "https://registry.example.com/\n", 'erase');
is("$rc|$out|$err", '0||', 'erase, by another spelling of the URL: exit 0, nothing printed');
($rc, $out) = docker(\%shop, "registry.example.com\n", 'get');
is("$rc|$out", "1|$not_found", 'get after erase: not found');
($rc, $out) = docker(\%shop, "registry.example.com\n", 'erase');
is("$rc|$out", "1|$not_found", 'erase of a registry that is not there: the not-found line, exit 1');
($rc, $out) = docker(\%shop, "\n", 'erase');
is("$rc|$out", "1|no credentials server URL\n", 'erase without a server URL');

# a global service's store and erase: the global-private scope
%creds = (ServerURL => 'private.example.com', Username => 'svc', Secret => $token{gsvc});
($rc, $out, $err) = docker(\%global, $json->encode(\%creds), 'store');
is("$rc|$out|$err", '0||', 'a global service\'s store: exit 0');
($rc, $out) = NsvaultClient::run('', '-d', $connstr, 'registry', 'list', '--global');
like($out, qr/^global-private\tprivate\.example\.com\t\*\*\*\t/m, 'it set a global-private registry');
docker_get_is(\%global, "private.example.com\n", 'private.example.com', 'svc', $token{gsvc},
	'a global service, after its store');
($rc, $out) = docker(\%shop, "private.example.com\n", 'get');
is("$rc|$out", "1|$not_found", 'which a namespace service does not see');
($rc, $out) = docker(\%global, '', 'list');
is_deeply(eval { decode_json($out) } // {},
	{ 'ghcr.io' => 'gl***er', 'gcr.io' => 'pr***er', 'private.example.com' => '***' },
	'a global service\'s list: global and global-private');
($rc, $out, $err) = docker(\%global, "private.example.com\n", 'erase');
is("$rc|$out|$err", '0||', 'a global service\'s erase: exit 0');
($rc, $out) = docker(\%global, "private.example.com\n", 'erase');
is("$rc|$out", "1|$not_found", 'and again: not found');
($rc, $out) = docker(\%global, "ghcr.io\n", 'erase');
is("$rc|$out", "1|$not_found", 'erase never touches the global scope, only global-private');
($rc, $out) = docker({ pg_env('node'), NSVAULT_GLOBAL_SERVICE => '1' }, $json->encode(\%creds), 'store');
is($rc, 1, "a global service's store without admin on \@global exits 1");
like($out, qr/^permission denied for namespace "\@global"/, 'with the server\'s message');

# --- nsvault-credential-provider -------------------------------------------

my $api = 'credentialprovider.kubelet.k8s.io/v1';

sub request
{
	my ($image, %more) = @_;
	return $json->encode({ apiVersion => $api, kind => 'CredentialProviderRequest',
		image => $image, %more });
}

sub provider
{
	my ($env, $stdin, @args) = @_;
	return run_with_env('nsvault-credential-provider', $env, $stdin,
		'-d', "$connstr user=node", @args);
}

# Checks an answer: exit 0, stderr empty, and exactly the response expected.
sub provider_is
{
	my ($env, $stdin, $args, $auth, $what, %more) = @_;
	my ($rc, $out, $err) = provider($env, $stdin, @$args);
	is("$rc|$err", '0|', "provider, $what: exit 0, nothing on stderr");
	is_deeply(eval { decode_json($out) } // {},
		{ apiVersion => $more{api} // $api, kind => 'CredentialProviderResponse',
		  cacheKeyType => $more{key_type} // 'Registry', cacheDuration => $more{duration} // '5m', auth => $auth,
		  $more{sa} ? (serviceAccountTokenCacheType => 'ServiceAccount') : () },
		"provider, $what: the response");
}

my @shop = ('--namespace', 'shop');
sub cred { return { username => $_[0], password => $token{ $_[1] } } }

provider_is({}, request('quay.io/org/app'), \@shop, { 'quay.io/org' => cred('org-user', 'org') },
	'quay.io/org/app: only quay.io/org, keyed so');
provider_is({}, request('quay.io/other/app'), \@shop, { 'quay.io' => cred('quay-user', 'quay') },
	'quay.io/other/app: quay.io');
provider_is({}, request('docker.io/library/nginx'), \@shop, { 'docker.io' => cred('hub-user', 'hub') },
	'docker.io/library/nginx, as the kubelet sends "nginx"');
provider_is({}, request('registry-1.docker.io/library/nginx'), \@shop,
	{ 'registry-1.docker.io' => cred('hub-user', 'hub') }, 'an image naming registry-1.docker.io: that host');
provider_is({}, request('localhost:5000/app'), \@shop, { 'localhost:5000' => cred('local-user', 'local') },
	'localhost:5000/app');
provider_is({}, request('ghcr.io/owner/app'), \@shop, { 'ghcr.io' => cred('global-user', 'global') },
	'a global registry');
provider_is({}, request('example.org/app'), \@shop, {}, 'no registry: auth {}');
provider_is({}, request('gcr.io/p/app'), \@shop, {}, 'global-private is not for namespaces: auth {}');
provider_is({}, request('quay.io/org/app'), [ @shop, '--cache-duration', '1h30m' ],
	{ 'quay.io/org' => cred('org-user', 'org') }, '--cache-duration 1h30m', duration => '1h30m');
provider_is({}, request('quay.io/org/app'), [ @shop, '--cache-duration=0' ],
	{ 'quay.io/org' => cred('org-user', 'org') }, '--cache-duration=0', duration => '0');
provider_is({}, request('quay.io/org/app'), [ @shop, '--cache-key-type', 'Image' ],
	{ 'quay.io/org' => cred('org-user', 'org') }, '--cache-key-type Image', key_type => 'Image');
{
	my $beta = 'credentialprovider.kubelet.k8s.io/v1beta1';
	provider_is({}, $json->encode({ apiVersion => $beta, kind => 'CredentialProviderRequest',
		image => 'quay.io/x/y' }), \@shop, { 'quay.io' => cred('quay-user', 'quay') },
		'a v1beta1 request: a v1beta1 response', api => $beta);
}

# which namespace: the annotation, --namespace, NSVAULT_NAMESPACE
my %annotated = (serviceAccountToken => $token{sa},
	serviceAccountAnnotations => { 'nsvault.io/namespace' => 'team', 'other/key' => 'x' });
provider_is({ NSVAULT_NAMESPACE => 'other' }, request('quay.io/app', %annotated), \@shop,
	{ 'quay.io' => cred('team-user', 'team') }, 'the annotation over --namespace and the environment',
	sa => 1);
provider_is({ NSVAULT_NAMESPACE => 'other' }, request('quay.io/app'), \@shop,
	{ 'quay.io' => cred('quay-user', 'quay') }, '--namespace over the environment');
provider_is({ NSVAULT_NAMESPACE => 'other' }, request('quay.io/app'), [],
	{ 'quay.io' => cred('other-user', 'other') }, 'NSVAULT_NAMESPACE alone');
provider_is({ NSVAULT_NAMESPACE => 'other' },
	request('quay.io/app', serviceAccountToken => $token{sa}, serviceAccountAnnotations => {}), \@shop,
	{ 'quay.io' => cred('quay-user', 'quay') },
	'a token without the annotation: --namespace, serviceAccountTokenCacheType set', sa => 1);
provider_is({ pg_env('node') }, request('quay.io/app'), [ '-d', '', '-n', 'team' ],
	{ 'quay.io' => cred('team-user', 'team') }, '-d "" (the PG* environment) and -n');

# failures: a line on stderr, non-zero, nothing on stdout
for my $fail (
	[ 'no namespace at all', {}, request('quay.io/app'), [],
		qr/no namespace: the service account has no nsvault.io\/namespace annotation/ ],
	[ 'an unknown apiVersion', {}, request('quay.io/app') =~ s/\/v1"/\/v2"/r, \@shop, qr/apiVersion/ ],
	[ 'an unknown kind', {}, request('quay.io/app') =~ s/"CredentialProviderRequest"/"ExecCredential"/r,
		\@shop, qr/kind/ ],
	[ 'malformed JSON', {}, substr(request('quay.io/app', %annotated), 0, -2), \@shop,
		qr/not valid JSON \(line 1, column \d+\)/ ],
	[ 'an unquoted token', {}, request('quay.io/app') =~ s/}$/,"serviceAccountToken":$token{bare}}/r,
		\@shop, qr/not valid JSON \(line 1, column \d+\)\n\z/ ],
	[ 'a JSON array', {}, '[]', \@shop, qr/not a JSON object/ ],
	[ 'no image', {}, $json->encode({ apiVersion => $api, kind => 'CredentialProviderRequest' }),
		\@shop, qr/names no image/ ],
	[ 'an image that is a number', {}, $json->encode({ apiVersion => $api,
		kind => 'CredentialProviderRequest', image => 5 }), \@shop, qr/"image" is not a string/ ],
	[ 'annotations that are not an object', {}, request('quay.io/app',
		serviceAccountToken => $token{sa}, serviceAccountAnnotations => ['team']), \@shop,
		qr/"serviceAccountAnnotations" is not an object/ ],
	[ 'an image reference Docker would refuse', {}, request('Not/An/Image'), \@shop, qr/^nsvault-credential-provider: error: / ],
	[ 'no read on the namespace', {}, request('quay.io/app', %annotated),
		[ '-d', "$connstr user=outsider" ], qr/permission denied for namespace "team"/ ],
	[ 'no server', {}, request('quay.io/app'), [ @shop, '-d', 'host=/nonexistent-socket-dir' ],
		qr/could not connect/ ])
{
	my ($what, $env, $stdin, $args, $message) = @$fail;
	($rc, $out, $err) = provider($env, $stdin, @$args);
	is("$rc|$out", '1|', "provider, $what: exit 1, nothing on stdout");
	like($err, qr/^nsvault-credential-provider: error: [^\n]*\n\z/, "provider, $what: one line on stderr");
	like($err, $message, "provider, $what: saying what");
}
for my $usage ([ '--cache-duration', '5' ], [ '--cache-duration=-5m' ], [ '--cache-duration', '5 m' ],
	[ '--cache-key-type', 'Global' ], [ '--cache-key-type=image' ], ['--bogus'], ['extra'], ['-n'])
{
	($rc, $out, $err) = provider({}, request('quay.io/app'), @shop, @$usage);
	is("$rc|$out", '2|', "provider, usage error: @$usage: exit 2, nothing on stdout");
	like($err, qr/^nsvault-credential-provider: error: [^\n]+\(see --help\)\n\z|--cache-duration is not a duration|--cache-key-type is neither Registry nor Image/,
		"provider, usage error: @$usage: one line");
}
# --version and --help, before any request is read
for my $args (['--version'], ['-V'], [ '--namespace', 'shop', '--version' ])
{
	($rc, $out, $err) = provider({}, '', @$args);
	is("$rc|$out|$err", "0|nsvault-credential-provider $version\n|",
		"provider @$args: the version of META.json, exit 0");
}
($rc, $out, $err) = provider({}, '', '--help');
is("$rc|$err", '0|', 'provider --help: exit 0, nothing on stderr');
like($out, qr/^nsvault-credential-provider answers .*\nOptions:\n.*\n  -V, --version .*\nExit status: /s,
	'provider --help: the help, --version among its options');

# --- answers of the wrong shape ----------------------------------------------

# a database whose schema nsvault holds a look-alike registry_credential:
# both helpers check the answer before reading it, as nsvault does
$main->safe_psql('postgres', 'CREATE DATABASE lookalike');
for my $case ([ 'two rows', q{VALUES ('quay.io', 'a', 'x'), ('quay.io', 'b', 'y')},
		qr/the server answered an unexpected result for nsvault.registry_credential \(2 rows, expected at most 1\)/ ],
	[ 'a NULL user name', q{VALUES ('quay.io', NULL, 'x')},
		qr/the server answered an unexpected result for nsvault.registry_credential \(a NULL in column 2 of row 1\)/ ])
{
	my ($what, $body, $message) = @$case;
	$main->safe_psql('lookalike', qq{
DROP SCHEMA IF EXISTS nsvault CASCADE;
CREATE SCHEMA nsvault;
CREATE FUNCTION nsvault.registry_credential(namespace text, reference text,
	global_service boolean DEFAULT false)
RETURNS TABLE (registry text, username text, secret text) LANGUAGE sql AS \$\$ $body \$\$;
});
	my $look = $main->connstr('lookalike');
	($rc, $out) = docker({ NSVAULT_NAMESPACE => 'shop' }, "quay.io\n", '-d', $look, 'get');
	is($rc, 1, "docker helper, a look-alike answering $what: exit 1");
	like($out, qr/^$message\n\z/, "docker helper, a look-alike answering $what: one line naming it");
	($rc, $out, $err) = provider({}, request('quay.io/app'), @shop, '-d', $look);
	is("$rc|$out", '1|', "provider, a look-alike answering $what: exit 1, nothing on stdout");
	like($err, qr/^nsvault-credential-provider: error: $message\n\z/,
		"provider, a look-alike answering $what: one line naming it");
}

# --- output that cannot be written ------------------------------------------

# Runs $program as run_with_env does, its stdout /dev/full ($to 'full') or
# closed; returns (exit status, stderr).
sub output_to
{
	my ($to, $program, $env, $stdin, @args) = @_;
	local %ENV = %ENV;
	delete $ENV{$_} for grep { /^(NSVAULT_(NAMESPACE|GLOBAL_SERVICE)|PG\w+)$/ } keys %ENV;
	$ENV{$_} = $env->{$_} for keys %$env;
	my ($status, $err) = NsvaultClient::run_program_output_to($to, $program, $stdin, @args);
	push @stderrs, $err;
	return ($status >> 8, $err);
}

my %reason = (full => 'No space left on device', closed => 'Bad file descriptor');
for my $to ('full', 'closed')
{
	for my $call ([ 'docker-credential-nsvault', \%shop, '', 'version' ],
		[ 'docker-credential-nsvault', \%shop, "quay.io\n", 'get' ],
		[ 'docker-credential-nsvault', \%shop, '', 'list' ],
		[ 'docker-credential-nsvault', {}, '', '--help' ],
		[ 'nsvault-credential-provider', {}, '', '--help' ],
		[ 'nsvault-credential-provider', {}, '', '--version' ],
		[ 'nsvault-credential-provider', {}, request('quay.io/app'), @shop, '-d', "$connstr user=node" ])
	{
		my ($program, $env, $stdin, @args) = @$call;
		($rc, $err) = output_to($to, $program, $env, $stdin, @args);
		is($rc, 1, "stdout $to: $program @args exits 1");
		like($err, qr/^\Q$program\E: error: could not write (?:the response )?to standard output: $reason{$to}\n\z/,
			"stdout $to: $program @args says so on stderr");
	}
}

# --- no value where it should not be ---------------------------------------

my $stderr_all = join('', @stderrs, @failed_stdouts);
my @users = qw(quay-user org-user hub-user local-user team-user other-user global-user private-user
  robot ci svc u);
my $log = slurp_file($main->logfile) . slurp_file($key->logfile);
like($log, qr/permission denied for namespace/, 'the refused calls are in the server log');
for my $which (sort keys %token)
{
	my $value = $token{$which};
	# the token, its random part alone, and base64 of it and of USER:TOKEN
	my @forms = grep { defined } ($value, ($value =~ /([0-9a-f]{16})$/)[0],
		encode_base64($value, ''), map { encode_base64("$_:$value", '') } @users);
	ok(!(grep { index($stderr_all, $_) >= 0 } @forms), "no $which token in any stderr or error line, raw, in part or base64");
	ok(!(grep { index($log, $_) >= 0 } @forms), "no $which token in either server log, raw, in part or base64");
}

done_testing();
