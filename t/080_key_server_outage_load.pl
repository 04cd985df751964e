# 080_key_server_outage_load.pl — the key server stops in the middle of a
# pgbench run of mixed reads and writes, then restarts: clear class-08
# errors while it is down, full service after, no half-written rows.
use strict;
use warnings;
use lib 't';

use PostgreSQL::Test::Utils;
use Test::More;
use NsvaultPair;

# no key cache: every call needs the key server
my ($key, $main) = NsvaultPair::start_pair(log_statement => "'none'",
	'nsvault.key_cache_seconds' => 0);
my $dir = PostgreSQL::Test::Utils::tempdir();

$main->safe_psql('postgres',
	"SELECT nsvault.set_secret('load', 's' || i, 'value-' || i) FROM generate_series(1, 50) i");

open my $fh, '>', "$dir/mixed.sql" or die $!;
print $fh <<'SQL';
\set n random(1, 50)
\set op random(1, 2)
\if :op = 1
SELECT nsvault.get_secret('load', 's' || :n);
\else
SELECT nsvault.set_secret('load', 's' || :n, 'value-' || :n);
\endif
SQL
close $fh;

my @pgbench = ('pgbench', '-n', '-M', 'prepared', '-c', '4', '-f', "$dir/mixed.sql",
	'-h', $main->host, '-p', $main->port, 'postgres');

# the key server goes away under load
my ($out, $err) = ('', '');
my $run = IPC::Run::start([ @pgbench, '-T', '30' ], '>', \$out, '2>', \$err);
sleep 2;
$key->stop('fast');
$run->finish;
like($err, qr/aborted in command .*(could not connect to the key server|lost the connection to the key server) through foreign server "nsvault_keydb"/,
	'clients get a clear error naming the key server while it is down');
unlike($err, qr/server closed the connection|terminating connection/,
	'the main server itself stayed up');

my ($ret, $stdout, $stderr) = $main->psql('postgres', q{
\set VERBOSITY verbose
SELECT nsvault.get_secret('load', 's1');});
like($stderr, qr/ERROR:  08001: could not connect to the key server/, 'the SQLSTATE is of class 08');

# back: full service
$key->start;
($out, $err) = ('', '');
IPC::Run::run([ @pgbench, '-t', '200' ], '>', \$out, '2>', \$err);
is($? >> 8, 0, 'pgbench runs clean once the key server is back') or diag($err);
like($out, qr/number of transactions actually processed: 800\/800/, 'every transaction went through');

# nothing half-written: every row decrypts to what was written
is($main->safe_psql('postgres', q{
SELECT count(*) FROM nsvault.list_secrets('load') l
 WHERE nsvault.get_secret('load', l.name) = 'value-' || substr(l.name, 2)}), '50',
	'all 50 secrets read back whole');

done_testing();
