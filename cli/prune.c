/*
 * prune.c - `container prune`, `system prune`, and what every prune shares:
 * docker's confirmation prompt, the call to POST /<kind>/prune and its
 * "Deleted ...:" report.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"

bool berth_cli_confirm(berth_cli *cli, const char *message)
{
	fprintf(cli->out, "%s [y/N] ", message);
	fflush(cli->out);
	char line[64] = "";
	if (fgets(line, sizeof(line), stdin) == NULL)
		return false;
	char *p = line;
	while (isspace((unsigned char)*p))
		p++;
	size_t n = strlen(p);
	while (n > 0 && isspace((unsigned char)p[n - 1]))
		p[--n] = '\0';
	return strcasecmp(p, "y") == 0;
}

/* What each prune endpoint answers and how docker titles it. */
typedef struct prune_kind {
	const char *path;  /* "/containers/prune" */
	const char *key;   /* "ContainersDeleted" */
	const char *title; /* "Deleted Containers:" */
} prune_kind;

static const prune_kind kinds[] = {
	[BERTH_PRUNE_CONTAINERS] = {"/containers/prune", "ContainersDeleted", "Deleted Containers:"},
	[BERTH_PRUNE_NETWORKS] = {"/networks/prune", "NetworksDeleted", "Deleted Networks:"},
	[BERTH_PRUNE_VOLUMES] = {"/volumes/prune", "VolumesDeleted", "Deleted Volumes:"},
	[BERTH_PRUNE_IMAGES] = {"/images/prune", "ImagesDeleted", "Deleted Images:"},
	[BERTH_PRUNE_BUILD_CACHE] = {"/build/prune", "CachesDeleted",
				     "Deleted build cache objects:"},
};

/* One prune: its report into out (a title and one line per object, then a
 * blank line), its reclaimed bytes added to *reclaimed. */
static int prune_one(berth_cli *cli, const prune_kind *k, const berth_filters *f,
		     int64_t *reclaimed, berth_buf *out, berth_error **err)
{
	char *param cleanup_free = berth_cli_filters_param(f, '?');
	char *path cleanup_free = berth_xasprintf("%s%s", k->path, param);
	json_t *report cleanup_json = NULL;
	if (berth_cli_call(cli, "POST", path, NULL, &report, err) < 0)
		return -1;
	const json_t *deleted = json_object_get(report, k->key);
	*reclaimed += json_integer_value(json_object_get(report, "SpaceReclaimed"));
	if (json_array_size(deleted) == 0)
		return 0;
	berth_buf_printf(out, "%s\n", k->title);
	size_t i;
	json_t *d;
	json_array_foreach(deleted, i, d) {
		if (json_is_string(d))
			berth_buf_printf(out, "%s\n", json_string_value(d));
		else if (berth_json_string(d, "Untagged"))
			berth_buf_printf(out, "untagged: %s\n", berth_cli_str(d, "Untagged"));
		else
			berth_buf_printf(out, "deleted: %s\n", berth_cli_str(d, "Deleted"));
	}
	berth_buf_puts(out, "\n");
	return 0;
}

static void print_total(berth_cli *cli, berth_buf *out, int64_t reclaimed)
{
	char size[32];
	berth_human_size(reclaimed, 4, size, sizeof(size));
	berth_buf_printf(out, "Total reclaimed space: %s\n", size);
	berth_cli_write(cli, out);
}

typedef struct prune_step {
	berth_prune_kind kind;
	const berth_filters *filters;
} prune_step;

/* The prunes in turn; the first failure ends it, as docker's system prune. */
static int prune_steps(berth_cli *cli, const prune_step *steps, size_t n)
{
	berth_buf out cleanup_buf = {0};
	berth_error *err cleanup_error = NULL;
	int64_t reclaimed = 0;
	for (size_t i = 0; i < n; i++) {
		if (prune_one(cli, &kinds[steps[i].kind], steps[i].filters, &reclaimed, &out,
			      &err) < 0) {
			berth_cli_write(cli, &out);
			return berth_cli_fail(cli, &err, BERTH_EXIT_ERROR);
		}
	}
	print_total(cli, &out, reclaimed);
	return BERTH_EXIT_OK;
}

int berth_cli_prune(berth_cli *cli, berth_prune_kind kind, const berth_filters *f)
{
	prune_step step = {kind, f};
	return prune_steps(cli, &step, 1);
}

int berth_cli_prune_command(berth_invocation *inv, berth_prune_kind kind, const char *warning)
{
	bool force = false;
	berth_strlist filters cleanup_strlist = {0};
	berth_flag flags[] = {
		{"filter", 0, BERTH_FLAG_LIST, &filters,
		 "Provide filter values (e.g. \"until=<timestamp>\")", .type_name = "filter",
		 .check = berth_cli_filter_check},
		{"force", 'f', BERTH_FLAG_BOOL, &force, "Do not prompt for confirmation"},
	};
	int status;
	if (!berth_cli_parse(inv, flags, BERTH_ARRAY_SIZE(flags), &status))
		return status;
	if (!force && !berth_cli_confirm(inv->cli, warning))
		return BERTH_EXIT_OK;
	berth_filters *f cleanup_filters = berth_cli_filters_parse(&filters);
	return berth_cli_prune(inv->cli, kind, f);
}

int berth_cli_container_prune(berth_invocation *inv)
{
	return berth_cli_prune_command(inv, BERTH_PRUNE_CONTAINERS,
				       "WARNING! This will remove all stopped containers.\n"
				       "Are you sure you want to continue?");
}

static int by_string(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int berth_cli_system_prune(berth_invocation *inv)
{
	bool all = false, force = false, with_volumes = false;
	berth_strlist filters cleanup_strlist = {0};
	berth_flag flags[] = {
		{"all", 'a', BERTH_FLAG_BOOL, &all, "Remove all unused images not just dangling ones"},
		{"filter", 0, BERTH_FLAG_LIST, &filters,
		 "Provide filter values (e.g. \"label=<key>=<value>\")", .type_name = "filter",
		 .check = berth_cli_filter_check},
		{"force", 'f', BERTH_FLAG_BOOL, &force, "Do not prompt for confirmation"},
		{"volumes", 0, BERTH_FLAG_BOOL, &with_volumes, "Prune anonymous volumes"},
	};
	int status;
	if (!berth_cli_parse(inv, flags, BERTH_ARRAY_SIZE(flags), &status))
		return status;
	berth_buf warning cleanup_buf = {0};
	berth_buf_puts(&warning, "WARNING! This will remove:\n  - all stopped containers\n"
				 "  - all networks not used by at least one container\n");
	if (with_volumes)
		berth_buf_puts(&warning, "  - all anonymous volumes not used by at least one "
					 "container\n");
	berth_buf_printf(&warning, "  - %s\n  - %s build cache\n",
			 all ? "all images without at least one container associated to them"
			     : "all dangling images",
			 all ? "all" : "unused");
	if (filters.n > 0) {
		berth_strlist sorted cleanup_strlist = {0};
		for (size_t i = 0; i < filters.n; i++)
			berth_strlist_push(&sorted, filters.v[i]);
		qsort(sorted.v, sorted.n, sizeof(char *), by_string);
		berth_buf_puts(&warning, "\n  Items to be pruned will be filtered with:\n");
		for (size_t i = 0; i < sorted.n; i++)
			berth_buf_printf(&warning, "  - %s\n", sorted.v[i]);
	}
	berth_buf_puts(&warning, "\nAre you sure you want to continue?");
	if (!force && !berth_cli_confirm(inv->cli, warning.data))
		return BERTH_EXIT_OK;
	berth_filters *f cleanup_filters = berth_cli_filters_parse(&filters);
	/* images: the dangling ones unless --all, as docker's image prune */
	berth_filters *fi cleanup_filters = berth_cli_filters_parse(&filters);
	berth_filters_add(fi, "dangling", all ? "false" : "true");
	prune_step steps[5];
	size_t n = 0;
	steps[n++] = (prune_step){BERTH_PRUNE_CONTAINERS, f};
	steps[n++] = (prune_step){BERTH_PRUNE_NETWORKS, f};
	if (with_volumes)
		steps[n++] = (prune_step){BERTH_PRUNE_VOLUMES, f};
	steps[n++] = (prune_step){BERTH_PRUNE_IMAGES, fi};
	steps[n++] = (prune_step){BERTH_PRUNE_BUILD_CACHE, f};
	return prune_steps(inv->cli, steps, n);
}
