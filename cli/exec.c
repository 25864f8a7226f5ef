/*
 * exec.c - `berth exec`: POST /containers/{id}/exec, then POST
 * /exec/{id}/start hijacked (or detached with -d), the streams copied as for
 * run, and the exit code from GET /exec/{id}/json.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "container.h"

typedef struct exec_opts {
	bool detach, interactive, privileged, tty;
	const char *detach_keys, *user, *workdir;
	berth_strlist env, env_files;
} exec_opts;

static int check_env(const char *v, berth_error **err)
{
	if (*v == '=' || *v == '\0')
		return berth_error_set(err, 400, "invalid environment variable: %s", v);
	return 0;
}

static json_t *console_size(void)
{
	struct winsize ws;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0)
		ws.ws_row = ws.ws_col = 0;
	return json_pack("[i, i]", ws.ws_row, ws.ws_col);
}

/* docker's parseExec: the exec create request. */
static int exec_config(berth_cli *cli, const exec_opts *o, char *const *cmd, size_t ncmd,
		       json_t **out, berth_error **err)
{
	berth_strlist env cleanup_strlist = {0};
	for (size_t i = 0; i < o->env_files.n; i++)
		if (berth_cli_read_kv_file(o->env_files.v[i], true, &env, err) < 0)
			return -1;
	for (size_t i = 0; i < o->env.n; i++) {
		char *kv cleanup_free = berth_cli_env_value(o->env.v[i]);
		berth_strlist_push(&env, kv);
	}
	json_t *c = json_pack("{s:s, s:b, s:b, s:b, s:b, s:b, s:s}", "User", o->user ? o->user : "",
			      "Privileged", o->privileged, "Tty", o->tty, "AttachStdin",
			      !o->detach && o->interactive, "AttachStdout", !o->detach,
			      "AttachStderr", !o->detach, "WorkingDir", o->workdir ? o->workdir : "");
	const char *keys = berth_cli_detach_keys(cli, o->detach_keys);
	if (keys)
		json_object_set_new(c, "DetachKeys", json_string(keys));
	json_t *e = json_array(), *argv = json_array();
	for (size_t i = 0; i < env.n; i++)
		json_array_append_new(e, json_string(env.v[i]));
	for (size_t i = 0; i < ncmd; i++)
		json_array_append_new(argv, json_string(cmd[i]));
	json_object_set_new(c, "Env", e);
	json_object_set_new(c, "Cmd", argv);
	if (o->tty)
		json_object_set_new(c, "ConsoleSize", console_size());
	*out = c;
	return 0;
}

static int exec_create(berth_cli *cli, const char *container, const json_t *config, char **id,
		       berth_error **err)
{
	char *path cleanup_free = berth_cli_container_path(container, "/exec");
	json_t *resp cleanup_json = NULL;
	if (berth_cli_call(cli, "POST", path, config, &resp, err) < 0)
		return -1;
	const char *exec_id = berth_json_string(resp, "Id");
	if (exec_id == NULL || *exec_id == '\0')
		return berth_error_set(err, 500, "exec ID empty");
	*id = berth_xstrdup(exec_id);
	return 0;
}

/* The exit code of a finished exec, as docker's getExecExitStatus. The
 * stream may end a moment before the daemon has recorded the exit: a
 * process still running, or without an exit code yet, is asked again for up
 * to a second. */
static int exec_exit_status(berth_cli *cli, const char *id)
{
	char *path cleanup_free = berth_xasprintf("/exec/%s/json", id);
	for (int tries = 0;; tries++) {
		json_t *j cleanup_json = NULL;
		berth_error *err cleanup_error = NULL;
		if (berth_cli_call(cli, "GET", path, NULL, &j, &err) < 0) {
			if (err->status >= 400)
				return berth_cli_fail(cli, &err, BERTH_EXIT_ERROR);
			return 255; /* the daemon went away: docker's StatusCode -1 */
		}
		berth_debug("exec %s: Running %s, ExitCode %s", id,
			    json_is_true(json_object_get(j, "Running")) ? "true" : "false",
			    json_is_integer(json_object_get(j, "ExitCode")) ? "set" : "null");
		bool done = !json_is_true(json_object_get(j, "Running")) &&
			    json_is_integer(json_object_get(j, "ExitCode"));
		if (done || tries == 100)
			return (int)json_integer_value(json_object_get(j, "ExitCode"));
		usleep(10000);
	}
}

static int exec_attached(berth_cli *cli, const json_t *config, const char *id)
{
	bool tty = json_is_true(json_object_get(config, "Tty"));
	bool in = json_is_true(json_object_get(config, "AttachStdin"));
	berth_stream s = {.cli = cli, .conn = -1, .in_fd = in ? STDIN_FILENO : -1, .tty = tty,
			  .out = true, .err = true, .id = id, .is_exec = true, .sig_fd = -1};
	s.detach_keys = berth_json_string(config, "DetachKeys");
	s.resize = tty && isatty(STDIN_FILENO);
	json_t *start cleanup_json = json_pack("{s:b, s:b}", "Detach", false, "Tty", tty);
	if (tty)
		json_object_set_new(start, "ConsoleSize", console_size());
	char *body cleanup_free = berth_json_dump(start);
	char *path cleanup_free = berth_xasprintf("/exec/%s/start", id);
	berth_error *err cleanup_error = NULL;
	berth_client *c;
	if (berth_cli_client(cli, &c, &err) < 0 ||
	    berth_client_hijack(c, "POST", path, "application/json", body, strlen(body), &s.conn,
				&s.pending, &err) < 0) {
		if (err->status >= 400)
			berth_error_wrap(&err, "Error response from daemon");
		return berth_cli_fail(cli, &err, BERTH_EXIT_ERROR);
	}
	if (s.resize) {
		s.sig_fd = berth_signals_open(false);
		berth_stream_resize(cli, id, true, 0);
	}
	berth_stream_end end = berth_stream_run(&s, &err);
	berth_stream_close(&s);
	berth_signals_close(s.sig_fd);
	if (end == BERTH_STREAM_FAILED)
		return berth_cli_fail(cli, &err, BERTH_EXIT_ERROR);
	if (end == BERTH_STREAM_DETACHED)
		return BERTH_EXIT_OK;
	return exec_exit_status(cli, id);
}

static int exec_detached(berth_cli *cli, const json_t *config, const char *id)
{
	json_t *start cleanup_json = json_pack("{s:b, s:b}", "Detach", true, "Tty",
					       json_is_true(json_object_get(config, "Tty")));
	if (json_object_get(config, "ConsoleSize"))
		json_object_set(start, "ConsoleSize", json_object_get(config, "ConsoleSize"));
	char *path cleanup_free = berth_xasprintf("/exec/%s/start", id);
	berth_error *err cleanup_error = NULL;
	if (berth_cli_call(cli, "POST", path, start, NULL, &err) < 0)
		return berth_cli_fail(cli, &err, BERTH_EXIT_ERROR);
	return BERTH_EXIT_OK;
}

static int exec_run(berth_cli *cli, const exec_opts *o, const berth_strlist *args)
{
	berth_error *err cleanup_error = NULL;
	json_t *config cleanup_json = NULL;
	json_t *container cleanup_json = NULL;
	char *id cleanup_free = NULL;
	if (exec_config(cli, o, args->v + 1, args->n - 1, &config, &err) < 0 ||
	    berth_cli_inspect_container(cli, args->v[0], &container, &err) < 0)
		return berth_cli_fail(cli, &err, BERTH_EXIT_ERROR);
	if (!o->detach && berth_check_tty(json_is_true(json_object_get(config, "AttachStdin")),
					  o->tty, &err) < 0)
		return berth_cli_fail(cli, &err, BERTH_EXIT_ERROR);
	if (exec_create(cli, args->v[0], config, &id, &err) < 0)
		return berth_cli_fail(cli, &err, BERTH_EXIT_ERROR);
	if (o->detach)
		return exec_detached(cli, config, id);
	return exec_attached(cli, config, id);
}

int berth_cli_exec(berth_invocation *inv)
{
	exec_opts o = {0};
	berth_flag flags[] = {
		{"detach", 'd', BERTH_FLAG_BOOL, &o.detach, "Detached mode: run command in the background"},
		{"detach-keys", 0, BERTH_FLAG_STRING, &o.detach_keys,
		 "Override the key sequence for detaching a container"},
		{"env", 'e', BERTH_FLAG_LIST, &o.env, "Set environment variables", .check = check_env},
		{"env-file", 0, BERTH_FLAG_LIST, &o.env_files, "Read in a file of environment variables"},
		{"interactive", 'i', BERTH_FLAG_BOOL, &o.interactive,
		 "Keep STDIN open even if not attached"},
		{"privileged", 0, BERTH_FLAG_BOOL, &o.privileged, "Give extended privileges to the command"},
		{"tty", 't', BERTH_FLAG_BOOL, &o.tty, "Allocate a pseudo-TTY"},
		{"user", 'u', BERTH_FLAG_STRING, &o.user,
		 "Username or UID (format: \"<name|uid>[:<group|gid>]\")"},
		{"workdir", 'w', BERTH_FLAG_STRING, &o.workdir, "Working directory inside the container"},
	};
	int status;
	inv->args_end_flags = true;
	if (berth_cli_parse(inv, flags, BERTH_ARRAY_SIZE(flags), &status))
		status = exec_run(inv->cli, &o, &inv->args);
	berth_strlist_reset(&o.env);
	berth_strlist_reset(&o.env_files);
	return status;
}
