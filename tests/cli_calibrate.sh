#!/usr/bin/env bash
# simvirt calibrate on small working sets (the full run is a benchmark,
# not a test): bad input is status 2 with a message, --out writes a cost
# file that --check and a scenario's [cost] file= read back, and the
# shipped cost files load.  No timing is asserted.
# Usage: tests/cli_calibrate.sh SIMVIRT
set -euo pipefail
sv=$1
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "cli calibrate: FAIL: $*" >&2; exit 1; }
expect() { # STATUS TEXT CMD...: the status, and TEXT on stderr
	local want=$1 text=$2 rc=0
	shift 2
	"$@" > "$dir/out" 2> "$dir/err" || rc=$?
	[ "$rc" = "$want" ] || fail "$* gave $rc, expected $want: $(cat "$dir/err")"
	[ -z "$text" ] || grep -qF -- "$text" "$dir/err" || fail "$*: no '$text' in: $(cat "$dir/err")"
}
expect 2 "one of --out FILE or --check FILE" "$sv" calibrate
expect 2 "--sizes: '3K'" "$sv" calibrate --out "$dir/c.ini" --sizes 3K
expect 2 "--rounds: 1 to 9" "$sv" calibrate --out "$dir/c.ini" --rounds 10
expect 2 "" "$sv" calibrate --check "$dir/none.ini"
printf '[cost]\nwalk_ref=4\n' > "$dir/nohost.ini"
expect 2 "host_pages: expected 4K, 2M or shadow" "$sv" calibrate --check "$dir/nohost.ini" --sizes 64K
printf '[calibration]\nhost_pages=4K\ncore_ghz=fast\n' > "$dir/noclock.ini"
expect 2 "core_ghz: expected a clock in GHz, got 'fast'" "$sv" calibrate --check "$dir/noclock.ini" --sizes 64K
# 64K and 1M: TLB-resident, 2 backings each, 1000 simulated loads; the
# STLB and LLC probed
expect 0 "" "$sv" calibrate --out "$dir/c.ini" --sizes 64K,1M --loads 1000
for key in insn_load stlb_hit walk_ref splinter cache_l2 cache_llc cache_mem l1d_kb llc_kb \
	stlb_sets stlb_ways host_pages core_ghz; do
	grep -q "^$key=[0-9]" "$dir/c.ini" || grep -qE "^$key=(4K|2M|shadow)$" "$dir/c.ini" ||
		fail "the cost file lacks $key: $(cat "$dir/c.ini")"
done
[ "$(grep -c '^#   \(4k\|thp\) ' "$dir/c.ini")" = 4 ] || fail "the file does not list its 4 cases"
# the three readings of what the hardware walks, each with its error, one kept
[ "$(grep -c '^#   .*tables.* [0-9.]*%' "$dir/c.ini")" = 3 ] || fail "the file does not give the three fits"
[ "$(grep -c '(kept)$' "$dir/c.ini")" = 1 ] || fail "the file does not say which fit it kept"
# 12 STLB points (256 to 16,384 pages), 11 LLC points (2x to 64x the L2)
[ "$(grep -c '^#   STLB probe' "$dir/c.ini")" = 12 ] || fail "the STLB probe's points are missing"
[ "$(grep -c '^#   LLC probe' "$dir/c.ini")" = 11 ] || fail "the LLC probe's points are missing"
grep -q '^# STLB: \(probed\|the default\)' "$dir/c.ini" || fail "the file does not say where the STLB came from"
# hugetlbfs cases where 2M pages are reserved (none on a fresh machine:
# the test does not reserve them, it only reads what is there)
free=$(awk '/^HugePages_Free:/ { print $2 }' /proc/meminfo)
if [ "${free:-0}" -ge 2 ] && grep -q '^Hugepagesize: *2048 kB' /proc/meminfo; then
	expect 0 "" "$sv" calibrate --out "$dir/h.ini" --sizes 4M --loads 1000 --no-probe --rounds 1
	grep -q '^#   hugetlb  *4M ' "$dir/h.ini" || fail "no hugetlb case with 2M pages reserved"
else
	grep -q '^#   hugetlb' "$dir/c.ini" && fail "a hugetlb case with no 2M pages reserved"
	echo "cli calibrate: the hugetlbfs case is not run: no 2M pages reserved"
fi
# --no-probe: the machine's own description, one placement each
expect 0 "" "$sv" calibrate --out "$dir/n.ini" --sizes 64K --loads 1000 --no-probe --rounds 1
! grep -q 'probe' "$dir/n.ini" || fail "--no-probe probed"
rc=0
"$sv" calibrate --check "$dir/c.ini" --sizes 64K,1M --loads 1000 > "$dir/check" 2>&1 || rc=$?
[ "$rc" = 0 ] || [ "$rc" = 1 ] || fail "--check gave $rc"
grep -q '^max error [0-9]*%' "$dir/check" || fail "--check printed no max error: $(cat "$dir/check")"
grep -q "GHz in the file: the file's turns cycles into ns" "$dir/check" ||
	fail "--check did not take the file's clock: $(cat "$dir/check")"
# a scenario takes the costs with [cost] file=, its own keys first
printf '[cost]\nfile=%s\nstlb_hit=77\n[memslot.a]\ngpa=0x40000000\nsize=8M\n' \
	"$root/costs/skylake-7cpu.ini" > "$dir/s.ini"
"$sv" run "$dir/s.ini" --format csv > "$dir/s.csv"
grep -qx '# config cost.walk_ref=4' "$dir/s.csv" || fail "file= did not give walk_ref"
grep -qx '# config cost.stlb_hit=77' "$dir/s.csv" || fail "the scenario's own key did not win"
grep -qx '# config cache.l2_kb=256' "$dir/s.csv" || fail "file= did not give [cache]"
grep -q ',data_mem,' "$dir/s.csv" || fail "the cache model did not count"
# a calibrated file's [tlb] comes along too
printf '[cost]\nfile=%s\n[memslot.a]\ngpa=0x40000000\nsize=8M\n' "$dir/c.ini" > "$dir/t.ini"
"$sv" run "$dir/t.ini" --format csv > "$dir/t.csv"
want=$(sed -n 's/^stlb_sets=//p' "$dir/c.ini")
grep -qx "# config tlb.stlb_sets=$want" "$dir/t.csv" || fail "file= did not give [tlb]"
"$sv" run --set "cost.file=$root/costs/epyc-vm.ini" --set memslot.data.size=8M > /dev/null
printf '[cost]\nfile=nowhere.ini\n' > "$dir/bad.ini"
expect 2 "[cost] file:" "$sv" run "$dir/bad.ini"
echo "cli calibrate: ok"
