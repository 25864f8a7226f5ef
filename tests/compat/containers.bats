#!/usr/bin/env bats
# The real docker CLI runs containers on a private berthd (issue 4).

load ../helpers
bats_require_minimum_version 1.5.0

setup_file() { compat_setup_file; }
teardown_file() { compat_teardown_file; }
setup() { require_docker_cli; }

@test "docker run --rm IMG echo hi" {
	run docker run --rm busybox echo hi
	[ "$status" -eq 0 ]
	[ "$output" = hi ]
	[ -z "$(docker ps -aq)" ]
}

# nothing_left ID: polls (10 s at most) until the container has no dir, no
# mount, no shim and no runc state left: its teardown follows the removal.
nothing_left() {
	local id=$1 i
	for i in $(seq 1 200); do
		if [ ! -e "$BERTH_ROOT/data/containers/$id" ] && [ ! -e "$BERTH_ROOT/run/containers/$id" ] &&
			[ ! -e "$BERTH_ROOT/run/runc/$id" ] && ! grep -q "$id" /proc/mounts &&
			[ -z "$(pgrep -f -- "--id $id" || true)" ]; then
			return 0
		fi
		sleep 0.05
	done
	echo "left of $id: $(ls -d "$BERTH_ROOT"/*/containers/"$id" "$BERTH_ROOT/run/runc/$id" 2>&1)" >&2
	return 1
}

@test "docker run --rm and rm -f leave no dir, mount, shim or runc state behind" {
	docker run --name rmq --rm busybox true
	run docker inspect rmq
	[ "$status" -ne 0 ]
	# the names of the run are free at once
	id=$(docker run -d --name rmq busybox sleep 60)
	docker rm -f rmq >/dev/null
	[ -z "$(docker ps -aq --filter name=rmq)" ]
	nothing_left "$id"
}

@test "a removal cut short by berthd's crash is finished at its next start" {
	id=$(docker run -d --name cut busybox sleep 60)
	grep -q "$id" /proc/mounts
	# berthd dies as it removes the container: the container ended, its
	# record set aside (the removal's answer), the teardown not done
	local pid
	pid=$(cat "$BERTH_ROOT/berthd.pid")
	kill -9 "$pid"
	while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
	runc --root "$BERTH_ROOT/run/runc" kill "$id" KILL
	for i in $(seq 1 200); do
		[ -z "$(pgrep -f -- "--id $id" || true)" ] && break
		sleep 0.05
	done
	mv "$BERTH_ROOT/data/containers/$id/config.v2.json" "$BERTH_ROOT/data/containers/$id/removing.json"
	grep -q "$id" /proc/mounts
	berth_restart
	run docker inspect cut
	[ "$status" -ne 0 ]
	nothing_left "$id"
}

@test "docker run returns the container's exit code" {
	run docker run --rm busybox sh -c 'echo out; echo err >&2; exit 3'
	[ "$status" -eq 3 ]
	[[ "$output" == *out* && "$output" == *err* ]]
}

@test "docker run of a missing command exits 127" {
	run -127 docker run --rm busybox /no/such/binary
	[ "$status" -eq 127 ]
}

@test "docker run -d, logs, logs -f until exit" {
	id=$(docker run -d busybox sh -c 'for i in 1 2 3; do echo line$i; sleep 0.2; done')
	run docker logs -f "$id"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'line1\nline2\nline3')" ]
	run docker logs --tail 1 "$id"
	[ "$output" = line3 ]
	run docker wait "$id"
	[ "$output" = 0 ]
	docker rm "$id"
}

@test "docker ps shows running and exited containers" {
	docker run -d --name pstest busybox sleep 30
	run docker ps --format '{{.Names}} {{.Status}}'
	[[ "$output" == *"pstest Up"* ]]
	docker stop -t 1 pstest
	run docker ps -a --filter name=pstest --format '{{.Names}} {{.Status}}'
	[[ "$output" == "pstest Exited ("* ]]
	docker rm pstest
}

@test "docker stop: SIGTERM gives 143, a process ignoring it gets SIGKILL: 137" {
	# pid 1 ignores signals it has no handler for: --init (tini) forwards them
	docker run -d --init --name stop1 busybox sleep 60
	docker stop stop1
	[ "$(docker inspect -f '{{.State.ExitCode}}' stop1)" = 143 ]
	docker run -d --name stop2 busybox sh -c 'trap "" TERM; sleep 60 & wait; sleep 60'
	docker stop -t 1 stop2
	[ "$(docker inspect -f '{{.State.ExitCode}}' stop2)" = 137 ]
	docker rm stop1 stop2
}

@test "docker inspect shows State, Config and HostConfig" {
	docker create --name insp -e FOO=bar -w /tmp --label k=v busybox sh -c 'exit 0'
	run docker inspect -f '{{.State.Status}} {{.Config.WorkingDir}} {{index .Config.Labels "k"}} {{.HostConfig.LogConfig.Type}}' insp
	[ "$output" = "created /tmp v json-file" ]
	run docker inspect -f '{{json .Config.Env}}' insp
	[[ "$output" == *'"FOO=bar"'* ]]
	docker rm insp
}

@test "docker exec runs in a running container" {
	docker run -d --name ex busybox sleep 30
	run docker exec ex sh -c 'echo in-$HOSTNAME; exit 5'
	[ "$status" -eq 5 ]
	[[ "$output" == in-* ]]
	run docker exec -e A=1 -w /tmp ex sh -c 'echo $A $(pwd)'
	[ "$output" = "1 /tmp" ]
	docker rm -f ex
}

@test "docker run -i passes stdin" {
	run bash -c "echo piped | docker run --rm -i busybox cat"
	[ "$status" -eq 0 ]
	[ "$output" = piped ]
}

@test "docker run -t gets a TTY" {
	run script -qec "docker run --rm -t busybox sh -c 'tty; echo done'" /dev/null
	[ "$status" -eq 0 ]
	[[ "$output" == *"/dev/pts/"* ]]
	[[ "$output" == *done* ]]
}

@test "docker run --user and --read-only" {
	run docker run --rm --user 1000 busybox id -u
	[ "$output" = 1000 ]
	run docker run --rm --read-only busybox touch /x
	[ "$status" -ne 0 ]
}

@test "docker rm: running needs -f; names are unique" {
	docker run -d --name dup busybox sleep 30
	run docker run -d --name dup busybox true
	[ "$status" -ne 0 ]
	[[ "$output" == *"is already in use"* ]]
	run docker rm dup
	[ "$status" -ne 0 ]
	docker rm -f dup
	[ -z "$(docker ps -aq --filter name=dup)" ]
}

@test "restart=always brings a dead process back" {
	docker run -d --name rs --restart always busybox sh -c 'sleep 0.3; exit 1'
	sleep 2
	count=$(docker inspect -f '{{.RestartCount}}' rs)
	[ "$count" -ge 1 ]
	docker rm -f rs
}

@test "docker pause and unpause" {
	docker run -d --name pz busybox sleep 30
	docker pause pz
	[ "$(docker inspect -f '{{.State.Status}}' pz)" = paused ]
	docker unpause pz
	[ "$(docker inspect -f '{{.State.Status}}' pz)" = running ]
	docker rm -f pz
}

@test "docker events shows the lifecycle" {
	t0=$(date +%s)
	docker run --rm --name ev busybox true
	run docker events --since "$t0" --until "$(( $(date +%s) + 1 ))" --filter container=ev --format '{{.Action}}'
	[[ "$output" == *create*start*die*destroy* ]] || [[ "$(tr '\n' ' ' <<<"$output")" == *"create"*"start"*"die"*"destroy"* ]]
}

@test "a named volume persists across containers; rm -v drops anonymous ones" {
	docker run --rm -v vdata:/data busybox sh -c 'echo kept >/data/f'
	run docker run --rm -v vdata:/data busybox cat /data/f
	[ "$output" = kept ]
	docker run --name anon -v /scratch busybox true
	vol=$(docker inspect -f '{{range .Mounts}}{{.Name}}{{end}}' anon)
	[ -n "$vol" ]
	docker rm -v anon
	run docker volume inspect "$vol"
	[ "$status" -ne 0 ]
	docker volume rm vdata
}

@test "a bind mount and a tmpfs" {
	mkdir -p "$BERTH_ROOT/bind"
	echo host >"$BERTH_ROOT/bind/f"
	run docker run --rm -v "$BERTH_ROOT/bind:/b:ro" --tmpfs /t busybox sh -c 'cat /b/f; touch /b/x 2>/dev/null || echo ro; mount | grep -c " /t type tmpfs"'
	[ "$output" = "$(printf 'host\nro\n1')" ]
}

@test "rmi of an image a container uses is a conflict" {
	docker create --name user busybox true
	run docker rmi busybox
	[ "$status" -ne 0 ]
	[[ "$output" == *"conflict"* ]]
	docker rm user
}

@test "--memory with a memory hog is OOMKilled; --pids-limit caps processes" {
	run docker run --name oom -m 16m busybox sh -c 'x=a; while :; do x=$x$x; done'
	[ "$status" -eq 137 ]
	[ "$(docker inspect -f '{{.State.OOMKilled}}' oom)" = true ]
	docker rm oom
	run docker run --rm --pids-limit 5 busybox sh -c 'for i in 1 2 3 4 5 6 7 8; do sleep 1 & done; wait'
	[[ "$output" == *"can't fork"* || "$output" == *"Resource temporarily unavailable"* ]]
}

@test "live restore: kill -9 berthd, restart, the container still runs and logs without a gap" {
	docker run -d --name live busybox sh -c 'i=0; while :; do i=$((i+1)); echo $i; sleep 0.1; done'
	sleep 0.5
	berth_restart --kill
	sleep 0.5
	[ "$(docker inspect -f '{{.State.Running}}' live)" = true ]
	sleep 0.5
	docker logs live >"$BERTH_ROOT/live.log"
	n=$(wc -l <"$BERTH_ROOT/live.log")
	[ "$n" -ge 8 ]
	[ "$(tail -1 "$BERTH_ROOT/live.log")" = "$n" ]
	run docker exec live echo still-here
	[ "$output" = still-here ]
	docker stop -t 1 live
	[ "$(docker inspect -f '{{.State.Running}}' live)" = false ]
	docker rm live
}

@test "100 containers started in parallel all succeed and all go" {
	seq 1 100 | xargs -P 8 -I{} docker run -d --name par{} busybox true >/dev/null
	for i in $(seq 1 100); do
		[ "$(docker wait par$i)" = 0 ]
	done
	docker ps -aq --filter name=par | xargs docker rm >/dev/null
	[ -z "$(docker ps -aq --filter name=par)" ]
	[ -z "$(awk -v r="$BERTH_ROOT/data/containers/" 'index($2, r) == 1' /proc/mounts)" ]
	[ -z "$(pgrep -f -- "--state-dir $BERTH_ROOT/" || true)" ]
}

@test "docker top lists the container's processes" {
	docker run -d --name tp busybox sleep 30
	run docker top tp
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == UID*PID*CMD ]]
	[[ "$output" == *"sleep 30"* ]]
	run docker top tp 'aux;rm'
	[ "$status" -ne 0 ]
	docker rm -f tp
}
