# Shared by the bats tiers: a private berthd per test file.
#
#   setup_file()    { berth_start; }
#   teardown_file() { berth_stop; }
#
# berth_start exports BERTH_ROOT (a temp dir), BERTH_SOCK, DOCKER_HOST,
# BERTHD_PID and BERTH_NETNS. Extra berthd flags may be passed as arguments.
#
# Every test daemon runs in a network namespace of its own, pinned in the
# file $BERTH_NETNS ($BERTHD enters it, so a restarted daemon finds its
# bridges and published ports again): concurrent test daemons, dockerd and
# the host never share a bridge, a subnet or a firewall table. Published
# ports answer on that namespace's 127.0.0.1: reach them with berth_netns.

export BERTH_BIN_DIR=${BERTH_BIN_DIR:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)/build/release/bin}
BERTHD="$(cd "$BATS_TEST_DIRNAME/.." && pwd)/berthd-netns"
BERTH="$BERTH_BIN_DIR/berth"

berth_start() {
	BERTH_ROOT=$(mktemp -d /tmp/berth-test.XXXXXX)
	BERTH_SOCK="$BERTH_ROOT/berth.sock"
	BERTH_NETNS="$BERTH_ROOT/netns"
	export BERTH_ROOT BERTH_SOCK BERTH_NETNS DOCKER_HOST="unix://$BERTH_SOCK"
	touch "$BERTH_NETNS"
	unshare --net="$BERTH_NETNS" ip link set lo up || return 1
	"$BERTHD" --data-root "$BERTH_ROOT/data" --exec-root "$BERTH_ROOT/run" \
		--pidfile "$BERTH_ROOT/berthd.pid" -H "unix://$BERTH_SOCK" "$@" \
		>"$BERTH_ROOT/berthd.log" 2>&1 &
	BERTHD_PID=$!
	export BERTHD_PID
	berth_wait_socket "$BERTH_SOCK" || {
		cat "$BERTH_ROOT/berthd.log" >&2
		return 1
	}
}

# berth_netns CMD...: runs CMD in the test daemon's network namespace.
berth_netns() {
	nsenter --net="$BERTH_NETNS" "$@"
}

# Waits up to 5 s for a socket to answer /_ping.
berth_wait_socket() {
	local i
	for i in $(seq 1 500); do
		curl -sf --unix-socket "$1" http://berth/_ping >/dev/null 2>&1 && return 0
		sleep 0.01
	done
	return 1
}

berth_stop() {
	# a test may have restarted berthd: its pidfile names the live one
	if [ -n "${BERTH_ROOT:-}" ] && [ -s "$BERTH_ROOT/berthd.pid" ]; then
		BERTHD_PID=$(cat "$BERTH_ROOT/berthd.pid")
	fi
	if [ -n "${BERTHD_PID:-}" ] && kill -0 "$BERTHD_PID" 2>/dev/null; then
		kill "$BERTHD_PID"
		wait "$BERTHD_PID" 2>/dev/null || true
		while kill -0 "$BERTHD_PID" 2>/dev/null; do sleep 0.05; done
	fi
	# BERTH_TEST_LOGDIR keeps each daemon's log for a post-mortem
	if [ -n "${BERTH_TEST_LOGDIR:-}" ] && [ -f "${BERTH_ROOT:-}/berthd.log" ]; then
		mkdir -p "$BERTH_TEST_LOGDIR"
		cp "$BERTH_ROOT/berthd.log" "$BERTH_TEST_LOGDIR/$(basename "$BATS_TEST_FILENAME" .bats).log"
	fi
	# unmounting the namespace files (under the root) ends the namespaces
	# and with them their bridges, veths and nftables table
	[ -n "${BERTH_ROOT:-}" ] && berth_cleanup_root "$BERTH_ROOT"
	unset BERTH_NETNS
	return 0
}

# berth_cleanup_root DIR: what containers under a test's root leave behind,
# even when the test failed: runc containers, shims, mounts, cgroups, files.
berth_cleanup_root() {
	local root=$1 id pid m
	if [ -d "$root/run/runc" ]; then
		for id in $(runc --root "$root/run/runc" list -q 2>/dev/null); do
			runc --root "$root/run/runc" kill -a "$id" KILL 2>/dev/null
			runc --root "$root/run/runc" delete -f "$id" 2>/dev/null
		done
	fi
	# shims are not our children: find them by their state dir under root
	for pid in $(pgrep -f -- "--state-dir $root/" 2>/dev/null); do
		kill -9 "$pid" 2>/dev/null
	done
	for m in $(awk -v r="$root/" 'index($2, r) == 1 {print $2}' /proc/mounts | sort -r); do
		umount -l "$m" 2>/dev/null
	done
	rm -rf "$root"
}

# api METHOD PATH [curl args...]: prints the body, then the status on the last line.
api() {
	local method=$1 path=$2
	shift 2
	curl -s --unix-socket "$BERTH_SOCK" -X "$method" -w '\n%{http_code}' "$@" "http://berth$path"
}

# Splits the output of `api` into $body and $status.
api_split() {
	status=${output##*$'\n'}
	body=${output%$'\n'*}
}

require_docker_cli() {
	command -v docker >/dev/null 2>&1 || skip "the docker CLI is not installed on this machine"
}

# busybox_rootfs DIR: a root filesystem from Debian's busybox-static, with
# every applet linked and a passwd/group that has root and a user 1000.
busybox_rootfs() {
	local dir=$1 app
	mkdir -p "$dir/bin" "$dir/etc" "$dir/tmp" "$dir/root" "$dir/home/user" "$dir/proc" "$dir/sys" "$dir/dev"
	cp /bin/busybox "$dir/bin/busybox"
	for app in $("$dir/bin/busybox" --list); do
		[ "$app" = busybox ] || ln -sf busybox "$dir/bin/$app"
	done
	printf 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$dir/etc/passwd"
	printf 'root:x:0:\nuser:x:1000:\nnogroup:x:65534:\n' >"$dir/etc/group"
	chmod 1777 "$dir/tmp"
}

# busybox_image [NAME]: imports the busybox rootfs into the private berthd as
# NAME (default busybox:latest) with CMD ["sh"], through the API.
busybox_image() {
	local name=${1:-busybox:latest} tmp
	tmp=$(mktemp -d "$BERTH_ROOT/rootfs.XXXXXX")
	busybox_rootfs "$tmp/rootfs"
	tar -C "$tmp/rootfs" -cf "$tmp/rootfs.tar" .
	curl -sf --unix-socket "$BERTH_SOCK" -X POST -H 'Content-Type: application/x-tar' \
		--data-binary "@$tmp/rootfs.tar" \
		"http://berth/images/create?fromSrc=-&repo=${name%%:*}&tag=${name##*:}&changes=$(printf 'CMD ["sh"]' | jq -sRr @uri)" >/dev/null
	local rc=$?
	rm -rf "$tmp"
	return $rc
}

# berth_restart [--kill] [berthd flags...]: stops the test daemon (SIGTERM,
# or SIGKILL with --kill: what live restore must survive) and starts it
# again on the same roots and socket.
berth_restart() {
	local sig=TERM
	if [ "${1:-}" = --kill ]; then
		sig=KILL
		shift
	fi
	[ -s "$BERTH_ROOT/berthd.pid" ] && BERTHD_PID=$(cat "$BERTH_ROOT/berthd.pid")
	kill -s "$sig" "$BERTHD_PID" 2>/dev/null || true
	wait "$BERTHD_PID" 2>/dev/null || true
	while kill -0 "$BERTHD_PID" 2>/dev/null; do sleep 0.05; done
	"$BERTHD" --data-root "$BERTH_ROOT/data" --exec-root "$BERTH_ROOT/run" \
		--pidfile "$BERTH_ROOT/berthd.pid" -H "unix://$BERTH_SOCK" "$@" \
		>>"$BERTH_ROOT/berthd.log" 2>&1 &
	BERTHD_PID=$!
	export BERTHD_PID
	berth_wait_socket "$BERTH_SOCK"
}

# The docker CLI tier's usual file set-up: a private berthd with busybox
# (nothing when there is no docker CLI: require_docker_cli skips each test),
# and every container gone before the daemon stops.
compat_setup_file() {
	command -v docker >/dev/null || return 0
	berth_start "$@" && busybox_image busybox:latest
}
compat_teardown_file() {
	if [ -n "${BERTH_SOCK:-}" ]; then
		docker ps -aq 2>/dev/null | xargs -r docker rm -f >/dev/null 2>&1 || true
	fi
	berth_stop
}

# dockerd_start / dockerd_stop: a private dockerd (Debian's docker.io) for the
# interchange tests, in the test daemon's network namespace so that both
# reach the same 127.0.0.1; no bridge and no firewall rules of its own. It is
# stopped, and its data root unmounted and removed, by dockerd_stop (call it
# from teardown, so that a failing test cleans up too). DSOCK is its socket.
dockerd_start() {
	DROOT=$(mktemp -d /tmp/berth-dockerd.XXXXXX)
	DSOCK="$DROOT/docker.sock"
	nsenter --net="$BERTH_NETNS" dockerd --data-root "$DROOT/data" --exec-root "$DROOT/run" \
		--pidfile "$DROOT/pid" -H "unix://$DSOCK" --bridge=none --iptables=false \
		--ip6tables=false >"$DROOT/log" 2>&1 &
	DPID=$!
	berth_wait_socket "$DSOCK"
}

dockerd_stop() {
	if [ -n "${DPID:-}" ] && kill -0 "$DPID" 2>/dev/null; then
		kill "$DPID"
		wait "$DPID" 2>/dev/null || true
	fi
	[ -n "${DROOT:-}" ] && { umount -R "$DROOT/data" 2>/dev/null; rm -rf "$DROOT"; }
	DPID=""
	return 0
}
