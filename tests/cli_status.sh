#!/usr/bin/env bash
# simvirt's exit statuses (README "Exit status"): 2 for every bad input,
# found before anything runs (and no file written); 3 for a run that ended
# in a guest fault; 0 for a good run.
set -uo pipefail
simvirt=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fails=0

# expect STATUS MESSAGE-PART COMMAND...: the status, and stderr naming it
expect() {
	local want=$1 part=$2 got
	shift 2
	"$@" >"$dir/out" 2>"$dir/err"
	got=$?
	if [ "$got" != "$want" ] || { [ -n "$part" ] && ! grep -qF -- "$part" "$dir/err"; }; then
		echo "FAIL: $* -> status $got (want $want), stderr:" >&2
		cat "$dir/err" >&2
		fails=$((fails + 1))
	fi
}

small=(--set memslot.data.size=4M)
printf '[memslot.a]\ngpa=0\nsize=2M\n[phase.1]\nactions=dirty_log_clear a\n' \
	>"$dir/clear.ini"
touch "$dir/unreadable.ini" && chmod 000 "$dir/unreadable.ini"

expect 2 "scenario $dir/none.ini: No such file" "$simvirt" run "$dir/none.ini"
expect 2 "scenario $dir: Is a directory" "$simvirt" run "$dir"
if [ "$(id -u)" != 0 ]; then # root reads anything
	expect 2 "Permission denied" "$simvirt" run "$dir/unreadable.ini"
fi
expect 2 "trace $dir/none.trace: No such file" "$simvirt" replay "$dir/none.trace"
expect 2 "trace $dir: Is a directory" "$simvirt" trace dump "$dir"
expect 2 "--out $dir/no/r.json: No such file" "$simvirt" run "${small[@]}" \
	--out "$dir/no/r.json"
expect 2 "--record $dir: Is a directory" "$simvirt" run "${small[@]}" \
	--record "$dir"
expect 2 "--format: expected table, json or csv" "$simvirt" run --format xml
expect 2 "[phase.1] action dirty_log_clear a" "$simvirt" run "$dir/clear.ini"
expect 2 "--vcpu 99: the scenario has 1 vCPUs" "$simvirt" walk \
	--gva 0x40000000 --vcpu 99 "${small[@]}"
expect 2 "[host]" "$simvirt" run --set host.frag_percent=100 \
	--set host.thp_zero_page=true
expect 2 "unknown command" "$simvirt" frobnicate
# simvirt exec: bad input is 2 before anything runs; a program stopped by
# the limit is 3 (docs/programs.md)
expect 2 "expected a PROGRAM" "$simvirt" exec
expect 2 "program $dir/none: No such file" "$simvirt" exec "$dir/none"
expect 2 "not an ELF file" "$simvirt" exec -- "$dir/clear.ini"
expect 2 "--thp: expected never, madvise or always" "$simvirt" exec \
	--thp sometimes -- "$dir/clear.ini"
expect 2 "--file: expected /GUEST/PATH=HOST_PATH" "$simvirt" exec \
	--file in.txt -- "$dir/clear.ini"
if [ -x /bin/busybox ]; then
	expect 2 "--stdout $dir/no/out: No such file" "$simvirt" exec \
		--stdout "$dir/no/out" -- /bin/busybox true
	expect 3 "the program stopped: limit" "$simvirt" exec --limit 1000 \
		-- /bin/busybox true
	expect 0 "" "$simvirt" exec --counters /dev/null -- /bin/busybox true
fi
# A valid run that fails: the guest fills more host RAM than [host]
# mem_limit lets the simulator hold.
expect 1 "reach [host] mem_limit (64 MiB)" "$simvirt" run \
	--set host.mem_limit=64M --set memslot.data.size=1G

# A bad input writes nothing: --record was checked, then removed again.
"$simvirt" run "$dir/clear.ini" --record "$dir/t.trace" --out "$dir/r.txt" \
	2>/dev/null
if [ -e "$dir/t.trace" ] || [ -e "$dir/r.txt" ]; then
	echo "FAIL: a rejected run left files behind" >&2
	fails=$((fails + 1))
fi
# ... and an existing --out keeps its bytes until a run writes over it.
echo keep >"$dir/kept.txt"
"$simvirt" run "$dir/clear.ini" --out "$dir/kept.txt" 2>/dev/null
if [ "$(cat "$dir/kept.txt")" != keep ]; then
	echo "FAIL: a rejected run changed an existing --out" >&2
	fails=$((fails + 1))
fi

# A guest fault: the data slot unmapped under the running guest gives
# EFAULT (KVM: -EFAULT to userspace); status 3, run and replay alike.
expect 3 "" "$simvirt" run "${small[@]}" --set 'phase.1.actions=munmap data' \
	--record "$dir/f.trace" --format json --out "$dir/f.json"
grep -q '"end": "fault: EFAULT' "$dir/f.json" || {
	echo "FAIL: the report does not end in the fault" >&2
	fails=$((fails + 1))
}
expect 3 "" "$simvirt" replay "$dir/f.trace"
expect 0 "" "$simvirt" run "${small[@]}"

# The statuses are in every command's --help.
for cmd in run replay walk "trace" plot diff list; do
	"$simvirt" $cmd --help | grep -q '3 the run ended in a' || {
		echo "FAIL: simvirt $cmd --help does not give the exit statuses" >&2
		fails=$((fails + 1))
	}
done

[ "$fails" = 0 ] && echo "cli status: ok"
exit "$fails"
