#!/usr/bin/env bats
# The real docker CLI on a container's files (issue 4): commit, diff, export,
# cp both ways, and the archive API's safety against archives and links that
# point out of the container.

load ../helpers

setup_file() {
	command -v docker >/dev/null || return 0
	berth_start
	busybox_image busybox:latest
	export FS_TMP="$BERTH_ROOT/host"
	mkdir -p "$FS_TMP"
}
teardown_file() {
	if [ -n "${BERTH_SOCK:-}" ]; then
		docker ps -aq 2>/dev/null | xargs -r docker rm -f >/dev/null 2>&1 || true
	fi
	berth_stop
}
setup() {
	require_docker_cli
	WORK=$(mktemp -d "$FS_TMP/t.XXXXXX")
}
teardown() {
	[ -n "${WORK:-}" ] && rm -rf "$WORK"
	return 0
}

# tar_of OUT NAME=TYPE[:ARG]...: a crafted archive (python's tarfile):
# file:CONTENT, dir, symlink:TARGET, hardlink:TARGET.
tar_of() {
	python3 - "$@" <<'EOF'
import io, sys, tarfile
out, specs = sys.argv[1], sys.argv[2:]
with tarfile.open(out, "w") as t:
    for spec in specs:
        name, _, rest = spec.partition("=")
        kind, _, arg = rest.partition(":")
        info = tarfile.TarInfo(name)
        info.mode = 0o755 if kind == "dir" else 0o644
        data = None
        if kind == "file":
            data = arg.encode()
            info.size = len(data)
        elif kind == "dir":
            info.type = tarfile.DIRTYPE
        elif kind == "symlink":
            info.type, info.linkname = tarfile.SYMTYPE, arg
        elif kind == "hardlink":
            info.type, info.linkname = tarfile.LNKTYPE, arg
        t.addfile(info, io.BytesIO(data) if data is not None else None)
EOF
}

# ------------------------------------------------------------------ commit

@test "docker commit: the new image has the file, the changes and the history" {
	docker run --name cm1 busybox sh -c 'echo committed > /hello; rm /etc/group'
	run docker commit -a "Ann Author" -m "a message" -c 'CMD ["cat", "/hello"]' -c 'ENV FOO=bar' cm1 committed:v1
	[ "$status" -eq 0 ]
	[[ "$output" == sha256:* ]]
	id=$output
	run docker run --rm committed:v1
	[ "$status" -eq 0 ]
	[ "$output" = committed ]
	run docker run --rm committed:v1 sh -c 'test -e /etc/group || echo gone; echo $FOO'
	[ "$output" = "$(printf 'gone\nbar')" ]
	run docker inspect -f '{{.Id}}|{{.Author}}|{{.Comment}}|{{json .Config.Cmd}}|{{.Parent}}' committed:v1
	[[ "$output" == "$id|Ann Author|a message|[\"cat\",\"/hello\"]|sha256:"* ]]
	run docker history --format '{{.Comment}}|{{.CreatedBy}}' committed:v1
	[ "${lines[0]}" = "a message|sh -c echo committed > /hello; rm /etc/group" ]
	[ "${#lines[@]}" -eq 2 ]
	docker rm cm1
}

@test "docker commit of a running container: its changes, and it keeps running" {
	docker run -d --name cm2 busybox sleep 300
	docker exec cm2 sh -c 'echo live > /live.txt'
	run docker commit cm2 committed:live
	[ "$status" -eq 0 ]
	run docker inspect -f '{{.State.Status}} {{.State.Paused}}' cm2
	[ "$output" = "running false" ]
	run docker run --rm committed:live cat /live.txt
	[ "$output" = live ]
	# --pause=false commits without the freezer
	run docker commit --pause=false cm2
	[ "$status" -eq 0 ]
	# a paused container stays paused
	docker pause cm2
	docker commit cm2 committed:paused
	run docker inspect -f '{{.State.Status}}' cm2
	[ "$output" = paused ]
	docker unpause cm2
	docker rm -f cm2
}

@test "docker commit: events, errors" {
	docker create --name cm3 busybox true
	since=$(date +%s)
	id=$(docker commit -m note cm3 committed:ev)
	sleep 0.2
	run docker events --since "$since" --until "$(($(date +%s) + 1))" \
		--format '{{.Type}} {{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.imageID}} {{.Actor.Attributes.imageRef}} {{.Actor.Attributes.comment}}'
	[[ "$output" == *"image tag committed:ev"* ]]
	[[ "$output" == *"container commit cm3 $id committed:ev note"* ]]
	run docker commit nosuchcontainer
	[ "$status" -ne 0 ]
	[[ "$output" == *"No such container: nosuchcontainer"* ]]
	run docker commit -c 'BOGUS x' cm3
	[ "$status" -ne 0 ]
	[[ "$output" == *"bogus is not a valid change command"* ]]
	run docker commit cm3 'Bad:Name'
	[ "$status" -ne 0 ]
	docker rm cm3
}

@test "POST /commit with a Config body merges it with the container's" {
	docker create --name cm4 -e KEEP=1 busybox sleep 1
	run api POST "/commit?container=cm4&repo=committed&tag=body" -H 'Content-Type: application/json' \
		-d '{"Cmd": ["echo", "from-body"], "Env": ["NEW=2"]}'
	api_split
	[ "$status" = 201 ]
	[[ "$body" == '{"Id":"sha256:'* ]]
	run docker inspect -f '{{json .Config.Cmd}} {{json .Config.Env}}' committed:body
	[[ "$output" == '["echo","from-body"] ["NEW=2",'*'"KEEP=1"'* ]]
	run docker run --rm committed:body
	[ "$output" = from-body ]
	docker rm cm4
}

# -------------------------------------------------------------------- diff

@test "docker diff shows A, C and D" {
	docker run --name df1 busybox sh -c 'echo x >> /etc/passwd; rm /etc/group; mkdir -p /tmp/d; echo y > /tmp/d/f; echo z > /new'
	run docker diff df1
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'C /etc\nD /etc/group\nC /etc/passwd\nA /new\nC /tmp\nA /tmp/d\nA /tmp/d/f')" ]
	docker rm df1
}

@test "docker diff of an unchanged container is empty (null in the API)" {
	docker run --name df2 busybox true
	run docker diff df2
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	run api GET /containers/df2/changes
	api_split
	[ "$status" = 200 ]
	[ "$(printf %s "$body" | tr -d '\n')" = null ]
	docker create --name df3 busybox true
	run docker diff df3
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	run docker diff nosuchcontainer
	[[ "$output" == *"No such container"* ]]
	docker rm df2 df3
}

# ------------------------------------------------------------------ export

@test "docker export | tar t: the whole file system, running or not" {
	docker run --name ex1 busybox sh -c 'echo e > /exported'
	run bash -c 'docker export ex1 | tar t'
	[ "$status" -eq 0 ]
	[[ "$output" == *$'\nbin/sh\n'* ]]
	[[ "$output" == *$'\netc/passwd\n'* ]]
	[[ "$output" == *$'\nexported'* ]]
	[[ "$output" != *"./"* ]]
	docker export -o "$WORK/ex1.tar" ex1
	run tar xOf "$WORK/ex1.tar" exported
	[ "$output" = e ]
	# never started
	docker create --name ex2 busybox true
	run bash -c 'docker export ex2 | tar t | grep -c "^bin/"'
	[ "$output" -gt 100 ]
	# running: its files, not its /proc
	docker run -d --name ex3 busybox sh -c 'echo r > /running; sleep 300'
	sleep 0.3
	run bash -c 'docker export ex3 | tar t'
	[[ "$output" == *$'\nrunning'* ]]
	[[ "$output" != *"proc/1/"* ]]
	docker rm -f ex1 ex2 ex3
}

# ------------------------------------------------------------ cp: out of

@test "docker cp container to host: files, directories, contents with /." {
	docker run --name cp1 busybox sh -c 'echo one > /one; mkdir -p /d/sub; echo two > /d/sub/two; ln -s /one /link'
	docker cp cp1:/one "$WORK/"
	[ "$(cat "$WORK/one")" = one ]
	docker cp cp1:/one "$WORK/renamed"
	[ "$(cat "$WORK/renamed")" = one ]
	docker cp cp1:/d "$WORK/"
	[ "$(cat "$WORK/d/sub/two")" = two ]
	mkdir "$WORK/contents"
	docker cp cp1:/d/. "$WORK/contents"
	[ "$(cat "$WORK/contents/sub/two")" = two ]
	# a link is copied as a link; -L follows it
	docker cp cp1:/link "$WORK/"
	[ "$(readlink "$WORK/link")" = /one ]
	docker cp -L cp1:/link "$WORK/followed"
	[ "$(cat "$WORK/followed")" = one ]
	# to stdout as a tar
	run bash -c "docker cp cp1:/d - | tar t"
	[ "$output" = "$(printf 'd/\nd/sub/\nd/sub/two')" ]
	docker rm cp1
}

@test "docker cp from a running container, through its volume" {
	docker run -d --name cp2 -v cpvol:/data busybox sh -c 'echo inside > /data/v; echo top > /top; sleep 300'
	sleep 0.3
	run bash -c "docker cp cp2:/data/v - | tar xO"
	[ "$output" = inside ]
	run bash -c "docker cp cp2:/top - | tar xO"
	[ "$output" = top ]
	docker rm -f cp2
	docker volume rm cpvol
}

@test "docker cp of / from a running container: its files, not the kernel's" {
	docker run -d --name cp9 busybox sh -c 'echo r > /root/r; sleep 300'
	sleep 0.3
	run bash -c "docker cp cp9:/ - | tar t"
	[ "$status" -eq 0 ]
	[[ "$output" == *$'\n/root/r\n'* || "$output" == *$'\n/root/r' ]]
	[[ "$output" == *$'\n/proc/\n'* ]]
	[[ "$output" != *"/proc/1/"* ]]
	[[ "$output" != *"/sys/kernel"* ]]
	docker rm -f cp9
}

@test "docker cp errors: missing paths, a directory onto a file" {
	docker create --name cp3 busybox true
	run docker cp cp3:/nope "$WORK/"
	[ "$status" -ne 0 ]
	[[ "$output" == *"Could not find the file /nope in container cp3"* ]]
	echo data > "$WORK/f"
	run docker cp "$WORK/f" cp3:/no/such/dir/f
	[ "$status" -ne 0 ]
	[[ "$output" == *"Could not find the file /no/such/dir in container cp3"* ]]
	mkdir "$WORK/dir"
	run docker cp "$WORK/dir" cp3:/etc/passwd
	[ "$status" -ne 0 ]
	[[ "$output" == *"cannot copy directory"* ]]
	run docker cp "$WORK/f" cp3:/etc/passwd/x
	[ "$status" -ne 0 ]
	[[ "$output" == *"extraction point is not a directory"* ]]
	run docker cp cp3:/etc/passwd/ "$WORK/"
	[ "$status" -ne 0 ]
	[[ "$output" == *"lstat /etc/passwd/: not a directory"* ]]
	run docker cp "$WORK/f" nosuch:/tmp
	[ "$status" -ne 0 ]
	[[ "$output" == *"No such container"* ]]
	docker rm cp3
}

# -------------------------------------------------------------- cp: into

@test "docker cp host to container: files and directories, stopped and running" {
	echo file > "$WORK/f"
	mkdir -p "$WORK/tree/sub"
	echo leaf > "$WORK/tree/sub/leaf"
	docker create --name cp4 busybox true
	docker cp "$WORK/f" cp4:/tmp/
	docker cp "$WORK/f" cp4:/etc/renamed
	docker cp "$WORK/tree" cp4:/opt
	run bash -c "docker cp cp4:/tmp/f - | tar xO"
	[ "$output" = file ]
	run bash -c "docker cp cp4:/etc/renamed - | tar xO"
	[ "$output" = file ]
	run bash -c "docker cp cp4:/opt/sub/leaf - | tar xO"
	[ "$output" = leaf ]
	# the files are in the container's layer: its diff and its runs see them
	run docker diff cp4
	[[ "$output" == *"A /tmp/f"* ]]
	run docker start -a cp4
	[ "$status" -eq 0 ]
	docker run -d --name cp5 busybox sleep 300
	docker cp "$WORK/tree" cp5:/tmp/
	run docker exec cp5 cat /tmp/tree/sub/leaf
	[ "$output" = leaf ]
	# replacing a file
	echo new > "$WORK/f"
	docker cp "$WORK/f" cp5:/tmp/tree/sub/leaf
	run docker exec cp5 cat /tmp/tree/sub/leaf
	[ "$output" = new ]
	docker rm -f cp4 cp5
}

@test "docker cp into volumes: running and stopped containers write into the volume" {
	echo v1 > "$WORK/f1"
	echo v2 > "$WORK/f2"
	docker run -d --name cp6 -v cpvol2:/data busybox sleep 300
	docker cp "$WORK/f1" cp6:/data/
	docker stop -t 0 cp6
	docker cp "$WORK/f2" cp6:/data/
	run docker run --rm -v cpvol2:/data busybox cat /data/f1 /data/f2
	[ "$output" = "$(printf 'v1\nv2')" ]
	run docker cp cp6:/data/f2 -
	[ "$status" -eq 0 ]
	# the volume itself, out of the stopped container, named as asked
	docker cp cp6:/data "$WORK/vol"
	[ "$(cat "$WORK/vol/f1" "$WORK/vol/f2")" = "$(printf 'v1\nv2')" ]
	run bash -c "docker cp cp6:/data - | tar t | sort"
	[ "$output" = "$(printf 'data/\ndata/f1\ndata/f2')" ]
	docker rm -f cp6
	docker volume rm cpvol2
}

@test "docker cp -a gives the container's user; without it the archive's owner" {
	echo f > "$WORK/owned"
	chown 4321:4321 "$WORK/owned"
	docker create --name cp7 --user 1000 busybox true
	docker cp "$WORK/owned" cp7:/tmp/plain
	docker cp -a "$WORK/owned" cp7:/tmp/archived
	run bash -c "docker cp cp7:/tmp/plain - | tar tv --numeric-owner"
	[[ "$output" == *" 4321/4321 "* ]]
	run bash -c "docker cp cp7:/tmp/archived - | tar tv --numeric-owner"
	[[ "$output" == *" 1000/1000 "* ]]
	docker rm cp7
}

@test "docker cp into a read-only container is refused" {
	docker run -d --name cp8 --read-only busybox sleep 300
	echo x > "$WORK/x"
	run docker cp "$WORK/x" cp8:/tmp/
	[ "$status" -ne 0 ]
	[[ "$output" == *"container rootfs is marked read-only"* ]]
	docker rm -f cp8
}

# ------------------------------------------------------------- archive API

@test "HEAD archive: the path stat header, 404 for a missing path" {
	docker create --name ar1 busybox true
	stat_of() {
		curl -s -I --unix-socket "$BERTH_SOCK" "http://berth/containers/ar1/archive?path=$1" |
			tr -d '\r' | awk -F': ' 'tolower($1) == "x-docker-container-path-stat" {print $2}' | base64 -d
	}
	run stat_of /bin/sh
	[[ "$output" == '{"name":"sh","size":7,"mode":134218239,"mtime":"'*'","linkTarget":"/bin/busybox"}' ]]
	run stat_of /etc
	[[ "$output" == '{"name":"etc",'*'"mode":2147484141,'* ]]
	run api HEAD "/containers/ar1/archive?path=/nope" -I
	[[ "$output" == *"404"* ]]
	run api GET "/containers/ar1/archive?path=/nope"
	api_split
	[ "$status" = 404 ]
	[ "$(printf %s "$body" | tr -d '\n')" = '{"message":"Could not find the file /nope in container ar1"}' ]
	run api GET "/containers/ar1/archive"
	api_split
	[ "$status" = 400 ]
	run api PUT "/containers/ar1/archive?path=/etc/passwd" --data-binary @/dev/null
	api_split
	[ "$status" = 400 ]
	[ "$(printf %s "$body" | tr -d '\n')" = '{"message":"extraction point is not a directory"}' ]
	docker rm ar1
}

@test "PUT archive refuses entries that climb out, and links never lead out of the container" {
	docker create --name ar2 busybox true
	marker="$WORK/outside"
	# ../ entries
	tar_of "$WORK/up.tar" "../../../../../../..$marker=file:escaped"
	run api PUT "/containers/ar2/archive?path=/tmp" --data-binary "@$WORK/up.tar"
	api_split
	[ "$status" = 500 ]
	[[ "$body" == *"is outside of"* ]]
	[ ! -e "$marker" ]
	# a relative link pointing above the extraction point
	tar_of "$WORK/link.tar" "l=symlink:../../../../.."
	run api PUT "/containers/ar2/archive?path=/tmp" --data-binary "@$WORK/link.tar"
	api_split
	[ "$status" = 500 ]
	[[ "$body" == *"invalid symlink"* ]]
	# an absolute link is the container's "/": what goes through it stays inside
	tar_of "$WORK/abs.tar" "root=symlink:/" "root${WORK}/outside=file:inside"
	run api PUT "/containers/ar2/archive?path=/tmp" --data-binary "@$WORK/abs.tar"
	api_split
	[ "$status" = 200 ]
	[ ! -e "$marker" ]
	run bash -c "docker cp ar2:$marker - | tar xO"
	[ "$output" = inside ]
	# a link in the container pointing at the host's / is resolved in the container
	docker cp ar2:/tmp/root "$WORK/"
	[ "$(readlink "$WORK/root")" = / ]
	tar_of "$WORK/via.tar" "viafile=file:via"
	run api PUT "/containers/ar2/archive?path=/tmp/root$WORK" --data-binary "@$WORK/via.tar"
	api_split
	[ "$status" = 200 ]
	[ ! -e "$WORK/viafile" ]
	# hard links to files outside the extraction point are refused
	tar_of "$WORK/hard.tar" "h=hardlink:../../etc/shadow"
	run api PUT "/containers/ar2/archive?path=/tmp" --data-binary "@$WORK/hard.tar"
	api_split
	[ "$status" = 500 ]
	# reads through links stay inside too
	run api GET "/containers/ar2/archive?path=/tmp/root$WORK/outside"
	api_split
	[ "$status" = 200 ]
	docker rm ar2
}

@test "PUT archive: noOverwriteDirNonDir, and a directory replaces a file without it" {
	docker create --name ar3 busybox true
	tar_of "$WORK/dir.tar" "passwd=dir"
	run api PUT "/containers/ar3/archive?path=/etc&noOverwriteDirNonDir=true" --data-binary "@$WORK/dir.tar"
	api_split
	[ "$status" = 500 ]
	[[ "$body" == *"cannot overwrite non-directory"* ]]
	tar_of "$WORK/file.tar" "etc=file:x"
	run api PUT "/containers/ar3/archive?path=/&noOverwriteDirNonDir=true" --data-binary "@$WORK/file.tar"
	api_split
	[ "$status" = 500 ]
	[[ "$body" == *"cannot overwrite directory"* ]]
	run api PUT "/containers/ar3/archive?path=/etc" --data-binary "@$WORK/dir.tar"
	api_split
	[ "$status" = 200 ]
	run bash -c "docker cp ar3:/etc/passwd - | tar tv"
	[[ "$output" == d* ]]
	docker rm ar3
}

@test "nothing stays mounted after copies, exports and commits" {
	docker create --name ar4 busybox true
	docker export ar4 >/dev/null
	docker cp ar4:/etc "$WORK/"
	echo x > "$WORK/x"
	docker cp "$WORK/x" ar4:/
	docker commit ar4 >/dev/null
	docker rm ar4
	run awk -v r="$BERTH_ROOT/data/containers/" 'index($2, r) == 1' /proc/mounts
	[ -z "$output" ]
}

# 40 MiB is past h2o's 32 MiB mmap threshold: the archive is kept through
# the request's temp file (berth_api_body_keep) rather than copied
@test "docker cp of a file larger than the body buffer's threshold, into a running and a stopped container" {
	head -c $((40 << 20)) /dev/urandom >"$WORK/big"
	want=$(sha256sum <"$WORK/big" | cut -d' ' -f1)
	docker run -d --name cpbig busybox sleep 1000 >/dev/null
	docker cp "$WORK/big" cpbig:/big
	[ "$(docker exec cpbig sha256sum /big | cut -d' ' -f1)" = "$want" ]
	docker create --name cpbig2 busybox sha256sum /big >/dev/null
	docker cp "$WORK/big" cpbig2:/big
	docker start -a cpbig2 >"$WORK/sum"
	[ "$(cut -d' ' -f1 "$WORK/sum")" = "$want" ]
	docker rm -f cpbig cpbig2 >/dev/null
}
