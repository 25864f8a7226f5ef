#!/usr/bin/env bats
# `berth build` and POST /build against a private berthd: context packing
# with .dockerignore, -f outside the context, -t, --build-arg, --target,
# --no-cache, -q, --iidfile, --label; compressed contexts; errors as HTTP
# answers before the stream and as errorDetail in it; /build/prune.

load ../helpers

setup_file() {
	berth_start
	busybox_image
}
teardown_file() { berth_stop; }

setup() {
	CTX=$(mktemp -d "$BERTH_ROOT/ctx.XXXXXX")
}

teardown() {
	[ -z "${HTTP_PID:-}" ] || kill "$HTTP_PID" 2>/dev/null || true
	for c in $("$BERTH" ps -aq 2>/dev/null); do "$BERTH" rm -f "$c" >/dev/null 2>&1; done
}

no_leftovers() {
	[ -z "$("$BERTH" ps -aq)" ]
	! grep -q "$BERTH_ROOT/data/builder" /proc/mounts
	[ -z "$(ls "$BERTH_ROOT/data/builder/tmp")" ]
}

@test "berth build: -t, --build-arg, --label, .dockerignore, the output stream" {
	mkdir -p "$CTX/secret" "$CTX/src"
	echo s >"$CTX/secret/key"
	echo code >"$CTX/src/main.c"
	echo t >"$CTX/src/main.o"
	printf 'secret\n**/*.o\n' >"$CTX/.dockerignore"
	cat >"$CTX/Dockerfile" <<'EOF'
FROM busybox
ARG GREETING=hi
COPY . /app
RUN echo "$GREETING" > /app/greeting
EOF
	run "$BERTH" build -t app:1 -t app:latest --build-arg GREETING=hello --label team=core "$CTX"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Step 1/5 : FROM busybox"* ]]
	[[ "$output" == *"Step 5/5 : LABEL team=core"* ]]
	[[ "$output" == *"Successfully tagged app:1"*"Successfully tagged app:latest"* ]]
	run "$BERTH" run --rm app:1 find /app
	[ "$(sort <<<"$output" | paste -sd' ')" = "/app /app/.dockerignore /app/Dockerfile /app/greeting /app/src /app/src/main.c" ]
	[ "$("$BERTH" run --rm app:latest cat /app/greeting)" = hello ]
	[ "$("$BERTH" image inspect --format '{{.Config.Labels.team}}' app:1)" = core ]
	no_leftovers
}

@test "berth build: -f outside the context, --target, -q, --iidfile, --no-cache" {
	mkdir "$BERTH_ROOT/dfdir"
	cat >"$BERTH_ROOT/dfdir/Build.df" <<'EOF'
FROM busybox AS one
RUN echo one > /one
FROM one AS two
RUN echo two > /two
FROM busybox
RUN echo three > /three
EOF
	echo data >"$CTX/data"
	run "$BERTH" build -q --iidfile "$CTX/id" -f "$BERTH_ROOT/dfdir/Build.df" --target two -t two "$CTX"
	[ "$status" -eq 0 ]
	[ "$output" = "$(cat "$CTX/id")" ]
	[[ "$output" == sha256:* ]]
	[ "$("$BERTH" run --rm two cat /one /two)" = $'one\ntwo' ]
	run "$BERTH" run --rm two ls /three
	[ "$status" -ne 0 ]
	run "$BERTH" build -f "$BERTH_ROOT/dfdir/Build.df" --target two "$CTX"
	[ "$(grep -c 'Using cache' <<<"$output")" -eq 2 ]
	run "$BERTH" build --no-cache -f "$BERTH_ROOT/dfdir/Build.df" --target two "$CTX"
	[[ "$output" != *"Using cache"* ]]
	no_leftovers
}

@test "berth build: a failing RUN gives its exit code and no image" {
	printf 'FROM busybox\nRUN echo doing && exit 7\n' >"$CTX/Dockerfile"
	run "$BERTH" build --force-rm -t failing "$CTX"
	[ "$status" -eq 7 ]
	[[ "$output" == *"doing"* ]]
	[[ "$output" == *"The command '/bin/sh -c echo doing && exit 7' returned a non-zero code: 7"* ]]
	run "$BERTH" image inspect failing
	[ "$status" -ne 0 ]
	no_leftovers
	run "$BERTH" build "$BERTH_ROOT/nonexistent"
	[ "$status" -eq 1 ]
	[[ "$output" == *"unable to prepare context: path \"$BERTH_ROOT/nonexistent\" not found"* ]]
}

@test "POST /build: gzip, bzip2, xz and zstd contexts; errors before and in the stream" {
	printf 'FROM busybox\nCOPY f /f\n' >"$CTX/Dockerfile"
	echo compressed >"$CTX/f"
	for z in gzip bzip2 xz zstd; do
		command -v "$z" >/dev/null || continue
		tar -C "$CTX" -cf - Dockerfile f | "$z" -c >"$CTX/ctx.$z"
		run api POST "/build?t=z-$z" -H 'Content-Type: application/x-tar' --data-binary "@$CTX/ctx.$z"
		api_split
		[ "$status" = 200 ]
		[[ "$body" == *'{"stream":"Successfully tagged z-'$z':latest\n"}'* ]]
		[ "$("$BERTH" run --rm "z-$z" cat /f)" = compressed ]
	done
	# a bad Dockerfile is an HTTP error, as dockerd answers it
	printf 'FROM busybox\nNOPE x\n' >"$CTX/Dockerfile"
	tar -C "$CTX" -cf "$CTX/bad.tar" Dockerfile
	run api POST /build --data-binary "@$CTX/bad.tar"
	api_split
	[ "$status" = 400 ]
	[ "$(jq -r .message <<<"$body")" = "dockerfile parse error on line 2: unknown instruction: NOPE" ]
	run api POST /build -d 'not a tar'
	api_split
	[ "$status" = 400 ]
	[[ "$(jq -r .message <<<"$body")" == "failed to read the build context:"* ]]
	run api POST '/build?dockerfile=missing.df' --data-binary "@$CTX/bad.tar"
	api_split
	[ "$(jq -r .message <<<"$body")" = "Cannot locate specified Dockerfile: missing.df" ]
	run api POST '/build?version=2' --data-binary "@$CTX/bad.tar"
	api_split
	[ "$status" = 400 ]
	# a failing step is in the stream, with its exit code
	printf 'FROM busybox\nRUN exit 5\n' >"$CTX/Dockerfile"
	tar -C "$CTX" -cf "$CTX/fail.tar" Dockerfile
	run api POST '/build?forcerm=1' --data-binary "@$CTX/fail.tar"
	api_split
	[ "$status" = 200 ]
	[ "$(grep errorDetail <<<"$body" | jq -c .errorDetail)" = '{"code":5,"message":"The command '"'"'/bin/sh -c exit 5'"'"' returned a non-zero code: 5"}' ]
	no_leftovers
}

@test "POST /build/prune forgets the cache" {
	printf 'FROM busybox\nRUN echo x > /x\n' >"$CTX/Dockerfile"
	"$BERTH" build "$CTX" >/dev/null
	run "$BERTH" build "$CTX"
	[[ "$output" == *"Using cache"* ]]
	run api POST /build/prune
	api_split
	[ "$status" = 200 ]
	[ "$(jq -c .CachesDeleted <<<"$body")" = '[]' ]
	run "$BERTH" build "$CTX"
	[[ "$output" != *"Using cache"* ]]
}

@test "POST /build?remote=: a git repository (file://, #ref:subdir) and a tarball URL" {
	repo="$BERTH_ROOT/repo"
	mkdir -p "$repo/app"
	git -C "$repo" init -q -b main
	printf 'FROM busybox\nCOPY v /v\n' >"$repo/app/Dockerfile"
	echo main >"$repo/app/v"
	git -C "$repo" add -A
	git -C "$repo" -c user.name=t -c user.email=t@t commit -qm one
	git -C "$repo" checkout -qb feature
	echo feature >"$repo/app/v"
	git -C "$repo" -c user.name=t -c user.email=t@t commit -qam two
	git -C "$repo" checkout -q main
	git clone -q --bare "$repo" "$BERTH_ROOT/repo.git"
	run api POST "/build?t=from-git&remote=$(jq -rn --arg u "file://$BERTH_ROOT/repo.git#feature:app" '$u|@uri')"
	api_split
	[ "$status" = 200 ]
	[[ "$body" == *"Successfully tagged from-git:latest"* ]]
	[ "$("$BERTH" run --rm from-git cat /v)" = feature ]
	run api POST "/build?t=from-git-main&remote=$(jq -rn --arg u "file://$BERTH_ROOT/repo.git#:app" '$u|@uri')"
	[ "$("$BERTH" run --rm from-git-main cat /v)" = main ]
	run api POST "/build?remote=$(jq -rn --arg u "file://$BERTH_ROOT/repo.git#nosuchref" '$u|@uri')"
	api_split
	[ "$status" = 400 ]
	[[ "$(jq -r .message <<<"$body")" == "error fetching git context: nosuchref:"* ]]
	# a tarball over HTTP, and a bare Dockerfile over HTTP
	mkdir "$BERTH_ROOT/www"
	tar -C "$repo/app" -czf "$BERTH_ROOT/www/ctx.tgz" Dockerfile v
	printf 'FROM busybox\nRUN echo plain > /p\n' >"$BERTH_ROOT/www/Dockerfile.txt"
	port=$((20000 + RANDOM % 20000))
	# served on the 127.0.0.1 of the daemon's network namespace (nsenter execs
	# the server: $! is its PID)
	nsenter --net="$BERTH_NETNS" python3 -m http.server --bind 127.0.0.1 --directory "$BERTH_ROOT/www" "$port" >/dev/null 2>&1 &
	HTTP_PID=$!
	for _ in $(seq 1 100); do berth_netns curl -sf "http://127.0.0.1:$port/ctx.tgz" >/dev/null && break; sleep 0.05; done
	run api POST "/build?t=from-tgz&remote=http://127.0.0.1:$port/ctx.tgz"
	api_split
	[ "$status" = 200 ]
	[ "$("$BERTH" run --rm from-tgz cat /v)" = main ]
	run api POST "/build?t=from-df&remote=http://127.0.0.1:$port/Dockerfile.txt"
	[ "$("$BERTH" run --rm from-df cat /p)" = plain ]
	run api POST "/build?remote=http://127.0.0.1:$port/missing"
	api_split
	[ "$status" = 400 ]
	[ "$(jq -r .message <<<"$body")" = "failed to GET http://127.0.0.1:$port/missing with status 404" ]
	kill "$HTTP_PID"
	wait "$HTTP_PID" 2>/dev/null || true
	no_leftovers
}

@test "six builds at once, more than libuv's pool has threads, all finish" {
	local i pids=()
	for i in 1 2 3 4 5 6; do
		mkdir "$CTX/c$i"
		printf 'FROM busybox\nRUN sleep 0.3; echo %s > /n\nRUN cat /n\n' "$i" >"$CTX/c$i/Dockerfile"
		"$BERTH" build -t "par$i" "$CTX/c$i" >"$CTX/out$i" 2>&1 &
		pids+=($!)
	done
	for i in "${!pids[@]}"; do
		wait "${pids[$i]}"
	done
	for i in 1 2 3 4 5 6; do
		[ "$("$BERTH" run --rm "par$i" cat /n)" = "$i" ]
	done
	no_leftovers
}

@test "a restarted berthd clears what builds left: mounted step roots, temporary trees" {
	local old left="$BERTH_ROOT/data/builder/tmp/left"
	old=$(cat "$BERTH_ROOT/berthd.pid")
	kill "$old"
	for _ in $(seq 1 250); do kill -0 "$old" 2>/dev/null || break; sleep 0.02; done
	# what a berthd killed in the middle of a COPY leaves
	mkdir -p "$left/merged" "$left/upper" "$BERTH_ROOT/data/builder/trash/old/sub"
	mount -t tmpfs none "$left/merged"
	touch "$left/merged/x" "$left/upper/y" "$BERTH_ROOT/data/builder/trash/old/sub/z"
	"$BERTHD" --data-root "$BERTH_ROOT/data" --exec-root "$BERTH_ROOT/run" \
		--pidfile "$BERTH_ROOT/berthd.pid" -H "unix://$BERTH_SOCK" >>"$BERTH_ROOT/berthd.log" 2>&1 3>&- &
	berth_wait_socket "$BERTH_SOCK"
	printf 'FROM busybox\nCOPY Dockerfile /\n' >"$CTX/Dockerfile"
	"$BERTH" build "$CTX" >/dev/null
	! grep -q "$left" /proc/mounts
	# deleted in the background: wait for it, boundedly
	for _ in $(seq 1 250); do
		[ -e "$left" ] || [ -n "$(ls -A "$BERTH_ROOT/data/builder/trash" 2>/dev/null)" ] || break
		sleep 0.02
	done
	[ ! -e "$left" ]
	[ -z "$(find "$BERTH_ROOT/data/builder" -name z -o -name y)" ]
}
