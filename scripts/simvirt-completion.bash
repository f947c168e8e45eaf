# bash completion for simvirt.  Everything it offers comes from the
# command itself, so it cannot drift: the commands from `simvirt --help`,
# each command's options from `simvirt COMMAND --help`, and after --set the
# scenario keys from `simvirt list --keys` (as GROUP.KEY=).
_simvirt() {
	local sv=${COMP_WORDS[0]} cur=${COMP_WORDS[COMP_CWORD]}
	local prev=${COMP_WORDS[COMP_CWORD - 1]} cmd=${COMP_WORDS[1]:-} words
	if [ "$COMP_CWORD" -eq 1 ]; then
		words=$("$sv" --help 2>/dev/null |
			awk '/^Commands:/ { f = 1; next } f && /^  [a-z]/ { print $1 } f && !NF { f = 0 }')
		mapfile -t COMPREPLY < <(compgen -W "$words help" -- "$cur")
		return
	fi
	case $prev in
	--set | -s)
		words=$("$sv" list --keys 2>/dev/null |
			awk '{ g = $1; gsub(/[][]/, "", g); print g "." $2 "=" }')
		mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
		compopt -o nospace 2>/dev/null || true
		return
		;;
	--format | -f)
		# the formats this command's --help names
		local line f
		line=$("$sv" "$cmd" --help 2>/dev/null | grep -- '--format')
		words=
		for f in table json csv jsonl; do
			[[ $line =~ (^|[^a-z])$f([^a-z]|$) ]] && words="$words $f"
		done
		mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
		return
		;;
	--emit | -e)
		mapfile -t COMPREPLY < <(compgen -W "parallel slurm" -- "$cur")
		return
		;;
	--thp)
		mapfile -t COMPREPLY < <(compgen -W "never madvise always" -- "$cur")
		return
		;;
	--mmu)
		mapfile -t COMPREPLY < <(compgen -W "tdp shadow" -- "$cur")
		return
		;;
	esac
	if [[ $cur == -* ]]; then
		words=$("$sv" "$cmd" --help 2>/dev/null | grep -oE -- '--[a-z][a-z-]*' | sort -u)
		mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
		return
	fi
	[ "$cmd" = trace ] && [ "$COMP_CWORD" -eq 2 ] && {
		mapfile -t COMPREPLY < <(compgen -W "dump run" -- "$cur")
		return
	}
	mapfile -t COMPREPLY < <(compgen -f -- "$cur")
}
complete -o filenames -o bashdefault -F _simvirt simvirt
