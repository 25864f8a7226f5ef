/*
 * container.h - containers: records, lifecycle through berth-shim, logs.
 *
 * On disk:
 *   <data-root>/containers/<id>/config.v2.json  the container's record: the
 *                          inspect document (Config, HostConfig, State, ...),
 *                          replaced atomically on every change
 *   <data-root>/containers/<id>/<id>-json.log   json-file log (the shim writes it)
 *   <data-root>/containers/<id>/{hostname,hosts,resolv.conf}
 *   <data-root>/containers/<id>/fs/             overlay upper/work/merged
 *   <exec-root>/containers/<id>/bundle/         the OCI bundle (config.json)
 *   <exec-root>/containers/<id>/shim/           the shim's state dir (shim.h)
 *
 * Threads: the store and its containers belong to the loop. Work that blocks
 * (mounting, starting the shim, runc calls, removing trees) runs in the thread
 * pool, one operation at a time per container, and reports back on the loop.
 * berthd learns that a container exited through a "wait" call it keeps open
 * on each running container's shim control socket, so a restarted berthd
 * reconnects to running containers (live restore).
 */
#ifndef BERTH_CONTAINER_H
#define BERTH_CONTAINER_H

#include "common.h"

typedef struct berth_daemon berth_daemon;
typedef struct berth_api_req berth_api_req;
typedef struct berth_container_store berth_container_store;
typedef struct berth_container berth_container;

/* Loads every record, reconnects to running containers' shims and marks
 * those whose shim is gone as exited. */
int berth_container_store_open(berth_daemon *d, berth_container_store **out, berth_error **err);
void berth_container_store_close(berth_container_store *s);

/* berthd's shutdown without live restore: every running container is
 * stopped as `docker stop` would (resumed first when paused), but not as
 * stopped by the user, so restart policies bring it back at the next start.
 * Returns false when nothing runs; else done(userdata) runs on the loop once
 * all have exited, or after their longest stop timeout plus a margin. */
bool berth_container_store_shutdown(berth_container_store *s, void (*done)(void *userdata),
				    void *userdata);

/* berthd's exit, before the loop closes its handles: the store lets go of
 * its shims (wait calls), health probes and restart timers; the containers
 * themselves keep running (live restore). */
void berth_container_store_detach(berth_container_store *s);

/* Resolves a full ID, a name ("/x" or "x") or a unique ID prefix, as dockerd
 * does. 404 "No such container: x". */
int berth_container_find(berth_container_store *s, const char *name, berth_container **out,
			 berth_error **err);
const char *berth_container_id(const berth_container *c);

/* Counts for GET /info. */
void berth_container_counts(berth_container_store *s, int *total, int *running, int *paused,
			    int *stopped);

/* POST /containers/create: body is the create request (Config with
 * HostConfig and NetworkingConfig). *id gets the new ID; *warnings an array. */
int berth_container_create(berth_container_store *s, const char *name, json_t *body,
			   char **id, json_t **warnings, berth_error **err);

/* GET /containers/json with all, limit, size and filters (JSON). */
int berth_container_list(berth_container_store *s, bool all, int64_t limit, bool size,
			 const berth_filters *filters, json_t **out, berth_error **err);
/* Answers reply (the list, or one inspect document) once SizeRw and
 * SizeRootFs are filled in (?size=1); the walks run in the pool. */
int berth_container_reply_with_sizes(berth_container_store *s, berth_api_req *req, json_t *reply);
/* GET /containers/{id}/json. */
int berth_container_inspect(berth_container_store *s, const char *name, bool size, json_t **out,
			    berth_error **err);

/*
 * Operations answered later: each takes the request, returns 0 when it has
 * taken over the reply (or replied), or -1 with *err for an error to reply.
 */
int berth_container_start(berth_container_store *s, berth_api_req *req, const char *name,
			  berth_error **err);
/* stop: signal (default the container's StopSignal), then SIGKILL after
 * timeout seconds (-1: the container's StopTimeout or 10). 304 when not running. */
int berth_container_stop(berth_container_store *s, berth_api_req *req, const char *name,
			 const char *signal, int64_t timeout, berth_error **err);
int berth_container_restart(berth_container_store *s, berth_api_req *req, const char *name,
			    const char *signal, int64_t timeout, berth_error **err);
int berth_container_kill(berth_container_store *s, berth_api_req *req, const char *name,
			 const char *signal, berth_error **err);
int berth_container_pause(berth_container_store *s, berth_api_req *req, const char *name,
			  bool pause, berth_error **err);
/* wait: condition "not-running" (default), "next-exit" or "removed". */
int berth_container_wait(berth_container_store *s, berth_api_req *req, const char *name,
			 const char *condition, berth_error **err);
/* DELETE /containers/{id}: force kills a running container first; volumes
 * removes its anonymous volumes. */
int berth_container_remove(berth_container_store *s, berth_api_req *req, const char *name,
			   bool force, bool volumes, berth_error **err);
/* POST /containers/prune: removes stopped containers matching filters
 * (until, label, label!); answers {ContainersDeleted, SpaceReclaimed}. */
int berth_container_prune(berth_container_store *s, berth_api_req *req,
			  const berth_filters *filters, berth_error **err);
int berth_container_rename(berth_container_store *s, const char *name, const char *new_name,
			   berth_error **err);
/* POST /containers/{id}/resize (TTY size). */
int berth_container_resize(berth_container_store *s, const char *name, int64_t height,
			   int64_t width, berth_error **err);

/* GET /containers/{id}/top: ps_args default "-ef". */
int berth_container_top(berth_container_store *s, berth_api_req *req, const char *name,
			const char *ps_args, berth_error **err);
/* POST /containers/{id}/update: the Resources fields dockerd updates and
 * RestartPolicy; a running container's cgroup follows (runc update). */
int berth_container_update(berth_container_store *s, berth_api_req *req, const char *name,
			   json_t *body, berth_error **err);
/* GET /containers/{id}/stats: stream (default) or one sample; one-shot
 * skips the second sample that fills precpu_stats. */
int berth_container_stats(berth_container_store *s, berth_api_req *req, const char *name,
			  berth_error **err);
/* GET /containers/{id}/logs. */
int berth_container_logs(berth_container_store *s, berth_api_req *req, const char *name,
			 berth_error **err);
/* Whether the container can be attached now (404, 409 as dockerd answers
 * before it looks at the request's upgrade). */
int berth_container_attach_check(berth_container_store *s, berth_api_req *req, const char *name,
				 berth_error **err);
/* POST /containers/{id}/attach: hijacks the connection to the shim. */
int berth_container_attach(berth_container_store *s, berth_api_req *req, const char *name,
			   berth_error **err);

/* ----------------------------------------------------------------- exec */

int berth_container_exec_create(berth_container_store *s, const char *name, json_t *body,
				char **exec_id, berth_error **err);
int berth_container_exec_start(berth_container_store *s, berth_api_req *req,
			       const char *exec_id, json_t *body, berth_error **err);
int berth_container_exec_inspect(berth_container_store *s, const char *exec_id, json_t **out,
				 berth_error **err);
int berth_container_exec_resize(berth_container_store *s, const char *exec_id, int64_t height,
				int64_t width, berth_error **err);

/* POST /networks/{id}/connect (connect true) and /disconnect: body is
 * {"Container": name, "EndpointConfig": {...}} or {"Container", "Force"}. */
int berth_container_network(berth_container_store *s, berth_api_req *req, const char *network,
			    const json_t *body, bool connect, berth_error **err);

/* Docker's signal names and numbers: "SIGTERM", "TERM", "15". 400 otherwise. */
int berth_container_signal_parse(const char *s, int *signum, berth_error **err);

/* ------------------------------------------------------- filesystem (fs.c) */

/* API handlers (engine/api/containers.c routes to them): POST /commit, GET
 * /containers/{id}/changes, GET /containers/{id}/export, and HEAD, GET and
 * PUT /containers/{id}/archive (docker cp). */
int berth_container_api_commit(berth_daemon *d, berth_api_req *req, berth_error **err);
int berth_container_api_changes(berth_daemon *d, berth_api_req *req, berth_error **err);
int berth_container_api_export(berth_daemon *d, berth_api_req *req, berth_error **err);
int berth_container_api_archive(berth_daemon *d, berth_api_req *req, berth_error **err);

/* What GET /containers/{id}/changes reports for an overlay upper dir over
 * lower dirs (top first): dockerd's [{"Path": "/x", "Kind": 0|1|2}]
 * (modified, added, deleted) in its walk order. Blocking. */
int berth_container_fs_changes(const char *upper, char *const *lowers, json_t **out,
			       berth_error **err);

#endif
