#!/bin/sh
# Runs each libFuzzer target for SECONDS (default 60) from its committed
# seed corpus (fuzz/corpus/TARGET; the scenario parser also starts from the
# shipped scenarios and its dictionary, the trace reader from a fresh
# recording as well; tracein: the readers of traces from elsewhere, the
# first byte picking the format).  A crash, leak or sanitizer report fails; its input is
# kept in BUILD/fuzz-work/ as crash-*, leak-* or timeout-*.
# Usage: scripts/fuzz.sh BUILD_DIR [SECONDS]
set -eu
cd "$(dirname "$0")/.."
build=$1
secs=${2:-60}
work=$build/fuzz-work
mkdir -p "$work/scenario" "$work/trace" "$work/tracein"
cp scenarios/*.ini fuzz/corpus/scenario/* "$work/scenario/"
cp fuzz/corpus/trace/* "$work/trace/"
cp fuzz/corpus/tracein/* "$work/tracein/"
"$build/tools/simvirt/simvirt" run scenarios/tlb-conflict.ini \
	--record "$work/trace/recorded-now.trace" >/dev/null
status=0
for target in scenario trace tracein; do
	echo "fuzz_$target: ${secs} s"
	if "$build/fuzz/fuzz_$target" -max_total_time="$secs" -max_len=65536 \
		-artifact_prefix="$work/" -print_final_stats=1 \
		$([ -f "fuzz/$target.dict" ] && echo "-dict=fuzz/$target.dict") \
		"$work/$target" >"$work/$target.log" 2>&1; then
		grep '^stat::' "$work/$target.log"
	else
		tail -n 60 "$work/$target.log"
		echo "fuzz_$target: FAILED (input kept in $work/)" >&2
		status=1
	fi
done
exit $status
