#!/usr/bin/env bats
# The real docker CLI against berthd and Debian's docker-registry on
# 127.0.0.1: login (htpasswd), push, pull, logout, as docker prints them;
# and, where dockerd is installed, images going both ways between berthd
# and dockerd through the registry with the same manifest digests.

load ../helpers
load ../registry_lib

setup_file() {
	berth_start
	registry_start --htpasswd
}

teardown_file() {
	registry_stop
	berth_stop
}

setup() {
	require_docker_cli
	export DOCKER_CONFIG="$BATS_FILE_TMPDIR/docker-config"
}

teardown() {
	dockerd_stop
}

@test "docker login: a wrong password as dockerd refuses it, then the right one" {
	run docker login -u "$REG_USER" -p wrong "$REG"
	[ "$status" -ne 0 ]
	echo "$output" | grep -q "Error response from daemon: login attempt to http://$REG/v2/ failed with status: 401 Unauthorized"
	run docker login -u "$REG_USER" --password-stdin "$REG" <<<"$REG_PASS"
	[ "$status" -eq 0 ]
	echo "$output" | grep -q "Login Succeeded"
	[ "$(jq -r --arg r "$REG" '.auths[$r].auth' "$DOCKER_CONFIG/config.json" | base64 -d)" = "$REG_USER:$REG_PASS" ]
}

@test "docker push, rmi, pull, run: the digest skopeo sees" {
	busybox_image compat:v1
	docker tag compat:v1 "$REG/compat:v1"
	run docker push "$REG/compat:v1"
	[ "$status" -eq 0 ]
	echo "$output" | grep -q "^The push refers to repository \[$REG/compat\]"
	echo "$output" | grep -qE '^[0-9a-f]{12}: Pushed$'
	want=$(rskopeo inspect --tls-verify=false --creds "$REG_USER:$REG_PASS" --format '{{.Digest}}' "docker://$REG/compat:v1")
	echo "$output" | grep -q "^v1: digest: $want size: "
	docker rmi "$REG/compat:v1" compat:v1 >/dev/null
	run docker pull "$REG/compat:v1"
	[ "$status" -eq 0 ]
	echo "$output" | grep -q "^v1: Pulling from compat$"
	echo "$output" | grep -qE '^[0-9a-f]{12}: Pull complete$'
	echo "$output" | grep -q "^Digest: $want$"
	echo "$output" | grep -q "^Status: Downloaded newer image for $REG/compat:v1$"
	[ "${lines[-1]}" = "$REG/compat:v1" ]
	[ "$(docker image inspect --format '{{index .RepoDigests 0}}' "$REG/compat:v1")" = "$REG/compat@$want" ]
	run docker run --rm "$REG/compat:v1" sh -c 'echo from-the-registry'
	[ "$output" = from-the-registry ]
	run docker pull -q "$REG/compat:v1"
	[ "$output" = "$REG/compat:v1" ]
}

@test "docker pull of a missing tag, docker push of a missing image: docker's errors" {
	run docker pull "$REG/compat:missing"
	[ "$status" -ne 0 ]
	[ "$output" = "Error response from daemon: manifest for $REG/compat:missing not found: manifest unknown: manifest unknown" ]
	run docker push "$REG/nothere:v1"
	[ "$status" -ne 0 ]
	echo "$output" | grep -q "An image does not exist locally with the tag: $REG/nothere"
}

@test "docker push -a, docker pull -a: every tag of the repository, as docker prints them" {
	docker tag "$REG/compat:v1" "$REG/compat:v2"
	run docker push -a "$REG/compat"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "The push refers to repository [$REG/compat]" ]
	for t in v1 v2; do
		want=$(rskopeo inspect --tls-verify=false --creds "$REG_USER:$REG_PASS" --format '{{.Digest}}' "docker://$REG/compat:$t")
		echo "$output" | grep -q "^$t: digest: $want size: "
	done
	docker rmi "$REG/compat:v1" "$REG/compat:v2" >/dev/null
	run docker pull -a "$REG/compat"
	[ "$status" -eq 0 ]
	echo "$output" | grep -q "^v1: Pulling from compat$"
	echo "$output" | grep -q "^v2: Pulling from compat$"
	echo "$output" | grep -q "^Status: Downloaded newer image for $REG/compat$"
	[ "${lines[-1]}" = "$REG/compat" ]
	[ "$(docker images --format '{{.Tag}}' "$REG/compat" | sort | tr '\n' ' ')" = "v1 v2 " ]
	docker rmi "$REG/compat:v2" >/dev/null
}

@test "docker logout: credentials gone, pulls unauthorized" {
	run docker logout "$REG"
	[ "$output" = "Removing login credentials for $REG" ]
	docker rmi "$REG/compat:v1" >/dev/null
	run docker pull "$REG/compat:v1"
	[ "$status" -ne 0 ]
	echo "$output" | grep -q "no basic auth credentials"
	[ -z "$(docker images -q "$REG/compat")" ]
}

@test "interchange with dockerd: dockerd pulls what berthd pushed and the reverse" {
	PATH=$PATH:/usr/sbin
	command -v dockerd >/dev/null || skip "dockerd is not installed on this machine"
	dockerd_start || { cat "$DROOT/log" >&2; skip "dockerd did not start here"; }
	docker login -u "$REG_USER" --password-stdin "$REG" <<<"$REG_PASS" >/dev/null
	busybox_image inter:b
	docker tag inter:b "$REG/inter:b"
	docker push "$REG/inter:b" >/dev/null
	id=$(docker image inspect --format '{{.Id}}' "$REG/inter:b")
	run env DOCKER_HOST="unix://$DSOCK" docker pull "$REG/inter:b"
	[ "$status" -eq 0 ]
	[ "$(DOCKER_HOST="unix://$DSOCK" docker image inspect --format '{{.Id}}' "$REG/inter:b")" = "$id" ]
	# random bytes: their chunks are stored, not deflated; dockerd checks the diff IDs
	rootfs=$(mktemp -d "$BERTH_ROOT/random.XXXXXX")
	busybox_rootfs "$rootfs/r"
	head -c 3500000 /dev/urandom >"$rootfs/r/random"
	tar -C "$rootfs/r" -cf "$rootfs/r.tar" .
	curl -sf --unix-socket "$BERTH_SOCK" -X POST --data-binary "@$rootfs/r.tar" \
		"http://berth/images/create?fromSrc=-&repo=$REG/inter&tag=random" >/dev/null
	rm -rf "$rootfs"
	docker push "$REG/inter:random" >/dev/null
	run env DOCKER_HOST="unix://$DSOCK" docker pull "$REG/inter:random"
	[ "$status" -eq 0 ]
	[ "$(DOCKER_HOST="unix://$DSOCK" docker image inspect --format '{{.Id}}' "$REG/inter:random")" = \
		"$(docker image inspect --format '{{.Id}}' "$REG/inter:random")" ]
	DOCKER_HOST="unix://$DSOCK" docker tag "$REG/inter:b" "$REG/inter:d"
	DOCKER_HOST="unix://$DSOCK" docker push "$REG/inter:d" >/dev/null
	want=$(rskopeo inspect --tls-verify=false --creds "$REG_USER:$REG_PASS" --format '{{.Digest}}' "docker://$REG/inter:d")
	run docker pull "$REG/inter:d"
	[ "$status" -eq 0 ]
	echo "$output" | grep -q "^Digest: $want$"
	[ "$(docker image inspect --format '{{.Id}}' "$REG/inter:d")" = "$id" ]
}
