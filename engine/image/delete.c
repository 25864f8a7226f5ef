/*
 * delete.c - untagging, deleting and pruning images with dockerd's rules
 * (daemon/images/image_delete.go): conflicts, untag-only deletes, and the
 * pruning of untagged parents.
 *
 * A delete runs under wmu. Decisions and the in-memory change happen under
 * mu; the disk follows: the tag index first, then the image records, then
 * the layers, so a crash in between leaves only what open() collects.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

enum {
	CONFLICT_CHILD = 1,
	CONFLICT_RUNNING = 2,
	CONFLICT_REFERENCE = 4,
	CONFLICT_STOPPED = 8,
	CONFLICT_HARD = CONFLICT_CHILD | CONFLICT_RUNNING,
	CONFLICT_SOFT = CONFLICT_REFERENCE | CONFLICT_STOPPED,
};

typedef struct del_ctx {
	berth_image_store *s;
	json_t *report;     /* [{"Untagged": ..}, {"Deleted": ..}] */
	json_t *events;     /* [["untag", id], ...] */
	layer **dead;       /* layers to remove from disk */
	size_t ndead;
	char **gone;        /* image IDs whose record and config go */
	size_t ngone;
	bool refs_changed;
	int64_t reclaimed;
} del_ctx;

static void record(del_ctx *c, const char *key, const char *value)
{
	json_array_append_new(c->report, json_pack("{s:s}", key, value));
}

static void event(del_ctx *c, const char *action, const char *id)
{
	json_array_append_new(c->events, json_pack("[s,s]", action, id));
}

static void untag(del_ctx *c, image *img, const char *full)
{
	char *fam cleanup_free = berth_image_familiar_string(full);
	char id[DIGEST_LEN + 1];
	memcpy(id, img->id, sizeof(id));
	refs_del(c->s, full);
	c->refs_changed = true;
	event(c, "untag", id);
	record(c, "Untagged", fam);
}

static char *short_id(const char *id, char out[13])
{
	snprintf(out, 13, "%.12s", berth_str_has_prefix(id, "sha256:") ? id + 7 : id);
	return out;
}

/* dockerd's checkImageDeleteConflict; *used tells a container conflict. */
static int check_conflict(del_ctx *c, image *img, int mask, bool *used, berth_error **err)
{
	char sid[13], cid[13];
	short_id(img->id, sid);
	berth_image_usage use;
	image_usage(c->s, img, &use);
	*used = false;
	if ((mask & CONFLICT_CHILD) && image_has_children(c->s, img))
		return berth_error_set(err, 409, "conflict: unable to delete %s (cannot be forced) - "
						 "image has dependent child images", sid);
	if ((mask & CONFLICT_RUNNING) && use.running) {
		*used = true;
		return berth_error_set(err, 409, "conflict: unable to delete %s (cannot be forced) - "
						 "image is being used by running container %s",
				       sid, short_id(use.running, cid));
	}
	if ((mask & CONFLICT_REFERENCE) && img->nrefs > 0)
		return berth_error_set(err, 409, "conflict: unable to delete %s (must be forced) - "
						 "image is referenced in multiple repositories", sid);
	if ((mask & CONFLICT_STOPPED) && use.stopped) {
		*used = true;
		return berth_error_set(err, 409, "conflict: unable to delete %s (must be forced) - "
						 "image is being used by stopped container %s",
				       sid, short_id(use.stopped, cid));
	}
	return 0;
}

static void drop(del_ctx *c, image *img)
{
	char id[DIGEST_LEN + 1];
	memcpy(id, img->id, sizeof(id));
	size_t first_dead = c->ndead;
	store_drop_image(c->s, img, &c->dead, &c->ndead);
	c->gone = berth_xrealloc(c->gone, (c->ngone + 1) * sizeof(*c->gone));
	c->gone[c->ngone++] = berth_xstrdup(id);
	event(c, "delete", id);
	record(c, "Deleted", id);
	for (size_t i = first_dead; i < c->ndead; i++) {
		record(c, "Deleted", c->dead[i]->chain);
		c->reclaimed += c->dead[i]->size;
	}
}

/* dockerd's imageDeleteHelper: delete, then prune untagged parents quietly. */
static int delete_helper(del_ctx *c, image *img, bool force, bool prune, bool quiet,
			 berth_error **err)
{
	berth_error *conflict cleanup_error = NULL;
	bool used;
	if (check_conflict(c, img, CONFLICT_HARD | (force ? 0 : CONFLICT_SOFT), &used,
			   &conflict) < 0) {
		bool dangling = img->nrefs == 0 && !image_has_children(c->s, img);
		if (quiet && (!dangling || used))
			return 0;
		return berth_error_propagate(&conflict, err);
	}
	char *parent cleanup_free = img->parent ? berth_xstrdup(img->parent) : NULL;
	while (img->nrefs > 0)
		untag(c, img, img->refs[img->nrefs - 1]);
	drop(c, img);
	image *p = parent && prune ? map_get(&c->s->images, parent) : NULL;
	return p ? delete_helper(c, p, false, true, true, err) : 0;
}

/* isSingleReference: one tag at most, and every reference in one repository. */
static bool single_reference(const image *img)
{
	if (img->nrefs <= 1)
		return img->nrefs == 1;
	const char *tag = NULL;
	size_t ntags = 0;
	for (size_t i = 0; i < img->nrefs; i++)
		if (strchr(img->refs[i], '@') == NULL && ntags++ == 0)
			tag = img->refs[i];
	if (ntags > 1)
		return false;
	const char *first = tag ? tag : img->refs[0];
	size_t name_len = strcspn(first, "@");
	if (tag) {
		const char *slash = strrchr(tag, '/');
		name_len = (size_t)(strrchr(slash ? slash : tag, ':') - tag);
	}
	for (size_t i = 0; i < img->nrefs; i++)
		if (strncmp(img->refs[i], first, name_len) != 0 ||
		    !strchr("@:", img->refs[i][name_len]))
			return false;
	return true;
}

static bool is_id_prefix(const char *id, const char *name)
{
	return berth_str_has_prefix(id, name) || berth_str_has_prefix(id + 7, name);
}

static size_t repo_len(const char *full)
{
	const char *at = strchr(full, '@');
	if (at)
		return (size_t)(at - full);
	const char *slash = strrchr(full, '/');
	const char *colon = strrchr(slash ? slash : full, ':');
	return colon ? (size_t)(colon - full) : strlen(full);
}

/* After a tag goes, digest references of the same repository go too when
 * no tag of that repository is left. */
static void untag_orphan_digests(del_ctx *c, image *img, const char *removed)
{
	size_t n = repo_len(removed);
	for (size_t i = 0; i < img->nrefs; i++)
		if (!strchr(img->refs[i], '@') && repo_len(img->refs[i]) == n &&
		    strncmp(img->refs[i], removed, n) == 0)
			return;
	for (size_t i = img->nrefs; i-- > 0;)
		if (strchr(img->refs[i], '@') && repo_len(img->refs[i]) == n &&
		    strncmp(img->refs[i], removed, n) == 0)
			untag(c, img, img->refs[i]);
}

/* A repository reference was named: untag it; delete when nothing is left. */
static int delete_by_reference(del_ctx *c, image *img, const char *name, bool force, bool prune,
			       berth_error **err)
{
	berth_image_usage use;
	image_usage(c->s, img, &use);
	const char *user = use.running ? use.running : use.stopped;
	if (!force && single_reference(img) && user) {
		char cid[13], sid[13];
		return berth_error_set(err, 409, "conflict: unable to remove repository reference "
						 "\"%s\" (must force) - container %s is using its "
						 "referenced image %s", name, short_id(user, cid),
				       short_id(img->id, sid));
	}
	berth_image_ref ref;
	if (berth_image_ref_parse(name, &ref, err) < 0)
		return -1;
	if (ref.tag == NULL && ref.digest == NULL)
		ref.tag = berth_xstrdup("latest");
	char *full cleanup_free = berth_image_ref_string(&ref);
	bool canonical = ref.digest != NULL;
	berth_image_ref_reset(&ref);
	if (map_get(&c->s->refs, full) != img)
		return berth_error_set(err, 404, "No such image: %s", name);
	untag(c, img, full);
	if (!canonical)
		untag_orphan_digests(c, img, full);
	if (img->nrefs > 0)
		return 0;
	return delete_helper(c, img, force, prune, true, err);
}

static int delete_locked(del_ctx *c, const char *name, bool force, bool prune, berth_error **err)
{
	image *img = image_lookup(c->s, name, err);
	if (img == NULL)
		return -1;
	if (!is_id_prefix(img->id, name))
		return delete_by_reference(c, img, name, force, prune, err);
	if (single_reference(img)) {
		bool used;
		int mask = CONFLICT_HARD | (force ? 0 : CONFLICT_STOPPED);
		if (check_conflict(c, img, mask, &used, err) < 0)
			return -1;
		while (img->nrefs > 0)
			untag(c, img, img->refs[img->nrefs - 1]);
	}
	return delete_helper(c, img, force, prune, false, err);
}

/* The disk side of what delete_locked did in memory (wmu held). */
static int commit_deletes(del_ctx *c, berth_error **err)
{
	int rc = c->refs_changed ? refs_persist(c->s, err) : 0;
	for (size_t i = 0; i < c->ngone; i++) {
		char *rec cleanup_free = store_path(c->s, "images", c->gone[i]);
		char *blob cleanup_free = store_path(c->s, "blobs/sha256", c->gone[i]);
		unlink(rec);
		unlink(blob);
		free(c->gone[i]);
	}
	free(c->gone);
	layers_destroy(c->s, c->dead, c->ndead);
	return rc;
}

static void ctx_init(del_ctx *c, berth_image_store *s)
{
	memset(c, 0, sizeof(*c));
	c->s = s;
	c->report = json_array();
	c->events = json_array();
}

static void ctx_finish(del_ctx *c, json_t **report, json_t **events)
{
	*report = c->report;
	if (events)
		*events = c->events;
	else
		json_decref(c->events);
}

int berth_image_delete(berth_image_store *s, const char *name, bool force, bool prune,
		       json_t **report, json_t **events, berth_error **err)
{
	if (name == NULL || *name == '\0' || strspn(name, " \t") == strlen(name))
		return berth_error_set(err, 400, "image name cannot be blank");
	del_ctx c;
	ctx_init(&c, s);
	pthread_mutex_lock(&s->wmu);
	pthread_mutex_lock(&s->mu);
	int rc = delete_locked(&c, name, force, prune, err);
	pthread_mutex_unlock(&s->mu);
	/* a failed delete may still have untagged (dockerd keeps those too) */
	if (commit_deletes(&c, rc < 0 ? NULL : err) < 0)
		rc = -1;
	pthread_mutex_unlock(&s->wmu);
	if (rc < 0) {
		json_decref(c.report);
		json_decref(c.events);
		return -1;
	}
	ctx_finish(&c, report, events);
	return 0;
}

/* ----------------------------------------------------------------- prune */

/* The images prune considers (with wmu held, so the list stays true):
 * dockerd skips untagged intermediates. Takes mu. */
static char **prune_candidates(berth_image_store *s, const berth_image_filters *f)
{
	bool dangling_only = f->dangling != 0;
	json_t *list cleanup_json = NULL;
	berth_image_filters lf = {.all = true, .dangling = -1, .labels = f->labels,
				  .labels_not = f->labels_not, .until_ns = f->until_ns};
	berth_image_list(s, &lf, &list, NULL);
	pthread_mutex_lock(&s->mu);
	char **ids = berth_xcalloc(json_array_size(list) + 1, sizeof(*ids));
	size_t n = 0, i;
	json_t *item;
	json_array_foreach(list, i, item) {
		image *img = map_get(&s->images, berth_json_string(item, "Id"));
		if (img == NULL || (img->nrefs == 0 && image_has_children(s, img)))
			continue;
		if (dangling_only && image_has_children(s, img))
			continue;
		if (dangling_only && image_tagged(img))
			continue;
		ids[n++] = berth_xstrdup(img->id);
	}
	return ids;
}

/* Deletes one candidate as dockerd does: through each reference when it has
 * some, else by ID; conflicts only skip it. */
static void prune_one(del_ctx *c, const char *id)
{
	image *img = map_get(&c->s->images, id);
	if (img == NULL)
		return;
	berth_error *err cleanup_error = NULL;
	if (img->nrefs == 0) {
		if (delete_locked(c, HEX_OF(id), false, true, &err) < 0)
			berth_debug("prune: %s: %s", id, err->msg);
		return;
	}
	size_t n = img->nrefs;
	char **refs = berth_xcalloc(n + 1, sizeof(*refs));
	for (size_t i = 0; i < n; i++)
		refs[i] = berth_image_familiar_string(img->refs[i]);
	for (size_t i = 0; i < n; i++) {
		berth_error_free(&err);
		if (delete_locked(c, refs[i], false, true, &err) < 0)
			berth_debug("prune: %s: %s", refs[i], err->msg);
	}
	berth_strv_free(refs);
}

int berth_image_prune(berth_image_store *s, const berth_image_filters *f, json_t **report,
		      json_t **events, berth_error **err)
{
	del_ctx c;
	ctx_init(&c, s);
	pthread_mutex_lock(&s->wmu);
	char **ids = prune_candidates(s, f);
	for (char **id = ids; *id; id++)
		prune_one(&c, *id);
	pthread_mutex_unlock(&s->mu);
	berth_strv_free(ids);
	int rc = commit_deletes(&c, err);
	pthread_mutex_unlock(&s->wmu);
	json_t *deleted = json_array_size(c.report) ? json_incref(c.report) : json_null();
	*report = json_pack("{s:o, s:I}", "ImagesDeleted", deleted, "SpaceReclaimed",
			    (json_int_t)c.reclaimed);
	json_decref(c.report);
	if (events)
		*events = c.events;
	else
		json_decref(c.events);
	return rc;
}
