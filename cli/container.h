/*
 * container.h - shared by the container commands of cli/ (container.c,
 * container_opts.c, attach.c, exec.c, ps.c, logs.c, inspect.c); not part of
 * cli.h's API.
 *
 *   container_opts.c  docker's create flags as one table, and the create
 *                     request (Config + HostConfig + NetworkingConfig) built
 *                     from them: sizes, durations, env files, mounts, ...
 *   attach.c          the hijacked stream: 8-byte frame demultiplexing, raw
 *                     terminal, detach keys, SIGWINCH resize, signal proxy
 */
#ifndef BERTH_CLI_CONTAINER_H
#define BERTH_CLI_CONTAINER_H

#include "cli.h"

/* ------------------------------------------------------- value parsing */

/* go-units' RAMInBytes: "32m", "1.5GiB", "512" (bytes). Docker's messages:
 * "invalid size: '...'", "invalid suffix: '...'". */
int berth_cli_ram_in_bytes(const char *s, int64_t *out, berth_error **err);
/* Go's time.ParseDuration with its error messages ("time: unknown unit ..."). */
int berth_cli_go_duration(const char *s, int64_t *out_ns, berth_error **err);
/* Go's strconv.ParseInt(s, 0, 64), with its messages. */
int berth_cli_parse_int(const char *s, int64_t *out, berth_error **err);
/* docker's --cpus: a decimal number of CPUs to NanoCPUs. */
int berth_cli_nano_cpus(const char *s, int64_t *out, berth_error **err);
/* docker's --env-file/--label-file: KEY=value lines, appended to out.
 * env: a bare KEY takes its value from the environment (or is dropped). */
int berth_cli_read_kv_file(const char *path, bool env, berth_strlist *out, berth_error **err);
/* docker's -e KEY: KEY=value from the environment when set, else KEY. */
char *berth_cli_env_value(const char *arg);
/* The ID as `ps` shows it: the first 12 hex digits, "sha256:" dropped. */
char *berth_cli_short_id(const char *id);

/* ------------------------------------------------------ create options */

typedef enum berth_create_cmd {
	BERTH_CREATE_CMD_CREATE,
	BERTH_CREATE_CMD_RUN,
	BERTH_CREATE_CMD_UPDATE, /* the resource and restart flags only */
} berth_create_cmd;

typedef struct berth_create_opts berth_create_opts;

/* The flags of `create` or `run`, pointing into opts; free with
 * berth_create_opts_free. */
berth_create_opts *berth_create_opts_new(berth_create_cmd cmd, berth_flag **flags,
					 size_t *nflags);
void berth_create_opts_free(berth_create_opts *o);

/* What run and create need besides the request body. */
typedef struct berth_create_plan {
	json_t *body;           /* the create request */
	const char *name;       /* --name, NULL when none */
	const char *platform;   /* --platform */
	const char *pull;       /* "missing" (default), "always", "never" */
	const char *cidfile;    /* --cidfile */
	bool quiet;
	bool detach;            /* run -d */
	bool sig_proxy;         /* run --sig-proxy (default true) */
	const char *detach_keys;
	bool attach_given;      /* -a used */
	bool auto_remove;
} berth_create_plan;

/* Builds the request from the parsed flags and args (IMAGE [COMMAND...]).
 * Errors carry docker's messages (the caller prints "berth: ..." and 125). */
int berth_create_opts_build(berth_create_opts *o, const berth_strlist *args,
			    berth_create_plan *plan, berth_error **err);
void berth_create_plan_reset(berth_create_plan *plan);
/* `update`: the POST /containers/{id}/update body (resources and
 * RestartPolicy) from the flags given; 400 when none was. */
int berth_create_opts_update(berth_create_opts *o, json_t **body, berth_error **err);

/* ------------------------------------------------- multiplexed streams */

/* Docker's stdcopy: frames of an 8-byte header (stream, 0, 0, 0, size as
 * big-endian uint32) and a payload. Payloads are handed on as they arrive. */
typedef int (*berth_demux_cb)(void *userdata, int stream, const char *data, size_t len);

typedef struct berth_demux {
	unsigned char header[8];
	size_t have;      /* header bytes collected */
	size_t remaining; /* payload bytes left in the current frame */
	int stream;
	berth_buf syserr; /* stream 3: the daemon's error message */
} berth_demux;

/* Feeds bytes; cb gets stream 1 (stdout; 0 is treated as stdout) or 2. A
 * stream-3 frame becomes "error from daemon in stream: ...", an unknown
 * stream "Unrecognized input header: N". cb returning non-zero stops (-1). */
int berth_demux_feed(berth_demux *d, const char *data, size_t len, berth_demux_cb cb,
		     void *userdata, berth_error **err);
void berth_demux_reset(berth_demux *d);

/* ----------------------------------------------------------- detach keys */

typedef struct berth_escape {
	unsigned char keys[16];
	size_t nkeys;
	size_t matched; /* bytes of the sequence seen, held back */
} berth_escape;

/* moby/term's ToBytes: "ctrl-p,ctrl-q", "a,ctrl-@". */
int berth_escape_parse(const char *spec, berth_escape *e, berth_error **err);
/* Copies input to out, holding back a prefix of the sequence; returns true
 * when the whole sequence was typed (out then holds what came before). */
bool berth_escape_filter(berth_escape *e, const char *in, size_t len, berth_buf *out);

/* ------------------------------------------------------ attached streams */

typedef struct berth_stream {
	berth_cli *cli;
	int conn;             /* the hijacked connection */
	berth_buf pending;    /* bytes that came with the 101 answer */
	int in_fd;            /* stdin to copy, or -1 */
	bool tty;             /* raw stream (and a raw terminal) rather than frames */
	bool out, err;        /* copy stdout, stderr (else discarded) */
	const char *detach_keys;
	const char *id;       /* container or exec ID, for resize and kill */
	bool is_exec;
	bool resize;          /* follow the terminal's size */
	int sig_fd;           /* berth_signals_open's descriptor, or -1 */
} berth_stream;

typedef enum berth_stream_end {
	BERTH_STREAM_DONE,
	BERTH_STREAM_DETACHED,
	BERTH_STREAM_FAILED,
} berth_stream_end;

/* Copies stdin to the connection (half-closing it at EOF) and the output to
 * stdout/stderr until the output ends, the detach keys are typed, or an
 * error. The terminal is raw meanwhile (TTY with stdin) and restored on
 * every way out, also at exit. */
berth_stream_end berth_stream_run(berth_stream *s, berth_error **err);
void berth_stream_close(berth_stream *s);

/* POST /containers/{id}/attach?stream=1&stdin=..., hijacked into s->conn. */
int berth_cli_attach_open(berth_cli *cli, const char *id, bool in, bool out, bool errs,
			  const char *detach_keys, berth_stream *s, berth_error **err);

/* Blocks the signals the CLI forwards (and SIGWINCH) into a signalfd;
 * proxy false: SIGWINCH only. -1 on failure. */
int berth_signals_open(bool proxy);
void berth_signals_close(int fd);

/* Writes container output to f; a reader gone (EPIPE) ends the CLI by
 * SIGPIPE, as a Go program ends. */
int berth_cli_write_stream(FILE *f, const char *data, size_t len);

/* POST /containers/{id}/resize or /exec/{id}/resize with the terminal's size
 * (plus delta, as docker's attach nudges it). */
void berth_stream_resize(berth_cli *cli, const char *id, bool is_exec, int delta);

/* The terminal checks of docker's In().CheckTty. */
int berth_check_tty(bool attach_stdin, bool tty, berth_error **err);
/* The detach keys: the flag, else the config file's detachKeys, else NULL. */
const char *berth_cli_detach_keys(berth_cli *cli, const char *flag);

/* ------------------------------------------------------------------ ps */

/* docker's formatter.Ellipsis: at most max runes, the last one "…". */
char *berth_cli_ellipsis(const char *s, size_t max);
/* Go's strconv.Quote. */
char *berth_cli_go_quote(const char *s);
/* "5 seconds ago" for a Unix creation time. */
char *berth_cli_running_for(int64_t created, int64_t now_ns);
/* "0.0.0.0:8080->80/tcp, 443/tcp" from the Ports of GET /containers/json. */
char *berth_cli_displayable_ports(const json_t *ports);
/* The fields `ps` templates see for one container of GET /containers/json. */
json_t *berth_cli_ps_row(const json_t *container, bool trunc, int64_t now_ns);

/* ----------------------------------------------------------- requests */

/* "/containers/<name url-encoded><suffix>" */
char *berth_cli_container_path(const char *name, const char *suffix);
/* GET /containers/{name}/json. */
int berth_cli_inspect_container(berth_cli *cli, const char *name, json_t **out,
				berth_error **err);
/* Sends POST /containers/{id}/wait?condition=... on a connection of its own;
 * berth_cli_wait_finish blocks for its StatusCode (125 on failure, as docker),
 * forwarding the signals of s (may be NULL) meanwhile. */
berth_client_call *berth_cli_wait_send(berth_cli *cli, const char *id, const char *condition);
int berth_cli_wait_finish(berth_cli *cli, berth_client_call *call, berth_stream *s);


#endif
