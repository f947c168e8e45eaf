#!/bin/sh
# ChampSim traces in: the same three records raw, gzip- and xz-compressed
# give the same counters; a record cut short is bad input (status 2,
# naming the record).  The records: fetch 0x400000 and read 4G; fetch
# 0x400004 and write 4G+4K; fetch 0x400008, read 4G+8K and write 4G+12K.
# Usage: tests/trace_champsim.sh SIMVIRT
set -eu
simvirt=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
python3 - "$dir" <<'PY'
import gzip, lzma, struct, sys
def rec(ip, src=(), dst=()):
    s = list(src) + [0] * (4 - len(src))
    d = list(dst) + [0] * (2 - len(dst))
    return struct.pack("<QBB2B4B2Q4Q", ip, 0, 0, 0, 0, 0, 0, 0, 0, *d, *s)
data = (rec(0x400000, src=[1 << 32]) + rec(0x400004, dst=[(1 << 32) + 4096]) +
        rec(0x400008, src=[(1 << 32) + 8192], dst=[(1 << 32) + 12288]))
d = sys.argv[1]
open(d + "/t.trace", "wb").write(data)
open(d + "/t.trace.gz", "wb").write(gzip.compress(data))
open(d + "/t.trace.xz", "wb").write(lzma.compress(data))
open(d + "/cut.trace", "wb").write(data[:100])
PY
for f in t.trace t.trace.gz t.trace.xz; do
	"$simvirt" trace run "$dir/$f" --format champsim --thp never >"$dir/$f.out"
done
cmp "$dir/t.trace.out" "$dir/t.trace.gz.out"
cmp "$dir/t.trace.out" "$dir/t.trace.xz.out"
# 3 fetches, 2 reads, 2 writes; faults: the code page and the two read
# pages map the zero page, the two written pages get pages of their own
grep -qx 'records 7' "$dir/t.trace.out"
grep -qx 'guest.pgfault 5' "$dir/t.trace.out"
grep -qx 'guest.zero_page_maps 3' "$dir/t.trace.out"
grep -qx 'guest.pgalloc 2' "$dir/t.trace.out"
rc=0
"$simvirt" trace run "$dir/cut.trace" --format champsim 2>"$dir/err" >/dev/null || rc=$?
[ "$rc" = 2 ] || { echo "trace champsim: a cut trace gave status $rc" >&2; exit 1; }
grep -q 'record 2: expected 64 bytes' "$dir/err"
echo "trace champsim: ok"
