/* volume.c - `berth volume create|inspect|ls|prune|rm`, docker's output and errors. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"

#define VOLUME_TABLE "table {{.Driver}}\t{{.Name}}"

/* ---------------------------------------------------------------- helpers */

static char *escaped(const char *s)
{
	return berth_url_encode(s);
}



static int fail(berth_cli *cli, berth_error **err)
{
	return berth_cli_fail(cli, err, BERTH_EXIT_ERROR);
}

/* ----------------------------------------------------------------- create */

static int volume_create(berth_invocation *inv)
{
	const char *driver = "local";
	berth_strlist labels cleanup_strlist = {0}, opts cleanup_strlist = {0};
	berth_flag flags[] = {
		{"driver", 'd', BERTH_FLAG_STRING, &driver, "Specify volume driver name",
		 .def = "\"local\""},
		{"label", 0, BERTH_FLAG_LIST, &labels, "Set metadata for a volume",
		 .type_name = "list"},
		{"opt", 'o', BERTH_FLAG_LIST, &opts, "Set driver specific options",
		 .type_name = "map", .def = "map[]"},
	};
	int status;
	if (!berth_cli_parse(inv, flags, BERTH_ARRAY_SIZE(flags), &status))
		return status;
	json_t *body cleanup_json = json_pack(
		"{s:s, s:s, s:o, s:o}", "Name", inv->args.n ? inv->args.v[0] : "", "Driver", driver,
		"DriverOpts", berth_cli_kv_object(&opts), "Labels", berth_cli_kv_object(&labels));
	json_t *vol cleanup_json = NULL;
	berth_error *err cleanup_error = NULL;
	if (berth_cli_call(inv->cli, "POST", "/volumes/create", body, &vol, &err) < 0)
		return fail(inv->cli, &err);
	fprintf(inv->cli->out, "%s\n", berth_cli_str(vol, "Name"));
	return BERTH_EXIT_OK;
}

/* ---------------------------------------------------------------- inspect */

/* --------------------------------------------------------------------- ls */

/* The fields docker's volume formatter offers templates. */
static json_t *row_of(const json_t *vol, const void *ud)
{
	char *labels cleanup_free = berth_cli_joined_keys(json_object_get(vol, "Labels"), true);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Availability",
			 "N/A", "Driver", berth_cli_str(vol, "Driver"), "Group", "N/A", "Labels",
			 labels, "Links", "N/A", "Mountpoint", berth_cli_str(vol, "Mountpoint"),
			 "Name", berth_cli_str(vol, "Name"), "Scope", berth_cli_str(vol, "Scope"),
			 "Size", "N/A", "Status", "N/A");
}

static json_t *headers(void)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Availability",
			 "AVAILABILITY", "Driver", "DRIVER", "Group", "GROUP", "Labels", "LABELS",
			 "Links", "LINKS", "Mountpoint", "MOUNTPOINT", "Name", "VOLUME NAME",
			 "Scope", "SCOPE", "Size", "SIZE", "Status", "STATUS");
}

static const berth_template_type volume_context = {"*formatter.volumeContext", true, NULL,
						    berth_cli_label_method};

static int volume_ls(berth_invocation *inv)
{
	const char *format = NULL;
	bool quiet = false;
	berth_strlist filters cleanup_strlist = {0};
	berth_flag flags[] = {
		{"filter", 'f', BERTH_FLAG_LIST, &filters,
		 "Provide filter values (e.g. \"dangling=true\")", .type_name = "filter",
		 .check = berth_cli_filter_check},
		{"format", 0, BERTH_FLAG_STRING, &format, BERTH_TABLE_FORMAT_HELP},
		{"quiet", 'q', BERTH_FLAG_BOOL, &quiet, "Only display volume names"},
	};
	int status;
	if (!berth_cli_parse(inv, flags, BERTH_ARRAY_SIZE(flags), &status))
		return status;
	json_t *hdr cleanup_json = headers();
	berth_named_list l = {"/volumes", "Volumes", &filters, format, "volumesFormat", quiet,
			      VOLUME_TABLE, "{{.Name}}", &volume_context, hdr, row_of, NULL};
	return berth_cli_print_named_list(inv->cli, &l);
}

/* --------------------------------------------------------------------- rm */

static int volume_rm(berth_invocation *inv)
{
	bool force = false;
	berth_flag flags[] = {
		{"force", 'f', BERTH_FLAG_BOOL, &force, "Force the removal of one or more volumes"},
	};
	int status;
	if (!berth_cli_parse(inv, flags, BERTH_ARRAY_SIZE(flags), &status))
		return status;
	berth_buf errors cleanup_buf = {0};
	for (size_t i = 0; i < inv->args.n; i++) {
		char *name cleanup_free = escaped(inv->args.v[i]);
		char *path cleanup_free =
			berth_xasprintf("/volumes/%s%s", name, force ? "?force=1" : "");
		berth_error *err cleanup_error = NULL;
		if (berth_cli_call(inv->cli, "DELETE", path, NULL, NULL, &err) < 0)
			berth_buf_printf(&errors, "%s%s", errors.len ? "\n" : "", err->msg);
		else
			fprintf(inv->cli->out, "%s\n", inv->args.v[i]);
	}
	fflush(inv->cli->out);
	if (errors.len == 0)
		return BERTH_EXIT_OK;
	fprintf(inv->cli->err, "%s\n", errors.data);
	return BERTH_EXIT_ERROR;
}

/* ------------------------------------------------------------------ prune */

static const char unused_warning[] =
	"WARNING! This will remove anonymous local volumes not used by at least one container.\n"
	"Are you sure you want to continue?";
static const char all_warning[] =
	"WARNING! This will remove all local volumes not used by at least one container.\n"
	"Are you sure you want to continue?";

static int volume_prune(berth_invocation *inv)
{
	bool all = false, force = false;
	berth_strlist filters cleanup_strlist = {0};
	berth_flag flags[] = {
		{"all", 'a', BERTH_FLAG_BOOL, &all,
		 "Remove all unused volumes, not just anonymous ones"},
		{"filter", 0, BERTH_FLAG_LIST, &filters,
		 "Provide filter values (e.g. \"label=<label>\")", .type_name = "filter",
		 .check = berth_cli_filter_check},
		{"force", 'f', BERTH_FLAG_BOOL, &force, "Do not prompt for confirmation"},
	};
	int status;
	if (!berth_cli_parse(inv, flags, BERTH_ARRAY_SIZE(flags), &status))
		return status;
	berth_filters *f cleanup_filters = berth_cli_filters_parse(&filters);
	berth_error *err cleanup_error = NULL;
	if (all && berth_filters_get(f, "all")) {
		berth_error_set(
			&err, 400,
			"conflicting options: cannot specify both --all and --filter all=1");
		return fail(inv->cli, &err);
	}
	if (all)
		berth_filters_add(f, "all", "true");
	if (!force && !berth_cli_confirm(inv->cli, all ? all_warning : unused_warning))
		return BERTH_EXIT_OK;
	return berth_cli_prune(inv->cli, BERTH_PRUNE_VOLUMES, f);
}

const berth_command berth_cli_volume_commands[] = {
	{"create", "[OPTIONS] [VOLUME]", "Create a volume", NULL, NULL, 0, 1, volume_create, NULL},
	{"inspect", "[OPTIONS] VOLUME [VOLUME...]",
	 "Display detailed information on one or more volumes", NULL, NULL, 1, -1, berth_cli_typed_inspect,
	 NULL},
	{"ls", "[OPTIONS]", "List volumes", "berth volume ls, berth volume list", NULL, 0, 0, volume_ls,
	 NULL},
	{"prune", "[OPTIONS]", "Remove unused local volumes", NULL, NULL, 0, 0, volume_prune, NULL},
	{"rm", "[OPTIONS] VOLUME [VOLUME...]", "Remove one or more volumes",
	 "berth volume rm, berth volume remove", NULL, 1, -1,
	 volume_rm, NULL},
	{0},
};
