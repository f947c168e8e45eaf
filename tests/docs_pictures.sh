#!/bin/sh
# The lab handouts' committed pictures are what docs/labs/make-pictures.sh
# draws now: fails, naming each picture that differs, when a model change
# (or a drawing change) has left them behind.
# Usage: tests/docs_pictures.sh BUILD_DIR SOURCE_DIR
set -eu
build=$(realpath "$1")
src=$2
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
sh "$src/docs/labs/make-pictures.sh" "$build" "$out" >/dev/null
status=0
for f in "$src"/docs/labs/img/*.png; do
	n=$(basename "$f")
	if [ ! -f "$out/$n" ]; then
		echo "docs_pictures: $n is committed but make-pictures.sh no longer draws it" >&2
		status=1
	elif ! cmp -s "$f" "$out/$n"; then
		echo "docs_pictures: docs/labs/img/$n differs from what make-pictures.sh draws; run docs/labs/make-pictures.sh and commit" >&2
		status=1
	fi
done
for f in "$out"/*.png; do
	[ -f "$src/docs/labs/img/$(basename "$f")" ] || {
		echo "docs_pictures: make-pictures.sh draws $(basename "$f"), which is not committed" >&2
		status=1
	}
done
[ $status = 0 ] && echo "docs_pictures: every picture matches"
exit $status
