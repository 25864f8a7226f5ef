/*
 * normalize.c - one canonical form for every service field, the one
 * `docker compose config` prints: lists of KEY=VALUE become mappings, short
 * port and volume syntaxes become long ones, strings become lists where the
 * field is a list, relative paths become absolute, numbers written as
 * strings (after interpolation) become numbers. Merging and the engine side
 * only ever see this form.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef struct norm {
	const char *service;
	const char *dir;
	const json_t *env;
	const compose_pos *pos;
	char path[256];
} norm;

static const char *field_path(norm *n, const char *field)
{
	snprintf(n->path, sizeof(n->path), "services.%s.%s", n->service, field);
	return n->path;
}

/* ------------------------------------------------------------ scalar types */

static int to_int(norm *n, json_t *obj, const char *key, const char *path, berth_error **err)
{
	json_t *v = json_object_get(obj, key);
	if (v == NULL || json_is_integer(v) || json_is_null(v))
		return 0;
	if (json_is_real(v)) {
		json_object_set_new(obj, key, json_integer((json_int_t)json_real_value(v)));
		return 0;
	}
	const char *s = json_string_value(v);
	char *end;
	errno = 0;
	long long i = s ? strtoll(s, &end, 10) : 0;
	if (s == NULL || *s == '\0' || *end != '\0' || errno)
		return compose_error_at(err, n->pos, path, "%s must be a integer", path);
	json_object_set_new(obj, key, json_integer(i));
	return 0;
}

static int to_number(norm *n, json_t *obj, const char *key, const char *path, berth_error **err)
{
	json_t *v = json_object_get(obj, key);
	if (!json_is_string(v))
		return 0;
	char *end;
	double d = strtod(json_string_value(v), &end);
	if (*json_string_value(v) == '\0' || *end != '\0')
		return compose_error_at(err, n->pos, path, "%s must be a number", path);
	json_object_set_new(obj, key, json_real(d));
	return 0;
}

static int to_bool(norm *n, json_t *obj, const char *key, const char *path, berth_error **err)
{
	json_t *v = json_object_get(obj, key);
	if (!json_is_string(v))
		return 0;
	const char *s = json_string_value(v);
	if (strcasecmp(s, "true") == 0 || strcmp(s, "1") == 0 || strcasecmp(s, "yes") == 0)
		json_object_set_new(obj, key, json_true());
	else if (strcasecmp(s, "false") == 0 || strcmp(s, "0") == 0 || strcasecmp(s, "no") == 0)
		json_object_set_new(obj, key, json_false());
	else
		return compose_error_at(err, n->pos, path, "%s must be a boolean", path);
	return 0;
}

typedef int (*scalar_fn)(norm *, json_t *, const char *, const char *, berth_error **);

static const struct {
	const char *field;
	scalar_fn fn;
} scalars[] = {
	{"scale", to_int}, {"cpu_shares", to_int}, {"cpu_quota", to_int}, {"cpu_period", to_int},
	{"pids_limit", to_int}, {"mem_swappiness", to_int}, {"oom_score_adj", to_int},
	{"cpu_count", to_int}, {"cpu_percent", to_int}, {"cpus", to_number}, {"init", to_bool},
	{"privileged", to_bool}, {"read_only", to_bool}, {"tty", to_bool},
	{"stdin_open", to_bool}, {"oom_kill_disable", to_bool}, {"attach", to_bool},
};

/* ------------------------------------------------------------------ sizes */

/* docker's RAMInBytes: "512m", "1g", "1024" (bytes). */
int compose_parse_size(const char *s, long long *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || errno || v < 0)
		return -1;
	while (*end == ' ')
		end++;
	long long mult = 1;
	switch (tolower((unsigned char)*end)) {
	case '\0': break;
	case 'b': mult = 1; break;
	case 'k': mult = 1LL << 10; break;
	case 'm': mult = 1LL << 20; break;
	case 'g': mult = 1LL << 30; break;
	case 't': mult = 1LL << 40; break;
	default: return -1;
	}
	if (*end && end[1] && strcasecmp(end + 1, "b") != 0 && strcasecmp(end + 1, "ib") != 0 &&
	    !(tolower((unsigned char)*end) == 'b' && end[1] == '\0'))
		return -1;
	*out = (long long)(v * (double)mult);
	return 0;
}

static int to_size(norm *n, json_t *obj, const char *key, const char *path, berth_error **err)
{
	json_t *v = json_object_get(obj, key);
	if (v == NULL || json_is_null(v))
		return 0;
	long long bytes;
	if (json_is_integer(v))
		bytes = json_integer_value(v);
	else if (!json_is_string(v) || compose_parse_size(json_string_value(v), &bytes) < 0)
		return compose_error_at(err, n->pos, path, "%s: invalid size", path);
	json_object_set_new(obj, key, json_sprintf("%lld", bytes));
	return 0;
}

static const char *const size_fields[] = {"mem_limit", "mem_reservation", "memswap_limit",
					  "shm_size"};

/* ------------------------------------------------------------ collections */

char *compose_scalar_text(const json_t *v)
{
	if (json_is_string(v))
		return berth_xstrdup(json_string_value(v));
	if (json_is_integer(v))
		return berth_xasprintf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
	if (json_is_real(v))
		return berth_xasprintf("%g", json_real_value(v));
	if (json_is_boolean(v))
		return berth_xstrdup(json_is_true(v) ? "true" : "false");
	return NULL;
}

/* ["K=V", "K"] or {K: V} -> {K: "V"}; a bare K takes lookup's value (or null). */
static int list_to_map(norm *n, json_t *obj, const char *key, const json_t *lookup,
		       berth_error **err)
{
	json_t *v = json_object_get(obj, key);
	if (v == NULL)
		return 0;
	json_t *map = json_object();
	if (json_is_array(v)) {
		size_t i;
		json_t *item;
		json_array_foreach(v, i, item) {
			char *s cleanup_free = compose_scalar_text(item);
			if (s == NULL) {
				json_decref(map);
				const char *p = field_path(n, key);
				return compose_error_at(err, n->pos, p, "%s[%zu] must be a string", p, i);
			}
			char *eq = strchr(s, '=');
			if (eq) {
				*eq = '\0';
				json_object_set_new(map, s, json_string(eq + 1));
			} else {
				const char *l = lookup ? berth_json_string(lookup, s) : NULL;
				json_object_set_new(map, s, l ? json_string(l) : json_null());
			}
		}
	} else if (json_is_object(v)) {
		const char *k;
		json_t *item;
		json_object_foreach(v, k, item) {
			char *s cleanup_free = compose_scalar_text(item);
			json_object_set_new(map, k, s ? json_string(s) : json_null());
		}
	}
	json_object_set_new(obj, key, map);
	return 0;
}

static void string_to_list(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	if (json_is_string(v))
		json_object_set_new(obj, key, json_pack("[O]", v));
}

/* "command: echo hi" -> ["echo", "hi"] */
static int command_list(norm *n, json_t *obj, const char *key, berth_error **err)
{
	json_t *v = json_object_get(obj, key);
	if (!json_is_string(v))
		return 0;
	json_t *words = NULL;
	if (compose_shell_split(json_string_value(v), &words, err) < 0) {
		const char *p = field_path(n, key);
		return compose_error_at(err, n->pos, p, "%s: invalid command line string", p);
	}
	json_object_set_new(obj, key, words);
	return 0;
}

/* ------------------------------------------------------------------- ports */

static int port_range(const char *s, long *lo, long *hi)
{
	char *end;
	if (*s == '\0')
		return -1;
	*lo = strtol(s, &end, 10);
	*hi = *lo;
	if (*end == '-')
		*hi = strtol(end + 1, &end, 10);
	return (*end == '\0' && *lo > 0 && *hi >= *lo && *hi <= 65535) ? 0 : -1;
}

/* "[IP:][HOST[-HOST]:]CONTAINER[-CONTAINER][/PROTO]" -> long entries */
static int port_short(norm *n, const char *spec, size_t idx, json_t *out, berth_error **err)
{
	char *s cleanup_free = berth_xstrdup(spec);
	const char *proto = "tcp";
	char *slash = strrchr(s, '/');
	if (slash) {
		*slash = '\0';
		proto = slash + 1;
	}
	char *container = strrchr(s, ':');
	char *host = NULL, *ip = NULL;
	if (container) {
		*container++ = '\0';
		host = s;
		char *c2 = strrchr(s, ':');
		if (c2 && (s[0] != '[' || c2 > strchr(s, ']'))) {
			*c2 = '\0';
			ip = s;
			host = c2 + 1;
		} else if (s[0] == '[' || strchr(s, '.')) {
			/* "IP::80" leaves an empty host; "1.2.3.4:80" is not that */
			ip = NULL;
		}
		if (ip && ip[0] == '[') {
			ip++;
			ip[strlen(ip) - 1] = '\0';
		}
	} else {
		container = s;
	}
	long clo, chi, hlo = 0, hhi = 0;
	const char *p = field_path(n, "ports");
	if (port_range(container, &clo, &chi) < 0)
		return compose_error_at(err, n->pos, p, "%s[%zu]: invalid containerPort: %s", p, idx,
					container);
	if (host && *host && port_range(host, &hlo, &hhi) < 0)
		return compose_error_at(err, n->pos, p, "%s[%zu]: invalid hostPort: %s", p, idx, host);
	/* as nat.ParsePortSpec: a host range only for one container port */
	if (host && *host && hhi - hlo != chi - clo && clo != chi)
		return compose_error_at(err, n->pos, p,
					"%s[%zu]: invalid ranges specified for container and host "
					"Ports: %s and %s",
					p, idx, container, host);
	for (long port = clo; port <= chi; port++) {
		json_t *e = json_pack("{ss sI ss}", "mode", "ingress", "target", (json_int_t)port,
				      "protocol", proto);
		if (host && *host && clo == chi && hlo != hhi)
			/* one container port, a host range: the engine picks in it */
			json_object_set_new(e, "published", json_sprintf("%ld-%ld", hlo, hhi));
		else if (host && *host)
			json_object_set_new(e, "published",
					    json_sprintf("%ld", hlo == hhi ? hlo : hlo + (port - clo)));
		if (ip && *ip)
			json_object_set_new(e, "host_ip", json_string(ip));
		json_array_append_new(out, e);
	}
	return 0;
}

static int norm_ports(norm *n, json_t *svc, berth_error **err)
{
	json_t *ports = json_object_get(svc, "ports");
	if (!json_is_array(ports))
		return 0;
	json_t *out cleanup_json = json_array();
	size_t i;
	json_t *v;
	json_array_foreach(ports, i, v) {
		char *s cleanup_free = compose_scalar_text(v);
		if (json_is_object(v)) {
			json_t *e = json_copy(v);
			json_t *pub = json_object_get(e, "published");
			if (json_is_integer(pub))
				json_object_set_new(e, "published", json_sprintf("%" JSON_INTEGER_FORMAT,
									   json_integer_value(pub)));
			if (to_int(n, e, "target", field_path(n, "ports"), err) < 0) {
				json_decref(e);
				return -1;
			}
			if (!json_object_get(e, "protocol"))
				json_object_set_new(e, "protocol", json_string("tcp"));
			if (!json_object_get(e, "mode"))
				json_object_set_new(e, "mode", json_string("ingress"));
			json_array_append_new(out, e);
		} else if (s == NULL || port_short(n, s, i, out, err) < 0) {
			if (s == NULL) {
				const char *p = field_path(n, "ports");
				return compose_error_at(err, n->pos, p, "%s[%zu] must be a string or number",
							p, i);
			}
			return -1;
		}
	}
	json_object_set(svc, "ports", out);
	return 0;
}

static void norm_expose(json_t *svc)
{
	json_t *ex = json_object_get(svc, "expose");
	if (!json_is_array(ex))
		return;
	json_t *out = json_array();
	size_t i;
	json_t *v;
	json_array_foreach(ex, i, v) {
		char *s = compose_scalar_text(v);
		if (s)
			json_array_append_new(out, json_string(s));
		free(s);
	}
	json_object_set_new(svc, "expose", out);
}

/* ----------------------------------------------------------------- volumes */

static json_t *abs_json(const char *dir, const char *path)
{
	char *s cleanup_free = compose_abs_path(dir, path);
	return json_string(s);
}

static bool is_path(const char *s)
{
	return s[0] == '/' || s[0] == '.' || s[0] == '~';
}

static bool is_propagation(const char *s)
{
	static const char *const all[] = {"rprivate", "private", "rshared", "shared", "rslave",
					  "slave"};
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(all); i++)
		if (strcmp(s, all[i]) == 0)
			return true;
	return false;
}

static void bind_option(json_t *e, const char *key, const char *value)
{
	json_t *bind = json_object_get(e, "bind");
	if (bind == NULL)
		json_object_set_new(e, "bind", bind = json_object());
	json_object_set_new(bind, key, json_string(value));
}

static json_t *volume_short(norm *n, const char *spec)
{
	char **parts = berth_str_split(spec, ':');
	size_t np = berth_strv_len(parts);
	json_t *e = json_object();
	if (np == 1) {
		char *target cleanup_free = berth_path_clean(parts[0]);
		json_object_set_new(e, "type", json_string("volume"));
		json_object_set_new(e, "target", json_string(target));
		json_object_set_new(e, "volume", json_object());
	} else {
		bool bind = is_path(parts[0]);
		json_object_set_new(e, "type", json_string(bind ? "bind" : "volume"));
		json_object_set_new(e, "source", bind ? abs_json(n->dir, parts[0])
						       : json_string(parts[0]));
		/* as compose-go's transformVolumeMount (cleanTarget) */
		char *target cleanup_free = berth_path_clean(parts[1]);
		json_object_set_new(e, "target", json_string(target));
		char **modes = np > 2 ? berth_str_split(parts[2], ',') : NULL;
		for (size_t i = 0; modes && modes[i]; i++) {
			if (strcmp(modes[i], "ro") == 0)
				json_object_set_new(e, "read_only", json_true());
			else if (strcmp(modes[i], "nocopy") == 0)
				json_object_set_new(e, "volume", json_pack("{sb}", "nocopy", 1));
			else if (strcmp(modes[i], "z") == 0 || strcmp(modes[i], "Z") == 0)
				bind_option(e, "selinux", modes[i]);
			else if (is_propagation(modes[i]))
				bind_option(e, "propagation", modes[i]);
			/* anything else is ignored, as compose-go's ParseVolume does */
		}
		berth_strv_free(modes);
		/* compose-go gives every short one its section: bind (creating
		 * the host path, as Compose v1 did) or volume */
		const char *section = bind ? "bind" : "volume";
		json_t *sec = json_object_get(e, section);
		if (sec == NULL)
			json_object_set_new(e, section, sec = json_object());
		if (bind)
			json_object_set_new(sec, "create_host_path", json_true());
	}
	berth_strv_free(parts);
	return e;
}

/* A bind section creates the host path unless it says not to (compose-go's
 * defaultVolumeBind, after short syntax is parsed too). */
static void bind_default(json_t *e)
{
	json_t *bind = json_object_get(e, "bind");
	if (json_is_object(bind) && !json_object_get(bind, "create_host_path"))
		json_object_set_new(bind, "create_host_path", json_true());
}

static int norm_volumes(norm *n, json_t *svc, berth_error **err)
{
	json_t *vols = json_object_get(svc, "volumes");
	if (!json_is_array(vols))
		return 0;
	json_t *out cleanup_json = json_array();
	size_t i;
	json_t *v;
	const char *p = field_path(n, "volumes");
	json_array_foreach(vols, i, v) {
		if (json_is_string(v)) {
			if (*json_string_value(v) == '\0')
				return compose_error_at(err, n->pos, p, "%s[%zu]: invalid empty volume spec",
							p, i);
			const char *spec = json_string_value(v);
			size_t colons = 0;
			for (const char *c = spec; *c; c++)
				colons += *c == ':';
			if (colons > 2)
				return compose_error_at(err, n->pos, p,
							"%s[%zu]: invalid spec: %s: too many colons", p, i,
							spec);
			json_t *e = volume_short(n, spec);
			json_array_append_new(out, e);
			bind_default(e);
			continue;
		}
		if (!json_is_object(v))
			return compose_error_at(err, n->pos, p, "%s[%zu] must be a string or mapping", p,
						i);
		json_t *e = json_copy(v);
		json_array_append_new(out, e);
		const char *type = berth_json_string(e, "type");
		const char *src = berth_json_string(e, "source");
		if (type == NULL || berth_json_string(e, "target") == NULL)
			return compose_error_at(err, n->pos, p, "%s[%zu] missing %s", p, i,
						type ? "target" : "type");
		if (strcmp(type, "bind") == 0 && src)
			json_object_set_new(e, "source", abs_json(n->dir, src));
		bind_default(e);
		if (to_bool(n, e, "read_only", p, err) < 0)
			return -1;
	}
	json_object_set(svc, "volumes", out);
	return 0;
}

/* ------------------------------------------------------ networks, depends_on */

static void norm_networks(json_t *svc)
{
	json_t *nets = json_object_get(svc, "networks");
	if (json_is_array(nets)) {
		json_t *map = json_object();
		size_t i;
		json_t *v;
		json_array_foreach(nets, i, v)
			if (json_is_string(v))
				json_object_set_new(map, json_string_value(v), json_null());
		json_object_set_new(svc, "networks", map);
	}
}

static int norm_depends_on(norm *n, json_t *svc, berth_error **err)
{
	json_t *deps = json_object_get(svc, "depends_on");
	if (deps == NULL)
		return 0;
	json_t *map cleanup_json = json_object();
	const char *p = field_path(n, "depends_on");
	if (json_is_array(deps)) {
		size_t i;
		json_t *v;
		json_array_foreach(deps, i, v) {
			if (!json_is_string(v))
				return compose_error_at(err, n->pos, p, "%s[%zu] must be a string", p, i);
			json_object_set_new(map, json_string_value(v),
					    json_pack("{ss sb}", "condition", "service_started",
						      "required", 1));
		}
	} else {
		const char *k;
		json_t *v;
		json_object_foreach(deps, k, v) {
			json_t *e = json_is_object(v) ? json_copy(v) : json_object();
			json_object_set_new(map, k, e);
			const char *cond = berth_json_string(e, "condition");
			if (cond == NULL)
				json_object_set_new(e, "condition", json_string("service_started"));
			else if (strcmp(cond, "service_started") && strcmp(cond, "service_healthy") &&
				 strcmp(cond, "service_completed_successfully"))
				return compose_error_at(err, n->pos, p,
							"%s.%s.condition must be one of the following: "
							"\"service_started\", \"service_healthy\", "
							"\"service_completed_successfully\"",
							p, k);
			if (json_object_get(e, "required") == NULL)
				json_object_set_new(e, "required", json_true());
			if (to_bool(n, e, "required", p, err) < 0 || to_bool(n, e, "restart", p, err) < 0)
				return -1;
		}
	}
	json_object_set(svc, "depends_on", map);
	return 0;
}

static int norm_healthcheck(norm *n, json_t *svc, berth_error **err)
{
	json_t *h = json_object_get(svc, "healthcheck");
	if (!json_is_object(h))
		return 0;
	json_t *test = json_object_get(h, "test");
	if (json_is_string(test))
		json_object_set_new(h, "test", json_pack("[sO]", "CMD-SHELL", test));
	const char *p = field_path(n, "healthcheck.retries");
	if (to_int(n, h, "retries", p, err) < 0)
		return -1;
	return to_bool(n, h, "disable", field_path(n, "healthcheck.disable"), err);
}

static int norm_build(norm *n, json_t *svc, berth_error **err)
{
	json_t *b = json_object_get(svc, "build");
	if (b == NULL)
		return 0;
	if (json_is_string(b))
		json_object_set_new(svc, "build", b = json_pack("{sO}", "context", b));
	const char *ctx = berth_json_string(b, "context");
	if (ctx == NULL)
		ctx = ".";
	/* remote contexts (git, URLs) stay as they are */
	if (strstr(ctx, "://") == NULL && !berth_str_has_prefix(ctx, "git@"))
		json_object_set_new(b, "context", abs_json(n->dir, ctx));
	if (json_object_get(b, "dockerfile") == NULL && json_object_get(b, "dockerfile_inline") == NULL)
		json_object_set_new(b, "dockerfile", json_string("Dockerfile"));
	if (list_to_map(n, b, "args", n->env, err) < 0 || list_to_map(n, b, "labels", NULL, err) < 0)
		return -1;
	return 0;
}

/* -------------------------------------------------------------- environment */

static int load_env_file(norm *n, const json_t *entry, size_t idx, json_t *env, berth_error **err)
{
	const char *file = json_is_string(entry) ? json_string_value(entry)
						 : berth_json_string(entry, "path");
	bool required = true;
	const char *p = field_path(n, "env_file");
	if (file == NULL)
		return compose_error_at(err, n->pos, p, "%s[%zu] must be a string", p, idx);
	if (json_is_object(entry) && json_is_false(json_object_get(entry, "required")))
		required = false;
	char *path cleanup_free = compose_abs_path(n->dir, file);
	char *text cleanup_free = NULL;
	size_t len;
	berth_error *e cleanup_error = NULL;
	if (berth_file_read_all(path, &text, &len, &e) < 0) {
		if (!required && e->status == 404)
			return 0;
		return compose_error_at(err, n->pos, p, "env file %s not found: %s", path, e->msg);
	}
	return berth_compose_env_parse(path, text, n->env, env, err);
}

/* env_file entries, then environment over them; a bare KEY comes from the
 * project's environment. env_file is consumed. */
static int norm_environment(norm *n, json_t *svc, berth_error **err)
{
	json_t *files = json_object_get(svc, "env_file");
	json_t *env cleanup_json = json_object();
	if (json_is_string(files) || json_is_object(files)) {
		if (load_env_file(n, files, 0, env, err) < 0)
			return -1;
	} else if (json_is_array(files)) {
		size_t i;
		json_t *v;
		json_array_foreach(files, i, v)
			if (load_env_file(n, v, i, env, err) < 0)
				return -1;
	}
	json_object_del(svc, "env_file");
	if (list_to_map(n, svc, "environment", n->env, err) < 0)
		return -1;
	json_t *own = json_object_get(svc, "environment");
	if (own)
		json_object_update(env, own);
	if (json_object_size(env) > 0 || own)
		json_object_set(svc, "environment", env);
	return 0;
}

/* ------------------------------------------------------------------- misc */

static int norm_refs(norm *n, json_t *svc, const char *key, berth_error **err)
{
	json_t *list = json_object_get(svc, key);
	if (!json_is_array(list))
		return 0;
	size_t i;
	json_t *v;
	json_array_foreach(list, i, v) {
		if (json_is_string(v)) {
			json_array_set_new(list, i, v = json_pack("{sO}", "source", v));
		} else if (!json_is_object(v) || berth_json_string(v, "source") == NULL) {
			const char *p = field_path(n, key);
			return compose_error_at(err, n->pos, p, "%s[%zu] must be a string or a mapping with a source", p, i);
		}
		/* compose-go's default (transform.defaultSecretMount); configs
		 * get theirs ("/NAME") only when mounted */
		if (strcmp(key, "secrets") == 0 && !json_object_get(v, "target"))
			json_object_set_new(v, "target", json_sprintf("/run/secrets/%s",
								     berth_json_string(v, "source")));
	}
	return 0;
}

static void norm_extra_hosts(json_t *svc)
{
	json_t *h = json_object_get(svc, "extra_hosts");
	if (!json_is_object(h))
		return;
	json_t *list = json_array();
	const char *k;
	json_t *v;
	json_object_foreach(h, k, v)
		if (json_is_string(v))
			json_array_append_new(list, json_sprintf("%s=%s", k, json_string_value(v)));
	json_object_set_new(svc, "extra_hosts", list);
}

static int norm_scalars(norm *n, json_t *svc, berth_error **err)
{
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(scalars); i++)
		if (scalars[i].fn(n, svc, scalars[i].field, field_path(n, scalars[i].field), err) < 0)
			return -1;
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(size_fields); i++)
		if (to_size(n, svc, size_fields[i], field_path(n, size_fields[i]), err) < 0)
			return -1;
	json_t *deploy = json_object_get(svc, "deploy");
	if (json_is_object(deploy) &&
	    to_int(n, deploy, "replicas", field_path(n, "deploy.replicas"), err) < 0)
		return -1;
	return 0;
}

/* Fields set to null mean "not set". */
static void drop_nulls(json_t *svc)
{
	const char *k;
	json_t *v;
	void *tmp;
	json_object_foreach_safe(svc, tmp, k, v)
		if (json_is_null(v))
			json_object_del(svc, k);
}

int compose_normalize_service(const char *name, json_t *svc, const char *dir, const json_t *env,
			      const compose_pos *pos, berth_error **err)
{
	norm n = {.service = name, .dir = dir, .env = env, .pos = pos};
	drop_nulls(svc);
	static const char *const to_list[] = {"dns", "dns_search", "tmpfs"};
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(to_list); i++)
		string_to_list(svc, to_list[i]);
	norm_expose(svc);
	norm_networks(svc);
	norm_extra_hosts(svc);
	if (norm_scalars(&n, svc, err) < 0 || command_list(&n, svc, "command", err) < 0 ||
	    command_list(&n, svc, "entrypoint", err) < 0 || norm_ports(&n, svc, err) < 0 ||
	    norm_volumes(&n, svc, err) < 0 || norm_depends_on(&n, svc, err) < 0 ||
	    norm_healthcheck(&n, svc, err) < 0 || norm_build(&n, svc, err) < 0 ||
	    norm_environment(&n, svc, err) < 0 || list_to_map(&n, svc, "labels", NULL, err) < 0 ||
	    list_to_map(&n, svc, "sysctls", NULL, err) < 0 ||
	    list_to_map(&n, svc, "annotations", NULL, err) < 0 ||
	    norm_refs(&n, svc, "secrets", err) < 0 || norm_refs(&n, svc, "configs", err) < 0)
		return -1;
	return 0;
}
