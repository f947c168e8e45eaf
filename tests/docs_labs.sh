#!/bin/sh
# The output the lab handouts quote is what the programs print now: each
# "<!-- output: build/examples/NAME -->" line in docs/labs/*.md is
# followed by a ```text block holding that program's exact output.
# Fails with the difference when they drift apart; --update rewrites the
# blocks from the programs' output.
# Usage: tests/docs_labs.sh BUILD_DIR SOURCE_DIR [--update]
set -eu
build=$(realpath "$1")
src=$2
update=${3:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
for doc in "$src"/docs/labs/*.md; do
	grep -q '^<!-- output: ' "$doc" || continue
	# the doc with each marked block replaced by the program's output
	: >"$tmp/new"
	in_block=0
	want=""
	while IFS= read -r line; do
		case $in_block:$line in
		0:'<!-- output: '*)
			want=${line#<!-- output: }
			want=${want% -->}
			printf '%s\n' "$line" >>"$tmp/new" ;;
		0:'```text')
			printf '%s\n' "$line" >>"$tmp/new"
			if [ -n "$want" ]; then
				in_block=1
				"$build/${want#build/}" >>"$tmp/new"
			fi ;;
		1:'```')
			in_block=0
			want=""
			printf '%s\n' "$line" >>"$tmp/new" ;;
		1:*) ;;
		*) printf '%s\n' "$line" >>"$tmp/new" ;;
		esac
	done <"$doc"
	if ! cmp -s "$doc" "$tmp/new"; then
		if [ "$update" = --update ]; then
			cp "$tmp/new" "$doc"
			echo "docs_labs: updated $doc"
		else
			diff -u "$doc" "$tmp/new" >&2 || true
			echo "docs_labs: $doc quotes output the program no longer prints (above: - the doc, + the program); run tests/docs_labs.sh BUILD . --update" >&2
			status=1
		fi
	fi
done
[ $status = 0 ] && echo "docs_labs: every quoted output matches"
exit $status
