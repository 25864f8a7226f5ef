/*
 * ps.c - `berth ps` / `berth container ls`: GET /containers/json rendered as
 * docker's ContainerContext (the fields its templates and `--format json`
 * see), in docker's table by default.
 */
#include <stdlib.h>
#include <string.h>

#include "container.h"

#define PS_TABLE "{{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"

/* ---------------------------------------------------------------- fields */

/* docker's formatter.Ellipsis for text of single-width runes. */
char *berth_cli_ellipsis(const char *s, size_t max)
{
	size_t runes = 0, cut = 0;
	for (const char *p = s; *p; p++) {
		if (((unsigned char)*p & 0xC0) == 0x80)
			continue;
		if (runes == max - 1)
			cut = (size_t)(p - s);
		runes++;
	}
	if (runes <= max)
		return berth_xstrdup(s);
	return berth_xasprintf("%.*s\xe2\x80\xa6", (int)cut, s);
}

/* Go's strconv.Quote for the text commands are made of. */
char *berth_cli_go_quote(const char *s)
{
	berth_buf b = {0};
	berth_buf_puts(&b, "\"");
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		static const char esc[] = "\a\b\f\n\r\t\v", names[] = "abfnrtv";
		const char *e = *p ? strchr(esc, *p) : NULL;
		if (*p == '"' || *p == '\\')
			berth_buf_printf(&b, "\\%c", *p);
		else if (e)
			berth_buf_printf(&b, "\\%c", names[e - esc]);
		else if (*p < 0x20 || *p == 0x7f)
			berth_buf_printf(&b, "\\x%02x", *p);
		else
			berth_buf_append(&b, p, 1);
	}
	berth_buf_puts(&b, "\"");
	return berth_buf_steal(&b);
}

/* "Exited (0) 5 seconds ago" comes from the daemon; "5 seconds ago" is ours. */
char *berth_cli_running_for(int64_t created, int64_t now_ns)
{
	char human[64];
	berth_human_duration(now_ns - created * 1000000000LL, human, sizeof(human));
	return berth_xasprintf("%s ago", human);
}

static const char *names_field(const json_t *c, bool trunc, berth_buf *out)
{
	size_t i;
	json_t *n;
	json_array_foreach(json_object_get(c, "Names"), i, n) {
		const char *name = json_string_value(n);
		if (name == NULL)
			continue;
		if (*name == '/')
			name++;
		if (trunc) {
			if (strchr(name, '/') == NULL) {
				berth_buf_puts(out, name);
				break;
			}
			continue;
		}
		berth_buf_printf(out, "%s%s", out->len ? "," : "", name);
	}
	return out->data ? out->data : "";
}

/* docker's ContainerContext.Image: short IDs, digests dropped, familiar names. */
static char *image_field(const json_t *c, bool trunc)
{
	const char *image = berth_cli_str(c, "Image");
	if (*image == '\0')
		return berth_xstrdup("<no image>");
	if (!trunc)
		return berth_xstrdup(image);
	char *short_image cleanup_free = berth_cli_short_id(strchr(image, ':') ? strchr(image, ':') + 1 : image);
	char *short_id cleanup_free = berth_cli_short_id(berth_cli_str(c, "ImageID"));
	if (strcmp(short_image, short_id) == 0)
		return berth_xstrdup(short_id);
	const char *at = strchr(image, '@');
	char *ref = at ? berth_xstrndup(image, (size_t)(at - image)) : berth_xstrdup(image);
	const char *n = ref;
	if (berth_str_has_prefix(n, "docker.io/"))
		n += strlen("docker.io/");
	if (berth_str_has_prefix(n, "library/") && strchr(n + 8, '/') == NULL)
		n += strlen("library/");
	char *out = berth_xstrdup(n);
	free(ref);
	return out;
}

static char *mounts_field(const json_t *c, bool trunc, int *local)
{
	berth_buf b = {0};
	size_t i;
	json_t *m;
	*local = 0;
	json_array_foreach(json_object_get(c, "Mounts"), i, m) {
		const char *name = berth_cli_str(m, "Name");
		if (*name == '\0')
			name = berth_cli_str(m, "Source");
		char *shown cleanup_free = trunc ? berth_cli_ellipsis(name, 15) : berth_xstrdup(name);
		berth_buf_printf(&b, "%s%s", i ? "," : "", shown);
		if (strcmp(berth_cli_str(m, "Driver"), "local") == 0)
			(*local)++;
	}
	return berth_buf_steal(&b);
}

/* ----------------------------------------------------------------- ports */

typedef struct port {
	const char *ip, *type;
	long private_port, public_port;
} port;

static int port_cmp(const void *a, const void *b)
{
	const port *x = a, *y = b;
	if (x->private_port != y->private_port)
		return x->private_port < y->private_port ? -1 : 1;
	int c = strcmp(x->ip, y->ip);
	if (c)
		return c;
	if (x->public_port != y->public_port)
		return x->public_port < y->public_port ? -1 : 1;
	return strcmp(x->type, y->type);
}

/* net.JoinHostPort */
static void host_port(berth_buf *b, const char *ip, const char *port)
{
	if (strchr(ip, ':'))
		berth_buf_printf(b, "[%s]:%s", ip, port);
	else
		berth_buf_printf(b, "%s:%s", ip, port);
}

typedef struct port_group {
	char *key; /* "tcp" or "ip/tcp" */
	long first, last;
} port_group;

static void form_group(berth_buf *out, const port_group *g)
{
	const char *slash = strrchr(g->key, '/');
	char range[32];
	if (g->first != g->last)
		snprintf(range, sizeof(range), "%ld-%ld", g->first, g->last);
	else
		snprintf(range, sizeof(range), "%ld", g->first);
	if (out->len)
		berth_buf_puts(out, ", ");
	if (slash) {
		char *ip cleanup_free = berth_xstrndup(g->key, (size_t)(slash - g->key));
		host_port(out, ip, range);
		berth_buf_printf(out, "->%s/%s", range, slash + 1);
	} else {
		berth_buf_printf(out, "%s/%s", range, g->key);
	}
}

/* docker's DisplayablePorts: consecutive ports grouped into ranges, host
 * mappings to other ports listed last. */
char *berth_cli_displayable_ports(const json_t *ports)
{
	size_t n = json_is_array(ports) ? json_array_size(ports) : 0;
	port *p = berth_xcalloc(n + 1, sizeof(*p));
	port_group *groups = berth_xcalloc(n + 1, sizeof(*groups));
	size_t ngroups = 0;
	for (size_t i = 0; i < n; i++) {
		const json_t *j = json_array_get(ports, i);
		p[i] = (port){berth_cli_str(j, "IP"), berth_cli_str(j, "Type"),
			      (long)json_integer_value(json_object_get(j, "PrivatePort")),
			      (long)json_integer_value(json_object_get(j, "PublicPort"))};
	}
	qsort(p, n, sizeof(*p), port_cmp);
	berth_buf result = {0}, mappings cleanup_buf = {0};
	for (size_t i = 0; i < n; i++) {
		char *key = berth_xstrdup(p[i].type);
		if (*p[i].ip && p[i].public_port != p[i].private_port) {
			char pub[24];
			snprintf(pub, sizeof(pub), "%ld", p[i].public_port);
			berth_buf_puts(&mappings, mappings.len ? ", " : "");
			host_port(&mappings, p[i].ip, pub);
			berth_buf_printf(&mappings, "->%ld/%s", p[i].private_port, p[i].type);
			free(key);
			continue;
		}
		if (*p[i].ip) {
			free(key);
			key = berth_xasprintf("%s/%s", p[i].ip, p[i].type);
		}
		port_group *g = NULL;
		for (size_t k = 0; k < ngroups; k++)
			if (strcmp(groups[k].key, key) == 0)
				g = &groups[k];
		if (g == NULL) {
			groups[ngroups++] = (port_group){key, p[i].private_port, p[i].private_port};
			continue;
		}
		free(key);
		if (p[i].private_port == g->last + 1) {
			g->last = p[i].private_port;
			continue;
		}
		form_group(&result, g);
		g->first = g->last = p[i].private_port;
	}
	for (size_t k = 0; k < ngroups; k++) {
		form_group(&result, &groups[k]);
		free(groups[k].key);
	}
	if (mappings.len)
		berth_buf_printf(&result, "%s%s", result.len ? ", " : "", mappings.data);
	free(groups);
	free(p);
	return berth_buf_steal(&result);
}

/* -------------------------------------------------------------- the row */

/* A JSON string that takes over s. */
static json_t *own(char *s)
{
	json_t *j = json_string(s);
	free(s);
	return j;
}

/* docker's TruncateID: what follows the first ':', 12 characters of it. */
static char *truncate_id(const char *id)
{
	const char *colon = strchr(id, ':');
	return berth_xstrndup(colon ? colon + 1 : id, 12);
}

/* One container as docker's ContainerContext shows it (keys in the order
 * of its MarshalJSON). */
json_t *berth_cli_ps_row(const json_t *c, bool trunc, int64_t now_ns)
{
	const char *id = berth_cli_str(c, "Id");
	int64_t created = json_integer_value(json_object_get(c, "Created"));
	const char *command = berth_cli_str(c, "Command");
	char *cmd cleanup_free = trunc ? berth_cli_ellipsis(command, 20) : berth_xstrdup(command);
	berth_buf names cleanup_buf = {0};
	int local = 0;
	char *mounts = mounts_field(c, trunc, &local);
	char size[64], virt[64];
	berth_human_size(json_integer_value(json_object_get(c, "SizeRw")), 3, size, sizeof(size));
	json_int_t rootfs = json_integer_value(json_object_get(c, "SizeRootFs"));
	berth_human_size(rootfs, 3, virt, sizeof(virt));
	const json_t *networks = json_object_get(json_object_get(c, "NetworkSettings"), "Networks");
	json_t *row = json_object();
	json_object_set_new(row, "Command", own(berth_cli_go_quote(cmd)));
	json_object_set_new(row, "CreatedAt", own(berth_time_go_string(created * 1000000000LL)));
	json_object_set_new(row, "ID", own(trunc ? truncate_id(id) : berth_xstrdup(id)));
	json_object_set_new(row, "Image", own(image_field(c, trunc)));
	json_object_set_new(row, "Labels", own(berth_cli_joined_keys(json_object_get(c, "Labels"), true)));
	json_object_set_new(row, "LocalVolumes", json_sprintf("%d", local));
	json_object_set_new(row, "Mounts", own(mounts));
	json_object_set_new(row, "Names", json_string(names_field(c, trunc, &names)));
	json_object_set_new(row, "Networks", own(berth_cli_joined_keys(networks, false)));
	const json_t *platform = json_object_get(json_object_get(c, "ImageManifestDescriptor"),
						 "platform");
	json_object_set_new(row, "Platform", platform ? json_deep_copy(platform) : json_null());
	json_object_set_new(row, "Ports", own(berth_cli_displayable_ports(json_object_get(c, "Ports"))));
	json_object_set_new(row, "RunningFor", own(berth_cli_running_for(created, now_ns)));
	json_object_set_new(row, "Size", rootfs > 0 ? json_sprintf("%s (virtual %s)", size, virt)
						    : json_string(size));
	json_object_set_new(row, "State", json_string(berth_cli_str(c, "State")));
	json_object_set_new(row, "Status", json_string(berth_cli_str(c, "Status")));
	return row;
}

static const berth_template_type ps_context = {"*formatter.ContainerContext", true, NULL,
						berth_cli_label_method};

static json_t *ps_headers(void)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
			 "ID", "CONTAINER ID", "Names", "NAMES", "Image", "IMAGE", "Command",
			 "COMMAND", "CreatedAt", "CREATED AT", "RunningFor", "CREATED", "Ports",
			 "PORTS", "State", "STATE", "Status", "STATUS", "Size", "SIZE", "Labels",
			 "LABELS", "Mounts", "MOUNTS", "LocalVolumes", "LOCAL VOLUMES", "Networks",
			 "NETWORKS");
}

/* ------------------------------------------------------------ berth ps */

typedef struct ps_opts {
	bool all, latest, no_trunc, quiet, size;
	const char *format, *last;
	berth_strlist filters;
} ps_opts;

static int check_int(const char *v, berth_error **err)
{
	int64_t n;
	return berth_cli_parse_int(v, &n, err);
}

static char *ps_query(const ps_opts *o, bool size)
{
	berth_buf q = {0};
	int64_t last = -1;
	if (o->last)
		berth_cli_parse_int(o->last, &last, NULL);
	if (o->latest && last == -1)
		last = 1;
	if (o->all)
		berth_buf_puts(&q, "?all=1");
	if (last > 0)
		berth_buf_printf(&q, "%slimit=%lld", q.len ? "&" : "?", (long long)last);
	if (size)
		berth_buf_printf(&q, "%ssize=1", q.len ? "&" : "?");
	berth_cli_filters_query(&o->filters, &q);
	char *path = berth_xasprintf("/containers/json%s", q.data ? q.data : "");
	berth_buf_reset(&q);
	return path;
}

/* The format spec: --format, the config's psFormat, or the table; -q wins. */
static const char *ps_spec(berth_cli *cli, const ps_opts *o, char **config_format)
{
	if (o->quiet)
		return "{{.ID}}";
	if (o->format && *o->format)
		return o->format;
	*config_format = berth_cli_config_string(cli, "psFormat");
	return *config_format ? *config_format : "table";
}

static int ps_render(berth_cli *cli, const json_t *list, berth_format *fmt, bool trunc)
{
	berth_buf out cleanup_buf = {0};
	berth_error *err cleanup_error = NULL;
	json_t *headers cleanup_json = ps_headers();
	if (berth_format_header(fmt, headers, &err) < 0)
		return berth_cli_fail(cli, &err, BERTH_EXIT_ERROR);
	int64_t now = berth_time_now_ns();
	size_t i;
	json_t *c;
	json_array_foreach(list, i, c) {
		json_t *row cleanup_json = berth_cli_ps_row(c, trunc, now);
		if (berth_format_row_aux(fmt, row, c, &out, &err) < 0) {
			berth_error_wrap(&err, "failed to execute template");
			return berth_cli_fail(cli, &err, BERTH_EXIT_ERROR);
		}
	}
	berth_format_flush(fmt, &out);
	berth_cli_write(cli, &out);
	return BERTH_EXIT_OK;
}

int berth_cli_ps(berth_invocation *inv)
{
	ps_opts o = {0};
	berth_flag flags[] = {
		{"all", 'a', BERTH_FLAG_BOOL, &o.all, "Show all containers (default shows just running)"},
		{"filter", 'f', BERTH_FLAG_LIST, &o.filters, "Filter output based on conditions provided",
		 "filter", .check = berth_cli_filter_check},
		{"format", 0, BERTH_FLAG_STRING, &o.format, BERTH_TABLE_FORMAT_HELP},
		{"last", 'n', BERTH_FLAG_STRING, &o.last,
		 "Show n last created containers (includes all states)", "int", "-1",
		 .check = check_int},
		{"latest", 'l', BERTH_FLAG_BOOL, &o.latest,
		 "Show the latest created container (includes all states)"},
		{"no-trunc", 0, BERTH_FLAG_BOOL, &o.no_trunc, "Don't truncate output"},
		{"quiet", 'q', BERTH_FLAG_BOOL, &o.quiet, "Only display container IDs"},
		{"size", 's', BERTH_FLAG_BOOL, &o.size, "Display total file sizes"},
	};
	int status;
	if (!berth_cli_parse(inv, flags, BERTH_ARRAY_SIZE(flags), &status)) {
		berth_strlist_reset(&o.filters);
		return status;
	}
	berth_cli *cli = inv->cli;
	if (o.quiet && o.format && *o.format)
		fputs("WARNING: Ignoring custom format, because both --format and --quiet are set.\n",
		      cli->err);
	char *config_format cleanup_free = NULL;
	const char *spec = ps_spec(cli, &o, &config_format);
	berth_format fmt cleanup_format = {0};
	berth_error *err cleanup_error = NULL;
	char *table cleanup_free = berth_xasprintf("%s%s", PS_TABLE, o.size ? "\t{{.Size}}" : "");
	/* a template that reads .Size asks for sizes, unless --size=false said
	 * no: `{{json .}}` reads every field, as docker's template pre-run finds
	 * (its --format json does not ask) */
	bool reads_size = strstr(spec, ".Size") || strstr(spec, "json .");
	bool size = o.size || (!o.quiet && !flags[7].changed && reads_size);
	if (berth_format_init(&fmt, spec, table, &err) < 0) {
		berth_error_wrap(&err, "failed to parse template");
		berth_strlist_reset(&o.filters);
		return berth_cli_fail(cli, &err, BERTH_EXIT_ERROR);
	}
	fmt.type = &ps_context;
	char *path cleanup_free = ps_query(&o, size);
	berth_strlist_reset(&o.filters);
	json_t *list cleanup_json = NULL;
	if (berth_cli_get_json(cli, path, &list, &err) < 0)
		return berth_cli_fail(cli, &err, BERTH_EXIT_ERROR);
	return ps_render(cli, list, &fmt, !o.no_trunc);
}
