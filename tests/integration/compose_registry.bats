#!/usr/bin/env bats
# berth compose push and pull against Debian's docker-registry behind
# htpasswd Basic auth: the credentials of `berth login` (config.json) travel
# in X-Registry-Auth, as docker compose sends them.

load ../helpers
load ../registry_lib
load compose_lib.bash

setup_file() {
	berth_start
	busybox_image local:v1
}

teardown_file() {
	berth_stop
}

setup() {
	export DOCKER_CONFIG="$BATS_TEST_TMPDIR/docker-config"
	compose_setup
}

teardown() {
	compose_teardown
	registry_stop
}

@test "compose push and pull send the registry's credentials from config.json" {
	registry_start --htpasswd
	printf 'services:\n  app:\n    image: %s/app:v1\n    command: [sleep, "1000"]\n' "$REG" >compose.yaml
	"$BERTH" tag local:v1 "$REG/app:v1"
	# not logged in: the registry refuses, and compose says so
	run_berth compose push
	[ "$status" -ne 0 ]
	[[ "$output" == *"no basic auth credentials"* || "$output" == *"unauthorized"* ]]
	run "$BERTH" login -u "$REG_USER" --password-stdin "$REG" <<<"$REG_PASS"
	[ "$status" -eq 0 ]
	run_berth compose push
	[ "$status" -eq 0 ]
	[[ "$output" == *"app  Pushed"* ]]
	digest=$(rskopeo inspect --tls-verify=false --creds "$REG_USER:$REG_PASS" --format '{{.Digest}}' "docker://$REG/app:v1")
	[ -n "$digest" ]
	"$BERTH" rmi "$REG/app:v1" >/dev/null
	run_berth compose pull
	[ "$status" -eq 0 ]
	[[ "$output" == *"app  Pulled"* ]]
	[ "$("$BERTH" image inspect -f '{{index .RepoDigests 0}}' "$REG/app:v1")" = "$REG/app@$digest" ]
	# up pulls a missing image with the credentials too
	"$BERTH" rmi "$REG/app:v1" >/dev/null
	run_berth compose up -d
	[ "$status" -eq 0 ]
	[ "$(state app)" = running ]
	"$BERTH" compose down -t 0 2>/dev/null
	"$BERTH" rmi "$REG/app:v1" >/dev/null
	"$BERTH" logout "$REG" >/dev/null
	run_berth compose pull
	[ "$status" -ne 0 ]
}
