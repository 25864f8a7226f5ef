#!/usr/bin/env bats
# berthd's flags, daemon.json, locking, sockets, TLS and signals. Each test
# starts its own berthd in a temp dir and stops it.

load ../helpers

setup() {
	T=$(mktemp -d /tmp/berth-daemon.XXXXXX)
}

teardown() {
	[ -n "${PID:-}" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	[ -n "${PID2:-}" ] && kill "$PID2" 2>/dev/null && wait "$PID2" 2>/dev/null
	rm -rf "$T"
}

# start_daemon [flags...]: berthd on $T/b.sock in the background as $PID.
start_daemon() {
	"$BERTHD" --data-root "$T/data" --exec-root "$T/run" --pidfile "$T/pid" "$@" >"$T/log" 2>&1 &
	PID=$!
}

@test "berthd --version and --help" {
	run "$BERTHD" --version
	[ "$status" -eq 0 ]
	[[ "$output" == "berthd version "* ]]
	run "$BERTHD" --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"--data-root"* && "$output" == *"--tlsverify"* ]]
}

@test "an unknown flag is an error naming it" {
	run "$BERTHD" --bogus
	[ "$status" -eq 1 ]
	[[ "$output" == *"unknown flag: --bogus"* ]]
}

@test "daemon.json: an unknown key is an error naming the key" {
	echo '{"debug": true, "no-such-option": 1}' >"$T/daemon.json"
	run "$BERTHD" --config-file "$T/daemon.json" --data-root "$T/data"
	[ "$status" -eq 1 ]
	[[ "$output" == *"the following directives don't match any configuration option: no-such-option"* ]]
}

@test "daemon.json: a key also given as a flag is an error" {
	echo "{\"data-root\": \"$T/other\"}" >"$T/daemon.json"
	run "$BERTHD" --config-file "$T/daemon.json" --data-root "$T/data"
	[ "$status" -eq 1 ]
	[[ "$output" == *"specified both as a flag and in the configuration file: data-root"* ]]
}

@test "daemon.json: a wrong type is an error" {
	echo '{"debug": "yes"}' >"$T/daemon.json"
	run "$BERTHD" --config-file "$T/daemon.json"
	[ "$status" -eq 1 ]
	[[ "$output" == *"debug must be a boolean"* ]]
	echo '{not json' >"$T/daemon.json"
	run "$BERTHD" --config-file "$T/daemon.json"
	[ "$status" -eq 1 ]
	[[ "$output" == *"invalid JSON"* ]]
}

@test "daemon.json: hosts, labels and debug are used" {
	echo "{\"hosts\": [\"unix://$T/b.sock\"], \"labels\": [\"team=berth\"], \"debug\": true}" >"$T/daemon.json"
	start_daemon --config-file "$T/daemon.json"
	berth_wait_socket "$T/b.sock"
	info=$(curl -s --unix-socket "$T/b.sock" http://berth/info)
	[ "$(jq -r '.Labels[0]' <<<"$info")" = team=berth ]
	[ "$(jq -r .Debug <<<"$info")" = true ]
}

@test "SIGHUP reloads labels from daemon.json" {
	echo "{\"labels\": [\"a=1\"]}" >"$T/daemon.json"
	start_daemon --config-file "$T/daemon.json" -H "unix://$T/b.sock"
	berth_wait_socket "$T/b.sock"
	echo "{\"labels\": [\"a=2\"]}" >"$T/daemon.json"
	kill -HUP "$PID"
	sleep 0.3
	[ "$(curl -s --unix-socket "$T/b.sock" http://berth/info | jq -r '.Labels[0]')" = a=2 ]
}

@test "tcp:// without TLS is refused, except 127.0.0.1 with --insecure-tcp" {
	run "$BERTHD" --data-root "$T/data" -H tcp://0.0.0.0:23750
	[ "$status" -eq 1 ]
	[[ "$output" == *"needs mutual TLS"* ]]
	run "$BERTHD" --data-root "$T/data" -H tcp://127.0.0.1:23750
	[ "$status" -eq 1 ]
	port=$(( 20000 + RANDOM % 20000 ))
	start_daemon -H "unix://$T/b.sock" -H "tcp://127.0.0.1:$port" --insecure-tcp
	berth_wait_socket "$T/b.sock"
	run curl -s "http://127.0.0.1:$port/_ping"
	[ "$output" = OK ]
}

@test "tcp:// with --tlsverify serves only clients with a certificate from the CA" {
	cd "$T"
	openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 1 -subj /CN=test-ca 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=127.0.0.1 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.1\n' >ext
	openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 1 -extfile ext 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj /CN=client 2>/dev/null
	openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem -days 1 2>/dev/null
	port=$(( 20000 + RANDOM % 20000 ))
	start_daemon -H "unix://$T/b.sock" -H "tcp://127.0.0.1:$port" --tlsverify \
		--tlscacert ca.pem --tlscert server.pem --tlskey server.key
	berth_wait_socket "$T/b.sock"
	run curl -s --cacert ca.pem --cert client.pem --key client.key "https://127.0.0.1:$port/_ping"
	[ "$output" = OK ]
	run curl -s --cacert ca.pem "https://127.0.0.1:$port/_ping"
	[ "$output" != OK ]
	run curl -s "http://127.0.0.1:$port/_ping"
	[ "$output" != OK ]
	if command -v docker >/dev/null; then
		mkdir certs && cp ca.pem certs/ca.pem && cp client.pem certs/cert.pem && cp client.key certs/key.pem
		run env DOCKER_HOST="tcp://127.0.0.1:$port" DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH="$T/certs" docker version --format '{{.Server.APIVersion}}'
		[ "$output" = 1.47 ]
	fi
}

@test "a second berthd on the same data root is refused" {
	start_daemon -H "unix://$T/b.sock"
	berth_wait_socket "$T/b.sock"
	run "$BERTHD" --data-root "$T/data" --exec-root "$T/run2" --pidfile "$T/pid2" -H "unix://$T/c.sock"
	[ "$status" -eq 1 ]
	[[ "$output" == *"another berthd (pid $PID) is using data root $T/data"* ]]
	run curl -s --unix-socket "$T/b.sock" http://berth/_ping
	[ "$output" = OK ]
}

@test "SIGTERM stops cleanly: exit 0, socket and pidfile removed" {
	start_daemon -H "unix://$T/b.sock"
	berth_wait_socket "$T/b.sock"
	[ "$(cat "$T/pid")" = "$PID" ]
	kill -TERM "$PID"
	rc=0
	wait "$PID" || rc=$?
	[ "$rc" -eq 0 ]
	PID=
	[ ! -e "$T/b.sock" ]
	[ ! -e "$T/pid" ]
	grep -q "Daemon shutdown complete" "$T/log"
}

@test "SIGINT stops cleanly too, with an events stream open" {
	start_daemon -H "unix://$T/b.sock"
	berth_wait_socket "$T/b.sock"
	curl -s --unix-socket "$T/b.sock" http://berth/events >/dev/null &
	curl_pid=$!
	sleep 0.2
	kill -INT "$PID"
	rc=0
	wait "$PID" || rc=$?
	[ "$rc" -eq 0 ]
	PID=
	wait "$curl_pid" || true
}

@test "the socket is mode 0660 and owned by --group" {
	# a group of our own, removed again whatever happens
	group=berthtest$$
	groupadd "$group"
	start_daemon -H "unix://$T/b.sock" --group "$group"
	berth_wait_socket "$T/b.sock"
	mode=$(stat -c %a "$T/b.sock")
	owner=$(stat -c %G "$T/b.sock")
	groupdel "$group"
	[ "$mode" = 660 ]
	[ "$owner" = "$group" ]
}

@test "an unknown --group is an error" {
	run "$BERTHD" --data-root "$T/data" --exec-root "$T/run" --pidfile "$T/pid" -H "unix://$T/b.sock" --group no-such-group-xyz
	[ "$status" -eq 1 ]
	[[ "$output" == *"group no-such-group-xyz not found"* ]]
}

@test "fd:// takes sockets from systemd socket activation" {
	python3 - "$BERTHD" "$T" <<'PY' &
import os, socket, sys
berthd, t = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(t + "/act.sock")
s.listen(16)
os.dup2(s.fileno(), 3)
os.environ["LISTEN_FDS"] = "1"
os.environ["LISTEN_PID"] = str(os.getpid())
os.execv(berthd, [berthd, "--data-root", t + "/data", "--exec-root", t + "/run",
                  "--pidfile", t + "/pid", "-H", "fd://"])
PY
	PID=$!
	berth_wait_socket "$T/act.sock"
	run curl -s --unix-socket "$T/act.sock" http://berth/_ping
	[ "$output" = OK ]
}
