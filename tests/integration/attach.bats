#!/usr/bin/env bats
# POST /containers/{id}/attach as docker-py uses it: logs=1 replays the
# json-file history ahead of the live output (issue 4).

load ../helpers
bats_require_minimum_version 1.5.0

HIJACK="$BATS_TEST_DIRNAME/../tools/hijack.py"

setup_file() {
	berth_start
	busybox_image busybox:latest
}
teardown_file() { berth_stop; }
teardown() { "$BERTH" ps -aq | xargs -r "$BERTH" rm -f >/dev/null 2>&1 || true; }

@test "logs=1&stream=0: the history, both streams framed, then the end" {
	"$BERTH" run -d --name h1 busybox sh -c 'echo one; echo two >&2; sleep 1000' >/dev/null
	for i in $(seq 1 50); do [ -n "$("$BERTH" logs h1 2>&1)" ] && break; sleep 0.1; done
	sleep 0.2
	run "$HIJACK" "$BERTH_SOCK" "/containers/h1/attach?logs=1&stream=0&stdout=1&stderr=1"
	[ "$output" = "HTTP/1.1 101 UPGRADED
1:one
2:two" ]
	run "$HIJACK" "$BERTH_SOCK" "/containers/h1/attach?logs=1&stream=0&stdout=1"
	[ "$output" = "HTTP/1.1 101 UPGRADED
1:one" ]
}

@test "logs=1&stream=1: the history, then what the container writes next" {
	"$BERTH" run -d --name h2 busybox sh -c 'echo before; sleep 1; echo after; sleep 1000' >/dev/null
	sleep 0.3
	run "$HIJACK" "$BERTH_SOCK" "/containers/h2/attach?logs=1&stream=1&stdout=1" 3
	[ "$output" = "HTTP/1.1 101 UPGRADED
1:before
1:after" ]
}

@test "an exited container: logs=1 gives its logs, without logs it is a 409" {
	"$BERTH" run --name h3 busybox echo done >/dev/null
	run "$HIJACK" "$BERTH_SOCK" "/containers/h3/attach?logs=1&stream=1&stdout=1"
	[ "$output" = "HTTP/1.1 101 UPGRADED
1:done" ]
	run "$HIJACK" "$BERTH_SOCK" "/containers/h3/attach?stream=1&stdout=1"
	[[ "$output" == "HTTP/1.1 409 Conflict"* ]]
}
