/* oci_process.c - the process runc starts: args (with --init), env, cwd,
 * terminal, OOM score, no-new-privileges (dockerd's WithCommonOptions). */
#include <string.h>

#include "internal.h"

/* --init (HostConfig.Init, else the daemon's --init) runs docker-init as
 * pid 1, but only in a PID namespace of the container's own. */
static int init_wanted(oci_ctx *c, bool *out, berth_error **err)
{
	bool init = c->in->init_default;
	if (berth_json_get_bool(c->hc, "Init", &init, err) < 0)
		return -1;
	*out = init && c->pid == OCI_NS_PRIVATE;
	return 0;
}

static void console_size(oci_ctx *c)
{
	const json_t *size = json_object_get(c->hc, "ConsoleSize");
	json_int_t h = json_integer_value(json_array_get(size, 0));
	json_int_t w = json_integer_value(json_array_get(size, 1));
	if (h > 0 || w > 0)
		json_object_set_new(c->process, "consoleSize",
				    json_pack("{s:I, s:I}", "height", h, "width", w));
}

int oci_process(oci_ctx *c, berth_error **err)
{
	json_t *argv = NULL;
	const char *cwd = NULL;
	json_int_t oom = 0;
	bool tty = false, init;
	const json_t *env_list = NULL;
	if (berth_oci_command(c->cfg, &argv, err) < 0)
		return -1;
	json_object_set_new(c->process, "args", argv);
	if (oci_str(c->cfg, "WorkingDir", &cwd, err) < 0 ||
	    berth_json_get_bool(c->cfg, "Tty", &tty, err) < 0 ||
	    oci_string_array(c->cfg, "Env", &env_list, err) < 0 ||
	    oci_int(c->hc, "OomScoreAdj", 0, &oom, err) < 0 || init_wanted(c, &init, err) < 0)
		return -1;
	if (init) {
		c->init = c->in->init_path ? c->in->init_path : BERTH_OCI_INIT_PATH;
		json_array_insert_new(argv, 0, json_string("--"));
		json_array_insert_new(argv, 0, json_string(BERTH_OCI_INIT_TARGET));
	}
	if (*cwd != '\0' && *cwd != '/')
		return berth_error_set(err, 400, "the working directory '%s' is invalid, it needs "
						 "to be an absolute path", cwd);
	char *clean = berth_path_clean(*cwd ? cwd : "/");
	json_object_set_new(c->process, "cwd", json_string(clean));
	free(clean);
	json_object_set_new(c->process, "env", berth_oci_env(c->cfg, c->hostname, tty));
	json_object_set_new(c->process, "terminal", json_boolean(c->in->console));
	if (c->in->console)
		console_size(c);
	json_object_set_new(c->process, "oomScoreAdj", json_integer(oom));
	if (c->sec.no_new_privileges)
		json_object_set_new(c->process, "noNewPrivileges", json_true());
	return 0;
}
