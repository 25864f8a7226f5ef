/* query.c - GET /containers/json and GET /containers/{id}/json. */
#include <fnmatch.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "engine/image/image.h"
#include "internal.h"

static const char *const list_filter_keys[] = {
	"ancestor", "before", "expose", "exited", "health", "id", "isolation", "is-task", "label",
	"name", "network", "publish", "since", "status", "volume", NULL,
};

static int64_t created_ns(const berth_container *c)
{
	int64_t t = 0;
	berth_time_parse(berth_json_string(c->record, "Created") ?: "0", 0, &t, NULL);
	return t;
}

/* "Up 2 minutes", "Exited (0) 3 seconds ago", "Created", as docker ps shows. */
static char *status_text(const berth_container *c)
{
	const json_t *st = container_state(c);
	const char *status = container_status(c);
	int64_t now = berth_time_now_ns(), t = 0;
	char ago[64];
	if (strcmp(status, "running") == 0 || strcmp(status, "paused") == 0) {
		berth_time_parse(berth_json_string(st, "StartedAt") ?: "0", now, &t, NULL);
		berth_human_duration(now - t, ago, sizeof(ago));
		const char *health = berth_json_string(json_object_get(st, "Health"), "Status");
		const char *suffix = strcmp(status, "paused") == 0 ? " (Paused)"
				     : health == NULL		 ? ""
				     : strcmp(health, "starting") == 0 ? " (health: starting)"
				     : strcmp(health, "healthy") == 0  ? " (healthy)"
				     : strcmp(health, "unhealthy") == 0 ? " (unhealthy)" : "";
		return berth_xasprintf("Up %s%s", ago, suffix);
	}
	if (strcmp(status, "exited") == 0 || strcmp(status, "restarting") == 0) {
		berth_time_parse(berth_json_string(st, "FinishedAt") ?: "0", now, &t, NULL);
		berth_human_duration(now - t, ago, sizeof(ago));
		return berth_xasprintf("%s (%lld) %s ago",
				       strcmp(status, "exited") == 0 ? "Exited" : "Restarting",
				       (long long)json_integer_value(json_object_get(st, "ExitCode")), ago);
	}
	if (strcmp(status, "created") == 0)
		return berth_xstrdup("Created");
	if (strcmp(status, "dead") == 0)
		return berth_xstrdup("Dead");
	return berth_xstrdup(status);
}

static char *command_text(const berth_container *c)
{
	berth_buf b = {0};
	berth_buf_puts(&b, berth_json_string(c->record, "Path") ?: "");
	size_t i;
	json_t *a;
	json_array_foreach(json_object_get(c->record, "Args"), i, a)
		berth_buf_printf(&b, " %s", json_string_value(a));
	return berth_buf_steal(&b);
}

/* The list's Ports: each binding of NetworkSettings.Ports, or the bare
 * private port when it is only exposed. */
static json_t *port_summary(const json_t *ports)
{
	json_t *out = json_array();
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)ports, key, v) {
		const char *slash = strchr(key, '/');
		json_int_t priv = strtoll(key, NULL, 10);
		const char *type = slash ? slash + 1 : "tcp";
		if (json_array_size(v) == 0)
			json_array_append_new(out, json_pack("{s:I, s:s}", "PrivatePort", priv, "Type", type));
		size_t i;
		json_t *b;
		json_array_foreach(v, i, b)
			json_array_append_new(out, json_pack("{s:s, s:I, s:I, s:s}", "IP",
							     berth_json_string(b, "HostIp") ?: "",
							     "PrivatePort", priv, "PublicPort",
							     (json_int_t)strtoll(berth_json_string(b, "HostPort") ?: "0", NULL, 10),
							     "Type", type));
	}
	return out;
}

static json_t *summary(const berth_container *c)
{
	char *status cleanup_free = status_text(c);
	char *command cleanup_free = command_text(c);
	char *name cleanup_free = berth_xasprintf("/%s", c->name);
	const json_t *config = json_object_get(c->record, "Config");
	const json_t *hc = json_object_get(c->record, "HostConfig");
	json_t *labels = json_object_get(config, "Labels");
	json_t *out = json_pack("{s:s, s:[s], s:s, s:s, s:s, s:I, s:[], s:s, s:s, s:{s:s}, s:{s:{}}}",
				"Id", c->id, "Names", name, "Image", berth_json_string(config, "Image") ?: "",
				"ImageID", berth_json_string(c->record, "Image") ?: "", "Command", command,
				"Created", (json_int_t)(created_ns(c) / 1000000000LL), "Ports",
				"State", container_status(c), "Status", status, "HostConfig",
				"NetworkMode", berth_json_string(hc, "NetworkMode") ?: "bridge",
				"NetworkSettings", "Networks");
	json_object_set_new(out, "Labels", json_is_object(labels) ? json_deep_copy(labels) : json_object());
	json_t *mounts = json_object_get(c->record, "Mounts");
	json_object_set_new(out, "Mounts", json_is_array(mounts) ? json_deep_copy(mounts) : json_array());
	const json_t *ns = json_object_get(c->record, "NetworkSettings");
	json_object_set_new(out, "Ports", port_summary(json_object_get(ns, "Ports")));
	const json_t *nets = json_object_get(ns, "Networks");
	if (json_is_object(nets))
		json_object_set_new(json_object_get(out, "NetworkSettings"), "Networks", json_deep_copy(nets));
	return out;
}

static bool name_matches(const berth_filters *f, const berth_container *c)
{
	char *const *pats = berth_filters_get(f, "name");
	if (pats == NULL)
		return true;
	for (char *const *p = pats; *p; p++) {
		regex_t re;
		if (regcomp(&re, *p, REG_EXTENDED | REG_NOSUB) != 0)
			continue;
		char *full cleanup_free = berth_xasprintf("/%s", c->name);
		bool m = regexec(&re, full, 0, NULL, 0) == 0;
		regfree(&re);
		if (m)
			return true;
	}
	return false;
}

static bool id_matches(const berth_filters *f, const berth_container *c)
{
	char *const *ids = berth_filters_get(f, "id");
	for (char *const *p = ids; p && *p; p++) {
		if (berth_str_has_prefix(c->id, *p))
			return true;
	}
	return ids == NULL;
}

static bool exited_matches(const berth_filters *f, const berth_container *c)
{
	char *const *codes = berth_filters_get(f, "exited");
	if (codes == NULL)
		return true;
	if (strcmp(container_status(c), "exited") != 0)
		return false;
	long code = (long)json_integer_value(json_object_get(container_state(c), "ExitCode"));
	for (char *const *p = codes; *p; p++) {
		if (strtol(*p, NULL, 10) == code)
			return true;
	}
	return false;
}

/* health: starting, healthy, unhealthy, or none (no healthcheck). */
static bool health_matches(const berth_filters *f, const berth_container *c)
{
	const char *h = berth_json_string(json_object_get(container_state(c), "Health"), "Status");
	return berth_filters_match(f, "health", h ? h : "none");
}

static bool ancestor_matches(berth_container_store *s, const berth_filters *f,
			     const berth_container *c)
{
	char *const *imgs = berth_filters_get(f, "ancestor");
	if (imgs == NULL)
		return true;
	const char *image_id = berth_json_string(c->record, "Image");
	const char *image = berth_json_string(json_object_get(c->record, "Config"), "Image");
	for (char *const *p = imgs; *p; p++) {
		char *id cleanup_free = NULL;
		if ((image && strcmp(image, *p) == 0) ||
		    (berth_image_resolve(s->daemon->images, *p, &id, NULL) == 0 && image_id &&
		     strcmp(id, image_id) == 0))
			return true;
	}
	return false;
}

/* before/since: containers created before/after the named one. */
static int time_bound(berth_container_store *s, const berth_filters *f, const char *key,
		      int64_t *out, berth_error **err)
{
	char *const *v = berth_filters_get(f, key);
	if (v == NULL)
		return 0;
	berth_container *c;
	if (berth_container_find(s, v[0], &c, err) < 0)
		return -1;
	*out = created_ns(c);
	return 0;
}

static int sort_newest_first(const void *a, const void *b)
{
	int64_t ta = created_ns(*(berth_container *const *)a);
	int64_t tb = created_ns(*(berth_container *const *)b);
	return ta < tb ? 1 : ta > tb ? -1 : 0;
}

int berth_container_list(berth_container_store *s, bool all, int64_t limit, bool size,
			 const berth_filters *f, json_t **out, berth_error **err)
{
	if (berth_filters_validate(f, list_filter_keys, err) < 0)
		return -1;
	int64_t before = INT64_MAX, since = INT64_MIN;
	if (time_bound(s, f, "before", &before, err) < 0 || time_bound(s, f, "since", &since, err) < 0)
		return -1;
	if (limit > 0 || berth_filters_get(f, "status") || berth_filters_get(f, "exited"))
		all = true;
	berth_container **v = berth_xcalloc(s->count + 1, sizeof(*v));
	size_t n = 0;
	for (berth_container *c = s->list; c; c = c->next)
		v[n++] = c;
	qsort(v, n, sizeof(*v), sort_newest_first);
	json_t *list = json_array();
	for (size_t i = 0; i < n && (limit <= 0 || (int64_t)json_array_size(list) < limit); i++) {
		berth_container *c = v[i];
		int64_t t = created_ns(c);
		if ((!all && !container_running(c)) || !berth_filters_match(f, "status", container_status(c)) ||
		    !name_matches(f, c) || !id_matches(f, c) || !exited_matches(f, c) ||
		    !health_matches(f, c) ||
		    !ancestor_matches(s, f, c) || t >= before || t <= since ||
		    !berth_filters_match_labels(f, "label",
						json_object_get(json_object_get(c->record, "Config"), "Labels")))
			continue;
		json_array_append_new(list, summary(c));
	}
	free(v);
	*out = list;
	return 0;
}

/*
 * The members dockerd always sends, with Go's zero values: templates such as
 * `{{.HostConfig.Memory}}` fail on a missing key, and a record keeps only
 * what the create request set.
 */
static const char inspect_zero_host_config[] =
	"{\"Binds\":null,\"ContainerIDFile\":\"\",\"PortBindings\":{},\"AutoRemove\":false,"
	"\"VolumeDriver\":\"\",\"VolumesFrom\":null,\"ConsoleSize\":[0,0],\"CapAdd\":null,"
	"\"CapDrop\":null,\"CgroupnsMode\":\"\",\"Dns\":[],\"DnsOptions\":[],\"DnsSearch\":[],"
	"\"ExtraHosts\":null,\"GroupAdd\":null,\"IpcMode\":\"private\",\"Cgroup\":\"\",\"Links\":null,"
	"\"OomScoreAdj\":0,\"PidMode\":\"\",\"Privileged\":false,\"PublishAllPorts\":false,"
	"\"ReadonlyRootfs\":false,\"SecurityOpt\":null,\"UTSMode\":\"\",\"UsernsMode\":\"\","
	"\"Runtime\":\"runc\",\"Isolation\":\"\",\"CpuShares\":0,\"Memory\":0,\"NanoCpus\":0,"
	"\"CgroupParent\":\"\",\"BlkioWeight\":0,\"BlkioWeightDevice\":[],\"BlkioDeviceReadBps\":[],"
	"\"BlkioDeviceWriteBps\":[],\"BlkioDeviceReadIOps\":[],\"BlkioDeviceWriteIOps\":[],"
	"\"CpuPeriod\":0,\"CpuQuota\":0,\"CpuRealtimePeriod\":0,\"CpuRealtimeRuntime\":0,"
	"\"CpusetCpus\":\"\",\"CpusetMems\":\"\",\"Devices\":[],\"DeviceCgroupRules\":null,"
	"\"DeviceRequests\":null,\"MemoryReservation\":0,\"MemorySwap\":0,"
	"\"MemorySwappiness\":null,\"OomKillDisable\":null,\"PidsLimit\":null,\"Ulimits\":[],"
	"\"CpuCount\":0,\"CpuPercent\":0,\"IOMaximumIOps\":0,\"IOMaximumBandwidth\":0}";
static const char inspect_zero_config[] =
	"{\"Hostname\":\"\",\"Domainname\":\"\",\"User\":\"\",\"AttachStdin\":false,"
	"\"AttachStdout\":false,\"AttachStderr\":false,\"Tty\":false,\"OpenStdin\":false,"
	"\"StdinOnce\":false,\"Env\":null,\"Cmd\":null,\"Image\":\"\",\"Volumes\":null,"
	"\"WorkingDir\":\"\",\"Entrypoint\":null,\"OnBuild\":null,\"Labels\":{}}";

/* The zero values are parsed once (inspect runs on the loop only). */
static void fill_zero_values(json_t *doc, const char *key, const char *zero, json_t **parsed)
{
	if (*parsed == NULL)
		*parsed = json_loads(zero, 0, NULL);
	json_t *obj = json_object_get(doc, key);
	if (json_is_object(obj) && *parsed)
		json_object_update_missing(obj, *parsed);
}

int berth_container_inspect(berth_container_store *s, const char *name, bool size, json_t **out,
			    berth_error **err)
{
	berth_container *c;
	if (berth_container_find(s, name, &c, err) < 0)
		return -1;
	json_t *doc = json_deep_copy(c->record);
	json_object_del(doc, "OCIMounts"); /* berth's own, not Docker's */
	json_object_del(doc, "HasBeenManuallyStopped"); /* dockerd's config.v2.json only */
	static json_t *zero_hc, *zero_cfg;
	fill_zero_values(doc, "HostConfig", inspect_zero_host_config, &zero_hc);
	fill_zero_values(doc, "Config", inspect_zero_config, &zero_cfg);
	json_t *ids = json_array();
	for (container_exec *e = c->execs; e; e = e->next)
		json_array_append_new(ids, json_string(e->id));
	json_object_set_new(doc, "ExecIDs", json_array_size(ids) ? ids : json_null());
	if (!json_array_size(ids))
		json_decref(ids);
	char *fs cleanup_free = berth_xasprintf("%s/fs", c->dir);
	json_t *gd = json_object_get(json_object_get(doc, "GraphDriver"), "Data");
	char *merged cleanup_free = berth_xasprintf("%s/merged", fs);
	char *upper cleanup_free = berth_xasprintf("%s/upper", fs);
	char *work cleanup_free = berth_xasprintf("%s/work", fs);
	json_object_set_new(gd, "MergedDir", json_string(merged));
	json_object_set_new(gd, "UpperDir", json_string(upper));
	json_object_set_new(gd, "WorkDir", json_string(work));
	*out = doc;
	return 0;
}

/* ----------------------------------------------------------------- sizes */

/* ?size=1: SizeRw is the container's upper dir, SizeRootFs that plus its
 * image, as dockerd computes them. The walks run in the pool; the image
 * sizes are looked up on the loop first. */
typedef struct size_job {
	json_t *docs;               /* the objects to fill, each with "Id" */
	json_t *reply;              /* what is answered: the list or one doc */
	char **uppers;
	int64_t *image_sizes;
	size_t n;
} size_job;

static int size_work(void *data, berth_error **err)
{
	size_job *j = data;
	for (size_t i = 0; i < j->n; i++) {
		int64_t rw = berth_dir_usage(j->uppers[i]);
		json_t *doc = json_array_get(j->docs, i);
		json_object_set_new(doc, "SizeRw", json_integer(rw));
		json_object_set_new(doc, "SizeRootFs", json_integer(rw + j->image_sizes[i]));
	}
	return 0;
}

static int size_done(berth_daemon *d, berth_api_req *req, void *data, berth_error *work_err,
		     berth_error **err)
{
	size_job *j = data;
	if (req)
		berth_api_reply_json(req, 200, json_incref(j->reply));
	json_decref(j->docs);
	json_decref(j->reply);
	for (size_t i = 0; i < j->n; i++)
		free(j->uppers[i]);
	free(j->uppers);
	free(j->image_sizes);
	free(j);
	return 0;
}

int berth_container_reply_with_sizes(berth_container_store *s, berth_api_req *req, json_t *reply)
{
	size_job *j = berth_xcalloc(1, sizeof(*j));
	j->reply = reply;
	j->docs = json_is_array(reply) ? json_incref(reply) : json_pack("[O]", reply);
	j->n = json_array_size(j->docs);
	j->uppers = berth_xcalloc(j->n + 1, sizeof(*j->uppers));
	j->image_sizes = berth_xcalloc(j->n + 1, sizeof(*j->image_sizes));
	for (size_t i = 0; i < j->n; i++) {
		json_t *doc = json_array_get(j->docs, i);
		const char *id = berth_json_string(doc, "Id") ?: "";
		berth_container *c = NULL;
		j->uppers[i] = berth_xasprintf("%s/%s/fs/upper", s->root, id);
		json_t *img cleanup_json = NULL;
		if (berth_container_find(s, id, &c, NULL) == 0 &&
		    berth_image_inspect(s->daemon->images, berth_json_string(c->record, "Image") ?: "",
					&img, NULL) == 0)
			j->image_sizes[i] = json_integer_value(json_object_get(img, "Size"));
	}
	return berth_api_defer(s->daemon, req, size_work, size_done, j);
}
