/*
 * create.c - POST /containers/create for a service replica, as Docker
 * Compose v2 builds it: Config, HostConfig and NetworkingConfig from the
 * canonical service, with the com.docker.compose.* labels that let Compose
 * v2 and berth compose find, compare and manage each other's containers.
 */
#include <stdlib.h>
#include <string.h>

#include "engine.h"

static void set_str(json_t *to, const char *key, const json_t *svc, const char *field)
{
	const char *v = berth_json_string(svc, field);
	if (v)
		json_object_set_new(to, key, json_string(v));
}

static void set_copy(json_t *to, const char *key, const json_t *svc, const char *field)
{
	json_t *v = json_object_get(svc, field);
	if (v && !json_is_null(v))
		json_object_set(to, key, v);
}

static void set_int_str(json_t *to, const char *key, const json_t *svc, const char *field)
{
	const char *v = berth_json_string(svc, field);
	if (v)
		json_object_set_new(to, key, json_integer(strtoll(v, NULL, 10)));
}

static json_int_t duration_ns(const json_t *obj, const char *key)
{
	const char *s = berth_json_string(obj, key);
	int64_t ns = 0;
	berth_error *err cleanup_error = NULL;
	if (s == NULL || berth_duration_parse(s, &ns, &err) < 0)
		return 0;
	return ns;
}

int compose_stop_timeout(const json_t *svc)
{
	json_int_t ns = duration_ns(svc, "stop_grace_period");
	return ns > 0 ? (int)(ns / 1000000000) : -1;
}

int compose_check_services(const berth_compose_project *p, char *const *services,
			   berth_error **err)
{
	for (char *const *s = services; s && *s; s++)
		if (!json_object_get(json_object_get(p->model, "services"), *s))
			return berth_error_set(err, 404, "no such service: %s", *s);
	return 0;
}

char *compose_image_name(const berth_compose_project *p, const char *service, const json_t *svc)
{
	const char *img = berth_json_string(svc, "image");
	return img ? berth_xstrdup(img) : berth_xasprintf("%s-%s", p->name, service);
}

/* --------------------------------------------------------------- labels */

static json_t *labels(const berth_compose_project *p, const char *service, const json_t *svc,
		      int number, bool oneoff)
{
	json_t *l = json_object();
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(svc, "labels"), k, v)
		if (json_is_string(v))
			json_object_set(l, k, v);
	char hash[65];
	berth_compose_config_hash(svc, hash);
	berth_buf files cleanup_buf = {0};
	for (char **f = p->config_files; f && *f; f++)
		berth_buf_printf(&files, "%s%s", files.len ? "," : "", *f);
	berth_buf deps cleanup_buf = {0};
	json_object_foreach(json_object_get(svc, "depends_on"), k, v)
		berth_buf_printf(&deps, "%s%s:%s:%s", deps.len ? "," : "", k,
				 berth_json_string(v, "condition") ?: "service_started",
				 json_is_true(json_object_get(v, "restart")) ? "true" : "false");
	json_object_set_new(l, COMPOSE_LABEL_PROJECT, json_string(p->name));
	json_object_set_new(l, COMPOSE_LABEL_SERVICE, json_string(service));
	json_object_set_new(l, COMPOSE_LABEL_NUMBER, json_sprintf("%d", number));
	json_object_set_new(l, COMPOSE_LABEL_ONEOFF, json_string(oneoff ? "True" : "False"));
	json_object_set_new(l, COMPOSE_LABEL_HASH, json_string(hash));
	json_object_set_new(l, COMPOSE_LABEL_WORKDIR, json_string(p->working_dir));
	json_object_set_new(l, COMPOSE_LABEL_FILES, json_string(files.data ? files.data : ""));
	json_object_set_new(l, COMPOSE_LABEL_DEPENDS, json_string(deps.data ? deps.data : ""));
	json_object_set_new(l, COMPOSE_LABEL_VERSION, json_string(COMPOSE_VERSION));
	json_object_set_new(l, "com.docker.compose.image",
			    json_string(berth_json_string(svc, "image") ?: ""));
	return l;
}

/* ------------------------------------------------------------- pieces */

static json_t *env_list(const json_t *svc)
{
	json_t *env = json_array();
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(svc, "environment"), k, v)
		if (json_is_string(v))
			json_array_append_new(env, json_sprintf("%s=%s", k, json_string_value(v)));
	return env;
}

static json_t *healthcheck(const json_t *h)
{
	if (!json_is_object(h))
		return NULL;
	if (json_is_true(json_object_get(h, "disable")))
		return json_pack("{s[s]}", "Test", "NONE");
	json_t *out = json_object();
	set_copy(out, "Test", h, "test");
	static const char *const durations[][2] = {{"Interval", "interval"}, {"Timeout", "timeout"},
						   {"StartPeriod", "start_period"},
						   {"StartInterval", "start_interval"}};
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(durations); i++) {
		json_int_t ns = duration_ns(h, durations[i][1]);
		if (ns)
			json_object_set_new(out, durations[i][0], json_integer(ns));
	}
	set_copy(out, "Retries", h, "retries");
	return out;
}

/* ports -> ExposedPorts and PortBindings */
static void ports(const json_t *svc, bool publish, json_t *config, json_t *hc)
{
	json_t *exposed = json_object(), *bindings = json_object();
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(svc, "expose"), i, v) {
		const char *e = json_string_value(v);
		if (e == NULL)
			continue;
		char *key cleanup_free = strchr(e, '/') ? berth_xstrdup(e) : berth_xasprintf("%s/tcp", e);
		json_object_set_new(exposed, key, json_object());
	}
	json_array_foreach(json_object_get(svc, "ports"), i, v) {
		char *key cleanup_free = berth_xasprintf(
			"%" JSON_INTEGER_FORMAT "/%s", json_integer_value(json_object_get(v, "target")),
			berth_json_string(v, "protocol") ?: "tcp");
		json_object_set_new(exposed, key, json_object());
		if (!publish)
			continue;
		json_t *list = json_object_get(bindings, key);
		if (list == NULL)
			json_object_set_new(bindings, key, list = json_array());
		json_array_append_new(list, json_pack("{ss ss}", "HostIp",
						      berth_json_string(v, "host_ip") ?: "",
						      "HostPort",
						      berth_json_string(v, "published") ?: ""));
	}
	json_object_set_new(config, "ExposedPorts", exposed);
	json_object_set_new(hc, "PortBindings", bindings);
}

/* The target of a Binds entry "src:dst[:opts]". */
static bool bind_targets(const json_t *binds, const char *target)
{
	size_t i;
	json_t *b;
	json_array_foreach(binds, i, b) {
		const char *s = json_string_value(b);
		const char *dst = s ? strchr(s, ':') : NULL;
		if (dst && strncmp(dst + 1, target, strlen(target)) == 0 &&
		    (dst[1 + strlen(target)] == '\0' || dst[1 + strlen(target)] == ':'))
			return true;
	}
	return false;
}

void compose_inherit_volumes(json_t *body, const json_t *inherit)
{
	json_t *hc = json_object_get(body, "HostConfig");
	json_t *mounts = json_object_get(hc, "Mounts");
	if (mounts == NULL)
		json_object_set_new(hc, "Mounts", mounts = json_array());
	const char *target;
	json_t *name;
	json_object_foreach((json_t *)inherit, target, name) {
		bool taken = bind_targets(json_object_get(hc, "Binds"), target) ||
			     json_object_get(json_object_get(hc, "Tmpfs"), target);
		size_t i;
		json_t *m;
		json_array_foreach(mounts, i, m) {
			if (strcmp(berth_json_string(m, "Target") ?: "", target) != 0)
				continue;
			taken = true;
			/* an anonymous volume of the service: the old one again */
			if (strcmp(berth_json_string(m, "Type") ?: "", "volume") == 0 &&
			    !json_object_get(m, "Source"))
				json_object_set(m, "Source", name);
		}
		if (!taken)
			json_array_append_new(mounts, json_pack("{ss sO ss sb}", "Type", "volume",
								"Source", name, "Target", target,
								"ReadOnly", 0));
	}
}

/* volumes, tmpfs, secrets and configs -> Binds, Mounts, Tmpfs */
static void mounts(const berth_compose_project *p, const json_t *svc, json_t *hc)
{
	json_t *binds = json_array(), *mounts = json_array();
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(svc, "volumes"), i, v) {
		const char *type = berth_json_string(v, "type") ?: "volume";
		const char *src = berth_json_string(v, "source");
		const char *dst = berth_json_string(v, "target");
		bool ro = json_is_true(json_object_get(v, "read_only"));
		json_t *bind = json_object_get(v, "bind");
		if (strcmp(type, "bind") == 0 && src &&
		    !json_is_false(json_object_get(bind, "create_host_path"))) {
			/* Binds create a missing host directory, as Compose wants */
			json_array_append_new(binds, json_sprintf("%s:%s%s", src, dst, ro ? ":ro" : ""));
			continue;
		}
		json_t *m = json_pack("{ss ss sb}", "Type", type, "Target", dst, "ReadOnly", ro);
		if (src && strcmp(type, "volume") == 0) {
			const json_t *top = json_object_get(json_object_get(p->model, "volumes"), src);
			json_object_set_new(m, "Source", json_string(berth_json_string(top, "name") ?: src));
		} else if (src) {
			json_object_set_new(m, "Source", json_string(src));
		}
		if (json_is_true(json_object_get(json_object_get(v, "volume"), "nocopy")))
			json_object_set_new(m, "VolumeOptions", json_pack("{sb}", "NoCopy", 1));
		json_array_append_new(mounts, m);
	}
	static const char *const refs[][2] = {{"secrets", "/run/secrets/"}, {"configs", "/"}};
	for (size_t r = 0; r < 2; r++)
		json_array_foreach(json_object_get(svc, refs[r][0]), i, v) {
			const char *src = berth_json_string(v, "source");
			const json_t *top = json_object_get(json_object_get(p->model, refs[r][0]), src);
			const char *file = berth_json_string(top, "file");
			const char *target = berth_json_string(v, "target");
			if (file == NULL)
				continue;
			json_array_append_new(binds, json_sprintf("%s:%s%s:ro", file,
								  target && target[0] == '/' ? "" : refs[r][1],
								  target ? target : src));
		}
	json_t *tmpfs = json_object();
	json_array_foreach(json_object_get(svc, "tmpfs"), i, v)
		if (json_is_string(v))
			json_object_set_new(tmpfs, json_string_value(v), json_string(""));
	json_object_set_new(hc, "Binds", binds);
	json_object_set_new(hc, "Mounts", mounts);
	if (json_object_size(tmpfs))
		json_object_set_new(hc, "Tmpfs", tmpfs);
	else
		json_decref(tmpfs);
}

static json_t *restart_policy(const json_t *svc)
{
	const char *r = berth_json_string(svc, "restart") ?: "no";
	const char *colon = strchr(r, ':');
	if (colon == NULL)
		return json_pack("{ss si}", "Name", r, "MaximumRetryCount", 0);
	char *name cleanup_free = berth_xstrndup(r, (size_t)(colon - r));
	return json_pack("{ss si}", "Name", name, "MaximumRetryCount", atoi(colon + 1));
}

static void resources(const json_t *svc, json_t *hc)
{
	set_int_str(hc, "Memory", svc, "mem_limit");
	set_int_str(hc, "MemoryReservation", svc, "mem_reservation");
	set_int_str(hc, "MemorySwap", svc, "memswap_limit");
	set_int_str(hc, "ShmSize", svc, "shm_size");
	set_copy(hc, "PidsLimit", svc, "pids_limit");
	set_copy(hc, "CpuShares", svc, "cpu_shares");
	set_copy(hc, "CpuQuota", svc, "cpu_quota");
	set_copy(hc, "CpuPeriod", svc, "cpu_period");
	json_t *cpus = json_object_get(svc, "cpus");
	if (json_is_number(cpus))
		json_object_set_new(hc, "NanoCpus", json_integer((json_int_t)(json_number_value(cpus) * 1e9)));
	json_t *limits = json_object_get(json_object_get(json_object_get(svc, "deploy"), "resources"), "limits");
	const char *mem = berth_json_string(limits, "memory");
	if (mem && !json_object_get(hc, "Memory")) {
		long long bytes = strtoll(mem, NULL, 10);
		char unit = mem[strspn(mem, "0123456789.")];
		bytes <<= unit == 'k' || unit == 'K' ? 10 : unit == 'm' || unit == 'M' ? 20
						: unit == 'g' || unit == 'G' ? 30 : 0;
		json_object_set_new(hc, "Memory", json_integer(bytes));
	}
	const char *lcpus = berth_json_string(limits, "cpus");
	if (lcpus && !json_object_get(hc, "NanoCpus"))
		json_object_set_new(hc, "NanoCpus", json_integer((json_int_t)(atof(lcpus) * 1e9)));
	json_t *pids = json_object_get(limits, "pids");
	if (json_is_integer(pids) && !json_object_get(hc, "PidsLimit"))
		json_object_set(hc, "PidsLimit", pids);
	json_t *ulimits = json_array();
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(svc, "ulimits"), k, v) {
		json_int_t soft = json_is_integer(v) ? json_integer_value(v)
						     : json_integer_value(json_object_get(v, "soft"));
		json_int_t hard = json_is_integer(v) ? soft : json_integer_value(json_object_get(v, "hard"));
		json_array_append_new(ulimits, json_pack("{ss sI sI}", "Name", k, "Soft", soft, "Hard", hard));
	}
	json_object_set_new(hc, "Ulimits", ulimits);
}

static json_t *extra_hosts(const json_t *svc)
{
	json_t *out = json_array();
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(svc, "extra_hosts"), i, v) {
		char *h cleanup_free = berth_xstrdup(json_string_value(v) ?: "");
		char *eq = strchr(h, '=');
		if (eq)
			*eq = ':';
		json_array_append_new(out, json_string(h));
	}
	return out;
}

/* NetworkMode and EndpointsConfig: every network of the service, with the
 * service name as an alias so that the others reach it by name. */
static void networking(const berth_compose_project *p, const char *service, const json_t *svc,
		       bool with_networks, json_t *hc, json_t *body)
{
	const char *mode = berth_json_string(svc, "network_mode");
	if (mode) {
		if (berth_str_has_prefix(mode, "service:"))
			json_object_set_new(hc, "NetworkMode", json_sprintf("container:%s-%s-1", p->name,
									     mode + 8));
		else
			json_object_set_new(hc, "NetworkMode", json_string(mode));
		return;
	}
	if (!with_networks)
		return;
	json_t *endpoints = json_object();
	const char *k;
	json_t *v;
	const char *first = NULL;
	json_object_foreach(json_object_get(svc, "networks"), k, v) {
		const json_t *top = json_object_get(json_object_get(p->model, "networks"), k);
		const char *name = berth_json_string(top, "name") ?: k;
		json_t *aliases = json_pack("[s]", service);
		size_t i;
		json_t *a;
		json_array_foreach(json_object_get(v, "aliases"), i, a)
			json_array_append(aliases, a);
		json_t *ep = json_pack("{so}", "Aliases", aliases);
		const char *ip4 = berth_json_string(v, "ipv4_address");
		if (ip4)
			json_object_set_new(ep, "IPAMConfig", json_pack("{ss}", "IPv4Address", ip4));
		json_object_set_new(endpoints, name, ep);
		if (first == NULL || strcmp(k, "default") == 0)
			first = name;
	}
	if (first)
		json_object_set_new(hc, "NetworkMode", json_string(first));
	json_object_set_new(body, "NetworkingConfig", json_pack("{so}", "EndpointsConfig", endpoints));
}

static void host_config(const berth_compose_project *p, const json_t *svc, bool oneoff,
			json_t *hc)
{
	mounts(p, svc, hc);
	resources(svc, hc);
	json_object_set_new(hc, "RestartPolicy", restart_policy(svc));
	json_object_set_new(hc, "ExtraHosts", extra_hosts(svc));
	static const char *const copies[][2] = {
		{"CapAdd", "cap_add"}, {"CapDrop", "cap_drop"}, {"Privileged", "privileged"},
		{"ReadonlyRootfs", "read_only"}, {"Init", "init"}, {"Dns", "dns"},
		{"DnsSearch", "dns_search"}, {"DnsOptions", "dns_opt"}, {"Sysctls", "sysctls"},
		{"SecurityOpt", "security_opt"}, {"GroupAdd", "group_add"},
		{"OomScoreAdj", "oom_score_adj"}, {"Runtime", "runtime"}};
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(copies); i++)
		set_copy(hc, copies[i][0], svc, copies[i][1]);
	static const char *const modes[][2] = {{"PidMode", "pid"}, {"IpcMode", "ipc"},
					       {"UTSMode", "uts"}, {"UsernsMode", "userns_mode"},
					       {"CgroupParent", "cgroup_parent"}};
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(modes); i++)
		set_str(hc, modes[i][0], svc, modes[i][1]);
	json_t *logging = json_object_get(svc, "logging");
	if (logging)
		json_object_set_new(hc, "LogConfig",
				    json_pack("{ss sO}", "Type", berth_json_string(logging, "driver") ?: "",
					      "Config", json_object_get(logging, "options") ?: json_object()));
	if (oneoff)
		json_object_set_new(hc, "RestartPolicy", json_pack("{ss}", "Name", "no"));
}

json_t *berth_compose_create_body(const berth_compose_project *p, const char *service,
				  const json_t *svc, int number, bool oneoff, bool with_networks)
{
	json_t *body = json_object(), *hc = json_object();
	char *image cleanup_free = compose_image_name(p, service, svc);
	json_object_set_new(body, "Image", json_string(image));
	set_copy(body, "Cmd", svc, "command");
	set_copy(body, "Entrypoint", svc, "entrypoint");
	json_object_set_new(body, "Env", env_list(svc));
	static const char *const strs[][2] = {{"WorkingDir", "working_dir"}, {"User", "user"},
					      {"Hostname", "hostname"}, {"Domainname", "domainname"},
					      {"StopSignal", "stop_signal"}, {"MacAddress", "mac_address"}};
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(strs); i++)
		set_str(body, strs[i][0], svc, strs[i][1]);
	set_copy(body, "Tty", svc, "tty");
	set_copy(body, "OpenStdin", svc, "stdin_open");
	int stop = compose_stop_timeout(svc);
	if (stop >= 0)
		json_object_set_new(body, "StopTimeout", json_integer(stop));
	json_t *h = healthcheck(json_object_get(svc, "healthcheck"));
	if (h)
		json_object_set_new(body, "Healthcheck", h);
	json_object_set_new(body, "Labels", labels(p, service, svc, number, oneoff));
	ports(svc, !oneoff, body, hc);
	host_config(p, svc, oneoff, hc);
	networking(p, service, svc, with_networks, hc, body);
	json_object_set_new(body, "HostConfig", hc);
	return body;
}
