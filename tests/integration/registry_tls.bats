#!/usr/bin/env bats
# TLS registries and mirrors. The TLS registry listens on 10.99.0.1, an
# address the test gives the test daemon's own network namespace: not
# loopback, so not insecure by default, and berthd must verify it against
# the CA in certs.d (beside its --config-file, as /etc/docker/certs.d).
# The mirror is a plain-HTTP registry on 127.0.0.1 named in daemon.json's
# registry-mirrors, which `pull busybox` must use instead of Docker Hub
# (the namespace has no route anywhere else).

load ../helpers
load ../registry_lib

setup_file() {
	export CONF=$(mktemp -d /tmp/berth-conf.XXXXXX)
	export MIRROR_PORT=$(free_port)
	printf '{"registry-mirrors": ["http://127.0.0.1:%s"]}\n' "$MIRROR_PORT" >"$CONF/daemon.json"
	berth_start --config-file "$CONF/daemon.json"
	berth_netns ip addr add 10.99.0.1/32 dev lo
}

teardown_file() {
	berth_stop
	rm -rf "$CONF"
}

teardown() {
	registry_stop
	rm -rf "$CONF/certs.d"
}

pull() {
	run api POST "/images/create?fromImage=$(jq -rn --arg v "$1" '$v|@uri')"
	api_split
}

@test "TLS registry: refused without its CA, pulled with certs.d/HOST:PORT/ca.crt" {
	REG_HOST=10.99.0.1 registry_start --tls
	registry_seed secure:v1
	pull "$REG/secure:v1"
	[ "$status" = 500 ]
	echo "$body" | jq -r .message | grep -qi 'certificate'
	[ "$(api GET /images/json | head -1)" = "[]" ]
	mkdir -p "$CONF/certs.d/$REG"
	cp "$REG_DIR/ca.crt" "$CONF/certs.d/$REG/ca.crt"
	pull "$REG/secure:v1"
	[ "$status" = 200 ]
	[ "$(echo "$body" | jq -r 'select(.error) | .error')" = "" ]
	[ "$(echo "$body" | jq -r 'select(.status | startswith("Digest:")) | .status')" = "Digest: $(registry_digest secure:v1)" ]
}

@test "registry-mirrors: pull busybox is served by the mirror" {
	REG_PORT=$MIRROR_PORT registry_start
	registry_seed library/busybox:latest
	pull busybox
	[ "$status" = 200 ]
	[ "$(echo "$body" | jq -r 'select(.error) | .error')" = "" ]
	echo "$body" | jq -se 'any(.[]; .status == "Pulling from library/busybox")' >/dev/null
	[ "$(api GET /images/busybox:latest/json | head -1 | jq -r '.RepoTags[0]')" = busybox:latest ]
	[ "$(api GET /images/busybox:latest/json | head -1 | jq -r '.RepoDigests[0]')" = "busybox@$(registry_digest library/busybox:latest)" ]
}
