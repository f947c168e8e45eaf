#!/bin/sh
# Redraws the handouts' pictures from the shipped scenarios with the
# simvirt command (same scenario, same picture: runs are deterministic;
# the text is drawn in DejaVu Sans, fonts-dejavu-core).  tests/
# docs_pictures.sh draws them into a scratch directory and compares.
# Usage: docs/labs/make-pictures.sh [BUILD_DIR [OUT_DIR]]
#        (default: build, docs/labs/img)
set -eu
cd "$(dirname "$0")/../.."
sv=$(realpath "${1:-build}")/tools/simvirt/simvirt
img=${2:-docs/labs/img}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$sv" walk scenarios/walk-lab.ini --gva 0x40000000 --cold --svg "$img/walk-lab-cold.png" >/dev/null
plot() { # NAME SCENARIO [--set ...]
	name=$1
	shift
	"$sv" run "$@" --format json --out "$tmp/$name.json"
	"$sv" plot "$tmp/$name.json" --out "$img/$name.png"
}
# 6.12 and 6.13 side by side: one picture of two reports
"$sv" run scenarios/kpt-thp.ini --set memslot.data.size=64M --format json --out "$tmp/kpt-thp-6.12.json"
"$sv" run scenarios/kpt-thp.ini --set memslot.data.size=64M --set vm.kernel_version=6.13 --format json --out "$tmp/kpt-thp-6.13.json"
"$sv" plot "$tmp/kpt-thp-6.12.json" "$tmp/kpt-thp-6.13.json" --out "$img/kpt-thp-6.12-6.13.png"
plot dirty-log-split scenarios/dirty-log-split.ini --set memslot.data.size=64M
plot tlb-conflict scenarios/tlb-conflict.ini
plot b5-hugetlb-recollapse scenarios/b5-hugetlb-recollapse.ini --set memslot.data.size=64M
plot dax-pmd-legacy scenarios/dax-pmd.ini --set memslot.data.size=64M --set vm.policy=kvm-legacy --set vm.bugs=B6
plot default --set memslot.data.size=64M
plot kpt-hugetlb-1g scenarios/kpt-hugetlb-1g.ini
