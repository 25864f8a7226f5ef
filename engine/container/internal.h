/* internal.h - shared by the files of engine/container; not for other modules. */
#ifndef BERTH_CONTAINER_INTERNAL_H
#define BERTH_CONTAINER_INTERNAL_H

#include <pthread.h>
#include <uv.h>

#include "container.h"
#include "engine/api/api.h"
#include "engine/engine.h"

/* The record in the container's dir; renamed when its removal is
 * answered, until the teardown removes the dir. */
#define CONTAINER_RECORD "config.v2.json"
#define CONTAINER_REMOVING_RECORD "removing.json"

/* Go's zero time, which Docker prints for times not set. */
#define CONTAINER_ZERO_TIME "0001-01-01T00:00:00Z"

typedef struct container_op container_op;
typedef struct container_waiter container_waiter;
typedef struct container_exec container_exec;
typedef struct container_attach container_attach;
typedef struct container_health container_health;

/* A client attached through a hijacked connection. */
struct container_attach {
	berth_api_splice *splice;
	char *hello;                /* the shim's stream selection line */
	bool connected;
	container_attach *next;
};

/* What a waiter waits for. */
typedef enum waiter_kind {
	WAIT_EXIT,       /* the running process exits (stop, wait next-exit) */
	WAIT_NOT_RUNNING,
	WAIT_REMOVED,
} waiter_kind;

typedef void (*waiter_fn)(berth_container *c, container_waiter *w, int exit_code);

struct container_waiter {
	waiter_kind kind;
	waiter_fn fn;               /* what to do when woken; NULL: reply */
	berth_api_hold *hold;       /* the request to answer */
	berth_api_stream *stream;   /* wait's response stream, when started */
	int reply_status;           /* stop/restart: 204 (0 for wait's JSON) */
	uv_timer_t *timer;          /* stop: SIGKILL after the timeout */
	berth_container *c;
	container_waiter *next;
};

struct berth_container {
	berth_container_store *store;
	char id[65];
	char *name;                 /* without the leading '/' */
	json_t *record;             /* the inspect document, persisted */
	char *dir;                  /* <data-root>/containers/<id> */
	char *run_dir;              /* <exec-root>/containers/<id> */
	char *shim_dir;             /* run_dir/shim */
	bool monitoring;            /* a "wait" call is open on the shim */
	container_op *ops;          /* queued blocking operations, head first */
	bool op_running;            /* the head is in the thread pool */
	container_waiter *waiters;
	container_exec *execs;
	container_attach *attaches;
	int restart_delay_ms;       /* restart policy backoff */
	bool remove_after_exit;     /* rm -f or AutoRemove while running */
	bool remove_volumes;        /* rm -v: anonymous volumes go too */
	bool removing;
	bool starting;              /* a start is queued or running */
	int net_teardowns;          /* exit cleanups still to take its network down */
	bool stop_requested;        /* by the user: no restart policy */
	uv_timer_t *restart_timer;
	container_health *health;   /* probes of a running container's healthcheck */
	int refs;                   /* pending callbacks holding the struct */
	bool removed;               /* gone from the store; free when refs drop */
	berth_container *next;
};

/* Which images containers use, for the image store's 409s; rebuilt on the
 * loop at every state change, read from pool threads under the mutex. */
typedef struct usage_entry {
	char image[80];
	char container[65];
	bool running;
} usage_entry;

struct berth_container_store {
	berth_daemon *daemon;
	pthread_mutex_t usage_lock;
	usage_entry *usage;
	size_t nusage;
	char *root;                 /* <data-root>/containers */
	char *run_root;             /* <exec-root>/containers */
	char *runc_root;            /* <exec-root>/runc */
	char *shim_path;            /* berth-shim beside berthd */
	berth_container *list;
	size_t count;
	struct shutdown_wait *shutdown; /* berthd stopping its containers */
};

struct container_exec {
	char id[65];
	berth_container *c;
	json_t *config;             /* the exec create request */
	bool running;
	bool started;
	bool exited;                /* its exit is recorded */
	int exit_code;
	int pid;
	container_exec *next;
};

/* -------------------------------------------------------------- store.c */

berth_container *container_new(berth_container_store *s, const char *id, const char *name,
			       json_t *record);
int container_save(berth_container *c, berth_error **err);
/* Refreshes the image usage snapshot (container_save does it). */
void container_usage_update(berth_container_store *s);
void container_unlink(berth_container *c);
void container_ref(berth_container *c);
void container_unref(berth_container *c);
berth_container *container_by_name(berth_container_store *s, const char *name);
json_t *container_state(const berth_container *c);
bool container_running(const berth_container *c);
bool container_paused(const berth_container *c);
const char *container_status(const berth_container *c);
void container_set_state(berth_container *c, const char *status);
/* A stop or kill by the user (true) or a start (false): restart policies
 * hold off while it is set, and unless-stopped remembers it across berthd
 * restarts (the record keeps dockerd's HasBeenManuallyStopped). */
void container_set_stopped_by_user(berth_container *c, bool stopped);
/* At berthd's start: starts the stopped containers whose restart policy
 * says so, as dockerd's restore does (always; unless-stopped unless stopped
 * by the user; on-failure after a failure within its retry count). */
void container_restart_at_boot(berth_container *c);
/* The OCI runtime binary for HostConfig.Runtime (daemon.json "runtimes"),
 * or the default runtime's. */
char *container_runtime_path(berth_container_store *s, const json_t *host_config);
/* Docker's checks of a RestartPolicy object (create and update). */
int container_restart_policy_check(const json_t *rp, berth_error **err);
/* Publishes a container event with Docker's attributes (name, image, labels). */
void container_event(berth_container *c, const char *action, json_t *extra);

/* ---------------------------------------------------------------- ops.c */

/* Blocking work for one container, in order: work on a pool thread, done on
 * the loop. `data` is the operation's own state. */
typedef int (*container_work_fn)(void *data, berth_error **err);
typedef void (*container_done_fn)(berth_container *c, void *data, berth_error *work_err);
void container_op_queue(berth_container *c, container_work_fn work, container_done_fn done,
			void *data);
/* The same, at once, beside whatever the queue runs: for work that touches
 * nothing a queued operation does (or only under the other module's lock). */
void container_op_run_now(berth_container *c, container_work_fn work, container_done_fn done,
			  void *data);

/* -------------------------------------------------------------- start.c */

void container_start_queue(berth_container *c, berth_api_req *req);

/* ------------------------------------------------------------- bundle.c */

/* Writes <bundle_dir>/config.json for the record, with rootfs as root. */
int container_write_bundle(berth_container_store *s, const json_t *record, const char *rootfs,
			   const char *bundle_dir, berth_error **err);

/* ------------------------------------------------------------- attach.c */

void container_close_attaches(berth_container *c);

/* --------------------------------------------------------------- exit.c */

/* After a failed start: kill and forget the shim, unmount. */
void container_stop_shim(berth_container *c);
/* Queues a signal to the container's init (or all processes). */
void container_kill_queue(berth_container *c, int signum, berth_api_req *req);
void container_remove_queue(berth_container *c, bool volumes);
/* After a removal was answered: releases the network, mounts and dirs the
 * container still holds, in the thread pool, after what is queued. */
void container_teardown_detached(berth_container *c);

/* ------------------------------------------------------------ runtime.c */

/* Begins watching a running container's shim; on exit, container_exited. */
int container_monitor(berth_container *c, berth_error **err);
/* Holds a "wait" call open on the shim (exec_id NULL: the container); cb gets
 * the status object, or NULL when the shim went away without answering. */
typedef void (*shim_wait_cb)(void *userdata, json_t *status);
int container_shim_wait(uv_loop_t *loop, const char *shim_dir, const char *exec_id,
			shim_wait_cb cb, void *userdata, berth_error **err);
/* Sends a control command to the shim; blocking (pool threads). */
int container_shim_call(const char *shim_dir, json_t *req, json_t **reply, berth_error **err);
/* The shim's status file as it last wrote it (an empty object when it does
 * not parse); NULL when there is none (never started, or cleaned up). */
json_t *container_shim_status(const char *shim_dir);
void container_exited(berth_container *c, json_t *status);
/* berthd's exit: closes every open wait without answering it. */
void container_shim_waits_close(void);
void container_wake_waiters(berth_container *c, waiter_kind kind, int exit_code);
container_waiter *container_add_waiter(berth_container *c, waiter_kind kind, berth_api_req *req,
				       int reply_status);

/* -------------------------------------------------------------- logs.c */

/* The whole json-file history (rotated files first) as the attach stream
 * carries it: 8-byte frames, or raw with a TTY. Blocking. */
int container_logs_render(const char *log_path, bool tty, bool want_stdout, bool want_stderr,
			  berth_buf *out, berth_error **err);

/* ------------------------------------------------------------- exec.c */

/* An exec's runc process spec: the container's process (bundle_config)
 * with the exec request's Cmd, Tty, WorkingDir, Env, User, Privileged. */
int container_exec_process(const json_t *exec_config, const char *bundle_config, json_t **out,
			   berth_error **err);

/* ------------------------------------------------------------- health.c */

/* Starts probing a running container with a healthcheck (fresh: a new
 * start, Health begins "starting"; else a reconnect keeps it). */
void container_health_start(berth_container *c, bool fresh);
/* Stops probing (the container exited or goes); Health turns unhealthy. */
void container_health_stop(berth_container *c);
/* Frees what probing holds once the loop is gone (berthd's exit). */
void container_health_release(berth_container *c);

/* ------------------------------------------------------------- cgroup.c */

/* One stats sample of the container whose init is pid, in Docker's
 * /containers/{id}/stats shape (precpu_stats left zero). Blocking. */
int container_stats_sample(int pid, const char *name, const char *id, json_t **out,
			   berth_error **err);
/* The sample dockerd sends for a container that is not running. */
json_t *container_stats_empty(const char *name, const char *id);

#endif
