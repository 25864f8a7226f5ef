/*
 * update.c - POST /containers/{id}/update: resources and restart policy.
 *
 * As dockerd: only the fields the request sets (non-zero) replace the
 * container's; the record changes first, and a running container's cgroup
 * follows through `runc update` with the resources the spec generator
 * derives from the new HostConfig, so create and update cannot disagree.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/oci/oci.h"
#include "internal.h"

/* The Resources fields update takes, in dockerd's order; zero means "keep". */
static const char *const update_fields[] = {
	"BlkioWeight", "CpuShares",	  "NanoCpus",	      "CpuPeriod",
	"CpuQuota",    "CpusetCpus",	  "CpusetMems",	      "Memory",
	"MemorySwap",  "MemoryReservation", "KernelMemory", "CpuRealtimePeriod",
	"CpuRealtimeRuntime",
};

static bool is_set(const json_t *v)
{
	return (json_is_integer(v) && json_integer_value(v) != 0) ||
	       (json_is_string(v) && *json_string_value(v) != '\0');
}

static json_int_t int_of(const json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

/* NanoCpus replaces CpuPeriod/CpuQuota: one cannot be updated over the other. */
static int check_cpu_conflicts(const json_t *req, const json_t *hc, berth_error **err)
{
	static const struct {
		const char *want, *have, *msg;
	} rules[] = {
		{"NanoCpus", "CpuPeriod", "Nano CPUs cannot be updated as CPU Period has already been set"},
		{"NanoCpus", "CpuQuota", "Nano CPUs cannot be updated as CPU Quota has already been set"},
		{"CpuPeriod", "NanoCpus", "CPU Period cannot be updated as NanoCPUs has already been set"},
		{"CpuQuota", "NanoCpus", "CPU Quota cannot be updated as NanoCPUs has already been set"},
	};
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(rules); i++) {
		if (int_of(req, rules[i].want) > 0 && int_of(hc, rules[i].have) > 0)
			return berth_error_set(err, 400, "Conflicting options: %s", rules[i].msg);
	}
	return 0;
}

/* Applies the request to a copy of HostConfig; errors in dockerd's words. */
static int merge_update(const json_t *req, json_t *hc, berth_error **err)
{
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(update_fields); i++) {
		const json_t *v = json_object_get(req, update_fields[i]);
		if (v != NULL && !json_is_null(v) && !json_is_integer(v) && !json_is_string(v))
			return berth_error_set(err, 400, "invalid value for %s", update_fields[i]);
	}
	if (check_cpu_conflicts(req, hc, err) < 0)
		return -1;
	json_int_t mem = int_of(req, "Memory"), swap = int_of(hc, "MemorySwap");
	if (mem != 0 && swap > 0 && mem > swap && int_of(req, "MemorySwap") == 0)
		return berth_error_set(err, 400, "Memory limit should be smaller than already set "
						 "memoryswap limit, update the memoryswap at the same time");
	if (mem > 0 && mem < 6 * 1024 * 1024)
		return berth_error_set(err, 400, "Minimum memory limit allowed is 6MB");
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(update_fields); i++) {
		json_t *v = json_object_get(req, update_fields[i]);
		if (is_set(v))
			json_object_set(hc, update_fields[i], v);
	}
	const json_t *pids = json_object_get(req, "PidsLimit");
	if (json_is_integer(pids))
		json_object_set(hc, "PidsLimit", (json_t *)pids);
	const json_t *rp = json_object_get(req, "RestartPolicy");
	const char *policy = berth_json_string(rp, "Name");
	if (policy && *policy) {
		if (json_is_true(json_object_get(hc, "AutoRemove")) && strcmp(policy, "no") != 0)
			return berth_error_set(err, 400, "Restart policy cannot be updated because "
							 "AutoRemove is enabled for the container");
		if (container_restart_policy_check(rp, err) < 0)
			return -1;
		json_object_set_new(hc, "RestartPolicy", json_deep_copy(rp));
	}
	return 0;
}

typedef struct update_job {
	char *runtime, *runc_root;
	char id[65];
	char *resources;            /* JSON for runc update */
	json_t *host_config;        /* the new HostConfig */
	berth_api_hold *hold;
} update_job;

static int update_work(void *data, berth_error **err)
{
	update_job *j = data;
	char *argv[] = {j->runtime, "--root", j->runc_root, "update", "--resources", "-", j->id, NULL};
	berth_buf errout cleanup_buf = {0};
	int code = 0;
	if (berth_proc_run(argv, j->resources, strlen(j->resources), NULL, &errout, &code, err) < 0)
		return -1;
	if (code != 0) {
		berth_buf_append(&errout, "", 1);
		errout.data[strcspn(errout.data, "\n")] = '\0';
		return berth_error_set(err, 500, "Cannot update container %s: %s", j->id, errout.data);
	}
	return 0;
}

static void update_job_free(update_job *j)
{
	berth_api_hold_free(j->hold);
	json_decref(j->host_config);
	free(j->resources);
	free(j->runtime);
	free(j->runc_root);
	free(j);
}

/* The record changes once the cgroup took the change (or at once when the
 * container is not running). */
static void update_commit(berth_container *c, json_t *host_config)
{
	json_object_set(c->record, "HostConfig", host_config);
	container_save(c, NULL);
	container_event(c, "update", NULL);
}

static void update_done(berth_container *c, void *data, berth_error *work_err)
{
	update_job *j = data;
	berth_api_req *req = berth_api_hold_req(j->hold);
	if (work_err == NULL)
		update_commit(c, j->host_config);
	if (req && work_err)
		berth_api_reply_error(req, work_err);
	else if (req)
		berth_api_reply_json(req, 200, json_pack("{s:[]}", "Warnings"));
	update_job_free(j);
}

int berth_container_update(berth_container_store *s, berth_api_req *req, const char *name,
			   json_t *body, berth_error **err)
{
	berth_container *c;
	if (berth_container_find(s, name, &c, err) < 0)
		return -1;
	if (c->removing)
		return berth_error_set(err, 409, "Cannot update container %s: container is marked for removal", c->id);
	json_t *hc cleanup_json = json_deep_copy(json_object_get(c->record, "HostConfig"));
	if (hc == NULL)
		hc = json_object();
	if (merge_update(body, hc, err) < 0)
		return berth_error_wrap(err, "Cannot update container %s", c->id);
	json_t *res cleanup_json = NULL;
	if (berth_oci_resources(hc, berth_oci_cgroup2_host(), &res, err) < 0)
		return -1;
	if (!container_running(c)) {
		update_commit(c, hc);
		return berth_api_reply_json(req, 200, json_pack("{s:[]}", "Warnings"));
	}
	update_job *j = berth_xcalloc(1, sizeof(*j));
	j->runtime = container_runtime_path(s, hc);
	j->runc_root = berth_xstrdup(s->runc_root);
	snprintf(j->id, sizeof(j->id), "%s", c->id);
	j->resources = berth_oci_spec_dump(res);
	j->host_config = json_incref(hc);
	j->hold = berth_api_hold_new(req);
	container_op_queue(c, update_work, update_done, j);
	return 0;
}
