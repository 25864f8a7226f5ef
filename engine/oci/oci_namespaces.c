/* oci_namespaces.c - linux.namespaces from NetworkMode, PidMode, IpcMode,
 * UTSMode and CgroupnsMode (dockerd's WithNamespaces), and cgroupsPath. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Which words each mode accepts; "container:<x>" needs a non-empty <x>. */
static const struct {
	const char *kind;               /* the HostConfig field */
	const char *label;              /* dockerd's error: "invalid IPC mode: x" */
	const char *words[4];
	oci_ns_mode modes[4];
	bool container;
} ns_kinds[] = {
	{"IpcMode", "IPC mode", {"private", "shareable", "none", "host"},
	 {OCI_NS_PRIVATE, OCI_NS_SHAREABLE, OCI_NS_NONE, OCI_NS_HOST}, true},
	{"PidMode", "PID mode", {"host"}, {OCI_NS_HOST}, true},
	{"UTSMode", "UTS mode", {"host"}, {OCI_NS_HOST}, false},
	{"CgroupnsMode", "cgroup namespace mode", {"private", "host"},
	 {OCI_NS_PRIVATE, OCI_NS_HOST}, false},
	/* Any other NetworkMode names a network: a namespace of its own. */
	{"NetworkMode", NULL, {"host", "none"}, {OCI_NS_HOST, OCI_NS_NONE}, true},
};

int oci_ns_mode_parse(const char *kind, const char *mode, oci_ns_mode *out, berth_error **err)
{
	for (size_t k = 0; k < BERTH_ARRAY_SIZE(ns_kinds); k++) {
		if (strcmp(ns_kinds[k].kind, kind) != 0)
			continue;
		*out = OCI_NS_PRIVATE;
		if (mode == NULL || *mode == '\0')
			return 0;
		for (size_t i = 0; i < BERTH_ARRAY_SIZE(ns_kinds[k].words); i++) {
			const char *word = ns_kinds[k].words[i];
			if (word != NULL && strcmp(mode, word) == 0) {
				*out = ns_kinds[k].modes[i];
				return 0;
			}
		}
		if (ns_kinds[k].container && berth_str_has_prefix(mode, "container:") && mode[10]) {
			*out = OCI_NS_CONTAINER;
			return 0;
		}
		if (ns_kinds[k].label == NULL)
			return 0;
		return berth_error_set(err, 400, "invalid %s: %s", ns_kinds[k].label, mode);
	}
	return berth_error_set(err, 500, "unknown namespace kind %s", kind);
}

static void ns_add(json_t *list, const char *type, const char *path)
{
	json_t *ns = json_pack("{s:s}", "type", type);
	if (path != NULL)
		json_object_set_new(ns, "path", json_string(path));
	json_array_append_new(list, ns);
}

/* A namespace joined from another container: its path is the caller's. */
static int ns_join(json_t *list, const char *type, const char *path, const char *field,
		   berth_error **err)
{
	if (path == NULL || *path == '\0')
		return berth_error_set(err, 500, "%s: the %s namespace to join was not given",
				       field, type);
	ns_add(list, type, path);
	return 0;
}

int oci_namespaces(oci_ctx *c, berth_error **err)
{
	const berth_oci_input *in = c->in;
	const char *cgns = NULL;
	oci_ns_mode cg;
	if (oci_str(c->hc, "CgroupnsMode", &cgns, err) < 0 ||
	    oci_ns_mode_parse("CgroupnsMode", cgns, &cg, err) < 0)
		return -1;
	json_t *list = json_array();
	json_object_set_new(c->linux_, "namespaces", list);
	ns_add(list, "mount", NULL);
	/* Network: host shares ours; "container:<x>" joins x's; a bridge
	 * network joins the namespace the caller set up, if any. */
	if (c->net == OCI_NS_CONTAINER) {
		if (ns_join(list, "network", in->netns_path, "NetworkMode", err) < 0)
			return -1;
	} else if (c->net != OCI_NS_HOST) {
		ns_add(list, "network", c->net == OCI_NS_PRIVATE ? in->netns_path : NULL);
	}
	if (c->uts != OCI_NS_HOST)
		ns_add(list, "uts", NULL);
	if (c->pid == OCI_NS_CONTAINER) {
		if (ns_join(list, "pid", in->pidns_path, "PidMode", err) < 0)
			return -1;
	} else if (c->pid != OCI_NS_HOST) {
		ns_add(list, "pid", NULL);
	}
	if (c->ipc == OCI_NS_CONTAINER) {
		if (ns_join(list, "ipc", in->ipcns_path, "IpcMode", err) < 0)
			return -1;
	} else if (c->ipc != OCI_NS_HOST) {
		ns_add(list, "ipc", NULL);
	}
	/* Unset means private on cgroup v2 and host on v1, as dockerd's
	 * defaults (privileged containers too, on v2). */
	if (cgns == NULL || *cgns == '\0')
		cg = in->cgroup2 ? OCI_NS_PRIVATE : OCI_NS_HOST;
	if (cg == OCI_NS_PRIVATE)
		ns_add(list, "cgroup", NULL);
	return 0;
}

/* cgroupfs: /berth/<id>; systemd: system.slice:berth:<id>. */
int oci_cgroups_path(oci_ctx *c, berth_error **err)
{
	const char *parent = NULL;
	if (oci_str(c->hc, "CgroupParent", &parent, err) < 0)
		return -1;
	bool systemd = c->in->cgroup_driver && strcmp(c->in->cgroup_driver, "systemd") == 0;
	if (*parent == '\0')
		parent = c->in->cgroup_parent;
	if (parent == NULL || *parent == '\0')
		parent = systemd ? "system.slice" : "/berth";
	char *path;
	if (systemd) {
		if (strlen(parent) <= 6 || strcmp(parent + strlen(parent) - 6, ".slice") != 0)
			return berth_error_set(err, 400, "cgroup-parent for systemd cgroup should "
							 "be a valid slice named as \"xxx.slice\"");
		path = berth_xasprintf("%s:berth:%s", parent, c->in->id);
	} else {
		/* filepath.Join(parent, id): relative parents stay relative
		 * (runc places them under its own cgroup). */
		size_t n = strlen(parent);
		while (n > 0 && parent[n - 1] == '/')
			n--;
		path = berth_xasprintf("%.*s/%s", (int)n, parent, c->in->id);
	}
	json_object_set_new(c->linux_, "cgroupsPath", json_string(path));
	free(path);
	return 0;
}
