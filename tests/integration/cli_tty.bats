#!/usr/bin/env bats
# berth run -it / exec -it / attach through a real pty (a tmux pane): raw mode
# restored on every way out, SIGWINCH forwarded as a resize, detach keys
# (default, --detach-keys, config.json's detachKeys), --sig-proxy.

load ../helpers
bats_require_minimum_version 1.5.0

setup_file() {
	berth_start
	busybox_image busybox:latest
	export DOCKER_CONFIG="$BERTH_ROOT/config"
	mkdir -p "$DOCKER_CONFIG"
	# the tmux server inherits this environment: DOCKER_HOST, DOCKER_CONFIG
	export TMUX_SOCK="$BERTH_ROOT/tmux.sock"
	tmux -S "$TMUX_SOCK" -f /dev/null new-session -d -s idle -x 80 -y 24 "sleep 3600"
	tmux -S "$TMUX_SOCK" set -g status off
}

teardown_file() {
	tmux -S "$TMUX_SOCK" kill-server 2>/dev/null || true
	"$BERTH" ps -aq 2>/dev/null | xargs -r "$BERTH" rm -f >/dev/null 2>&1 || true
	berth_stop
}

setup() {
	command -v tmux >/dev/null || skip "tmux is not installed"
	T=$(mktemp -d "$BERTH_ROOT/tty.XXXXXX")
}

teardown() {
	tmux -S "$TMUX_SOCK" kill-session -t pane 2>/dev/null || true
}

tm() { tmux -S "$TMUX_SOCK" "$@"; }

# pane COMMAND: runs the shell command line COMMAND in a fresh 80x24 pane;
# its exit status lands in $T/rc, the terminal's settings before and after in
# $T/before and $T/after, and the PID of the process it runs in $T/pid.
pane() {
	tm kill-session -t pane 2>/dev/null || true
	rm -f "$T/rc" "$T/after" "$T/pid"
	printf 'echo $$ >%s/pid\nexec %s\n' "$T" "$1" >"$T/cmd.sh"
	tm new-session -d -s pane -x 80 -y 24 \
		"stty -g >$T/before; sh $T/cmd.sh; echo \$? >$T/rc; stty -g >$T/after; sleep 3600"
}

screen() { tm capture-pane -p -t pane; }

# wait_screen TEXT: until the pane shows TEXT (10 s at most).
wait_screen() {
	local i
	for i in $(seq 1 200); do
		screen | grep -qF -- "$1" && return 0
		sleep 0.05
	done
	echo "pane never showed: $1" >&2
	screen >&2
	return 1
}

# wait_file FILE: until FILE exists and is not empty (10 s at most).
wait_file() {
	local i
	for i in $(seq 1 200); do
		[ -s "$1" ] && return 0
		sleep 0.05
	done
	echo "no $1" >&2
	screen >&2
	return 1
}

# The pane's terminal is back as it was before berth ran.
restored() {
	wait_file "$T/after"
	[ "$(cat "$T/before")" = "$(cat "$T/after")" ]
}

@test "run -it: a shell on a TTY, its exit status, the terminal restored" {
	pane "$BERTH run -it --rm busybox sh"
	wait_screen "/ #"
	tm send-keys -t pane "tty; echo marker-\$((6*7))" Enter
	wait_screen "marker-42"
	screen | grep -q "^/dev/pts/"
	tm send-keys -t pane "exit 3" Enter
	wait_file "$T/rc"
	[ "$(cat "$T/rc")" = 3 ]
	restored
}

@test "run -it: SIGWINCH resizes the container's terminal" {
	pane "$BERTH run -it --rm busybox sh"
	wait_screen "/ #"
	size=$(tm display -p -t pane '#{pane_height} #{pane_width}')
	tm send-keys -t pane "stty size" Enter
	wait_screen "$size"
	tm resize-window -t pane -x 100 -y 30
	size=$(tm display -p -t pane '#{pane_height} #{pane_width}')
	[ "$size" = "30 100" ]
	tm send-keys -t pane "clear; stty size" Enter
	wait_screen "30 100"
	tm send-keys -t pane "exit" Enter
	wait_file "$T/rc"
	restored
}

@test "run -it: ctrl-p ctrl-q detaches, the container runs on" {
	pane "$BERTH run -it --name tty-detach busybox sh"
	wait_screen "/ #"
	tm send-keys -t pane C-p C-q
	wait_file "$T/rc"
	[ "$(cat "$T/rc")" = 0 ]
	restored
	[ "$("$BERTH" inspect -f '{{.State.Running}}' tty-detach)" = true ]
	"$BERTH" rm -f tty-detach
}

@test "attach: --detach-keys of its own, ctrl-p alone is just a key" {
	"$BERTH" run -dit --name tty-attach busybox sh
	pane "$BERTH attach --detach-keys ctrl-x,x tty-attach"
	wait_screen "/ #"
	tm send-keys -t pane "echo attached-\$((2*21))" Enter
	wait_screen "attached-42"
	tm send-keys -t pane C-p C-q C-x x
	wait_file "$T/rc"
	# docker's attach reports the detach as an error
	[ "$(cat "$T/rc")" = 1 ]
	wait_screen "read escape sequence"
	restored
	[ "$("$BERTH" inspect -f '{{.State.Running}}' tty-attach)" = true ]
	"$BERTH" rm -f tty-attach
}

@test "exec -it: its exit status, config.json's detachKeys, the terminal restored" {
	"$BERTH" run -d --name tty-exec busybox sleep 600
	pane "$BERTH exec -it tty-exec sh"
	wait_screen "/ #"
	tm send-keys -t pane "exit 5" Enter
	wait_file "$T/rc"
	[ "$(cat "$T/rc")" = 5 ]
	restored
	echo '{"detachKeys": "ctrl-a,a"}' >"$DOCKER_CONFIG/config.json"
	pane "$BERTH exec -it tty-exec sh"
	wait_screen "/ #"
	tm send-keys -t pane C-a a
	wait_file "$T/rc"
	[ "$(cat "$T/rc")" = 0 ]
	restored
	rm "$DOCKER_CONFIG/config.json"
	"$BERTH" rm -f tty-exec
}

@test "run -it --sig-proxy=false: berth killed with SIGTERM still gives the terminal back" {
	pane "$BERTH run -it --sig-proxy=false --name tty-kill busybox sh"
	wait_screen "/ #"
	wait_file "$T/pid"
	kill -TERM "$(cat "$T/pid")"
	wait_file "$T/rc"
	[ "$(cat "$T/rc")" = 143 ]
	restored
	"$BERTH" rm -f tty-kill
}

# term_run OUT ARGS...: `berth run ARGS` in the background, output in OUT; once
# the container printed "ready", berth gets SIGTERM; sets rc to berth's exit.
term_run() {
	local out=$1 pid
	shift
	"$BERTH" run "$@" >"$out" 2>&1 &
	pid=$!
	until grep -q ready "$out"; do sleep 0.05; done
	kill -TERM "$pid"
	rc=0
	wait "$pid" || rc=$?
}

@test "run --sig-proxy forwards SIGTERM to the container; --sig-proxy=false does not" {
	term_run "$T/out" --name sp1 busybox sh -c 'trap "echo got-term; exit 7" TERM; echo ready; while :; do sleep 0.1; done'
	[ "$rc" = 7 ]
	grep -q got-term "$T/out"
	term_run "$T/out2" --sig-proxy=false --name sp2 busybox sh -c 'echo ready; sleep 600'
	[ "$rc" = 143 ]
	[ "$("$BERTH" inspect -f '{{.State.Running}}' sp2)" = true ]
	"$BERTH" rm -f sp1 sp2
}

@test "run -it on a TTY: the same screen as the docker CLI" {
	command -v docker >/dev/null || skip "the docker CLI is not installed"
	for cli in docker "$BERTH"; do
		pane "$cli run -it --rm busybox sh -c 'stty size; tty; exit 4'"
		wait_file "$T/rc"
		screen | sed '/^$/d' >"$T/screen.$(basename "$cli")"
		cp "$T/rc" "$T/rc.$(basename "$cli")"
	done
	diff "$T/screen.docker" "$T/screen.berth"
	[ "$(cat "$T/rc.docker")" = 4 ] && [ "$(cat "$T/rc.berth")" = 4 ]
}
