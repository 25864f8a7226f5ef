/*
 * build.c - the classic builder's evaluation loop: stages in order up to the
 * target, "Step N/M : ..." and " ---> id" output, FROM, ONBUILD triggers,
 * cache probes and commits into the image store.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/image/image.h"
#include "internal.h"

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static const char *const proxy_args[] = {
	"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY",
	"ftp_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy",
};

/* ---------------------------------------------------------------- output */

static int emit(berth_build *b, json_t *msg)
{
	if (b->out == NULL) {
		json_decref(msg);
		return 0;
	}
	return b->out(b->userdata, msg);
}

int build_say(berth_build *b, const char *fmt, ...)
{
	if (b->opts->quiet)
		return 0;
	va_list ap;
	va_start(ap, fmt);
	char *text = NULL;
	if (vasprintf(&text, fmt, ap) < 0)
		abort();
	va_end(ap);
	int rc = emit(b, json_pack("{s:s}", "stream", text));
	free(text);
	return rc;
}

const char *build_short_id(const char *id)
{
	static __thread char out[13];
	if (id == NULL)
		return "";
	if (strncmp(id, "sha256:", 7) == 0)
		id += 7;
	snprintf(out, sizeof(out), "%s", id);
	return out;
}

/* --------------------------------------------------------------- args/env */

static bool is_proxy_arg(const char *name)
{
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(proxy_args); i++)
		if (strcmp(proxy_args[i], name) == 0)
			return true;
	return false;
}

/* A build arg's value: --build-arg first, then the ARG's default, then the
 * value of the ARG of that name before the first FROM. */
static const char *arg_value(const berth_build *b, const json_t *declared, const char *name,
			     bool *set)
{
	json_t *given = json_object_get(b->opts->buildargs, name);
	*set = true;
	if (json_is_string(given))
		return json_string_value(given);
	json_t *def = json_object_get(declared, name);
	if (json_is_string(def))
		return json_string_value(def);
	json_t *meta = declared != b->meta_args ? json_object_get(b->meta_args, name) : NULL;
	if (json_is_string(meta))
		return json_string_value(meta);
	json_t *automatic = json_object_get(b->auto_args, name);
	if (json_is_string(automatic))
		return json_string_value(automatic);
	*set = false;
	return NULL;
}

static bool env_has(const json_t *env, const char *name)
{
	size_t i, nl = strlen(name);
	json_t *v;
	json_array_foreach(env, i, v) {
		const char *s = json_string_value(v);
		if (s && strncmp(s, name, nl) == 0 && (s[nl] == '=' || s[nl] == '\0'))
			return true;
	}
	return false;
}

static void push(char ***v, size_t *n, char *s)
{
	*v = berth_xrealloc(*v, (*n + 2) * sizeof(char *));
	(*v)[(*n)++] = s;
	(*v)[*n] = NULL;
}

char **build_arg_env(const build_state *st, const berth_build *b, size_t *n)
{
	char **out = berth_xcalloc(1, sizeof(char *));
	*n = 0;
	const json_t *env = json_object_get(st->config, "Env");
	const char *name;
	json_t *v;
	json_object_foreach((json_t *)st->args, name, v) {
		bool set;
		const char *val = arg_value(b, st->args, name, &set);
		if (set && !env_has(env, name))
			push(&out, n, berth_xasprintf("%s=%s", name, val));
	}
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(proxy_args); i++) {
		json_t *given = json_object_get(b->opts->buildargs, proxy_args[i]);
		if (json_is_string(given) && !json_object_get(st->args, proxy_args[i]) &&
		    !env_has(env, proxy_args[i]))
			push(&out, n, berth_xasprintf("%s=%s", proxy_args[i], json_string_value(given)));
	}
	return out;
}

char **build_expand_env(const build_state *st, const berth_build *b, size_t *n)
{
	char **out = berth_xcalloc(1, sizeof(char *));
	*n = 0;
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(st->config, "Env"), i, v)
		if (json_is_string(v))
			push(&out, n, berth_xstrdup(json_string_value(v)));
	size_t na = 0;
	char **args = build_arg_env(st, b, &na);
	for (size_t k = 0; k < na; k++)
		push(&out, n, berth_steal_ptr(&args[k]));
	free(args);
	return out;
}

int build_expand(const berth_build *b, const build_state *st, const char *word, char **out,
		 berth_error **err)
{
	size_t n = 0;
	char **env = build_expand_env(st, b, &n);
	int rc = berth_builder_expand(word, b->df->escape, env, n, out, err);
	berth_strv_free(env);
	return rc;
}

/* ------------------------------------------------------------- images */

static void state_reset(build_state *st)
{
	free(st->image_id);
	json_decref(st->config);
	json_decref(st->history);
	free(st->arch);
	free(st->os);
	free(st->variant);
	json_decref(st->args);
	free(st->maintainer);
	free(st->name);
	memset(st, 0, sizeof(*st));
}

int build_load_image(build_state *st, berth_image_store *images, const char *id,
		     berth_error **err)
{
	json_t *img cleanup_json = NULL;
	if (berth_image_config(images, id, &img, err) < 0)
		return -1;
	free(st->image_id);
	st->image_id = berth_xstrdup(id);
	json_decref(st->config);
	json_t *full cleanup_json = berth_image_config_full(json_object_get(img, "config"));
	st->config = json_deep_copy(full);
	json_decref(st->history);
	json_t *h = json_object_get(img, "history");
	st->history = json_is_array(h) ? json_deep_copy(h) : json_array();
	free(st->arch);
	free(st->os);
	free(st->variant);
	st->arch = berth_xstrdup(berth_json_string(img, "architecture") ?: "amd64");
	st->os = berth_xstrdup(berth_json_string(img, "os") ?: "linux");
	const char *variant = berth_json_string(img, "variant");
	st->variant = variant && *variant ? berth_xstrdup(variant) : NULL;
	return 0;
}

json_t *build_nop_cmd(const build_state *st, const char *comment)
{
	json_t *shell = json_object_get(st->config, "Shell");
	json_t *cmd = json_is_array(shell) && json_array_size(shell)
			      ? json_deep_copy(shell) : json_pack("[s, s]", "/bin/sh", "-c");
	json_array_append_new(cmd, json_string("#(nop) "));
	json_array_append_new(cmd, json_string(comment));
	return cmd;
}

/* ["/bin/sh", "-c", "#(nop) COPY ..."]: the one-argument form dockerd
 * keeps for WORKDIR, COPY and ADD. */
json_t *build_nop_cmd_joined(const build_state *st, const char *comment)
{
	json_t *cmd = build_nop_cmd(st, comment);
	size_t n = json_array_size(cmd);
	char *joined cleanup_free = berth_xasprintf("#(nop) %s", comment);
	json_array_remove(cmd, n - 1);
	json_array_set_new(cmd, n - 2, json_string(joined));
	return cmd;
}

/* What the cache compares: the run config as the step's container had it. */
static json_t *probe_config(const build_state *st, const json_t *cmd)
{
	json_t *c = json_deep_copy(st->config);
	json_object_set(c, "Cmd", (json_t *)cmd);
	json_object_del(c, "Image");
	return c;
}

int build_probe(berth_build *b, build_state *st, const json_t *cmd, berth_error **err)
{
	if (b->opts->nocache)
		return 0;
	json_t *c cleanup_json = probe_config(st, cmd);
	char *key cleanup_free = cache_key(st->image_id, c);
	char *id cleanup_free = cache_get(b->env, key);
	if (id && !cache_from_trusts(b, id)) {
		free(id);
		id = NULL;
	}
	if (id == NULL && b->cache_from) {
		if (cache_from_probe(b, st, cmd, &id, err) < 0)
			return -1;
		/* the next build finds the step without --cache-from too */
		if (id)
			cache_put(b->env, key, id);
	}
	berth_error *lerr cleanup_error = NULL;
	if (id == NULL || build_load_image(st, b->env->images, id, &lerr) < 0)
		return 0;
	if (build_say(b, " ---> Using cache\n") < 0)
		return berth_error_set(err, 500, "the client went away");
	return 1;
}

json_t *build_command_line(const build_state *st, const berth_df_instr *in)
{
	json_t *argv = json_array();
	if (in->json) {
		for (size_t i = 0; i < in->nargs; i++)
			json_array_append_new(argv, json_string(in->args[i]));
		return argv;
	}
	json_t *shell = json_object_get(st->config, "Shell");
	if (json_is_array(shell) && json_array_size(shell)) {
		json_array_extend(argv, shell);
	} else {
		json_array_append_new(argv, json_string("/bin/sh"));
		json_array_append_new(argv, json_string("-c"));
	}
	json_array_append_new(argv, json_string(in->nargs ? in->args[0] : ""));
	return argv;
}

char *build_join(const json_t *cmd)
{
	berth_buf by = {0};
	berth_buf_puts(&by, "");
	size_t i;
	json_t *v;
	json_array_foreach(cmd, i, v)
		berth_buf_printf(&by, "%s%s", i ? " " : "", json_string_value(v) ?: "");
	return berth_buf_steal(&by);
}

int build_commit(berth_build *b, build_state *st, const json_t *cmd, const berth_image_source *layer,
		 berth_error **err)
{
	char created[64];
	berth_time_format_rfc3339(berth_time_now_ns(), created, sizeof(created));
	json_object_set_new(st->config, "Image", json_string(st->image_id ? st->image_id : ""));
	json_t *img cleanup_json = json_pack("{s:s, s:O, s:s}", "architecture", st->arch, "config",
					      st->config, "created", created);
	if (st->variant)
		json_object_set_new(img, "variant", json_string(st->variant));
	if (st->maintainer)
		json_object_set_new(img, "author", json_string(st->maintainer));
	char *by cleanup_free = build_join(cmd);
	json_t *h = json_pack("{s:s, s:s}", "created", created, "created_by", by);
	if (st->maintainer)
		json_object_set_new(h, "author", json_string(st->maintainer));
	if (layer == NULL)
		json_object_set_new(h, "empty_layer", json_true());
	json_t *history = json_deep_copy(st->history);
	json_array_append_new(history, h);
	json_object_set_new(img, "history", history);
	json_object_set_new(img, "os", json_string(st->os));
	char *id = NULL;
	if (berth_image_create(b->env->images, st->image_id, layer, img, &id, err) < 0)
		return -1;
	json_t *c cleanup_json = probe_config(st, cmd);
	char *key cleanup_free = cache_key(st->image_id, c);
	cache_put(b->env, key, id);
	free(st->image_id);
	st->image_id = id;
	json_decref(st->history);
	st->history = json_incref(history);
	return 0;
}

/* ----------------------------------------------------------------- FROM */

/* dockerd's GetImage with a platform: an image whose os/architecture do not
 * match is not the one asked for. */
static int check_platform(berth_build *b, const char *name, const char *id,
			  const build_platform *want, berth_error **err)
{
	json_t *img cleanup_json = NULL;
	if (want == NULL || want->os == NULL)
		return 0;
	if (berth_image_config(b->env->images, id, &img, err) < 0)
		return -1;
	const char *os = berth_json_string(img, "os"), *arch = berth_json_string(img, "architecture");
	const char *variant = berth_json_string(img, "variant");
	if (build_platform_match(want, os, arch, variant))
		return 0;
	char *wanted cleanup_free = build_platform_format(want);
	return berth_error_set(err, 404, "image with reference %s was found but does not match the "
					 "specified platform: wanted %s, actual: %s/%s%s%s", name, wanted,
			       os ? os : "linux", arch ? arch : "amd64", variant && *variant ? "/" : "",
			       variant ? variant : "");
}

static int pull_denied(const char *name, berth_error **err)
{
	berth_image_ref ref;
	berth_error *rerr cleanup_error = NULL;
	if (berth_image_ref_parse(name, &ref, &rerr) < 0)
		return berth_error_propagate(&rerr, err);
	char *fam cleanup_free = berth_image_familiar_name(ref.name);
	berth_image_ref_reset(&ref);
	return berth_error_set(err, 404, "pull access denied for %s, repository does not exist or "
					 "may require 'docker login'", fam);
}

/* FROM's image: a stage, scratch, a local image of the platform asked for,
 * else a pull (of that platform's manifest). A local image of another
 * platform is dockerd's "was found but does not match" when no pull gives
 * the right one. */
static int from_image(berth_build *b, build_state *st, const char *name,
		      const build_platform *want, berth_error **err)
{
	char *id cleanup_free = NULL;
	for (size_t i = 0; i < b->nstages && id == NULL; i++)
		if (b->stages[i].name && b->stages[i].image_id && strcasecmp(b->stages[i].name, name) == 0)
			id = berth_xstrdup(b->stages[i].image_id);
	if (id)
		return check_platform(b, name, id, want, err) < 0
			       ? -1 : build_load_image(st, b->env->images, id, err);
	if (strcasecmp(name, "scratch") == 0) {
		build_platform host;
		build_platform_host(&host);
		st->config = berth_image_config_full(NULL);
		st->history = json_array();
		st->arch = berth_steal_ptr(&host.arch);
		st->os = berth_xstrdup(want && want->os ? want->os : host.os);
		build_platform_reset(&host);
		return 0;
	}
	berth_error *mismatch cleanup_error = NULL;
	berth_error *lerr cleanup_error = NULL;
	if (!b->opts->pull && berth_image_resolve(b->env->images, name, &id, &lerr) == 0) {
		if (check_platform(b, name, id, want, &mismatch) == 0)
			return build_load_image(st, b->env->images, id, err);
		free(id);
		id = NULL;
	}
	if (b->env->pull == NULL)
		return mismatch ? berth_error_propagate(&mismatch, err) : pull_denied(name, err);
	char *platform cleanup_free = want && want->os ? build_platform_format(want) : NULL;
	berth_error *perr cleanup_error = NULL;
	if (b->env->pull(b->env->pull_userdata, name, platform, &id, &perr) < 0) {
		/* the registry's answer ("no matching manifest for ...") says more
		 * than the local mismatch; a registry out of reach does not */
		if (mismatch == NULL || perr->status == 404)
			return berth_error_propagate(&perr, err);
		berth_info("build: FROM %s for %s: %s", name, platform, perr->msg);
		return berth_error_propagate(&mismatch, err);
	}
	if (check_platform(b, name, id, want, err) < 0)
		return -1;
	return build_load_image(st, b->env->images, id, err);
}

/* Expands a word of FROM or of an ARG before the first FROM: only the
 * ARGs before the first FROM (and --build-arg) are visible there. */
static int expand_meta(const berth_build *b, const char *word, char **out, berth_error **err)
{
	size_t n = 0;
	char **env = berth_xcalloc(1, sizeof(char *));
	const char *key;
	json_t *v;
	json_object_foreach(b->meta_args, key, v) {
		bool set;
		const char *val = arg_value(b, b->meta_args, key, &set);
		if (set)
			push(&env, &n, berth_xasprintf("%s=%s", key, val));
	}
	json_object_foreach(b->auto_args, key, v)
		if (!json_object_get(b->meta_args, key))
			push(&env, &n, berth_xasprintf("%s=%s", key, json_string_value(v)));
	int rc = berth_builder_expand(word, b->df->escape, env, n, out, err);
	berth_strv_free(env);
	return rc;
}

/* The stage's FROM: its image (expanded with the ARGs before the first
 * FROM), the default PATH, then the image's ONBUILD triggers. */
static int dispatch_from(berth_build *b, build_state *st, const berth_df_instr *in,
			 berth_error **err)
{
	build_platform want = {0};
	const char *flag = berth_df_flag(in, "platform");
	if (flag && *flag) {
		char *spec cleanup_free = NULL;
		if (expand_meta(b, flag, &spec, err) < 0)
			return berth_error_wrap(err, "failed to process arguments for platform %s", flag);
		if (build_platform_parse(spec, &want, err) < 0)
			return berth_error_wrap(err, "failed to parse platform %s", spec);
	}
	char *name cleanup_free = NULL;
	int rc = expand_meta(b, in->args[0], &name, err);
	if (rc == 0 && *name == '\0')
		rc = berth_error_set(err, 400, "base name (%s) should not be blank", in->args[0]);
	if (rc == 0)
		rc = from_image(b, st, name, want.os ? &want : b->platform.os ? &b->platform : NULL, err);
	build_platform_reset(&want);
	if (rc < 0)
		return -1;
	json_t *e = json_object_get(st->config, "Env");
	if (!json_is_array(e)) {
		e = json_array();
		json_object_set_new(st->config, "Env", e);
	}
	if (!env_has(e, "PATH"))
		json_array_append_new(e, json_string(DEFAULT_PATH));
	json_object_set_new(st->config, "OpenStdin", json_false());
	json_object_set_new(st->config, "StdinOnce", json_false());
	if (build_say(b, " ---> %s\n", build_short_id(st->image_id)) < 0)
		return berth_error_set(err, 500, "the client went away");
	return 0;
}

static int run_triggers(berth_build *b, build_state *st, berth_error **err)
{
	json_t *triggers cleanup_json = json_incref(json_object_get(st->config, "OnBuild"));
	size_t n = json_array_size(triggers);
	if (n == 0)
		return 0;
	json_object_set_new(st->config, "OnBuild", json_null());
	build_say(b, "# Executing %zu build trigger%s\n", n, n == 1 ? "" : "s");
	size_t i;
	json_t *t;
	json_array_foreach(triggers, i, t) {
		berth_df_instr in = {0};
		int rc = berth_df_instr_parse(json_string_value(t) ?: "", b->df->escape, &in, err);
		if (rc == 0)
			rc = df_instr_validate(&in, err);
		if (rc == 0)
			rc = build_dispatch(b, st, &in, err);
		berth_df_instr_reset(&in);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* --------------------------------------------------------------- stages */

static int find_stages(berth_build *b, berth_error **err)
{
	const berth_dockerfile *df = b->df;
	b->meta_args = json_object();
	b->used_args = json_object();
	for (size_t i = 0; i < df->n; i++) {
		const berth_df_instr *in = &df->instrs[i];
		if (in->cmd == BERTH_DF_FROM) {
			b->stages = berth_xrealloc(b->stages, (b->nstages + 1) * sizeof(*b->stages));
			build_stage *s = &b->stages[b->nstages++];
			memset(s, 0, sizeof(*s));
			s->from = i;
			if (in->nargs == 3) {
				s->name = berth_xstrdup(in->args[2]);
				for (char *p = s->name; *p; p++)
					*p = (char)tolower((unsigned char)*p);
				for (size_t k = 0; k + 1 < b->nstages; k++)
					if (b->stages[k].name && strcmp(b->stages[k].name, s->name) == 0)
						return berth_error_set(err, 400, "duplicate name %s", s->name);
			}
		} else if (b->nstages == 0) {
			b->nmeta++;
		}
		if (b->nstages)
			b->stages[b->nstages - 1].end = i + 1;
	}
	const char *target = b->opts->target;
	if (target && *target) {
		size_t k = 0;
		while (k < b->nstages && !(b->stages[k].name && strcasecmp(b->stages[k].name, target) == 0))
			k++;
		if (k == b->nstages)
			return berth_error_set(err, 400, "failed to reach build target %s in Dockerfile", target);
		b->nstages = k + 1;
	}
	b->total = b->nmeta;
	for (size_t k = 0; k < b->nstages; k++)
		b->total += b->stages[k].end - b->stages[k].from;
	return 0;
}

/* The Dockerfile's path inside the context, refusing to leave it. */
static int read_dockerfile(const char *context, const char *name, char **data, size_t *len,
			   berth_error **err)
{
	char *clean cleanup_free = berth_path_clean(name && *name ? name : "Dockerfile");
	if (strcmp(clean, "..") == 0 || strncmp(clean, "../", 3) == 0 || clean[0] == '/')
		return berth_error_set(err, 400, "Cannot locate specified Dockerfile: %s", name);
	char *path cleanup_free = berth_xasprintf("%s/%s", context, clean);
	berth_error *rerr cleanup_error = NULL;
	if (berth_file_read_all(path, data, len, &rerr) == 0)
		return 0;
	if (name == NULL || *name == '\0' || strcmp(name, "Dockerfile") == 0) {
		char *lower cleanup_free = berth_xasprintf("%s/dockerfile", context);
		if (berth_file_read_all(lower, data, len, NULL) == 0)
			return 0;
	}
	return berth_error_set(err, 400, "Cannot locate specified Dockerfile: %s",
			       name && *name ? name : "Dockerfile");
}

/* The Dockerfile and .dockerignore leave the context once read when the
 * .dockerignore excludes them (dockerd's removeDockerfile): COPY . never
 * sees them then. */
static void drop_build_files(const char *context, const char *dockerfile)
{
	char *path cleanup_free = berth_xasprintf("%s/.dockerignore", context);
	char *data cleanup_free = NULL;
	size_t len = 0;
	berth_dockerignore *di = NULL;
	if (berth_file_read_all(path, &data, &len, NULL) < 0 ||
	    berth_dockerignore_parse(data, len, &di, NULL) < 0)
		return;
	char *df cleanup_free = berth_path_clean(dockerfile && *dockerfile ? dockerfile : "Dockerfile");
	const char *names[] = {df, ".dockerignore"};
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(names); i++) {
		if (!berth_dockerignore_excluded(di, names[i]))
			continue;
		char *p cleanup_free = berth_xasprintf("%s/%s", context, names[i]);
		unlink(p);
	}
	berth_dockerignore_free(di);
}

/* A word the expander gives back as is: single-quoted, with each ' as "'". */
static void literal_word(berth_buf *b, const char *s)
{
	berth_buf_puts(b, "'");
	for (; *s; s++) {
		if (*s == '\'')
			berth_buf_puts(b, "'\"'\"'");
		else
			berth_buf_append(b, s, 1);
	}
	berth_buf_puts(b, "'");
}

int build_str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* --label: dockerd appends one "LABEL k=v" step per label, in key order,
 * their values not expanded. */
static int add_label_steps(berth_build *b, berth_error **err)
{
	size_t n = json_object_size(b->opts->labels), k = 0;
	if (n == 0)
		return 0;
	const char **keys = berth_xcalloc(n, sizeof(char *));
	const char *key;
	json_t *v;
	json_object_foreach(b->opts->labels, key, v)
		keys[k++] = key;
	qsort(keys, n, sizeof(char *), build_str_cmp);
	berth_dockerfile *df = b->df;
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		const char *value = json_string_value(json_object_get(b->opts->labels, keys[i])) ?: "";
		berth_buf line cleanup_buf = {0};
		berth_buf_puts(&line, "LABEL ");
		literal_word(&line, keys[i]);
		berth_buf_puts(&line, "=");
		literal_word(&line, value);
		df->instrs = berth_xrealloc(df->instrs, (df->n + 1) * sizeof(*df->instrs));
		berth_df_instr *in = &df->instrs[df->n];
		memset(in, 0, sizeof(*in));
		df->n++;
		rc = berth_df_instr_parse(line.data, df->escape, in, err);
		if (rc == 0) {
			free(in->original);
			in->original = berth_xasprintf("LABEL %s=%s", keys[i], value);
		}
	}
	free(keys);
	return rc;
}

int berth_build_prepare(const berth_builder_env *env, const char *context_dir,
			const berth_build_opts *opts, berth_build **out, berth_error **err)
{
	berth_build *b = berth_xcalloc(1, sizeof(*b));
	b->env = env;
	b->opts = opts;
	b->context = berth_xstrdup(context_dir);
	char *data cleanup_free = NULL;
	size_t len = 0;
	int rc = read_dockerfile(context_dir, opts->dockerfile, &data, &len, err);
	if (rc == 0)
		rc = berth_dockerfile_parse(data, len, &b->df, err);
	if (rc == 0)
		drop_build_files(context_dir, opts->dockerfile);
	if (rc == 0)
		rc = add_label_steps(b, err);
	if (rc == 0)
		rc = find_stages(b, err);
	if (rc == 0 && opts->platform && *opts->platform)
		rc = build_platform_parse(opts->platform, &b->platform, err);
	if (rc == 0) {
		build_platform host;
		build_platform_host(&host);
		b->auto_args = build_platform_args(&host, b->platform.os ? &b->platform : &host);
		build_platform_reset(&host);
	}
	if (rc < 0) {
		berth_build_free(b);
		return -1;
	}
	*out = b;
	return 0;
}

void berth_build_free(berth_build *b)
{
	if (b == NULL)
		return;
	for (size_t i = 0; i < b->nstages; i++) {
		free(b->stages[i].name);
		free(b->stages[i].image_id);
	}
	free(b->stages);
	berth_dockerfile_free(b->df);
	json_decref(b->meta_args);
	json_decref(b->used_args);
	json_decref(b->auto_args);
	json_decref(b->cache_from);
	build_platform_reset(&b->platform);
	if (b->client)
		berth_client_free(b->client);
	free(b->context);
	free(b);
}

static int step_header(berth_build *b, const berth_df_instr *in, berth_error **err)
{
	b->step++;
	if (build_say(b, "Step %zu/%zu : %s\n", b->step, b->total, in->original) < 0)
		return berth_error_set(err, 500, "the client went away");
	return 0;
}

static int meta_arg(berth_build *b, const berth_df_instr *in, berth_error **err)
{
	if (step_header(b, in, err) < 0)
		return -1;
	for (size_t i = 0; i < in->nargs; i++) {
		char *eq = strchr(in->args[i], '=');
		char *name cleanup_free = berth_xstrndup(in->args[i], eq ? (size_t)(eq - in->args[i])
								  : strlen(in->args[i]));
		json_t *val = json_null();
		if (eq) {
			char *x = NULL;
			if (expand_meta(b, eq + 1, &x, err) < 0)
				return -1;
			val = json_string(x);
			free(x);
		}
		json_object_set_new(b->meta_args, name, val);
		json_object_set_new(b->used_args, name, json_true());
	}
	return 0;
}

static int build_stage_run(berth_build *b, build_stage *s, build_state *st, berth_error **err)
{
	const berth_df_instr *from = &b->df->instrs[s->from];
	st->args = json_object();
	if (s->name)
		st->name = berth_xstrdup(s->name);
	if (step_header(b, from, err) < 0 || dispatch_from(b, st, from, err) < 0 ||
	    run_triggers(b, st, err) < 0)
		return -1;
	for (size_t i = s->from + 1; i < s->end; i++) {
		const berth_df_instr *in = &b->df->instrs[i];
		if (step_header(b, in, err) < 0 || build_dispatch(b, st, in, err) < 0)
			return -1;
		json_object_set_new(st->config, "Image", json_string(st->image_id ? st->image_id : ""));
		if (build_say(b, " ---> %s\n", build_short_id(st->image_id)) < 0)
			return berth_error_set(err, 500, "the client went away");
	}
	const char *k;
	json_t *v;
	json_object_foreach(st->args, k, v)
		json_object_set_new(b->used_args, k, json_true());
	if (st->image_id == NULL)
		return berth_error_set(err, 400, "No image was generated. Is your Dockerfile empty?");
	s->image_id = berth_xstrdup(st->image_id);
	return emit(b, json_pack("{s:{s:s}}", "aux", "ID", st->image_id)) < 0
		       ? berth_error_set(err, 500, "the client went away") : 0;
}

static void warn_unused_args(berth_build *b)
{
	berth_buf unused cleanup_buf = {0};
	const char *k;
	json_t *v;
	json_object_foreach(b->opts->buildargs, k, v) {
		if (!json_object_get(b->used_args, k) && !is_proxy_arg(k))
			berth_buf_printf(&unused, "%s%s", unused.len ? " " : "", k);
	}
	if (unused.len)
		build_say(b, "[Warning] One or more build-args [%s] were not consumed\n", unused.data);
}

static int tag_all(berth_build *b, const char *id, berth_error **err)
{
	for (char *const *t = b->opts->tags; t && *t; t++) {
		berth_image_ref ref;
		if (berth_image_ref_parse(*t, &ref, err) < 0)
			return -1;
		int rc = berth_image_tag(b->env->images, id, ref.name, ref.tag ? ref.tag : "latest", NULL,
					 NULL, err);
		char *fam cleanup_free = NULL;
		if (rc == 0) {
			if (!ref.tag)
				ref.tag = berth_xstrdup("latest");
			fam = berth_image_ref_familiar(&ref);
		}
		berth_image_ref_reset(&ref);
		if (rc < 0)
			return -1;
		build_say(b, "Successfully tagged %s\n", fam);
	}
	return 0;
}

int berth_build_run(berth_build *b, berth_builder_out_fn out, void *userdata, char **id,
		    int *exit_code, berth_error **err)
{
	b->out = out;
	b->userdata = userdata;
	*exit_code = 0;
	if (!b->opts->nocache)
		cache_from_load(b);
	for (char **w = b->df->warnings; w && *w; w++)
		build_say(b, "%s\n", *w);
	for (size_t i = 0; i < b->nmeta; i++)
		if (meta_arg(b, &b->df->instrs[i], err) < 0)
			return -1;
	for (size_t i = 0; i < b->nstages; i++) {
		build_state st = {0};
		int rc = build_stage_run(b, &b->stages[i], &st, err);
		state_reset(&st);
		if (rc < 0) {
			*exit_code = b->exit_code;
			return -1;
		}
	}
	warn_unused_args(b);
	const char *result = b->stages[b->nstages - 1].image_id;
	if (b->opts->quiet)
		emit(b, json_pack("{s:s+}", "stream", result, "\n"));
	build_say(b, "Successfully built %s\n", build_short_id(result));
	if (tag_all(b, result, err) < 0)
		return -1;
	*id = berth_xstrdup(result);
	return 0;
}
