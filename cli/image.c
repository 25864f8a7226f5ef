/*
 * image.c - `berth image ls|inspect|history|tag|rm|load|save|import|prune`,
 * their top-level forms (`berth images`, `berth rmi`, `berth load`...) and
 * `berth system df`, with docker's columns, sizes, ages and errors.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "container.h"
#include "engine/image/image.h"

#define IMAGES_TABLE "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
#define IMAGES_DIGESTS_TABLE \
	"table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
#define HISTORY_TABLE \
	"table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"
#define HISTORY_TABLE_RAW "table {{.ID}}\t{{.CreatedAt}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"
#define DF_TABLE "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}"
#define DF_IMAGES_TABLE                                                                        \
	"table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}" \
	"\t{{.UniqueSize}}\t{{.Containers}}"
#define DF_CONTAINERS_TABLE                                                                 \
	"table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}" \
	"\t{{.Status}}\t{{.Names}}"
#define DF_VOLUMES_TABLE "table {{.Name}}\t{{.Links}}\t{{.Size}}"
#define CREATED_BY_WIDTH 45

/* --------------------------------------------------------------- helpers */

static int fail(berth_cli *cli, berth_error **err)
{
	return berth_cli_fail(cli, err, BERTH_EXIT_ERROR);
}

static void short_id(const char *id, char out[13])
{
	snprintf(out, 13, "%.12s", berth_str_has_prefix(id, "sha256:") ? id + 7 : id);
}

static char *human_size(int64_t bytes, int precision)
{
	char buf[32];
	berth_human_size(bytes, precision, buf, sizeof(buf));
	return berth_xstrdup(buf);
}

static char *since(int64_t secs)
{
	char buf[64];
	berth_human_duration(berth_time_now_ns() - secs * 1000000000LL, buf, sizeof(buf));
	return berth_xasprintf("%s ago", buf);
}

static int template_error(berth_cli *cli, berth_error **err)
{
	berth_error_wrap(err, "template parsing error");
	return berth_cli_fail(cli, err, BERTH_EXIT_ERROR);
}

static const berth_template_type image_context = {"*formatter.imageContext", true};
static const berth_template_type history_context = {"*image.historyContext", true};
static const berth_template_type df_context = {"*formatter.diskUsageImagesContext", true};

/* Renders rows through --format (or the default table) and prints them. */
static int print_rows(berth_cli *cli, const char *spec, const char *table,
		      const berth_template_type *type, const json_t *header, json_t *rows)
{
	berth_format fmt cleanup_format = {0};
	berth_error *err cleanup_error = NULL;
	if (berth_format_init(&fmt, spec && *spec ? spec : table, table, &err) < 0)
		return template_error(cli, &err);
	fmt.type = type;
	berth_buf out cleanup_buf = {0};
	if (berth_format_header(&fmt, header, &err) < 0)
		return fail(cli, &err);
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row) {
		if (berth_format_row(&fmt, row, &out, &err) < 0) {
			berth_error_wrap(&err, "template parsing error");
			return fail(cli, &err);
		}
	}
	berth_format_flush(&fmt, &out);
	berth_cli_write(cli, &out);
	return BERTH_EXIT_OK;
}

static char *read_all_fd(int fd, size_t *len, berth_error **err)
{
	berth_buf b = {0};
	char chunk[65536];
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			berth_buf_reset(&b);
			berth_error_set_errno(err, errno, "read");
			return NULL;
		}
		if (n == 0)
			break;
		berth_buf_append(&b, chunk, (size_t)n);
	}
	*len = b.len;
	return berth_buf_steal(&b);
}

/* -------------------------------------------------------- progress streams */

/* docker's jsonmessage display: "stream" text as is, statuses with their
 * id, progress only on a terminal, and the first error ends it. */
typedef struct messages {
	berth_cli *cli;
	berth_buf pending;
	berth_error *err;
	bool terminal;
} messages;

static void show_message(messages *m, const json_t *msg)
{
	FILE *out = m->cli->out;
	json_t *detail = json_object_get(msg, "errorDetail");
	const char *error = berth_json_string(msg, "error");
	if (detail || error) {
		const char *text = berth_json_string(detail, "message");
		if (m->err == NULL)
			berth_error_set(&m->err, 500, "%s", text ? text : error);
		return;
	}
	const char *id = berth_json_string(msg, "id");
	const char *progress = berth_json_string(msg, "progress");
	if (progress && *progress) {
		if (m->terminal)
			fprintf(out, "\r\033[2K%s%s%s %s", id ? id : "", id ? ": " : "",
				berth_cli_str(msg, "status"), progress);
		return;
	}
	if (m->terminal)
		fputs("\r\033[2K", out);
	if (id)
		fprintf(out, "%s: ", id);
	const char *text = berth_json_string(msg, "stream");
	if (text)
		fputs(text, out);
	else
		fprintf(out, "%s\n", berth_cli_str(msg, "status"));
}

static int on_messages(void *ud, const char *data, size_t len)
{
	messages *m = ud;
	berth_buf_append(&m->pending, data, len);
	char *nl;
	while ((nl = memchr(m->pending.data, '\n', m->pending.len)) != NULL) {
		size_t n = (size_t)(nl - m->pending.data) + 1;
		json_t *msg = json_loadb(m->pending.data, n, JSON_DISABLE_EOF_CHECK, NULL);
		if (msg)
			show_message(m, msg);
		json_decref(msg);
		berth_buf_consume(&m->pending, n);
	}
	fflush(m->cli->out);
	return 0;
}

static int post_messages(berth_cli *cli, const char *path, const void *body, size_t len)
{
	messages m = {.cli = cli, .terminal = isatty(fileno(cli->out))};
	berth_error *err cleanup_error = NULL;
	int r = berth_cli_stream(cli, "POST", path, body, len, on_messages, &m, &err);
	on_messages(&m, "\n", 1);
	berth_buf_reset(&m.pending);
	if (r < 0)
		return fail(cli, &err);
	if (m.err)
		return fail(cli, &m.err);
	return BERTH_EXIT_OK;
}

/* ------------------------------------------------------------------- ls */

/* One row per repository:tag, as docker's imageFormatTaggedAndDigest. */
static void add_row(json_t *rows, const json_t *img, const char *repo, const char *tag,
		    const char *digest, bool no_trunc)
{
	const char *id = berth_cli_str(img, "Id");
	char sid[13];
	short_id(id, sid);
	int64_t created = json_integer_value(json_object_get(img, "Created"));
	int64_t size = json_integer_value(json_object_get(img, "Size"));
	int64_t shared = json_integer_value(json_object_get(img, "SharedSize"));
	int64_t containers = json_integer_value(json_object_get(img, "Containers"));
	char *cs cleanup_free = since(created);
	char *ca cleanup_free = berth_time_go_string(created * 1000000000LL);
	char *sz cleanup_free = human_size(size, 3);
	char *vs cleanup_free = human_size(size, 4);
	char *sh cleanup_free = shared < 0 ? berth_xstrdup("N/A") : human_size(shared, 4);
	char *uq cleanup_free = shared < 0 ? berth_xstrdup("N/A") : human_size(size - shared, 4);
	char *ct cleanup_free = containers < 0 ? berth_xstrdup("N/A")
					       : berth_xasprintf("%lld", (long long)containers);
	json_array_append_new(rows, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
					      "Containers", ct, "CreatedAt", ca, "CreatedSince", cs,
					      "Digest", digest, "ID", no_trunc ? id : sid,
					      "Repository", repo, "SharedSize", sh, "Size", sz,
					      "Tag", tag, "UniqueSize", uq, "VirtualSize", vs));
}

/* "repo:tag" -> repo, tag; "repo@digest" -> repo, digest. */
static char *split_ref(const char *ref, char sep, const char **rest)
{
	const char *at = sep == '@' ? strchr(ref, '@') : NULL;
	if (sep == ':') {
		const char *slash = strrchr(ref, '/');
		at = strrchr(slash ? slash : ref, ':');
	}
	*rest = at ? at + 1 : "";
	return berth_xstrndup(ref, at ? (size_t)(at - ref) : strlen(ref));
}

static void image_rows(json_t *rows, const json_t *img, bool digests, bool no_trunc)
{
	json_t *tags = json_object_get(img, "RepoTags");
	json_t *dgs = json_object_get(img, "RepoDigests");
	if (json_array_size(tags) + json_array_size(dgs) == 0) {
		add_row(rows, img, "<none>", "<none>", "<none>", no_trunc);
		return;
	}
	size_t i, j;
	json_t *t, *d;
	json_array_foreach(tags, i, t) {
		const char *tag;
		char *repo cleanup_free = split_ref(json_string_value(t), ':', &tag);
		bool any = false;
		json_array_foreach(dgs, j, d) {
			const char *dg;
			char *drepo cleanup_free = split_ref(json_string_value(d), '@', &dg);
			if (digests && strcmp(drepo, repo) == 0) {
				add_row(rows, img, repo, tag, dg, no_trunc);
				any = true;
			}
		}
		if (!any)
			add_row(rows, img, repo, tag, "<none>", no_trunc);
	}
	/* digests of repositories without a tag get their own rows */
	json_array_foreach(dgs, j, d) {
		const char *dg;
		char *drepo cleanup_free = split_ref(json_string_value(d), '@', &dg);
		bool tagged = false;
		json_array_foreach(tags, i, t) {
			const char *tag;
			char *repo cleanup_free = split_ref(json_string_value(t), ':', &tag);
			tagged |= strcmp(repo, drepo) == 0;
		}
		if (!tagged)
			add_row(rows, img, drepo, "<none>", digests ? dg : "", no_trunc);
	}
}

int berth_cli_images(berth_invocation *inv)
{
	bool all = false, digests = false, no_trunc = false, quiet = false;
	const char *format = NULL;
	berth_strlist filters cleanup_strlist = {0};
	berth_flag flags[] = {
		{"all", 'a', BERTH_FLAG_BOOL, &all, "Show all images (default hides intermediate "
						    "images)"},
		{"digests", 0, BERTH_FLAG_BOOL, &digests, "Show digests"},
		{"filter", 'f', BERTH_FLAG_LIST, &filters, "Filter output based on conditions provided",
		 .type_name = "filter", .check = berth_cli_filter_check},
		{"format", 0, BERTH_FLAG_STRING, &format, BERTH_TABLE_FORMAT_HELP, .type_name = "string"},
		{"no-trunc", 0, BERTH_FLAG_BOOL, &no_trunc, "Don't truncate output"},
		{"quiet", 'q', BERTH_FLAG_BOOL, &quiet, "Only show image IDs"},
	};
	int status;
	if (!berth_cli_parse(inv, flags, BERTH_ARRAY_SIZE(flags), &status))
		return status;
	berth_filters *f cleanup_filters = berth_cli_filters_parse(&filters);
	if (inv->args.n)
		berth_filters_add(f, "reference", inv->args.v[0]);
	char *fq cleanup_free = berth_cli_filters_param(f, '&');
	char *path cleanup_free = berth_xasprintf("/images/json?all=%d%s", all, fq);
	json_t *list cleanup_json = NULL;
	berth_error *err cleanup_error = NULL;
	if (berth_cli_call(inv->cli, "GET", path, NULL, &list, &err) < 0)
		return fail(inv->cli, &err);
	json_t *rows cleanup_json = json_array();
	size_t i;
	json_t *img;
	json_array_foreach(list, i, img)
		image_rows(rows, img, digests, no_trunc);
	const char *table = digests ? IMAGES_DIGESTS_TABLE : IMAGES_TABLE;
	char *config_format cleanup_free = NULL;
	if (quiet && (format == NULL || *format == '\0'))
		format = "{{.ID}}";
	else if (format == NULL || *format == '\0')
		format = config_format = berth_cli_config_string(inv->cli, "imagesFormat");
	json_t *header cleanup_json = json_pack(
		"{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Repository", "REPOSITORY",
		"Tag", "TAG", "Digest", "DIGEST", "ID", "IMAGE ID", "CreatedSince", "CREATED",
		"CreatedAt", "CREATED AT", "Size", "SIZE", "SharedSize", "SHARED SIZE", "UniqueSize",
		"UNIQUE SIZE", "Containers", "CONTAINERS", "VirtualSize", "VIRTUAL SIZE");
	return print_rows(inv->cli, format, table, &image_context, header, rows);
}

/* -------------------------------------------------------------- inspect */

static char *escape_path(const char *name)
{
	/* names carry '/': keep them, escape the rest */
	char *enc = berth_url_encode(name);
	berth_buf b = {0};
	for (const char *p = enc; *p; p++) {
		if (strncmp(p, "%2F", 3) == 0 || strncmp(p, "%2f", 3) == 0) {
			berth_buf_puts(&b, "/");
			p += 2;
		} else {
			berth_buf_append(&b, p, 1);
		}
	}
	free(enc);
	return berth_buf_steal(&b);
}

/* -------------------------------------------------------------- history */

/* stringutils.Ellipsis: at most n runes, the last one "…" when cut. */
static char *ellipsis(const char *s, size_t n)
{
	size_t runes = 0, i = 0, cut = 0;
	for (; s[i]; i++) {
		if (((unsigned char)s[i] & 0xc0) == 0x80)
			continue;
		if (runes == n - 1)
			cut = i;
		runes++;
	}
	if (runes <= n)
		return berth_xstrdup(s);
	return berth_xasprintf("%.*s\xe2\x80\xa6", (int)cut, s);
}

/* One history entry as docker's history formatter shows it. */
static json_t *history_row(const json_t *h, bool human, bool no_trunc)
{
	const char *id = berth_cli_str(h, "Id");
	char sid[13];
	short_id(id, sid);
	int64_t created = json_integer_value(json_object_get(h, "Created"));
	int64_t size = json_integer_value(json_object_get(h, "Size"));
	char *by = berth_xstrdup(berth_cli_str(h, "CreatedBy"));
	for (char *p = by; *p; p++)
		if (*p == '\t')
			*p = ' ';
	char *shown cleanup_free = no_trunc ? berth_xstrdup(by) : ellipsis(by, CREATED_BY_WIDTH);
	free(by);
	char iso[64];
	berth_time_format_rfc3339(created * 1000000000LL, iso, sizeof(iso));
	char *dot = strchr(iso, '.');
	if (dot)
		strcpy(dot, "Z");
	char *cs cleanup_free = human ? since(created) : berth_xstrdup(iso);
	char *sz cleanup_free = human ? human_size(size, 3) : berth_xasprintf("%lld", (long long)size);
	bool missing = strcmp(id, "<missing>") == 0;
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "ID", missing || no_trunc ? id : sid,
			 "CreatedSince", cs, "CreatedAt", iso, "CreatedBy", shown,
			 "Size", sz, "Comment", berth_cli_str(h, "Comment"));
}

int berth_cli_image_history(berth_invocation *inv)
{
	bool human = true, no_trunc = false, quiet = false;
	const char *format = NULL;
	berth_flag flags[] = {
		{"format", 0, BERTH_FLAG_STRING, &format, BERTH_TABLE_FORMAT_HELP, .type_name = "string"},
		{"human", 'H', BERTH_FLAG_BOOL, &human, "Print sizes and dates in human readable "
							"format", .def = "true"},
		{"no-trunc", 0, BERTH_FLAG_BOOL, &no_trunc, "Don't truncate output"},
		{"quiet", 'q', BERTH_FLAG_BOOL, &quiet, "Only show image IDs"},
	};
	int status;
	if (!berth_cli_parse(inv, flags, BERTH_ARRAY_SIZE(flags), &status))
		return status;
	char *name cleanup_free = escape_path(inv->args.v[0]);
	char *path cleanup_free = berth_xasprintf("/images/%s/history", name);
	json_t *hist cleanup_json = NULL;
	berth_error *err cleanup_error = NULL;
	if (berth_cli_call(inv->cli, "GET", path, NULL, &hist, &err) < 0)
		return fail(inv->cli, &err);
	json_t *rows cleanup_json = json_array();
	size_t i;
	json_t *h;
	json_array_foreach(hist, i, h)
		json_array_append_new(rows, history_row(h, human, no_trunc));
	if (quiet && (format == NULL || *format == '\0'))
		format = "{{.ID}}";
	json_t *header cleanup_json = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "ID", "IMAGE",
						"CreatedSince", "CREATED", "CreatedAt", "CREATED AT",
						"CreatedBy", "CREATED BY", "Size", "SIZE", "Comment",
						"COMMENT");
	return print_rows(inv->cli, format, human ? HISTORY_TABLE : HISTORY_TABLE_RAW,
			  &history_context, header, rows);
}

/* ------------------------------------------------------------------ tag */

int berth_cli_image_tag(berth_invocation *inv)
{
	int status;
	if (!berth_cli_parse(inv, NULL, 0, &status))
		return status;
	const char *target = inv->args.v[1];
	const char *tag;
	char *repo cleanup_free = split_ref(target, ':', &tag);
	berth_error *err cleanup_error = NULL;
	/* the client checks the target as docker's ImageTag does */
	berth_image_ref ref = {0};
	int parsed = berth_image_ref_parse(target, &ref, &err);
	bool digest = parsed == 0 && ref.digest != NULL;
	berth_image_ref_reset(&ref);
	if (parsed < 0) {
		berth_error_wrap(&err, "Error parsing reference: \"%s\" is not a valid repository/tag",
				 target);
		return fail(inv->cli, &err);
	}
	if (digest) {
		berth_error_set(&err, 400, "refusing to create a tag with a digest reference");
		return fail(inv->cli, &err);
	}
	char *src cleanup_free = escape_path(inv->args.v[0]);
	char *r cleanup_free = berth_url_encode(repo);
	char *t cleanup_free = berth_url_encode(*tag ? tag : "latest");
	char *path cleanup_free = berth_xasprintf("/images/%s/tag?repo=%s&tag=%s", src, r, t);
	if (berth_cli_call(inv->cli, "POST", path, NULL, NULL, &err) < 0)
		return fail(inv->cli, &err);
	return BERTH_EXIT_OK;
}

/* ------------------------------------------------------------------- rm */

int berth_cli_rmi(berth_invocation *inv)
{
	bool force = false, no_prune = false;
	berth_flag flags[] = {
		{"force", 'f', BERTH_FLAG_BOOL, &force, "Force removal of the image"},
		{"no-prune", 0, BERTH_FLAG_BOOL, &no_prune, "Do not delete untagged parents"},
	};
	int status;
	if (!berth_cli_parse(inv, flags, BERTH_ARRAY_SIZE(flags), &status))
		return status;
	int rc = BERTH_EXIT_OK;
	for (size_t i = 0; i < inv->args.n; i++) {
		char *name cleanup_free = escape_path(inv->args.v[i]);
		char *path cleanup_free = berth_xasprintf("/images/%s?force=%d&noprune=%d", name,
							  force, no_prune);
		json_t *report cleanup_json = NULL;
		berth_error *err cleanup_error = NULL;
		if (berth_cli_call(inv->cli, "DELETE", path, NULL, &report, &err) < 0) {
			fprintf(inv->cli->err, "%s\n", err->msg);
			/* -f: an image that is not there is only reported */
			if (!force || err->status != 404)
				rc = BERTH_EXIT_ERROR;
			continue;
		}
		size_t j;
		json_t *r;
		json_array_foreach(report, j, r) {
			if (berth_json_string(r, "Untagged"))
				fprintf(inv->cli->out, "Untagged: %s\n", berth_cli_str(r, "Untagged"));
			else
				fprintf(inv->cli->out, "Deleted: %s\n", berth_cli_str(r, "Deleted"));
		}
	}
	fflush(inv->cli->out);
	return rc;
}

/* ----------------------------------------------------------- load, save */

static int read_input(berth_cli *cli, const char *file, char **data, size_t *len,
		      berth_error **err)
{
	int fd = STDIN_FILENO;
	if (file && *file && (fd = open(file, O_RDONLY | O_CLOEXEC)) < 0)
		return berth_error_set_errno(err, errno, "open %s", file);
	*data = read_all_fd(fd, len, err);
	if (fd != STDIN_FILENO)
		close(fd);
	return *data ? 0 : -1;
}

int berth_cli_image_load(berth_invocation *inv)
{
	const char *input = NULL;
	bool quiet = false;
	berth_flag flags[] = {
		{"input", 'i', BERTH_FLAG_STRING, &input, "Read from tar archive file, instead of "
							  "STDIN", .type_name = "string"},
		{"quiet", 'q', BERTH_FLAG_BOOL, &quiet, "Suppress the load output"},
	};
	int status;
	if (!berth_cli_parse(inv, flags, BERTH_ARRAY_SIZE(flags), &status))
		return status;
	berth_error *err cleanup_error = NULL;
	if ((input == NULL || *input == '\0') && isatty(STDIN_FILENO)) {
		berth_error_set(&err, 400, "requested load from stdin, but stdin is empty");
		return fail(inv->cli, &err);
	}
	char *data cleanup_free = NULL;
	size_t len = 0;
	if (read_input(inv->cli, input, &data, &len, &err) < 0)
		return fail(inv->cli, &err);
	bool q = quiet || !isatty(fileno(inv->cli->out));
	char *path cleanup_free = berth_xasprintf("/images/load?quiet=%d", q);
	return post_messages(inv->cli, path, data, len);
}

int berth_cli_image_save(berth_invocation *inv)
{
	const char *output;
	int status;
	if (!berth_cli_parse_output(inv, &output, &status))
		return status;
	berth_buf q cleanup_buf = {0};
	for (size_t i = 0; i < inv->args.n; i++) {
		char *enc cleanup_free = berth_url_encode(inv->args.v[i]);
		berth_buf_printf(&q, "%snames=%s", i ? "&" : "", enc);
	}
	char *path cleanup_free = berth_xasprintf("/images/get?%s", q.data ? q.data : "");
	return berth_cli_download(inv->cli, path, output, "failed to save image", "create");
}

/* --------------------------------------------------------------- import */

int berth_cli_image_import(berth_invocation *inv)
{
	berth_strlist changes cleanup_strlist = {0};
	const char *message = NULL, *platform = NULL;
	berth_flag flags[] = {
		{"change", 'c', BERTH_FLAG_LIST, &changes, "Apply Dockerfile instruction to the "
							   "created image", .type_name = "list"},
		{"message", 'm', BERTH_FLAG_STRING, &message, "Set commit message for imported image",
		 .type_name = "string"},
		{"platform", 0, BERTH_FLAG_STRING, &platform, "Set platform if server is "
							      "multi-platform capable",
		 .type_name = "string"},
	};
	int status;
	if (!berth_cli_parse(inv, flags, BERTH_ARRAY_SIZE(flags), &status))
		return status;
	const char *source = inv->args.v[0];
	berth_buf q cleanup_buf = {0};
	berth_error *err cleanup_error = NULL;
	char *data cleanup_free = NULL;
	size_t len = 0;
	bool url = strstr(source, "://") != NULL;
	if (!url && read_input(inv->cli, strcmp(source, "-") ? source : NULL, &data, &len, &err) < 0)
		return fail(inv->cli, &err);
	char *src cleanup_free = berth_url_encode(url ? source : "-");
	berth_buf_printf(&q, "/images/create?fromSrc=%s", src);
	if (inv->args.n > 1) {
		const char *tag;
		char *repo cleanup_free = split_ref(inv->args.v[1], ':', &tag);
		char *r cleanup_free = berth_url_encode(repo);
		char *t cleanup_free = berth_url_encode(tag);
		berth_buf_printf(&q, "&repo=%s&tag=%s", r, t);
	}
	if (message) {
		char *m cleanup_free = berth_url_encode(message);
		berth_buf_printf(&q, "&message=%s", m);
	}
	if (platform) {
		char *p cleanup_free = berth_url_encode(platform);
		berth_buf_printf(&q, "&platform=%s", p);
	}
	for (size_t i = 0; i < changes.n; i++) {
		char *c cleanup_free = berth_url_encode(changes.v[i]);
		berth_buf_printf(&q, "&changes=%s", c);
	}
	return post_messages(inv->cli, q.data, data, len);
}

/* ---------------------------------------------------------------- prune */

static int image_prune(berth_invocation *inv)
{
	bool all = false, force = false;
	berth_strlist filters cleanup_strlist = {0};
	berth_flag flags[] = {
		{"all", 'a', BERTH_FLAG_BOOL, &all, "Remove all unused images, not just dangling ones"},
		{"filter", 0, BERTH_FLAG_LIST, &filters, "Provide filter values (e.g. \"until=<timestamp>\")",
		 .type_name = "filter", .check = berth_cli_filter_check},
		{"force", 'f', BERTH_FLAG_BOOL, &force, "Do not prompt for confirmation"},
	};
	int status;
	if (!berth_cli_parse(inv, flags, BERTH_ARRAY_SIZE(flags), &status))
		return status;
	const char *warning = all ? "WARNING! This will remove all images without at least one "
				    "container associated to them."
				  : "WARNING! This will remove all dangling images.";
	char *question cleanup_free =
		berth_xasprintf("%s\nAre you sure you want to continue?", warning);
	if (!force && !berth_cli_confirm(inv->cli, question))
		return BERTH_EXIT_OK;
	berth_filters *f cleanup_filters = berth_cli_filters_parse(&filters);
	berth_filters_add(f, "dangling", all ? "false" : "true");
	return berth_cli_prune(inv->cli, BERTH_PRUNE_IMAGES, f);
}

/* ------------------------------------------------------------ system df */

/* One row of docker's df summary; the percentage only when there is a size. */
static json_t *df_row(const char *type, size_t total, size_t active, int64_t size,
		      int64_t reclaimable)
{
	char *sz cleanup_free = human_size(size, 4);
	char *rc cleanup_free = human_size(reclaimable, 4);
	char *rec cleanup_free = size > 0 ? berth_xasprintf("%s (%lld%%)", rc,
							    (long long)(reclaimable * 100 / size))
					  : berth_xstrdup(rc);
	char tot[32], act[32];
	snprintf(tot, sizeof(tot), "%zu", total);
	snprintf(act, sizeof(act), "%zu", active);
	return json_pack("{s:s, s:s, s:s, s:s, s:s}", "Type", type, "TotalCount", tot, "Active", act,
			 "Size", sz, "Reclaimable", rec);
}

/* docker's diskUsageImagesContext: what containers use is not reclaimable. */
static json_t *df_images_row(const json_t *df)
{
	json_t *images = json_object_get(df, "Images");
	int64_t total = json_integer_value(json_object_get(df, "LayersSize")), used = 0;
	size_t active = 0, i;
	json_t *img;
	json_array_foreach(images, i, img) {
		int64_t containers = json_integer_value(json_object_get(img, "Containers"));
		int64_t size = json_integer_value(json_object_get(img, "Size"));
		int64_t shared = json_integer_value(json_object_get(img, "SharedSize"));
		if (containers == 0)
			continue;
		active++;
		if (size != -1 && shared != -1)
			used += size - shared;
	}
	return df_row("Images", json_array_size(images), active, total, total - used);
}

/* docker's isActive: running, paused or restarting containers. */
static bool container_active(const json_t *c)
{
	const char *state = berth_cli_str(c, "State");
	return strstr(state, "running") || strstr(state, "paused") || strstr(state, "restarting");
}

static json_t *df_containers_row(const json_t *df)
{
	json_t *list = json_object_get(df, "Containers");
	int64_t size = 0, reclaimable = 0;
	size_t active = 0, i;
	json_t *c;
	json_array_foreach(list, i, c) {
		int64_t rw = json_integer_value(json_object_get(c, "SizeRw"));
		size += rw;
		if (container_active(c))
			active++;
		else
			reclaimable += rw;
	}
	return df_row("Containers", json_array_size(list), active, size, reclaimable);
}

static json_t *df_volumes_row(const json_t *df)
{
	json_t *list = json_object_get(df, "Volumes");
	int64_t size = 0, reclaimable = 0;
	size_t active = 0, i;
	json_t *v;
	json_array_foreach(list, i, v) {
		const json_t *usage = json_object_get(v, "UsageData");
		int64_t sz = json_integer_value(json_object_get(usage, "Size"));
		if (json_integer_value(json_object_get(usage, "RefCount")) > 0)
			active++;
		else if (sz > 0)
			reclaimable += sz;
		if (sz > 0)
			size += sz;
	}
	return df_row("Local Volumes", json_array_size(list), active, size, reclaimable);
}

/* df -v: images with their first tag only, as docker shows them. */
static json_t *df_image_rows(const json_t *df)
{
	json_t *rows = json_array();
	size_t i;
	json_t *img;
	json_array_foreach(json_object_get(df, "Images"), i, img) {
		const char *first = json_string_value(json_array_get(json_object_get(img, "RepoTags"), 0));
		const char *tag = "<none>";
		char *repo cleanup_free = first ? split_ref(first, ':', &tag) : berth_xstrdup("<none>");
		add_row(rows, img, repo, tag, "<none>", false);
	}
	return rows;
}

static json_t *df_container_rows(const json_t *df)
{
	json_t *rows = json_array();
	int64_t now = berth_time_now_ns();
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(df, "Containers"), i, c)
		json_array_append_new(rows, berth_cli_ps_row(c, true, now));
	return rows;
}

static json_t *df_volume_rows(const json_t *df)
{
	json_t *rows = json_array();
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(df, "Volumes"), i, v) {
		const json_t *usage = json_object_get(v, "UsageData");
		int64_t sz = json_integer_value(json_object_get(usage, "Size"));
		char *size cleanup_free = sz < 0 ? berth_xstrdup("N/A") : human_size(sz, 4);
		json_array_append_new(rows, json_pack("{s:s, s:I, s:s}", "Name", berth_cli_str(v, "Name"),
						      "Links", json_integer_value(json_object_get(usage, "RefCount")),
						      "Size", size));
	}
	return rows;
}

static const struct df_section {
	const char *title, *table, *header; /* header: {"Field": "COLUMN"} */
	json_t *(*rows)(const json_t *df);
} df_sections[] = {
	{"Images space usage:\n\n", DF_IMAGES_TABLE,
	 "{\"Repository\": \"REPOSITORY\", \"Tag\": \"TAG\", \"ID\": \"IMAGE ID\", "
	 "\"CreatedSince\": \"CREATED\", \"Size\": \"SIZE\", \"SharedSize\": \"SHARED SIZE\", "
	 "\"UniqueSize\": \"UNIQUE SIZE\", \"Containers\": \"CONTAINERS\"}",
	 df_image_rows},
	{"\nContainers space usage:\n\n", DF_CONTAINERS_TABLE,
	 "{\"ID\": \"CONTAINER ID\", \"Image\": \"IMAGE\", \"Command\": \"COMMAND\", "
	 "\"LocalVolumes\": \"LOCAL VOLUMES\", \"Size\": \"SIZE\", \"RunningFor\": \"CREATED\", "
	 "\"Status\": \"STATUS\", \"Names\": \"NAMES\"}",
	 df_container_rows},
	{"\nLocal Volumes space usage:\n\n", DF_VOLUMES_TABLE,
	 "{\"Name\": \"VOLUME NAME\", \"Links\": \"LINKS\", \"Size\": \"SIZE\"}", df_volume_rows},
};

static int df_verbose(berth_cli *cli, const json_t *df)
{
	int rc = BERTH_EXIT_OK;
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(df_sections) && rc == BERTH_EXIT_OK; i++) {
		const struct df_section *s = &df_sections[i];
		json_t *header cleanup_json = json_loads(s->header, 0, NULL);
		json_t *rows cleanup_json = s->rows(df);
		fputs(s->title, cli->out);
		rc = print_rows(cli, NULL, s->table, &df_context, header, rows);
	}
	/* berth has no build cache yet: docker's empty section */
	fputs("\nBuild cache usage: 0B\n\nCACHE ID   CACHE TYPE   SIZE      CREATED   LAST USED   "
	      "USAGE     SHARED\n", cli->out);
	fflush(cli->out);
	return rc;
}

int berth_cli_system_df(berth_invocation *inv)
{
	bool verbose = false;
	const char *format = NULL;
	berth_flag flags[] = {
		{"format", 0, BERTH_FLAG_STRING, &format, BERTH_TABLE_FORMAT_HELP, .type_name = "string"},
		{"verbose", 'v', BERTH_FLAG_BOOL, &verbose, "Show detailed information on space usage"},
	};
	int status;
	if (!berth_cli_parse(inv, flags, BERTH_ARRAY_SIZE(flags), &status))
		return status;
	json_t *df cleanup_json = NULL;
	berth_error *err cleanup_error = NULL;
	if (berth_cli_call(inv->cli, "GET", "/system/df", NULL, &df, &err) < 0)
		return fail(inv->cli, &err);
	if (verbose)
		return df_verbose(inv->cli, df);
	json_t *rows cleanup_json = json_array();
	json_array_append_new(rows, df_images_row(df));
	json_array_append_new(rows, df_containers_row(df));
	json_array_append_new(rows, df_volumes_row(df));
	json_array_append_new(rows, df_row("Build Cache", 0, 0, 0, 0));
	json_t *header cleanup_json = json_pack("{s:s, s:s, s:s, s:s, s:s}", "Type", "TYPE",
						"TotalCount", "TOTAL", "Active", "ACTIVE", "Size",
						"SIZE", "Reclaimable", "RECLAIMABLE");
	return print_rows(inv->cli, format, DF_TABLE, &df_context, header, rows);
}

/* ---------------------------------------------------------------- tables */

const berth_command berth_cli_image_commands[] = {
	BERTH_CLI_BUILD_ROW(NULL),
	BERTH_CLI_PULL_ROW(NULL),
	BERTH_CLI_PUSH_ROW(NULL),
	{"history", "[OPTIONS] IMAGE", "Show the history of an image",
	 "berth image history, berth history", NULL, 1, 1, berth_cli_image_history, NULL},
	{"import", "[OPTIONS] file|URL|- [REPOSITORY[:TAG]]",
	 "Import the contents from a tarball to create a filesystem image",
	 "berth image import, berth import", NULL, 1, 2, berth_cli_image_import, NULL},
	{"inspect", "[OPTIONS] IMAGE [IMAGE...]", "Display detailed information on one or more "
						   "images", NULL, NULL, 1, -1, berth_cli_typed_inspect, NULL},
	{"load", "[OPTIONS]", "Load an image from a tar archive or STDIN",
	 "berth image load, berth load", NULL, 0, 0, berth_cli_image_load, NULL},
	{"ls", "[OPTIONS] [REPOSITORY[:TAG]]", "List images",
	 "berth image ls, berth image list, berth images", NULL, 0, 1, berth_cli_images, NULL},
	{"prune", "[OPTIONS]", "Remove unused images", NULL, NULL, 0, 0, image_prune, NULL},
	{"rm", "[OPTIONS] IMAGE [IMAGE...]", "Remove one or more images",
	 "berth image rm, berth image remove, berth rmi", NULL, 1, -1, berth_cli_rmi, NULL},
	{"save", "[OPTIONS] IMAGE [IMAGE...]",
	 "Save one or more images to a tar archive (streamed to STDOUT by default)",
	 "berth image save, berth save", NULL, 1, -1, berth_cli_image_save, NULL},
	{"tag", "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
	 "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE", "berth image tag, berth tag",
	 NULL, 2, 2, berth_cli_image_tag, NULL},
	{0},
};
