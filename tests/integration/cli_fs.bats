#!/usr/bin/env bats
# bin/berth's commit, diff, export and cp against a private berthd, with the
# results docker's CLI gives for the same copies.

load ../helpers

setup_file() {
	berth_start
	busybox_image busybox:latest
}

teardown_file() {
	if [ -n "${BERTH_SOCK:-}" ] && kill -0 "${BERTHD_PID:-0}" 2>/dev/null; then
		"$BERTH" ps -aq | xargs -r "$BERTH" rm -f >/dev/null 2>&1 || true
	fi
	berth_stop
}

setup() {
	WORK=$(mktemp -d "$BERTH_ROOT/cli.XXXXXX")
}

# Every test leaves no container behind, whatever happened.
teardown() {
	"$BERTH" ps -aq | xargs -r "$BERTH" rm -f >/dev/null 2>&1 || true
	[ -n "${WORK:-}" ] && rm -rf "$WORK"
	return 0
}

@test "berth commit: ID, tag, author, message, changes; --no-pause" {
	"$BERTH" run --name c1 busybox sh -c 'echo made > /made'
	run "$BERTH" commit -a someone -m "the message" -c 'CMD ["cat", "/made"]' c1 made:v1
	[ "$status" -eq 0 ]
	[[ "$output" == sha256:* ]]
	run "$BERTH" run --rm made:v1
	[ "$output" = made ]
	run "$BERTH" image inspect -f '{{.Author}}|{{.Comment}}' made:v1
	[ "$output" = "someone|the message" ]
	# no repository: an untagged image
	run "$BERTH" commit c1
	[ "$status" -eq 0 ]
	"$BERTH" run -d --name c2 busybox sleep 300
	run "$BERTH" commit --no-pause c2 made:live
	[ "$status" -eq 0 ]
	run "$BERTH" commit c2 'made@sha256:0000000000000000000000000000000000000000000000000000000000000000'
	[ "$status" -eq 1 ]
	[[ "$output" == *"refusing to create a tag with a digest reference"* ]]
	run "$BERTH" commit nosuch
	[ "$status" -eq 1 ]
	[ "$output" = "Error response from daemon: No such container: nosuch" ]
}

@test "berth diff and berth container diff" {
	"$BERTH" run --name d1 busybox sh -c 'rm /etc/group; echo n > /new'
	run "$BERTH" diff d1
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'C /etc\nD /etc/group\nA /new')" ]
	run "$BERTH" container diff d1
	[ "$output" = "$(printf 'C /etc\nD /etc/group\nA /new')" ]
	run "$BERTH" diff
	[ "$status" -eq 1 ]
	[[ "$output" == *"'berth diff' requires 1 argument"* ]]
}

@test "berth export: to a file, to a pipe, never to a terminal" {
	"$BERTH" run --name e1 busybox sh -c 'echo x > /exported'
	"$BERTH" export -o "$WORK/e1.tar" e1
	run tar xOf "$WORK/e1.tar" exported
	[ "$output" = x ]
	run bash -c "'$BERTH' export e1 | tar t | grep -c '^bin/'"
	[ "$output" -gt 100 ]
	run script -qec "'$BERTH' export e1" /dev/null
	[[ "$output" == *"cowardly refusing to save to a terminal"* ]]
	[ ! -e "$WORK/e1.tar.berth-export-"* ]
}

@test "berth cp out of a container: the shapes docker cp gives" {
	"$BERTH" run --name p1 busybox sh -c 'echo one > /one; mkdir -p /d/s; echo two > /d/s/two; ln -s /one /link; ln -s d /dlink'
	"$BERTH" cp p1:/one "$WORK/"
	[ "$(cat "$WORK/one")" = one ]
	"$BERTH" cp p1:/one "$WORK/renamed"
	[ "$(cat "$WORK/renamed")" = one ]
	"$BERTH" cp p1:/d "$WORK/"
	[ "$(cat "$WORK/d/s/two")" = two ]
	"$BERTH" cp p1:/d "$WORK/newdir"
	[ "$(cat "$WORK/newdir/s/two")" = two ]
	mkdir "$WORK/into"
	"$BERTH" cp p1:/d/. "$WORK/into"
	[ "$(cat "$WORK/into/s/two")" = two ]
	"$BERTH" cp p1:/link "$WORK/"
	[ "$(readlink "$WORK/link")" = /one ]
	"$BERTH" cp -L p1:/link "$WORK/followed"
	[ "$(cat "$WORK/followed")" = one ]
	"$BERTH" cp -L p1:/dlink "$WORK/dfollowed"
	[ "$(cat "$WORK/dfollowed/s/two")" = two ]
	run bash -c "'$BERTH' cp p1:/d - | tar t"
	[ "$output" = "$(printf 'd/\nd/s/\nd/s/two')" ]
	# errors as docker words them
	run "$BERTH" cp p1:/nope "$WORK/"
	[ "$status" -eq 1 ]
	[ "$output" = "Error response from daemon: Could not find the file /nope in container p1" ]
	run "$BERTH" cp p1:/d "$WORK/one"
	[ "$output" = "cannot copy directory" ]
	run "$BERTH" cp p1:/one "$WORK/missing/x"
	[[ "$output" == "invalid output path: directory \"$WORK/missing\" does not exist" ]]
}

@test "berth cp into a container: files, directories, stdin, and docker's errors" {
	echo file > "$WORK/f"
	mkdir -p "$WORK/tree/sub"
	echo leaf > "$WORK/tree/sub/leaf"
	"$BERTH" create --name p2 busybox true
	"$BERTH" cp "$WORK/f" p2:/tmp/
	"$BERTH" cp "$WORK/f" p2:/etc/renamed
	"$BERTH" cp "$WORK/tree" p2:/opt
	"$BERTH" cp "$WORK/tree/." p2:/root
	tar -C "$WORK" -cf - f | "$BERTH" cp - p2:/home
	run bash -c "'$BERTH' cp p2:/tmp/f - | tar xO"
	[ "$output" = file ]
	run bash -c "'$BERTH' cp p2:/etc/renamed - | tar xO"
	[ "$output" = file ]
	run bash -c "'$BERTH' cp p2:/opt/sub/leaf - | tar xO"
	[ "$output" = leaf ]
	run bash -c "'$BERTH' cp p2:/root/sub/leaf - | tar xO"
	[ "$output" = leaf ]
	run bash -c "'$BERTH' cp p2:/home/f - | tar xO"
	[ "$output" = file ]
	run "$BERTH" cp "$WORK/tree" p2:/etc/passwd
	[ "$output" = "cannot copy directory" ]
	run "$BERTH" cp "$WORK/f" p2:/no/such/dir/f
	[ "$output" = "Error response from daemon: Could not find the file /no/such/dir in container p2" ]
	run "$BERTH" cp "$WORK/f" p2:/new/
	[ "$output" = "no such directory" ]
	run "$BERTH" cp - p2:/etc/passwd </dev/null
	[ "$output" = 'destination "p2:/etc/passwd" must be a directory' ]
	run "$BERTH" cp p2:/a p2:/b
	[ "$output" = "copying between containers is not supported" ]
	run "$BERTH" cp "$WORK/f" "$WORK/g"
	[ "$output" = "must specify at least one container source" ]
	run "$BERTH" cp "$WORK/nope" p2:/tmp
	[ "$status" -eq 1 ]
	[[ "$output" == *"$WORK/nope"* ]]
}

@test "berth cp refuses a container's link that points above the destination" {
	"$BERTH" run --name p3 busybox sh -c 'mkdir -p /tmp/w; ln -s ../../../../.. /tmp/w/up; ln -s /etc /tmp/w/abs'
	mkdir "$WORK/out"
	run "$BERTH" cp p3:/tmp/w "$WORK/out/"
	[ "$status" -eq 1 ]
	[ "$output" = "invalid symlink \"$WORK/out/w/up\" -> \"../../../../..\"" ]
	[ ! -e "$WORK/out/w/up" ]
	# absolute links are copied as they are, as docker does
	"$BERTH" run --name p4 busybox sh -c 'mkdir -p /tmp/v; ln -s /etc /tmp/v/abs'
	"$BERTH" cp p4:/tmp/v "$WORK/out/"
	[ "$(readlink "$WORK/out/v/abs")" = /etc ]
}
