#!/usr/bin/env bats
# The OCI spec generator (engine/oci) against real runc: specs written by
# tests/tools/oci-gen from Docker-shaped Config/HostConfig, run with
# `runc run` on a busybox rootfs, in a fresh empty network namespace
# (NetworkMode none). Each test uses its own runc --root and cgroup parent;
# teardown deletes the container and removes the cgroups even on failure.

load ../helpers

OCI_GEN="$BERTH_BIN_DIR/../tests/tools/oci-gen"
REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
PROFILE="$REPO/contrib/seccomp/default.json"
DEFAULT_CAPS=00000000a80425fb

setup_file() {
	[ "$(id -u)" = 0 ] && command -v runc >/dev/null && [ -x /bin/busybox ] || return 0
	ROOTFS=$(mktemp -d /tmp/berth-oci-rootfs.XXXXXX)
	chmod 755 "$ROOTFS"
	mkdir -p "$ROOTFS/bin" "$ROOTFS/etc" "$ROOTFS/proc" "$ROOTFS/dev" "$ROOTFS/sys" \
		"$ROOTFS/tmp" "$ROOTFS/home/user"
	cp /bin/busybox "$ROOTFS/bin/"
	local a
	for a in $("$ROOTFS/bin/busybox" --list); do
		[ "$a" = busybox ] || ln -s busybox "$ROOTFS/bin/$a"
	done
	printf 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n' \
		>"$ROOTFS/etc/passwd"
	printf 'root:x:0:\nuser:x:1000:\nextra:x:2000:user\n' >"$ROOTFS/etc/group"
	export ROOTFS
}

teardown_file() {
	[ -n "${ROOTFS:-}" ] && rm -rf "$ROOTFS"
	return 0
}

setup() {
	[ "$(id -u)" = 0 ] || skip "runc needs root"
	command -v runc >/dev/null || skip "runc is not installed"
	[ -x /bin/busybox ] || skip "busybox-static is not installed"
	[ -x "$OCI_GEN" ] || skip "tests/tools/oci-gen is not built"
	T=$(mktemp -d /tmp/berth-oci.XXXXXX)
	ID="boci-$$-$BATS_TEST_NUMBER"
	CG="berth-oci-test-$$-$BATS_TEST_NUMBER"
	mkdir -p "$T/bundle"
}

# runc's container (delete --force kills it), then the cgroup parent in
# every hierarchy (v1 controllers, the v2 tree).
teardown() {
	[ -n "${T:-}" ] || return 0
	runc --root "$T/runc" delete --force "$ID" >/dev/null 2>&1
	local d
	for d in /sys/fs/cgroup/"$CG" /sys/fs/cgroup/*/"$CG"; do
		[ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	rm -rf "$T"
	for d in /sys/fs/cgroup/"$CG" /sys/fs/cgroup/*/"$CG"; do
		[ ! -d "$d" ] || { echo "cgroup $d left behind" >&2; return 1; }
	done
}

# spec CONFIG HOSTCONFIG [EXTRA]: config.json from Docker-shaped JSON.
# EXTRA is merged into oci-gen's input (berth_oci_input fields).
spec() {
	local cfg=$1 hc=${2:-'{}'} extra=${3:-'{}'}
	jq -n --arg id "$ID" --arg root "$ROOTFS" --arg cg "/$CG" --arg prof "$PROFILE" \
		--argjson cfg "$cfg" --argjson hc "$hc" --argjson extra "$extra" \
		'{id: ($id + "-0123456789"), rootfs: $root, config: $cfg,
		  host_config: ({NetworkMode: "none"} + $hc), cgroup_parent: $cg,
		  seccomp_profile: $prof} + $extra' >"$T/in.json"
	"$OCI_GEN" "$T/in.json" "$T/bundle/config.json"
}

# ctr CONFIG HOSTCONFIG [EXTRA]: generates and runs it; output and status
# as bats' run leaves them.
ctr() {
	spec "$@" || return 1
	run timeout 60 runc --root "$T/runc" run --bundle "$T/bundle" "$ID" </dev/null
}

sh_cmd() {
	jq -n --arg c "$1" '{Cmd: ["sh", "-c", $c]}'
}

@test "echo works, with Docker's environment and hostname" {
	ctr '{"Cmd":["sh","-c","echo hello from runc; hostname; env | sort"]}' '{}'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "hello from runc" ]
	local cid="$ID-0123456789" # the container ID spec() passes
	[ "${lines[1]}" = "${cid:0:12}" ]
	grep -qx "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" <<<"$output"
	grep -qx "HOSTNAME=${lines[1]}" <<<"$output"
}

@test "image entrypoint, env and workdir merge with the request" {
	local img='{"Entrypoint":["sh","-c"],"Cmd":["echo image-cmd"],"Env":["A=img","B=img"],
		"WorkingDir":"/home"}'
	ctr '{"Cmd":["echo $A $B; pwd"],"Env":["B=req"]}' '{}' "{\"image_config\": $img}"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "img req" ]
	[ "${lines[1]}" = "/home" ]
}

@test "id shows the user, its groups and GroupAdd" {
	ctr '{"Cmd":["id"],"User":"user"}' '{"GroupAdd":["3000"]}'
	[ "$status" -eq 0 ]
	[ "$output" = "uid=1000(user) gid=1000(user) groups=1000(user),2000(extra),3000" ]
	ctr '{"Cmd":["id"],"User":"1000:extra"}' '{}'
	[ "$output" = "uid=1000(user) gid=2000(extra) groups=2000(extra)" ]
}

@test "an unknown user fails before runc with Docker's error" {
	run spec '{"Cmd":["id"],"User":"nobody"}'
	[ "$status" -eq 1 ]
	[ "$output" = "400: unable to find user nobody: no matching entries in passwd file" ]
}

@test "capabilities: Docker's default set, cap-add/cap-drop, non-root" {
	ctr '{"Cmd":["grep","Cap","/proc/self/status"]}' '{}'
	[ "$status" -eq 0 ]
	grep -qx "CapEff:	$DEFAULT_CAPS" <<<"$output"
	grep -qx "CapBnd:	$DEFAULT_CAPS" <<<"$output"
	grep -qx "CapInh:	0000000000000000" <<<"$output"
	# + NET_ADMIN (12), - MKNOD (27)
	local want
	want=$(printf '%016x' $(((0x$DEFAULT_CAPS | (1 << 12)) & ~(1 << 27))))
	runc --root "$T/runc" delete --force "$ID" >/dev/null 2>&1
	ctr '{"Cmd":["grep","Cap","/proc/self/status"]}' '{"CapAdd":["net_admin"],"CapDrop":["MKNOD"]}'
	[ "$status" -eq 0 ]
	grep -qx "CapEff:	$want" <<<"$output"
	runc --root "$T/runc" delete --force "$ID" >/dev/null 2>&1
	ctr '{"Cmd":["grep","Cap","/proc/self/status"],"User":"user"}' '{}'
	grep -qx "CapEff:	0000000000000000" <<<"$output"
	grep -qx "CapBnd:	$DEFAULT_CAPS" <<<"$output"
}

@test "read-only rootfs refuses writes; tmpfs and /dev/shm stay writable" {
	ctr "$(sh_cmd 'touch /x; echo rootfs=$?; touch /run/ok && echo run=ok; touch /dev/shm/ok && echo shm=ok')" \
		'{"ReadonlyRootfs":true,"Tmpfs":{"/run":"size=1m"}}'
	[ "$status" -eq 0 ]
	grep -q "Read-only file system" <<<"$output"
	grep -qx "rootfs=1" <<<"$output"
	grep -qx "run=ok" <<<"$output"
	grep -qx "shm=ok" <<<"$output"
	[ ! -e "$ROOTFS/x" ]
}

@test "masked and read-only paths" {
	local masked=/proc/kcore
	[ -e /proc/kcore ] || masked=/proc/timer_list
	[ -e "$masked" ] || masked=/proc/keys
	ctr "$(sh_cmd "echo masked=\$(wc -c < $masked); echo x 2>&1 > /proc/sys/kernel/domainname;
		echo procsys=\$?; echo firmware=\$(ls /sys/firmware | wc -l)")" '{}'
	[ "$status" -eq 0 ]
	grep -qx "masked=0" <<<"$output"
	grep -q "Read-only file system" <<<"$output"
	grep -qx "procsys=1" <<<"$output"
	grep -qx "firmware=0" <<<"$output"
}

@test "a memory limit is visible in the container's cgroup" {
	ctr "$(sh_cmd 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max')" \
		'{"Memory":67108864}'
	[ "$status" -eq 0 ]
	[ "$output" = 67108864 ]
}

@test "pids limit: the cgroup says so and forks beyond it fail" {
	ctr "$(sh_cmd 'cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max
		i=0; while [ $i -lt 12 ]; do sleep 3 & i=$((i+1)); done')" '{"PidsLimit":6}'
	[ "${lines[0]}" = 6 ]
	grep -q "can't fork" <<<"$output"
}

@test "seccomp blocks unshare, and only seccomp does" {
	ctr "$(sh_cmd 'unshare -U true; echo unshare=$?; echo work | tr a-z A-Z')" '{}'
	[ "$status" -eq 0 ]
	grep -q "Operation not permitted" <<<"$output"
	grep -qx "unshare=1" <<<"$output"
	grep -qx "WORK" <<<"$output"
	runc --root "$T/runc" delete --force "$ID" >/dev/null 2>&1
	ctr "$(sh_cmd 'unshare -U true; echo unshare=$?')" '{"SecurityOpt":["seccomp=unconfined"]}'
	[ "$status" -eq 0 ]
	[ "$output" = "unshare=0" ]
}

@test "no-new-privileges, oom_score_adj, ulimits" {
	ctr "$(sh_cmd 'grep NoNewPrivs /proc/self/status; cat /proc/self/oom_score_adj; ulimit -n; ulimit -Hn; ulimit -u')" \
		'{"SecurityOpt":["no-new-privileges"],"OomScoreAdj":300,
		  "Ulimits":[{"Name":"nofile","Soft":512,"Hard":1024},{"Name":"nproc","Soft":77,"Hard":77}]}'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "NoNewPrivs:	1" ]
	[ "${lines[1]}" = 300 ]
	[ "${lines[2]}" = 512 ]
	[ "${lines[3]}" = 1024 ]
	[ "${lines[4]}" = 77 ]
}

@test "hostname, /etc/hosts and resolv.conf come from the caller's files" {
	echo "127.0.0.1 localhost box" >"$T/hosts"
	echo "box" >"$T/hostname"
	echo "nameserver 192.0.2.1" >"$T/resolv.conf"
	ctr "$(sh_cmd 'hostname; cat /etc/hosts /etc/hostname /etc/resolv.conf; echo x >> /etc/hosts && echo writable')" \
		'{}' "{\"hosts_path\":\"$T/hosts\",\"hostname_path\":\"$T/hostname\",\"resolv_conf_path\":\"$T/resolv.conf\"}"
	[ "$status" -eq 0 ]
	jq -e '.config.Hostname == null' "$T/in.json" >/dev/null
	[ "${lines[1]}" = "127.0.0.1 localhost box" ]
	[ "${lines[2]}" = box ]
	[ "${lines[3]}" = "nameserver 192.0.2.1" ]
	[ "${lines[4]}" = writable ]
}

@test "--init runs tini as pid 1" {
	[ -x /usr/bin/tini-static ] || skip "tini is not installed"
	ctr "$(sh_cmd 'cat /proc/1/cmdline | tr "\0" " "; echo')" '{"Init":true}'
	[ "$status" -eq 0 ]
	[[ "$output" == "/sbin/docker-init -- sh -c "* ]]
}

@test "a fresh network namespace has only lo" {
	ctr "$(sh_cmd 'ls /sys/class/net')" '{}'
	[ "$status" -eq 0 ]
	[ "$output" = lo ]
}
