/*
 * compose_cmds.c - the `berth compose` commands that drive the Engine API:
 * flags as Docker Compose v2's, the work done by compose/. exec and run
 * hand the container over to `berth exec` / `berth start -a` so that TTYs,
 * streams and exit codes behave exactly as there.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compose_cli.h"

/* A loaded project and its engine context, released together. */
typedef struct session {
	berth_compose_project *p;
	berth_compose_ctx c;
} session;

static void session_reset(session *s)
{
	berth_compose_project_free(s->p);
}
#define cleanup_session __attribute__((cleanup(session_reset)))

static int session_open(berth_invocation *inv, session *s, bool need_file)
{
	int r = need_file ? berth_cli_compose_load(inv, &s->p)
			  : berth_cli_compose_load_or_name(inv, &s->p);
	if (r < 0)
		return -1;
	return berth_cli_compose_ctx(inv, s->p, &s->c);
}

static char *const *services_of(const berth_invocation *inv, size_t skip)
{
	return inv->args.n > skip ? inv->args.v + skip : NULL;
}

static int fail(berth_invocation *inv, berth_error **err)
{
	return berth_cli_fail(inv->cli, err, BERTH_EXIT_ERROR);
}

/* The project, and its containers of the services named by the arguments
 * (all when none), as berth_compose_containers; prints what fails. */
static int session_containers(berth_invocation *inv, session *s, bool all, bool oneoff,
			      json_t **list)
{
	if (session_open(inv, s, false) < 0)
		return -1;
	berth_error *err cleanup_error = NULL;
	if (berth_compose_containers(&s->c, services_of(inv, 0), all, oneoff, list, &err) == 0)
		return 0;
	fail(inv, &err);
	return -1;
}

/* The project, and the container of the service named by the first
 * argument (--index, else the first running one); prints what fails. */
static int service_container(berth_invocation *inv, session *s, const char *index, json_t **ct)
{
	berth_error *err cleanup_error = NULL;
	if (session_open(inv, s, true) < 0)
		return -1;
	if (berth_compose_container_of(&s->c, inv->args.v[0], index ? atoi(index) : 0, ct, &err) < 0)
		return fail(inv, &err), -1;
	return 0;
}

/* ------------------------------------------------------------------ build */

static const berth_command build_command = BERTH_CLI_BUILD_ROW(NULL);

static void push_pair(berth_strlist *args, const char *flag, const char *value)
{
	berth_strlist_push(args, flag);
	berth_strlist_push(args, value);
}

static void push_map(berth_strlist *args, const char *flag, const json_t *map)
{
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)map, k, v)
		if (json_is_string(v)) {
			char *kv cleanup_free = berth_xasprintf("%s=%s", k, json_string_value(v));
			push_pair(args, flag, kv);
		}
}

/* `berth build` of one service: its tag, Dockerfile, args, target, labels. */
static int build_service(berth_invocation *inv, session *s, const char *name, bool no_cache,
			 bool pull)
{
	const json_t *svc = json_object_get(json_object_get(s->p->model, "services"), name);
	const json_t *b = json_object_get(svc, "build");
	const char *context = berth_json_string(b, "context") ?: s->p->working_dir;
	const char *dockerfile = berth_json_string(b, "dockerfile");
	const char *image = berth_json_string(svc, "image");
	berth_strlist args cleanup_strlist = {0};
	char *tag cleanup_free = image ? berth_xstrdup(image) : berth_xasprintf("%s-%s", s->p->name, name);
	push_pair(&args, "-t", tag);
	if (dockerfile) {
		char *path cleanup_free = dockerfile[0] == '/' ? berth_xstrdup(dockerfile)
							       : berth_xasprintf("%s/%s", context, dockerfile);
		push_pair(&args, "-f", path);
	}
	push_map(&args, "--build-arg", json_object_get(b, "args"));
	push_map(&args, "--label", json_object_get(b, "labels"));
	if (berth_json_string(b, "target"))
		push_pair(&args, "--target", berth_json_string(b, "target"));
	if (berth_json_string(b, "network"))
		push_pair(&args, "--network", berth_json_string(b, "network"));
	if (no_cache)
		berth_strlist_push(&args, "--no-cache");
	if (pull)
		berth_strlist_push(&args, "--pull");
	berth_strlist_push(&args, context);
	fprintf(inv->cli->err, " %s Building\n", name);
	int status = berth_cli_dispatch(inv->cli, &build_command, "berth", (int)args.n, args.v);
	if (status == 0)
		fprintf(inv->cli->err, " %s Built\n", name);
	return status;
}

static int build_services(berth_invocation *inv, session *s, char *const *services,
			  bool only_missing, bool no_cache, bool pull)
{
	berth_error *err cleanup_error = NULL;
	json_t *list cleanup_json = NULL;
	if (berth_compose_to_build(&s->c, services, only_missing, &list, &err) < 0)
		return fail(inv, &err);
	size_t i;
	json_t *v;
	json_array_foreach(list, i, v) {
		int status = build_service(inv, s, json_string_value(v), no_cache, pull);
		if (status != 0)
			return status;
	}
	return 0;
}

/* ------------------------------------------------------------ up, create */

typedef struct up_flags {
	bool detach, build, no_build, force, no_recreate, remove_orphans, no_deps, wait, abort;
	bool no_start, no_color, quiet_pull, always_recreate_deps, renew;
	const char *timeout, *exit_code_from, *pull, *wait_timeout;
	berth_strlist scale, attach, no_attach;
} up_flags;

static int scale_arg(const berth_strlist *l, json_t **out, berth_error **err)
{
	json_t *scale = json_object();
	for (size_t i = 0; i < l->n; i++) {
		const char *eq = strchr(l->v[i], '=');
		char *end;
		long n = eq ? strtol(eq + 1, &end, 10) : -1;
		if (eq == NULL || *end || n < 0) {
			json_decref(scale);
			return berth_error_set(err, 400, "invalid --scale value %s: expected SERVICE=NUM",
					       l->v[i]);
		}
		char *svc cleanup_free = berth_xstrndup(l->v[i], (size_t)(eq - l->v[i]));
		json_object_set_new(scale, svc, json_integer(n));
	}
	*out = scale;
	return 0;
}

static int up_run(berth_invocation *inv, bool create_only)
{
	up_flags f = {0};
	berth_flag flags[] = {
		{"abort-on-container-exit", 0, BERTH_FLAG_BOOL, &f.abort, "Stops all containers if any container was stopped. Incompatible with -d"},
		{"always-recreate-deps", 0, BERTH_FLAG_BOOL, &f.always_recreate_deps, "Recreate dependent containers. Incompatible with --no-recreate."},
		{"attach", 0, BERTH_FLAG_LIST, &f.attach, "Restrict attaching to the specified services. Incompatible with --attach-dependencies.", "stringArray"},
		{"build", 0, BERTH_FLAG_BOOL, &f.build, "Build images before starting containers"},
		{"detach", 'd', BERTH_FLAG_BOOL, &f.detach, "Detached mode: Run containers in the background"},
		{"exit-code-from", 0, BERTH_FLAG_STRING, &f.exit_code_from, "Return the exit code of the selected service container. Implies --abort-on-container-exit"},
		{"force-recreate", 0, BERTH_FLAG_BOOL, &f.force, "Recreate containers even if their configuration and image haven't changed"},
		{"no-attach", 0, BERTH_FLAG_LIST, &f.no_attach, "Do not attach (stream logs) to the specified services", "stringArray"},
		{"no-build", 0, BERTH_FLAG_BOOL, &f.no_build, "Don't build an image, even if it's policy"},
		{"no-color", 0, BERTH_FLAG_BOOL, &f.no_color, "Produce monochrome output"},
		{"no-deps", 0, BERTH_FLAG_BOOL, &f.no_deps, "Don't start linked services"},
		{"no-recreate", 0, BERTH_FLAG_BOOL, &f.no_recreate, "If containers already exist, don't recreate them. Incompatible with --force-recreate."},
		{"no-start", 0, BERTH_FLAG_BOOL, &f.no_start, "Don't start the services after creating them"},
		{"pull", 0, BERTH_FLAG_STRING, &f.pull, "Pull image before running (\"always\"|\"missing\"|\"never\")", .def = "policy"},
		{"quiet-pull", 0, BERTH_FLAG_BOOL, &f.quiet_pull, "Pull without printing progress information"},
		{"remove-orphans", 0, BERTH_FLAG_BOOL, &f.remove_orphans, "Remove containers for services not defined in the Compose file"},
		{"renew-anon-volumes", 'V', BERTH_FLAG_BOOL, &f.renew, "Recreate anonymous volumes instead of retrieving data from the previous containers"},
		{"scale", 0, BERTH_FLAG_LIST, &f.scale, "Scale SERVICE to NUM instances. Overrides the scale setting in the Compose file if present.", "scale"},
		{"timeout", 't', BERTH_FLAG_STRING, &f.timeout, "Use this timeout in seconds for container shutdown when attached or when containers are already running", "int"},
		{"wait", 0, BERTH_FLAG_BOOL, &f.wait, "Wait for services to be running|healthy. Implies detached mode."},
		{"wait-timeout", 0, BERTH_FLAG_STRING, &f.wait_timeout, "Maximum duration to wait for the project to be running|healthy", "int"},
	};
	size_t nflags = BERTH_ARRAY_SIZE(flags);
	int status;
	bool ok = berth_cli_parse(inv, flags, nflags, &status);
	/* the lists live until up returns; --quiet-pull needs nothing: up never
	 * prints a pull's per-layer progress, only the Pulling/Pulled lines
	 * Compose keeps with it too */
	berth_strlist attach cleanup_strlist = f.attach;
	berth_strlist no_attach cleanup_strlist = f.no_attach;
	if (!ok) {
		berth_strlist_reset(&f.scale);
		return status;
	}
	berth_error *err cleanup_error = NULL;
	json_t *scale cleanup_json = NULL;
	int r = scale_arg(&f.scale, &scale, &err);
	berth_strlist_reset(&f.scale);
	if (r < 0)
		return fail(inv, &err);
	if (f.detach && (f.abort || f.exit_code_from)) {
		fputs("--abort-on-container-exit and --detach are incompatible\n", inv->cli->err);
		return BERTH_EXIT_ERROR;
	}
	if (f.force && f.no_recreate) {
		fputs("--force-recreate and --no-recreate are incompatible\n", inv->cli->err);
		return BERTH_EXIT_ERROR;
	}
	if (f.always_recreate_deps && f.no_recreate) {
		fputs("--always-recreate-deps and --no-recreate are incompatible\n", inv->cli->err);
		return BERTH_EXIT_ERROR;
	}
	char *end = NULL;
	long wait_timeout = f.wait_timeout ? strtol(f.wait_timeout, &end, 10) : 0;
	if (f.wait_timeout && (*f.wait_timeout == '\0' || *end || wait_timeout < 0)) {
		fprintf(inv->cli->err, "invalid argument \"%s\" for \"--wait-timeout\" flag: "
			"strconv.ParseInt: parsing \"%s\": invalid syntax\n", f.wait_timeout,
			f.wait_timeout);
		return BERTH_EXIT_ERROR;
	}
	session s cleanup_session = {0};
	if (session_open(inv, &s, true) < 0)
		return BERTH_EXIT_ERROR;
	berth_compose_up_opts o = {
		.services = services_of(inv, 0),
		.detach = f.detach || f.wait || create_only,
		.force_recreate = f.force,
		.no_recreate = f.no_recreate,
		.no_start = create_only || f.no_start,
		.remove_orphans = f.remove_orphans,
		.no_deps = f.no_deps,
		.always_recreate_deps = f.always_recreate_deps,
		.renew_anon_volumes = f.renew,
		.attach = attach.n ? attach.v : NULL,
		.no_attach = no_attach.n ? no_attach.v : NULL,
		.wait_timeout = (int)wait_timeout,
		.build = f.build,
		.no_build = f.no_build,
		.wait = f.wait,
		.abort_on_exit = f.abort || f.exit_code_from,
		.exit_code_from = f.exit_code_from,
		.scale = scale,
		.timeout = f.timeout ? atoi(f.timeout) : -1,
	};
	if (f.no_color)
		s.c.io.no_color = true;
	if (f.pull && strcmp(f.pull, "policy") != 0) {
		if (strcmp(f.pull, "always") && strcmp(f.pull, "missing") && strcmp(f.pull, "never")) {
			fprintf(inv->cli->err, "invalid --pull option %s\n", f.pull);
			return BERTH_EXIT_ERROR;
		}
		s.c.pull_policy = f.pull;
	}
	int code = 0;
	if (!f.no_build && (r = build_services(inv, &s, o.services, !f.build, false, false)) != 0)
		return r;
	if (berth_compose_up(&s.c, &o, &code, &err) < 0)
		return fail(inv, &err);
	return code;
}

int berth_cli_compose_up(berth_invocation *inv)
{
	return up_run(inv, false);
}

int berth_cli_compose_create(berth_invocation *inv)
{
	return up_run(inv, true);
}

/* ------------------------------------------------------------------- down */

int berth_cli_compose_down(berth_invocation *inv)
{
	bool volumes = false, orphans = false;
	const char *rmi = NULL, *timeout = NULL;
	berth_flag flags[] = {
		{"remove-orphans", 0, BERTH_FLAG_BOOL, &orphans, "Remove containers for services not defined in the Compose file"},
		{"rmi", 0, BERTH_FLAG_STRING, &rmi, "Remove images used by services. \"local\" remove only images that don't have a custom tag (\"local\"|\"all\")"},
		{"timeout", 't', BERTH_FLAG_STRING, &timeout, "Specify a shutdown timeout in seconds", "int"},
		{"volumes", 'v', BERTH_FLAG_BOOL, &volumes, "Remove named volumes declared in the \"volumes\" section of the Compose file and anonymous volumes attached to containers"},
	};
	int status;
	if (!berth_cli_parse(inv, flags, BERTH_ARRAY_SIZE(flags), &status))
		return status;
	if (rmi && strcmp(rmi, "local") && strcmp(rmi, "all")) {
		fprintf(inv->cli->err, "invalid value for --rmi: %s\n", rmi);
		return BERTH_EXIT_ERROR;
	}
	session s cleanup_session = {0};
	if (session_open(inv, &s, false) < 0)
		return BERTH_EXIT_ERROR;
	berth_compose_down_opts o = {.volumes = volumes, .remove_orphans = orphans, .rmi = rmi,
				     .timeout = timeout ? atoi(timeout) : -1};
	berth_error *err cleanup_error = NULL;
	if (berth_compose_down(&s.c, &o, &err) < 0)
		return fail(inv, &err);
	return BERTH_EXIT_OK;
}

/* ------------------------------------------------- start, stop, kill, ... */

static const struct {
	const char *name;
	berth_compose_action action;
} action_names[] = {
	{"start", BERTH_COMPOSE_START}, {"stop", BERTH_COMPOSE_STOP},
	{"restart", BERTH_COMPOSE_RESTART}, {"kill", BERTH_COMPOSE_KILL},
	{"pause", BERTH_COMPOSE_PAUSE}, {"unpause", BERTH_COMPOSE_UNPAUSE},
	{"rm", BERTH_COMPOSE_RM},
};

int berth_cli_compose_action(berth_invocation *inv)
{
	berth_compose_action a = BERTH_COMPOSE_START;
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(action_names); i++)
		if (strcmp(inv->cmd->name, action_names[i].name) == 0)
			a = action_names[i].action;
	const char *timeout = NULL, *signal = "SIGKILL";
	bool force = false, stop = false, volumes = false, orphans = false, no_deps = false;
	berth_flag all[] = {
		{"timeout", 't', BERTH_FLAG_STRING, &timeout, "Specify a shutdown timeout in seconds", "int"},
		{"signal", 's', BERTH_FLAG_STRING, &signal, "SIGNAL to send to the container", "string", "\"SIGKILL\""},
		{"remove-orphans", 0, BERTH_FLAG_BOOL, &orphans, "Remove containers for services not defined in the Compose file"},
		{"force", 'f', BERTH_FLAG_BOOL, &force, "Don't ask to confirm removal"},
		{"stop", 's', BERTH_FLAG_BOOL, &stop, "Stop the containers, if required, before removing"},
		{"volumes", 'v', BERTH_FLAG_BOOL, &volumes, "Remove any anonymous volumes attached to containers"},
		{"no-deps", 0, BERTH_FLAG_BOOL, &no_deps, "Don't restart dependent services"},
	};
	berth_flag *flags = all;
	size_t n = 0;
	switch (a) {
	case BERTH_COMPOSE_STOP: n = 1; break;
	case BERTH_COMPOSE_RESTART: all[1] = all[6]; n = 2; break;
	case BERTH_COMPOSE_KILL: flags = all + 1; n = 2; break;
	case BERTH_COMPOSE_RM: flags = all + 3; n = 3; break;
	default: break;
	}
	int status;
	if (!berth_cli_parse(inv, flags, n, &status))
		return status;
	session s cleanup_session = {0};
	if (session_open(inv, &s, false) < 0)
		return BERTH_EXIT_ERROR;
	berth_compose_action_opts o = {.services = services_of(inv, 0),
				       .timeout = timeout ? atoi(timeout) : -1,
				       .signal = signal, .stop_first = stop, .volumes = volumes};
	berth_error *err cleanup_error = NULL;
	if (berth_compose_act(&s.c, a, &o, &err) < 0)
		return fail(inv, &err);
	return BERTH_EXIT_OK;
}

/* --------------------------------------------------------------------- ps */

static json_t *ps_row(const json_t *ct)
{
	json_t *row = json_deep_copy(ct);
	json_object_set_new(row, "Name", json_string(berth_compose_container_name(ct)));
	json_object_set_new(row, "Service", json_string(berth_compose_label(ct, "com.docker.compose.service")));
	json_object_set_new(row, "Project", json_string(berth_compose_label(ct, "com.docker.compose.project")));
	json_object_set(row, "ID", json_object_get(ct, "Id"));
	berth_buf ports cleanup_buf = {0};
	size_t i;
	json_t *p;
	json_array_foreach(json_object_get(ct, "Ports"), i, p) {
		json_int_t pub = json_integer_value(json_object_get(p, "PublicPort"));
		json_int_t priv = json_integer_value(json_object_get(p, "PrivatePort"));
		const char *type = berth_json_string(p, "Type") ?: "tcp";
		if (pub)
			berth_buf_printf(&ports, "%s%s:%" JSON_INTEGER_FORMAT "->%" JSON_INTEGER_FORMAT "/%s",
					 ports.len ? ", " : "", berth_json_string(p, "IP") ?: "0.0.0.0", pub,
					 priv, type);
		else
			berth_buf_printf(&ports, "%s%" JSON_INTEGER_FORMAT "/%s", ports.len ? ", " : "",
					 priv, type);
	}
	json_object_set_new(row, "Ports", json_string(ports.data ? ports.data : ""));
	char *cmd cleanup_free = berth_xasprintf("\"%s\"", berth_json_string(ct, "Command") ?: "");
	json_object_set_new(row, "Command", json_string(cmd));
	int64_t created = json_integer_value(json_object_get(ct, "Created"));
	char ago[64];
	berth_human_duration((berth_time_now_ns() / 1000000000 - created) * 1000000000LL, ago, sizeof(ago));
	char *running_for cleanup_free = berth_xasprintf("%s ago", ago);
	json_object_set_new(row, "RunningFor", json_string(running_for));
	return row;
}

static bool ps_keep(const json_t *ct, const berth_strlist *status, const berth_strlist *filters)
{
	const char *state = berth_json_string(ct, "State") ?: "";
	bool keep = status->n == 0;
	for (size_t k = 0; k < status->n; k++)
		keep = keep || strcmp(status->v[k], state) == 0;
	for (size_t k = 0; k < filters->n; k++)
		if (berth_str_has_prefix(filters->v[k], "status="))
			keep = keep && strcmp(filters->v[k] + 7, state) == 0;
	return keep;
}

static int ps_table(berth_invocation *inv, const char *format, const json_t *list,
		    const berth_strlist *status, const berth_strlist *filters, berth_buf *out)
{
	berth_error *err cleanup_error = NULL;
	berth_format f cleanup_format = {0};
	const char *table = "table {{.Name}}\t{{.Image}}\t{{.Command}}\t{{.Service}}\t"
			    "{{.RunningFor}}\t{{.Status}}\t{{.Ports}}";
	if (berth_format_init(&f, format ? format : table, table, &err) < 0) {
		fprintf(inv->cli->err, "%s\n", err->msg);
		return BERTH_EXIT_TEMPLATE;
	}
	json_t *headers cleanup_json = json_pack(
		"{ss ss ss ss ss ss ss ss ss}", "Name", "NAME", "Image", "IMAGE", "Command",
		"COMMAND", "Service", "SERVICE", "RunningFor", "CREATED", "Status", "STATUS", "Ports",
		"PORTS", "ID", "CONTAINER ID", "State", "STATE");
	if (f.kind == BERTH_FORMAT_TABLE && berth_format_header(&f, headers, &err) < 0)
		return fail(inv, &err);
	size_t i;
	json_t *ct;
	json_array_foreach(list, i, ct) {
		if (!ps_keep(ct, status, filters))
			continue;
		json_t *row cleanup_json = ps_row(ct);
		if (berth_format_row(&f, row, out, &err) < 0)
			return fail(inv, &err);
	}
	berth_format_flush(&f, out);
	return BERTH_EXIT_OK;
}

int berth_cli_compose_ps(berth_invocation *inv)
{
	bool all = false, quiet = false, services = false, orphans = true;
	const char *format = NULL;
	berth_strlist filters cleanup_strlist = {0}, status cleanup_strlist = {0};
	berth_flag flags[] = {
		{"all", 'a', BERTH_FLAG_BOOL, &all, "Show all stopped containers (including those created by the run command)"},
		{"filter", 0, BERTH_FLAG_LIST, &filters, "Filter services by a property (supported filters: status)."},
		{"format", 0, BERTH_FLAG_STRING, &format, BERTH_FORMAT_HELP, .def = "table"},
		{"orphans", 0, BERTH_FLAG_BOOL, &orphans, "Include orphaned services (not declared by project)", .def = "true"},
		{"quiet", 'q', BERTH_FLAG_BOOL, &quiet, "Only display IDs"},
		{"services", 0, BERTH_FLAG_BOOL, &services, "Display services"},
		{"status", 0, BERTH_FLAG_LIST, &status, "Filter services by status. Values: [paused | restarting | removing | running | dead | created | exited]", "stringArray"},
	};
	int st;
	if (!berth_cli_parse(inv, flags, BERTH_ARRAY_SIZE(flags), &st))
		return st;
	session s cleanup_session = {0};
	json_t *list cleanup_json = NULL;
	if (session_containers(inv, &s, all, all, &list) < 0)
		return BERTH_EXIT_ERROR;
	berth_buf out cleanup_buf = {0};
	if (services || quiet) {
		json_t *seen cleanup_json = json_object();
		size_t i;
		json_t *ct;
		json_array_foreach(list, i, ct) {
			const char *svc = berth_compose_label(ct, "com.docker.compose.service");
			if (!ps_keep(ct, &status, &filters) || (services && json_object_get(seen, svc)))
				continue;
			json_object_set_new(seen, svc, json_true());
			berth_buf_printf(&out, "%s\n", services ? svc : berth_json_string(ct, "Id"));
		}
	} else if ((st = ps_table(inv, format, list, &status, &filters, &out)) != 0) {
		return st;
	}
	berth_cli_write(inv->cli, &out);
	return BERTH_EXIT_OK;
}

/* ------------------------------------------------------------------- logs */

int berth_cli_compose_logs(berth_invocation *inv)
{
	berth_compose_logs_opts o = {0};
	bool no_color = false, no_prefix = false;
	const char *index = NULL;
	berth_flag flags[] = {
		{"follow", 'f', BERTH_FLAG_BOOL, &o.follow, "Follow log output"},
		{"index", 0, BERTH_FLAG_STRING, &index, "index of the container if service has multiple replicas", "int"},
		{"no-color", 0, BERTH_FLAG_BOOL, &no_color, "Produce monochrome output"},
		{"no-log-prefix", 0, BERTH_FLAG_BOOL, &no_prefix, "Don't print prefix in logs"},
		{"since", 0, BERTH_FLAG_STRING, &o.since, "Show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)"},
		{"tail", 'n', BERTH_FLAG_STRING, &o.tail, "Number of lines to show from the end of the logs for each container", .def = "all"},
		{"timestamps", 't', BERTH_FLAG_BOOL, &o.timestamps, "Show timestamps"},
		{"until", 0, BERTH_FLAG_STRING, &o.until, "Show logs before a timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)"},
	};
	int status;
	if (!berth_cli_parse(inv, flags, BERTH_ARRAY_SIZE(flags), &status))
		return status;
	session s cleanup_session = {0};
	if (session_open(inv, &s, false) < 0)
		return BERTH_EXIT_ERROR;
	s.c.io.no_color = s.c.io.no_color || no_color;
	o.services = services_of(inv, 0);
	o.no_prefix = no_prefix;
	o.index = index ? atoi(index) : 0;
	berth_error *err cleanup_error = NULL;
	if (berth_compose_logs(&s.c, &o, &err) < 0)
		return fail(inv, &err);
	return BERTH_EXIT_OK;
}

/* ------------------------------------------------------------- exec, run */

static const berth_command exec_command = BERTH_CLI_EXEC_ROW(NULL);
static const berth_command start_command = BERTH_CLI_START_ROW(NULL);

static void push_env(berth_strlist *args, const berth_strlist *env)
{
	for (size_t i = 0; i < env->n; i++) {
		berth_strlist_push(args, "-e");
		berth_strlist_push(args, env->v[i]);
	}
}

int berth_cli_compose_exec(berth_invocation *inv)
{
	bool detach = false, no_tty = false, privileged = false, interactive = true, tty = false;
	const char *user = NULL, *workdir = NULL, *index = NULL;
	berth_strlist env cleanup_strlist = {0};
	berth_flag flags[] = {
		{"detach", 'd', BERTH_FLAG_BOOL, &detach, "Detached mode: Run command in the background"},
		{"env", 'e', BERTH_FLAG_LIST, &env, "Set environment variables", "stringArray"},
		{"index", 0, BERTH_FLAG_STRING, &index, "Index of the container if service has multiple replicas", "int"},
		{"interactive", 'i', BERTH_FLAG_BOOL, &interactive, "Keep STDIN open even if not attached", .def = "true", .hidden = true},
		{"no-TTY", 'T', BERTH_FLAG_BOOL, &no_tty, "Disable pseudo-TTY allocation. By default `docker compose exec` allocates a TTY."},
		{"privileged", 0, BERTH_FLAG_BOOL, &privileged, "Give extended privileges to the process"},
		{"tty", 't', BERTH_FLAG_BOOL, &tty, "Allocate a pseudo-TTY", .def = "true", .hidden = true},
		{"user", 'u', BERTH_FLAG_STRING, &user, "Run the command as this user"},
		{"workdir", 'w', BERTH_FLAG_STRING, &workdir, "Path to workdir directory for this command"},
	};
	inv->args_end_flags = true;
	int status;
	if (!berth_cli_parse(inv, flags, BERTH_ARRAY_SIZE(flags), &status))
		return status;
	session s cleanup_session = {0};
	json_t *ct cleanup_json = NULL;
	if (service_container(inv, &s, index, &ct) < 0)
		return BERTH_EXIT_ERROR;
	berth_strlist args cleanup_strlist = {0};
	berth_strlist_push(&args, "-i");
	if (!no_tty && isatty(0))
		berth_strlist_push(&args, "-t");
	if (detach)
		berth_strlist_push(&args, "-d");
	if (privileged)
		berth_strlist_push(&args, "--privileged");
	if (user) {
		berth_strlist_push(&args, "-u");
		berth_strlist_push(&args, user);
	}
	if (workdir) {
		berth_strlist_push(&args, "-w");
		berth_strlist_push(&args, workdir);
	}
	push_env(&args, &env);
	berth_strlist_push(&args, berth_compose_container_name(ct));
	for (size_t i = 1; i < inv->args.n; i++)
		berth_strlist_push(&args, inv->args.v[i]);
	return berth_cli_dispatch(inv->cli, &exec_command, "berth", (int)args.n, args.v);
}

typedef struct run_flags {
	bool detach, rm, no_deps, no_tty, service_ports, interactive, tty, quiet_pull, build;
	const char *name, *entrypoint, *user, *workdir;
	berth_strlist env, labels, volumes, publish;
} run_flags;

/* The one-off service: the command, entrypoint and environment of run. */
static json_t *run_service(const json_t *svc, const run_flags *f, char *const *cmd, size_t ncmd)
{
	json_t *s = json_deep_copy(svc);
	if (ncmd) {
		json_t *c = json_array();
		for (size_t i = 0; i < ncmd; i++)
			json_array_append_new(c, json_string(cmd[i]));
		json_object_set_new(s, "command", c);
	}
	if (f->entrypoint)
		json_object_set_new(s, "entrypoint", json_pack("[s]", f->entrypoint));
	if (f->user)
		json_object_set_new(s, "user", json_string(f->user));
	if (f->workdir)
		json_object_set_new(s, "working_dir", json_string(f->workdir));
	json_t *env = json_object_get(s, "environment");
	if (env == NULL)
		json_object_set_new(s, "environment", env = json_object());
	for (size_t i = 0; i < f->env.n; i++) {
		char *kv cleanup_free = berth_xstrdup(f->env.v[i]);
		char *eq = strchr(kv, '=');
		const char *v = eq ? eq + 1 : getenv(kv);
		if (eq)
			*eq = '\0';
		if (v)
			json_object_set_new(env, kv, json_string(v));
	}
	if (!f->service_ports)
		json_object_del(s, "ports");
	json_object_del(s, "container_name");
	json_t *labels = json_object_get(s, "labels");
	if (labels == NULL)
		json_object_set_new(s, "labels", labels = json_object());
	for (size_t i = 0; i < f->labels.n; i++) {
		char *kv cleanup_free = berth_xstrdup(f->labels.v[i]);
		char *eq = strchr(kv, '=');
		if (eq)
			*eq = '\0';
		json_object_set_new(labels, kv, json_string(eq ? eq + 1 : ""));
	}
	json_object_set_new(s, "tty", json_boolean(!f->no_tty && isatty(0)));
	json_object_set_new(s, "stdin_open", json_boolean(f->interactive));
	/* one-off containers do not restart */
	json_object_del(s, "restart");
	return s;
}

/* What the service depends on, started first (as `up -d` would). */
static int run_deps(session *s, const json_t *svc, berth_error **err)
{
	berth_strlist deps cleanup_strlist = {0};
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(svc, "depends_on"), k, v)
		berth_strlist_push(&deps, k);
	if (deps.n == 0)
		return 0;
	berth_compose_up_opts o = {.services = deps.v, .detach = true, .timeout = -1};
	return berth_compose_up(&s->c, &o, NULL, err);
}

static int compose_run_with(berth_invocation *inv, const run_flags *f)
{
	session s cleanup_session = {0};
	if (session_open(inv, &s, true) < 0)
		return BERTH_EXIT_ERROR;
	berth_error *err cleanup_error = NULL;
	const char *service = inv->args.v[0];
	const json_t *svc = json_object_get(json_object_get(s.p->model, "services"), service);
	if (svc == NULL) {
		fprintf(inv->cli->err, "no such service: %s\n", service);
		return BERTH_EXIT_ERROR;
	}
	if (!f->no_deps && run_deps(&s, svc, &err) < 0)
		return fail(inv, &err);
	json_t *one cleanup_json = run_service(svc, f, inv->args.v + 1, inv->args.n - 1);
	if (f->name)
		json_object_set_new(one, "container_name", json_string(f->name));
	char *id cleanup_free = NULL, *name cleanup_free = NULL;
	if (berth_compose_create_oneoff(&s.c, service, one, &id, &name, &err) < 0)
		return fail(inv, &err);
	berth_strlist args cleanup_strlist = {0};
	if (!f->detach) {
		berth_strlist_push(&args, "-a");
		if (f->interactive)
			berth_strlist_push(&args, "-i");
	}
	berth_strlist_push(&args, name);
	/* `berth start` prints the name when detached, as compose run -d does */
	int status = berth_cli_dispatch(inv->cli, &start_command, "berth", (int)args.n, args.v);
	if (f->rm && !f->detach) {
		char *path cleanup_free = berth_xasprintf("/containers/%s?force=1&v=1", id);
		berth_client_response resp = {0};
		if (berth_client_request(s.c.client, "DELETE", path, NULL, NULL, 0, &resp, &err) < 0)
			fprintf(inv->cli->err, "%s\n", err->msg);
		berth_client_response_reset(&resp);
	}
	return status;
}

int berth_cli_compose_run(berth_invocation *inv)
{
	run_flags f = {.interactive = true, .tty = true};
	berth_flag flags[] = {
		{"build", 0, BERTH_FLAG_BOOL, &f.build, "Build image before starting container"},
		{"detach", 'd', BERTH_FLAG_BOOL, &f.detach, "Run container in background and print container ID"},
		{"entrypoint", 0, BERTH_FLAG_STRING, &f.entrypoint, "Override the entrypoint of the image"},
		{"env", 'e', BERTH_FLAG_LIST, &f.env, "Set environment variables", "stringArray"},
		{"interactive", 'i', BERTH_FLAG_BOOL, &f.interactive, "Keep STDIN open even if not attached", .def = "true"},
		{"label", 'l', BERTH_FLAG_LIST, &f.labels, "Add or override a label", "stringArray"},
		{"name", 0, BERTH_FLAG_STRING, &f.name, "Assign a name to the container"},
		{"no-TTY", 'T', BERTH_FLAG_BOOL, &f.no_tty, "Disable pseudo-TTY allocation (default: auto-detected)"},
		{"no-deps", 0, BERTH_FLAG_BOOL, &f.no_deps, "Don't start linked services"},
		{"publish", 'p', BERTH_FLAG_LIST, &f.publish, "Publish a container's port(s) to the host", "stringArray"},
		{"quiet-pull", 0, BERTH_FLAG_BOOL, &f.quiet_pull, "Pull without printing progress information"},
		{"rm", 0, BERTH_FLAG_BOOL, &f.rm, "Automatically remove the container when it exits"},
		{"service-ports", 'P', BERTH_FLAG_BOOL, &f.service_ports, "Run command with all service's ports enabled and mapped to the host"},
		{"tty", 't', BERTH_FLAG_BOOL, &f.tty, "Allocate a pseudo-TTY", .def = "true", .hidden = true},
		{"user", 'u', BERTH_FLAG_STRING, &f.user, "Run as specified username or uid"},
		{"volume", 'v', BERTH_FLAG_LIST, &f.volumes, "Bind mount a volume", "stringArray"},
		{"workdir", 'w', BERTH_FLAG_STRING, &f.workdir, "Working directory inside the container"},
	};
	inv->args_end_flags = true;
	int status = BERTH_EXIT_ERROR;
	bool ok = berth_cli_parse(inv, flags, BERTH_ARRAY_SIZE(flags), &status);
	if (ok && (f.volumes.n || f.publish.n)) {
		fputs("berth compose run: --volume and --publish are not supported yet\n", inv->cli->err);
		ok = false;
		status = BERTH_EXIT_ERROR;
	}
	if (ok)
		status = compose_run_with(inv, &f);
	berth_strlist_reset(&f.labels);
	berth_strlist_reset(&f.volumes);
	berth_strlist_reset(&f.publish);
	berth_strlist_reset(&f.env);
	return status;
}

/* ------------------------------------------------------ top, images, port */

static int each_container(berth_invocation *inv, bool all,
			  int (*fn)(berth_invocation *, session *, const json_t *, berth_buf *))
{
	session s cleanup_session = {0};
	json_t *list cleanup_json = NULL;
	if (session_containers(inv, &s, all, false, &list) < 0)
		return BERTH_EXIT_ERROR;
	berth_buf out cleanup_buf = {0};
	size_t i;
	json_t *ct;
	json_array_foreach(list, i, ct)
		if (fn(inv, &s, ct, &out) != 0)
			return BERTH_EXIT_ERROR;
	berth_cli_write(inv->cli, &out);
	return BERTH_EXIT_OK;
}

static int get_json(berth_invocation *inv, session *s, const char *path, json_t **out)
{
	berth_error *err cleanup_error = NULL;
	if (berth_cli_get_json(inv->cli, path, out, &err) < 0)
		return fail(inv, &err);
	return 0;
}

static int top_one(berth_invocation *inv, session *s, const json_t *ct, berth_buf *out)
{
	char *path cleanup_free = berth_xasprintf("/containers/%s/top", berth_json_string(ct, "Id"));
	json_t *top cleanup_json = NULL;
	if (get_json(inv, s, path, &top) != 0)
		return -1;
	berth_buf rows cleanup_buf = {0};
	berth_cli_top_rows(top, &rows);
	berth_buf_printf(out, "%s\n", berth_compose_container_name(ct));
	berth_tabwriter_format(rows.data, rows.len, 0, 3, out);
	berth_buf_puts(out, "\n");
	return 0;
}

int berth_cli_compose_top(berth_invocation *inv)
{
	int status;
	if (!berth_cli_parse(inv, NULL, 0, &status))
		return status;
	return each_container(inv, false, top_one);
}

static int images_one(berth_invocation *inv, session *s, const json_t *ct, berth_buf *out)
{
	const char *image = berth_json_string(ct, "Image") ?: "";
	char *q cleanup_free = berth_url_encode(image);
	char *path cleanup_free = berth_xasprintf("/images/%s/json", q);
	json_t *img cleanup_json = NULL;
	if (get_json(inv, s, path, &img) != 0)
		return -1;
	char *repo cleanup_free = berth_xstrdup(image);
	char *colon = strrchr(repo, ':');
	const char *tag = "latest";
	if (colon && !strchr(colon, '/')) {
		*colon = '\0';
		tag = colon + 1;
	}
	const char *id = berth_json_string(img, "Id") ?: "";
	if (berth_str_has_prefix(id, "sha256:"))
		id += 7;
	char size[32];
	berth_human_size(json_integer_value(json_object_get(img, "Size")), 3, size, sizeof(size));
	if (out->len == 0)
		berth_buf_puts(out, "CONTAINER\tREPOSITORY\tTAG\tIMAGE ID\tSIZE\n");
	berth_buf_printf(out, "%s\t%s\t%s\t%.12s\t%s\n", berth_compose_container_name(ct), repo, tag,
			 id, size);
	return 0;
}

int berth_cli_compose_images(berth_invocation *inv)
{
	const char *format = NULL;
	bool quiet = false;
	berth_flag flags[] = {
		{"format", 0, BERTH_FLAG_STRING, &format, "Format the output. Values: [table | json]", .def = "table"},
		{"quiet", 'q', BERTH_FLAG_BOOL, &quiet, "Only display IDs"},
	};
	int status;
	if (!berth_cli_parse(inv, flags, BERTH_ARRAY_SIZE(flags), &status))
		return status;
	berth_buf table cleanup_buf = {0};
	FILE *mem = open_memstream(&table.data, &table.len);
	FILE *real = inv->cli->out;
	inv->cli->out = mem;
	status = each_container(inv, true, images_one);
	inv->cli->out = real;
	fclose(mem);
	berth_buf out cleanup_buf = {0};
	if (table.len)
		berth_tabwriter_format(table.data, table.len, 0, 3, &out);
	berth_cli_write(inv->cli, &out);
	return status;
}

int berth_cli_compose_port(berth_invocation *inv)
{
	const char *protocol = "tcp", *index = NULL;
	berth_flag flags[] = {
		{"index", 0, BERTH_FLAG_STRING, &index, "Index of the container if service has multiple replicas", "int"},
		{"protocol", 0, BERTH_FLAG_STRING, &protocol, "tcp or udp", .def = "tcp"},
	};
	int status;
	if (!berth_cli_parse(inv, flags, BERTH_ARRAY_SIZE(flags), &status))
		return status;
	session s cleanup_session = {0};
	json_t *ct cleanup_json = NULL;
	if (service_container(inv, &s, index, &ct) < 0)
		return BERTH_EXIT_ERROR;
	char *path cleanup_free = berth_xasprintf("/containers/%s/json", berth_json_string(ct, "Id"));
	json_t *info cleanup_json = NULL;
	if (get_json(inv, &s, path, &info) != 0)
		return BERTH_EXIT_ERROR;
	char *key cleanup_free = berth_xasprintf("%s/%s", inv->args.v[1], protocol);
	const json_t *b = json_array_get(json_object_get(json_object_get(json_object_get(info, "NetworkSettings"), "Ports"), key), 0);
	if (b == NULL) {
		fprintf(inv->cli->err, "no port %s for container %s: port is not exposed\n", key,
			berth_compose_container_name(ct));
		return BERTH_EXIT_ERROR;
	}
	fprintf(inv->cli->out, "%s:%s\n", berth_json_string(b, "HostIp") ?: "",
		berth_json_string(b, "HostPort") ?: "");
	return BERTH_EXIT_OK;
}

/* --------------------------------------------------------------------- ls */

static void ls_add(json_t *projects, const json_t *ct)
{
	const char *name = berth_compose_label(ct, "com.docker.compose.project");
	json_t *p = json_object_get(projects, name);
	if (p == NULL) {
		p = json_pack("{ss s{} ss}", "Name", name, "States", "ConfigFiles",
			      berth_compose_label(ct, "com.docker.compose.project.config_files"));
		json_object_set_new(projects, name, p);
	}
	const char *state = berth_json_string(ct, "State") ?: "unknown";
	json_t *states = json_object_get(p, "States");
	json_object_set_new(states, state,
			    json_integer(json_integer_value(json_object_get(states, state)) + 1));
}

int berth_cli_compose_ls(berth_invocation *inv)
{
	bool all = false, quiet = false;
	const char *format = NULL;
	berth_strlist filters cleanup_strlist = {0};
	berth_flag flags[] = {
		{"all", 'a', BERTH_FLAG_BOOL, &all, "Show all stopped Compose projects"},
		{"filter", 0, BERTH_FLAG_LIST, &filters, "Filter output based on conditions provided", "filter"},
		{"format", 0, BERTH_FLAG_STRING, &format, "Format the output. Values: [table | json]", .def = "table"},
		{"quiet", 'q', BERTH_FLAG_BOOL, &quiet, "Only display project names"},
	};
	int status;
	if (!berth_cli_parse(inv, flags, BERTH_ARRAY_SIZE(flags), &status))
		return status;
	char *f cleanup_free = berth_url_encode("{\"label\":{\"com.docker.compose.project\":true}}");
	char *path cleanup_free = berth_xasprintf("/containers/json?all=1&filters=%s", f);
	json_t *list cleanup_json = NULL;
	berth_error *err cleanup_error = NULL;
	if (berth_cli_get_json(inv->cli, path, &list, &err) < 0)
		return fail(inv, &err);
	json_t *projects cleanup_json = json_object();
	size_t i;
	json_t *ct;
	json_array_foreach(list, i, ct)
		ls_add(projects, ct);
	json_t *rows cleanup_json = json_array();
	const char *k;
	json_t *p;
	json_object_foreach(projects, k, p) {
		berth_buf st cleanup_buf = {0};
		const char *sk;
		json_t *n;
		json_object_foreach(json_object_get(p, "States"), sk, n)
			berth_buf_printf(&st, "%s%s(%" JSON_INTEGER_FORMAT ")", st.len ? ", " : "", sk,
					 json_integer_value(n));
		if (!all && !json_object_get(json_object_get(p, "States"), "running"))
			continue;
		json_array_append_new(rows, json_pack("{ss ss ss}", "Name", k, "Status", st.data,
						      "ConfigFiles", berth_json_string(p, "ConfigFiles")));
	}
	berth_buf out cleanup_buf = {0};
	if (format && strcmp(format, "json") == 0) {
		char *s cleanup_free = json_dumps(rows, JSON_COMPACT);
		berth_buf_printf(&out, "%s\n", s);
	} else {
		berth_buf table cleanup_buf = {0};
		if (!quiet)
			berth_buf_puts(&table, "NAME\tSTATUS\tCONFIG FILES\n");
		json_array_foreach(rows, i, p)
			if (quiet)
				berth_buf_printf(&table, "%s\n", berth_json_string(p, "Name"));
			else
				berth_buf_printf(&table, "%s\t%s\t%s\n", berth_json_string(p, "Name"),
						 berth_json_string(p, "Status"),
						 berth_json_string(p, "ConfigFiles"));
		berth_tabwriter_format(table.data ? table.data : "", table.len, 0, 3, &out);
	}
	berth_cli_write(inv->cli, &out);
	return BERTH_EXIT_OK;
}

/* -------------------------------------------------------- pull, push, build */

int berth_cli_compose_images_op(berth_invocation *inv)
{
	bool ignore = false, quiet = false, no_cache = false, pull = false, include_deps = false;
	berth_flag flags[] = {
		{"ignore-pull-failures", 0, BERTH_FLAG_BOOL, &ignore, "Pull what it can and ignores images with pull failures"},
		{"ignore-push-failures", 0, BERTH_FLAG_BOOL, &ignore, "Push what it can and ignores images with push failures"},
		{"include-deps", 0, BERTH_FLAG_BOOL, &include_deps, "Also pull services declared as dependencies"},
		{"no-cache", 0, BERTH_FLAG_BOOL, &no_cache, "Do not use cache when building the image"},
		{"pull", 0, BERTH_FLAG_BOOL, &pull, "Always attempt to pull a newer version of the image"},
		{"quiet", 'q', BERTH_FLAG_BOOL, &quiet, "Don't print anything to STDOUT"},
	};
	bool is_pull = strcmp(inv->cmd->name, "pull") == 0, is_build = strcmp(inv->cmd->name, "build") == 0;
	berth_flag *fl = is_pull ? flags : is_build ? flags + 3 : flags + 1;
	size_t n = is_pull ? 3 : is_build ? 3 : 1;
	int status;
	if (!berth_cli_parse(inv, fl, n, &status))
		return status;
	session s cleanup_session = {0};
	if (session_open(inv, &s, true) < 0)
		return BERTH_EXIT_ERROR;
	berth_error *err cleanup_error = NULL;
	if (is_build)
		return build_services(inv, &s, services_of(inv, 0), false, no_cache, pull);
	int r = is_pull ? berth_compose_pull(&s.c, services_of(inv, 0), ignore, &err)
			: berth_compose_push(&s.c, services_of(inv, 0), &err);
	return r < 0 ? fail(inv, &err) : BERTH_EXIT_OK;
}
