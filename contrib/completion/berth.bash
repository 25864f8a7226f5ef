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
	[container]="attach create exec inspect kill logs ls pause rename restart rm run start stop unpause wait"
)
_berth_subcommands[berth]+=" attach container create exec inspect kill logs pause ps rename restart rm run start stop unpause wait"

declare -gA _berth_flags=(
	[berth]="--config= -D --debug -H= --host= -l= --log-level= --tls --tlscacert= --tlscert= --tlskey= --tlsverify -v --version --help"
	[version]="-f= --format= --help"
	[info]="-f= --format= --help"
	[events]="-f= --filter= --format= --since= --until= --help"
	[system]="--help"
	[system info]="-f= --format= --help"
	[system events]="-f= --filter= --format= --since= --until= --help"
	[help]=""
	[container]="--help"
	[attach]="--detach-keys= --no-stdin --sig-proxy --help"
	[create]="--add-host= --annotation= -a= --attach= --blkio-weight= --blkio-weight-device= --cap-add= --cap-drop= --cgroup-parent= --cgroupns= --cidfile= --cpu-period= --cpu-quota= --cpu-rt-period= --cpu-rt-runtime= -c= --cpu-shares= --cpus= --cpuset-cpus= --cpuset-mems= --device= --device-cgroup-rule= --device-read-bps= --device-read-iops= --device-write-bps= --device-write-iops= --disable-content-trust --dns= --dns-option= --dns-search= --domainname= --entrypoint= -e= --env= --env-file= --expose= --gpus= --group-add= --health-cmd= --health-interval= --health-retries= --health-start-interval= --health-start-period= --health-timeout= --help -h= --hostname= --init -i --interactive --ip= --ip6= --ipc= --isolation= --kernel-memory= -l= --label= --label-file= --link= --link-local-ip= --log-driver= --log-opt= --mac-address= -m= --memory= --memory-reservation= --memory-swap= --memory-swappiness= --mount= --name= --network= --network-alias= --no-healthcheck --oom-kill-disable --oom-score-adj= --pid= --pids-limit= -1 --platform= --privileged -p= --publish= -P --publish-all --pull= -q --quiet --read-only --restart= --rm --runtime= --security-opt= --shm-size= --stop-signal= --stop-timeout= --storage-opt= --sysctl= --tmpfs= -t --tty --ulimit= --use-api-socket -u= --user= --userns= --uts= -v= --volume= --volume-driver= --volumes-from= -w= --workdir= --help"
	[exec]="-d --detach --detach-keys= -e= --env= --env-file= -i --interactive --privileged -t --tty -u= --user= -w= --workdir= --help"
	[inspect]="-f= --format= -s --size --type= --help"
	[kill]="-s= --signal= --help"
	[logs]="--details -f --follow --since= -n= --tail= -t --timestamps --until= --help"
	[ps]="-a --all -f= --filter= --format= -n= --last= -l --latest --no-trunc -q --quiet -s --size --help"
	[pause]="--help"
	[rename]="--help"
	[restart]="-s= --signal= -t= --timeout= --help"
	[rm]="-f --force -l --link -v --volumes --help"
	[run]="--add-host= --annotation= -a= --attach= --blkio-weight= --blkio-weight-device= --cap-add= --cap-drop= --cgroup-parent= --cgroupns= --cidfile= --cpu-period= --cpu-quota= --cpu-rt-period= --cpu-rt-runtime= -c= --cpu-shares= --cpus= --cpuset-cpus= --cpuset-mems= -d --detach --detach-keys= --device= --device-cgroup-rule= --device-read-bps= --device-read-iops= --device-write-bps= --device-write-iops= --disable-content-trust --dns= --dns-option= --dns-search= --domainname= --entrypoint= -e= --env= --env-file= --expose= --gpus= --group-add= --health-cmd= --health-interval= --health-retries= --health-start-interval= --health-start-period= --health-timeout= --help -h= --hostname= --init -i --interactive --ip= --ip6= --ipc= --isolation= --kernel-memory= -l= --label= --label-file= --link= --link-local-ip= --log-driver= --log-opt= --mac-address= -m= --memory= --memory-reservation= --memory-swap= --memory-swappiness= --mount= --name= --network= --network-alias= --no-healthcheck --oom-kill-disable --oom-score-adj= --pid= --pids-limit= -1 --platform= --privileged -p= --publish= -P --publish-all --pull= -q --quiet --read-only --restart= --rm --runtime= --security-opt= --shm-size= --sig-proxy --stop-signal= --stop-timeout= --storage-opt= --sysctl= --tmpfs= -t --tty --ulimit= --use-api-socket -u= --user= --userns= --uts= -v= --volume= --volume-driver= --volumes-from= -w= --workdir= --help"
	[start]="-a --attach --detach-keys= -i --interactive --help"
	[stop]="-s= --signal= -t= --timeout= --help"
	[unpause]="--help"
	[wait]="--help"
	[container attach]="--detach-keys= --no-stdin --sig-proxy --help"
	[container create]="--add-host= --annotation= -a= --attach= --blkio-weight= --blkio-weight-device= --cap-add= --cap-drop= --cgroup-parent= --cgroupns= --cidfile= --cpu-period= --cpu-quota= --cpu-rt-period= --cpu-rt-runtime= -c= --cpu-shares= --cpus= --cpuset-cpus= --cpuset-mems= --device= --device-cgroup-rule= --device-read-bps= --device-read-iops= --device-write-bps= --device-write-iops= --disable-content-trust --dns= --dns-option= --dns-search= --domainname= --entrypoint= -e= --env= --env-file= --expose= --gpus= --group-add= --health-cmd= --health-interval= --health-retries= --health-start-interval= --health-start-period= --health-timeout= --help -h= --hostname= --init -i --interactive --ip= --ip6= --ipc= --isolation= --kernel-memory= -l= --label= --label-file= --link= --link-local-ip= --log-driver= --log-opt= --mac-address= -m= --memory= --memory-reservation= --memory-swap= --memory-swappiness= --mount= --name= --network= --network-alias= --no-healthcheck --oom-kill-disable --oom-score-adj= --pid= --pids-limit= -1 --platform= --privileged -p= --publish= -P --publish-all --pull= -q --quiet --read-only --restart= --rm --runtime= --security-opt= --shm-size= --stop-signal= --stop-timeout= --storage-opt= --sysctl= --tmpfs= -t --tty --ulimit= --use-api-socket -u= --user= --userns= --uts= -v= --volume= --volume-driver= --volumes-from= -w= --workdir= --help"
	[container exec]="-d --detach --detach-keys= -e= --env= --env-file= -i --interactive --privileged -t --tty -u= --user= -w= --workdir= --help"
	[container inspect]="-f= --format= -s --size --help"
	[container kill]="-s= --signal= --help"
	[container logs]="--details -f --follow --since= -n= --tail= -t --timestamps --until= --help"
	[container ls]="-a --all -f= --filter= --format= -n= --last= -l --latest --no-trunc -q --quiet -s --size --help"
	[container pause]="--help"
	[container rename]="--help"
	[container restart]="-s= --signal= -t= --timeout= --help"
	[container rm]="-f --force -l --link -v --volumes --help"
	[container run]="--add-host= --annotation= -a= --attach= --blkio-weight= --blkio-weight-device= --cap-add= --cap-drop= --cgroup-parent= --cgroupns= --cidfile= --cpu-period= --cpu-quota= --cpu-rt-period= --cpu-rt-runtime= -c= --cpu-shares= --cpus= --cpuset-cpus= --cpuset-mems= -d --detach --detach-keys= --device= --device-cgroup-rule= --device-read-bps= --device-read-iops= --device-write-bps= --device-write-iops= --disable-content-trust --dns= --dns-option= --dns-search= --domainname= --entrypoint= -e= --env= --env-file= --expose= --gpus= --group-add= --health-cmd= --health-interval= --health-retries= --health-start-interval= --health-start-period= --health-timeout= --help -h= --hostname= --init -i --interactive --ip= --ip6= --ipc= --isolation= --kernel-memory= -l= --label= --label-file= --link= --link-local-ip= --log-driver= --log-opt= --mac-address= -m= --memory= --memory-reservation= --memory-swap= --memory-swappiness= --mount= --name= --network= --network-alias= --no-healthcheck --oom-kill-disable --oom-score-adj= --pid= --pids-limit= -1 --platform= --privileged -p= --publish= -P --publish-all --pull= -q --quiet --read-only --restart= --rm --runtime= --security-opt= --shm-size= --sig-proxy --stop-signal= --stop-timeout= --storage-opt= --sysctl= --tmpfs= -t --tty --ulimit= --use-api-socket -u= --user= --userns= --uts= -v= --volume= --volume-driver= --volumes-from= -w= --workdir= --help"
	[container start]="-a --attach --detach-keys= -i --interactive --help"
	[container stop]="-s= --signal= -t= --timeout= --help"
	[container unpause]="--help"
	[container wait]="--help"
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
