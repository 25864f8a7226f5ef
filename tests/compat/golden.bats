#!/usr/bin/env bats
# The golden comparison (issue 8): each line of golden.list runs as the real
# docker CLI and as berth against one private berthd; outputs and exit codes
# must be the same once IDs and times are masked (tests/compat/golden.bash).

load ../helpers
load golden

setup_file() {
	command -v docker >/dev/null || return 0
	berth_start
	export GOLDEN_DIR="$BERTH_ROOT/golden"
	# both CLIs read the same, empty client configuration
	export DOCKER_CONFIG="$BERTH_ROOT/docker-config"
	mkdir -p "$GOLDEN_DIR" "$DOCKER_CONFIG"
	echo from-stdin >"$GOLDEN_DIR/stdin.txt"
	# the fixtures' events happen between these two times
	export GOLDEN_T0=$(date +%s)
	busybox_image busybox:latest
	"$BERTH" tag busybox:latest busybox:1.0
	busybox_rootfs "$GOLDEN_DIR/rootfs"
	tar -C "$GOLDEN_DIR/rootfs" -cf "$GOLDEN_DIR/rootfs.tar" .
	"$BERTH" import -c 'LABEL team=core' -c 'CMD ["sh"]' "$GOLDEN_DIR/rootfs.tar" gold/other:v2 >/dev/null
	"$BERTH" run -d --name g-running --label tier=web -e A=1 -e B=2 busybox sleep 1000 >/dev/null
	"$BERTH" run --name g-exited busybox sh -c 'echo out; echo err >&2; exit 3' >/dev/null 2>&1 || true
	"$BERTH" create --name g-created --label tier=db busybox echo hi >/dev/null
	"$BERTH" volume create --label k=v g-vol >/dev/null
	"$BERTH" volume create g-vol2 >/dev/null
	sleep 1
	export GOLDEN_T1=$(date +%s)
}

teardown_file() {
	if [ -n "${BERTH_SOCK:-}" ]; then
		"$BERTH" ps -aq 2>/dev/null | xargs -r "$BERTH" rm -f >/dev/null 2>&1 || true
	fi
	berth_stop
}

setup() { require_docker_cli; }

@test "golden: every section of golden.list has a test here" {
	local s
	for s in $(golden_sections golden.list); do
		grep -q "golden_section golden.list $s;" "$BATS_TEST_FILENAME"
	done
}

@test "golden: ps" { golden_section golden.list ps; }
@test "golden: images" { golden_section golden.list images; }
@test "golden: inspect" { golden_section golden.list inspect; }
@test "golden: volume" { golden_section golden.list volume; }
@test "golden: image" { golden_section golden.list image; }
@test "golden: lifecycle" { golden_section golden.list lifecycle; }
@test "golden: logs" { golden_section golden.list logs; }
@test "golden: exec" { golden_section golden.list exec; }
@test "golden: fs" { golden_section golden.list fs; }
@test "golden: system" { golden_section golden.list system; }
@test "golden: flags" { golden_section golden.list flags; }
@test "golden: prune" { golden_section golden.list prune; }
@test "golden: config" { golden_section golden.list config; }
@test "golden: network" { golden_section golden.list network; }
