# 120_hot_standby.pl — reads on a hot standby of the main database work;
# their audit events go to the standby's server log, never to a table.
use strict;
use warnings;
use lib 't';

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use NsvaultPair;

my ($key, $main) = NsvaultPair::start_pair(log_statement => "'none'", allows_streaming => 1);
$main->safe_psql('postgres', q{
CREATE ROLE standby_reader LOGIN;
SELECT nsvault.set_secret('replicated', 'db/password', 'from-the-primary');
SELECT nsvault.grant_namespace('replicated', 'standby_reader', 'read');
});

$main->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($main, 'base', has_streaming => 1);
$standby->start;
$main->wait_for_catchup($standby);

is($standby->safe_psql('postgres', q{
SET ROLE standby_reader;
SELECT nsvault.get_secret('replicated', 'db/password');}), 'from-the-primary',
	'a granted role reads a secret on the standby');
like(slurp_file($standby->logfile),
	qr/LOG:  nsvault audit: role "standby_reader" read in namespace "replicated": db\/password/,
	'the read is recorded in the standby\'s server log');
my ($ret, $out, $err) = $standby->psql('postgres',
	"SELECT nsvault.set_secret('replicated', 'x', 'y')");
like($err, qr/read-only transaction/, 'writes fail as any write does on a standby');
is($main->safe_psql('postgres', "SELECT count(*) FROM nsvault.audit_events WHERE role_name = 'standby_reader'"),
	'0', 'the primary\'s audit table has no row for the standby\'s read');

$standby->stop;
done_testing();
