#!/usr/bin/env bats
# Healthchecks with the real docker CLI (issue 4): probes through the shim,
# State.Health, ps status and filter, health_status events, live restore.

load ../helpers
bats_require_minimum_version 1.5.0

setup_file() { compat_setup_file; }
teardown_file() { compat_teardown_file; }
setup() { require_docker_cli; }
teardown() { docker rm -f $(docker ps -aq) >/dev/null 2>&1 || true; }

# health NAME STATUS: waits up to 15 s for the container's health status.
health() {
	local i
	for i in $(seq 1 150); do
		[ "$(docker inspect -f '{{.State.Health.Status}}' "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	docker inspect -f '{{json .State.Health}}' "$1" >&2
	return 1
}

@test "starting, then healthy, then unhealthy after the retries; ps shows and filters it" {
	docker run -d --name h1 --health-cmd 'cat /tmp/ok' --health-interval 300ms --health-retries 2 \
		busybox sh -c 'sleep 1000' >/dev/null
	[ "$(docker inspect -f '{{.State.Health.Status}}' h1)" = starting ]
	[[ "$(docker ps --format '{{.Status}}' --filter name=h1)" == *"(health: starting)" ]] ||
		[[ "$(docker ps --format '{{.Status}}' --filter name=h1)" == *"(unhealthy)" ]]
	docker exec h1 sh -c 'echo fine > /tmp/ok'
	health h1 healthy
	[[ "$(docker ps --format '{{.Status}}' --filter name=h1)" == *"(healthy)" ]]
	[ "$(docker ps --filter health=healthy --format '{{.Names}}')" = h1 ]
	[ "$(docker inspect -f '{{(index .State.Health.Log 0).ExitCode}}' h1)" -ge 0 ]
	docker exec h1 rm /tmp/ok
	health h1 unhealthy
	[ "$(docker inspect -f '{{.State.Health.FailingStreak}}' h1)" -ge 2 ]
	[ "$(docker inspect -f '{{len .State.Health.Log}}' h1)" -le 5 ]
	[ "$(docker ps --filter health=unhealthy --format '{{.Names}}')" = h1 ]
	[ -z "$(docker ps --filter health=healthy --format '{{.Names}}')" ]
	run docker events --since 0 --until "$(($(date +%s) + 1))" --filter container=h1 \
		--filter event=health_status --format '{{.Action}}'
	[[ "$output" == *"health_status: healthy"*"health_status: unhealthy"* ]]
}

@test "a probe's output is logged; one that outlives its timeout fails with dockerd's message" {
	docker run -d --name h2 --health-cmd 'echo probing; sleep 5' --health-timeout 300ms \
		--health-interval 200ms --health-retries 1 busybox sleep 1000 >/dev/null
	health h2 unhealthy
	[ "$(docker inspect -f '{{(index .State.Health.Log 0).ExitCode}}' h2)" = -1 ]
	[ "$(docker inspect -f '{{(index .State.Health.Log 0).Output}}' h2)" = "Health check exceeded timeout (300ms)" ]
	docker run -d --name h3 --health-cmd 'echo out; echo err >&2' --health-interval 200ms busybox sleep 1000 >/dev/null
	health h3 healthy
	[ "$(docker inspect -f '{{(index .State.Health.Log 0).Output}}' h3)" = "out
err" ]
}

@test "failures inside the start period do not count" {
	docker run -d --name h4 --health-cmd false --health-start-period 60s \
		--health-start-interval 200ms --health-interval 60s --health-retries 1 busybox sleep 1000 >/dev/null
	for i in $(seq 1 100); do
		[ "$(docker inspect -f '{{len .State.Health.Log}}' h4)" -ge 2 ] && break
		sleep 0.1
	done
	[ "$(docker inspect -f '{{.State.Health.Status}} {{.State.Health.FailingStreak}}' h4)" = "starting 0" ]
	[ "$(docker inspect -f '{{len .State.Health.Log}}' h4)" -ge 2 ]
	[ "$(docker inspect -f '{{(index .State.Health.Log 0).ExitCode}}' h4)" = 1 ]
}

@test "no healthcheck: no Health, filter health=none; NONE disables" {
	docker run -d --name h5 busybox sleep 1000 >/dev/null
	[ "$(docker inspect -f '{{json .State.Health}}' h5)" = null ]
	[ "$(docker ps --filter health=none --format '{{.Names}}')" = h5 ]
	docker run -d --name h6 --health-cmd true --no-healthcheck busybox sleep 1000 >/dev/null 2>&1 ||
		docker run -d --name h6 --no-healthcheck busybox sleep 1000 >/dev/null
	[ "$(docker inspect -f '{{json .State.Health}}' h6)" = null ]
}

@test "a stopped container's health is unhealthy; probing resumes after a live restore" {
	docker run -d --name h7 --health-cmd true --health-interval 200ms busybox sleep 1000 >/dev/null
	health h7 healthy
	berth_restart --kill
	health h7 healthy
	last() { docker inspect -f '{{json .State.Health.Log}}' h7 | jq -r '.[-1].Start'; }
	n=$(last)
	for i in $(seq 1 50); do
		[ "$(last)" != "$n" ] && break
		sleep 0.1
	done
	[ "$(last)" != "$n" ] # probes went on after the restart
	docker stop -t 0 h7 >/dev/null
	[ "$(docker inspect -f '{{.State.Health.Status}}' h7)" = unhealthy ]
}
