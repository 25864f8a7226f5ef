/* oci_security.c - HostConfig.SecurityOpt, parsed as dockerd's
 * parseSecurityOpt: no-new-privileges, seccomp, writable-cgroups; label and
 * apparmor are accepted and ignored (berth runs neither SELinux nor
 * AppArmor profiles). */
#include <string.h>
#include <strings.h>

#include "internal.h"

/* Go's strconv.ParseBool. */
static bool parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
	static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(yes); i++) {
		if (strcmp(s, yes[i]) == 0 || strcmp(s, no[i]) == 0) {
			*out = strcmp(s, yes[i]) == 0;
			return true;
		}
	}
	return false;
}

static int parse_one(const char *opt, oci_secopts *out, berth_error **err)
{
	if (strcmp(opt, "no-new-privileges") == 0) {
		out->no_new_privileges = true;
		return 0;
	}
	if (strcmp(opt, "writable-cgroups") == 0) {
		out->writable_cgroups = true;
		return 0;
	}
	if (strcmp(opt, "disable") == 0)
		return 0;
	/* "key=value", or the deprecated "key:value". */
	const char *sep = strchr(opt, '=');
	if (sep == NULL)
		sep = strchr(opt, ':');
	if (sep == NULL)
		return berth_error_set(err, 400, "invalid --security-opt 1: \"%s\"", opt);
	size_t klen = (size_t)(sep - opt);
	const char *v = sep + 1;
	bool b;
	if (klen == 5 && strncmp(opt, "label", 5) == 0)
		return 0;
	if (klen == 8 && strncmp(opt, "apparmor", 8) == 0)
		return 0;
	if (klen == 7 && strncmp(opt, "seccomp", 7) == 0) {
		out->seccomp = v;
		return 0;
	}
	if (klen == 17 && strncmp(opt, "no-new-privileges", 17) == 0 && parse_bool(v, &b)) {
		out->no_new_privileges = b;
		return 0;
	}
	if (klen == 16 && strncmp(opt, "writable-cgroups", 16) == 0 && parse_bool(v, &b)) {
		out->writable_cgroups = b;
		return 0;
	}
	return berth_error_set(err, 400, "invalid --security-opt 2: \"%s\"", opt);
}

int oci_secopts_parse(const json_t *hc, bool nnp_default, oci_secopts *out, berth_error **err)
{
	const json_t *opts = NULL;
	memset(out, 0, sizeof(*out));
	out->no_new_privileges = nnp_default;
	if (oci_string_array(hc, "SecurityOpt", &opts, err) < 0)
		return -1;
	size_t i;
	const json_t *v;
	json_array_foreach(opts, i, v) {
		if (parse_one(json_string_value(v), out, err) < 0)
			return -1;
	}
	return 0;
}
