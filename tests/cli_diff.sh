#!/usr/bin/env bash
# simvirt diff: the configuration keys that differ come first, then the
# counters; the filters choose; --format json is whole; reports of a newer
# schema are refused and schema 1 reports still read.
set -euo pipefail
simvirt=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "cli diff: $*" >&2; exit 1; }
"$simvirt" run --set memslot.data.size=16M --format json --out "$dir/a.json"
"$simvirt" run --set memslot.data.size=16M --set vm.kernel_version=6.13 \
	--format json --out "$dir/b.json"

# kernel_version is the one configuration key that differs, printed before
# any counter; status 1 because something differs.
status=0
"$simvirt" diff "$dir/a.json" "$dir/b.json" > "$dir/d.txt" || status=$?
[ "$status" = 1 ] || fail "status $status for differing reports"
grep -q '^configuration: 1 key differs$' "$dir/d.txt" || fail "no config count"
config_line=$(grep -n 'vm.kernel_version  *6.12  *6.13' "$dir/d.txt" | cut -d: -f1)
first_counter=$(grep -n '^  total ' "$dir/d.txt" | head -1 | cut -d: -f1)
[ -n "$config_line" ] && [ "$config_line" -lt "$first_counter" ] ||
	fail "kernel_version not printed before the counters"

# 6.13 rebuilds the 16M / 2M = 8 huge SPTEs in place where 6.12 zaps their
# 8 tables (docs/kvm-reference.md scenario 17); the filters keep just those.
"$simvirt" diff "$dir/a.json" "$dir/b.json" --scope vm --phase re-touch \
	--counter 'zap_*,recover_*' > "$dir/f.txt" || true
grep -q '^counters: 2 differ$' "$dir/f.txt" || fail "filtered count"
grep -Eq '^  re-touch +vm +zap_table +8 +0 +-8 +-100.0%$' "$dir/f.txt" ||
	fail "zap_table row"
grep -Eq '^  re-touch +vm +recover_2m +0 +8 +\+8 +new$' "$dir/f.txt" ||
	fail "recover_2m row"
# --min-change: the cycles of the whole run move by less than 1%
"$simvirt" diff "$dir/a.json" "$dir/b.json" --phase total --counter cycles \
	--min-change 1 > "$dir/m.txt" || true
grep -q '^counters: 0 differ$' "$dir/m.txt" || fail "--min-change"
"$simvirt" diff "$dir/a.json" "$dir/b.json" --phase total --counter cycles \
	--min-change 0 > "$dir/m.txt" || true
grep -q '^counters: 2 differ$' "$dir/m.txt" || fail "--min-change 0"

# JSON for scripts: the same two rows
"$simvirt" diff "$dir/a.json" "$dir/b.json" --scope vm --phase 4 \
	--counter 'zap_*,recover_*' --format json > "$dir/d.json" || true
grep -q '"key" : "vm.kernel_version"' "$dir/d.json" || fail "json config"
[ "$(grep -c '"counter" :' "$dir/d.json")" = 2 ] || fail "json counters"
grep -q '"change_percent" : -100.0' "$dir/d.json" || fail "json change"

# Identical reports: status 0
"$simvirt" diff "$dir/a.json" "$dir/a.json" > "$dir/same.txt" ||
	fail "identical reports differ"
grep -q '^counters: 0 differ$' "$dir/same.txt" || fail "identical count"

# Bad input: status 2 with a message naming what is wrong
expect2() {
	local want=$1; shift
	status=0
	"$simvirt" diff "$@" > /dev/null 2> "$dir/err.txt" || status=$?
	[ "$status" = 2 ] || fail "status $status for: $*"
	grep -q -- "$want" "$dir/err.txt" || fail "no '$want' for: $*"
}
sed 's/"schema": 2/"schema": 3/' "$dir/a.json" > "$dir/new.json"
expect2 'report schema 3: simvirt .* reads schemas 1 to 2' "$dir/a.json" "$dir/new.json"
echo '{"x": 1}' > "$dir/other.json"
expect2 'not a simvirt report' "$dir/a.json" "$dir/other.json"
expect2 "no report has a phase 'nope'" "$dir/a.json" "$dir/b.json" --phase nope
expect2 "no counter matches 'nope'" "$dir/a.json" "$dir/b.json" --counter nope
expect2 "expected vm, vcpu, vcpuN, host, audit or guest, got 'cpu'" "$dir/a.json" "$dir/b.json" --scope cpu
expect2 "expected a percentage of 0 or more, got '-1'" "$dir/a.json" "$dir/b.json" --min-change=-1
expect2 'expected table or json' "$dir/a.json" "$dir/b.json" --format csv

# A schema 1 report (no configuration) still compares, and says so
sed -e 's/"schema": 2/"schema": 1/' -e '/^  "config": {$/,/^  },$/d' \
	"$dir/a.json" > "$dir/old.json"
grep -q '"config"' "$dir/old.json" && fail "config left in the schema 1 report"
"$simvirt" diff "$dir/old.json" "$dir/a.json" > "$dir/o.txt" || true
grep -q 'schema 1 report carries no configuration' "$dir/o.txt" || fail "schema 1"
grep -q '^counters: 0 differ$' "$dir/o.txt" || fail "schema 1 counters"
echo "cli diff: ok"
