/*
 * inspect.c - `berth inspect` (any object: container, then image, network,
 * volume, as docker tries them) and `berth container inspect`: the daemon's
 * documents as an indented JSON array, compact with --format json, or
 * through a template.
 */
#include <stdlib.h>
#include <string.h>

#include "container.h"

typedef struct object_type {
	const char *name;
	const char *path_fmt; /* with the url-encoded reference */
	bool sized;           /* takes ?size=1 */
} object_type;

static const object_type types[] = {
	{"container", "/containers/%s/json", true},
	{"image", "/images/%s/json", false},
	{"network", "/networks/%s", false},
	{"volume", "/volumes/%s", false},
};

static const char *const all_types =
	"config\", \"container\", \"image\", \"network\", \"node\", \"plugin\", \"secret\", "
	"\"service\", \"task\", \"volume";

static bool known_type(const char *type)
{
	static const char *const names[] = {"config", "container", "image", "network", "node",
					    "plugin", "secret", "service", "task", "volume"};
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(names); i++)
		if (strcmp(names[i], type) == 0)
			return true;
	return false;
}

typedef struct inspect_opts {
	const char *format, *type;
	bool size;
} inspect_opts;

static int get_object(berth_cli *cli, const object_type *t, const char *ref, bool size,
		      json_t **out, berth_error **err)
{
	char *enc cleanup_free = berth_url_encode(ref);
	char *base cleanup_free = berth_xasprintf(t->path_fmt, enc);
	char *path cleanup_free = berth_xasprintf("%s%s", base, size && t->sized ? "?size=1" : "");
	return berth_cli_call(cli, "GET", path, NULL, out, err);
}

/* docker's inspectAll: the first type that knows ref; NotFound moves on. */
static int find_object(berth_cli *cli, const inspect_opts *o, const char *ref, json_t **out,
		       const char **found_type, berth_error **err)
{
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(types); i++) {
		const object_type *t = &types[i];
		if (o->type && *o->type && strcmp(o->type, t->name) != 0)
			continue;
		berth_error *e = NULL;
		if (get_object(cli, t, ref, o->size, out, &e) == 0) {
			if (o->size && !t->sized)
				fprintf(cli->err, "WARNING: --size ignored for %s\n", t->name);
			*found_type = t->name;
			return 0;
		}
		bool skip = !(o->type && *o->type) &&
			    (e->status == 404 || strstr(e->msg, "not supported") ||
			     strstr(e->msg, "invalid reference format"));
		if (!skip)
			return berth_error_propagate(&e, err);
		berth_error_free(&e);
	}
	if (o->type && *o->type)
		return berth_error_set(err, 404, "Error: No such %s: %s", o->type, ref);
	return berth_error_set(err, 404, "Error: No such object: %s", ref);
}

/* docker's inspect.Inspect: every element, then the errors. Templates run
 * on the object's Go type first, then on the raw document with
 * missingkey=error where that fails, as docker's fallback does. */
int berth_cli_inspect_objects(berth_cli *cli, const berth_strlist *refs, const char *format,
			      const char *type, bool size)
{
	berth_format fmt cleanup_format = {.missingkey_error = true};
	bool json = format && strcmp(format, "json") == 0;
	int status;
	if (format && *format && !json &&
	    (status = berth_cli_format_init(cli, &fmt, format)) != BERTH_EXIT_OK)
		return status;
	fmt.missingkey_error = true;
	inspect_opts o = {.type = type, .size = size};
	json_t *found cleanup_json = json_array();
	berth_buf out cleanup_buf = {0};
	berth_strlist errors cleanup_strlist = {0};
	for (size_t i = 0; i < refs->n; i++) {
		json_t *obj = NULL;
		const char *found_type = NULL;
		berth_error *e cleanup_error = NULL;
		if (find_object(cli, &o, refs->v[i], &obj, &found_type, &e) < 0) {
			berth_strlist_push(&errors, e->msg);
			continue;
		}
		fmt.go_type = berth_cli_inspect_go_type(found_type);
		if (fmt.tmpl && berth_format_row(&fmt, obj, &out, &e) < 0) {
			berth_error_wrap(&e, "template parsing error");
			berth_strlist_push(&errors, e->msg);
		}
		if (obj)
			json_array_append_new(found, obj);
	}
	if (fmt.tmpl) {
		if (out.len == 0)
			berth_buf_puts(&out, "\n");
	} else {
		char *text = json_dumps(found, JSON_PRESERVE_ORDER |
					       (json ? JSON_COMPACT : JSON_INDENT(4)));
		berth_buf_printf(&out, "%s\n", text);
		free(text);
	}
	berth_cli_write(cli, &out);
	return berth_cli_report_errors(cli, &errors);
}

int berth_cli_inspect(berth_invocation *inv)
{
	inspect_opts o = {0};
	berth_flag flags[] = {
		{"format", 'f', BERTH_FLAG_STRING, &o.format, BERTH_FORMAT_HELP},
		{"size", 's', BERTH_FLAG_BOOL, &o.size, "Display total file sizes if the type is container"},
		{"type", 0, BERTH_FLAG_STRING, &o.type, "Only inspect objects of the given type"},
	};
	int status;
	if (!berth_cli_parse(inv, flags, BERTH_ARRAY_SIZE(flags), &status))
		return status;
	if (flags[2].changed && (o.type == NULL || *o.type == '\0')) {
		fprintf(inv->cli->err, "type is empty: must be one of \"%s\"\n", all_types);
		return BERTH_EXIT_ERROR;
	}
	if (o.type && *o.type && !known_type(o.type)) {
		fprintf(inv->cli->err, "unknown type: \"%s\": must be one of \"%s\"\n", o.type,
			all_types);
		return BERTH_EXIT_ERROR;
	}
	return berth_cli_inspect_objects(inv->cli, &inv->args, o.format, o.type, o.size);
}

/* `container inspect`, `image inspect`, `volume inspect`: one type, and
 * --size for containers only. */
int berth_cli_typed_inspect(berth_invocation *inv)
{
	inspect_opts o = {0};
	berth_flag flags[] = {
		{"format", 'f', BERTH_FLAG_STRING, &o.format, BERTH_FORMAT_HELP},
		{"size", 's', BERTH_FLAG_BOOL, &o.size, "Display total file sizes"},
	};
	/* the group's name: "berth image inspect" */
	const char *group = inv->path + strlen("berth ");
	const char *type = berth_str_has_prefix(group, "container ") ? "container"
			   : berth_str_has_prefix(group, "image ")   ? "image"
								     : "volume";
	bool container = strcmp(type, "container") == 0;
	int status;
	if (!berth_cli_parse(inv, flags, container ? 2 : 1, &status))
		return status;
	return berth_cli_inspect_objects(inv->cli, &inv->args, o.format, type, o.size);
}
