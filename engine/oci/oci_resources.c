/* oci_resources.c - linux.resources memory, cpu, pids and blockIO from
 * HostConfig (dockerd's getMemoryResources, getCPUResources, getPidsLimit,
 * getBlkio*Devices). Devices rules are oci_devices.c's. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "internal.h"

/* Sets obj[key] = v when v > 0. */
static void set_positive(json_t *obj, const char *key, json_int_t v)
{
	if (v > 0)
		json_object_set_new(obj, key, json_integer(v));
}

static int memory(oci_ctx *c, json_t *res, berth_error **err)
{
	json_int_t mem, reservation, swap, swappiness;
	bool oom_kill_disable = false;
	if (oci_int(c->hc, "Memory", 0, &mem, err) < 0 ||
	    oci_int(c->hc, "MemoryReservation", 0, &reservation, err) < 0 ||
	    oci_int(c->hc, "MemorySwap", 0, &swap, err) < 0 ||
	    oci_int(c->hc, "MemorySwappiness", -1, &swappiness, err) < 0 ||
	    berth_json_get_bool(c->hc, "OomKillDisable", &oom_kill_disable, err) < 0)
		return -1;
	/* dockerd's create default: swap twice the memory limit. A cgroup v1
	 * host without swap accounting (no swapaccount=1) cannot limit swap:
	 * dockerd then limits memory alone, and so does this. */
	if (mem > 0 && swap == 0)
		swap = 2 * mem;
	if (swap > 0 && !c->in->cgroup2 &&
	    access("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes", F_OK) != 0)
		swap = 0;
	json_t *m = json_object();
	set_positive(m, "limit", mem);
	set_positive(m, "reservation", reservation);
	set_positive(m, "swap", swap);
	if (swappiness >= 0)
		json_object_set_new(m, "swappiness", json_integer(swappiness));
	if (json_is_boolean(json_object_get(c->hc, "OomKillDisable")))
		json_object_set_new(m, "disableOOMKiller", json_boolean(oom_kill_disable));
	if (json_object_size(m) > 0)
		json_object_set(res, "memory", m);
	json_decref(m);
	return 0;
}

static int cpu(oci_ctx *c, json_t *res, berth_error **err)
{
	json_int_t shares, nano, period, quota, rt_period, rt_runtime;
	const char *cpus = NULL, *mems = NULL;
	if (oci_int(c->hc, "CpuShares", 0, &shares, err) < 0 ||
	    oci_int(c->hc, "NanoCpus", 0, &nano, err) < 0 ||
	    oci_int(c->hc, "CpuPeriod", 0, &period, err) < 0 ||
	    oci_int(c->hc, "CpuQuota", 0, &quota, err) < 0 ||
	    oci_int(c->hc, "CpuRealtimePeriod", 0, &rt_period, err) < 0 ||
	    oci_int(c->hc, "CpuRealtimeRuntime", 0, &rt_runtime, err) < 0 ||
	    oci_str(c->hc, "CpusetCpus", &cpus, err) < 0 ||
	    oci_str(c->hc, "CpusetMems", &mems, err) < 0)
		return -1;
	if (shares < 0)
		return berth_error_set(err, 400, "invalid CPU shares (%lld): value must be a "
						 "positive integer", (long long)shares);
	json_t *o = json_object();
	set_positive(o, "shares", shares);
	if (*cpus)
		json_object_set_new(o, "cpus", json_string(cpus));
	if (*mems)
		json_object_set_new(o, "mems", json_string(mems));
	/* --cpus N: a 100ms CFS period with N periods' worth of quota. */
	if (nano > 0) {
		json_object_set_new(o, "period", json_integer(100000));
		json_object_set_new(o, "quota", json_integer(nano * 100000 / 1000000000));
	}
	if (period != 0)
		json_object_set_new(o, "period", json_integer(period));
	if (quota != 0)
		json_object_set_new(o, "quota", json_integer(quota));
	if (rt_period != 0)
		json_object_set_new(o, "realtimePeriod", json_integer(rt_period));
	if (rt_runtime != 0)
		json_object_set_new(o, "realtimeRuntime", json_integer(rt_runtime));
	if (json_object_size(o) > 0)
		json_object_set(res, "cpu", o);
	json_decref(o);
	return 0;
}

/* A block device's numbers, for weight and throttle entries. */
static int device_numbers(const char *path, json_t *entry, berth_error **err)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return berth_error_set(err, 400, "stat %s: %s", path, oci_strerror(errno));
	json_object_set_new(entry, "major", json_integer(major(st.st_rdev)));
	json_object_set_new(entry, "minor", json_integer(minor(st.st_rdev)));
	return 0;
}

/* HostConfig lists of {Path, Weight|Rate} to OCI {major, minor, weight|rate}. */
static int device_list(oci_ctx *c, json_t *blkio, const char *field, const char *oci_field,
		       const char *value_key, const char *oci_value_key, berth_error **err)
{
	const json_t *list = json_object_get(c->hc, field);
	if (json_array_size(list) == 0)
		return 0;
	json_t *out = json_array();
	json_object_set_new(blkio, oci_field, out);
	size_t i;
	const json_t *d;
	json_array_foreach(list, i, d) {
		const char *path = NULL;
		json_int_t v;
		if (oci_str(d, "Path", &path, err) < 0 || oci_int(d, value_key, 0, &v, err) < 0)
			return -1;
		json_t *e = json_pack("{s:I}", oci_value_key, v);
		json_array_append_new(out, e);
		if (device_numbers(path, e, err) < 0)
			return -1;
	}
	return 0;
}

static int blkio(oci_ctx *c, json_t *res, berth_error **err)
{
	static const struct {
		const char *field, *oci_field, *value_key, *oci_value_key;
	} lists[] = {
		{"BlkioWeightDevice", "weightDevice", "Weight", "weight"},
		{"BlkioDeviceReadBps", "throttleReadBpsDevice", "Rate", "rate"},
		{"BlkioDeviceWriteBps", "throttleWriteBpsDevice", "Rate", "rate"},
		{"BlkioDeviceReadIOps", "throttleReadIOPSDevice", "Rate", "rate"},
		{"BlkioDeviceWriteIOps", "throttleWriteIOPSDevice", "Rate", "rate"},
	};
	json_int_t weight;
	if (oci_int(c->hc, "BlkioWeight", 0, &weight, err) < 0)
		return -1;
	json_t *b = json_object();
	json_object_set_new(res, "blockIO", b);
	set_positive(b, "weight", weight);
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(lists); i++) {
		if (device_list(c, b, lists[i].field, lists[i].oci_field, lists[i].value_key,
				lists[i].oci_value_key, err) < 0)
			return -1;
	}
	if (json_object_size(b) == 0)
		json_object_del(res, "blockIO");
	return 0;
}

int oci_resources(oci_ctx *c, berth_error **err)
{
	json_t *res = oci_child(c->linux_, "resources");
	if (memory(c, res, err) < 0 || cpu(c, res, err) < 0 || blkio(c, res, err) < 0)
		return -1;
	/* PidsLimit: 0 or less clears the limit (runc's -1). */
	const json_t *pids = json_object_get(c->hc, "PidsLimit");
	if (pids != NULL && !json_is_null(pids)) {
		json_int_t limit;
		if (oci_int(c->hc, "PidsLimit", 0, &limit, err) < 0)
			return -1;
		json_object_set_new(res, "pids", json_pack("{s:I}", "limit",
							   limit > 0 ? limit : (json_int_t)-1));
	}
	return 0;
}

int berth_oci_resources(const json_t *host_config, bool cgroup2, json_t **resources,
			berth_error **err)
{
	berth_oci_input in = {.host_config = host_config, .cgroup2 = cgroup2};
	json_t *linux_ cleanup_json = json_object();
	oci_ctx c = {.in = &in, .hc = host_config, .linux_ = linux_};
	if (oci_resources(&c, err) < 0)
		return -1;
	*resources = json_incref(oci_child(linux_, "resources"));
	return 0;
}
