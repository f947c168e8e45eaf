#!/usr/bin/env bash
# The bash completion offers what the command says it takes: commands,
# options, formats, and scenario keys after --set.
# Usage: tests/completion.sh SIMVIRT COMPLETION_SCRIPT
set -euo pipefail
sv=$1
# shellcheck disable=SC1090
source "$2"
fail() { echo "completion: FAIL: $*" >&2; exit 1; }
offers() { # WANT WORD...: completing the last word offers WANT
	local want=$1; shift
	COMP_WORDS=("$sv" "$@")
	COMP_CWORD=$(($# ))
	COMPREPLY=()
	_simvirt
	printf '%s\n' "${COMPREPLY[@]}" | grep -qx -- "$want" ||
		fail "'simvirt $*' does not offer '$want' (offers: ${COMPREPLY[*]:-nothing})"
}
offers sweep sw
offers merge m
offers calibrate cal
offers --check calibrate --ch
offers --counter diff --cou
offers --emit sweep --em
offers vm.kernel_version= run --set vm.kern
offers memslot.NAME.backing= run --set memslot.NAME.ba
offers jsonl merge --format js
offers csv run --format c
offers slurm sweep --emit s
offers dump trace d
offers exec ex
offers --khugepaged exec --khu
# diff takes no csv
COMP_WORDS=("$sv" diff --format c); COMP_CWORD=3; COMPREPLY=(); _simvirt
[ ${#COMPREPLY[@]} = 0 ] || fail "diff --format offers ${COMPREPLY[*]}"
echo "completion: ok"
