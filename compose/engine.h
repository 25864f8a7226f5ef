/* engine.h - compose/'s side of the Engine API (not part of the API). */
#ifndef BERTH_COMPOSE_ENGINE_H
#define BERTH_COMPOSE_ENGINE_H

#include "internal.h"

#define COMPOSE_LABEL_PROJECT "com.docker.compose.project"
#define COMPOSE_LABEL_SERVICE "com.docker.compose.service"
#define COMPOSE_LABEL_NUMBER "com.docker.compose.container-number"
#define COMPOSE_LABEL_ONEOFF "com.docker.compose.oneoff"
#define COMPOSE_LABEL_HASH "com.docker.compose.config-hash"
#define COMPOSE_LABEL_WORKDIR "com.docker.compose.project.working_dir"
#define COMPOSE_LABEL_FILES "com.docker.compose.project.config_files"
#define COMPOSE_LABEL_DEPENDS "com.docker.compose.depends_on"
#define COMPOSE_LABEL_VERSION "com.docker.compose.version"
#define COMPOSE_LABEL_NETWORK "com.docker.compose.network"
#define COMPOSE_LABEL_VOLUME "com.docker.compose.volume"
/* The Compose version our labels claim: what Docker Compose v2 expects. */
#define COMPOSE_VERSION "2.29.7"

/* One request with a JSON body (or none); a daemon error becomes err with
 * its status and "Error response from daemon: ...". out may be NULL. */
int compose_api(berth_client *cl, const char *method, const char *path, const json_t *body,
		json_t **out, berth_error **err);
/* A client of its own, for a thread. */
int compose_client_new(const berth_compose_ctx *c, berth_client **out, berth_error **err);
/* " Container p-web-1  Started" on the progress stream. */
void compose_progress(const berth_compose_ctx *c, const char *kind, const char *name,
		      const char *state);

/* Whether a service is among those named (NULL or none: all are). */
bool compose_wanted(char *const *services, const char *name);
/* GET /containers/json of a project, sorted by service and number. */
int compose_list(berth_client *cl, const char *project, char *const *services, bool all,
		 bool oneoff, json_t **out, berth_error **err);
/* A label of a listed container, "" when absent. */
const char *compose_label(const json_t *container, const char *label);
/* "p-web-1" from the list's Names. */
const char *compose_container_name(const json_t *container);
/* 404 "no such service: x" for a name the project does not have. */
int compose_check_services(const berth_compose_project *p, char *const *services,
			   berth_error **err);
/* The image a service runs: image, or PROJECT-SERVICE when it is built. */
char *compose_image_name(const berth_compose_project *p, const char *service, const json_t *svc);
/* Seconds of stop_grace_period, or -1 when unset. */
int compose_stop_timeout(const json_t *svc);

/* up without -d: logs until the containers exit (compose/attach.c). */
int compose_attach(berth_compose_ctx *c, const berth_compose_up_opts *o, int *exit_code,
		   berth_error **err);

#endif

/* Container operations with their progress lines (compose/container.c). */
/* inherit: {target: volume name} of the container this one replaces (its
 * anonymous volumes, which the new one mounts again); NULL: none. */
int compose_container_create(berth_compose_ctx *c, berth_client *cl, const char *service,
			     const json_t *svc, int number, bool oneoff, bool networks,
			     const json_t *inherit, char **id, char **name, berth_error **err);
/* The anonymous volumes of a container: {target: volume name}. */
int compose_anon_volumes(berth_compose_ctx *c, berth_client *cl, const char *id, json_t **out,
			 berth_error **err);
/* Mounts inherited volumes in a create body: an anonymous service volume
 * at the same target takes the old volume, other targets (the image's
 * VOLUMEs) are mounted as they were, unless the service mounts something
 * else there. */
void compose_inherit_volumes(json_t *body, const json_t *inherit);
/* POST path (on a container), with the progress lines before ("Starting")
 * and after ("Started"). */
int compose_container_post(const berth_compose_ctx *c, berth_client *cl, const char *path,
			   const char *name, const char *doing, const char *done,
			   berth_error **err);
int compose_container_start(berth_compose_ctx *c, berth_client *cl, const char *id,
			    const char *name, berth_error **err);
/* timeout < 0: the service's stop_grace_period, else the engine's default. */
int compose_container_stop(berth_compose_ctx *c, berth_client *cl, const char *id,
			   const char *name, int timeout, berth_error **err);
int compose_container_remove(berth_compose_ctx *c, berth_client *cl, const char *id,
			     const char *name, bool volumes, berth_error **err);
/* Whether the engine has /networks (berthd gains them later than the rest). */
bool compose_engine_has_networks(berth_client *cl);
/* Sends (or, with image NULL, stops sending) the registry's credentials
 * for image on cl. */
void compose_registry_auth(berth_compose_ctx *c, berth_client *cl, const char *image);
/* Pulls an image through POST /images/create (progress on the err stream). */
int compose_pull_image(berth_compose_ctx *c, berth_client *cl, const char *image,
		       berth_error **err);
