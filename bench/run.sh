#!/usr/bin/env bash
# make bench: berthd side by side with dockerd, in one run, reported as ratios.
# See bench/README.md. `make bench` builds berth first; this script builds only bench/loadgen.
#
# Environment (make variables of the same name work too: `make bench QUICK=1`):
#   BENCH_QUICK=1 / QUICK=1    one counted repetition, 1 s load windows: a quick check
#   BENCH_PEER=none / PEER=none  berthd alone (no dockerd, nothing installed)
#   BENCH_REPS=N               counted repetitions (default 5, quick 1)
#   BENCH_SECONDS=S            length of one load window (default 3, quick 1)
#   BENCH_THREADS=N            load generator threads, one keep-alive connection each (4)
#   BENCH_ONLY="a b"           run only these workloads (names as in the table)
#   BENCH_OUT=FILE             report path (default bench/results/latest.md)
#   BERTH_BIN=DIR              where berthd is (default ./bin)
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1

QUICK=${BENCH_QUICK:-${QUICK:-0}}
PEER=${BENCH_PEER:-${PEER:-dockerd}}
BERTH_BIN=${BERTH_BIN:-$ROOT/bin}
THREADS=${BENCH_THREADS:-4}
ONLY=${BENCH_ONLY:-}
OUT=${BENCH_OUT:-$ROOT/bench/results/latest.md}
if [ "$QUICK" = 1 ]; then
	REPS=${BENCH_REPS:-1}
	SECONDS_LOAD=${BENCH_SECONDS:-1}
	SECONDS_WARM=0.5
	SETTLE=0.5
else
	REPS=${BENCH_REPS:-5}
	SECONDS_LOAD=${BENCH_SECONDS:-3}
	SECONDS_WARM=1
	SETTLE=1
fi
WARMUPS=1
START_TIMEOUT=60   # seconds an engine may take to answer its first /_ping
STOP_TIMEOUT=30    # seconds an engine may take to exit after SIGTERM

LOADGEN=$ROOT/build/bench/loadgen
TMP=""
CREATED_POLICY_RC=""
ENGINES=()
declare -A LABEL=([berth]=berthd [docker]=dockerd)
declare -A SOCK=() EDIR=() HELPER=() DPID=() START_MS=() VERSION=() APIVER=()

log() { printf '%s\n' "bench: $*" >&2; }
die() { log "error: $*"; exit 1; }

# ---------------------------------------------------------------- processes and mounts

# Prints PID and all its descendants, one per line.
proc_tree() {
	local root=$1 f s rest pid ppid
	local -A kids=()
	for f in /proc/[0-9]*/stat; do
		read -r s 2>/dev/null <"$f" || continue
		pid=${s%% *}
		rest=${s##*) }
		set -- $rest
		ppid=$2
		kids[$ppid]+=" $pid"
	done
	local queue=("$root") out=() p
	while [ ${#queue[@]} -gt 0 ]; do
		p=${queue[0]}
		queue=("${queue[@]:1}")
		[ -d "/proc/$p" ] || continue
		out+=("$p")
		for pid in ${kids[$p]:-}; do queue+=("$pid"); done
	done
	printf '%s\n' "${out[@]}"
}

# Sum of VmRSS (KiB) over a process tree.
tree_rss_kib() {
	local sum=0 p v
	for p in $(proc_tree "$1"); do
		v=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null)
		sum=$((sum + ${v:-0}))
	done
	echo "$sum"
}

# Processes whose command line names our temp dir: only things this run started
# (the daemons and whatever they spawned with our private paths).
our_leftover_pids() {
	local f pid
	[ -n "$TMP" ] || return 0
	for f in /proc/[0-9]*/cmdline; do
		pid=${f#/proc/}
		pid=${pid%/cmdline}
		[ "$pid" = "$$" ] && continue
		ours "$pid" && echo "$pid"
	done
}

# True when PID $1 is still one of ours (its command line names our temp dir): guards
# against signalling a PID that was reused after our process exited.
ours() {
	[ -n "$TMP" ] && tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline" | grep -qF -- "$TMP/"
}

mounts_under() {
	awk -v p="$1/" 'index($5, p) == 1 {print $5}' /proc/self/mountinfo | sort -r
}

# ---------------------------------------------------------------- engines

# Starts engine $1 and waits for its first answered /_ping. Sets DPID, HELPER, START_MS.
engine_start() {
	local e=$1 dir=${EDIR[$1]} cmd=() netns=()
	case $e in
	berth)
		cmd=("$BERTH_BIN/berthd" --config-file "$dir/daemon.json" --data-root "$dir/data"
			--exec-root "$dir/exec"
			-H "unix://${SOCK[$e]}" --pidfile "$dir/berthd.pid")
		[ "${BENCH_BERTH_NETNS:-1}" = 1 ] && [ "$EUID" = 0 ] && netns=(-N)
		;;
	docker)
		# dockerd's own bridge and iptables rules live in its private network namespace;
		# it starts and manages its own containerd under its exec root.
		cmd=(dockerd --config-file "$dir/daemon.json" --data-root "$dir/data"
			--exec-root "$dir/exec" -H "unix://${SOCK[$e]}" --pidfile "$dir/dockerd.pid")
		netns=(-N)
		;;
	esac
	rm -f "$dir/started"
	"$LOADGEN" spawn -s "${SOCK[$e]}" -o "$dir/started" "${netns[@]}" -w "$START_TIMEOUT" \
		-- "${cmd[@]}" >>"$dir/daemon.log" 2>&1 </dev/null &
	HELPER[$e]=$!
	local i
	for ((i = 0; i < (START_TIMEOUT + 5) * 200; i++)); do
		[ -f "$dir/started" ] && break
		kill -0 "${HELPER[$e]}" 2>/dev/null || break
		sleep 0.005
	done
	local line
	line=$(cat "$dir/started" 2>/dev/null)
	DPID[$e]=$(sed -n 's/.*pid=\([0-9]*\).*/\1/p' <<<"$line")
	START_MS[$e]=$(sed -n 's/.*ms=\([-0-9.]*\).*/\1/p' <<<"$line")
	if [ -z "${START_MS[$e]}" ] || [ "${START_MS[$e]}" = -1 ]; then
		log "${LABEL[$e]} did not answer /_ping: ${line:-no result}"
		log "last lines of $dir/daemon.log:"
		tail -n 20 "$dir/daemon.log" >&2
		return 1
	fi
	if [ -z "${VERSION[$e]:-}" ]; then
		local v
		v=$("$LOADGEN" get -s "${SOCK[$e]}" /version 2>/dev/null)
		VERSION[$e]=$(grep -o '"Version":"[^"]*"' <<<"$v" | head -n1 | cut -d'"' -f4)
		APIVER[$e]=$(grep -o '"ApiVersion":"[^"]*"' <<<"$v" | head -n1 | cut -d'"' -f4)
	fi
	return 0
}

# Stops engine $1 (SIGTERM, then SIGKILL for its whole tree after STOP_TIMEOUT).
engine_stop() {
	local e=$1 h=${HELPER[$1]:-} d=${DPID[$1]:-} tree i
	[ -n "$h" ] || return 0
	tree=""
	[ -n "$d" ] && tree=$(proc_tree "$d")
	[ -n "$d" ] && kill -TERM "$d" 2>/dev/null
	kill -TERM "$h" 2>/dev/null
	for ((i = 0; i < STOP_TIMEOUT * 20; i++)); do
		kill -0 "$h" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$h" 2>/dev/null; then
		log "${LABEL[$e]} did not stop in ${STOP_TIMEOUT}s: SIGKILL"
		for i in $tree; do ours "$i" && kill -KILL "$i" 2>/dev/null; done
		kill -KILL "$h" 2>/dev/null
	fi
	wait "$h" 2>/dev/null
	# Children that outlived their daemon (a managed containerd, shims).
	for i in $tree; do
		ours "$i" && kill -TERM "$i" 2>/dev/null
	done
	HELPER[$e]=""
	DPID[$e]=""
	return 0
}

engine_running() {
	[ -n "${HELPER[$1]:-}" ] && kill -0 "${HELPER[$1]}" 2>/dev/null
}

engine_ensure() {
	engine_running "$1" || engine_start "$1"
}

engine_restart() {
	engine_stop "$1"
	engine_start "$1"
}

cleanup() {
	local rc=$? e p m left
	trap - EXIT INT TERM
	for e in "${ENGINES[@]}"; do engine_stop "$e"; done
	if [ -n "$TMP" ] && [ -d "$TMP" ]; then
		for p in $(our_leftover_pids); do kill -TERM "$p" 2>/dev/null; done
		sleep 0.2
		for p in $(our_leftover_pids); do kill -KILL "$p" 2>/dev/null; done
		for m in $(mounts_under "$TMP"); do
			umount -R "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
		done
		left=$(mounts_under "$TMP")
		if [ -n "$left" ]; then
			log "still mounted, not removing $TMP: $left"
		else
			rm -rf "$TMP"
		fi
	fi
	if [ -n "$CREATED_POLICY_RC" ]; then rm -f "$CREATED_POLICY_RC"; fi
	exit "$rc"
}

# ---------------------------------------------------------------- the peer

# PIDs of running processes whose command name is one of the arguments.
pids_named() {
	local f pid comm n
	for f in /proc/[0-9]*/comm; do
		read -r comm 2>/dev/null <"$f" || continue
		for n in "$@"; do
			if [ "$comm" = "$n" ]; then
				pid=${f#/proc/}
				echo "${pid%/comm}"
			fi
		done
	done
}

ensure_peer() {
	[ "$PEER" = none ] && return 0
	if [ "$PEER" != dockerd ]; then die "PEER must be dockerd or none (got $PEER)"; fi
	if [ "$EUID" != 0 ]; then
		log "not root: dockerd cannot run here; running berthd alone (PEER=none)"
		PEER=none
		return 0
	fi
	if command -v dockerd >/dev/null && command -v containerd >/dev/null &&
		command -v runc >/dev/null; then
		return 0
	fi
	log "installing the peer: Debian's docker.io (dockerd, containerd, runc)"
	local before after p
	before=" $(pids_named dockerd containerd | tr '\n' ' ') "
	# No service may start during the install: the package's init scripts would start a
	# system dockerd that touches the machine's network. policy-rc.d is Debian's switch.
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 0755 /usr/sbin/policy-rc.d
		CREATED_POLICY_RC=/usr/sbin/policy-rc.d
	fi
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends docker.io \
		>"$TMP/apt.log" 2>&1; then
		DEBIAN_FRONTEND=noninteractive apt-get update >>"$TMP/apt.log" 2>&1
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends docker.io \
			>>"$TMP/apt.log" 2>&1
	fi
	if [ -n "$CREATED_POLICY_RC" ]; then
		rm -f "$CREATED_POLICY_RC"
		CREATED_POLICY_RC=""
	fi
	# Whatever the package started anyway is stopped, by PID, and only that.
	after=$(pids_named dockerd containerd)
	for p in $after; do
		case $before in *" $p "*) continue ;; esac
		log "the package started PID $p ($(cat /proc/$p/comm 2>/dev/null)): stopping it"
		kill -TERM "$p" 2>/dev/null
	done
	if ! command -v dockerd >/dev/null; then
		tail -n 20 "$TMP/apt.log" >&2
		log "could not install docker.io: running berthd alone (PEER=none)"
		PEER=none
	fi
}

# ---------------------------------------------------------------- workloads
#
# A workload is one function `wl_NAME ENGINE` that measures one figure on one engine and
# leaves it in VALUE (a number). It returns 0 when measured, 1 on failure, and 2 when the
# engine lacks what the workload needs. It may start, stop or restart the engine
# (engine_restart/engine_ensure) and must leave nothing behind but a running engine.
# WARMUP=1 while the warm-up round runs (use shorter windows then).
# `workload` registers it: name, label, unit, which way is better, and the API calls it
# needs ("METHOD /path", probed on berthd first: 404 "page not found", 405 or 501 there means
# "skipped (not implemented)"), then an optional target on berthd's figure:
#   abs_le N       berthd's median ≤ N (unit of the workload)
#   ratio_ge N     berthd/dockerd ≥ N (ratio of medians)

WL_NAMES=()
declare -A WL_LABEL=() WL_UNIT=() WL_BETTER=() WL_NEEDS=() WL_TARGET=()
VALUE=""
WARMUP=0
NOTES=()

# workload NAME LABEL UNIT higher|lower "NEEDS;NEEDS" [TARGET_KIND TARGET_VALUE]
workload() {
	WL_NAMES+=("$1")
	WL_LABEL[$1]=$2
	WL_UNIT[$1]=$3
	WL_BETTER[$1]=$4
	WL_NEEDS[$1]=$5
	WL_TARGET[$1]="${6:-} ${7:-}"
}

# Requests per second of GET $2 on engine $1 with THREADS keep-alive connections.
measure_rps() {
	local e=$1 path=$2 secs out errs
	engine_ensure "$e" || return 1
	secs=$SECONDS_LOAD
	[ "$WARMUP" = 1 ] && secs=$SECONDS_WARM
	out=$("$LOADGEN" run -s "${SOCK[$e]}" -t "$THREADS" -d "$secs" "$path") || return 1
	VALUE=$(sed -n 's/.*rps=\([0-9.]*\).*/\1/p' <<<"$out")
	errs=$(sed -n 's/.*errors=\([0-9]*\) non2xx=\([0-9]*\).*/\1 \2/p' <<<"$out")
	if [ "$errs" != "0 0" ]; then
		NOTES+=("${LABEL[$e]} GET $path: $out")
		log "${LABEL[$e]} GET $path: $out"
	fi
	[ -n "$VALUE" ]
}

# --- foundation workloads (issue 2)

workload start_ping "start to first answered /_ping" ms lower "GET /_ping" abs_le 20
wl_start_ping() {
	engine_stop "$1"
	engine_start "$1" || return 1
	VALUE=${START_MS[$1]}
}

workload idle_rss "idle RSS, daemon(s) (dockerd+containerd)" MiB lower "GET /_ping" abs_le 8
wl_idle_rss() {
	local e=$1 i p
	engine_restart "$e" || return 1
	for i in 1 2 3; do
		for p in /_ping /version /info; do
			"$LOADGEN" status -s "${SOCK[$e]}" "$p" >/dev/null
		done
	done
	sleep "$SETTLE"
	VALUE=$(awk -v k="$(tree_rss_kib "${DPID[$e]}")" 'BEGIN {printf "%.2f", k / 1024}')
}

workload rps_ping "GET /_ping, $THREADS keep-alive clients" req/s higher "GET /_ping" ratio_ge 1.3
wl_rps_ping() { measure_rps "$1" /_ping; }

workload rps_version "GET /version, $THREADS keep-alive clients" req/s higher "GET /version" ratio_ge 50
wl_rps_version() { measure_rps "$1" /version; }

workload rps_info "GET /info, $THREADS keep-alive clients" req/s higher "GET /info"
wl_rps_info() { measure_rps "$1" /info; }

# --- issue 9 workloads: registered with what they need; each body is written when berthd
# serves that. Until then they are "skipped (not implemented)" by the probe, and if berthd
# serves the calls before the body exists they say "skipped (workload not written yet)".

workload run_rm "run --rm IMG true (docker CLI / berth CLI)" ms lower \
	"POST /containers/create;POST /images/load"
wl_run_rm() { return 3; }

workload churn "create+start+stop+rm x100, 8 clients" containers/s higher \
	"POST /containers/create;POST /containers/x/start"
wl_churn() { return 3; }

workload rss_100 "RSS with 100 running containers" MiB lower "POST /containers/create"
wl_rss_100() { return 3; }

workload rps_ps "GET /containers/json, 100 containers" req/s higher \
	"GET /containers/json;POST /containers/create"
wl_rps_ps() { return 3; }

workload rps_images "GET /images/json, 1,000 images" req/s higher \
	"GET /images/json;POST /images/load"
wl_rps_images() { return 3; }

workload image_load "image load, 10 layers ~200 MB" s lower "POST /images/load"
wl_image_load() { return 3; }

workload pull_push "pull+push, local registry" s lower "POST /images/create;POST /images/x/push"
wl_pull_push() { return 3; }

workload build "build, 20 steps, cold and cached" s lower "POST /build"
wl_build() { return 3; }

workload logs "logs of 100 MB of lines" s lower "GET /containers/x/logs"
wl_logs() { return 3; }

workload port_tcp "published-port TCP throughput" MB/s higher \
	"POST /containers/create;POST /networks/create"
wl_port_tcp() { return 3; }

# ---------------------------------------------------------------- the driver

# True when berthd serves every "METHOD /path" in $1 (a ;-separated list).
berth_serves() {
	local need method path out status
	local IFS=';'
	for need in $1; do
		method=${need%% *}
		path=${need#* }
		out=$(IFS=' ' "$LOADGEN" status -s "${SOCK[berth]}" -m "$method" "$path")
		status=$(head -n1 <<<"$out")
		case $status in
		501 | 405) return 1 ;;
		404) grep -qi 'page not found' <<<"$out" && return 1 ;;
		000) log "berthd did not answer $need"; return 1 ;;
		esac
	done
	return 0
}

declare -A RESULT=()   # "name engine" -> "median min max" | "skipped ..." | "failed"
declare -A RAW=()

stats() { # values on stdin -> "median min max"
	sort -g | awk '{v[NR] = $1}
		END {
			if (NR == 0) { print ""; exit }
			m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			print m, v[1], v[NR]
		}'
}

run_workload() {
	local w=$1 fn=wl_$1 e r rc skip=""
	if [ -n "$ONLY" ] && [[ " $ONLY " != *" $w "* ]]; then return 0; fi
	engine_ensure berth || die "berthd does not start"
	if ! berth_serves "${WL_NEEDS[$w]}"; then
		skip="skipped (not implemented)"
	fi
	if [ -z "$skip" ]; then
		log "$w: ${WL_LABEL[$w]}"
		for ((r = -WARMUPS + 1; r <= REPS; r++)); do
			WARMUP=0
			[ "$r" -le 0 ] && WARMUP=1
			for e in "${ENGINES[@]}"; do
				[ -n "${RESULT[$w:$e]:-}" ] && continue
				VALUE=""
				"$fn" "$e"
				rc=$?
				case $rc in
				0) ;;
				2) RESULT[$w:$e]="skipped (not implemented)"; continue ;;
				3) skip="skipped (workload not written yet)"; break 2 ;;
				*) RESULT[$w:$e]="failed"; log "$w on ${LABEL[$e]} failed"; continue ;;
				esac
				[ "$WARMUP" = 1 ] && continue
				RAW[$w:$e]+="${RAW[$w:$e]:+ }$VALUE"
			done
		done
	fi
	for e in "${ENGINES[@]}"; do
		if [ -n "$skip" ]; then
			RESULT[$w:$e]=$skip
		elif [ -z "${RESULT[$w:$e]:-}" ]; then
			RESULT[$w:$e]=$(tr ' ' '\n' <<<"${RAW[$w:$e]:-}" | stats)
		fi
	done
	[ -n "$skip" ] && log "$w: $skip"
	return 0
}

# ---------------------------------------------------------------- report

num() { # a figure, with precision by magnitude
	awk -v x="$1" 'BEGIN {
		a = x < 0 ? -x : x
		if (a >= 100) printf "%.0f", x; else if (a >= 10) printf "%.1f", x; else printf "%.2f", x
	}'
}

cell() { # "median min max" [dash] -> "median (min–max)"; anything else as it is
	local m lo hi dash=${2:-–}
	if ! is_figure "${1:-}"; then echo "${1:-—}"; return; fi
	read -r m lo hi <<<"$1"
	if [ "$REPS" -gt 1 ]; then
		echo "$(num "$m") ($(num "$lo")$dash$(num "$hi"))"
	else
		num "$m"
	fi
}

is_figure() { [[ $1 =~ ^[0-9.eE+-]+\ [0-9.eE+-]+\ [0-9.eE+-]+$ ]]; }

# Prints "ratio|target|verdict" for workload $1.
judge() {
	local w=$1 b=${RESULT[$1:berth]:-} d=${RESULT[$1:docker]:-} ratio="—" tgt="" verdict=""
	local kind val
	read -r kind val <<<"${WL_TARGET[$w]}"
	if is_figure "$b" && is_figure "$d"; then
		ratio=$(awk -v b="${b%% *}" -v d="${d%% *}" 'BEGIN {
			if (d == 0) { print "—"; exit }
			r = b / d
			if (r >= 100) printf "%.0f×", r; else if (r >= 10) printf "%.1f×", r; else printf "%.2f×", r
		}')
	fi
	case $kind in
	abs_le)
		tgt="≤ $val ${WL_UNIT[$w]}"
		if is_figure "$b"; then
			verdict=$(awk -v b="${b%% *}" -v t="$val" 'BEGIN {print (b <= t) ? "PASS" : "FAIL"}')
		else verdict="n/a"; fi
		;;
	ratio_ge)
		tgt="≥ ${val}× dockerd"
		if [ "$ratio" != "—" ]; then
			verdict=$(awk -v b="${b%% *}" -v d="${d%% *}" -v t="$val" \
				'BEGIN {print (b / d >= t) ? "PASS" : "FAIL"}')
		else verdict="n/a"; fi
		;;
	esac
	echo "$ratio|$tgt|$verdict"
}

report() {
	local w e j ratio tgt verdict bcell dcell date_s machine versions cpu mem arrow
	date_s=$(date -u '+%Y-%m-%d %H:%M UTC')
	cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
	mem=$(awk '/^MemTotal:/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
	machine="$(nproc) CPUs (${cpu:-unknown}), $mem memory, Linux $(uname -r)"
	versions="berthd ${VERSION[berth]:-?} (API ${APIVER[berth]:-?})"
	if [ "$PEER" = dockerd ]; then
		versions+=", dockerd ${VERSION[docker]:-?} (API ${APIVER[docker]:-?})"
		versions+=" with containerd $(containerd --version 2>/dev/null | awk '{print $3}')"
		versions+=" and runc $(runc --version 2>/dev/null | awk 'NR == 1 {print $3}')"
	else
		versions+=", no peer (PEER=none)"
	fi
	local mode="$REPS counted repetition(s) after $WARMUPS warm-up, engines alternating"
	mode+=" (A B A B); load windows of ${SECONDS_LOAD}s with $THREADS client threads"
	[ "$QUICK" = 1 ] && mode+="; QUICK mode"

	# stdout: a plain table
	{
		echo
		echo "berth bench, $date_s"
		echo "machine:  $machine"
		echo "versions: $versions"
		echo "method:   $mode"
		echo
		printf '%-14s %-44s %-11s %-24s %-24s %-9s %s\n' workload "" unit \
			"berthd median (min-max)" "dockerd median (min-max)" berth/dd target
		for w in "${WL_NAMES[@]}"; do
			[ -n "${RESULT[$w:berth]:-}" ] || continue
			IFS='|' read -r ratio tgt verdict <<<"$(judge "$w")"
			bcell=$(cell "${RESULT[$w:berth]}" -)
			dcell=$(cell "${RESULT[$w:docker]:--}" -)
			ratio=${ratio//×/x}
			ratio=${ratio//—/-}
			if [[ $bcell == skipped* ]] && [[ $dcell == skipped* || $dcell == - ]]; then
				printf '%-14s %-44s %s\n' "$w" "${WL_LABEL[$w]}" "$bcell"
				continue
			fi
			printf '%-14s %-44s %-11s %-24s %-24s %-9s %s\n' "$w" "${WL_LABEL[$w]}" \
				"${WL_UNIT[$w]}" "$bcell" "$dcell" "$ratio" "${tgt:+$tgt $verdict}"
		done
		echo
	}

	# bench/results/latest.md
	mkdir -p "$(dirname "$OUT")"
	{
		echo "# berth bench results"
		echo
		echo "- date: $date_s"
		echo "- machine: $machine"
		echo "- versions: $versions"
		echo "- method: $mode."
		echo "  Each engine runs privately: its own data root, exec root, socket and network"
		echo "  namespace (dockerd with its own managed containerd). Figures are median (min–max);"
		echo "  the ratio is berthd's median / dockerd's median."
		echo
		echo "| workload | unit | berthd | dockerd | berthd/dockerd | target (issue 2) |"
		echo "| --- | --- | --- | --- | --- | --- |"
		for w in "${WL_NAMES[@]}"; do
			[ -n "${RESULT[$w:berth]:-}" ] || continue
			IFS='|' read -r ratio tgt verdict <<<"$(judge "$w")"
			dcell=$(cell "${RESULT[$w:docker]:-—}")
			is_figure "${RESULT[$w:berth]}" || dcell="—"
			arrow="↓"
			[ "${WL_BETTER[$w]}" = higher ] && arrow="↑"
			echo "| ${WL_LABEL[$w]} | ${WL_UNIT[$w]} $arrow | $(cell "${RESULT[$w:berth]}") |" \
				"$dcell | $ratio | ${tgt:+$tgt **$verdict**} |"
		done
		echo
		echo "↑ higher is better, ↓ lower is better (for the figures and for the ratio)."
		if [ ${#NOTES[@]} -gt 0 ]; then
			echo
			echo "## Notes"
			echo
			for j in "${NOTES[@]}"; do echo "- $j"; done
		fi
		echo
		echo "## Raw values (counted repetitions, in order)"
		echo
		for w in "${WL_NAMES[@]}"; do
			for e in "${ENGINES[@]}"; do
				[ -n "${RAW[$w:$e]:-}" ] && echo "- $w, ${LABEL[$e]}: ${RAW[$w:$e]}"
			done
		done
	} >"$OUT"
	log "report written to ${OUT#"$ROOT"/}"
}

# ---------------------------------------------------------------- main

main() {
	[ -x "$BERTH_BIN/berthd" ] || die "$BERTH_BIN/berthd not found: run \`make bench\` (it builds first)"
	mkdir -p "$ROOT/build/bench"
	if [ ! -x "$LOADGEN" ] || [ "$ROOT/bench/loadgen.c" -nt "$LOADGEN" ]; then
		${CC:-cc} -O2 -Wall -Wextra -Werror -pthread -o "$LOADGEN" "$ROOT/bench/loadgen.c" ||
			die "cannot build bench/loadgen"
	fi

	TMP=$(mktemp -d /tmp/berth-bench.XXXXXX) || die "mktemp failed"
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM

	ensure_peer
	ENGINES=(berth)
	[ "$PEER" = dockerd ] && ENGINES+=(docker)
	local e
	for e in "${ENGINES[@]}"; do
		EDIR[$e]=$TMP/$e
		SOCK[$e]=$TMP/$e/$e.sock
		mkdir -p "${EDIR[$e]}/data" "${EDIR[$e]}/exec"
		echo '{}' >"${EDIR[$e]}/daemon.json"
	done

	log "temp dir $TMP; ${REPS} reps, ${SECONDS_LOAD}s windows, peer: $PEER"
	for e in "${ENGINES[@]}"; do
		engine_start "$e" || die "${LABEL[$e]} does not start"
	done
	local w
	for w in "${WL_NAMES[@]}"; do
		run_workload "$w"
	done
	report
}

main "$@"
