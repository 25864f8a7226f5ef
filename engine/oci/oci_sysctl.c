/* oci_sysctl.c - linux.sysctl: Docker's defaults for a private network
 * namespace, kernel.domainname, HostConfig.Sysctls, and the namespace check
 * runc would otherwise fail the start with (same wording, earlier). */
#include <string.h>
#include <unistd.h>

#include "internal.h"

/* The IPC namespace's sysctls (runc's validator). */
static const char *const ipc_sysctls[] = {
	"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
	"kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced",
};

/* Docker's defaults when the container has its own network namespace,
 * added only where the kernel has them. */
static const struct {
	const char *key, *value, *proc;
} net_defaults[] = {
	{"net.ipv4.ping_group_range", "0 2147483647", "/proc/sys/net/ipv4/ping_group_range"},
	{"net.ipv4.ip_unprivileged_port_start", "0",
	 "/proc/sys/net/ipv4/ip_unprivileged_port_start"},
};

static bool in_list(const char *key, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(key, list[i]) == 0)
			return true;
	}
	return false;
}

static int check(const oci_ctx *c, const char *key, berth_error **err)
{
	if (in_list(key, ipc_sysctls, BERTH_ARRAY_SIZE(ipc_sysctls)) ||
	    berth_str_has_prefix(key, "fs.mqueue.")) {
		if (c->ipc == OCI_NS_HOST)
			return berth_error_set(err, 400, "sysctl \"%s\" is not allowed in the "
							 "hosts ipc namespace", key);
		return 0;
	}
	if (berth_str_has_prefix(key, "net.")) {
		if (c->net == OCI_NS_HOST)
			return berth_error_set(err, 400, "sysctl \"%s\" not allowed in host "
							 "network namespace", key);
		return 0;
	}
	if (strcmp(key, "kernel.domainname") == 0 || strcmp(key, "kernel.hostname") == 0) {
		if (c->uts == OCI_NS_HOST)
			return berth_error_set(err, 400, "sysctl \"%s\" is not allowed in the "
							 "hosts uts namespace", key);
		return 0;
	}
	return berth_error_set(err, 400, "sysctl \"%s\" is not in a separate kernel namespace",
			       key);
}

int oci_sysctls(oci_ctx *c, berth_error **err)
{
	const json_t *user = NULL;
	const char *domain = NULL;
	if (oci_object(c->hc, "Sysctls", &user, err) < 0 ||
	    oci_str(c->cfg, "Domainname", &domain, err) < 0)
		return -1;
	json_t *sysctl = json_object();
	json_object_set_new(c->linux_, "sysctl", sysctl);
	/* There is no OCI field for the NIS domain name; this sysctl is it. */
	if (*domain && c->uts != OCI_NS_HOST)
		json_object_set_new(sysctl, "kernel.domainname", json_string(domain));
	if (c->net == OCI_NS_PRIVATE || c->net == OCI_NS_NONE) {
		for (size_t i = 0; i < BERTH_ARRAY_SIZE(net_defaults); i++) {
			if (access(net_defaults[i].proc, F_OK) == 0)
				json_object_set_new(sysctl, net_defaults[i].key,
						    json_string(net_defaults[i].value));
		}
	}
	const char *key;
	const json_t *v;
	json_object_foreach((json_t *)user, key, v) {
		if (!json_is_string(v))
			return berth_error_set(err, 400, "invalid JSON: Sysctls values must be "
							 "strings");
		if (check(c, key, err) < 0)
			return -1;
		json_object_set(sysctl, key, (json_t *)v);
	}
	return 0;
}
