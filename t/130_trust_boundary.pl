# 130_trust_boundary.pl — code one role owns never runs with another role's
# nsvault rights: a SECURITY DEFINER function, an index expression under a
# superuser's ANALYZE or autovacuum, and a materialized view refreshed by a
# superuser are all authorized as their owner; a revoke stops a backend in
# the middle of a REPEATABLE READ transaction, and one that outlived a
# reinstall of the extension; a dropped role's grant is never dumped.
use strict;
use warnings;
use lib 't';

use Digest::MD5 qw(md5_hex);
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);
use NsvaultPair;

my ($key, $main) = NsvaultPair::start_pair(
	log_statement => "'none'",
	shared_preload_libraries => "'nsvault'",
	autovacuum_naptime => '1s');

# the secret is only ever compared: by its MD5 when a query returns it
my $secret = 'S130-' . NsvaultPair::random_hex(16);
my $secret_md5 = md5_hex($secret);
my $m_value = 'M130-' . NsvaultPair::random_hex(8);

$main->safe_psql('postgres', qq{
CREATE ROLE low LOGIN;
CREATE ROLE reader LOGIN;
SELECT nsvault.set_secret('demo', 'secretToken', '$secret');
SELECT nsvault.set_secret('m', 'note', '$m_value');
SELECT nsvault.grant_namespace('m', 'low', 'read');
SELECT nsvault.grant_namespace('demo', 'reader', 'read');
CREATE SCHEMA low_schema AUTHORIZATION low;
});

# Runs $sql in database postgres as $role (the superuser when undef), with
# verbose errors, which carry the SQLSTATE; returns (exit code, stdout, stderr).
sub psql_as
{
	my ($role, $sql) = @_;
	my @user = defined $role ? ('-U', $role) : ();
	return $main->psql('postgres', "\\set VERBOSITY verbose\n$sql", extra_params => \@user);
}

# Runs $sql as the superuser and checks that nsvault refuses it on behalf of
# low, the owner of the code it runs: $privilege on namespace $namespace.
sub refused_for_low
{
	my ($sql, $what, $namespace, $privilege, $owner) = @_;
	my ($ret, $out, $err) = psql_as(undef, $sql);
	isnt($ret, 0, "$what fails");
	like($err, qr/ERROR:  42501: permission denied for namespace "\Q$namespace\E"/,
		"with 42501, permission denied for namespace \"$namespace\"");
	like($err, qr/DETAIL:  Role "low" does not hold the \Q$privilege\E privilege on namespace "\Q$namespace\E"\./,
		"naming $owner, low");
}

# Runs $sql in database postgres as $role, which must succeed; returns its output.
sub safe_as
{
	my ($role, $sql) = @_;
	return $main->safe_psql('postgres', $sql, extra_params => [ '-U', $role ]);
}

# Polls $sql until it returns $expected, for at most $seconds; true when it did.
sub wait_for_result
{
	my ($sql, $expected, $seconds) = @_;
	my $deadline = time() + $seconds;
	while (1)
	{
		return 1 if $main->safe_psql('postgres', $sql) eq $expected;
		return 0 if time() > $deadline;
		usleep(100_000);
	}
}

# The last audit event's id: what later assertions count from.
sub audit_mark
{
	return $main->safe_psql('postgres', 'SELECT coalesce(max(id), 0) FROM nsvault.audit_events');
}

# Reads of namespace demo recorded after $mark, by anyone.
sub demo_reads_since
{
	my ($mark) = @_;
	return $main->safe_psql('postgres', qq{
SELECT count(*) FROM nsvault.audit_events
 WHERE id > $mark AND action = 'read' AND namespace = 'demo'});
}

# Reads namespace m as the superuser and waits until that read is audited:
# the audit queue is in order, so any read made before it is recorded too.
sub audit_barrier
{
	my $mark = audit_mark();
	$main->safe_psql('postgres', "SELECT nsvault.get_secret('m', 'note') IS NOT NULL");
	return wait_for_result(qq{
SELECT count(*) > 0 FROM nsvault.audit_events
 WHERE id > $mark AND action = 'read' AND namespace = 'm'}, 't', 5);
}

# A background psql session as $role that survives errors and shows SQLSTATEs.
sub session_as
{
	my ($role) = @_;
	my $session = $main->background_psql('postgres', on_error_stop => 0,
		extra_params => [ '-U', $role ]);
	$session->query_safe('\set VERBOSITY verbose');
	return $session;
}

# Runs $sql in $session; returns (stdout, stderr) of that statement alone.
sub in_session
{
	my ($session, $sql) = @_;
	$session->{stderr} = '';
	my $out = $session->query($sql);
	return ($out, $session->{stderr});
}

my $read_demo = "SELECT md5(nsvault.get_secret('demo', 'secretToken'))";

# 1. SECURITY DEFINER lending: a function low owns runs with low's rights,
# never with those of the role that calls it.
{
	my $before = audit_mark();
	is(safe_as('reader', $read_demo), $secret_md5, 'reader may read demo itself');
	# that read is recorded asynchronously: the counts below start after it
	ok(wait_for_result(qq{
SELECT count(*) FROM nsvault.audit_events
 WHERE id > $before AND action = 'read' AND namespace = 'demo' AND role_name = 'reader'}, '1', 5),
		'and its read is audited within 5 s');

	safe_as('low', q{
CREATE TABLE low_schema.loot (v text);
CREATE FUNCTION low_schema.steal() RETURNS void LANGUAGE sql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$ INSERT INTO low_schema.loot VALUES (nsvault.get_secret('demo', 'secretToken')) $$;
CREATE FUNCTION low_schema.read_m() RETURNS text LANGUAGE sql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$ SELECT md5(nsvault.get_secret('m', 'note')) $$;
GRANT USAGE ON SCHEMA low_schema TO reader;
GRANT EXECUTE ON FUNCTION low_schema.steal(), low_schema.read_m() TO reader;
});
	my $mark = audit_mark();

	my ($ret, $out, $err) = psql_as('reader', 'SELECT low_schema.steal()');
	isnt($ret, 0, 'SECURITY DEFINER: reader calling low\'s function that reads demo fails');
	like($err, qr/ERROR:  42501: permission denied for namespace "demo"/,
		'with 42501, permission denied for namespace "demo"');
	like($err, qr/DETAIL:  Role "low" does not hold the read privilege on namespace "demo"\./,
		'naming the function\'s owner, low, not reader');
	is($main->safe_psql('postgres', 'SELECT count(*) FROM low_schema.loot'), '0',
		'nothing reached low\'s table');

	($ret, $out, $err) = psql_as('reader', 'SELECT low_schema.read_m()');
	is($out, md5_hex($m_value),
		'reader calling low\'s function that reads m, which low may read, succeeds');
	ok(wait_for_result(qq{
SELECT count(*) FROM nsvault.audit_events
 WHERE id > $mark AND action = 'read' AND namespace = 'm'}, '1', 5),
		'that read is audited within 5 s');
	is($main->safe_psql('postgres', qq{
SELECT role_name || '|' || coalesce(session_role, '<null>') FROM nsvault.audit_events
 WHERE id > $mark AND action = 'read' AND namespace = 'm'}),
		'low|reader', 'as a read by low (authorized) from reader\'s session');
	# the audit queue is in order: the read of m is recorded, so an earlier one would be
	is(demo_reads_since($mark), '0', 'no read of demo was audited: none happened');
}

# 2. Index expressions: a superuser's ANALYZE and autovacuum evaluate them as
# the table's owner.  Each index is on a table of its own, since ANALYZE
# stops at the first index whose expression fails.
{
	my $mark = audit_mark();
	# low gets EXECUTE on grant_namespace (and admin on no namespace), so a
	# refusal comes from nsvault's own check, not from PostgreSQL's
	$main->safe_psql('postgres',
		'GRANT EXECUTE ON FUNCTION nsvault.grant_namespace(text, regrole, text) TO low');
	safe_as('low', q{
CREATE FUNCTION low_schema.peek(x text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	RETURN CASE WHEN session_user = 'low' THEN x
				ELSE nsvault.get_secret('demo', 'secretToken') || x END;
END $$;
CREATE FUNCTION low_schema.promote(x text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	IF session_user = 'low' THEN
		RETURN x;
	END IF;
	PERFORM nsvault.grant_namespace('b', 'low', 'admin');
	RETURN x;
END $$;
CREATE TABLE low_schema.t (x text)
	WITH (autovacuum_analyze_threshold = 0, autovacuum_analyze_scale_factor = 0);
CREATE INDEX t_peek ON low_schema.t (low_schema.peek(x));
CREATE TABLE low_schema.t2 (x text)
	WITH (autovacuum_analyze_threshold = 0, autovacuum_analyze_scale_factor = 0);
CREATE INDEX t2_promote ON low_schema.t2 (low_schema.promote(x));
INSERT INTO low_schema.t SELECT 'row' || i FROM generate_series(1, 20) i;
INSERT INTO low_schema.t2 SELECT 'row' || i FROM generate_series(1, 20) i;
});

	refused_for_low('ANALYZE low_schema.t',
		'superuser ANALYZE of low\'s table with the reading index', 'demo', 'read',
		'the table\'s owner');
	refused_for_low('ANALYZE low_schema.t2',
		'superuser ANALYZE of low\'s table with the granting index', 'b', 'admin',
		'the table\'s owner');

	# autovacuum tries the tables every naptime, and fails the same way
	my $offset = -s $main->logfile;
	my %seen;
	my $deadline = time() + 60;
	while (time() < $deadline)
	{
		my $log = slurp_file($main->logfile, $offset);
		for my $ns ([ 't', 'demo' ], [ 't2', 'b' ])
		{
			$seen{ $ns->[0] } = 1
			  if $log =~ /ERROR:  permission denied for namespace "$ns->[1]"\n(?:.*\n){0,6}?.*CONTEXT:(?:.*\n\t)*.*automatic analyze of table "postgres\.low_schema\.$ns->[0]"/;
		}
		last if keys %seen == 2;
		usleep(100_000);
	}
	ok($seen{t}, 'autovacuum\'s analyze of t is refused (server log)');
	ok($seen{t2}, 'autovacuum\'s analyze of t2 is refused (server log)');

	my $core = substr($secret, 5);
	is($main->safe_psql('postgres', qq{
SELECT count(*) FROM pg_stats s WHERE s::text LIKE '%$core%'}), '0',
		'pg_stats holds nothing with the secret');
	is($main->safe_psql('postgres', qq{
SELECT count(*) FROM pg_statistic s WHERE s::text LIKE '%$core%'}), '0',
		'nor does pg_statistic');
	is($main->safe_psql('postgres', q{
SELECT count(*) FROM pg_stats WHERE schemaname = 'low_schema'}), '0',
		'no statistics at all were stored for low\'s tables');
	is($main->safe_psql('postgres', "SELECT count(*) FROM nsvault.grants WHERE namespace = 'b'"),
		'0', 'no grant on namespace b was made');
	ok(audit_barrier(), 'the audit queue is drained');
	is(demo_reads_since($mark), '0', 'no read of demo was audited, by anyone');

	# stops autovacuum's attempts
	$main->safe_psql('postgres', 'DROP TABLE low_schema.t, low_schema.t2');
}

# 3. REFRESH MATERIALIZED VIEW by a superuser runs the view's query as its owner.
{
	safe_as('low', q{
CREATE MATERIALIZED VIEW low_schema.mv AS
	SELECT nsvault.get_secret('demo', 'secretToken') AS v WITH NO DATA;
});
	refused_for_low('REFRESH MATERIALIZED VIEW low_schema.mv',
		'superuser REFRESH of low\'s materialized view that reads demo', 'demo', 'read',
		'the view\'s owner');
	is($main->safe_psql('postgres',
			"SELECT relispopulated FROM pg_class WHERE oid = 'low_schema.mv'::regclass"),
		'f', 'the view stays unpopulated');
	# it depends on nsvault.get_secret, which scenario 5 drops
	$main->safe_psql('postgres', 'DROP MATERIALIZED VIEW low_schema.mv');
}

# 4. A revoke stops a backend inside a REPEATABLE READ transaction whose
# snapshot is older than the revoke, from its next transaction at the latest.
{
	$main->safe_psql('postgres', q{
CREATE ROLE rr LOGIN;
SELECT nsvault.grant_namespace('demo', 'rr', 'read');
CREATE TABLE public.rr_probe AS SELECT 1 AS one;
GRANT SELECT ON public.rr_probe TO rr;
});
	my $rr_session = session_as('rr');
	my ($out, $err) = in_session($rr_session, $read_demo);
	is($out, $secret_md5, 'RR: rr reads demo (its privilege cache is filled)');

	in_session($rr_session, 'BEGIN ISOLATION LEVEL REPEATABLE READ');
	($out, $err) = in_session($rr_session, 'SELECT count(*) > 0 FROM pg_class');
	is($err, '', 'RR: rr\'s transaction has taken its snapshot');

	$main->safe_psql('postgres', "SELECT nsvault.revoke_namespace('demo', 'rr', 'read')");

	# rr_probe is locked for the first time in this transaction: that makes
	# the backend take in the revoke's invalidation, which empties its cache,
	# before the read fills it again
	($out, $err) = in_session($rr_session,
		"SELECT md5(nsvault.get_secret('demo', 'secretToken')) FROM public.rr_probe");
	note('RR: the read inside the transaction older than the revoke was '
		  . ($out eq $secret_md5 ? 'allowed'
			: $err =~ /permission denied for namespace "demo"/ ? 'refused' : 'neither'));
	in_session($rr_session, 'COMMIT');

	($out, $err) = in_session($rr_session, $read_demo);
	isnt($out, $secret_md5, 'RR: after the revoke, rr\'s next transaction reads nothing');
	like($err, qr/ERROR:  42501: permission denied for namespace "demo"/,
		'RR: it is refused with permission denied');
	($out, $err) = in_session($rr_session, $read_demo);
	like($err, qr/permission denied for namespace "demo"/, 'RR: and so is the one after');
	$rr_session->quit;
}

# 4b. Nor does the revoke wait for that transaction to end: the next read in
# it, with no new lock to take in the revoke's invalidation, is refused too.
{
	$main->safe_psql('postgres', q{
CREATE ROLE rr2 LOGIN;
SELECT nsvault.grant_namespace('demo', 'rr2', 'read');
});
	my $rr_session = session_as('rr2');
	in_session($rr_session, 'BEGIN ISOLATION LEVEL REPEATABLE READ');
	my ($out, $err) = in_session($rr_session, $read_demo);
	is($out, $secret_md5, 'RR, same transaction: rr2 reads demo');
	$main->safe_psql('postgres', "SELECT nsvault.revoke_namespace('demo', 'rr2', 'read')");
	($out, $err) = in_session($rr_session, $read_demo);
	isnt($out, $secret_md5, 'RR, same transaction: the next read after the revoke gets nothing');
	like($err, qr/permission denied for namespace "demo"/, 'RR, same transaction: it is refused');
	in_session($rr_session, 'ROLLBACK');
	$rr_session->quit;
}

# 5. A backend that outlives DROP and CREATE EXTENSION: its cache holds
# nothing of the old extension, and a revoke in the new one stops it.
{
	$main->safe_psql('postgres', q{
CREATE ROLE lived LOGIN;
SELECT nsvault.grant_namespace('demo', 'lived', 'read');
});
	my $lived_session = session_as('lived');
	my ($out, $err) = in_session($lived_session, $read_demo);
	is($out, $secret_md5, 'reinstall: lived reads demo');

	$main->safe_psql('postgres', qq{
DROP EXTENSION nsvault;
CREATE EXTENSION nsvault;
SELECT nsvault.grant_namespace('demo', 'lived', 'read');
SELECT nsvault.set_secret('demo', 'secretToken', '$secret');
});
	# the read before the DROP may land in the new table too, if the writer
	# had not written it yet: count from the reinstall's time
	my $reinstalled = $main->safe_psql('postgres', 'SELECT clock_timestamp()');
	($out, $err) = in_session($lived_session, $read_demo);
	is($out, $secret_md5, 'reinstall: lived reads demo after DROP and CREATE EXTENSION');
	ok(wait_for_result(qq{
SELECT count(*) FROM nsvault.audit_events
 WHERE at >= '$reinstalled' AND action = 'read' AND namespace = 'demo' AND role_name = 'lived'}, '1', 5),
		'reinstall: that read is audited in the new extension\'s audit_events within 5 s')
	  or diag('audit writers: ' . $main->safe_psql('postgres', q{
SELECT string_agg(pid || ' ' || coalesce(wait_event, '-') || ' ' || state, '; ')
  FROM pg_stat_activity WHERE backend_type = 'nsvault audit writer'}));

	$main->safe_psql('postgres', "SELECT nsvault.revoke_namespace('demo', 'lived', 'read')");
	($out, $err) = in_session($lived_session, $read_demo);
	isnt($out, $secret_md5, 'reinstall: after a revoke, lived\'s next read returns nothing');
	like($err, qr/ERROR:  42501: permission denied for namespace "demo"/,
		'reinstall: it is refused with permission denied');
	$lived_session->quit;
}

# 6. A dropped role's grant is never dumped: DROP ROLE from another database
# leaves the row behind, but pg_dump skips it; DROP OWNED in this database
# removes it, audited.
{
	$main->safe_psql('postgres', q{
CREATE ROLE gone;
CREATE ROLE gone2;
CREATE ROLE kept;
SELECT nsvault.grant_namespace('demo', 'gone', 'read');
SELECT nsvault.grant_namespace('demo', 'gone2', 'read');
SELECT nsvault.grant_namespace('demo', 'kept', 'read');
});
	my $gone_oid = $main->safe_psql('postgres', "SELECT 'gone'::regrole::oid");
	my $gone2_oid = $main->safe_psql('postgres', "SELECT 'gone2'::regrole::oid");
	my $mark = audit_mark();

	# what PostgreSQL's own dependency check would refuse DROP ROLE for
	$main->safe_psql('postgres', q{
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA nsvault FROM gone;
REVOKE ALL ON SCHEMA nsvault FROM gone;
REVOKE ALL ON nsvault.audit_log FROM gone;
});
	$main->safe_psql('template1', 'DROP ROLE gone');
	is($main->safe_psql('postgres',
			"SELECT grantee::oid || '|' || grantee::text FROM nsvault.grants WHERE grantee::oid = $gone_oid"),
		"$gone_oid|$gone_oid",
		'dropped from template1: gone\'s grant stays in postgres, as a bare number');

	$main->safe_psql('postgres', 'DROP OWNED BY gone2');
	is($main->safe_psql('postgres',
			"SELECT count(*) FROM nsvault.grants WHERE grantee::oid = $gone2_oid"),
		'0', 'DROP OWNED BY gone2 in postgres removes gone2\'s grant');
	is($main->safe_psql('postgres', qq{
SELECT count(*) FROM nsvault.audit_events
 WHERE id > $mark AND action = 'revoke' AND namespace = 'demo'
   AND detail = 'all from gone2, by DROP OWNED'}),
		'1', 'audited as a revoke of all from gone2, by DROP OWNED');
	$main->safe_psql('postgres', 'DROP ROLE gone2');

	my $dump = PostgreSQL::Test::Utils::tempdir() . '/postgres.sql';
	command_ok([ 'pg_dump', '-d', $main->connstr('postgres'), '-f', $dump ],
		'pg_dump of database postgres');
	my ($grants) = slurp_file($dump) =~ /^COPY nsvault\.grants \([^\n]*\n(.*?)^\\\.$/ms;
	ok(defined $grants, 'the dump has the data of nsvault.grants');
	$grants //= '';
	my @rows = map { [ split /\t/ ] } split /\n/, $grants;
	ok((grep { $_->[1] eq 'kept' } @rows), 'with the grant of a live role (control)');
	ok(!(grep { $_->[1] eq $gone_oid } @rows), 'but no grant for the OID of dropped gone');
	ok(!(grep { $_->[1] eq $gone2_oid } @rows), 'nor for that of gone2');
	unlike($grants, qr/\bgone2?\b/, 'and no line naming gone or gone2');
}

my $core = substr($secret, 5);
ok(index(slurp_file($main->logfile), $core) < 0, 'the secret is nowhere in the server log');

done_testing();
