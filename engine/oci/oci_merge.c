/* oci_merge.c - dockerd's merge of the image config into Config, and what
 * the process runs: args (Entrypoint/Cmd) and env. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* An unset string member takes the image's. */
static void merge_string(json_t *cfg, const json_t *img, const char *key)
{
	const char *mine = berth_json_string(cfg, key);
	const char *theirs = berth_json_string(img, key);
	if ((mine == NULL || *mine == '\0') && theirs != NULL)
		json_object_set_new(cfg, key, json_string(theirs));
}

/* A set-like object (ExposedPorts, Volumes, Labels) gets the image's keys
 * it lacks; for Labels an absent object becomes {} as in dockerd. */
static void merge_keys(json_t *cfg, const json_t *img, const char *key, bool always)
{
	json_t *mine = json_object_get(cfg, key);
	const json_t *theirs = json_object_get(img, key);
	if (!json_is_object(mine)) {
		if (!json_is_object(theirs) && !always)
			return;
		mine = json_object();
		json_object_set_new(cfg, key, mine);
	}
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)theirs, k, v) {
		if (json_object_get(mine, k) == NULL)
			json_object_set(mine, k, v);
	}
}

static size_t env_key_len(const char *e)
{
	const char *eq = strchr(e, '=');
	return eq ? (size_t)(eq - e) : strlen(e);
}

static bool env_has_key(const json_t *env, const char *e)
{
	size_t n = env_key_len(e), i;
	const json_t *v;
	json_array_foreach(env, i, v) {
		const char *s = json_string_value(v);
		if (s && env_key_len(s) == n && strncmp(s, e, n) == 0)
			return true;
	}
	return false;
}

/* The request's Env first, then the image's entries for keys it lacks. */
static void merge_env(json_t *cfg, const json_t *img_env)
{
	json_t *env = json_object_get(cfg, "Env");
	if (!json_is_array(img_env))
		return;
	if (!json_is_array(env) || json_array_size(env) == 0) {
		json_object_set_new(cfg, "Env", json_deep_copy(img_env));
		return;
	}
	size_t i;
	json_t *v;
	json_t *add = json_array();
	json_array_foreach(img_env, i, v) {
		if (json_is_string(v) && !env_has_key(env, json_string_value(v)))
			json_array_append(add, v);
	}
	json_array_extend(env, add);
	json_decref(add);
}

/* Healthcheck: the request's fields, each unset one taken from the image's. */
static void merge_healthcheck(json_t *cfg, const json_t *img)
{
	static const char *const keys[] = {"Test", "Interval", "Timeout", "StartPeriod",
					   "StartInterval", "Retries"};
	const json_t *theirs = json_object_get(img, "Healthcheck");
	json_t *mine = json_object_get(cfg, "Healthcheck");
	if (!json_is_object(theirs))
		return;
	if (!json_is_object(mine)) {
		json_object_set_new(cfg, "Healthcheck", json_deep_copy(theirs));
		return;
	}
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(keys); i++) {
		json_t *v = json_object_get(mine, keys[i]);
		bool unset = v == NULL || json_is_null(v) ||
			     (json_is_integer(v) && json_integer_value(v) == 0) ||
			     (json_is_array(v) && json_array_size(v) == 0);
		const json_t *t = json_object_get(theirs, keys[i]);
		if (unset && t != NULL)
			json_object_set_new(mine, keys[i], json_deep_copy(t));
	}
}

/*
 * Entrypoint and Cmd, as daemon/create.go: only when the request has no
 * (or an empty) Entrypoint does the image's Cmd apply, and the image's
 * Entrypoint only when the request's is absent (null), not when it is [].
 */
static int merge_command(json_t *cfg, const json_t *img, berth_error **err)
{
	json_t *ep cleanup_json = NULL, *cmd cleanup_json = NULL;
	json_t *iep cleanup_json = NULL, *icmd cleanup_json = NULL;
	if (oci_strslice(cfg, "Entrypoint", &ep, err) < 0 ||
	    oci_strslice(cfg, "Cmd", &cmd, err) < 0 ||
	    oci_strslice(img, "Entrypoint", &iep, err) < 0 ||
	    oci_strslice(img, "Cmd", &icmd, err) < 0)
		return -1;
	if (json_array_size(ep) == 0) {
		if (json_array_size(cmd) == 0) {
			json_decref(cmd);
			cmd = icmd ? json_incref(icmd) : NULL;
		}
		if (ep == NULL && iep != NULL)
			ep = json_incref(iep);
	}
	json_object_set(cfg, "Entrypoint", ep ? ep : json_null());
	json_object_set(cfg, "Cmd", cmd ? cmd : json_null());
	return 0;
}

int berth_oci_config_merge(json_t *cfg, const json_t *img, berth_error **err)
{
	json_t *none cleanup_json = json_object();
	if (!json_is_object(img))
		img = none;
	merge_string(cfg, img, "User");
	merge_string(cfg, img, "WorkingDir");
	merge_string(cfg, img, "StopSignal");
	merge_keys(cfg, img, "ExposedPorts", false);
	merge_keys(cfg, img, "Volumes", false);
	merge_keys(cfg, img, "Labels", true);
	merge_env(cfg, json_object_get(img, "Env"));
	merge_healthcheck(cfg, img);
	if (merge_command(cfg, img, err) < 0)
		return -1;
	/* --entrypoint "" arrives as [""]: no entrypoint at all. */
	json_t *ep = json_object_get(cfg, "Entrypoint");
	if (json_array_size(ep) == 1 && strcmp(json_string_value(json_array_get(ep, 0)), "") == 0)
		json_object_set_new(cfg, "Entrypoint", json_null());
	return 0;
}

int berth_oci_command(const json_t *cfg, json_t **argv, berth_error **err)
{
	json_t *ep cleanup_json = NULL, *cmd cleanup_json = NULL;
	if (oci_strslice(cfg, "Entrypoint", &ep, err) < 0 ||
	    oci_strslice(cfg, "Cmd", &cmd, err) < 0)
		return -1;
	json_t *out = json_array();
	if (ep != NULL)
		json_array_extend(out, ep);
	if (cmd != NULL)
		json_array_extend(out, cmd);
	if (json_array_size(out) == 0) {
		json_decref(out);
		return berth_error_set(err, 400, "No command specified");
	}
	*argv = out;
	return 0;
}

/* dockerd's ReplaceOrAppendEnvValues over the daemon's defaults. */
json_t *berth_oci_env(const json_t *cfg, const char *hostname, bool tty)
{
	static const char *const keys[] = {"PATH", "HOSTNAME", "TERM"};
	char *h cleanup_free = berth_xasprintf("HOSTNAME=%s", hostname ? hostname : "");
	const char *defaults[] = {"PATH=" BERTH_OCI_DEFAULT_PATH, h, tty ? "TERM=xterm" : NULL};
	size_t ndefaults = tty ? 3 : 2, i;
	json_t *env = oci_string_list(defaults, ndefaults);
	const json_t *v;
	json_array_foreach(json_object_get(cfg, "Env"), i, v) {
		const char *e = json_string_value(v);
		if (e == NULL)
			continue;
		size_t klen = env_key_len(e), j;
		for (j = 0; j < ndefaults; j++) {
			if (strlen(keys[j]) == klen && strncmp(keys[j], e, klen) == 0)
				break;
		}
		/* "KEY" without '=' unsets a default; "" marks it for removal. */
		if (j < ndefaults)
			json_array_set_new(env, j, json_string(strchr(e, '=') ? e : ""));
		else if (strchr(e, '='))
			json_array_append_new(env, json_string(e));
	}
	for (i = ndefaults; i-- > 0;) {
		if (*json_string_value(json_array_get(env, i)) == '\0')
			json_array_remove(env, i);
	}
	return env;
}
