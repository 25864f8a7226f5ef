/*
 * push.c - docker push: each layer is skipped when the registry has its
 * blob (HEAD), mounted from the repository it was pulled from, or else
 * compressed while it uploads (POST, one streamed PATCH, PUT ?digest=);
 * layers go in parallel; then the config (monolithic) and the manifest.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define PROGRESS_EVERY (512 * 1024)

typedef struct push_ctx push_ctx;

typedef struct push_layer {
	push_ctx *c;
	size_t index;
	char id[13];
	char digest[DIGEST_LEN + 1];
	int64_t size;
} push_layer;

struct push_ctx {
	const berth_registry_op *op;
	reg_session *s;
	berth_image_layers *img;
	char *name;           /* full repository name, for provenance */
	push_layer *layers;
	bool failed;          /* set once a layer failed: the others stop */
};

/* ------------------------------------------------------------ requests */

static char *with_query(const char *location, const char *query)
{
	return berth_xasprintf("%s%c%s", location, strchr(location, '?') ? '&' : '?', query);
}

static int blob_exists(reg_session *s, const char *digest, int64_t *size, berth_error **err)
{
	char *path cleanup_free = berth_xasprintf("/v2/%s/blobs/%s", s->repo, digest);
	reg_response r = {0};
	reg_request rq = {.method = "HEAD", .url = path, .actions = "pull,push"};
	int rc = reg_do(s, &rq, &r, err);
	if (rc == 0 && r.status == 200) {
		if (size && r.length >= 0)
			*size = r.length;
		rc = 1;
	} else if (rc == 0 && r.status != 404) {
		rc = reg_http_error(s, &r, "blob", err);
	}
	reg_response_reset(&r);
	return rc;
}

/* POST .../blobs/uploads/ (with mount= and from= to mount): 1 when
 * mounted, else 0 with *location where to upload. */
static int upload_start(reg_session *s, const char *mount, const char *from, char **location,
			berth_error **err)
{
	char *path cleanup_free = NULL;
	if (mount) {
		char *f cleanup_free = berth_url_encode(from);
		path = berth_xasprintf("/v2/%s/blobs/uploads/?mount=%s&from=%s", s->repo, mount, f);
	} else {
		path = berth_xasprintf("/v2/%s/blobs/uploads/", s->repo);
	}
	reg_response r = {0};
	reg_request rq = {.method = "POST", .url = path, .actions = "pull,push"};
	int rc = reg_do(s, &rq, &r, err);
	if (rc == 0 && r.status == 201 && mount)
		rc = 1;
	else if (rc == 0 && r.status == 202 && r.location)
		*location = berth_steal_ptr(&r.location);
	else if (rc == 0)
		rc = reg_http_error(s, &r, "upload", err);
	reg_response_reset(&r);
	return rc;
}

/* PUT <location>&digest=: ends an upload, with the last bytes as body. */
static int upload_finish(reg_session *s, const char *location, const char *digest,
			 const void *body, size_t len, berth_error **err)
{
	char *q cleanup_free = berth_xasprintf("digest=%s", digest);
	char *url cleanup_free = with_query(location, q);
	reg_response r = {0};
	reg_request rq = {.method = "PUT", .url = url, .actions = "pull,push", .body = body,
			  .len = len, .content_type = "application/octet-stream", .no_retry = true};
	int rc = reg_do(s, &rq, &r, err);
	if (rc == 0 && r.status != 201 && r.status != 204)
		rc = reg_http_error(s, &r, "upload", err);
	reg_response_reset(&r);
	return rc;
}

/* ----------------------------------------------------- compressed stream */

typedef struct layer_fill {
	push_layer *l;
	reg_gzip *gz;
	int64_t read, last;
} layer_fill;

static int fill_write(void *ud, const void *data, size_t len, berth_error **err)
{
	layer_fill *f = ud;
	push_layer *l = f->l;
	if (__atomic_load_n(&l->c->failed, __ATOMIC_RELAXED))
		return berth_error_set(err, 500, "push cancelled");
	if (reg_gzip_write(f->gz, data, len, err) < 0)
		return -1;
	f->read += (int64_t)len;
	if (f->read - f->last >= PROGRESS_EVERY) {
		f->last = f->read;
		int64_t total = berth_image_layers_tar_size(l->c->img, l->index);
		reg_emit(l->c->op, reg_progress(l->id, "Pushing", f->read, total));
	}
	return 0;
}

/* The layer tar, rebuilt byte for byte from the layer store. */
static int fill_layer(void *ud, reg_gzip *gz, berth_error **err)
{
	layer_fill *f = ud;
	f->gz = gz;
	return berth_image_layers_write(f->l->c->img, f->l->index, fill_write, f, err);
}

/* One PATCH carrying the whole compressed layer. */
static int upload_stream(push_layer *l, const char *location, berth_error **err)
{
	layer_fill f = {.l = l};
	reg_gzip *gz = reg_gzip_start(fill_layer, &f);
	reg_response r = {0};
	reg_request rq = {.method = "PATCH", .url = location, .actions = "pull,push",
			  .content_type = "application/octet-stream", .stream_body = true,
			  .read_cb = reg_gzip_read, .read_ud = gz, .no_retry = true};
	berth_error *e cleanup_error = NULL;
	int rc = reg_do(l->c->s, &rq, &r, &e);
	/* the stream's own failure (the layer store) is the cause of an aborted upload */
	if (reg_gzip_finish(gz, l->digest, &l->size, err) < 0)
		rc = -1;
	else if (rc < 0)
		rc = berth_error_propagate(&e, err);
	else if (r.status != 202)
		rc = reg_http_error(l->c->s, &r, "upload", err);
	if (rc == 0)
		rc = upload_finish(l->c->s, r.location ? r.location : location, l->digest, NULL, 0,
				   err);
	reg_response_reset(&r);
	return rc;
}

/* --------------------------------------------------------------- layers */

/* A blob known from a pull or an earlier push to this registry: already
 * there (1), mounted (2), or to upload (0; *location may get the upload a
 * refused mount opened). */
static int try_known(push_layer *l, char **location, berth_error **err)
{
	push_ctx *c = l->c;
	const char *diff = berth_image_layers_diff_id(c->img, l->index);
	json_t *sources cleanup_json = berth_image_blob_sources(c->op->store, diff);
	size_t i;
	json_t *src;
	json_array_foreach(sources, i, src) {
		const char *digest = berth_json_string(src, "Digest");
		const char *repo = berth_json_string(src, "SourceRepository");
		char *host cleanup_free = NULL, *path cleanup_free = NULL;
		if (digest == NULL || repo == NULL)
			continue;
		berth_registry_split_name(repo, &host, &path);
		if (strcmp(host, c->s->host) != 0)
			continue;
		snprintf(l->digest, sizeof(l->digest), "%s", digest);
		l->size = json_integer_value(json_object_get(src, "Size"));
		int rc = blob_exists(c->s, digest, &l->size, err);
		if (rc != 0)
			return rc;
		if (strcmp(path, c->s->repo) == 0 || *location)
			continue;
		if ((rc = upload_start(c->s, digest, path, location, err)) == 1) {
			char *msg cleanup_free = berth_xasprintf("Mounted from %s", path);
			reg_emit(c->op, reg_status(l->id, msg));
			return 2;
		}
		if (rc < 0)
			return -1;
	}
	return 0;
}

static int push_one(push_layer *l, berth_error **err)
{
	push_ctx *c = l->c;
	char *location cleanup_free = NULL;
	int rc = try_known(l, &location, err);
	if (rc == 1)
		reg_emit(c->op, reg_status(l->id, "Layer already exists"));
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	if (location == NULL && upload_start(c->s, NULL, NULL, &location, err) < 0)
		return -1;
	if (upload_stream(l, location, err) < 0)
		return -1;
	reg_emit(c->op, reg_status(l->id, "Pushed"));
	berth_error *e cleanup_error = NULL;
	if (berth_image_blob_source_add(c->op->store, berth_image_layers_diff_id(c->img, l->index),
					l->digest, l->size, c->name, &e) < 0)
		berth_warn("registry: %s", e->msg);
	return 0;
}

static int push_item(void *ud, size_t i, berth_error **err)
{
	push_ctx *c = ud;
	return push_one(&c->layers[i], err);
}

static int push_layers(push_ctx *c, berth_error **err)
{
	size_t n = berth_image_layers_count(c->img);
	c->layers = berth_xcalloc(n + 1, sizeof(*c->layers));
	for (size_t i = 0; i < n; i++) {
		c->layers[i] = (push_layer){.c = c, .index = i};
		snprintf(c->layers[i].id, sizeof(c->layers[i].id), "%.12s",
			 berth_image_layers_diff_id(c->img, i) + 7);
		reg_emit(c->op, reg_status(c->layers[i].id, "Preparing"));
	}
	return reg_parallel(n, c->op->cfg->max_uploads, push_item, c, &c->failed, err);
}

/* ------------------------------------------------------ config, manifest */

static int push_config(push_ctx *c, char digest[DIGEST_LEN + 1], size_t *len, berth_error **err)
{
	const char *config = berth_image_layers_config(c->img, len);
	snprintf(digest, DIGEST_LEN + 1, "%s", berth_image_layers_id(c->img));
	int rc = blob_exists(c->s, digest, NULL, err);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	char *location cleanup_free = NULL;
	if (upload_start(c->s, NULL, NULL, &location, err) < 0)
		return -1;
	return upload_finish(c->s, location, digest, config, *len, err);
}

static char *manifest_json(push_ctx *c, const char *config_digest, size_t config_len)
{
	json_t *layers = json_array();
	for (size_t i = 0; i < berth_image_layers_count(c->img); i++)
		json_array_append_new(layers, json_pack("{s:s, s:I, s:s}", "mediaType", MT_DOCKER_LAYER,
							"size", (json_int_t)c->layers[i].size,
							"digest", c->layers[i].digest));
	json_t *m = json_pack("{s:i, s:s, s:{s:s, s:I, s:s}, s:o}", "schemaVersion", 2, "mediaType",
			      MT_DOCKER_MANIFEST, "config", "mediaType", MT_DOCKER_CONFIG, "size",
			      (json_int_t)config_len, "digest", config_digest, "layers", layers);
	char *text = json_dumps(m, JSON_INDENT(3) | JSON_PRESERVE_ORDER);
	json_decref(m);
	return text;
}

static int push_manifest(push_ctx *c, const char *tag, berth_error **err)
{
	char config_digest[DIGEST_LEN + 1];
	size_t config_len = 0;
	if (push_config(c, config_digest, &config_len, err) < 0)
		return -1;
	char *body cleanup_free = manifest_json(c, config_digest, config_len);
	char *path cleanup_free = berth_xasprintf("/v2/%s/manifests/%s", c->s->repo, tag);
	reg_response r = {0};
	reg_request rq = {.method = "PUT", .url = path, .actions = "pull,push", .body = body,
			  .len = strlen(body), .content_type = MT_DOCKER_MANIFEST};
	int rc = reg_do(c->s, &rq, &r, err);
	if (rc == 0 && r.status != 201)
		rc = reg_http_error(c->s, &r, "manifest", err);
	reg_response_reset(&r);
	if (rc < 0)
		return -1;
	char hex[65];
	berth_sha256_hex(body, strlen(body), hex);
	char *line cleanup_free = berth_xasprintf("%s: digest: sha256:%s size: %zu", tag, hex,
						  strlen(body));
	reg_emit(c->op, reg_status(NULL, line));
	char *digest cleanup_free = berth_xasprintf("sha256:%s", hex);
	reg_emit(c->op, json_pack("{s:{}, s:{s:s, s:s, s:I}}", "progressDetail", "aux", "Tag", tag,
				  "Digest", digest, "Size", (json_int_t)strlen(body)));
	return 0;
}

/* ----------------------------------------------------------------- push */

static int push_tag(const berth_registry_op *op, reg_session *s, const berth_image_ref *ref,
		    const char *tag, berth_error **err)
{
	char *local cleanup_free = berth_xasprintf("%s:%s", ref->name, tag);
	push_ctx c = {.op = op, .s = s, .name = ref->name};
	if (berth_image_layers_open(op->store, local, &c.img, NULL) < 0) {
		char *fam cleanup_free = berth_image_familiar_name(ref->name);
		return berth_error_set(err, 404, "An image does not exist locally with the tag: %s", fam);
	}
	int rc = push_layers(&c, err);
	if (rc == 0)
		rc = push_manifest(&c, tag, err);
	free(c.layers);
	berth_image_layers_close(c.img);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The repository's tags in the store, in dockerd's (lexical) order. */
static char **local_tags(berth_image_store *store, const char *name, berth_error **err)
{
	berth_image_filters f = {.dangling = -1};
	json_t *list cleanup_json = NULL;
	if (berth_image_list(store, &f, &list, err) < 0)
		return NULL;
	char **tags = berth_xcalloc(1, sizeof(*tags));
	size_t n = 0, i, k;
	json_t *img, *tag;
	json_array_foreach(list, i, img) {
		json_array_foreach(json_object_get(img, "RepoTags"), k, tag) {
			berth_image_ref ref;
			if (!json_is_string(tag) ||
			    berth_image_ref_parse(json_string_value(tag), &ref, NULL) < 0)
				continue;
			if (ref.tag && strcmp(ref.name, name) == 0) {
				tags = berth_xrealloc(tags, (n + 2) * sizeof(*tags));
				tags[n++] = berth_steal_ptr(&ref.tag);
				tags[n] = NULL;
			}
			berth_image_ref_reset(&ref);
		}
	}
	qsort(tags, n, sizeof(*tags), cmp_str);
	return tags;
}

int berth_registry_push(const berth_registry_op *op, const char *name, const char *tag,
			berth_error **err)
{
	berth_image_ref ref;
	if (berth_image_ref_parse(name, &ref, err) < 0)
		return -1;
	char *msg cleanup_free = berth_xasprintf("The push refers to repository [%s]", ref.name);
	reg_emit(op, reg_status(NULL, msg));
	char **tags = NULL;
	const char *t = tag && *tag ? tag : ref.tag;
	int rc = 0;
	if (t) {
		tags = berth_xcalloc(2, sizeof(*tags));
		tags[0] = berth_xstrdup(t);
	} else if ((tags = local_tags(op->store, ref.name, err)) == NULL) {
		rc = -1;
	} else if (tags[0] == NULL) {
		char *fam cleanup_free = berth_image_familiar_name(ref.name);
		rc = berth_error_set(err, 404, "An image does not exist locally with the tag: %s", fam);
	}
	char *host cleanup_free = NULL, *repo cleanup_free = NULL;
	berth_registry_split_name(ref.name, &host, &repo);
	reg_session *s = NULL;
	if (rc == 0)
		rc = reg_open_for(op->cfg, op->auth, host, repo, &s, err);
	for (char **p = tags; rc == 0 && *p; p++)
		rc = push_tag(op, s, &ref, *p, err);
	reg_session_free(s);
	berth_strv_free(tags);
	berth_image_ref_reset(&ref);
	return rc;
}
