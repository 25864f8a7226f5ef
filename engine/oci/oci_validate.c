/* oci_validate.c - the HostConfig checks dockerd makes at create
 * (verifyPlatformContainerResources, verifyPlatformContainerSettings), with
 * its wording. The host is assumed to have every cgroup controller, so the
 * "Your kernel does not support ..." discards never happen. */
#include <sched.h>
#include <string.h>

#include "internal.h"

#define MIN_MEMORY (6LL * 1024 * 1024)

typedef struct res {
	json_int_t memory, swap, reservation, swappiness, nano, period, quota, percent, weight;
	json_int_t io_bandwidth, io_iops, shm, oom_score;
	bool oom_kill_disable;
} res;

static int read_res(const json_t *hc, res *r, berth_error **err)
{
	static const struct {
		const char *key;
		size_t off;
		json_int_t def;
	} fields[] = {
		{"Memory", offsetof(res, memory), 0}, {"MemorySwap", offsetof(res, swap), 0},
		{"MemoryReservation", offsetof(res, reservation), 0},
		{"MemorySwappiness", offsetof(res, swappiness), -1},
		{"NanoCpus", offsetof(res, nano), 0}, {"CpuPeriod", offsetof(res, period), 0},
		{"CpuQuota", offsetof(res, quota), 0}, {"CpuPercent", offsetof(res, percent), 0},
		{"BlkioWeight", offsetof(res, weight), 0},
		{"IOMaximumBandwidth", offsetof(res, io_bandwidth), 0},
		{"IOMaximumIOps", offsetof(res, io_iops), 0}, {"ShmSize", offsetof(res, shm), 0},
		{"OomScoreAdj", offsetof(res, oom_score), 0},
	};
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(fields); i++) {
		json_int_t *v = (json_int_t *)((char *)r + fields[i].off);
		if (oci_int(hc, fields[i].key, fields[i].def, v, err) < 0)
			return -1;
	}
	r->oom_kill_disable = false;
	return berth_json_get_bool(hc, "OomKillDisable", &r->oom_kill_disable, err);
}

static int online_cpus(void)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		return CPU_COUNT(&set);
	return 1;
}

static void warn(json_t *warnings, const char *msg)
{
	if (warnings != NULL)
		json_array_append_new(warnings, json_string(msg));
}

static int check_memory(const res *r, json_t *warnings, berth_error **err)
{
	if (r->memory != 0 && r->memory < MIN_MEMORY)
		return berth_error_set(err, 400, "Minimum memory limit allowed is 6MB");
	if (r->memory > 0 && r->swap > 0 && r->swap < r->memory)
		return berth_error_set(err, 400, "Minimum memoryswap limit should be larger than "
						 "memory limit, see usage");
	if (r->memory == 0 && r->swap > 0)
		return berth_error_set(err, 400, "You should always set the Memory limit when "
						 "using Memoryswap limit, see usage");
	if (r->swappiness != -1 && (r->swappiness < 0 || r->swappiness > 100))
		return berth_error_set(err, 400, "Invalid value: %lld, valid memory swappiness "
						 "range is 0-100", (long long)r->swappiness);
	if (r->reservation > 0 && r->reservation < MIN_MEMORY)
		return berth_error_set(err, 400, "Minimum memory reservation allowed is 6MB");
	if (r->memory > 0 && r->reservation > 0 && r->memory < r->reservation)
		return berth_error_set(err, 400, "Minimum memory limit can not be less than memory "
						 "reservation limit, see usage");
	if (r->oom_kill_disable && r->memory == 0)
		warn(warnings, "OOM killer is disabled for the container, but no memory limit is "
			       "set, this can result in the system running out of resources.");
	return 0;
}

static int check_cpu(const res *r, json_t *warnings, berth_error **err)
{
	if (r->nano > 0 && r->period > 0)
		return berth_error_set(err, 400, "Conflicting options: Nano CPUs and CPU Period "
						 "cannot both be set");
	if (r->nano > 0 && r->quota > 0)
		return berth_error_set(err, 400, "Conflicting options: Nano CPUs and CPU Quota "
						 "cannot both be set");
	int ncpu = online_cpus();
	if (r->nano != 0 && (r->nano < 0 || r->nano > (json_int_t)ncpu * 1000000000))
		return berth_error_set(err, 400, "range of CPUs is from 0.01 to %d.00, as there "
						 "are only %d CPUs available", ncpu, ncpu);
	if (r->period != 0 && (r->period < 1000 || r->period > 1000000))
		return berth_error_set(err, 400, "CPU cfs period can not be less than 1ms (i.e. "
						 "1000) or larger than 1s (i.e. 1000000)");
	if (r->quota > 0 && r->quota < 1000)
		return berth_error_set(err, 400, "CPU cfs quota can not be less than 1ms (i.e. "
						 "1000)");
	if (r->percent > 0)
		warn(warnings, "linux does not support CPU percent. Percent discarded.");
	return 0;
}

static int check_other(const json_t *hc, const res *r, json_t *warnings, berth_error **err)
{
	if (r->weight > 0 && (r->weight < 10 || r->weight > 1000))
		return berth_error_set(err, 400, "Range of blkio weight is from 10 to 1000");
	if (r->io_bandwidth != 0 || r->io_iops != 0)
		return berth_error_set(err, 400, "Invalid QoS settings: linux does not support "
						 "Maximum IO Bandwidth or Maximum IO IOps");
	if (r->shm < 0)
		return berth_error_set(err, 400, "SHM size can not be less than 0");
	if (r->oom_score < -1000 || r->oom_score > 1000)
		return berth_error_set(err, 400, "Invalid value %lld, range for oom score adj is "
						 "[-1000, 1000]", (long long)r->oom_score);
	const char *net = berth_json_string(hc, "NetworkMode");
	const json_t *ports = json_object_get(hc, "PortBindings");
	if (net && strcmp(net, "host") == 0 && json_object_size(ports) > 0)
		warn(warnings, "Published ports are discarded when using host network mode");
	return 0;
}

static int check_modes(const json_t *hc, berth_error **err)
{
	static const char *const kinds[] = {"IpcMode", "PidMode", "UTSMode", "CgroupnsMode",
					    "NetworkMode"};
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(kinds); i++) {
		const char *mode = NULL;
		oci_ns_mode m;
		if (oci_str(hc, kinds[i], &mode, err) < 0 ||
		    oci_ns_mode_parse(kinds[i], mode, &m, err) < 0)
			return -1;
	}
	return 0;
}

static int check_tmpfs(const json_t *hc, berth_error **err)
{
	const json_t *tmpfs = NULL;
	if (oci_object(hc, "Tmpfs", &tmpfs, err) < 0)
		return -1;
	const char *dest;
	const json_t *v;
	json_object_foreach((json_t *)tmpfs, dest, v) {
		if (strcmp(dest, "/") == 0)
			return berth_error_set(err, 400, "invalid specification: destination can't "
							 "be '/'");
		if (dest[0] != '/')
			return berth_error_set(err, 400, "invalid mount path: '%s' mount path must "
							 "be absolute", dest);
	}
	return 0;
}

int berth_oci_hostconfig_validate(const json_t *hc, json_t *warnings, berth_error **err)
{
	res r;
	oci_secopts sec;
	const json_t *add = NULL, *drop = NULL;
	json_t *caps cleanup_json = NULL;
	if (hc == NULL || json_is_null(hc))
		return 0;
	if (!json_is_object(hc))
		return berth_error_set(err, 400, "invalid JSON: HostConfig must be an object");
	if (read_res(hc, &r, err) < 0 || check_memory(&r, warnings, err) < 0 ||
	    check_cpu(&r, warnings, err) < 0 || check_other(hc, &r, warnings, err) < 0 ||
	    check_modes(hc, err) < 0 || check_tmpfs(hc, err) < 0 ||
	    oci_secopts_parse(hc, false, &sec, err) < 0 ||
	    oci_string_array(hc, "CapAdd", &add, err) < 0 ||
	    oci_string_array(hc, "CapDrop", &drop, err) < 0 ||
	    berth_oci_caps(add, drop, false, &caps, err) < 0)
		return -1;
	return 0;
}
