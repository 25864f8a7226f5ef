# Helpers for the registry tests: Debian's docker-registry on 127.0.0.1 with
# its own config and storage, optionally behind htpasswd Basic auth, TLS (a
# CA the test makes) or a token server, and a fault-injecting proxy. They
# all run in the test daemon's network namespace (berth_start), where its
# 127.0.0.1 is: reach them with rcurl and rskopeo.
#
#   registry_start [--htpasswd] [--tls] [--token]   sets REG (127.0.0.1:PORT),
#                                                  REG_DIR, REG_PID; REG_HOST and
#                                                  REG_PORT, when set, choose the address
#   registry_stop                                  stops it by PID, removes REG_DIR
#
# Credentials for the auth variants: testuser / testpass.

REG_USER=testuser
REG_PASS=testpass

rcurl() { berth_netns curl "$@"; }
rskopeo() { berth_netns skopeo "$@"; }
# Background servers start through nsenter itself (not a shell function), so
# that $! is the server's PID (nsenter execs it) and teardown can stop it.

free_port() {
	/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# A CA, and a server certificate for 127.0.0.1 and localhost signed by it.
registry_make_certs() {
	local dir=$1
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=berth-test-ca \
		-keyout "$dir/ca.key" -out "$dir/ca.crt" 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 \
		-keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.1,IP:10.99.0.1,DNS:localhost\n' >"$dir/san.ext"
	openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
		-CAcreateserial -days 2 -extfile "$dir/san.ext" -out "$dir/server.crt" 2>/dev/null
}

registry_htpasswd() {
	/usr/bin/python3 -c 'import crypt, sys; print(sys.argv[1] + ":" + crypt.crypt(sys.argv[2], crypt.mksalt(crypt.METHOD_BLOWFISH)))' \
		"$REG_USER" "$REG_PASS" 2>/dev/null
}

registry_start() {
	local htpasswd="" tls="" token="" arg
	for arg in "$@"; do
		case "$arg" in
		--htpasswd) htpasswd=1 ;;
		--tls) tls=1 ;;
		--token) token=1 ;;
		esac
	done
	REG_DIR=$(mktemp -d /tmp/berth-registry.XXXXXX)
	REG_PORT=${REG_PORT:-$(free_port)}
	REG="${REG_HOST:-127.0.0.1}:$REG_PORT"
	mkdir -p "$REG_DIR/storage"
	{
		printf 'version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\n'
		printf 'storage:\n  filesystem:\n    rootdirectory: %s/storage\n  delete:\n    enabled: true\n' "$REG_DIR"
		printf 'http:\n  addr: %s\n  secret: berth-test\n' "$REG"
		if [ -n "$tls" ]; then
			registry_make_certs "$REG_DIR"
			printf '  tls:\n    certificate: %s/server.crt\n    key: %s/server.key\n' "$REG_DIR" "$REG_DIR"
		fi
		if [ -n "$htpasswd" ]; then
			registry_htpasswd >"$REG_DIR/htpasswd"
			printf 'auth:\n  htpasswd:\n    realm: berth-test\n    path: %s/htpasswd\n' "$REG_DIR"
		fi
		if [ -n "$token" ]; then
			token_server_start
			printf 'auth:\n  token:\n    realm: http://%s/token\n    service: berth-test\n    issuer: berth-test-issuer\n    rootcertbundle: %s/token.crt\n' \
				"$TOKEN_ADDR" "$REG_DIR"
		fi
	} >"$REG_DIR/config.yml"
	nsenter --net="$BERTH_NETNS" docker-registry serve "$REG_DIR/config.yml" >"$REG_DIR/registry.log" 2>&1 &
	REG_PID=$!
	export REG REG_DIR REG_PID REG_PORT
	local scheme=http i
	[ -n "$tls" ] && scheme=https
	for i in $(seq 1 200); do
		rcurl -sk -o /dev/null "$scheme://$REG/v2/" && return 0
		sleep 0.05
	done
	cat "$REG_DIR/registry.log" >&2
	return 1
}

# stop_pid PID: stops a server this file started (by its PID).
stop_pid() {
	if [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; then
		kill "$1"
		wait "$1" 2>/dev/null || true
	fi
	return 0
}

# wait_http URL LOG: up to 5 s for URL to answer in the namespace; shows LOG
# when it does not.
wait_http() {
	local i
	for i in $(seq 1 100); do
		rcurl -sk -o /dev/null "$1" && return 0
		sleep 0.05
	done
	cat "$2" >&2
	return 1
}

registry_stop() {
	token_server_stop
	proxy_stop
	stop_pid "${REG_PID:-}"
	# a registry a test restarted has a PID its file knows, not setup_file
	[ -s "${REG_DIR:-/nonexistent}/registry.pid" ] && stop_pid "$(cat "$REG_DIR/registry.pid")"
	[ -n "${REG_DIR:-}" ] && rm -rf "$REG_DIR"
	REG_PID=""
	return 0
}

# Restarts the registry on the same port and storage (after a kill).
registry_restart() {
	nsenter --net="$BERTH_NETNS" docker-registry serve "$REG_DIR/config.yml" >>"$REG_DIR/registry.log" 2>&1 &
	REG_PID=$!
	echo "$REG_PID" >"$REG_DIR/registry.pid"
	local i
	for i in $(seq 1 200); do
		rcurl -sk -o /dev/null "http://$REG/v2/" && return 0
		rcurl -sk -o /dev/null "https://$REG/v2/" && return 0
		sleep 0.05
	done
	return 1
}

# The token server (tests/tools/token_server.py) signs JWTs with a key whose
# certificate the registry trusts.
token_server_start() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=berth-test-token \
		-keyout "$REG_DIR/token.key" -out "$REG_DIR/token.crt" 2>/dev/null
	local port
	port=$(free_port)
	TOKEN_ADDR="127.0.0.1:$port"
	nsenter --net="$BERTH_NETNS" /usr/bin/python3 "$BATS_TEST_DIRNAME/../tools/token_server.py" "$TOKEN_ADDR" "$REG_DIR/token.key" \
		"$REG_USER" "$REG_PASS" >"$REG_DIR/token.log" 2>&1 &
	TOKEN_PID=$!
	export TOKEN_ADDR TOKEN_PID
	wait_http "http://$TOKEN_ADDR/health" "$REG_DIR/token.log"
}

token_server_stop() {
	stop_pid "${TOKEN_PID:-}"
	TOKEN_PID=""
}

# proxy_start MODE: tests/tools/fault_proxy.py in front of the registry,
# injecting a fault (see the script); sets PROXY (127.0.0.1:PORT).
proxy_start() {
	local port
	port=$(free_port)
	PROXY="127.0.0.1:$port"
	nsenter --net="$BERTH_NETNS" /usr/bin/python3 "$BATS_TEST_DIRNAME/../tools/fault_proxy.py" "$PROXY" "$REG" "$1" \
		>"$REG_DIR/proxy.log" 2>&1 &
	PROXY_PID=$!
	export PROXY PROXY_PID
	wait_http "http://$PROXY/v2/" "$REG_DIR/proxy.log"
}

proxy_stop() {
	stop_pid "${PROXY_PID:-}"
	PROXY_PID=""
}

# A blob's file in the registry's storage.
registry_blob_path() {
	local hex=${1#sha256:}
	echo "$REG_DIR/storage/docker/registry/v2/blobs/sha256/${hex:0:2}/$hex/data"
}

# registry_seed NAME: an image built from busybox-static pushed into the
# registry with skopeo (not through berthd), for pull tests. Uses the
# private berthd to build the archive; removes the image from it after.
registry_seed() {
	local name=$1 tmp
	tmp=$(mktemp -d "$BERTH_ROOT/seed.XXXXXX")
	busybox_image "seed-tmp:latest"
	curl -sf --unix-socket "$BERTH_SOCK" "http://berth/images/seed-tmp:latest/get" -o "$tmp/img.tar"
	rskopeo copy -q --dest-tls-verify=false "docker-archive:$tmp/img.tar" "docker://$REG/$name" >/dev/null
	local rc=$?
	curl -sf --unix-socket "$BERTH_SOCK" -X DELETE "http://berth/images/seed-tmp:latest" >/dev/null
	rm -rf "$tmp"
	return $rc
}

# registry_digest NAME: the manifest digest skopeo sees.
registry_digest() {
	rskopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$REG/$1"
}

# registry_seed_index NAME ARCH...: NAME:ARCH for each architecture (a
# busybox rootfs whose /arch names it, imported with that platform and
# pushed through berthd), then NAME:multi, a manifest list of them all.
registry_seed_index() {
	local name=$1 tmp arch m d list sep=""
	shift
	tmp=$(mktemp -d "$BERTH_ROOT/index.XXXXXX")
	busybox_rootfs "$tmp/r"
	list='{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":['
	for arch in "$@"; do
		echo "$arch" >"$tmp/r/arch"
		tar -C "$tmp/r" -cf "$tmp/$arch.tar" .
		curl -sf --unix-socket "$BERTH_SOCK" -X POST --data-binary "@$tmp/$arch.tar" \
			"http://berth/images/create?fromSrc=-&repo=$REG/$name&tag=$arch&platform=linux/$arch" >/dev/null
		curl -sf --unix-socket "$BERTH_SOCK" -X POST \
			"http://berth/images/$(jq -rn --arg v "$REG/$name" '$v|@uri')/push?tag=$arch" >/dev/null
		curl -sf --unix-socket "$BERTH_SOCK" -X DELETE "http://berth/images/$REG/$name:$arch" >/dev/null
		m=$(rcurl -sf -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' "http://$REG/v2/$name/manifests/$arch")
		d=sha256:$(printf '%s' "$m" | sha256sum | cut -d' ' -f1)
		list="$list$sep{\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\",\"digest\":\"$d\",\"size\":${#m},\"platform\":{\"architecture\":\"$arch\",\"os\":\"linux\"}}"
		sep=,
	done
	rcurl -sf -X PUT -H 'Content-Type: application/vnd.docker.distribution.manifest.list.v2+json' \
		--data-binary "$list]}" "http://$REG/v2/$name/manifests/multi"
	rm -rf "$tmp"
}
