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

@test "FROM --platform pulls that entry of a manifest list, also over a local image of another platform" {
	registry_seed_index plat amd64 arm64
	CTX=$(mktemp -d "$BERTH_ROOT/ctx.XXXXXX")
	printf 'ARG P=linux/arm64\nFROM --platform=$P %s/plat:multi\nRUN cat /arch >/built-on\n' "$REG" >"$CTX/Dockerfile"
	run "$BERTH" build -t on-arm "$CTX"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Pulling from plat"* ]]
	[ "$("$BERTH" run --rm on-arm cat /built-on)" = arm64 ]
	[ "$("$BERTH" image inspect --format '{{.Architecture}}' on-arm)" = arm64 ]
	# the local image is arm64 now: amd64 is pulled rather than refused
	run "$BERTH" build --build-arg P=linux/amd64 -t on-amd "$CTX"
	[ "$status" -eq 0 ]
	[ "$("$BERTH" run --rm on-amd cat /built-on)" = amd64 ]
	[ "$("$BERTH" image inspect --format '{{.Architecture}}' "$REG/plat:multi")" = amd64 ]
	# the build's platform, when FROM names none; a platform the list lacks
	printf 'FROM %s/plat:multi\n' "$REG" >"$CTX/Dockerfile"
	run "$BERTH" build --platform linux/arm64 -t plain-arm "$CTX"
	[ "$status" -eq 0 ]
	[ "$("$BERTH" image inspect --format '{{.Architecture}}' plain-arm)" = arm64 ]
	run "$BERTH" build --platform linux/s390x "$CTX"
	[ "$status" -ne 0 ]
	[[ "$output" == *"no matching manifest for linux/s390x in the manifest list entries"* ]]
	# a local image of another platform that no registry has: dockerd's message
	"$BERTH" tag plain-arm 127.0.0.1:1/plain-arm
	printf 'FROM --platform=linux/amd64 127.0.0.1:1/plain-arm\n' >"$CTX/Dockerfile"
	run "$BERTH" build "$CTX"
	[ "$status" -ne 0 ]
	[[ "$output" == *"image with reference 127.0.0.1:1/plain-arm was found but does not match the specified platform: wanted linux/amd64, actual: linux/arm64"* ]]
}

@test "--cache-from an image pulled from a registry: every step hits, the result is that image" {
	CTX=$(mktemp -d "$BERTH_ROOT/ctx.XXXXXX")
	echo data >"$CTX/f"
	printf 'FROM busybox\nRUN echo ran >/ran\nCOPY f /f\nENV A=1\nCMD ["cat", "/f"]\n' >"$CTX/Dockerfile"
	"$BERTH" image inspect busybox >/dev/null 2>&1 || busybox_image busybox:latest
	run "$BERTH" build -t "$REG/cached:v1" "$CTX"
	[ "$status" -eq 0 ]
	id=$("$BERTH" image inspect --format '{{.Id}}' "$REG/cached:v1")
	"$BERTH" push "$REG/cached:v1" >/dev/null
	# nothing of it is left here: not the image, its ancestors or the cache
	"$BERTH" rmi "$REG/cached:v1" >/dev/null
	api POST /build/prune >/dev/null
	"$BERTH" pull "$REG/cached:v1" >/dev/null
	run "$BERTH" build --cache-from "$REG/cached:v1" -t from-pulled "$CTX"
	[ "$status" -eq 0 ]
	[ "$(grep -c 'Using cache' <<<"$output")" -eq 4 ]
	[[ "$output" != *"Running in"* ]]
	[ "$("$BERTH" image inspect --format '{{.Id}}' from-pulled)" = "$id" ]
	[ "$("$BERTH" run --rm from-pulled)" = data ]
}
