# NsvaultPair.pm — starts the two clusters of nsvault for TAP tests: a key
# cluster that accepts only TLS with SCRAM from the network, and a main
# cluster whose foreign server reaches it with sslmode=verify-full.
package NsvaultPair;

use strict;
use warnings;

use Cwd qw(abs_path);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;

# the setup scripts the demo's clusters use, too
my $setup_sql = abs_path('scripts/sql');

# Returns random hex of $bytes bytes.
sub random_hex
{
	my ($bytes) = @_;
	open my $fh, '<:raw', '/dev/urandom' or die "urandom: $!";
	read($fh, my $buf, $bytes) == $bytes or die "urandom: short read";
	close $fh;
	return unpack('H*', $buf);
}

# The key administrator's password: another credential than the reader's,
# derived from it so that the two nodes agree.
sub admin_password
{
	my ($password) = @_;
	return "admin-$password";
}

# Makes a CA and a localhost server certificate under a temp folder.
sub make_certs
{
	my $dir = PostgreSQL::Test::Utils::tempdir('certs');
	PostgreSQL::Test::Utils::system_or_bail('bash', 'scripts/make-certs.sh', $dir);
	return $dir;
}

# Starts the key cluster with database nsvault_keys and a reader role;
# $name names the node ("key" when not given).
sub start_key_node
{
	my ($certs, $password, $name) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name // 'key');
	$node->init;
	$node->append_conf('postgresql.conf', qq{
listen_addresses = '127.0.0.1'
ssl = on
ssl_cert_file = '$certs/server.crt'
ssl_key_file = '$certs/server.key'
password_encryption = 'scram-sha-256'
});
	# Replaces initdb's rules, which trust plain TCP from localhost: over the
	# network only TLS with SCRAM; the socket stays for the test harness.
	open my $hba, '>', $node->data_dir . '/pg_hba.conf' or die "pg_hba.conf: $!";
	print $hba "local all all trust\n";
	print $hba "hostssl nsvault_keys nsvault_reader 127.0.0.1/32 scram-sha-256\n";
	print $hba "hostssl nsvault_keys nsvault_admin 127.0.0.1/32 scram-sha-256\n";
	close $hba;
	$node->start;

	$node->safe_psql('postgres', 'CREATE DATABASE nsvault_keys');
	$node->safe_psql('nsvault_keys', qq{
\\set reader_password '$password'
\\set admin_password '@{[ admin_password($password) ]}'
\\i '$setup_sql/key-database.sql'
});
	return $node;
}

# Starts the main cluster linked to $key_node through foreign servers
# nsvault_keydb (the reader) and nsvault_keydb_admin (key administration);
# %conf is postgresql.conf settings, and allows_streaming for a primary.
sub start_main_node
{
	my ($key_node, $certs, $password, %conf) = @_;
	my $node = PostgreSQL::Test::Cluster->new('main');
	my $allows_streaming = delete $conf{allows_streaming};

	$node->init(allows_streaming => $allows_streaming);
	$node->append_conf('postgresql.conf',
		join('', map { "$_ = $conf{$_}\n" } sort keys %conf));
	$node->start;
	link_key_database($node, $key_node, $certs, $password);
	return $node;
}

# Makes nsvault in database postgres of $node and links it to $key_node.
sub link_key_database
{
	my ($node, $key_node, $certs, $password) = @_;
	my $port = $key_node->port;
	$node->safe_psql('postgres', qq{
\\set key_port '$port'
\\set ca_cert '$certs/ca.crt'
\\set reader_password '$password'
\\set admin_password '@{[ admin_password($password) ]}'
\\i '$setup_sql/link-key-database.sql'
});
}

# Starts both clusters; returns (key node, main node, cert folder).
sub start_pair
{
	my (%main_conf) = @_;
	my $certs = make_certs();
	my $password = random_hex(24);
	my $key = start_key_node($certs, $password);
	my $main = start_main_node($key, $certs, $password, %main_conf);
	return ($key, $main, $certs);
}

1;
