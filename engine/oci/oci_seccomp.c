/* oci_seccomp.c - linux.seccomp: a Docker-format profile (the default one in
 * contrib/seccomp/default.json, or the client's --security-opt
 * seccomp=<JSON>) resolved for this architecture, kernel and capability set,
 * as moby's profiles/seccomp.setupSeccomp does. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* The architecture names Docker's profiles use in includes/excludes
 * (Go's, via libseccomp's) and in archMap. */
#if defined(__x86_64__)
#define NATIVE_ARCH "amd64"
#define NATIVE_SCMP_ARCH "SCMP_ARCH_X86_64"
#elif defined(__aarch64__)
#define NATIVE_ARCH "arm64"
#define NATIVE_SCMP_ARCH "SCMP_ARCH_AARCH64"
#elif defined(__i386__)
#define NATIVE_ARCH "x86"
#define NATIVE_SCMP_ARCH "SCMP_ARCH_X86"
#elif defined(__arm__)
#define NATIVE_ARCH "arm"
#define NATIVE_SCMP_ARCH "SCMP_ARCH_ARM"
#else
#define NATIVE_ARCH ""
#define NATIVE_SCMP_ARCH ""
#endif

/* Keys of a syscall rule that go into the OCI spec as they are. */
static const char *const rule_keys[] = {"action", "errnoRet", "args"};
/* Top-level keys likewise. */
static const char *const profile_keys[] = {"defaultAction", "defaultErrnoRet", "flags",
					   "listenerPath", "listenerMetadata"};

static int kernel_at_least(const json_t *min, bool *ok, berth_error **err)
{
	int major = 0, minor = 0;
	if (!json_is_string(min) || sscanf(json_string_value(min), "%d.%d", &major, &minor) < 1)
		return berth_error_set(err, 400, "invalid kernel version: %s",
				       json_is_string(min) ? json_string_value(min) : "");
	*ok = oci_kernel_version() >= major * 1000 + minor;
	return 0;
}

/* includes: every condition must hold; excludes: any one drops the rule. */
static int condition(const json_t *cond, const json_t *caps, bool includes, bool *keep,
		     berth_error **err)
{
	*keep = true;
	if (!json_is_object(cond))
		return 0;
	const json_t *arches = json_object_get(cond, "arches");
	const json_t *need = json_object_get(cond, "caps");
	const json_t *min = json_object_get(cond, "minKernel");
	if (json_array_size(arches) > 0 && oci_array_has_string(arches, NATIVE_ARCH) != includes)
		*keep = false;
	size_t i;
	const json_t *v;
	json_array_foreach(need, i, v) {
		if (oci_array_has_string(caps, json_string_value(v)) != includes)
			*keep = false;
	}
	if (min != NULL && !json_is_null(min)) {
		bool ok = false;
		if (kernel_at_least(min, &ok, err) < 0)
			return -1;
		if (ok != includes)
			*keep = false;
	}
	return 0;
}

static int convert_rule(const json_t *r, const json_t *caps, json_t *out, berth_error **err)
{
	bool inc, exc;
	if (!json_is_object(r))
		return berth_error_set(err, 400, "Decoding seccomp profile failed: syscalls "
						 "entries must be objects");
	if (condition(json_object_get(r, "excludes"), caps, false, &exc, err) < 0 ||
	    condition(json_object_get(r, "includes"), caps, true, &inc, err) < 0)
		return -1;
	if (!exc || !inc)
		return 0;
	const char *name = berth_json_string(r, "name");
	json_t *names = json_object_get(r, "names");
	if (name != NULL && *name && json_array_size(names) > 0)
		return berth_error_set(err, 400, "'name' and 'names' were specified in the seccomp "
						 "profile, use either 'name' or 'names'");
	json_t *rule = json_object();
	if (name != NULL && *name)
		json_object_set_new(rule, "names", json_pack("[s]", name));
	else
		json_object_set_new(rule, "names", names ? json_deep_copy(names) : json_array());
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(rule_keys); i++) {
		json_t *v = json_object_get(r, rule_keys[i]);
		if (v != NULL && !json_is_null(v))
			json_object_set(rule, rule_keys[i], v);
	}
	json_array_append_new(out, rule);
	return 0;
}

/* archMap: the native architecture and its sub-architectures. */
static json_t *architectures(const json_t *profile)
{
	const json_t *list = json_object_get(profile, "architectures");
	if (json_array_size(list) > 0)
		return json_deep_copy(list);
	size_t i;
	const json_t *m;
	json_array_foreach(json_object_get(profile, "archMap"), i, m) {
		if (strcmp(berth_json_string(m, "architecture") ?: "", NATIVE_SCMP_ARCH) != 0)
			continue;
		json_t *out = json_pack("[s]", NATIVE_SCMP_ARCH);
		json_t *subs = json_object_get(m, "subArchitectures");
		if (json_is_array(subs))
			json_array_extend(out, subs);
		return out;
	}
	return NULL;
}

int berth_oci_seccomp_resolve(const char *text, size_t len, const json_t *caps, json_t **out,
			      berth_error **err)
{
	json_error_t jerr;
	json_t *p cleanup_json = json_loadb(text, len, 0, &jerr);
	*out = NULL;
	if (p == NULL || !json_is_object(p))
		return berth_error_set(err, 400, "Decoding seccomp profile failed: %s",
				       p ? "not a JSON object" : jerr.text);
	const char *def = berth_json_string(p, "defaultAction");
	const json_t *syscalls = json_object_get(p, "syscalls");
	if ((def == NULL || *def == '\0') && json_array_size(syscalls) == 0)
		return 0;
	if (json_array_size(json_object_get(p, "architectures")) > 0 &&
	    json_array_size(json_object_get(p, "archMap")) > 0)
		return berth_error_set(err, 400, "'architectures' and 'archMap' were specified in "
						 "the seccomp profile, use either 'architectures' "
						 "or 'archMap'");
	json_t *res cleanup_json = json_object();
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(profile_keys); i++) {
		json_t *v = json_object_get(p, profile_keys[i]);
		if (v != NULL && !json_is_null(v))
			json_object_set(res, profile_keys[i], v);
	}
	json_t *arches = architectures(p);
	if (arches != NULL)
		json_object_set_new(res, "architectures", arches);
	json_t *rules = json_array();
	json_object_set_new(res, "syscalls", rules);
	size_t i;
	const json_t *r;
	json_array_foreach(syscalls, i, r) {
		if (convert_rule(r, caps, rules, err) < 0)
			return -1;
	}
	*out = berth_steal_ptr(&res);
	return 0;
}

static const json_t *at_bounding(const oci_ctx *c)
{
	return json_object_get(json_object_get(c->process, "capabilities"), "bounding");
}

/* privileged and seccomp=unconfined run without; seccomp=<JSON> is the
 * client's profile; otherwise the daemon's default file. */
int oci_seccomp(oci_ctx *c, berth_error **err)
{
	const char *opt = c->sec.seccomp;
	const json_t *caps = at_bounding(c);
	json_t *seccomp = NULL;
	if (c->privileged || (opt && strcmp(opt, "unconfined") == 0))
		return 0;
	if (opt && strcmp(opt, "builtin") != 0) {
		if (berth_oci_seccomp_resolve(opt, strlen(opt), caps, &seccomp, err) < 0)
			return -1;
	} else {
		const char *path = c->in->seccomp_profile ? c->in->seccomp_profile
							  : BERTH_OCI_SECCOMP_PROFILE;
		if (strcmp(path, "unconfined") == 0)
			return 0;
		char *text cleanup_free = NULL;
		size_t len;
		/* The daemon's own file: its faults are the server's (500). */
		if (berth_file_read_all(path, &text, &len, err) < 0 ||
		    berth_oci_seccomp_resolve(text, len, caps, &seccomp, err) < 0) {
			if (err && *err)
				(*err)->status = 500;
			return berth_error_wrap(err, "seccomp profile %s", path);
		}
	}
	if (seccomp != NULL)
		json_object_set_new(c->linux_, "seccomp", seccomp);
	return 0;
}
