# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# shellcheck shell=bash
#
# bash completion for sgctl: commands (from `sgctl --help`, so it never
# drifts from the tool), options, files, interfaces, network namespaces, and
# group and instance ids of the loaded config (from `sgctl show -j`, which
# needs root: as another user ids are simply not offered).
#
# Installed as $(PREFIX)/share/bash-completion/completions/sgctl.

# The value of --pin-dir on the line, as options for sgctl.
_sgctl_pin_args() {
	local i
	for ((i = 1; i < ${#COMP_WORDS[@]} - 1; i++)); do
		case ${COMP_WORDS[i]} in
		--pin-dir) printf '%s\n' --pin-dir "${COMP_WORDS[i + 1]}" ;;
		--pin-dir=*) printf '%s\n' "${COMP_WORDS[i]}" ;;
		esac
	done
}

# _sgctl_ids KIND: ids of the loaded config; KIND is group, instance or
# interface.
_sgctl_ids() {
	local json pin=()
	mapfile -t pin < <(_sgctl_pin_args)
	json=$("${COMP_WORDS[0]}" show -j "${pin[@]}" 2>/dev/null) || return
	case $1 in
	group) grep -o '"id": *"sg-[^"]*"' <<<"$json" ;;
	instance) grep -oE '"id": *"(i|eni)-[^"]*"' <<<"$json" ;;
	interface) grep -oE '"(interface|ifname)": *"[^"]*"' <<<"$json" ;;
	esac | sed 's/.*: *"\(.*\)"/\1/' | sort -u
}

_sgctl_commands() {
	"${COMP_WORDS[0]}" --help 2>/dev/null |
		awk '/^commands/ { f = 1; next } /^$/ { f = 0 } f && /^  [a-z]/ { print $1 }'
}

# _sgctl_reply WORDS...: each argument may hold several words (ids and
# commands never hold spaces).
_sgctl_reply() {
	local IFS=$' \t\n'
	# shellcheck disable=SC2207 # compgen output, one per line
	COMPREPLY=($(compgen -W "$*" -- "$cur"))
}

_sgctl_files() {
	local IFS=$'\n'
	# shellcheck disable=SC2207
	COMPREPLY=($(compgen -f -X '!*.@(yaml|yml|json)' -- "$cur") $(compgen -d -- "$cur"))
	compopt -o filenames 2>/dev/null
}

_sgctl() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local cmd="" cmdi=0 i w
	local global="--pin-dir -j --json -h --help -V --version"

	# The command: the first word that is not an option or its value.
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if [ "$w" = --pin-dir ]; then
			((i++))
		elif [[ $w != -* ]]; then
			cmd=$w
			cmdi=$i
			break
		fi
	done

	# An abbreviation stands for the one command it names, as in sgctl.
	if [ -n "$cmd" ]; then
		local full
		full=$(_sgctl_commands | awk -v w="$cmd" 'index($0, w) == 1')
		if ! grep -qx -- "$cmd" <<<"$full" && [ -n "$full" ] &&
			[ "$(wc -l <<<"$full")" -eq 1 ]; then
			cmd=$full
		fi
	fi

	case $prev in
	--pin-dir)
		local IFS=$'\n'
		# shellcheck disable=SC2207
		COMPREPLY=($(compgen -d -- "$cur"))
		return
		;;
	--instance | --from | --to) _sgctl_reply "$(_sgctl_ids instance)"; return ;;
	--family) _sgctl_reply 4 6; return ;;
	--config) _sgctl_files; return ;;
	--netns) _sgctl_reply "$(ip netns list 2>/dev/null | awk '{ print $1 }')"; return ;;
	--xdp-mode) _sgctl_reply native generic; return ;;
	--protocol) _sgctl_reply tcp udp icmp icmpv6 all; return ;;
	--remote | --port | --icmp-type | --icmp-code | --window | --max-size | --keep) return ;;
	--group) _sgctl_reply "$(_sgctl_ids group)"; return ;;
	--since) _sgctl_reply 30m 1h 24h 7d 30d; return ;;
	--format) _sgctl_reply "'\${version} \${srcaddr} \${dstaddr} \${action} \${sg-rule-id} \${reason}'"; return ;;
	--output) _sgctl_files; return ;;
	# The edit commands (rule, group, instance).
	--type)
		_sgctl_reply ssh ftp sftp http https rdp smtp smtps pop3 pop3s imap \
			imaps ldap smb dns-tcp dns-udp mysql postgresql mssql oracle \
			redshift nfs winrm-http winrm-https all-traffic all-tcp all-udp \
			all-icmp all-icmpv6
		return
		;;
	--source | --destination | --groups) _sgctl_reply "$(_sgctl_ids group)"; return ;;
	--cacert | --cert | --key | --tls-cert | --tls-key | --client-ca | --password-file)
		local IFS=$'\n'
		# shellcheck disable=SC2207
		COMPREPLY=($(compgen -f -- "$cur"))
		compopt -o filenames 2>/dev/null
		return
		;;
	--listen) _sgctl_reply 127.0.0.1:8080 '[::1]:8080'; return ;;
	--etcd | --vpc | --rule-id | --description | --name | --ips | --host | --interface) return ;;
	esac

	if [ -z "$cmd" ]; then
		local cmds
		cmds=$(_sgctl_commands)
		[ -n "$cmds" ] || cmds="validate load attach detach show unload push check diff stats conntrack flowlog rules audit export bench agent status console"
		_sgctl_reply "$cmds $global"
		return
	fi

	case $cmd in
	validate | load)
		if [ "$prev" = --quota ]; then
			_sgctl_reply rules_per_group= groups_per_instance=
			compopt -o nospace 2>/dev/null
		elif [ "$prev" = --vpc ]; then
			COMPREPLY=()
		elif [[ $cur == -* ]]; then
			_sgctl_reply --vpc --quota "$global"
		else
			_sgctl_files
		fi
		;;
	push)
		if [[ $cur == -* ]]; then
			_sgctl_reply --etcd --cacert --cert --key --vpc --quota "$global"
		else
			_sgctl_files
		fi
		;;
	attach)
		if [[ $cur == -* ]]; then
			_sgctl_reply --all --instance --netns --host-side --xdp-mode "$global"
		else
			_sgctl_reply "$(ls /sys/class/net 2>/dev/null)"
		fi
		;;
	detach)
		if [[ $cur == -* ]]; then
			_sgctl_reply --netns "$global"
		else
			_sgctl_reply "$(_sgctl_ids interface)"
		fi
		;;
	check)
		# After --config FILE, more files; else the options.
		if [[ $cur != -* ]] && [[ " ${COMP_WORDS[*]:cmdi:COMP_CWORD-cmdi} " == *" --config "* ]]; then
			_sgctl_files
		else
			_sgctl_reply --instance --inbound --outbound --protocol \
				--remote --port --icmp-type --icmp-code --config \
				--from --to --family "$global"
		fi
		;;
	diff)
		if [[ $cur == -* ]]; then _sgctl_reply -- "$global"; else _sgctl_files; fi
		;;
	stats) _sgctl_reply --instance --prometheus "$global" ;;
	conntrack)
		# The subcommand comes first; options after it.
		if [[ $cur == -* ]]; then
			_sgctl_reply --instance "$global"
		elif [ "$COMP_CWORD" -eq $((cmdi + 1)) ]; then
			_sgctl_reply list flush
		fi
		;;
	flowlog) _sgctl_reply --instance --follow --window --format --output \
		--max-size --keep "$global" ;;
	rules) _sgctl_reply --group --instance --unused --since "$global" ;;
	audit)
		if [[ $cur == -* ]]; then
			_sgctl_reply "$global"
		elif [ "$COMP_CWORD" -eq $((cmdi + 1)) ]; then
			_sgctl_reply on off
		else
			_sgctl_reply "$(_sgctl_ids group) $(_sgctl_ids instance)"
		fi
		;;
	export)
		if [[ $cur == -* ]]; then
			_sgctl_reply --instance --vpc --quota "$global"
		elif [ "$COMP_CWORD" -eq $((cmdi + 1)) ]; then
			_sgctl_reply nft
		else
			_sgctl_files
		fi
		;;
	agent) _sgctl_reply --etcd --host --vpc --cacert --cert --key "$global" ;;
	status) _sgctl_reply --etcd --vpc --cacert --cert --key "$global" ;;
	console)
		_sgctl_reply --listen --read-only --etcd --cacert --cert --key --vpc \
			--tls-cert --tls-key --client-ca --password-file "$global"
		;;
	rule | group | instance)
		# The subcommand comes first; then an id and the options.
		local edit="--etcd --cacert --cert --key --vpc" sub=${COMP_WORDS[cmdi + 1]:-}
		if [ "$COMP_CWORD" -eq $((cmdi + 1)) ]; then
			case $cmd in
			rule) _sgctl_reply add delete ;;
			group) _sgctl_reply create delete ;;
			instance) _sgctl_reply add set-groups remove ;;
			esac
		elif [[ $cur == -* ]]; then
			case $cmd in
			rule)
				_sgctl_reply --inbound --outbound --type --protocol --port \
					--icmp-type --icmp-code --source --destination \
					--description --rule-id "$edit" "$global"
				;;
			group) _sgctl_reply --name --description "$edit" "$global" ;;
			instance)
				_sgctl_reply --ips --groups --host --interface --netns \
					--host-side "$edit" "$global"
				;;
			esac
		elif [ "$cmd" = instance ] && [ "$sub" != add ] &&
			[ "$COMP_CWORD" -eq $((cmdi + 2)) ]; then
			_sgctl_reply "$(_sgctl_ids instance)"
		elif [ "$cmd" = instance ] && [ "$sub" = set-groups ]; then
			_sgctl_reply "$(_sgctl_ids group)"
		elif [ "$cmd" != instance ] && [ "$sub" != create ]; then
			_sgctl_reply "$(_sgctl_ids group)"
		fi
		;;
	show | unload) _sgctl_reply "$global" ;;
	*) _sgctl_reply "$global" ;;
	esac
}
complete -F _sgctl sgctl
