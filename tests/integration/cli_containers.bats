#!/usr/bin/env bats
# bin/berth's container commands against a private berthd: run, create,
# start/stop/kill/..., ps, logs, attach, exec, inspect; TTYs through script(1);
# and create requests compared with the docker CLI's on a recording socket.

load ../helpers

bats_require_minimum_version 1.5.0

setup_file() {
	berth_start
	busybox_image busybox:latest
}

teardown_file() {
	if [ -n "${BERTH_SOCK:-}" ] && kill -0 "${BERTHD_PID:-0}" 2>/dev/null; then
		"$BERTH" ps -aq | xargs -r "$BERTH" rm -f >/dev/null 2>&1 || true
	fi
	berth_stop
}

# Every test leaves no container behind, whatever happened.
teardown() {
	if [ -n "${REC_PID:-}" ]; then
		kill "$REC_PID" 2>/dev/null || true
		wait "$REC_PID" 2>/dev/null || true
	fi
	"$BERTH" ps -aq | xargs -r "$BERTH" rm -f >/dev/null 2>&1 || true
}

# ------------------------------------------------------------------- run

@test "berth run --rm echo hi leaves nothing behind" {
	run "$BERTH" run --rm busybox echo hi
	[ "$status" -eq 0 ]
	[ "$output" = hi ]
	[ -z "$("$BERTH" ps -aq)" ]
}

@test "berth run exits with the container's code; stdout and stderr stay apart" {
	run "$BERTH" run --rm busybox sh -c 'exit 3'
	[ "$status" -eq 3 ]
	run bash -c "'$BERTH' run --rm busybox sh -c 'echo out; echo err >&2' 2>/dev/null"
	[ "$output" = out ]
	run bash -c "'$BERTH' run --rm busybox sh -c 'echo out; echo err >&2' 2>&1 >/dev/null"
	[ "$output" = err ]
	run bash -c "'$BERTH' run --rm -a stderr busybox sh -c 'echo out; echo err >&2'"
	[ "$output" = err ]
}

@test "berth run: 127 for a missing command, 126 for one that cannot run, 125 for the daemon" {
	run -127 "$BERTH" run --rm busybox /no/such/binary
	[[ "$output" == "berth: Error response from daemon: "*"no such file or directory"* ]]
	run "$BERTH" run --rm busybox /etc
	[ "$status" -eq 126 ]
	[[ "$output" == *"permission denied"* ]]
	run "$BERTH" run --rm no-such-image
	[ "$status" -eq 125 ]
	[[ "${lines[0]}" == "Unable to find image 'no-such-image:latest' locally" ]]
	[[ "$output" == *"berth: Error response from daemon: "* ]]
	[[ "$output" == *"Run 'berth run --help' for more information"* ]]
	run "$BERTH" run --pull never --rm no-such-image
	[ "$status" -eq 125 ]
	[[ "$output" != *"Unable to find image"* ]]
	[ -z "$("$BERTH" ps -aq)" ]
}

@test "berth run: flag errors are 125 with docker's messages" {
	run "$BERTH" run -m 3x busybox
	[ "$status" -eq 125 ]
	[ "${lines[0]}" = "invalid argument \"3x\" for \"-m, --memory\" flag: invalid suffix: 'x'" ]
	run "$BERTH" run --rm --restart always busybox
	[ "$status" -eq 125 ]
	[ "${lines[0]}" = "berth: conflicting options: cannot specify both --restart and --rm" ]
	run "$BERTH" run --health-interval 5x busybox
	[ "$status" -eq 125 ]
	[[ "$output" == *'time: unknown unit "x" in duration "5x"'* ]]
	run "$BERTH" run -d -a stdout busybox
	[ "$status" -eq 1 ]
	[ "$output" = "conflicting options: cannot specify both --attach and --detach" ]
	run "$BERTH" run
	[ "$status" -eq 1 ]
	[[ "${lines[0]}" == "berth: 'berth run' requires at least 1 argument" ]]
	[ -z "$("$BERTH" ps -aq)" ]
}

@test "berth run: flags after the image belong to the command" {
	run "$BERTH" run --rm busybox echo -m 1 --rm
	[ "$status" -eq 0 ]
	[ "$output" = "-m 1 --rm" ]
}

@test "berth run -i copies a piped stdin and closes it at EOF" {
	run bash -c "printf 'one\ntwo\n' | '$BERTH' run --rm -i busybox cat"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'one\ntwo')" ]
	run bash -c "head -c 300000 /dev/zero | '$BERTH' run --rm -i busybox wc -c"
	[ "$output" = 300000 ]
}

@test "berth run -it without a terminal is refused" {
	run bash -c "'$BERTH' run --rm -it busybox true </dev/null"
	[ "$status" -eq 1 ]
	[ "$output" = "the input device is not a TTY" ]
}

@test "berth run -t gets a TTY of the terminal's size" {
	run script -qec "stty cols 91 rows 27; '$BERTH' run --rm -it busybox sh -c 'tty; stty size'" /dev/null </dev/null
	[ "$status" -eq 0 ]
	[[ "$output" == *"/dev/pts/"* ]]
	[[ "$output" == *"27 91"* ]]
	# the terminal is back in cooked mode afterwards
	run script -qec "stty cols 80 rows 24; '$BERTH' run --rm -it busybox true; stty -a | grep -o ' icanon '" /dev/null </dev/null
	[[ "$output" == *" icanon "* ]]
}

@test "berth run -it: typed input, ctrl-p ctrl-q detaches, attach comes back" {
	run bash -c "(sleep 1; printf 'echo typed-\$((6*7))\r'; sleep 1; printf '\020\021'; sleep 1) |
		script -qec \"stty cols 80 rows 24; '$BERTH' run -it --name tty1 busybox sh\" /dev/null"
	[ "$status" -eq 0 ]
	[[ "$output" == *"typed-42"* ]]
	[ "$("$BERTH" inspect -f '{{.State.Running}}' tty1)" = true ]
	"$BERTH" rm -f tty1
	"$BERTH" run -dit --name tty2 busybox sh
	run bash -c "(sleep 1; printf 'echo back-\$((6*7))\r'; sleep 1; printf 'exit 7\r'; sleep 1) |
		script -qec \"stty cols 80 rows 24; '$BERTH' attach tty2\" /dev/null"
	[[ "$output" == *"back-42"* ]]
	[ "$("$BERTH" wait tty2)" = 7 ]
}

@test "berth run -d prints the ID; logs, logs -f, --tail, -t" {
	id=$("$BERTH" run -d busybox sh -c 'for i in 1 2 3; do echo line$i; sleep 0.2; done; echo oops >&2')
	[[ "$id" =~ ^[0-9a-f]{64}$ ]]
	run bash -c "'$BERTH' logs -f $id 2>/dev/null"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'line1\nline2\nline3')" ]
	run bash -c "'$BERTH' logs $id 2>&1 >/dev/null"
	[ "$output" = oops ]
	# --tail counts the lines of both streams, as docker does
	run bash -c "'$BERTH' logs --tail 2 $id 2>/dev/null"
	[ "$output" = line3 ]
	run bash -c "'$BERTH' logs -t -n 2 $id 2>/dev/null"
	[[ "$output" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T.*Z\ line3$ ]]
	run "$BERTH" logs --since bad "$id"
	[ "$status" -eq 1 ]
	[[ "$output" == 'invalid value for "since": '* ]]
	run "$BERTH" logs nope
	[ "$output" = "Error response from daemon: No such container: nope" ]
}

@test "berth run: --sig-proxy forwards SIGTERM to the container" {
	"$BERTH" run --name sp busybox sh -c 'trap "echo got-term; exit 143" TERM; sleep 100 & wait' >"$BERTH_ROOT/sp.out" &
	pid=$!
	for i in $(seq 1 50); do
		[ "$("$BERTH" inspect -f '{{.State.Running}}' sp 2>/dev/null)" = true ] && break
		sleep 0.1
	done
	sleep 0.3
	kill -TERM "$pid"
	wait "$pid" || rc=$?
	[ "${rc:-0}" -eq 143 ]
	[ "$(cat "$BERTH_ROOT/sp.out")" = got-term ]
}

# ------------------------------------------------------------ lifecycle

@test "berth create, start -a, start, wait, rename, rm" {
	run "$BERTH" create --name c1 busybox sh -c 'echo started; exit 2'
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^[0-9a-f]{64}$ ]]
	run "$BERTH" start -a c1
	[ "$status" -eq 2 ]
	[ "$output" = started ]
	run "$BERTH" start c1 nope
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = c1 ]
	[ "${lines[1]}" = "Error response from daemon: No such container: nope" ]
	[ "${lines[2]}" = "Error: failed to start containers: nope" ]
	run "$BERTH" wait c1
	[ "$output" = 2 ]
	"$BERTH" rename c1 c2
	[ "$("$BERTH" inspect -f '{{.Name}}' c2)" = /c2 ]
	run "$BERTH" rename nope x
	[ "$status" -eq 1 ]
	[ "$output" = "$(printf 'Error response from daemon: No such container: nope\nError: failed to rename container named nope')" ]
	run "$BERTH" rm c2 nope
	[ "$status" -eq 1 ]
	[ "$output" = "$(printf 'c2\nError response from daemon: No such container: nope')" ]
	run "$BERTH" rm -f nope
	[ "$status" -eq 0 ]
	[ "$output" = "Error response from daemon: No such container: nope" ]
}

@test "berth start -ai feeds stdin to a created container" {
	"$BERTH" create -i --name si busybox cat >/dev/null
	run bash -c "echo fed | '$BERTH' start -ai si"
	[ "$status" -eq 0 ]
	[ "$output" = fed ]
}

@test "berth stop, restart, kill, pause, unpause on several containers" {
	for n in a1 a2; do
		"$BERTH" run -d --name $n busybox sh -c 'trap "exit 143" TERM; sleep 100 & wait' >/dev/null
	done
	run "$BERTH" pause a1 a2
	[ "$output" = "$(printf 'a1\na2')" ]
	[ "$("$BERTH" inspect -f '{{.State.Status}}' a1)" = paused ]
	run "$BERTH" unpause a1 a2
	[ "$status" -eq 0 ]
	run "$BERTH" stop -t 5 a1 nope a2
	[ "$status" -eq 1 ]
	[ "$output" = "$(printf 'a1\na2\nError response from daemon: No such container: nope')" ]
	[ "$("$BERTH" inspect -f '{{.State.ExitCode}}' a1)" = 143 ]
	run "$BERTH" restart a1
	[ "$output" = a1 ]
	[ "$("$BERTH" inspect -f '{{.State.Running}}' a1)" = true ]
	run "$BERTH" kill -s KILL a1
	[ "$output" = a1 ]
	[ "$("$BERTH" wait a1)" = 137 ]
	run "$BERTH" kill a2
	[ "$status" -eq 1 ]
	[[ "$output" == "Error response from daemon: "* ]]
}

# -------------------------------------------------------------------- ps

@test "berth ps: docker's columns, quoting, ages and statuses" {
	"$BERTH" run --name exited1 busybox sh -c 'while false; do :; done; exit 0' >/dev/null
	"$BERTH" run -d --name up1 busybox sleep 100 >/dev/null
	run "$BERTH" ps
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" =~ ^CONTAINER\ ID\ +IMAGE\ +COMMAND\ +CREATED\ +STATUS\ +PORTS\ +NAMES$ ]]
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[1]}" =~ ^[0-9a-f]{12}\ +busybox\ +\"sleep\ 100\"\ +(Less\ than\ a\ second|[0-9]+\ seconds?)\ ago\ +Up\ .*\ up1$ ]]
	run "$BERTH" ps -a --format '{{.Names}}|{{.Command}}|{{.Status}}'
	[[ "$output" == *'exited1|"sh -c while false; …"|Exited (0) '*' ago'* ]]
	run "$BERTH" ps -a --no-trunc --format '{{.ID}} {{.Command}}'
	[[ "$output" =~ [0-9a-f]{64}\ \"sh\ -c\ while\ false\;\ do\ :\;\ done\;\ exit\ 0\" ]]
	run "$BERTH" ps -aq
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[0]}" =~ ^[0-9a-f]{12}$ ]]
	run "$BERTH" ps -n 1 --format '{{.Names}}'
	[ "$output" = up1 ]
	run "$BERTH" ps -l --format '{{.Names}}'
	[ "$output" = up1 ]
	run "$BERTH" ps -a --filter name=exited1 --format '{{.Names}} {{.State}}'
	[ "$output" = "exited1 exited" ]
	run "$BERTH" ps --format json
	[ "$(jq -r 'keys | join(",")' <<<"$output")" = "Command,CreatedAt,ID,Image,Labels,LocalVolumes,Mounts,Names,Networks,Platform,Ports,RunningFor,Size,State,Status" ]
	run "$BERTH" ps --format 'table {{.Names}}\t{{.State}}'
	[ "${lines[0]}" = "NAMES     STATE" ]
	[ "${lines[1]}" = "up1       running" ]
	run "$BERTH" ps -q --format '{{.Names}}'
	[[ "$output" == "WARNING: Ignoring custom format, because both --format and --quiet are set."* ]]
	run "$BERTH" ps --filter bad
	[ "$status" -eq 125 ]
}

@test "berth ps -s and --format .Size ask for sizes" {
	"$BERTH" run --name sz busybox sh -c 'head -c 5000 /dev/zero >/f' >/dev/null
	run "$BERTH" ps -a -s
	[[ "${lines[0]}" == *"NAMES     SIZE" ]]
	[[ "${lines[1]}" =~ \ sz\ +[0-9.]+[kM]?B( \(virtual [0-9.]+[kM]B\))?$ ]]
	run "$BERTH" ps -a --format '{{.Names}} {{.Size}}'
	[[ "$output" =~ ^sz\ [0-9.]+[kM]?B ]]
}

# --------------------------------------------------------------- inspect

@test "berth inspect: containers, then images; -f; errors" {
	"$BERTH" create --name in1 -e FOO=bar -w /tmp --label k=v -m 32m --restart on-failure:2 busybox true >/dev/null
	run "$BERTH" inspect -f '{{.State.Status}} {{.Config.WorkingDir}} {{index .Config.Labels "k"}} {{.HostConfig.Memory}} {{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}' in1
	[ "$output" = "created /tmp v 33554432 on-failure:2" ]
	run "$BERTH" inspect in1
	[ "${lines[0]}" = "[" ]
	[ "${lines[1]}" = "    {" ]
	[ "$(jq -r '.[0].Name' <<<"$output")" = /in1 ]
	run "$BERTH" inspect --format json in1
	[ "$(jq -r '.[0].Config.Env | index("FOO=bar") != null' <<<"$output")" = true ]
	run "$BERTH" inspect -f '{{.RepoTags}}' busybox
	[ "$output" = "[busybox:latest]" ]
	run "$BERTH" inspect --type container busybox
	[ "$status" -eq 1 ]
	run "$BERTH" inspect in1 nope
	[ "$status" -eq 1 ]
	[ "$(tail -1 <<<"$output")" = "Error: No such object: nope" ]
	run "$BERTH" container inspect nope
	[ "$output" = "$(printf '[]\nError response from daemon: No such container: nope')" ]
	run "$BERTH" inspect --type foo x
	[ "$status" -eq 1 ]
	[[ "$output" == 'unknown type: "foo": must be one of '* ]]
}

# ------------------------------------------------------------------ exec

@test "berth exec: output, exit code, stdin, env, workdir, user, detach" {
	"$BERTH" run -d --name ex1 busybox sleep 100 >/dev/null
	# (berthd today sometimes shows a finished exec with ExitCode 0 for a
	# moment before its real code: this fails then, as docker exec would)
	run "$BERTH" exec ex1 sh -c 'echo out; exit 4'
	[ "$status" -eq 4 ]
	[ "$output" = out ]
	run bash -c "echo piped | '$BERTH' exec -i ex1 cat"
	[ "$output" = piped ]
	run "$BERTH" exec -e A=1 -w /tmp -u 1000 ex1 sh -c 'echo $A $(pwd) $(id -u)'
	[ "$output" = "1 /tmp 1000" ]
	run "$BERTH" exec -d ex1 touch /tmp/made
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	sleep 0.3
	run "$BERTH" exec ex1 ls /tmp/made
	[ "$output" = /tmp/made ]
	run "$BERTH" exec nope true
	[ "$status" -eq 1 ]
	[ "$output" = "Error response from daemon: No such container: nope" ]
	run "$BERTH" exec ex1
	[ "$status" -eq 1 ]
	[[ "${lines[0]}" == "berth: 'berth exec' requires at least 2 arguments" ]]
}

@test "berth exec -it gets a TTY" {
	"$BERTH" run -d --name ex2 busybox sleep 100 >/dev/null
	run script -qec "stty cols 80 rows 24; '$BERTH' exec -it ex2 tty" /dev/null </dev/null
	[ "$status" -eq 0 ]
	[[ "$output" == *"/dev/pts/"* ]]
}

# ---------------------------------------------- management forms, help

@test "berth container ls|run|rm are the same commands" {
	run "$BERTH" container run --rm busybox echo via-group
	[ "$output" = via-group ]
	"$BERTH" container create --name g1 busybox true >/dev/null
	run "$BERTH" container ls -a --format '{{.Names}}'
	[ "$output" = g1 ]
	run "$BERTH" container rm g1
	[ "$output" = g1 ]
	run "$BERTH" container --help
	[[ "$output" == *"  ls          List containers"* ]]
}

@test "berth run --help and ps --help are docker's, word for word" {
	command -v docker >/dev/null || skip "the docker CLI is not installed"
	for c in run create start stop rm ps logs exec attach inspect; do
		diff <(docker $c --help | sed 's/docker/berth/g; s/Docker objects/berth objects/; s|docs.berth.com|docs.docker.com|') \
			<("$BERTH" $c --help)
	done
}

# ----------------------------------------- create requests, docker's way

# A socket that answers /_ping and /containers/create, recording the bodies.
start_recorder() {
	command -v docker >/dev/null || skip "the docker CLI is not installed"
	command -v socat >/dev/null || skip "socat is not installed"
	REC="$BERTH_ROOT/rec"
	mkdir -p "$REC"
	cat >"$REC/handler.sh" <<-'EOF'
	#!/bin/bash
	while IFS= read -r line; do
		line=${line%$'\r'}
		[ -z "$line" ] && continue
		method=${line%% *} rest=${line#* } len=0
		path=${rest%% *}
		while IFS= read -r h; do
			h=${h%$'\r'}
			[ -z "$h" ] && break
			case "${h,,}" in content-length:*) len=${h#*: } ;; esac
		done
		body=""
		[ "$len" -gt 0 ] && body=$(head -c "$len")
		case "$path" in
		*/containers/create*)
			printf '%s\n' "$body" >>"$REC_OUT"
			resp='{"Id":"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef","Warnings":[]}'
			printf 'HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nApi-Version: 1.47\r\nContent-Length: %d\r\n\r\n%s' ${#resp} "$resp" ;;
		*)
			resp=OK
			[ "$method" = HEAD ] && resp=
			printf 'HTTP/1.1 200 OK\r\nApi-Version: 1.47\r\nOstype: linux\r\nContent-Length: %d\r\n\r\n%s' ${#resp} "$resp" ;;
		esac
	done
	EOF
	chmod +x "$REC/handler.sh"
	REC_OUT="$REC/out" socat UNIX-LISTEN:"$REC/sock",fork EXEC:"$REC/handler.sh" &
	REC_PID=$!
	for i in $(seq 1 100); do [ -S "$REC/sock" ] && break; sleep 0.02; done
}

# The request without Go's zero values (docker sends every field), and Env
# sorted: docker dedups -e and --env-file through a map, its order varies.
normalized() {
	jq -S 'walk(if type == "object" then with_entries(select(.value | (. == null or . == false or . == 0 or . == "" or . == [] or . == {} or . == [0,0] or . == -1) | not)) else . end) | if .Env then .Env |= sort else . end' "$1"
}

@test "berth create sends the create request docker sends, flag for flag" {
	start_recorder
	printf 'A=1\n# c\n  B=two words \n' >"$REC/env"
	while IFS= read -r args; do
		[ -z "$args" ] && continue
		eval "set -- $args"
		rm -f "$REC/out"
		DOCKER_HOST="unix://$REC/sock" docker create "$@" >/dev/null 2>&1
		want=$(normalized "$REC/out")
		rm -f "$REC/out"
		DOCKER_HOST="unix://$REC/sock" "$BERTH" create "$@" >/dev/null 2>&1
		got=$(normalized "$REC/out")
		if [ "$want" != "$got" ]; then
			echo "create $args:"
			diff <(echo "$want") <(echo "$got")
			return 1
		fi
	done <<-EOF
	busybox echo hi
	-it --rm -w /tmp -u 1000:1000 --entrypoint /bin/sh busybox -c true
	-a stdin -a STDOUT -e A=1 -e B --env-file $REC/env -l a=b --label c busybox
	-v /tmp:/data:ro -v /anon --tmpfs /run --tmpfs /t:size=64k busybox
	--mount type=bind,source=/tmp,target=/t,readonly --mount type=tmpfs,target=/m,tmpfs-size=64m,tmpfs-mode=1770 busybox
	--mount type=volume,src=v,dst=/v,volume-label=a=b,volume-opt=o=p,volume-nocopy busybox
	--read-only --privileged --cap-add net_admin --cap-drop ALL --security-opt no-new-privileges --security-opt systempaths=unconfined busybox
	--init -m 1g --memory-swap -1 --memory-reservation 512m --cpus 1.5 -c 512 --cpuset-cpus 0-1 --pids-limit 100 --shm-size 128m busybox
	--ulimit nofile=1024:2048 --ulimit nproc=10 --restart on-failure:3 --stop-signal SIGINT --stop-timeout 30 busybox
	--log-driver json-file --log-opt max-size=10m --network host --add-host db:10.0.0.1 --add-host x=1.2.3.4 --dns 8.8.8.8 busybox
	--network mynet --network-alias web --ip 172.20.0.5 --mac-address 92:d0:c6:0a:29:33 busybox
	--device /dev/null --device /dev/zero:/dev/z:r --sysctl net.ipv4.ip_forward=1 --oom-kill-disable --group-add audio busybox
	--health-cmd true --health-interval 5s --health-timeout 1s --health-retries 3 --health-start-period 10s busybox
	-p 8080:80 -p 127.0.0.1:9000:9000/udp -p 443 --expose 5000-5002 -P busybox
	--ipc host --pid host --uts host --userns host --cgroupns private --blkio-weight 300 --device-read-bps /dev/sda:1mb busybox
	EOF
}

@test "berth create rejects what docker rejects, with docker's words" {
	start_recorder
	while IFS= read -r args; do
		[ -z "$args" ] && continue
		eval "set -- $args"
		want=$(DOCKER_HOST="unix://$REC/sock" docker create "$@" 2>&1 | sed 's/docker/berth/g'; echo "rc=${PIPESTATUS[0]}")
		got=$(DOCKER_HOST="unix://$REC/sock" "$BERTH" create "$@" 2>&1; echo "rc=$?")
		if [ "$want" != "$got" ]; then
			echo "create $args:"
			diff <(echo "$want") <(echo "$got")
			return 1
		fi
	done <<-'EOF'
	-m abc busybox
	--cpus 0.0000000001 busybox
	--ulimit nofile=5:2 busybox
	--restart :3 busybox
	--mount target=/x,foo=bar busybox
	--no-healthcheck --health-cmd x busybox
	--sysctl kernel.foo=1 busybox
	--add-host h:notip busybox
	--device relative busybox
	-p 1.2.3.4.5:80:80 busybox
	--expose abc busybox
	--security-opt foo busybox
	--log-driver none --log-opt a=b busybox
	--pid foo busybox
	--memory-swappiness 200 busybox
	EOF
}
