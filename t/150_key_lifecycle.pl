# 150_key_lifecycle.pl — the key lifecycle across sessions, crashes and key
# databases: a rotation waits for a writer of its namespace and re-seals
# what it wrote, and a writer waits for a rotation and writes with its new
# version; a rotation under REPEATABLE READ that missed a committed write
# fails with 40001 and changes nothing; a committed delete_namespace whose
# destruction a crash interrupted is finished by the restarted server,
# while one that rolled back destroys nothing; a key database restored
# from an older dump, or recreated empty, is refused (58000) for reads,
# writes and accept_key_database, and no key is made in it; a destroyer
# that keeps retrying does not keep its database from being dropped.
use strict;
use warnings;
use lib 't';

use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);
use NsvaultPair;

my ($key, $main) = NsvaultPair::start_pair(log_statement => "'none'");

# Runs $sql in the main database with verbose errors (which carry the
# SQLSTATE) and no key cache; returns (exit code, stdout, stderr).
sub main_psql
{
	my ($sql) = @_;
	return $main->psql('postgres',
		"\\set VERBOSITY verbose\nSET nsvault.key_cache_seconds = 0;\n$sql");
}

# A secret's value, read with the key cache off: the key is fetched.
sub read_secret
{
	my ($namespace, $name) = @_;
	return $main->safe_psql('postgres', qq{
SET nsvault.key_cache_seconds = 0;
SELECT nsvault.get_secret('$namespace', '$name');});
}

# The namespace's secrets as name:key_version, in name order.
sub secret_versions
{
	my ($namespace) = @_;
	return $main->safe_psql('postgres', qq{
SELECT coalesce(string_agg(name || ':' || key_version, ',' ORDER BY name COLLATE "C"), 'none')
  FROM nsvault.secrets WHERE namespace = '$namespace'});
}

# What the main database records of the namespace: active|highest version.
sub recorded_versions
{
	my ($namespace) = @_;
	return $main->safe_psql('postgres', qq{
SELECT coalesce((SELECT coalesce(active_version::text, 'none') || '|' || highest_version
				   FROM nsvault.namespace_keys WHERE namespace = '$namespace'), 'no row')});
}

# The namespace's key versions in the key database, each live or destroyed.
sub key_versions
{
	my ($namespace) = @_;
	return $key->safe_psql('nsvault_keys', qq{
SELECT coalesce(string_agg(version || CASE WHEN key IS NULL THEN ' destroyed' ELSE ' live' END,
						   ',' ORDER BY version), 'none')
  FROM nsvault_keys.keys WHERE namespace = '$namespace'});
}

sub queued_destructions
{
	return $main->safe_psql('postgres', q{
SELECT coalesce(string_agg(namespace || ':' || first_version || '-' || last_version, ',' ORDER BY id),
				'none')
  FROM nsvault.key_destructions});
}

# A background session that survives errors and shows SQLSTATEs; returns
# it and its backend's pid.
sub session
{
	my ($node, $db) = @_;
	my $s = $node->background_psql($db, on_error_stop => 0);
	$s->query_safe('\set VERBOSITY verbose');
	my $pid = $s->query_safe('SELECT pg_backend_pid()');
	return ($s, $pid);
}

# Runs $sql in $s; returns (stdout, stderr) of that statement alone.
sub run_in
{
	my ($s, $sql) = @_;
	$s->{stderr} = '';
	my $out = $s->query($sql);
	return ($out, $s->{stderr});
}

# Sends $sql to $s without waiting for it to finish.
sub send_query
{
	my ($s, $sql) = @_;
	$s->{stderr} = '';
	$s->{stdin} .= "$sql;\n";
	$s->{run}->pump_nb();
}

# Waits for what send_query sent; returns its (stdout, stderr).
sub collect
{
	my ($s) = @_;
	my $out = $s->query('SELECT 1');
	$out =~ s/\n?1\z//;
	return ($out, $s->{stderr});
}

# Polls until backend $pid of the main node waits on a lock.
sub waits_on_lock
{
	my ($pid) = @_;
	return $main->poll_query_until('postgres', qq{
SELECT count(*) > 0 FROM pg_stat_activity WHERE pid = $pid AND wait_event_type = 'Lock'});
}

# The backends that backend $pid of the main node waits for.
sub blocked_by
{
	my ($pid) = @_;
	return $main->safe_psql('postgres',
		"SELECT array_to_string(pg_blocking_pids($pid), ',')");
}

# 1. A writer and a rotation of one namespace, in either order.
{
	$main->safe_psql('postgres', "SELECT nsvault.set_secret('c', 'old', 'v0')");
	is(recorded_versions('c'), '1|1', 'namespace c starts on key version 1');

	my ($writer, $writer_pid) = session($main, 'postgres');
	my ($rotator, $rotator_pid) = session($main, 'postgres');

	# the writer first: it holds the namespace's lock, shared, until it commits
	run_in($writer, 'BEGIN');
	my ($out, $err) = run_in($writer, "SELECT nsvault.set_secret('c', 'new', 'v1')");
	is($err, '', 'writer first: the writer writes in an open transaction');
	send_query($rotator, "SELECT nsvault.rotate_key('c')");
	ok(waits_on_lock($rotator_pid), 'writer first: the rotation waits on a lock');
	is(blocked_by($rotator_pid), $writer_pid, 'writer first: it waits for the writer\'s transaction');

	run_in($writer, 'COMMIT');
	($out, $err) = collect($rotator);
	is($err, '', 'writer first: the rotation succeeds once the writer commits');
	is($out, '2', 'writer first: it makes version 2');
	is(secret_versions('c'), 'new:2,old:2',
		'writer first: every value of c is on version 2, the writer\'s included');
	is(recorded_versions('c'), '2|2', 'writer first: version 2 is recorded as active');

	my ($ret, $stdout, $stderr) = main_psql("SELECT nsvault.destroy_key_version('c', 2)");
	like($stderr, qr/ERROR:  55006: cannot destroy key version 2 of namespace "c"\nDETAIL:  It is the active version\./,
		'the active version 2 cannot be destroyed (55006)');
	($ret, $stdout, $stderr) = main_psql("SELECT nsvault.destroy_key_version('c', 1)");
	is($ret . $stderr, '0', 'version 1, which nothing is sealed under any more, may be destroyed');
	ok($main->poll_query_until('postgres', 'SELECT count(*) = 0 FROM nsvault.key_destructions'),
		'its destruction leaves the queue');
	ok($key->poll_query_until('nsvault_keys', q{
SELECT key IS NULL AND destroyed_at IS NOT NULL FROM nsvault_keys.keys
 WHERE namespace = 'c' AND version = 1}),
		'the key database destroyed version 1 of c');
	is(key_versions('c'), '1 destroyed,2 live', 'and only version 1');
	is(read_secret('c', 'new'), 'v1', 'the writer\'s value reads with the key cache off');
	is(read_secret('c', 'old'), 'v0', 'and so does the older one');

	# the rotation first: a writer waits for it, then writes with its version
	run_in($rotator, 'BEGIN');
	($out, $err) = run_in($rotator, "SELECT nsvault.rotate_key('c')");
	is($out, '3', 'rotation first: the rotation makes version 3 in an open transaction');
	send_query($writer, "SELECT nsvault.set_secret('c', 'new2', 'v2')");
	ok(waits_on_lock($writer_pid), 'rotation first: the writer waits on a lock');
	is(blocked_by($writer_pid), $rotator_pid, 'rotation first: it waits for the rotation\'s transaction');
	run_in($rotator, 'COMMIT');
	($out, $err) = collect($writer);
	is($err, '', 'rotation first: the write succeeds once the rotation commits');
	is(secret_versions('c'), 'new:3,new2:3,old:3',
		'rotation first: the writer\'s value is on the rotation\'s version 3, as is every other');
	is(read_secret('c', 'new2'), 'v2', 'rotation first: it reads with the key cache off');

	$writer->quit;
	$rotator->quit;
}

# 1b. Writers of one namespace do not wait for each other; two first writes
# of a new namespace queue, make one key, and do not deadlock.
{
	my ($first, $first_pid) = session($main, 'postgres');
	my ($second, $second_pid) = session($main, 'postgres');

	$main->safe_psql('postgres', "SELECT nsvault.set_secret('par', 'w0', 'x')");
	run_in($first, 'BEGIN');
	my ($out, $err) = run_in($first, "SELECT nsvault.set_secret('par', 'w1', 'x')");
	is($err, '', 'writers: the first writes in an open transaction');
	($out, $err) = run_in($second, "SELECT nsvault.set_secret('par', 'w2', 'y')");
	is($err, '', 'writers: a second writer of the namespace goes ahead without waiting');
	run_in($first, 'COMMIT');

	run_in($first, 'BEGIN');
	($out, $err) = run_in($first, "SELECT nsvault.set_secret('newborn', 'a', '1')");
	is($err, '', 'first writes: the first makes the key, in an open transaction');
	send_query($second, "SELECT nsvault.set_secret('newborn', 'b', '2')");
	ok(waits_on_lock($second_pid), 'first writes: the second waits for it');
	run_in($first, 'COMMIT');
	($out, $err) = collect($second);
	is($err, '', 'first writes: then writes, without a deadlock');
	is(secret_versions('newborn'), 'a:1,b:1', 'first writes: both on version 1');
	is(key_versions('newborn'), '1 live', 'first writes: one key was made');
	$first->quit;
	$second->quit;
}

# 2. REPEATABLE READ: a rotation whose snapshot misses a committed write
# fails, and nothing changes.
{
	$main->safe_psql('postgres', "SELECT nsvault.set_secret('rr', 'a', 'ra')");
	my $before = recorded_versions('rr');
	is($before, '1|1', 'RR: namespace rr is on version 1');

	my ($rotator) = session($main, 'postgres');
	run_in($rotator, 'BEGIN ISOLATION LEVEL REPEATABLE READ');
	my ($out, $err) = run_in($rotator, 'SELECT 1');
	is($err, '', 'RR: the transaction has its snapshot');
	$main->safe_psql('postgres', "SELECT nsvault.set_secret('rr', 'b', 'rb')");

	($out, $err) = run_in($rotator, "SELECT nsvault.rotate_key('rr')");
	like($err,
		qr/ERROR:  40001: could not rotate the key of namespace "rr"\nDETAIL:  Values were written to it since this transaction began\./,
		'RR: the rotation fails with 40001, values written since the transaction began');
	run_in($rotator, 'ROLLBACK');
	is(recorded_versions('rr'), $before, 'RR: after the rollback, rr\'s recorded versions are unchanged');
	is(secret_versions('rr'), 'a:1,b:1', 'RR: both values are still on version 1');
	is(read_secret('rr', 'a') . ',' . read_secret('rr', 'b'), 'ra,rb', 'RR: and both read');

	($out, $err) = run_in($rotator, "SELECT nsvault.rotate_key('rr')");
	is($out, '3',
		'RR: retried in READ COMMITTED, the rotation succeeds, above the version the failed one left in the key database');
	is(secret_versions('rr'), 'a:3,b:3', 'RR: and re-seals both values');
	$rotator->quit;
}

# 3a. A delete_namespace that rolls back destroys nothing.
{
	$main->safe_psql('postgres', "SELECT nsvault.set_secret('kept', 'x', 'still here')");
	$main->safe_psql('postgres', q{
BEGIN;
SELECT nsvault.delete_namespace('kept');
ROLLBACK;});
	is(queued_destructions(), 'none', 'rolled back: no destruction is queued');

	# a committed deletion of another namespace: once its destroyer is done,
	# any destruction of kept would have happened too
	$main->safe_psql('postgres', q{
SELECT nsvault.set_secret('barrier', 'x', 'y');
SELECT nsvault.delete_namespace('barrier');});
	ok($key->poll_query_until('nsvault_keys', q{
SELECT bool_and(key IS NULL) FROM nsvault_keys.keys WHERE namespace = 'barrier'}),
		'rolled back: a committed deletion of another namespace was destroyed meanwhile');
	ok($main->poll_query_until('postgres', 'SELECT count(*) = 0 FROM nsvault.key_destructions'),
		'rolled back: and left the queue');
	is(key_versions('kept'), '1 live', 'rolled back: the key of kept is still live');
	is(read_secret('kept', 'x'), 'still here', 'rolled back: its value reads with the key cache off');
}

# 3b. A crash between a committed delete_namespace and its destruction:
# the restarted server destroys the keys at its next key operation.
{
	$main->safe_psql('postgres', q{
SELECT nsvault.set_secret('gone', 'a', '1');
SELECT nsvault.rotate_key('gone');
SELECT nsvault.set_secret('gone', 'b', '2');});
	is(key_versions('gone'), '1 live,2 live', 'crash: namespace gone has versions 1 and 2');

	# a key database session holds the namespace's lock there, which the
	# destroyer's destroy_versions() waits for
	my $blocker = $key->background_psql('nsvault_keys');
	$blocker->query_safe('BEGIN');
	$blocker->query_safe(
		"SELECT pg_advisory_xact_lock(hashtext('nsvault_keys.keys'), hashtext('gone'))");

	$main->safe_psql('postgres', "SELECT nsvault.delete_namespace('gone')");
	ok($key->poll_query_until('postgres', q{
SELECT count(*) = 1 FROM pg_stat_activity
 WHERE datname = 'nsvault_keys' AND wait_event_type = 'Lock'
   AND query LIKE '%destroy_versions(%''gone''%'}),
		'crash: after the commit, the destroyer\'s destroy_versions waits in the key database');
	is($main->safe_psql('postgres',
			"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'nsvault key destroyer' AND state = 'active'"),
		'1', 'crash: a key destroyer is at work in the main server');
	is(queued_destructions(), 'gone:1-2', 'crash: the destruction of versions 1 to 2 is queued');
	is(key_versions('gone'), '1 live,2 live', 'crash: the keys of gone are still live');

	$main->stop('immediate');
	# the destroyer's statement is still waiting in the key database: were it
	# let go, it would destroy the keys for the dead server.  Ended, it
	# leaves the whole destruction to the restarted one.
	$key->safe_psql('postgres', q{
SELECT pg_terminate_backend(pid) FROM pg_stat_activity
 WHERE datname = 'nsvault_keys' AND query LIKE '%destroy_versions(%'});
	ok($key->poll_query_until('postgres', q{
SELECT count(*) = 0 FROM pg_stat_activity
 WHERE datname = 'nsvault_keys' AND query LIKE '%destroy_versions(%'}),
		'crash: the key database no longer runs the dead destroyer\'s request');
	$blocker->query_safe('ROLLBACK');
	$blocker->quit;

	$main->start;
	my $log_offset = -s $main->logfile;
	is(queued_destructions(), 'gone:1-2', 'crash: after the restart, the destruction is still queued');
	is(key_versions('gone'), '1 live,2 live', 'crash: and the keys of gone are still live');

	$main->safe_psql('postgres', "SELECT nsvault.set_secret('other', 'k', 'v')");
	ok($key->poll_query_until('nsvault_keys', q{
SELECT count(*) = 2 AND bool_and(key IS NULL AND destroyed_at IS NOT NULL)
  FROM nsvault_keys.keys WHERE namespace = 'gone'}),
		'crash: a write in the restarted server starts a destroyer, which destroys every version of gone');
	ok($main->poll_query_until('postgres', 'SELECT count(*) = 0 FROM nsvault.key_destructions'),
		'crash: and empties the queue');
	like(slurp_file($main->logfile, $log_offset),
		qr/LOG:  nsvault destroyed 2 key versions of namespace "gone" \(versions 1 to 2\)/,
		'crash: the restarted server\'s destroyer destroyed both versions itself');
	is(recorded_versions('gone'), 'none|2', 'crash: gone has no active version, and used up to 2');
	is(read_secret('other', 'k'), 'v', 'crash: the write that started it reads');
	is(read_secret('kept', 'x'), 'still here', 'crash: the namespace whose deletion rolled back still reads');
}

# 4. The key database restored from an older logical dump: refused, and
# no key is made in it; a dump as new as the main database is accepted.
my $identity = $main->safe_psql('postgres', 'SELECT identity FROM nsvault.key_database');
is($identity, $key->safe_psql('nsvault_keys', 'SELECT nsvault_keys.identity()'),
	'the main database is linked to the key database\'s identity');
{
	my $dir = PostgreSQL::Test::Utils::tempdir();
	$main->safe_psql('postgres', q{
SELECT nsvault.set_secret('old', 'a', 'A1');
SELECT nsvault.set_secret('old', 'b', 'B1');
SELECT nsvault.set_secret('old1', 'z', 'Z1');});
	command_ok([ 'pg_dump', '-Fc', '-d', $key->connstr('nsvault_keys'), '-f', "$dir/older.dump" ],
		'restore: pg_dump of the key database');
	is($main->safe_psql('postgres', "SELECT nsvault.rotate_key('old')"), '2',
		'restore: then old is rotated to version 2');
	$main->safe_psql('postgres', "SELECT nsvault.set_secret('old', 'c', 'C2')");
	command_ok([ 'pg_dump', '-Fc', '-d', $key->connstr('nsvault_keys'), '-f', "$dir/current.dump" ],
		'restore: and a second dump is taken');

	# Replaces the key database by a restore of $dump.
	my $restore = sub {
		my ($dump, $what) = @_;
		$key->safe_psql('postgres', 'DROP DATABASE nsvault_keys WITH (FORCE)');
		$key->safe_psql('postgres', 'CREATE DATABASE nsvault_keys');
		command_ok([ 'pg_restore', '-d', $key->connstr('nsvault_keys'), '--exit-on-error', $dump ],
			"restore: pg_restore of $what into a new nsvault_keys");
	};

	$restore->("$dir/older.dump", 'the older dump');
	is($key->safe_psql('nsvault_keys', q{
SELECT has_function_privilege('nsvault_reader', 'nsvault_keys.key_version(text, integer)', 'EXECUTE')
   AND has_function_privilege('nsvault_reader', 'nsvault_keys.active_key(text, integer, uuid)', 'EXECUTE')}),
		't', 'restore: the dump restored the reader\'s grants');
	is(key_versions('old') . ';' . key_versions('old1'), '1 live;1 live',
		'restore: the restored key database has version 1 of old and old1, not version 2');
	my $restored_identity = $key->safe_psql('nsvault_keys', 'SELECT nsvault_keys.identity()');
	isnt($restored_identity, $identity, 'restore: it has a new identity: the dump does not carry it');

	my $not_linked = qr/ERROR:  58000: key database behind foreign server "nsvault_keydb" is not the one this database is linked to/;
	my ($ret, $out, $err) = main_psql("SELECT nsvault.get_secret('old', 'c')");
	isnt($ret, 0, 'restore: reading a value on version 2 fails');
	like($err, $not_linked, 'restore: with 58000, not the key database this one is linked to');
	($ret, $out, $err) = main_psql("SELECT nsvault.get_secret('old1', 'z')");
	like($err, $not_linked, 'restore: so does reading a value on a version it has (58000)');
	is($out, '', 'restore: and no value is returned');
	($ret, $out, $err) = main_psql("SELECT nsvault.set_secret('old', 'd', 'x')");
	like($err, $not_linked, 'restore: a write to old fails (58000)');
	($ret, $out, $err) = main_psql("SELECT nsvault.set_secret('brandnew', 'k', 'v')");
	like($err, $not_linked, 'restore: a write to a brand-new namespace fails (58000)');
	is(key_versions('brandnew'), 'none', 'restore: and makes no key in the key database');
	is(recorded_versions('brandnew'), 'no row', 'restore: nor records one here');

	($ret, $out, $err) = main_psql('SELECT nsvault.accept_key_database()');
	isnt($ret, 0, 'restore: accept_key_database() refuses it');
	like($err,
		qr/ERROR:  58000: cannot accept the key database behind foreign server "nsvault_keydb"\nDETAIL:  Secret "[abc]" of namespace "old" does not open with its key version 2\./,
		'restore: with 58000, a secret of old does not open with its key version 2');
	is($main->safe_psql('postgres', 'SELECT identity FROM nsvault.key_database'), $identity,
		'restore: the recorded identity is unchanged');
	is(secret_versions('old'), 'a:2,b:2,c:2', 'restore: old\'s values are untouched');

	# control: a dump with every version the main database uses is accepted
	$restore->("$dir/current.dump", 'the newer dump');
	my $current_identity = $key->safe_psql('nsvault_keys', 'SELECT nsvault_keys.identity()');
	is($main->safe_psql('postgres', 'SELECT nsvault.accept_key_database()'), $current_identity,
		'restore: accept_key_database() accepts a restore of the newer dump');
	is($main->safe_psql('postgres', 'SELECT identity FROM nsvault.key_database'), $current_identity,
		'restore: and records its identity');
	is(read_secret('old', 'c') . ',' . read_secret('old1', 'z') . ',' . read_secret('c', 'new'),
		'C2,Z1,v1', 'restore: values read again, with the key cache off');
}

# 5. The key database's extension dropped and created again, empty: reads
# and writes fail closed, and no key is made.
{
	$key->safe_psql('nsvault_keys', q{
DROP EXTENSION nsvault_keys;
CREATE EXTENSION nsvault_keys;
SELECT nsvault_keys.grant_reader('nsvault_reader');
SELECT nsvault_keys.grant_admin('nsvault_admin');});
	is($key->safe_psql('nsvault_keys', 'SELECT count(*) FROM nsvault_keys.keys'), '0',
		'empty: the recreated key database has no key');
	my $all_recorded = q{
SELECT string_agg(namespace || ':' || coalesce(active_version, 0) || '|' || highest_version, ','
				  ORDER BY namespace)
  FROM nsvault.namespace_keys};
	my $recorded_before = $main->safe_psql('postgres', $all_recorded);

	my $not_linked = qr/ERROR:  58000: key database behind foreign server "nsvault_keydb" is not the one this database is linked to/;
	my ($ret, $out, $err) = main_psql("SELECT nsvault.get_secret('old', 'c')");
	isnt($ret, 0, 'empty: a read fails');
	like($err, $not_linked, 'empty: with 58000, not the key database this one is linked to');
	is($out, '', 'empty: and returns nothing');
	($ret, $out, $err) = main_psql("SELECT nsvault.set_secret('c', 'another', 'x')");
	like($err, $not_linked, 'empty: a write to a namespace with a key fails (58000)');
	($ret, $out, $err) = main_psql("SELECT nsvault.set_secret('fresh', 'k', 'v')");
	like($err, $not_linked, 'empty: a write to a brand-new namespace fails (58000)');
	($ret, $out, $err) = main_psql("SELECT nsvault.rotate_key('c')");
	like($err, $not_linked, 'empty: a rotation fails (58000)');
	is($key->safe_psql('nsvault_keys', 'SELECT count(*) FROM nsvault_keys.keys'), '0',
		'empty: no key was made in the key database');
	is($main->safe_psql('postgres', $all_recorded), $recorded_before, 'empty: nothing changed in the recorded key versions');
	is(secret_versions('fresh') . ';' . secret_versions('c'), 'none;new:3,new2:3,old:3',
		'empty: no value was written');
}

# 6. A destroyer that keeps retrying (its key server cannot be reached) does
# not keep its database from being dropped, and a drop that PostgreSQL
# refuses does not stop it.
{
	# the role's sessions load nsvault, as every session does where it is preloaded
	$main->safe_psql('postgres', q{
CREATE DATABASE dropme;
CREATE ROLE nobody_much LOGIN;
ALTER ROLE nobody_much SET session_preload_libraries = 'nsvault';});
	my $log_offset = -s $main->logfile;
	$main->safe_psql('dropme', q{
SET client_min_messages = warning;
CREATE EXTENSION nsvault CASCADE;
CREATE SERVER nsvault_keydb FOREIGN DATA WRAPPER dblink_fdw
	OPTIONS (host 'localhost', port '1', dbname 'nsvault_keys');
CREATE USER MAPPING FOR CURRENT_USER SERVER nsvault_keydb OPTIONS (user 'nobody');
CREATE SERVER nsvault_keydb_admin FOREIGN DATA WRAPPER dblink_fdw
	OPTIONS (host 'localhost', port '1', dbname 'nsvault_keys');
CREATE USER MAPPING FOR CURRENT_USER SERVER nsvault_keydb_admin OPTIONS (user 'nobody');
INSERT INTO nsvault.key_database (identity, foreign_server, linked_by)
	VALUES (gen_random_uuid(), 'nsvault_keydb', current_user);
INSERT INTO nsvault.namespace_keys VALUES ('d', 2, 2);
SELECT nsvault.destroy_key_version('d', 1);});
	my $destroyer_running = q{
SELECT count(*) > 0 FROM pg_stat_activity
 WHERE backend_type = 'nsvault key destroyer' AND datname = 'dropme'};
	ok($main->poll_query_until('postgres', $destroyer_running),
		'drop: a destroyer works on the database, its key server unreachable');

	# drops that PostgreSQL refuses, repeated while it runs, do not stop it:
	# it gives up by itself after its tries (a stop would log its termination)
	my $refused = 0;
	my $start = time();
	while ($main->safe_psql('postgres', $destroyer_running) eq 't' && time() - $start < 30)
	{
		my ($ret, $out, $err) = $main->psql('postgres', 'DROP DATABASE dropme',
			connstr => $main->connstr('postgres') . ' user=nobody_much');
		$refused++ if $err =~ /must be owner/;
	}
	cmp_ok($refused, '>', 0, "drop: a role with no rights is refused ($refused times)");
	my $log = slurp_file($main->logfile, $log_offset);
	like($log, qr/nsvault key destroyer gives up after \d+ tries/,
		'drop: the destroyer ran until it gave up by itself');
	unlike($log, qr/terminating background worker "nsvault key destroyer"/,
		'drop: the refused drops did not stop it');

	$main->safe_psql('dropme', q{
INSERT INTO nsvault.namespace_keys VALUES ('e', 2, 2);
SELECT nsvault.destroy_key_version('e', 1);});
	ok($main->poll_query_until('postgres', $destroyer_running), 'drop: a destroyer works again');
	my ($ret, $out, $err) = $main->psql('postgres', 'DROP DATABASE dropme');
	is($ret, 0, 'drop: DROP DATABASE stops it and succeeds');
	is($main->safe_psql('postgres', "SELECT count(*) FROM pg_database WHERE datname = 'dropme'"),
		'0', 'drop: the database is gone');
}

done_testing();
