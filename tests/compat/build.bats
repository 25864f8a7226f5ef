#!/usr/bin/env bats
# The docker CLI's classic builder (DOCKER_BUILDKIT=0 docker build) against
# berthd: every instruction's effect on the image config and its files,
# the output stream, build args, the cache (also across a restart),
# multi-stage builds, .dockerignore and the errors dockerd reports.

load ../helpers

export DOCKER_BUILDKIT=0

setup_file() {
	berth_start
	busybox_image
}
teardown_file() { berth_stop; }

setup() {
	require_docker_cli
	CTX=$(mktemp -d "$BERTH_ROOT/ctx.XXXXXX")
}

teardown() {
	[ -z "${HTTP_PID:-}" ] || kill "$HTTP_PID" 2>/dev/null || true
	# a failed test may leave build containers: they are not the next test's
	docker ps -aq | xargs -r docker rm -f >/dev/null 2>&1 || true
}

# files IMAGE: "mode uid/gid path" of every file in the image, as export shows it
files() {
	local cid
	cid=$(docker create "$1" true)
	docker export "$cid" | tar -tvf - | awk '{print $1, $2, $6 ($7 == "->" ? " -> " $8 : "")}' | sort -k3
	docker rm "$cid" >/dev/null
}

cfg() { docker image inspect --format "$2" "$1"; }

# build_fails DOCKERFILE WANT [FLAGS...]: a build (tagged bad) of DOCKERFILE,
# its \n expanded, fails and says WANT
build_fails() {
	local dockerfile=$1 want=$2
	shift 2
	printf '%b' "$dockerfile" >"$CTX/Dockerfile"
	run docker build "$@" -t bad "$CTX"
	[ "$status" -ne 0 ]
	[[ "$output" == *"$want"* ]]
}

# no image is tagged NAME (name:latest, never an ID prefix)
no_tag() {
	run docker image inspect "$1:latest"
	[ "$status" -ne 0 ]
	[ -z "$(docker images -q "$1")" ]
}

# no build container is left and nothing of the builder stays mounted
no_leftovers() {
	[ -z "$(docker ps -aq)" ]
	! grep -q "$BERTH_ROOT/data/builder" /proc/mounts
}

@test "metadata instructions set the config and add empty layers to the history" {
	cat >"$CTX/Dockerfile" <<'EOF'
FROM busybox
MAINTAINER someone <s@example.com>
ARG V=1
ENV A=$V B="two words" C=${UNSET:-dflt}
ENV OLD form with spaces
LABEL "com.example.k"="v w" other=$A
EXPOSE 80 53/udp 8000-8001
VOLUME ["/data", "/logs"]
USER 1000:1000
WORKDIR /app
WORKDIR sub
STOPSIGNAL SIGUSR1
HEALTHCHECK --interval=5s --timeout=3s --retries=2 CMD ["true"]
SHELL ["/bin/sh", "-ec"]
ENTRYPOINT ["/bin/echo"]
CMD ["a", "b"]
ONBUILD RUN echo triggered
EOF
	run docker build -t meta "$CTX"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Step 1/17 : FROM busybox"* ]]
	[[ "$output" == *"Step 17/17 : ONBUILD RUN echo triggered"* ]]
	[[ "$output" == *"Successfully tagged meta:latest"* ]]
	[ "$(cfg meta '{{json .Config.Env}}')" = '["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","A=1","B=two words","C=dflt","OLD=form with spaces"]' ]
	[ "$(cfg meta '{{json .Config.Labels}}')" = '{"com.example.k":"v w","other":"1"}' ]
	[ "$(cfg meta '{{json .Config.ExposedPorts}}')" = '{"53/udp":{},"80/tcp":{},"8000/tcp":{},"8001/tcp":{}}' ]
	[ "$(cfg meta '{{json .Config.Volumes}}')" = '{"/data":{},"/logs":{}}' ]
	[ "$(cfg meta '{{.Config.User}} {{.Config.WorkingDir}} {{.Config.StopSignal}} {{.Author}}')" = \
	  "1000:1000 /app/sub SIGUSR1 someone <s@example.com>" ]
	[ "$(cfg meta '{{json .Config.Healthcheck}}')" = '{"Test":["CMD","true"],"Interval":5000000000,"Timeout":3000000000,"Retries":2}' ]
	[ "$(cfg meta '{{json .Config.Shell}} {{json .Config.Entrypoint}} {{json .Config.Cmd}} {{json .Config.OnBuild}}')" = \
	  '["/bin/sh","-ec"] ["/bin/echo"] ["a","b"] ["RUN echo triggered"]' ]
	# WORKDIR made its directories: two layers over busybox's; the rest are empty
	[ "$(cfg meta '{{len .RootFS.Layers}}')" -eq 3 ]
	run docker history --no-trunc --format '{{.CreatedBy}}|{{.Size}}' meta
	# a step's history uses the SHELL in effect
	[[ "${lines[0]}" == '/bin/sh -ec #(nop)  ONBUILD RUN echo triggered|0B' ]]
	[[ "$output" == *'/bin/sh -c #(nop)  ENV A=1 B=two words C=dflt|0B'* ]]
	[[ "$output" == *'/bin/sh -ec #(nop)  CMD ["a" "b"]|0B'* ]]
	[[ "$output" == *'/bin/sh -c #(nop) WORKDIR /app/sub|'* ]]
	run files meta
	[[ "$output" == *"drwxr-xr-x 0/0 app/"* ]]
	[[ "$output" == *"drwxr-xr-x 0/0 app/sub/"* ]]
	run docker run --rm meta x y
	[ "$output" = "x y" ]
	no_leftovers
}

@test "RUN in shell and exec form, with SHELL, build args and the classic output stream" {
	cat >"$CTX/Dockerfile" <<'EOF'
FROM busybox
ARG WHO
ARG UNUSED_DEFAULT=z
ENV E=env
RUN echo "hello $WHO $E" && mkdir -p /out && echo "$WHO" > /out/who && rm /bin/vi
RUN ["/bin/sh", "-c", "echo exec form > /out/exec"]
SHELL ["/bin/sh", "-c", "echo shelled: \"$0\" > /out/shell"]
RUN ignored-arg
SHELL ["/bin/sh", "-c"]
RUN true
EOF
	run docker build --build-arg WHO=world --build-arg NOBODY=x -t runs "$CTX"
	[ "$status" -eq 0 ]
	[[ "$output" == *$'Step 5/10 : RUN echo "hello $WHO $E"'*$'\n ---> Running in '*$'\nhello world env\n ---> Removed intermediate container '* ]]
	[[ "$output" == *"[Warning] One or more build-args [NOBODY] were not consumed"* ]]
	[[ "$output" =~ Successfully\ built\ ([0-9a-f]{12}) ]]
	[ "$(cfg runs '{{.Id}}')" = "sha256:$(cfg runs '{{.Id}}' | cut -c8-)" ]
	[[ "$(cfg runs '{{.Id}}')" == "sha256:${BASH_REMATCH[1]}"* ]]
	run docker run --rm runs cat /out/who /out/exec /out/shell
	[ "$output" = $'world\nexec form\nshelled: ignored-arg' ]
	run files runs
	[[ "$output" == *"drwxr-xr-x 0/0 out/"* ]]
	[[ "$output" != *" bin/vi"* ]]                 # the deletion is a whiteout
	[[ "$output" != *"etc/hosts"* ]]               # runtime mount points are no part of a layer
	run docker history --no-trunc --format '{{.CreatedBy}}|{{.Size}}' runs
	[[ "$output" == *'|2 UNUSED_DEFAULT=z WHO=world /bin/sh -c echo "hello $WHO $E"'* ]]
	[[ "$output" == *'|2 UNUSED_DEFAULT=z WHO=world /bin/sh -c echo shelled: "$0" > /out/shell ignored-arg|'* ]]
	[[ "${lines[0]}" == '|2 UNUSED_DEFAULT=z WHO=world /bin/sh -c true|0B' ]]
	# RUN true changed nothing: an empty layer
	[ "$(cfg runs '{{len .RootFS.Layers}}')" -eq 4 ]
	# RUN has no network by default
	echo 'FROM busybox
RUN ip -o link | grep -v " lo:" | wc -l > /links' >"$CTX/Dockerfile"
	docker build -t net "$CTX"
	[ "$(docker run --rm net cat /links)" = 0 ]
	no_leftovers
}

@test "COPY: files, directory contents, wildcards, existing directories, --chown, --chmod" {
	mkdir -p "$CTX/dir/nested" "$CTX/w"
	echo a >"$CTX/a.txt"
	echo b >"$CTX/b.txt"
	echo n >"$CTX/dir/nested/n.txt"
	chmod 0751 "$CTX/dir/nested"
	echo x >"$CTX/dir/x.sh"
	chmod 0755 "$CTX/dir/x.sh"
	ln -s x.sh "$CTX/dir/link"
	echo w1 >"$CTX/w/one.md"
	echo w2 >"$CTX/w/two.md"
	echo no >"$CTX/w/three.txt"
	cat >"$CTX/Dockerfile" <<'EOF'
FROM busybox
COPY a.txt /file-as-named
COPY a.txt b.txt /many/
COPY dir /contents
COPY w/*.md /md/
COPY a.txt /etc
WORKDIR /wd
COPY a.txt rel
COPY --chown=user:user a.txt /owned/by-name
COPY --chown=33:44 dir /owned/num
COPY --chmod=0600 b.txt /modes/
EOF
	run docker build -t copies "$CTX"
	[ "$status" -eq 0 ]
	run files copies
	[[ "$output" == *"-rw-r--r-- 0/0 file-as-named"* ]]
	[[ "$output" == *"-rw-r--r-- 0/0 many/a.txt"* ]]
	[[ "$output" == *"-rw-r--r-- 0/0 many/b.txt"* ]]
	[[ "$output" == *"drwxr-x--x 0/0 contents/nested/"* ]]
	[[ "$output" == *"-rwxr-xr-x 0/0 contents/x.sh"* ]]
	[[ "$output" == *"lrwxrwxrwx 0/0 contents/link -> x.sh"* ]]
	[[ "$output" == *"-rw-r--r-- 0/0 md/one.md"* ]]
	[[ "$output" == *"-rw-r--r-- 0/0 md/two.md"* ]]
	[[ "$output" != *"three.txt"* ]]
	[[ "$output" == *"-rw-r--r-- 0/0 etc/a.txt"* ]]   # into the existing directory
	[[ "$output" == *"-rw-r--r-- 0/0 wd/rel"* ]]
	[[ "$output" == *"-rw-r--r-- 1000/1000 owned/by-name"* ]]
	[[ "$output" == *"drwxr-x--x 33/44 owned/num/nested/"* ]]
	[[ "$output" == *"-rw-r--r-- 33/44 owned/num/nested/n.txt"* ]]
	[[ "$output" == *"-rw------- 0/0 modes/b.txt"* ]]
	[ "$(docker run --rm copies cat /contents/nested/n.txt /wd/rel)" = $'n\na' ]
	run docker history --no-trunc --format '{{.CreatedBy}}' copies
	[[ "$output" =~ COPY\ file:[0-9a-f]{64}\ in\ /file-as-named ]]
	[[ "$output" =~ COPY\ dir:[0-9a-f]{64}\ in\ /contents ]]
	no_leftovers
}

@test "bad input: the error, its line, the exit code, no tagged image, nothing left behind" {
	build_fails 'FROM busybox\nFOO bar\n' "dockerfile parse error on line 2: unknown instruction: FOO"
	build_fails 'FROM busybox\nCOPY --nope=1 a b\n' "dockerfile parse error on line 2: unknown flag: nope"
	build_fails 'FROM busybox\nCOPY missing.txt /\n' "COPY failed: file not found in build context or excluded by .dockerignore: stat missing.txt: file does not exist"
	build_fails 'FROM busybox\nCOPY ../outside /\n' "forbidden path outside the build context: ../outside ()"
	# a symlink out of the context resolves inside it: nothing there
	ln -s /etc/passwd "$CTX/escape"
	build_fails 'FROM busybox\nCOPY escape /\n' "file not found in build context"
	# neither a stage nor a local image: the registry is asked (a closed port
	# on the daemon's own loopback, nothing leaves the test)
	build_fails 'FROM busybox\nFROM 127.0.0.1:1/nosuchstage AS x\n' 'Get "http://127.0.0.1:1/v2/": '
	printf 'FROM busybox\nRUN echo before && exit 3\nRUN echo never\n' >"$CTX/Dockerfile"
	run docker build --force-rm -t bad "$CTX"
	[ "$status" -eq 3 ]
	[[ "$output" == *"before"* ]]
	[[ "$output" == *"The command '/bin/sh -c echo before && exit 3' returned a non-zero code: 3"* ]]
	[[ "$output" != *"never"* ]]
	# by its reference: a bare "bad" also names any image whose ID starts so
	no_tag bad
	no_leftovers
	# without --force-rm, dockerd keeps the failed step's container (stopped)
	run docker build -t bad "$CTX"
	[ "$status" -eq 3 ]
	[ "$(docker ps -aq --filter status=exited | wc -l)" -eq 1 ]
	[ -z "$(docker ps -q)" ]
}

@test "a failed build never leaves its tag; a bare name that is an ID prefix is no tag" {
	# "bad input" once found "bad" after its failed RUN: dockerd and berthd
	# resolve a bare name that is not a tag as an image ID prefix, and one of
	# the file's intermediate images had an ID starting with "bad"
	local id prefix i
	id=$(cfg busybox '{{.Id}}')
	prefix=${id#sha256:}
	prefix=${prefix:0:6}
	printf 'FROM busybox\nRUN exit 3\n' >"$CTX/Dockerfile"
	run docker build --force-rm -t "$prefix" "$CTX"
	[ "$status" -eq 3 ]
	[ "$(cfg "$prefix" '{{.Id}}')" = "$id" ]
	no_tag "$prefix"
	# a failed rebuild keeps the tag where the last good build put it
	printf 'FROM busybox\nRUN echo good >/f\n' >"$CTX/Dockerfile"
	docker build -t again "$CTX"
	good=$(cfg again '{{.Id}}')
	for i in $(seq 1 8); do
		printf 'FROM busybox\nENV I=%s\nRUN echo %s >/f\nRUN exit 3\n' "$i" "$i" >"$CTX/Dockerfile"
		run docker build --force-rm -t bad -t again "$CTX"
		[ "$status" -eq 3 ]
		no_tag bad
		[ "$(cfg again:latest '{{.Id}}')" = "$good" ]
		no_leftovers
	done
}

@test "FROM --platform: ARG expansion, the local image of that platform, dockerd's errors, platform ARGs" {
	cat >"$CTX/Dockerfile" <<'EOF'
ARG P=linux/amd64
FROM --platform=$P busybox AS first
FROM --platform=$BUILDPLATFORM busybox
ARG TARGETPLATFORM
ARG TARGETARCH
ARG BUILDOS
RUN echo "$TARGETPLATFORM $TARGETARCH $BUILDOS" >/platform
EOF
	run docker build --force-rm -t plat "$CTX"
	[ "$status" -eq 0 ]
	[ "$(docker run --rm plat cat /platform)" = "linux/amd64 amd64 linux" ]
	# the build's --platform is every FROM's default and TARGETPLATFORM
	run docker build --force-rm --platform linux/x86_64 --build-arg P=amd64 -t plat2 "$CTX"
	[ "$status" -eq 0 ]
	[ "$(docker run --rm plat2 cat /platform)" = "linux/amd64 amd64 linux" ]
	# busybox here is linux/amd64: no registry has the other one (a closed
	# port on the daemon's loopback), so dockerd's error
	docker tag busybox 127.0.0.1:1/busybox
	build_fails 'FROM --platform=linux/arm64 127.0.0.1:1/busybox\nRUN echo never\n' "image with reference 127.0.0.1:1/busybox was found but does not match the specified platform: wanted linux/arm64, actual: linux/amd64" --force-rm
	[[ "$output" != *never* ]]
	build_fails 'ARG P\nFROM --platform=$P 127.0.0.1:1/busybox\n' "wanted linux/arm64, actual: linux/amd64" --build-arg P=linux/arm64
	build_fails 'FROM 127.0.0.1:1/busybox\n' "wanted linux/arm/v7, actual: linux/amd64" --platform linux/arm/v7
	docker rmi 127.0.0.1:1/busybox >/dev/null
	# specifiers containerd refuses, with its wording
	build_fails 'FROM --platform=linux/amd64/v2/x busybox\n' 'failed to parse platform linux/amd64/v2/x: "linux/amd64/v2/x": cannot parse platform specifier: invalid argument'
	build_fails 'FROM --platform=$NOPE busybox\n' 'failed to parse platform : "" is an invalid component of "": platform specifier component must match "^[A-Za-z0-9_-]+$": invalid argument'
	build_fails 'FROM --platform=plan10 busybox\n' 'failed to parse platform plan10: "plan10": unknown operating system or architecture: invalid argument'
	no_tag bad
	no_leftovers
}

@test "--cache-from: a loaded image is a cache source without any local cache; only sources are trusted" {
	echo one >"$CTX/f"
	cat >"$CTX/Dockerfile" <<'EOF'
FROM busybox
ENV A=1
RUN echo ran >/ran
COPY f /f
WORKDIR /w
RUN cat /f >/g
CMD ["cat", "/g"]
EOF
	docker build --force-rm -t cf-src "$CTX"
	src=$(cfg cf-src '{{.Id}}')
	docker save -o "$BERTH_ROOT/src.tar" cf-src
	# a fresh start: neither the image, its ancestors nor the cache index
	docker rmi cf-src >/dev/null
	docker builder prune -f >/dev/null
	docker load -i "$BERTH_ROOT/src.tar"
	run docker build --force-rm --cache-from cf-src -t cf-hit "$CTX"
	[ "$status" -eq 0 ]
	[ "$(grep -c 'Using cache' <<<"$output")" -eq 6 ]
	[[ "$output" != *"Running in"* ]]
	# every step hit: the result is the source itself
	[ "$(cfg cf-hit '{{.Id}}')" = "$src" ]
	[ "$(docker run --rm cf-hit)" = one ]
	# a changed file: the steps before it hit, COPY and what follows run
	echo two >"$CTX/f"
	run docker build --force-rm --cache-from cf-src -t cf-part "$CTX"
	[ "$status" -eq 0 ]
	[ "$(grep -c 'Using cache' <<<"$output")" -eq 2 ]
	[ "$(docker run --rm cf-part)" = two ]
	[ "$(docker history -q cf-part | wc -l)" -eq "$(docker history -q cf-src | wc -l)" ]
	# with --cache-from, the local cache counts only under a source (dockerd):
	# cf-part's own steps are not trusted when busybox is the only source
	run docker build --force-rm --cache-from busybox -t cf-none "$CTX"
	[ "$status" -eq 0 ]
	[[ "$output" != *"Using cache"* ]]
	# a source that does not exist is skipped, as dockerd does
	run docker build --force-rm --cache-from nosuch:1 --cache-from cf-src -t cf-part2 "$CTX"
	[ "$status" -eq 0 ]
	[ "$(grep -c 'Using cache' <<<"$output")" -eq 2 ]
	no_leftovers
}

@test "the cache: a rebuild hits every step, survives a restart, misses after a change" {
	echo one >"$CTX/f"
	cat >"$CTX/Dockerfile" <<'EOF'
FROM busybox
ENV A=1
RUN echo ran > /ran
COPY f /f
RUN cat /f > /g
EOF
	docker build -t cached "$CTX"
	first=$(cfg cached '{{.Id}}')
	run docker build -t cached "$CTX"
	[ "$(grep -c 'Using cache' <<<"$output")" -eq 4 ]
	[[ "$output" != *"Running in"* ]]
	[ "$(cfg cached '{{.Id}}')" = "$first" ]
	# berthd restarts: the cache is on disk
	local old
	old=$(cat "$BERTH_ROOT/berthd.pid")
	kill "$old"
	# the data root stays locked until the old daemon has exited
	for _ in $(seq 1 250); do kill -0 "$old" 2>/dev/null || break; sleep 0.02; done
	# fd 3 closed: bats waits for whatever holds it open
	"$BERTHD" --data-root "$BERTH_ROOT/data" --exec-root "$BERTH_ROOT/run" \
		--pidfile "$BERTH_ROOT/berthd.pid" -H "unix://$BERTH_SOCK" >>"$BERTH_ROOT/berthd.log" 2>&1 3>&- &
	berth_wait_socket "$BERTH_SOCK"
	run docker build -t cached "$CTX"
	[ "$(grep -c 'Using cache' <<<"$output")" -eq 4 ]
	[ "$(cfg cached '{{.Id}}')" = "$first" ]
	# new content: COPY and what follows run again
	echo two >"$CTX/f"
	run docker build -t cached "$CTX"
	[ "$(grep -c 'Using cache' <<<"$output")" -eq 2 ]
	[ "$(docker run --rm cached cat /g)" = two ]
	run docker build --no-cache -t cached "$CTX"
	[[ "$output" != *"Using cache"* ]]
	no_leftovers
}

@test "multi-stage: COPY --from, --target, only the final stage tagged, -q, --iidfile, --label" {
	cat >"$CTX/Dockerfile" <<'EOF'
ARG BASE=busybox
FROM $BASE AS builder
ARG BASE
RUN echo "built on $BASE" > /artifact
FROM builder AS middle
RUN echo middle > /middle
FROM busybox
COPY --from=builder /artifact /final/
COPY --from=0 /artifact /final/again
EOF
	run docker build -t multi "$CTX"
	[ "$status" -eq 0 ]
	[ "$(docker run --rm multi cat /final/artifact /final/again)" = $'built on busybox\nbuilt on busybox' ]
	run docker run --rm multi ls /middle
	[ "$status" -ne 0 ]
	[ "$(docker images --format '{{.Repository}}' | grep -c multi)" -eq 1 ]
	run docker build --target middle -t mid "$CTX"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Step 6/6 : RUN echo middle > /middle"* ]]
	[ "$(docker run --rm mid cat /middle)" = middle ]
	run docker build --target nope "$CTX"
	[[ "$output" == *"failed to reach build target nope in Dockerfile"* ]]
	out=$(docker build -q --label a=b --label c=d --iidfile "$CTX/iid" -t quiet "$CTX" 2>/dev/null)
	[ "$out" = "$(cat "$CTX/iid")" ]
	[ "$(cfg quiet '{{.Id}}')" = "$(cat "$CTX/iid")" ]
	[ "$(cfg quiet '{{json .Config.Labels}}')" = '{"a":"b","c":"d"}' ]
	no_leftovers
}

@test ".dockerignore, -f, ONBUILD triggers in a child" {
	mkdir -p "$CTX/docs" "$CTX/build"
	echo keep >"$CTX/keep.txt"
	echo log >"$CTX/x.log"
	echo d >"$CTX/docs/a.md"
	echo k >"$CTX/docs/keep.md"
	echo b >"$CTX/build/out"
	printf '*.log\nbuild\ndocs/**\n!docs/keep.md\n' >"$CTX/.dockerignore"
	mkdir "$BERTH_ROOT/elsewhere"
	cat >"$BERTH_ROOT/elsewhere/My.Dockerfile" <<'EOF'
FROM busybox
ONBUILD COPY keep.txt /from-trigger
COPY . /ctx
EOF
	run docker build -f "$BERTH_ROOT/elsewhere/My.Dockerfile" -t parent "$CTX"
	[ "$status" -eq 0 ]
	run docker run --rm parent find /ctx -type f
	[[ "$output" == *"/ctx/keep.txt"* ]]
	[[ "$output" == *"/ctx/docs/keep.md"* ]]
	[[ "$output" != *"x.log"* ]]
	[[ "$output" != *"/ctx/build"* ]]
	[[ "$output" != *"a.md"* ]]
	printf 'FROM parent\nRUN cat /from-trigger\n' >"$CTX/Dockerfile"
	run docker build -t child "$CTX"
	[ "$status" -eq 0 ]
	[[ "$output" == *"# Executing 1 build trigger"* ]]
	[ "$(docker run --rm child cat /from-trigger)" = keep ]
	[ "$(cfg child '{{json .Config.OnBuild}}')" = null ]
	no_leftovers
}

@test "ADD: local archives unpacked with their owners, plain files copied, URLs fetched" {
	mkdir -p "$CTX/tree/sub"
	echo in-tar >"$CTX/tree/sub/t.txt"
	tar -C "$CTX/tree" --owner=12 --group=34 -czf "$CTX/t.tgz" sub
	tar -C "$CTX/tree" -cf "$CTX/plain.tar" sub
	echo just-a-file >"$CTX/notar.gz"
	mkdir "$CTX/www"
	echo served >"$CTX/www/remote.txt"
	touch -d '2020-01-02 03:04:05 UTC' "$CTX/www/remote.txt"
	port=$((20000 + RANDOM % 20000))
	nsenter --net="$BERTH_NETNS" python3 -m http.server --bind 127.0.0.1 --directory "$CTX/www" "$port" >/dev/null 2>&1 &
	HTTP_PID=$!
	for _ in $(seq 1 100); do berth_netns curl -sf "http://127.0.0.1:$port/remote.txt" >/dev/null && break; sleep 0.05; done
	cat >"$CTX/Dockerfile" <<EOF2
FROM busybox
ADD t.tgz /unpacked/
ADD plain.tar /plain
ADD --chown=5:6 t.tgz /owned
ADD notar.gz /copied/
ADD http://127.0.0.1:$port/remote.txt /fetched/
ADD http://127.0.0.1:$port/remote.txt /renamed.txt
EOF2
	run docker build -t adds "$CTX"
	[ "$status" -eq 0 ]
	run docker build -t adds "$CTX"
	[ "$(grep -c 'Using cache' <<<"$output")" -eq 6 ]
	run docker build -t bad "$CTX" -f - <<<"FROM busybox
ADD http://127.0.0.1:$port/missing.txt /x"
	[ "$status" -ne 0 ]
	[[ "$output" == *"failed to GET http://127.0.0.1:$port/missing.txt with status 404"* ]]
	kill "$HTTP_PID"
	wait "$HTTP_PID" 2>/dev/null || true
	run files adds
	[[ "$output" == *"-rw-r--r-- 12/34 unpacked/sub/t.txt"* ]]
	[[ "$output" == *"-rw-r--r-- 0/0 plain/sub/t.txt"* ]]
	# dockerd's classic builder: --chown does not apply to an unpacked archive
	[[ "$output" == *"-rw-r--r-- 12/34 owned/sub/t.txt"* ]]
	[[ "$output" == *"-rw-r--r-- 0/0 copied/notar.gz"* ]]
	[[ "$output" == *"-rw------- 0/0 fetched/remote.txt"* ]]
	[[ "$output" == *"-rw------- 0/0 renamed.txt"* ]]
	[ "$(docker run --rm adds cat /fetched/remote.txt /renamed.txt)" = $'served\nserved' ]
	[ "$(docker run --rm adds stat -c %Y /fetched/remote.txt)" = 1577934245 ]
	no_leftovers
}

# the docker CLI sends one extrahosts parameter a host, as dockerd reads them;
# berth build does the same
@test "--add-host twice puts both hosts in a RUN step's /etc/hosts (docker and berth build)" {
	printf 'FROM busybox\nRUN grep -E "[[:space:]](a|b)$" /etc/hosts >/hosts.txt\n' >"$CTX/Dockerfile"
	docker build -q --add-host a:1.2.3.4 --add-host b:5.6.7.8 -t hosts-docker "$CTX" >/dev/null
	"$BERTH" build -q --add-host a:1.2.3.4 --add-host b:5.6.7.8 -t hosts-berth "$CTX" >/dev/null
	for img in hosts-docker hosts-berth; do
		run docker run --rm "$img" cat /hosts.txt
		[ "$status" -eq 0 ]
		[ "${#lines[@]}" -eq 2 ]
		[[ "${lines[0]}" =~ ^1\.2\.3\.4[[:space:]]+a$ ]]
		[[ "${lines[1]}" =~ ^5\.6\.7\.8[[:space:]]+b$ ]]
	done
	docker rmi hosts-docker hosts-berth >/dev/null
}

# a context past h2o's 32 MiB mmap threshold reaches the builder whole
@test "a 40 MiB build context arrives whole" {
	head -c $((40 << 20)) /dev/urandom >"$CTX/big"
	want=$(sha256sum <"$CTX/big" | cut -d' ' -f1)
	printf 'FROM busybox\nCOPY big /big\nRUN sha256sum /big >/sum\n' >"$CTX/Dockerfile"
	docker build -q -t bigctx "$CTX" >/dev/null
	[ "$(docker run --rm bigctx cat /sum | cut -d' ' -f1)" = "$want" ]
	docker rmi bigctx >/dev/null
}
