/*
 * import.c - images made from a single layer: docker import (a root
 * filesystem tar) and, for commit and the builder, a layer on top of an
 * existing image with a config the caller wrote.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* "linux", "linux/amd64", "linux/arm64/v8". */
static int parse_platform(const char *p, char **os, char **arch, char **variant,
			  berth_error **err)
{
	*os = berth_xstrdup("linux");
	*arch = berth_xstrdup(host_arch());
	*variant = NULL;
	if (p == NULL || *p == '\0')
		return 0;
	char **parts = berth_str_split(p, '/');
	size_t n = berth_strv_len(parts);
	int rc = 0;
	if (n == 0 || n > 3 || strcmp(parts[0], "linux") != 0) {
		rc = berth_error_set(err, 400, "unsupported os %s", n ? parts[0] : p);
	} else {
		if (n > 1) {
			free(*arch);
			*arch = berth_xstrdup(parts[1]);
		}
		if (n > 2)
			*variant = berth_xstrdup(parts[2]);
	}
	berth_strv_free(parts);
	return rc;
}

/* docker import's RepoTagReference: a repository (no digest) and a tag. */
static int import_reference(const berth_image_import_opts *o, char **full, berth_error **err)
{
	*full = NULL;
	if (o->repo == NULL || *o->repo == '\0')
		return 0;
	berth_image_ref ref;
	if (berth_image_ref_parse(o->repo, &ref, err) < 0)
		return -1;
	int rc = 0;
	if (ref.digest) {
		rc = berth_error_set(err, 400, "cannot import digest reference");
	} else {
		if (o->tag && *o->tag) {
			free(ref.tag);
			ref.tag = berth_xstrdup(o->tag);
		} else if (ref.tag == NULL) {
			ref.tag = berth_xstrdup("latest");
		}
		*full = berth_image_ref_string(&ref);
	}
	berth_image_ref_reset(&ref);
	return rc;
}

/* The config dockerd's ImportImage writes, in the order Go marshals it. */
static char *import_config(const berth_image_import_opts *o, json_t *cfg, const char *arch,
			   const char *variant, const layer *l)
{
	char created[64];
	format_go_time(berth_time_now_ns(), created, sizeof(created));
	const char *msg = o->message && *o->message ? o->message : "Imported from -";
	json_t *c = json_object();
	json_object_set_new(c, "comment", json_string(msg));
	json_object_set_new(c, "created", json_string(created));
	json_object_set_new(c, "config", container_config_full(cfg));
	json_object_set_new(c, "architecture", json_string(arch));
	if (variant)
		json_object_set_new(c, "variant", json_string(variant));
	json_object_set_new(c, "os", json_string("linux"));
	json_object_set_new(c, "rootfs", json_pack("{s:s, s:[s]}", "type", "layers", "diff_ids",
						    l->diff));
	json_object_set_new(c, "history", json_pack("[{s:s, s:s}]", "created", created, "comment",
						     msg));
	char *out = json_go_dump(c);
	json_decref(c);
	return out;
}

int berth_image_import(berth_image_store *s, const berth_image_source *src,
		       const berth_image_import_opts *opts, char **id, berth_error **err)
{
	char *os cleanup_free = NULL, *arch cleanup_free = NULL, *variant cleanup_free = NULL;
	char *full cleanup_free = NULL;
	json_t *cfg cleanup_json = json_object();
	if (parse_platform(opts->platform, &os, &arch, &variant, err) < 0 ||
	    import_reference(opts, &full, err) < 0 ||
	    berth_image_apply_changes(cfg, opts->changes, err) < 0)
		return -1;
	mem_reader m = {.data = src->data, .len = src->len};
	layer *l = NULL;
	if (src->len == 0)
		return berth_error_set(err, 400, "unexpected EOF");
	if (layer_register(s, mem_read, &m, NULL, NULL, NULL, 0, &l, err) < 0)
		return -1;
	char *config cleanup_free = import_config(opts, cfg, arch, variant, l);
	char new_id[DIGEST_LEN + 1];
	int rc = store_commit_image(s, config, strlen(config), NULL, new_id, err);
	if (rc == 0 && full) {
		pthread_mutex_lock(&s->wmu);
		rc = store_set_tag(s, full, new_id, err);
		pthread_mutex_unlock(&s->wmu);
	}
	layer_unpin(s, l);
	if (rc == 0)
		*id = berth_xstrdup(new_id);
	return rc;
}

/* Pins the layers of an image's chain, bottom first. */
static int pin_chain(berth_image_store *s, const char *name, char id[DIGEST_LEN + 1],
		     layer ***pins, size_t *n, json_t **diffs, berth_error **err)
{
	pthread_mutex_lock(&s->mu);
	image *img = image_lookup(s, name, err);
	if (img) {
		memcpy(id, img->id, DIGEST_LEN + 1);
		*n = img->nlayers;
		*pins = berth_xcalloc(img->nlayers + 1, sizeof(**pins));
		*diffs = json_array();
		for (size_t i = 0; i < img->nlayers; i++) {
			(*pins)[i] = img->layers[i];
			(*pins)[i]->refs++;
			json_array_append_new(*diffs, json_string(img->layers[i]->diff));
		}
	}
	pthread_mutex_unlock(&s->mu);
	return img ? 0 : -1;
}

int berth_image_create(berth_image_store *s, const char *parent_id, const berth_image_source *src,
		       json_t *config, char **id, berth_error **err)
{
	layer **pins = NULL;
	size_t n = 0;
	json_t *diffs = json_array();
	char parent[DIGEST_LEN + 1] = "";
	if (parent_id) {
		json_decref(diffs);
		if (pin_chain(s, parent_id, parent, &pins, &n, &diffs, err) < 0)
			return -1;
	}
	layer *l = NULL;
	int rc = 0;
	if (src) {
		mem_reader m = {.data = src->data, .len = src->len};
		rc = layer_register(s, mem_read, &m, n ? pins[n - 1] : NULL, NULL, NULL, (int)n, &l, err);
	}
	if (rc == 0) {
		if (l)
			json_array_append_new(diffs, json_string(l->diff));
		json_object_set_new(config, "rootfs", json_pack("{s:s, s:O}", "type", "layers",
								 "diff_ids", diffs));
		char *bytes cleanup_free = json_go_dump(config);
		char new_id[DIGEST_LEN + 1];
		rc = store_commit_image(s, bytes, strlen(bytes), *parent ? parent : NULL, new_id,
					err);
		if (rc == 0)
			*id = berth_xstrdup(new_id);
		if (l)
			layer_unpin(s, l);
	}
	json_decref(diffs);
	for (size_t i = n; i-- > 0;)
		layer_unpin(s, pins[i]);
	free(pins);
	return rc;
}

int berth_image_create_config(berth_image_store *s, const char *parent_id, json_t *config,
			      char **id, berth_error **err)
{
	char (*chains)[DIGEST_LEN + 1] = NULL, (*diffs)[DIGEST_LEN + 1] = NULL;
	size_t n = 0;
	if (config_chain(config, &chains, &diffs, &n, err) < 0)
		return -1;
	layer **pins = berth_xcalloc(n + 1, sizeof(*pins));
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++)
		if ((pins[i] = layer_pin(s, chains[i])) == NULL)
			rc = berth_error_set(err, 404, "layer does not exist: %s", diffs[i]);
	if (rc == 0) {
		char *bytes cleanup_free = json_go_dump(config);
		char new_id[DIGEST_LEN + 1];
		rc = store_commit_image(s, bytes, strlen(bytes), parent_id, new_id, err);
		if (rc == 0)
			*id = berth_xstrdup(new_id);
	}
	for (size_t i = n; i-- > 0;)
		if (pins[i])
			layer_unpin(s, pins[i]);
	free(pins);
	free(chains);
	free(diffs);
	return rc;
}
