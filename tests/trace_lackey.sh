#!/bin/sh
# Real traces in: valgrind's lackey traces of two real programs (busybox
# gzip over a file made here, busybox sort), each run through the guest
# kernel's memory model under guest THP never and always.  Checks what
# follows from the trace alone: under never, one fault per 4K page that
# is first written, and two per page first read (the zero page) and
# written later; under always, a THP for each 2M range first written and
# the huge zero page for each first read (split at its first write,
# then a fault per page written); 2M TLB entries only where guest and host both map 2M (none
# when the host maps 4K); and byte-identical output on a repeat.  Skips (77) where
# valgrind or busybox is missing.
# Usage: tests/trace_lackey.sh SIMVIRT
set -eu
simvirt=$1
command -v valgrind >/dev/null && command -v busybox >/dev/null || {
	echo "trace lackey: valgrind or busybox missing: skipped"
	exit 77
}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
python3 -c 'print("the quick brown fox jumps over the lazy dog " * 500, end="")' \
	>"$dir/in.txt"
python3 -c 'print("\n".join(str((i * 7919) % 1000) for i in range(200)))' \
	>"$dir/nums.txt"
valgrind -q --tool=lackey --trace-mem=yes --log-file="$dir/gzip.lackey" \
	busybox gzip -c "$dir/in.txt" >"$dir/out.gz"
busybox gzip -dc "$dir/out.gz" | cmp - "$dir/in.txt"
valgrind -q --tool=lackey --trace-mem=yes --log-file="$dir/sort.lackey" \
	busybox sort -n "$dir/nums.txt" >"$dir/sorted.txt"
busybox sort -n "$dir/nums.txt" | cmp - "$dir/sorted.txt"
for prog in gzip sort; do
	for thp in never always; do
		for n in 1 2; do
			"$simvirt" trace run "$dir/$prog.lackey" --format lackey \
				--thp $thp >"$dir/$prog.$thp.$n"
		done
		cmp "$dir/$prog.$thp.1" "$dir/$prog.$thp.2"
	done
	"$simvirt" trace run "$dir/$prog.lackey" --format lackey --thp always \
		--host-pages 4K >"$dir/$prog.always4k"
	python3 - "$dir/$prog.lackey" "$dir/$prog.never.1" "$dir/$prog.always.1" \
		"$dir/$prog.always4k" <<'PY'
import sys

def counters(path):
    return dict(line.split() for line in open(path))

# first principles from the trace: each record's 4K pages and 2M ranges.
# At 4K (never): a page's first touch faults (a read maps the zero page, a
# write a page of its own), and so does the first write to a zero page.
# THP always (Linux's use_zero_page): a range's first touch faults: a
# write maps a THP (no more faults there), a read the huge zero page;
# the first write into a huge zero page splits it into PTEs of the zero
# page, and from then on each page's first write faults (its copy).
state, faults, regions = {}, 0, set()
rstate, owned, tfaults, thps = {}, set(), 0, 0
for line in open(sys.argv[1]):
    if line.startswith("=="):
        continue
    kind, rest = line[:2].strip(), line[2:].strip()
    addr, size = rest.split(",")
    addr, size = int(addr, 16), int(size)
    accesses = ["R", "W"] if kind == "M" else ["W" if kind == "S" else "R"]
    for acc in accesses:
        for page in range(addr >> 12, ((addr + size - 1) >> 12) + 1):
            regions.add(page >> 9)
            s = state.get(page)
            if s is None:            # first touch: zero page, or a page
                faults += 1
                state[page] = "own" if acc == "W" else "zero"
            elif s == "zero" and acc == "W":  # the zero page's copy
                faults += 1
                state[page] = "own"
            r = rstate.get(page >> 9)
            if r is None:
                tfaults += 1
                if acc == "W":
                    thps += 1
                rstate[page >> 9] = "thp" if acc == "W" else "hugezero"
            elif r != "thp" and acc == "W" and page not in owned:
                tfaults += 1     # the split (once) and this page's copy
                rstate[page >> 9] = "split"
                owned.add(page)
never, always = counters(sys.argv[2]), counters(sys.argv[3])
assert 0 not in regions, "the trace touches the first 2M (not THP-eligible)"
assert int(never["guest.pgfault"]) == faults, (never["guest.pgfault"], faults)
assert int(never["guest.thp_fault_alloc"]) == 0
assert int(always["guest.thp_fault_alloc"]) == thps, \
    (always["guest.thp_fault_alloc"], thps)
assert int(always["guest.pgfault"]) == tfaults, (always["guest.pgfault"], tfaults)
# THP backs every 2M range: fewer TLB misses than 4K pages
assert int(always["tlb_miss"]) < int(never["tlb_miss"])
# 2M TLB entries only where guest and host both map 2M: over 4K host pages
# every guest THP is splintered into 4K entries, none is 2M
always4k = counters(sys.argv[4])
assert int(always4k.get("tlb_fill_2m", 0)) == 0, always4k.get("tlb_fill_2m")
assert int(always4k["tlb_splinter"]) > 0
# and with the host at 2M, a guest 4K page over it is counted as such
assert int(never["tlb_host_larger"]) > 0
assert int(always.get("tlb_splinter", 0)) == 0
print("trace lackey: %s: %s records, %d faults at 4K; THP always: %d "
      "faults, %d THPs over %d 2M ranges" %
      (sys.argv[1].split("/")[-1], never["records"], faults, tfaults, thps,
       len(regions)))
PY
done
echo "trace lackey: ok"
