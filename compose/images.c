/*
 * images.c - pull, push and build of the project's images through the
 * Engine API: POST /images/create, /images/{name}/push, and /build with the
 * service's build context sent as a tar archive (libarchive).
 */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"

static bool wanted(char *const *services, const char *name)
{
	if (services == NULL || services[0] == NULL)
		return true;
	for (char *const *s = services; *s; s++)
		if (strcmp(*s, name) == 0)
			return true;
	return false;
}

int berth_compose_pull(berth_compose_ctx *c, char *const *services, bool ignore_failures,
		       berth_error **err)
{
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(c->project->model, "services"), k, v) {
		const char *image = berth_json_string(v, "image");
		if (!wanted(services, k) || image == NULL)
			continue;
		/* a service that is built is pulled only when it asks to be */
		if (json_object_get(v, "build") &&
		    strcmp(berth_json_string(v, "pull_policy") ?: "", "always") != 0)
			continue;
		compose_progress(c, "", k, "Pulling");
		berth_error *e cleanup_error = NULL;
		if (compose_pull_image(c, c->client, image, &e) < 0) {
			if (!ignore_failures)
				return berth_error_propagate(&e, err);
			fprintf(c->io.err, " %s Warning %s\n", k, e->msg);
			continue;
		}
		compose_progress(c, "", k, "Pulled");
	}
	return 0;
}

/* The stream's last {"error": ...} message, if any. */
static int stream_error(const berth_client_response *resp, berth_error **err)
{
	const char *p = resp->body.data;
	while (p && (p = strstr(p, "\"error\"")) != NULL) {
		const char *line = p;
		while (line > resp->body.data && line[-1] != '\n')
			line--;
		const char *end = strchr(p, '\n');
		json_t *j cleanup_json = json_loadb(line, end ? (size_t)(end - line) : strlen(line), 0, NULL);
		const char *msg = berth_json_string(j, "error");
		if (msg)
			return berth_error_set(err, 500, "%s", msg);
		p++;
	}
	return 0;
}

static int post_stream(berth_client *cl, const char *path, const char *content_type,
		       const void *body, size_t len, berth_error **err)
{
	berth_client_response resp = {0};
	if (berth_client_request(cl, "POST", path, content_type, body, len, &resp, err) < 0)
		return -1;
	int r = 0;
	if (resp.status >= 400) {
		char *msg cleanup_free = berth_client_error_message(&resp);
		r = berth_error_set(err, (int)resp.status, "Error response from daemon: %s", msg);
	} else {
		r = stream_error(&resp, err);
	}
	berth_client_response_reset(&resp);
	return r;
}

int berth_compose_push(berth_compose_ctx *c, char *const *services, berth_error **err)
{
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(c->project->model, "services"), k, v) {
		const char *image = berth_json_string(v, "image");
		if (!wanted(services, k) || image == NULL)
			continue;
		char *name cleanup_free = berth_xstrdup(image);
		char *colon = strrchr(name, ':');
		const char *tag = "latest";
		if (colon && !strchr(colon, '/')) {
			*colon = '\0';
			tag = colon + 1;
		}
		char *q cleanup_free = berth_url_encode(name);
		char *path cleanup_free = berth_xasprintf("/images/%s/push?tag=%s", q, tag);
		compose_progress(c, "", k, "Pushing");
		if (post_stream(c->client, path, NULL, NULL, 0, err) < 0)
			return -1;
		compose_progress(c, "", k, "Pushed");
	}
	return 0;
}

/* ------------------------------------------------------------------ build */

static la_ssize_t tar_write(struct archive *a, void *ud, const void *data, size_t len)
{
	berth_buf_append(ud, data, len);
	return (la_ssize_t)len;
}

/* The context directory as an uncompressed tar in memory. */
static int tar_context(const char *dir, berth_buf *out, berth_error **err)
{
	struct archive *disk = archive_read_disk_new();
	struct archive *w = archive_write_new();
	archive_read_disk_set_standard_lookup(disk);
	archive_write_set_format_pax_restricted(w);
	archive_write_open(w, out, NULL, tar_write, NULL);
	int r = 0;
	if (archive_read_disk_open(disk, dir) != ARCHIVE_OK)
		r = berth_error_set(err, 400, "unable to prepare context: %s", archive_error_string(disk));
	size_t prefix = strlen(dir);
	struct archive_entry *e = archive_entry_new();
	while (r == 0 && archive_read_next_header2(disk, e) == ARCHIVE_OK) {
		archive_read_disk_descend(disk);
		const char *path = archive_entry_pathname(e);
		const char *rel = strlen(path) > prefix ? path + prefix + 1 : ".";
		char *relcopy cleanup_free = berth_xstrdup(rel);
		archive_entry_set_pathname(e, relcopy);
		if (archive_write_header(w, e) != ARCHIVE_OK) {
			r = berth_error_set(err, 500, "tar: %s", archive_error_string(w));
			break;
		}
		if (archive_entry_filetype(e) == AE_IFREG) {
			int fd = open(path, O_RDONLY | O_CLOEXEC);
			char chunk[65536];
			ssize_t n;
			while (fd >= 0 && (n = read(fd, chunk, sizeof(chunk))) > 0)
				archive_write_data(w, chunk, (size_t)n);
			if (fd >= 0)
				close(fd);
		}
		archive_entry_clear(e);
	}
	archive_entry_free(e);
	archive_write_close(w);
	archive_write_free(w);
	archive_read_free(disk);
	return r;
}

static void query_json(berth_buf *q, const char *name, const json_t *obj)
{
	if (!json_is_object(obj) || json_object_size(obj) == 0)
		return;
	char *s cleanup_free = json_dumps(obj, JSON_COMPACT);
	char *e cleanup_free = berth_url_encode(s);
	berth_buf_printf(q, "&%s=%s", name, e);
}

static int build_one(berth_compose_ctx *c, const char *service, const json_t *svc, bool no_cache,
		     berth_error **err)
{
	const json_t *b = json_object_get(svc, "build");
	char *image cleanup_free = compose_image_name(c->project, service, svc);
	char *qi cleanup_free = berth_url_encode(image);
	berth_buf path cleanup_buf = {0};
	berth_buf_printf(&path, "/build?t=%s&rm=1", qi);
	const char *dockerfile = berth_json_string(b, "dockerfile");
	if (dockerfile) {
		char *q cleanup_free = berth_url_encode(dockerfile);
		berth_buf_printf(&path, "&dockerfile=%s", q);
	}
	const char *target = berth_json_string(b, "target");
	if (target) {
		char *q cleanup_free = berth_url_encode(target);
		berth_buf_printf(&path, "&target=%s", q);
	}
	const char *network = berth_json_string(b, "network");
	if (network) {
		char *q cleanup_free = berth_url_encode(network);
		berth_buf_printf(&path, "&networkmode=%s", q);
	}
	if (no_cache)
		berth_buf_puts(&path, "&nocache=1");
	query_json(&path, "buildargs", json_object_get(b, "args"));
	query_json(&path, "labels", json_object_get(b, "labels"));
	berth_buf tar cleanup_buf = {0};
	if (tar_context(berth_json_string(b, "context") ?: c->project->working_dir, &tar, err) < 0)
		return -1;
	compose_progress(c, "", service, "Building");
	if (post_stream(c->client, path.data, "application/x-tar", tar.data, tar.len, err) < 0)
		return -1;
	compose_progress(c, "", service, "Built");
	return 0;
}

int berth_compose_build(berth_compose_ctx *c, char *const *services, bool no_cache,
			berth_error **err)
{
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(c->project->model, "services"), k, v)
		if (wanted(services, k) && json_object_get(v, "build") &&
		    build_one(c, k, v, no_cache, err) < 0)
			return -1;
	return 0;
}
