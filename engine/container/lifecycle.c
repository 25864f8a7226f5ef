/* lifecycle.c - stop, restart, kill, pause, wait, remove, rename, resize. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/image/image.h"
#include "engine/network/network.h"
#include "engine/volume/volume.h"
#include "internal.h"

int berth_container_signal_parse(const char *s, int *signum, berth_error **err)
{
	static const struct {
		const char *name;
		int num;
	} sigs[] = {
		{"HUP", SIGHUP},   {"INT", SIGINT},	{"QUIT", SIGQUIT}, {"ILL", SIGILL},
		{"TRAP", SIGTRAP}, {"ABRT", SIGABRT},	{"BUS", SIGBUS},   {"FPE", SIGFPE},
		{"KILL", SIGKILL}, {"USR1", SIGUSR1},	{"SEGV", SIGSEGV}, {"USR2", SIGUSR2},
		{"PIPE", SIGPIPE}, {"ALRM", SIGALRM},	{"TERM", SIGTERM}, {"STKFLT", SIGSTKFLT},
		{"CHLD", SIGCHLD}, {"CONT", SIGCONT},	{"STOP", SIGSTOP}, {"TSTP", SIGTSTP},
		{"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},	{"URG", SIGURG},   {"XCPU", SIGXCPU},
		{"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF}, {"WINCH", SIGWINCH},
		{"IO", SIGIO},	   {"PWR", SIGPWR},	{"SYS", SIGSYS},
	};
	char *end;
	long n = strtol(s, &end, 10);
	if (*s && *end == '\0') {
		if (n <= 0 || n > 64)
			return berth_error_set(err, 400, "Invalid signal: %s", s);
		*signum = (int)n;
		return 0;
	}
	const char *name = strncasecmp(s, "SIG", 3) == 0 ? s + 3 : s;
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(sigs); i++) {
		if (strcasecmp(name, sigs[i].name) == 0) {
			*signum = sigs[i].num;
			return 0;
		}
	}
	return berth_error_set(err, 400, "Invalid signal: %s", s);
}

static int stop_signal(berth_container *c, const char *given, int *signum, berth_error **err)
{
	const char *sig = given && *given ? given
					 : berth_json_string(json_object_get(c->record, "Config"), "StopSignal");
	if (sig == NULL || *sig == '\0') {
		*signum = SIGTERM;
		return 0;
	}
	return berth_container_signal_parse(sig, signum, err);
}

static void stop_timeout_fired(uv_timer_t *t)
{
	container_waiter *w = t->data;
	if (container_running(w->c))
		container_kill_queue(w->c, SIGKILL, NULL);
}

/* Sends the stop signal and arms SIGKILL; `w` is answered at exit. */
static int stop_begin(berth_container *c, container_waiter *w, const char *signal,
		      int64_t timeout, bool by_user, berth_error **err)
{
	int signum;
	if (stop_signal(c, signal, &signum, err) < 0)
		return -1;
	if (timeout < 0) {
		json_t *t = json_object_get(json_object_get(c->record, "Config"), "StopTimeout");
		timeout = json_is_integer(t) ? json_integer_value(t) : 10;
	}
	if (by_user)
		container_set_stopped_by_user(c, true);
	else
		c->stop_requested = true; /* berthd's shutdown: no policy restart now */
	if (timeout >= 0) {
		w->timer = berth_xmalloc(sizeof(uv_timer_t));
		uv_timer_init(c->store->daemon->loop, w->timer);
		w->timer->data = w;
		uv_timer_start(w->timer, stop_timeout_fired, (uint64_t)timeout * 1000, 0);
	}
	container_kill_queue(c, timeout == 0 ? SIGKILL : signum, NULL);
	return 0;
}

static void stopped_event(berth_container *c, container_waiter *w, int exit_code)
{
	container_event(c, "stop", NULL);
	berth_api_req *req = w->hold ? berth_api_hold_req(w->hold) : NULL;
	if (req)
		berth_api_reply_empty(req, 204);
}

int berth_container_stop(berth_container_store *s, berth_api_req *req, const char *name,
			 const char *signal, int64_t timeout, berth_error **err)
{
	berth_container *c;
	if (berth_container_find(s, name, &c, err) < 0)
		return -1;
	if (c->restart_timer) { /* restarting: stopping just cancels it */
		container_set_stopped_by_user(c, true);
		container_set_state(c, "exited");
		container_save(c, NULL);
		return berth_api_reply_empty(req, 204);
	}
	if (!container_running(c))
		return berth_api_reply_empty(req, 304);
	container_waiter *w = container_add_waiter(c, WAIT_EXIT, req, 204);
	w->fn = stopped_event;
	return stop_begin(c, w, signal, timeout, true, err);
}

static void restart_after_stop(berth_container *c, container_waiter *w, int exit_code)
{
	container_event(c, "stop", NULL);
	berth_api_req *req = w->hold ? berth_api_hold_req(w->hold) : NULL;
	container_start_queue(c, req);
	container_event(c, "restart", NULL);
}

int berth_container_restart(berth_container_store *s, berth_api_req *req, const char *name,
			    const char *signal, int64_t timeout, berth_error **err)
{
	berth_container *c;
	if (berth_container_find(s, name, &c, err) < 0)
		return -1;
	if (!container_running(c)) {
		container_start_queue(c, req);
		container_event(c, "restart", NULL);
		return 0;
	}
	container_waiter *w = container_add_waiter(c, WAIT_EXIT, req, 204);
	w->fn = restart_after_stop;
	return stop_begin(c, w, signal, timeout, true, err);
}

int berth_container_kill(berth_container_store *s, berth_api_req *req, const char *name,
			 const char *signal, berth_error **err)
{
	berth_container *c;
	if (berth_container_find(s, name, &c, err) < 0)
		return -1;
	int signum = SIGKILL;
	if (signal && *signal && berth_container_signal_parse(signal, &signum, err) < 0)
		return -1;
	if (!container_running(c))
		return berth_error_set(err, 409, "Cannot kill container: %s: Container %s is not running",
				       name, c->id);
	char num[16];
	snprintf(num, sizeof(num), "%d", signum);
	container_event(c, "kill", json_pack("{s:s}", "signal", num));
	if (signum != SIGKILL) {
		container_kill_queue(c, signum, req);
		return 0;
	}
	/* SIGKILL is answered once the container has exited, as dockerd's
	 * Kill does: `kill` then `rm` (compose kill; compose rm) must not find
	 * it still running */
	container_set_stopped_by_user(c, true);
	container_add_waiter(c, WAIT_EXIT, req, 204);
	container_kill_queue(c, signum, NULL);
	return 0;
}

typedef struct pause_job {
	char *shim_dir;
	bool pause;
	berth_api_hold *hold;
} pause_job;

static int pause_work(void *data, berth_error **err)
{
	pause_job *j = data;
	json_t *req cleanup_json = json_pack("{s:s}", "cmd", j->pause ? "pause" : "resume");
	return container_shim_call(j->shim_dir, req, NULL, err);
}

static void pause_done(berth_container *c, void *data, berth_error *work_err)
{
	pause_job *j = data;
	berth_api_req *req = berth_api_hold_req(j->hold);
	if (work_err == NULL) {
		container_set_state(c, j->pause ? "paused" : "running");
		container_save(c, NULL);
		container_event(c, j->pause ? "pause" : "unpause", NULL);
	}
	if (req && work_err)
		berth_api_reply_error(req, work_err);
	else if (req)
		berth_api_reply_empty(req, 204);
	berth_api_hold_free(j->hold);
	free(j->shim_dir);
	free(j);
}

static pause_job *pause_job_new(berth_container *c, bool pause, berth_api_req *req)
{
	pause_job *j = berth_xcalloc(1, sizeof(*j));
	j->shim_dir = berth_xstrdup(c->shim_dir);
	j->pause = pause;
	j->hold = req ? berth_api_hold_new(req) : NULL;
	return j;
}

int berth_container_pause(berth_container_store *s, berth_api_req *req, const char *name,
			  bool pause, berth_error **err)
{
	berth_container *c;
	if (berth_container_find(s, name, &c, err) < 0)
		return -1;
	if (!container_running(c))
		return berth_error_set(err, 409, "Container %s is not running", c->id);
	if (pause && container_paused(c))
		return berth_error_set(err, 409, "Container %s is already paused", c->id);
	if (!pause && !container_paused(c))
		return berth_error_set(err, 409, "Container %s is not paused", c->id);
	container_op_queue(c, pause_work, pause_done, pause_job_new(c, pause, req));
	return 0;
}

int berth_container_wait(berth_container_store *s, berth_api_req *req, const char *name,
			 const char *condition, berth_error **err)
{
	berth_container *c;
	if (berth_container_find(s, name, &c, err) < 0)
		return -1;
	waiter_kind kind = WAIT_NOT_RUNNING;
	if (condition && strcmp(condition, "next-exit") == 0)
		kind = WAIT_EXIT;
	else if (condition && strcmp(condition, "removed") == 0)
		kind = WAIT_REMOVED;
	else if (condition && *condition && strcmp(condition, "not-running") != 0)
		return berth_error_set(err, 400, "invalid condition: \"%s\"", condition);
	if (kind == WAIT_NOT_RUNNING && !container_running(c) && !c->restart_timer) {
		json_t *st = container_state(c);
		return berth_api_reply_json(req, 200, json_pack("{s:O, s:n}", "StatusCode",
								 json_object_get(st, "ExitCode"), "Error"));
	}
	container_add_waiter(c, kind, req, 0);
	return 0;
}

/* ---------------------------------------------------------------- remove */

typedef struct prune_batch prune_batch;

typedef struct remove_job {
	char *dir, *shim_dir;
	char id[65];
	berth_volume_store *volumes;
	bool remove_volumes;
	berth_api_hold *hold;
	prune_batch *batch;         /* a prune waiting for this removal */
	int64_t size_rw;            /* measured for prune before removal */
	bool failed;
} remove_job;

static void prune_removed(prune_batch *b, const char *id, bool ok, int64_t size);

/* Whether the shim's status says the container may run: a start queued
 * before the removal (a restart policy) may have brought it up again. */
static bool shim_may_run(const char *shim_dir)
{
	json_t *st cleanup_json = container_shim_status(shim_dir);
	if (st == NULL)
		return false; /* never started, or cleaned up */
	return strcmp(berth_json_string(st, "status") ?: "", "exited") != 0;
}

static void remove_stop_leftovers(remove_job *j)
{
	json_t *kill cleanup_json = json_pack("{s:s, s:i, s:b}", "cmd", "kill", "signal", 9, "all", true);
	if (container_shim_call(j->shim_dir, kill, NULL, NULL) == 0) {
		json_t *wait cleanup_json = json_pack("{s:s}", "cmd", "wait");
		container_shim_call(j->shim_dir, wait, NULL, NULL);
	}
}

/* The removal proper: what `docker rm` promises when it returns (the record
 * and, with -v, the anonymous volumes gone). Unmounting the root and
 * deleting the files come after the answer (container_teardown_detached). */
static int remove_work(void *data, berth_error **err)
{
	remove_job *j = data;
	berth_error *verr cleanup_error = NULL;
	if (shim_may_run(j->shim_dir))
		remove_stop_leftovers(j);
	if (j->batch) {
		char *upper cleanup_free = berth_xasprintf("%s/fs/upper", j->dir);
		j->size_rw = berth_dir_usage(upper);
	}
	berth_volume_unmount(j->volumes, j->id);
	if (berth_volume_release(j->volumes, j->id, j->remove_volumes, &verr) < 0)
		berth_warn("container %s: %s", j->id, verr->msg);
	/* Without its record the dir is a leftover: a berthd that stops before
	 * the teardown is done finishes it at its next start. */
	char *record cleanup_free = berth_xasprintf("%s/" CONTAINER_RECORD, j->dir);
	char *removing cleanup_free = berth_xasprintf("%s/" CONTAINER_REMOVING_RECORD, j->dir);
	if (rename(record, removing) < 0 && errno != ENOENT)
		return berth_error_set_errno(err, errno, "remove %s", record);
	return 0;
}

static void remove_job_free(remove_job *j)
{
	if (j->batch)
		prune_removed(j->batch, j->id, !j->failed, j->size_rw);
	berth_api_hold_free(j->hold);
	free(j->dir);
	free(j->shim_dir);
	free(j);
}

/* What a finished removal tells: the destroy event, the waiters, the answer.
 * Unmounting the root and deleting the files come after it. */
static void remove_finish(berth_container *c, remove_job *j)
{
	berth_api_req *req = j->hold ? berth_api_hold_req(j->hold) : NULL;
	container_event(c, "destroy", NULL);
	int code = (int)json_integer_value(json_object_get(container_state(c), "ExitCode"));
	container_wake_waiters(c, WAIT_REMOVED, code);
	if (req)
		berth_api_reply_empty(req, 204);
	container_teardown_detached(c);
	container_unlink(c);
}

/* A container's network goes before the removal is answered, as with
 * dockerd: `docker rm -f web && docker run -p 80:80 ...` must find the
 * port's rules and the namespace gone. */
typedef struct net_teardown_job {
	berth_network_sandbox *net;
	remove_job *removal;
} net_teardown_job;

static int net_teardown_work(void *data, berth_error **err)
{
	berth_network_teardown(((net_teardown_job *)data)->net);
	return 0;
}

static void net_teardown_done(berth_container *c, void *data, berth_error *work_err)
{
	net_teardown_job *n = data;
	berth_network_sandbox_free(n->net);
	remove_finish(c, n->removal);
	remove_job_free(n->removal);
	free(n);
}

static void net_teardown_queue(berth_container *c, berth_network_sandbox *net, remove_job *j)
{
	net_teardown_job *n = berth_xcalloc(1, sizeof(*n));
	n->net = net;
	n->removal = j;
	container_op_run_now(c, net_teardown_work, net_teardown_done, n);
}

static void remove_done(berth_container *c, void *data, berth_error *work_err)
{
	remove_job *j = data;
	berth_api_req *req = j->hold ? berth_api_hold_req(j->hold) : NULL;
	if (work_err) {
		j->failed = true;
		c->removing = false;
		container_set_state(c, "dead");
		container_save(c, NULL);
		if (req)
			berth_api_reply_error(req, work_err);
	} else {
		berth_network_sandbox *net =
			berth_network_release(c->store->daemon->networks, c->record);
		if (net) {
			net_teardown_queue(c, net, j);
			return;
		}
		remove_finish(c, j);
	}
	remove_job_free(j);
}

static void remove_queue_for(berth_container *c, berth_api_req *req, bool volumes,
			     prune_batch *batch)
{
	remove_job *j = berth_xcalloc(1, sizeof(*j));
	snprintf(j->id, sizeof(j->id), "%s", c->id);
	j->volumes = c->store->daemon->volumes;
	j->shim_dir = berth_xstrdup(c->shim_dir);
	j->remove_volumes = volumes;
	j->dir = berth_xstrdup(c->dir);
	j->hold = req ? berth_api_hold_new(req) : NULL;
	j->batch = batch; /* before the queue: the work may start at once */
	/* Nothing to stop: the removal need not wait for the exit's cleanup
	 * (unmounting, runc delete) still in the queue; its own teardown
	 * queues behind that. A start in flight goes first, and so does an
	 * exit's network teardown: rm answers with the ports released. */
	if (!container_running(c) && !c->starting && c->net_teardowns == 0)
		container_op_run_now(c, remove_work, remove_done, j);
	else
		container_op_queue(c, remove_work, remove_done, j);
}

void container_remove_queue(berth_container *c, bool volumes)
{
	remove_queue_for(c, NULL, volumes, NULL);
}

static void remove_after_kill(berth_container *c, container_waiter *w, int exit_code)
{
	berth_api_req *req = w->hold ? berth_api_hold_req(w->hold) : NULL;
	remove_queue_for(c, req, c->remove_volumes, NULL);
}

int berth_container_remove(berth_container_store *s, berth_api_req *req, const char *name,
			   bool force, bool volumes, berth_error **err)
{
	berth_container *c;
	if (berth_container_find(s, name, &c, err) < 0)
		return -1;
	if (c->removing)
		return berth_error_set(err, 409, "removal of container %s is already in progress", name);
	if (container_paused(c) && !force)
		return berth_error_set(err, 409, "cannot remove container \"%s\": container is paused "
						 "and must be unpaused first", name);
	if (container_running(c) && !force)
		return berth_error_set(err, 409, "cannot remove container \"%s\": container is running: "
						 "stop the container before removing or force remove", name);
	c->removing = true;
	c->stop_requested = true;
	c->remove_volumes = volumes;
	if (c->restart_timer) {
		uv_timer_stop(c->restart_timer);
		uv_close((uv_handle_t *)c->restart_timer, (uv_close_cb)free);
		c->restart_timer = NULL;
		container_unref(c);
	}
	container_close_attaches(c);
	if (container_running(c)) {
		container_waiter *w = container_add_waiter(c, WAIT_EXIT, req, 204);
		w->fn = remove_after_kill;
		container_kill_queue(c, SIGKILL, NULL);
		return 0;
	}
	remove_queue_for(c, req, volumes, NULL);
	return 0;
}

/* -------------------------------------------------------------- shutdown */

typedef struct shutdown_wait {
	int pending;
	uv_timer_t timer;           /* the last resort: a shim that never answers */
	void (*done)(void *);
	void *userdata;
} shutdown_wait;

static void shutdown_freed(uv_handle_t *h)
{
	free(h->data);
}

static void shutdown_finish(shutdown_wait *sw)
{
	void (*done)(void *) = sw->done;
	sw->done = NULL;
	if (done) {
		uv_timer_stop(&sw->timer);
		done(sw->userdata);
	}
	if (sw->pending == 0)
		uv_close((uv_handle_t *)&sw->timer, shutdown_freed);
}

static void shutdown_container_exited(berth_container *c, container_waiter *w, int exit_code)
{
	shutdown_wait *sw = w->c->store->shutdown;
	container_event(c, "stop", NULL);
	if (--sw->pending == 0)
		shutdown_finish(sw);
}

static void shutdown_timeout(uv_timer_t *t)
{
	berth_warn("containers still running at the end of the shutdown timeout");
	shutdown_finish(t->data);
}

bool berth_container_store_shutdown(berth_container_store *s, void (*done)(void *userdata),
				    void *userdata)
{
	shutdown_wait *sw = berth_xcalloc(1, sizeof(*sw));
	sw->done = done;
	sw->userdata = userdata;
	s->shutdown = sw;
	int64_t longest = 10;
	for (berth_container *c = s->list; c; c = c->next) {
		if (!container_running(c) || c->removing)
			continue;
		if (container_paused(c))
			container_op_queue(c, pause_work, pause_done,
					   pause_job_new(c, false, NULL));
		json_t *t = json_object_get(json_object_get(c->record, "Config"), "StopTimeout");
		if (json_is_integer(t) && json_integer_value(t) > longest)
			longest = json_integer_value(t);
		container_waiter *w = container_add_waiter(c, WAIT_EXIT, NULL, 0);
		w->fn = shutdown_container_exited;
		sw->pending++;
		if (stop_begin(c, w, NULL, -1, false, NULL) < 0)
			container_kill_queue(c, SIGKILL, NULL); /* a bad StopSignal */
	}
	if (sw->pending == 0) {
		s->shutdown = NULL;
		free(sw);
		return false;
	}
	uv_timer_init(s->daemon->loop, &sw->timer);
	sw->timer.data = sw;
	uv_timer_start(&sw->timer, shutdown_timeout, (uint64_t)(longest + 5) * 1000, 0);
	return true;
}

/* ----------------------------------------------------------------- prune */

/* One POST /containers/prune: answered when its last removal is done. */
struct prune_batch {
	berth_container_store *store;
	berth_api_hold *hold;
	int pending;
	json_t *deleted;
	int64_t reclaimed;
};

static void prune_finish(prune_batch *b)
{
	char reclaimed[32];
	snprintf(reclaimed, sizeof(reclaimed), "%lld", (long long)b->reclaimed);
	berth_events_publish(b->store->daemon->events, "container", "prune", "",
			     json_pack("{s:s}", "reclaimed", reclaimed));
	berth_api_req *req = berth_api_hold_req(b->hold);
	if (req)
		berth_api_reply_json(req, 200, json_pack("{s:O, s:I}", "ContainersDeleted", b->deleted,
							 "SpaceReclaimed", (json_int_t)b->reclaimed));
	berth_api_hold_free(b->hold);
	json_decref(b->deleted);
	free(b);
}

static void prune_removed(prune_batch *b, const char *id, bool ok, int64_t size)
{
	if (ok) {
		json_array_append_new(b->deleted, json_string(id));
		b->reclaimed += size;
	}
	if (--b->pending == 0)
		prune_finish(b);
}

static bool prune_matches(berth_container *c, const berth_filters *f, int64_t until_ns)
{
	if (container_running(c) || container_paused(c) || c->removing || c->restart_timer)
		return false;
	const json_t *labels = json_object_get(json_object_get(c->record, "Config"), "Labels");
	if (!berth_filters_match_labels(f, "label", labels))
		return false;
	char *const *not = berth_filters_get(f, "label!");
	for (size_t i = 0; not && not[i]; i++) {
		berth_filters *one cleanup_filters = berth_filters_new();
		berth_filters_add(one, "label", not[i]);
		if (berth_filters_match_labels(one, "label", labels))
			return false;
	}
	if (until_ns > 0) {
		int64_t created = 0;
		berth_time_parse(berth_json_string(c->record, "Created") ?: "0", 0, &created, NULL);
		if (created >= until_ns)
			return false;
	}
	return true;
}

int berth_container_prune(berth_container_store *s, berth_api_req *req,
			  const berth_filters *filters, berth_error **err)
{
	static const char *const keys[] = {"until", "label", "label!", NULL};
	if (berth_filters_validate(filters, keys, err) < 0)
		return -1;
	int64_t until_ns = 0;
	char *const *until = berth_filters_get(filters, "until");
	if (until && until[0] && berth_time_parse(until[0], berth_time_now_ns(), &until_ns, err) < 0)
		return -1;
	prune_batch *b = berth_xcalloc(1, sizeof(*b));
	b->store = s;
	b->hold = berth_api_hold_new(req);
	b->deleted = json_array();
	b->pending = 1; /* this loop's own, so that no removal finishes the batch early */
	for (berth_container *c = s->list; c; c = c->next) {
		if (!prune_matches(c, filters, until_ns))
			continue;
		c->removing = true;
		c->stop_requested = true;
		b->pending++;
		remove_queue_for(c, NULL, false, b);
	}
	if (--b->pending == 0)
		prune_finish(b);
	return 0;
}

int berth_container_rename(berth_container_store *s, const char *name, const char *new_name,
			   berth_error **err)
{
	berth_container *c;
	if (berth_container_find(s, name, &c, err) < 0)
		return -1;
	if (new_name == NULL || *new_name == '\0')
		return berth_error_set(err, 400, "Neither old nor new names may be empty");
	const char *nn = *new_name == '/' ? new_name + 1 : new_name;
	if (strcmp(nn, c->name) == 0)
		return berth_error_set(err, 400, "Renaming a container with the same name as its current name");
	berth_container *other = container_by_name(s, nn);
	if (other)
		return berth_error_set(err, 409, "Error when allocating new name: Conflict. The container "
						 "name \"/%s\" is already in use by container \"%s\". You have "
						 "to remove (or rename) that container to be able to reuse that "
						 "name.", nn, other->id);
	char *old = c->name;
	c->name = berth_xstrdup(nn);
	char *full cleanup_free = berth_xasprintf("/%s", nn);
	json_object_set_new(c->record, "Name", json_string(full));
	if (container_save(c, err) < 0) {
		free(c->name);
		c->name = old;
		return -1;
	}
	container_event(c, "rename", json_pack("{s:s}", "oldName", old));
	free(old);
	return 0;
}

int berth_container_resize(berth_container_store *s, const char *name, int64_t height,
			   int64_t width, berth_error **err)
{
	berth_container *c;
	if (berth_container_find(s, name, &c, err) < 0)
		return -1;
	if (!container_running(c))
		return berth_error_set(err, 409, "Container %s is not running", c->id);
	json_t *req cleanup_json = json_pack("{s:s, s:I, s:I}", "cmd", "resize", "height",
					     (json_int_t)height, "width", (json_int_t)width);
	/* a local socket round trip: the shim answers at once */
	if (container_shim_call(c->shim_dir, req, NULL, err) < 0)
		return -1;
	container_event(c, "resize", json_pack("{s:I, s:I}", "height", (json_int_t)height, "width",
					      (json_int_t)width));
	return 0;
}
