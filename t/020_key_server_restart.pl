# 020_key_server_restart.pl — the key server goes away and comes back: class
# 08 errors and no row written while it is down, and the same main session
# works again afterwards without reconnecting.
use strict;
use warnings;
use lib 't';

use PostgreSQL::Test::Utils;
use Test::More;
use NsvaultPair;

my ($key, $main) = NsvaultPair::start_pair();

my $session = $main->background_psql('postgres', on_error_stop => 0);

# Runs $sql in the session; returns its stderr (empty when it succeeded).
sub session_error
{
	my ($sql) = @_;
	$session->query($sql);
	my $err = $session->{stderr};
	$session->{stderr} = '';
	return $err;
}

$session->query_safe("\\set VERBOSITY verbose");
$session->query_safe("SET nsvault.key_cache_seconds = 0");
my $pid = $session->query_safe("SELECT pg_backend_pid()");
$session->query_safe("SELECT nsvault.set_secret('ops', 'before', 'value before')");

$key->stop('fast');

like(session_error("SELECT nsvault.set_secret('ops', 'during', 'value during')"),
	qr/ERROR:  08001: could not connect to the key server through foreign server "nsvault_keydb"/,
	'a write while the key server is down fails with class 08');
like(session_error("SELECT nsvault.get_secret('ops', 'before')"),
	qr/ERROR:  08\d\d\d: .*foreign server "nsvault_keydb"/,
	'a read while the key server is down fails with class 08');

# a transaction that wrote before the failure keeps nothing
is(session_error("BEGIN"), '', 'transaction begins');
$session->query_safe("SELECT 1");
like(session_error("SELECT nsvault.set_secret('ops', 'in-transaction', 'v')"),
	qr/ERROR:  08001/, 'a write inside a transaction fails too');
session_error("COMMIT");

is($main->safe_psql('postgres',
		"SELECT string_agg(name, ',' ORDER BY name) FROM nsvault.secrets WHERE namespace = 'ops'"),
	'before', 'no row was written while the key server was down');

$key->start;

is(session_error("SELECT nsvault.set_secret('ops', 'after', 'value after')"), '',
	'the same session writes again once the key server is back');
is($session->query_safe("SELECT nsvault.get_secret('ops', 'before') || '/' || nsvault.get_secret('ops', 'after')"),
	'value before/value after', 'and reads both values');
is($session->query_safe("SELECT pg_backend_pid()"), $pid, 'without reconnecting');

# a cached key serves reads while the key server is down
$session->query_safe("SET nsvault.key_cache_seconds = 300");
$session->query_safe("SELECT nsvault.get_secret('ops', 'after')");
$key->stop('immediate');
is($session->query_safe("SELECT nsvault.get_secret('ops', 'after')"), 'value after',
	'a key cached within nsvault.key_cache_seconds needs no key server');
$key->start;

$session->quit;
done_testing();
