/* internal.h - shared by the engine/oci files; not for other modules. */
#ifndef BERTH_OCI_INTERNAL_H
#define BERTH_OCI_INTERNAL_H

#include "oci.h"

/* HostConfig.SecurityOpt, parsed as dockerd's parseSecurityOpt. */
typedef struct oci_secopts {
	bool no_new_privileges;
	bool writable_cgroups;
	const char *seccomp;            /* "unconfined", "builtin", JSON, or NULL */
} oci_secopts;

/* A namespace mode: "" (private), "host", "container:<x>", ... */
typedef enum oci_ns_mode {
	OCI_NS_PRIVATE,
	OCI_NS_HOST,
	OCI_NS_CONTAINER,
	OCI_NS_NONE,                    /* IpcMode/NetworkMode "none" */
	OCI_NS_SHAREABLE,               /* IpcMode "shareable" */
} oci_ns_mode;

/* One generation: the input, the merged Config, and the spec being built. */
typedef struct oci_ctx {
	const berth_oci_input *in;
	json_t *cfg;                    /* merged Config (owned) */
	const json_t *hc;               /* HostConfig, or an empty object */
	json_t *hc_empty;               /* owns that empty object */
	json_t *spec;                   /* the result */
	json_t *process;                /* borrowed from spec */
	json_t *linux_;                 /* borrowed from spec */
	bool privileged;
	bool readonly_rootfs;
	oci_secopts sec;
	oci_ns_mode net, pid, ipc, uts;
	uint32_t uid;
	char *hostname;                 /* Config.Hostname or its default */
	const char *init;               /* --init: the binary to mount, else NULL */
} oci_ctx;

/* Each step adds its part of the spec, in dockerd's order (spec.c). */
int oci_process(oci_ctx *c, berth_error **err);        /* process.c: args, env, cwd, init */
int oci_user(oci_ctx *c, berth_error **err);           /* user.c */
int oci_capabilities(oci_ctx *c, berth_error **err);   /* caps.c */
int oci_rlimits(oci_ctx *c, berth_error **err);        /* rlimits.c */
int oci_namespaces(oci_ctx *c, berth_error **err);     /* namespaces.c */
int oci_cgroups_path(oci_ctx *c, berth_error **err);   /* namespaces.c */
int oci_resources(oci_ctx *c, berth_error **err);      /* resources.c */
int oci_devices(oci_ctx *c, berth_error **err);        /* devices.c */
int oci_sysctls(oci_ctx *c, berth_error **err);        /* sysctl.c */
int oci_seccomp(oci_ctx *c, berth_error **err);        /* seccomp.c */
int oci_mounts(oci_ctx *c, berth_error **err);         /* mounts.c */

/* security.c */
int oci_secopts_parse(const json_t *hc, bool nnp_default, oci_secopts *out, berth_error **err);
/* namespaces.c: parses IpcMode/PidMode/UTSMode/NetworkMode; 400 on bad ones. */
int oci_ns_mode_parse(const char *kind, const char *mode, oci_ns_mode *out, berth_error **err);

/* ------------------------------------------------------------ helpers (json.c) */

/* A Docker StrSlice member (a string or an array of strings) as a new
 * array; NULL when absent or null. 400 for other types. */
int oci_strslice(const json_t *obj, const char *key, json_t **out, berth_error **err);
/* An array member of strings (absent/null: NULL, borrowed). 400 otherwise. */
int oci_string_array(const json_t *obj, const char *key, const json_t **out, berth_error **err);
/* An object member (absent/null: NULL, borrowed). 400 otherwise. */
int oci_object(const json_t *obj, const char *key, const json_t **out, berth_error **err);
/* Integer member with a default. */
int oci_int(const json_t *obj, const char *key, json_int_t def, json_int_t *out, berth_error **err);
/* String member; absent/null gives "". */
int oci_str(const json_t *obj, const char *key, const char **out, berth_error **err);
bool oci_array_has_string(const json_t *arr, const char *s);
json_t *oci_string_list(const char *const *v, size_t n);
/* Gets obj[key], creating an empty object there when absent. */
json_t *oci_child(json_t *obj, const char *key);

/* strerror as Go words it ("no such file or directory"), into a static
 * per-thread buffer. */
const char *oci_strerror(int errnum);

/* The kernel release as major*1000+minor (uname), for seccomp's minKernel. */
int oci_kernel_version(void);

#endif
