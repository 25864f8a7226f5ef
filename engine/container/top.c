/*
 * top.c - GET /containers/{id}/top.
 *
 * top runs ps(1) on the host, as dockerd does, and keeps the rows whose PID
 * is in the container's cgroup.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/oci/oci.h"
#include "internal.h"

typedef struct top_job {
	char *procs_path;
	char *ps_args;
	json_t *result;
} top_job;

/* The container's cgroup.procs, for the cgroupfs layout the spec asks runc
 * for ("/berth/<id>"; v1 under the pids hierarchy). */
static char *procs_path(const berth_container *c)
{
	const char *parent = berth_json_string(json_object_get(c->record, "HostConfig"), "CgroupParent");
	if (parent == NULL || *parent == '\0')
		parent = "/berth";
	return berth_oci_cgroup2_host()
		       ? berth_xasprintf("/sys/fs/cgroup%s/%s/cgroup.procs", parent, c->id)
		       : berth_xasprintf("/sys/fs/cgroup/pids%s/%s/cgroup.procs", parent, c->id);
}

static bool pid_in(const long *pids, size_t n, long pid)
{
	for (size_t i = 0; i < n; i++) {
		if (pids[i] == pid)
			return true;
	}
	return false;
}

/* Splits a ps line into at most ncols fields; the last one keeps spaces. */
static json_t *split_row(char *line, size_t ncols)
{
	json_t *row = json_array();
	char *p = line;
	for (size_t i = 0; i < ncols; i++) {
		p += strspn(p, " ");
		if (*p == '\0' || *p == '\n')
			break;
		size_t len = i + 1 == ncols ? strcspn(p, "\n") : strcspn(p, " \n");
		json_array_append_new(row, json_stringn(p, len));
		p += len;
	}
	return row;
}

static int top_work(void *data, berth_error **err)
{
	top_job *j = data;
	FILE *f = fopen(j->procs_path, "r");
	if (f == NULL)
		return berth_error_set(err, 409, "container is not running");
	long *pids = NULL;
	size_t n = 0;
	long pid;
	while (fscanf(f, "%ld", &pid) == 1) {
		pids = berth_xrealloc(pids, (n + 1) * sizeof(*pids));
		pids[n++] = pid;
	}
	fclose(f);
	/* ps_args come from the client: quoted as one shell word each */
	char *cmd cleanup_free = berth_xasprintf("ps %s 2>&1", j->ps_args);
	FILE *ps = popen(cmd, "r");
	if (ps == NULL) {
		free(pids);
		return berth_error_set(err, 500, "ps: cannot run");
	}
	char line[4096];
	json_t *titles = NULL, *procs = json_array();
	size_t pid_col = (size_t)-1, ncols = 0;
	while (fgets(line, sizeof(line), ps)) {
		if (titles == NULL) {
			titles = split_row(line, 64);
			ncols = json_array_size(titles);
			for (size_t i = 0; i < ncols; i++) {
				if (strcmp(json_string_value(json_array_get(titles, i)), "PID") == 0)
					pid_col = i;
			}
			continue;
		}
		json_t *row = split_row(line, ncols);
		const char *p = json_string_value(json_array_get(row, pid_col));
		if (p && pid_in(pids, n, strtol(p, NULL, 10)))
			json_array_append_new(procs, row);
		else
			json_decref(row);
	}
	int status = pclose(ps);
	free(pids);
	if (titles == NULL || pid_col == (size_t)-1 || status != 0) {
		json_decref(titles);
		json_decref(procs);
		return berth_error_set(err, 500, "Error running top: ps %s failed or has no PID column",
				       j->ps_args);
	}
	j->result = json_pack("{s:o, s:o}", "Titles", titles, "Processes", procs);
	return 0;
}

static int top_done(berth_daemon *d, berth_api_req *req, void *data, berth_error *work_err,
		    berth_error **err)
{
	top_job *j = data;
	int rc = 0;
	if (req && work_err == NULL)
		rc = berth_api_reply_json(req, 200, json_incref(j->result));
	else
		rc = -1;
	json_decref(j->result);
	free(j->procs_path);
	free(j->ps_args);
	free(j);
	return rc;
}

int berth_container_top(berth_container_store *s, berth_api_req *req, const char *name,
			const char *ps_args, berth_error **err)
{
	berth_container *c;
	if (berth_container_find(s, name, &c, err) < 0)
		return -1;
	if (!container_running(c))
		return berth_error_set(err, 409, "Container %s is not running", c->id);
	const char *args = ps_args && *ps_args ? ps_args : "-ef";
	/* only ps's own option characters: nothing a shell would act on */
	if (strspn(args, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-=, ") != strlen(args))
		return berth_error_set(err, 400, "Error running top: invalid ps arguments: %s", args);
	top_job *j = berth_xcalloc(1, sizeof(*j));
	j->procs_path = procs_path(c);
	j->ps_args = berth_xstrdup(args);
	return berth_api_defer(s->daemon, req, top_work, top_done, j);
}
