#!/usr/bin/env bash
# simvirt sweep and merge: the runs a sweep file makes, their ids, and
# every mistake in a sweep file caught before anything runs (status 2,
# the file, the group and key, what was expected).
set -euo pipefail
simvirt=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "cli sweep: FAIL: $*" >&2; exit 1; }
cd "$dir"

cat > s.ini <<'INI'
[sweep]
scenarios = default
set = memslot.data.size=4M
[grid]
vm.kernel_version = 6.12; 6.13
[zip.w]
guest.workload = touch; stream; random
guest.passes = 3; 2; 1
guest.count = 0; 0; 100
INI
# 2 kernels x 3 zipped points = 6 runs, the first axis slowest
"$simvirt" sweep s.ini --list > list.txt
[ "$(wc -l < list.txt)" = 6 ] || fail "$(cat list.txt)"
sed -n 1p list.txt | grep -q 'pending  default  vm.kernel_version=6.12 guest.workload=touch guest.passes=3 guest.count=0$' || fail "first run"
sed -n 4p list.txt | grep -q 'vm.kernel_version=6.13 guest.workload=touch guest.passes=3 guest.count=0$' || fail "fourth run"
"$simvirt" sweep s.ini --jobs 2 > out.txt
# the run directory defaults to NAME.runs beside the file; a run's id is
# the first 16 hex digits of its configuration's SHA-256
for id in $(cut -f1 s.runs/runs.tsv | tail -n +2); do
	[ "$(sha256sum < "s.runs/$id/scenario.ini" | cut -c1-16)" = "$id" ] || fail "id $id"
	grep -q '"end": "halted"' "s.runs/$id/report.json" || fail "report $id"
done
# the configuration a run reports is the scenario.ini it ran
id=$(sed -n 2p s.runs/runs.tsv | cut -f1)
grep -q '"kernel_version": "6.12"' "s.runs/$id/report.json" || fail "config in report"
# merge: the swept keys are the configuration columns; JSON lines too
"$simvirt" merge s.runs > m.csv
head -1 m.csv | grep -q '^run,vm.kernel_version,guest.workload,guest.passes,guest.count,end,phase,' || fail "$(head -1 m.csv)"
"$simvirt" merge s.runs --counter pages_2m --scope vm --phase total --out m.jsonl
[ "$(wc -l < m.jsonl)" = 6 ] || fail "jsonl rows: $(wc -l < m.jsonl)"
grep -q '^{"run": "[0-9a-f]*", "vm.kernel_version": "6.12", "guest.workload": "touch", "guest.passes": "3", "guest.count": "0", "end": "halted", "phase": "total", "phase_index": 0, "scope": "vm", "counter": "pages_2m", "value": 2}$' m.jsonl ||
	fail "jsonl: $(head -1 m.jsonl)"
# (the default scenario's three passes end with its 4M / 2M = 2 huge
# SPTEs back after dirty logging: docs/kvm-reference.md scenario 17)
"$simvirt" merge s.runs --all-config --counter pages_2m --scope vm --phase total > all.csv
[ "$(head -1 all.csv | tr ',' '\n' | grep -c '^vm\.')" -gt 10 ] || fail "--all-config"

# Two points with one configuration (4M and 4096K are one size) are one
# run, and the sweep says so.
cat > dup.ini <<'INI'
[grid]
memslot.data.size = 4M; 4096K
INI
"$simvirt" sweep dup.ini --jobs 1 > out.txt 2> err.txt
grep -q ': 1 runs in ' out.txt || fail "duplicate points: $(cat out.txt)"
grep -q '1 point of the axes make a configuration another point makes' err.txt ||
	fail "duplicates not said: $(cat err.txt)"

# Mistakes: status 2, nothing run
expect2() {
	local want=$1; shift
	local status=0
	"$simvirt" "$@" > /dev/null 2> err.txt || status=$?
	[ "$status" = 2 ] || fail "status $status for: $*"
	grep -q -- "$want" err.txt || fail "no '$want' for $*: $(cat err.txt)"
}
bad() {  # bad WANT TEXT
	printf '%b' "$2" > bad.ini
	expect2 "$1" sweep bad.ini
	[ ! -d bad.runs ] || fail "a bad sweep made its run directory"
}
bad "\[vm\]: unknown group (expected \[sweep\], \[grid\] or \[zip.NAME\])" '[vm]\nvcpus=2\n'
bad "\[sweep\] jobs: unknown key" '[sweep]\njobs=2\n'
bad "\[zip.a\] guest.passes: 2 values, but guest.workload has 3" '[zip.a]\nguest.workload=touch;stream;random\nguest.passes=1;2\n'
bad "\[grid\] vm.vcpus: the key is given twice" '[sweep]\nset=vm.vcpus=2\n[grid]\nvm.vcpus=1;2\n'
bad "\[grid\] vcpus: expected a scenario key as GROUP.KEY" '[grid]\nvcpus=1;2\n'
bad "\[grid\] vm.vcpus: expected a ';'-separated list of values, got nothing" '[grid]\nvm.vcpus= ; \n'
bad "\[sweep\] set: expected GROUP.KEY=VALUE, got 'vm.vcpus'" '[sweep]\nset=vm.vcpus\n'
bad "the run of default with vm.tdp=svm: .*\[vm\] tdp: expected ept or npt, got 'svm'" '[grid]\nvm.tdp=ept;svm\n'
bad "scenario .*nope.ini: No such file" '[sweep]\nscenarios=nope.ini\n'
bad "bad.ini: line 4: \[grid\] vm.vcpus a second time" '[grid]\nvm.vcpus=1;2\n# again\nvm.vcpus = 4\n'
bad "bad.ini: line 3: \[grid\] a second time" '[grid]\nvm.vcpus=1;2\n[grid]\nvm.tdp=ept\n'
bad "bad.ini: line 3: expected \[GROUP\], KEY = VALUE or a # comment, got 'this is not a key file'" '[sweep]\n# a comment\nthis is not a key file\n'
expect2 "expected parallel or slurm, got 'make'" sweep s.ini --emit make
expect2 "expected one sweep file" sweep
expect2 "sweep file nope.ini: No such file" sweep nope.ini
expect2 "expected a sweep's run directory, got nope" merge nope
expect2 "expected csv or jsonl" merge s.runs --format xml
expect2 "no counter matches 'nope'" merge s.runs --counter nope
echo "cli sweep: ok"
