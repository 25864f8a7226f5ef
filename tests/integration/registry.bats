#!/usr/bin/env bats
# Pull and push through the Engine API against Debian's docker-registry on
# 127.0.0.1 (anonymous), compared with what skopeo sees.

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

# pull NAME [QUERY]: POST /images/create?fromImage=NAME, output = body + status
pull() {
	run api POST "/images/create?fromImage=$(jq -rn --arg v "$1" '$v|@uri')${2:-}"
	api_split
}

# has JQ_ARGS... FILTER: some line of $body matches FILTER.
has() {
	local filter=${*: -1}
	echo "$body" | jq -se "${@:1:$#-1}" "any(.[]; $filter)" >/dev/null
}

image_layers() {
	ls "$BERTH_ROOT/data/image/layers" | sort
}

@test "pull: an image skopeo pushed, with dockerd's progress and RepoDigests" {
	registry_seed pulled:v1
	pull "$REG/pulled:v1"
	[ "$status" = 200 ]
	has '.status == "Pulling from pulled" and .id == "v1"'
	has '.status == "Pull complete"'
	want=$(registry_digest pulled:v1)
	has --arg d "Digest: $want" '.status == $d'
	has --arg s "Status: Downloaded newer image for $REG/pulled:v1" '.status == $s'
	run api GET "/images/$REG/pulled:v1/json"
	api_split
	[ "$status" = 200 ]
	[ "$(echo "$body" | jq -r '.RepoDigests[0]')" = "$REG/pulled@$want" ]
	[ "$(echo "$body" | jq -r '.RepoTags[0]')" = "$REG/pulled:v1" ]
}

@test "pull: again is up to date; by digest works; the pull event names it" {
	want=$(registry_digest pulled:v1)
	pull "$REG/pulled:v1"
	has --arg s "Status: Image is up to date for $REG/pulled:v1" '.status == $s'
	# the image is there: no layer lines at all, as dockerd
	[ -z "$(echo "$body" | jq -c 'select(.id != null and .id != "v1")')" ]
	pull "$REG/pulled" "&tag=$want"
	[ "$status" = 200 ]
	has --arg s "Status: Image is up to date for $REG/pulled@$want" '.status == $s'
	run api GET "/events?since=0&until=$(($(date +%s) + 1))&filters=$(jq -rn '{"event":["pull"]}|tojson|@uri')"
	api_split
	has --arg n "$REG/pulled:v1" '.Actor.ID == $n and .Action == "pull"'
}

@test "pull: errors are HTTP errors with dockerd's wording, nothing stored" {
	before=$(image_layers)
	pull "$REG/pulled:nope"
	[ "$status" = 404 ]
	[ "$(echo "$body" | jq -r .message)" = "manifest for $REG/pulled:nope not found: manifest unknown: manifest unknown" ]
	pull "$REG/Upper"
	[ "$status" = 400 ]
	echo "$body" | jq -r .message | grep -q 'must be lowercase'
	pull "$REG/x@sha256:1234"
	[ "$status" = 400 ]
	[ "$(image_layers)" = "$before" ]
}

@test "push: an imported image; skopeo sees the digest berthd reports; pull it back and run it" {
	busybox_image pushed:v2
	api POST "/images/pushed:v2/tag?repo=$REG/pushed&tag=v2" >/dev/null
	run api POST "/images/$(jq -rn --arg v "$REG/pushed" '$v|@uri')/push?tag=v2" -H "X-Registry-Auth: e30="
	api_split
	[ "$status" = 200 ]
	has --arg s "The push refers to repository [$REG/pushed]" '.status == $s'
	has '.status == "Pushed"'
	[ -z "$(echo "$body" | jq -r 'select(.error) | .error')" ]
	digest=$(echo "$body" | jq -r 'select(.aux) | .aux.Digest')
	[ "$digest" = "$(registry_digest pushed:v2)" ]
	has --arg d "$digest" '.status != null and (.status | startswith("v2: digest: " + $d + " size: "))'
	id=$(api GET "/images/$REG/pushed:v2/json" | head -1 | jq -r .Id)
	run api DELETE "/images/$REG/pushed:v2"
	[ "$(image_layers | wc -l)" -ge 1 ]
	pull "$REG/pushed:v2"
	[ "$status" = 200 ]
	[ "$(api GET "/images/$REG/pushed:v2/json" | head -1 | jq -r .Id)" = "$id" ]
	run "$BERTH" run --rm "$REG/pushed:v2" sh -c 'echo pulled-and-running'
	[ "$status" -eq 0 ]
	[ "$output" = "pulled-and-running" ]
}

@test "push: a second push finds the layer; another repository mounts it" {
	run api POST "/images/$(jq -rn --arg v "$REG/pushed" '$v|@uri')/push?tag=v2"
	api_split
	has '.status == "Layer already exists"'
	run api POST "/images/$REG/pushed:v2/tag?repo=$REG/other/copy&tag=c1"
	run api POST "/images/$(jq -rn --arg v "$REG/other/copy" '$v|@uri')/push?tag=c1"
	api_split
	has '.status == "Mounted from pushed"'
	[ "$(echo "$body" | jq -r 'select(.aux) | .aux.Digest')" = "$(registry_digest other/copy:c1)" ]
}

@test "push: an unknown image is an in-band error" {
	run api POST "/images/$REG/absent/push?tag=x"
	api_split
	[ "$status" = 200 ]
	[ "$(echo "$body" | jq -r 'select(.error) | .error')" = "An image does not exist locally with the tag: $REG/absent" ]
}

@test "distribution inspect: the manifest's descriptor and platform" {
	run api GET "/distribution/$REG/pushed:v2/json"
	api_split
	[ "$status" = 200 ]
	[ "$(echo "$body" | jq -r .Descriptor.digest)" = "$(registry_digest pushed:v2)" ]
	[ "$(echo "$body" | jq -r .Descriptor.mediaType)" = application/vnd.docker.distribution.manifest.v2+json ]
	[ "$(echo "$body" | jq -r '.Platforms[0].os')" = linux ]
	run api GET "/distribution/$REG/pushed:nope/json"
	api_split
	[ "$status" = 404 ]
}

@test "multi-platform index: linux/amd64 is chosen; platform= picks another; a missing one is 404" {
	# arm64 first in the list: the default is chosen by platform, not by order
	registry_seed_index mp arm64 amd64
	pull "$REG/mp:multi"
	[ "$status" = 200 ]
	[ "$(api GET "/images/$REG/mp:multi/json" | head -1 | jq -r .Architecture)" = amd64 ]
	pull "$REG/mp:multi" "&platform=linux/arm64"
	[ "$status" = 200 ]
	[ "$(api GET "/images/$REG/mp:multi/json" | head -1 | jq -r .Architecture)" = arm64 ]
	pull "$REG/mp:multi" "&platform=linux/s390x"
	[ "$status" = 404 ]
	[ "$(echo "$body" | jq -r .message)" = "no matching manifest for linux/s390x in the manifest list entries" ]
	run api GET "/distribution/$REG/mp:multi/json"
	api_split
	[ "$(echo "$body" | jq -r '[.Platforms[].architecture] | sort | join(",")')" = amd64,arm64 ]
}

@test "berth pull: layer lines redrawn in place on a terminal, plain lines otherwise" {
	registry_seed tty:v1
	run "$BERTH" pull "$REG/tty:v1"
	[ "$status" -eq 0 ]
	[[ "$output" != *$'\033'* ]]
	echo "$output" | grep -qE '^[0-9a-f]{12}: Pull complete$'
	[ "${lines[-1]}" = "$REG/tty:v1" ]
	"$BERTH" rmi "$REG/tty:v1" >/dev/null
	run script -qec "$BERTH pull $REG/tty:v1" /dev/null
	[ "$status" -eq 0 ]
	[[ "$output" == *$'\033[2K'* ]]
	[[ "$output" == *"Pull complete"* ]]
	[[ "$output" == *"Status: Downloaded newer image for $REG/tty:v1"* ]]
}

# alltags_images: $REG/alltags:one and :two (the same image) and :three (another),
# and $REG/elsewhere:x, which no all-tags push of alltags may send.
alltags_images() {
	busybox_image alltags:one
	"$BERTH" tag alltags:one "$REG/alltags:one"
	"$BERTH" tag alltags:one "$REG/alltags:two"
	"$BERTH" tag alltags:one "$REG/elsewhere:x"
	rootfs=$(mktemp -d "$BERTH_ROOT/three.XXXXXX")
	busybox_rootfs "$rootfs/r"
	echo three >"$rootfs/r/which"
	tar -C "$rootfs/r" -cf "$rootfs/three.tar" .
	curl -sf --unix-socket "$BERTH_SOCK" -X POST --data-binary "@$rootfs/three.tar" \
		"http://berth/images/create?fromSrc=-&repo=$REG/alltags&tag=three" >/dev/null
	rm -rf "$rootfs"
}

@test "berth push --all-tags: every tag of the repository in order, with the digests skopeo sees" {
	alltags_images
	run "$BERTH" push -a "$REG/alltags:one"
	[ "$status" -ne 0 ]
	[ "$output" = "tag can't be used with --all-tags/-a" ]
	run "$BERTH" push --all-tags "$REG/alltags"
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | grep -c '^The push refers to repository')" = 1 ]
	[ "${lines[0]}" = "The push refers to repository [$REG/alltags]" ]
	[ "$(echo "$output" | grep -E '^[a-z]+: digest: ' | cut -d: -f1 | tr '\n' ' ')" = "one three two " ]
	for t in one two three; do
		echo "$output" | grep -q "^$t: digest: $(registry_digest alltags:$t) size: "
	done
	[ "$(rcurl -sf "http://$REG/v2/alltags/tags/list" | jq -c '.tags | sort')" = '["one","three","two"]' ]
	[ "$(rcurl -s -o /dev/null -w '%{http_code}' "http://$REG/v2/elsewhere/tags/list")" = 404 ]
	# the same through the API: no tag is every tag
	run api POST "/images/$(jq -rn --arg v "$REG/alltags" '$v|@uri')/push"
	api_split
	[ "$(echo "$body" | jq -r 'select(.aux) | .aux.Tag' | tr '\n' ' ')" = "one three two " ]
	# one push event, for the repository (it has no "latest" here)
	run api GET "/events?since=0&until=$(($(date +%s) + 1))&filters=$(jq -rn '{"event":["push"]}|tojson|@uri')"
	api_split
	has --arg n "$REG/alltags" '.Actor.ID == $n and .Action == "push"'
	run api POST "/images/$(jq -rn --arg v "$REG/nothing" '$v|@uri')/push"
	api_split
	[ "$(echo "$body" | jq -r 'select(.error) | .error')" = "An image does not exist locally with the tag: $REG/nothing" ]
}

@test "berth pull --all-tags: every tag from tags/list; the API without a tag does the same" {
	one=$(api GET "/images/$REG/alltags:one/json" | head -1 | jq -r .Id)
	three=$(api GET "/images/$REG/alltags:three/json" | head -1 | jq -r .Id)
	[ "$one" != "$three" ]
	"$BERTH" rmi "$REG/alltags:one" "$REG/alltags:two" "$REG/alltags:three" >/dev/null
	run "$BERTH" pull -a "$REG/alltags:one"
	[ "$status" -ne 0 ]
	[ "$output" = "tag can't be used with --all-tags/-a" ]
	run "$BERTH" pull --all-tags "$REG/alltags"
	[ "$status" -eq 0 ]
	# in the registry's order, as dockerd pulls them
	[ "$(echo "$output" | grep -E '^[a-z]+: Pulling from alltags$' | cut -d: -f1 | sort | tr '\n' ' ')" = "one three two " ]
	[ "$(echo "$output" | grep -c '^Digest: sha256:')" = 3 ]
	echo "$output" | grep -q "^Status: Downloaded newer image for $REG/alltags$"
	[ "${lines[-1]}" = "$REG/alltags" ]
	for t in one two; do
		[ "$(api GET "/images/$REG/alltags:$t/json" | head -1 | jq -r .Id)" = "$one" ]
	done
	[ "$(api GET "/images/$REG/alltags:three/json" | head -1 | jq -r .Id)" = "$three" ]
	run "$BERTH" run --rm "$REG/alltags:three" cat /which
	[ "$output" = three ]
	pull "$REG/alltags"
	[ "$status" = 200 ]
	has --arg s "Status: Image is up to date for $REG/alltags" '.status == $s'
	[ "$(echo "$body" | jq -r 'select(.status == "Pulling from alltags") | .id' | sort | tr '\n' ' ')" = "one three two " ]
	pull "$REG/never-pushed"
	[ "$status" = 404 ]
	[ "$(echo "$body" | jq -r .message)" = "repository $REG/never-pushed not found: name unknown: repository name not known to registry" ]
}
