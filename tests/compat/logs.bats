#!/usr/bin/env bats
# docker logs against berthd: rotated json-file logs, follow through
# rotations, many followers at once, and the escapes of the json-file format.

load ../helpers
bats_require_minimum_version 1.5.0

setup_file() { compat_setup_file; }
teardown_file() { compat_teardown_file; }
setup() { require_docker_cli; }
teardown() {
	for p in ${FOLLOWERS:-}; do kill "$p" 2>/dev/null || true; done
	docker rm -f $(docker ps -aq) >/dev/null 2>&1 || true
}

@test "logs and --tail read across rotated files, oldest first" {
	docker run -d --name rot --log-opt max-size=1k --log-opt max-file=3 busybox \
		sh -c 'i=0; while [ $i -lt 300 ]; do i=$((i+1)); echo "line $i"; done; sleep 1000' >/dev/null
	for i in $(seq 1 100); do
		[ "$(docker logs --tail 1 rot)" = "line 300" ] && break
		sleep 0.05
	done
	log=$(docker inspect -f '{{.LogPath}}' rot)
	[ -f "$log.1" ] && [ -f "$log.2" ] && [ ! -f "$log.3" ]
	run docker logs rot
	first=${lines[0]#line }
	# what is kept is contiguous and ends with the last line
	[ "${#lines[@]}" -eq $((300 - first + 1)) ]
	[ "${lines[-1]}" = "line 300" ]
	[ "$(docker logs --tail 25 rot | head -1)" = "line 276" ]
	[ "$(docker logs --tail 25 rot | wc -l)" -eq 25 ]
	[ -z "$(docker logs --tail 0 rot)" ]
}

# The writer goes on with a batch only once the follower has shown the last
# one (a file in a bind mount is the go-ahead), so the test does not depend
# on speed: a batch (40 lines, ~2.8k) causes up to three rotations of 1k
# files, wherever the follower is in its pass, and max-file 8 keeps every file
# a follower that is one batch behind still has to read.
@test "logs -f follows the log through its rotations without a gap" {
	GATE=$(mktemp -d "$BERTH_ROOT/gate.XXXXXX")
	docker run -d --name fol -v "$GATE:/gate" --log-opt max-size=1k --log-opt max-file=8 busybox \
		sh -c 'i=0; b=0; while [ $b -lt 10 ]; do b=$((b+1));
			while [ $i -lt $((b*40)) ]; do i=$((i+1)); echo "n $i"; done;
			while [ ! -e /gate/$b ]; do sleep 0.01; done; done' >/dev/null
	timeout 60 docker logs -f fol >"$GATE/out" 2>&1 &
	FOLLOWERS=$!
	for b in $(seq 1 10); do
		for _ in $(seq 1 600); do
			grep -qx "n $((b * 40))" "$GATE/out" && break
			sleep 0.05
		done
		touch "$GATE/$b"
	done
	wait "$FOLLOWERS"
	FOLLOWERS=
	# every line once, in order, and the follower ended with the container
	[ "$(cat "$GATE/out")" = "$(seq 1 400 | sed 's/^/n /')" ]
	[ -f "$(docker inspect -f '{{.LogPath}}' fol).3" ]
}

@test "many followers at once do not hold up the daemon" {
	docker run -d --name chatty busybox sh -c 'while :; do echo tick; sleep 0.2; done' >/dev/null
	FOLLOWERS=
	for i in $(seq 1 12); do
		docker logs -f chatty >/dev/null 2>&1 &
		FOLLOWERS="$FOLLOWERS $!"
	done
	sleep 0.5
	run timeout 20 docker run --rm busybox echo through
	[ "$output" = through ]
	run timeout 10 docker stop -t 1 chatty
	[ "$status" -eq 0 ]
	# the followers end with the container
	for p in $FOLLOWERS; do
		timeout 10 tail --pid="$p" -f /dev/null
	done
}

@test "the json-file escapes come back as written" {
	docker run --name esc busybox printf 'tab\there "q" back\\slash é \001 end\n' >/dev/null
	[ "$(docker logs esc | od -c)" = "$(printf 'tab\there "q" back\\slash é \001 end\n' | od -c)" ]
}
