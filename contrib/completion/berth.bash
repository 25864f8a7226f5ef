# bash completion for berth(1)                               -*- shell-script -*-
#
# Install as /usr/share/bash-completion/completions/berth (`make install` does).
#
# Commands are data: a new command is one entry in _berth_subcommands (where
# it can be typed) and one in _berth_flags (what it accepts). A flag that
# takes a value is written with a trailing "=" ("--since="); its values come
# from _berth_complete_value.

# The commands each command path leads to; "berth" is the top level.
declare -gA _berth_subcommands=(
	[berth]="events help info system version"
	[system]="events info"
)

declare -gA _berth_flags=(
	[berth]="--config= -D --debug -H= --host= -l= --log-level= --tls --tlscacert= --tlscert= --tlskey= --tlsverify -v --version --help"
	[version]="-f= --format= --help"
	[info]="-f= --format= --help"
	[events]="-f= --filter= --format= --since= --until= --help"
	[system]="--help"
	[system info]="-f= --format= --help"
	[system events]="-f= --filter= --format= --since= --until= --help"
	[help]=""
)

# Filter keys accepted by `events --filter`.
_berth_event_filters="config= container= daemon= event= image= label= network= node= plugin= scope= secret= service= type= volume="
_berth_event_types="builder config container daemon image network node plugin secret service volume"

# Values of flag $1 of command path $2 ($cur is the word being completed).
_berth_complete_value()
{
	local flag=$1 path=$2
	case "$flag" in
	--config)
		_filedir -d ;;
	--tlscacert|--tlscert|--tlskey)
		_filedir pem ;;
	-H|--host)
		COMPREPLY=($(compgen -W "unix:// tcp://" -- "$cur"))
		compopt -o nospace ;;
	-l|--log-level)
		COMPREPLY=($(compgen -W "debug info warn error fatal" -- "$cur")) ;;
	--format)
		COMPREPLY=($(compgen -W "json" -- "$cur")) ;;
	-f|--filter)
		case "$path" in
		*events)
			case "$cur" in
			type=*)
				COMPREPLY=($(compgen -P type= -W "$_berth_event_types" -- "${cur#type=}")) ;;
			*)
				COMPREPLY=($(compgen -W "$_berth_event_filters" -- "$cur"))
				compopt -o nospace ;;
			esac ;;
		esac ;;
	esac
}

# Does flag $1 take a value in command path $2?
_berth_takes_value()
{
	local f
	for f in ${_berth_flags[$2]}; do
		[[ $f == "$1=" ]] && return 0
	done
	return 1
}

_berth()
{
	local cur prev words cword
	_init_completion -n =: || return

	# Walk the words before the cursor: global flags, then the command path.
	local path=berth i w
	for ((i = 1; i < cword; i++)); do
		w=${words[i]}
		if [[ $w == -* ]]; then
			[[ $w != *=* ]] && _berth_takes_value "$w" "$path" && ((i++))
			continue
		fi
		local sub=" ${_berth_subcommands[$path]} "
		if [[ $sub == *" $w "* ]]; then
			[[ $path == berth ]] && path=$w || path="$path $w"
		fi
	done

	# A value for the flag before the cursor: "--since <TAB>" or "--since=<TAB>".
	if [[ $cur == --*=* ]]; then
		prev=${cur%%=*}
		cur=${cur#*=}
		_berth_complete_value "$prev" "$path"
		COMPREPLY=("${COMPREPLY[@]/#/$prev=}")
		return
	fi
	if [[ $prev == -* ]] && _berth_takes_value "$prev" "$path"; then
		_berth_complete_value "$prev" "$path"
		return
	fi

	if [[ $cur == -* ]]; then
		local flags=${_berth_flags[$path]}
		COMPREPLY=($(compgen -W "${flags//=/}" -- "$cur"))
		return
	fi
	if [[ $path == help ]]; then
		COMPREPLY=($(compgen -W "${_berth_subcommands[berth]}" -- "$cur"))
		return
	fi
	if [[ -n ${_berth_subcommands[$path]+set} ]]; then
		COMPREPLY=($(compgen -W "${_berth_subcommands[$path]}" -- "$cur"))
	fi
}

complete -F _berth berth
