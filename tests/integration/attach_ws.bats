#!/usr/bin/env bats
# GET /containers/{id}/attach/ws (issue 4): the attach as a websocket, with a
# real RFC 6455 client (tests/tools/ws_attach.py, masked frames).

load ../helpers
bats_require_minimum_version 1.5.0

WS="$BATS_TEST_DIRNAME/../tools/ws_attach.py"
ECHO='while read l; do echo "$l"; [ "$l" = quit ] && exit 0; done'

setup_file() {
	berth_start
	busybox_image busybox:latest
}
teardown_file() { berth_stop; }
teardown() { "$BERTH" ps -aq | xargs -r "$BERTH" rm -f >/dev/null 2>&1 || true; }

@test "input frames reach stdin, output comes back raw, the exit closes the socket" {
	"$BERTH" run -d -i --name w1 busybox sh -c "$ECHO" >/dev/null
	run timeout 60 "$WS" "$BERTH_SOCK" "/containers/w1/attach/ws?stream=1&stdin=1&stdout=1&stderr=1" \
		'frag:hello\n' 'expect:hello\n' 'ping:p1' 'send:quit\n'
	[ "$status" -eq 0 ]
	[ "$output" = "status: HTTP/1.1 101 Switching Protocols
pong: p1
output: hello
quit
opcodes: binary
close: 1000" ]
	[ "$("$BERTH" wait w1)" = 0 ]
}

@test "API before 1.28 sends text frames; before 1.42 all streams are attached" {
	"$BERTH" run -d -i --name w2 busybox sh -c "$ECHO" >/dev/null
	run timeout 60 "$WS" "$BERTH_SOCK" "/v1.27/containers/w2/attach/ws?stream=1" 'send:quit\n'
	[ "$status" -eq 0 ]
	[ "${lines[1]}" = "output: quit" ]
	[ "${lines[2]}" = "opcodes: text" ]
	[ "${lines[3]}" = "close: 1000" ]
}

@test "logs=1 replays the log first, then the live stream" {
	"$BERTH" run -d -i --name w3 busybox sh -c "echo before; echo before-err >&2; $ECHO" >/dev/null
	for i in $(seq 1 50); do [ "$("$BERTH" logs w3 2>&1 | wc -l)" -ge 2 ] && break; sleep 0.1; done
	run timeout 60 "$WS" "$BERTH_SOCK" "/containers/w3/attach/ws?logs=1&stream=1&stdin=1&stdout=1" \
		'expect:before\n' 'send:quit\n'
	[ "$status" -eq 0 ]
	[ "$output" = "status: HTTP/1.1 101 Switching Protocols
output: before
quit
opcodes: binary
close: 1000" ]
}

@test "logs=1 on an exited container: the log, then the close" {
	"$BERTH" run --name w4 busybox sh -c 'echo one; echo two >&2' >/dev/null
	run timeout 60 "$WS" "$BERTH_SOCK" "/containers/w4/attach/ws?logs=1&stdout=1&stderr=1"
	[ "$status" -eq 0 ]
	[ "$output" = "status: HTTP/1.1 101 Switching Protocols
output: one
two
opcodes: binary
close: 1000" ]
}

@test "a TTY container's output is sent as the terminal wrote it" {
	"$BERTH" run -d -t --name w5 busybox sh -c 'echo tty-out; sleep 1000' >/dev/null
	for i in $(seq 1 50); do [ -n "$("$BERTH" logs w5 2>&1)" ] && break; sleep 0.1; done
	run timeout 60 "$WS" "$BERTH_SOCK" "/containers/w5/attach/ws?logs=1&stdout=1"
	[ "$status" -eq 0 ]
	[ "${lines[1]}" = $'output: tty-out\r' ]
	[ "${lines[3]}" = "close: 1000" ]
}

@test "a bad frame gets a 1002 close; the container and berthd carry on" {
	"$BERTH" run -d -i --name w6 busybox sh -c "$ECHO" >/dev/null
	# an unmasked frame from a client is a protocol error
	run timeout 60 "$WS" "$BERTH_SOCK" "/containers/w6/attach/ws?stream=1&stdin=1&stdout=1" \
		'send:one\n' 'expect:one\n' 'raw:8203616263'
	[ "$status" -eq 0 ]
	[ "${lines[1]}" = "output: one" ]
	[ "${lines[3]}" = "close: 1002" ]
	# a close from the client is echoed with its code
	run timeout 60 "$WS" "$BERTH_SOCK" "/containers/w6/attach/ws?stream=1&stdin=1&stdout=1" \
		'send:two\n' 'expect:two\n' 'close:1001'
	[ "${lines[1]}" = "output: two" ]
	[ "${lines[3]}" = "close: 1001" ]
	[ "$("$BERTH" inspect -f '{{.State.Running}}' w6)" = true ]
}

@test "errors: no such container is a 404, a plain GET a 400, a stopped container a 409 (before the handshake)" {
	run timeout 60 "$WS" "$BERTH_SOCK" "/containers/nope/attach/ws?stream=1"
	[ "${lines[0]}" = "status: HTTP/1.1 404 Not Found" ]
	[ "${lines[1]}" = '{"message":"No such container: nope"}' ]
	"$BERTH" create --name w7 busybox true >/dev/null
	run curl -sS --unix-socket "$BERTH_SOCK" -w ' %{http_code}' "http://x/containers/w7/attach/ws"
	[ "$output" = $'{"message":"not websocket protocol"}\n 400' ]
	"$BERTH" start w7 >/dev/null
	"$BERTH" wait w7 >/dev/null
	run timeout 60 "$WS" "$BERTH_SOCK" "/containers/w7/attach/ws?stream=1"
	[ "${lines[0]}" = "status: HTTP/1.1 409 Conflict" ]
	# as in dockerd, the container's state is looked at before the handshake
	run curl -sS --unix-socket "$BERTH_SOCK" -w ' %{http_code}' "http://x/containers/w7/attach/ws"
	[ "$output" = $'{"message":"You cannot attach to a stopped container, start it first"}\n 409' ]
}

@test "a large output arrives whole and in order through the frames" {
	"$BERTH" run -d -i --name w8 busybox sh -c 'read l; seq 1 100000' >/dev/null
	run timeout 60 "$WS" "$BERTH_SOCK" "/containers/w8/attach/ws?stream=1&stdin=1&stdout=1" 'send:go\n'
	[ "$status" -eq 0 ]
	[ "$output" = "status: HTTP/1.1 101 Switching Protocols
output: $(seq 1 100000)
opcodes: binary
close: 1000" ]
}

@test "Debian's websocket client library (python3-websocket) attaches too" {
	"$BERTH" run -d -i --name w9 busybox sh -c "$ECHO" >/dev/null
	run timeout 60 "$BATS_TEST_DIRNAME/../tools/ws_client_lib.py" "$BERTH_SOCK" \
		"/containers/w9/attach/ws?stream=1&stdin=1&stdout=1" 'one\ntwo\nquit\n'
	[ "$status" -eq 0 ]
	[ "$output" = "output: one
two
quit
opcodes: binary
close: 1000" ]
}

@test "a client that neither answers the close nor goes is let go by the server" {
	"$BERTH" run -d -i --name w10 busybox sh -c "$ECHO" >/dev/null
	run timeout 60 "$WS" "$BERTH_SOCK" "/containers/w10/attach/ws?stream=1&stdin=1&stdout=1" \
		'send:quit\n' 'hold:'
	[ "$status" -eq 0 ]
	[ "${lines[3]}" = "close: 1000" ]
	[ "${lines[4]}" = "held: the server ended the connection" ]
}
