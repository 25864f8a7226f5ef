#!/usr/bin/env bats
# The same Compose project driven by berth compose against a private dockerd
# (Debian's docker.io) in a network namespace of its own: berth compose is a
# client of any Engine API, as Docker Compose v2 is.

load ../helpers.bash
load compose_lib.bash

setup_file() {
	command -v dockerd >/dev/null 2>&1 || skip "dockerd is not installed on this machine"
	DD_ROOT=$(mktemp -d /tmp/berth-compose-dockerd.XXXXXX)
	export DD_ROOT BERTH_ROOT=$DD_ROOT BERTH_SOCK="$DD_ROOT/docker.sock"
	export DOCKER_HOST="unix://$BERTH_SOCK" BERTH_NETNS="$DD_ROOT/netns"
	touch "$BERTH_NETNS"
	unshare --net="$BERTH_NETNS" ip link set lo up
	nsenter --net="$BERTH_NETNS" dockerd --data-root "$DD_ROOT/data" --exec-root "$DD_ROOT/exec" \
		-H "$DOCKER_HOST" --pidfile "$DD_ROOT/dockerd.pid" >"$DD_ROOT/dockerd.log" 2>&1 &
	DD_PID=$!
	export DD_PID
	local i
	for i in $(seq 1 600); do
		curl -sf --unix-socket "$BERTH_SOCK" http://d/_ping >/dev/null 2>&1 && break
		kill -0 "$DD_PID" 2>/dev/null || break
		sleep 0.05
	done
	curl -sf --unix-socket "$BERTH_SOCK" http://d/_ping >/dev/null 2>&1 || {
		tail -20 "$DD_ROOT/dockerd.log" >&2
		return 1
	}
	busybox_image
}

teardown_file() {
	[ -n "${DD_ROOT:-}" ] || return 0
	if [ -n "${DD_PID:-}" ]; then
		kill "$DD_PID" 2>/dev/null
		wait "$DD_PID" 2>/dev/null
	fi
	# containerd shims dockerd left behind, found by their exec root
	local pid m
	for pid in $(pgrep -f -- "$DD_ROOT/" 2>/dev/null); do
		kill -9 "$pid" 2>/dev/null
	done
	for m in $(awk -v r="$DD_ROOT/" 'index($2, r) == 1 {print $2}' /proc/mounts | sort -r); do
		umount -l "$m" 2>/dev/null
	done
	rm -rf "$DD_ROOT"
}

setup() {
	compose_setup
}

teardown() {
	compose_teardown
}

@test "compose against dockerd: 3-tier by service name, idempotent up, recreate on change, down -v" {
	cat >compose.yaml <<-'EOF2'
	services:
	  db:
	    image: busybox
	    command: [sh, -c, "mkdir -p /www && echo db-data > /www/index.html && exec httpd -f -p 80 -h /www"]
	  api:
	    image: busybox
	    command: [sh, -c, "mkdir -p /www; for i in $$(seq 100); do wget -qO /www/index.html http://db/ && break; sleep 0.1; done; exec httpd -f -p 80 -h /www"]
	    environment: {V: "1"}
	    depends_on: [db]
	    volumes: [data:/data]
	volumes:
	  data: {}
	EOF2
	run_berth compose up -d
	[ "$status" -eq 0 ]
	run_berth compose exec -T api sh -c 'for i in $(seq 100); do wget -qO- http://api/ 2>/dev/null && exit 0; sleep 0.1; done; exit 1'
	[ "$status" -eq 0 ] && [ "$output" = db-data ]
	ids=$("$BERTH" compose ps -q)
	run_berth compose up -d
	[ "$(grep -c ' Running$' <<<"$output")" -eq 2 ]
	[ "$("$BERTH" compose ps -q)" = "$ids" ]
	db=$(cid db)
	sed -i 's/V: "1"/V: "2"/' compose.yaml
	"$BERTH" compose up -d -t 0 2>/dev/null
	[ "$(cid db)" = "$db" ]
	[ "$("$BERTH" exec "$PROJECT-api-1" sh -c 'echo $V')" = 2 ]
	run_berth compose down -v -t 0
	[ "$status" -eq 0 ]
	[ -z "$("$BERTH" ps -a -q --filter "label=com.docker.compose.project=$PROJECT")" ]
	run "$BERTH" volume inspect "${PROJECT}_data"
	[ "$status" -ne 0 ]
}

@test "compose against dockerd: depends_on service_healthy waits for the healthcheck" {
	check_healthy_dependency
}

@test "compose against dockerd: a recreated container keeps its anonymous volume (dockerd's names), -V renews it" {
	check_anon_volume_inherited
}
