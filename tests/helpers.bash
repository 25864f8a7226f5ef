# Shared by the bats tiers: a private berthd per test file.
#
#   setup_file()    { berth_start; }
#   teardown_file() { berth_stop; }
#
# berth_start exports BERTH_ROOT (a temp dir), BERTH_SOCK, DOCKER_HOST and
# BERTHD_PID. Extra berthd flags may be passed as arguments.

BERTH_BIN_DIR=${BERTH_BIN_DIR:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)/build/release/bin}
BERTHD="$BERTH_BIN_DIR/berthd"
BERTH="$BERTH_BIN_DIR/berth"

berth_start() {
	BERTH_ROOT=$(mktemp -d /tmp/berth-test.XXXXXX)
	BERTH_SOCK="$BERTH_ROOT/berth.sock"
	export BERTH_ROOT BERTH_SOCK DOCKER_HOST="unix://$BERTH_SOCK"
	"$BERTHD" --data-root "$BERTH_ROOT/data" --exec-root "$BERTH_ROOT/run" \
		--pidfile "$BERTH_ROOT/berthd.pid" -H "unix://$BERTH_SOCK" "$@" \
		>"$BERTH_ROOT/berthd.log" 2>&1 &
	BERTHD_PID=$!
	export BERTHD_PID
	berth_wait_socket "$BERTH_SOCK" || {
		cat "$BERTH_ROOT/berthd.log" >&2
		return 1
	}
}

# Waits up to 5 s for a socket to answer /_ping.
berth_wait_socket() {
	local i
	for i in $(seq 1 500); do
		curl -sf --unix-socket "$1" http://berth/_ping >/dev/null 2>&1 && return 0
		sleep 0.01
	done
	return 1
}

berth_stop() {
	if [ -n "${BERTHD_PID:-}" ] && kill -0 "$BERTHD_PID" 2>/dev/null; then
		kill "$BERTHD_PID"
		wait "$BERTHD_PID" 2>/dev/null || true
	fi
	[ -n "${BERTH_ROOT:-}" ] && rm -rf "$BERTH_ROOT"
	return 0
}

# api METHOD PATH [curl args...]: prints the body, then the status on the last line.
api() {
	local method=$1 path=$2
	shift 2
	curl -s --unix-socket "$BERTH_SOCK" -X "$method" -w '\n%{http_code}' "$@" "http://berth$path"
}

# Splits the output of `api` into $body and $status.
api_split() {
	status=${output##*$'\n'}
	body=${output%$'\n'*}
}

require_docker_cli() {
	command -v docker >/dev/null 2>&1 || skip "the docker CLI is not installed on this machine"
}
