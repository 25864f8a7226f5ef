#!/usr/bin/env bats
# berth-shim on its own, as berthd will drive it: a busybox OCI bundle, runc
# with a private --root, the control and attach sockets (socat), the json-file
# log. Every test ends with the shim gone and nothing left behind: no process,
# mount, cgroup or runc state (check_clean); teardown forces that on failure.

load ../helpers

SHIM="$BERTH_BIN_DIR/berth-shim"

setup_file() {
	[ "$(id -u)" = 0 ] && command -v runc >/dev/null && [ -x /bin/busybox ] || return 0
	ROOTFS=$(mktemp -d /tmp/berth-shim-rootfs.XXXXXX)
	chmod 755 "$ROOTFS"
	mkdir -p "$ROOTFS/bin" "$ROOTFS/proc" "$ROOTFS/dev" "$ROOTFS/sys" "$ROOTFS/tmp"
	cp /bin/busybox "$ROOTFS/bin/"
	local a
	for a in $("$ROOTFS/bin/busybox" --list); do
		[ "$a" = busybox ] || ln -s busybox "$ROOTFS/bin/$a"
	done
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
	[ -x "$SHIM" ] || skip "berth-shim is not built"
	T=$(mktemp -d /tmp/berth-shim.XXXXXX)
	ID="bshim-$$-$BATS_TEST_NUMBER"
	S="$T/state"
	BG_PIDS=()
}

# Whatever a failed test left: the starter, socat clients, the shim, runc's
# container (delete --force kills its processes and removes its cgroups).
teardown() {
	[ -n "${T:-}" ] || return 0
	local p
	for p in "${BG_PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	if [ -n "${SHIM_PID:-}" ] && kill -0 "$SHIM_PID" 2>/dev/null; then
		kill -9 "$SHIM_PID"
	fi
	runc --root "$T/runc" delete --force "$ID" >/dev/null 2>&1
	local sanitizer=""
	[ -f "$S/shim.log" ] && sanitizer=$(grep -l Sanitizer "$S/shim.log" || true)
	rm -rf "$T"
	[ -z "$sanitizer" ] || { echo "sanitizer report in shim.log" >&2; return 1; }
}

# bundle ARGS_JSON [jq filter]: config.json from `runc spec`, on the shared
# read-only rootfs.
bundle() {
	local args=$1 extra=${2:-.}
	rm -f "$T/config.json"
	(cd "$T" && runc spec)
	jq --argjson args "$args" --arg root "$ROOTFS" \
		'.process.args = $args | .process.terminal = false | .root = {path: $root, readonly: true}
		 | .hostname = "shim-test"' "$T/config.json" | jq "$extra" >"$T/config.new"
	mv "$T/config.new" "$T/config.json"
}

# start_shim [flags]: runs berth-shim; sets SHIM_PID. Nothing runs in the
# container before "start" (runc run): its report has pid 0.
start_shim() {
	run "$SHIM" --id "$ID" --bundle "$T" --state-dir "$S" --runtime-root "$T/runc" \
		--log-path "$T/ctr.log" "$@"
	[ "$status" -eq 0 ] || { echo "$output"; return 1; }
	SHIM_PID=$(jq -r .shim_pid <<<"$output")
	CPID=""
	[ "$SHIM_PID" -gt 0 ] && jq -e '.pid == 0' <<<"$output" >/dev/null
}

# ctl JSON: one control request; the container's start sets CPID (the init)
# from its answer.
ctl() {
	local out
	out=$("$SHIM" ctl "$S" "$1") || { echo "$out"; return 1; }
	if [ "$1" = '{"cmd":"start"}' ]; then
		CPID=$(jq -r .pid <<<"$out")
		[ "$CPID" -gt 0 ] || return 1
	fi
	echo "$out"
}

# wait_exit [exec id]: the status object once the process exited and is logged.
wait_exit() {
	if [ -n "${1:-}" ]; then
		ctl "{\"cmd\":\"wait\",\"exec_id\":\"$1\"}"
	else
		ctl '{"cmd":"wait"}'
	fi
}

# Waits up to 5 s for the shim to exit (a zombie waiting for init counts).
wait_shim_gone() {
	local i
	for i in $(seq 1 500); do
		[ -e "/proc/$SHIM_PID" ] || return 0
		[ "$(awk '{print $3}' "/proc/$SHIM_PID/stat" 2>/dev/null)" != Z ] || return 0
		sleep 0.01
	done
	echo "berth-shim $SHIM_PID still running" >&2
	return 1
}

# The memory cgroup directory of a running process.
memory_cgroup_dir() {
	local path
	path=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ {print $3}' "/proc/$1/cgroup")
	if [ -n "$path" ]; then
		echo "/sys/fs/cgroup/memory$path"
	else
		echo "/sys/fs/cgroup$(awk -F: '$1 == 0 {print $3}' "/proc/$1/cgroup")"
	fi
}

rss_kb() {
	awk '/^VmRSS:/ {print $2}' "/proc/$1/status"
}

# An ASan/UBSan build (make SAN=1) is linked dynamically against libasan.
sanitized() {
	grep -q __asan_init "$SHIM"
}

# After the shim exited: nothing of the container is left.
check_clean() {
	wait_shim_gone
	[ -z "$CPID" ] || ! kill -0 "$CPID" 2>/dev/null
	[ -z "$(pgrep -f -- "--state-dir $S|--root $T/runc" || true)" ]
	! grep -q -- "$T" /proc/self/mountinfo
	[ -z "$(runc --root "$T/runc" list -q 2>/dev/null)" ]
	[ ! -e "$S/control.sock" ] && [ ! -e "$S/attach.sock" ]
	if [ -n "${CGROUP_DIR:-}" ]; then [ ! -d "$CGROUP_DIR" ]; fi
}

# attach OUT HELLO [STDIN_FILE]: a socat client in the background, connected
# and greeted before this returns. Its output goes to OUT; STDIN_FILE (a
# file or fifo) follows the first line.
attach() {
	local out=$1 hello=$2 in=${3:-/dev/null} sock=${4:-$S/attach.sock}
	(
		printf '%s\n' "$hello"
		cat "$in"
	) | socat -d -d -t 30 - "UNIX-CONNECT:$sock" >"$out" 2>"$out.err" &
	BG_PIDS+=($!)
	local i
	for i in $(seq 1 500); do
		grep -q "starting data transfer loop" "$out.err" 2>/dev/null && { sleep 0.05; return 0; }
		sleep 0.01
	done
	cat "$out.err" >&2
	return 1
}

# The payloads of Docker-framed output, each as "stream:payload" (perl is
# Essential in Debian; a shell loop is far too slow for 20000 frames).
deframe() {
	perl -e 'local $/; my $d = <>; my $o = 0;
		while ($o + 8 <= length $d) {
			my ($s, $n) = unpack("C x3 N", substr($d, $o, 8));
			print "$s:", substr($d, $o + 8, $n); $o += 8 + $n;
		}' "$1"
}

@test "shim: echo lands in the json-file log in Docker's format; exit code 0" {
	bundle '["sh","-c","echo hello; echo oops >&2"]'
	start_shim
	jq -e '.status == "created" and .pid == 0' "$S/status.json"
	ctl '{"cmd":"start"}'
	run wait_exit
	[ "$status" -eq 0 ]
	jq -e '.ok and .status == "exited" and .exit_code == 0 and .oom_killed == false' <<<"$output"
	jq -e '.started_at != "0001-01-01T00:00:00Z" and .finished_at >= .started_at' <<<"$output"
	# byte-exact: key order, escaping, RFC 3339 nanoseconds, one entry a line
	run grep -cE '^\{"log":"hello\\n","stream":"stdout","time":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]*[1-9])?Z"\}$' "$T/ctr.log"
	[ "$output" = 1 ]
	run grep -c '^{"log":"oops\\n","stream":"stderr","time":"' "$T/ctr.log"
	[ "$output" = 1 ]
	[ "$(wc -l <"$T/ctr.log")" = 2 ]
	check_clean
	jq -e '.status == "exited" and .exit_code == 0' "$S/status.json"
}

@test "shim: exit codes 3 and 137 (SIGKILL); the container's cgroup is removed" {
	bundle '["sh","-c","exit 3"]'
	start_shim
	ctl '{"cmd":"start"}'
	run wait_exit
	jq -e '.exit_code == 3' <<<"$output"
	check_clean

	rm -rf "$S"
	bundle '["sleep","100"]'
	start_shim
	ctl '{"cmd":"start"}'
	CGROUP_DIR=$(memory_cgroup_dir "$CPID")
	[ -d "$CGROUP_DIR" ]
	jq -e '.status == "running"' <(ctl '{"cmd":"state"}')
	ctl '{"cmd":"kill","signal":9}'
	run wait_exit
	jq -e '.exit_code == 137' <<<"$output"
	check_clean
	jq -e '.exit_code == 137' "$S/status.json"
}

@test "shim: a created container can be killed before start; a second start is refused" {
	bundle '["true"]'
	start_shim
	ctl '{"cmd":"kill","signal":9}'
	run wait_exit
	jq -e '.exit_code == 137 and .started_at == "0001-01-01T00:00:00Z"' <<<"$output"
	check_clean

	rm -rf "$S"
	bundle '["sleep","100"]'
	start_shim
	ctl '{"cmd":"start"}'
	run ctl '{"cmd":"start"}'
	[ "$status" -eq 1 ]
	[[ "$output" == *"already been started"* ]]
	run ctl '{"cmd":"bogus"}'
	[[ "$output" == *'unknown command "bogus"'* ]]
	run ctl '{"cmd":"kill","signal":9,"all":true}'
	[ "$status" -eq 0 ]
	run wait_exit
	jq -e '.exit_code == 137' <<<"$output"
	check_clean
}

@test "shim: runc's error comes back from start; nothing is left, nothing logged" {
	bundle '["/no/such/binary"]'
	start_shim
	run ctl '{"cmd":"start"}'
	[ "$status" -eq 1 ]
	[[ "$output" == *"/no/such/binary"* ]]
	wait_shim_gone
	[ -z "$(pgrep -f -- "--state-dir $S|--root $T/runc" || true)" ]
	[ ! -e "$S/control.sock" ] && [ ! -e "$S/attach.sock" ]
	[ ! -s "$T/ctr.log" ]
	[ -z "$(runc --root "$T/runc" list -q)" ]
}

@test "shim: bad arguments and log options are refused with Docker's wording" {
	bundle '["true"]'
	run "$SHIM" --id "$ID" --bundle "$T" --state-dir "$S" --log-opt max-size=-1
	[ "$status" -eq 1 ]
	[[ "$output" == *"invalid size: '-1'"* ]]
	run "$SHIM" --id "$ID" --bundle "$T" --state-dir "$S" --log-opt max-file=0
	[[ "$output" == *"max-file cannot be less than 1"* ]]
	run "$SHIM" --id "$ID" --bundle "$T" --state-dir "$S" --log-opt labels=x
	[[ "$output" == *"unknown log opt 'labels' for json-file log driver"* ]]
	run "$SHIM" --id "$ID" --bundle "$T" --state-dir "$S" --tty
	[ "$status" -eq 1 ]
	[[ "$output" == *"does not match process.terminal"* ]]
	run "$SHIM" --bundle "$T"
	[[ "$output" == *"are required"* ]]
}

@test "shim: attach receives framed stdout and stderr; stdin via attach reaches the container" {
	bundle '["sh","-c","read line; echo got:$line; echo to-stderr >&2"]'
	start_shim --stdin --stdin-once
	mkfifo "$T/in"
	attach "$T/all" '{"stdin":true,"stdout":true,"stderr":true}' "$T/in"
	attach "$T/outonly" '{"stdout":true,"stderr":false}'
	ctl '{"cmd":"start"}'
	echo "hello shim" >"$T/in"
	run wait_exit
	jq -e '.exit_code == 0' <<<"$output"
	check_clean
	wait "${BG_PIDS[@]}" || true
	run deframe "$T/all"
	[ "$output" = $'1:got:hello shim\n2:to-stderr' ]
	run deframe "$T/outonly"
	[ "$output" = "1:got:hello shim" ]
	grep -q '"log":"got:hello shim\\n","stream":"stdout"' "$T/ctr.log"
}

@test "shim: closing the attached stdin ends cat (stdin-once); without --stdin stdin is /dev/null" {
	bundle '["cat"]'
	start_shim --stdin --stdin-once
	printf 'line1\nline2\n' >"$T/input"
	attach "$T/out" '{"stdin":true}' "$T/input"
	ctl '{"cmd":"start"}'
	run wait_exit
	jq -e '.exit_code == 0' <<<"$output"
	check_clean
	[ "$(jq -r .log "$T/ctr.log" | tr -d '\n')" = "line1line2" ]

	rm -rf "$S" "$T/ctr.log"
	start_shim
	ctl '{"cmd":"start"}'
	run wait_exit
	jq -e '.exit_code == 0' <<<"$output"
	check_clean
	[ ! -s "$T/ctr.log" ]
}

@test "shim: close-stdin over the control socket ends cat" {
	bundle '["cat"]'
	start_shim --stdin
	mkfifo "$T/in"
	attach "$T/out" '{"stdin":true}' "$T/in"
	exec 7<>"$T/in" # keeps the client's stdin open: only close-stdin ends cat
	ctl '{"cmd":"start"}'
	echo data >&7
	local i
	for i in $(seq 1 300); do grep -q data "$T/ctr.log" 2>/dev/null && break; sleep 0.01; done
	ctl '{"cmd":"close-stdin"}'
	run wait_exit
	exec 7>&-
	jq -e '.exit_code == 0' <<<"$output"
	check_clean
	grep -q '"log":"data\\n"' "$T/ctr.log"
}

@test "shim: a slow attach client slows the container down, nothing is lost" {
	bundle '["sh","-c","i=0; while [ $i -lt 20000 ]; do echo 0123456789012345678901234567890123456789-$i; i=$((i+1)); done"]'
	start_shim
	# socat reads the socket only as fast as the stalled consumer allows
	(printf '{}\n'; sleep 30) | socat -d -d - "UNIX-CONNECT:$S/attach.sock" 2>"$T/slow.err" |
		(sleep 2; cat >"$T/slow") &
	BG_PIDS+=($!)
	local i
	for i in $(seq 1 500); do grep -q "starting data transfer loop" "$T/slow.err" && break; sleep 0.01; done
	sleep 0.05
	ctl '{"cmd":"start"}'
	sleep 1
	# stalled: the container cannot have finished yet
	jq -e '.status == "running"' <(ctl '{"cmd":"state"}')
	# the backlog is bounded (a sanitizer build has its own shadow memory)
	if ! sanitized; then [ "$(rss_kb "$SHIM_PID")" -lt 2048 ]; fi
	run wait_exit
	jq -e '.exit_code == 0' <<<"$output"
	check_clean
	[ "$(wc -l <"$T/ctr.log")" = 20000 ]
	for i in $(seq 1 500); do [ "$(deframe "$T/slow" | wc -l)" = 20000 ] && break; sleep 0.01; done
	[ "$(deframe "$T/slow" | wc -l)" = 20000 ]
	deframe "$T/slow" | tail -1 | grep -q -- '-19999$'
}

@test "shim: TTY through the console socket: raw attach, CRLF in the log, resize" {
	bundle '["sh","-c","read go; tty; stty size"]' '.process.terminal = true'
	start_shim --tty --stdin
	mkfifo "$T/in"
	attach "$T/out" '{"stdin":true}' "$T/in"
	ctl '{"cmd":"start"}'
	ctl '{"cmd":"resize","height":33,"width":101}'
	echo go >"$T/in"
	run wait_exit
	jq -e '.exit_code == 0' <<<"$output"
	check_clean
	wait "${BG_PIDS[@]}" || true
	# raw bytes, no framing: the echoed input, then the output, CRLF line ends
	grep -q $'^/dev/pts/[0-9]*\r$' "$T/out"
	grep -q $'^33 101\r$' "$T/out"
	grep -q '"log":"33 101\\r\\n","stream":"stdout"' "$T/ctr.log"
}

@test "shim: resize of a non-TTY process is a 400" {
	bundle '["sleep","100"]'
	start_shim
	ctl '{"cmd":"start"}'
	run ctl '{"cmd":"resize","height":10,"width":10}'
	[ "$status" -eq 1 ]
	[[ "$output" == *"no TTY"* ]]
	ctl '{"cmd":"kill","signal":9}'
	wait_exit
	check_clean
}

@test "shim: detach keys end a TTY attachment, the container keeps running" {
	bundle '["sh","-c","while true; do sleep 0.1; done"]' '.process.terminal = true'
	start_shim --tty --stdin
	printf 'x\x10\x11' >"$T/keys"
	attach "$T/out" '{"stdin":true}' "$T/keys"
	ctl '{"cmd":"start"}'
	local i
	for i in $(seq 1 300); do kill -0 "${BG_PIDS[0]}" 2>/dev/null || break; sleep 0.01; done
	! kill -0 "${BG_PIDS[0]}" 2>/dev/null
	jq -e '.status == "running"' <(ctl '{"cmd":"state"}')
	ctl '{"cmd":"kill","signal":9}'
	wait_exit
	check_clean
}

@test "shim: json-file rotation with max-size and max-file" {
	bundle '["sh","-c","i=0; while [ $i -lt 300 ]; do echo line-$i-xxxxxxxxxxxxxxxxxxxxxxxx; i=$((i+1)); done"]'
	start_shim --log-opt max-size=2k --log-opt max-file=3
	ctl '{"cmd":"start"}'
	wait_exit
	check_clean
	[ -f "$T/ctr.log" ] && [ -f "$T/ctr.log.1" ] && [ -f "$T/ctr.log.2" ]
	[ ! -e "$T/ctr.log.3" ]
	local f size
	for f in "$T/ctr.log" "$T/ctr.log.1" "$T/ctr.log.2"; do
		size=$(stat -c %s "$f")
		# rotation happens before a write once the file reached max-size
		[ "$size" -lt $((2048 + 120)) ]
		jq -e . "$f" >/dev/null
	done
	[ "$(stat -c %s "$T/ctr.log.1")" -ge 2048 ]
	# oldest to newest, the kept lines are consecutive and end with the last
	run sh -c "cat '$T/ctr.log.2' '$T/ctr.log.1' '$T/ctr.log' | jq -r .log | sed 's/-x*$//'"
	[ "${lines[${#lines[@]}-1]}" = "line-299" ]
	local first=${lines[0]#line-} n=${#lines[@]}
	[ "${lines[$((n - 1))]}" = "line-$((first + n - 1))" ]
	[ "$first" -gt 0 ]
}

@test "shim: a line longer than 16 KiB is logged as partial entries with one time" {
	bundle '["sh","-c","head -c 20000 /dev/zero | tr \"\\\\0\" a; echo; printf tail"]'
	start_shim
	ctl '{"cmd":"start"}'
	wait_exit
	check_clean
	[ "$(wc -l <"$T/ctr.log")" = 3 ]
	run jq -r '.log | length' "$T/ctr.log"
	[ "${lines[0]}" = 16384 ] && [ "${lines[1]}" = 3617 ] && [ "${lines[2]}" = 4 ]
	run jq -r .log "$T/ctr.log"
	[[ "${lines[0]}" != *$'\n'* ]]
	[ "$(sed -n 1p "$T/ctr.log" | jq -r .time)" = "$(sed -n 2p "$T/ctr.log" | jq -r .time)" ]
	[ "$(sed -n 3p "$T/ctr.log" | jq -r .log)" = "tail" ]
}

@test "shim: a non-root container can reopen /dev/stdout (the pipes are its own)" {
	bundle '["sh","-c","echo via-dev-stdout >/dev/stdout"]' '.process.user = {uid: 1000, gid: 1000}'
	start_shim
	ctl '{"cmd":"start"}'
	run wait_exit
	jq -e '.exit_code == 0' <<<"$output"
	check_clean
	grep -q '"log":"via-dev-stdout\\n"' "$T/ctr.log"
}

@test "shim: keeps supervising and logging after its starter is killed with -9" {
	bundle '["sh","-c","i=0; while true; do echo tick-$i; i=$((i+1)); sleep 0.05; done"]'
	bash -c "'$SHIM' --id '$ID' --bundle '$T' --state-dir '$S' --runtime-root '$T/runc' \
		--log-path '$T/ctr.log' >'$T/started'; exec sleep 1000" &
	local starter=$!
	BG_PIDS+=($starter)
	local i
	for i in $(seq 1 500); do [ -s "$T/started" ] && break; sleep 0.01; done
	SHIM_PID=$(jq -r .shim_pid "$T/started")
	# daemonized: its own session, not the starter's child
	[ "$(ps -o sid= -p "$SHIM_PID" | tr -d ' ')" = "$SHIM_PID" ]
	[ "$(ps -o ppid= -p "$SHIM_PID" | tr -d ' ')" != "$starter" ]
	ctl '{"cmd":"start"}'
	[ "$(ps -o ppid= -p "$CPID" | tr -d ' ')" = "$SHIM_PID" ]
	sleep 0.3
	kill -9 "$starter"
	wait "$starter" 2>/dev/null || true
	local before after
	before=$(wc -l <"$T/ctr.log")
	sleep 0.5
	after=$(wc -l <"$T/ctr.log")
	kill -0 "$SHIM_PID"
	[ "$after" -gt "$before" ]
	# the footprint goal: at most 1 MiB resident per shim, logging included
	if ! sanitized; then [ "$(rss_kb "$SHIM_PID")" -le 1024 ]; fi
	jq -e '.status == "running"' <(ctl '{"cmd":"state"}')
	ctl '{"cmd":"kill","signal":9}'
	run wait_exit
	jq -e '.exit_code == 137' <<<"$output"
	check_clean
}

# exec_process ARGS_JSON [terminal]: an OCI process for runc exec.
exec_process() {
	jq -n --argjson args "$1" --argjson tty "${2:-false}" \
		'{args: $args, cwd: "/", env: ["PATH=/bin"], user: {uid: 0, gid: 0}, terminal: $tty}' \
		>"$T/process-$RANDOM.json"
	ls -t "$T"/process-*.json | head -1
}

@test "shim: exec runs a second process with its own attach and exit code" {
	bundle '["sleep","100"]'
	start_shim
	ctl '{"cmd":"start"}'
	local p
	p=$(exec_process '["sh","-c","read x; echo exec-out:$x; echo exec-err >&2; exit 7"]')
	ctl "{\"cmd\":\"exec\",\"exec_id\":\"e1\",\"process\":\"$p\",\"stdin\":true}"
	jq -e '.status == "created"' "$S/exec/e1/status.json"
	echo from-stdin >"$T/in"
	attach "$T/eout" '{"stdin":true}' "$T/in" "$S/exec/e1/attach.sock"
	run ctl '{"cmd":"start","exec_id":"e1"}'
	[ "$status" -eq 0 ]
	run wait_exit e1
	jq -e '.id == "e1" and .exit_code == 7' <<<"$output"
	jq -e '.exit_code == 7 and .status == "exited"' "$S/exec/e1/status.json"
	wait "${BG_PIDS[@]}" || true
	run deframe "$T/eout"
	[ "$output" = $'1:exec-out:from-stdin\n2:exec-err' ]
	[ ! -e "$S/exec/e1/attach.sock" ]
	# exec output is not the container's log
	! grep -q exec-out "$T/ctr.log"

	# a TTY exec
	p=$(exec_process '["sh","-c","tty"]' true)
	ctl "{\"cmd\":\"exec\",\"exec_id\":\"e2\",\"process\":\"$p\"}"
	attach "$T/e2out" '{}' /dev/null "$S/exec/e2/attach.sock"
	ctl '{"cmd":"start","exec_id":"e2"}'
	run wait_exit e2
	jq -e '.exit_code == 0' <<<"$output"
	grep -q $'^/dev/pts/[0-9]*\r$' "$T/e2out"

	# one that cannot start: 126 and runc's error
	p=$(exec_process '["/no/such/exec"]')
	ctl "{\"cmd\":\"exec\",\"exec_id\":\"e3\",\"process\":\"$p\"}"
	run ctl '{"cmd":"start","exec_id":"e3"}'
	[ "$status" -eq 1 ]
	[[ "$output" == *"/no/such/exec"* ]]
	run wait_exit e3
	jq -e '.exit_code == 126 and (.error | contains("/no/such/exec"))' <<<"$output"

	jq -e '.execs == ["e1","e2","e3"]' <(ctl '{"cmd":"state"}')
	run ctl '{"cmd":"start","exec_id":"nope"}'
	[[ "$output" == *"No such exec instance: nope"* ]]
	ctl '{"cmd":"kill","signal":9}'
	run wait_exit
	jq -e '.exit_code == 137' <<<"$output"
	check_clean
}

@test "shim: an exec that is still running when the container dies is reaped too" {
	bundle '["sleep","100"]'
	start_shim
	ctl '{"cmd":"start"}'
	local p
	p=$(exec_process '["sleep","100"]')
	ctl "{\"cmd\":\"exec\",\"exec_id\":\"long\",\"process\":\"$p\"}"
	ctl '{"cmd":"start","exec_id":"long"}'
	p=$(exec_process '["true"]')
	ctl "{\"cmd\":\"exec\",\"exec_id\":\"never\",\"process\":\"$p\"}"
	ctl '{"cmd":"kill","signal":9}'
	run wait_exit long
	jq -e '.exit_code == 137' <<<"$output"
	run wait_exit
	jq -e '.exit_code == 137' <<<"$output"
	check_clean
	jq -e '.exit_code == 126 and .status == "exited"' "$S/exec/never/status.json"
}

@test "shim: pause and resume" {
	bundle '["sleep","100"]'
	start_shim
	ctl '{"cmd":"start"}'
	ctl '{"cmd":"pause"}'
	jq -e '.status == "paused"' "$S/status.json"
	run ctl '{"cmd":"pause"}'
	[[ "$output" == *"already paused"* ]]
	ctl '{"cmd":"resume"}'
	jq -e '.status == "running"' <(ctl '{"cmd":"state"}')
	# SIGKILL kills a paused container too
	ctl '{"cmd":"pause"}'
	ctl '{"cmd":"kill","signal":9}'
	run wait_exit
	jq -e '.exit_code == 137' <<<"$output"
	check_clean
}

@test "shim: a second shim for the same state dir is refused" {
	bundle '["sleep","100"]'
	start_shim
	run "$SHIM" --id "$ID-2" --bundle "$T" --state-dir "$S" --runtime-root "$T/runc"
	[ "$status" -eq 1 ]
	[[ "$output" == *"another berth-shim is running for $S"* ]]
	[ -S "$S/control.sock" ] && [ -S "$S/attach.sock" ]
	# the first one is unharmed
	ctl '{"cmd":"start"}'
	# and the lock tells whether a shim is alive
	! flock -n "$S/shim.lock" true
	ctl '{"cmd":"kill","signal":9}'
	wait_exit
	check_clean
	flock -n "$S/shim.lock" true
}

@test "shim: an OOM kill is recorded" {
	bundle '["sh","-c","tail /dev/zero"]' '.linux.resources.memory = {limit: 16777216, swap: 16777216}'
	start_shim
	ctl '{"cmd":"start"}'
	run wait_exit
	jq -e '.exit_code == 137 and .oom_killed == true' <<<"$output"
	check_clean
}

@test "shim: a state dir longer than a socket path still works" {
	S="$T/$(printf 'd%.0s' $(seq 1 60))/$(printf 'e%.0s' $(seq 1 60))/state"
	bundle '["sh","-c","tty; echo long"]' '.process.terminal = true'
	start_shim
	[ -S "$S/control.sock" ]
	ctl '{"cmd":"start"}'
	run wait_exit
	jq -e '.exit_code == 0' <<<"$output"
	check_clean
	grep -q 'long' "$T/ctr.log"
	grep -q '/dev/pts/' "$T/ctr.log"
}
