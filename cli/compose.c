/*
 * compose.c - `berth compose`: Docker Compose v2's global flags (-f, -p,
 * --project-directory, --env-file, --profile) before one command of the
 * compose table; `config`, `version` and the shared set-up of the commands
 * (cli/compose_cmds.c) that drive the Engine API through compose/.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "compose/compose.h"
#include "compose_cli.h"

static struct {
	berth_strlist files, env_files, profiles;
	const char *project, *dir, *ansi, *progress, *parallel;
	bool compatibility, dry_run, all_resources;
} G;

static void globals_reset(void)
{
	berth_strlist_reset(&G.files);
	berth_strlist_reset(&G.env_files);
	berth_strlist_reset(&G.profiles);
}

int berth_cli_compose_load(berth_invocation *inv, berth_compose_project **out)
{
	berth_error *err cleanup_error = NULL;
	berth_compose_options o = {
		.files = (const char *const *)G.files.v,
		.project_name = G.project,
		.project_dir = G.dir,
		.env_files = (const char *const *)G.env_files.v,
		.profiles = (const char *const *)G.profiles.v,
	};
	if (berth_compose_load(&o, out, &err) < 0)
		return berth_cli_fail(inv->cli, &err, BERTH_EXIT_ERROR), -1;
	return 0;
}

/* A project name alone is enough for commands on existing containers (down,
 * ps, logs... with -p and no file): an empty model named after it. */
int berth_cli_compose_load_or_name(berth_invocation *inv, berth_compose_project **out)
{
	if (G.project && G.files.n == 0 && access("compose.yaml", F_OK) != 0 &&
	    access("compose.yml", F_OK) != 0 && access("docker-compose.yaml", F_OK) != 0 &&
	    access("docker-compose.yml", F_OK) != 0) {
		berth_compose_project *p = berth_xcalloc(1, sizeof(*p));
		p->name = berth_xstrdup(G.project);
		p->working_dir = getcwd(NULL, 0);
		p->config_files = berth_xcalloc(1, sizeof(char *));
		p->model = json_pack("{ss s{} s{} s{}}", "name", G.project, "services", "networks",
				     "volumes");
		p->env = json_object();
		p->disabled = json_object();
		*out = p;
		return 0;
	}
	return berth_cli_compose_load(inv, out);
}

static char *registry_auth_of(void *cli, const char *image)
{
	return berth_cli_registry_auth(cli, image);
}

int berth_cli_compose_ctx(berth_invocation *inv, berth_compose_project *p, berth_compose_ctx *c)
{
	berth_error *err cleanup_error = NULL;
	berth_client *client;
	if (berth_cli_client(inv->cli, &client, &err) < 0)
		return berth_cli_fail(inv->cli, &err, BERTH_EXIT_ERROR), -1;
	*c = (berth_compose_ctx){
		.project = p,
		.client = client,
		.host = inv->cli->host,
		.tls = inv->cli->use_tls ? &inv->cli->tls : NULL,
		/* the version negotiated once, for the clients of the threads */
		.api_version = berth_client_version(client),
		.io = {.out = inv->cli->out, .err = inv->cli->err,
		       .no_color = (G.ansi && strcmp(G.ansi, "never") == 0) || !isatty(1)},
		.registry_auth = registry_auth_of,
		.auth_data = inv->cli,
	};
	return 0;
}

/* ----------------------------------------------------------------- config */

static int by_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

typedef struct config_opts {
	const char *format, *output;
	bool services, volumes, profiles, images, quiet, no_interpolate;
	const char *hash;
} config_opts;

static void config_list(const berth_compose_project *p, const config_opts *o, berth_buf *b)
{
	const json_t *m = p->model;
	const char *k;
	json_t *v;
	json_t *names cleanup_json = json_array();
	if (o->services)
		json_object_foreach(json_object_get(m, "services"), k, v)
			json_array_append_new(names, json_string(k));
	if (o->volumes)
		json_object_foreach(json_object_get(m, "volumes"), k, v)
			json_array_append_new(names, json_string(k));
	if (o->images)
		json_object_foreach(json_object_get(m, "services"), k, v) {
			const char *img = berth_json_string(v, "image");
			json_array_append_new(names, img ? json_string(img)
							 : json_sprintf("%s-%s", p->name, k));
		}
	if (o->profiles) {
		json_t *set cleanup_json = json_object();
		json_t *both[] = {json_object_get(m, "services"), p->disabled};
		for (int i = 0; i < 2; i++)
			json_object_foreach(both[i], k, v) {
				size_t j;
				json_t *pr;
				json_array_foreach(json_object_get(v, "profiles"), j, pr)
					json_object_set(set, json_string_value(pr), json_true());
			}
		json_object_foreach(set, k, v)
			json_array_append_new(names, json_string(k));
	}
	size_t n = json_array_size(names);
	const char **arr = berth_xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		arr[i] = json_string_value(json_array_get(names, i));
	qsort(arr, n, sizeof(char *), by_name);
	for (size_t i = 0; i < n; i++)
		berth_buf_printf(b, "%s\n", arr[i]);
	free(arr);
}

static void config_hashes(const berth_compose_project *p, const char *which, berth_buf *b)
{
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(p->model, "services"), k, v) {
		if (strcmp(which, "*") != 0) {
			char **want = berth_str_split(which, ',');
			bool found = false;
			for (char **w = want; *w; w++)
				found = found || strcmp(*w, k) == 0;
			berth_strv_free(want);
			if (!found)
				continue;
		}
		char hash[65];
		berth_compose_config_hash(v, hash);
		berth_buf_printf(b, "%s %s\n", k, hash);
	}
}

static int compose_config(berth_invocation *inv)
{
	config_opts o = {.format = "yaml"};
	berth_flag flags[] = {
		{"format", 0, BERTH_FLAG_STRING, &o.format, "Format the output. Values: [yaml | json]",
		 .def = "yaml"},
		{"hash", 0, BERTH_FLAG_STRING, &o.hash, "Print the service config hash, one per line."},
		{"images", 0, BERTH_FLAG_BOOL, &o.images, "Print the image names, one per line."},
		{"no-interpolate", 0, BERTH_FLAG_BOOL, &o.no_interpolate,
		 "Don't interpolate environment variables"},
		{"output", 'o', BERTH_FLAG_STRING, &o.output,
		 "Save to file (default to stdout)"},
		{"profiles", 0, BERTH_FLAG_BOOL, &o.profiles, "Print the profile names, one per line."},
		{"quiet", 'q', BERTH_FLAG_BOOL, &o.quiet, "Only validate the configuration, don't print anything"},
		{"services", 0, BERTH_FLAG_BOOL, &o.services, "Print the service names, one per line."},
		{"volumes", 0, BERTH_FLAG_BOOL, &o.volumes, "Print the volume names, one per line."},
	};
	int status;
	if (!berth_cli_parse(inv, flags, BERTH_ARRAY_SIZE(flags), &status))
		return status;
	if (strcmp(o.format, "yaml") && strcmp(o.format, "json")) {
		fprintf(inv->cli->err, "unsupported format %s\n", o.format);
		return BERTH_EXIT_ERROR;
	}
	berth_compose_project *p cleanup_compose_project = NULL;
	if (berth_cli_compose_load(inv, &p) < 0)
		return BERTH_EXIT_ERROR;
	if (o.quiet)
		return BERTH_EXIT_OK;
	berth_buf b cleanup_buf = {0};
	if (o.services || o.volumes || o.images || o.profiles) {
		config_list(p, &o, &b);
	} else if (o.hash) {
		config_hashes(p, o.hash, &b);
	} else if (strcmp(o.format, "json") == 0) {
		char *s cleanup_free = json_dumps(p->model, JSON_INDENT(2) | JSON_SORT_KEYS);
		berth_buf_printf(&b, "%s\n", s);
	} else {
		berth_compose_yaml_emit(p->model, &b);
	}
	if (o.output) {
		berth_error *err cleanup_error = NULL;
		if (berth_file_write_atomic(o.output, b.data ? b.data : "", b.len, 0644, &err) < 0)
			return berth_cli_fail(inv->cli, &err, BERTH_EXIT_ERROR);
		return BERTH_EXIT_OK;
	}
	berth_cli_write(inv->cli, &b);
	return BERTH_EXIT_OK;
}

static int compose_version(berth_invocation *inv)
{
	const char *format = NULL;
	bool short_ = false;
	berth_flag flags[] = {
		{"format", 'f', BERTH_FLAG_STRING, &format, "Format the output. Values: [pretty | json]",
		 .def = "pretty"},
		{"short", 0, BERTH_FLAG_BOOL, &short_, "Shows only Compose's version number"},
	};
	int status;
	if (!berth_cli_parse(inv, flags, BERTH_ARRAY_SIZE(flags), &status))
		return status;
	if (short_)
		fprintf(inv->cli->out, "%s\n", BERTH_VERSION);
	else if (format && strcmp(format, "json") == 0)
		fprintf(inv->cli->out, "{\"version\":\"v%s\"}\n", BERTH_VERSION);
	else
		fprintf(inv->cli->out, "berth compose version v%s\n", BERTH_VERSION);
	return BERTH_EXIT_OK;
}

/* ------------------------------------------------------------------ group */

const berth_command berth_cli_compose_commands[] = {
	{"config", "[OPTIONS] [SERVICE...]", "Parse, resolve and render compose file in canonical format", NULL, NULL, 0, -1, compose_config, NULL},
	BERTH_CLI_COMPOSE_ROWS
	{"version", "[OPTIONS]", "Show the Docker Compose version information", NULL, NULL, 0, 0, compose_version, NULL},
	{0},
};

int berth_cli_compose(berth_invocation *inv)
{
	berth_flag flags[] = {
		{"all-resources", 0, BERTH_FLAG_BOOL, &G.all_resources, "Include all resources, even those not used by services"},
		{"ansi", 0, BERTH_FLAG_STRING, &G.ansi, "Control when to print ANSI control characters (\"never\"|\"always\"|\"auto\")", .def = "auto"},
		{"compatibility", 0, BERTH_FLAG_BOOL, &G.compatibility, "Run compose in backward compatibility mode"},
		{"dry-run", 0, BERTH_FLAG_BOOL, &G.dry_run, "Execute command in dry run mode"},
		{"env-file", 0, BERTH_FLAG_LIST, &G.env_files, "Specify an alternate environment file", "stringArray"},
		{"file", 'f', BERTH_FLAG_LIST, &G.files, "Compose configuration files", "stringArray"},
		{"parallel", 0, BERTH_FLAG_STRING, &G.parallel, "Control max parallelism, -1 for unlimited", "int", "-1"},
		{"profile", 0, BERTH_FLAG_LIST, &G.profiles, "Specify a profile to enable", "stringArray"},
		{"progress", 0, BERTH_FLAG_STRING, &G.progress, "Set type of progress output (auto, tty, plain, json, quiet)", .def = "auto"},
		{"project-directory", 0, BERTH_FLAG_STRING, &G.dir, "Specify an alternate working directory\n(default: the path of the, first specified, Compose file)"},
		{"project-name", 'p', BERTH_FLAG_STRING, &G.project, "Project name"},
	};
	berth_error *err cleanup_error = NULL;
	/* a daemon closing a connection is an error for one request, not the end
	 * of the process (threads write to several connections at once) */
	signal(SIGPIPE, SIG_IGN);
	int r = berth_flags_parse(flags, BERTH_ARRAY_SIZE(flags), false, inv->argc, inv->argv,
				  &inv->args, NULL, &err);
	int status = BERTH_EXIT_OK;
	if (r < 0) {
		berth_cli_usage_error(inv->cli, inv->path, inv->cmd->use, err->msg, "Run");
		status = BERTH_EXIT_USAGE;
	} else if (r == BERTH_FLAGS_HELP || inv->args.n == 0) {
		berth_buf b cleanup_buf = {0};
		berth_cli_command_help(inv->cmd, inv->path, flags, BERTH_ARRAY_SIZE(flags),
				       inv->cli->term_cols, &b);
		fputs(b.data, r == BERTH_FLAGS_HELP ? inv->cli->out : inv->cli->err);
	} else {
		const berth_command *sub = inv->cmd->subcommands;
		while (sub->name && strcmp(sub->name, inv->args.v[0]) != 0)
			sub++;
		if (sub->name == NULL) {
			fprintf(inv->cli->err, "unknown docker command: \"compose %s\"\n", inv->args.v[0]);
			status = BERTH_EXIT_ERROR;
		} else {
			status = berth_cli_dispatch(inv->cli, sub, inv->path, (int)inv->args.n - 1,
						    inv->args.v + 1);
		}
	}
	globals_reset();
	return status;
}
