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

# up keeps a recreated container's anonymous volume (its data and name);
# up -V gives it a new one. Shared by the berthd and dockerd files.
check_anon_volume_inherited() {
	local old vol
	printf 'services:\n  s:\n    image: busybox\n    command: [sleep, "1000"]\n    environment: [GEN=1]\n    volumes: [/data]\n' >compose.yaml
	"$BERTH" compose up -d 2>/dev/null
	old=$(cid s)
	"$BERTH" exec "$PROJECT-s-1" sh -c 'echo kept >/data/f'
	vol=$("$BERTH" inspect -f '{{range .Mounts}}{{.Name}}{{end}}' "$PROJECT-s-1")
	sed -i 's/GEN=1/GEN=2/' compose.yaml
	run_berth compose up -d
	[ "$status" -eq 0 ]
	[[ "$output" == *"Container $PROJECT-s-1  Recreate"* ]]
	[ "$(cid s)" != "$old" ]
	[ "$("$BERTH" exec "$PROJECT-s-1" cat /data/f)" = kept ]
	[ "$("$BERTH" inspect -f '{{range .Mounts}}{{.Name}}{{end}}' "$PROJECT-s-1")" = "$vol" ]
	run_berth compose up -d --force-recreate -V
	[ "$status" -eq 0 ]
	[ "$("$BERTH" inspect -f '{{range .Mounts}}{{.Name}}{{end}}' "$PROJECT-s-1")" != "$vol" ]
	run "$BERTH" exec "$PROJECT-s-1" cat /data/f
	[ "$status" -ne 0 ]
	"$BERTH" volume rm "$vol" >/dev/null
}

# up with depends_on service_healthy: the dependency is Healthy (its
# healthcheck passes) before the dependent is created. Shared by the berthd
# and dockerd files.
check_healthy_dependency() {
	local healthy created
	cat >compose.yaml <<-'EOF'
	services:
	  db:
	    image: busybox
	    command: [sh, -c, "sleep 1; touch /tmp/ready; exec sleep 1000"]
	    healthcheck: {test: [CMD, test, -f, /tmp/ready], interval: 200ms, retries: 50}
	  api:
	    image: busybox
	    command: [sleep, "1000"]
	    depends_on: {db: {condition: service_healthy}}
	EOF
	run_berth compose up -d
	[ "$status" -eq 0 ]
	[[ "$output" == *"Container $PROJECT-db-1  Healthy"* ]]
	healthy=$(grep -n "Container $PROJECT-db-1  Healthy" <<<"$output" | cut -d: -f1)
	created=$(grep -n "Container $PROJECT-api-1  Creating" <<<"$output" | cut -d: -f1)
	[ -n "$healthy" ]
	[ "$healthy" -lt "$created" ]
	[ "$("$BERTH" inspect -f '{{.State.Health.Status}}' "$PROJECT-db-1")" = healthy ]
}

# The hooks of a file whose tests all run against one private berthd with
# busybox loaded, each test in its own project directory. Called at the top
# level of the file, after load: bats sources the file for setup_file and for
# every test, so the hooks are defined in each.
compose_berthd_hooks() {
	setup_file() {
		berth_start
		busybox_image
	}
	teardown_file() {
		berth_stop
	}
	setup() {
		compose_setup
	}
	teardown() {
		compose_teardown
	}
}
