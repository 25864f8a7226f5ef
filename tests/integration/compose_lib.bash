# Shared by the compose bats files: one project directory per test, under
# the private berthd's root, taken down (containers, networks, volumes)
# even when the test failed.

compose_setup() {
	PROJECT_DIR="$BERTH_ROOT/p$BATS_TEST_NUMBER"
	PROJECT="p$BATS_TEST_NUMBER"
	mkdir -p "$PROJECT_DIR"
	cd "$PROJECT_DIR"
	export PROJECT PROJECT_DIR
}

compose_teardown() {
	"$BERTH" compose -p "$PROJECT" down -t 0 -v --remove-orphans >/dev/null 2>&1 || true
	cd /
}

run_berth() {
	run "$BERTH" "$@"
}

# The ID of replica 1 of a service.
cid() {
	"$BERTH" inspect -f '{{.Id}}' "$PROJECT-$1-1"
}

state() {
	"$BERTH" inspect -f '{{.State.Status}}' "$PROJECT-$1-1"
}

# Whether the engine reports State.Health for a container with a healthcheck.
engine_has_health() {
	local id health
	# State.Health exists once a container with a healthcheck runs (dockerd too)
	id=$("$BERTH" run -d --health-cmd true busybox sleep 30 2>/dev/null) || return 1
	health=$("$BERTH" inspect -f '{{json .State.Health}}' "$id" 2>/dev/null)
	"$BERTH" rm -f "$id" >/dev/null 2>&1
	[ -n "$health" ] && [ "$health" != null ]
}

# Whether the engine serves /networks (user-defined networks with DNS).
engine_has_networks() {
	[ "$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$BERTH_SOCK" http://berth/networks)" = 200 ]
}
