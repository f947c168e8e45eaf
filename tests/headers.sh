#!/bin/sh
# Each public header compiles alone, GLib-free, as strict C11.
# Usage: headers.sh CC INCLUDE_DIR
set -eu
cc=$1
inc=$2
status=0
for h in "$inc"/simvirt/*.h; do
	name=simvirt/$(basename "$h")
	if grep -q '#include <glib' "$h"; then
		echo "FAIL $name includes GLib"
		status=1
		continue
	fi
	if printf '#include <%s>\nint sv_header_probe(void);\n' "$name" |
		"$cc" -std=c11 -pedantic -Werror -Wall -Wextra -fsyntax-only \
			-I"$inc" -x c -; then
		echo "ok   $name"
	else
		echo "FAIL $name"
		status=1
	fi
done
exit $status
