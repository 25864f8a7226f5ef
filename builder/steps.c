/*
 * steps.c - the instructions that only change the image's config (ENV,
 * LABEL, CMD, ...): each expands its words where dockerd does, updates the
 * run config and commits an empty layer whose history says what it did,
 * as "#(nop) ENV A=b". RUN, COPY, ADD and WORKDIR's directory are in run.c
 * and copy.c.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/container/container.h"
#include "internal.h"

/* Go's %q of a string list: ["a" "b"]. */
static void go_quote_list(berth_buf *b, const json_t *list)
{
	berth_buf_puts(b, "[");
	size_t i;
	json_t *v;
	json_array_foreach(list, i, v) {
		berth_buf_puts(b, i ? " \"" : "\"");
		for (const char *s = json_string_value(v); s && *s; s++) {
			unsigned char c = (unsigned char)*s;
			if (c == '"' || c == '\\')
				berth_buf_printf(b, "\\%c", c);
			else if (c == '\n')
				berth_buf_puts(b, "\\n");
			else if (c == '\t')
				berth_buf_puts(b, "\\t");
			else if (c < 0x20 || c == 0x7f)
				berth_buf_printf(b, "\\x%02x", c);
			else
				berth_buf_append(b, s, 1);
		}
		berth_buf_puts(b, "\"");
	}
	berth_buf_puts(b, "]");
}

/* Go's %q of an int: a quoted rune literal ('\x02', 'A'). */
static void go_rune(berth_buf *b, int64_t r)
{
	if (r == '\'' || r == '\\')
		berth_buf_printf(b, "'\\%c'", (char)r);
	else if (r >= 0x20 && r < 0x7f)
		berth_buf_printf(b, "'%c'", (char)r);
	else if (r >= 0 && r < 0x100)
		berth_buf_printf(b, "'\\x%02x'", (unsigned)r);
	else
		berth_buf_printf(b, "'\\u%04x'", (unsigned)r);
}

/* Commits the step unless the cache has it. */
static int commit_nop(berth_build *b, build_state *st, const char *comment, berth_error **err)
{
	json_t *cmd cleanup_json = build_nop_cmd(st, comment);
	int hit = build_probe(b, st, cmd, err);
	if (hit != 0)
		return hit < 0 ? -1 : 0;
	return build_commit(b, st, cmd, NULL, err);
}

static json_t *config_member(build_state *st, const char *key, bool array)
{
	json_t *v = json_object_get(st->config, key);
	if (array ? json_is_array(v) : json_is_object(v))
		return v;
	v = array ? json_array() : json_object();
	json_object_set_new(st->config, key, v);
	return v;
}

static void env_set(json_t *env, const char *key, const char *value)
{
	size_t kl = strlen(key), i;
	json_t *v;
	char *entry cleanup_free = berth_xasprintf("%s=%s", key, value);
	json_array_foreach(env, i, v) {
		const char *s = json_string_value(v);
		if (s && strncmp(s, key, kl) == 0 && (s[kl] == '=' || s[kl] == '\0')) {
			json_array_set_new(env, i, json_string(entry));
			return;
		}
	}
	json_array_append_new(env, json_string(entry));
}

/* ENV and LABEL: expanded pairs. */
static int key_values(berth_build *b, build_state *st, const berth_df_instr *in, berth_error **err)
{
	bool env = in->cmd == BERTH_DF_ENV;
	json_t *target = config_member(st, env ? "Env" : "Labels", env);
	berth_buf msg cleanup_buf = {0};
	berth_buf_puts(&msg, env ? "ENV" : "LABEL");
	for (size_t i = 0; i + 1 < in->nargs; i += 2) {
		char *k cleanup_free = NULL, *v cleanup_free = NULL;
		if (build_expand(b, st, in->args[i], &k, err) < 0 ||
		    build_expand(b, st, in->args[i + 1], &v, err) < 0)
			return -1;
		if (env)
			env_set(target, k, v);
		else
			json_object_set_new(target, k, json_string(v));
		berth_buf_printf(&msg, " %s=%s", k, v);
	}
	return commit_nop(b, st, msg.data, err);
}

static int cmd_entrypoint(berth_build *b, build_state *st, const berth_df_instr *in,
			  berth_error **err)
{
	bool is_cmd = in->cmd == BERTH_DF_CMD;
	json_t *argv = build_command_line(st, in);
	berth_buf msg cleanup_buf = {0};
	berth_buf_puts(&msg, is_cmd ? "CMD " : "ENTRYPOINT ");
	go_quote_list(&msg, argv);
	json_object_set_new(st->config, is_cmd ? "Cmd" : "Entrypoint", argv);
	if (is_cmd)
		st->cmd_set = true;
	else if (!st->cmd_set)
		json_object_set_new(st->config, "Cmd", json_null());
	return commit_nop(b, st, msg.data, err);
}

/* "80", "80/udp", "8000-8002/tcp" as ExposedPorts keys. */
static int expose_port(json_t *ports, const char *spec, berth_error **err)
{
	const char *slash = strchr(spec, '/');
	char *proto cleanup_free = berth_xstrdup(slash ? slash + 1 : "tcp");
	char *range cleanup_free = berth_xstrndup(spec, slash ? (size_t)(slash - spec) : strlen(spec));
	char *end;
	long lo = strtol(range, &end, 10), hi = lo;
	if (*end == '-')
		hi = strtol(end + 1, &end, 10);
	if (*range == '\0' || *end || lo < 0 || hi < lo || hi > 65535)
		return berth_error_set(err, 400, "invalid containerPort: %s", range);
	if (strcmp(proto, "tcp") != 0 && strcmp(proto, "udp") != 0 && strcmp(proto, "sctp") != 0)
		return berth_error_set(err, 400, "invalid proto: %s", proto);
	for (long p = lo; p <= hi; p++) {
		char key[32];
		snprintf(key, sizeof(key), "%ld/%s", p, proto);
		json_object_set_new(ports, key, json_object());
	}
	return 0;
}

static int expose(berth_build *b, build_state *st, const berth_df_instr *in, berth_error **err)
{
	json_t *ports = config_member(st, "ExposedPorts", false);
	berth_buf msg cleanup_buf = {0};
	berth_buf_puts(&msg, "EXPOSE");
	/* dockerd's parser sorts the words before they are expanded */
	char **sorted cleanup_free = berth_xcalloc(in->nargs + 1, sizeof(char *));
	memcpy(sorted, in->args, in->nargs * sizeof(char *));
	qsort(sorted, in->nargs, sizeof(char *), build_str_cmp);
	for (size_t i = 0; i < in->nargs; i++) {
		char *p cleanup_free = NULL;
		if (build_expand(b, st, sorted[i], &p, err) < 0 || expose_port(ports, p, err) < 0)
			return -1;
		berth_buf_printf(&msg, " %s", p);
	}
	return commit_nop(b, st, msg.data, err);
}

static int volume(berth_build *b, build_state *st, const berth_df_instr *in, berth_error **err)
{
	json_t *vols = config_member(st, "Volumes", false);
	berth_buf msg cleanup_buf = {0};
	berth_buf_puts(&msg, "VOLUME [");
	for (size_t i = 0; i < in->nargs; i++) {
		char *v cleanup_free = NULL;
		if (build_expand(b, st, in->args[i], &v, err) < 0)
			return -1;
		if (*v == '\0')
			return berth_error_set(err, 400, "VOLUME specified can not be an empty string");
		json_object_set_new(vols, v, json_object());
		berth_buf_printf(&msg, "%s%s", i ? " " : "", v);
	}
	berth_buf_puts(&msg, "]");
	return commit_nop(b, st, msg.data, err);
}

/* USER, STOPSIGNAL, MAINTAINER: one string. */
static int one_string(berth_build *b, build_state *st, const berth_df_instr *in, berth_error **err)
{
	char *v cleanup_free = NULL;
	if (in->cmd == BERTH_DF_MAINTAINER)
		v = berth_xstrdup(in->args[0]);
	else if (build_expand(b, st, in->args[0], &v, err) < 0)
		return -1;
	const char *what = in->cmd == BERTH_DF_USER ? "USER" : in->cmd == BERTH_DF_STOPSIGNAL
								  ? "STOPSIGNAL" : "MAINTAINER";
	if (in->cmd == BERTH_DF_STOPSIGNAL) {
		int signum;
		if (berth_container_signal_parse(v, &signum, err) < 0)
			return -1;
		json_object_set_new(st->config, "StopSignal", json_string(v));
	} else if (in->cmd == BERTH_DF_USER) {
		json_object_set_new(st->config, "User", json_string(v));
	} else {
		free(st->maintainer);
		st->maintainer = berth_xstrdup(v);
	}
	char *msg cleanup_free = berth_xasprintf("%s %s", what, v);
	return commit_nop(b, st, msg, err);
}

static const char *const health_durations[] = {"Interval", "Timeout", "StartPeriod",
						"StartInterval"};

/* HEALTHCHECK's HealthConfig: the test and the options given. */
static int health_config(const berth_df_instr *in, json_t **out, berth_error **err)
{
	json_t *hc cleanup_json = json_object();
	json_t *test = json_array();
	json_object_set_new(hc, "Test", test);
	if (strcasecmp(in->args[0], "NONE") == 0) {
		json_array_append_new(test, json_string("NONE"));
		*out = berth_steal_ptr(&hc);
		return 0;
	}
	json_array_append_new(test, json_string(in->json ? "CMD" : "CMD-SHELL"));
	for (size_t i = 1; i < in->nargs; i++)
		json_array_append_new(test, json_string(in->args[i]));
	const char *flags[] = {"interval", "timeout", "start-period", "start-interval"};
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(flags); i++) {
		int64_t ns;
		if (df_health_duration(in, flags[i], &ns, err) < 0)
			return -1;
		if (ns)
			json_object_set_new(hc, health_durations[i], json_integer(ns));
	}
	const char *r = berth_df_flag(in, "retries");
	if (r && *r)
		json_object_set_new(hc, "Retries", json_integer(strtol(r, NULL, 10)));
	*out = berth_steal_ptr(&hc);
	return 0;
}

/* dockerd prints its HealthConfig with %q: durations quoted, the retries
 * as a rune; StartInterval only where it was given (API 1.44). */
static char *health_comment(const json_t *hc)
{
	berth_buf msg = {0};
	berth_buf_puts(&msg, "HEALTHCHECK &{");
	go_quote_list(&msg, json_object_get(hc, "Test"));
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(health_durations); i++) {
		json_t *v = json_object_get(hc, health_durations[i]);
		if (i == 3 && v == NULL)
			continue;
		berth_buf_puts(&msg, " \"");
		berth_go_duration(&msg, json_integer_value(v));
		berth_buf_puts(&msg, "\"");
	}
	berth_buf_puts(&msg, " ");
	go_rune(&msg, json_integer_value(json_object_get(hc, "Retries")));
	berth_buf_puts(&msg, "}");
	return berth_buf_steal(&msg);
}

static int healthcheck(berth_build *b, build_state *st, const berth_df_instr *in,
		       berth_error **err)
{
	json_t *hc = NULL;
	if (health_config(in, &hc, err) < 0)
		return -1;
	char *msg cleanup_free = health_comment(hc);
	/* dockerd's commit merges the parent's healthcheck into the new one (a
	 * shared pointer in its run config): options left out keep the values
	 * the image had, though the history shows them unset */
	const json_t *old = json_object_get(st->config, "Healthcheck");
	const char *keep[] = {"Interval", "Timeout", "StartPeriod", "StartInterval", "Retries"};
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(keep) && json_is_object(old); i++) {
		json_t *v = json_object_get(old, keep[i]);
		if (json_integer_value(json_object_get(hc, keep[i])) == 0 && json_integer_value(v))
			json_object_set(hc, keep[i], v);
	}
	json_object_set_new(st->config, "Healthcheck", hc);
	return commit_nop(b, st, msg, err);
}

static int shell(berth_build *b, build_state *st, const berth_df_instr *in, berth_error **err)
{
	json_t *argv = json_array();
	berth_buf msg cleanup_buf = {0};
	berth_buf_puts(&msg, "SHELL [");
	for (size_t i = 0; i < in->nargs; i++) {
		json_array_append_new(argv, json_string(in->args[i]));
		berth_buf_printf(&msg, "%s%s", i ? " " : "", in->args[i]);
	}
	berth_buf_puts(&msg, "]");
	json_object_set_new(st->config, "Shell", argv);
	return commit_nop(b, st, msg.data, err);
}

static int onbuild(berth_build *b, build_state *st, const berth_df_instr *in, berth_error **err)
{
	const char *expr = in->original + strlen(in->name);
	while (df_space(*expr))
		expr++;
	json_array_append_new(config_member(st, "OnBuild", true), json_string(expr));
	char *msg cleanup_free = berth_xasprintf("ONBUILD %s", expr);
	return commit_nop(b, st, msg, err);
}

static int arg(berth_build *b, build_state *st, const berth_df_instr *in, berth_error **err)
{
	berth_buf msg cleanup_buf = {0};
	berth_buf_puts(&msg, "ARG");
	for (size_t i = 0; i < in->nargs; i++) {
		const char *eq = strchr(in->args[i], '=');
		char *name cleanup_free = berth_xstrndup(in->args[i], eq ? (size_t)(eq - in->args[i])
								  : strlen(in->args[i]));
		char *val cleanup_free = NULL;
		if (eq && build_expand(b, st, eq + 1, &val, err) < 0)
			return -1;
		json_object_set_new(st->args, name, val ? json_string(val) : json_null());
		berth_buf_printf(&msg, " %s%s%s", name, val ? "=" : "", val ? val : "");
	}
	return commit_nop(b, st, msg.data, err);
}

static int workdir(berth_build *b, build_state *st, const berth_df_instr *in, berth_error **err)
{
	char *v cleanup_free = NULL;
	if (build_expand(b, st, in->args[0], &v, err) < 0)
		return -1;
	const char *cur = berth_json_string(st->config, "WorkingDir");
	char *joined cleanup_free = v[0] == '/' ? berth_xstrdup(v)
						: berth_xasprintf("%s/%s", cur && *cur ? cur : "/", v);
	char *dir cleanup_free = berth_path_clean(joined);
	json_object_set_new(st->config, "WorkingDir", json_string(dir));
	char *comment cleanup_free = berth_xasprintf("WORKDIR %s", dir);
	json_t *cmd cleanup_json = build_nop_cmd_joined(st, comment);
	int hit = build_probe(b, st, cmd, err);
	if (hit != 0)
		return hit < 0 ? -1 : 0;
	return build_workdir_fs(b, st, dir, err);
}

typedef int (*step_fn)(berth_build *b, build_state *st, const berth_df_instr *in, berth_error **err);

static const step_fn steps[] = {
	[BERTH_DF_ADD] = build_copy,
	[BERTH_DF_ARG] = arg,
	[BERTH_DF_CMD] = cmd_entrypoint,
	[BERTH_DF_COPY] = build_copy,
	[BERTH_DF_ENTRYPOINT] = cmd_entrypoint,
	[BERTH_DF_ENV] = key_values,
	[BERTH_DF_EXPOSE] = expose,
	[BERTH_DF_HEALTHCHECK] = healthcheck,
	[BERTH_DF_LABEL] = key_values,
	[BERTH_DF_MAINTAINER] = one_string,
	[BERTH_DF_ONBUILD] = onbuild,
	[BERTH_DF_RUN] = build_run,
	[BERTH_DF_SHELL] = shell,
	[BERTH_DF_STOPSIGNAL] = one_string,
	[BERTH_DF_USER] = one_string,
	[BERTH_DF_VOLUME] = volume,
	[BERTH_DF_WORKDIR] = workdir,
};

int build_dispatch(berth_build *b, build_state *st, const berth_df_instr *in, berth_error **err)
{
	if (in->cmd == BERTH_DF_FROM || (size_t)in->cmd >= BERTH_ARRAY_SIZE(steps) || !steps[in->cmd])
		return berth_error_set(err, 400, "%s is not allowed here", in->name);
	return steps[in->cmd](b, st, in, err);
}
