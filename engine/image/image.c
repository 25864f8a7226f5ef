/*
 * image.c - image records in memory: built from their configs, looked up by
 * name as dockerd's GetImage does, added and dropped with their layers' refs.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

int config_chain(const json_t *config, char (**chains)[DIGEST_LEN + 1],
		 char (**diffs)[DIGEST_LEN + 1], size_t *n, berth_error **err)
{
	json_t *rootfs = json_object_get(config, "rootfs");
	json_t *ids = json_object_get(rootfs, "diff_ids");
	const char *type = berth_json_string(rootfs, "type");
	if (!json_is_object(rootfs) || (type && strcmp(type, "layers") != 0) ||
	    (ids && !json_is_array(ids)))
		return berth_error_set(err, 400, "invalid image config: bad rootfs");
	*n = json_array_size(ids);
	*chains = berth_xcalloc(*n + 1, sizeof(**chains));
	*diffs = berth_xcalloc(*n + 1, sizeof(**diffs));
	for (size_t i = 0; i < *n; i++) {
		const char *d = json_string_value(json_array_get(ids, i));
		if (d == NULL || !digest_valid(d)) {
			free(*chains);
			free(*diffs);
			return berth_error_set(err, 400, "invalid image config: bad diff ID %s",
					       d ? d : "(not a string)");
		}
		snprintf((*diffs)[i], DIGEST_LEN + 1, "%s", d);
		chain_id(i ? (*chains)[i - 1] : NULL, d, (*chains)[i]);
	}
	return 0;
}

int image_from_config(berth_image_store *s, const char *id, const char *data, size_t len,
		      image **out, berth_error **err)
{
	json_error_t jerr;
	json_t *config cleanup_json = json_loadb(data, len, 0, &jerr);
	if (!json_is_object(config))
		return berth_error_set(err, 400, "invalid image config: %s",
				       config ? "not an object" : jerr.text);
	char (*chains)[DIGEST_LEN + 1] cleanup_free = NULL;
	char (*diffs)[DIGEST_LEN + 1] cleanup_free = NULL;
	size_t n = 0;
	if (config_chain(config, &chains, &diffs, &n, err) < 0)
		return -1;
	image *img = berth_xcalloc(1, sizeof(*img));
	img->layers = berth_xcalloc(n + 1, sizeof(*img->layers));
	for (size_t i = 0; i < n; i++) {
		img->layers[i] = layer_get(s, chains[i]);
		if (img->layers[i] == NULL) {
			image_free(img);
			return berth_error_set(err, 404, "layer %s does not exist", chains[i]);
		}
	}
	img->nlayers = n;
	snprintf(img->id, sizeof(img->id), "%s", id);
	img->config = berth_steal_ptr(&config);
	img->config_len = len;
	img->created_ns = parse_rfc3339(berth_json_string(img->config, "created"));
	*out = img;
	return 0;
}

void image_free(image *img)
{
	if (img == NULL)
		return;
	json_decref(img->config);
	free(img->summary);
	free(img->parent);
	free(img->layers);
	for (size_t i = 0; i < img->nrefs; i++)
		free(img->refs[i]);
	free(img->refs);
	free(img);
}

int64_t image_size(const image *img)
{
	int64_t size = 0;
	for (size_t i = 0; i < img->nlayers; i++)
		size += img->layers[i]->size;
	return size;
}

bool image_has_children(berth_image_store *s, const image *img)
{
	map_entry *e;
	for (size_t i = 0; map_next(&s->images, &i, &e);) {
		const image *other = e->value;
		if (other->parent && strcmp(other->parent, img->id) == 0)
			return true;
	}
	return false;
}

void image_usage(berth_image_store *s, const image *img, berth_image_usage *out)
{
	memset(out, 0, sizeof(*out));
	if (s->usage)
		s->usage(s->usage_ud, img->id, out);
}

bool image_tagged(const image *img)
{
	for (size_t i = 0; i < img->nrefs; i++)
		if (strchr(img->refs[i], '@') == NULL)
			return true;
	return false;
}

image *store_add_image(berth_image_store *s, image *img)
{
	image *have = map_get(&s->images, img->id);
	if (have) {
		image_free(img);
		return have;
	}
	map_put(&s->images, img->id, img);
	for (size_t i = 0; i < img->nlayers; i++)
		img->layers[i]->refs++;
	return img;
}

void store_drop_image(berth_image_store *s, image *img, layer ***dead, size_t *ndead)
{
	while (img->nrefs > 0)
		refs_del(s, img->refs[img->nrefs - 1]);
	map_del(&s->images, img->id);
	/* top first: the order dockerd reports removed layers in */
	for (size_t i = img->nlayers; i-- > 0;)
		layer_unref(s, img->layers[i], dead, ndead);
	image_free(img);
}

int image_write_record(berth_image_store *s, const image *img, berth_error **err)
{
	json_t *rec cleanup_json = json_object();
	if (img->parent)
		json_object_set_new(rec, "parent", json_string(img->parent));
	if (img->last_tag_ns) {
		char t[64];
		format_go_time(img->last_tag_ns, t, sizeof(t));
		json_object_set_new(rec, "last_tag_time", json_string(t));
	}
	char *data cleanup_free = json_dumps(rec, JSON_COMPACT | JSON_SORT_KEYS);
	char *path cleanup_free = store_path(s, "images", img->id);
	return berth_file_write_atomic(path, data, strlen(data), 0600, err);
}

/* ----------------------------------------------------------------- lookup */

static bool all_hex(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s) && !(*s >= 'a' && *s <= 'f'))
			return false;
	return true;
}

/* A unique ID prefix; NULL when none or several match. */
static image *search_prefix(berth_image_store *s, const char *prefix)
{
	if (berth_str_has_prefix(prefix, "sha256:"))
		prefix += 7;
	if (!all_hex(prefix))
		return NULL;
	size_t n = strlen(prefix);
	image *found = NULL;
	map_entry *e;
	for (size_t i = 0; map_next(&s->images, &i, &e);) {
		image *img = e->value;
		if (strncmp(HEX_OF(img->id), prefix, n) == 0) {
			if (found)
				return NULL;
			found = img;
		}
	}
	return found;
}

static int no_such_image(const char *what, berth_error **err)
{
	return berth_error_set(err, 404, "No such image: %s", what);
}

image *image_lookup(berth_image_store *s, const char *name, berth_error **err)
{
	image *img = NULL;
	if (strlen(name) == 64 && all_hex(name)) {
		char id[DIGEST_LEN + 1];
		snprintf(id, sizeof(id), "sha256:%s", name);
		if ((img = map_get(&s->images, id)) == NULL)
			no_such_image(id, err);
		return img;
	}
	if (berth_str_has_prefix(name, "sha256:")) {
		img = digest_valid(name) ? map_get(&s->images, name) : search_prefix(s, name);
		if (img == NULL)
			no_such_image(name, err);
		return img;
	}
	berth_image_ref ref;
	if (berth_image_ref_parse(name, &ref, err) < 0)
		return NULL;
	if (ref.tag == NULL && ref.digest == NULL)
		ref.tag = berth_xstrdup("latest");
	char *full cleanup_free = berth_image_ref_string(&ref);
	img = map_get(&s->refs, full);
	if (img == NULL && strpbrk(name, ":@/") == NULL)
		img = search_prefix(s, name);
	if (img == NULL) {
		char *familiar cleanup_free = berth_image_ref_familiar(&ref);
		no_such_image(familiar, err);
	}
	berth_image_ref_reset(&ref);
	return img;
}

int berth_image_resolve(berth_image_store *s, const char *name, char **id, berth_error **err)
{
	pthread_mutex_lock(&s->mu);
	image *img = image_lookup(s, name, err);
	if (img)
		*id = berth_xstrdup(img->id);
	pthread_mutex_unlock(&s->mu);
	return img ? 0 : -1;
}

/* Makes an image exist: config blob, record, then the maps. Its layers must
 * be in the store (pinned by the caller). An image that exists already
 * keeps its record. parent may be NULL or name an image that is kept only
 * when it exists. */
int store_commit_image(berth_image_store *s, const char *config, size_t len, const char *parent,
		       char id_out[DIGEST_LEN + 1], berth_error **err)
{
	char id[DIGEST_LEN + 1];
	if (blob_put(s, config, len, id, err) < 0)
		return -1;
	if (id_out)
		memcpy(id_out, id, sizeof(id));
	pthread_mutex_lock(&s->wmu);
	pthread_mutex_lock(&s->mu);
	image *img = NULL;
	int rc = map_get(&s->images, id) ? 1 : image_from_config(s, id, config, len, &img, err);
	if (rc == 0 && parent && map_get(&s->images, parent))
		img->parent = berth_xstrdup(parent);
	pthread_mutex_unlock(&s->mu);
	if (rc == 0 && image_write_record(s, img, err) < 0) {
		image_free(img);
		rc = -1;
	}
	if (rc == 0) {
		pthread_mutex_lock(&s->mu);
		store_add_image(s, img);
		pthread_mutex_unlock(&s->mu);
	}
	pthread_mutex_unlock(&s->wmu);
	return rc < 0 ? -1 : 0;
}
