#!/bin/sh
# Unmodified static Linux programs as guests (`simvirt exec`): Debian's
# busybox-static (gzip, sort, sha256sum, awk) over input made here,
# memcheck (the memory calls' effects on the bytes) and sqlwork (SQLite,
# linked statically).  Checks that each one's output and
# exit status are byte-identical to the same binary run natively, that the
# counters are byte-identical on a repeat, and what guest THP does to a
# sort, derived in the comments below.  Skips (77) where busybox is
# missing.
# Usage: tests/program_run.sh SIMVIRT MEMCHECK [SQLWORK]
set -eu
simvirt=$1
memcheck=$(realpath "$2")
sqlwork=${3:-}
[ -z "$sqlwork" ] || sqlwork=$(realpath "$sqlwork")
command -v busybox >/dev/null || {
	echo "program run: busybox missing: skipped"
	exit 77
}
bb=$(command -v busybox)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
python3 - "$dir" <<'PY'
import random, sys
r = random.Random(7)
d = sys.argv[1]
with open(d + "/lines.txt", "w") as f:
    for i in range(12000):
        f.write("".join(r.choice("abcdefghijklmnopqrstuvwxyz0123456789")
                        for _ in range(r.randint(5, 60))) + " %d\n" % i)
with open(d + "/big.txt", "w") as f:
    for i in range(50000):
        f.write("".join(r.choice("abcdefghijklmnopqrstuvwxyz")
                        for _ in range(r.randint(5, 50))) + "\n")
with open(d + "/data.bin", "wb") as f:
    f.write(bytes(r.randrange(256) // 17 for _ in range(300000)))
PY

# run NAME ARGS...: the program natively and as a guest; both outputs and
# statuses must agree
run() {
	name=$1
	shift
	set +e
	(cd "$dir" && "$@" <"$dir/lines.txt" >"$dir/$name.native" 2>&1)
	native=$?
	"$simvirt" exec --stdin "$dir/lines.txt" --stdout "$dir/$name.guest" \
		--stderr "$dir/$name.guest" --counters "$dir/$name.counters" \
		--file /lines.txt="$dir/lines.txt" --file /data.bin="$dir/data.bin" \
		-- "$@"
	guest=$?
	set -e
	if [ "$native" != "$guest" ]; then
		echo "$name: exit status $guest as a guest, $native natively"
		exit 1
	fi
	cmp "$dir/$name.native" "$dir/$name.guest"
	grep -q '^stop exited$' "$dir/$name.counters"
}

# the guest sees /lines.txt and /data.bin; natively the same names are
# relative to $dir, so each command names them as "lines.txt" (a relative
# path is taken from "/" in the guest)
run gzip "$bb" gzip -c data.bin
run sha256sum "$bb" sha256sum lines.txt data.bin
run sort "$bb" sort lines.txt
run awk "$bb" awk '{n += NF; s += length($1)} END {print n, s}' lines.txt
run stdin "$bb" wc -l
run missing "$bb" cat no-such-file
run memcheck "$memcheck" mem
# the same program as a static PIE, loaded at 0x555555554000
run memcheck_pie "$memcheck-pie" mem
# RDTSC returns the vCPU's cycles (the same on a repeat) and ends its
# block: 1,000 more iterations of the five-instruction loop are 5,000
# more instructions, each counted once
run rdtsc1 "$memcheck" rdtsc 1000
"$simvirt" exec --counters "$dir/t1.c" -- "$memcheck" rdtsc 1000 >"$dir/t1.out"
"$simvirt" exec --counters "$dir/t2.c" -- "$memcheck" rdtsc 2000 >/dev/null
cmp "$dir/t1.out" "$dir/rdtsc1.guest"
i1=$(awk '$1 == "instructions" {print $2}' "$dir/t1.c")
i2=$(awk '$1 == "instructions" {print $2}' "$dir/t2.c")
[ $((i2 - i1)) = 5000 ]
run enosys "$memcheck" enosys
run exit7 "$memcheck" exit 7
# the ways a program ends on a signal: the counters' stop line, status 3
for sig in segv:SIGSEGV ud:SIGILL div:SIGFPE; do
	set +e
	"$simvirt" exec --counters "$dir/sig.c" -- "$memcheck" "${sig%%:*}" \
		2>"$dir/sig.err"
	status=$?
	set -e
	[ "$status" = 3 ]
	grep -qx "stop ${sig#*:}" "$dir/sig.c"
	grep -q "the program stopped: ${sig#*:} at rip 0x" "$dir/sig.err"
done
# Unicorn 2.0.1 stands about 1,000 regions: 1,000 mappings of alternating
# permissions (plus the program's own few) are past simvirt's limit of
# 1,024, and the run stops with an error naming the count; 400 are not.
run regions400 "$memcheck" regions 400
set +e
"$simvirt" exec --counters /dev/null -- "$memcheck" regions 1100 \
	>/dev/null 2>"$dir/regions.err"
status=$?
set -e
[ "$status" = 1 ]
grep -q "its mappings need 10[0-9][0-9] Unicorn regions (at most 1024" \
	"$dir/regions.err"
# a program named by a relative path: glibc's start asks /proc/self/exe,
# which the kernel answers with an absolute path
cp "$memcheck" "$dir/mc"
set +e
(cd "$dir" && "$simvirt" exec --counters /dev/null -- ./mc exit 5)
status=$?
set -e
[ "$status" = 5 ]
if [ -n "$sqlwork" ] && [ -x "$sqlwork" ]; then
	run sqlwork "$sqlwork" 4000
	# the shipped scenario, with this build's sqlwork
	scn=$(dirname "$0")/../scenarios/programs/sqlite.ini
	"$simvirt" run "$scn" --set program.path="$sqlwork" \
		--set program.stdout="$dir/scn.out" >"$dir/scn.report"
	grep -q "exited with status 0 after" "$dir/scn.report"
	"$sqlwork" 20000 | cmp - "$dir/scn.out"
	# its comment: the same counters under THP never as under always
	"$simvirt" run "$scn" --set program.path="$sqlwork" \
		--set program.stdout="$dir/scn.out" --set guestmm.thp=never \
		>"$dir/scn.never"
	cmp "$dir/scn.report" "$dir/scn.never"
fi

# The same run twice: byte-identical output and counters.
"$simvirt" exec --file /data.bin="$dir/data.bin" --stdout "$dir/r1.out" \
	--counters "$dir/r1.c" -- "$bb" gzip -c /data.bin
"$simvirt" exec --file /data.bin="$dir/data.bin" --stdout "$dir/r2.out" \
	--counters "$dir/r2.c" -- "$bb" gzip -c /data.bin
cmp "$dir/r1.out" "$dir/r2.out"
cmp "$dir/r1.c" "$dir/r2.c"
# without --stdout the output is simvirt's own, even after the program
# closed its descriptor 1 (busybox does at exit)
"$simvirt" exec --file /data.bin="$dir/data.bin" --counters "$dir/r3.c" \
	-- "$bb" gzip -c /data.bin | cmp - "$dir/r1.out"

# Guest THP over sort's heap (1.4 MB of lines: a heap of several 2M
# ranges).  glibc grows the brk heap by at most 128K past what it hands
# out, so no 2M range of the heap is inside its VMA when the range's
# first page faults: the heap gets its THPs from khugepaged (woken every
# 2M instructions), which collapses its full 2M ranges under always only
# (thp_collapse_alloc > 0; never: no THP at all).  Each collapse maps 512
# pages with one 2M TLB entry: tlb_fill_2m grows and tlb_miss falls.
for thp in never always; do
	"$simvirt" exec --thp $thp --khugepaged 2000000 \
		--file /big.txt="$dir/big.txt" --stdout "$dir/s.$thp" \
		--counters "$dir/c.$thp" -- "$bb" sort /big.txt
	"$bb" sort "$dir/big.txt" | cmp - "$dir/s.$thp"
done
get() { awk -v k="$2" '$1 == k {print $2}' "$dir/c.$1"; }
[ "$(get never guest.thp_fault_alloc)" = 0 ]
[ "$(get never guest.thp_collapse_alloc)" = 0 ]
[ "$(get always guest.thp_collapse_alloc)" -gt 0 ]
[ "$(get always tlb_fill_2m)" -gt "$(get never tlb_fill_2m)" ]
[ "$(get always tlb_miss)" -lt "$(get never tlb_miss)" ]
echo "program run: busybox gzip, sha256sum, sort, awk, wc, cat, memcheck${sqlwork:+ and sqlwork}: as native; THP: $(get always guest.thp_collapse_alloc) collapses, tlb_miss $(get never tlb_miss) -> $(get always tlb_miss)"
