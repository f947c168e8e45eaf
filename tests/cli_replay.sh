#!/usr/bin/env bash
# simvirt run --record, then replay, trace dump and diff: the replay's JSON
# is byte-identical to the run's and diff finds nothing.
set -euo pipefail
simvirt=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$simvirt" run --set memslot.data.size=16M --format json \
	--record "$dir/t.trace" --out "$dir/a.json"
"$simvirt" replay "$dir/t.trace" --format json --out "$dir/b.json"
cmp "$dir/a.json" "$dir/b.json"
"$simvirt" diff "$dir/a.json" "$dir/b.json" | grep -q '^counters: 0 differ'
"$simvirt" trace dump "$dir/t.trace" | grep -q '^# end: .* events; the run ended: halted'
# A different scenario differs, and diff says so with status 1.
"$simvirt" run --set memslot.data.size=16M --set vm.kernel_version=6.13 \
	--format json --out "$dir/c.json"
if "$simvirt" diff "$dir/a.json" "$dir/c.json" > "$dir/diff.txt"; then
	echo "diff found no difference" >&2
	exit 1
fi
grep -q 'recover_2m' "$dir/diff.txt"
# Version 3: events chunks zstd-compressed; a version-1 trace still replays.
[ "$(od -An -tu4 -j8 -N4 "$dir/t.trace" | tr -d ' ')" = 3 ]
root=$(dirname "$0")/..
"$simvirt" replay "$root/fuzz/corpus/trace/tlb-conflict.trace" --format json \
	--out "$dir/v1.json"
grep -q '"end": "halted"' "$dir/v1.json"
# A recorded run's accesses as a trace through the guest kernel.
"$simvirt" trace run "$dir/t.trace" --format simvirt --thp never > "$dir/tr.txt"
grep -q '^records [1-9]' "$dir/tr.txt"
# A recording whose scenario runs a trace ([trace]) cannot exist: refused
# with status 2, never run.
rc=0
"$simvirt" replay "$root/fuzz/corpus/trace/trace-scenario.trace" 2> "$dir/ts.txt" || rc=$?
[ "$rc" = 2 ] && grep -q 'runs a trace' "$dir/ts.txt"
# A damaged trace: status 2 and the offset.
head -c 100 "$dir/t.trace" > "$dir/cut.trace"
if "$simvirt" replay "$dir/cut.trace" 2> "$dir/err.txt"; then
	exit 1
fi
grep -q 'offset' "$dir/err.txt"
# The event and steal-time scenarios, and two under the shadow MMU (its
# INVLPG and MOV to CR3 intercepts, host events): two runs print the same
# bytes, and so does the replay of a recording (its CPL and steal-time
# events fed back).  triple-fault ends in shutdown and shadow/mprotect in
# EFAULT: status 3, as for a guest fault.
scen=$(dirname "$0")/../scenarios
for name in event-reinjection triple-fault steal-time user-mode shadow/remap \
	    shadow/mprotect; do
	want=0
	[ "$name" = triple-fault ] && want=3
	[ "$name" = shadow/mprotect ] && want=3
	mkdir -p "$dir/shadow"
	for out in r1 r2; do
		rc=0
		"$simvirt" run "$scen/$name.ini" --format json --out "$dir/$name.$out.json" \
			--record "$dir/$name.$out.trace" || rc=$?
		[ "$rc" = "$want" ] || { echo "$name: status $rc (expected $want)" >&2; exit 1; }
	done
	cmp "$dir/$name.r1.json" "$dir/$name.r2.json"
	rc=0
	"$simvirt" replay "$dir/$name.r1.trace" --format json --out "$dir/$name.p.json" || rc=$?
	[ "$rc" = "$want" ] || { echo "$name replay: status $rc (expected $want)" >&2; exit 1; }
	cmp "$dir/$name.r1.json" "$dir/$name.p.json"
done
"$simvirt" trace dump "$dir/steal-time.r1.trace" > "$dir/steal.txt"
grep -q ' steal$' "$dir/steal.txt"
"$simvirt" trace dump "$dir/user-mode.r1.trace" > "$dir/user.txt"
grep -q ' cpl    3$' "$dir/user.txt"
grep -q '"end": "shutdown: triple fault on vCPU 0' "$dir/triple-fault.r1.json"
echo "cli replay: ok"
