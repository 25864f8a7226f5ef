#!/usr/bin/env bats
# bin/berth stats, update and container prune against a private berthd,
# compared with the docker CLI's output where it is installed.

load ../helpers
bats_require_minimum_version 1.5.0

setup_file() {
	berth_start
	busybox_image busybox:latest
}
teardown_file() { berth_stop; }
teardown() { "$BERTH" ps -aq | xargs -r "$BERTH" rm -f >/dev/null 2>&1 || true; }

@test "berth stats --no-stream: docker's table and --format fields" {
	"$BERTH" run -d --name s1 -m 32m busybox sleep 1000 >/dev/null
	run "$BERTH" stats --no-stream
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" =~ ^CONTAINER\ ID\ +NAME\ +CPU\ %\ +MEM\ USAGE\ /\ LIMIT\ +MEM\ %\ +NET\ I/O\ +BLOCK\ I/O\ +PIDS$ ]]
	# NET I/O: the container's bridge network sees its own traffic
	[[ "${lines[1]}" =~ ^[0-9a-f]{12}\ +s1\ +[0-9.]+%\ +[0-9.]+[KMG]?i?B\ /\ 32MiB\ +[0-9.]+%\ +[0-9.]+[kMG]?B\ /\ [0-9.]+[kMG]?B\ +.*\ 1$ ]]
	run "$BERTH" stats --no-stream --no-trunc --format '{{.ID}} {{.Container}} {{.Name}} {{.PIDs}}' s1
	[ "$output" = "$("$BERTH" inspect -f '{{.Id}}' s1) s1 s1 1" ]
	if command -v docker >/dev/null; then
		[ "$(docker stats --no-stream --format '{{.Name}} {{.PIDs}} {{.NetIO}}' s1)" = \
			"$("$BERTH" stats --no-stream --format '{{.Name}} {{.PIDs}} {{.NetIO}}' s1)" ]
	fi
}

@test "berth stats of a missing container fails as docker's" {
	run "$BERTH" stats --no-stream nope
	[ "$status" -eq 1 ]
	[ "$output" = "Error response from daemon: No such container: nope" ]
}

@test "berth stats redraws the table until interrupted" {
	"$BERTH" run -d --name s2 busybox sleep 1000 >/dev/null
	run timeout -s INT 2 "$BERTH" stats s2
	[ "$(grep -o $'\033\\[2J' <<<"$output" | wc -l)" -ge 2 ]
	[[ "$output" == *s2* ]]
}

@test "berth update: resources and restart policy, docker's errors" {
	"$BERTH" run -d --name u1 busybox sleep 1000 >/dev/null
	run "$BERTH" update -m 64m --memory-swap 128m --restart unless-stopped u1
	[ "$status" -eq 0 ]
	[ "$output" = u1 ]
	[ "$("$BERTH" inspect -f '{{.HostConfig.Memory}} {{.HostConfig.RestartPolicy.Name}}' u1)" = "67108864 unless-stopped" ]
	run "$BERTH" update u1
	[ "$status" -eq 1 ]
	[ "$output" = "you must provide one or more flags when using this command" ]
	run "$BERTH" update --memory 1x u1
	[ "$status" -eq 125 ]
	run "$BERTH" update --cpus 1 nope
	[ "$status" -eq 1 ]
	[[ "$output" == *"No such container: nope"* ]]
}

@test "berth container prune: prompt, filters and report" {
	"$BERTH" run --name p1 -l a=1 busybox true
	"$BERTH" run --name p2 busybox true
	run "$BERTH" container prune <<<"n"
	[ "$status" -eq 0 ]
	[ "$output" = "WARNING! This will remove all stopped containers.
Are you sure you want to continue? [y/N] " ]
	[ "$("$BERTH" ps -aq | wc -l)" -eq 2 ]
	id=$("$BERTH" inspect -f '{{.Id}}' p1)
	run "$BERTH" container prune -f --filter label=a=1
	[ "$output" = "Deleted Containers:
$id

Total reclaimed space: 0B" ]
	run "$BERTH" container prune -f --filter until=1h
	[ "$output" = "Total reclaimed space: 0B" ]
	[ "$("$BERTH" ps -aq | wc -l)" -eq 1 ]
}
