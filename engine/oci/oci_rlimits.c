/* oci_rlimits.c - process.rlimits from HostConfig.Ulimits merged with the
 * daemon's default-ulimits (dockerd's mergeUlimits), plus the default
 * RLIMIT_NOFILE. */
#include <ctype.h>
#include <string.h>
#include <sys/resource.h>

#include "internal.h"

/* go-units' ulimit names (--ulimit NAME=soft:hard). */
static const char *const ulimit_names[] = {
	"as", "core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice",
	"nofile", "nproc", "rss", "rtprio", "rttime", "sigpending", "stack",
};

static bool known_ulimit(const char *name)
{
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(ulimit_names); i++) {
		if (strcmp(ulimit_names[i], name) == 0)
			return true;
	}
	return false;
}

/* -1 is unlimited: RLIM_INFINITY, which only berth_oci_spec_dump can write. */
static json_int_t rlim_value(json_int_t v)
{
	return v < 0 ? BERTH_OCI_RLIM_INFINITY : v;
}

static int add_rlimit(json_t *rlimits, const json_t *ul, berth_error **err)
{
	const char *name = NULL;
	json_int_t soft = 0, hard = 0;
	if (!json_is_object(ul))
		return berth_error_set(err, 400, "invalid JSON: Ulimits entries must be objects");
	if (oci_str(ul, "Name", &name, err) < 0 || oci_int(ul, "Soft", 0, &soft, err) < 0 ||
	    oci_int(ul, "Hard", 0, &hard, err) < 0)
		return -1;
	if (!known_ulimit(name))
		return berth_error_set(err, 400, "invalid ulimit type: %s", name);
	if (soft >= 0 && hard >= 0 && soft > hard)
		return berth_error_set(err, 400, "ulimit soft limit must be less than or equal to "
						 "hard limit: %lld > "
						 "%lld", (long long)soft, (long long)hard);
	char type[32] = "RLIMIT_";
	for (size_t i = 0; name[i] && i + 8 < sizeof(type); i++)
		type[7 + i] = (char)toupper((unsigned char)name[i]);
	json_array_append_new(rlimits, json_pack("{s:s, s:I, s:I}", "type", type, "hard",
						 rlim_value(hard), "soft", rlim_value(soft)));
	return 0;
}

/* 1024:524288, but never above the daemon's own hard limit: raising it
 * needs CAP_SYS_RESOURCE, which a daemon in a container may lack, and the
 * container would then fail to start over a default it never asked for. */
static json_t *default_nofile(void)
{
	json_int_t soft = BERTH_OCI_NOFILE_SOFT, hard = BERTH_OCI_NOFILE_HARD;
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max != RLIM_INFINITY) {
		if ((json_int_t)rl.rlim_max < hard)
			hard = (json_int_t)rl.rlim_max;
		if (soft > hard)
			soft = hard;
	}
	return json_pack("{s:s, s:I, s:I}", "type", "RLIMIT_NOFILE", "hard", hard, "soft", soft);
}

static bool has_type(const json_t *rlimits, const char *type)
{
	size_t i;
	const json_t *v;
	json_array_foreach(rlimits, i, v) {
		if (strcmp(berth_json_string(v, "type"), type) == 0)
			return true;
	}
	return false;
}

int oci_rlimits(oci_ctx *c, berth_error **err)
{
	const json_t *ulimits = json_object_get(c->hc, "Ulimits");
	json_t *rlimits = json_array();
	json_object_set_new(c->process, "rlimits", rlimits);
	if (!json_is_null(ulimits) && ulimits != NULL && !json_is_array(ulimits))
		return berth_error_set(err, 400, "invalid JSON: field Ulimits must be an array");
	size_t i;
	const json_t *ul;
	json_array_foreach(ulimits, i, ul) {
		if (add_rlimit(rlimits, ul, err) < 0)
			return -1;
	}
	/* The daemon's defaults for the names the container leaves alone. */
	const char *name;
	json_t *dul;
	json_object_foreach((json_t *)c->in->default_ulimits, name, dul) {
		char type[32];
		snprintf(type, sizeof(type), "RLIMIT_%s", name);
		for (char *p = type; *p; p++)
			*p = (char)toupper((unsigned char)*p);
		if (!has_type(rlimits, type) && add_rlimit(rlimits, dul, err) < 0)
			return -1;
	}
	if (!has_type(rlimits, "RLIMIT_NOFILE"))
		json_array_append_new(rlimits, default_nofile());
	return 0;
}
