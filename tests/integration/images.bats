#!/usr/bin/env bats
# The image API and store against a private berthd: import, tag, inspect,
# history, list filters, delete rules, save/load round trips into a fresh
# berthd, skopeo, bad archives, a kill -9 in the middle of a load, and the
# berth CLI's image commands.

load ../helpers
load images_lib

setup_file() {
	berth_start
	busybox_image busybox:latest
}
teardown_file() { berth_stop; }
teardown() { second_stop; }

image_id() {
	curl -s --unix-socket "$BERTH_SOCK" "http://berth/images/$1/json" | jq -r .Id
}

@test "import: a busybox rootfs becomes busybox:latest with CMD [sh]" {
	run api GET /images/busybox/json
	api_split
	[ "$status" = 200 ]
	[ "$(jq -r '.RepoTags[0]' <<<"$body")" = busybox:latest ]
	[ "$(jq -c .Config.Cmd <<<"$body")" = '["sh"]' ]
	[ "$(jq -r '.RootFS.Layers | length' <<<"$body")" = 1 ]
	[ "$(jq -r .Comment <<<"$body")" = "Imported from -" ]
	[ "$(jq -r .Os <<<"$body")" = linux ]
	[ "$(jq -r .Size <<<"$body")" -gt 1000000 ]
	[ "$(jq -r .GraphDriver.Name <<<"$body")" = overlay2 ]
	# API 1.47 drops Container/ContainerConfig/VirtualSize; 1.43 still has them
	[ "$(jq 'has("VirtualSize")' <<<"$body")" = false ]
	run api GET /v1.43/images/busybox/json
	api_split
	[ "$(jq 'has("VirtualSize") and has("ContainerConfig")' <<<"$body")" = true ]
}

@test "import: changes, message, repo and tag; a bad change is a 400" {
	tar -C / -cf "$BERTH_ROOT/etc.tar" etc/hostname
	q="fromSrc=-&repo=imp&tag=v1&message=hello&changes=$(jq -rn '"ENV A=1" | @uri')&changes=$(jq -rn '"WORKDIR /srv" | @uri')"
	run api POST "/images/create?$q" --data-binary "@$BERTH_ROOT/etc.tar"
	api_split
	[ "$status" = 200 ]
	[[ "$body" == '{"status":"sha256:'* ]]
	run api GET /images/imp:v1/json
	api_split
	[ "$(jq -r .Comment <<<"$body")" = hello ]
	[ "$(jq -c .Config.Env <<<"$body")" = '["A=1"]' ]
	[ "$(jq -r .Config.WorkingDir <<<"$body")" = /srv ]
	run api POST "/images/create?fromSrc=-&changes=RUN%20true" --data-binary "@$BERTH_ROOT/etc.tar"
	api_split
	[ "$status" = 400 ]
	[ "$(jq -r .message <<<"$body")" = "run is not a valid change command" ]
	# pulls are tests/integration/registry*.bats'; a bad name fails before any registry
	run api POST "/images/create?fromImage=Busybox"
	api_split
	[ "$status" = 400 ]
}

@test "tag: 201, then both names resolve; bad names are 400 and 404" {
	run api POST "/images/busybox/tag?repo=localhost:5000/bb&tag=t1"
	api_split
	[ "$status" = 201 ]
	run api GET /images/localhost:5000/bb:t1/json
	api_split
	[ "$status" = 200 ]
	[ "$(jq -c .RepoTags <<<"$body")" = '["busybox:latest","localhost:5000/bb:t1"]' ]
	run api POST "/images/busybox/tag?repo=Bad&tag=x"
	api_split
	[ "$status" = 400 ]
	[ "$(jq -r .message <<<"$body")" = "invalid reference format: repository name (library/Bad) must be lowercase" ]
	run api POST "/images/nosuch/tag?repo=x"
	api_split
	[ "$status" = 404 ]
	[ "$(jq -r .message <<<"$body")" = "No such image: nosuch:latest" ]
	api DELETE /images/localhost:5000/bb:t1 >/dev/null
}

@test "list: newest first, and the filters dangling, reference, label, before" {
	printf 'x' >"$BERTH_ROOT/x"
	tar -C "$BERTH_ROOT" -cf "$BERTH_ROOT/x.tar" x
	api POST "/images/create?fromSrc=-&changes=LABEL%20k%3Dv" --data-binary "@$BERTH_ROOT/x.tar" >/dev/null
	run api GET "/images/json?filters=$(jq -rn '{"dangling":["true"]}|tojson|@uri')"
	api_split
	[ "$status" = 200 ]
	[ "$(jq length <<<"$body")" = 1 ]
	[ "$(jq -c '.[0].RepoTags' <<<"$body")" = '[]' ]
	run api GET "/v1.41/images/json?filters=$(jq -rn '{"dangling":{"true":true}}|tojson|@uri')"
	api_split
	[ "$(jq -c '.[0].RepoTags' <<<"$body")" = '["<none>:<none>"]' ]
	run api GET "/images/json?filters=$(jq -rn '{"reference":["busy*"]}|tojson|@uri')"
	api_split
	[ "$(jq -r '.[].RepoTags[]' <<<"$body")" = busybox:latest ]
	run api GET "/images/json?filters=$(jq -rn '{"label":["k=v"]}|tojson|@uri')"
	api_split
	[ "$(jq length <<<"$body")" = 1 ]
	run api GET "/images/json?filters=$(jq -rn '{"before":["busybox"]}|tojson|@uri')"
	api_split
	[ "$(jq length <<<"$body")" = 0 ]
	run api GET "/images/json?filters=$(jq -rn '{"bogus":["1"]}|tojson|@uri')"
	api_split
	[ "$status" = 400 ]
	[ "$(jq -r .message <<<"$body")" = "invalid filter 'bogus'" ]
	run api POST "/images/prune?filters=$(jq -rn '{"dangling":["true"]}|tojson|@uri')"
	api_split
	[ "$status" = 200 ]
	[ "$(jq '.ImagesDeleted | length' <<<"$body")" -ge 1 ]
}

@test "history: the import's entry carries the image ID and its tag" {
	run api GET /images/busybox/history
	api_split
	[ "$status" = 200 ]
	[ "$(jq length <<<"$body")" = 1 ]
	[ "$(jq -r '.[0].Id' <<<"$body")" = "$(image_id busybox)" ]
	[ "$(jq -c '.[0].Tags' <<<"$body")" = '["busybox:latest"]' ]
}

@test "delete: untag first, 409 for an ID with several repositories, then delete" {
	id=$(image_id busybox)
	api POST "/images/busybox/tag?repo=other&tag=1" >/dev/null
	run api DELETE "/images/${id#sha256:}"
	api_split
	[ "$status" = 409 ]
	[[ "$(jq -r .message <<<"$body")" == "conflict: unable to delete ${id:7:12} (must be forced) - image is referenced in multiple repositories" ]]
	run api DELETE /images/other:1
	api_split
	[ "$status" = 200 ]
	[ "$(jq -c . <<<"$body")" = '[{"Untagged":"other:1"}]' ]
	run api DELETE /images/nosuch
	api_split
	[ "$status" = 404 ]
}

@test "save, then load into a fresh berthd: same ID, same layer digests" {
	id=$(image_id busybox)
	curl -sf --unix-socket "$BERTH_SOCK" "http://berth/images/busybox/get" -o "$BERTH_ROOT/bb.tar"
	tar -tf "$BERTH_ROOT/bb.tar" >"$BERTH_ROOT/list"
	grep -qx manifest.json "$BERTH_ROOT/list"
	grep -qx index.json "$BERTH_ROOT/list"
	grep -qx oci-layout "$BERTH_ROOT/list"
	grep -qx repositories "$BERTH_ROOT/list"
	# the layer blob is the layer tar, named by its digest (the diff ID)
	layer=$(tar -xOf "$BERTH_ROOT/bb.tar" manifest.json | jq -r '.[0].Layers[0]')
	[ "sha256:$(tar -xOf "$BERTH_ROOT/bb.tar" "$layer" | sha256sum | cut -d' ' -f1)" = \
	  "$(curl -s --unix-socket "$BERTH_SOCK" http://berth/images/busybox/json | jq -r '.RootFS.Layers[0]')" ]
	second_start
	run api2 POST "/images/load?quiet=0" --data-binary "@$BERTH_ROOT/bb.tar"
	api_split
	[ "$status" = 200 ]
	[[ "$body" == *'"status":"Loading layer"'* ]]
	[[ "$body" == *'{"stream":"Loaded image: busybox:latest\n"}'* ]]
	run api2 GET /images/busybox/json
	api_split
	[ "$(jq -r .Id <<<"$body")" = "$id" ]
	[ "$(jq -c .RootFS <<<"$body")" = "$(curl -s --unix-socket "$BERTH_SOCK" http://berth/images/busybox/json | jq -c .RootFS)" ]
	# and saved again from there, the archive is the same bytes
	curl -sf --unix-socket "$SOCK2" "http://berth/images/get?names=busybox" -o "$ROOT2/bb2.tar"
	cmp "$BERTH_ROOT/bb.tar" "$ROOT2/bb2.tar"
}

@test "a load past the in-memory body size, sent with a length or chunked: same IDs, same bytes" {
	require_python
	second_start
	mk_big_archive "$ROOT2"
	run api2 POST /images/load --data-binary "@$ROOT2/big.tar"
	api_split
	[ "$status" = 200 ]
	[[ "$body" == *'"stream":"Loaded image: bad:latest\n"'* ]] || { echo "$body"; return 1; }
	same_layers "$SOCK2" "$ROOT2"
	id=$(api2 GET /images/bad:latest/json | head -1 | jq -r .Id)
	api2 DELETE /images/bad:latest >/dev/null
	run api2 POST /images/load -H "Transfer-Encoding: chunked" --data-binary "@$ROOT2/big.tar"
	api_split
	[[ "$body" == *'"stream":"Loaded image: bad:latest\n"'* ]] || { echo "$body"; return 1; }
	[ "$(api2 GET /images/bad:latest/json | head -1 | jq -r .Id)" = "$id" ]
	same_layers "$SOCK2" "$ROOT2"
	[ -z "$(ls "$ROOT2/data/image/tmp")" ]
}

@test "a client that goes away once its upload is in: the load still completes, whole" {
	require_python
	second_start
	mk_big_archive "$ROOT2"
	# the whole request, then the connection closed without reading a byte
	python3 - "$SOCK2" "$ROOT2/big.tar" <<'PY'
import os, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
size = os.path.getsize(sys.argv[2])
s.sendall(b"POST /images/load HTTP/1.1\r\nHost: berth\r\nContent-Type: application/x-tar\r\n"
          b"Content-Length: %d\r\n\r\n" % size)
with open(sys.argv[2], 'rb') as f:
    s.sendfile(f)
s.close()
PY
	for i in $(seq 1 600); do
		[ "$(api2 GET /images/bad:latest/json | tail -1)" = 200 ] && break
		sleep 0.1
	done
	same_layers "$SOCK2" "$ROOT2"
	kill -0 "$PID2"
}

@test "skopeo inspects a berthd-saved archive" {
	command -v skopeo >/dev/null || skip "skopeo is not installed"
	curl -sf --unix-socket "$BERTH_SOCK" "http://berth/images/busybox/get" -o "$BERTH_ROOT/sk.tar"
	run skopeo inspect "docker-archive:$BERTH_ROOT/sk.tar"
	[ "$status" -eq 0 ]
	[ "$(jq -r '.Layers[0]' <<<"$output")" = "$(curl -s --unix-socket "$BERTH_SOCK" http://berth/images/busybox/json | jq -r '.RootFS.Layers[0]')" ]
	run skopeo inspect --config "docker-archive:$BERTH_ROOT/sk.tar"
	[ "$status" -eq 0 ]
	[ "$(jq -c .config.Cmd <<<"$output")" = '["sh"]' ]
}

# load_must_fail FILE NEEDLE: the load answers in-band with an error naming
# NEEDLE, and the second berthd holds nothing afterwards.
load_must_fail() {
	run api2 POST /images/load --data-binary "@$1"
	api_split
	[ "$status" = 200 ]
	[[ "$(jq -r .error <<<"$body")" == *"$2"* ]] || { echo "got: $body"; return 1; }
	[ "$(api2 GET /images/json | head -1)" = "[]" ]
	[ -z "$(image_state "$ROOT2/data" | grep -v ':$' | grep -v '^$')" ] || { image_state "$ROOT2/data"; return 1; }
}

@test "bad archives: truncated, corrupt gzip, digest mismatch, missing layer, bad blob, ../ entry, symlink escape" {
	require_python
	second_start
	curl -sf --unix-socket "$BERTH_SOCK" "http://berth/images/busybox/get" -o "$BERTH_ROOT/good.tar"
	head -c 600000 "$BERTH_ROOT/good.tar" >"$BERTH_ROOT/trunc.tar"
	load_must_fail "$BERTH_ROOT/trunc.tar" "unexpected EOF"
	gzip -c "$BERTH_ROOT/good.tar" >"$BERTH_ROOT/good.tar.gz"
	# flip bytes in the middle of the deflate stream
	printf '\xde\xad\xbe\xef\xde\xad\xbe\xef' | dd of="$BERTH_ROOT/good.tar.gz" bs=1 seek=300000 conv=notrunc 2>/dev/null
	load_must_fail "$BERTH_ROOT/good.tar.gz" "invalid archive"
	tar -C / -cf "$BERTH_ROOT/l1.tar" etc/hostname
	DIFF_IDS="sha256:$(printf '%064d' 0)" mk_archive "$BERTH_ROOT/mismatch.tar" "$BERTH_ROOT/l1.tar"
	load_must_fail "$BERTH_ROOT/mismatch.tar" "invalid diffID for layer 0"
	# a layer the manifest names but the archive lacks
	mk_archive "$BERTH_ROOT/missing.tar" "$BERTH_ROOT/l1.tar"
	tar --delete -f "$BERTH_ROOT/missing.tar" "blobs/sha256/$(sha256sum <"$BERTH_ROOT/l1.tar" | cut -d' ' -f1)"
	load_must_fail "$BERTH_ROOT/missing.tar" "no such file"
	# an OCI layer blob whose bytes are not what its digest says (uncompressed:
	# the blob is the tar, hashed once for both digests)
	mk_oci_archive "$BERTH_ROOT/oci-good.tar" "$BERTH_ROOT/l1.tar"
	BLOB_DIGEST="sha256:$(printf '%064d' 1)" mk_oci_archive "$BERTH_ROOT/oci-bad.tar" "$BERTH_ROOT/l1.tar"
	load_must_fail "$BERTH_ROOT/oci-bad.tar" "invalid digest for layer 0"
	run api2 POST /images/load --data-binary "@$BERTH_ROOT/oci-good.tar"
	api_split
	[[ "$body" == *"Loaded image: bad:latest"* ]] || { echo "$body"; return 1; }
	api2 DELETE /images/bad:latest >/dev/null
	mk_evil_layer "$BERTH_ROOT/dotdot.tar" dotdot
	mk_archive "$BERTH_ROOT/evil1.tar" "$BERTH_ROOT/dotdot.tar"
	load_must_fail "$BERTH_ROOT/evil1.tar" "path escapes the layer"
	[ ! -e /tmp/berth-dotdot-pwned ]
	mk_evil_layer "$BERTH_ROOT/symlink.tar" symlink
	mk_archive "$BERTH_ROOT/evil2.tar" "$BERTH_ROOT/symlink.tar"
	load_must_fail "$BERTH_ROOT/evil2.tar" "escapes the layer through a symlink"
	[ ! -e /tmp/berth-symlink-pwned ]
}

@test "kill -9 during a load: the store stays consistent and the load can be redone" {
	require_python
	second_start
	mk_many_files "$ROOT2/many.tar" 40000
	mk_archive "$ROOT2/many-image.tar" "$ROOT2/many.tar"
	curl -s --unix-socket "$SOCK2" -X POST --data-binary "@$ROOT2/many-image.tar" \
		http://berth/images/load >/dev/null 2>&1 &
	local curl_pid=$!
	# kill once extraction has started (files appear in staging)
	local started=0
	for i in $(seq 1 1000); do
		ls "$ROOT2"/data/image/tmp/stage-*/diff/d000 >/dev/null 2>&1 && started=1 && break
		sleep 0.01
	done
	kill -9 "$PID2"
	[ "$started" = 1 ]
	wait "$PID2" 2>/dev/null || true
	wait "$curl_pid" 2>/dev/null || true
	# restart on the same data root
	"$BERTHD" --data-root "$ROOT2/data" --exec-root "$ROOT2/run" --pidfile "$ROOT2/berthd.pid" \
		-H "unix://$SOCK2" >>"$ROOT2/berthd.log" 2>&1 &
	PID2=$!
	berth_wait_socket "$SOCK2"
	[ -z "$(ls "$ROOT2/data/image/tmp")" ]
	for l in "$ROOT2"/data/image/layers/*; do
		[ -e "$l" ] || continue
		[ -f "$l/meta.json" ] && [ -d "$l/diff" ]
	done
	run api2 GET /images/json
	api_split
	[[ "$body" == "[]" || "$(jq -r '.[0].RepoTags[0]' <<<"$body")" == bad:latest ]]
	run api2 POST /images/load --data-binary "@$ROOT2/many-image.tar"
	api_split
	[[ "$body" == *"Loaded image: bad:latest"* ]]
	[ "$(api2 GET /images/bad/json | head -1 | jq -r '.RootFS.Layers | length')" = 1 ]
}

@test "events: import, tag, untag, delete, load and save are published" {
	t0=$(date +%s)
	api POST "/images/busybox/tag?repo=ev&tag=1" >/dev/null
	api DELETE /images/ev:1 >/dev/null
	curl -sf --unix-socket "$BERTH_SOCK" "http://berth/images/busybox/get" -o /dev/null
	sleep 0.2
	run curl -s --unix-socket "$BERTH_SOCK" "http://berth/events?since=$t0&until=$(( $(date +%s) + 1 ))"
	[[ "$output" == *'"Action":"tag"'* ]]
	[[ "$output" == *'"Action":"untag"'* ]]
	[[ "$output" == *'"Action":"save"'* ]]
	[[ "$output" == *'"name":"ev:1"'* ]]
}

@test "system df: the images part, empty containers and volumes" {
	run api GET /system/df
	api_split
	[ "$status" = 200 ]
	[ "$(jq '.LayersSize > 0' <<<"$body")" = true ]
	[ "$(jq -c '[.Containers, .Volumes, .BuildCache]' <<<"$body")" = '[[],[],[]]' ]
	[ "$(jq -r '.Images[0].Containers' <<<"$body")" = 0 ]
}

@test "berth CLI: images, tag, history, inspect, save, load, rmi, prune, system df" {
	run "$BERTH" images
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "REPOSITORY   TAG       IMAGE ID       CREATED"*"SIZE" ]]
	[[ "$output" == *"busybox      latest    $(image_id busybox | cut -c8-19)"* ]]
	run "$BERTH" tag busybox cli/bb:v1
	[ "$status" -eq 0 ]
	run "$BERTH" images --format '{{.Repository}}:{{.Tag}} {{.Size}}' cli/bb
	[[ "$output" == "cli/bb:v1 "*MB ]]
	run "$BERTH" history cli/bb:v1
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "IMAGE          CREATED"* ]]
	run "$BERTH" image inspect --format '{{.Os}} {{index .RepoTags 1}}' busybox
	[ "$output" = "linux cli/bb:v1" ]
	run "$BERTH" save -o "$BERTH_ROOT/cli.tar" cli/bb:v1
	[ "$status" -eq 0 ]
	run "$BERTH" rmi cli/bb:v1
	[ "$output" = "Untagged: cli/bb:v1" ]
	run "$BERTH" load -i "$BERTH_ROOT/cli.tar"
	[ "$output" = "Loaded image: cli/bb:v1" ]
	run "$BERTH" rmi nosuch
	[ "$status" -eq 1 ]
	[ "$output" = "Error response from daemon: No such image: nosuch:latest" ]
	run "$BERTH" image prune -f
	[ "$status" -eq 0 ]
	[[ "$output" == *"Total reclaimed space: "* ]]
	run "$BERTH" system df
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE" ]]
	[[ "${lines[1]}" == "Images          "* ]]
	"$BERTH" rmi cli/bb:v1 >/dev/null
}
