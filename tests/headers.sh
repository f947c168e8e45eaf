#!/bin/sh
# Each public header compiles alone, GLib-free, as strict C11 and, with a
# C++ compiler given, as C++11 and C++17 (the simulators that embed
# simvirt are C++), all warnings errors.
# Usage: headers.sh CC INCLUDE_DIR [CXX...]  (each C++ compiler given)
set -eu
cc=$1
inc=$2
shift 2
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
		echo "ok   $name (C11)"
	else
		echo "FAIL $name (C11)"
		status=1
	fi
	for cxx in "$@"; do
		for std in c++11 c++17; do
			if printf '#include <%s>\nint sv_header_probe();\n' "$name" |
				"$cxx" -std=$std -pedantic -Werror -Wall -Wextra \
					-fsyntax-only -I"$inc" -x c++ -; then
				echo "ok   $name ($(basename "$cxx") $std)"
			else
				echo "FAIL $name ($(basename "$cxx") $std)"
				status=1
			fi
		done
	done
done
# A name kept for one release warns, naming what replaces it.
if printf '#include <simvirt/simvirt.h>\nint f(sv_vcpu *v, sv_xlate *x) { return sv_vcpu_access(v, 0, 8, SV_ACCESS_READ, x); }\n' |
	"$cc" -std=c11 -Wall -fsyntax-only -I"$inc" -x c - 2>&1 |
	grep -q "use sv_vcpu_translate(&out, v, gva, size, access)"; then
	echo "ok   deprecated names warn"
else
	echo "FAIL sv_vcpu_access is not marked deprecated"
	status=1
fi
exit $status
