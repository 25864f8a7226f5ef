/*
 * query.c - the read side: list, inspect, history, disk usage. Everything
 * comes from memory under the lock; nothing here touches the disk.
 */
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define GO_ZERO_TIME "0001-01-01T00:00:00Z"
#define GO_ZERO_UNIX (-62135596800LL)

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* RepoTags and RepoDigests, familiar and sorted, as dockerd's lexicalRefs;
 * `keep` (may be NULL) selects references, for the reference filter. */
static void image_refs(const image *img, bool (*keep)(const char *full, const void *ud),
		       const void *ud, json_t **tags, json_t **digests)
{
	char **fam = berth_xcalloc(img->nrefs + 1, sizeof(*fam));
	size_t n = 0;
	for (size_t i = 0; i < img->nrefs; i++)
		if (keep == NULL || keep(img->refs[i], ud))
			fam[n++] = berth_image_familiar_string(img->refs[i]);
	qsort(fam, n, sizeof(*fam), cmp_str);
	*tags = json_array();
	*digests = json_array();
	for (size_t i = 0; i < n; i++) {
		json_array_append_new(strchr(fam[i], '@') ? *digests : *tags, json_string(fam[i]));
		free(fam[i]);
	}
	free(fam);
}

static json_t *config_labels(const image *img)
{
	json_t *labels = json_object_get(json_object_get(img->config, "config"), "Labels");
	return json_is_object(labels) ? json_incref(labels) : json_null();
}

static json_t *summary(const image *img, json_t *tags, json_t *digests)
{
	return json_pack("{s:i, s:I, s:s, s:o, s:s, s:o, s:o, s:i, s:I}", "Containers", -1,
			 "Created", (json_int_t)(img->created_ns / 1000000000LL), "Id", img->id,
			 "Labels", config_labels(img), "ParentId", img->parent ? img->parent : "",
			 "RepoDigests", digests, "RepoTags", tags, "SharedSize", -1, "Size",
			 (json_int_t)image_size(img));
}

/* ---------------------------------------------------------------- filters */

/* dockerd's MatchKVList: every "k" or "k=v" of the filter holds. */
static bool labels_match(json_t *labels, char *const *want)
{
	for (; want && *want; want++) {
		const char *eq = strchr(*want, '=');
		char *key cleanup_free = eq ? berth_xstrndup(*want, (size_t)(eq - *want))
					    : berth_xstrdup(*want);
		const char *have = json_string_value(json_object_get(labels, key));
		if (have == NULL || (eq && strcmp(have, eq + 1) != 0))
			return false;
	}
	return true;
}

static bool labels_match_none(json_t *labels, char *const *unwanted)
{
	for (; unwanted && *unwanted; unwanted++) {
		char *one[] = {*unwanted, NULL};
		if (labels_match(labels, one))
			return false;
	}
	return true;
}

/* reference.FamiliarMatch: the pattern against the familiar reference or
 * its familiar name. */
static bool ref_matches(const char *full, const void *ud)
{
	char *const *patterns = ud;
	char *fam cleanup_free = berth_image_familiar_string(full);
	size_t name_len = strcspn(fam, "@");
	const char *slash = strrchr(fam, '/');
	const char *colon = strrchr(slash ? slash : fam, ':');
	if (colon && (size_t)(colon - fam) < name_len)
		name_len = (size_t)(colon - fam);
	char *name cleanup_free = berth_xstrndup(fam, name_len);
	for (; *patterns; patterns++) {
		if (fnmatch(*patterns, fam, FNM_PATHNAME) == 0 ||
		    fnmatch(*patterns, name, FNM_PATHNAME) == 0)
			return true;
	}
	return false;
}

/* before/since: the creation time of a named image (the last one named). */
static int filter_time(berth_image_store *s, char *const *names, int64_t *out, berth_error **err)
{
	for (; names && *names; names++) {
		image *img = image_lookup(s, *names, err);
		if (img == NULL)
			return -1;
		*out = img->created_ns;
	}
	return 0;
}

typedef struct list_ctx {
	const berth_image_filters *f;
	map parents; /* IDs that are some image's parent */
	int64_t before, since;
	bool has_before, has_since;
} list_ctx;

static bool keep_by_time_and_labels(const list_ctx *c, const image *img)
{
	if (c->has_before && !(img->created_ns && img->created_ns < c->before))
		return false;
	if (c->has_since && !(img->created_ns && img->created_ns > c->since))
		return false;
	if (c->f->until_ns && !(img->created_ns < c->f->until_ns))
		return false;
	if (c->f->labels || c->f->labels_not) {
		json_t *labels = json_object_get(json_object_get(img->config, "config"), "Labels");
		if (!json_is_object(json_object_get(img->config, "config")))
			return false;
		if (!labels_match(labels, c->f->labels) || !labels_match_none(labels, c->f->labels_not))
			return false;
	}
	return true;
}

/* dockerd's Images(): the dangling and intermediate rules, given what the
 * image shows (references and tags, after the reference filter). */
static bool list_rules(const list_ctx *c, const image *img, size_t refs_shown, bool tag_shown)
{
	const berth_image_filters *f = c->f;
	bool has_children = map_get(&c->parents, img->id) != NULL;
	if (f->dangling == 1 && has_children)
		return false;
	if (!keep_by_time_and_labels(c, img))
		return false;
	if (refs_shown == 0)
		return (f->all || !has_children) && f->dangling != 0 && !f->references;
	return !(f->dangling == 1 && tag_shown);
}

static json_t *list_one(berth_image_store *s, const list_ctx *c, const image *img)
{
	const berth_image_filters *f = c->f;
	json_t *tags, *digests;
	image_refs(img, f->references ? ref_matches : NULL, f->references, &tags, &digests);
	if (!list_rules(c, img, json_array_size(tags) + json_array_size(digests),
			json_array_size(tags) > 0)) {
		json_decref(tags);
		json_decref(digests);
		return NULL;
	}
	return summary(img, tags, digests);
}

static void list_ctx_init(berth_image_store *s, list_ctx *c, const berth_image_filters *f)
{
	memset(c, 0, sizeof(*c));
	c->f = f;
	map_entry *e;
	for (size_t i = 0; map_next(&s->images, &i, &e);) {
		const image *img = e->value;
		if (img->parent)
			map_put(&c->parents, img->parent, (void *)img);
	}
}

static int by_created_desc(const void *a, const void *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	json_int_t cx = json_integer_value(json_object_get(x, "Created"));
	json_int_t cy = json_integer_value(json_object_get(y, "Created"));
	if (cx != cy)
		return cx > cy ? -1 : 1;
	return strcmp(berth_json_string(x, "Id"), berth_json_string(y, "Id"));
}

static json_t *sorted_array(json_t **items, size_t n)
{
	qsort(items, n, sizeof(*items), by_created_desc);
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, items[i]);
	return arr;
}

static int list_begin(berth_image_store *s, list_ctx *c, const berth_image_filters *f,
		      berth_error **err)
{
	pthread_mutex_lock(&s->mu);
	list_ctx_init(s, c, f);
	c->has_before = f->before && *f->before;
	c->has_since = f->since && *f->since;
	if (filter_time(s, f->before, &c->before, err) < 0 ||
	    filter_time(s, f->since, &c->since, err) < 0) {
		pthread_mutex_unlock(&s->mu);
		map_free(&c->parents);
		return -1;
	}
	return 0;
}

int berth_image_list(berth_image_store *s, const berth_image_filters *f, json_t **out,
		     berth_error **err)
{
	list_ctx c;
	if (list_begin(s, &c, f, err) < 0)
		return -1;
	json_t **items = berth_xcalloc(s->images.len + 1, sizeof(*items));
	size_t n = 0;
	map_entry *e;
	for (size_t i = 0; map_next(&s->images, &i, &e);) {
		json_t *item = list_one(s, &c, e->value);
		if (item)
			items[n++] = item;
	}
	pthread_mutex_unlock(&s->mu);
	map_free(&c.parents);
	*out = sorted_array(items, n);
	free(items);
	return 0;
}

static int by_image_created_desc(const void *a, const void *b)
{
	const image *x = *(image *const *)a, *y = *(image *const *)b;
	int64_t cx = x->created_ns / 1000000000LL, cy = y->created_ns / 1000000000LL;
	if (cx != cy)
		return cx > cy ? -1 : 1;
	return strcmp(x->id, y->id);
}

/* The summary's text is kept with the image (and dropped when its
 * references change), so listing many images costs a concatenation. */
static const char *summary_text(image *img)
{
	if (img->summary == NULL) {
		json_t *tags, *digests;
		image_refs(img, NULL, NULL, &tags, &digests);
		json_t *j = summary(img, tags, digests);
		img->summary = berth_json_dump(j);
		json_decref(j);
	}
	return img->summary;
}

void store_warm_summaries(berth_image_store *s)
{
	map_entry *e;
	for (size_t i = 0; map_next(&s->images, &i, &e);)
		summary_text(e->value);
}

int berth_image_list_text(berth_image_store *s, const berth_image_filters *f, char **out,
			  berth_error **err)
{
	if (f->references) {
		json_t *list = NULL;
		if (berth_image_list(s, f, &list, err) < 0)
			return -1;
		*out = berth_json_dump(list);
		json_decref(list);
		return 0;
	}
	list_ctx c;
	if (list_begin(s, &c, f, err) < 0)
		return -1;
	image **imgs = berth_xcalloc(s->images.len + 1, sizeof(*imgs));
	size_t n = 0;
	map_entry *e;
	for (size_t i = 0; map_next(&s->images, &i, &e);) {
		image *img = e->value;
		if (list_rules(&c, img, img->nrefs, image_tagged(img)))
			imgs[n++] = img;
	}
	qsort(imgs, n, sizeof(*imgs), by_image_created_desc);
	berth_buf b = {0};
	berth_buf_puts(&b, "[");
	for (size_t i = 0; i < n; i++) {
		if (i)
			berth_buf_puts(&b, ",");
		berth_buf_puts(&b, summary_text(imgs[i]));
	}
	berth_buf_puts(&b, "]");
	pthread_mutex_unlock(&s->mu);
	map_free(&c.parents);
	free(imgs);
	*out = berth_buf_steal(&b);
	return 0;
}

/* ---------------------------------------------------------------- inspect */

/* container.Config's fields in Go's order; optional ones (omitempty) are
 * copied only when present. */
static const struct {
	const char *name;
	const char *zero; /* JSON of the zero value, NULL for omitempty */
} config_fields[] = {
	{"Hostname", "\"\""},	  {"Domainname", "\"\""},  {"User", "\"\""},
	{"AttachStdin", "false"}, {"AttachStdout", "false"}, {"AttachStderr", "false"},
	{"ExposedPorts", NULL},	  {"Tty", "false"},	   {"OpenStdin", "false"},
	{"StdinOnce", "false"},	  {"Env", "null"},	   {"Cmd", "null"},
	{"Healthcheck", NULL},	  {"ArgsEscaped", NULL},   {"Image", "\"\""},
	{"Volumes", "null"},	  {"WorkingDir", "\"\""},  {"Entrypoint", "null"},
	{"NetworkDisabled", NULL}, {"MacAddress", NULL},   {"OnBuild", "null"},
	{"Labels", "null"},	  {"StopSignal", NULL},	   {"StopTimeout", NULL},
	{"Shell", NULL},
};

json_t *container_config_full(const json_t *cfg)
{
	if (!json_is_object(cfg))
		return json_null();
	json_t *out = json_object();
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(config_fields); i++) {
		json_t *v = json_object_get(cfg, config_fields[i].name);
		if (v)
			json_object_set(out, config_fields[i].name, v);
		else if (config_fields[i].zero)
			json_object_set_new(out, config_fields[i].name,
					    json_loads(config_fields[i].zero, JSON_DECODE_ANY, NULL));
	}
	return out;
}

json_t *berth_image_config_full(const json_t *config)
{
	json_t *empty cleanup_json = json_object();
	return container_config_full(json_is_object(config) ? config : empty);
}

static json_t *graph_driver(berth_image_store *s, const image *img)
{
	json_t *data = json_object();
	if (img->nlayers > 0) {
		char *top cleanup_free = layer_dir(s, img->layers[img->nlayers - 1]->chain);
		berth_buf lower = {0};
		for (size_t i = img->nlayers - 1; i-- > 0;) {
			char *dir cleanup_free = layer_dir(s, img->layers[i]->chain);
			berth_buf_printf(&lower, "%s%s/diff", lower.len ? ":" : "", dir);
		}
		if (lower.len)
			json_object_set_new(data, "LowerDir", json_string(lower.data));
		berth_buf_reset(&lower);
		char *merged cleanup_free = berth_xasprintf("%s/merged", top);
		char *upper cleanup_free = berth_xasprintf("%s/diff", top);
		char *work cleanup_free = berth_xasprintf("%s/work", top);
		json_object_set_new(data, "MergedDir", json_string(merged));
		json_object_set_new(data, "UpperDir", json_string(upper));
		json_object_set_new(data, "WorkDir", json_string(work));
	}
	return json_pack("{s:o, s:s}", "Data", data, "Name", "overlay2");
}

static const char *image_comment(const image *img)
{
	const char *c = berth_json_string(img->config, "comment");
	json_t *hist = json_object_get(img->config, "history");
	if ((c == NULL || *c == '\0') && json_array_size(hist) > 0)
		c = berth_json_string(json_array_get(hist, json_array_size(hist) - 1), "comment");
	return c ? c : "";
}

static json_t *string_or_empty(const json_t *cfg, const char *key)
{
	const char *v = berth_json_string(cfg, key);
	return json_string(v ? v : "");
}

static json_t *inspect_json(berth_image_store *s, const image *img)
{
	const json_t *c = img->config;
	json_t *tags, *digests;
	image_refs(img, NULL, NULL, &tags, &digests);
	json_t *out = json_pack("{s:s, s:o, s:o, s:s, s:s}", "Id", img->id, "RepoTags", tags,
				"RepoDigests", digests, "Parent", img->parent ? img->parent : "",
				"Comment", image_comment(img));
	if (berth_json_string(c, "created"))
		json_object_set_new(out, "Created", string_or_empty(c, "created"));
	/* dropped by the API layer from 1.45 on */
	json_object_set_new(out, "Container", string_or_empty(c, "container"));
	json_object_set_new(out, "ContainerConfig",
			    container_config_full(json_object_get(c, "container_config")));
	json_object_set_new(out, "DockerVersion", string_or_empty(c, "docker_version"));
	json_object_set_new(out, "Author", string_or_empty(c, "author"));
	json_object_set_new(out, "Config", container_config_full(json_object_get(c, "config")));
	json_object_set_new(out, "Architecture", string_or_empty(c, "architecture"));
	if (berth_json_string(c, "variant"))
		json_object_set_new(out, "Variant", string_or_empty(c, "variant"));
	const char *os = berth_json_string(c, "os");
	json_object_set_new(out, "Os", json_string(os && *os ? os : "linux"));
	if (berth_json_string(c, "os.version"))
		json_object_set_new(out, "OsVersion", string_or_empty(c, "os.version"));
	json_object_set_new(out, "Size", json_integer(image_size(img)));
	json_object_set_new(out, "VirtualSize", json_integer(image_size(img)));
	json_object_set_new(out, "GraphDriver", graph_driver(s, img));
	json_t *layers = json_array();
	for (size_t i = 0; i < img->nlayers; i++)
		json_array_append_new(layers, json_string(img->layers[i]->diff));
	json_t *rootfs = json_pack("{s:s}", "Type", "layers");
	if (img->nlayers)
		json_object_set_new(rootfs, "Layers", layers);
	else
		json_decref(layers);
	json_object_set_new(out, "RootFS", rootfs);
	char t[64] = GO_ZERO_TIME;
	if (img->last_tag_ns)
		format_go_time(img->last_tag_ns, t, sizeof(t));
	json_object_set_new(out, "Metadata", json_pack("{s:s}", "LastTagTime", t));
	return out;
}

int berth_image_inspect(berth_image_store *s, const char *name, json_t **out, berth_error **err)
{
	pthread_mutex_lock(&s->mu);
	image *img = image_lookup(s, name, err);
	if (img)
		*out = inspect_json(s, img);
	pthread_mutex_unlock(&s->mu);
	return img ? 0 : -1;
}

/* ---------------------------------------------------------------- history */

static int history_entries(const image *img, json_t *out, berth_error **err)
{
	json_t *hist = json_object_get(img->config, "history");
	size_t layer_i = 0, idx;
	json_t *h;
	json_array_foreach(hist, idx, h) {
		int64_t size = 0;
		if (!json_is_true(json_object_get(h, "empty_layer"))) {
			if (layer_i >= img->nlayers)
				return berth_error_set(err, 500, "too many non-empty layers in History "
								 "section");
			size = img->layers[layer_i++]->size;
		}
		const char *created = berth_json_string(h, "created");
		int64_t secs = created ? parse_rfc3339(created) / 1000000000LL : GO_ZERO_UNIX;
		json_t *item = json_pack("{s:s, s:I, s:s, s:n, s:I, s:s}", "Id", "<missing>",
					 "Created", (json_int_t)secs, "CreatedBy",
					 berth_json_string(h, "created_by") ?: "", "Tags", "Size",
					 (json_int_t)size, "Comment", berth_json_string(h, "comment") ?: "");
		json_array_insert_new(out, 0, item);
	}
	return 0;
}

/* Image IDs and tags go on the newest entries, walking up the parents
 * recorded for locally built images. */
static void history_ids(berth_image_store *s, const image *img, json_t *out)
{
	size_t i;
	json_t *item;
	json_array_foreach(out, i, item) {
		if (img == NULL)
			break;
		json_t *tags, *digests;
		image_refs(img, NULL, NULL, &tags, &digests);
		json_decref(digests);
		json_object_set_new(item, "Id", json_string(img->id));
		json_object_set_new(item, "Tags", json_array_size(tags) ? tags : json_null());
		if (json_array_size(tags) == 0)
			json_decref(tags);
		img = img->parent ? map_get(&s->images, img->parent) : NULL;
	}
}

int berth_image_history(berth_image_store *s, const char *name, json_t **out, berth_error **err)
{
	pthread_mutex_lock(&s->mu);
	image *img = image_lookup(s, name, err);
	json_t *hist = img ? json_array() : NULL;
	int rc = img ? history_entries(img, hist, err) : -1;
	if (rc == 0)
		history_ids(s, img, hist);
	pthread_mutex_unlock(&s->mu);
	if (rc < 0) {
		json_decref(hist);
		return -1;
	}
	*out = hist;
	return 0;
}

/* ------------------------------------------------------------- disk usage */

static int64_t shared_size(const image *img)
{
	int64_t size = 0;
	for (size_t i = 0; i < img->nlayers; i++)
		if (img->layers[i]->refs > 1)
			size += img->layers[i]->size;
	return size;
}

int berth_image_df(berth_image_store *s, json_t **out, berth_error **err)
{
	berth_image_filters f = {.dangling = -1};
	list_ctx c;
	pthread_mutex_lock(&s->mu);
	list_ctx_init(s, &c, &f);
	json_t **items = berth_xcalloc(s->images.len + 1, sizeof(*items));
	size_t n = 0;
	map_entry *e;
	for (size_t i = 0; map_next(&s->images, &i, &e);) {
		const image *img = e->value;
		json_t *item = list_one(s, &c, img);
		if (item == NULL)
			continue;
		berth_image_usage use;
		image_usage(s, img, &use);
		json_object_set_new(item, "SharedSize", json_integer(shared_size(img)));
		json_object_set_new(item, "Containers", json_integer(use.count));
		items[n++] = item;
	}
	int64_t layers_size = 0;
	for (size_t i = 0; map_next(&s->layers, &i, &e);)
		layers_size += ((layer *)e->value)->size;
	pthread_mutex_unlock(&s->mu);
	map_free(&c.parents);
	json_t *images = sorted_array(items, n);
	free(items);
	*out = json_pack("{s:I, s:o}", "LayersSize", (json_int_t)layers_size, "Images", images);
	return 0;
}

/* ------------------------------------------------------------------ misc */

int berth_image_config(berth_image_store *s, const char *id, json_t **out, berth_error **err)
{
	pthread_mutex_lock(&s->mu);
	image *img = image_lookup(s, id, err);
	if (img)
		*out = json_deep_copy(img->config);
	pthread_mutex_unlock(&s->mu);
	return img ? 0 : -1;
}

json_t *berth_image_event_attributes(berth_image_store *s, const char *id, const char *name)
{
	json_t *attrs = json_pack("{s:s}", "name", name);
	pthread_mutex_lock(&s->mu);
	image *img = map_get(&s->images, id);
	json_t *labels = img ? json_object_get(json_object_get(img->config, "config"), "Labels")
			     : NULL;
	if (json_is_object(labels))
		json_object_update(attrs, labels);
	pthread_mutex_unlock(&s->mu);
	json_object_set_new(attrs, "name", json_string(name));
	return attrs;
}
