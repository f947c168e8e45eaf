#!/usr/bin/env bash
# The same 8-run sweep (sweeps/kver-backing.ini) through the local pool,
# through GNU parallel and through a real single-node Slurm gives
# byte-identical merged tables.  A rerun skips finished runs and retries
# a failed one.  Where GNU parallel or Slurm is missing or Slurm cannot
# start (it needs root here), that engine is skipped, saying so; with
# SIMVIRT_REQUIRE_ENGINES=1 (CI) a skip is a failure.
# Usage: tests/sweep_engines.sh SIMVIRT SWEEP.ini
set -euo pipefail
simvirt=$(realpath "$1")
spec=$(realpath "$2")
require=${SIMVIRT_REQUIRE_ENGINES:-0}
dir=$(mktemp -d)
slurm_up=0
# Waits (up to 10 s) for the process named in pid file $1 to be gone.
wait_gone() {
	local pid i
	[ -f "$1" ] || return 0
	pid=$(cat "$1" 2>/dev/null) || return 0
	[ -n "$pid" ] || return 0
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.2
	done
	kill -9 "$pid" 2>/dev/null || true
}
# The daemons write into $dir/slurm until they are gone: stop them and
# wait for each before removing the directory, so that the removal never
# races a last log or state write.
cleanup() {
	local s=$dir/slurm i
	if [ "$slurm_up" = 1 ]; then
		SLURM_CONF=$s/slurm.conf scontrol shutdown >/dev/null 2>&1 || true
	fi
	for d in slurmd slurmctld; do
		[ -f "$s/$d.pid" ] && kill "$(cat "$s/$d.pid")" 2>/dev/null || true
		wait_gone "$s/$d.pid"
	done
	[ -f "$s/munged.pid" ] && kill "$(cat "$s/munged.pid")" 2>/dev/null || true
	wait_gone "$s/munged.pid"
	for i in 1 2 3 4 5; do
		rm -rf "$dir" 2>/dev/null && return 0
		sleep 1
	done
	echo "sweep engines: note: could not remove $dir" >&2
	return 0
}
trap cleanup EXIT
fail() { echo "sweep engines: FAIL: $*" >&2; exit 1; }
skip() {
	echo "sweep engines: SKIP $1: $2" >&2
	[ "$require" = 1 ] && fail "$1 is required here (SIMVIRT_REQUIRE_ENGINES=1)"
	return 0
}

# ---- the local pool, and what a rerun does --------------------------------
"$simvirt" sweep "$spec" --dir "$dir/local" --jobs 2 > "$dir/out.txt"
grep -q ': 8 runs in .*: 8 run now, 0 finished before, 0 failed$' "$dir/out.txt" ||
	fail "local pool: $(cat "$dir/out.txt")"
"$simvirt" merge "$dir/local" --out "$dir/local.csv"
# 8 runs, each with a header-less block of rows; the columns name the
# swept keys
head -1 "$dir/local.csv" | grep -q '^run,vm.kernel_version,.*memslot.data.backing,guest.workload,guest.passes,end,phase,phase_index,scope,counter,value$' ||
	fail "merged columns: $(head -1 "$dir/local.csv")"
[ "$(cut -d, -f1 "$dir/local.csv" | sort -u | grep -c '^[0-9a-f]\{16\}$')" = 8 ] ||
	fail "the merged table does not hold 8 runs"
# docs/sweeps.md shows the table's first two lines: they are these
docs=$(dirname "$0")/../docs/sweeps.md
for n in 1 2; do
	grep -qxF "$(sed -n ${n}p "$dir/local.csv")" "$docs" ||
		fail "docs/sweeps.md does not show line $n of the table: $(sed -n ${n}p "$dir/local.csv")"
done
"$simvirt" sweep "$spec" --dir "$dir/local" > "$dir/out.txt"
grep -q 'all 8 runs in .* are finished' "$dir/out.txt" || fail "rerun: $(cat "$dir/out.txt")"
# A failed run (its report cannot be written: a directory is in the way)
# is reported with status 1 and tried again by the next sweep.
victim=$(sed -n 2p "$dir/local/runs.tsv" | cut -f1)
rm "$dir/local/$victim/report.json"
mkdir "$dir/local/$victim/report.json"
status=0
"$simvirt" sweep "$spec" --dir "$dir/local" > "$dir/out.txt" 2> "$dir/err.txt" || status=$?
[ "$status" = 1 ] || fail "a failed run gave status $status"
grep -q '0 run now, 7 finished before, 1 failed' "$dir/out.txt" || fail "$(cat "$dir/out.txt")"
grep -q "run $victim .* failed" "$dir/err.txt" || fail "$(cat "$dir/err.txt")"
status=0
"$simvirt" merge "$dir/local" --out "$dir/partial.csv" 2> "$dir/err.txt" || status=$?
[ "$status" = 1 ] && grep -q '1 of 8 runs have no report' "$dir/err.txt" ||
	fail "merge of a partial sweep: status $status, $(cat "$dir/err.txt")"
rmdir "$dir/local/$victim/report.json"
"$simvirt" sweep "$spec" --dir "$dir/local" > "$dir/out.txt"
grep -q '1 run now, 7 finished before, 0 failed' "$dir/out.txt" || fail "retry: $(cat "$dir/out.txt")"
"$simvirt" merge "$dir/local" --out "$dir/again.csv"
cmp "$dir/local.csv" "$dir/again.csv" || fail "the retried run changed the table"
echo "sweep engines: local pool: ok"

# ---- GNU parallel -----------------------------------------------------------
if command -v parallel >/dev/null 2>&1; then
	"$simvirt" sweep "$spec" --dir "$dir/parallel" --emit parallel > /dev/null
	[ "$(wc -l < "$dir/parallel/jobs.parallel")" = 8 ] || fail "jobs.parallel"
	parallel --will-cite -j2 < "$dir/parallel/jobs.parallel"
	"$simvirt" merge "$dir/parallel" --out "$dir/parallel.csv"
	cmp "$dir/local.csv" "$dir/parallel.csv" || fail "GNU parallel's table differs"
	echo "sweep engines: GNU parallel: ok"
else
	skip "GNU parallel" "'parallel' is not installed (scripts/install-deps.sh)"
fi

# ---- Slurm on this machine --------------------------------------------------
# start_slurm: 0 when the node is up; else 1 with the reason in $why.
why=""
start_slurm() {
	local s=$dir/slurm host port mem
	for cmd in munged slurmctld slurmd sbatch scontrol sinfo; do
		command -v "$cmd" >/dev/null 2>&1 || { why="'$cmd' is not installed"; return 1; }
	done
	[ "$(id -u)" = 0 ] || { why="its daemons need root here"; return 1; }
	mkdir -p "$s/state" "$s/spool"
	host=$(hostname -s)
	port=$((20000 + $$ % 20000))
	mem=$(awk '/MemTotal/ {print int($2 / 1024 / 2)}' /proc/meminfo)
	cat > "$s/slurm.conf" <<-EOF
	ClusterName=simvirt-test
	SlurmctldHost=$host
	SlurmUser=root
	SlurmdUser=root
	AuthType=auth/munge
	AuthInfo=socket=$s/munge.socket
	CredType=cred/munge
	StateSaveLocation=$s/state
	SlurmdSpoolDir=$s/spool
	SlurmctldPidFile=$s/slurmctld.pid
	SlurmdPidFile=$s/slurmd.pid
	SlurmctldPort=$port
	SlurmdPort=$((port + 1))
	ProctrackType=proctrack/linuxproc
	TaskPlugin=task/none
	JobAcctGatherType=jobacct_gather/none
	SchedulerType=sched/builtin
	SelectType=select/cons_tres
	SelectTypeParameters=CR_Core_Memory
	ReturnToService=2
	MpiDefault=none
	SlurmctldLogFile=$s/slurmctld.log
	SlurmdLogFile=$s/slurmd.log
	NodeName=$host CPUs=$(nproc) RealMemory=$mem State=UNKNOWN
	PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
	EOF
	[ -r /etc/munge/munge.key ] || { why="no /etc/munge/munge.key"; return 1; }
	munged --force --socket="$s/munge.socket" --pid-file="$s/munged.pid" \
		--log-file="$s/munged.log" --seed-file="$s/munge.seed" ||
		{ why="munged did not start"; return 1; }
	export SLURM_CONF=$s/slurm.conf
	slurmctld -f "$s/slurm.conf" || { why="slurmctld did not start: $(tail -3 "$s/slurmctld.log")"; return 1; }
	slurm_up=1
	slurmd -f "$s/slurm.conf" || { why="slurmd did not start: $(tail -3 "$s/slurmd.log")"; return 1; }
	for _ in $(seq 60); do
		sinfo -h -o %t 2>/dev/null | grep -q idle && return 0
		sleep 0.5
	done
	why="the node did not come up: $(tail -3 "$s/slurmd.log")"
	return 1
}
if start_slurm; then
	"$simvirt" sweep "$spec" --dir "$dir/slurmruns" --emit slurm --mem 256M \
		--time 0:10:00 > /dev/null
	grep -q '^#SBATCH --array=1-8$' "$dir/slurmruns/sweep.sbatch" || fail "the array line"
	sh "$dir/slurmruns/submit.sh" > /dev/null
	for _ in $(seq 240); do
		[ -f "$dir/slurmruns/merged.csv" ] && ! squeue -h 2>/dev/null | grep -q . && break
		sleep 0.5
	done
	[ -f "$dir/slurmruns/merged.csv" ] ||
		fail "Slurm's merge wrote nothing: $(cat "$dir"/slurmruns/slurm/* 2>/dev/null | tail -5)"
	cmp "$dir/local.csv" "$dir/slurmruns/merged.csv" || fail "Slurm's table differs"
	echo "sweep engines: Slurm: ok"
else
	skip "Slurm" "$why"
fi
echo "sweep engines: ok"
