/*
 * cgroup.c - a running container's resource usage in Docker's stats shapes,
 * read from its cgroup (v1 or v2) and from /proc. Blocking: pool threads.
 *
 * The cgroup is found through /proc/<pid>/cgroup of the container's init,
 * not rebuilt from the cgroup parent, so that cgroupfs and systemd drivers
 * and a --cgroup-parent all work the same way.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/oci/oci.h"
#include "internal.h"

#define NS_PER_SEC 1000000000ULL

/* The directory of pid's cgroup for a v1 controller, or the unified one
 * when controller is NULL (v2). NULL when the process is gone. */
static char *cgroup_dir(int pid, const char *controller)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	FILE *f cleanup_file = fopen(path, "re");
	if (f == NULL)
		return NULL;
	char line[1024];
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		char *ctrls = strchr(line, ':');
		char *rel = ctrls ? strchr(ctrls + 1, ':') : NULL;
		if (rel == NULL)
			continue;
		*ctrls++ = '\0';
		*rel++ = '\0';
		if (controller == NULL) {
			if (*ctrls == '\0')
				return berth_xasprintf("/sys/fs/cgroup%s", rel);
			continue;
		}
		/* "cpu,cpuacct": the mount is named by the whole list */
		char *copy cleanup_free = berth_xstrdup(ctrls), *save = NULL;
		for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			if (strcmp(t, controller) == 0)
				return berth_xasprintf("/sys/fs/cgroup/%s%s", ctrls, rel);
		}
	}
	return NULL;
}

static bool read_u64(const char *dir, const char *file, uint64_t *out)
{
	if (dir == NULL)
		return false;
	char *path cleanup_free = berth_xasprintf("%s/%s", dir, file);
	FILE *f cleanup_file = fopen(path, "re");
	unsigned long long v;
	if (f == NULL || fscanf(f, "%llu", &v) != 1)
		return false;
	*out = v;
	return true;
}

/* "key value" lines (memory.stat, cpu.stat) as a JSON object of integers. */
static json_t *read_kv(const char *dir, const char *file)
{
	json_t *o = json_object();
	if (dir == NULL)
		return o;
	char *path cleanup_free = berth_xasprintf("%s/%s", dir, file);
	FILE *f cleanup_file = fopen(path, "re");
	char key[128];
	unsigned long long v;
	while (f && fscanf(f, "%127s %llu", key, &v) == 2)
		json_object_set_new(o, key, json_integer((json_int_t)v));
	return o;
}

static uint64_t kv_get(const json_t *o, const char *key)
{
	return (uint64_t)json_integer_value(json_object_get(o, key));
}

static uint64_t machine_memory(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
	return pages > 0 && size > 0 ? (uint64_t)pages * (uint64_t)size : 0;
}

/* An unlimited cgroup reports the host's memory, as dockerd does. */
static uint64_t clamp_limit(uint64_t limit)
{
	uint64_t host = machine_memory();
	return host > 0 && (limit == 0 || limit > host) ? host : limit;
}

/* ------------------------------------------------------------ cgroup v1 */

static void v1_cpu(int pid, json_t *cpu)
{
	char *acct cleanup_free = cgroup_dir(pid, "cpuacct");
	char *cpud cleanup_free = cgroup_dir(pid, "cpu");
	json_t *usage = json_object_get(cpu, "cpu_usage");
	uint64_t v = 0;
	if (read_u64(acct, "cpuacct.usage", &v))
		json_object_set_new(usage, "total_usage", json_integer((json_int_t)v));
	json_t *percpu = json_array();
	char *path cleanup_free = acct ? berth_xasprintf("%s/cpuacct.usage_percpu", acct) : NULL;
	FILE *f cleanup_file = path ? fopen(path, "re") : NULL;
	unsigned long long n;
	while (f && fscanf(f, "%llu", &n) == 1)
		json_array_append_new(percpu, json_integer((json_int_t)n));
	json_object_set_new(usage, "percpu_usage", percpu);
	/* cpuacct.stat counts clock ticks */
	json_t *st cleanup_json = read_kv(acct, "cpuacct.stat");
	uint64_t tick = (uint64_t)sysconf(_SC_CLK_TCK);
	json_object_set_new(usage, "usage_in_usermode",
			    json_integer((json_int_t)(kv_get(st, "user") * NS_PER_SEC / tick)));
	json_object_set_new(usage, "usage_in_kernelmode",
			    json_integer((json_int_t)(kv_get(st, "system") * NS_PER_SEC / tick)));
	json_t *thr cleanup_json = read_kv(cpud, "cpu.stat");
	json_object_set_new(cpu, "throttling_data",
			    json_pack("{s:I, s:I, s:I}", "periods", (json_int_t)kv_get(thr, "nr_periods"),
				      "throttled_periods", (json_int_t)kv_get(thr, "nr_throttled"),
				      "throttled_time", (json_int_t)kv_get(thr, "throttled_time")));
}

static void v1_memory(int pid, json_t *mem)
{
	char *dir cleanup_free = cgroup_dir(pid, "memory");
	if (dir == NULL)
		return;
	uint64_t v = 0;
	if (read_u64(dir, "memory.usage_in_bytes", &v))
		json_object_set_new(mem, "usage", json_integer((json_int_t)v));
	if (read_u64(dir, "memory.max_usage_in_bytes", &v))
		json_object_set_new(mem, "max_usage", json_integer((json_int_t)v));
	if (read_u64(dir, "memory.failcnt", &v))
		json_object_set_new(mem, "failcnt", json_integer((json_int_t)v));
	v = 0;
	read_u64(dir, "memory.limit_in_bytes", &v);
	json_object_set_new(mem, "limit", json_integer((json_int_t)clamp_limit(v)));
	json_object_set_new(mem, "stats", read_kv(dir, "memory.stat"));
}

/* blkio files: "8:0 Read 4096" lines, "Total N" at the end. */
static json_t *v1_blkio_list(const char *dir, const char *file)
{
	char *path cleanup_free = berth_xasprintf("%s/%s", dir, file);
	FILE *f cleanup_file = fopen(path, "re");
	if (f == NULL)
		return json_null();
	json_t *list = json_array();
	char line[256], op[32];
	unsigned maj, min;
	unsigned long long v;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%u:%u %31s %llu", &maj, &min, op, &v) == 4)
			json_array_append_new(list, json_pack("{s:i, s:i, s:s, s:I}", "major", maj,
							      "minor", min, "op", op, "value",
							      (json_int_t)v));
	}
	if (json_array_size(list) == 0) {
		json_decref(list);
		return json_null();
	}
	return list;
}

static void v1_blkio(int pid, json_t *blkio)
{
	char *dir cleanup_free = cgroup_dir(pid, "blkio");
	if (dir == NULL)
		return;
	/* The CFQ files are empty on modern kernels: the throttle ones count. */
	json_t *bytes = v1_blkio_list(dir, "blkio.io_service_bytes_recursive");
	if (json_is_null(bytes)) {
		json_decref(bytes);
		bytes = v1_blkio_list(dir, "blkio.throttle.io_service_bytes_recursive");
	}
	json_t *ios = v1_blkio_list(dir, "blkio.io_serviced_recursive");
	if (json_is_null(ios)) {
		json_decref(ios);
		ios = v1_blkio_list(dir, "blkio.throttle.io_serviced_recursive");
	}
	json_object_set_new(blkio, "io_service_bytes_recursive", bytes);
	json_object_set_new(blkio, "io_serviced_recursive", ios);
}

/* ------------------------------------------------------------ cgroup v2 */

static void v2_cpu(const char *dir, json_t *cpu)
{
	json_t *st cleanup_json = read_kv(dir, "cpu.stat");
	json_t *usage = json_object_get(cpu, "cpu_usage");
	json_object_set_new(usage, "total_usage",
			    json_integer((json_int_t)(kv_get(st, "usage_usec") * 1000)));
	json_object_set_new(usage, "usage_in_usermode",
			    json_integer((json_int_t)(kv_get(st, "user_usec") * 1000)));
	json_object_set_new(usage, "usage_in_kernelmode",
			    json_integer((json_int_t)(kv_get(st, "system_usec") * 1000)));
	json_object_set_new(
		cpu, "throttling_data",
		json_pack("{s:I, s:I, s:I}", "periods", (json_int_t)kv_get(st, "nr_periods"),
			  "throttled_periods", (json_int_t)kv_get(st, "nr_throttled"), "throttled_time",
			  (json_int_t)(kv_get(st, "throttled_usec") * 1000)));
}

static void v2_memory(const char *dir, json_t *mem)
{
	uint64_t v = 0;
	if (read_u64(dir, "memory.current", &v))
		json_object_set_new(mem, "usage", json_integer((json_int_t)v));
	v = 0;
	read_u64(dir, "memory.max", &v); /* "max" does not parse: unlimited */
	json_object_set_new(mem, "limit", json_integer((json_int_t)clamp_limit(v)));
	json_object_set_new(mem, "stats", read_kv(dir, "memory.stat"));
}

/* io.stat: "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0". */
static void v2_io(const char *dir, json_t *blkio)
{
	char *path cleanup_free = berth_xasprintf("%s/io.stat", dir);
	FILE *f cleanup_file = fopen(path, "re");
	if (f == NULL)
		return;
	json_t *bytes = json_array(), *ios = json_array();
	char line[512];
	while (fgets(line, sizeof(line), f)) {
		unsigned maj, min;
		unsigned long long rb = 0, wb = 0, ri = 0, wi = 0;
		if (sscanf(line, "%u:%u", &maj, &min) != 2)
			continue;
		char *p;
		if ((p = strstr(line, "rbytes=")))
			rb = strtoull(p + 7, NULL, 10);
		if ((p = strstr(line, "wbytes=")))
			wb = strtoull(p + 7, NULL, 10);
		if ((p = strstr(line, "rios=")))
			ri = strtoull(p + 5, NULL, 10);
		if ((p = strstr(line, "wios=")))
			wi = strtoull(p + 5, NULL, 10);
		const char *fmt = "{s:i, s:i, s:s, s:I}";
		json_array_append_new(bytes, json_pack(fmt, "major", maj, "minor", min, "op", "read", "value", (json_int_t)rb));
		json_array_append_new(bytes, json_pack(fmt, "major", maj, "minor", min, "op", "write", "value", (json_int_t)wb));
		json_array_append_new(ios, json_pack(fmt, "major", maj, "minor", min, "op", "read", "value", (json_int_t)ri));
		json_array_append_new(ios, json_pack(fmt, "major", maj, "minor", min, "op", "write", "value", (json_int_t)wi));
	}
	json_object_set_new(blkio, "io_service_bytes_recursive", bytes);
	json_object_set_new(blkio, "io_serviced_recursive", ios);
}

/* ------------------------------------------------------------- common */

static void pids(const char *dir, json_t *out)
{
	uint64_t v;
	if (read_u64(dir, "pids.current", &v))
		json_object_set_new(out, "current", json_integer((json_int_t)v));
	if (read_u64(dir, "pids.max", &v)) /* "max" does not parse: no limit */
		json_object_set_new(out, "limit", json_integer((json_int_t)v));
}

/* /proc/stat's first line in nanoseconds (user through softirq, as dockerd
 * sums it), and the number of CPUs it lists. */
static void system_cpu(json_t *cpu)
{
	FILE *f cleanup_file = fopen("/proc/stat", "re");
	char line[512];
	uint64_t total = 0;
	int ncpu = 0;
	while (f && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "cpu ", 4) == 0) {
			char *p = line + 4;
			for (int i = 0; i < 7; i++)
				total += strtoull(p, &p, 10);
		} else if (strncmp(line, "cpu", 3) == 0) {
			ncpu++;
		}
	}
	uint64_t tick = (uint64_t)sysconf(_SC_CLK_TCK);
	json_object_set_new(cpu, "system_cpu_usage", json_integer((json_int_t)(total * NS_PER_SEC / tick)));
	json_object_set_new(cpu, "online_cpus", json_integer(ncpu));
}

/* /proc/<pid>/net/dev: the container's interfaces but lo. NULL if none. */
static json_t *networks(int pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/net/dev", pid);
	FILE *f cleanup_file = fopen(path, "re");
	char line[512];
	json_t *nets = json_object();
	while (f && fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');
		if (colon == NULL)
			continue;
		*colon = '\0';
		char *name = line + strspn(line, " ");
		unsigned long long v[16] = {0};
		if (strcmp(name, "lo") == 0 ||
		    sscanf(colon + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
			   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9],
			   &v[10], &v[11]) != 12)
			continue;
		json_object_set_new(
			nets, name,
			json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "rx_bytes", (json_int_t)v[0],
				  "rx_packets", (json_int_t)v[1], "rx_errors", (json_int_t)v[2],
				  "rx_dropped", (json_int_t)v[3], "tx_bytes", (json_int_t)v[8],
				  "tx_packets", (json_int_t)v[9], "tx_errors", (json_int_t)v[10],
				  "tx_dropped", (json_int_t)v[11]));
	}
	if (json_object_size(nets) == 0) {
		json_decref(nets);
		return NULL;
	}
	return nets;
}

static json_t *zero_cpu(void)
{
	return json_pack("{s:{s:i, s:i, s:i}, s:{s:i, s:i, s:i}}", "cpu_usage", "total_usage", 0,
			 "usage_in_kernelmode", 0, "usage_in_usermode", 0, "throttling_data",
			 "periods", 0, "throttled_periods", 0, "throttled_time", 0);
}

json_t *container_stats_empty(const char *name, const char *id)
{
	char *slash_name cleanup_free = berth_xasprintf("/%s", name);
	return json_pack("{s:s, s:s, s:{}, s:{s:n, s:n, s:n, s:n, s:n, s:n, s:n, s:n}, s:i, s:{},"
			 " s:o, s:o, s:{}, s:s, s:s}",
			 "read", CONTAINER_ZERO_TIME, "preread", CONTAINER_ZERO_TIME, "pids_stats",
			 "blkio_stats", "io_service_bytes_recursive", "io_serviced_recursive",
			 "io_queue_recursive", "io_service_time_recursive", "io_wait_time_recursive",
			 "io_merged_recursive", "io_time_recursive", "sectors_recursive",
			 "num_procs", 0, "storage_stats", "cpu_stats", zero_cpu(), "precpu_stats",
			 zero_cpu(), "memory_stats", "name", slash_name, "id", id);
}

int container_stats_sample(int pid, const char *name, const char *id, json_t **out,
			   berth_error **err)
{
	json_t *s = container_stats_empty(name, id);
	char now[40];
	berth_time_format_rfc3339(berth_time_now_ns(), now, sizeof(now));
	json_object_set_new(s, "read", json_string(now));
	json_t *cpu = json_object_get(s, "cpu_stats"), *mem = json_object_get(s, "memory_stats");
	json_t *blkio = json_object_get(s, "blkio_stats");
	bool v2 = berth_oci_cgroup2_host();
	/* the unified dir, or v1's pids hierarchy: where pids.* are */
	char *dir cleanup_free = cgroup_dir(pid, v2 ? NULL : "pids");
	if (dir == NULL) {
		json_decref(s);
		return berth_error_set(err, 409, "container %s is not running", id);
	}
	if (v2) {
		v2_cpu(dir, cpu);
		v2_memory(dir, mem);
		v2_io(dir, blkio);
	} else {
		v1_cpu(pid, cpu);
		v1_memory(pid, mem);
		v1_blkio(pid, blkio);
	}
	pids(dir, json_object_get(s, "pids_stats"));
	system_cpu(cpu);
	json_t *nets = networks(pid);
	if (nets)
		json_object_set_new(s, "networks", nets);
	*out = s;
	return 0;
}
