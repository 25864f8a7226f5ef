#!/usr/bin/env bats
# berth compose up's flags beyond the basics (-V, --always-recreate-deps,
# --attach/--no-attach, --wait-timeout), against a private berthd.

load ../helpers.bash
load compose_lib.bash

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
