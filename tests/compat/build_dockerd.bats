#!/usr/bin/env bats
# Side by side with dockerd's classic builder (DOCKER_BUILDKIT=0): the same
# Dockerfiles built on berthd and on a private dockerd from the same busybox
# image (loaded into both) give the same image config, the same history
# (created_by, comments, empty layers), the same number of layers and the
# same files (names, modes, owners, sizes, link targets in an export). Only
# what must differ is masked: image IDs and timestamps.

load ../helpers

export DOCKER_BUILDKIT=0

setup_file() {
	berth_start
	busybox_image
	PATH=$PATH:/usr/sbin
	command -v dockerd >/dev/null || return 0
	dockerd_start || { cat "$DROOT/log" >&2; dockerd_stop; return 0; }
	docker save busybox | DOCKER_HOST="unix://$DSOCK" docker load >/dev/null
	export DROOT DSOCK DPID
}

teardown_file() {
	dockerd_stop
	berth_stop
}

setup() {
	require_docker_cli
	[ -n "${DSOCK:-}" ] && [ -S "$DSOCK" ] ||
		skip "dockerd is not installed here (or did not start): nothing to compare with"
	CTX=$(mktemp -d "$BERTH_ROOT/ctx.XXXXXX")
	OUT=$(mktemp -d "$BERTH_ROOT/out.XXXXXX")
}

teardown() {
	[ -z "${HTTP_PID:-}" ] || kill "$HTTP_PID" 2>/dev/null || true
	docker ps -aq | xargs -r docker rm -f >/dev/null 2>&1 || true
	[ -z "${DSOCK:-}" ] || dk ps -aq | xargs -r env DOCKER_HOST="unix://$DSOCK" docker rm -f >/dev/null 2>&1 || true
}

# dk ARGS: the docker CLI against the private dockerd
dk() { DOCKER_HOST="unix://$DSOCK" docker "$@"; }

# build_both TAG ARGS...: the same build on both engines (RUN without a
# network: the private dockerd has no bridge)
build_both() {
	local tag=$1
	shift
	docker build --network none --force-rm -t "$tag" "$@" "$CTX" >"$OUT/$tag.berth.log" 2>&1 ||
		{ cat "$OUT/$tag.berth.log"; return 1; }
	dk build --network none --force-rm -t "$tag" "$@" "$CTX" >"$OUT/$tag.dockerd.log" 2>&1 ||
		{ cat "$OUT/$tag.dockerd.log"; return 1; }
}

# image_view ENGINE TAG: the image's config as saved, IDs and times masked
image_view() {
	local dir
	dir=$(mktemp -d "$OUT/save.XXXXXX")
	"$1" save "$2" | tar -C "$dir" -xf -
	jq -S --arg dir "$dir" '
		{architecture, os, variant, author, config,
		 history: [.history[] | del(.created)],
		 layers: (.rootfs.diff_ids | length)}
		| .config.Image = (if (.config.Image // "") == "" then "" else "<id>" end)' \
		"$dir/$(jq -r '.[0].Config' "$dir/manifest.json")"
}

# files_view ENGINE TAG: "mode owner size name[ -> target]" of an export,
# without the paths of dockerd's container init layer, which its export
# adds (not the image's files; berthd's export leaves them out)
files_view() {
	local cid
	cid=$("$1" create "$2" true)
	"$1" export "$cid" | tar -tvf - --numeric-owner |
		awk '{ s = $1 " " $2 " " ($1 ~ /^[cb]/ ? "dev" : $3); for (i = 6; i <= NF; i++) s = s " " $i; print s }' |
		grep -vE ' (\.dockerenv|dev/|dev/console|dev/pts/|dev/shm/|etc/|etc/hostname|etc/hosts|etc/mtab -> /proc/mounts|etc/resolv\.conf|proc/|sys/)$' |
		sort -k4
	"$1" rm "$cid" >/dev/null
}

# same TAG: both engines' views are equal (the diff is shown when not)
same() {
	image_view docker "$1" >"$OUT/$1.berth.json"
	image_view dk "$1" >"$OUT/$1.dockerd.json"
	files_view docker "$1" >"$OUT/$1.berth.files"
	files_view dk "$1" >"$OUT/$1.dockerd.files"
	diff -u "$OUT/$1.dockerd.json" "$OUT/$1.berth.json"
	diff -u "$OUT/$1.dockerd.files" "$OUT/$1.berth.files"
}

@test "dockerd parity: metadata instructions (LABEL, EXPOSE, ENV, ARG, USER, WORKDIR, VOLUME, STOPSIGNAL, HEALTHCHECK, SHELL, ENTRYPOINT, CMD, ONBUILD, MAINTAINER)" {
	cat >"$CTX/Dockerfile" <<'EOF'
FROM busybox
MAINTAINER someone <s@example.com>
ARG V=1
ARG UNSET
ENV A=$V B="two words" C=${UNSET:-dflt}
ENV OLD form with spaces
LABEL "com.example.k"="v w" other=$A multi="a\
b"
EXPOSE 80 53/udp 8000-8001/tcp
VOLUME ["/data", "/logs"]
VOLUME /single
USER 1000:1000
WORKDIR /app
WORKDIR sub/$A
STOPSIGNAL SIGUSR1
HEALTHCHECK --interval=5s --timeout=3s --start-period=2s --retries=2 CMD ["true"]
SHELL ["/bin/sh", "-ec"]
ENTRYPOINT ["/bin/echo"]
CMD hello from "cmd"
ONBUILD RUN echo triggered > /t
ONBUILD LABEL from=onbuild
EOF
	build_both meta --build-arg V=2 --label z=1 --label "a.b=x y" --label "q=it's \$HOME"
	same meta
}

@test "dockerd parity: RUN and the files of COPY and ADD (--chown, directories, wildcards, archives, .dockerignore)" {
	mkdir -p "$CTX/dir/sub" "$CTX/tree/inner" "$CTX/ignored"
	echo a >"$CTX/dir/a.txt"
	echo b >"$CTX/dir/sub/b.txt"
	chmod 0750 "$CTX/dir/sub"
	chmod 0600 "$CTX/dir/a.txt"
	echo x >"$CTX/one.md"
	echo y >"$CTX/two.md"
	printf '#!/bin/sh\necho run\n' >"$CTX/tool.sh"
	chmod 0755 "$CTX/tool.sh"
	ln -s a.txt "$CTX/dir/link"
	echo t >"$CTX/tree/inner/t.txt"
	tar -C "$CTX/tree" --owner=12 --group=34 -czf "$CTX/t.tgz" inner
	echo secret >"$CTX/ignored/secret"
	echo log >"$CTX/x.log"
	printf 'ignored\n*.log\n' >"$CTX/.dockerignore"
	cat >"$CTX/Dockerfile" <<'EOF'
FROM busybox
ARG WHO=builder
RUN mkdir -p /made/deep && echo "$WHO" > /made/who && chmod 0640 /made/who
RUN ["/bin/sh", "-c", "echo exec > /exec && rm -f /bin/zcat"]
COPY dir /copied/
COPY dir/a.txt /single
COPY *.md /docs/
COPY --chown=7:8 dir /owned
COPY --chown=7 tool.sh /usr/local/bin/
ADD t.tgz /unpacked/
ADD tool.sh /added/tool
COPY . /ctx/
USER 1000
WORKDIR /home/u
RUN touch /tmp/by-user
EOF
	build_both files
	same files
}

@test "dockerd parity: multi-stage (COPY --from name and index, --target) and ONBUILD in a child" {
	cat >"$CTX/Dockerfile" <<'EOF'
ARG BASE=busybox
FROM $BASE AS builder
RUN mkdir /out && echo built > /out/artifact && chown -R 5:6 /out
FROM builder AS middle
RUN echo middle > /middle
FROM busybox
COPY --from=builder /out /final/
COPY --from=0 /out/artifact /final/again
COPY --from=busybox /bin/true /copied-true
ONBUILD COPY --from=builder /out /from-parent/
ONBUILD RUN echo triggered > /t
EOF
	build_both multi
	same multi
	build_both mid --target middle
	same mid
	# a child of an image with ONBUILD triggers
	printf 'FROM busybox\nONBUILD RUN echo triggered > /t\nONBUILD ENV FROM=parent\n' >"$CTX/Dockerfile"
	build_both parent
	printf 'FROM parent\nRUN cat /t\n' >"$CTX/Dockerfile"
	build_both child
	same child
}

@test "dockerd parity: empty RUN and WORKDIR layers, SHELL and shell forms, HEALTHCHECK variants, names in --chown and USER, links, relative destinations" {
	mkdir -p "$CTX/d/e"
	echo f >"$CTX/d/f"
	ln -s f "$CTX/d/lf"
	ln -s e "$CTX/d/le"
	echo k >"$CTX/keep.txt"
	echo s >"$CTX/skip.txt"
	printf '*.txt\n!keep.txt\nDockerfile\n.dockerignore\n' >"$CTX/.dockerignore"
	cat >"$CTX/Dockerfile" <<'EOF'
FROM busybox
RUN true
WORKDIR /
WORKDIR /tmp
WORKDIR rel
COPY d sub/
COPY d/f d/lf ./multi/
COPY --chown=nobody:nogroup . /named/
COPY ["keep.txt", "/json dest/"]
ENV PATH=/custom:$PATH
SHELL ["/bin/sh", "-xc"]
RUN echo shell-form > /shell
CMD echo cmd
ENTRYPOINT echo entry
HEALTHCHECK NONE
HEALTHCHECK --interval=1m30s --timeout=1500ms CMD wget -q localhost || exit 1
HEALTHCHECK --retries=65 CMD true
STOPSIGNAL 9
USER nobody:nogroup
RUN id > /tmp/id-as-user || true
EXPOSE 443/tcp 22
LABEL a=1
LABEL b=2 c="three four"
EOF
	build_both edges
	same edges
}

@test "dockerd parity: an image dockerd built is a --cache-from source here: every step hits, the same image" {
	echo one >"$CTX/f"
	mkdir "$CTX/d"
	echo x >"$CTX/d/x"
	cat >"$CTX/Dockerfile" <<'EOF'
FROM busybox
ENV A=1
RUN echo ran >/ran
COPY f /f
COPY d /d/
WORKDIR /w
RUN cat /f >/g
HEALTHCHECK --interval=2s CMD true
CMD ["cat", "/g"]
EOF
	dk build --network none --force-rm -t from-dockerd "$CTX" >/dev/null
	dk save from-dockerd | docker load >/dev/null
	run docker build --network none --force-rm --cache-from from-dockerd -t rebuilt "$CTX"
	[ "$status" -eq 0 ]
	[ "$(grep -c 'Using cache' <<<"$output")" -eq 8 ]
	[[ "$output" != *"Running in"* ]]
	[ "$(docker image inspect --format '{{.Id}}' rebuilt)" = \
	  "$(dk image inspect --format '{{.Id}}' from-dockerd)" ]
	[ "$(docker run --rm rebuilt)" = one ]
}

@test "dockerd parity: FROM scratch, build args in RUN's history (proxy args left out), ADD of URLs and ADD --chown" {
	mkdir -p "$CTX/www" "$CTX/tree/in"
	echo served >"$CTX/www/remote.txt"
	echo t >"$CTX/tree/in/t"
	tar -C "$CTX/tree" -cf "$CTX/t.tar" in
	port=$((20000 + RANDOM % 20000))
	nsenter --net="$BERTH_NETNS" python3 -m http.server --bind 127.0.0.1 --directory "$CTX/www" "$port" >/dev/null 2>&1 &
	HTTP_PID=$!
	for _ in $(seq 1 100); do berth_netns curl -sf "http://127.0.0.1:$port/remote.txt" >/dev/null && break; sleep 0.05; done
	cat >"$CTX/Dockerfile" <<EOF
FROM busybox AS tools
FROM scratch
COPY --from=tools /bin/busybox /bin/sh
ARG A=1
ARG B
ENV E=\$A
RUN ["/bin/sh", "-c", "echo \$A \$B \$E > /args"]
RUN echo \$B > /b
ADD http://127.0.0.1:$port/remote.txt /fetched/
ADD --chown=3:4 http://127.0.0.1:$port/remote.txt /owned.txt
ADD --chown=5:6 t.tar /tarred/
EOF
	run build_both args --build-arg B=2 --build-arg HTTP_PROXY=http://127.0.0.1:9
	kill "$HTTP_PID"
	wait "$HTTP_PID" 2>/dev/null || true
	[ "$status" -eq 0 ]
	same args
}
