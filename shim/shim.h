/*
 * shim.h - berth-shim, the per-container supervisor, and how berthd drives it.
 *
 * One berth-shim runs per container. It is started by berthd, daemonizes so
 * that it is nobody's child but init's, and from then on owns the container:
 * it runs the OCI runtime (runc), holds the container's stdio, writes the
 * json-file log, serves attach, reaps the container (it is a child
 * subreaper) and records how it ended. berthd can be killed and restarted at
 * any time: it finds the shim again through the files below.
 *
 * ------------------------------------------------------------------ start
 *
 *   berth-shim --id ID --bundle DIR --state-dir DIR [--runtime PATH]
 *              [--runtime-root DIR] [--runtime-arg ARG]... [--log-path FILE]
 *              [--log-opt max-size=10m] [--log-opt max-file=3]
 *              [--log-attrs JSON] [--tty] [--stdin] [--stdin-once]
 *
 *   --bundle      OCI bundle (config.json + rootfs). process.terminal in
 *                 config.json decides TTY mode; --tty, when given, must agree.
 *   --state-dir   a directory in the exec root (created 0700 if missing); the
 *                 shim chdirs there and keeps its sockets and status in it.
 *   --runtime-root, --runtime-arg   runc's global --root and other global
 *                 flags (e.g. --systemd-cgroup), put before every subcommand.
 *   --log-path    json-file log; without it nothing is logged (driver none).
 *   --log-opt     json-file options as in Docker: max-size (RAMInBytes units:
 *                 "100", "10k", "1.5m", "1g"), max-file (>= 1).
 *   --log-attrs   a JSON object written as "attrs" in every entry (berthd
 *                 computes it from the labels/env log options).
 *   --stdin       keep the container's stdin open (docker -i); without it the
 *                 container's stdin is /dev/null.
 *   --stdin-once  close the container's stdin when an attached writer closes
 *                 its side (docker run -i sets StdinOnce).
 *
 * The command returns once the shim is ready (log open, sockets listening,
 * status.json "created") or could not be: exit 0 and one line
 * {"shim_pid":N,"pid":0} on stdout, or exit 1 and the error on stderr. The
 * container is made by "start", in one `runc run --detach` (where create
 * and start would run runc twice), so runc's errors come back from "start"
 * (e.g. "runc run failed: unable to start container process: exec: \"nope\":
 * executable file not found in $PATH"). Killing the container before that
 * ends it at once, as if the signal had killed it.
 *
 * berthd must not be a child subreaper itself (the shim must be reparented
 * to init), and under systemd berthd's unit needs KillMode=process (or the
 * shim moved out of berthd's cgroup) for shims to survive a berthd restart.
 *
 * ------------------------------------------------------------ state dir
 *
 *   control.sock   the control socket (below); gone once the shim exited
 *   attach.sock    the container's attach socket; gone once its output ended
 *   status.json    the container's state, replaced atomically on each change
 *   shim.lock      flock(2)ed by the shim while it lives: if LOCK_EX|LOCK_NB
 *                  succeeds, no shim is running here (and none can start
 *                  twice for one state dir)
 *   shim.log       the shim's own diagnostics (and sanitizer reports)
 *   runc.log       runc's --log (JSON lines); errors are read back from it
 *   exec/EID/      per exec process: attach.sock, status.json
 *
 * status.json (and every "state"/"wait" reply) is one object:
 *
 *   {"id":"<ID or exec ID>","shim_pid":N,"pid":M,
 *    "status":"created"|"running"|"paused"|"exited",
 *    "exit_code":N,"oom_killed":false,"error":"",
 *    "created_at":"...","started_at":"...","finished_at":"..."}
 *
 * Times are Docker's (Go's RFC 3339 with nanoseconds, trailing zeros
 * trimmed, UTC); "0001-01-01T00:00:00Z" when unset. exit_code is the exit
 * status, or 128+signal when the process was killed by a signal. oom_killed
 * is true when the container's memory cgroup counted an OOM kill while it
 * ran (cgroup v2 memory.events, v1 memory.oom_control "oom_kill").
 *
 * Live restore: a state dir whose shim.lock can be locked (or whose
 * control.sock refuses connections) belongs to a shim that is gone;
 * status.json then says how far the container got (an "exited" status is
 * final; anything else means the shim died, and the container should be
 * killed through runc and reported as exited).
 *
 * -------------------------------------------------------- control socket
 *
 * <state>/control.sock, a UNIX stream socket. Requests and replies are one
 * JSON object per line. Requests on one connection are answered in order;
 * a pending "wait" holds the connection until it is answered.
 *
 *   {"cmd":"start"}                       runc run; then "running"; the
 *                                         reply has the status object (as
 *                                         "state" gives it). Attach clients that
 *                                         wrote their first line before see
 *                                         all of the output
 *   {"cmd":"kill","signal":15}            signal the container's init
 *                                         (signal defaults to 9; a paused
 *                                         container goes through runc kill,
 *                                         which thaws it for SIGKILL)
 *   {"cmd":"kill","signal":9,"all":true}  runc kill --all (every process;
 *                                         SIGKILL to an init alone in its PID
 *                                         namespace does it without runc)
 *   {"cmd":"pause"} / {"cmd":"resume"}    runc pause / resume
 *   {"cmd":"state"}                       the status object, plus "execs":[IDs]
 *                                         and "oom_kill" (the counter now)
 *   {"cmd":"wait"}                        answered with the status object once
 *                                         the process exited and its output is
 *                                         logged; for the container, before
 *                                         runc delete, which the shim runs
 *                                         before it exits (shim.lock held)
 *   {"cmd":"resize","height":H,"width":W} TTY window size
 *   {"cmd":"close-stdin"}                 close the process's stdin (in TTY
 *                                         mode only the shim's writing side:
 *                                         the pty stays)
 *   {"cmd":"exec","exec_id":"EID","process":"/abs/process.json",
 *    "stdin":true,"stdin_once":true}      prepare an exec process: creates
 *                                         exec/EID/{attach.sock,status.json};
 *                                         TTY mode is process.terminal
 *
 * start, kill, state, wait, resize and close-stdin take "exec_id" to address
 * an exec process instead of the container: {"cmd":"start","exec_id":"E"}
 * runs `runc exec --detach` (connect to its attach socket first: output of an
 * exec is not logged). An exec runc cannot start fails "start" with runc's
 * message and is recorded exited with code 126, as dockerd does.
 *
 * Replies: {"ok":true,...} or {"ok":false,"status":409,"error":"..."}, the
 * status being the HTTP status berthd should answer with (400, 404, 409, 500).
 *
 * --------------------------------------------------------- attach socket
 *
 * <state>/attach.sock (exec/EID/attach.sock for an exec). A client first
 * writes one line, a JSON object choosing its streams (all optional):
 *
 *   {"stdin":false,"stdout":true,"stderr":true,"detach_keys":"ctrl-p,ctrl-q"}
 *
 * then receives the process's live output: raw bytes in TTY mode, otherwise
 * Docker's multiplexed frames (8-byte header: stream 1 stdout / 2 stderr,
 * three zero bytes, big-endian uint32 length; then the payload), so berthd can
 * splice the socket straight into a hijacked attach connection. Everything
 * the client writes after the line goes to the process's stdin (when it was
 * opened with --stdin / "stdin":true; otherwise it is dropped). Several
 * clients may attach at once; all receive the output and their stdin is
 * merged. Half-closing (shutdown SHUT_WR) ends that client's stdin, and with
 * stdin-once the process's stdin. In TTY mode the detach keys (default
 * ctrl-p,ctrl-q, Docker's format) end the attachment. The shim closes every
 * client after the output ended. A slow client slows the container down (its
 * output is not read while a client is backlogged), as with dockerd.
 *
 * ------------------------------------------------------------- json-file
 *
 * Docker's json-file format, byte for byte:
 *   {"log":"line\n","stream":"stdout","attrs":{...},"time":"2026-11-27T01:16:25.123456789Z"}
 * Output is split at newlines; a line longer than 16 KiB is written as
 * 16 KiB entries without a trailing "\n" (partial), all with the time of the
 * first. With max-size the file is rotated before a write once it reached
 * max-size: file.log -> file.log.1 -> ... -> file.log.<max-file - 1>.
 */
#ifndef BERTH_SHIM_H
#define BERTH_SHIM_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"

#define BERTH_SHIM_CONTROL_SOCK "control.sock"
#define BERTH_SHIM_ATTACH_SOCK "attach.sock"
#define BERTH_SHIM_STATUS_FILE "status.json"
#define BERTH_SHIM_LOCK_FILE "shim.lock"
#define BERTH_SHIM_EXEC_DIR "exec"

/* Stream numbers of the attach framing (Docker's stdcopy). */
enum { BERTH_SHIM_STDIN = 0, BERTH_SHIM_STDOUT = 1, BERTH_SHIM_STDERR = 2 };
#define BERTH_SHIM_FRAME_HEADER 8

/* Writes the 8-byte header of a frame carrying len bytes of stream. */
void berth_shim_frame_header(uint8_t hdr[BERTH_SHIM_FRAME_HEADER], int stream, uint32_t len);
/* Decodes the frame at the start of buf. Returns the bytes the whole frame
 * takes (header + payload), 0 when buf does not hold a whole frame yet, -1
 * for an invalid stream byte. */
long berth_shim_frame_parse(const void *buf, size_t len, int *stream, const char **payload,
			    size_t *payload_len);

/* Connects to a UNIX socket, also when the path is longer than sun_path
 * (through /proc/self/fd of its directory). Blocking, close-on-exec. */
int berth_shim_connect(const char *path, int *out, berth_error **err);

/* One control request on <state_dir>/control.sock, blocking: sends req, reads
 * the reply line. A reply with "ok":false becomes an error carrying its
 * status; otherwise *reply (may be NULL) receives the object. When the shim
 * is gone (or goes while answering) a "wait" or "state" is answered from
 * status.json if that says "exited": a shim exits as soon as its container
 * is done, so a late wait races with its exit. */
int berth_shim_call(const char *state_dir, json_t *req, json_t **reply, berth_error **err);

#endif
