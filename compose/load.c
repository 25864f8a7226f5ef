/*
 * load.c - from files to one project, in Compose's order: find the files,
 * read .env, then for each file parse, check the schema, interpolate,
 * normalize its services and resolve their extends, merge it over the
 * files before it; then name the project, apply profiles, fill in the
 * implicit default network and the engine names of networks and volumes,
 * and check every reference between services, networks, volumes, secrets.
 */
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

extern char **environ;

typedef struct loader {
	const berth_compose_options *o;
	char *workdir;
	char *project_dir;
	json_t *env; /* shell environment over .env */
	json_t *files;
	json_t *including; /* the include chain, for cycles */
	compose_pos pos;
} loader;

static void loader_reset(loader *l)
{
	free(l->workdir);
	free(l->project_dir);
	json_decref(l->env);
	json_decref(l->files);
	json_decref(l->including);
	json_decref(l->pos.map);
	json_decref(l->pos.tags);
}

static json_t *environ_json(char *const *envp)
{
	json_t *env = json_object();
	for (char *const *e = envp; e && *e; e++) {
		const char *eq = strchr(*e, '=');
		if (eq == NULL || eq == *e)
			continue;
		char *k cleanup_free = berth_xstrndup(*e, (size_t)(eq - *e));
		json_object_set_new(env, k, json_string(eq + 1));
	}
	return env;
}

static char *dir_of(const char *path)
{
	char *copy cleanup_free = berth_xstrdup(path);
	return berth_xstrdup(dirname(copy));
}

/* ------------------------------------------------------------------ files */

static const char *const default_files[] = {"compose.yaml", "compose.yml", "docker-compose.yaml",
					    "docker-compose.yml"};
static const char *const override_files[] = {"compose.override.yaml", "compose.override.yml",
					     "docker-compose.override.yaml",
					     "docker-compose.override.yml"};

static bool find_in(const char *dir, const char *const *names, size_t n, json_t *files)
{
	for (size_t i = 0; i < n; i++) {
		char *p cleanup_free = berth_xasprintf("%s/%s", strcmp(dir, "/") ? dir : "", names[i]);
		if (access(p, F_OK) == 0) {
			json_array_append_new(files, json_string(p));
			return true;
		}
	}
	return false;
}

/* compose.yaml (or its older names) here or in a parent, with its override. */
static int discover(loader *l, berth_error **err)
{
	char *dir cleanup_free = berth_xstrdup(l->workdir);
	for (;;) {
		if (find_in(dir, default_files, BERTH_ARRAY_SIZE(default_files), l->files)) {
			find_in(dir, override_files, BERTH_ARRAY_SIZE(override_files), l->files);
			return 0;
		}
		if (strcmp(dir, "/") == 0)
			break;
		char *up = dir_of(dir);
		free(dir);
		dir = up;
	}
	return berth_error_set(err, 404, "no configuration file provided: not found");
}

static int pick_files(loader *l, berth_error **err)
{
	const char *compose_file = berth_json_string(l->env, "COMPOSE_FILE");
	if (l->o->files && l->o->files[0]) {
		for (const char *const *f = l->o->files; *f; f++) {
			char *p cleanup_free = strcmp(*f, "-") == 0 ? berth_xstrdup("-")
								     : compose_abs_path(l->workdir, *f);
			json_array_append_new(l->files, json_string(p));
		}
	} else if (compose_file && *compose_file) {
		const char *sep = berth_json_string(l->env, "COMPOSE_PATH_SEPARATOR");
		char **parts = berth_str_split(compose_file, sep && *sep ? *sep : ':');
		for (char **f = parts; *f; f++) {
			char *p cleanup_free = compose_abs_path(l->workdir, *f);
			json_array_append_new(l->files, json_string(p));
		}
		berth_strv_free(parts);
	} else if (discover(l, err) < 0) {
		return -1;
	}
	const char *first = json_string_value(json_array_get(l->files, 0));
	if (l->o->project_dir)
		l->project_dir = compose_abs_path(l->workdir, l->o->project_dir);
	else
		l->project_dir = strcmp(first, "-") == 0 ? berth_xstrdup(l->workdir) : dir_of(first);
	return 0;
}

static int read_text(loader *l, const char *path, char **text, size_t *len, berth_error **err)
{
	if (strcmp(path, "-") != 0) {
		if (berth_file_read_all(path, text, len, err) < 0)
			return (*err)->status == 404
				       ? berth_error_set(err, 404, "open %s: no such file or directory",
							 path), -1
				       : -1;
		return 0;
	}
	FILE *in = l->o->stdin_file ? l->o->stdin_file : stdin;
	berth_buf b cleanup_buf = {0};
	char chunk[8192];
	size_t n;
	berth_buf_puts(&b, "");
	while ((n = fread(chunk, 1, sizeof(chunk), in)) > 0)
		berth_buf_append(&b, chunk, n);
	*len = b.len;
	*text = berth_buf_steal(&b);
	return 0;
}

/* -------------------------------------------------------------- env files */

/* One env file into out (lookup: what its values may interpolate); a
 * missing one is skipped unless it was named. */
static int env_file_read(const char *path, bool named, const json_t *lookup, json_t *out,
			 berth_error **err)
{
	char *text cleanup_free = NULL;
	size_t len;
	berth_error *e cleanup_error = NULL;
	if (berth_file_read_all(path, &text, &len, &e) < 0) {
		if (!named && e->status == 404)
			return 0;
		return berth_error_set(err, 400, "couldn't find env file: %s", path);
	}
	return berth_compose_env_parse(path, text, lookup, out, err);
}

/* .env of the project directory (or --env-file), under the shell's values. */
static int load_dotenv(loader *l, berth_error **err)
{
	json_t *shell cleanup_json = environ_json(l->o->environ ? l->o->environ : environ);
	json_t *dot cleanup_json = json_object();
	const char *const *files = l->o->env_files;
	char *def cleanup_free = berth_xasprintf("%s/.env", l->project_dir);
	const char *defaults[] = {def, NULL};
	bool explicit = files && files[0];
	for (const char *const *f = explicit ? files : defaults; *f; f++) {
		char *path cleanup_free = compose_abs_path(l->workdir, *f);
		json_t *lookup cleanup_json = json_copy(shell);
		json_object_update(lookup, dot);
		if (env_file_read(path, explicit, lookup, dot, err) < 0)
			return -1;
	}
	json_object_update(dot, shell);
	json_decref(l->env);
	l->env = berth_steal_ptr(&dot);
	return 0;
}

/* ----------------------------------------------------------------- a file */

static int load_doc(loader *l, const char *name, const char *text, size_t len, const char *dir,
		    json_t **out, berth_error **err);

static int extends_one(loader *l, json_t *services, const char *name, const char *dir,
		       json_t *chain, berth_error **err);

static int include_one(loader *l, const json_t *entry, size_t idx, const char *dir, json_t *doc,
		       berth_error **err);

/* The base service of an extends: in this file or in another one. */
static int extends_base(loader *l, json_t *services, const json_t *ext, const char *dir,
			json_t *chain, json_t **base, berth_error **err)
{
	const char *svc = json_is_string(ext) ? json_string_value(ext) : berth_json_string(ext, "service");
	const char *file = json_is_object(ext) ? berth_json_string(ext, "file") : NULL;
	if (svc == NULL)
		return berth_error_set(err, 400, "extends.service is required");
	json_t *doc cleanup_json = NULL;
	char *fdir cleanup_free = NULL;
	if (file) {
		char *path cleanup_free = compose_abs_path(dir, file);
		char *text cleanup_free = NULL;
		size_t len;
		if (read_text(l, path, &text, &len, err) < 0)
			return -1;
		fdir = dir_of(path);
		/* the tags of the file being loaded are its own, not this one's */
		json_t *tags = l->pos.tags;
		l->pos.tags = NULL;
		int r = load_doc(l, path, text, len, fdir, &doc, err);
		l->pos.tags = tags;
		if (r < 0)
			return -1;
		services = json_object_get(doc, "services");
		dir = fdir;
	}
	if (json_object_get(services, svc) == NULL)
		return berth_error_set(err, 404, "cannot extend service \"%s\": service \"%s\" not found",
				       svc, svc);
	if (extends_one(l, services, svc, dir, chain, err) < 0)
		return -1;
	*base = json_deep_copy(json_object_get(services, svc));
	return 0;
}

static int extends_one(loader *l, json_t *services, const char *name, const char *dir,
		       json_t *chain, berth_error **err)
{
	json_t *svc = json_object_get(services, name);
	json_t *ext = json_object_get(svc, "extends");
	if (ext == NULL)
		return 0;
	char *link cleanup_free = berth_xasprintf("%s/%s", dir, name);
	size_t i;
	json_t *v;
	json_array_foreach(chain, i, v)
		if (strcmp(json_string_value(v), link) == 0)
			return berth_error_set(err, 400, "Circular reference with extends: service %s",
					       name);
	json_array_append_new(chain, json_string(link));
	json_t *base cleanup_json = NULL;
	int r = extends_base(l, services, ext, dir, chain, &base, err);
	json_array_remove(chain, json_array_size(chain) - 1);
	if (r < 0)
		return berth_error_wrap(err, "service \"%s\"", name);
	svc = json_object_get(services, name);
	json_object_del(svc, "extends");
	compose_merge_service(base, svc);
	json_object_set(services, name, base);
	return 0;
}

/* ---------------------------------------------------------------- include */

/* A path or a list of paths, as a new list of them resolved against dir
 * (NULL: neither). */
static json_t *path_list(const json_t *v, const char *dir)
{
	if (!json_is_string(v) && !json_is_array(v))
		return NULL;
	json_t *list cleanup_json = json_array();
	size_t n = json_is_string(v) ? 1 : json_array_size(v);
	for (size_t i = 0; i < n; i++) {
		const json_t *item = json_is_string(v) ? v : json_array_get(v, i);
		if (!json_is_string(item))
			return NULL;
		char *abs = compose_abs_path(dir, json_string_value(item));
		json_array_append_new(list, json_string(abs));
		free(abs);
	}
	return berth_steal_ptr(&list);
}

/* The environment of an included project: the including one's, and what
 * its env_file (or the .env of its project directory) adds, without
 * changing what is already set (compose-go's Mapping.Merge). */
static int include_env(loader *l, const json_t *files, bool explicit, json_t **out,
		       berth_error **err)
{
	json_t *env cleanup_json = json_deep_copy(l->env);
	json_t *added cleanup_json = json_object();
	size_t i;
	json_t *f;
	json_array_foreach(files, i, f)
		if (env_file_read(json_string_value(f), explicit, env, added, err) < 0)
			return -1;
	const char *k;
	json_t *v;
	json_object_foreach(added, k, v)
		if (json_object_get(env, k) == NULL)
			json_object_set(env, k, v);
	*out = berth_steal_ptr(&env);
	return 0;
}

/* The included files, merged as override files are, in their own project
 * directory and environment. */
static int include_load(loader *l, const json_t *paths, const char *pdir, json_t *env,
			json_t **out, berth_error **err)
{
	json_t *merged cleanup_json = json_object();
	json_t *saved_env = l->env, *saved_tags = l->pos.tags;
	l->env = env;
	l->pos.tags = NULL;
	int r = 0;
	size_t i;
	json_t *p;
	json_array_foreach(paths, i, p) {
		const char *path = json_string_value(p);
		char *text cleanup_free = NULL;
		size_t len;
		json_t *doc cleanup_json = NULL;
		if ((r = read_text(l, path, &text, &len, err)) < 0 ||
		    (r = load_doc(l, path, text, len, pdir, &doc, err)) < 0)
			break;
		compose_merge_doc(merged, doc);
	}
	l->env = saved_env;
	l->pos.tags = saved_tags;
	if (r == 0)
		*out = berth_steal_ptr(&merged);
	return r;
}

/* What an included project defines joins the including file; defining the
 * same thing differently in both is an error, as in compose-go. */
static int include_import(json_t *doc, const json_t *inc, berth_error **err)
{
	static const char *const sections[] = {"services", "networks", "volumes", "secrets",
					       "configs"};
	for (size_t s = 0; s < BERTH_ARRAY_SIZE(sections); s++) {
		const char *k;
		json_t *v;
		json_object_foreach(json_object_get(inc, sections[s]), k, v) {
			json_t *to = json_object_get(doc, sections[s]);
			if (!json_is_object(to))
				json_object_set_new(doc, sections[s], to = json_object());
			json_t *have = json_object_get(to, k);
			if (have && !json_equal(have, v))
				return berth_error_set(err, 400, "%s.%s conflicts with imported resource",
						       sections[s], k);
			json_object_set(to, k, v);
		}
	}
	return 0;
}

/* One entry of include: a path, or {path, project_directory, env_file}. */
static int include_one(loader *l, const json_t *entry, size_t idx, const char *dir, json_t *doc,
		       berth_error **err)
{
	json_t *paths cleanup_json = path_list(json_is_object(entry)
						       ? json_object_get(entry, "path") : entry, dir);
	const json_t *pd = json_object_get(entry, "project_directory");
	const json_t *ef = json_object_get(entry, "env_file");
	json_t *env_files cleanup_json = ef ? path_list(ef, dir) : json_array();
	if (paths == NULL || json_array_size(paths) == 0 || env_files == NULL ||
	    (pd && !json_is_string(pd)))
		return berth_error_set(err, 400, "include[%zu]: path must be a string or a list of "
					 "strings", idx);
	size_t i;
	json_t *p;
	const char *first = json_string_value(json_array_get(paths, 0));
	json_array_foreach(l->including, i, p)
		if (strcmp(json_string_value(p), first) == 0)
			return berth_error_set(err, 400, "include cycle detected: %s is included by "
					       "itself", first);
	char *pdir cleanup_free = pd ? compose_abs_path(dir, json_string_value(pd)) : dir_of(first);
	bool explicit = json_array_size(env_files) > 0;
	if (!explicit)
		json_array_append_new(env_files, json_sprintf("%s/.env", pdir));
	json_t *env cleanup_json = NULL;
	json_t *inc cleanup_json = NULL;
	if (include_env(l, env_files, explicit, &env, err) < 0)
		return -1;
	json_array_append_new(l->including, json_string(first));
	int r = include_load(l, paths, pdir, env, &inc, err);
	json_array_remove(l->including, json_array_size(l->including) - 1);
	if (r < 0)
		return -1;
	return include_import(doc, inc, err);
}

/* One file: parsed, checked, interpolated, services canonical, extends done. */
static int load_doc(loader *l, const char *name, const char *text, size_t len, const char *dir,
		    json_t **out, berth_error **err)
{
	json_t *doc cleanup_json = NULL;
	if (compose_yaml_parse(name, text, len, &doc, &l->pos, err) < 0 ||
	    compose_schema_check(doc, &l->pos, err) < 0 ||
	    compose_interpolate_tree(doc, l->env, &l->pos, "", err) < 0)
		return -1;
	json_t *services = json_object_get(doc, "services");
	const char *k;
	json_t *v;
	void *tmp;
	json_object_foreach_safe(services, tmp, k, v) {
		if (json_is_null(v))
			json_object_set_new(services, k, v = json_object());
		if (compose_normalize_service(k, v, dir, l->env, &l->pos, err) < 0)
			return -1;
	}
	json_object_foreach(services, k, v) {
		json_t *chain cleanup_json = json_array();
		if (extends_one(l, services, k, dir, chain, err) < 0)
			return -1;
	}
	json_t *inc = json_object_get(doc, "include");
	size_t i;
	json_array_foreach(inc, i, v)
		if (include_one(l, v, i, dir, doc, err) < 0)
			return -1;
	json_object_del(doc, "include");
	*out = berth_steal_ptr(&doc);
	return 0;
}

/* ---------------------------------------------------------------- project */

static int project_name(loader *l, const json_t *model, char **out, berth_error **err)
{
	const char *given = l->o->project_name;
	if (given == NULL || *given == '\0')
		given = berth_json_string(l->env, "COMPOSE_PROJECT_NAME");
	if (given == NULL || *given == '\0')
		given = berth_json_string(model, "name");
	if (given && *given) {
		char *n cleanup_free = berth_compose_normalize_name(given);
		if (strcmp(n, given) != 0)
			return berth_error_set(err, 400,
					       "\"%s\" is not a valid project name: it must contain only "
					       "characters from [a-z0-9_-] and start with [a-z0-9]",
					       given);
		*out = berth_steal_ptr(&n);
		return 0;
	}
	char *copy cleanup_free = berth_xstrdup(l->project_dir);
	*out = berth_compose_normalize_name(basename(copy));
	if (**out == '\0')
		return berth_error_set(err, 400,
				       "project name must not be empty: use -p or set a top-level name");
	return 0;
}

static bool profile_active(const json_t *svc, char **active)
{
	json_t *profiles = json_object_get(svc, "profiles");
	if (!json_is_array(profiles) || json_array_size(profiles) == 0)
		return true;
	size_t i;
	json_t *p;
	json_array_foreach(profiles, i, p)
		for (char **a = active; a && *a; a++)
			if (strcmp(*a, "*") == 0 || strcmp(*a, json_string_value(p) ?: "") == 0)
				return true;
	return false;
}

static void apply_profiles(loader *l, berth_compose_project *p)
{
	char **active = NULL;
	const char *env = berth_json_string(l->env, "COMPOSE_PROFILES");
	if (l->o->profiles && l->o->profiles[0]) {
		size_t n = 0;
		while (l->o->profiles[n])
			n++;
		active = berth_xcalloc(n + 1, sizeof(char *));
		for (size_t i = 0; i < n; i++)
			active[i] = berth_xstrdup(l->o->profiles[i]);
	} else if (env && *env) {
		active = berth_str_split(env, ',');
	}
	json_t *services = json_object_get(p->model, "services");
	const char *k;
	json_t *v;
	void *tmp;
	json_object_foreach_safe(services, tmp, k, v)
		if (!profile_active(v, active)) {
			json_object_set(p->disabled, k, v);
			json_object_del(services, k);
		}
	berth_strv_free(active);
}

/* Top-level networks/volumes/secrets/configs get their engine names. */
static void name_resources(berth_compose_project *p, const char *section, bool prefix)
{
	json_t *all = json_object_get(p->model, section);
	const char *k;
	json_t *v;
	json_object_foreach(all, k, v) {
		if (json_is_null(v))
			json_object_set_new(all, k, v = json_object());
		json_t *ext = json_object_get(v, "external");
		if (json_is_object(ext) && berth_json_string(ext, "name")) {
			json_object_set(v, "name", json_object_get(ext, "name"));
			json_object_set_new(v, "external", json_true());
		}
		if (berth_json_string(v, "name"))
			continue;
		bool external = json_is_true(json_object_get(v, "external"));
		json_object_set_new(v, "name", external || !prefix
						       ? json_string(k)
						       : json_sprintf("%s_%s", p->name, k));
	}
}

static void implicit_default_network(berth_compose_project *p)
{
	json_t *services = json_object_get(p->model, "services");
	bool used = false;
	const char *k;
	json_t *v;
	json_object_foreach(services, k, v) {
		if (json_object_get(v, "networks") == NULL && json_object_get(v, "network_mode") == NULL)
			json_object_set_new(v, "networks", json_pack("{sn}", "default"));
		if (json_object_get(json_object_get(v, "networks"), "default"))
			used = true;
	}
	json_t *nets = json_object_get(p->model, "networks");
	if (used && json_object_get(nets, "default") == NULL) {
		if (nets == NULL)
			json_object_set_new(p->model, "networks", nets = json_object());
		json_object_set_new(nets, "default", json_object());
	}
}

/* A reference error at the service's field, with its file and line. */
static int BERTH_PRINTF(5, 6) ref_error(berth_error **err, const compose_pos *pos,
					const char *service, const char *field, const char *fmt, ...)
{
	char *path cleanup_free = berth_xasprintf("services.%s.%s", service, field);
	berth_buf b cleanup_buf = {0};
	va_list ap;
	va_start(ap, fmt);
	berth_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	return compose_error_at(err, pos, path, "%s", b.data);
}

static const char *str_or_empty(const char *s)
{
	return s ? s : "";
}

static int ref_check(const berth_compose_project *p, const compose_pos *pos, const char *svc_name,
		     const json_t *svc, berth_error **err)
{
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get((json_t *)svc, "networks"), k, v)
		if (!json_object_get(json_object_get(p->model, "networks"), k))
			return ref_error(err, pos, svc_name, "networks",
					 "service \"%s\" refers to undefined network %s: invalid "
					 "compose project",
					 svc_name, k);
	size_t i;
	json_array_foreach(json_object_get((json_t *)svc, "volumes"), i, v) {
		const char *src = berth_json_string(v, "source");
		if (src && strcmp(str_or_empty(berth_json_string(v, "type")), "volume") == 0 &&
		    !json_object_get(json_object_get(p->model, "volumes"), src))
			return ref_error(err, pos, svc_name, "volumes",
					 "service \"%s\" refers to undefined volume %s: invalid "
					 "compose project",
					 svc_name, src);
	}
	static const char *const refs[][2] = {{"secrets", "secret"}, {"configs", "config"}};
	for (size_t r = 0; r < 2; r++)
		json_array_foreach(json_object_get((json_t *)svc, refs[r][0]), i, v) {
			const char *src = berth_json_string(v, "source");
			if (!json_object_get(json_object_get(p->model, refs[r][0]), src))
				return ref_error(err, pos, svc_name, refs[r][0],
						 "service \"%s\" refers to undefined %s %s: "
						 "invalid compose project",
						 svc_name, refs[r][1], src);
		}
	return 0;
}

static int deps_check(berth_compose_project *p, const compose_pos *pos, const char *name,
		      json_t *svc, berth_error **err)
{
	json_t *deps = json_object_get(svc, "depends_on");
	json_t *services = json_object_get(p->model, "services");
	const char *k;
	json_t *v;
	void *tmp;
	json_object_foreach_safe(deps, tmp, k, v) {
		if (json_object_get(services, k))
			continue;
		bool required = !json_is_false(json_object_get(v, "required"));
		if (json_object_get(p->disabled, k) && !required) {
			json_object_del(deps, k);
			continue;
		}
		if (json_object_get(p->disabled, k)) {
			char *profiles cleanup_free = berth_json_dump(
				json_object_get(json_object_get(p->disabled, k), "profiles"));
			return berth_error_set(err, 400,
					       "service %s is required by %s but is disabled. Can be "
					       "enabled by profiles %s",
					       k, name, profiles);
		}
		return ref_error(err, pos, name, "depends_on",
				 "service \"%s\" depends on undefined service \"%s\": invalid "
				 "compose project",
				 name, k);
	}
	return 0;
}

/* x- extensions are for the author, not for the engine (or the hash). */
static void drop_extensions(json_t *obj)
{
	const char *k;
	json_t *v;
	void *tmp;
	json_object_foreach_safe(obj, tmp, k, v)
		if (berth_str_has_prefix(k, "x-"))
			json_object_del(obj, k);
}

static int service_check(berth_compose_project *p, const compose_pos *pos, const char *name,
			 json_t *svc, berth_error **err)
{
	if (!berth_json_string(svc, "image") && !json_object_get(svc, "build"))
		return berth_error_set(err, 400,
				       "service \"%s\" has neither an image nor a build context "
				       "specified: invalid compose project",
				       name);
	if (berth_json_string(svc, "container_name") && berth_compose_replicas(svc) > 1)
		return berth_error_set(err, 400,
				       "services.%s: can't set container_name and %s as container name "
				       "must be unique: invalid compose project",
				       name, name);
	drop_extensions(svc);
	return deps_check(p, pos, name, svc, err) < 0 || ref_check(p, pos, name, svc, err) < 0 ? -1 : 0;
}

static void file_paths(berth_compose_project *p, const char *section)
{
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(p->model, section), k, v) {
		const char *f = berth_json_string(v, "file");
		if (f) {
			char *abs cleanup_free = compose_abs_path(p->working_dir, f);
			json_object_set_new(v, "file", json_string(abs));
		}
	}
}

static int finish(loader *l, berth_compose_project *p, berth_error **err)
{
	json_t *m = p->model;
	if (project_name(l, m, &p->name, err) < 0)
		return -1;
	json_object_del(m, "version");
	drop_extensions(m);
	json_object_set_new(m, "name", json_string(p->name));
	if (json_object_get(m, "services") == NULL)
		json_object_set_new(m, "services", json_object());
	apply_profiles(l, p);
	implicit_default_network(p);
	name_resources(p, "networks", true);
	name_resources(p, "volumes", true);
	name_resources(p, "secrets", true);
	name_resources(p, "configs", true);
	file_paths(p, "secrets");
	file_paths(p, "configs");
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(m, "services"), k, v)
		if (service_check(p, &l->pos, k, v, err) < 0)
			return -1;
	json_t *order cleanup_json = NULL;
	return berth_compose_order(json_object_get(m, "services"), &order, err);
}

static berth_compose_project *project_new(loader *l)
{
	berth_compose_project *p = berth_xcalloc(1, sizeof(*p));
	p->working_dir = berth_xstrdup(l->project_dir);
	p->env = json_incref(l->env);
	p->disabled = json_object();
	size_t n = json_array_size(l->files), i;
	p->config_files = berth_xcalloc(n + 1, sizeof(char *));
	json_t *f;
	json_array_foreach(l->files, i, f)
		p->config_files[i] = berth_xstrdup(json_string_value(f));
	return p;
}

int berth_compose_load(const berth_compose_options *o, berth_compose_project **out,
		       berth_error **err)
{
	loader l __attribute__((cleanup(loader_reset))) = {.o = o};
	l.files = json_array();
	l.including = json_array();
	l.pos.map = json_object();
	if (o->workdir) {
		l.workdir = berth_xstrdup(o->workdir);
	} else if ((l.workdir = getcwd(NULL, 0)) == NULL) {
		return berth_error_set_errno(err, errno, "getcwd");
	}
	/* COMPOSE_FILE may come from the .env of the working directory */
	l.project_dir = o->project_dir ? compose_abs_path(l.workdir, o->project_dir)
				       : berth_xstrdup(l.workdir);
	if (load_dotenv(&l, err) < 0)
		return -1;
	free(l.project_dir);
	l.project_dir = NULL;
	if (pick_files(&l, err) < 0 || load_dotenv(&l, err) < 0)
		return -1;
	berth_compose_project *p cleanup_compose_project = project_new(&l);
	p->model = json_object();
	size_t i;
	json_t *f;
	json_array_foreach(l.files, i, f) {
		const char *path = json_string_value(f);
		char *text cleanup_free = NULL;
		size_t len;
		json_t *doc cleanup_json = NULL;
		json_decref(l.pos.tags);
		l.pos.tags = json_object();
		if (read_text(&l, path, &text, &len, err) < 0 ||
		    load_doc(&l, path, text, len, l.project_dir, &doc, err) < 0)
			return -1;
		compose_apply_tags(p->model, doc, l.pos.tags);
		compose_merge_doc(p->model, doc);
	}
	if (finish(&l, p, err) < 0)
		return -1;
	*out = berth_steal_ptr(&p);
	return 0;
}

int berth_compose_load_string(const char *name, const char *yaml, size_t len, const char *dir,
			      const json_t *env, berth_compose_project **out, berth_error **err)
{
	berth_compose_options o = {.project_dir = dir, .workdir = dir};
	loader l __attribute__((cleanup(loader_reset))) = {.o = &o};
	l.files = json_pack("[s]", name);
	l.including = json_array();
	l.pos.map = json_object();
	l.workdir = berth_xstrdup(dir);
	l.project_dir = berth_xstrdup(dir);
	l.env = env ? json_deep_copy(env) : json_object();
	berth_compose_project *p cleanup_compose_project = project_new(&l);
	if (load_doc(&l, name, yaml, len, dir, &p->model, err) < 0 || finish(&l, p, err) < 0)
		return -1;
	*out = berth_steal_ptr(&p);
	return 0;
}

void berth_compose_project_free(berth_compose_project *p)
{
	if (p == NULL)
		return;
	free(p->name);
	free(p->working_dir);
	berth_strv_free(p->config_files);
	json_decref(p->model);
	json_decref(p->env);
	json_decref(p->disabled);
	free(p);
}

void berth_compose_cleanup_project(berth_compose_project **p)
{
	berth_compose_project_free(*p);
}
