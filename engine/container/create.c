/* create.c - POST /containers/create: validation, names, the record. */
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "engine/image/image.h"
#include "engine/network/network.h"
#include "engine/oci/oci.h"
#include "engine/volume/volume.h"
#include "internal.h"



static const char *const name_left[] = {
	"admiring", "bold", "brave", "busy", "clever", "cool", "eager", "elegant", "epic",
	"festive", "focused", "gallant", "happy", "hopeful", "jolly", "keen", "kind", "loving",
	"lucid", "modest", "nice", "peaceful", "quirky", "serene", "sharp", "stoic", "sweet",
	"tender", "upbeat", "vibrant", "wizardly", "zealous",
};
static const char *const name_right[] = {
	"albattani", "babbage", "bell", "curie", "darwin", "dijkstra", "einstein", "euler",
	"fermat", "gauss", "hopper", "hypatia", "kepler", "knuth", "lamport", "lovelace",
	"mccarthy", "meitner", "newton", "noether", "pasteur", "ritchie", "shannon", "thompson",
	"torvalds", "turing", "volhard", "wozniak", "yalow",
};

/* A free random name like Docker's namesgenerator ("bold_turing"). */
static char *generate_name(berth_container_store *s)
{
	for (int attempt = 0;; attempt++) {
		char id[65];
		berth_random_id(id);
		unsigned long r = strtoul(id + 56, NULL, 16);
		char *name = berth_xasprintf("%s_%s", name_left[r % BERTH_ARRAY_SIZE(name_left)],
					     name_right[(r / 64) % BERTH_ARRAY_SIZE(name_right)]);
		if (attempt > 8) {
			char *numbered = berth_xasprintf("%s%lu", name, r % 10);
			free(name);
			name = numbered;
		}
		if (container_by_name(s, name) == NULL)
			return name;
		free(name);
	}
}

static int check_name(berth_container_store *s, const char *name, berth_error **err)
{
	regex_t re;
	regcomp(&re, "^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$", REG_EXTENDED | REG_NOSUB);
	int bad = regexec(&re, name, 0, NULL, 0);
	regfree(&re);
	if (bad)
		return berth_error_set(err, 400, "Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] "
						 "are allowed", name);
	berth_container *other = container_by_name(s, name);
	if (other)
		return berth_error_set(err, 409, "Conflict. The container name \"/%s\" is already in use by "
						 "container \"%s\". You have to remove (or rename) that "
						 "container to be able to reuse that name.",
				       *name == '/' ? name + 1 : name, other->id);
	return 0;
}

int container_restart_policy_check(const json_t *rp, berth_error **err)
{
	const char *policy = berth_json_string(rp, "Name");
	static const char *const policies[] = {"", "no", "always", "unless-stopped", "on-failure"};
	bool known = policy == NULL;
	for (size_t i = 0; policy && i < BERTH_ARRAY_SIZE(policies); i++)
		known = known || strcmp(policy, policies[i]) == 0;
	if (!known)
		return berth_error_set(err, 400, "invalid restart policy '%s'", policy);
	json_int_t retries = 0;
	if (berth_json_get_int(rp, "MaximumRetryCount", &retries, err) < 0)
		return -1;
	if (retries < 0)
		return berth_error_set(err, 400, "invalid restart policy: maximum retry count cannot be negative");
	if (retries > 0 && (policy == NULL || strcmp(policy, "on-failure") != 0))
		return berth_error_set(err, 400, "invalid restart policy: maximum retry count can only be used with 'on-failure'");
	return 0;
}

static int check_host_config(json_t *hc, berth_error **err)
{
	json_t *rp = json_object_get(hc, "RestartPolicy");
	const char *policy = berth_json_string(rp, "Name");
	if (container_restart_policy_check(rp, err) < 0)
		return -1;
	bool autoremove = false;
	if (berth_json_get_bool(hc, "AutoRemove", &autoremove, err) < 0)
		return -1;
	if (autoremove && policy && *policy && strcmp(policy, "no") != 0)
		return berth_error_set(err, 400, "can't create 'AutoRemove' container with restart policy");
	json_int_t memory = 0;
	if (berth_json_get_int(hc, "Memory", &memory, err) < 0)
		return -1;
	if (memory > 0 && memory < 6 * 1024 * 1024)
		return berth_error_set(err, 400, "Minimum memory limit allowed is 6MB");
	return 0;
}

/* dockerd's validateHealthCheck: durations of at least 1 ms (0: default). */
static int check_healthcheck(const json_t *hc, berth_error **err)
{
	static const char *const durations[] = {"Interval", "Timeout", "StartPeriod", "StartInterval"};
	for (size_t i = 0; hc && i < BERTH_ARRAY_SIZE(durations); i++) {
		json_int_t v = json_integer_value(json_object_get(hc, durations[i]));
		if (v != 0 && v < 1000000)
			return berth_error_set(err, 400, "%s in Healthcheck cannot be less than 1ms",
					       durations[i]);
	}
	if (json_integer_value(json_object_get(hc, "Retries")) < 0)
		return berth_error_set(err, 400, "Retries in Healthcheck cannot be negative");
	return 0;
}

static int command_of(const json_t *config, json_t **path, json_t **args, berth_error **err)
{
	json_t *argv = NULL;
	if (berth_oci_command(config, &argv, err) < 0)
		return -1;
	*path = json_incref(json_array_get(argv, 0));
	json_array_remove(argv, 0);
	*args = argv;
	return 0;
}

static json_t *new_state(void)
{
	return json_pack("{s:s, s:b, s:b, s:b, s:b, s:b, s:i, s:i, s:s, s:s, s:s}", "Status",
			 "created", "Running", false, "Paused", false, "Restarting", false,
			 "OOMKilled", false, "Dead", false, "Pid", 0, "ExitCode", 0, "Error", "",
			 "StartedAt", CONTAINER_ZERO_TIME, "FinishedAt", CONTAINER_ZERO_TIME);
}

static json_t *host_config_defaults(json_t *hc)
{
	json_t *out = json_is_object(hc) ? json_deep_copy(hc) : json_object();
	/* no driver named: the daemon's (json-file), with the options given */
	json_t *log = json_object_get(out, "LogConfig");
	if (!json_is_object(log)) {
		log = json_object();
		json_object_set_new(out, "LogConfig", log);
	}
	const char *driver = berth_json_string(log, "Type");
	if (driver == NULL || *driver == '\0')
		json_object_set_new(log, "Type", json_string("json-file"));
	if (!json_is_object(json_object_get(log, "Config")))
		json_object_set_new(log, "Config", json_object());
	if (!json_is_object(json_object_get(out, "RestartPolicy")))
		json_object_set_new(out, "RestartPolicy", json_pack("{s:s, s:i}", "Name", "no",
								   "MaximumRetryCount", 0));
	const char *nm = berth_json_string(out, "NetworkMode");
	if (nm == NULL || *nm == '\0' || strcmp(nm, "default") == 0)
		json_object_set_new(out, "NetworkMode", json_string("bridge"));
	json_int_t shm = 0;
	berth_json_get_int(out, "ShmSize", &shm, NULL);
	if (shm <= 0)
		json_object_set_new(out, "ShmSize", json_integer(64 * 1024 * 1024));
	return out;
}

/* /etc/hostname, /etc/hosts and /etc/resolv.conf for the container, unsynced
 * as dockerd writes them: they are small and cheap to write again. */
static int write_etc_files(berth_container *c, const json_t *config, const json_t *hc,
			   berth_error **err)
{
	const char *hostname = berth_json_string(config, "Hostname");
	char *path cleanup_free = berth_xasprintf("%s/hostname", c->dir);
	char *line cleanup_free = berth_xasprintf("%s\n", hostname);
	if (berth_file_replace(path, line, strlen(line), 0644, false, err) < 0)
		return -1;
	berth_buf hosts cleanup_buf = {0};
	berth_buf_puts(&hosts, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
			       "fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\n"
			       "ff02::2\tip6-allrouters\n");
	size_t i;
	json_t *h;
	json_array_foreach(json_object_get(hc, "ExtraHosts"), i, h) {
		const char *eh = json_string_value(h);
		const char *sep = eh ? strchr(eh, ':') : NULL;
		if (sep)
			berth_buf_printf(&hosts, "%s\t%.*s\n", sep + 1, (int)(sep - eh), eh);
	}
	char *hosts_path cleanup_free = berth_xasprintf("%s/hosts", c->dir);
	if (berth_file_replace(hosts_path, hosts.data, hosts.len, 0644, false, err) < 0)
		return -1;
	char *resolv cleanup_free = NULL;
	size_t len = 0;
	if (berth_file_read_all("/etc/resolv.conf", &resolv, &len, NULL) < 0) {
		resolv = berth_xstrdup("");
		len = 0;
	}
	char *resolv_path cleanup_free = berth_xasprintf("%s/resolv.conf", c->dir);
	return berth_file_replace(resolv_path, resolv, len, 0644, false, err);
}

static json_t *build_record(berth_container *c, const char *image_id, json_t *config, json_t *hc,
			    json_t *path, json_t *args)
{
	char now[64];
	berth_time_format_rfc3339(berth_time_now_ns(), now, sizeof(now));
	char *hostname_path cleanup_free = berth_xasprintf("%s/hostname", c->dir);
	char *hosts_path cleanup_free = berth_xasprintf("%s/hosts", c->dir);
	char *resolv_path cleanup_free = berth_xasprintf("%s/resolv.conf", c->dir);
	char *log_path cleanup_free = berth_xasprintf("%s/%s-json.log", c->dir, c->id);
	char *name cleanup_free = berth_xasprintf("/%s", c->name);
	json_t *rec = json_pack("{s:s, s:s, s:o, s:o, s:o, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:s,"
				" s:s, s:s, s:s, s:n, s:o, s:o, s:[]}",
				"Id", c->id, "Created", now, "Path", path, "Args", args, "State",
				new_state(), "Image", image_id, "ResolvConfPath", resolv_path,
				"HostnamePath", hostname_path, "HostsPath", hosts_path, "LogPath",
				log_path, "Name", name, "RestartCount", 0, "Driver", "overlay2",
				"Platform", "linux", "MountLabel", "", "ProcessLabel", "",
				"AppArmorProfile", "", "ExecIDs", "Config", config, "HostConfig", hc,
				"Mounts");
	json_object_set_new(rec, "GraphDriver", json_pack("{s:s, s:{s:s, s:s, s:s}}", "Name", "overlay2",
							 "Data", "MergedDir", "", "UpperDir", "",
							 "WorkDir", ""));
	json_object_set_new(rec, "NetworkSettings",
			    json_pack("{s:s, s:s, s:s, s:{}, s:b, s:s, s:s, s:s, s:i, s:s, s:{}}",
				      "Bridge", "", "SandboxID", "", "SandboxKey", "", "Ports",
				      "HairpinMode", false, "EndpointID", "", "Gateway", "",
				      "IPAddress", "", "IPPrefixLen", 0, "MacAddress", "", "Networks"));
	return rec;
}

/* VolumesFrom names a container by name or ID prefix. */
static int resolve_volumes_from(void *userdata, const char *name, char **id, berth_error **err)
{
	berth_container *c;
	if (berth_container_find(userdata, name, &c, err) < 0)
		return -1;
	*id = berth_xstrdup(c->id);
	return 0;
}

int berth_container_create(berth_container_store *s, const char *name, json_t *body, char **id,
			   json_t **warnings, berth_error **err)
{
	const char *image = NULL;
	if (berth_json_get_string(body, "Image", &image, err) < 0)
		return -1;
	if (image == NULL || *image == '\0')
		return berth_error_set(err, 400, "Config cannot be empty in order to create a container");
	json_t *hc_in = json_object_get(body, "HostConfig");
	if (hc_in && !json_is_object(hc_in) && !json_is_null(hc_in))
		return berth_error_set(err, 400, "invalid JSON: field HostConfig must be an object");
	if (check_host_config(hc_in, err) < 0 ||
	    check_healthcheck(json_object_get(body, "Healthcheck"), err) < 0)
		return -1;
	char *gen_name cleanup_free = NULL;
	if (name == NULL || *name == '\0')
		name = gen_name = generate_name(s);
	else if (check_name(s, name, err) < 0)
		return -1;
	char *image_id cleanup_free = NULL;
	if (berth_image_resolve(s->daemon->images, image, &image_id, err) < 0)
		return -1;
	json_t *image_config cleanup_json = NULL;
	if (berth_image_config(s->daemon->images, image_id, &image_config, err) < 0)
		return -1;

	json_t *warn cleanup_json = json_array();
	if (hc_in && berth_oci_hostconfig_validate(hc_in, warn, err) < 0)
		return -1;
	json_t *config = json_deep_copy(body);
	json_object_del(config, "HostConfig");
	json_object_del(config, "NetworkingConfig");
	json_t *path = NULL, *args = NULL;
	if (berth_oci_config_merge(config, json_object_get(image_config, "config"), err) < 0 ||
	    command_of(config, &path, &args, err) < 0) {
		json_decref(config);
		return -1;
	}
	char new_id[65];
	berth_random_id(new_id);
	const char *hostname = berth_json_string(config, "Hostname");
	if (hostname == NULL || *hostname == '\0') {
		char short_id[13];
		snprintf(short_id, sizeof(short_id), "%.12s", new_id);
		json_object_set_new(config, "Hostname", json_string(short_id));
	}
	json_t *mount_points = NULL;
	berth_volume_from from = {resolve_volumes_from, s};
	if (berth_volume_resolve_mounts(s->daemon->volumes, new_id, hc_in,
					json_object_get(config, "Volumes"), NULL, &from, NULL,
					&mount_points, err) < 0) {
		json_decref(path);
		json_decref(args);
		json_decref(config);
		return -1;
	}
	berth_container *c = container_new(s, new_id, *name == '/' ? name + 1 : name, NULL);
	json_t *hc = host_config_defaults(hc_in);
	c->record = build_record(c, image_id, config, hc, path, args);
	json_object_set_new(c->record, "Mounts", mount_points);
	if (berth_network_container_create(s->daemon->networks, c->record,
					   json_object_get(body, "NetworkingConfig"), err) < 0 ||
	    berth_mkdir_all(c->dir, 0710, err) < 0 || write_etc_files(c, config, hc, err) < 0 ||
	    container_save(c, err) < 0) {
		berth_volume_release(s->daemon->volumes, new_id, true, NULL);
		berth_remove_all(c->dir, NULL);
		container_unlink(c);
		return -1;
	}
	container_event(c, "create", NULL);
	*id = berth_xstrdup(c->id);
	*warnings = json_incref(warn);
	return 0;
}
