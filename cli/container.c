/*
 * container.c - the container lifecycle commands: create, run, start, stop,
 * restart, kill, pause, unpause, wait, rm, rename, and the `container` group.
 * run follows docker's sequence: create, attach (hijacked), wait, start,
 * stream, then the container's exit code.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "container.h"
#include "fs.h"

/* --------------------------------------------------------------- errors */

/* docker's status errors: "berth: <message>" and the pointer to --help. */
static void report_error(berth_cli *cli, const char *cmd, const char *msg)
{
	fprintf(cli->err, "berth: %s\n\nRun 'berth %s --help' for more information\n", msg, cmd);
}

/* docker's runStartContainerErr: 127 when the command is not there, 126
 * when it cannot be run, 125 for anything else. */
static int start_error_status(const char *msg)
{
	if (berth_str_has_prefix(msg, "Error response from daemon: "))
		msg += strlen("Error response from daemon: ");
	if (strstr(msg, "executable file not found") || strstr(msg, "no such file or directory") ||
	    strstr(msg, "system cannot find the file specified"))
		return 127;
	if (strstr(msg, "permission denied") || strstr(msg, "is a directory"))
		return 126;
	return 125;
}

/* ----------------------------------------------------------------- pull */

typedef struct pull_state {
	berth_cli *cli;
	bool quiet;
	berth_buf line;
	berth_error *err;
} pull_state;

/* Plain jsonmessage lines: "id: status progress" or the status alone. */
static void pull_message(pull_state *p, const char *text, size_t len)
{
	json_t *m cleanup_json = json_loadb(text, len, 0, NULL);
	if (m == NULL)
		return;
	const char *error = berth_json_string(m, "error");
	if (error && p->err == NULL) {
		berth_error_set(&p->err, 500, "%s", error);
		return;
	}
	if (p->quiet)
		return;
	const char *id = berth_json_string(m, "id"), *status = berth_cli_str(m, "status");
	const char *progress = berth_json_string(m, "progress");
	fprintf(p->cli->err, "%s%s%s%s%s\n", id ? id : "", id ? ": " : "", status,
		progress ? " " : "", progress ? progress : "");
}

static int pull_chunk(void *userdata, const char *data, size_t len)
{
	pull_state *p = userdata;
	berth_buf_append(&p->line, data, len);
	char *nl;
	while (p->line.len && (nl = memchr(p->line.data, '\n', p->line.len)) != NULL) {
		pull_message(p, p->line.data, (size_t)(nl - p->line.data));
		berth_buf_consume(&p->line, (size_t)(nl - p->line.data) + 1);
	}
	return 0;
}

/* "name[:tag]" or "name@digest" of an image reference, latest by default. */
static void split_reference(const char *image, char **name, char **tag)
{
	const char *at = strchr(image, '@');
	const char *slash = strrchr(image, '/');
	const char *colon = strrchr(image, ':');
	if (at) {
		*name = berth_xstrndup(image, (size_t)(at - image));
		*tag = berth_xstrdup(at + 1);
	} else if (colon && (!slash || colon > slash)) {
		*name = berth_xstrndup(image, (size_t)(colon - image));
		*tag = berth_xstrdup(colon + 1);
	} else {
		*name = berth_xstrdup(image);
		*tag = berth_xstrdup("latest");
	}
}

/* docker's reference.FamiliarString(TagNameOnly(ref)). */
static char *familiar_reference(const char *image)
{
	char *name cleanup_free = NULL, *tag cleanup_free = NULL;
	split_reference(image, &name, &tag);
	const char *n = name;
	if (berth_str_has_prefix(n, "docker.io/"))
		n += strlen("docker.io/");
	if (berth_str_has_prefix(n, "library/") && strchr(n + 8, '/') == NULL)
		n += strlen("library/");
	return berth_xasprintf("%s%s%s", n, strchr(image, '@') ? "@" : ":", tag);
}

/* POST /images/create?fromImage=...&tag=..., its messages on stderr. */
static int pull_image(berth_cli *cli, const berth_create_plan *plan, const char *image,
		      berth_error **err)
{
	berth_client *c;
	if (berth_cli_client(cli, &c, err) < 0)
		return -1;
	char *name cleanup_free = NULL, *tag cleanup_free = NULL;
	split_reference(image, &name, &tag);
	char *ename cleanup_free = berth_url_encode(name), *etag cleanup_free = berth_url_encode(tag);
	berth_buf path cleanup_buf = {0};
	berth_buf_printf(&path, "/images/create?fromImage=%s&tag=%s", ename, etag);
	if (plan->platform && *plan->platform) {
		char *ep cleanup_free = berth_url_encode(plan->platform);
		berth_buf_printf(&path, "&platform=%s", ep);
	}
	pull_state p = {.cli = cli, .quiet = plan->quiet};
	long status = 0;
	int r = berth_client_stream(c, "POST", path.data, NULL, NULL, 0, &status, pull_chunk, &p, err);
	if (r == 0 && p.line.len)
		pull_message(&p, p.line.data, p.line.len);
	berth_buf_reset(&p.line);
	if (r < 0 && status >= 400)
		berth_error_wrap(err, "Error response from daemon");
	if (r == 0 && p.err)
		return berth_error_propagate(&p.err, err);
	berth_error_free(&p.err);
	return r;
}

/* --------------------------------------------------------------- create */

static int cidfile_open(const char *path, int *fd, berth_error **err)
{
	*fd = -1;
	if (path == NULL || *path == '\0')
		return 0;
	struct stat st;
	if (stat(path, &st) == 0)
		return berth_error_set(err, 400, "container ID file found, make sure the other "
						 "container isn't running or delete %s", path);
	*fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (*fd < 0)
		return berth_error_set(err, 400, "failed to create the container ID file: open %s: %s",
				       path, strerror(errno));
	return 0;
}

static int create_request(berth_cli *cli, const berth_create_plan *plan, json_t **resp,
			  berth_error **err)
{
	berth_buf path cleanup_buf = {0};
	berth_buf_puts(&path, "/containers/create");
	if (plan->name) {
		char *enc cleanup_free = berth_url_encode(plan->name);
		berth_buf_printf(&path, "?name=%s", enc);
	}
	if (plan->platform && *plan->platform) {
		char *enc cleanup_free = berth_url_encode(plan->platform);
		berth_buf_printf(&path, "%splatform=%s", plan->name ? "&" : "?", enc);
	}
	return berth_cli_call(cli, "POST", path.data, plan->body, resp, err);
}

/* docker's createContainer: --pull, the create call, warnings, --cidfile. */
static int create_container(berth_cli *cli, const berth_create_plan *plan, char **id,
			    berth_error **err)
{
	int cid_fd cleanup_close = -1;
	if (cidfile_open(plan->cidfile, &cid_fd, err) < 0)
		return -1;
	const char *image = berth_cli_str(plan->body, "Image");
	json_t *resp cleanup_json = NULL;
	int r = strcmp(plan->pull, "always") == 0 ? pull_image(cli, plan, image, err) : 0;
	if (r == 0)
		r = create_request(cli, plan, &resp, err);
	if (r < 0 && (*err)->status == 404 && strcmp(plan->pull, "missing") == 0 &&
	    !berth_str_has_prefix(image, "sha256:")) {
		if (!plan->quiet) {
			char *familiar cleanup_free = familiar_reference(image);
			fprintf(cli->err, "Unable to find image '%s' locally\n", familiar);
		}
		berth_error_free(err);
		r = pull_image(cli, plan, image, err);
		if (r == 0)
			r = create_request(cli, plan, &resp, err);
	}
	if (r < 0) {
		if (cid_fd >= 0)
			unlink(plan->cidfile);
		return -1;
	}
	size_t i;
	json_t *w;
	json_array_foreach(json_object_get(resp, "Warnings"), i, w)
		fprintf(cli->err, "WARNING: %s\n", json_string_value(w));
	*id = berth_xstrdup(berth_cli_str(resp, "Id"));
	if (cid_fd >= 0 && berth_write_all(cid_fd, *id, strlen(*id)) < 0)
		return berth_error_set_errno(err, errno, "failed to write the container ID to the file");
	return 0;
}

/* Parses run's or create's flags and builds the request: false when the
 * command is over (*status set). */
static bool create_parse(berth_invocation *inv, berth_create_cmd cmd, berth_create_opts **opts,
			 berth_create_plan *plan, int *status)
{
	berth_flag *flags;
	size_t nflags;
	*opts = berth_create_opts_new(cmd, &flags, &nflags);
	inv->args_end_flags = true;
	if (!berth_cli_parse(inv, flags, nflags, status))
		return false;
	berth_error *err cleanup_error = NULL;
	if (berth_create_opts_build(*opts, &inv->args, plan, &err) < 0) {
		report_error(inv->cli, inv->cmd->name, err->msg);
		*status = BERTH_EXIT_USAGE;
		return false;
	}
	if (plan->sig_proxy && plan->detach)
		plan->sig_proxy = false; /* nothing to forward to once detached */
	return true;
}

int berth_cli_create(berth_invocation *inv)
{
	berth_create_opts *opts = NULL;
	berth_create_plan plan = {0};
	int status = BERTH_EXIT_OK;
	if (create_parse(inv, BERTH_CREATE_CMD_CREATE, &opts, &plan, &status)) {
		berth_error *err cleanup_error = NULL;
		char *id cleanup_free = NULL;
		if (create_container(inv->cli, &plan, &id, &err) < 0)
			status = berth_cli_fail(inv->cli, &err, BERTH_EXIT_ERROR);
		else
			fprintf(inv->cli->out, "%s\n", id);
	}
	berth_create_plan_reset(&plan);
	berth_create_opts_free(opts);
	return status;
}

/* ------------------------------------------------------------------ run */

typedef struct run_state {
	berth_cli *cli;
	berth_create_plan *plan;
	char *id;
	bool in, out, err, tty;
	berth_stream stream;
	bool attached;
	berth_client_call *wait;
} run_state;

static bool body_bool(const json_t *body, const char *key)
{
	return json_is_true(json_object_get(body, key));
}

/* -d clears the attach flags; without -d the terminal must fit -it. */
static int run_prepare(run_state *st, berth_error **err)
{
	json_t *body = st->plan->body;
	if (st->plan->detach) {
		if (st->plan->attach_given)
			return berth_error_set(err, 400, "conflicting options: cannot specify both "
							 "--attach and --detach");
		static const char *const off[] = {"AttachStdin", "AttachStdout", "AttachStderr",
						  "StdinOnce"};
		for (size_t i = 0; i < BERTH_ARRAY_SIZE(off); i++)
			json_object_set_new(body, off[i], json_false());
	}
	st->in = body_bool(body, "AttachStdin");
	st->out = body_bool(body, "AttachStdout");
	st->err = body_bool(body, "AttachStderr");
	st->tty = body_bool(body, "Tty");
	if (!st->plan->detach)
		return berth_check_tty(st->in, st->tty, err);
	return 0;
}

static int run_attach(run_state *st, berth_error **err)
{
	berth_stream *s = &st->stream;
	s->in_fd = st->in ? STDIN_FILENO : -1;
	s->tty = st->tty;
	s->out = st->out;
	s->err = st->err;
	s->id = st->id;
	s->detach_keys = berth_cli_detach_keys(st->cli, st->plan->detach_keys);
	s->resize = st->tty && isatty(STDOUT_FILENO);
	if (!(st->in || st->out || st->err))
		return 0;
	st->attached = true;
	return berth_cli_attach_open(st->cli, st->id, st->in, st->out, st->err, s->detach_keys, s,
				     err);
}

static int run_start(run_state *st, berth_error **err)
{
	char *path cleanup_free = berth_xasprintf("/containers/%s/start", st->id);
	return berth_cli_call(st->cli, "POST", path, NULL, NULL, err);
}

/* After a successful start: resize, stream, then the exit status. */
static int stream_and_wait(run_state *st)
{
	berth_error *err cleanup_error = NULL;
	if (st->attached && st->stream.resize)
		berth_stream_resize(st->cli, st->id, false, 0);
	if (st->attached) {
		berth_stream_end end = berth_stream_run(&st->stream, &err);
		if (end == BERTH_STREAM_DETACHED)
			return BERTH_EXIT_OK;
		if (end == BERTH_STREAM_FAILED)
			return berth_cli_fail(st->cli, &err, BERTH_EXIT_ERROR);
	}
	if (!st->out && !st->err)
		return BERTH_EXIT_OK;
	return berth_cli_wait_finish(st->cli, berth_steal_ptr(&st->wait), &st->stream);
}

/* --rm after a failed start: dockerd removes the container itself and the
 * CLI waits for that; removing it here too keeps the wait from hanging on a
 * daemon that does not (a second removal just fails). */
static void remove_unstarted(run_state *st)
{
	char *path cleanup_free = berth_xasprintf("/containers/%s?v=1&force=1", st->id);
	berth_error *err cleanup_error = NULL;
	berth_cli_call(st->cli, "DELETE", path, NULL, NULL, &err);
	berth_cli_wait_finish(st->cli, berth_steal_ptr(&st->wait), &st->stream);
}

/* Attach, wait, start, stream (run and start -a); returns the exit status.
 * A start error is run's "berth: ..." with 125/126/127, or start's plain
 * message and 1. */
static int attach_and_start(run_state *st, bool run)
{
	berth_cli *cli = st->cli;
	berth_error *err cleanup_error = NULL;
	if (run_attach(st, &err) < 0)
		return berth_cli_fail(cli, &err, BERTH_EXIT_ERROR);
	if (!st->plan->detach)
		st->wait = berth_cli_wait_send(cli, st->id,
					       st->plan->auto_remove ? "removed" : "next-exit");
	if (run_start(st, &err) == 0)
		return stream_and_wait(st);
	berth_stream_close(&st->stream);
	int status = BERTH_EXIT_ERROR;
	if (run) {
		report_error(cli, "run", err->msg);
		status = start_error_status(err->msg);
	} else {
		fprintf(cli->err, "%s\n", err->msg);
	}
	if (st->plan->auto_remove)
		remove_unstarted(st);
	return status;
}

/* The signals to watch: all forwarded with --sig-proxy, else SIGWINCH when
 * a TTY follows the terminal's size. */
static int run_signals(bool proxy, bool tty)
{
	if (proxy)
		return berth_signals_open(true);
	if (tty && isatty(STDOUT_FILENO))
		return berth_signals_open(false);
	return -1;
}

static void run_state_reset(run_state *st)
{
	berth_stream_close(&st->stream);
	berth_signals_close(st->stream.sig_fd);
	st->stream.sig_fd = -1;
	berth_client_call_free(st->wait);
	st->wait = NULL;
	free(st->id);
	st->id = NULL;
}

static int run_plan(berth_invocation *inv, berth_create_plan *plan)
{
	berth_cli *cli = inv->cli;
	run_state st = {.cli = cli, .plan = plan, .stream = {.cli = cli, .conn = -1, .sig_fd = -1}};
	berth_error *err cleanup_error = NULL;
	if (run_prepare(&st, &err) < 0)
		return berth_cli_fail(cli, &err, BERTH_EXIT_ERROR);
	if (create_container(cli, plan, &st.id, &err) < 0) {
		report_error(cli, "run", err->msg);
		return start_error_status(err->msg);
	}
	st.stream.sig_fd = run_signals(plan->sig_proxy, st.tty && !plan->detach);
	if (!st.out && !st.err)
		fprintf(cli->out, "%s\n", st.id);
	fflush(cli->out);
	int status = attach_and_start(&st, true);
	run_state_reset(&st);
	return status;
}

int berth_cli_run(berth_invocation *inv)
{
	berth_create_opts *opts = NULL;
	berth_create_plan plan = {0};
	int status = BERTH_EXIT_OK;
	if (create_parse(inv, BERTH_CREATE_CMD_RUN, &opts, &plan, &status))
		status = run_plan(inv, &plan);
	berth_create_plan_reset(&plan);
	berth_create_opts_free(opts);
	return status;
}

/* ---------------------------------------------------------------- start */

typedef struct start_opts {
	bool attach, interactive;
	const char *detach_keys, *checkpoint, *checkpoint_dir;
} start_opts;

/* start -a / -i: one container, attached as run does. */
static int start_attached(berth_invocation *inv, const start_opts *o)
{
	berth_cli *cli = inv->cli;
	berth_error *err cleanup_error = NULL;
	json_t *c cleanup_json = NULL;
	if (inv->args.n > 1) {
		fputs("you cannot start and attach multiple containers at once\n", cli->err);
		return BERTH_EXIT_ERROR;
	}
	if (berth_cli_inspect_container(cli, inv->args.v[0], &c, &err) < 0)
		return berth_cli_fail(cli, &err, BERTH_EXIT_ERROR);
	const json_t *config = json_object_get(c, "Config");
	berth_create_plan plan = {.detach_keys = o->detach_keys};
	plan.auto_remove = body_bool(json_object_get(c, "HostConfig"), "AutoRemove");
	run_state st = {.cli = cli, .plan = &plan, .out = true, .err = true,
			.stream = {.cli = cli, .conn = -1, .sig_fd = -1}};
	st.tty = body_bool(config, "Tty");
	st.in = o->interactive && body_bool(config, "OpenStdin");
	st.id = berth_xstrdup(berth_cli_str(c, "Id"));
	st.stream.sig_fd = run_signals(!st.tty, st.tty);
	int status = attach_and_start(&st, false);
	run_state_reset(&st);
	return status;
}

/* Without -a: each container in turn, errors as they come, then a summary. */
static int start_each(berth_invocation *inv)
{
	berth_buf failed cleanup_buf = {0};
	for (size_t i = 0; i < inv->args.n; i++) {
		berth_error *err cleanup_error = NULL;
		char *path cleanup_free = berth_cli_container_path(inv->args.v[i], "/start");
		if (berth_cli_call(inv->cli, "POST", path, NULL, NULL, &err) < 0) {
			fprintf(inv->cli->err, "%s\n", err->msg);
			berth_buf_printf(&failed, "%s%s", failed.len ? ", " : "", inv->args.v[i]);
			continue;
		}
		fprintf(inv->cli->out, "%s\n", inv->args.v[i]);
		fflush(inv->cli->out);
	}
	if (failed.len == 0)
		return BERTH_EXIT_OK;
	fprintf(inv->cli->err, "Error: failed to start containers: %s\n", failed.data);
	return BERTH_EXIT_ERROR;
}

int berth_cli_start(berth_invocation *inv)
{
	start_opts o = {0};
	berth_flag flags[] = {
		{"attach", 'a', BERTH_FLAG_BOOL, &o.attach, "Attach STDOUT/STDERR and forward signals"},
		/* experimental in docker: hidden unless the daemon is experimental */
		{"checkpoint", 0, BERTH_FLAG_STRING, &o.checkpoint, "Restore from this checkpoint",
		 .hidden = true},
		{"checkpoint-dir", 0, BERTH_FLAG_STRING, &o.checkpoint_dir,
		 "Use a custom checkpoint storage directory", .hidden = true},
		{"detach-keys", 0, BERTH_FLAG_STRING, &o.detach_keys,
		 "Override the key sequence for detaching a container"},
		{"interactive", 'i', BERTH_FLAG_BOOL, &o.interactive, "Attach container's STDIN"},
	};
	int status;
	if (!berth_cli_parse(inv, flags, BERTH_ARRAY_SIZE(flags), &status))
		return status;
	if (o.checkpoint && *o.checkpoint) {
		fputs("berth: checkpoints are not supported\n", inv->cli->err);
		return BERTH_EXIT_ERROR;
	}
	if (o.attach || o.interactive)
		return start_attached(inv, &o);
	return start_each(inv);
}

/* --------------------------------------------------- one call per object */

/*
 * stop, restart, kill, pause, unpause, rm and wait: one request per
 * container, up to 50 in flight on connections of their own (as docker's
 * parallelOperation), answers taken in the order given; each success prints
 * the name (wait: the exit code), errors are listed at the end.
 */
typedef struct each_op {
	const char *method;
	const char *suffix; /* after /containers/<name>, query included */
	bool trim_slashes;  /* rm: "/name" is "name" */
	bool print_status;  /* wait */
	bool missing_ok;    /* rm -f: "No such container" is only reported */
	const char *body;   /* a JSON request body (update), or NULL */
} each_op;

#define EACH_PARALLEL 50

static berth_client_call *each_send(berth_cli *cli, const each_op *op, const char *name,
				    berth_error **err)
{
	berth_client *c;
	char *trimmed cleanup_free = berth_xstrdup(name);
	if (op->trim_slashes) {
		char *p = trimmed;
		while (*p == '/')
			p++;
		memmove(trimmed, p, strlen(p) + 1);
		for (size_t n = strlen(trimmed); n > 0 && trimmed[n - 1] == '/'; n--)
			trimmed[n - 1] = '\0';
		if (*trimmed == '\0') {
			berth_error_set(err, 400, "container name cannot be empty");
			return NULL;
		}
	}
	char *path cleanup_free = berth_cli_container_path(trimmed, op->suffix);
	berth_client_call *call = NULL;
	if (berth_cli_client(cli, &c, err) < 0 ||
	    berth_client_call_send(c, op->method, path, op->body ? "application/json" : NULL, op->body,
				   op->body ? strlen(op->body) : 0, &call, err) < 0)
		return NULL;
	return call;
}

/* The answer to one request: 0 and the line to print, or -1 with err. */
static int each_finish(berth_client_call *call, const each_op *op, const char *name,
		       char **line, berth_error **err)
{
	berth_client_response resp = {0};
	int r = berth_client_call_finish(call, &resp, err);
	if (r == 0 && resp.status >= 400) {
		char *msg cleanup_free = berth_client_error_message(&resp);
		r = berth_error_set(err, (int)resp.status, "Error response from daemon: %s", msg);
	}
	json_t *j cleanup_json = NULL;
	if (r == 0 && op->print_status && berth_json_parse(resp.body.data, resp.body.len, &j, err) == 0)
		*line = berth_xasprintf("%lld", (long long)json_integer_value(
							json_object_get(j, "StatusCode")));
	else if (r == 0 && !op->print_status)
		*line = berth_xstrdup(name);
	else if (r == 0)
		r = -1;
	berth_client_response_reset(&resp);
	return r;
}

static int for_each_container(berth_invocation *inv, const each_op *op)
{
	berth_cli *cli = inv->cli;
	size_t n = inv->args.n;
	berth_client_call **calls = berth_xcalloc(n + 1, sizeof(*calls));
	berth_error **errs = berth_xcalloc(n + 1, sizeof(*errs));
	berth_strlist failures cleanup_strlist = {0};
	for (size_t i = 0; i < n && i < EACH_PARALLEL; i++)
		calls[i] = each_send(cli, op, inv->args.v[i], &errs[i]);
	for (size_t i = 0; i < n; i++) {
		char *line cleanup_free = NULL;
		if (calls[i])
			each_finish(calls[i], op, inv->args.v[i], &line, &errs[i]);
		berth_client_call_free(calls[i]);
		if (i + EACH_PARALLEL < n)
			calls[i + EACH_PARALLEL] = each_send(cli, op, inv->args.v[i + EACH_PARALLEL],
							     &errs[i + EACH_PARALLEL]);
		if (line) {
			fprintf(cli->out, "%s\n", line);
			fflush(cli->out);
		} else if (errs[i] && op->missing_ok && errs[i]->status == 404) {
			fprintf(cli->err, "%s\n", errs[i]->msg);
		} else if (errs[i]) {
			berth_strlist_push(&failures, errs[i]->msg);
		}
		berth_error_free(&errs[i]);
	}
	free(calls);
	free(errs);
	return berth_cli_report_errors(cli, &failures);
}

/* ------------------------------------------------ stop, restart, kill... */

static int signal_query(berth_buf *q, const char *timeout, bool timeout_set, const char *signal)
{
	if (timeout_set) {
		int64_t t;
		berth_cli_parse_int(timeout, &t, NULL);
		berth_buf_printf(q, "%st=%lld", q->len ? "&" : "?", (long long)t);
	}
	if (signal && *signal) {
		char *enc cleanup_free = berth_url_encode(signal);
		berth_buf_printf(q, "%ssignal=%s", q->len ? "&" : "?", enc);
	}
	return 0;
}

static int check_int_flag(const char *v, berth_error **err)
{
	int64_t n;
	return berth_cli_parse_int(v, &n, err);
}

/* stop and restart: -s/--signal, -t/--timeout (and the hidden --time). */
static int stop_like(berth_invocation *inv, const char *action)
{
	const char *signal = NULL, *timeout = NULL;
	berth_flag flags[] = {
		{"signal", 's', BERTH_FLAG_STRING, &signal, "Signal to send to the container"},
		{"time", 0, BERTH_FLAG_STRING, &timeout,
		 "Seconds to wait before killing the container (deprecated: use --timeout)", "int",
		 .check = check_int_flag, .hidden = true},
		{"timeout", 't', BERTH_FLAG_STRING, &timeout,
		 "Seconds to wait before killing the container", "int", .check = check_int_flag},
	};
	int status;
	if (!berth_cli_parse(inv, flags, BERTH_ARRAY_SIZE(flags), &status))
		return status;
	berth_buf q cleanup_buf = {0};
	signal_query(&q, timeout, flags[1].changed || flags[2].changed, signal);
	char *suffix cleanup_free = berth_xasprintf("/%s%s", action, q.data ? q.data : "");
	each_op op = {.method = "POST", .suffix = suffix};
	return for_each_container(inv, &op);
}

int berth_cli_stop(berth_invocation *inv)
{
	return stop_like(inv, "stop");
}

int berth_cli_restart(berth_invocation *inv)
{
	return stop_like(inv, "restart");
}

int berth_cli_kill(berth_invocation *inv)
{
	const char *signal = NULL;
	berth_flag flags[] = {
		{"signal", 's', BERTH_FLAG_STRING, &signal, "Signal to send to the container"},
	};
	int status;
	if (!berth_cli_parse(inv, flags, BERTH_ARRAY_SIZE(flags), &status))
		return status;
	berth_buf q cleanup_buf = {0};
	signal_query(&q, NULL, false, signal);
	char *suffix cleanup_free = berth_xasprintf("/kill%s", q.data ? q.data : "");
	each_op op = {.method = "POST", .suffix = suffix};
	return for_each_container(inv, &op);
}

static int no_flags(berth_invocation *inv, const each_op *op)
{
	int status;
	if (!berth_cli_parse(inv, NULL, 0, &status))
		return status;
	return for_each_container(inv, op);
}

int berth_cli_pause(berth_invocation *inv)
{
	return no_flags(inv, &(each_op){.method = "POST", .suffix = "/pause"});
}

int berth_cli_unpause(berth_invocation *inv)
{
	return no_flags(inv, &(each_op){.method = "POST", .suffix = "/unpause"});
}

int berth_cli_wait(berth_invocation *inv)
{
	return no_flags(inv, &(each_op){.method = "POST", .suffix = "/wait", .print_status = true});
}

int berth_cli_rm(berth_invocation *inv)
{
	bool force = false, link = false, volumes = false;
	berth_flag flags[] = {
		{"force", 'f', BERTH_FLAG_BOOL, &force,
		 "Force the removal of a running container (uses SIGKILL)"},
		{"link", 'l', BERTH_FLAG_BOOL, &link, "Remove the specified link"},
		{"volumes", 'v', BERTH_FLAG_BOOL, &volumes,
		 "Remove anonymous volumes associated with the container"},
	};
	int status;
	if (!berth_cli_parse(inv, flags, BERTH_ARRAY_SIZE(flags), &status))
		return status;
	berth_buf q cleanup_buf = {0};
	if (volumes)
		berth_buf_puts(&q, "&v=1");
	if (link)
		berth_buf_puts(&q, "&link=1");
	if (force)
		berth_buf_puts(&q, "&force=1");
	if (q.len)
		q.data[0] = '?';
	each_op op = {.method = "DELETE", .suffix = q.data ? q.data : "", .trim_slashes = true,
		      .missing_ok = force};
	return for_each_container(inv, &op);
}

/* Go's strings.TrimSpace, in place. */
static char *trim_space(char *s)
{
	size_t n = strlen(s), start = 0;
	while (start < n && isspace((unsigned char)s[start]))
		start++;
	while (n > start && isspace((unsigned char)s[n - 1]))
		n--;
	memmove(s, s + start, n - start);
	s[n - start] = '\0';
	return s;
}

int berth_cli_rename(berth_invocation *inv)
{
	int status;
	if (!berth_cli_parse(inv, NULL, 0, &status))
		return status;
	char *old_name cleanup_free = berth_xstrdup(inv->args.v[0]);
	char *new_name cleanup_free = berth_xstrdup(inv->args.v[1]);
	trim_space(old_name);
	trim_space(new_name);
	if (*old_name == '\0' || *new_name == '\0') {
		fputs("Error: Neither old nor new names may be empty\n", inv->cli->err);
		return BERTH_EXIT_ERROR;
	}
	char *enc cleanup_free = berth_url_encode(new_name);
	char *suffix cleanup_free = berth_xasprintf("/rename?name=%s", enc);
	char *path cleanup_free = berth_cli_container_path(old_name, suffix);
	berth_error *err cleanup_error = NULL;
	if (berth_cli_call(inv->cli, "POST", path, NULL, NULL, &err) < 0) {
		fprintf(inv->cli->err, "%s\nError: failed to rename container named %s\n", err->msg,
			old_name);
		return BERTH_EXIT_ERROR;
	}
	return BERTH_EXIT_OK;
}

/* docker top: the daemon's ps table, with docker's tabwriter (20, 1, 3). */
void berth_cli_top_rows(const json_t *top, berth_buf *text)
{
	size_t i, j;
	json_t *v, *row;
	json_array_foreach(json_object_get(top, "Titles"), i, v)
		berth_buf_printf(text, "%s%s", i ? "\t" : "", json_string_value(v));
	berth_buf_puts(text, "\n");
	json_array_foreach(json_object_get(top, "Processes"), i, row) {
		json_array_foreach(row, j, v)
			berth_buf_printf(text, "%s%s", j ? "\t" : "", json_string_value(v));
		berth_buf_puts(text, "\n");
	}
}

int berth_cli_top(berth_invocation *inv)
{
	inv->args_end_flags = true;
	int status;
	if (!berth_cli_parse(inv, NULL, 0, &status))
		return status;
	berth_buf q cleanup_buf = {0};
	for (size_t i = 1; i < inv->args.n; i++)
		berth_buf_printf(&q, "%s%s", i > 1 ? " " : "", inv->args.v[i]);
	char *enc cleanup_free = berth_url_encode(q.data ? q.data : "");
	char *suffix cleanup_free = berth_xasprintf("/top%s%s", q.len ? "?ps_args=" : "",
						    q.len ? enc : "");
	char *path cleanup_free = berth_cli_container_path(inv->args.v[0], suffix);
	json_t *top cleanup_json = NULL;
	berth_error *err cleanup_error = NULL;
	if (berth_cli_call(inv->cli, "GET", path, NULL, &top, &err) < 0)
		return berth_cli_fail(inv->cli, &err, BERTH_EXIT_ERROR);
	berth_buf text cleanup_buf = {0}, out cleanup_buf = {0};
	berth_cli_top_rows(top, &text);
	berth_tabwriter_format(text.data, text.len, 20, 3, &out);
	berth_cli_write(inv->cli, &out);
	return BERTH_EXIT_OK;
}

int berth_cli_update(berth_invocation *inv)
{
	berth_flag *flags;
	size_t nflags;
	berth_create_opts *o = berth_create_opts_new(BERTH_CREATE_CMD_UPDATE, &flags, &nflags);
	int status;
	if (!berth_cli_parse(inv, flags, nflags, &status)) {
		berth_create_opts_free(o);
		return status;
	}
	json_t *body cleanup_json = NULL;
	berth_error *err cleanup_error = NULL;
	int rc = berth_create_opts_update(o, &body, &err);
	berth_create_opts_free(o);
	if (rc < 0)
		return berth_cli_fail(inv->cli, &err, BERTH_EXIT_ERROR);
	char *text cleanup_free = berth_json_dump(body);
	return for_each_container(inv, &(each_op){.method = "POST", .suffix = "/update", .body = text});
}

/* ------------------------------------------------------ berth container */

/* The rows are cli.h's BERTH_CLI_CONTAINER_ROW, shared with the top level. */
const berth_command berth_cli_container_commands[] = {
	BERTH_CLI_ATTACH_ROW(NULL),
	BERTH_CLI_COMMIT_ROW(NULL),
	BERTH_CLI_CP_ROW(NULL),
	BERTH_CLI_CREATE_ROW(NULL),
	BERTH_CLI_DIFF_ROW(NULL),
	BERTH_CLI_EXEC_ROW(NULL),
	BERTH_CLI_EXPORT_ROW(NULL),
	{"inspect", "[OPTIONS] CONTAINER [CONTAINER...]",
	 "Display detailed information on one or more containers", NULL, NULL, 1, -1,
	 berth_cli_typed_inspect, NULL},
	BERTH_CLI_KILL_ROW(NULL),
	BERTH_CLI_LOGS_ROW(NULL),
	BERTH_CLI_PS_ROW("ls", NULL),
	BERTH_CLI_PAUSE_ROW(NULL),
	BERTH_CLI_PORT_ROW(NULL),
	{"prune", "[OPTIONS]", "Remove all stopped containers", NULL, NULL, 0, 0,
	 berth_cli_container_prune, NULL},
	BERTH_CLI_RENAME_ROW(NULL),
	BERTH_CLI_RESTART_ROW(NULL),
	BERTH_CLI_RM_ROW(NULL),
	BERTH_CLI_RUN_ROW(NULL),
	BERTH_CLI_START_ROW(NULL),
	BERTH_CLI_STATS_ROW(NULL),
	BERTH_CLI_STOP_ROW(NULL),
	BERTH_CLI_TOP_ROW(NULL),
	BERTH_CLI_UNPAUSE_ROW(NULL),
	BERTH_CLI_UPDATE_ROW(NULL),
	BERTH_CLI_WAIT_ROW(NULL),
	{0},
};
