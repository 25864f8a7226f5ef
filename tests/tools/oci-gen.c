/*
 * oci-gen - writes an OCI config.json with berth_oci_spec_generate, for the
 * bats tests that run real runc on it (tests/integration/oci.bats).
 *
 *   oci-gen INPUT.json OUTPUT.json
 *
 * INPUT.json holds berth_oci_input's fields by name: "id", "rootfs",
 * "image_config", "config", "host_config", "mounts", "hosts_path",
 * "hostname_path", "resolv_conf_path", "cgroup_driver", "cgroup_parent",
 * "cgroup2" (true/false; absent: detected), "netns_path", "pidns_path",
 * "ipcns_path", "shm_path", "init_path", "init_default",
 * "no_new_privileges_default", "seccomp_profile", "default_ulimits",
 * "console". On error it prints "STATUS: message" and exits 1.
 */
#include <stdio.h>
#include <string.h>

#include "engine/oci/oci.h"

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: oci-gen INPUT.json OUTPUT.json\n");
		return 2;
	}
	json_error_t jerr;
	json_t *j cleanup_json = json_load_file(argv[1], 0, &jerr);
	if (!json_is_object(j)) {
		fprintf(stderr, "%s: %s\n", argv[1], jerr.text);
		return 2;
	}
	const json_t *cg2 = json_object_get(j, "cgroup2");
	berth_oci_input in = {
		.id = berth_json_string(j, "id"),
		.rootfs = berth_json_string(j, "rootfs"),
		.image_config = json_object_get(j, "image_config"),
		.config = json_object_get(j, "config"),
		.host_config = json_object_get(j, "host_config"),
		.config_merged = json_is_true(json_object_get(j, "config_merged")),
		.mounts = json_object_get(j, "mounts"),
		.hosts_path = berth_json_string(j, "hosts_path"),
		.hostname_path = berth_json_string(j, "hostname_path"),
		.resolv_conf_path = berth_json_string(j, "resolv_conf_path"),
		.cgroup_driver = berth_json_string(j, "cgroup_driver"),
		.cgroup_parent = berth_json_string(j, "cgroup_parent"),
		.cgroup2 = cg2 ? json_is_true(cg2) : berth_oci_cgroup2_host(),
		.netns_path = berth_json_string(j, "netns_path"),
		.pidns_path = berth_json_string(j, "pidns_path"),
		.ipcns_path = berth_json_string(j, "ipcns_path"),
		.shm_path = berth_json_string(j, "shm_path"),
		.init_path = berth_json_string(j, "init_path"),
		.init_default = json_is_true(json_object_get(j, "init_default")),
		.no_new_privileges_default =
			json_is_true(json_object_get(j, "no_new_privileges_default")),
		.seccomp_profile = berth_json_string(j, "seccomp_profile"),
		.default_ulimits = json_object_get(j, "default_ulimits"),
		.console = json_is_true(json_object_get(j, "console")),
	};
	json_t *spec cleanup_json = NULL;
	berth_error *err cleanup_error = NULL;
	if (berth_oci_spec_generate(&in, &spec, &err) < 0 ||
	    berth_oci_spec_write(spec, argv[2], &err) < 0) {
		fprintf(stderr, "%d: %s\n", err->status, err->msg);
		return 1;
	}
	return 0;
}
