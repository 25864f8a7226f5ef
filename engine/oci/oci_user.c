/* oci_user.c - process.user from the image's /etc/passwd and /etc/group, as
 * runc's libcontainer/user.GetExecUser and dockerd's getUser resolve it. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

#define ID_MAX 2147483647L
#define ERR_RANGE "uids and gids must be in range 0-2147483647"
#define ERR_NO_PASSWD "no matching entries in passwd file"
#define ERR_NO_GROUP "no matching entries in group file"

/* One line of passwd or group split on ':' (at most 8 fields). */
typedef struct entry {
	char *buf;
	char *f[8];
	size_t n;
} entry;

/* A file inside the rootfs, symlinks resolved as if rootfs were "/" (an
 * image's /etc/passwd may be a link; it must not lead out of the image).
 * NULL when it cannot be opened: runc then treats it as absent. */
static FILE *open_in_root(const char *rootfs, const char *path)
{
	int dirfd cleanup_close = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return NULL;
	struct open_how how = {.flags = O_RDONLY | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT};
	int fd = (int)syscall(SYS_openat2, dirfd, path + 1, &how, sizeof(how));
	if (fd < 0 && errno == ENOSYS) {
		char *full cleanup_free = berth_xasprintf("%s%s", rootfs, path);
		fd = open(full, O_RDONLY | O_CLOEXEC);
	}
	FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
	if (f == NULL && fd >= 0)
		close(fd);
	return f;
}

/* The next non-empty line, trimmed and split. false at EOF. */
static bool next_entry(FILE *f, entry *e)
{
	size_t cap = 0;
	ssize_t len;
	free(e->buf);
	e->buf = NULL;
	while ((len = getline(&e->buf, &cap, f)) >= 0) {
		char *s = e->buf, *end = s + len;
		while (end > s && strchr(" \t\r\n", end[-1]) != NULL)
			*--end = '\0';
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\0')
			continue;
		e->n = 0;
		for (;;) {
			e->f[e->n++] = s;
			char *colon = strchr(s, ':');
			if (colon == NULL || e->n == BERTH_ARRAY_SIZE(e->f))
				break;
			*colon = '\0';
			s = colon + 1;
		}
		for (size_t i = e->n; i < BERTH_ARRAY_SIZE(e->f); i++)
			e->f[i] = "";
		return true;
	}
	return false;
}

/* Go's strconv.Atoi: optional sign, digits only. */
static bool parse_id(const char *s, long *out)
{
	char *end;
	if (*s == '\0' || (s[0] != '-' && s[0] != '+' && (s[0] < '0' || s[0] > '9')))
		return false;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (*end != '\0' || errno != 0)
		return false;
	*out = v;
	return true;
}

static long field_id(const char *s)
{
	long v = 0;
	return parse_id(s, &v) ? v : 0;
}

static bool in_member_list(char *list, const char *name)
{
	char *save = NULL;
	for (char *m = strtok_r(list, ",", &save); m; m = strtok_r(NULL, ",", &save)) {
		if (strcmp(m, name) == 0)
			return true;
	}
	return false;
}

/* The user part: by name, or a numeric uid (with or without an entry). */
static int find_user(const char *rootfs, const char *user, long *uid, long *gid, char **name,
		     berth_error **err)
{
	long want = 0;
	bool numeric = parse_id(user, &want);
	FILE *f cleanup_file = open_in_root(rootfs, "/etc/passwd");
	entry e = {0};
	while (f != NULL && next_entry(f, &e)) {
		bool match = *user == '\0' ? field_id(e.f[2]) == *uid
			     : numeric ? field_id(e.f[2]) == want : strcmp(e.f[0], user) == 0;
		if (match) {
			*uid = field_id(e.f[2]);
			*gid = field_id(e.f[3]);
			*name = berth_xstrdup(e.f[0]);
			free(e.buf);
			return 0;
		}
	}
	free(e.buf);
	if (*user == '\0')
		return 0;
	if (!numeric)
		return berth_error_set(err, 400, "unable to find user %s: " ERR_NO_PASSWD, user);
	if (want < 0 || want > ID_MAX)
		return berth_error_set(err, 400, ERR_RANGE);
	*uid = want;
	return 0;
}

/* The group part: an explicit group sets the gid; otherwise a named user's
 * memberships become supplementary gids. */
static int find_groups(const char *rootfs, const char *group, const char *name, long *gid,
		       json_t *sgids, berth_error **err)
{
	long want = 0;
	bool numeric = parse_id(group, &want);
	FILE *f cleanup_file = open_in_root(rootfs, "/etc/group");
	entry e = {0};
	while (f != NULL && next_entry(f, &e)) {
		if (*group == '\0') {
			if (in_member_list(e.f[3], name))
				json_array_append_new(sgids, json_integer(field_id(e.f[2])));
		} else if (numeric ? field_id(e.f[2]) == want : strcmp(e.f[0], group) == 0) {
			*gid = field_id(e.f[2]);
			free(e.buf);
			return 0;
		}
	}
	free(e.buf);
	if (*group == '\0')
		return 0;
	if (!numeric)
		return berth_error_set(err, 400, "unable to find group %s: " ERR_NO_GROUP, group);
	if (want < 0 || want > ID_MAX)
		return berth_error_set(err, 400, ERR_RANGE);
	*gid = want;
	return 0;
}

int berth_oci_user_resolve(const char *rootfs, const char *user, uint32_t *uid_out,
			   uint32_t *gid_out, json_t **additional_gids, berth_error **err)
{
	char *spec cleanup_free = berth_xstrdup(user ? user : "");
	char *group = strchr(spec, ':');
	if (group != NULL) {
		*group++ = '\0';
		char *extra = strchr(group, ':');
		if (extra != NULL)
			*extra = '\0';
	}
	long uid = 0, gid = 0;
	char *name cleanup_free = NULL;
	json_t *sgids cleanup_json = json_array();
	if (find_user(rootfs, spec, &uid, &gid, &name, err) < 0)
		return -1;
	if ((group && *group) || name) {
		if (find_groups(rootfs, group ? group : "", name ? name : "", &gid, sgids, err) < 0)
			return -1;
	}
	*uid_out = (uint32_t)uid;
	*gid_out = (uint32_t)gid;
	json_t *gids = json_pack("[I]", (json_int_t)gid);
	json_array_extend(gids, sgids);
	*additional_gids = gids;
	return 0;
}

static bool has_gid(const json_t *gids, json_int_t gid)
{
	size_t i;
	const json_t *v;
	json_array_foreach(gids, i, v) {
		if (json_integer_value(v) == gid)
			return true;
	}
	return false;
}

/* One GroupAdd entry: a group's name or gid in the image, else a number. */
static int group_add_one(const char *rootfs, const char *want, json_t *gids, berth_error **err)
{
	FILE *f cleanup_file = open_in_root(rootfs, "/etc/group");
	entry e = {0};
	long gid = 0;
	bool found = false;
	while (!found && f != NULL && next_entry(f, &e)) {
		char num[32];
		snprintf(num, sizeof(num), "%ld", field_id(e.f[2]));
		found = strcmp(e.f[0], want) == 0 || strcmp(num, want) == 0;
		gid = field_id(e.f[2]);
	}
	free(e.buf);
	if (!found) {
		if (!parse_id(want, &gid))
			return berth_error_set(err, 400, "Unable to find group %s: " ERR_NO_GROUP,
					       want);
		if (gid < 0 || gid > ID_MAX)
			return berth_error_set(err, 400, ERR_RANGE);
	}
	if (!has_gid(gids, gid))
		json_array_append_new(gids, json_integer(gid));
	return 0;
}

int berth_oci_groups_add(const char *rootfs, const json_t *group_add, json_t *gids,
			 berth_error **err)
{
	size_t i;
	const json_t *v;
	json_array_foreach(group_add, i, v) {
		if (!json_is_string(v))
			return berth_error_set(err, 400, "invalid JSON: field GroupAdd must be an "
							 "array of strings");
		if (group_add_one(rootfs, json_string_value(v), gids, err) < 0)
			return -1;
	}
	return 0;
}

/* process.user: Config.User (merged with the image's) and GroupAdd. */
int oci_user(oci_ctx *c, berth_error **err)
{
	const char *user = NULL;
	const json_t *group_add = NULL;
	uint32_t uid, gid;
	json_t *gids = NULL;
	if (oci_str(c->cfg, "User", &user, err) < 0 ||
	    oci_string_array(c->hc, "GroupAdd", &group_add, err) < 0 ||
	    berth_oci_user_resolve(c->in->rootfs, user, &uid, &gid, &gids, err) < 0)
		return -1;
	json_t *u = json_pack("{s:I, s:I, s:o}", "uid", (json_int_t)uid, "gid", (json_int_t)gid,
			      "additionalGids", gids);
	json_object_set_new(c->process, "user", u);
	c->uid = uid;
	return berth_oci_groups_add(c->in->rootfs, group_add, gids, err);
}
