#!/bin/sh
# Writes the man pages of the simvirt command from its own --help texts:
# simvirt.1 (the commands, exit status, the scenario keys of `simvirt list
# --keys`) and simvirt-COMMAND.1 for each command (its usage, summary and
# options).  The pages come from the same option tables as --help, so they
# cannot drift from it.
# Usage: scripts/man.sh SIMVIRT OUT_DIR
set -eu
sv=$1
out=$2
mkdir -p "$out"
version=$("$sv" version | sed 's/^simvirt //')
commands="run replay trace walk plot diff sweep merge calibrate list"

# One command's --help as a page: NAME, SYNOPSIS, DESCRIPTION, OPTIONS,
# EXIT STATUS.
page() { # NAME TITLE-LINE HELP-FILE
	name=$1
	what=$2
	help=$3
	{
		printf '.TH %s 1 "" "simvirt %s" "simvirt manual"\n' \
			"$(echo "$name" | tr a-z A-Z)" "$version"
		printf '.SH NAME\n%s \\- %s\n' "$name" "$what"
		awk '
		function flush_opt() {
			if (opt != "") { print ".TP"; print opt; print desc; opt = "" }
		}
		/^Usage:/ { state = "usage"; next }
		state == "usage" && NF { sub(/^ +/, ""); sub(/\[OPTION\?\]/, "[OPTION...]");
			print ".SH SYNOPSIS"; print $0; state = "summary";
			print ".SH DESCRIPTION"; next }
		/^Help Options:/ { state = "skip"; next }
		/^Application Options:/ { print ".SH OPTIONS"; state = "opts"; next }
		/^Exit status:/ { flush_opt(); print ".SH EXIT STATUS"; state = "exit" }
		state == "summary" { if (NF) { print; para = 1 } else if (para) { print ".PP"; para = 0 } next }
		state == "opts" && /^  +-/ {
			flush_opt()
			line = $0; sub(/^ +/, "", line)
			n = match(line, /  +/)
			if (n) { opt = substr(line, 1, n - 1); desc = substr(line, n + RLENGTH) }
			else { opt = line; desc = "" }
			next
		}
		state == "opts" && NF { sub(/^ +/, ""); desc = desc " " $0; next }
		state == "exit" { if (NF) print; next }
		END { flush_opt() }
		' "$help" | esc_body
		printf '.SH SEE ALSO\n'
		if [ "$name" = simvirt ]; then
			for c in $commands; do printf '.BR simvirt-%s (1),\n' "$c"; done
		else
			printf '.BR simvirt (1)\n'
		fi
		printf '\nThe guide, formats and labs: share/doc/simvirt and share/simvirt.\n'
	} > "$out/$name.1"
}
# roff-safe text: backslashes, and text lines starting with . or ' (the
# requests awk wrote, .SH .TP .PP .BR, stay as they are)
esc_body() {
	sed -e '/^\.\(SH\|TP\|PP\|BR\)\( \|$\)/!s/\\/\\e/g' \
	    -e "/^\.\(SH\|TP\|PP\|BR\)\( \|$\)/!s/^\([.']\)/\\\\\&\1/"
}

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
for c in $commands; do
	"$sv" "$c" --help > "$tmp"
	# the one line `simvirt --help` gives the command
	summary=$("$sv" --help | awk -v c="$c" '$1 == c {
		n = match($0, /[^ ]  +[^ ]/); print substr($0, n + RLENGTH - 1); exit }')
	page "simvirt-$c" "$summary" "$tmp"
done

# simvirt.1: the command list, then the scenario keys
"$sv" --help > "$tmp"
{
	printf '.TH SIMVIRT 1 "" "simvirt %s" "simvirt manual"\n' "$version"
	printf '.SH NAME\nsimvirt \\- simulate x86 two-stage address translation and the KVM MMU\n'
	printf '.SH SYNOPSIS\nsimvirt COMMAND [OPTION...]\n'
	printf '.SH COMMANDS\n'
	awk '/^Commands:/ { f = 1; next } f && /^  [a-z]/ {
		line = $0; sub(/^  /, "", line); n = match(line, /  +/)
		print ".TP"; print substr(line, 1, n - 1); print substr(line, n + RLENGTH); next }
		f && !NF { f = 0 }' "$tmp" | esc_body
	printf '.PP\nEach command has a page of its own, and --help.\n'
	printf '.SH EXIT STATUS\n'
	awk '/^Exit status:/ { f = 1 } f' "$tmp" | esc_body
	printf '.SH SCENARIO KEYS\nA scenario file holds these keys; --set GROUP.KEY=VALUE overrides any of them.\n'
	"$sv" list --keys | awk '{ sub(/^ +/, ""); n = match($0, /  +/);
		print ".TP"; print substr($0, 1, n - 1); print substr($0, n + RLENGTH) }' | esc_body
	printf '.SH SEE ALSO\n'
	for c in $commands; do printf '.BR simvirt-%s (1),\n' "$c"; done
} > "$out/simvirt.1"
