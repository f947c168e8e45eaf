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
# A damaged trace: status 2 and the offset.
head -c 100 "$dir/t.trace" > "$dir/cut.trace"
if "$simvirt" replay "$dir/cut.trace" 2> "$dir/err.txt"; then
	exit 1
fi
grep -q 'offset' "$dir/err.txt"
echo "cli replay: ok"
