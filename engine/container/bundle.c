/* bundle.c - the OCI bundle of a container: config.json from its record. */
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

#include "engine/oci/oci.h"
#include "internal.h"

/* The seccomp profile: installed beside berthd's share dir, else the
 * source tree's (make run, tests). */
static const char *seccomp_profile_path(void)
{
	static char *path;
	if (path)
		return path;
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	char *slash = strrchr(exe, '/');
	if (slash)
		*slash = '\0';
	static const char *const rel[] = {"/../share/berth/seccomp/default.json",
					  "/../../../contrib/seccomp/default.json"};
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(rel); i++) {
		char *p = berth_xasprintf("%s%s", exe, rel[i]);
		if (access(p, R_OK) == 0)
			return path = p;
		free(p);
	}
	return path = berth_xstrdup(BERTH_OCI_SECCOMP_PROFILE);
}

int container_write_bundle(berth_container_store *s, const json_t *record, const char *rootfs,
			   const char *bundle_dir, berth_error **err)
{
	const berth_config *cfg = s->daemon->config;
	const json_t *config = json_object_get(record, "Config");
	/* HostConfig.Tmpfs comes resolved with the volume module's mounts */
	json_t *hc cleanup_json = json_deep_copy(json_object_get(record, "HostConfig"));
	json_object_del(hc, "Tmpfs");
	berth_oci_input in = {
		.id = berth_json_string(record, "Id"),
		.config = config,
		.host_config = hc,
		.config_merged = true,
		.rootfs = rootfs,
		.hosts_path = berth_json_string(record, "HostsPath"),
		.hostname_path = berth_json_string(record, "HostnamePath"),
		.resolv_conf_path = berth_json_string(record, "ResolvConfPath"),
		/* set by start: berth's namespace, or container:X's */
		.netns_path = berth_json_string(record, "NetNsPath"),
		.mounts = json_object_get(record, "OCIMounts"),
		.cgroup_driver = cfg->cgroup_driver,
		.cgroup2 = berth_oci_cgroup2_host(),
		.seccomp_profile = seccomp_profile_path(),
		.console = json_is_true(json_object_get(config, "Tty")),
	};
	json_t *spec cleanup_json = NULL;
	if (berth_oci_spec_generate(&in, &spec, err) < 0)
		return -1;
	char *path cleanup_free = berth_xasprintf("%s/config.json", bundle_dir);
	return berth_oci_spec_write(spec, path, err);
}
