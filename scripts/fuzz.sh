#!/bin/sh
# Runs each libFuzzer target for SECONDS (default 60) from a seed corpus:
# the shipped scenarios for the scenario parser, a recorded run for the
# trace reader.  A crash, leak or sanitizer report fails; its input is
# kept in BUILD/fuzz-work/ as crash-*, leak-* or timeout-*.
# Usage: scripts/fuzz.sh BUILD_DIR [SECONDS]
set -eu
cd "$(dirname "$0")/.."
build=$1
secs=${2:-60}
work=$build/fuzz-work
mkdir -p "$work/scenario" "$work/trace"
cp scenarios/*.ini "$work/scenario/"
"$build/tools/simvirt/simvirt" run scenarios/tlb-conflict.ini \
	--record "$work/trace/tlb-conflict.trace" >/dev/null
status=0
for target in scenario trace; do
	echo "fuzz_$target: ${secs} s"
	if "$build/fuzz/fuzz_$target" -max_total_time="$secs" -max_len=65536 \
		-artifact_prefix="$work/" -print_final_stats=1 \
		"$work/$target" >"$work/$target.log" 2>&1; then
		grep '^stat::' "$work/$target.log"
	else
		tail -n 60 "$work/$target.log"
		echo "fuzz_$target: FAILED (input kept in $work/)" >&2
		status=1
	fi
done
exit $status
