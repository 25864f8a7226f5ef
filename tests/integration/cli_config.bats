#!/usr/bin/env bats
# berth's client configuration: -H / DOCKER_HOST as docker's ParseHost reads
# them, DOCKER_CONFIG / --config and config.json, TLS from flags or from
# DOCKER_TLS_VERIFY / DOCKER_CERT_PATH against a berthd serving mutual TLS
# (on 127.0.0.1 of its network namespace: berth_netns reaches it).

load ../helpers
bats_require_minimum_version 1.5.0

setup_file() {
	local certs
	certs=$(mktemp -d /tmp/berth-certs.XXXXXX)
	(
		cd "$certs"
		openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 1 -subj /CN=test-ca
		openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=127.0.0.1
		printf 'subjectAltName=IP:127.0.0.1\n' >ext
		openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 1 -extfile ext
		openssl req -newkey rsa:2048 -nodes -keyout key.pem -out client.csr -subj /CN=client
		openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out cert.pem -days 1
	) >/dev/null 2>&1
	export TLS_PORT=$((20000 + RANDOM % 20000))
	berth_start -H "tcp://127.0.0.1:$TLS_PORT" --tlsverify --tlscacert "$certs/ca.pem" \
		--tlscert "$certs/server.pem" --tlskey "$certs/server.key"
	mv "$certs" "$BERTH_ROOT/certs"
	export CERTS="$BERTH_ROOT/certs"
	busybox_image busybox:latest
	"$BERTH" volume create cfg-vol >/dev/null
}

teardown_file() { berth_stop; }

setup() {
	export DOCKER_CONFIG="$BERTH_ROOT/cfg.$BATS_TEST_NUMBER"
	mkdir -p "$DOCKER_CONFIG"
}

@test "DOCKER_TLS_VERIFY and DOCKER_CERT_PATH reach a berthd serving mutual TLS" {
	run berth_netns env DOCKER_HOST="tcp://127.0.0.1:$TLS_PORT" DOCKER_TLS_VERIFY=1 \
		DOCKER_CERT_PATH="$CERTS" "$BERTH" version --format '{{.Server.APIVersion}}'
	[ "$status" -eq 0 ]
	[ "$output" = 1.47 ]
	# the same with flags, the host without its scheme
	run berth_netns env -u DOCKER_HOST "$BERTH" -H "127.0.0.1:$TLS_PORT" --tlsverify --tlscacert "$CERTS/ca.pem" \
		--tlscert "$CERTS/cert.pem" --tlskey "$CERTS/key.pem" volume ls -q
	[ "$status" -eq 0 ]
	[ "$output" = cfg-vol ]
}

@test "TLS: no client certificate is refused by the daemon; missing files fail before connecting" {
	# a cert path with the CA alone: no client certificate is sent
	mkdir "$BERTH_ROOT/ca-only"
	cp "$CERTS/ca.pem" "$BERTH_ROOT/ca-only/"
	run --separate-stderr berth_netns env DOCKER_HOST="tcp://127.0.0.1:$TLS_PORT" DOCKER_TLS_VERIFY=1 \
		DOCKER_CERT_PATH="$BERTH_ROOT/ca-only" "$BERTH" version --format '{{.Server.APIVersion}}'
	[ "$status" -eq 1 ]
	[ "$output" != 1.47 ]
	[[ "$stderr" == "error during connect: "* ]]
	run env DOCKER_HOST="tcp://127.0.0.1:$TLS_PORT" DOCKER_TLS_VERIFY=1 \
		DOCKER_CERT_PATH="$BERTH_ROOT/nowhere" "$BERTH" ps
	[ "$status" -eq 1 ]
	[ "$output" = "Failed to initialize: unable to resolve docker endpoint: open $BERTH_ROOT/nowhere/ca.pem: no such file or directory" ]
	# plain HTTP to the TLS port gets nothing useful
	run berth_netns env DOCKER_HOST="tcp://127.0.0.1:$TLS_PORT" "$BERTH" ps
	[ "$status" -eq 1 ]
}

@test "-H wins over DOCKER_HOST; a bad host is docker's error" {
	run env DOCKER_HOST="unix://$BERTH_ROOT/nothing.sock" "$BERTH" -H "unix://$BERTH_SOCK" volume ls -q
	[ "$status" -eq 0 ]
	[ "$output" = cfg-vol ]
	run env DOCKER_HOST="unix://$BERTH_ROOT/nothing.sock" "$BERTH" volume ls -q
	[ "$status" -eq 1 ]
	[[ "$output" == "Cannot connect to the Docker daemon at unix://$BERTH_ROOT/nothing.sock."* ]]
	run "$BERTH" -H ftp://x ps
	[ "$status" -eq 1 ]
	[ "$output" = "Failed to initialize: unable to resolve docker endpoint: invalid bind address format: ftp://x" ]
}

@test "config.json: psFormat, imagesFormat, volumesFormat, networksFormat from DOCKER_CONFIG; --config wins" {
	"$BERTH" create --name cfg-c busybox true >/dev/null
	cat >"$DOCKER_CONFIG/config.json" <<-'EOF'
		{"psFormat": "ps {{.Names}}", "imagesFormat": "img {{.Repository}}", "volumesFormat": "vol {{.Name}}", "networksFormat": "net {{.Name}}"}
	EOF
	run "$BERTH" ps -a
	[ "$output" = "ps cfg-c" ]
	run "$BERTH" images
	[ "$output" = "img busybox" ]
	run "$BERTH" volume ls
	[ "$output" = "vol cfg-vol" ]
	run "$BERTH" network ls --filter name=none
	[ "$output" = "net none" ]
	# a --format or -q of the command line comes first
	run "$BERTH" ps -a --format '{{.State}}'
	[ "$output" = created ]
	run "$BERTH" volume ls -q
	[ "$output" = cfg-vol ]
	run "$BERTH" network ls -q --no-trunc --filter name=none
	[ "$output" = "$("$BERTH" network inspect -f '{{.Id}}' none)" ]
	mkdir "$BERTH_ROOT/other-config"
	echo '{"psFormat": "other {{.Names}}"}' >"$BERTH_ROOT/other-config/config.json"
	run "$BERTH" --config "$BERTH_ROOT/other-config" ps -a
	[ "$output" = "other cfg-c" ]
	"$BERTH" rm cfg-c >/dev/null
}

@test "a config.json that does not parse is a warning, the command goes on" {
	echo '{"psFormat": ' >"$DOCKER_CONFIG/config.json"
	run --separate-stderr "$BERTH" volume ls -q
	[ "$status" -eq 0 ]
	[ "$output" = cfg-vol ]
	[[ "$stderr" == "WARNING: Error parsing config file ($DOCKER_CONFIG/config.json): "* ]]
}

# An old daemon: API 1.41 at most, as dockerd 20.10 answers a newer client.
@test "an older daemon's 'too new' answer brings berth down to its API version" {
	command -v socat >/dev/null || skip "socat is not installed"
	local d="$BERTH_ROOT/old"
	mkdir -p "$d"
	cat >"$d/handler.sh" <<-'EOF2'
	#!/bin/bash
	IFS= read -r line
	path=${line#* }
	path=${path%% *}
	echo "$path" >>"$OLD_LOG"
	while IFS= read -r h && [ "${h%$'\r'}" != "" ]; do :; done
	case "$path" in
	/v1.41/volumes*)
		body='{"Volumes":[{"Name":"old-vol","Driver":"local","Labels":null,"Mountpoint":"/x","Scope":"local"}],"Warnings":null}'
		printf 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s' ${#body} "$body" ;;
	*)
		body='{"message":"client version 1.47 is too new. Maximum supported API version is 1.41"}'
		printf 'HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s' ${#body} "$body" ;;
	esac
	EOF2
	chmod +x "$d/handler.sh"
	OLD_LOG="$d/log" socat UNIX-LISTEN:"$d/sock",fork EXEC:"$d/handler.sh" &
	local pid=$!
	for i in $(seq 1 100); do [ -S "$d/sock" ] && break; sleep 0.02; done
	run "$BERTH" -H "unix://$d/sock" volume ls -q
	kill "$pid"
	[ "$status" -eq 0 ]
	[ "$output" = old-vol ]
	[ "$(cat "$d/log")" = "$(printf '/v1.47/volumes\n/v1.41/volumes')" ]
	# DOCKER_API_VERSION is kept as given: the daemon's refusal is the answer
	OLD_LOG="$d/log2" socat UNIX-LISTEN:"$d/sock2",fork EXEC:"$d/handler.sh" &
	pid=$!
	for i in $(seq 1 100); do [ -S "$d/sock2" ] && break; sleep 0.02; done
	run env DOCKER_API_VERSION=1.47 "$BERTH" -H "unix://$d/sock2" volume ls -q
	kill "$pid"
	[ "$status" -eq 1 ]
	[[ "$output" == *"client version 1.47 is too new"* ]]
}
