/* oci_caps.c - process.capabilities: Docker's default set, CapAdd/CapDrop,
 * --privileged (moby's oci/caps and oci.SetCapabilities). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Every capability the kernel knows, by number. */
static const char *const known_caps[] = {
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
	"CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
	"CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
	"CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
	"CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN",
	"CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON",
	"CAP_BPF", "CAP_CHECKPOINT_RESTORE",
};

/* moby's oci/caps.DefaultCapabilities, in its order. */
static const char *const default_caps[] = {
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
	"CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
};

/* What this daemon holds (CapEff): "ALL" and --privileged mean these, and
 * adding one it lacks is refused as dockerd refuses it. All known ones when
 * /proc/self/status cannot be read. */
static uint64_t caps_available(void)
{
	uint64_t all = (UINT64_C(1) << BERTH_ARRAY_SIZE(known_caps)) - 1, eff = all;
	FILE *f cleanup_file = fopen("/proc/self/status", "re");
	char line[256];
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "CapEff:", 7) == 0) {
			eff = strtoull(line + 7, NULL, 16);
			break;
		}
	}
	return eff & all;
}

static int cap_index(const char *name)
{
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(known_caps); i++) {
		if (strcmp(known_caps[i], name) == 0)
			return (int)i;
	}
	return -1;
}

static json_t *all_caps(uint64_t avail)
{
	json_t *out = json_array();
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(known_caps); i++) {
		if (avail & (UINT64_C(1) << i))
			json_array_append_new(out, json_string(known_caps[i]));
	}
	return out;
}

/* NormalizeLegacyCapabilities: upper case, CAP_ prefix, "ALL" kept. */
static int normalize(const json_t *list, const char *field, uint64_t avail, json_t **out,
		     berth_error **err)
{
	json_t *res = json_array();
	size_t i;
	const json_t *v;
	json_array_foreach(list, i, v) {
		if (!json_is_string(v)) {
			json_decref(res);
			return berth_error_set(err, 400, "invalid JSON: field %s must be an array "
							 "of strings", field);
		}
		char *name cleanup_free = NULL;
		const char *s = json_string_value(v);
		bool prefixed = strncasecmp(s, "CAP_", 4) == 0 || strcasecmp(s, "ALL") == 0;
		name = berth_xasprintf("%s%s", prefixed ? "" : "CAP_", s);
		for (char *p = name; *p; p++)
			*p = (char)toupper((unsigned char)*p);
		int idx = strcmp(name, "ALL") == 0 ? -2 : cap_index(name);
		if (idx == -1 || (idx >= 0 && !(avail & (UINT64_C(1) << idx)))) {
			json_decref(res);
			if (idx == -1)
				return berth_error_set(err, 400, "unknown capability: \"%s\"",
						       name);
			return berth_error_set(err, 400, "capability not supported by your kernel "
							 "or not available in the current "
							 "environment: \"%s\"", name);
		}
		json_array_append_new(res, json_string(name));
	}
	*out = res;
	return 0;
}

static void append_unique(json_t *list, const char *name)
{
	if (!oci_array_has_string(list, name))
		json_array_append_new(list, json_string(name));
}

int berth_oci_caps(const json_t *cap_add, const json_t *cap_drop, bool privileged, json_t **caps,
		   berth_error **err)
{
	uint64_t avail = caps_available();
	if (privileged) {
		*caps = all_caps(avail);
		return 0;
	}
	json_t *add cleanup_json = NULL, *drop cleanup_json = NULL;
	if (normalize(cap_add, "CapAdd", avail, &add, err) < 0 ||
	    normalize(cap_drop, "CapDrop", avail, &drop, err) < 0)
		return -1;
	json_t *base cleanup_json = oci_array_has_string(add, "ALL") ? all_caps(avail)
				    : oci_string_list(default_caps, BERTH_ARRAY_SIZE(default_caps));
	json_t *out = json_array();
	size_t i;
	json_t *v;
	/* --cap-drop ALL keeps only what CapAdd names; --cap-add ALL starts
	 * from everything. */
	if (!oci_array_has_string(drop, "ALL") || oci_array_has_string(add, "ALL")) {
		json_array_foreach(base, i, v) {
			if (!oci_array_has_string(drop, json_string_value(v)))
				json_array_append(out, v);
		}
	}
	if (!oci_array_has_string(add, "ALL")) {
		json_array_foreach(add, i, v)
			append_unique(out, json_string_value(v));
	}
	*caps = out;
	return 0;
}

int oci_capabilities(oci_ctx *c, berth_error **err)
{
	const json_t *add = NULL, *drop = NULL;
	json_t *caps = NULL;
	if (oci_string_array(c->hc, "CapAdd", &add, err) < 0 ||
	    oci_string_array(c->hc, "CapDrop", &drop, err) < 0 ||
	    berth_oci_caps(add, drop, c->privileged, &caps, err) < 0)
		return -1;
	/* As execve does for a non-root user: only the bounding set. */
	json_t *obj = json_pack("{s:o}", "bounding", caps);
	if (c->uid == 0) {
		json_object_set(obj, "effective", caps);
		json_object_set(obj, "permitted", caps);
	}
	json_object_set_new(c->process, "capabilities", obj);
	return 0;
}
