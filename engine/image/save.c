/*
 * save.c - docker save: the archive Docker 25+ writes, which both older
 * docker load (manifest.json, repositories) and OCI tools (index.json,
 * oci-layout, blobs/sha256) read:
 *
 *   blobs/sha256/<config>      the image config, as stored
 *   blobs/sha256/<diff ID>     each layer's tar, rebuilt byte for byte
 *   blobs/sha256/<manifest>    an OCI manifest per image
 *   index.json, manifest.json, oci-layout, repositories
 *
 * Entries come in name order, as dockerd's directory walk writes them.
 */
#include "lazy_archive.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_LAYER "application/vnd.oci.image.layer.v1.tar"
#define OCI_LAYOUT "{\"imageLayoutVersion\":\"1.0.0\"}"

typedef struct save_image {
	char id[DIGEST_LEN + 1];
	int64_t created_ns;
	char **tags;       /* full references to write */
	char *config;
	size_t config_len;
	char *manifest;    /* the OCI manifest's bytes */
	char manifest_digest[DIGEST_LEN + 1];
	layer **layers;
	size_t nlayers;
} save_image;

typedef struct save_blob {
	const char *hex;
	const char *data;  /* in memory (configs, manifests), or */
	const layer *l;    /* a layer to rebuild */
	int64_t size, mtime;
} save_blob;

typedef struct berth_image_save_plan {
	berth_image_store *s;
	save_image *images;
	size_t n;
	berth_image_write_fn write;
	void *userdata;
	berth_error *werr;
} berth_image_save_plan;

typedef berth_image_save_plan save_ctx;

/* ----------------------------------------------------------------- names */

static save_image *add_image(save_ctx *c, image *img)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->images[i].id, img->id) == 0)
			return &c->images[i];
	c->images = berth_xrealloc(c->images, (c->n + 1) * sizeof(*c->images));
	save_image *si = &c->images[c->n++];
	memset(si, 0, sizeof(*si));
	memcpy(si->id, img->id, sizeof(si->id));
	si->created_ns = img->created_ns;
	si->nlayers = img->nlayers;
	si->layers = berth_xcalloc(img->nlayers + 1, sizeof(*si->layers));
	for (size_t i = 0; i < img->nlayers; i++) {
		si->layers[i] = img->layers[i];
		si->layers[i]->refs++; /* pinned until the archive is written */
	}
	return si;
}

static void add_tag(save_image *si, const char *full)
{
	size_t n = berth_strv_len(si->tags);
	for (size_t i = 0; i < n; i++)
		if (strcmp(si->tags[i], full) == 0)
			return;
	si->tags = berth_xrealloc(si->tags, (n + 2) * sizeof(*si->tags));
	si->tags[n] = berth_xstrdup(full);
	si->tags[n + 1] = NULL;
}

/* A repository name alone saves every image it names, with its tags. */
static bool add_repository(save_ctx *c, const char *name)
{
	size_t len = strlen(name);
	bool found = false;
	map_entry *e;
	for (size_t i = 0; map_next(&c->s->refs, &i, &e);) {
		if (strncmp(e->key, name, len) != 0 || !strchr(":@", e->key[len]))
			continue;
		save_image *si = add_image(c, e->value);
		if (e->key[len] == ':')
			add_tag(si, e->key);
		found = true;
	}
	return found;
}

/* dockerd's parseNames: IDs save the image untagged; name:tag saves that
 * tag; a bare name saves all of the repository's tags. */
static int add_name(save_ctx *c, const char *name, berth_error **err)
{
	berth_image_ref ref = {0};
	bool by_id = strlen(name) == 64 || berth_str_has_prefix(name, "sha256:");
	if (!by_id && berth_image_ref_parse(name, &ref, err) < 0)
		return -1;
	int rc = 0;
	if (!by_id && ref.tag == NULL && ref.digest == NULL && add_repository(c, ref.name)) {
		berth_image_ref_reset(&ref);
		return 0;
	}
	if (!by_id && (ref.tag || ref.digest)) {
		char *full cleanup_free = berth_image_ref_string(&ref);
		image *img = map_get(&c->s->refs, full);
		if (img == NULL)
			rc = berth_error_set(err, 404, "reference does not exist");
		else if (ref.tag && !ref.digest)
			add_tag(add_image(c, img), full);
		else
			add_image(c, img);
	} else {
		image *img = image_lookup(c->s, name, err);
		if (img)
			add_image(c, img);
		rc = img ? 0 : -1;
	}
	berth_image_ref_reset(&ref);
	return rc;
}

static int resolve_names(save_ctx *c, char *const *names, berth_error **err)
{
	pthread_mutex_lock(&c->s->mu);
	int rc = 0;
	for (char *const *n = names; n && *n && rc == 0; n++)
		rc = add_name(c, *n, err);
	for (size_t i = 0; i < c->n && rc == 0; i++)
		if (c->images[i].nlayers == 0)
			rc = berth_error_set(err, 500, "empty export - not implemented");
	pthread_mutex_unlock(&c->s->mu);
	if (rc == 0 && c->n == 0)
		rc = berth_error_set(err, 400, "no image names given");
	return rc;
}

static void release(save_ctx *c)
{
	for (size_t i = 0; i < c->n; i++) {
		save_image *si = &c->images[i];
		for (size_t j = si->nlayers; j-- > 0;)
			layer_unpin(c->s, si->layers[j]);
		free(si->layers);
		berth_strv_free(si->tags);
		free(si->config);
		free(si->manifest);
	}
	free(c->images);
}

/* ------------------------------------------------------------- documents */

static char *oci_manifest(const save_image *si)
{
	json_t *layers = json_array();
	for (size_t i = 0; i < si->nlayers; i++)
		json_array_append_new(layers, json_pack("{s:s, s:s, s:I}", "mediaType", MT_LAYER,
							"digest", si->layers[i]->diff, "size",
							(json_int_t)si->layers[i]->tar_size));
	json_t *m = json_pack("{s:i, s:s, s:{s:s, s:s, s:I}, s:o}", "schemaVersion", 2, "mediaType",
			      MT_MANIFEST, "config", "mediaType", MT_CONFIG, "digest", si->id,
			      "size", (json_int_t)si->config_len, "layers", layers);
	char *out = json_go_dump(m);
	json_decref(m);
	return out;
}

static const char *tag_of(const char *full)
{
	const char *slash = strrchr(full, '/');
	return strrchr(slash ? slash : full, ':') + 1;
}

static char *index_json(const save_ctx *c)
{
	json_t *manifests = json_array();
	for (size_t i = 0; i < c->n; i++) {
		const save_image *si = &c->images[i];
		json_t *base = json_pack("{s:s, s:s, s:I}", "mediaType", MT_MANIFEST, "digest",
					 si->manifest_digest, "size", (json_int_t)strlen(si->manifest));
		for (char **t = si->tags; t && *t; t++) {
			json_t *d = json_deep_copy(base);
			json_object_set_new(d, "annotations",
					    json_pack("{s:s, s:s}", "io.containerd.image.name", *t,
						      "org.opencontainers.image.ref.name", tag_of(*t)));
			json_array_append_new(manifests, d);
		}
		if (si->tags == NULL)
			json_array_append(manifests, base);
		json_decref(base);
	}
	json_t *idx = json_pack("{s:i, s:s, s:o}", "schemaVersion", 2, "mediaType", MT_INDEX,
				"manifests", manifests);
	char *out = json_go_dump(idx);
	json_decref(idx);
	return out;
}

/* manifest.json and repositories, as Go's json.Encoder writes them. */
static char *manifest_json(const save_ctx *c)
{
	json_t *list = json_array();
	for (size_t i = 0; i < c->n; i++) {
		const save_image *si = &c->images[i];
		json_t *tags = si->tags ? json_array() : json_null();
		for (char **t = si->tags; t && *t; t++) {
			char *fam cleanup_free = berth_image_familiar_string(*t);
			json_array_append_new(tags, json_string(fam));
		}
		json_t *layers = json_array();
		for (size_t j = 0; j < si->nlayers; j++) {
			char *p cleanup_free = berth_xasprintf("blobs/sha256/%s",
							       HEX_OF(si->layers[j]->diff));
			json_array_append_new(layers, json_string(p));
		}
		char *cfg cleanup_free = berth_xasprintf("blobs/sha256/%s", HEX_OF(si->id));
		json_array_append_new(list, json_pack("{s:s, s:o, s:o}", "Config", cfg, "RepoTags",
						      tags, "Layers", layers));
	}
	char *body cleanup_free = json_go_dump(list);
	json_decref(list);
	return berth_xasprintf("%s\n", body);
}

static char *repositories_json(const save_ctx *c)
{
	json_t *repos = json_object();
	for (size_t i = 0; i < c->n; i++) {
		const save_image *si = &c->images[i];
		for (char **t = si->tags; t && *t; t++) {
			char *fam cleanup_free = berth_image_familiar_string(*t);
			const char *tag = tag_of(fam);
			char *repo cleanup_free = berth_xstrndup(fam, (size_t)(tag - 1 - fam));
			json_t *r = json_object_get(repos, repo);
			if (r == NULL)
				json_object_set_new(repos, repo, r = json_object());
			json_object_set_new(r, tag,
					    json_string(HEX_OF(si->layers[si->nlayers - 1]->diff)));
		}
	}
	char *out = NULL;
	if (json_object_size(repos) > 0) {
		char *body cleanup_free = json_dumps(repos, JSON_COMPACT | JSON_SORT_KEYS);
		out = berth_xasprintf("%s\n", body);
	}
	json_decref(repos);
	return out;
}

static int read_configs(save_ctx *c, berth_error **err)
{
	for (size_t i = 0; i < c->n; i++) {
		save_image *si = &c->images[i];
		if (blob_get(c->s, si->id, &si->config, &si->config_len, err) < 0)
			return -1;
		si->manifest = oci_manifest(si);
		digest_of(si->manifest, strlen(si->manifest), si->manifest_digest);
	}
	return 0;
}

/* --------------------------------------------------------------- writing */

static la_ssize_t out_write(struct archive *a, void *ud, const void *buf, size_t len)
{
	save_ctx *c = ud;
	if (c->write(c->userdata, buf, len, &c->werr) < 0) {
		archive_set_error(a, EIO, "%s", c->werr ? c->werr->msg : "write failed");
		return -1;
	}
	return (la_ssize_t)len;
}

static int archive_fail(save_ctx *c, struct archive *a, berth_error **err)
{
	if (c->werr)
		return berth_error_propagate(&c->werr, err);
	return berth_error_set(err, 500, "save: %s", archive_error_string(a));
}

static int put_entry(save_ctx *c, struct archive *a, const char *name, bool dir, int64_t size,
		     int64_t mtime, berth_error **err)
{
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, dir ? AE_IFDIR : AE_IFREG);
	archive_entry_set_perm(e, dir ? 0755 : 0644);
	archive_entry_set_size(e, dir ? 0 : size);
	archive_entry_set_mtime(e, (time_t)mtime, 0);
	int r = archive_write_header(a, e);
	archive_entry_free(e);
	return r == ARCHIVE_OK ? 0 : archive_fail(c, a, err);
}

static int put_file(save_ctx *c, struct archive *a, const char *name, const char *data,
		    int64_t mtime, berth_error **err)
{
	size_t len = strlen(data);
	if (put_entry(c, a, name, false, (int64_t)len, mtime, err) < 0)
		return -1;
	if (len && archive_write_data(a, data, len) != (la_ssize_t)len)
		return archive_fail(c, a, err);
	return 0;
}

typedef struct data_sink {
	save_ctx *c;
	struct archive *a;
} data_sink;

static int layer_data(void *ud, const void *data, size_t len, berth_error **err)
{
	data_sink *sink = ud;
	if (archive_write_data(sink->a, data, len) != (la_ssize_t)len)
		return archive_fail(sink->c, sink->a, err);
	return 0;
}

static int cmp_blob(const void *a, const void *b)
{
	return strcmp(((const save_blob *)a)->hex, ((const save_blob *)b)->hex);
}

/* Every blob once, in name order. */
static save_blob *collect_blobs(save_ctx *c, size_t *n)
{
	size_t cap = 0;
	for (size_t i = 0; i < c->n; i++)
		cap += c->images[i].nlayers + 2;
	save_blob *blobs = berth_xcalloc(cap + 1, sizeof(*blobs));
	for (size_t i = 0; i < c->n; i++) {
		save_image *si = &c->images[i];
		int64_t created = si->created_ns / 1000000000LL;
		blobs[(*n)++] = (save_blob){HEX_OF(si->id), si->config, NULL,
					    (int64_t)si->config_len, created};
		blobs[(*n)++] = (save_blob){HEX_OF(si->manifest_digest), si->manifest, NULL,
					    (int64_t)strlen(si->manifest), 0};
		for (size_t j = 0; j < si->nlayers; j++)
			blobs[(*n)++] = (save_blob){HEX_OF(si->layers[j]->diff), NULL, si->layers[j],
						    si->layers[j]->tar_size, created};
	}
	qsort(blobs, *n, sizeof(*blobs), cmp_blob);
	size_t out = 0;
	for (size_t i = 0; i < *n; i++)
		if (out == 0 || strcmp(blobs[out - 1].hex, blobs[i].hex) != 0)
			blobs[out++] = blobs[i];
	*n = out;
	return blobs;
}

static int write_blob(save_ctx *c, struct archive *a, const save_blob *b, berth_error **err)
{
	char *name cleanup_free = berth_xasprintf("blobs/sha256/%s", b->hex);
	if (put_entry(c, a, name, false, b->size, b->mtime, err) < 0)
		return -1;
	if (b->data)
		return archive_write_data(a, b->data, (size_t)b->size) == b->size
			       ? 0 : archive_fail(c, a, err);
	char *dir cleanup_free = layer_dir(c->s, b->l->chain);
	data_sink sink = {c, a};
	return tarsplit_assemble(dir, b->l->diff, layer_data, &sink, err);
}

static int write_archive(save_ctx *c, struct archive *a, berth_error **err)
{
	size_t n = 0;
	save_blob *blobs cleanup_free = collect_blobs(c, &n);
	char *index cleanup_free = index_json(c);
	char *manifest cleanup_free = manifest_json(c);
	char *repos cleanup_free = repositories_json(c);
	if (put_entry(c, a, "blobs/", true, 0, 0, err) < 0 ||
	    put_entry(c, a, "blobs/sha256/", true, 0, 0, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (write_blob(c, a, &blobs[i], err) < 0)
			return -1;
	if (put_file(c, a, "index.json", index, 0, err) < 0 ||
	    put_file(c, a, "manifest.json", manifest, 0, err) < 0 ||
	    put_file(c, a, "oci-layout", OCI_LAYOUT, 0, err) < 0 ||
	    (repos && put_file(c, a, "repositories", repos, 0, err) < 0))
		return -1;
	return archive_write_close(a) == ARCHIVE_OK ? 0 : archive_fail(c, a, err);
}

int berth_image_save_prepare(berth_image_store *s, char *const *names,
			     berth_image_save_plan **out, berth_error **err)
{
	save_ctx *c = berth_xcalloc(1, sizeof(*c));
	c->s = s;
	if (resolve_names(c, names, err) < 0) {
		berth_image_save_free(c);
		return -1;
	}
	*out = c;
	return 0;
}

int berth_image_save_write(berth_image_save_plan *c, berth_image_write_fn write, void *userdata,
			   berth_error **err)
{
	c->write = write;
	c->userdata = userdata;
	if (read_configs(c, err) < 0)
		return -1;
	struct archive *a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	archive_write_set_bytes_per_block(a, 10240);
	archive_write_set_bytes_in_last_block(a, 1);
	int rc = archive_write_open(a, c, NULL, out_write, NULL) == ARCHIVE_OK
			 ? write_archive(c, a, err) : archive_fail(c, a, err);
	archive_write_free(a);
	return rc;
}

json_t *berth_image_save_ids(const berth_image_save_plan *c)
{
	json_t *ids = json_array();
	for (size_t i = 0; i < c->n; i++)
		json_array_append_new(ids, json_string(c->images[i].id));
	return ids;
}

void berth_image_save_free(berth_image_save_plan *c)
{
	if (c == NULL)
		return;
	berth_error_free(&c->werr);
	release(c);
	free(c);
}

int berth_image_save(berth_image_store *s, char *const *names, berth_image_write_fn write,
		     void *userdata, json_t **ids, berth_error **err)
{
	berth_image_save_plan *p = NULL;
	if (berth_image_save_prepare(s, names, &p, err) < 0)
		return -1;
	int rc = berth_image_save_write(p, write, userdata, err);
	if (rc == 0 && ids)
		*ids = berth_image_save_ids(p);
	berth_image_save_free(p);
	return rc;
}
