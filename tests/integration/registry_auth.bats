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
	echo "$output" | grep -qx "WARNING! Your credentials are stored unencrypted in '$DOCKER_CONFIG/config.json'."
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

# A docker-credential-test helper (tests/tools) on PATH, its store in the test's dir.
use_helper() {
	export PATH="$(cd "$BATS_TEST_DIRNAME/../tools" && pwd):$PATH"
	export CRED_TEST_STORE="$BATS_TEST_TMPDIR/creds.json"
	mkdir -p "$DOCKER_CONFIG"
	echo "$1" >"$DOCKER_CONFIG/config.json"
}

@test "credsStore: login stores through the helper, push and pull get from it, logout erases" {
	registry_start --htpasswd
	use_helper '{"credsStore": "test"}'
	run "$BERTH" login -u "$REG_USER" --password-stdin "$REG" <<<"$REG_PASS"
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = "Login Succeeded" ]
	[[ "$output" != *"stored unencrypted"* ]]
	# the secret is in the helper; config.json keeps an empty entry, as docker's does
	[ "$(jq -c --arg r "$REG" '.[$r]' "$CRED_TEST_STORE")" = "{\"Username\":\"$REG_USER\",\"Secret\":\"$REG_PASS\"}" ]
	[ "$(jq -c --arg r "$REG" '.auths[$r]' "$DOCKER_CONFIG/config.json")" = '{}' ]
	[ "$(jq -r .credsStore "$DOCKER_CONFIG/config.json")" = test ]
	"$BERTH" tag local:v1 "$REG/helped:v1"
	run "$BERTH" push "$REG/helped:v1"
	[ "$status" -eq 0 ]
	grep -qx "get $REG" "$CRED_TEST_STORE.log"
	"$BERTH" rmi "$REG/helped:v1" >/dev/null
	run "$BERTH" pull "$REG/helped:v1"
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = "$REG/helped:v1" ]
	# login without credentials tries the stored ones, as the docker CLI does
	run "$BERTH" login "$REG" </dev/null
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "Authenticating with existing credentials... [Username: $REG_USER]" ]
	[ "${lines[-1]}" = "Login Succeeded" ]
	jq --arg r "$REG" '.[$r].Secret = "stale"' "$CRED_TEST_STORE" >"$CRED_TEST_STORE.new"
	mv "$CRED_TEST_STORE.new" "$CRED_TEST_STORE"
	run "$BERTH" login "$REG" </dev/null
	[ "$status" -ne 0 ]
	[ "${lines[1]}" = " Info -> To login with a different account, run 'docker logout' followed by 'docker login'" ]
	[ "${lines[2]}" = "Stored credentials invalid or expired" ]
	[ "${lines[3]}" = "Cannot perform an interactive login from a non TTY device" ]
	run "$BERTH" logout "$REG"
	[ "$output" = "Removing login credentials for $REG" ]
	grep -qx "erase $REG" "$CRED_TEST_STORE.log"
	[ "$(jq -c --arg r "$REG" '.[$r]' "$CRED_TEST_STORE")" = null ]
	[ "$(jq -c --arg r "$REG" '.auths[$r]' "$DOCKER_CONFIG/config.json")" = null ]
	# nothing in the helper now ("not found" is no error): an anonymous pull, refused
	"$BERTH" rmi "$REG/helped:v1" >/dev/null
	run "$BERTH" pull "$REG/helped:v1"
	[ "$status" -ne 0 ]
	echo "$output" | grep -q "no basic auth credentials"
}

@test "credHelpers: the registry's own helper wins over credsStore; a missing helper is docker's error" {
	registry_start --htpasswd
	use_helper "{\"credsStore\": \"absent\", \"credHelpers\": {\"$REG\": \"test\"}}"
	run "$BERTH" login -u "$REG_USER" --password-stdin "$REG" <<<"$REG_PASS"
	[ "$status" -eq 0 ]
	grep -qx "store $REG" "$CRED_TEST_STORE.log"
	"$BERTH" tag local:v1 "$REG/helped:v2"
	run "$BERTH" push "$REG/helped:v2"
	[ "$status" -eq 0 ]
	# another registry goes to credsStore, whose helper is not installed
	run "$BERTH" pull 127.0.0.1:1/other:v1
	[ "$status" -ne 0 ]
	[ "$output" = 'error getting credentials - err: exec: "docker-credential-absent": executable file not found in $PATH, out: ``' ]
	# a helper that fails says so, as the docker CLI quotes it
	CRED_TEST_FAIL="keychain locked" run "$BERTH" pull "$REG/helped:v2"
	[ "$status" -ne 0 ]
	[ "$output" = 'error getting credentials - err: exit status 3, out: `keychain locked`' ]
	# and logout still forgets the login, with docker's warning
	CRED_TEST_FAIL="keychain locked" run "$BERTH" logout "$REG"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "Removing login credentials for $REG" ]
	[ "${lines[1]}" = "WARNING: could not erase credentials: $REG: error erasing credentials - err: exit status 3, out: \`keychain locked\`" ]
	[ "$(jq -c --arg r "$REG" '.auths[$r]' "$DOCKER_CONFIG/config.json")" = null ]
}
