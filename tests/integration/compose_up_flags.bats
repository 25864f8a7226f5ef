#!/usr/bin/env bats
# berth compose up's flags beyond the basics (-V, --always-recreate-deps,
# --attach/--no-attach, --wait-timeout), against a private berthd.

load ../helpers.bash
load compose_lib.bash

compose_berthd_hooks

@test "compose up: a recreated container keeps its anonymous volumes, -V renews them" {
	check_anon_volume_inherited
}

@test "compose up --always-recreate-deps: the named service's dependencies are recreated" {
	cat >compose.yaml <<-'EOF'
	services:
	  app: {image: busybox, command: [sleep, "1000"], depends_on: [db]}
	  db: {image: busybox, command: [sleep, "1000"]}
	EOF
	"$BERTH" compose up -d 2>/dev/null
	db=$(cid db)
	run_berth compose up -d app
	[ "$(cid db)" = "$db" ]
	run_berth compose up -d --always-recreate-deps app
	[ "$status" -eq 0 ]
	[[ "$output" == *"Container $PROJECT-db-1  Recreate"* ]]
	[ "$(cid db)" != "$db" ]
	run_berth compose up -d --always-recreate-deps --no-recreate app
	[ "$status" -eq 1 ]
	[[ "$output" == *"--always-recreate-deps and --no-recreate are incompatible"* ]]
}

@test "compose up --attach and --no-attach choose whose logs are followed" {
	cat >compose.yaml <<-'EOF'
	services:
	  one: {image: busybox, command: [sh, -c, "echo one says hi"]}
	  two: {image: busybox, command: [sh, -c, "echo two says hi"]}
	EOF
	run "$BERTH" compose up --no-color --no-attach two
	[ "$status" -eq 0 ]
	[[ "$output" == *"Attaching to $PROJECT-one-1"$'\n'* ]]
	[[ "$output" == *"$PROJECT-one-1  | one says hi"* ]]
	[[ "$output" != *"two says hi"* ]]
	run "$BERTH" compose up --no-color --attach two
	[ "$status" -eq 0 ]
	[[ "$output" == *"$PROJECT-two-1  | two says hi"* ]]
	[[ "$output" != *"one says hi"* ]]
}

@test "compose up --wait --wait-timeout: a service that is never healthy fails up" {
	engine_has_health || skip "this engine reports no State.Health"
	cat >compose.yaml <<-'EOF'
	services:
	  slow:
	    image: busybox
	    command: [sleep, "1000"]
	    healthcheck: {test: [CMD, "true"], interval: 1h, start_period: 1h}
	EOF
	run_berth compose up -d --wait --wait-timeout 1
	[ "$status" -eq 1 ]
	[[ "$output" == *"application not healthy after 1s"* ]]
	[ "$(state slow)" = running ]
	run_berth compose up -d --wait --wait-timeout x
	[ "$status" -eq 1 ]
	[[ "$output" == *'invalid argument "x" for "--wait-timeout" flag'* ]]
}

@test "compose up: a host port range for one container port publishes on a port of that range" {
	engine_has_networks || skip "this berthd has no /networks yet"
	printf 'services:\n  web:\n    image: busybox\n    command: [httpd, -f, -p, "90"]\n    ports: ["19000-19009:90"]\n' >compose.yaml
	run_berth compose config --format json
	[ "$(jq -r '.services.web.ports[0].published' <<<"$output")" = 19000-19009 ]
	run_berth compose up -d
	[ "$status" -eq 0 ]
	[ "$("$BERTH" inspect -f '{{(index (index .HostConfig.PortBindings "90/tcp") 0).HostPort}}' "$PROJECT-web-1")" = 19000-19009 ]
	run_berth compose port web 90
	[ "$status" -eq 0 ]
	port=${output##*:}
	[ "$port" -ge 19000 ] && [ "$port" -le 19009 ]
	printf 'services:\n  web:\n    image: busybox\n    ports: ["8080:80-81"]\n' >compose.yaml
	run_berth compose config
	[ "$status" -eq 1 ]
	[[ "$output" == *"invalid ranges specified for container and host Ports: 80-81 and 8080"* ]]
}
