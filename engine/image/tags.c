/*
 * tags.c - the tag index: full references to image IDs, kept in
 * repositories.json in dockerd's shape:
 *
 *   {"Repositories": {"docker.io/library/busybox":
 *       {"docker.io/library/busybox:latest": "sha256:..."}}}
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static void image_forget_ref(image *img, const char *full)
{
	free(img->summary);
	img->summary = NULL;
	for (size_t i = 0; i < img->nrefs; i++) {
		if (strcmp(img->refs[i], full) == 0) {
			free(img->refs[i]);
			img->refs[i] = img->refs[--img->nrefs];
			return;
		}
	}
}

void refs_add(berth_image_store *s, const char *full, image *img)
{
	image *old = map_get(&s->refs, full);
	if (old == img)
		return;
	if (old)
		image_forget_ref(old, full);
	map_put(&s->refs, full, img);
	free(img->summary);
	img->summary = NULL;
	img->refs = berth_xrealloc(img->refs, (img->nrefs + 1) * sizeof(*img->refs));
	img->refs[img->nrefs++] = berth_xstrdup(full);
}

void refs_del(berth_image_store *s, const char *full)
{
	image *img = map_del(&s->refs, full);
	if (img)
		image_forget_ref(img, full);
}

/* The repository part of a full reference: up to '@' or the tag's ':'. */
static char *ref_repo(const char *full)
{
	const char *at = strchr(full, '@');
	const char *slash = strrchr(full, '/');
	const char *colon = strrchr(slash ? slash : full, ':');
	const char *end = at ? at : colon ? colon : full + strlen(full);
	return berth_xstrndup(full, (size_t)(end - full));
}

int refs_persist(berth_image_store *s, berth_error **err)
{
	json_t *repos = json_object();
	pthread_mutex_lock(&s->mu);
	map_entry *e;
	for (size_t i = 0; map_next(&s->refs, &i, &e);) {
		const image *img = e->value;
		char *repo cleanup_free = ref_repo(e->key);
		json_t *r = json_object_get(repos, repo);
		if (r == NULL)
			json_object_set_new(repos, repo, r = json_object());
		json_object_set_new(r, e->key, json_string(img->id));
	}
	pthread_mutex_unlock(&s->mu);
	json_t *doc cleanup_json = json_pack("{s:o}", "Repositories", repos);
	char *data cleanup_free = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
	char *path cleanup_free = berth_xasprintf("%s/repositories.json", s->root);
	return berth_file_write_atomic(path, data, strlen(data), 0600, err);
}

int refs_load(berth_image_store *s, berth_error **err)
{
	char *path cleanup_free = berth_xasprintf("%s/repositories.json", s->root);
	char *data cleanup_free = NULL;
	berth_error *e cleanup_error = NULL;
	if (berth_file_read_all(path, &data, NULL, &e) < 0)
		return e->status == 404 ? 0 : berth_error_propagate(&e, err);
	json_t *doc cleanup_json = json_loads(data, 0, NULL);
	json_t *repos = json_object_get(doc, "Repositories");
	if (!json_is_object(repos))
		return berth_error_set(err, 500, "%s: not a tag index", path);
	const char *repo, *full;
	json_t *refs, *id;
	size_t dropped = 0;
	json_object_foreach(repos, repo, refs) {
		json_object_foreach(refs, full, id) {
			image *img = json_is_string(id) ? map_get(&s->images, json_string_value(id))
							: NULL;
			if (img)
				refs_add(s, full, img);
			else
				dropped++;
		}
	}
	return dropped ? refs_persist(s, err) : 0;
}

/* Writers hold wmu, and images change only under it: img stays valid and
 * its fields stable here without mu. */
int store_set_tag(berth_image_store *s, const char *full, const char *id, berth_error **err)
{
	pthread_mutex_lock(&s->mu);
	image *img = map_get(&s->images, id);
	if (img) {
		refs_add(s, full, img);
		img->last_tag_ns = berth_time_now_ns();
	}
	pthread_mutex_unlock(&s->mu);
	if (img == NULL)
		return berth_error_set(err, 404, "No such image: %s", id);
	if (refs_persist(s, err) < 0)
		return -1;
	return image_write_record(s, img, err);
}

/* distribution/reference's WithTag on "repo" + tag, or TagNameOnly. */
static int tag_reference(const char *repo, const char *tag, berth_image_ref *ref,
			 berth_error **err)
{
	if (repo == NULL || *repo == '\0')
		return berth_error_set(err, 400, "repository name must have at least one component");
	if (berth_image_ref_parse(repo, ref, err) < 0)
		return -1;
	if (ref->digest) {
		berth_image_ref_reset(ref);
		return berth_error_set(err, 400, "refusing to create a tag with a digest reference");
	}
	if (tag && *tag) {
		berth_image_ref probe;
		char *s cleanup_free = berth_xasprintf("x:%s", tag);
		if (strchr(tag, ':') || strchr(tag, '@') || strchr(tag, '/') ||
		    berth_image_ref_parse(s, &probe, NULL) < 0) {
			berth_image_ref_reset(ref);
			return berth_error_set(err, 400, "invalid tag format");
		}
		berth_image_ref_reset(&probe);
		free(ref->tag);
		ref->tag = berth_xstrdup(tag);
	} else if (ref->tag == NULL) {
		ref->tag = berth_xstrdup("latest");
	}
	char *fam cleanup_free = berth_image_familiar_name(ref->name);
	if (strcmp(fam, "sha256") == 0) {
		berth_image_ref_reset(ref);
		return berth_error_set(err, 400, "refusing to create an ambiguous tag using digest "
						 "algorithm as name");
	}
	return 0;
}

int berth_image_tag(berth_image_store *s, const char *name, const char *repo, const char *tag,
		    char **id, char **familiar, berth_error **err)
{
	berth_image_ref ref;
	if (tag_reference(repo, tag, &ref, err) < 0)
		return -1;
	char *full cleanup_free = berth_image_ref_string(&ref);
	char *fam = berth_image_ref_familiar(&ref);
	berth_image_ref_reset(&ref);
	char *img_id cleanup_free = NULL;
	pthread_mutex_lock(&s->wmu);
	int rc = berth_image_resolve(s, name, &img_id, err);
	if (rc == 0)
		rc = store_set_tag(s, full, img_id, err);
	pthread_mutex_unlock(&s->wmu);
	if (rc < 0) {
		free(fam);
		return -1;
	}
	if (id)
		*id = berth_steal_ptr(&img_id);
	if (familiar)
		*familiar = fam;
	else
		free(fam);
	return 0;
}
