#!/usr/bin/env bats
# The real docker CLI against a private berthd: version, info, events.

load ../helpers

setup_file() { berth_start; }
teardown_file() { berth_stop; }
setup() { require_docker_cli; }

@test "docker version prints both Client and Server" {
	run docker version
	[ "$status" -eq 0 ]
	[[ "$output" == *"Client:"* ]]
	[[ "$output" == *"Server: berth"* ]]
	[[ "$output" == *"API version:      1.47 (minimum version 1.24)"* ]]
}

@test "docker version --format reads server fields" {
	run docker version --format '{{.Server.APIVersion}} {{.Server.Os}}'
	[ "$status" -eq 0 ]
	[ "$output" = "1.47 linux" ]
}

@test "docker info prints the server section" {
	run docker info
	[ "$status" -eq 0 ]
	[[ "$output" == *"Server Version: 0."* ]]
	[[ "$output" == *"Storage Driver: overlay2"* ]]
	[[ "$output" == *"Docker Root Dir: $BERTH_ROOT/data"* ]]
	[[ "$output" == *"CPUs: $(nproc)"* ]]
	run docker info --format '{{.OSType}}/{{.Architecture}}'
	[ "$output" = "linux/$(uname -m)" ]
}

@test "docker system events --since --until shows a daemon reload" {
	t0=$(date +%s)
	kill -HUP "$BERTHD_PID"
	sleep 0.3
	run docker system events --since "$t0" --until "$(( $(date +%s) + 1 ))"
	[ "$status" -eq 0 ]
	[[ "$output" == *"daemon reload"* ]]
	[[ "$output" == *"name=$(hostname)"* ]]
}

@test "docker events --filter and --format" {
	t0=$(date +%s)
	kill -HUP "$BERTHD_PID"
	sleep 0.3
	t1=$(( $(date +%s) + 1 ))
	run docker events --since "$t0" --until "$t1" --filter type=daemon --format '{{.Type}}:{{.Action}}'
	[ "$status" -eq 0 ]
	[ "$(head -1 <<<"$output")" = "daemon:reload" ]
	run docker events --since "$t0" --until "$t1" --filter type=container
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "docker events streams live events" {
	docker events --until "$(( $(date +%s) + 2 ))" --format '{{.Action}}' >"$BERTH_ROOT/events.out" &
	pid=$!
	sleep 0.7
	kill -HUP "$BERTHD_PID"
	wait "$pid"
	grep -qx reload "$BERTH_ROOT/events.out"
}

@test "docker with a too new API version gets Docker's error" {
	run env DOCKER_API_VERSION=1.49 docker version --format '{{.Server.Version}}'
	[ "$status" -ne 0 ]
	[[ "$output" == *"client version 1.49 is too new. Maximum supported API version is 1.47"* ]]
}
