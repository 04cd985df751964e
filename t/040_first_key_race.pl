# 040_first_key_race.pl — two sessions create a namespace's first key at the
# same moment: both get the same key, and only one is stored; a rotation
# racing the first use waits for it.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('key');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION nsvault_keys CASCADE');

my $first = $node->background_psql('postgres');
my $second = $node->background_psql('postgres');

# the first session creates the key and holds its transaction open
$first->query_safe('BEGIN');
my $first_key = $first->query_safe(
	"SELECT encode(key, 'hex') FROM nsvault_keys.active_key('race', 1, NULL)");
like($first_key, qr/^[0-9a-f]{64}$/, 'the first session made a key');

# the second asks for the same namespace's key and must wait
$second->{stdin} .= "SELECT encode(key, 'hex') FROM nsvault_keys.active_key('race', 1, NULL);\n";
$second->{run}->pump_nb();
ok( $node->poll_query_until('postgres', q{
	SELECT count(*) > 0 FROM pg_stat_activity
	 WHERE wait_event_type = 'Lock' AND query LIKE '%active_key(''race''%'}),
	'the second session waits for the first');

$first->query_safe('COMMIT');
my ($second_out) = split /\n/, $second->query_safe('SELECT 1');
is($second_out, $first_key, 'both sessions got the same key');
is($node->safe_psql('postgres',
		"SELECT count(*) FROM nsvault_keys.keys WHERE namespace = 'race'"),
	'1', 'one key was stored, not two');

# a rotation racing the first use of a namespace makes version 2, not a second version 1
$first->query_safe('BEGIN');
$first->query_safe("SELECT version FROM nsvault_keys.active_key('race2', 1, NULL)");
$second->{stdin} .= "SELECT version FROM nsvault_keys.add_key_version('race2', 1, NULL);\n";
$second->{run}->pump_nb();
ok( $node->poll_query_until('postgres', q{
	SELECT count(*) > 0 FROM pg_stat_activity
	 WHERE wait_event_type = 'Lock' AND query LIKE '%add_key_version(''race2''%'}),
	'the rotation waits for the first use');
$first->query_safe('COMMIT');
my ($rotated) = split /\n/, $second->query_safe('SELECT 1');
is($rotated, '2', 'the rotation made version 2');
is($node->safe_psql('postgres',
		"SELECT string_agg(version::text, ',' ORDER BY version) FROM nsvault_keys.keys WHERE namespace = 'race2'"),
	'1,2', 'one version 1 and one version 2');

$first->quit;
$second->quit;
done_testing();
