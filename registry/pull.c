/*
 * pull.c - docker pull: manifest (through an index for the platform),
 * config, then the missing layers in parallel, each extracted while it
 * downloads, and the image committed only when every layer checked out.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define ACCEPT_MANIFESTS MT_DOCKER_MANIFEST ", " MT_DOCKER_LIST ", " MT_OCI_MANIFEST ", " \
	MT_OCI_INDEX
#define PROGRESS_EVERY (512 * 1024)
#define DOCKER_HUB "docker.io"
#define DOCKER_HUB_URL "https://registry-1.docker.io"

static void sha256_of(const char *data, size_t len, char out[DIGEST_LEN + 1])
{
	char hex[65];
	berth_sha256_hex(data, len, hex);
	snprintf(out, DIGEST_LEN + 1, "sha256:%s", hex);
}

/* GET a manifest by tag or digest; *digest gets its digest (checked when
 * the reference was one). */
int reg_manifest_get(reg_session *s, const char *reference, const char *familiar,
		     berth_registry_manifest *m, char digest[DIGEST_LEN + 1], berth_error **err)
{
	char *path cleanup_free = berth_xasprintf("/v2/%s/manifests/%s", s->repo, reference);
	reg_response r = {0};
	reg_request rq = {.method = "GET", .url = path, .actions = "pull", .accept = ACCEPT_MANIFESTS};
	int rc = reg_do(s, &rq, &r, err);
	pthread_mutex_lock(&s->mu);
	bool bearer = s->scheme && strcmp(s->scheme, "bearer") == 0;
	pthread_mutex_unlock(&s->mu);
	if (rc == 0 && bearer && (r.status == 401 || r.status == 403)) {
		berth_error *e cleanup_error = NULL;
		reg_http_error(s, &r, "manifest", &e);
		char *name cleanup_free = berth_xstrndup(familiar, strcspn(familiar, "@"));
		char *colon = strrchr(name, ':');
		if (colon && !strchr(colon, '/'))
			*colon = '\0';
		rc = berth_error_set(err, 404, "pull access denied for %s, repository does not exist "
						 "or may require 'docker login': %s", name, e->msg);
	} else if (rc == 0 && r.status == 404) {
		berth_error *e cleanup_error = NULL;
		reg_http_error(s, &r, "manifest", &e);
		rc = berth_error_set(err, 404, "manifest for %s not found: %s", familiar, e->msg);
	} else if (rc == 0 && r.status != 200) {
		rc = reg_http_error(s, &r, "manifest", err);
	}
	if (rc == 0) {
		sha256_of(r.body.data ? r.body.data : "", r.body.len, digest);
		if (strncmp(reference, "sha256:", 7) == 0 && strcmp(reference, digest) != 0)
			rc = berth_error_set(err, 500, "manifest verification failed for digest %s",
					     reference);
	}
	if (rc == 0)
		rc = berth_registry_manifest_parse(r.content_type, r.body.data, r.body.len, m, err);
	reg_response_reset(&r);
	return rc;
}

/* The image manifest for the platform, through an index if there is one. */
static int resolve_image(reg_session *s, const char *reference, const char *familiar,
			 const char *platform, berth_registry_manifest *m,
			 char digest[DIGEST_LEN + 1], berth_error **err)
{
	if (reg_manifest_get(s, reference, familiar, m, digest, err) < 0)
		return -1;
	if (m->kind == BERTH_REGISTRY_IMAGE)
		return 0;
	size_t i;
	if (berth_registry_platform_select(m, platform, &i, err) < 0) {
		berth_registry_manifest_reset(m);
		return -1;
	}
	char *child cleanup_free = berth_xstrdup(m->descs[i].digest);
	berth_registry_manifest_reset(m);
	char child_digest[DIGEST_LEN + 1];
	if (reg_manifest_get(s, child, familiar, m, child_digest, err) < 0)
		return -1;
	if (m->kind != BERTH_REGISTRY_IMAGE) {
		berth_registry_manifest_reset(m);
		return berth_error_set(err, 500, "invalid manifest: an index inside an index");
	}
	return 0;
}

/* --------------------------------------------------------------- layers */

typedef struct pull_ctx pull_ctx;

typedef struct pull_layer {
	pull_ctx *c;
	size_t index;
	char id[13];          /* short digest, dockerd's progress ID */
	int64_t last;
} pull_layer;

struct pull_ctx {
	const berth_registry_op *op;
	reg_session *s;
	berth_registry_manifest *m;
	berth_image_pull *p;
	pull_layer *layers;
	bool failed;          /* set once a layer failed: the others stop */
};

static void on_progress(void *ud, int64_t current)
{
	pull_layer *l = ud;
	int64_t total = l->c->m->descs[l->index].size;
	if (current - l->last < PROGRESS_EVERY && current != total)
		return;
	l->last = current;
	reg_emit(l->c->op, reg_progress(l->id, "Downloading", current, total));
}

static int pull_one(pull_ctx *c, pull_layer *l, berth_error **err)
{
	const berth_registry_desc *d = &c->m->descs[l->index];
	if (d->urls)
		return berth_error_set(err, 500, "layer %s is a foreign layer: not supported", d->digest);
	reg_blob_reader *r = reg_blob_open(c->s, d->digest, d->size, on_progress, l);
	reg_blob_set_cancel(r, &c->failed);
	int rc = berth_image_pull_layer(c->p, l->index, reg_blob_read, r, err);
	berth_error *bad cleanup_error = NULL;
	bool cancelled = __atomic_load_n(&c->failed, __ATOMIC_RELAXED);
	if (rc < 0 && !cancelled && reg_blob_drain(r, &bad) < 0 &&
	    strstr(bad->msg, "verification failed")) {
		berth_error_free(err);
		berth_error_propagate(&bad, err);
	}
	reg_blob_close(r);
	if (rc < 0)
		return -1;
	reg_emit(c->op, reg_status(l->id, "Verifying Checksum"));
	reg_emit(c->op, reg_status(l->id, "Download complete"));
	reg_emit(c->op, reg_progress(l->id, "Extracting", d->size, d->size));
	reg_emit(c->op, reg_status(l->id, "Pull complete"));
	return 0;
}

static int pull_item(void *ud, size_t i, berth_error **err)
{
	pull_ctx *c = ud;
	return berth_image_pull_have(c->p, i) ? 0 : pull_one(c, &c->layers[i], err);
}

static int pull_layers(pull_ctx *c, berth_error **err)
{
	size_t missing = 0;
	for (size_t i = 0; i < c->m->n; i++) {
		pull_layer *l = &c->layers[i];
		snprintf(l->id, sizeof(l->id), "%.12s", c->m->descs[i].digest + 7);
		bool have = berth_image_pull_have(c->p, i);
		reg_emit(c->op, reg_status(l->id, have ? "Already exists" : "Pulling fs layer"));
		missing += !have;
	}
	if (missing == 0)
		return 0;
	return reg_parallel(c->m->n, c->op->cfg->max_downloads, pull_item, c, &c->failed, err);
}

/* ----------------------------------------------------------------- pull */

typedef struct pull_target {
	berth_image_ref ref;
	char *host, *repo;
	char *familiar;       /* "busybox:latest" */
	const char *reference; /* tag or digest */
} pull_target;

static void target_reset(pull_target *t)
{
	berth_image_ref_reset(&t->ref);
	free(t->host);
	free(t->repo);
	free(t->familiar);
}

/* all: a name alone stays one (every tag), else it means ":latest". */
static int target_parse(const char *s, bool all, pull_target *t, berth_error **err)
{
	memset(t, 0, sizeof(*t));
	if (berth_image_ref_parse(s, &t->ref, err) < 0)
		return -1;
	if (t->ref.tag == NULL && t->ref.digest == NULL && !all)
		t->ref.tag = berth_xstrdup("latest");
	berth_registry_split_name(t->ref.name, &t->host, &t->repo);
	t->familiar = berth_image_ref_familiar(&t->ref);
	t->reference = t->ref.digest ? t->ref.digest : t->ref.tag;
	return 0;
}

/* The next tag of an all-tags pull becomes the target. */
static void target_set_tag(pull_target *t, const char *tag)
{
	free(t->ref.tag);
	t->ref.tag = berth_xstrdup(tag);
	free(t->familiar);
	t->familiar = berth_image_ref_familiar(&t->ref);
	t->reference = t->ref.tag;
}

/* GET /v2/<repo>/tags/list, page after page (the Link header's next).
 * familiar names the repository in dockerd's "repository X not found". */
static int tags_list(reg_session *s, const char *familiar, char ***out, berth_error **err)
{
	char *url = berth_xasprintf("/v2/%s/tags/list", s->repo);
	char **tags = berth_xcalloc(1, sizeof(*tags));
	size_t n = 0;
	int rc = 0;
	while (url && rc == 0) {
		reg_response r = {0};
		reg_request rq = {.method = "GET", .url = url, .actions = "pull"};
		rc = reg_do(s, &rq, &r, err);
		berth_error *e cleanup_error = NULL;
		if (rc == 0 && r.status == 404 && reg_http_error(s, &r, "tags", &e) < 0)
			rc = berth_error_set(err, 404, "repository %s not found: %s", familiar, e->msg);
		else if (rc == 0 && r.status != 200)
			rc = reg_http_error(s, &r, "tags", err);
		json_t *j cleanup_json = rc == 0 ? json_loadb(r.body.data ? r.body.data : "",
							      r.body.len, 0, NULL) : NULL;
		size_t i;
		json_t *tag;
		json_array_foreach(json_object_get(j, "tags"), i, tag) {
			if (!json_is_string(tag))
				continue;
			tags = berth_xrealloc(tags, (n + 2) * sizeof(*tags));
			tags[n++] = berth_xstrdup(json_string_value(tag));
			tags[n] = NULL;
		}
		free(url);
		url = NULL;
		/* Link: </v2/x/tags/list?last=a&n=100>; rel="next" */
		const char *lt = r.link ? strchr(r.link, '<') : NULL;
		if (rc == 0 && lt && strstr(r.link, "rel=\"next\""))
			url = berth_xstrndup(lt + 1, strcspn(lt + 1, ">"));
		reg_response_reset(&r);
	}
	free(url);
	if (rc < 0) {
		berth_strv_free(tags);
		return -1;
	}
	*out = tags;
	return 0;
}

/* Docker Hub goes through the mirrors first, in order. */
int reg_open_for(const berth_registry_config *cfg, const berth_registry_auth *auth,
		 const char *host, const char *repo, reg_session **s, berth_error **err)
{
	if (strcmp(host, DOCKER_HUB) == 0) {
		for (char **m = cfg->mirrors; m && *m; m++) {
			berth_error *e cleanup_error = NULL;
			if (reg_session_open(cfg, auth, host, repo, *m, s, &e) == 0)
				return 0;
			berth_warn("registry mirror %s: %s", *m, e->msg);
		}
		return reg_session_open(cfg, auth, host, repo, DOCKER_HUB_URL, s, err);
	}
	return reg_session_open(cfg, auth, host, repo, NULL, s, err);
}

static bool up_to_date(berth_image_store *store, const pull_target *t, const char *id)
{
	char *have cleanup_free = NULL;
	char *full cleanup_free = berth_image_ref_string(&t->ref);
	return berth_image_resolve(store, full, &have, NULL) == 0 && strcmp(have, id) == 0;
}

static int record_sources(const berth_registry_op *op, const pull_target *t,
			  const berth_image_pull *p, const berth_registry_manifest *m)
{
	for (size_t i = 0; i < m->n; i++) {
		berth_error *e cleanup_error = NULL;
		if (berth_image_blob_source_add(op->store, berth_image_pull_diff_id(p, i),
						m->descs[i].digest, m->descs[i].size, t->ref.name, &e) < 0)
			berth_warn("registry: %s", e->msg);
	}
	return 0;
}

static int commit(const berth_registry_op *op, const pull_target *t, berth_image_pull *p,
		  const berth_registry_manifest *m, const char *digest, berth_error **err)
{
	char **blobs = berth_xcalloc(m->n + 1, sizeof(*blobs));
	for (size_t i = 0; i < m->n; i++)
		blobs[i] = m->descs[i].digest;
	char *refs[3] = {NULL, NULL, NULL};
	size_t n = 0;
	if (t->ref.tag && !t->ref.digest)
		refs[n++] = berth_xasprintf("%s:%s", t->ref.name, t->ref.tag);
	refs[n++] = berth_xasprintf("%s@%s", t->ref.name, digest);
	int rc = berth_image_pull_commit(p, blobs, refs, err);
	for (size_t i = 0; i < n; i++)
		free(refs[i]);
	free(blobs);
	if (rc == 0)
		record_sources(op, t, p, m);
	return rc;
}

struct berth_registry_pull_plan {
	berth_registry_op op;
	pull_target t;
	char *asked;          /* familiar: "busybox:latest", or "busybox" for every tag */
	reg_session *s;
	char *platform;
	char **tags;          /* an all-tags pull: the repository's tags */
	berth_registry_manifest m;
	char digest[DIGEST_LEN + 1];
	char *config;
	size_t config_len;
};

void berth_registry_pull_free(berth_registry_pull_plan *p)
{
	if (p == NULL)
		return;
	reg_session_free(p->s);
	berth_registry_manifest_reset(&p->m);
	target_reset(&p->t);
	free(p->asked);
	free(p->platform);
	berth_strv_free(p->tags);
	free(p->config);
	free(p);
}

/* The target's manifest (for the platform) and config. */
static int plan_resolve(berth_registry_pull_plan *p, berth_error **err)
{
	berth_registry_manifest_reset(&p->m);
	free(p->config);
	p->config = NULL;
	if (resolve_image(p->s, p->t.reference, p->t.familiar, p->platform, &p->m, p->digest,
			  err) < 0)
		return -1;
	return reg_blob_get(p->s, p->m.config.digest, &p->config, &p->config_len, err);
}

static int prepare(const berth_registry_op *op, const char *ref, const char *platform, bool all,
		   berth_registry_pull_plan **out, berth_error **err)
{
	berth_registry_pull_plan *p = berth_xcalloc(1, sizeof(*p));
	p->op = *op;
	p->platform = platform ? berth_xstrdup(platform) : NULL;
	int rc = target_parse(ref, all, &p->t, err);
	if (rc == 0)
		p->asked = berth_xstrdup(p->t.familiar);
	if (rc == 0)
		rc = reg_open_for(op->cfg, op->auth, p->t.host, p->t.repo, &p->s, err);
	if (rc == 0 && p->t.reference)
		rc = plan_resolve(p, err);
	else if (rc == 0)
		rc = tags_list(p->s, p->t.familiar, &p->tags, err);
	if (rc < 0) {
		berth_registry_pull_free(p);
		return -1;
	}
	*out = p;
	return 0;
}

int berth_registry_pull_prepare(const berth_registry_op *op, const char *ref,
				const char *platform, berth_registry_pull_plan **out, berth_error **err)
{
	return prepare(op, ref, platform, false, out, err);
}

int berth_registry_pull_prepare_all(const berth_registry_op *op, const char *ref,
				    const char *platform, berth_registry_pull_plan **out,
				    berth_error **err)
{
	return prepare(op, ref, platform, true, out, err);
}

/* The resolved target: its layers, then the image; *fresh when the
 * reference named another image (or none) before. */
static int pull_image(berth_registry_pull_plan *rp, bool *fresh, char **id, berth_error **err)
{
	const berth_registry_op *op = &rp->op;
	char *from cleanup_free = berth_xasprintf("Pulling from %s", rp->t.repo);
	reg_emit(op, json_pack("{s:s, s:s}", "status", from, "id", rp->t.reference));
	berth_image_pull *p = NULL;
	int rc = berth_image_pull_start(op->store, rp->config, rp->config_len, rp->m.n, &p, err);
	if (rc == 0 && !up_to_date(op->store, &rp->t, berth_image_pull_id(p)))
		*fresh = true;
	char *have cleanup_free = NULL;
	/* an image the store has (under any name) needs no layer, and dockerd says nothing of them */
	if (rc == 0 && berth_image_resolve(op->store, berth_image_pull_id(p), &have, NULL) < 0) {
		pull_ctx c = {.op = op, .s = rp->s, .m = &rp->m, .p = p};
		c.layers = berth_xcalloc(rp->m.n + 1, sizeof(*c.layers));
		for (size_t i = 0; i < rp->m.n; i++)
			c.layers[i] = (pull_layer){.c = &c, .index = i};
		rc = pull_layers(&c, err);
		free(c.layers);
	}
	if (rc == 0)
		rc = commit(op, &rp->t, p, &rp->m, rp->digest, err);
	if (rc == 0) {
		char *status cleanup_free = berth_xasprintf("Digest: %s", rp->digest);
		reg_emit(op, reg_status(NULL, status));
		if (id) {
			free(*id);
			*id = berth_xstrdup(berth_image_pull_id(p));
		}
	}
	berth_image_pull_free(p);
	return rc;
}

int berth_registry_pull_run(berth_registry_pull_plan *rp, char **id, berth_error **err)
{
	bool fresh = false;
	int rc = 0;
	if (rp->tags == NULL)
		rc = pull_image(rp, &fresh, id, err);
	for (char **tag = rp->tags; tag && *tag && rc == 0; tag++) {
		target_set_tag(&rp->t, *tag);
		rc = plan_resolve(rp, err);
		if (rc == 0)
			rc = pull_image(rp, &fresh, id, err);
	}
	if (rc < 0)
		return -1;
	char *status cleanup_free = berth_xasprintf("Status: %s for %s", fresh ? "Downloaded newer image"
								       : "Image is up to date", rp->asked);
	reg_emit(&rp->op, reg_status(NULL, status));
	return 0;
}

const char *berth_registry_pull_familiar(const berth_registry_pull_plan *p)
{
	return p->asked;
}
