/*
 * options.c - the local driver's rules: volume names, driver options
 * (type, device, o), and mounting a volume's device with them as dockerd's
 * moby/sys/mount does.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mount.h>

#include "internal.h"

/* ------------------------------------------------------------------ names */

/* Go's %q for the names in messages. */
static char *go_quote(const char *s)
{
	berth_buf b = {0};
	berth_buf_puts(&b, "\"");
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			berth_buf_printf(&b, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			berth_buf_printf(&b, "\\x%02x", *p);
		else
			berth_buf_append(&b, p, 1);
	}
	berth_buf_puts(&b, "\"");
	return berth_buf_steal(&b);
}

static bool name_char(char c, bool first)
{
	return isalnum((unsigned char)c) || (!first && (c == '_' || c == '.' || c == '-'));
}

int volume_validate_name(const char *name, berth_error **err)
{
	size_t len = strlen(name);
	if (len == 1)
		return berth_error_set(err, 400,
				       "volume name is too short, names should be at least "
				       "two alphanumeric characters");
	bool ok = len >= 2;
	for (size_t i = 0; ok && i < len; i++)
		ok = name_char(name[i], i == 0);
	if (ok)
		return 0;
	char *q cleanup_free = go_quote(name);
	return berth_error_set(
		err, 400,
		"%s includes invalid characters for a local volume name, only "
		"\"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a "
		"host directory, use absolute path",
		q);
}

/* ---------------------------------------------------------------- options */

static const char *const valid_opts[] = {"type", "o", "device", "size"};

/* An option that needs another: dockerd's mandatoryOpts, checked in a fixed
 * order so the message does not depend on map order. */
static const char *const required_opts[][2] = {
	{"device", "type"}, {"type", "device"}, {"o", "device"}};

/* go-units RAMInBytes: "10m", "1.5GiB", "512". */
static int ram_in_bytes(const char *s, int64_t *out)
{
	char *end;
	double n = strtod(s, &end);
	if (end == s || n < 0)
		return -1;
	static const char units[] = "kmgtp";
	const char *u = *end ? strchr(units, tolower((unsigned char)*end)) : NULL;
	const char *rest = u ? end + 1 : end;
	if (*rest && strcasecmp(rest, "b") != 0 && !(u && strcasecmp(rest, "ib") == 0))
		return -1;
	for (const char *p = units; u && p <= u; p++)
		n *= 1024;
	*out = (int64_t)n;
	return 0;
}

int volume_validate_opts(const json_t *opts, berth_error **err)
{
	const char *key;
	json_t *val;
	json_object_foreach((json_t *)opts, key, val) {
		bool known = false;
		for (size_t i = 0; i < BERTH_ARRAY_SIZE(valid_opts); i++)
			known = known || strcmp(key, valid_opts[i]) == 0;
		if (!known) {
			char *q cleanup_free = go_quote(key);
			return berth_error_set(err, 400, "invalid option: %s", q);
		}
	}
	const char *size = berth_json_string(opts, "size");
	int64_t bytes = 0;
	if (size && ram_in_bytes(size, &bytes) < 0)
		return berth_error_set(err, 400, "invalid size: '%s'", size);
	if (bytes > 0)
		return berth_error_set(err, 400, "quota size requested but no quota support");
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(required_opts); i++) {
		if (json_object_get(opts, required_opts[i][0]) &&
		    !json_object_get(opts, required_opts[i][1]))
			return berth_error_set(err, 400, "missing required option: \"%s\"",
					       required_opts[i][1]);
	}
	return 0;
}

char *volume_opts_file(const json_t *opts)
{
	const char *o = berth_json_string(opts, "o"), *type = berth_json_string(opts, "type");
	const char *device = berth_json_string(opts, "device");
	json_t *doc cleanup_json =
		json_pack("{s:s, s:s, s:s, s:{s:i}}", "MountType", type ? type : "", "MountOpts",
			  o ? o : "", "MountDevice", device ? device : "", "Quota", "Size", 0);
	return berth_json_dump(doc);
}

/* ------------------------------------------------------------------ mount */

typedef struct mount_flag {
	const char *name;
	bool clear;
	unsigned long flag;
} mount_flag;

static const mount_flag mount_flags[] = {
	{"defaults", false, 0},
	{"ro", false, MS_RDONLY},
	{"rw", true, MS_RDONLY},
	{"suid", true, MS_NOSUID},
	{"nosuid", false, MS_NOSUID},
	{"dev", true, MS_NODEV},
	{"nodev", false, MS_NODEV},
	{"exec", true, MS_NOEXEC},
	{"noexec", false, MS_NOEXEC},
	{"sync", false, MS_SYNCHRONOUS},
	{"async", true, MS_SYNCHRONOUS},
	{"dirsync", false, MS_DIRSYNC},
	{"remount", false, MS_REMOUNT},
	{"mand", false, MS_MANDLOCK},
	{"nomand", true, MS_MANDLOCK},
	{"atime", true, MS_NOATIME},
	{"noatime", false, MS_NOATIME},
	{"diratime", true, MS_NODIRATIME},
	{"nodiratime", false, MS_NODIRATIME},
	{"bind", false, MS_BIND},
	{"rbind", false, MS_BIND | MS_REC},
	{"unbindable", false, MS_UNBINDABLE},
	{"runbindable", false, MS_UNBINDABLE | MS_REC},
	{"private", false, MS_PRIVATE},
	{"rprivate", false, MS_PRIVATE | MS_REC},
	{"shared", false, MS_SHARED},
	{"rshared", false, MS_SHARED | MS_REC},
	{"slave", false, MS_SLAVE},
	{"rslave", false, MS_SLAVE | MS_REC},
	{"relatime", false, MS_RELATIME},
	{"norelatime", true, MS_RELATIME},
	{"strictatime", false, MS_STRICTATIME},
	{"nostrictatime", true, MS_STRICTATIME},
};

#define PROPAGATION (MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE)

bool mount_option_flag(const char *name, unsigned long *flag, bool *propagation)
{
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(mount_flags); i++) {
		if (strcmp(name, mount_flags[i].name) == 0 && mount_flags[i].flag) {
			*flag = mount_flags[i].flag;
			*propagation = (mount_flags[i].flag & PROPAGATION) != 0;
			return true;
		}
	}
	return false;
}

/* "addr=host" of an nfs mount: the kernel wants an address. */
static char *resolve_addr(const char *opt)
{
	const char *host = opt + 5;
	struct in_addr a4;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return NULL;
	struct addrinfo hints = {.ai_family = AF_UNSPEC}, *res = NULL;
	if (getaddrinfo(host, NULL, &hints, &res) != 0 || res == NULL)
		return NULL;
	char buf[INET6_ADDRSTRLEN] = "";
	const void *addr =
		res->ai_family == AF_INET
			? (const void *)&((struct sockaddr_in *)res->ai_addr)->sin_addr
			: (const void *)&((struct sockaddr_in6 *)res->ai_addr)->sin6_addr;
	inet_ntop(res->ai_family, addr, buf, sizeof(buf));
	freeaddrinfo(res);
	return berth_xasprintf("addr=%s", buf);
}

/* Splits "o" into mount flags and the data string the file system gets. */
static void parse_mount_options(const char *o, bool nfs, unsigned long *flags, berth_buf *data)
{
	char **parts = berth_str_split(o ? o : "", ',');
	*flags = 0;
	for (char **p = parts; *p; p++) {
		const mount_flag *f = NULL;
		for (size_t i = 0; i < BERTH_ARRAY_SIZE(mount_flags) && !f; i++)
			if (strcmp(*p, mount_flags[i].name) == 0)
				f = &mount_flags[i];
		if (f) {
			*flags = f->clear ? (*flags & ~f->flag) : (*flags | f->flag);
			continue;
		}
		if (**p == '\0')
			continue;
		char *addr cleanup_free =
			nfs && berth_str_has_prefix(*p, "addr=") ? resolve_addr(*p) : NULL;
		berth_buf_printf(data, "%s%s", data->len ? "," : "", addr ? addr : *p);
	}
	berth_strv_free(parts);
}

/* moby/sys/mount's error text: "mount src:dst, flags: 0x.., data: ..: err". */
static int mount_error(const volume *v, const char *op, const char *src, unsigned long flags,
		       const char *data, int e, berth_error **err)
{
	char reason[256];
	snprintf(reason, sizeof(reason), "%s", strerror(e));
	reason[0] = (char)tolower((unsigned char)reason[0]); /* Go's errno texts */
	berth_buf b cleanup_buf = {0};
	berth_buf_printf(&b, "%s %s%s%s", op, src ? src : "", src ? ":" : "", v->path);
	if (flags)
		berth_buf_printf(&b, ", flags: 0x%lx", flags);
	if (data && *data)
		berth_buf_printf(&b, ", data: %s", data);
	return berth_error_set(err, 500,
			       "error while mounting volume '%s': failed to mount local "
			       "volume: %s: %s",
			       v->path, b.data, reason);
}

int volume_device_mount(volume *v, berth_error **err)
{
	const char *type = berth_json_string(v->options, "type");
	const char *device = berth_json_string(v->options, "device");
	if (device == NULL || *device == '\0')
		return berth_error_set(err, 500,
				       "error while mounting volume '%s': missing device "
				       "in volume options",
				       v->path);
	unsigned long flags;
	berth_buf data cleanup_buf = {0};
	parse_mount_options(berth_json_string(v->options, "o"), type && strcmp(type, "nfs") == 0,
			    &flags, &data);
	unsigned long base = flags & ~PROPAGATION;
	const char *d = data.len ? data.data : NULL;
	if (mount(device, v->path, type, base, d) < 0)
		return mount_error(v, "mount", device, base, d, errno, err);
	if ((flags & PROPAGATION) &&
	    mount("", v->path, "", flags & (PROPAGATION | MS_REC), NULL) < 0) {
		int e = errno;
		umount2(v->path, MNT_DETACH);
		return mount_error(v, "remount", NULL, flags & (PROPAGATION | MS_REC), NULL, e,
				   err);
	}
	/* A bind ignores MS_RDONLY until it is remounted. */
	if ((base & (MS_BIND | MS_RDONLY)) == (MS_BIND | MS_RDONLY) &&
	    mount("", v->path, "", base | MS_REMOUNT, NULL) < 0) {
		int e = errno;
		umount2(v->path, MNT_DETACH);
		return mount_error(v, "remount-ro", NULL, base | MS_REMOUNT, NULL, e, err);
	}
	v->mounted = true;
	return 0;
}

void volume_device_unmount(volume *v)
{
	if (umount2(v->path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT) {
		berth_warn("volume %s: unmount %s: %s", v->name, v->path, strerror(errno));
		return;
	}
	v->mounted = false;
}

/* /proc/self/mountinfo escapes spaces and the like as \040 in its paths. */
static void unescape_octal(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '7' && r[2] && r[3]) {
			*w++ = (char)(((r[1] - '0') << 6) | ((r[2] - '0') << 3) | (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

bool path_is_mountpoint(const char *path)
{
	char real[PATH_MAX];
	if (realpath(path, real) == NULL)
		return false;
	char *info cleanup_free = NULL;
	if (berth_file_read_all("/proc/self/mountinfo", &info, NULL, NULL) < 0)
		return false;
	bool found = false;
	for (char *line = info, *next; line && *line && !found; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		char mnt[PATH_MAX + 1];
		if (sscanf(line, "%*s %*s %*s %*s %4096s", mnt) != 1)
			continue;
		unescape_octal(mnt);
		found = strcmp(mnt, real) == 0;
	}
	return found;
}
