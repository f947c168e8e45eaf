#!/bin/sh
# A table of the docs is what `simvirt list` prints: fails, with the
# difference, when they have drifted apart.
# Usage: tests/docs_keys.sh SIMVIRT DOC keys|versions
#   keys:     docs/scenarios.md's key tables, `simvirt list --markdown`
#   versions: docs/kernel-versions.md, `simvirt list --versions --markdown`
set -eu
simvirt=$1
doc=$2
what=${3:-keys}
case $what in
keys) args="--markdown" ;;
versions) args="--versions --markdown" ;;
*) echo "docs_keys: unknown table '$what'" >&2; exit 2 ;;
esac
want=$(mktemp)
have=$(mktemp)
trap 'rm -f "$want" "$have"' EXIT
# shellcheck disable=SC2086
"$simvirt" list $args >"$want"
sed -n "/^<!-- $what: begin -->\$/,/^<!-- $what: end -->\$/p" "$doc" |
	sed '1d;$d' >"$have"
if [ ! -s "$have" ]; then
	echo "docs_keys: $doc has no '<!-- $what: begin -->' ..." \
	     "'<!-- $what: end -->' markers" >&2
	exit 1
fi
if ! diff -u "$have" "$want"; then
	echo "docs_keys: $doc differs from 'simvirt list $args' (above:" \
	     "- the doc, + the tool); paste the tool's output between the" \
	     "$what markers" >&2
	exit 1
fi
