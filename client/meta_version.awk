# meta_version.awk — prints META.json's top-level "version", the
# distribution's, which client/Makefile builds into the programs.
#
# It reads the JSON's tokens and follows the nesting, so the order of the
# members and the layout do not matter; provides' versions are one level
# down.  Prints nothing (and exits 1) without one, or when the version has
# characters a version has no use for.

{ text = text $0 "\n" }

END {
	depth = 0
	key = ""
	after = ""					# the token before: "key", ":" or ""
	while (text != "") {
		c = substr(text, 1, 1)
		if (c == "\"") {
			if (!match(text, /^"([^"\\]|\\.)*"/))
				exit 1
			token = substr(text, 2, RLENGTH - 2)
			text = substr(text, RLENGTH + 1)
			if (after == ":" && depth == 1 && key == "version") {
				if (token !~ /^[0-9A-Za-z.+~-]+$/)
					exit 1
				print token
				exit 0
			}
			key = token
			after = "key"
			continue
		}
		if (c == "{" || c == "[")
			depth++
		else if (c == "}" || c == "]")
			depth--
		if (c == ":" && after == "key")
			after = ":"
		else if (c !~ /[ \t\n\r]/)
			after = ""
		text = substr(text, 2)
	}
	exit 1
}
