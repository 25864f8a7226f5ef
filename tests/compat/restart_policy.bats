#!/usr/bin/env bats
# Restart policies across berthd restarts, and stopping at shutdown without
# live restore (issue 4), with the real docker CLI.

load ../helpers
bats_require_minimum_version 1.5.0

setup() {
	require_docker_cli
	berth_start
	busybox_image busybox:latest
}
teardown() {
	if [ -n "${BERTH_SOCK:-}" ]; then
		docker ps -aq 2>/dev/null | xargs -r docker rm -f >/dev/null 2>&1 || true
	fi
	berth_stop
}

# running NAME: waits up to 5 s for the container to run (berthd starts
# restart policies in the background, as dockerd does).
running() {
	local i
	for i in $(seq 1 100); do
		[ "$(docker inspect -f '{{.State.Running}}' "$1")" = true ] && return 0
		sleep 0.05
	done
	return 1
}

@test "a container that died while berthd was down is brought back by its policy" {
	docker run -d --name always --restart always busybox sleep 1000 >/dev/null
	docker run -d --name plain busybox sleep 1000 >/dev/null
	pa=$(docker inspect -f '{{.State.Pid}}' always)
	pp=$(docker inspect -f '{{.State.Pid}}' plain)
	kill -9 "$BERTHD_PID"
	kill -9 "$pa" "$pp"
	# the shims record the exits and go
	for i in $(seq 1 100); do
		[ -z "$(pgrep -f -- "--state-dir $BERTH_ROOT/" || true)" ] && break
		sleep 0.05
	done
	berth_restart
	running always
	[ "$(docker inspect -f '{{.State.Running}} {{.RestartCount}}' always)" = "true 1" ]
	[ "$(docker inspect -f '{{.State.Status}} {{.State.ExitCode}}' plain)" = "exited 137" ]
}

@test "--live-restore=false: shutdown stops containers, the next start brings back their policies" {
	berth_restart --live-restore=false
	[ "$(curl -sf --unix-socket "$BERTH_SOCK" http://berth/info | jq .LiveRestoreEnabled)" = false ]
	docker run -d --name a1 --restart always --stop-timeout 1 busybox sleep 1000 >/dev/null
	docker run -d --name a2 --restart unless-stopped --stop-timeout 1 busybox sleep 1000 >/dev/null
	docker run -d --name a3 --restart unless-stopped --stop-timeout 1 busybox sleep 1000 >/dev/null
	docker stop a3 >/dev/null
	docker run -d --name a4 --restart always --stop-timeout 1 busybox sleep 1000 >/dev/null
	docker stop a4 >/dev/null
	docker run -d --name n1 --stop-timeout 1 busybox sleep 1000 >/dev/null
	berth_restart --live-restore=false
	# a restart policy started with berthd: running again; the rest stayed down
	running a1
	running a2
	running a4 # always: even after a stop
	[ "$(docker inspect -f '{{.State.Running}}' a3)" = false ]
	[ "$(docker inspect -f '{{.State.Status}} {{.State.ExitCode}}' n1)" = "exited 137" ]
}

@test "live restore is the default: a clean berthd stop leaves containers running" {
	docker run -d --name lr busybox sleep 1000 >/dev/null
	pid=$(docker inspect -f '{{.State.Pid}}' lr)
	berth_restart
	kill -0 "$pid"
	[ "$(docker inspect -f '{{.State.Running}} {{.State.Pid}}' lr)" = "true $pid" ]
}
