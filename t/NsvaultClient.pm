# NsvaultClient.pm — runs the nsvault client that make built, or another
# of client/'s programs, for the TAP tests of the client;
# NSVAULT_CLIENT_WRAPPER runs them under a tool, e.g. valgrind.
package NsvaultClient;

use strict;
use warnings;

use Cwd qw(abs_path);
use IPC::Run;
use JSON::PP;
use PostgreSQL::Test::Utils;

my @wrapper = split(' ', $ENV{NSVAULT_CLIENT_WRAPPER} // '');
my $stdin_file;

# Runs the client with @args and $stdin from a file (a pipe would break
# when the client rightly stops before reading it); returns (wait status,
# stdout, stderr).
sub run
{
	my ($stdin, @args) = @_;
	return run_program('nsvault', $stdin, @args);
}

# The version the client's programs print: the distribution's, META.json's
# "version", which client/Makefile builds into them.
sub version
{
	return decode_json(slurp_file('META.json'))->{version};
}

# Runs client/$program as run runs the client.
sub run_program
{
	my ($program, $stdin, @args) = @_;
	my ($out, $err) = ('', '');

	$stdin_file //= PostgreSQL::Test::Utils::tempdir() . '/stdin';
	open my $fh, '>:raw', $stdin_file or die "$stdin_file: $!";
	print $fh $stdin;
	close $fh;
	IPC::Run::run([ @wrapper, abs_path("client/$program"), @args ],
		'<', $stdin_file, '>', \$out, '2>', \$err);
	return ($?, $out, $err);
}

# Runs client/$program as run_program does, but with standard output
# /dev/full ($to 'full') or closed ($to 'closed'); returns (wait status,
# stderr).
sub run_program_output_to
{
	my ($to, $program, $stdin, @args) = @_;
	my $err = '';

	$stdin_file //= PostgreSQL::Test::Utils::tempdir() . '/stdin';
	open my $fh, '>:raw', $stdin_file or die "$stdin_file: $!";
	print $fh $stdin;
	close $fh;
	IPC::Run::run([ @wrapper, abs_path("client/$program"), @args ],
		'<', $stdin_file, ($to eq 'closed' ? '1<&-' : ('>', '/dev/full')), '2>', \$err);
	return ($?, $err);
}

1;
