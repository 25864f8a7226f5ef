/*
 * process.c - the life of a process the shim supervises: the container's
 * init, or an exec process. Each goes created -> running (-> paused) ->
 * exited. It is finalized, and its status.json says "exited", only when it
 * was reaped and its output has ended (or 2 s later, as dockerd waits for the
 * log copier), so that the log is complete when berthd sees the exit. `runc
 * delete` cleans up the init's runtime state right after its exit is
 * told; the shim exits (and lets go of its lock) only once that is done.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shim/internal.h"

#define EOF_WAIT_MS 2000
#define CONSOLE_WAIT_MS 10000

struct shim_waiter {
	void (*cb)(void *data, shim_proc *p);
	void *data;
	shim_waiter *next;
};

static const char *status_names[] = {"created", "running", "paused", "exited"};

shim_proc *shim_proc_new(shim *s, const char *exec_id)
{
	shim_proc *p = berth_xcalloc(1, sizeof(*p));
	p->shim = s;
	p->exec_id = exec_id ? berth_xstrdup(exec_id) : NULL;
	p->dir = exec_id ? berth_xasprintf("%s/%s", BERTH_SHIM_EXEC_DIR, exec_id) : berth_xstrdup(".");
	p->created_ns = shim_now_ns();
	p->eof_timer.slot = -1;
	return p;
}

void shim_proc_free(shim_proc *p)
{
	if (p == NULL)
		return;
	shim_timer_stop(p->shim->loop, &p->eof_timer);
	shim_io_free(&p->io);
	while (p->waiters) {
		shim_waiter *w = p->waiters;
		p->waiters = w->next;
		free(w);
	}
	free(p->exec_id);
	free(p->dir);
	free(p->process_path);
	free(p->error);
	free(p);
}

/* ------------------------------------------------------------ status file */

static void put_time(json_t *j, const char *key, int64_t ns)
{
	char t[64] = "0001-01-01T00:00:00Z";
	if (ns)
		shim_time_format(ns, t, sizeof(t));
	json_object_set_new(j, key, json_string(t));
}

json_t *shim_proc_status_json(const shim_proc *p)
{
	json_t *j = json_object();
	json_object_set_new(j, "id", json_string(p->exec_id ? p->exec_id : p->shim->cfg.id));
	json_object_set_new(j, "shim_pid", json_integer(getpid()));
	json_object_set_new(j, "pid", json_integer(p->pid));
	json_object_set_new(j, "status", json_string(status_names[p->status]));
	json_object_set_new(j, "exit_code", json_integer(p->status == SHIM_EXITED ? p->exit_code : 0));
	json_object_set_new(j, "oom_killed", json_boolean(p->oom_killed));
	json_object_set_new(j, "error", json_string(p->error ? p->error : ""));
	put_time(j, "created_at", p->created_ns);
	put_time(j, "started_at", p->started_ns);
	put_time(j, "finished_at", p->finished_ns);
	return j;
}

void shim_proc_write_status(shim_proc *p)
{
	json_t *j cleanup_json = shim_proc_status_json(p);
	char *text cleanup_free = berth_json_dump(j);
	char *path cleanup_free = berth_xasprintf("%s/%s", p->dir, BERTH_SHIM_STATUS_FILE);
	berth_error *err cleanup_error = NULL;
	/* Atomic for readers, unsynced: the exec root does not outlive a boot,
	 * and berthd only needs it to outlive the shim's process. */
	if (berth_file_replace(path, text, strlen(text), 0644, false, &err) < 0)
		shim_log("%s", err->msg);
}

/* ---------------------------------------------------------------- lookup */

shim_proc *shim_find_proc(shim *s, const char *exec_id, berth_error **err)
{
	if (exec_id == NULL)
		return s->init;
	for (size_t i = 0; i < s->nexecs; i++)
		if (strcmp(s->execs[i]->exec_id, exec_id) == 0)
			return s->execs[i];
	berth_error_set(err, 404, "No such exec instance: %s", exec_id);
	return NULL;
}

void shim_proc_on_final(shim_proc *p, void (*cb)(void *data, shim_proc *p), void *data)
{
	if (p->finalized) {
		cb(data, p);
		return;
	}
	shim_waiter *w = berth_xcalloc(1, sizeof(*w));
	w->cb = cb;
	w->data = data;
	w->next = p->waiters;
	p->waiters = w;
}

static void drop_waiters(shim_proc *p, void *data)
{
	for (shim_waiter **pp = &p->waiters; *pp;) {
		shim_waiter *w = *pp;
		if (w->data == data) {
			*pp = w->next;
			free(w);
		} else {
			pp = &w->next;
		}
	}
}

void shim_proc_drop_waiters(shim *s, void *data)
{
	if (s->init)
		drop_waiters(s->init, data);
	for (size_t i = 0; i < s->nexecs; i++)
		drop_waiters(s->execs[i], data);
}

/* ------------------------------------------------------------- finishing */

static bool io_finished(const shim_proc *p)
{
	return p->finalized && p->io_done;
}

void shim_maybe_exit(shim *s)
{
	if (s->init == NULL || !io_finished(s->init))
		return;
	for (size_t i = 0; i < s->nexecs; i++)
		if (!io_finished(s->execs[i]))
			return;
	shim_loop_stop(s->loop);
}

static void on_io_finished(void *data)
{
	shim_proc *p = data;
	p->io_done = true;
	shim_maybe_exit(p->shim);
}

static void finalize(shim_proc *p);

/* The container is gone: execs that never started never will. */
static void finalize_unstarted_execs(shim *s)
{
	for (size_t i = 0; i < s->nexecs; i++) {
		shim_proc *e = s->execs[i];
		if (e->status != SHIM_CREATED || e->finalized)
			continue;
		e->exit_code = 126;
		e->error = berth_xstrdup("the container exited before the exec process started");
		e->finished_ns = shim_now_ns();
		finalize(e);
	}
}

static void finalize(shim_proc *p)
{
	if (p->finalized)
		return;
	shim *s = p->shim;
	bool init = p == s->init;
	p->finalized = true;
	shim_timer_stop(s->loop, &p->eof_timer);
	if (init) {
		shim_logfile_close(s->log);
		s->log = NULL;
		finalize_unstarted_execs(s);
	}
	p->status = SHIM_EXITED;
	shim_proc_write_status(p);
	while (p->waiters) {
		shim_waiter *w = p->waiters;
		p->waiters = w->next;
		w->cb(w->data, p);
		free(w);
	}
	/* The exit is told first, the runtime's state goes after: berthd does
	 * not wait for runc delete, and waits for this shim's exit (its lock)
	 * before it starts another for the same container. */
	if (init) {
		berth_error *err cleanup_error = NULL;
		shim_control_flush(s->control);
		if (shim_runtime_delete(s, &err) < 0)
			shim_log("runc delete: %s", err->msg);
	}
	shim_io_finish(&p->io, on_io_finished, p);
}

static void on_output_eof(void *data)
{
	shim_proc *p = data;
	if (p->reaped)
		finalize(p);
}

/* Something that is not the process (a daemonized grandchild, on a
 * container without its own PID namespace) still holds the output open. */
static void eof_timeout(shim_timer *t)
{
	shim_proc *p = t->data;
	shim_log("%s: output still open %d ms after the exit; closing it", p->dir, EOF_WAIT_MS);
	shim_io_abandon(&p->io);
	finalize(p);
}

static void record_exit(shim_proc *p, int ws)
{
	shim *s = p->shim;
	p->reaped = true;
	p->finished_ns = shim_now_ns();
	p->exit_code = WIFSIGNALED(ws) ? 128 + WTERMSIG(ws) : WEXITSTATUS(ws);
	if (p == s->init && s->oom_file) {
		int64_t n = shim_cgroup_oom_count(s->oom_file);
		p->oom_killed = n > 0 && n > s->oom_base;
	}
}

void shim_proc_reaped(shim *s, pid_t pid, int ws)
{
	shim_proc *p = NULL;
	if (s->init && s->init->pid == pid && !s->init->reaped)
		p = s->init;
	for (size_t i = 0; p == NULL && i < s->nexecs; i++)
		if (s->execs[i]->pid == pid && !s->execs[i]->reaped)
			p = s->execs[i];
	if (p == NULL)
		return; /* an orphan we adopted as subreaper */
	record_exit(p, ws);
	if (shim_io_output_done(&p->io))
		finalize(p);
	else
		shim_timer_start(s->loop, &p->eof_timer, EOF_WAIT_MS, eof_timeout, p);
}

/* ------------------------------------------------------------------ stdio */

typedef struct proc_spec {
	bool terminal;
	uid_t uid;
	gid_t gid;
} proc_spec;

/* terminal and user of an OCI process object (config.json's "process", or
 * an exec's process.json). */
static int read_spec(const char *path, bool whole_config, proc_spec *out, berth_error **err)
{
	char *data cleanup_free = NULL;
	size_t len;
	json_t *j cleanup_json = NULL;
	if (berth_file_read_all(path, &data, &len, err) < 0 ||
	    berth_json_parse_object(data, len, &j, err) < 0)
		return berth_error_wrap(err, "read %s", path);
	json_t *proc = whole_config ? json_object_get(j, "process") : j;
	if (!json_is_object(proc))
		return berth_error_set(err, 400, "%s: no process object", path);
	json_t *user = json_object_get(proc, "user");
	out->terminal = json_is_true(json_object_get(proc, "terminal"));
	out->uid = (uid_t)json_integer_value(json_object_get(user, "uid"));
	out->gid = (gid_t)json_integer_value(json_object_get(user, "gid"));
	return 0;
}

typedef struct proc_stdio {
	int child[3];           /* the process's ends of the pipes */
	int console_fd;         /* listening console socket */
	char *console_rel;
	char *console_peer;     /* the path given to runc */
} proc_stdio;

static void stdio_release(proc_stdio *st)
{
	for (int i = 0; i < 3; i++)
		if (st->child[i] >= 0)
			close(st->child[i]);
	if (st->console_fd >= 0)
		close(st->console_fd);
	if (st->console_rel)
		unlink(st->console_rel);
	free(st->console_rel);
	free(st->console_peer);
	memset(st, 0, sizeof(*st));
	st->child[0] = st->child[1] = st->child[2] = st->console_fd = -1;
}

static int stdio_prepare(shim_proc *p, const proc_spec *spec, proc_stdio *st, berth_error **err)
{
	memset(st, 0, sizeof(*st));
	st->child[0] = st->child[1] = st->child[2] = st->console_fd = -1;
	if (!spec->terminal)
		return shim_io_pipes(&p->io, st->child, spec->uid, spec->gid, err);
	st->console_rel = berth_xasprintf("%s/console.sock", p->dir);
	st->console_peer = shim_peer_path(p->shim->state_dir, st->console_rel);
	return shim_listen(st->console_rel, &st->console_fd, err);
}

/* After runc returned: the pty master has been sent. */
static int stdio_complete(shim_proc *p, proc_stdio *st, berth_error **err)
{
	if (st->console_fd < 0)
		return 0;
	int master;
	if (shim_console_receive(st->console_fd, CONSOLE_WAIT_MS, &master, err) < 0)
		return -1;
	shim_io_set_console(&p->io, master);
	return 0;
}

/* -------------------------------------------------------------- the init */

static int check_tty_flag(shim *s, const proc_spec *spec, berth_error **err)
{
	if (s->cfg.tty >= 0 && (bool)s->cfg.tty != spec->terminal)
		return berth_error_set(err, 400, "--tty%s does not match process.terminal (%s) in %s/config.json",
				       s->cfg.tty ? "" : "=false", spec->terminal ? "true" : "false",
				       s->cfg.bundle);
	return 0;
}

static int open_log(shim *s, berth_error **err)
{
	if (s->cfg.log_path == NULL)
		return 0;
	return shim_logfile_open(s->cfg.log_path, &s->cfg.log_opts, s->cfg.log_attrs, &s->log, err);
}

int shim_proc_create_init(shim *s, berth_error **err)
{
	char *config cleanup_free = berth_xasprintf("%s/config.json", s->cfg.bundle);
	proc_spec spec;
	if (read_spec(config, true, &spec, err) < 0 || check_tty_flag(s, &spec, err) < 0)
		return -1;
	shim_proc *p = s->init = shim_proc_new(s, NULL);
	shim_io_init(&p->io, s->loop, spec.terminal, s->cfg.open_stdin, s->cfg.stdin_once);
	if (open_log(s, err) < 0)
		return -1;
	p->io.log = s->log;
	if (shim_io_attach_listen(&p->io, BERTH_SHIM_ATTACH_SOCK, err) < 0)
		return -1;
	shim_proc_write_status(p);
	return 0;
}

/* ----------------------------------------------------------- exec create */

static bool valid_exec_id(const char *id)
{
	size_t n = strlen(id);
	if (n == 0 || n > 128 || id[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = id[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return false;
	}
	return true;
}

int shim_proc_exec_create(shim *s, const char *exec_id, const char *process_path, bool open_stdin,
			  bool stdin_once, berth_error **err)
{
	if (!valid_exec_id(exec_id))
		return berth_error_set(err, 400, "invalid exec id \"%s\"", exec_id);
	if (shim_find_proc(s, exec_id, NULL) != NULL)
		return berth_error_set(err, 409, "exec %s already exists", exec_id);
	if (s->init->status != SHIM_RUNNING)
		return berth_error_set(err, 409, "Container %s is not running", s->cfg.id);
	if (process_path == NULL || process_path[0] != '/')
		return berth_error_set(err, 400, "exec needs \"process\", an absolute path");
	proc_spec spec;
	if (read_spec(process_path, false, &spec, err) < 0)
		return -1;
	shim_proc *p = shim_proc_new(s, exec_id);
	p->process_path = berth_xstrdup(process_path);
	shim_io_init(&p->io, s->loop, spec.terminal, open_stdin, stdin_once);
	char *attach cleanup_free = berth_xasprintf("%s/%s", p->dir, BERTH_SHIM_ATTACH_SOCK);
	if ((mkdir(BERTH_SHIM_EXEC_DIR, 0700) < 0 && errno != EEXIST) ||
	    (mkdir(p->dir, 0700) < 0 && errno != EEXIST)) {
		berth_error_set_errno(err, errno, "mkdir %s", p->dir);
		shim_proc_free(p);
		return -1;
	}
	if (shim_io_attach_listen(&p->io, attach, err) < 0) {
		shim_proc_free(p);
		return -1;
	}
	s->execs = berth_xrealloc(s->execs, (s->nexecs + 1) * sizeof(*s->execs));
	s->execs[s->nexecs++] = p;
	shim_proc_write_status(p);
	return 0;
}

/* ------------------------------------------------------------------ start */

/* runc run --detach (the container) or runc exec --detach, with stdio
 * prepared here and the pid read back. One runc for the container where
 * create and start would take two: nothing runs before "start" but the
 * attach socket, and clients connected to it see all of the output. */
static int run_process(shim_proc *p, berth_error **err)
{
	shim *s = p->shim;
	bool init = p->exec_id == NULL;
	char *config cleanup_free = berth_xasprintf("%s/config.json", s->cfg.bundle);
	proc_spec spec;
	if (read_spec(init ? config : p->process_path, init, &spec, err) < 0)
		return -1;
	spec.terminal = p->io.tty; /* what the attach socket was set up for */
	proc_stdio st;
	char *pid_file cleanup_free = init ? berth_xasprintf("%s/init.pid", s->state_dir)
					   : berth_xasprintf("%s/%s/pid", s->state_dir, p->dir);
	const int *stdio = spec.terminal ? NULL : st.child;
	int r = stdio_prepare(p, &spec, &st, err);
	if (r == 0 && init)
		r = shim_runtime_run(s, pid_file, stdio, st.console_peer, err);
	else if (r == 0)
		r = shim_runtime_exec(s, p->process_path, pid_file, stdio, st.console_peer, err);
	for (int i = 0; i < 3; i++) {
		if (st.child[i] >= 0)
			close(st.child[i]);
		st.child[i] = -1;
	}
	if (r == 0)
		r = shim_read_pid_file(pid_file, &p->pid, err);
	if (r == 0)
		r = stdio_complete(p, &st, err);
	stdio_release(&st);
	return r;
}

static void start_failed(shim_proc *p, const berth_error *err)
{
	/* dockerd reports 126 for an exec that could not be started. */
	p->exit_code = 126;
	free(p->error);
	p->error = berth_xstrdup(err->msg);
	p->finished_ns = shim_now_ns();
	if (p->pid > 0) {
		/* it did start: its exit is reaped as usual */
		if (p->exec_id == NULL)
			kill(p->pid, SIGKILL);
		return;
	}
	/* What is in the pipes is runc's complaint, already in the error. */
	shim_io_discard(&p->io);
	finalize(p);
}

/* Whether pid is PID 1 of its own namespace (NSpid's innermost value):
 * not with --pid=host, nor in another container's namespace. */
static bool own_pid_namespace(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	char *data cleanup_free = NULL;
	if (berth_file_read_all(path, &data, NULL, NULL) < 0)
		return false;
	const char *line = strstr(data, "\nNSpid:");
	if (line == NULL)
		return false;
	/* one PID per namespace, outermost first: "NSpid: 4242 1" */
	char *p = (char *)line + 7, *end;
	long n = 0, last = 0;
	for (long v; (v = strtol(p, &end, 10)), end != p; p = end, n++)
		last = v;
	return n >= 2 && last == 1;
}

int shim_proc_start(shim_proc *p, berth_error **err)
{
	shim *s = p->shim;
	if (p->status != SHIM_CREATED)
		return berth_error_set(err, 409, "%s has already been started",
				       p->exec_id ? "the exec process" : "the container");
	if (p->reaped || p->finalized || (p->exec_id && s->init->status != SHIM_RUNNING))
		return berth_error_set(err, 409, "Container %s is not running", s->cfg.id);
	if (p->io.attach)
		shim_attach_sync(p->io.attach);
	if (run_process(p, err) < 0) {
		start_failed(p, *err);
		return -1;
	}
	if (p->exec_id == NULL) {
		s->oom_file = shim_cgroup_oom_file(p->pid);
		s->oom_base = shim_cgroup_oom_count(s->oom_file);
		s->own_pidns = own_pid_namespace(p->pid);
	}
	shim_io_start(&p->io, on_output_eof, p);
	p->started_ns = shim_now_ns();
	p->status = SHIM_RUNNING;
	shim_proc_write_status(p);
	return 0;
}

/* ---------------------------------------------------------- kill, pause */

/* SIGKILL to the init of a PID namespace of its own ends every process in
 * it, as `runc kill --all` would, without running runc. */
static bool kills_namespace(const shim_proc *p, int sig)
{
	return sig == SIGKILL && p == p->shim->init && p->shim->own_pidns;
}

int shim_proc_kill(shim_proc *p, int sig, bool all, berth_error **err)
{
	if (p == p->shim->init && p->status == SHIM_CREATED && p->pid <= 0 && !p->finalized) {
		/* nothing runs before "start": the container ends as if the
		 * signal had killed it */
		if (sig <= 0 || sig >= NSIG)
			return berth_error_set(err, 400, "invalid signal %d", sig);
		p->exit_code = 128 + sig;
		p->finished_ns = shim_now_ns();
		shim_io_discard(&p->io);
		finalize(p);
		return 0;
	}
	if (p->reaped || p->status == SHIM_EXITED || p->pid <= 0)
		return berth_error_set(err, 409, "%s is not running",
				       p->exec_id ? "the exec process" : "the container");
	if (sig <= 0 || sig >= NSIG)
		return berth_error_set(err, 400, "invalid signal %d", sig);
	if (all && p->exec_id)
		return berth_error_set(err, 400, "\"all\" is for the container only");
	/* A frozen process does not die until thawed: runc thaws the cgroup
	 * for SIGKILL. */
	if ((all && !kills_namespace(p, sig)) || p->status == SHIM_PAUSED) {
		if (shim_runtime_kill(p->shim, sig, all, err) < 0)
			return -1;
		if (sig == SIGKILL && p->status == SHIM_PAUSED) {
			p->status = SHIM_RUNNING;
			shim_proc_write_status(p);
		}
		return 0;
	}
	/* We are the only reaper of pid, so it cannot have been recycled. */
	if (kill(p->pid, sig) < 0)
		return berth_error_set_errno(err, errno, "kill %d", (int)p->pid);
	return 0;
}

int shim_proc_pause(shim_proc *p, bool pause, berth_error **err)
{
	if (p->exec_id)
		return berth_error_set(err, 400, "pause and resume are for the container only");
	shim_status want = pause ? SHIM_RUNNING : SHIM_PAUSED;
	if (p->status != want || p->reaped)
		return berth_error_set(err, 409, "Container %s is %s", p->shim->cfg.id,
				       pause ? (p->status == SHIM_PAUSED ? "already paused" : "not running")
					     : "not paused");
	if (shim_runtime_simple(p->shim, pause ? "pause" : "resume", err) < 0)
		return -1;
	p->status = pause ? SHIM_PAUSED : SHIM_RUNNING;
	shim_proc_write_status(p);
	return 0;
}

/* The shim is the subreaper: every child that ended (ours and the orphans
 * reparented to us) is collected here, from the SIGCHLD watch and after runc
 * calls that may have raced with an exit. */
void shim_reap_children(shim *s)
{
	int ws;
	pid_t pid;
	while ((pid = waitpid(-1, &ws, WNOHANG)) > 0)
		shim_proc_reaped(s, pid, ws);
}
