#!/usr/bin/env bats
# The builder's FROM of an image only a registry has: pulled through the
# registry client (Debian's docker-registry on 127.0.0.1), with its progress
# in the build's stream; --pull pulls again even when the image is local.

load ../helpers
load ../registry_lib

setup_file() {
	berth_start
	registry_start
	registry_seed base:v1
}

teardown_file() {
	registry_stop
	berth_stop
}

@test "FROM an image in a registry: pulled, then built on" {
	CTX=$(mktemp -d "$BERTH_ROOT/ctx.XXXXXX")
	printf 'FROM %s/base:v1\nRUN echo built > /b\n' "$REG" >"$CTX/Dockerfile"
	run "$BERTH" image inspect "$REG/base:v1"
	[ "$status" -ne 0 ]
	run "$BERTH" build -t on-pulled "$CTX"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Step 1/2 : FROM $REG/base:v1"* ]]
	[[ "$output" == *"Pulling from base"* ]]
	[ "$("$BERTH" run --rm on-pulled cat /b)" = built ]
	"$BERTH" image inspect "$REG/base:v1" >/dev/null
	# --pull goes to the registry even though the image is here now
	run api POST "/build?pull=1&t=pulled-again" --data-binary @<(tar -C "$CTX" -cf - Dockerfile)
	api_split
	[ "$status" = 200 ]
	echo "$body" | jq -se 'any(.[]; .status? // "" | test("Pulling from base|Image is up to date|Already exists|Digest"))' >/dev/null
	[[ "$body" == *"Successfully tagged pulled-again:latest"* ]]
	# a name no registry has: dockerd's wording
	printf 'FROM %s/nope:v1\n' "$REG" >"$CTX/Dockerfile"
	run "$BERTH" build "$CTX"
	[ "$status" -ne 0 ]
	[[ "$output" == *"manifest for $REG/nope:v1 not found: manifest unknown"* ]]
}
