/*
 * compose.h - `berth compose`: the Compose Specification, client side.
 *
 * Like Docker Compose v2, this is a client library: it loads Compose files
 * into one canonical model (a JSON tree shaped like `docker compose config
 * --format json`), and drives any Docker Engine API (berthd or dockerd)
 * through common/'s berth_client. It never reaches into engine/.
 *
 * Loading follows Compose: files found in the working directory or its
 * parents (or -f / COMPOSE_FILE), .env or --env-file, interpolation, the
 * merge of override files, extends, profiles, then validation with errors
 * that name the file, the line and the field.
 *
 * Objects in the engine carry Compose v2's names (PROJECT-SERVICE-N,
 * PROJECT_default, PROJECT_VOLUME) and labels (com.docker.compose.*), so that
 * Docker Compose v2 and berth compose manage each other's projects.
 */
#ifndef BERTH_COMPOSE_H
#define BERTH_COMPOSE_H

#include <stdio.h>

#include "common.h"

/* ------------------------------------------------------------- the model */

typedef struct berth_compose_options {
	const char *const *files;     /* -f, in order; "-" is stdin; NULL-terminated or NULL */
	const char *project_name;     /* -p */
	const char *project_dir;      /* --project-directory */
	const char *const *env_files; /* --env-file, NULL-terminated or NULL */
	const char *const *profiles;  /* --profile, NULL-terminated or NULL */
	const char *workdir;          /* where to look for files; NULL: the cwd */
	char *const *environ;         /* the shell environment; NULL: the process's */
	FILE *stdin_file;             /* for "-f -"; NULL: stdin */
} berth_compose_options;

typedef struct berth_compose_project {
	char *name;
	char *working_dir;  /* absolute project directory */
	char **config_files; /* absolute paths, NULL-terminated */
	json_t *model;      /* canonical: {name, services, networks, volumes, secrets, configs} */
	json_t *env;        /* the variables interpolation used: {"NAME": "value"} */
	json_t *disabled;   /* services switched off by profiles, canonical too */
} berth_compose_project;

int berth_compose_load(const berth_compose_options *o, berth_compose_project **out,
		       berth_error **err);
void berth_compose_project_free(berth_compose_project *p);
void berth_compose_cleanup_project(berth_compose_project **p);
#define cleanup_compose_project __attribute__((cleanup(berth_compose_cleanup_project)))

/* Loads one document given as text (the fuzzer's and unit tests' way in):
 * name is the file name errors use, dir the project directory. */
int berth_compose_load_string(const char *name, const char *yaml, size_t len, const char *dir,
			      const json_t *env, berth_compose_project **out, berth_error **err);

/* Interpolates $V, ${V}, ${V:-d}, ${V-d}, ${V:?e}, ${V?e}, ${V:+a}, ${V+a}
 * and $$ in s from env (an object of strings). */
int berth_compose_interpolate(const char *s, const json_t *env, char **out, berth_error **err);

/* Parses a .env / env_file: KEY=VALUE lines, export, comments, quotes;
 * values are interpolated from lookup and the lines before. Adds to out. */
int berth_compose_env_parse(const char *name, const char *text, const json_t *lookup,
			    json_t *out, berth_error **err);

/* Compose's project name rules: "Foo Bar" -> "foobar" (for directory names). */
char *berth_compose_normalize_name(const char *s);

/* The services in dependency order (every service after what it depends on).
 * A cycle is an error: "dependency cycle detected: a -> b -> a". */
int berth_compose_order(const json_t *services, json_t **order, berth_error **err);

/* Block YAML of a JSON tree, as `docker compose config` prints it. */
void berth_compose_yaml_emit(const json_t *j, berth_buf *out);

/* The com.docker.compose.config-hash of a service, Docker Compose's own:
 * sha256 of compose-go's ServiceConfig JSON without build, pull_policy,
 * scale, deploy.replicas, depends_on and profiles. */
void berth_compose_config_hash(const json_t *service, char out[65]);

/* Number of replicas a service asks for (scale, deploy.replicas; 1). */
int berth_compose_replicas(const json_t *service);

/* --------------------------------------------------------- the engine side */

/* What commands write: progress ("Container p-web-1  Started") on err, data
 * (ps tables, logs) on out. */
typedef struct berth_compose_io {
	FILE *out;
	FILE *err;
	bool no_color;
} berth_compose_io;

typedef struct berth_compose_ctx {
	berth_compose_project *project;
	berth_client *client;
	const char *host; /* to open one client per thread */
	const berth_client_tls *tls;
	const char *api_version;
	berth_compose_io io;
	const char *pull_policy; /* --pull: always, missing, never; NULL: the services' */
	/* The X-Registry-Auth of an image's registry (the docker CLI's
	 * config.json, as `docker compose pull/push` send it); NULL: none. */
	char *(*registry_auth)(void *data, const char *image);
	void *auth_data;
} berth_compose_ctx;

typedef struct berth_compose_up_opts {
	char *const *services;      /* NULL: all (with what they depend on) */
	bool detach;
	bool force_recreate, no_recreate, no_start, remove_orphans, no_deps;
	bool always_recreate_deps;  /* dependencies of the named services: recreated */
	bool renew_anon_volumes;    /* -V: a recreated container starts with new anonymous volumes */
	bool build, no_build;
	bool wait;
	int wait_timeout;           /* --wait-timeout seconds, 0: none */
	char *const *attach;        /* --attach: only these services' logs; NULL: all */
	char *const *no_attach;     /* --no-attach: not these services' logs */
	bool abort_on_exit;
	const char *exit_code_from;
	json_t *scale;              /* {"svc": N} from --scale */
	int timeout;                /* -t seconds, -1: the service's */
} berth_compose_up_opts;

/* up and create (no_start). Returns the exit status for attached mode. */
int berth_compose_up(berth_compose_ctx *c, const berth_compose_up_opts *o, int *exit_code,
		     berth_error **err);

typedef struct berth_compose_down_opts {
	bool volumes, remove_orphans;
	const char *rmi; /* NULL, "local" or "all" */
	int timeout;     /* -1: the service's */
} berth_compose_down_opts;

int berth_compose_down(berth_compose_ctx *c, const berth_compose_down_opts *o, berth_error **err);

/* start, stop, restart, kill, pause, unpause, rm on the project's containers. */
typedef enum berth_compose_action {
	BERTH_COMPOSE_START,
	BERTH_COMPOSE_STOP,
	BERTH_COMPOSE_RESTART,
	BERTH_COMPOSE_KILL,
	BERTH_COMPOSE_PAUSE,
	BERTH_COMPOSE_UNPAUSE,
	BERTH_COMPOSE_RM,
} berth_compose_action;

typedef struct berth_compose_action_opts {
	char *const *services; /* NULL: all */
	int timeout;           /* -1: the service's */
	const char *signal;    /* kill */
	bool stop_first;       /* rm -s */
	bool volumes;          /* rm -v */
} berth_compose_action_opts;

int berth_compose_act(berth_compose_ctx *c, berth_compose_action a,
		      const berth_compose_action_opts *o, berth_error **err);

/* The project's containers (GET /containers/json), sorted by service and
 * number; services NULL: all; all: stopped ones too; oneoff: run containers too. */
int berth_compose_containers(berth_compose_ctx *c, char *const *services, bool all, bool oneoff,
			     json_t **out, berth_error **err);

/* A label of a listed container ("" when absent), and its name without '/'. */
const char *berth_compose_label(const json_t *container, const char *label);
const char *berth_compose_container_name(const json_t *container);

/* One container of a service by --index (1-based; 0: the first running). */
int berth_compose_container_of(berth_compose_ctx *c, const char *service, int index,
			       json_t **out, berth_error **err);

/* A one-off container of a service (`run`): svc is the service as run
 * changes it; named PROJECT-SERVICE-run-ID unless svc has a container_name. */
int berth_compose_create_oneoff(berth_compose_ctx *c, const char *service, const json_t *svc,
				char **id, char **name, berth_error **err);

/* The body of POST /containers/create for replica `number` of a service. */
json_t *berth_compose_create_body(const berth_compose_project *p, const char *service,
				  const json_t *svc, int number, bool oneoff, bool with_networks);

/* Logs of the project's containers with "svc-1  | " prefixes; follow. */
typedef struct berth_compose_logs_opts {
	char *const *services;
	bool follow, timestamps;
	bool no_prefix;
	int index;          /* only replica N; 0: all */
	const char *tail;
	const char *since, *until; /* Docker's time arguments ("10m", RFC 3339, Unix) */
} berth_compose_logs_opts;

int berth_compose_logs(berth_compose_ctx *c, const berth_compose_logs_opts *o, berth_error **err);

/* pull and push through POST /images/create and /images/{name}/push. */
int berth_compose_pull(berth_compose_ctx *c, char *const *services, bool ignore_failures,
		       berth_error **err);
int berth_compose_push(berth_compose_ctx *c, char *const *services, berth_error **err);
/* The services to build: those with a build section (in services, or all),
 * with only_missing those whose image the engine does not have yet. */
int berth_compose_to_build(berth_compose_ctx *c, char *const *services, bool only_missing,
			   json_t **out, berth_error **err);

#endif
