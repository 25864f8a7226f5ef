/*
 * engine.h - berthd: the daemon object, its configuration and its event bus.
 *
 * One berth_daemon exists per process. It owns the libuv loop everything runs
 * on, the configuration (flags merged with daemon.json), the event bus every
 * module publishes state changes to, and each module's store (images,
 * containers, ...). API handlers (engine/api/) receive it as their first
 * argument.
 */
#ifndef BERTH_ENGINE_H
#define BERTH_ENGINE_H

#include <uv.h>

#include "common.h"

typedef struct berth_events berth_events;
typedef struct berth_server berth_server;

/* --------------------------------------------------------- configuration */

typedef struct berth_config {
	char **hosts;           /* -H values: unix:///p, tcp://h:p, fd:// */
	size_t nhosts;
	char *data_root;        /* --data-root, survives reboots */
	char *exec_root;        /* --exec-root, runtime state (sockets, pids) */
	char *pidfile;
	char *group;            /* group owning the UNIX sockets */
	char *config_file;      /* --config-file (daemon.json) */
	berth_log_level log_level;
	bool debug;
	bool experimental;
	bool live_restore;
	bool tls, tlsverify, insecure_tcp;
	char *tlscacert, *tlscert, *tlskey;
	char *default_runtime;
	json_t *runtimes;       /* {"runc": {"path": "runc"}, ...} */
	json_t *labels;         /* array of "k=v" */
	char *cgroup_driver;    /* cgroupfs or systemd (exec-opts native.cgroupdriver) */
	int64_t max_concurrent_downloads;
	int64_t max_concurrent_uploads;
	json_t *network;        /* bridge, bip, mtu, iptables, dns, pools... */
	json_t *file;           /* daemon.json as read, for keys modules read later */
} berth_config;

/* Parses argv like dockerd and merges --config-file. Prints help/version and
 * sets *exit_now when asked to. Errors are 400 with dockerd's wording. */
int berth_config_parse(int argc, char **argv, berth_config **out, bool *exit_now,
		       berth_error **err);
/* Reads a daemon.json; unknown keys and keys also given as flags are errors
 * naming them, as dockerd reports them. `flags_set` lists the daemon.json
 * names of the flags given on the command line. */
int berth_config_load_file(berth_config *cfg, const char *path, char *const *flags_set,
			   berth_error **err);
/* SIGHUP: re-reads the config file and applies the keys dockerd reloads
 * (debug, log-level, labels, runtimes, max-concurrent-*). */
int berth_config_reload(berth_config *cfg, berth_error **err);
void berth_config_free(berth_config *cfg);

/* -------------------------------------------------------------- events */

/*
 * The in-process event bus. Messages are Docker's EventMessage objects:
 *   {"Type":"container","Action":"start","Actor":{"ID":..,"Attributes":{..}},
 *    "scope":"local","time":SECS,"timeNano":NANOS}
 * (plus the legacy "status"/"id"/"from" for container and image events). The
 * bus keeps the last `history` messages so /events?since= can replay them.
 */
typedef void (*berth_events_cb)(const json_t *msg, void *userdata);
typedef struct berth_events_sub berth_events_sub;

berth_events *berth_events_new(size_t history);
void berth_events_free(berth_events *bus);
/* Publishes an event; takes the reference to attributes (may be NULL). */
void berth_events_publish(berth_events *bus, const char *type, const char *action,
			  const char *actor_id, json_t *attributes);
berth_events_sub *berth_events_subscribe(berth_events *bus, berth_events_cb cb, void *userdata);
void berth_events_unsubscribe(berth_events *bus, berth_events_sub *sub);
/* Calls cb for each remembered message with since_ns <= time <= until_ns. */
void berth_events_replay(berth_events *bus, int64_t since_ns, int64_t until_ns,
			 berth_events_cb cb, void *userdata);
size_t berth_events_listeners(const berth_events *bus);

/* -------------------------------------------------------------- daemon */

struct berth_daemon {
	uv_loop_t *loop;
	berth_config *config;
	berth_events *events;
	berth_server *server;
	char id[65];            /* engine ID, kept in the data root */
	char *hostname;
	int64_t started_ns;
	int lock_fd;            /* holds the data root's lock */
	bool stopping;          /* SIGTERM/SIGINT seen: shutting down */
	json_t *version;        /* GET /version body, computed once */
	json_t *info_static;    /* the parts of GET /info that never change */
	void *signals;          /* daemon.c's signal handles */
	struct berth_image_store *images; /* engine/image */
	struct berth_volume_store *volumes; /* engine/volume */
	struct berth_container_store *containers; /* engine/container */
	struct berth_network_store *networks; /* engine/network */
};

typedef struct berth_daemon berth_daemon;

/* Opens the data root (lock, engine ID), creates the loop, the event bus and
 * the stores, and starts listening. */
int berth_daemon_start(berth_config *cfg, berth_daemon **out, berth_error **err);
/* Runs the loop until SIGTERM/SIGINT. */
int berth_daemon_run(berth_daemon *d, berth_error **err);
void berth_daemon_free(berth_daemon *d);

/* -------------------------------------------------------------- server */

/* Listens on every configured host; see engine/server.c. */
int berth_server_start(berth_daemon *d, berth_server **out, berth_error **err);
/* Stops accepting and closes connections. */
void berth_server_stop(berth_server *s);
/* Releases h2o's context; the loop must still run afterwards so that the
 * handles it closes are done before berth_server_free. */
void berth_server_dispose(berth_server *s);
void berth_server_free(berth_server *s);

#endif
