/*
 * changes.c - the Dockerfile instructions `docker import --change` and
 * `docker commit --change` accept, applied to a container config as
 * dockerd's BuildFromConfig does: CMD, ENTRYPOINT, ENV, EXPOSE, HEALTHCHECK,
 * LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME, WORKDIR.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

typedef struct change_state {
	json_t *config;
	bool cmd_set;
} change_state;

typedef int (*change_fn)(change_state *st, const char *args, berth_error **err);

/* Shell-like words: whitespace splits, quotes group, backslash escapes. */
static char **split_words(const char *s)
{
	char **words = berth_xcalloc(1, sizeof(*words));
	size_t n = 0;
	berth_buf w = {0};
	bool in_word = false;
	char quote = 0;
	for (const char *p = s;; p++) {
		char ch = *p;
		if (ch == '\0' || (!quote && isspace((unsigned char)ch))) {
			if (in_word) {
				words = berth_xrealloc(words, (n + 2) * sizeof(*words));
				words[n++] = berth_buf_steal(&w);
				words[n] = NULL;
			}
			in_word = false;
			if (ch == '\0')
				break;
			continue;
		}
		in_word = true;
		if (ch == quote) {
			quote = 0;
		} else if (!quote && (ch == '"' || ch == '\'')) {
			quote = ch;
		} else if (ch == '\\' && quote != '\'' && p[1]) {
			berth_buf_append(&w, ++p, 1);
		} else {
			berth_buf_append(&w, &ch, 1);
		}
	}
	berth_buf_reset(&w);
	return words;
}

/* The exec form ["a", "b"], or NULL for the shell form. */
static json_t *exec_form(const char *args)
{
	json_t *j = json_loads(args, 0, NULL);
	if (!json_is_array(j)) {
		json_decref(j);
		return NULL;
	}
	size_t i;
	json_t *v;
	json_array_foreach(j, i, v) {
		if (!json_is_string(v)) {
			json_decref(j);
			return NULL;
		}
	}
	return j;
}

static json_t *command(const char *args)
{
	json_t *j = exec_form(args);
	return j ? j : json_pack("[s,s,s]", "/bin/sh", "-c", args);
}

static json_t *config_object(change_state *st, const char *key)
{
	json_t *o = json_object_get(st->config, key);
	if (!json_is_object(o))
		json_object_set_new(st->config, key, o = json_object());
	return o;
}

static int do_cmd(change_state *st, const char *args, berth_error **err)
{
	json_object_set_new(st->config, "Cmd", command(args));
	st->cmd_set = true;
	return 0;
}

static int do_entrypoint(change_state *st, const char *args, berth_error **err)
{
	json_object_set_new(st->config, "Entrypoint", command(args));
	if (!st->cmd_set) /* a new entrypoint drops an inherited CMD */
		json_object_set_new(st->config, "Cmd", json_null());
	return 0;
}

/* "k=v k2=v2", or the legacy "k value with spaces". */
static int key_values(const char *args, const char *what, json_t *out, berth_error **err)
{
	char **words = split_words(args);
	bool pairs = words[0] && strchr(words[0], '=');
	int rc = 0;
	if (words[0] && !pairs) {
		const char *rest = args + strcspn(args, " \t");
		rest += strspn(rest, " \t");
		if (*rest == '\0')
			rc = berth_error_set(err, 400, "%s must have two arguments", what);
		else
			json_object_set_new(out, words[0], json_string(rest));
	} else if (words[0] == NULL) {
		rc = berth_error_set(err, 400, "%s requires at least one argument", what);
	}
	for (char **w = words; pairs && rc == 0 && *w; w++) {
		char *eq = strchr(*w, '=');
		if (eq == NULL || eq == *w) {
			rc = berth_error_set(err, 400, "%s names can not be blank", what);
			break;
		}
		*eq = '\0';
		json_object_set_new(out, *w, json_string(eq + 1));
	}
	berth_strv_free(words);
	return rc;
}

static int do_env(change_state *st, const char *args, berth_error **err)
{
	json_t *vars cleanup_json = json_object();
	if (key_values(args, "ENV", vars, err) < 0)
		return -1;
	json_t *env = json_object_get(st->config, "Env");
	if (!json_is_array(env))
		json_object_set_new(st->config, "Env", env = json_array());
	const char *k;
	json_t *v;
	json_object_foreach(vars, k, v) {
		char *entry = berth_xasprintf("%s=%s", k, json_string_value(v));
		size_t klen = strlen(k), i;
		json_t *have;
		bool replaced = false;
		json_array_foreach(env, i, have) {
			const char *h = json_string_value(have);
			if (h && strncmp(h, k, klen) == 0 && h[klen] == '=') {
				json_array_set_new(env, i, json_string(entry));
				replaced = true;
				break;
			}
		}
		if (!replaced)
			json_array_append_new(env, json_string(entry));
		free(entry);
	}
	return 0;
}

static int do_label(change_state *st, const char *args, berth_error **err)
{
	return key_values(args, "LABEL", config_object(st, "Labels"), err);
}

static int do_expose(change_state *st, const char *args, berth_error **err)
{
	char **words = split_words(args);
	json_t *ports = config_object(st, "ExposedPorts");
	int rc = 0;
	for (char **w = words; *w && rc == 0; w++) {
		char *slash = strchr(*w, '/');
		const char *proto = slash ? slash + 1 : "tcp";
		if (slash)
			*slash = '\0';
		char *dash = strchr(*w, '-');
		char *end;
		long lo = strtol(*w, &end, 10), hi = lo;
		if (dash && end == dash)
			hi = strtol(dash + 1, &end, 10);
		if (*end != '\0' || lo <= 0 || hi > 65535 || hi < lo) {
			rc = berth_error_set(err, 400, "invalid containerPort: %s", *w);
			break;
		}
		for (long p = lo; p <= hi; p++) {
			char key[32];
			snprintf(key, sizeof(key), "%ld/%s", p, proto);
			json_object_set_new(ports, key, json_object());
		}
	}
	berth_strv_free(words);
	return rc;
}

static int do_volume(change_state *st, const char *args, berth_error **err)
{
	json_t *list cleanup_json = exec_form(args);
	char **words = list ? NULL : split_words(args);
	json_t *vols = config_object(st, "Volumes");
	size_t i;
	json_t *v;
	json_array_foreach(list, i, v)
		json_object_set_new(vols, json_string_value(v), json_object());
	for (char **w = words; w && *w; w++)
		json_object_set_new(vols, *w, json_object());
	berth_strv_free(words);
	return json_object_size(vols) ? 0 : berth_error_set(err, 400, "VOLUME specified can not be "
									 "an empty string");
}

/* WORKDIR relative to the current one, as dockerd's normalizeWorkdir:
 * filepath.Join("/", current, requested). */
static int do_workdir(change_state *st, const char *args, berth_error **err)
{
	const char *cur = berth_json_string(st->config, "WorkingDir");
	char *joined cleanup_free = args[0] == '/' ? berth_xstrdup(args)
				  : berth_xasprintf("/%s/%s", cur ? cur : "", args);
	char *clean cleanup_free = berth_path_clean(joined);
	json_object_set_new(st->config, "WorkingDir", json_string(clean));
	return 0;
}

static int set_string(change_state *st, const char *key, const char *args)
{
	json_object_set_new(st->config, key, json_string(args));
	return 0;
}

static int do_user(change_state *st, const char *args, berth_error **err)
{
	return set_string(st, "User", args);
}

static int do_stopsignal(change_state *st, const char *args, berth_error **err)
{
	return set_string(st, "StopSignal", args);
}

static int do_onbuild(change_state *st, const char *args, berth_error **err)
{
	size_t n = strcspn(args, " \t");
	if ((n == 7 && strncasecmp(args, "ONBUILD", 7) == 0) ||
	    (n == 4 && strncasecmp(args, "FROM", 4) == 0) ||
	    (n == 10 && strncasecmp(args, "MAINTAINER", 10) == 0))
		return berth_error_set(err, 400, "%.*s isn't allowed as an ONBUILD trigger", (int)n,
				       args);
	json_t *list = json_object_get(st->config, "OnBuild");
	if (!json_is_array(list))
		json_object_set_new(st->config, "OnBuild", list = json_array());
	char *upper cleanup_free = berth_xstrdup(args);
	for (size_t i = 0; i < n; i++)
		upper[i] = (char)toupper((unsigned char)upper[i]);
	json_array_append_new(list, json_string(upper));
	return 0;
}

static int healthcheck_option(json_t *hc, const char *opt, berth_error **err)
{
	static const char *const durations[][2] = {
		{"--interval=", "Interval"}, {"--timeout=", "Timeout"},
		{"--start-period=", "StartPeriod"}, {"--start-interval=", "StartInterval"},
	};
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(durations); i++) {
		if (!berth_str_has_prefix(opt, durations[i][0]))
			continue;
		int64_t ns;
		if (berth_duration_parse(opt + strlen(durations[i][0]), &ns, err) < 0)
			return -1;
		json_object_set_new(hc, durations[i][1], json_integer(ns));
		return 0;
	}
	if (berth_str_has_prefix(opt, "--retries=")) {
		json_object_set_new(hc, "Retries", json_integer(atoi(opt + 10)));
		return 0;
	}
	return berth_error_set(err, 400, "unknown flag: %s", opt);
}

static int do_healthcheck(change_state *st, const char *args, berth_error **err)
{
	json_t *hc cleanup_json = json_object();
	const char *p = args;
	while (berth_str_has_prefix(p, "--")) {
		size_t n = strcspn(p, " \t");
		char *opt cleanup_free = berth_xstrndup(p, n);
		if (healthcheck_option(hc, opt, err) < 0)
			return -1;
		p += n;
		p += strspn(p, " \t");
	}
	size_t n = strcspn(p, " \t");
	const char *rest = p + n + strspn(p + n, " \t");
	if (n == 4 && strncasecmp(p, "NONE", 4) == 0 && *rest == '\0') {
		json_object_set_new(st->config, "Healthcheck", json_pack("{s:[s]}", "Test", "NONE"));
		return 0;
	}
	if (!(n == 3 && strncasecmp(p, "CMD", 3) == 0) || *rest == '\0')
		return berth_error_set(err, 400, "Unknown type \"%.*s\" in HEALTHCHECK (try CMD)",
				       (int)n, p);
	json_t *exec = exec_form(rest);
	json_t *test = json_array();
	json_array_append_new(test, json_string(exec ? "CMD" : "CMD-SHELL"));
	if (exec)
		json_array_extend(test, exec);
	else
		json_array_append_new(test, json_string(rest));
	json_decref(exec);
	json_object_set_new(hc, "Test", test);
	json_object_set(st->config, "Healthcheck", hc);
	return 0;
}

static const struct {
	const char *name;
	change_fn fn;
} instructions[] = {
	{"cmd", do_cmd},	 {"entrypoint", do_entrypoint}, {"env", do_env},
	{"expose", do_expose},	 {"healthcheck", do_healthcheck}, {"label", do_label},
	{"onbuild", do_onbuild}, {"stopsignal", do_stopsignal}, {"user", do_user},
	{"volume", do_volume},	 {"workdir", do_workdir},
};

static int apply_one(change_state *st, const char *line, berth_error **err)
{
	line += strspn(line, " \t");
	size_t n = strcspn(line, " \t");
	if (n == 0)
		return 0;
	char *name cleanup_free = berth_xstrndup(line, n);
	for (char *p = name; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	char *args cleanup_free = berth_xstrdup(line + n + strspn(line + n, " \t"));
	for (size_t len = strlen(args); len && isspace((unsigned char)args[len - 1]);)
		args[--len] = '\0';
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(instructions); i++) {
		if (strcmp(instructions[i].name, name) != 0)
			continue;
		if (*args == '\0')
			return berth_error_set(err, 400, "%s requires at least one argument", name);
		return instructions[i].fn(st, args, err);
	}
	return berth_error_set(err, 400, "%s is not a valid change command", name);
}

int berth_image_apply_changes(json_t *config, char *const *changes, berth_error **err)
{
	change_state st = {.config = config};
	for (char *const *c = changes; c && *c; c++) {
		char **lines = berth_str_split(*c, '\n');
		int rc = 0;
		for (char **l = lines; *l && rc == 0; l++)
			rc = apply_one(&st, *l, err);
		berth_strv_free(lines);
		if (rc < 0)
			return -1;
	}
	return 0;
}
