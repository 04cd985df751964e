# 170_client_answers.pl — the client checks the shape of every answer: in
# databases whose schema nsvault holds look-alike functions (same names and
# arguments) that answer no rows, NULLs, extra rows or wrong types, every
# command exits 1 with one line naming the function and what was wrong,
# prints nothing on stdout and is not killed by a signal.  No extension is
# needed: the client only calls functions by name.
use strict;
use warnings;
use lib 't';

use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use NsvaultClient;

my $node = PostgreSQL::Test::Cluster->new('main');
$node->init;
$node->start;

my $dir = PostgreSQL::Test::Utils::tempdir();

# The functions the client calls: arguments, and the columns of their answer.
my %functions = (
	set_secret => [ 'namespace text, name text, value text, overwrite boolean DEFAULT true,'
		  . ' expected_version integer DEFAULT NULL', 'integer' ],
	get_secret => [ 'namespace text, name text, version integer', 'text' ],
	get_secrets => [ 'namespace text, names text[]', 'jsonb' ],
	list_secrets => [ 'namespace text', 'TABLE (name text, created_at timestamptz, updated_at timestamptz,'
		  . ' current_version integer, description text, expires_at timestamptz)' ],
	delete_secret => [ 'namespace text, name text', 'boolean' ],
	set_registry => [ 'namespace text, url text, data text', 'void' ],
	set_global_registry => [ 'url text, data text, private boolean DEFAULT false', 'void' ],
	list_registries => [ 'namespace text', 'TABLE (url text, user_hint text, created_at timestamptz)' ],
	list_global_registries =>
	  [ '', 'TABLE (scope text, url text, user_hint text, created_at timestamptz)' ],
	delete_registry => [ 'namespace text, url text', 'boolean' ],
	delete_global_registry => [ 'url text, private boolean DEFAULT false', 'boolean' ],
	docker_config =>
	  [ 'namespace text, image text DEFAULT NULL, global_service boolean DEFAULT false', 'jsonb' ],
);

# Per database: each function's RETURNS clause and body, and the reason the
# client must give (undef: the answer is right and the command succeeds).
# A function returning several columns gives one column of type record
# (OID 2249) through "SELECT f()": that is how a wrong width shows.
my %databases = (
	good => {
		set_secret => [ 'integer', '1', undef ],
		get_secret => [ 'text', q{'fake value'}, undef ],
		get_secrets => [ 'jsonb', q{'{"x": "fake value"}'::jsonb}, undef ],
		list_secrets => [ undef, q{'x', now(), now(), 1, NULL::text, NULL::timestamptz}, undef ],
		delete_secret => [ 'boolean', 'true', undef ],
		set_registry => [ 'void', '', undef ],
		set_global_registry => [ 'void', '', undef ],
		list_registries => [ undef, q{'quay.io', 'r***t', now()}, undef ],
		list_global_registries => [ undef, q{'global', 'quay.io', 'r***t', now()}, undef ],
		delete_registry => [ 'boolean', 'true', undef ],
		delete_global_registry => [ 'boolean', 'true', undef ],
		docker_config => [ 'jsonb', q{'{"auths": {}}'::jsonb}, undef ],
	},
	no_rows => {
		set_secret => [ 'SETOF integer', '1 WHERE false', '0 rows, expected 1' ],
		get_secret => [ 'SETOF text', 'NULL::text WHERE false', '0 rows, expected 1' ],
		get_secrets => [ 'SETOF jsonb', 'NULL::jsonb WHERE false', '0 rows, expected 1' ],
		# an empty list is a right answer
		list_secrets => [ undef, q{'x', now(), now(), 1, NULL::text, NULL::timestamptz WHERE false}, undef ],
		delete_secret => [ 'SETOF boolean', 'true WHERE false', '0 rows, expected 1' ],
		set_registry => [ 'SETOF void', 'BEGIN RETURN; END', '0 rows, expected 1' ],
		set_global_registry => [ 'SETOF void', 'BEGIN RETURN; END', '0 rows, expected 1' ],
		list_registries => [ undef, q{'quay.io', 'r***t', now() WHERE false}, undef ],
		list_global_registries => [ undef, q{'global', 'quay.io', 'r***t', now() WHERE false}, undef ],
		delete_registry => [ 'SETOF boolean', 'true WHERE false', '0 rows, expected 1' ],
		delete_global_registry => [ 'SETOF boolean', 'true WHERE false', '0 rows, expected 1' ],
		docker_config => [ 'SETOF jsonb', 'NULL::jsonb WHERE false', '0 rows, expected 1' ],
	},
	nulls => {
		set_secret => [ 'integer', 'NULL::integer', 'a NULL in column 1 of row 1' ],
		get_secret => [ 'text', 'NULL::text', 'a NULL in column 1 of row 1' ],
		get_secrets => [ 'jsonb', 'NULL::jsonb', 'a NULL in column 1 of row 1' ],
		list_secrets => [ undef, q{'x', now(), now(), NULL::integer, NULL::text, NULL::timestamptz},
			'a NULL in column 4 of row 1' ],
		delete_secret => [ 'boolean', 'NULL::boolean', 'a NULL in column 1 of row 1' ],
		set_registry => [ 'SETOF void', 'BEGIN RETURN NEXT NULL; RETURN NEXT NULL; END', '2 rows, expected 1' ],
		set_global_registry =>
		  [ 'SETOF void', 'BEGIN RETURN NEXT NULL; RETURN NEXT NULL; END', '2 rows, expected 1' ],
		list_registries => [ undef, q{NULL::text, 'r***t', now()}, 'a NULL in column 1 of row 1' ],
		list_global_registries => [ undef, q{'global', 'quay.io', 'r***t', NULL::timestamptz}, 'a NULL in column 4 of row 1' ],
		delete_registry => [ 'SETOF boolean', 'true FROM generate_series(1, 2)', '2 rows, expected 1' ],
		delete_global_registry => [ 'boolean', 'NULL::boolean', 'a NULL in column 1 of row 1' ],
		docker_config => [ 'jsonb', 'NULL::jsonb', 'a NULL in column 1 of row 1' ],
	},
	wrong_types => {
		set_secret => [ 'void', '', 'column 1 is void, expected integer' ],
		get_secret => [ 'TABLE (a text, b text)', q{'fake', 'value'}, 'column 1 is type OID 2249, expected text' ],
		get_secrets => [ 'json', q{'{"x": "fake value"}'::json}, 'column 1 is type OID 114, expected jsonb' ],
		list_secrets => [ 'TABLE (name text, created_at text, updated_at text, current_version integer,'
			  . ' description text, expires_at timestamptz)', q{'x', 'now', 'now', 1, NULL::text, NULL::timestamptz},
			'column 2 is text, expected timestamptz' ],
		delete_secret => [ 'text', q{'t'}, 'column 1 is text, expected boolean' ],
		set_registry => [ 'integer', '1', 'column 1 is integer, expected void' ],
		set_global_registry => [ 'TABLE (a text, b text)', q{'a', 'b'}, 'column 1 is type OID 2249, expected void' ],
		list_registries => [ 'TABLE (url text, user_hint text, created_at date)', q{'quay.io', 'r***t', current_date},
			'column 3 is type OID 1082, expected timestamptz' ],
		list_global_registries => [ 'TABLE (scope text, url text, user_hint text, created_at timestamp)',
			q{'global', 'quay.io', 'r***t', localtimestamp}, 'column 4 is type OID 1114, expected timestamptz' ],
		delete_registry => [ 'text', q{'t'}, 'column 1 is text, expected boolean' ],
		delete_global_registry => [ 'integer', '1', 'column 1 is integer, expected boolean' ],
		docker_config => [ 'TABLE (config jsonb, extra text)', q{'{"auths": {}}'::jsonb, 'x'},
			'column 1 is type OID 2249, expected jsonb' ],
	},
);

# Makes database $db with the look-alike functions of %{$databases{$db}}.
sub make_database
{
	my ($db) = @_;
	my $sql = "CREATE SCHEMA nsvault;\n";
	for my $fn (sort keys %functions)
	{
		my ($args, $real) = @{ $functions{$fn} };
		my ($returns, $body) = @{ $databases{$db}{$fn} };
		$returns //= $real;
		# a body of SQL is what follows SELECT, one of PL/pgSQL starts with BEGIN
		# (an SQL function of void drops its rows: SETOF void needs PL/pgSQL)
		my ($language, $code) =
			$body =~ /^BEGIN/ ? ('plpgsql', $body) : ('sql', "SELECT $body");
		$sql .= "CREATE FUNCTION nsvault.$fn($args) RETURNS $returns LANGUAGE $language AS \$\$$code\$\$;\n";
	}
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, $sql);
}

# Runs the client against $db with $stdin; returns (raw wait status, stdout, stderr).
sub run_client
{
	my ($db, $stdin, @args) = @_;
	return NsvaultClient::run($stdin, '-d', $node->connstr($db), @args);
}

my $action = "$dir/action.json";
open my $afh, '>', $action or die "$action: $!";
print $afh '{"function": "f", "secrets": ["x"], "input": {"token": "jq(.secrets.x)"}}';
close $afh;

# Each command, what it is called in messages, its stdin and the function it calls.
my @commands = (
	[ 'secret set', 'value', [qw(secret set ops x)], 'set_secret' ],
	[ 'secret get', '', [qw(secret get ops x)], 'get_secret' ],
	[ 'secret list', '', [qw(secret list ops)], 'list_secrets' ],
	[ 'secret delete', '', [qw(secret delete ops x)], 'delete_secret' ],
	[ 'registry set', 'robot:token', [qw(registry set ops quay.io)], 'set_registry' ],
	[ 'registry set', 'robot:token', [qw(registry set --global quay.io)], 'set_global_registry' ],
	[ 'registry list', '', [qw(registry list ops)], 'list_registries' ],
	[ 'registry list', '', [qw(registry list --global)], 'list_global_registries' ],
	[ 'registry delete', '', [qw(registry delete ops quay.io)], 'delete_registry' ],
	[ 'registry delete', '', [qw(registry delete --global quay.io)], 'delete_global_registry' ],
	[ 'registry docker-config', '', [qw(registry docker-config ops)], 'docker_config' ],
	[ 'enrich', '{}', [ 'enrich', '--namespace', 'ops', '--action', $action ], 'get_secrets' ],
);

for my $db (sort keys %databases)
{
	make_database($db);
	for my $command (@commands)
	{
		my ($what, $stdin, $args, $fn) = @$command;
		my $reason = $databases{$db}{$fn}[2];
		my ($status, $out, $err) = run_client($db, $stdin, @$args);
		my $name = "$db: nsvault @$args";

		is($status & 127, 0, "$name: not killed by a signal");
		if (!defined $reason)
		{
			is($status >> 8, 0, "$name: a right answer exits 0") or diag($err);
			next;
		}
		is($status >> 8, 1, "$name: exits 1");
		is($out, '', "$name: prints nothing on stdout");
		is($err, "nsvault: error: $what: the server answered an unexpected result for nsvault.$fn ($reason)\n",
			"$name: one line naming the function and what was wrong");
	}

	# batch mode answers each request in its own line, and goes on
	my $request = '{"namespace": "ops", "action": {"secrets": ["x"], "input": "jq(.secrets.x)"}}';
	my ($status, $out, $err) = run_client($db, "$request\n$request\n", 'enrich', '--batch');
	my $reason = $databases{$db}{get_secrets}[2];
	is($status, 0, "$db: enrich --batch exits 0") or diag($err);
	my @lines = split /\n/, $out;
	is(scalar @lines, 2, "$db: enrich --batch answers both requests");
	for my $line (@lines)
	{
		my $reply = decode_json($line);
		if (!defined $reason)
		{
			is_deeply($reply, { input => 'fake value' }, "$db: enrich --batch: the input");
			next;
		}
		is_deeply($reply,
			{ error => { code => 'database',
				message => "the server answered an unexpected result for nsvault.get_secrets ($reason)" } },
			"$db: enrich --batch: a database error naming the function and what was wrong");
	}
}

# get_secrets' answer itself: exactly the names asked, each a string.  A
# database per answer, its get_secrets taking missing_ok as the real one
# does (enrich --batch asks with it); the client names the secret, never a
# value, nor a key it did not ask for.
my $marker = 'marker-' . join('', map { int(rand(10)) } 1 .. 8);
my %shapes = (
	number => [ q{'{"x": 7391}'}, 1, 'secret "x" is a number, not text' ],
	object => [ qq{'{"x": {"v": "$marker"}}'}, 1, 'secret "x" is an object, not text' ],
	null_value => [ q{'{"x": null}'}, 1, 'secret "x" is null, not text' ],
	extra => [ qq{'{"x": "fake value", "$marker": "$marker"}'}, 1, 'a secret that was not asked for' ],
	not_object => [ qq{'["$marker"]'}, 1, 'not a JSON object' ],
	missing => [ qq{'{}'}, 3, undef ],
	# the keys of the other secret a request asked for
	right => [ qq{'{"x": "fake value", "y": "$marker"}'}, 0, undef ],
);
for my $shape (sort keys %shapes)
{
	my ($answer, $want, $reason) = @{ $shapes{$shape} };
	my $db = "shape_$shape";
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, qq{CREATE SCHEMA nsvault;
CREATE FUNCTION nsvault.get_secrets(namespace text, names text[], missing_ok boolean DEFAULT false)
RETURNS jsonb LANGUAGE sql AS \$\$SELECT ${answer}::jsonb\$\$;});
	my $message = $want == 3 ? 'secret "x" not found in namespace "ops"'
	  : "the server answered an unexpected result for nsvault.get_secrets ($reason)";
	my $two = "$dir/two.json";
	open my $tfh, '>', $two or die "$two: $!";
	print $tfh '{"function": "f", "secrets": ["x", "y"], "input": {"token": "jq(.secrets.x)"}}';
	close $tfh;
	my $action_file = $shape eq 'right' ? $two : $action;
	for my $args ([ 'enrich', '--namespace', 'ops', '--action', $action_file ],
		[ 'mask', '--namespace', 'ops', ($shape eq 'right' ? ('--secret', 'y') : ()), '--secret', 'x' ],
		[ 'run', '--namespace', 'ops', '--env', 'X=x', ($shape eq 'right' ? ('--env', 'Y=y') : ()), '--', 'true' ])
	{
		my ($status, $out, $err) = run_client($db, '{}', @$args);
		my $name = "$shape: nsvault $args->[0]";
		is($status & 127, 0, "$name: not killed by a signal");
		is($status >> 8, $want, "$name: exits $want") or diag($err);
		next if $want == 0;
		is($out, '', "$name: prints nothing on stdout");
		is($err, "nsvault: error: $args->[0]: $message\n", "$name: one line naming the secret, or the shape");
		ok(index($err, $marker) < 0 && index($err, '7391') < 0 && index($err, 'fake value') < 0,
			"$name: no value, and no key it did not ask for");
	}

	# batch mode: the group's call, then the request's own
	my $names = $shape eq 'right' ? '"x", "y"' : '"x"';
	my $request = qq({"namespace": "ops", "action": {"secrets": [$names], "input": "jq(.secrets.x)"}});
	my ($status, $out, $err) = run_client($db, "$request\n", 'enrich', '--batch');
	is($status, 0, "$shape: enrich --batch exits 0") or diag($err);
	my $reply = eval { decode_json($out) } // {};
	if ($want == 0)
	{
		is_deeply($reply, { input => 'fake value' }, "$shape: enrich --batch: the input");
		next;
	}
	is_deeply($reply, { error => { code => $want == 3 ? 'not_found' : 'database', message => $message } },
		"$shape: enrich --batch: an error naming the secret, or the shape");
	ok(index($out, $marker) < 0 && index($out, '7391') < 0 && index($out, 'fake value') < 0,
		"$shape: enrich --batch: no value, and no key it did not ask for");
}

done_testing();
