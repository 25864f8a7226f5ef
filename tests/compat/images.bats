#!/usr/bin/env bats
# The real docker CLI against berthd: import a busybox rootfs, tag, inspect,
# history, save, load into a fresh berthd (same IDs and layer digests),
# rmi, prune, system df; and, where dockerd is installed, archives going
# both ways between berthd and dockerd with the same image IDs.

load ../helpers
load ../integration/images_lib

setup_file() { berth_start; }
teardown_file() { berth_stop; }
setup() { require_docker_cli; }
teardown() {
	second_stop
	dockerd_stop
}

@test "docker import a busybox rootfs, with --change and --message" {
	busybox_rootfs "$BERTH_ROOT/rootfs"
	tar -C "$BERTH_ROOT/rootfs" -cf "$BERTH_ROOT/rootfs.tar" .
	run docker import -c 'CMD ["sh"]' -c 'ENV PATH=/bin' -m "busybox rootfs" \
		"$BERTH_ROOT/rootfs.tar" busybox:latest
	[ "$status" -eq 0 ]
	[[ "$output" == sha256:* ]]
	run docker image inspect --format '{{json .Config.Cmd}} {{.Comment}} {{.Config.Env}}' busybox
	[ "$output" = '["sh"] busybox rootfs [PATH=/bin]' ]
	# from stdin, gzip-compressed
	run bash -c "gzip -c '$BERTH_ROOT/rootfs.tar' | docker import - gz:1"
	[ "$status" -eq 0 ]
	[ "$(docker image inspect --format '{{.RootFS.Layers}}' gz:1)" = \
	  "$(docker image inspect --format '{{.RootFS.Layers}}' busybox)" ]
	docker rmi gz:1
}

@test "docker images: docker's columns, sizes, ages, -q, --no-trunc, --digests, --format" {
	run docker images
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "REPOSITORY   TAG       IMAGE ID       CREATED          SIZE" ] ||
		[[ "${lines[0]}" == "REPOSITORY   TAG       IMAGE ID       CREATED"*"SIZE" ]]
	[[ "${lines[1]}" =~ ^busybox\ +latest\ +[0-9a-f]{12}\ +.*(second|minute).*\ ago\ +[0-9.]+MB$ ]]
	id=$(docker image inspect --format '{{.Id}}' busybox)
	run docker images -q busybox
	[ "$output" = "${id:7:12}" ]
	run docker images --no-trunc --format '{{.ID}}' busybox
	[ "$output" = "$id" ]
	run docker images --digests --format '{{.Repository}} {{.Digest}}' busybox
	[ "$output" = "busybox <none>" ]
	run docker image ls --filter reference='busy*' --format '{{.Repository}}:{{.Tag}}'
	[ "$output" = "busybox:latest" ]
}

@test "docker tag, history and rmi" {
	run docker tag busybox example.com/team/bb:1.0
	[ "$status" -eq 0 ]
	run docker images --format '{{.Repository}}:{{.Tag}}' example.com/team/bb
	[ "$output" = "example.com/team/bb:1.0" ]
	run docker history busybox
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "IMAGE          CREATED"*"CREATED BY"*"SIZE"*"COMMENT" ]]
	[[ "${lines[1]}" == *"busybox rootfs" ]]
	run docker history -q busybox
	[ "$output" = "$(docker images -q busybox)" ]
	run docker rmi example.com/team/bb:1.0
	[ "$status" -eq 0 ]
	[ "$output" = "Untagged: example.com/team/bb:1.0" ]
	run docker rmi nosuch
	[ "$status" -eq 1 ]
	[ "$output" = "Error response from daemon: No such image: nosuch:latest" ]
}

@test "docker save, docker load into a fresh berthd: same ID and layer digests" {
	id=$(docker image inspect --format '{{.Id}}' busybox)
	layers=$(docker image inspect --format '{{json .RootFS.Layers}}' busybox)
	run docker save -o "$BERTH_ROOT/bb.tar" busybox
	[ "$status" -eq 0 ]
	second_start
	run env DOCKER_HOST="unix://$SOCK2" docker load -i "$BERTH_ROOT/bb.tar"
	[ "$status" -eq 0 ]
	[ "$output" = "Loaded image: busybox:latest" ]
	[ "$(DOCKER_HOST="unix://$SOCK2" docker image inspect --format '{{.Id}}' busybox)" = "$id" ]
	[ "$(DOCKER_HOST="unix://$SOCK2" docker image inspect --format '{{json .RootFS.Layers}}' busybox)" = "$layers" ]
	# a pipe works too, and loading again changes nothing
	run bash -c "docker save busybox | DOCKER_HOST=unix://$SOCK2 docker load"
	[ "$status" -eq 0 ]
	[ "$output" = "Loaded image: busybox:latest" ]
}

@test "docker load of bad archives fails with a clear error" {
	require_python
	head -c 100000 <(docker save busybox) >"$BERTH_ROOT/trunc.tar"
	run docker load -i "$BERTH_ROOT/trunc.tar"
	[ "$status" -eq 1 ]
	[[ "$output" == *"unexpected EOF"* ]]
	mk_evil_layer "$BERTH_ROOT/evil.tar" symlink
	mk_archive "$BERTH_ROOT/evil-image.tar" "$BERTH_ROOT/evil.tar"
	run docker load -i "$BERTH_ROOT/evil-image.tar"
	[ "$status" -eq 1 ]
	[[ "$output" == *"escapes the layer through a symlink"* ]]
	run docker images -q bad
	[ -z "$output" ]
}

@test "docker image prune and system df" {
	printf 'x' >"$BERTH_ROOT/x"
	tar -C "$BERTH_ROOT" -cf "$BERTH_ROOT/x.tar" x
	docker import "$BERTH_ROOT/x.tar" >/dev/null
	run docker image prune -f
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "Deleted Images:" ]]
	[[ "$output" == *"Total reclaimed space: "* ]]
	run docker system df
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE" ]
	[[ "${lines[1]}" =~ ^Images\ +1\ +0\ + ]]
	run docker system df -v
	[ "$status" -eq 0 ]
	[[ "$output" == *"Images space usage:"* ]]
}

@test "docker image inspect prints the 1.47 shape" {
	run docker image inspect busybox
	[ "$status" -eq 0 ]
	[ "$(jq -r '.[0].RepoTags[0]' <<<"$output")" = busybox:latest ]
	[ "$(jq -r '.[0].Metadata.LastTagTime' <<<"$output")" != null ]
	[ "$(jq -r '.[0] | has("ContainerConfig")' <<<"$output")" = false ]
}

@test "interchange with dockerd: the same image IDs both ways" {
	PATH=$PATH:/usr/sbin
	command -v dockerd >/dev/null || skip "dockerd is not installed on this machine"
	docker image inspect busybox >/dev/null 2>&1 || busybox_image busybox:latest
	dockerd_start || { cat "$DROOT/log" >&2; skip "dockerd did not start here"; }
	id=$(docker image inspect --format '{{.Id}}' busybox)
	docker save -o "$DROOT/from-berth.tar" busybox
	run env DOCKER_HOST="unix://$DSOCK" docker load -i "$DROOT/from-berth.tar"
	[ "$status" -eq 0 ]
	[ "$(DOCKER_HOST="unix://$DSOCK" docker image inspect --format '{{.Id}}' busybox)" = "$id" ]
	DOCKER_HOST="unix://$DSOCK" docker tag busybox fromdockerd:1
	DOCKER_HOST="unix://$DSOCK" docker save -o "$DROOT/from-dockerd.tar" fromdockerd:1
	run docker load -i "$DROOT/from-dockerd.tar"
	[ "$status" -eq 0 ]
	[ "$(docker image inspect --format '{{.Id}}' fromdockerd:1)" = "$id" ]
	[ "$(docker image inspect --format '{{json .RootFS.Layers}}' fromdockerd:1)" = \
	  "$(DOCKER_HOST="unix://$DSOCK" docker image inspect --format '{{json .RootFS.Layers}}' busybox)" ]
	docker rmi fromdockerd:1 >/dev/null
}

@test "interchange with dockerd: an image dockerd made (import) loads here with its ID" {
	PATH=$PATH:/usr/sbin
	command -v dockerd >/dev/null || skip "dockerd is not installed on this machine"
	dockerd_start || { cat "$DROOT/log" >&2; skip "dockerd did not start here"; }
	busybox_rootfs "$DROOT/rootfs"
	tar -C "$DROOT/rootfs" -cf "$DROOT/rootfs.tar" .
	DOCKER_HOST="unix://$DSOCK" docker import -c 'CMD ["sh"]' "$DROOT/rootfs.tar" dimp:1 >/dev/null
	did=$(DOCKER_HOST="unix://$DSOCK" docker image inspect --format '{{.Id}}' dimp:1)
	DOCKER_HOST="unix://$DSOCK" docker save dimp:1 | docker load
	[ "$(docker image inspect --format '{{.Id}}' dimp:1)" = "$did" ]
	# and back: berthd's save of it loads into dockerd as the same image
	DOCKER_HOST="unix://$DSOCK" docker rmi dimp:1 >/dev/null
	docker save dimp:1 | DOCKER_HOST="unix://$DSOCK" docker load
	[ "$(DOCKER_HOST="unix://$DSOCK" docker image inspect --format '{{.Id}}' dimp:1)" = "$did" ]
	docker rmi dimp:1 >/dev/null
}
