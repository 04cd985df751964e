# 030_no_plaintext_on_disk.pl — after a CHECKPOINT, no secret's plaintext,
# registry token or namespace key is anywhere in the main cluster's data
# directory or WAL, nor in its server log.
use strict;
use warnings;
use lib 't';

use File::Find;
use PostgreSQL::Test::Utils;
use Test::More;
use NsvaultPair;

# statements are not logged: this test is about what nsvault itself writes
my ($key, $main) = NsvaultPair::start_pair(log_statement => "'none'");

my $canary = 'PLAINTEXT-' . NsvaultPair::random_hex(16);
my $control = 'CONTROL-' . NsvaultPair::random_hex(16);
my $long_canary = ('L' . NsvaultPair::random_hex(16)) x 200;    # 6.6 kB: TOASTed
my $token_canary = 'TOKEN-' . NsvaultPair::random_hex(16);

$main->safe_psql('postgres', qq{
SELECT nsvault.set_secret('disk', 'short', '$canary');
SELECT nsvault.set_secret('disk', 'long', '$long_canary');
SELECT nsvault.set_secret('disk', 'n' || i, '$canary' || i) FROM generate_series(1, 200) i;
SELECT nsvault.set_secret('disk', 'short', '$canary', overwrite => true);
SELECT nsvault.set_registry('disk', 'https://quay.io', 'robot:$token_canary');
SELECT nsvault.set_global_registry('ghcr.io', 'robot:$token_canary', private => true);
CREATE TABLE plain_control (v text);
INSERT INTO plain_control VALUES ('$control');
CHECKPOINT;
});
is($main->safe_psql('postgres', "SELECT nsvault.get_secret('disk', 'short')"), $canary,
	'the secret reads back');
is($main->safe_psql('postgres',
		"SELECT nsvault.docker_config('disk', 'quay.io/org/app') #>> '{auths,https://quay.io,password}'"),
	$token_canary, 'the registry token reads back');

my $key_hex = $key->safe_psql('nsvault_keys',
	"SELECT encode(key, 'hex') FROM nsvault_keys.keys WHERE namespace = 'disk'");
like($key_hex, qr/^[0-9a-f]{64}$/, 'the namespace has one key');
my $key_raw = pack('H*', $key_hex);

# Returns the files under $dir that contain any of @needles.
sub files_containing
{
	my ($dir, @needles) = @_;
	my @found;
	find(
		{
			no_chdir => 1,
			wanted => sub {
				return unless -f $_;
				open my $fh, '<:raw', $_ or return;
				local $/;
				my $content = <$fh>;
				close $fh;
				for my $needle (@needles)
				{
					if (index($content, $needle) >= 0)
					{
						push @found, $File::Find::name;
						last;
					}
				}
			}
		},
		$dir);
	return @found;
}

# the scan works: the plain table's value and the key database's key are found
ok(scalar(files_containing($main->data_dir, $control)) > 0,
	'control: a plain value is found in the main data directory');
ok(scalar(files_containing($key->data_dir, $key_raw)) > 0,
	'control: the key is found in the key cluster, where it belongs');

my $wal_files = () = glob($main->data_dir . '/pg_wal/0*');
ok($wal_files > 0, 'the scan includes WAL segments');

is_deeply([ files_containing($main->data_dir, $canary, substr($long_canary, 0, 64)) ], [],
	'no plaintext in the main data directory or its WAL');
is_deeply([ files_containing($main->data_dir, $token_canary) ], [],
	'no registry token in clear in the main data directory or its WAL');
is_deeply([ files_containing($main->data_dir, $key_raw, $key_hex, uc $key_hex) ], [],
	'no key bytes in the main data directory or its WAL');
is_deeply([ files_containing($main->logfile, $canary, $token_canary, $key_hex) ], [],
	'no plaintext or key in the main server log');

done_testing();
