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
# Sizes of the container and image workloads (QUICK: small counts).
if [ "$QUICK" = 1 ]; then
	RUN_ITERS=${BENCH_RUN_ITERS:-3}       # runs per counted repetition (their median)
	CHURN_N=${BENCH_CHURN_N:-20}          # containers per churn
	SLEEP_N=${BENCH_SLEEP_N:-20}          # running containers for rss/ps
	LOAD_LAYER_BYTES=$((4 * 1048576))     # bytes per random layer of the loaded image
	MANY_IMAGES=${BENCH_MANY_IMAGES:-200}
	LOG_BYTES=10000000
	BUILD_FILES=1000                      # small files the cold build COPYs
else
	RUN_ITERS=${BENCH_RUN_ITERS:-5}
	CHURN_N=${BENCH_CHURN_N:-100}
	SLEEP_N=${BENCH_SLEEP_N:-100}
	LOAD_LAYER_BYTES=$((22 * 1048576))
	MANY_IMAGES=${BENCH_MANY_IMAGES:-1000}
	LOG_BYTES=100000000
	BUILD_FILES=10000
fi
LOAD_LAYERS=10
LOAD_MIB=$(((LOAD_LAYER_BYTES * (LOAD_LAYERS - 1) + 2 * 1048576) / 1048576))
LOG_MB=$((LOG_BYTES / 1000000))
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

# Containers that outlived their engine (berthd leaves them running when it stops, as a live
# restore needs): killed and deleted through every runc state root under our temp dir.
runc_leftovers() {
	local r id
	command -v runc >/dev/null || return 0
	[ -n "$TMP" ] && [ -d "$TMP" ] || return 0
	for r in $(find "$TMP" -maxdepth 6 -name state.json -path '*/*/*/state.json' 2>/dev/null |
		xargs -r -n1 dirname | xargs -r -n1 dirname | sort -u); do
		for id in $(runc --root "$r" list -q 2>/dev/null); do
			runc --root "$r" kill -a "$id" KILL 2>/dev/null
			runc --root "$r" delete -f "$id" 2>/dev/null
		done
	done
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
	# Every container this run made is removed through its engine, then the engines stop.
	for e in "${ENGINES[@]}"; do
		engine_running "$e" || continue
		"$LOADGEN" rmall -s "${SOCK[$e]}" -t 8 -w 30 "/containers/json?all=1" >/dev/null 2>&1
	done
	for e in "${ENGINES[@]}"; do engine_stop "$e"; done
	runc_leftovers
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

# apt_install PKG...: Debian's packages without their recommends, the package
# lists refreshed once if the first try fails; the output goes to $TMP/apt.log.
apt_install() {
	local -x DEBIAN_FRONTEND=noninteractive
	apt-get install -y --no-install-recommends "$@" >>"$TMP/apt.log" 2>&1 && return 0
	apt-get update >>"$TMP/apt.log" 2>&1
	apt-get install -y --no-install-recommends "$@" >>"$TMP/apt.log" 2>&1
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
	apt_install docker.io
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
# (engine_restart/engine_ensure) and must leave nothing behind but a running engine
# (and what it keeps on purpose: the test images; the sleep containers of the WL_SLEEPERS
# workloads, removed before the first workload that is not one of them; what its optional
# `wl_NAME_after ENGINE` removes once all repetitions are done).
# WARMUP=1 while the warm-up round runs (use shorter windows then).
# A workload with a floor (WL_FLOOR[NAME]=label, and a function `fl_NAME`) also measures
# that engine-less baseline in every round, after the engines.
# `workload` registers it: name, label, unit, which way is better, and the API calls it
# needs ("METHOD /path", probed on berthd first: 404 "page not found", 405 or 501 there means
# "skipped (not implemented)"), then optional targets on berthd's figure, as pairs:
#   abs_le N       berthd's median ≤ N (unit of the workload)
#   ratio_ge N     berthd/dockerd ≥ N (ratio of medians)
#   ratio_lt N     berthd/dockerd < N
#   floor_le N     berthd/floor ≤ N

WL_NAMES=()
declare -A WL_LABEL=() WL_UNIT=() WL_BETTER=() WL_NEEDS=() WL_TARGET=()
declare -A WL_FLOOR=()    # name -> the floor's label: the workload has fl_NAME, measured alike
declare -A WL_SLEEPERS=() # name -> 1: it uses the running sleep containers (kept between them)
VALUE=""
WARMUP=0
NOTES=()

# workload NAME LABEL UNIT higher|lower "NEEDS;NEEDS" [TARGET_KIND TARGET_VALUE]...
workload() {
	WL_NAMES+=("$1")
	WL_LABEL[$1]=$2
	WL_UNIT[$1]=$3
	WL_BETTER[$1]=$4
	WL_NEEDS[$1]=$5
	shift 5
	WL_TARGET[${WL_NAMES[-1]}]="$*"
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

# --- shared helpers for the container and image workloads

BB_REPO=berth-bench/busybox
BB_IMAGE=$BB_REPO:latest
ASSETS=""            # $TMP/assets: the busybox rootfs and the generated archives
declare -A SLEEPERS=() LOGS_CID=()

# time_cmd CMD...: runs CMD with its output in $TMP/cmd.out; ELAPSED_MS is its wall time.
time_cmd() {
	local t0 t1 rc
	t0=${EPOCHREALTIME/./}
	"$@" >"$TMP/cmd.out" 2>&1
	rc=$?
	t1=${EPOCHREALTIME/./}
	t1=$((t1 - t0))
	ELAPSED_MS=$(printf '%d.%03d' $((t1 / 1000)) $((t1 % 1000)))
	return $rc
}

# time_median N CMD...: VALUE = the median wall time (ms) of N runs of CMD; fails on the
# first run that fails (its output is logged).
time_median() {
	local n=$1 i vals=()
	shift
	for ((i = 0; i < n; i++)); do
		if ! time_cmd "$@"; then
			log "failed: $*"
			head -c 600 "$TMP/cmd.out" | sed 's/^/  | /' >&2
			NOTES+=("failed: \`$*\`: $(head -c 300 "$TMP/cmd.out" | tr '\n' ' ')")
			return 1
		fi
		vals+=("$ELAPSED_MS")
	done
	VALUE=$(printf '%s\n' "${vals[@]}" | stats | cut -d' ' -f1)
}

# The real clients, on engine $1. need_docker_cli: the docker CLI is there (else the
# workload is skipped on that engine).
need_docker_cli() {
	command -v docker >/dev/null && return 0
	log "no docker CLI on this machine: skipped"
	return 1
}
dcli() {
	local e=$1
	shift
	DOCKER_HOST="unix://${SOCK[$e]}" docker "$@"
}
bcli() { "$BERTH_BIN/berth" -H "unix://${SOCK[berth]}" "$@"; }

# berth_cli_has CMD: the berth CLI has that command (else the workload is skipped).
berth_cli_has() {
	[ -x "$BERTH_BIN/berth" ] && "$BERTH_BIN/berth" "$1" --help >/dev/null 2>&1
}

# api ENGINE [loadgen get options] PATH: one API call; the body on stdout; fails unless 2xx
# and, for streamed JSON progress, unless the body is free of "error".
api() {
	local e=$1 out
	shift
	out=$("$LOADGEN" get -s "${SOCK[$e]}" "$@") || { printf '%s' "$out" >&2; return 1; }
	if grep -q '"error' <<<"$out"; then
		printf '%s\n' "$out" | head -c 600 >&2
		return 1
	fi
	printf '%s' "$out"
}

# uri STRING: percent-encodes STRING for a query.
uri() {
	local s=$1 i c out=""
	for ((i = 0; i < ${#s}; i++)); do
		c=${s:i:1}
		case $c in
		[a-zA-Z0-9.~_-]) out+=$c ;;
		*) out+=$(printf '%%%02X' "'$c") ;;
		esac
	done
	printf '%s' "$out"
}

# A root filesystem from Debian's busybox-static, every applet linked (as tests/helpers.bash).
bench_rootfs() {
	local dir=$1 app
	mkdir -p "$dir/bin" "$dir/etc" "$dir/tmp" "$dir/root" "$dir/proc" "$dir/sys" "$dir/dev"
	cp /bin/busybox "$dir/bin/busybox"
	for app in $("$dir/bin/busybox" --list); do
		[ "$app" = busybox ] || ln -sf busybox "$dir/bin/$app"
	done
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' \
		>"$dir/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$dir/etc/group"
	chmod 1777 "$dir/tmp"
}

# tar_det DIR OUT: a reproducible tar of DIR's content (names sorted, fixed times and owners).
tar_det() {
	(cd "$1" && tar --sort=name --mtime=@946684800 --owner=0 --group=0 --numeric-owner \
		--format=gnu -cf "$2" -- $(ls -A))
}

sha256() { sha256sum "$1" | cut -d' ' -f1; }

prepare_assets() {
	[ -n "$ASSETS" ] && return 0
	[ -x /bin/busybox ] || { log "/bin/busybox missing (Debian's busybox-static)"; return 1; }
	ASSETS=$TMP/assets
	mkdir -p "$ASSETS"
	bench_rootfs "$ASSETS/rootfs"
	tar_det "$ASSETS/rootfs" "$ASSETS/rootfs.tar"
}

# ensure_busybox ENGINE: the test image, imported through the API (POST /images/create
# ?fromSrc=-) from the busybox rootfs, with CMD ["sh"].
ensure_busybox() {
	local e=$1
	engine_ensure "$e" || return 1
	"$LOADGEN" get -s "${SOCK[$e]}" "/images/$BB_IMAGE/json" >/dev/null 2>&1 && return 0
	prepare_assets || return 1
	log "${LABEL[$e]}: importing $BB_IMAGE"
	api "$e" -m POST -f "$ASSETS/rootfs.tar" -w 120 \
		"/images/create?fromSrc=-&repo=$BB_REPO&tag=latest&changes=$(uri 'CMD ["sh"]')" \
		>/dev/null || { log "${LABEL[$e]}: import of $BB_IMAGE failed"; return 1; }
}

# docker_archive DIR CONFIG_JSON_OF_DIFFIDS... : helpers for gen_* below.
# config_json DIFF_IDS_JSON HISTORY_JSON LABELS_JSON: an image config (Docker's format).
config_json() {
	printf '{"architecture":"amd64","os":"linux","created":"2000-01-01T00:00:00Z",'
	printf '"config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],'
	printf '"Cmd":["sh"],"Labels":%s},' "$3"
	printf '"rootfs":{"type":"layers","diff_ids":%s},"history":%s}' "$1" "$2"
}

# gen_load_image: $ASSETS/load/layers/1..N.tar (busybox, then random files) and
# $ASSETS/load/image.tar, the docker-archive (manifest.json, repositories, config, one
# DIGEST/layer.tar per layer) of berth-bench/load:latest. Seeded: the same bytes every run.
LOAD_IMAGE=berth-bench/load:latest
gen_load_image() {
	local d=$ASSETS/load i j big nsmall small=65536 root hex diff="" hist="" layers="" chex
	[ -f "$d/image.tar" ] && return 0
	prepare_assets || return 1
	log "generating the $LOAD_LAYERS-layer image archive (~$((LOAD_LAYER_BYTES * (LOAD_LAYERS - 1) / 1048576 + 2)) MiB)"
	rm -rf "$d"
	mkdir -p "$d/layers" "$d/archive"
	cp "$ASSETS/rootfs.tar" "$d/layers/1.tar"
	big=$((LOAD_LAYER_BYTES * 3 / 16))
	nsmall=$((LOAD_LAYER_BYTES / 4 / small))
	for ((i = 2; i <= LOAD_LAYERS; i++)); do
		root=$d/src/data/layer$i
		mkdir -p "$root/small"
		for j in 1 2 3 4; do
			"$LOADGEN" rand $((i * 100000 + j)) "$big" >"$root/big$j.bin" || return 1
		done
		for ((j = 1; j <= nsmall; j++)); do
			"$LOADGEN" rand $((i * 100000 + 1000 + j)) "$small" >"$root/small/$j.bin" || return 1
		done
		tar_det "$d/src" "$d/layers/$i.tar" || return 1
		rm -rf "$d/src"
	done
	for ((i = 1; i <= LOAD_LAYERS; i++)); do
		hex=$(sha256 "$d/layers/$i.tar")
		mkdir -p "$d/archive/$hex"
		ln "$d/layers/$i.tar" "$d/archive/$hex/layer.tar"
		diff+="${diff:+,}\"sha256:$hex\""
		hist+="${hist:+,}{\"created\":\"2000-01-01T00:00:00Z\",\"created_by\":\"berth bench layer $i\"}"
		layers+="${layers:+,}\"$hex/layer.tar\""
	done
	config_json "[$diff]" "[$hist]" '{"berth.bench":"load"}' >"$d/archive/config"
	chex=$(sha256 "$d/archive/config")
	mv "$d/archive/config" "$d/archive/$chex.json"
	printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":[%s]}]' "$chex" "$LOAD_IMAGE" \
		"$layers" >"$d/archive/manifest.json"
	printf '{"%s":{"latest":"%s"}}' "${LOAD_IMAGE%:*}" "$hex" >"$d/archive/repositories"
	tar_det "$d/archive" "$d/image.tar" || return 1
	rm -rf "$d/archive"
	log "image archive: $(du -m "$d/image.tar" | cut -f1) MiB, $LOAD_LAYERS layers"
}

# gen_many_images: $ASSETS/many.tar, a docker-archive of MANY_IMAGES images
# berth-bench/many:1..N that share the busybox layer and differ by a label (N image IDs).
gen_many_images() {
	local d=$ASSETS/many hex i chex man=""
	[ -f "$ASSETS/many.tar" ] && return 0
	prepare_assets || return 1
	rm -rf "$d"
	mkdir -p "$d/$(sha256 "$ASSETS/rootfs.tar")"
	hex=$(sha256 "$ASSETS/rootfs.tar")
	ln "$ASSETS/rootfs.tar" "$d/$hex/layer.tar"
	mkdir -p "$d/cfg"
	for ((i = 1; i <= MANY_IMAGES; i++)); do
		config_json "[\"sha256:$hex\"]" '[{"created":"2000-01-01T00:00:00Z"}]' \
			"{\"berth.bench.n\":\"$i\"}" >"$d/cfg/$i"
	done
	while read -r chex i; do
		i=${i##*/}
		mv "$d/cfg/$i" "$d/$chex.json"
		man+="${man:+,}{\"Config\":\"$chex.json\",\"RepoTags\":[\"berth-bench/many:$i\"],\"Layers\":[\"$hex/layer.tar\"]}"
	done < <(cd "$d/cfg" && sha256sum -- * | sed 's/  */ /')
	rmdir "$d/cfg"
	printf '[%s]' "$man" >"$d/manifest.json"
	tar_det "$d" "$ASSETS/many.tar" || return 1
	rm -rf "$d"
}

RUNC_BUNDLE=""
# The floor is `runc spec`'s bundle with the seccomp filter berthd gives
# every container (Docker's default profile, as berthd resolves it for this
# machine): runc compiles that filter on every start (~40 ms on the bench
# machine), a cost any Docker-compatible engine pays, dockerd too.
prepare_runc_bundle() {
	[ -n "$RUNC_BUNDLE" ] && return 0
	command -v runc >/dev/null || { log "runc not installed: no floor"; return 1; }
	prepare_assets || return 1
	ensure_busybox berth || return 1
	local b=$TMP/runc-bundle id
	mkdir -p "$b"
	cp -a "$ASSETS/rootfs" "$b/rootfs"
	(cd "$b" && runc spec) || return 1
	sed -i 's/"terminal": true/"terminal": false/; s/"sh"$/"true"/' "$b/config.json"
	grep -q '"true"' "$b/config.json" || { log "cannot edit the runc spec"; return 1; }
	id=$(bcli run -d --network none "$BB_IMAGE" sleep 60) || return 1
	jq --slurpfile berth "${EDIR[berth]}/exec/containers/$id/bundle/config.json" \
		'.linux.seccomp = $berth[0].linux.seccomp' "$b/config.json" >"$b/config.seccomp.json"
	local rc=$?
	bcli rm -f "$id" >/dev/null 2>&1
	[ "$rc" = 0 ] || { log "no seccomp profile from berthd's bundle"; return 1; }
	mv "$b/config.seccomp.json" "$b/config.json"
	RUNC_BUNDLE=$b
}

RUNC_N=0
runc_run_true() {
	RUNC_N=$((RUNC_N + 1))
	runc --root "$TMP/runc-state" run -b "$RUNC_BUNDLE" "berth-bench-$$-$RUNC_N" </dev/null
}

FILTER_SLEEP=$(uri '{"label":["berth.bench=sleep"]}')
FILTER_BENCH=$(uri '{"label":["berth.bench"]}')

# count_containers ENGINE QUERY: how many containers /containers/json?QUERY lists.
count_containers() {
	"$LOADGEN" get -s "${SOCK[$1]}" "/containers/json?$2" | grep -o '"Id"' | wc -l
}

# ensure_sleepers ENGINE: SLEEP_N running `sleep 600` containers (label berth.bench=sleep).
ensure_sleepers() {
	local e=$1 have out
	ensure_busybox "$e" || return 1
	have=$(count_containers "$e" "filters=$FILTER_SLEEP")
	[ "$have" -ge "$SLEEP_N" ] && { SLEEPERS[$e]=$have; return 0; }
	log "${LABEL[$e]}: starting $((SLEEP_N - have)) sleep containers"
	out=$("$LOADGEN" churn -s "${SOCK[$e]}" -t 8 -n $((SLEEP_N - have)) -k -b \
		"{\"Image\":\"$BB_IMAGE\",\"Cmd\":[\"sleep\",\"600\"],\"Labels\":{\"berth.bench\":\"sleep\"},\"HostConfig\":{\"NetworkMode\":\"none\"}}" \
		2>"$TMP/churn.err")
	SLEEPERS[$e]=$(count_containers "$e" "filters=$FILTER_SLEEP")
	if [ "${SLEEPERS[$e]}" -lt "$SLEEP_N" ]; then
		log "${LABEL[$e]}: only ${SLEEPERS[$e]} of $SLEEP_N containers run: $out $(cat "$TMP/churn.err")"
		NOTES+=("${LABEL[$e]}: starting $SLEEP_N sleep containers: $out $(head -c 300 "$TMP/churn.err")")
		return 1
	fi
}

drop_sleepers() {
	local e out
	for e in "${ENGINES[@]}"; do
		[ "${SLEEPERS[$e]:-0}" -gt 0 ] || continue
		engine_running "$e" || continue
		log "${LABEL[$e]}: removing the sleep containers"
		out=$("$LOADGEN" rmall -s "${SOCK[$e]}" -t 8 "/containers/json?all=1&filters=$FILTER_SLEEP" 2>&1) ||
			log "${LABEL[$e]}: $out"
		SLEEPERS[$e]=0
	done
}

# Daemon RSS without the shims (and their containers) that may hang below it; the shims'
# own RSS: SHIM_COUNT and SHIM_KIB (sum) for the shims naming our engine's directory.
SHIM_COUNT=0
SHIM_KIB=0
daemon_rss_kib() {
	local sum=0 p v comm skip=" "
	for p in $(proc_tree "$1"); do
		read -r comm 2>/dev/null <"/proc/$p/comm" || continue
		case $comm in berth-shim | containerd-shim*) skip+="$(proc_tree "$p" | tr '\n' ' ')" ;; esac
		case $skip in *" $p "*) continue ;; esac
		v=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null)
		sum=$((sum + ${v:-0}))
	done
	echo "$sum"
}
shim_rss() {
	local e=$1 f pid comm v
	SHIM_COUNT=0
	SHIM_KIB=0
	for f in /proc/[0-9]*/comm; do
		read -r comm 2>/dev/null <"$f" || continue
		case $comm in berth-shim | containerd-shim*) ;; *) continue ;; esac
		pid=${f#/proc/}
		pid=${pid%/comm}
		tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF -- "${EDIR[$e]}/" || continue
		v=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null)
		SHIM_COUNT=$((SHIM_COUNT + 1))
		SHIM_KIB=$((SHIM_KIB + ${v:-0}))
	done
}

# --- issue 3 and 4 workloads

workload run_rm "docker run --rm IMG true (docker CLI)" ms lower \
	"POST /containers/create;POST /images/load" floor_le 2.5
WL_FLOOR[run_rm]="runc run"
wl_run_rm() {
	need_docker_cli || return 2
	ensure_busybox "$1" || return 1
	time_median "$RUN_ITERS" dcli "$1" run --rm --network none "$BB_IMAGE" true
}
fl_run_rm() {
	prepare_runc_bundle || return 2
	time_median "$RUN_ITERS" runc_run_true
}

workload run_rm_berth "berth run --rm IMG true (dockerd: docker run)" ms lower \
	"POST /containers/create;POST /images/load" floor_le 1.5
WL_FLOOR[run_rm_berth]="runc run"
wl_run_rm_berth() {
	ensure_busybox "$1" || return 1
	if [ "$1" = docker ]; then
		need_docker_cli || return 2
		time_median "$RUN_ITERS" dcli docker run --rm --network none "$BB_IMAGE" true
		return
	fi
	berth_cli_has run || { log "the berth CLI has no \`run\`: skipped"; return 2; }
	time_median "$RUN_ITERS" bcli run --rm --network none "$BB_IMAGE" true
}
fl_run_rm_berth() { fl_run_rm; }

workload churn "create+start+stop+rm x$CHURN_N, 8 clients" containers/s higher \
	"POST /containers/create;POST /containers/x/start" ratio_ge 4
wl_churn() {
	local e=$1 out left
	ensure_busybox "$e" || return 1
	out=$("$LOADGEN" churn -s "${SOCK[$e]}" -t 8 -n "$CHURN_N" -b \
		"{\"Image\":\"$BB_IMAGE\",\"Cmd\":[\"sleep\",\"600\"],\"StopSignal\":\"SIGKILL\",\"Labels\":{\"berth.bench\":\"churn\"},\"HostConfig\":{\"NetworkMode\":\"none\"}}" \
		2>"$TMP/churn.err")
	local rc=$?
	left=$(count_containers "$e" "all=1&filters=$FILTER_BENCH")
	if [ "$rc" != 0 ] || [ "$left" != 0 ]; then
		log "${LABEL[$e]} churn: $out; $left left; $(head -c 400 "$TMP/churn.err")"
		NOTES+=("${LABEL[$e]} churn: $out; $left container(s) left behind; $(head -c 300 "$TMP/churn.err")")
		"$LOADGEN" rmall -s "${SOCK[$e]}" -t 8 "/containers/json?all=1&filters=$FILTER_BENCH" >/dev/null 2>&1
		[ "$rc" != 0 ] && return 1
	fi
	VALUE=$(sed -n 's/.*rate=\([0-9.]*\).*/\1/p' <<<"$out")
	[ -n "$VALUE" ]
}

workload rss_100 "RSS of the daemon(s), $SLEEP_N running containers" MiB lower \
	"POST /containers/create;POST /containers/x/start" abs_le 20
WL_SLEEPERS[rss_100]=1
wl_rss_100() {
	local e=$1
	ensure_sleepers "$e" || return 1
	sleep "$SETTLE"
	VALUE=$(awk -v k="$(daemon_rss_kib "${DPID[$e]}")" 'BEGIN {printf "%.2f", k / 1024}')
	if [ "$e" = berth ] && [ "$WARMUP" = 0 ] && [ -z "${RAW[rss_100:berth]:-}" ]; then
		local st
		st=$(awk '/^(VmRSS|RssAnon|RssFile):/ { printf "%s%s %.1f MiB", sep, $1, $2 / 1024
			sep = ", " }' "/proc/${DPID[$e]}/status")
		NOTES+=("berthd with $SLEEP_N running containers: $st, $(ls "/proc/${DPID[$e]}/fd" | wc -l) open fds")
	fi
}

workload shim_rss "RSS per shim (berth-shim / containerd-shim)" MiB lower \
	"POST /containers/create;POST /containers/x/start" abs_le 1
WL_SLEEPERS[shim_rss]=1
wl_shim_rss() {
	local e=$1
	ensure_sleepers "$e" || return 1
	shim_rss "$e"
	if [ "$SHIM_COUNT" -lt "$SLEEP_N" ]; then
		log "${LABEL[$e]}: $SHIM_COUNT shims for $SLEEP_N containers"
		[ "$SHIM_COUNT" = 0 ] && return 1
	fi
	VALUE=$(awk -v k="$SHIM_KIB" -v n="$SHIM_COUNT" 'BEGIN {printf "%.3f", k / n / 1024}')
}

workload rps_ps "GET /containers/json, $SLEEP_N containers" req/s higher \
	"GET /containers/json;POST /containers/create"
WL_SLEEPERS[rps_ps]=1
wl_rps_ps() {
	ensure_sleepers "$1" || return 1
	measure_rps "$1" /containers/json
}

workload cli_ps "docker ps, $SLEEP_N containers (docker CLI)" ms lower \
	"GET /containers/json;POST /containers/create"
WL_SLEEPERS[cli_ps]=1
wl_cli_ps() {
	need_docker_cli || return 2
	ensure_sleepers "$1" || return 1
	time_median "$RUN_ITERS" dcli "$1" ps
}

workload cli_ps_berth "berth ps, $SLEEP_N containers (dockerd: docker ps)" ms lower \
	"GET /containers/json;POST /containers/create"
WL_SLEEPERS[cli_ps_berth]=1
wl_cli_ps_berth() {
	ensure_sleepers "$1" || return 1
	[ "$1" = docker ] && {
		need_docker_cli || return 2
		time_median "$RUN_ITERS" dcli docker ps
		return
	}
	berth_cli_has ps || { log "the berth CLI has no \`ps\`: skipped"; return 2; }
	time_median "$RUN_ITERS" bcli ps
}

workload image_load "image load, $LOAD_LAYERS layers ~$LOAD_MIB MiB" s lower "POST /images/load" \
	floor_le 1.3 ratio_lt 1
WL_FLOOR[image_load]="tar -x"
wl_image_load() {
	local e=$1
	engine_ensure "$e" || return 1
	gen_load_image || return 1
	"$LOADGEN" get -s "${SOCK[$e]}" -m DELETE "/images/$LOAD_IMAGE?force=1" >/dev/null 2>&1
	sync
	time_cmd api "$e" -m POST -f "$ASSETS/load/image.tar" -w 600 "/images/load?quiet=1"
	local rc=$?
	VALUE=$(awk -v ms="$ELAPSED_MS" 'BEGIN {printf "%.3f", ms / 1000}')
	if [ "$rc" != 0 ]; then
		log "${LABEL[$e]} image load failed: $(head -c 400 "$TMP/cmd.out")"
		NOTES+=("${LABEL[$e]} POST /images/load: $(head -c 300 "$TMP/cmd.out" | tr '\n' ' ')")
		return 1
	fi
	if ! api "$e" "/images/$LOAD_IMAGE/json" >/dev/null; then
		log "${LABEL[$e]}: $LOAD_IMAGE is not there after the load"
		return 1
	fi
	api "$e" -m DELETE "/images/$LOAD_IMAGE" >/dev/null
}
fl_image_load() {
	local i f=$TMP/floor
	gen_load_image || return 1
	rm -rf "$f"
	sync
	time_cmd floor_extract "$f" || return 1
	VALUE=$(awk -v ms="$ELAPSED_MS" 'BEGIN {printf "%.3f", ms / 1000}')
	rm -rf "$f"
}
floor_extract() {
	local i
	for ((i = 1; i <= LOAD_LAYERS; i++)); do
		mkdir -p "$1/$i" && tar -xf "$ASSETS/load/layers/$i.tar" -C "$1/$i" || return 1
	done
}

# ensure_many ENGINE: MANY_IMAGES images (one docker-archive with N configs, one shared
# layer), loaded once.
ensure_many() {
	local e=$1
	engine_ensure "$e" || return 1
	"$LOADGEN" get -s "${SOCK[$e]}" "/images/berth-bench/many:$MANY_IMAGES/json" >/dev/null 2>&1 &&
		return 0
	gen_many_images || return 1
	log "${LABEL[$e]}: loading $MANY_IMAGES images"
	api "$e" -m POST -f "$ASSETS/many.tar" -w 600 "/images/load?quiet=1" >/dev/null || {
		log "${LABEL[$e]}: loading $MANY_IMAGES images failed"
		return 1
	}
}

workload rps_images "GET /images/json, $MANY_IMAGES images" req/s higher \
	"GET /images/json;POST /images/load"
wl_rps_images() {
	ensure_many "$1" || return 1
	measure_rps "$1" /images/json
}

workload lat_images "GET /images/json, $MANY_IMAGES images: latency, 1 client" ms lower \
	"GET /images/json;POST /images/load" abs_le 20
wl_lat_images() {
	local e=$1 secs out
	ensure_many "$e" || return 1
	secs=$SECONDS_LOAD
	[ "$WARMUP" = 1 ] && secs=$SECONDS_WARM
	out=$("$LOADGEN" run -s "${SOCK[$e]}" -t 1 -d "$secs" /images/json) || return 1
	VALUE=$(sed -n 's/.*p50_ms=\([0-9.]*\).*/\1/p' <<<"$out")
	[ "$WARMUP" = 1 ] || LAT_P99[$e]+=" $(sed -n 's/.*p99_ms=\([0-9.]*\).*/\1/p' <<<"$out")"
	[ -n "$VALUE" ] && [ "$(sed -n 's/.*requests=\([0-9]*\).*/\1/p' <<<"$out")" != 0 ]
}
declare -A LAT_P99=()
wl_lat_images_after() {
	[ -n "${LAT_P99[$1]:-}" ] &&
		NOTES+=("${LABEL[$1]} GET /images/json ($MANY_IMAGES images), 1 client: p99 latency per repetition (ms):${LAT_P99[$1]}")
}

workload cli_images "docker images, $MANY_IMAGES images (docker CLI)" ms lower \
	"GET /images/json;POST /images/load"
wl_cli_images() {
	need_docker_cli || return 2
	ensure_many "$1" || return 1
	time_median "$RUN_ITERS" dcli "$1" images
}

workload cli_images_berth "berth images, $MANY_IMAGES images (dockerd: docker images)" ms lower \
	"GET /images/json;POST /images/load"
wl_cli_images_berth() {
	ensure_many "$1" || return 1
	[ "$1" = docker ] && {
		need_docker_cli || return 2
		time_median "$RUN_ITERS" dcli docker images
		return
	}
	berth_cli_has images || { log "the berth CLI has no \`images\`: skipped"; return 2; }
	time_median "$RUN_ITERS" bcli images
}

# The two CLIs on the same berthd (issue 8): the berthd column is the berth CLI, the
# dockerd column the docker CLI, both against berthd, so that the ratio is the CLIs'
# alone. 100 objects each: the running sleep containers, and the images of the
# `berth-bench/many:1??` tags (100 of the MANY_IMAGES) as a reference filter.
cli_vs() {
	if [ "$1" = docker ]; then
		need_docker_cli || return 2
		shift
		time_median "$RUN_ITERS" dcli berth "$@"
	else
		berth_cli_has "$2" || { log "the berth CLI has no \`$2\`: skipped"; return 2; }
		shift
		time_median "$RUN_ITERS" bcli "$@"
	fi
}

workload cli_ps_same "ps, $SLEEP_N containers, on berthd: berth CLI (dockerd: docker CLI)" ms lower \
	"GET /containers/json;POST /containers/create" abs_le 10 ratio_lt 0.34
WL_SLEEPERS[cli_ps_same]=1
wl_cli_ps_same() {
	ensure_sleepers berth || return 1
	cli_vs "$1" ps
}

workload cli_images_same "images, 100 of $MANY_IMAGES, on berthd: berth CLI (dockerd: docker CLI)" \
	ms lower "GET /images/json;POST /images/load" abs_le 10 ratio_lt 0.34
wl_cli_images_same() {
	[ "$MANY_IMAGES" -ge 199 ] || { log "MANY_IMAGES < 199: skipped"; return 2; }
	ensure_many berth || return 1
	cli_vs "$1" images --filter 'reference=berth-bench/many:1??'
}

# logs_container ENGINE: a fresh container that writes LOG_BYTES of 100-byte lines to stdout
# and exits; LOGS_CID[ENGINE] is its ID, ELAPSED_MS the time from create to its exit.
logs_container() {
	local e=$1 id line out t0 t1
	ensure_busybox "$e" || return 1
	[ -n "${LOGS_CID[$e]:-}" ] && "$LOADGEN" get -s "${SOCK[$e]}" -m DELETE \
		"/containers/${LOGS_CID[$e]}?force=1" >/dev/null 2>&1
	LOGS_CID[$e]=""
	line=$(printf '%099d' 0 | tr 0 x)
	t0=${EPOCHREALTIME/./}
	out=$(api "$e" -m POST -b "{\"Image\":\"$BB_IMAGE\",\"Cmd\":[\"sh\",\"-c\",\"yes $line | head -c $LOG_BYTES\"],\"Labels\":{\"berth.bench\":\"logs\"},\"HostConfig\":{\"NetworkMode\":\"none\"}}" \
		/containers/create) || return 1
	id=$(grep -o '"Id":"[0-9a-f]*"' <<<"$out" | cut -d'"' -f4)
	[ -n "$id" ] || return 1
	LOGS_CID[$e]=$id
	api "$e" -m POST "/containers/$id/start" >/dev/null || return 1
	out=$(api "$e" -m POST -w 600 "/containers/$id/wait") || return 1
	t1=${EPOCHREALTIME/./}
	t1=$((t1 - t0))
	ELAPSED_MS=$(printf '%d.%03d' $((t1 / 1000)) $((t1 % 1000)))
	grep -q '"StatusCode":0' <<<"$out" || { log "${LABEL[$e]}: logs container: $out"; return 1; }
}

workload logs_write "a container writes $LOG_MB MB of lines (run to exit)" s lower \
	"GET /containers/x/logs;POST /containers/create"
wl_logs_write() {
	logs_container "$1" || return 1
	VALUE=$(awk -v ms="$ELAPSED_MS" 'BEGIN {printf "%.3f", ms / 1000}')
}

workload logs "docker logs of $LOG_MB MB of lines (docker CLI)" s lower \
	"GET /containers/x/logs;POST /containers/create"
wl_logs() {
	local e=$1 n
	need_docker_cli || return 2
	if [ -z "${LOGS_CID[$e]:-}" ]; then logs_container "$e" || return 1; fi
	time_cmd logs_count "$e" "${LOGS_CID[$e]}" || return 1
	n=$(tr -d ' \n' <"$TMP/cmd.out")
	if [ "$n" != "$LOG_BYTES" ]; then
		log "${LABEL[$e]}: docker logs gave $n bytes, not $LOG_BYTES"
		NOTES+=("${LABEL[$e]}: docker logs gave $n bytes of the $LOG_BYTES written")
		return 1
	fi
	VALUE=$(awk -v ms="$ELAPSED_MS" 'BEGIN {printf "%.3f", ms / 1000}')
}
logs_count() { dcli "$1" logs "$2" 2>/dev/null | wc -c; }

workload logs_api "GET /containers/ID/logs, $LOG_MB MB of lines (API)" s lower \
	"GET /containers/x/logs;POST /containers/create"
wl_logs_api() {
	local e=$1 n
	if [ -z "${LOGS_CID[$e]:-}" ]; then logs_container "$e" || return 1; fi
	time_cmd "$LOADGEN" get -s "${SOCK[$e]}" -c -w 600 \
		"/containers/${LOGS_CID[$e]}/logs?stdout=1&stderr=1" || return 1
	n=$(tr -d ' \n' <"$TMP/cmd.out")
	# 8-byte stream frame headers: one per line here, lines of 100 bytes
	if [ "$n" != $((LOG_BYTES / 100 * 108)) ]; then
		log "${LABEL[$e]}: GET logs gave $n bytes, not $((LOG_BYTES / 100 * 108))"
		NOTES+=("${LABEL[$e]}: GET /containers/ID/logs gave $n bytes, expected $((LOG_BYTES / 100 * 108))")
		return 1
	fi
	VALUE=$(awk -v ms="$ELAPSED_MS" 'BEGIN {printf "%.3f", ms / 1000}')
}
wl_logs_api_after() {
	[ -n "${LOGS_CID[$1]:-}" ] && "$LOADGEN" get -s "${SOCK[$1]}" -m DELETE \
		"/containers/${LOGS_CID[$1]}?force=1" >/dev/null 2>&1
	LOGS_CID[$1]=""
}

# --- registry workloads (issue 6): Debian's docker-registry in each engine's network
# namespace (its 127.0.0.1), the same image for both: the load image, put there by skopeo.

REG_PULL_PORT=5000   # the seeded registry, shared storage, pulled from
REG_PUSH_PORT=5001   # a registry with empty storage per push, so every layer uploads
REG_IMAGE=127.0.0.1:$REG_PULL_PORT/bench/load
declare -A REG_PID=() REG_FOR=()
REG_SEEDED=0

# in_ns ENGINE CMD...: CMD in the engine's network namespace.
in_ns() {
	local e=$1
	shift
	nsenter --net="/proc/${DPID[$e]}/ns/net" "$@"
}

# reg_start ENGINE NAME PORT STORAGE: a registry (config in $TMP/registry/NAME.yml).
reg_start() {
	local e=$1 name=$2 port=$3 store=$4 cfg=$TMP/registry/$2.yml i
	mkdir -p "$store"
	printf 'version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n' >"$cfg"
	printf 'storage:\n  filesystem:\n    rootdirectory: %s\n' "$store" >>"$cfg"
	printf 'http:\n  addr: 127.0.0.1:%s\n  secret: bench\n' "$port" >>"$cfg"
	in_ns "$e" docker-registry serve "$cfg" >>"$TMP/registry/$name.log" 2>&1 &
	REG_PID[$e.$name]=$!
	for ((i = 0; i < 400; i++)); do
		in_ns "$e" curl -s -o /dev/null "http://127.0.0.1:$port/v2/" && return 0
		sleep 0.05
	done
	log "${LABEL[$e]}: registry $name did not start"
	return 1
}

reg_stop() {
	local key=$1.$2 pid
	pid=${REG_PID[$key]:-}
	if [ -n "$pid" ] && ours "$pid"; then
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	REG_PID[$key]=""
}

# reg_ensure ENGINE: the pull registry in the engine's current namespace, seeded once.
reg_ensure() {
	local e=$1
	command -v docker-registry >/dev/null || { log "no docker-registry: skipped"; return 2; }
	command -v skopeo >/dev/null || { log "no skopeo: skipped"; return 2; }
	gen_load_image || return 1
	if [ "${REG_FOR[$e]:-}" != "${DPID[$e]}" ]; then
		reg_stop "$e" pull
		reg_start "$e" pull "$REG_PULL_PORT" "$TMP/registry/pull-storage" || return 1
		REG_FOR[$e]=${DPID[$e]}
	fi
	[ "$REG_SEEDED" = 1 ] && return 0
	log "seeding the registry with the load image (skopeo)"
	in_ns "$e" skopeo copy -q --dest-tls-verify=false "docker-archive:$ASSETS/load/image.tar" \
		"docker://$REG_IMAGE:latest" >/dev/null || { log "skopeo copy failed"; return 1; }
	REG_SEEDED=1
}

# (the probe's reference is invalid, so that berthd answers without asking any registry)
workload pull "pull of the $LOAD_LAYERS-layer ~$LOAD_MIB MiB image from a local registry" s lower \
	"POST /images/create?fromImage=INVALID" ratio_lt 0.7
wl_pull() {
	local e=$1 rc
	engine_ensure "$e" || return 1
	reg_ensure "$e" || return $?
	"$LOADGEN" get -s "${SOCK[$e]}" -m DELETE "/images/$REG_IMAGE:latest?force=1" >/dev/null 2>&1
	sync
	time_cmd api "$e" -m POST -w 600 "/images/create?fromImage=$(uri "$REG_IMAGE")&tag=latest"
	rc=$?
	VALUE=$(awk -v ms="$ELAPSED_MS" 'BEGIN {printf "%.3f", ms / 1000}')
	if [ "$rc" != 0 ] || ! api "$e" "/images/$REG_IMAGE:latest/json" >/dev/null; then
		log "${LABEL[$e]} pull failed: $(head -c 400 "$TMP/cmd.out")"
		NOTES+=("${LABEL[$e]} pull: $(head -c 300 "$TMP/cmd.out" | tr '\n' ' ')")
		return 1
	fi
	# every layer but the base must have been downloaded, not found in the
	# engine's store (the base is the busybox layer the engines already hold,
	# as a real pull of an image on a common base finds it)
	if [ "$(grep -c 'Already exists' "$TMP/cmd.out")" -gt 1 ]; then
		log "${LABEL[$e]} pull: layers were already there, not a measure of a pull"
		return 1
	fi
	api "$e" -m DELETE "/images/$REG_IMAGE:latest" >/dev/null
}
wl_pull_after() { reg_stop "$1" pull; REG_FOR[$1]=""; }

workload push "push of the $LOAD_LAYERS-layer ~$LOAD_MIB MiB image to an empty local registry" s \
	lower "POST /images/x/push" ratio_lt 0.8
wl_push() {
	local e=$1 rc target=127.0.0.1:$REG_PUSH_PORT/bench/push store
	command -v docker-registry >/dev/null || { log "no docker-registry: skipped"; return 2; }
	engine_ensure "$e" || return 1
	gen_load_image || return 1
	if ! "$LOADGEN" get -s "${SOCK[$e]}" "/images/$LOAD_IMAGE/json" >/dev/null 2>&1; then
		api "$e" -m POST -f "$ASSETS/load/image.tar" -w 600 "/images/load?quiet=1" >/dev/null ||
			return 1
	fi
	api "$e" -m POST "/images/$LOAD_IMAGE/tag?repo=$(uri "$target")&tag=latest" >/dev/null || return 1
	# an empty registry each time: every blob is uploaded
	reg_stop "$e" push
	store=$TMP/registry/push-storage
	rm -rf "$store"
	reg_start "$e" push "$REG_PUSH_PORT" "$store" || return 1
	printf '{}' >"$TMP/registry/auth.json"
	sync
	time_cmd api "$e" -m POST -f "$TMP/registry/auth.json" -w 600 \
		"/images/$(uri "$target")/push?tag=latest"
	rc=$?
	VALUE=$(awk -v ms="$ELAPSED_MS" 'BEGIN {printf "%.3f", ms / 1000}')
	reg_stop "$e" push
	if [ "$rc" != 0 ] || ! grep -q '"Digest"' "$TMP/cmd.out"; then
		log "${LABEL[$e]} push failed: $(head -c 400 "$TMP/cmd.out")"
		NOTES+=("${LABEL[$e]} push: $(head -c 300 "$TMP/cmd.out" | tr '\n' ' ')")
		return 1
	fi
}
wl_push_after() {
	"$LOADGEN" get -s "${SOCK[$1]}" -m DELETE "/images/127.0.0.1:$REG_PUSH_PORT/bench/push:latest" \
		>/dev/null 2>&1
}

# --- builder workloads (issue 7): the docker CLI's classic builder on both engines

# build_context: $ASSETS/build-cold-N (10 RUN + COPY of N small files) and
# $ASSETS/build-cached (20 steps), made once.
build_contexts() {
	prepare_assets || return 1
	local d=$ASSETS/build-cold-$BUILD_FILES i
	if [ ! -d "$d" ]; then
		mkdir -p "$d/files"
		for i in $(seq 0 99); do mkdir "$d/files/d$i"; done
		for i in $(seq 0 $((BUILD_FILES - 1))); do echo "file $i" >"$d/files/d$((i % 100))/f$i"; done
		{
			echo "FROM $BB_IMAGE"
			echo "COPY files /files"
			for i in $(seq 1 10); do echo "RUN echo step $i > /step$i && ls /files/d$i | wc -l >> /step$i"; done
		} >"$d/Dockerfile"
	fi
	d=$ASSETS/build-cached
	if [ ! -d "$d" ]; then
		mkdir -p "$d"
		echo data >"$d/data"
		{
			echo "FROM $BB_IMAGE"
			echo "ARG V=1"
			for i in $(seq 1 6); do echo "ENV E$i=v$i"; done
			for i in $(seq 1 5); do echo "RUN echo $i > /r$i"; done
			echo "COPY data /data"
			echo "LABEL bench=cached"
			echo "WORKDIR /w"
			echo "EXPOSE 80"
			echo "USER 1000"
			echo "CMD [\"sh\"]"
		} >"$d/Dockerfile"
	fi
}

workload build_cold "cold build: 10 RUN + COPY of $BUILD_FILES files (docker build, classic)" ms lower \
	"POST /build" ratio_lt 1
wl_build_cold() {
	need_docker_cli || return 2
	ensure_busybox "$1" || return 1
	build_contexts || return 1
	time_median 1 env DOCKER_BUILDKIT=0 DOCKER_HOST="unix://${SOCK[$1]}" \
		docker build -q --no-cache -t bench-cold "$ASSETS/build-cold-$BUILD_FILES"
}

workload build_cached "fully cached rebuild, 20 steps (docker build, classic)" ms lower \
	"POST /build" abs_le 100 ratio_lt 1
wl_build_cached() {
	need_docker_cli || return 2
	ensure_busybox "$1" || return 1
	build_contexts || return 1
	# the first build fills the cache; the rebuilds are the figure
	dcli "$1" image inspect bench-cached >/dev/null 2>&1 ||
		DOCKER_BUILDKIT=0 dcli "$1" build -q -t bench-cached "$ASSETS/build-cached" >/dev/null 2>&1 ||
		return 1
	time_median "$RUN_ITERS" env DOCKER_BUILDKIT=0 DOCKER_HOST="unix://${SOCK[$1]}" \
		docker build -q -t bench-cached "$ASSETS/build-cached"
}

# --- issue 5 workloads (each engine runs in a network namespace of its own)

# What a container's network costs at start: create+start+kill+rm one at a
# time, on the default bridge and with --network none; the difference of the
# mean POST /containers/{id}/start (ms).
workload net_start_extra "POST start, bridge minus --network none (create+start+stop+rm x$CHURN_N, 1 client)" \
	ms lower "POST /containers/create;POST /networks/create" abs_le 5
net_churn_ms() {
	local e=$1 mode=$2 out
	out=$("$LOADGEN" churn -s "${SOCK[$e]}" -t 1 -n "$CHURN_N" -b \
		"{\"Image\":\"$BB_IMAGE\",\"Cmd\":[\"sleep\",\"600\"],\"StopSignal\":\"SIGKILL\",\"Labels\":{\"berth.bench\":\"churn\"},\"HostConfig\":{\"NetworkMode\":\"$mode\"}}" \
		2>"$TMP/churn.err") || {
		NOTES+=("${LABEL[$e]} churn ($mode): $out $(head -c 300 "$TMP/churn.err")")
		return 1
	}
	sed -n 's/.*start_ms=\([0-9.]*\).*/\1/p' <<<"$out" | grep .
}
wl_net_start_extra() {
	local e=$1 none bridge
	ensure_busybox "$e" || return 1
	none=$(net_churn_ms "$e" none) || return 1
	bridge=$(net_churn_ms "$e" bridge) || return 1
	VALUE=$(awk -v a="$bridge" -v b="$none" 'BEGIN {printf "%.2f", a - b}')
	[ "$WARMUP" = 0 ] && [ -z "${RAW[net_start_extra:$e]:-}" ] &&
		NOTES+=("${LABEL[$e]} POST start: bridge $bridge ms, none $none ms")
	return 0
}

# A busybox httpd serving 256 MiB through -p 127.0.0.1:PORT:80, fetched by curl from the
# engine's own namespace (dockerd: its userland proxy; berthd: nftables DNAT).
PORT_TCP_PORT=18080
declare -A PORT_CID=()
workload port_tcp "published-port TCP throughput, 256 MiB over 127.0.0.1 (curl)" MB/s higher \
	"POST /containers/create;POST /networks/create" ratio_ge 0.9
wl_port_tcp() {
	local e=$1 ns i out
	ensure_busybox "$e" || return 1
	need_docker_cli || return 2
	command -v curl >/dev/null && command -v nsenter >/dev/null || return 2
	ns=/proc/${DPID[$e]}/ns/net
	if [ -z "${PORT_CID[$e]:-}" ]; then
		PORT_CID[$e]=$(dcli "$e" run -d -p "127.0.0.1:$PORT_TCP_PORT:80" --label berth.bench=port "$BB_IMAGE" \
			sh -c 'mkdir -p /www && dd if=/dev/zero of=/www/big bs=1M count=256 2>/dev/null && httpd -f -p 80 -h /www') || return 1
		for i in $(seq 1 200); do
			nsenter --net="$ns" curl -sf -o /dev/null -r 0-0 "http://127.0.0.1:$PORT_TCP_PORT/big" && break
			sleep 0.1
		done
	fi
	out=$(nsenter --net="$ns" curl -sf -o /dev/null -w '%{speed_download}' "http://127.0.0.1:$PORT_TCP_PORT/big") || return 1
	VALUE=$(awk -v b="$out" 'BEGIN {printf "%.1f", b / 1048576}')
}
wl_port_tcp_after() {
	[ -n "${PORT_CID[$1]:-}" ] && dcli "$1" rm -f "${PORT_CID[$1]}" >/dev/null 2>&1
	PORT_CID[$1]=""
}

# --- issue 10: berth compose (Docker Compose v2 against dockerd where it is installed)

COMPOSE_N=${BENCH_COMPOSE_N:-10}
# The Compose client for the dockerd column: the docker CLI plugin or docker-compose.
compose_peer() {
	if docker compose version >/dev/null 2>&1; then
		echo "docker compose"
	elif command -v docker-compose >/dev/null 2>&1; then
		echo docker-compose
	fi
}
# compose_cli ENGINE ARGS...: berth compose on berthd, Docker Compose on dockerd; one
# project of COMPOSE_N busybox services that sleep (SIGKILL: down is quick).
compose_cli() {
	local e=$1 dir="$TMP/compose"
	shift
	if [ ! -f "$dir/compose.yaml" ]; then
		mkdir -p "$dir"
		{
			echo "services:"
			for ((i = 1; i <= COMPOSE_N; i++)); do
				printf '  s%d: {image: %s, command: [sleep, "600"], stop_signal: SIGKILL}\n' \
					"$i" "$BB_IMAGE"
			done
		} >"$dir/compose.yaml"
	fi
	if [ "$e" = berth ]; then
		bcli compose -p berthbench -f "$dir/compose.yaml" "$@"
	else
		# shellcheck disable=SC2086 # "docker compose" is two words
		DOCKER_HOST="unix://${SOCK[$e]}" $COMPOSE_PEER -p berthbench -f "$dir/compose.yaml" "$@"
	fi
}
# What measures dockerd's column, said in the report: docker-compose is Compose v1.
compose_peer_label() {
	case $COMPOSE_PEER in
	"docker compose") echo "Docker Compose $(docker compose version --short 2>/dev/null)" ;;
	docker-compose) echo "docker-compose $(docker-compose version --short 2>/dev/null) (Compose v1, Python: not Docker Compose v2)" ;;
	esac
}
COMPOSE_NOTED=""
COMPOSE_PEER="" # set by ensure_compose_peer
compose_ready() {
	if [ "$1" = berth ]; then
		berth_cli_has compose || { log "the berth CLI has no \`compose\`: skipped"; return 2; }
	elif [ -z "$COMPOSE_PEER" ]; then
		log "no Docker Compose (docker compose / docker-compose) on this machine: dockerd column skipped"
		return 2
	elif [ -z "$COMPOSE_NOTED" ]; then
		COMPOSE_NOTED=1
		NOTES+=("compose workloads, dockerd's column: $(compose_peer_label) against the private dockerd")
	fi
	ensure_busybox "$1" || return 1
}

# dockerd's compose column needs a Compose client: where neither \`docker compose\` nor
# docker-compose is installed and a compose workload is to run, Debian's docker-compose
# (1.29, Compose v1) is installed, as ensure_peer installs docker.io. It starts no service.
# COMPOSE_PEER is the client, probed here once: a probe starts the docker CLI, which
# compose_cli would otherwise time with every dockerd compose command.
ensure_compose_peer() {
	local w need=""
	COMPOSE_PEER=$(compose_peer)
	[ "$PEER" = dockerd ] || return 0
	for w in "${WL_NAMES[@]}"; do
		[[ $w == compose_* ]] || continue
		if [ -z "$ONLY" ] || [[ " $ONLY " == *" $w "* ]]; then need=1; fi
	done
	[ -n "$need" ] && [ -z "$COMPOSE_PEER" ] || return 0
	log "installing Debian's docker-compose (Compose v1 1.29) for dockerd's compose column"
	apt_install docker-compose
	COMPOSE_PEER=$(compose_peer)
	if [ -z "$COMPOSE_PEER" ]; then
		tail -n 20 "$TMP/apt.log" >&2
		log "could not install docker-compose: the compose workloads measure berthd alone"
	fi
}

workload compose_up "compose up -d, $COMPOSE_N busybox services, until all run (dockerd: Docker Compose or docker-compose v1, see notes)" \
	ms lower "POST /containers/create;POST /containers/x/start" ratio_lt 0.34
wl_compose_up() {
	local e=$1 i vals=()
	compose_ready "$e" || return $?
	for ((i = 0; i < RUN_ITERS; i++)); do
		compose_cli "$e" down -t 0 >/dev/null 2>&1
		if ! time_cmd compose_cli "$e" up -d; then
			NOTES+=("${LABEL[$e]} compose up: $(head -c 300 "$TMP/cmd.out" | tr '\n' ' ')")
			compose_cli "$e" down -t 0 >/dev/null 2>&1
			return 1
		fi
		vals+=("$ELAPSED_MS")
	done
	compose_cli "$e" down -t 0 >/dev/null 2>&1
	VALUE=$(printf '%s\n' "${vals[@]}" | stats | cut -d' ' -f1)
}

workload compose_up_noop "compose up -d with nothing to change, $COMPOSE_N services (dockerd: Docker Compose or docker-compose v1, see notes)" \
	ms lower "POST /containers/create;POST /containers/x/start" abs_le 50
wl_compose_up_noop() {
	local e=$1 rc
	compose_ready "$e" || return $?
	compose_cli "$e" up -d >/dev/null 2>&1 || { compose_cli "$e" down -t 0 >/dev/null 2>&1; return 1; }
	time_median "$RUN_ITERS" compose_cli "$e" up -d
	rc=$?
	compose_cli "$e" down -t 0 >/dev/null 2>&1
	return $rc
}

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
	local w=$1 fn=wl_$1 e r rc skip="" parts
	if [ -n "$ONLY" ] && [[ " $ONLY " != *" $w "* ]]; then return 0; fi
	[ "${WL_SLEEPERS[$w]:-0}" = 1 ] || drop_sleepers
	engine_ensure berth || die "berthd does not start"
	if ! berth_serves "${WL_NEEDS[$w]}"; then
		skip="skipped (not implemented)"
	fi
	parts=("${ENGINES[@]}")
	if [ -n "${WL_FLOOR[$w]:-}" ]; then
		parts+=(floor)
		LABEL[floor]=${WL_FLOOR[$w]}
	fi
	if [ -z "$skip" ]; then
		log "$w: ${WL_LABEL[$w]}"
		for ((r = -WARMUPS + 1; r <= REPS; r++)); do
			WARMUP=0
			[ "$r" -le 0 ] && WARMUP=1
			for e in "${parts[@]}"; do
				[ -n "${RESULT[$w:$e]:-}" ] && continue
				VALUE=""
				if [ "$e" = floor ]; then "fl_$w"; else "$fn" "$e"; fi
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
		if declare -F "${fn}_after" >/dev/null; then
			for e in "${ENGINES[@]}"; do
				engine_running "$e" && "${fn}_after" "$e"
			done
		fi
	fi
	for e in "${parts[@]}"; do
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

fmt_ratio() { # b d -> "1.23×" or "—"
	awk -v b="$1" -v d="$2" 'BEGIN {
		if (d == 0) { print "—"; exit }
		r = b / d
		if (r >= 100) printf "%.0f×", r; else if (r >= 10) printf "%.1f×", r; else printf "%.2f×", r
	}'
}

# Prints "ratio|floor ratio|target verdict; target verdict" for workload $1 (verdicts
# PASS, FAIL or n/a).
judge() {
	local w=$1 b=${RESULT[$1:berth]:-} d=${RESULT[$1:docker]:-} f=${RESULT[$1:floor]:-}
	local ratio="—" fratio="—" kind val tgt verdict out="" targets
	is_figure "$b" && is_figure "$d" && ratio=$(fmt_ratio "${b%% *}" "${d%% *}")
	is_figure "$b" && is_figure "$f" && fratio=$(fmt_ratio "${b%% *}" "${f%% *}")
	read -r -a targets <<<"${WL_TARGET[$w]}"
	set -- "${targets[@]}"
	while [ $# -ge 2 ]; do
		kind=$1 val=$2
		shift 2
		verdict="n/a"
		case $kind in
		abs_le)
			tgt="≤ $val ${WL_UNIT[$w]}"
			is_figure "$b" && verdict=$(awk -v b="${b%% *}" -v t="$val" \
				'BEGIN {print (b <= t) ? "PASS" : "FAIL"}')
			;;
		ratio_ge | ratio_lt)
			if [ "$kind" = ratio_ge ]; then tgt="≥ ${val}× dockerd"; else tgt="< ${val}× dockerd"; fi
			[ "$ratio" != "—" ] && verdict=$(awk -v b="${b%% *}" -v d="${d%% *}" -v t="$val" \
				-v k="$kind" 'BEGIN {
					r = b / d
					print ((k == "ratio_ge" && r >= t) || (k == "ratio_lt" && r < t)) ? "PASS" : "FAIL"
				}')
			;;
		floor_le)
			tgt="≤ ${val}× ${WL_FLOOR[$w]}"
			[ "$fratio" != "—" ] && verdict=$(awk -v b="${b%% *}" -v f="${f%% *}" -v t="$val" \
				'BEGIN {print (b / f <= t) ? "PASS" : "FAIL"}')
			;;
		*) continue ;;
		esac
		out+="${out:+; }$tgt $verdict"
	done
	echo "$ratio|$fratio|$out"
}

plain() { # the stdout table's ASCII spelling
	local s=$1
	s=${s//×/x}
	s=${s//—/-}
	s=${s//–/-}
	s=${s//≤/<=}
	s=${s//≥/>=}
	printf '%s' "$s"
}

report() {
	local w e j ratio fratio tgts bcell dcell fcell date_s machine versions cpu mem arrow t
	date_s=$(date -u '+%Y-%m-%d %H:%M UTC')
	cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
	mem=$(awk '/^MemTotal:/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
	machine="$(nproc) CPUs (${cpu:-unknown}), $mem memory, Linux $(uname -r)"
	versions="berthd ${VERSION[berth]:-?} (API ${APIVER[berth]:-?})"
	if [ "$PEER" = dockerd ]; then
		versions+=", dockerd ${VERSION[docker]:-?} (API ${APIVER[docker]:-?})"
		versions+=" with containerd $(containerd --version 2>/dev/null | awk '{print $3}')"
	else
		versions+=", no peer (PEER=none)"
	fi
	versions+=", runc $(runc --version 2>/dev/null | awk 'NR == 1 {print $3}')"
	versions+=", docker CLI $(docker --version 2>/dev/null | sed -n 's/^Docker version \([^,]*\).*/\1/p')"
	local mode="$REPS counted repetition(s) after $WARMUPS warm-up, engines alternating"
	mode+=" (A B A B, then the floor where there is one); load windows of ${SECONDS_LOAD}s"
	mode+=" with $THREADS client threads; CLI timings are the median of $RUN_ITERS runs per"
	mode+=" repetition"
	[ "$QUICK" = 1 ] && mode+="; QUICK mode (small counts)"

	# stdout: a plain table
	{
		echo
		echo "berth bench, $date_s"
		echo "machine:  $machine"
		echo "versions: $versions"
		echo "method:   $mode"
		echo
		printf '%-16s %-52s %-14s %-22s %-22s %-8s %-27s %-8s %s\n' workload "" unit \
			"berthd med (min-max)" "dockerd med (min-max)" berth/dd floor berth/fl target
		for w in "${WL_NAMES[@]}"; do
			[ -n "${RESULT[$w:berth]:-}" ] || continue
			IFS='|' read -r ratio fratio tgts <<<"$(judge "$w")"
			bcell=$(plain "$(cell "${RESULT[$w:berth]}" -)")
			dcell=$(plain "$(cell "${RESULT[$w:docker]:--}" -)")
			fcell="-"
			[ -n "${WL_FLOOR[$w]:-}" ] && fcell="${WL_FLOOR[$w]}: $(plain "$(cell "${RESULT[$w:floor]:--}" -)")"
			if [[ $bcell == skipped* ]] && [[ $dcell == skipped* || $dcell == - ]]; then
				printf '%-16s %-52s %s\n' "$w" "${WL_LABEL[$w]}" "$bcell"
				continue
			fi
			printf '%-16s %-52s %-14s %-22s %-22s %-8s %-27s %-8s %s\n' "$w" "${WL_LABEL[$w]}" \
				"${WL_UNIT[$w]}" "$bcell" "$dcell" "$(plain "$ratio")" "$fcell" \
				"$(plain "$fratio")" "$(plain "$tgts")"
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
		echo "  namespace (dockerd with its own managed containerd). Containers run with"
		echo "  \`--network none\` on both engines, except in the issue 5 workloads. Figures"
		echo "  are median (min–max); the ratios are berthd's median / dockerd's median and"
		echo "  berthd's median / the floor's median (an engine-less baseline: bare \`runc run\`,"
		echo "  plain \`tar -x\`)."
		echo
		echo "| workload | unit | berthd | dockerd | berthd/dockerd | floor | berthd/floor | target |"
		echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
		for w in "${WL_NAMES[@]}"; do
			[ -n "${RESULT[$w:berth]:-}" ] || continue
			IFS='|' read -r ratio fratio tgts <<<"$(judge "$w")"
			dcell=$(cell "${RESULT[$w:docker]:-—}")
			fcell="—"
			[ -n "${WL_FLOOR[$w]:-}" ] && fcell="${WL_FLOOR[$w]}: $(cell "${RESULT[$w:floor]:-—}")"
			if ! is_figure "${RESULT[$w:berth]}"; then dcell="—"; fcell="—"; fi
			arrow="↓"
			[ "${WL_BETTER[$w]}" = higher ] && arrow="↑"
			t=$(sed -E 's/ (PASS|FAIL|n\/a)(;|$)/ **\1**\2/g' <<<"$tgts")
			echo "| ${WL_LABEL[$w]} | ${WL_UNIT[$w]} $arrow | $(cell "${RESULT[$w:berth]}") |" \
				"$dcell | $ratio | $fcell | $fratio | $t |"
		done
		echo
		echo "↑ higher is better, ↓ lower is better (for the figures and for the ratios)."
		echo "Targets: issue 2 (foundation), issue 3 (images), issue 4 (containers), issue 5 (networks)."
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
			for e in "${ENGINES[@]}" floor; do
				[ -n "${RAW[$w:$e]:-}" ] || continue
				j=${LABEL[$e]}
				[ "$e" = floor ] && j=${WL_FLOOR[$w]}
				echo "- $w, $j: ${RAW[$w:$e]}"
			done
		done
	} >"$OUT"
	log "report written to ${OUT#"$ROOT"/}"
	chart
}

# bench/results/ratios.png: for each workload measured on both engines, how
# many times better berthd does (dockerd's time / berthd's, or berthd's rate /
# dockerd's), on a log scale; bars past 1 are berthd ahead.
chart() {
	local png=${OUT%/*}/ratios.png data=$TMP/ratios.dat w b d
	command -v gnuplot >/dev/null || { log "no gnuplot: no chart (contrib/install-deps.sh installs it)"; return 0; }
	: >"$data"
	for w in "${WL_NAMES[@]}"; do
		b=${RESULT[$w:berth]:-} d=${RESULT[$w:docker]:-}
		is_figure "$b" && is_figure "$d" || continue
		awk -v b="${b%% *}" -v d="${d%% *}" -v hi="${WL_BETTER[$w]}" -v w="$w" \
			'BEGIN { if (b > 0 && d > 0) printf "\"%s\" %.4f\n", w, (hi == "higher") ? b / d : d / b }' >>"$data"
	done
	if [ ! -s "$data" ]; then
		log "no workload measured on both engines: no chart"
		return 0
	fi
	gnuplot <<-EOF 2>>"$TMP/gnuplot.err" || { log "gnuplot failed: $(head -c 300 "$TMP/gnuplot.err")"; return 0; }
	set terminal pngcairo size 1000,$((160 + 22 * $(wc -l <"$data"))) font "sans,10"
	set termoption noenhanced
	set output "$png"
	set title "berthd vs dockerd: times better (log scale; > 1: berthd ahead)"
	set logscale x 10
	set xrange [0.1:*]
	set grid xtics
	set style fill solid 0.7
	set yrange [-1:$(wc -l <"$data")]
	set ytics nomirror
	unset key
	set arrow from 1, graph 0 to 1, graph 1 nohead lc rgb "black"
	plot "$data" using (sqrt(\$2)):0:(\$2 < 1 ? \$2 : 1):(\$2 < 1 ? 1 : \$2):(\$0 - 0.35):(\$0 + 0.35):ytic(1) with boxxyerror lc rgb "#3070b0"
	EOF
	log "chart written to ${png#"$ROOT"/}"
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
	ensure_compose_peer
	ENGINES=(berth)
	[ "$PEER" = dockerd ] && ENGINES+=(docker)
	local e
	for e in "${ENGINES[@]}"; do
		EDIR[$e]=$TMP/$e
		SOCK[$e]=$TMP/$e/$e.sock
		mkdir -p "${EDIR[$e]}/data" "${EDIR[$e]}/exec"
		echo '{}' >"${EDIR[$e]}/daemon.json"
	done

	# The CLIs read no user configuration.
	mkdir -p "$TMP/cli" "$TMP/registry"
	export DOCKER_CONFIG=$TMP/cli
	log "temp dir $TMP; ${REPS} reps, ${SECONDS_LOAD}s windows, peer: $PEER"
	for e in "${ENGINES[@]}"; do
		engine_start "$e" || die "${LABEL[$e]} does not start"
	done
	local w
	for w in "${WL_NAMES[@]}"; do
		run_workload "$w"
	done
	drop_sleepers
	report
}

# Sourced (for a workload's development), it defines everything and runs nothing.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then main "$@"; fi
