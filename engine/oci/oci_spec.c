/* oci_spec.c - berth_oci_spec_generate: the steps of oci_*.c in dockerd's
 * order (createSpec's SpecOpts), and writing config.json. */
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "internal.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

typedef int (*oci_step)(oci_ctx *c, berth_error **err);

/* User before capabilities (root gets effective/permitted), capabilities
 * before seccomp (its rules depend on them), namespaces before sysctls. */
static const oci_step steps[] = {
	oci_process, oci_cgroups_path, oci_resources, oci_devices, oci_rlimits, oci_namespaces,
	oci_sysctls, oci_user, oci_capabilities, oci_seccomp, oci_mounts,
};

bool berth_oci_cgroup2_host(void)
{
	struct statfs fs;
	return statfs("/sys/fs/cgroup", &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC;
}

/* Config.Hostname, else what dockerd gives: the host's name with the
 * host's network, the short ID otherwise. */
static char *default_hostname(const oci_ctx *c)
{
	const char *h = berth_json_string(c->cfg, "Hostname");
	if (h != NULL && *h != '\0')
		return berth_xstrdup(h);
	if (c->net == OCI_NS_HOST) {
		char name[256] = "";
		if (gethostname(name, sizeof(name) - 1) == 0)
			return berth_xstrdup(name);
	}
	return berth_xstrndup(c->in->id, 12);
}

static int modes(oci_ctx *c, berth_error **err)
{
	const char *net = NULL, *pid = NULL, *ipc = NULL, *uts = NULL;
	if (oci_str(c->hc, "NetworkMode", &net, err) < 0 ||
	    oci_str(c->hc, "PidMode", &pid, err) < 0 || oci_str(c->hc, "IpcMode", &ipc, err) < 0 ||
	    oci_str(c->hc, "UTSMode", &uts, err) < 0)
		return -1;
	if (oci_ns_mode_parse("NetworkMode", net, &c->net, err) < 0 ||
	    oci_ns_mode_parse("PidMode", pid, &c->pid, err) < 0 ||
	    oci_ns_mode_parse("IpcMode", ipc, &c->ipc, err) < 0 ||
	    oci_ns_mode_parse("UTSMode", uts, &c->uts, err) < 0)
		return -1;
	return 0;
}

static int ctx_init(oci_ctx *c, const berth_oci_input *in, berth_error **err)
{
	memset(c, 0, sizeof(*c));
	c->in = in;
	if (in->id == NULL || strlen(in->id) < 12 || in->rootfs == NULL)
		return berth_error_set(err, 500, "OCI spec: a container ID and a rootfs are "
						 "required");
	c->hc_empty = json_object();
	c->hc = json_is_object(in->host_config) ? in->host_config : c->hc_empty;
	c->cfg = json_is_object(in->config) ? json_deep_copy(in->config) : json_object();
	if (!in->config_merged && berth_oci_config_merge(c->cfg, in->image_config, err) < 0)
		return -1;
	if (berth_oci_hostconfig_validate(c->hc, NULL, err) < 0 ||
	    berth_json_get_bool(c->hc, "Privileged", &c->privileged, err) < 0 ||
	    berth_json_get_bool(c->hc, "ReadonlyRootfs", &c->readonly_rootfs, err) < 0 ||
	    oci_secopts_parse(c->hc, in->no_new_privileges_default, &c->sec, err) < 0 ||
	    modes(c, err) < 0)
		return -1;
	c->hostname = default_hostname(c);
	return 0;
}

static void ctx_free(oci_ctx *c)
{
	json_decref(c->cfg);
	json_decref(c->hc_empty);
	json_decref(c->spec);
	free(c->hostname);
}

/* The skeleton every step fills in. */
static json_t *skeleton(const oci_ctx *c)
{
	json_t *spec = json_pack("{s:s, s:{s:s, s:b}, s:{}, s:{}}", "ociVersion", BERTH_OCI_VERSION,
				 "root", "path", c->in->rootfs, "readonly", c->readonly_rootfs,
				 "process", "linux");
	if (c->uts != OCI_NS_HOST)
		json_object_set_new(spec, "hostname", json_string(c->hostname));
	const json_t *annotations = json_object_get(c->hc, "Annotations");
	if (json_is_object(annotations) && json_object_size(annotations) > 0)
		json_object_set_new(spec, "annotations", json_deep_copy(annotations));
	return spec;
}

int berth_oci_spec_generate(const berth_oci_input *in, json_t **spec, berth_error **err)
{
	oci_ctx c;
	int rc = ctx_init(&c, in, err);
	if (rc == 0) {
		c.spec = skeleton(&c);
		c.process = json_object_get(c.spec, "process");
		c.linux_ = json_object_get(c.spec, "linux");
		for (size_t i = 0; rc == 0 && i < BERTH_ARRAY_SIZE(steps); i++)
			rc = steps[i](&c, err);
	}
	if (rc == 0)
		*spec = berth_steal_ptr(&c.spec);
	ctx_free(&c);
	return rc;
}

/* ------------------------------------------------------------ writing */

#define INFINITY_TEXT "18446744073709551615"

/* Every "soft"/"hard" carrying BERTH_OCI_RLIM_INFINITY becomes 2^64-1. The
 * patterns cannot occur inside a JSON string: there the quotes would be
 * escaped. */
char *berth_oci_spec_dump(const json_t *spec)
{
	char *text = json_dumps(spec, JSON_COMPACT);
	if (text == NULL)
		return berth_xstrdup("null");
	static const char *const patterns[] = {"\"soft\":-9223372036854775808",
					       "\"hard\":-9223372036854775808"};
	berth_buf b = {0};
	const char *p = text;
	for (;;) {
		const char *hit = NULL;
		size_t which = 0;
		for (size_t i = 0; i < BERTH_ARRAY_SIZE(patterns); i++) {
			const char *h = strstr(p, patterns[i]);
			if (h && (!hit || h < hit))
				hit = h, which = i;
		}
		if (hit == NULL)
			break;
		berth_buf_append(&b, p, (size_t)(hit - p));
		berth_buf_printf(&b, "\"%s\":" INFINITY_TEXT, which == 0 ? "soft" : "hard");
		p = hit + strlen(patterns[which]);
	}
	berth_buf_puts(&b, p);
	free(text);
	return berth_buf_steal(&b);
}

int berth_oci_spec_write(const json_t *spec, const char *path, berth_error **err)
{
	char *text cleanup_free = berth_oci_spec_dump(spec);
	/* a bundle is runtime state, written again at every start: no fsync */
	return berth_file_replace(path, text, strlen(text), 0600, false, err);
}
