/*
 * internal.h - the pieces berth-shim is made of; shim.h is the public side.
 *
 *   loop.c     a poll(2) loop with timers: the shim has a handful of fds, and
 *              poll keeps it single-threaded and small (no libuv)
 *   runtime.c  runc invocations
 *   console.c  receiving the pty master over runc's console socket
 *   io.c       one process's stdio: output to log and attach, stdin from attach
 *   copier.c   dockerd's line splitting (16 KiB partials)
 *   logfile.c  the json-file format, rotation, log options
 *   frame.c    Docker's stream framing
 *   escape.c   detach keys
 *   attach.c   the attach socket
 *   control.c  the control socket
 *   process.c  a process's life: create, start, reap, status file
 *   cgroup.c   the OOM kill counter
 *   sock.c     UNIX socket helpers, berth_shim_call
 *   util.c     the shim's own log, Docker's time format
 *   main.c     arguments, daemonizing, the shim object
 */
#ifndef BERTH_SHIM_INTERNAL_H
#define BERTH_SHIM_INTERNAL_H

#include <stdbool.h>
#include <sys/types.h>

#include "common.h"
#include "shim/shim.h"

/* ---------------------------------------------------------------- util.c */

/* Diagnostics to stderr, which the daemonized shim points at shim.log. */
void shim_log(const char *fmt, ...) BERTH_PRINTF(1, 2);
int64_t shim_now_ns(void);
/* Go's time.RFC3339Nano in UTC: trailing zeros of the fraction trimmed, no
 * fraction at all for a whole second ("2026-11-27T01:16:25.1234Z"). */
void shim_time_format(int64_t ns, char *out, size_t len);

/* ---------------------------------------------------------------- loop.c */

typedef struct shim_loop shim_loop;
typedef struct shim_watch shim_watch;
typedef void (*shim_watch_cb)(shim_watch *w, int revents);

struct shim_watch {
	int fd;
	short events;       /* POLLIN/POLLOUT wanted; errors are always reported */
	shim_watch_cb cb;
	void *data;
	long slot;          /* index in the loop, -1 when not added */
};

typedef struct shim_timer shim_timer;
struct shim_timer {
	int64_t deadline_ns; /* monotonic */
	void (*cb)(shim_timer *t);
	void *data;
	long slot;
};

shim_loop *shim_loop_new(void);
void shim_loop_free(shim_loop *l);
/* A watch may be added and removed from inside any callback. */
void shim_loop_add(shim_loop *l, shim_watch *w, int fd, short events, shim_watch_cb cb, void *data);
void shim_loop_remove(shim_loop *l, shim_watch *w);
void shim_timer_start(shim_loop *l, shim_timer *t, int64_t after_ms, void (*cb)(shim_timer *),
		      void *data);
void shim_timer_stop(shim_loop *l, shim_timer *t);
/* Runs until shim_loop_stop(). */
void shim_loop_run(shim_loop *l);
void shim_loop_stop(shim_loop *l);

/* -------------------------------------------------------------- copier.c */

/* dockerd's buffer: a line without a newline is cut into entries this long. */
#define SHIM_LINE_MAX (16 * 1024)

/* line/len without the newline; newline tells whether the line ended (a
 * partial entry has none); ts is the entry's time. */
typedef void (*shim_line_cb)(void *data, const char *line, size_t len, bool newline, int64_t ts);

typedef struct shim_copier {
	char *buf;              /* SHIM_LINE_MAX bytes, allocated on first use */
	size_t n;
	bool partial;           /* the last entry was a partial one */
	int64_t partial_ts;     /* ...and this is the time all its pieces share */
	int64_t (*now)(void);   /* the clock (tests replace it) */
	shim_line_cb cb;
	void *data;
} shim_copier;

void shim_copier_init(shim_copier *c, shim_line_cb cb, void *data);
void shim_copier_feed(shim_copier *c, const char *data, size_t len);
/* Flushes what is left as a partial entry. */
void shim_copier_eof(shim_copier *c);
void shim_copier_free(shim_copier *c);

/* ------------------------------------------------------------- logfile.c */

typedef struct shim_log_opts {
	int64_t max_size;       /* -1: never rotate */
	int max_file;           /* >= 1 */
} shim_log_opts;

typedef struct shim_logfile shim_logfile;

void shim_log_opts_init(shim_log_opts *o);
/* "max-size=10m", "max-file=3", "compress=false"; Docker's wording on errors. */
int shim_log_opt_parse(shim_log_opts *o, const char *kv, berth_error **err);
/* docker's units.RAMInBytes: "10", "10k", "1.5MiB", "1g" (binary units). */
int shim_ram_in_bytes(const char *s, int64_t *out);

/* attrs: a JSON object's text, or NULL. */
int shim_logfile_open(const char *path, const shim_log_opts *o, const char *attrs,
		      shim_logfile **out, berth_error **err);
int shim_logfile_write(shim_logfile *lf, const char *stream, const char *line, size_t len,
		       bool newline, int64_t ts, berth_error **err);
void shim_logfile_close(shim_logfile *lf);
/* One entry, with its trailing newline, appended to b. */
void shim_logfile_encode(berth_buf *b, const char *stream, const char *attrs, const char *line,
			 size_t len, bool newline, int64_t ts);

/* -------------------------------------------------------------- escape.c */

typedef struct shim_escape {
	char keys[32];
	size_t nkeys;
	size_t matched;
} shim_escape;

/* Docker's detach keys: "ctrl-p,ctrl-q", "a,ctrl-@". */
int shim_escape_parse(shim_escape *e, const char *spec, berth_error **err);
/* Appends to out what passes through; true when the sequence was typed (the
 * rest of in is dropped). Bytes that may start the sequence are held back
 * until it is clear that they do not. */
bool shim_escape_filter(shim_escape *e, const char *in, size_t len, berth_buf *out);

/* ------------------------------------------------------------------ sock.c */

/* A listening UNIX socket at path (relative paths resolve in the state dir),
 * non-blocking and close-on-exec; a stale socket file is replaced. */
int shim_listen(const char *path, int *out, berth_error **err);
/* A path runc can connect to for a socket at path relative to our cwd: the
 * absolute path, or /proc/<pid>/cwd/... when that is too long for sun_path. */
char *shim_peer_path(const char *cwd, const char *rel);
int shim_set_nonblock(int fd);

/* ---------------------------------------------------------------- attach.c */

typedef struct shim_attach shim_attach;

typedef struct shim_attach_ops {
	void (*stdin_data)(void *data, const char *buf, size_t len);
	void (*stdin_eof)(void *data);
	/* No client is backlogged any more: output may be read again. */
	void (*drained)(void *data);
	/* shim_attach_finish() is complete. */
	void (*finished)(void *data);
} shim_attach_ops;

int shim_attach_listen(shim_loop *loop, const char *path, bool tty, const shim_attach_ops *ops,
		       void *data, shim_attach **out, berth_error **err);
/* Accepts pending connections and reads their first line now: a client that
 * connected and wrote its line before berthd sent "start" sees all output. */
void shim_attach_sync(shim_attach *a);
void shim_attach_broadcast(shim_attach *a, int stream, const char *buf, size_t len);
bool shim_attach_backlogged(const shim_attach *a);
/* Stops reading stdin from clients while the process's stdin is backlogged. */
void shim_attach_pause_stdin(shim_attach *a, bool paused);
/* Output ended: stop listening, remove the socket, close each client once
 * its buffer is written (or after a grace period), then call finished. */
void shim_attach_finish(shim_attach *a);
void shim_attach_free(shim_attach *a);

/* ---------------------------------------------------------------- io.c */

typedef struct shim_stream {
	int fd;
	int id;                 /* BERTH_SHIM_STDOUT / STDERR */
	shim_watch w;
	shim_copier copier;
	struct shim_io *io;
} shim_stream;

typedef struct shim_io {
	shim_loop *loop;
	bool tty;
	bool open_stdin;
	bool stdin_once;
	int stdin_fd;           /* our end of the process's stdin, -1 when closed */
	bool stdin_closing;     /* close once stdin_buf is written */
	bool stdin_open;        /* stdin_fd was set up */
	bool stdin_gone;        /* ...and closed again */
	berth_buf stdin_buf;
	shim_watch stdin_w;
	shim_stream out, err;   /* in TTY mode only out is used (the pty master) */
	bool reading;           /* output watches enabled */
	shim_logfile *log;      /* not owned; NULL: not logged (execs, driver none) */
	shim_attach *attach;
	void (*on_eof)(void *data);      /* all output ended */
	void (*on_finished)(void *data); /* ...and attach clients were served */
	void *data;
} shim_io;

void shim_io_init(shim_io *io, shim_loop *loop, bool tty, bool open_stdin, bool stdin_once);
/* Pipes for a non-TTY process: child[] receives the ends for the process
 * (stdin is /dev/null without open_stdin), chowned to uid/gid so that a
 * non-root process can reopen /dev/stdout. */
int shim_io_pipes(shim_io *io, int child[3], uid_t uid, gid_t gid, berth_error **err);
/* TTY mode: the pty master received from runc. */
void shim_io_set_console(shim_io *io, int master);
int shim_io_attach_listen(shim_io *io, const char *path, berth_error **err);
/* Starts copying output; on_eof is called once all output ended. */
void shim_io_start(shim_io *io, void (*on_eof)(void *), void *data);
void shim_io_close_stdin(shim_io *io);
/* After the output ended: serve attach clients what they still have queued,
 * close them, then call on_finished. */
void shim_io_finish(shim_io *io, void (*on_finished)(void *), void *data);
/* Closes the output unread (runc's error, when it failed to start it). */
void shim_io_discard(shim_io *io);
int shim_io_resize(shim_io *io, unsigned height, unsigned width, berth_error **err);
/* Reads what is still buffered without blocking, then ends the output even
 * if some process still holds it open. */
void shim_io_abandon(shim_io *io);
bool shim_io_output_done(const shim_io *io);
void shim_io_free(shim_io *io);

/* ------------------------------------------------------------- console.c */

/* Receives the pty master runc sends on a console socket (listening fd). */
int shim_console_receive(int listen_fd, int timeout_ms, int *master, berth_error **err);

/* -------------------------------------------------------------- cgroup.c */

/* The file counting OOM kills of pid's memory cgroup, or NULL. */
char *shim_cgroup_oom_file(pid_t pid);
/* The oom_kill counter in that file; -1 when unreadable. */
int64_t shim_cgroup_oom_count(const char *file);

/* ---------------------------------------------------------------- the shim */

typedef enum shim_status {
	SHIM_CREATED,
	SHIM_RUNNING,
	SHIM_PAUSED,
	SHIM_EXITED,
} shim_status;

typedef struct shim shim;
typedef struct shim_control shim_control;
typedef struct shim_waiter shim_waiter;

typedef struct shim_proc {
	shim *shim;
	char *exec_id;          /* NULL for the container's init */
	char *dir;              /* "." or "exec/EID", relative to the state dir */
	char *process_path;     /* exec: the OCI process JSON */
	pid_t pid;
	shim_status status;
	bool reaped;
	bool finalized;         /* exit recorded, output done, waiters answered */
	bool io_done;           /* ...and attach clients served */
	int exit_code;
	bool oom_killed;
	int64_t created_ns, started_ns, finished_ns;
	char *error;
	shim_io io;
	shim_timer eof_timer;
	shim_waiter *waiters;
} shim_proc;

typedef struct shim_config {
	const char *id;
	const char *bundle;
	const char *state_dir;
	const char *runtime;
	const char *runtime_root;
	const char **runtime_args;
	size_t nruntime_args;
	const char *log_path;
	const char *log_attrs;
	shim_log_opts log_opts;
	int tty;                /* -1: not given */
	bool open_stdin;
	bool stdin_once;
} shim_config;

struct shim {
	shim_config cfg;
	char *state_dir;        /* absolute */
	shim_loop *loop;
	shim_logfile *log;
	shim_proc *init;
	shim_proc **execs;
	size_t nexecs;
	shim_control *control;
	char *oom_file;
	int64_t oom_base;
	bool own_pidns;         /* the init runs in a PID namespace of its own */
	int sigfd;
	shim_watch sigw;
	int pending_attach;     /* attach servers still draining */
};

/* process.c */
shim_proc *shim_proc_new(shim *s, const char *exec_id);
void shim_proc_free(shim_proc *p);
int shim_proc_create_init(shim *s, berth_error **err);
int shim_proc_start(shim_proc *p, berth_error **err);
int shim_proc_kill(shim_proc *p, int sig, bool all, berth_error **err);
int shim_proc_pause(shim_proc *p, bool pause, berth_error **err);
int shim_proc_exec_create(shim *s, const char *exec_id, const char *process_path, bool open_stdin,
			  bool stdin_once, berth_error **err);
/* A child exited: called with each reaped pid and wait status. */
void shim_proc_reaped(shim *s, pid_t pid, int wstatus);
json_t *shim_proc_status_json(const shim_proc *p);
void shim_proc_write_status(shim_proc *p);
shim_proc *shim_find_proc(shim *s, const char *exec_id, berth_error **err);
/* Registers a callback for when p is finalized (immediately if it is). */
void shim_proc_on_final(shim_proc *p, void (*cb)(void *data, shim_proc *p), void *data);
/* Forgets waiters whose data is data (a control client went away). */
void shim_proc_drop_waiters(shim *s, void *data);
/* Stops the loop when nothing is left to do. */
void shim_maybe_exit(shim *s);
/* Reaps every child that exited (the SIGCHLD handler's work). */
void shim_reap_children(shim *s);

/* runtime.c */
/* runc run --detach: the container created and started in one call. */
int shim_runtime_run(shim *s, const char *pid_file, const int stdio[3], const char *console,
		     berth_error **err);
int shim_runtime_exec(shim *s, const char *process, const char *pid_file, const int stdio[3],
		      const char *console, berth_error **err);
int shim_runtime_kill(shim *s, int sig, bool all, berth_error **err);
/* runc pause / resume */
int shim_runtime_simple(shim *s, const char *cmd, berth_error **err);
int shim_runtime_delete(shim *s, berth_error **err);
/* Reads the pid runc wrote. */
int shim_read_pid_file(const char *path, pid_t *out, berth_error **err);

/* control.c */
int shim_control_listen(shim *s, berth_error **err);
void shim_control_free(shim_control *c);
/* Sends what replies are pending, as far as the sockets take them now:
 * before the shim blocks (runc delete), so that a wait's answer is not held. */
void shim_control_flush(shim_control *c);

#endif
