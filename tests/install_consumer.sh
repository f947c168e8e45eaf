#!/bin/sh
# Installs simvirt into a temporary prefix and builds a tiny consumer
# against it twice: with CMake's find_package(simvirt) and with pkg-config.
# Usage: install_consumer.sh BUILD_DIR SOURCE_DIR
set -eu
build=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
libdir=$(ls -d "$tmp/prefix"/lib* | head -n 1)

# find_package
cmake -S "$src/tests/consumer" -B "$tmp/cm" -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
cmake --build "$tmp/cm" >/dev/null
LD_LIBRARY_PATH="$libdir" "$tmp/cm/consumer"

# pkg-config
PKG_CONFIG_PATH="$libdir/pkgconfig" cc -std=c11 -o "$tmp/pc" \
	"$src/tests/consumer/main.c" \
	$(PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config --cflags --libs simvirt)
LD_LIBRARY_PATH="$libdir" "$tmp/pc"
# C++ (C++11 and C++17, the compilers of the simulators that embed it),
# with pkg-config, warnings as errors
if command -v c++ >/dev/null 2>&1; then
	for std in c++11 c++17; do
		c++ -std=$std -Wall -Wextra -pedantic -Werror -o "$tmp/cxx" \
			"$src/tests/consumer/tracedriven.cpp" \
			$(PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config --cflags --libs simvirt)
		LD_LIBRARY_PATH="$libdir" "$tmp/cxx" | grep -q 'C++ consumer: pages_2m 4, pf_taken 4$'
	done
fi

# what a user needs away from the source tree: a man page for the command
# and each subcommand (every option of its --help in it), the bash
# completion, the scenarios, sweeps, examples and labs
share=$tmp/prefix/share
for c in run replay trace walk plot diff sweep merge list; do
	page=$share/man/man1/simvirt-$c.1
	[ -f "$page" ] || { echo "no man page $page" >&2; exit 1; }
	for o in $(LD_LIBRARY_PATH="$libdir" "$tmp/prefix/bin/simvirt" "$c" --help |
		grep -oE -- '--[a-z][a-z-]*' | grep -v '^--help' | sort -u); do
		grep -q -- "$o" "$page" || { echo "simvirt-$c.1 lacks $o" >&2; exit 1; }
	done
done
[ -f "$share/man/man1/simvirt.1" ]
[ -f "$share/bash-completion/completions/simvirt" ]
for f in simvirt/scenarios/kpt-thp.ini simvirt/sweeps/kver-backing.ini \
	simvirt/examples/walk2d.c simvirt/examples/example_check.h \
	simvirt/labs/walk2d.md simvirt/labs/img/walk-lab-cold.png \
	doc/simvirt/stats.md doc/simvirt/sweeps.md; do
	[ -f "$share/$f" ] || { echo "not installed: share/$f" >&2; exit 1; }
done
# an installed scenario runs with the installed command
env -u LD_LIBRARY_PATH "$tmp/prefix/bin/simvirt" run \
	"$share/simvirt/scenarios/kpt-thp.ini" --set memslot.data.size=8M \
	--format csv | grep -q '^# end halted$'

# the Python package, installed beside the library, finds it by itself
site=$(dirname "$(dirname "$(find "$tmp/prefix" -path '*/simvirt/_paths.py' | head -n 1)")")
if [ -d "$site/simvirt" ] && /usr/bin/python3 -c 'import cffi' 2>/dev/null; then
	env -u LD_LIBRARY_PATH -u SIMVIRT_LIBRARY PYTHONPATH="$site" /usr/bin/python3 -c \
		'import simvirt; r = simvirt.Scenario.default(["memslot.data.size=4M"]).run(); assert r.end == "halted", r.end'
fi

# the installed command starts from its prefix, without LD_LIBRARY_PATH,
# also after the tree is moved
env -u LD_LIBRARY_PATH "$tmp/prefix/bin/simvirt" version | grep -q '^simvirt '
mv "$tmp/prefix" "$tmp/moved"
env -u LD_LIBRARY_PATH "$tmp/moved/bin/simvirt" run \
	--set memslot.data.size=4M --format csv | grep -q '^# end halted$'
echo "consumer built and ran with find_package and with pkg-config; the installed command runs"
