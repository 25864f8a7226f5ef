#!/usr/bin/env bats
# Pulls that go wrong: a blob that does not match its digest, a truncated
# blob, a 500 then success, a dropped connection, the registry killed
# mid-pull. Each ends in a clear error or a successful retry, and a failed
# pull leaves nothing `images` shows and no layer behind.

load ../helpers
load ../registry_lib

setup_file() {
	berth_start
	registry_start
}

teardown_file() {
	registry_stop
	berth_stop
}

teardown() {
	proxy_stop
}

pull() {
	run api POST "/images/create?fromImage=$(jq -rn --arg v "$1" '$v|@uri')"
	api_split
}

stream_error() {
	echo "$body" | jq -r 'select(.error) | .error'
}

# Nothing of a failed pull is visible: no image, no layer, no staging left.
nothing_stored() {
	[ "$(api GET /images/json | head -1)" = "[]" ]
	[ -z "$(ls "$BERTH_ROOT/data/image/layers")" ]
	[ -z "$(ls "$BERTH_ROOT/data/image/tmp")" ]
}

layer_digest() {
	rcurl -sf -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
		"http://$REG/v2/$1/manifests/latest" | jq -r '.layers[0].digest'
}

@test "a blob whose bytes do not match its digest: verification error, nothing stored" {
	registry_seed corrupt
	blob=$(registry_blob_path "$(layer_digest corrupt)")
	printf 'XXXXXXXX' | dd of="$blob" bs=1 seek=100 conv=notrunc 2>/dev/null
	pull "$REG/corrupt"
	[ "$status" = 200 ]
	[ "$(stream_error)" = "filesystem layer verification failed for digest $(layer_digest corrupt)" ]
	nothing_stored
}

@test "a truncated blob: verification error, nothing stored" {
	registry_seed truncated
	blob=$(registry_blob_path "$(layer_digest truncated)")
	truncate -s 1000 "$blob"
	pull "$REG/truncated"
	[ -n "$(stream_error)" ]
	nothing_stored
}

@test "a 500 on the blob, then success: retried, pulled" {
	registry_seed flaky
	proxy_start 500once
	pull "$PROXY/flaky"
	[ "$status" = 200 ]
	[ -z "$(stream_error)" ]
	[ "$(grep -c '^GET .*/blobs/sha256:' "$REG_DIR/proxy.log")" -ge 2 ]
	run "$BERTH" run --rm "$PROXY/flaky" true
	[ "$status" -eq 0 ]
	api DELETE "/images/$PROXY/flaky" >/dev/null
}

@test "a connection dropped mid-blob: resumed with Range, pulled" {
	registry_seed dropped
	proxy_start cutonce
	pull "$PROXY/dropped"
	[ "$status" = 200 ]
	[ -z "$(stream_error)" ]
	run "$BERTH" run --rm "$PROXY/dropped" true
	[ "$status" -eq 0 ]
	api DELETE "/images/$PROXY/dropped" >/dev/null
}

@test "the registry killed mid-pull: a clear error, nothing stored, and the pull can be redone" {
	registry_seed killed
	proxy_start stall
	api POST "/images/create?fromImage=$PROXY/killed" >"$BATS_TEST_TMPDIR/out" &
	client=$!
	for _ in $(seq 1 600); do
		grep -q stalled "$REG_DIR/proxy.log" && break
		sleep 0.05
	done
	grep -q stalled "$REG_DIR/proxy.log"
	kill "$REG_PID"
	wait "$REG_PID" 2>/dev/null || true
	wait "$client"
	body=$(sed '$d' "$BATS_TEST_TMPDIR/out")
	[ -n "$(stream_error)" ]
	nothing_stored
	registry_restart
	proxy_stop
	proxy_start pass
	pull "$PROXY/killed"
	[ -z "$(stream_error)" ]
	[ "$(api GET "/images/$PROXY/killed/json" | tail -1)" = 200 ]
}
