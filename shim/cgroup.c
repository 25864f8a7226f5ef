/*
 * cgroup.c - the OOM kill counter of a container's memory cgroup, read once
 * when it is created and again after it exited: the container was OOM
 * killed (Docker's OOMKilled) when the counter went up in between.
 *   cgroup v2: <cgroup>/memory.events            "oom_kill N"
 *   cgroup v1: <memory cgroup>/memory.oom_control "oom_kill N" (Linux 4.13+)
 */
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>

#include "shim/internal.h"

static bool has_memory(const char *controllers);

/* Splits s at spaces, in place, into at most max fields; returns how many. */
static int split(char *s, char **fields, int max)
{
	int n = 0;
	char *save = NULL;
	for (char *t = strtok_r(s, " \n", &save); t && n < max; t = strtok_r(NULL, " \n", &save))
		fields[n++] = t;
	return n;
}

/* The mount point and root of the v1 hierarchy with the memory controller. */
static int memory_mount(char **mnt, char **root)
{
	FILE *f cleanup_file = fopen("/proc/self/mountinfo", "re");
	if (f == NULL)
		return -1;
	char *line cleanup_free = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, f) > 0) {
		/* id parent maj:min root mountpoint opts [tags] - fstype source superopts */
		char *sep = strstr(line, " - "), *pre[5], *post[3];
		if (sep == NULL)
			continue;
		*sep = '\0';
		if (split(line, pre, 5) < 5 || split(sep + 3, post, 3) < 3)
			continue;
		if (strcmp(post[0], "cgroup") != 0 || !has_memory(post[2]))
			continue;
		*root = berth_xstrdup(pre[3]);
		*mnt = berth_xstrdup(pre[4]);
		return 0;
	}
	return -1;
}

static bool has_memory(const char *controllers)
{
	char *c cleanup_free = berth_xstrdup(controllers);
	for (char *save = NULL, *o = strtok_r(c, ",", &save); o; o = strtok_r(NULL, ",", &save))
		if (strcmp(o, "memory") == 0)
			return true;
	return false;
}

static char *v1_file(const char *path)
{
	char *mnt cleanup_free = NULL, *root cleanup_free = NULL;
	if (memory_mount(&mnt, &root) < 0)
		return NULL;
	if (strcmp(root, "/") != 0 && strncmp(path, root, strlen(root)) == 0)
		path += strlen(root);
	return berth_xasprintf("%s%s/memory.oom_control", mnt, path);
}

char *shim_cgroup_oom_file(pid_t pid)
{
	struct statfs sfs;
	bool v2 = statfs("/sys/fs/cgroup", &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC;
	char *p cleanup_free = berth_xasprintf("/proc/%d/cgroup", (int)pid);
	FILE *f cleanup_file = fopen(p, "re");
	if (f == NULL)
		return NULL;
	char *line cleanup_free = NULL;
	size_t cap = 0;
	ssize_t n;
	while ((n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] == '\n')
			line[n - 1] = '\0';
		char *c1 = strchr(line, ':');
		char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (c2 == NULL)
			continue;
		*c2 = '\0';
		const char *controllers = c1 + 1, *path = c2 + 1;
		if (v2 && strcmp(line, "0:") == 0)
			return berth_xasprintf("/sys/fs/cgroup%s/memory.events", path);
		if (!v2 && has_memory(controllers))
			return v1_file(path);
	}
	return NULL;
}

int64_t shim_cgroup_oom_count(const char *file)
{
	char *data cleanup_free = NULL;
	if (file == NULL || berth_file_read_all(file, &data, NULL, NULL) < 0)
		return -1;
	for (char *p = data; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, "oom_kill ", 9) == 0)
			return strtoll(p + 9, NULL, 10);
	return -1;
}
