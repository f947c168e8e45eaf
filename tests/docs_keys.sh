#!/bin/sh
# The key tables of docs/scenarios.md are what `simvirt list --markdown`
# prints: fails, with the difference, when they have drifted apart.
# Usage: tests/docs_keys.sh SIMVIRT DOCS/scenarios.md
set -eu
simvirt=$1
doc=$2
want=$(mktemp)
have=$(mktemp)
trap 'rm -f "$want" "$have"' EXIT
"$simvirt" list --markdown >"$want"
sed -n '/^<!-- keys: begin -->$/,/^<!-- keys: end -->$/p' "$doc" |
	sed '1d;$d' >"$have"
if ! diff -u "$have" "$want"; then
	echo "docs_keys: $doc differs from 'simvirt list --markdown' (above:" \
	     "- the doc, + the tool); paste the tool's output between the" \
	     "keys markers" >&2
	exit 1
fi
