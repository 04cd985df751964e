# 090_crash_recovery.pl — the main server is killed (immediate stop) during
# a stream of writes: every write acknowledged before the crash reads back
# after recovery.
use strict;
use warnings;
use lib 't';

use PostgreSQL::Test::Utils;
use Test::More;
use NsvaultPair;

my ($key, $main) = NsvaultPair::start_pair(log_statement => "'none'");

my $session = $main->background_psql('postgres', on_error_stop => 0);
my $acknowledged = 0;
for my $i (1 .. 300)
{
	$session->query_safe("SELECT nsvault.set_secret('crash', 'k$i', 'value-$i')");
	$acknowledged = $i;
}

# one more write in flight, and the server dies under it
$session->{stdin} .= "SELECT nsvault.set_secret('crash', 'k301', 'value-301');\n";
$session->{run}->pump_nb();
$main->stop('immediate');
eval { $session->quit; };
$main->start;

is($main->safe_psql('postgres', qq{
SELECT count(*) FROM generate_series(1, $acknowledged) i
 WHERE nsvault.get_secret('crash', 'k' || i) = 'value-' || i}),
	$acknowledged, "all $acknowledged acknowledged writes read back after recovery");
like($main->safe_psql('postgres', q{
SELECT coalesce((SELECT nsvault.get_secret('crash', 'k301') FROM nsvault.list_secrets('crash') l
				  WHERE l.name = 'k301'), 'absent')}),
	qr/^(value-301|absent)$/, 'the write in flight is whole or absent');

done_testing();
