#!/bin/sh
# Installs simvirt into a temporary prefix, builds every example against it
# with pkg-config alone (as a user would), runs each and compares its output
# with the in-tree build's.
# Usage: examples_installed.sh BUILD_DIR SOURCE_DIR EXAMPLE...
set -eu
build=$1
src=$2
shift 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
libdir=$(ls -d "$tmp/prefix"/lib* | head -n 1)
export PKG_CONFIG_PATH="$libdir/pkgconfig"
for e in "$@"; do
	cc -std=c11 -Wall -Wextra -Werror -o "$tmp/$e" "$src/examples/$e.c" \
		$(pkg-config --cflags --libs simvirt)
	LD_LIBRARY_PATH="$libdir" "$tmp/$e" >"$tmp/$e.installed"
	"$build/examples/$e" >"$tmp/$e.intree"
	if ! cmp -s "$tmp/$e.installed" "$tmp/$e.intree"; then
		echo "$e: output differs between the installed and in-tree builds" >&2
		diff "$tmp/$e.intree" "$tmp/$e.installed" | head -n 20 >&2
		exit 1
	fi
done
echo "built against the installed simvirt and ran: $*"
