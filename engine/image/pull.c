/*
 * pull.c - images that arrive layer by layer from a registry, the layers of
 * an image read back for a push, and where each layer's compressed blob was
 * seen (so that a push can skip or mount it, as dockerd's v2 metadata does).
 *
 * A pull extracts each missing layer into staging as its bytes arrive (any
 * thread, in parallel), then commits them bottom up, checked against the
 * config's diff IDs and the manifest's blob digests, and only then the
 * config and the tags. Until the commit nothing is visible; a failed pull
 * unpins what it committed, which removes layers no image holds.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct berth_image_pull {
	berth_image_store *s;
	char *config;
	size_t config_len;
	char id[DIGEST_LEN + 1];
	size_t n;
	char (*chains)[DIGEST_LEN + 1];
	char (*diffs)[DIGEST_LEN + 1];
	layer **pins;       /* layers the store had, then those committed */
	layer_stage *stages;
	bool *staged;
};

int berth_image_pull_start(berth_image_store *s, const char *config, size_t len,
			   size_t nlayers, berth_image_pull **out, berth_error **err)
{
	json_error_t jerr;
	json_t *cfg cleanup_json = json_loadb(config, len, 0, &jerr);
	if (!json_is_object(cfg))
		return berth_error_set(err, 500, "invalid image config: %s",
				       cfg ? "not an object" : jerr.text);
	berth_image_pull *p = berth_xcalloc(1, sizeof(*p));
	p->s = s;
	if (config_chain(cfg, &p->chains, &p->diffs, &p->n, err) < 0) {
		free(p);
		return -1;
	}
	if (p->n != nlayers) {
		berth_image_pull_free(p);
		return berth_error_set(err, 500, "invalid manifest, layers length mismatch: "
						 "expected %zu, got %zu", p->n, nlayers);
	}
	p->config = berth_xmalloc(len + 1);
	memcpy(p->config, config, len);
	p->config_len = len;
	digest_of(config, len, p->id);
	p->pins = berth_xcalloc(p->n + 1, sizeof(*p->pins));
	p->stages = berth_xcalloc(p->n + 1, sizeof(*p->stages));
	p->staged = berth_xcalloc(p->n + 1, sizeof(*p->staged));
	for (size_t i = 0; i < p->n; i++)
		p->pins[i] = layer_pin(s, p->chains[i]);
	*out = p;
	return 0;
}

const char *berth_image_pull_id(const berth_image_pull *p)
{
	return p->id;
}

bool berth_image_pull_have(const berth_image_pull *p, size_t i)
{
	return i < p->n && p->pins[i] != NULL;
}

const char *berth_image_pull_diff_id(const berth_image_pull *p, size_t i)
{
	return p->diffs[i];
}

int berth_image_pull_layer(berth_image_pull *p, size_t i, berth_image_read_fn read,
			   void *userdata, berth_error **err)
{
	if (layer_stage_extract(p->s, read, userdata, 0, &p->stages[i], err) < 0)
		return -1;
	p->staged[i] = true;
	return 0;
}

static int commit_layers(berth_image_pull *p, char *const *blobs, berth_error **err)
{
	layer *parent = NULL;
	for (size_t i = 0; i < p->n; i++) {
		if (p->pins[i] == NULL) {
			if (!p->staged[i])
				return berth_error_set(err, 500, "layer %zu was not downloaded", i);
			p->staged[i] = false;
			if (layer_stage_commit(p->s, &p->stages[i], parent, p->diffs[i], blobs[i],
					       (int)i, &p->pins[i], err) < 0)
				return -1;
		}
		parent = p->pins[i];
	}
	return 0;
}

int berth_image_pull_commit(berth_image_pull *p, char *const *blobs, char *const *refs,
			    berth_error **err)
{
	if (commit_layers(p, blobs, err) < 0 ||
	    store_commit_image(p->s, p->config, p->config_len, NULL, NULL, err) < 0)
		return -1;
	pthread_mutex_lock(&p->s->wmu);
	int rc = 0;
	for (char *const *r = refs; r && *r && rc == 0; r++)
		rc = store_set_tag(p->s, *r, p->id, err);
	pthread_mutex_unlock(&p->s->wmu);
	return rc;
}

void berth_image_pull_free(berth_image_pull *p)
{
	if (p == NULL)
		return;
	for (size_t i = p->n; i-- > 0;) {
		if (p->staged[i])
			layer_stage_discard(&p->stages[i]);
		layer_unpin(p->s, p->pins[i]);
	}
	free(p->pins);
	free(p->stages);
	free(p->staged);
	free(p->chains);
	free(p->diffs);
	free(p->config);
	free(p);
}

/* ------------------------------------------------------------ push side */

struct berth_image_layers {
	berth_image_store *s;
	char id[DIGEST_LEN + 1];
	char *config;
	size_t config_len;
	layer **layers;
	size_t n;
};

int berth_image_layers_open(berth_image_store *s, const char *name, berth_image_layers **out,
			    berth_error **err)
{
	berth_image_layers *h = berth_xcalloc(1, sizeof(*h));
	h->s = s;
	pthread_mutex_lock(&s->mu);
	image *img = image_lookup(s, name, err);
	if (img) {
		memcpy(h->id, img->id, sizeof(h->id));
		h->n = img->nlayers;
		h->layers = berth_xcalloc(h->n + 1, sizeof(*h->layers));
		for (size_t i = 0; i < h->n; i++) {
			h->layers[i] = img->layers[i];
			h->layers[i]->refs++;
		}
	}
	pthread_mutex_unlock(&s->mu);
	if (img == NULL || blob_get(s, h->id, &h->config, &h->config_len, err) < 0) {
		berth_image_layers_close(h);
		return -1;
	}
	*out = h;
	return 0;
}

const char *berth_image_layers_id(const berth_image_layers *h)
{
	return h->id;
}

const char *berth_image_layers_config(const berth_image_layers *h, size_t *len)
{
	*len = h->config_len;
	return h->config;
}

size_t berth_image_layers_count(const berth_image_layers *h)
{
	return h->n;
}

const char *berth_image_layers_diff_id(const berth_image_layers *h, size_t i)
{
	return h->layers[i]->diff;
}

int64_t berth_image_layers_tar_size(const berth_image_layers *h, size_t i)
{
	return h->layers[i]->tar_size;
}

int berth_image_layers_write(const berth_image_layers *h, size_t i, berth_image_write_fn write,
			     void *userdata, berth_error **err)
{
	char *dir cleanup_free = layer_dir(h->s, h->layers[i]->chain);
	return tarsplit_assemble(dir, h->layers[i]->diff, write, userdata, err);
}

void berth_image_layers_close(berth_image_layers *h)
{
	if (h == NULL)
		return;
	for (size_t i = h->n; i-- > 0;)
		layer_unpin(h->s, h->layers[i]);
	free(h->layers);
	free(h->config);
	free(h);
}

/* ------------------------------------------------------ blob provenance */

static char *sources_path(const berth_image_store *s, const char *diff_id)
{
	return store_path(s, "distribution", diff_id);
}

json_t *berth_image_blob_sources(berth_image_store *s, const char *diff_id)
{
	if (!digest_valid(diff_id))
		return json_array();
	char *path cleanup_free = sources_path(s, diff_id);
	char *data cleanup_free = NULL;
	size_t len = 0;
	json_t *j = NULL;
	if (berth_file_read_all(path, &data, &len, NULL) == 0)
		j = json_loadb(data, len, 0, NULL);
	if (!json_is_array(j)) {
		json_decref(j);
		j = json_array();
	}
	return j;
}

/* The newest first; dockerd keeps a handful per layer too. */
#define MAX_SOURCES 8

int berth_image_blob_source_add(berth_image_store *s, const char *diff_id, const char *digest,
				int64_t size, const char *repo, berth_error **err)
{
	if (!digest_valid(diff_id) || !digest_valid(digest))
		return berth_error_set(err, 400, "invalid digest");
	pthread_mutex_lock(&s->wmu);
	json_t *list cleanup_json = berth_image_blob_sources(s, diff_id);
	size_t i;
	json_t *e;
	json_array_foreach(list, i, e) {
		if (strcmp(berth_json_string(e, "Digest") ?: "", digest) == 0 &&
		    strcmp(berth_json_string(e, "SourceRepository") ?: "", repo) == 0) {
			json_array_remove(list, i);
			break;
		}
	}
	json_array_insert_new(list, 0, json_pack("{s:s, s:I, s:s}", "Digest", digest, "Size",
						 (json_int_t)size, "SourceRepository", repo));
	while (json_array_size(list) > MAX_SOURCES)
		json_array_remove(list, MAX_SOURCES);
	char *dir cleanup_free = berth_xasprintf("%s/distribution", s->root);
	char *path cleanup_free = sources_path(s, diff_id);
	char *text cleanup_free = json_dumps(list, JSON_COMPACT);
	int rc = berth_mkdir_all(dir, 0700, err);
	if (rc == 0)
		rc = berth_file_write_atomic(path, text, strlen(text), 0600, err);
	pthread_mutex_unlock(&s->wmu);
	return rc;
}
