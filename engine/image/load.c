/*
 * load.c - docker load: archives in docker save's format (manifest.json,
 * before and after Docker 25) or the OCI image layout (index.json).
 *
 * The archive is first turned into plans, one per image: its config bytes,
 * and for each layer the archive file, the diff ID the config names and,
 * for OCI blobs, the blob digest. Nothing is written until a plan is
 * complete. Then each layer is extracted (unless its chain is already
 * there) and checked against its digests, and only when all are in place
 * does the config, the image record and the tags follow.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive_index.h"

#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define ANNOTATION_IMAGE_NAME "io.containerd.image.name"
#define ANNOTATION_REF_NAME "org.opencontainers.image.ref.name"
#define INDEX_DEPTH 4
#ifndef MAX_EXTRACT_THREADS
#define MAX_EXTRACT_THREADS 8
#endif

typedef struct load_layer {
	const arc_file *file;
	char diff[DIGEST_LEN + 1];
	char blob[DIGEST_LEN + 1]; /* "" when the archive names none */
} load_layer;

typedef struct load_plan {
	const char *config;    /* bytes, in the archive index */
	size_t config_len;
	char id[DIGEST_LEN + 1];
	load_layer *layers;
	size_t nlayers;
	char **tags;           /* full references */
	char *parent;          /* manifest.json's Parent */
} load_plan;

typedef struct load_ctx {
	berth_image_store *s;
	arc_index idx;
	load_plan *plans;
	size_t nplans;
	bool quiet;
	bool refs_dirty;      /* tags added, repositories.json to write */
	berth_image_progress_fn out;
	void *out_ud;
} load_ctx;

static void plan_free(load_plan *p)
{
	free(p->layers);
	berth_strv_free(p->tags);
	free(p->parent);
}

static void say(load_ctx *c, const char *fmt, ...) BERTH_PRINTF(2, 3);
static void say(load_ctx *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	berth_buf b = {0};
	berth_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (c->out)
		c->out(c->out_ud, stream_message(b.data));
	berth_buf_reset(&b);
}

/* Checks a config and prepares a plan's layers from its diff IDs. */
static int plan_config(const arc_file *cfg, size_t nlayers, load_plan *p, berth_error **err)
{
	json_error_t jerr;
	json_t *config cleanup_json = json_loadb(cfg->content, cfg->content_len, 0, &jerr);
	if (!json_is_object(config))
		return berth_error_set(err, 400, "invalid image config %s: %s", cfg->path,
				       config ? "not an object" : jerr.text);
	const char *os = berth_json_string(config, "os");
	if (os && *os && strcmp(os, "linux") != 0)
		return berth_error_set(err, 400, "cannot load %s image on linux", os);
	char (*chains)[DIGEST_LEN + 1] cleanup_free = NULL;
	char (*diffs)[DIGEST_LEN + 1] cleanup_free = NULL;
	size_t n = 0;
	if (config_chain(config, &chains, &diffs, &n, err) < 0)
		return -1;
	if (n != nlayers)
		return berth_error_set(err, 400, "invalid manifest, layers length mismatch: expected "
						 "%zu, got %zu", nlayers, n);
	p->config = cfg->content;
	p->config_len = cfg->content_len;
	digest_of(p->config, p->config_len, p->id);
	p->layers = berth_xcalloc(n + 1, sizeof(*p->layers));
	p->nlayers = n;
	for (size_t i = 0; i < n; i++)
		memcpy(p->layers[i].diff, diffs[i], DIGEST_LEN + 1);
	return 0;
}

static int find_layer(load_ctx *c, const char *path, load_layer *l, berth_error **err)
{
	if (path == NULL)
		return berth_error_set(err, 400, "invalid manifest: bad layer path");
	l->file = arc_find(&c->idx, path);
	if (l->file == NULL || l->file->offset < 0)
		return berth_error_set(err, 400, "invalid archive: layer %s: no such file", path);
	return 0;
}

/* A repository tag of the archive, which must be name:tag. */
static int add_tag(load_plan *p, const char *s, bool strict, berth_error **err)
{
	berth_image_ref ref;
	if (berth_image_ref_parse(s, &ref, err) < 0)
		return strict ? -1 : 0;
	if (ref.tag == NULL || ref.digest) {
		berth_image_ref_reset(&ref);
		return strict ? berth_error_set(err, 400, "invalid tag \"%s\"", s) : 0;
	}
	size_t n = berth_strv_len(p->tags);
	p->tags = berth_xrealloc(p->tags, (n + 2) * sizeof(*p->tags));
	p->tags[n] = berth_image_ref_string(&ref);
	p->tags[n + 1] = NULL;
	berth_image_ref_reset(&ref);
	return 0;
}

static load_plan *new_plan(load_ctx *c)
{
	c->plans = berth_xrealloc(c->plans, (c->nplans + 1) * sizeof(*c->plans));
	load_plan *p = &c->plans[c->nplans++];
	memset(p, 0, sizeof(*p));
	return p;
}

/* ------------------------------------------------------ docker save format */

static int plan_docker_item(load_ctx *c, json_t *item, berth_error **err)
{
	const char *config_path = berth_json_string(item, "Config");
	json_t *layers = json_object_get(item, "Layers");
	json_t *tags = json_object_get(item, "RepoTags");
	if (config_path == NULL || (layers && !json_is_array(layers)))
		return berth_error_set(err, 400, "invalid manifest: bad entry");
	const arc_file *cfg = arc_find(&c->idx, config_path);
	if (cfg == NULL || cfg->content == NULL)
		return berth_error_set(err, 400, "invalid archive: config %s: no such file",
				       config_path);
	load_plan *p = new_plan(c);
	if (plan_config(cfg, json_array_size(layers), p, err) < 0)
		return -1;
	for (size_t i = 0; i < p->nlayers; i++)
		if (find_layer(c, json_string_value(json_array_get(layers, i)), &p->layers[i], err) < 0)
			return -1;
	size_t i;
	json_t *t;
	json_array_foreach(tags, i, t)
		if (add_tag(p, json_string_value(t) ?: "", true, err) < 0)
			return -1;
	const char *parent = berth_json_string(item, "Parent");
	if (parent && digest_valid(parent))
		p->parent = berth_xstrdup(parent);
	return 0;
}

static int plan_docker(load_ctx *c, berth_error **err)
{
	json_t *manifest cleanup_json = NULL;
	if (arc_json(&c->idx, "manifest.json", &manifest, err) < 0)
		return -1;
	if (json_is_null(manifest))
		return berth_error_set(err, 400, "invalid manifest, manifest cannot be null (but can "
						 "be [])");
	if (!json_is_array(manifest))
		return berth_error_set(err, 400, "invalid manifest: not a list");
	size_t i;
	json_t *item;
	json_array_foreach(manifest, i, item)
		if (plan_docker_item(c, item, err) < 0)
			return -1;
	return 0;
}

/* ------------------------------------------------------------ OCI layout */

static char *blob_path(const char *digest)
{
	return berth_xasprintf("blobs/sha256/%s", HEX_OF(digest));
}

/* A blob named by a descriptor, its bytes checked against the digest. */
static const arc_file *verified_blob(load_ctx *c, json_t *desc, berth_error **err)
{
	const char *digest = berth_json_string(desc, "digest");
	if (digest == NULL || !digest_valid(digest)) {
		berth_error_set(err, 400, "invalid descriptor: digest %s", digest ? digest : "missing");
		return NULL;
	}
	char *path cleanup_free = blob_path(digest);
	const arc_file *f = arc_find(&c->idx, path);
	if (f == NULL || f->content == NULL) {
		berth_error_set(err, 400, "invalid archive: blob %s: no such document", digest);
		return NULL;
	}
	char got[DIGEST_LEN + 1];
	digest_of(f->content, f->content_len, got);
	if (strcmp(got, digest) != 0) {
		berth_error_set(err, 400, "invalid archive: blob %s has digest %s", digest, got);
		return NULL;
	}
	return f;
}

static bool platform_matches(json_t *desc)
{
	json_t *platform = json_object_get(desc, "platform");
	if (platform == NULL)
		return true;
	const char *os = berth_json_string(platform, "os");
	const char *arch = berth_json_string(platform, "architecture");
	return (!os || strcmp(os, "linux") == 0) && (!arch || strcmp(arch, host_arch()) == 0);
}

static int plan_oci_manifest(load_ctx *c, json_t *manifest, json_t *top, berth_error **err)
{
	json_t *layers = json_object_get(manifest, "layers");
	const arc_file *cfg = verified_blob(c, json_object_get(manifest, "config"), err);
	if (cfg == NULL)
		return -1;
	load_plan *p = new_plan(c);
	if (plan_config(cfg, json_array_size(layers), p, err) < 0)
		return -1;
	for (size_t i = 0; i < p->nlayers; i++) {
		const char *digest = berth_json_string(json_array_get(layers, i), "digest");
		if (digest == NULL || !digest_valid(digest))
			return berth_error_set(err, 400, "invalid manifest: bad layer digest");
		char *path cleanup_free = blob_path(digest);
		if (find_layer(c, path, &p->layers[i], err) < 0)
			return -1;
		memcpy(p->layers[i].blob, digest, DIGEST_LEN + 1);
	}
	json_t *ann = json_object_get(top, "annotations");
	const char *name = berth_json_string(ann, ANNOTATION_IMAGE_NAME);
	const char *ref = berth_json_string(ann, ANNOTATION_REF_NAME);
	if (name)
		return add_tag(p, name, false, err);
	if (ref && strchr(ref, ':')) /* a bare tag ("latest") names no repository */
		return add_tag(p, ref, false, err);
	return 0;
}

static int plan_oci_index(load_ctx *c, json_t *index, json_t *top, int depth, berth_error **err);

static int plan_oci_descriptor(load_ctx *c, json_t *desc, json_t *top, int depth,
			       berth_error **err)
{
	if (!platform_matches(desc))
		return 0;
	const arc_file *f = verified_blob(c, desc, err);
	if (f == NULL)
		return -1;
	json_t *doc cleanup_json = json_loadb(f->content, f->content_len, 0, NULL);
	const char *mt = berth_json_string(desc, "mediaType");
	if (mt == NULL)
		mt = berth_json_string(doc, "mediaType");
	if (mt && (strcmp(mt, MT_OCI_INDEX) == 0 || strcmp(mt, MT_DOCKER_LIST) == 0))
		return plan_oci_index(c, doc, top, depth + 1, err);
	if (mt && strcmp(mt, MT_OCI_MANIFEST) != 0 && strcmp(mt, MT_DOCKER_MANIFEST) != 0)
		return 0; /* attestations and other artifacts */
	if (!json_is_object(doc) || json_object_get(doc, "config") == NULL)
		return berth_error_set(err, 400, "invalid manifest %s", berth_json_string(desc, "digest"));
	return plan_oci_manifest(c, doc, top, err);
}

static int plan_oci_index(load_ctx *c, json_t *index, json_t *top, int depth, berth_error **err)
{
	if (depth > INDEX_DEPTH)
		return berth_error_set(err, 400, "invalid archive: indexes nested too deep");
	json_t *manifests = json_object_get(index, "manifests");
	if (!json_is_array(manifests))
		return berth_error_set(err, 400, "invalid index: no manifests");
	size_t i;
	json_t *desc;
	json_array_foreach(manifests, i, desc)
		if (plan_oci_descriptor(c, desc, top ? top : desc, depth, err) < 0)
			return -1;
	return 0;
}

static int plan_oci(load_ctx *c, berth_error **err)
{
	json_t *index cleanup_json = NULL;
	if (arc_json(&c->idx, "index.json", &index, err) < 0)
		return -1;
	return plan_oci_index(c, index, NULL, 0, err);
}

/* ------------------------------------------------------------- execution */

/* One layer to extract, and how it went. Hashing its bytes as given (the
 * blob digest, which for an uncompressed layer is its diff ID too) is a work
 * item of its own, so that two workers share a layer: one writes its files
 * while the other hashes it. */
typedef struct extract_job {
	load_ctx *c;
	load_layer *l;
	layer_stage st;
	char blob[DIGEST_LEN + 1];
	berth_error *err;
	bool done;
} extract_job;

/* Items 0..n-1 extract jobs[i], n..2n-1 hash jobs[i - n]: the larger
 * items first, so that the hashes fill in at the end. */
typedef struct extract_queue {
	extract_job *jobs;
	size_t n, next;
	pthread_mutex_t mu;
} extract_queue;

static void extract_one(extract_job *j)
{
	mem_reader m;
	arc_file_reader(&j->c->idx, j->l->file, &m);
	char id[13];
	snprintf(id, sizeof(id), "%.12s", HEX_OF(j->l->diff));
	progress_reader pr = {.inner = mem_read, .inner_ud = &m,
			      .out = j->c->quiet ? NULL : j->c->out, .out_ud = j->c->out_ud,
			      .id = id, .action = "Loading layer", .total = j->l->file->size};
	if (layer_stage_extract(j->c->s, progress_read, &pr, LAYER_BLOB_ELSEWHERE, &j->st,
				&j->err) == 0)
		j->done = true;
}

static void hash_one(extract_job *j)
{
	mem_reader m;
	arc_file_reader(&j->c->idx, j->l->file, &m);
	digest_of(m.data, m.len, j->blob);
}

static void *extract_worker(void *arg)
{
	extract_queue *q = arg;
	for (;;) {
		pthread_mutex_lock(&q->mu);
		size_t i = q->next < 2 * q->n ? q->next++ : 2 * q->n;
		pthread_mutex_unlock(&q->mu);
		if (i == 2 * q->n)
			return NULL;
		if (i < q->n)
			extract_one(&q->jobs[i]);
		else
			hash_one(&q->jobs[i - q->n]);
	}
}

/* Layers are independent directories, so they extract in parallel, one
 * per CPU: writing the files and hashing them (the diff IDs) is CPU work. */
static void extract_parallel(extract_queue *q)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t nthreads = cpus < 1 ? 1 : cpus > MAX_EXTRACT_THREADS ? MAX_EXTRACT_THREADS : (size_t)cpus;
	if (nthreads > 2 * q->n)
		nthreads = 2 * q->n;
	pthread_t threads[MAX_EXTRACT_THREADS];
	size_t started = 0;
	for (size_t i = 1; i < nthreads; i++)
		if (pthread_create(&threads[started], NULL, extract_worker, q) == 0)
			started++;
	extract_worker(q);
	for (size_t i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
}

/* Pins the layers the store has; extracts the others; commits them bottom
 * up, each checked against the config's diff ID. */
static int load_layers(load_ctx *c, load_plan *p, layer **pins, berth_error **err)
{
	extract_queue q = {.jobs = berth_xcalloc(p->nlayers + 1, sizeof(*q.jobs))};
	pthread_mutex_init(&q.mu, NULL);
	size_t *job_of = berth_xcalloc(p->nlayers + 1, sizeof(*job_of));
	char chain[DIGEST_LEN + 1] = "";
	for (size_t i = 0; i < p->nlayers; i++) {
		chain_id(i ? chain : NULL, p->layers[i].diff, chain);
		if ((pins[i] = layer_pin(c->s, chain)) == NULL) {
			q.jobs[q.n] = (extract_job){.c = c, .l = &p->layers[i]};
			job_of[i] = q.n++;
		}
	}
	extract_parallel(&q);
	int rc = 0;
	layer *parent = NULL;
	for (size_t i = 0; i < p->nlayers; i++) {
		extract_job *j = pins[i] ? NULL : &q.jobs[job_of[i]];
		if (j && rc == 0 && !j->done) {
			rc = berth_error_propagate(&j->err, err);
			berth_error_wrap(err, "loading layer %s", p->layers[i].diff);
		} else if (j && rc == 0) {
			const load_layer *l = &p->layers[i];
			extract_result *res = &j->st.res;
			memcpy(res->blob_digest, j->blob, sizeof(res->blob_digest));
			if (*res->diff_id == '\0') /* uncompressed: the blob is the tar */
				memcpy(res->diff_id, j->blob, sizeof(res->diff_id));
			rc = layer_stage_commit(c->s, &j->st, parent, l->diff, *l->blob ? l->blob : NULL,
						(int)i, &pins[i], err);
		}
		parent = pins[i];
	}
	for (size_t i = 0; i < q.n; i++) {
		layer_stage_discard(&q.jobs[i].st);
		berth_error_free(&q.jobs[i].err);
	}
	pthread_mutex_destroy(&q.mu);
	free(q.jobs);
	free(job_of);
	return rc;
}

/* The previous holder of a tag is told about, as dockerd's setLoadedTag.
 * Like dockerd, a load sets no LastTagTime. The tag index is written once,
 * at the end of the load (wmu held here). */
static void tag_loaded(load_ctx *c, const char *full, const char *id)
{
	berth_image_store *s = c->s;
	char *fam cleanup_free = berth_image_familiar_string(full);
	pthread_mutex_lock(&s->mu);
	image *prev = map_get(&s->refs, full);
	char *prev_id cleanup_free = prev && strcmp(prev->id, id) ? berth_xstrdup(prev->id) : NULL;
	image *img = map_get(&s->images, id);
	if (img)
		refs_add(s, full, img);
	pthread_mutex_unlock(&s->mu);
	if (prev_id)
		say(c, "The image %s already exists, renaming the old one with ID %s to empty "
		       "string\n", fam, prev_id);
	c->refs_dirty = true;
	say(c, "Loaded image: %s\n", fam);
}

static int commit_image(load_ctx *c, load_plan *p, berth_error **err)
{
	if (store_commit_image(c->s, p->config, p->config_len, p->parent, NULL, err) < 0)
		return -1;
	pthread_mutex_lock(&c->s->wmu);
	for (char **t = p->tags; t && *t; t++)
		tag_loaded(c, *t, p->id);
	pthread_mutex_unlock(&c->s->wmu);
	return 0;
}

static int load_plan_run(load_ctx *c, load_plan *p, berth_error **err)
{
	layer **pins = berth_xcalloc(p->nlayers + 1, sizeof(*pins));
	int rc = load_layers(c, p, pins, err);
	if (rc == 0)
		rc = commit_image(c, p, err);
	for (size_t i = p->nlayers; i-- > 0;)
		layer_unpin(c->s, pins[i]);
	free(pins);
	return rc;
}

static int persist_tags(load_ctx *c, berth_error **err)
{
	if (!c->refs_dirty)
		return 0;
	pthread_mutex_lock(&c->s->wmu);
	int rc = refs_persist(c->s, err);
	pthread_mutex_unlock(&c->s->wmu);
	return rc;
}

static int load_all(load_ctx *c, json_t *loaded, berth_error **err)
{
	berth_buf ids = {0};
	size_t last_tags = 0;
	int rc = 0;
	for (size_t i = 0; i < c->nplans && rc == 0; i++) {
		if ((rc = load_plan_run(c, &c->plans[i], err)) < 0)
			break;
		json_array_append_new(loaded, json_string(c->plans[i].id));
		berth_buf_printf(&ids, "Loaded image ID: %s\n", c->plans[i].id);
		last_tags = berth_strv_len(c->plans[i].tags);
	}
	/* the images loaded before a failure keep their tags */
	if (persist_tags(c, rc < 0 ? NULL : err) < 0)
		rc = -1;
	/* dockerd prints the IDs when the last image had no tag */
	if (rc == 0 && c->nplans > 0 && last_tags == 0 && c->out)
		c->out(c->out_ud, stream_message(ids.data));
	berth_buf_reset(&ids);
	return rc;
}

int berth_image_load(berth_image_store *s, const berth_image_source *src, bool quiet,
		     berth_image_progress_fn out, void *userdata, json_t **loaded,
		     berth_error **err)
{
	load_ctx c = {.s = s, .quiet = quiet, .out = out, .out_ud = userdata};
	int rc = arc_index_open(s, src, &c.idx, err);
	if (rc == 0) {
		if (arc_find(&c.idx, "manifest.json"))
			rc = plan_docker(&c, err);
		else if (arc_find(&c.idx, "index.json"))
			rc = plan_oci(&c, err);
		else
			rc = berth_error_set(err, 400, "invalid archive: no manifest.json or index.json "
							 "(not a docker save or OCI layout archive)");
	}
	json_t *ids = json_array();
	if (rc == 0)
		rc = load_all(&c, ids, err);
	for (size_t i = 0; i < c.nplans; i++)
		plan_free(&c.plans[i]);
	free(c.plans);
	arc_index_free(&c.idx);
	if (rc < 0 || loaded == NULL)
		json_decref(ids);
	else
		*loaded = ids;
	return rc;
}
