# 100_soak.pl — 60 seconds of two clients mixing set, get, rotate and
# delete on one namespace: no unexpected error, every final value readable.
# nsvault is preloaded with a tiny shared key cache and a short key lifetime,
# so the clients also race over evictions and expiries of shared entries.
use strict;
use warnings;
use lib 't';

use PostgreSQL::Test::Utils;
use Test::More;
use NsvaultPair;

my ($key, $main) = NsvaultPair::start_pair(
	log_statement => "'none'",
	shared_preload_libraries => "'nsvault'",
	'nsvault.shared_key_cache_size' => 4,
	'nsvault.key_cache_seconds' => 2);
my $dir = PostgreSQL::Test::Utils::tempdir();

open my $fh, '>', "$dir/soak.sql" or die $!;
print $fh <<'SQL';
\set n random(1, 20)
\set op random(1, 100)
\if :op <= 45
SELECT nsvault.set_secret('soak', 'k' || :n, 'v-' || :n || '-' || :client_id);
\elif :op <= 90
SELECT count(nsvault.get_secret('soak', l.name)) FROM nsvault.list_secrets('soak') l;
\elif :op <= 92
SELECT nsvault.rotate_key('soak');
\else
SELECT nsvault.delete_secret('soak', 'k' || :n);
\endif
SQL
close $fh;

my ($out, $err) = ('', '');
IPC::Run::run([ 'pgbench', '-n', '-c', '2', '-T', '60', '-f', "$dir/soak.sql",
	'-h', $main->host, '-p', $main->port, 'postgres' ], '>', \$out, '2>', \$err);
is($? >> 8, 0, 'the soak ran to its end') or diag($err);
unlike($err, qr/aborted|ERROR/, 'with no error');
my ($processed) = $out =~ /number of transactions actually processed: (\d+)/;
ok(($processed // 0) > 100, 'and did real work (' . ($processed // 0) . ' transactions)');

my $names = $main->safe_psql('postgres', "SELECT count(*) FROM nsvault.list_secrets('soak')");
is($main->safe_psql('postgres', q{
SELECT count(*) FROM nsvault.list_secrets('soak') l
 WHERE nsvault.get_secret('soak', l.name) ~ ('^v-' || substr(l.name, 2) || '-[01]$')}),
	$names, "every one of the $names final values is readable and whole");
ok($main->safe_psql('postgres', "SELECT max(key_version) FROM nsvault.secrets WHERE namespace = 'soak'") > 1,
	'keys were rotated during the soak');

done_testing();
