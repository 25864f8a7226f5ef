/*
 * layer.c - layer records: one directory per chain ID, committed by rename.
 *
 *   layers/<chain-hex>/diff/       the extracted files, an overlay lower dir
 *   layers/<chain-hex>/meta.json   {"diff_id", "parent", "size", "tar_size"}
 *   layers/<chain-hex>/tar-split   see tarsplit.c
 *
 * A layer's refs count the images whose chain holds it, plus mounts and the
 * pins of operations in flight; at zero it is removed.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

char *layer_dir(const berth_image_store *s, const char *chain)
{
	return store_path(s, "layers", chain);
}

layer *layer_get(berth_image_store *s, const char *chain)
{
	return map_get(&s->layers, chain);
}

static layer *layer_read(berth_image_store *s, const char *hex)
{
	char chain[DIGEST_LEN + 1];
	snprintf(chain, sizeof(chain), "sha256:%.64s", hex);
	if (strlen(hex) != 64 || !digest_valid(chain))
		return NULL;
	char *path cleanup_free = berth_xasprintf("%s/layers/%s/meta.json", s->root, hex);
	char *data cleanup_free = NULL;
	if (berth_file_read_all(path, &data, NULL, NULL) < 0)
		return NULL;
	json_t *j cleanup_json = json_loads(data, 0, NULL);
	const char *diff = berth_json_string(j, "diff_id");
	const char *parent = berth_json_string(j, "parent");
	if (diff == NULL || !digest_valid(diff) || (parent && *parent && !digest_valid(parent)))
		return NULL;
	layer *l = berth_xcalloc(1, sizeof(*l));
	memcpy(l->chain, chain, sizeof(chain));
	snprintf(l->diff, sizeof(l->diff), "%s", diff);
	snprintf(l->parent_chain, sizeof(l->parent_chain), "%s", parent ? parent : "");
	l->size = json_integer_value(json_object_get(j, "size"));
	l->tar_size = json_integer_value(json_object_get(j, "tar_size"));
	return l;
}

/* Drops layers whose parent is missing (their chain cannot be mounted),
 * until none is left, then links parents. */
static void link_parents(berth_image_store *s)
{
	bool changed = true;
	while (changed) {
		changed = false;
		map_entry *e;
		for (size_t i = 0; map_next(&s->layers, &i, &e);) {
			layer *l = e->value;
			if (*l->parent_chain && map_get(&s->layers, l->parent_chain) == NULL) {
				berth_warn("image store: layer %s lost its parent", l->chain);
				map_del(&s->layers, l->chain);
				free(l);
				changed = true;
				break;
			}
		}
	}
	map_entry *e;
	for (size_t i = 0; map_next(&s->layers, &i, &e);) {
		layer *l = e->value;
		l->parent = *l->parent_chain ? map_get(&s->layers, l->parent_chain) : NULL;
	}
}

int layers_load(berth_image_store *s, berth_error **err)
{
	char *dir cleanup_free = berth_xasprintf("%s/layers", s->root);
	DIR *d = opendir(dir);
	if (d == NULL)
		return berth_error_set_errno(err, errno, "open %s", dir);
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		layer *l = layer_read(s, de->d_name);
		if (l)
			map_put(&s->layers, l->chain, l);
	}
	closedir(d);
	link_parents(s);
	return 0;
}

void layer_unref(berth_image_store *s, layer *l, layer ***dead, size_t *ndead)
{
	if (--l->refs > 0)
		return;
	map_del(&s->layers, l->chain);
	*dead = berth_xrealloc(*dead, (*ndead + 1) * sizeof(**dead));
	(*dead)[(*ndead)++] = l;
}

void layers_destroy(berth_image_store *s, layer **dead, size_t ndead)
{
	for (size_t i = 0; i < ndead; i++) {
		char *dir cleanup_free = layer_dir(s, dead[i]->chain);
		berth_error *err cleanup_error = NULL;
		if (store_remove_tree(s, dir, &err) < 0)
			berth_warn("image store: %s", err->msg);
		free(dead[i]);
	}
	free(dead);
}

void layer_unpin(berth_image_store *s, layer *l)
{
	if (l == NULL)
		return;
	layer **dead = NULL;
	size_t ndead = 0;
	pthread_mutex_lock(&s->wmu);
	pthread_mutex_lock(&s->mu);
	layer_unref(s, l, &dead, &ndead);
	pthread_mutex_unlock(&s->mu);
	layers_destroy(s, dead, ndead);
	pthread_mutex_unlock(&s->wmu);
}

static layer *pin_existing(berth_image_store *s, const char *chain)
{
	pthread_mutex_lock(&s->mu);
	layer *l = map_get(&s->layers, chain);
	if (l)
		l->refs++;
	pthread_mutex_unlock(&s->mu);
	return l;
}

static int write_meta(const char *dir, const layer *l, berth_error **err)
{
	json_t *j cleanup_json = json_pack("{s:s, s:s, s:I, s:I}", "diff_id", l->diff, "parent",
					   l->parent_chain, "size", (json_int_t)l->size, "tar_size",
					   (json_int_t)l->tar_size);
	char *data cleanup_free = json_dumps(j, JSON_COMPACT);
	char *path cleanup_free = berth_xasprintf("%s/meta.json", dir);
	return berth_file_write_atomic(path, data, strlen(data), 0600, err);
}

/* Moves a staged layer into place, unless the same chain got there first. */
static layer *commit_layer(berth_image_store *s, const char *staged, layer *l, berth_error **err)
{
	char *dest cleanup_free = layer_dir(s, l->chain);
	pthread_mutex_lock(&s->wmu);
	layer *have = pin_existing(s, l->chain);
	if (have == NULL) {
		if (rename(staged, dest) < 0) {
			berth_error_set_errno(err, errno, "commit layer %s", l->chain);
			pthread_mutex_unlock(&s->wmu);
			free(l);
			return NULL;
		}
		pthread_mutex_lock(&s->mu);
		l->refs = 1;
		map_put(&s->layers, l->chain, l);
		pthread_mutex_unlock(&s->mu);
	}
	pthread_mutex_unlock(&s->wmu);
	if (have) {
		free(l);
		return have;
	}
	return l;
}

static int digest_mismatch(const char *what, int index, const char *want, const char *got,
			   berth_error **err)
{
	return berth_error_set(err, 400, "invalid %s for layer %d: expected \"%s\", got \"%s\"",
			       what, index, want, got);
}

int layer_stage_extract(berth_image_store *s, read_fn read, void *userdata, int flags,
			layer_stage *st, berth_error **err)
{
	memset(st, 0, sizeof(*st));
	if (store_tmpdir(s, &st->dir, err) < 0)
		return -1;
	if (layer_extract(read, userdata, st->dir, flags, &st->res, err) < 0) {
		layer_stage_discard(st);
		return -1;
	}
	return 0;
}

void layer_stage_discard(layer_stage *st)
{
	if (st->dir) {
		remove_tree(st->dir);
		free(st->dir);
	}
	st->dir = NULL;
}

int layer_stage_commit(berth_image_store *s, layer_stage *st, layer *parent,
		       const char *expect_diff, const char *expect_blob, int index, layer **out,
		       berth_error **err)
{
	int rc = 0;
	if (expect_blob && strcmp(expect_blob, st->res.blob_digest) != 0)
		rc = digest_mismatch("digest", index, expect_blob, st->res.blob_digest, err);
	if (rc == 0 && expect_diff && strcmp(expect_diff, st->res.diff_id) != 0)
		rc = digest_mismatch("diffID", index, expect_diff, st->res.diff_id, err);
	layer *l = NULL;
	if (rc == 0) {
		l = berth_xcalloc(1, sizeof(*l));
		snprintf(l->diff, sizeof(l->diff), "%s", st->res.diff_id);
		snprintf(l->parent_chain, sizeof(l->parent_chain), "%s", parent ? parent->chain : "");
		chain_id(parent ? parent->chain : NULL, st->res.diff_id, l->chain);
		l->parent = parent;
		l->size = st->res.size;
		l->tar_size = st->res.tar_size;
		rc = write_meta(st->dir, l, err);
	}
	if (rc == 0 && (l = commit_layer(s, st->dir, l, err)) == NULL)
		rc = -1;
	if (rc < 0)
		free(l); /* commit_layer frees its own on failure and gives NULL */
	layer_stage_discard(st); /* gone already when committed */
	if (rc == 0)
		*out = l;
	return rc;
}

layer *layer_pin(berth_image_store *s, const char *chain)
{
	return pin_existing(s, chain);
}

int layer_register(berth_image_store *s, read_fn read, void *userdata, layer *parent,
		   const char *expect_diff, const char *expect_blob, int index, layer **out,
		   berth_error **err)
{
	if (expect_diff) {
		char chain[DIGEST_LEN + 1];
		chain_id(parent ? parent->chain : NULL, expect_diff, chain);
		if ((*out = pin_existing(s, chain)) != NULL)
			return 0;
	}
	layer_stage st;
	if (layer_stage_extract(s, read, userdata, 0, &st, err) < 0)
		return -1;
	return layer_stage_commit(s, &st, parent, expect_diff, expect_blob, index, out, err);
}
