#!/bin/sh
# The house rules of CONTRIBUTING.md that a machine can check:
#  - no file in lib/ over 800 lines;
#  - internal functions are sv_<module>__<name>: no sv__name or hm_name;
#  - every sv_vcpu_* function is defined in lib/cpu;
#  - no shared body header (lib/internal.h);
#  - SPTEs are stored only by sv_mmu__spte_set (lib/ept/mmu.h: the store,
#    and a split's new table filled before it is linked): no other line
#    of lib/ept assigns through an SPTE pointer.
# Usage: tests/layout.sh SOURCE_DIR
set -u
cd "$1" || exit 2
status=0
fail() { echo "FAIL $*"; status=1; }

for f in $(find lib -name '*.[ch]'); do
	n=$(wc -l <"$f")
	[ "$n" -le 800 ] || fail "$f has $n lines (at most 800)"
done
bad=$(grep -rnE '\b(sv__[a-z]|hm_[a-z])' --exclude=layout.sh lib tests bench \
	tools fuzz examples)
[ -z "$bad" ] || fail "internal names outside sv_<module>__<name>:
$bad"
bad=$(grep -rnE '^[a-z].*\bsv_vcpu_[a-z_]+\(' lib --include='*.c' |
	grep -v '^lib/cpu/' | grep -v ';$')
[ -z "$bad" ] || fail "sv_vcpu_* defined outside lib/cpu:
$bad"
[ ! -e lib/internal.h ] || fail "lib/internal.h is back"
# An SPTE store is an assignment to *ptr, *p, *it.ptr or t[i]/table[...]
# in lib/ept; the hardware's A/D updates in nested.c write guest-visible
# EPT entries, not the MMU's SPTEs.
bad=$(grep -nE '^\s+(\*(it\.)?(ptr|p)|t\[[a-z]+\]|table\[[^]]+\])\s*[|&]?=[^=]' \
	lib/ept/*.[ch] | grep -v '^lib/ept/nested.c:' |
	grep -vE '^lib/ept/mmu.h:[0-9]+:\s*(\*ptr = n;|t\[i\] = sv_spte__split_child\()')
[ -z "$bad" ] || fail "SPTE stored outside sv_mmu__spte_set:
$bad"
n=$(grep -cE '^\s*\*ptr = n;$' lib/ept/mmu.h)
[ "$n" -eq 1 ] || fail "lib/ept/mmu.h stores SPTEs in $n places (1 expected)"
# What the project cites must be in it: no paths outside the tree.
bad=$(grep -rnE '(\.\./)+shared/|shared/reference|shared/seeds' \
	--exclude=layout.sh include lib tests bench tools fuzz examples \
	scenarios docs guests README.md CONTRIBUTING.md)
[ -z "$bad" ] || fail "citations of files outside the project:
$bad"
[ $status -eq 0 ] && echo "ok: layout rules hold"
exit $status
