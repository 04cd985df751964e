# help2roff.awk — turns a program's --help texts into a man page, as
# help2man does; man/mkman.sh runs it.
#
# Input: the include file (hand-written roff under [SECTION] lines, as
# help2man's includes), then the help texts: "@@ main" before the
# program's own, "@@ command NAME" before each command's.  Variables:
# include (the include file's name), name (the program), version (what
# --version prints) and date.
#
# A help text is read as blocks between blank lines:
#   "Usage:" and its indented lines     SYNOPSIS (a deeper line goes on)
#   "Heading:" and indented lines       a list: OPTIONS, COMMANDS, ...
#   lines of which one is indented      a list too (under no heading)
#   "Exit status: ..."                  EXIT STATUS
#   anything else                       a paragraph of the DESCRIPTION
# In a list, a line indented less than the descriptions' column starts an
# entry, its tag the text before the first run of two spaces; the rest, and
# the deeper lines that follow, describe it.  A command's help becomes a
# subsection of COMMANDS, in the same forms.

BEGIN {
	for (i = 1; i < 256; i++)
		byte_value[sprintf("%c", i)] = i
	# the sections in the order of man-pages(7): the help's own headings
	# (COMMANDS, ACTIONS) in their order after these, then OPTIONS, then
	# the include's others, then the late ones
	nstandard = split("NAME SYNOPSIS DESCRIPTION", standard, " ")
	nlate = split("ENVIRONMENT|FILES|EXIT STATUS|SEE ALSO", late, "|")
}

# --- the include file -------------------------------------------------------

FILENAME == include {
	if (match($0, /^\[[A-Z][A-Z ]*\]$/)) {
		include_section = substr($0, 2, length($0) - 2)
		if (!(include_section in included))
			included_order[++nincluded] = include_section
	}
	else if (include_section != "")
		included[include_section] = included[include_section] $0 "\n"
	next
}

# --- the help texts ---------------------------------------------------------

/^@@ / {
	end_part()
	part = $2 == "command" ? $3 : ""
	next
}

{
	part_lines[++nlines] = $0
}

END {
	end_part()
	write_page()
}

# Converts the lines of one help text, block by block.
function end_part(    i, start) {
	start = 1
	for (i = 1; i <= nlines + 1; i++)
		if (i > nlines || part_lines[i] ~ /^[ \t]*$/) {
			if (i > start)
				block(start, i - 1)
			start = i + 1
		}
	nlines = 0
}

# Where one block of a help text goes.
function block(first, last,    head, listed) {
	head = part_lines[first]
	listed = last > first && part_lines[first + 1] ~ /^ /
	if (head ~ /^Usage:/)
		usage(first, last)
	else if (head ~ /^[A-Za-z][^ ]*( [^ ]+)*:$/ && listed) {
		if (part == "")
			emit(toupper(substr(head, 1, length(head) - 1)), list(first + 1, last))
		else
			emit_command(".PP\n" escape_lines(head) "\n" list(first + 1, last))
	}
	else if (head ~ /^Exit status:/ && part == "")
		emit("EXIT STATUS", ".PP\n" paragraph(first, last, "^Exit status: *"))
	else if (head ~ /^ / || deeper_line(first, last))
		emit_section_or_command("DESCRIPTION", list(first, last))
	else
		emit_section_or_command("DESCRIPTION", ".PP\n" paragraph(first, last, ""))
}

# True if a line after the first is indented more than the first.
function deeper_line(first, last,    i) {
	for (i = first + 1; i <= last; i++)
		if (indent(part_lines[i]) > indent(part_lines[first]))
			return 1
	return 0
}

function indent(line) {
	match(line, /^ */)
	return RLENGTH
}

# The usage lines after "Usage:" (or on its line), each a synopsis (.SY)
# of its own; a deeper line goes on the one before.  One .YS ends them
# all, so that no space comes between them.
function usage(first, last,    i, line, text, out, base) {
	sub(/^Usage: */, "", part_lines[first])
	if (part_lines[first] == "")
		first++
	else
		part_lines[first] = "  " part_lines[first]
	if (first > last)
		return
	base = indent(part_lines[first])
	for (i = first; i <= last; i++) {
		line = part_lines[i]
		if (indent(line) > base && text != "") {
			text = text " " trim(line)
			continue
		}
		if (text != "")
			out = out synopsis(text)
		text = trim(line)
	}
	out = out synopsis(text) ".YS\n"
	if (part == "")
		emit("SYNOPSIS", out)
	else
		emit_command(out)
}

# One synopsis: the program bold, the rest roman, metavariables italic.
function synopsis(text,    program) {
	program = text
	sub(/ .*/, "", program)
	text = substr(text, length(program) + 1)
	return ".SY " escape(program) "\n" (trim(text) == "" ? "" : line_start(styled(trim(text), "R")) "\n")
}

# A block's lines as one paragraph of text, prefix (a regular expression)
# taken off; a sentence per line, as man-pages(7) asks.
function paragraph(first, last, prefix,    i, text) {
	for (i = first; i <= last; i++)
		text = text " " trim(part_lines[i])
	text = trim(text)
	if (prefix != "")
		sub(prefix, "", text)
	return sentences(text) "\n"
}

# A list of entries: .TP, the tag, the description.
function list(first, last,    i, base, column, line, gap, tag, text, out, n) {
	base = 1000
	for (i = first; i <= last; i++)
		if (indent(part_lines[i]) < base)
			base = indent(part_lines[i])
	column = 1000
	for (i = first; i <= last; i++)
		if (indent(part_lines[i]) == base && (gap = gap_end(part_lines[i])) > 0 && gap < column)
			column = gap
	for (i = first; i <= last; i++) {
		line = part_lines[i]
		if (indent(line) >= column && n > 0) {
			text = text " " trim(line)
			continue
		}
		if (n++ > 0)
			out = out entry(tag, text)
		gap = gap_end(line)
		tag = gap > 0 ? trim(substr(line, 1, gap)) : trim(line)
		text = gap > 0 ? substr(line, gap + 1) : ""
	}
	return out entry(tag, text)
}

# The column (from 0, as indent counts) where the text after a line's
# first run of two or more spaces starts, past its indentation; 0 if there
# is none.
function gap_end(line,    lead) {
	lead = indent(line)
	if (!match(substr(line, lead + 1), /[^ ]  +[^ ]/))
		return 0
	return lead + RSTART + RLENGTH - 2
}

# An entry of a list.  A tag too long for its line (a list of
# subcommands) breaks only after a "|", and is set ragged-right.
function entry(tag, text) {
	tag = styled(tag, "B")
	gsub(/ /, "\\ ", tag)
	gsub(/\|/, "|\\:", tag)
	return ".TP\n.ad l\n" line_start(tag) "\n.ad\n" \
		(trim(text) == "" ? "" : sentences(trim(text)) "\n")
}

function emit(section, text) {
	if (!(section in body))
		order[++nsections] = section
	body[section] = body[section] text
}

# A command's subsection of COMMANDS, opened on its first block.
function emit_command(text) {
	if (part != opened_part) {
		emit("COMMANDS", ".SS \"" escape(name " " part) "\"\n")
		opened_part = part
	}
	emit("COMMANDS", text)
}

function emit_section_or_command(section, text) {
	if (part == "")
		emit(section, text)
	else
		emit_command(text)
}

# --- text -------------------------------------------------------------------

function trim(s) {
	gsub(/^[ \t]+|[ \t]+$/, "", s)
	gsub(/[ \t]+/, " ", s)
	return s
}

# Text escaped for roff: backslashes, hyphens as minus signs (options are
# typed with them), and characters past ASCII as \[uXXXX].
function escape(s) {
	return unicode(escape_ascii(s))
}

function escape_ascii(s) {
	gsub(/\\/, "\\e", s)
	gsub(/-/, "\\-", s)
	return s
}

function escape_lines(s) {
	return line_start(escape(s))
}

# A line of text that starts with a control character gets \& first.
function line_start(s) {
	return s ~ /^[.']/ ? "\\&" s : s
}

# Text, a sentence per line.
function sentences(text,    out, at) {
	text = escape(text)
	while (match(text, /[.!?]["')]? +[A-Z"(]/)) {
		at = RSTART + RLENGTH - 1
		out = out line_start(trim(substr(text, 1, at - 1))) "\n"
		text = substr(text, at)
	}
	return out line_start(trim(text))
}

# Text in font (B or R), its metavariables (NAMESPACE, FILE, N) italic:
# words of capitals that do not follow a "-"; in a tag (font B), only those
# after a "=", since a tag may be a variable's name (NSVAULT_NAMESPACE).
function styled(text, font,    out, before) {
	text = escape_ascii(text)
	out = ""
	while (match(text, /[A-Z][A-Z0-9_]*/)) {
		before = substr(text, 1, RSTART - 1)
		if (before ~ /-$/ || substr(text, RSTART + RLENGTH, 1) ~ /[a-z]/ ||
			(font == "B" && before !~ /=$/)) {
			out = out substr(text, 1, RSTART + RLENGTH - 1)
			text = substr(text, RSTART + RLENGTH)
			continue
		}
		out = out before "\\fI" substr(text, RSTART, RLENGTH) "\\f" font
		text = substr(text, RSTART + RLENGTH)
	}
	out = unicode(out text)
	return font == "R" ? out : "\\f" font out "\\fR"
}

# UTF-8 sequences as groff's \[uXXXX].
function unicode(s,    out, i, b, n, code, k) {
	if (s !~ /[\200-\377]/)
		return s
	for (i = 1; i <= length(s); i++) {
		b = byte_value[substr(s, i, 1)]
		if (b < 128) {
			out = out substr(s, i, 1)
			continue
		}
		n = b >= 240 ? 3 : b >= 224 ? 2 : 1
		code = b % (b >= 240 ? 8 : b >= 224 ? 16 : 32)
		for (k = 1; k <= n; k++)
			code = code * 64 + byte_value[substr(s, i + k, 1)] % 64
		i += n
		out = out sprintf("\\[u%04X]", code)
	}
	return out
}

# --- the page ---------------------------------------------------------------

function write_page(    i, done) {
	printf ".\\\" %s.1 -- made by man/mkman.sh from %s --help; do not edit\n", name, name
	printf ".TH %s 1 \"%s\" \"%s\" \"User Commands\"\n", toupper(escape(name)), date, escape(version)
	for (i = 1; i <= nstandard; i++)
		write_section(standard[i], done)
	for (i = 1; i <= nsections; i++)
		if (!is_late(order[i]) && order[i] != "OPTIONS")
			write_section(order[i], done)
	write_section("OPTIONS", done)
	for (i = 1; i <= nincluded; i++)
		if (!is_late(included_order[i]))
			write_section(included_order[i], done)
	for (i = 1; i <= nlate; i++)
		write_section(late[i], done)
}

function is_late(section,    i) {
	for (i = 1; i <= nlate; i++)
		if (late[i] == section)
			return 1
	return 0
}

# A section: what the help says, then what the include adds.
function write_section(section, done) {
	if (section in done || (!(section in body) && !(section in included)))
		return
	done[section] = 1
	printf ".SH \"%s\"\n%s%s", section, body[section], included[section]
}
