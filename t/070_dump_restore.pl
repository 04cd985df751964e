# 070_dump_restore.pl — pg_dump of the main database, pg_restore into a new
# one: everything decrypts with the same key database, and the dump holds
# no plaintext and no key.
use strict;
use warnings;
use lib 't';

use PostgreSQL::Test::Utils;
use Test::More;
use NsvaultPair;

my ($key, $main) = NsvaultPair::start_pair(log_statement => "'none'");
my $value = 'DUMPED-' . NsvaultPair::random_hex(16);
my $token = 'TOKEN-' . NsvaultPair::random_hex(16);

$main->safe_psql('postgres', qq{
CREATE ROLE dump_reader LOGIN;
SELECT nsvault.set_secret('backup', 'db/password', '$value');
SELECT nsvault.set_secret('backup', 'other', 'x');
SELECT nsvault.set_registry('backup', 'https://quay.io', 'robot:$token');
SELECT nsvault.grant_namespace('backup', 'dump_reader', 'read');
SELECT nsvault.rotate_key('backup');
SELECT nsvault.set_secret('backup', 'after-rotation', 'y');
});

my $dump = PostgreSQL::Test::Utils::tempdir() . '/main.dump';
command_ok([ 'pg_dump', '-Fc', '-d', $main->connstr('postgres'), '-f', $dump ], 'pg_dump of the main database');

open my $fh, '<:raw', $dump or die "$dump: $!";
my $content = do { local $/; <$fh> };
close $fh;
my $key_hex = $key->safe_psql('nsvault_keys',
	"SELECT string_agg(encode(key, 'hex'), ',') FROM nsvault_keys.keys WHERE namespace = 'backup'");
ok(index($content, $value) < 0, 'the dump holds no secret value');
ok(index($content, $token) < 0, 'the dump holds no registry token');
ok(!grep({ index($content, pack('H*', $_)) >= 0 || index($content, $_) >= 0 } split /,/, $key_hex),
	'the dump holds no key');
my $plain_sql = '';
IPC::Run::run([ 'pg_restore', '-f', '-', $dump ], '>', \$plain_sql);
like($plain_sql, qr/COPY nsvault\.secrets/, 'the dump includes nsvault.secrets rows');
ok(index($plain_sql, $value) < 0, 'no value in the dump as SQL either');

$main->safe_psql('postgres', 'CREATE DATABASE restored');
command_ok([ 'pg_restore', '-d', $main->connstr('restored'), '--exit-on-error', $dump ],
	'pg_restore into a new database');

is($main->safe_psql('restored', "SELECT nsvault.get_secret('backup', 'db/password')"), $value,
	'a secret decrypts in the restored database, with the same key database');
is($main->safe_psql('restored', "SELECT nsvault.get_secret('backup', 'after-rotation')"), 'y',
	'so does one sealed after a rotation');
is($main->safe_psql('restored',
		"SELECT nsvault.docker_config('backup', 'quay.io/a/b') #>> '{auths,https://quay.io,password}'"),
	$token, 'and a registry token');
is($main->safe_psql('restored', q{
SET ROLE dump_reader;
SELECT nsvault.get_secret('backup', 'other');}), 'x', 'grants were restored');
is($main->safe_psql('restored', "SELECT count(*) > 0 FROM nsvault.audit_events WHERE namespace = 'backup'"),
	't', 'the audit trail was restored');
is($main->safe_psql('restored', q{
SELECT count(*) FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.deptype = 'e'
  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'dblink'
 WHERE has_function_privilege('public', p.oid, 'EXECUTE')}), '0',
	'dblink is still not executable by PUBLIC after the restore');

# crypto-shredding: a backup taken before delete_namespace cannot be read after it
$main->safe_psql('postgres', 'SELECT nsvault.delete_namespace(\'backup\')');
ok($main->poll_query_until('postgres', 'SELECT count(*) = 0 FROM nsvault.key_destructions'),
	'the key destroyer destroyed its keys after the commit');
$main->safe_psql('postgres', 'CREATE DATABASE restored_after_delete');
command_ok([ 'pg_restore', '-d', $main->connstr('restored_after_delete'), '--exit-on-error', $dump ],
	'the earlier dump restores after the namespace was deleted');
is($main->safe_psql('restored_after_delete', "SELECT count(*) FROM nsvault.secrets WHERE namespace = 'backup'"),
	'3', 'its ciphertext is all there');
my ($ret, $out, $err) = $main->psql('restored_after_delete',
	"SELECT nsvault.get_secret('backup', 'db/password')");
isnt($ret, 0, 'but it cannot be decrypted');
like($err, qr/key version \d+ of namespace "backup" was destroyed/, 'its keys are gone');
ok(index($out . $err, $value) < 0, 'and the value appears nowhere');

done_testing();
