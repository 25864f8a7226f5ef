#!/usr/bin/env bats
# Registries that want credentials: htpasswd Basic auth, and distribution's
# token auth with a small token server (tests/tools/token_server.py).
# Logins go through `berth login` (POST /auth, config.json in the docker
# CLI's format); pulls and pushes carry X-Registry-Auth.

load ../helpers
load ../registry_lib

setup_file() {
	berth_start
	busybox_image local:v1
}

teardown_file() {
	berth_stop
}

setup() {
	export DOCKER_CONFIG="$BATS_TEST_TMPDIR/docker-config"
}

teardown() {
	registry_stop
}

login_checks() {
	run "$BERTH" login -u "$REG_USER" -p wrong "$REG"
	[ "$status" -ne 0 ]
	echo "$output" | grep -q "$1"
	[ ! -e "$DOCKER_CONFIG/config.json" ] || [ "$(jq -r --arg r "$REG" '.auths[$r]' "$DOCKER_CONFIG/config.json")" = null ]
	run "$BERTH" login -u "$REG_USER" --password-stdin "$REG" <<<"$REG_PASS"
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = "Login Succeeded" ]
	[ "$(jq -r --arg r "$REG" '.auths[$r].auth' "$DOCKER_CONFIG/config.json" | base64 -d)" = "$REG_USER:$REG_PASS" ]
}

# push_pull_checks STATUS MESSAGE: what an anonymous pull gets
push_pull_checks() {
	"$BERTH" tag local:v1 "$REG/secret:v1"
	run "$BERTH" push "$REG/secret:v1"
	[ "$status" -eq 0 ]
	echo "$output" | grep -q "^v1: digest: $(rskopeo inspect --tls-verify=false --creds "$REG_USER:$REG_PASS" --format '{{.Digest}}' "docker://$REG/secret:v1") size: "
	"$BERTH" rmi "$REG/secret:v1"
	run "$BERTH" pull "$REG/secret:v1"
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = "$REG/secret:v1" ]
	run "$BERTH" run --rm "$REG/secret:v1" sh -c 'echo authenticated'
	[ "$output" = authenticated ]
	# without credentials the daemon answers as dockerd
	"$BERTH" rmi "$REG/secret:v1"
	run api POST "/images/create?fromImage=$REG/secret&tag=v1"
	api_split
	[ "$status" = "$1" ]
	echo "$body" | jq -r .message | grep -q "$2"
	run "$BERTH" logout "$REG"
	[ "$output" = "Removing login credentials for $REG" ]
	[ "$(jq -r --arg r "$REG" '.auths[$r]' "$DOCKER_CONFIG/config.json")" = null ]
	run "$BERTH" logout "$REG"
	[ "$output" = "Not logged in to $REG" ]
}

@test "htpasswd registry: a wrong password is refused as dockerd words it; then login, push, pull, logout" {
	registry_start --htpasswd
	login_checks "Error response from daemon: login attempt to http://$REG/v2/ failed with status: 401 Unauthorized"
	push_pull_checks 500 "no basic auth credentials"
}

@test "token registry: Bearer tokens from the token server; a wrong password is refused" {
	registry_start --token
	login_checks "unauthorized: incorrect username or password"
	push_pull_checks 404 "^pull access denied for $REG/secret, repository does not exist or may require 'docker login'"
	grep -q 'scope=repository%3Asecret%3Apull%2Cpush' "$REG_DIR/token.log"
}

@test "login needs a TTY or --password-stdin; flags conflict as in docker" {
	run "$BERTH" login -u x --password-stdin -p y 127.0.0.1:1 </dev/null
	[ "$status" -ne 0 ]
	[ "$output" = "--password and --password-stdin are mutually exclusive" ]
	run "$BERTH" login 127.0.0.1:1 </dev/null
	[ "$status" -ne 0 ]
	[ "$output" = "Cannot perform an interactive login from a non TTY device" ]
}
