# 220_docs_examples.pl — the docs' examples against real clusters: every
# ```console block of docs/client.md is run, and what each command prints
# on stdout must be what the block shows; and every version of a client
# program that README.md and docs/*.md name is what that program's
# --version prints.
#
# A console block holds "$ COMMAND" lines, each followed by its output.  A
# command goes on over lines that end with "\", and over the lines of a
# here-document.  The blocks run in order in one bash session, as a role
# with write on the namespace demo, with the client's programs of this
# tree first in PATH, in the top folder (examples/ is there); each command
# must exit 0.  Output is compared as a terminal shows it: tabs expanded to
# every 8th column, trailing white space dropped, and a last line without
# its newline (secret get) as a line.  In the block, a run of spaces matches
# any run of spaces, a timestamp (2026-05-04 09:30:12.345678+00, or in RFC
# 3339) any timestamp, and "…" any text within its line.  Stderr is not
# compared: confirmations and warnings go there.
use strict;
use warnings;
use lib 't';

use Cwd qw(abs_path getcwd);
use Encode qw(decode);
use IPC::Run;
use PostgreSQL::Test::Utils;
use Test::More;
use NsvaultClient;
use NsvaultPair;

my @programs = qw(nsvault docker-credential-nsvault nsvault-credential-provider);
my $docs = 'docs/client.md';

# --- the versions the docs name --------------------------------------------

my %version_of;
for my $program (@programs)
{
	my ($status, $out, $err) = NsvaultClient::run_program($program, '', '--version');
	is($status, 0, "$program --version exits 0") or diag($err);
	$version_of{$program} = $out =~ /^\Q$program\E (\S+)\n\z/ ? $1 : '(none)';
	is($version_of{$program}, NsvaultClient::version(), "$program --version prints META.json's version");
}

# "nsvault 0.9.0", "docker-credential-nsvault 0.9.0", and the version in
# the client's message for an older nsvault, "older than this client
# (0.9.0)"; "nsvault 0.4" (two parts) is the extension's
my $named = 0;
for my $file ('README.md', glob('docs/*.md'))
{
	my $line = 0;
	my $version = qr/\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]*[0-9A-Za-z])?/;
	for my $text (split /\n/, slurp_file($file))
	{
		my @found;
		$line++;
		push @found, [ $1, $2 ]
		  while $text =~ /(?<![\w-])(nsvault|docker-credential-nsvault|nsvault-credential-provider) v?($version)/g;
		push @found, [ 'nsvault', $1 ] while $text =~ /older than this client \(($version)\)/g;
		for (@found)
		{
			my ($program, $named_version) = @$_;
			$named++;
			is($named_version, $version_of{$program},
				"$file:$line: $program $named_version is what $program --version prints");
		}
	}
}
ok($named >= 3, "the docs name the client's version ($named times)");

# --- the examples -----------------------------------------------------------

# Returns the commands of $file's console blocks: [line, command, output].
sub console_commands
{
	my ($file) = @_;
	my @lines = split /\n/, decode('UTF-8', slurp_file($file)), -1;
	my ($fence, $heredoc, @commands);

	for my $i (0 .. $#lines)
	{
		my $line = $lines[$i];
		if (!defined $fence)
		{
			$fence = $1 if $line =~ /^( *)```console\s*$/;
			next;
		}
		$line =~ s/^ {0,@{[ length $fence ]}}//;
		if ($line =~ /^```\s*$/)
		{
			undef $fence;
			next;
		}
		my $last = $commands[-1];
		if (defined $heredoc || ($last && !@{ $last->[2] } && $last->[1] =~ /\\\z/))
		{
			$last->[1] .= "\n$line";
			undef $heredoc if defined $heredoc && $line eq $heredoc;
		}
		elsif ($line =~ /^\$ (.*)$/)
		{
			my $command = $1;
			push @commands, [ $i + 1, $command, [] ];
			$heredoc = $2 if $command =~ /<<-?\s*(['"]?)(\w+)\1/;
		}
		elsif ($last)
		{
			push @{ $last->[2] }, $line;
		}
		else
		{
			die "$file:" . ($i + 1) . ": output before the first command of a console block\n";
		}
	}
	return @commands;
}

# A pattern for the output a block shows, by the rules above.
sub output_pattern
{
	my (@lines) = @_;
	my $timestamp = qr/\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d(?::?\d\d)?)?/;
	my $pattern = '';

	for my $line (@lines)
	{
		$line =~ s/\s+\z//;
		for my $piece (split /($timestamp| +|\x{2026})/, $line)
		{
			$pattern .= $piece =~ /^$timestamp\z/ ? $timestamp
			  : $piece =~ /^ +\z/ ? ' +'
			  : $piece eq "\x{2026}" ? '[^\n]*?'
			  : quotemeta($piece);
		}
		$pattern .= "\n";
	}
	return qr/\A$pattern\z/;
}

# Stdout as a terminal shows it: tabs expanded, no white space at line ends.
sub as_shown
{
	my ($out) = @_;
	$out .= "\n" if $out ne '' && $out !~ /\n\z/;
	my @lines = split /\n/, $out, -1;
	pop @lines;
	for my $line (@lines)
	{
		1 while $line =~ s/^([^\t]*)\t/$1 . ' ' x (8 - length($1) % 8)/e;
		$line =~ s/\s+\z//;
	}
	return join('', map { "$_\n" } @lines);
}

my @commands = console_commands($docs);
ok(@commands >= 10, "$docs has console blocks (" . scalar(@commands) . " commands)");
like(join("\n", map { $_->[1] } @commands), qr/^nsvault enrich /m, 'an enrich example among them');

my ($key, $main) = NsvaultPair::start_pair();
$main->safe_psql('postgres', q{
CREATE ROLE app LOGIN;
SELECT nsvault.grant_namespace('demo', 'app', 'write');
});

# the session: the programs of this tree first in PATH (under the wrapper
# the other client tests use), libpq's variables for the role app, a home
# without a config file
my $dir = PostgreSQL::Test::Utils::tempdir();
mkdir "$dir/bin" or die "$dir/bin: $!";
mkdir "$dir/home" or die "$dir/home: $!";
for my $program (@programs)
{
	open my $fh, '>', "$dir/bin/$program" or die "$dir/bin/$program: $!";
	print $fh "#!/bin/sh\nexec " . ($ENV{NSVAULT_CLIENT_WRAPPER} // '') . ' '
	  . abs_path("client/$program") . " \"\$@\"\n";
	close $fh;
	chmod 0755, "$dir/bin/$program" or die "chmod: $!";
}

my $script = "set -o pipefail\ncd " . getcwd() . "\n";
for my $n (0 .. $#commands)
{
	$script .= "{\n$commands[$n][1]\n} </dev/null >$dir/$n.out 2>$dir/$n.err\necho \$? >$dir/$n.rc\n";
}
{
	local %ENV = %ENV;
	delete $ENV{$_} for grep { /^(NSVAULT_|PG|XDG_)/ } keys %ENV;
	$ENV{PATH} = "$dir/bin:$ENV{PATH}";
	$ENV{HOME} = "$dir/home";
	%ENV = (%ENV, PGHOST => $main->host, PGPORT => $main->port, PGDATABASE => 'postgres',
		PGUSER => 'app');
	my ($out, $err) = ('', '');
	IPC::Run::run([ 'bash', '--noprofile', '--norc', '-c', $script ],
		'<', '/dev/null', '>', \$out, '2>', \$err, IPC::Run::timeout(300))
	  or diag("the session: $err");
}

for my $n (0 .. $#commands)
{
	my ($line, $command, $shown) = @{ $commands[$n] };
	my $what = "$docs:$line: \$ " . (split /\n/, $command)[0];
	my $rc = -e "$dir/$n.rc" ? slurp_file("$dir/$n.rc") : "(not run)\n";
	my $err = -e "$dir/$n.err" ? slurp_file("$dir/$n.err") : '';
	is($rc, "0\n", "$what: exits 0") or diag($err);
	my $out = -e "$dir/$n.out" ? as_shown(decode('UTF-8', slurp_file("$dir/$n.out"))) : '';
	like($out, output_pattern(@$shown), "$what: prints what the docs show")
	  or diag("the docs show:\n" . join('', map { "$_\n" } @$shown));
}

done_testing();
