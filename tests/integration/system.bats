#!/usr/bin/env bats
# The system endpoints over the UNIX socket: ping, version, info, events,
# version prefixes, and bad input.

load ../helpers

setup_file() { berth_start; }
teardown_file() { berth_stop; }

@test "GET /_ping answers OK with Docker's headers" {
	run curl -s -i --unix-socket "$BERTH_SOCK" http://berth/_ping
	[ "$status" -eq 0 ]
	[[ "$output" == *"HTTP/1.1 200 OK"* ]]
	[[ "$output" == *"Api-Version: 1.47"* ]]
	[[ "$output" == *"Ostype: linux"* ]]
	[[ "$output" == *"Docker-Experimental: false"* ]]
	[[ "$output" == *"Builder-Version: 1"* ]]
	[[ "$output" == *"Swarm: inactive"* ]]
	[[ "$output" == *$'\r\n\r\nOK' ]]
}

@test "HEAD /_ping answers with headers and no body" {
	run curl -s -I --unix-socket "$BERTH_SOCK" http://berth/_ping
	[[ "$output" == *"HTTP/1.1 200 OK"* ]]
	[[ "$output" == *"Api-Version: 1.47"* ]]
}

@test "GET /version reports the engine and API versions" {
	run api GET /version
	api_split
	[ "$status" = 200 ]
	[ "$(jq -r .ApiVersion <<<"$body")" = 1.47 ]
	[ "$(jq -r .MinAPIVersion <<<"$body")" = 1.24 ]
	[ "$(jq -r .Os <<<"$body")" = linux ]
	[ "$(jq -r '.Components[0].Name' <<<"$body")" = Engine ]
	[ "$(jq -r '.Components[0].Details.ApiVersion' <<<"$body")" = 1.47 ]
}

@test "version prefixes from /v1.24 to /v1.47 are accepted" {
	for v in 1.24 1.40 1.47; do
		run api GET "/v$v/version"
		api_split
		[ "$status" = 200 ]
	done
}

@test "a newer API version gets 400 with Docker's message" {
	run api GET /v1.48/version
	api_split
	[ "$status" = 400 ]
	[ "$(jq -r .message <<<"$body")" = "client version 1.48 is too new. Maximum supported API version is 1.47" ]
}

@test "an older API version gets 400" {
	run api GET /v1.12/version
	api_split
	[ "$status" = 400 ]
	[[ "$(jq -r .message <<<"$body")" == "client version 1.12 is too old. Minimum supported API version is 1.24"* ]]
}

@test "unknown routes get 404 page not found" {
	for p in /nope /v1.47/nope /containers/x/nothing /_ping/x; do
		run api GET "$p"
		api_split
		[ "$status" = 404 ]
		[ "$(jq -r .message <<<"$body")" = "page not found" ]
	done
	run api DELETE /version
	api_split
	[ "$status" = 404 ]
}

@test "GET /info reports the fields the docker CLI prints" {
	run api GET /v1.47/info
	api_split
	[ "$status" = 200 ]
	[ "$(jq -r .Containers <<<"$body")" = 0 ]
	[ "$(jq -r .Driver <<<"$body")" = overlay2 ]
	[ "$(jq -r .DockerRootDir <<<"$body")" = "$BERTH_ROOT/data" ]
	[ "$(jq -r .NCPU <<<"$body")" = "$(nproc)" ]
	[ "$(jq -r .OSType <<<"$body")" = linux ]
	[ "$(jq -r .Name <<<"$body")" = "$(hostname)" ]
	[ "$(jq -r .KernelVersion <<<"$body")" = "$(uname -r)" ]
	[ "$(jq -r '.Runtimes.runc.path' <<<"$body")" = runc ]
	[ "$(jq -r .Swarm.LocalNodeState <<<"$body")" = inactive ]
	[[ "$(jq -r .CgroupVersion <<<"$body")" =~ ^[12]$ ]]
	[ -n "$(jq -r .ID <<<"$body")" ]
}

@test "the engine ID is kept across restarts of the data root" {
	id1=$(api GET /info | head -1 | jq -r .ID)
	[ "$(cat "$BERTH_ROOT/data/engine-id")" = "$id1" ]
}

@test "GET /events replays the past between since and until" {
	t0=$(date +%s)
	kill -HUP "$BERTHD_PID"
	sleep 0.3
	t1=$(( $(date +%s) + 1 ))
	run api GET "/events?since=$t0&until=$t1"
	api_split
	[ "$status" = 200 ]
	[ "$(jq -r .Type <<<"$body" | head -1)" = daemon ]
	[ "$(jq -r .Action <<<"$body" | head -1)" = reload ]
	[ "$(jq -r .Actor.Attributes.name <<<"$body" | head -1)" = "$(hostname)" ]
}

@test "GET /events filters by type" {
	t0=$(date +%s)
	kill -HUP "$BERTHD_PID"
	sleep 0.3
	t1=$(( $(date +%s) + 1 ))
	f=$(printf '{"type":{"container":true}}' | jq -sRr @uri)
	run api GET "/events?since=$t0&until=$t1&filters=$f"
	api_split
	[ "$status" = 200 ]
	[ -z "$body" ]
	f=$(printf '{"type":["daemon"],"event":["reload"]}' | jq -sRr @uri)
	run api GET "/events?since=$t0&until=$t1&filters=$f"
	api_split
	[ "$(jq -r .Action <<<"$body" | head -1)" = reload ]
}

@test "GET /events streams live events until 'until'" {
	until=$(( $(date +%s) + 2 ))
	curl -s --unix-socket "$BERTH_SOCK" "http://berth/events?until=$until" >"$BERTH_ROOT/live.out" &
	pid=$!
	sleep 0.5
	kill -HUP "$BERTHD_PID"
	wait "$pid"
	[ "$(jq -r .Action "$BERTH_ROOT/live.out")" = reload ]
}

@test "GET /events rejects bad filters and times" {
	run api GET "/events?filters=%7Bnot-json"
	api_split
	[ "$status" = 400 ]
	run api GET "/events?filters=%7B%22bogus%22%3A%5B%22x%22%5D%7D"
	api_split
	[ "$status" = 400 ]
	[ "$(jq -r .message <<<"$body")" = "invalid filter 'bogus'" ]
	run api GET "/events?since=yesterday"
	api_split
	[ "$status" = 400 ]
}

@test "malformed HTTP gets 400 and the daemon keeps serving" {
	run bash -c "printf 'GARBAGE\r\n\r\n' | socat -t2 - UNIX-CONNECT:$BERTH_SOCK"
	[[ "$output" == *"400"* ]]
	run bash -c "printf 'GET /_ping HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n' | socat -t2 - UNIX-CONNECT:$BERTH_SOCK"
	[[ "$output" == *"400"* || -z "$output" ]]
	run api GET /_ping
	api_split
	[ "$status" = 200 ]
}

@test "oversized headers are refused and the daemon keeps serving" {
	printf 'X-Big: %s\r\n' "$(head -c 600000 /dev/zero | tr '\0' a)" >"$BERTH_ROOT/big-header"
	run curl -s -o /dev/null -w '%{http_code}' --unix-socket "$BERTH_SOCK" -H "@$BERTH_ROOT/big-header" http://berth/_ping
	[[ "$output" =~ ^(4..|000)$ ]]
	run api GET /_ping
	api_split
	[ "$status" = 200 ]
}

@test "many concurrent keep-alive requests are all answered" {
	urls=()
	for i in $(seq 1 200); do urls+=("http://berth/version"); done
	run curl -s -o /dev/null -w '%{http_code}\n' --unix-socket "$BERTH_SOCK" "${urls[@]}"
	[ "$(grep -c '^200$' <<<"$output")" -eq 200 ]
}
