/* oci_devices.c - linux.devices and the device cgroup rules: Docker's
 * defaults, HostConfig.Devices and DeviceCgroupRules, or every host device
 * for --privileged (dockerd's WithDevices, containerd's HostDevices). */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "internal.h"

/* moby's oci/defaults.go: deny all, allow the basic character devices,
 * deny fuse. runc adds its own defaults (pts, ptmx, full) after these. */
static const struct {
	bool allow;
	char type;                      /* 0: all types */
	int major, minor;
} default_rules[] = {
	{false, 0, -1, -1}, {true, 'c', 1, 5}, {true, 'c', 1, 3}, {true, 'c', 1, 9},
	{true, 'c', 1, 8}, {true, 'c', 5, 0}, {true, 'c', 5, 1}, {false, 'c', 10, 229},
};

/* Directories of /dev a privileged container does not get (containerd's list). */
static const char *const host_scan_skip[] = {"pts", "shm", "fd", "mqueue", ".lxc",
					     ".lxd-mounts", ".udev"};

static json_t *rule(bool allow, char type, json_int_t major, json_int_t minor, const char *access)
{
	json_t *r = json_pack("{s:b, s:s}", "allow", allow, "access", access);
	if (type) {
		char t[2] = {type, 0};
		json_object_set_new(r, "type", json_string(t));
	}
	if (major >= 0 || type)
		json_object_set_new(r, "major", json_integer(major));
	if (minor >= 0 || type)
		json_object_set_new(r, "minor", json_integer(minor));
	return r;
}

/* One device node (stat'ed, not followed) as device + rule; false when it
 * is not a device. */
static bool add_node(const char *host, const char *ctr, const char *perms, json_t *devs,
		     json_t *rules)
{
	struct stat st;
	if (lstat(host, &st) < 0 || !(S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)))
		return false;
	char type = S_ISCHR(st.st_mode) ? 'c' : 'b';
	char t[2] = {type, 0};
	json_array_append_new(devs, json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I}", "path", ctr,
					      "type", t, "major", (json_int_t)major(st.st_rdev),
					      "minor", (json_int_t)minor(st.st_rdev), "fileMode",
					      (json_int_t)(st.st_mode & 07777), "uid",
					      (json_int_t)st.st_uid, "gid", (json_int_t)st.st_gid));
	if (rules != NULL)
		json_array_append_new(rules, rule(true, type, major(st.st_rdev), minor(st.st_rdev),
						  perms));
	return true;
}

static bool skipped(const char *name)
{
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(host_scan_skip); i++) {
		if (strcmp(name, host_scan_skip[i]) == 0)
			return true;
	}
	return false;
}

/* Every device under host, mapped under ctr. host_scan: the privileged
 * walk of /dev, which leaves out host_scan_skip and the console. */
static void add_tree(const char *host, const char *ctr, const char *perms, bool host_scan,
		     json_t *devs, json_t *rules)
{
	DIR *d = opendir(host);
	if (d == NULL)
		return;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (host_scan && (skipped(de->d_name) || strcmp(de->d_name, "console") == 0))
			continue;
		char *h cleanup_free = berth_xasprintf("%s/%s", host, de->d_name);
		char *c cleanup_free = berth_xasprintf("%s/%s", ctr, de->d_name);
		struct stat st;
		if (lstat(h, &st) == 0 && S_ISDIR(st.st_mode))
			add_tree(h, c, perms, host_scan, devs, rules);
		else
			add_node(h, c, perms, devs, rules);
	}
	closedir(d);
}

/* DevicesFromPath: a node, or a directory of nodes; symlinks followed once. */
static int add_mapping(const json_t *m, bool privileged, json_t *devs, json_t *rules,
		       berth_error **err)
{
	const char *host = NULL, *ctr = NULL, *perms = NULL;
	if (!json_is_object(m))
		return berth_error_set(err, 400, "invalid JSON: Devices entries must be objects");
	if (oci_str(m, "PathOnHost", &host, err) < 0 ||
	    oci_str(m, "PathInContainer", &ctr, err) < 0 ||
	    oci_str(m, "CgroupPermissions", &perms, err) < 0)
		return -1;
	if (*ctr == '\0')
		ctr = host;
	if (*perms == '\0' || privileged)
		perms = "rwm";
	/* Privileged containers have every host device already. */
	if (privileged && strcmp(host, ctr) == 0)
		return 0;
	char resolved[PATH_MAX];
	if (realpath(host, resolved) == NULL)
		snprintf(resolved, sizeof(resolved), "%s", host);
	size_t before = json_array_size(devs);
	struct stat st;
	if (!add_node(resolved, ctr, perms, devs, rules) && stat(resolved, &st) == 0 &&
	    S_ISDIR(st.st_mode))
		add_tree(resolved, ctr, perms, false, devs, rules);
	const char *why = stat(resolved, &st) < 0 ? oci_strerror(errno) : "not a device node";
	if (json_array_size(devs) == before)
		return berth_error_set(err, 400, "error gathering device information while adding "
						 "custom device \"%s\": %s", host,
				       why);
	return 0;
}

static bool number_or_star(const char *s)
{
	return strcmp(s, "*") == 0 || strchr(s, '*') == NULL;
}

/* DeviceCgroupRules: "c 1:3 rwm", "b *:* m", "a 7:* r". */
static int add_cgroup_rule(const char *s, json_t *rules, berth_error **err)
{
	char type, access[8];
	char major[24], minor[24];
	int n = 0;
	if (sscanf(s, "%c %23[0-9*]:%23[0-9*] %7[rwm]%n", &type, major, minor, access, &n) != 4 ||
	    s[n] != '\0' || !strchr("acb", type) || strlen(access) > 3 || !number_or_star(major) ||
	    !number_or_star(minor))
		return berth_error_set(err, 400, "invalid device cgroup rule format: '%s'", s);
	json_int_t maj = strcmp(major, "*") == 0 ? -1 : strtoll(major, NULL, 10);
	json_int_t min = strcmp(minor, "*") == 0 ? -1 : strtoll(minor, NULL, 10);
	json_t *r = json_pack("{s:b, s:s%, s:I, s:I, s:s}", "allow", 1, "type", &type, (size_t)1,
			      "major", maj, "minor", min, "access", access);
	json_array_append_new(rules, r);
	return 0;
}

int oci_devices(oci_ctx *c, berth_error **err)
{
	const json_t *cgroup_rules = NULL;
	json_t *mappings = json_object_get(c->hc, "Devices");
	if (mappings != NULL && !json_is_null(mappings) && !json_is_array(mappings))
		return berth_error_set(err, 400, "invalid JSON: field Devices must be an array");
	if (oci_string_array(c->hc, "DeviceCgroupRules", &cgroup_rules, err) < 0)
		return -1;
	json_t *devs = json_array();
	json_t *rules = json_array();
	json_object_set_new(c->linux_, "devices", devs);
	json_object_set_new(oci_child(c->linux_, "resources"), "devices", rules);
	size_t i;
	const json_t *v;
	if (c->privileged) {
		add_tree("/dev", "/dev", "rwm", true, devs, NULL);
		json_array_append_new(rules, rule(true, 0, -1, -1, "rwm"));
		json_array_foreach(mappings, i, v) {
			if (add_mapping(v, true, devs, NULL, err) < 0)
				return -1;
		}
		return 0;
	}
	for (i = 0; i < BERTH_ARRAY_SIZE(default_rules); i++) {
		json_array_append_new(rules, rule(default_rules[i].allow, default_rules[i].type,
						  default_rules[i].major, default_rules[i].minor,
						  "rwm"));
	}
	json_array_foreach(mappings, i, v) {
		if (add_mapping(v, false, devs, rules, err) < 0)
			return -1;
	}
	json_array_foreach(cgroup_rules, i, v) {
		if (add_cgroup_rule(json_string_value(v), rules, err) < 0)
			return -1;
	}
	return 0;
}
