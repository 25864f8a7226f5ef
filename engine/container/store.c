/* store.c - container records: loading, saving, lookup, names, events. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/image/image.h"
#include "engine/volume/volume.h"
#include "engine/network/network.h"
#include "internal.h"

berth_container *container_new(berth_container_store *s, const char *id, const char *name,
			       json_t *record)
{
	berth_container *c = berth_xcalloc(1, sizeof(*c));
	c->store = s;
	snprintf(c->id, sizeof(c->id), "%s", id);
	c->name = berth_xstrdup(name);
	c->record = record;
	c->dir = berth_xasprintf("%s/%s", s->root, id);
	c->run_dir = berth_xasprintf("%s/%s", s->run_root, id);
	c->shim_dir = berth_xasprintf("%s/shim", c->run_dir);
	c->refs = 1;
	c->next = s->list;
	s->list = c;
	s->count++;
	return c;
}

void container_usage_update(berth_container_store *s)
{
	usage_entry *u = berth_xcalloc(s->count + 1, sizeof(*u));
	size_t n = 0;
	for (berth_container *c = s->list; c; c = c->next, n++) {
		snprintf(u[n].image, sizeof(u[n].image), "%s", berth_json_string(c->record, "Image") ?: "");
		snprintf(u[n].container, sizeof(u[n].container), "%s", c->id);
		u[n].running = container_running(c);
	}
	pthread_mutex_lock(&s->usage_lock);
	free(s->usage);
	s->usage = u;
	s->nusage = n;
	pthread_mutex_unlock(&s->usage_lock);
}

/* The image store asks (from any thread) which containers use an image. */
static void image_usage(void *userdata, const char *image_id, berth_image_usage *out)
{
	berth_container_store *s = userdata;
	static __thread char running[65], stopped[65];
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&s->usage_lock);
	for (size_t i = 0; i < s->nusage; i++) {
		if (strcmp(s->usage[i].image, image_id) != 0)
			continue;
		out->count++;
		char *slot = s->usage[i].running ? running : stopped;
		snprintf(slot, 65, "%s", s->usage[i].container);
		if (s->usage[i].running)
			out->running = running;
		else
			out->stopped = stopped;
	}
	pthread_mutex_unlock(&s->usage_lock);
}

int container_save(berth_container *c, berth_error **err)
{
	container_usage_update(c->store);
	char *path cleanup_free = berth_xasprintf("%s/" CONTAINER_RECORD, c->dir);
	char *data cleanup_free = json_dumps(c->record, JSON_COMPACT);
	/* the file synced as Docker does, the directory not */
	return berth_file_replace(path, data, strlen(data), 0600, true, err);
}

static void container_free(berth_container *c)
{
	for (container_exec *e = c->execs, *next; e; e = next) {
		next = e->next;
		json_decref(e->config);
		free(e);
	}
	json_decref(c->record);
	free(c->name);
	free(c->dir);
	free(c->run_dir);
	free(c->shim_dir);
	free(c);
}

void container_ref(berth_container *c)
{
	c->refs++;
}

void container_unref(berth_container *c)
{
	if (--c->refs == 0)
		container_free(c);
}

/* Takes the container out of the store; it is freed when the last pending
 * callback lets go of it. */
void container_unlink(berth_container *c)
{
	berth_container_store *s = c->store;
	for (berth_container **p = &s->list; *p; p = &(*p)->next) {
		if (*p == c) {
			*p = c->next;
			s->count--;
			break;
		}
	}
	c->removed = true;
	container_health_stop(c);
	container_usage_update(s);
	container_unref(c);
}

berth_container *container_by_name(berth_container_store *s, const char *name)
{
	if (*name == '/')
		name++;
	for (berth_container *c = s->list; c; c = c->next) {
		if (strcmp(c->name, name) == 0)
			return c;
	}
	return NULL;
}

int berth_container_find(berth_container_store *s, const char *name, berth_container **out,
			 berth_error **err)
{
	if (name == NULL || *name == '\0')
		return berth_error_set(err, 404, "No such container: %s", name ? name : "");
	for (berth_container *c = s->list; c; c = c->next) {
		if (strcmp(c->id, name) == 0) {
			*out = c;
			return 0;
		}
	}
	berth_container *by_name = container_by_name(s, name);
	if (by_name) {
		*out = by_name;
		return 0;
	}
	berth_container *found = NULL;
	size_t n = strlen(name);
	for (berth_container *c = s->list; c; c = c->next) {
		if (strncmp(c->id, name, n) == 0) {
			if (found)
				return berth_error_set(err, 400, "multiple IDs found with provided prefix: %s", name);
			found = c;
		}
	}
	if (found == NULL)
		return berth_error_set(err, 404, "No such container: %s", name);
	*out = found;
	return 0;
}

const char *berth_container_id(const berth_container *c)
{
	return c->id;
}

json_t *container_state(const berth_container *c)
{
	return json_object_get(c->record, "State");
}

bool container_running(const berth_container *c)
{
	return json_is_true(json_object_get(container_state(c), "Running"));
}

bool container_paused(const berth_container *c)
{
	return json_is_true(json_object_get(container_state(c), "Paused"));
}

const char *container_status(const berth_container *c)
{
	return berth_json_string(container_state(c), "Status");
}

/* Keeps Docker's State booleans consistent with Status. */
void container_set_state(berth_container *c, const char *status)
{
	json_t *st = container_state(c);
	json_object_set_new(st, "Status", json_string(status));
	json_object_set_new(st, "Running", json_boolean(strcmp(status, "running") == 0 ||
							  strcmp(status, "paused") == 0));
	json_object_set_new(st, "Paused", json_boolean(strcmp(status, "paused") == 0));
	json_object_set_new(st, "Restarting", json_boolean(strcmp(status, "restarting") == 0));
	json_object_set_new(st, "Dead", json_boolean(strcmp(status, "dead") == 0));
}

void container_event(berth_container *c, const char *action, json_t *extra)
{
	json_t *attrs = json_object();
	json_t *labels = json_object_get(json_object_get(c->record, "Config"), "Labels");
	if (json_is_object(labels))
		json_object_update(attrs, labels);
	const char *image = berth_json_string(json_object_get(c->record, "Config"), "Image");
	json_object_set_new(attrs, "image", json_string(image ? image : ""));
	json_object_set_new(attrs, "name", json_string(c->name));
	if (extra) {
		json_object_update(attrs, extra);
		json_decref(extra);
	}
	berth_events_publish(c->store->daemon->events, "container", action, c->id, attrs);
}

void berth_container_counts(berth_container_store *s, int *total, int *running, int *paused,
			    int *stopped)
{
	*total = *running = *paused = *stopped = 0;
	for (berth_container *c = s ? s->list : NULL; c; c = c->next) {
		(*total)++;
		if (container_paused(c))
			(*paused)++;
		else if (container_running(c))
			(*running)++;
		else
			(*stopped)++;
	}
}

static int load_one(berth_container_store *s, const char *id, berth_error **err)
{
	char *path cleanup_free = berth_xasprintf("%s/%s/" CONTAINER_RECORD, s->root, id);
	char *data cleanup_free = NULL;
	size_t len;
	if (berth_file_read_all(path, &data, &len, err) < 0)
		return -1;
	json_t *record = NULL;
	if (berth_json_parse_object(data, len, &record, err) < 0)
		return berth_error_wrap(err, "container %s", id);
	const char *name = berth_json_string(record, "Name");
	berth_container *c = container_new(s, id, name && *name == '/' ? name + 1 : (name ? name : id), record);
	/* a root left mounted by the last berthd holds layer pins */
	char *fs cleanup_free = berth_xasprintf("%s/fs", c->dir);
	return berth_image_repin(s->daemon->images, fs, err);
}

/* A dir without its record: a removal is answered before its teardown,
 * which the last berthd may not have finished. The removal left the record
 * as CONTAINER_REMOVING_RECORD for the network it held; without either the
 * dir is what a create cut short (or the teardown itself) left. */
static void remove_leftover(berth_container_store *s, const char *id)
{
	char *dir cleanup_free = berth_xasprintf("%s/%s", s->root, id);
	char *fs cleanup_free = berth_xasprintf("%s/fs", dir);
	char *run cleanup_free = berth_xasprintf("%s/%s", s->run_root, id);
	char *path cleanup_free = berth_xasprintf("%s/" CONTAINER_REMOVING_RECORD, dir);
	char *data cleanup_free = NULL;
	size_t len;
	json_t *record cleanup_json = NULL;
	if (berth_file_read_all(path, &data, &len, NULL) == 0 &&
	    berth_json_parse_object(data, len, &record, NULL) == 0) {
		berth_network_restore(s->daemon->networks, record);
		berth_network_sandbox *net = berth_network_release(s->daemon->networks, record);
		berth_network_teardown(net);
		berth_network_sandbox_free(net);
	}
	berth_error *err cleanup_error = NULL;
	if (berth_image_repin(s->daemon->images, fs, &err) < 0 ||
	    berth_image_unmount(s->daemon->images, fs, &err) < 0 ||
	    berth_remove_all(run, &err) < 0 || berth_remove_all(dir, &err) < 0)
		berth_warn("removing what is left of container %s: %s", id, err->msg);
}

static bool container_known(void *userdata, const char *id, bool *running)
{
	berth_container *c = NULL;
	if (berth_container_find(userdata, id, &c, NULL) < 0 || strcmp(c->id, id) != 0)
		return false;
	*running = container_running(c);
	return true;
}

int berth_container_store_open(berth_daemon *d, berth_container_store **out, berth_error **err)
{
	berth_container_store *s = berth_xcalloc(1, sizeof(*s));
	*out = s;
	s->daemon = d;
	pthread_mutex_init(&s->usage_lock, NULL);
	s->root = berth_xasprintf("%s/containers", d->config->data_root);
	s->run_root = berth_xasprintf("%s/containers", d->config->exec_root);
	s->runc_root = berth_xasprintf("%s/runc", d->config->exec_root);
	/* berth-shim is installed beside berthd */
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	char *slash = strrchr(exe, '/');
	if (slash)
		*slash = '\0';
	s->shim_path = berth_xasprintf("%s/berth-shim", n > 0 ? exe : "/usr/local/bin");
	if (berth_mkdir_all(s->root, 0710, err) < 0 || berth_mkdir_all(s->run_root, 0700, err) < 0 ||
	    berth_mkdir_all(s->runc_root, 0700, err) < 0)
		return -1;
	DIR *dir = opendir(s->root);
	if (dir == NULL)
		return berth_error_set_errno(err, errno, "open %s", s->root);
	for (struct dirent *e; (e = readdir(dir));) {
		if (strlen(e->d_name) != 64)
			continue;
		char *record cleanup_free = berth_xasprintf("%s/%s/" CONTAINER_RECORD, s->root, e->d_name);
		if (access(record, F_OK) < 0 && errno == ENOENT) {
			remove_leftover(s, e->d_name);
			continue;
		}
		berth_error *one = NULL;
		if (load_one(s, e->d_name, &one) < 0) {
			/* a record half written by a crash is skipped, not fatal */
			berth_warn("skipping container %s: %s", e->d_name, one->msg);
			berth_error_free(&one);
		}
	}
	closedir(dir);
	container_usage_update(s);
	berth_image_store_set_usage(d->images, image_usage, s);
	berth_volume_sync_containers(d->volumes, container_known, s);
	for (berth_container *c = s->list; c; c = c->next) {
		if (!container_running(c)) {
			container_restart_at_boot(c);
			continue;
		}
		berth_network_restore(d->networks, c->record);
		berth_error *one = NULL;
		container_health_start(c, false);
		if (container_monitor(c, &one) < 0) {
			berth_warn("container %s: %s", c->id, one->msg);
			berth_error_free(&one);
		}
	}
	return 0;
}

void berth_container_store_detach(berth_container_store *s)
{
	if (s == NULL)
		return;
	container_shim_waits_close();
	for (berth_container *c = s->list; c; c = c->next) {
		container_health_stop(c);
		if (c->restart_timer) {
			uv_timer_stop(c->restart_timer);
			uv_close((uv_handle_t *)c->restart_timer, (uv_close_cb)free);
			c->restart_timer = NULL;
			container_unref(c);
		}
	}
}

void berth_container_store_close(berth_container_store *s)
{
	if (s == NULL)
		return;
	berth_image_store_set_usage(s->daemon->images, NULL, NULL);
	/* Containers keep running under their shims: only memory goes. */
	for (berth_container *c = s->list, *next; c; c = next) {
		next = c->next;
		container_health_release(c);
		c->refs = 1;
		container_unref(c);
	}
	free(s->root);
	free(s->run_root);
	free(s->runc_root);
	free(s->shim_path);
	free(s->usage);
	pthread_mutex_destroy(&s->usage_lock);
	free(s);
}

void container_set_stopped_by_user(berth_container *c, bool stopped)
{
	c->stop_requested = stopped;
	if (stopped)
		json_object_set_new(c->record, "HasBeenManuallyStopped", json_true());
	else
		json_object_del(c->record, "HasBeenManuallyStopped");
}

char *container_runtime_path(berth_container_store *s, const json_t *host_config)
{
	const berth_config *cfg = s->daemon->config;
	const char *rt = berth_json_string(host_config, "Runtime");
	const json_t *rtdef = json_object_get(cfg->runtimes, rt && *rt ? rt : cfg->default_runtime);
	return berth_xstrdup(berth_json_string(rtdef, "path") ?: "runc");
}
