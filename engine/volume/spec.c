/*
 * spec.c - parsing the mounts of a create request as dockerd's Linux parser
 * (volume/mounts) does: HostConfig.Binds strings, HostConfig.Mounts objects,
 * HostConfig.Tmpfs and VolumesFrom entries, with dockerd's error texts. Both
 * Binds and Mounts become one mount_spec, validated by one function, so the
 * two forms cannot drift apart. Nothing here touches the store.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

/* api/types/mount.Mount, as far as the Linux parser reads it. */
typedef struct mount_spec {
	const char *type, *source, *target;
	bool read_only;
	bool bind_opts; /* BindOptions given */
	const char *propagation;
	bool create_mountpoint;
	bool volume_opts; /* VolumeOptions given */
	bool nocopy;
	const char *driver, *subpath;
	const json_t *labels, *driver_opts;
	bool tmpfs_opts; /* TmpfsOptions given */
	json_int_t tmpfs_size, tmpfs_mode;
	const json_t *tmpfs_options;
} mount_spec;

/* ------------------------------------------------------------------ modes */

typedef enum {
	MODE_RW,
	MODE_LABEL,
	MODE_PROPAGATION,
	MODE_COPY,
	MODE_CONSISTENCY,
	MODE_KINDS
} mode_kind;

static const struct {
	const char *name;
	mode_kind kind;
} modes[] = {
	{"rw", MODE_RW},
	{"ro", MODE_RW},
	{"ro-non-recursive", MODE_RW},
	{"ro-force-recursive", MODE_RW},
	{"rro", MODE_RW},
	{"z", MODE_LABEL},
	{"Z", MODE_LABEL},
	{"private", MODE_PROPAGATION},
	{"rprivate", MODE_PROPAGATION},
	{"slave", MODE_PROPAGATION},
	{"rslave", MODE_PROPAGATION},
	{"shared", MODE_PROPAGATION},
	{"rshared", MODE_PROPAGATION},
	{"nocopy", MODE_COPY},
	{"consistent", MODE_CONSISTENCY},
	{"cached", MODE_CONSISTENCY},
	{"delegated", MODE_CONSISTENCY},
};

static int mode_kind_of(const char *opt)
{
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(modes); i++)
		if (strcmp(opt, modes[i].name) == 0)
			return (int)modes[i].kind;
	return -1;
}

/* Counts the options of each kind; false when one is unknown. */
static bool mode_count(const char *mode, int counts[MODE_KINDS])
{
	memset(counts, 0, sizeof(int) * MODE_KINDS);
	if (mode == NULL || *mode == '\0')
		return true;
	char **opts = berth_str_split(mode, ',');
	bool ok = true;
	for (char **o = opts; *o && ok; o++) {
		int k = mode_kind_of(*o);
		ok = k >= 0;
		if (ok)
			counts[k]++;
	}
	berth_strv_free(opts);
	return ok;
}

bool volume_mode_valid(const char *mode)
{
	int counts[MODE_KINDS];
	if (!mode_count(mode, counts))
		return false;
	for (int k = 0; k < MODE_KINDS; k++)
		if (counts[k] > 1)
			return false;
	return true;
}

/* The first option of a kind in a valid mode, or NULL. */
static char *mode_find(const char *mode, mode_kind kind)
{
	char **opts = berth_str_split(mode ? mode : "", ',');
	char *found = NULL;
	for (char **o = opts; *o && !found; o++)
		if (mode_kind_of(*o) == (int)kind)
			found = berth_xstrdup(*o);
	berth_strv_free(opts);
	return found;
}

bool volume_mode_rw(const char *mode)
{
	if (!volume_mode_valid(mode))
		return false;
	char *rw cleanup_free = mode_find(mode, MODE_RW);
	return rw == NULL || strcmp(rw, "rw") == 0;
}

/* ------------------------------------------------------------------ paths */

/* dockerd replaces '\' by '/' before judging a Linux path. */
static char *slashes(const char *p)
{
	char *s = berth_xstrdup(p);
	for (char *c = s; *c; c++)
		if (*c == '\\')
			*c = '/';
	return s;
}

static int check_absolute(const char *p, berth_error **err)
{
	char *s cleanup_free = slashes(p);
	if (s[0] == '/')
		return 0;
	return berth_error_set(err, 400, "invalid mount path: '%s' mount path must be absolute", s);
}

static int check_not_root(const char *p, berth_error **err)
{
	char *s cleanup_free = slashes(p);
	char *clean cleanup_free = berth_path_clean(s);
	if (strcmp(clean, "/") != 0)
		return 0;
	return berth_error_set(err, 400, "invalid specification: destination can't be '/'");
}

/* ------------------------------------------------------------- validation */

/* errMountConfig: `invalid mount config for type "bind": <why>`. */
static int config_error(const mount_spec *m, berth_error **err)
{
	return berth_error_wrap(err, "invalid mount config for type \"%s\"", m->type);
}

static int fail(const mount_spec *m, berth_error **err, const char *fmt, const char *arg)
{
	berth_error_set(err, 400, fmt, arg);
	return config_error(m, err);
}

static int check_bind(const mount_spec *m, bool check_source, berth_error **err)
{
	if (m->source == NULL || *m->source == '\0')
		return fail(m, err, "field %s must not be empty", "Source");
	if (m->propagation && *m->propagation && mode_kind_of(m->propagation) != MODE_PROPAGATION)
		return fail(m, err, "invalid propagation mode: %s", m->propagation);
	if (m->volume_opts)
		return fail(m, err, "field %s must not be specified", "VolumeOptions");
	if (check_absolute(m->source, err) < 0)
		return config_error(m, err);
	struct stat st;
	if (!check_source || stat(m->source, &st) == 0)
		return 0;
	if (errno != ENOENT) {
		berth_error_set(err, 400, "stat %s: %s", m->source, strerror(errno));
		return config_error(m, err);
	}
	if (m->create_mountpoint)
		return 0;
	return fail(m, err, "bind source path does not exist: %s", m->source);
}

static int check_subpath(const mount_spec *m, bool anonymous, berth_error **err)
{
	if (m->subpath == NULL || *m->subpath == '\0')
		return 0;
	if (anonymous)
		return fail(m, err, "%s", "must not set Subpath when using anonymous volumes");
	char *clean cleanup_free = berth_path_clean(m->subpath);
	if (m->subpath[0] == '/' || strcmp(clean, "..") == 0 || berth_str_has_prefix(clean, "../"))
		return fail(m, err, "%s", "subpath must be a relative path within the volume");
	return 0;
}

static int check_tmpfs_options(const mount_spec *m, berth_error **err)
{
	size_t i;
	json_t *opt;
	json_array_foreach(m->tmpfs_options, i, opt) {
		size_t n = json_array_size(opt);
		const char *name = json_string_value(json_array_get(opt, 0));
		if (!json_is_array(opt) || n < 1 || n > 2)
			return fail(m, err, "%s", "invalid option array length");
		if (name == NULL || (strcmp(name, "exec") != 0 && strcmp(name, "noexec") != 0))
			return fail(m, err, "invalid option: %s", name ? name : "");
	}
	return 0;
}

/* dockerd's validateMountConfigImpl. */
static int validate_spec(const mount_spec *m, bool check_source, berth_error **err)
{
	if (m->target == NULL || *m->target == '\0')
		return fail(m, err, "field %s must not be empty", "Target");
	if (check_not_root(m->target, err) < 0 || check_absolute(m->target, err) < 0)
		return config_error(m, err);
	if (strcmp(m->type, "bind") == 0)
		return check_bind(m, check_source, err);
	bool anonymous = m->source == NULL || *m->source == '\0';
	if (strcmp(m->type, "volume") == 0) {
		if (m->bind_opts)
			return fail(m, err, "field %s must not be specified", "BindOptions");
		if (check_subpath(m, anonymous, err) < 0)
			return -1;
		if (m->read_only && anonymous)
			return fail(m, err, "%s",
				    "must not set ReadOnly mode when using anonymous volumes");
		return 0;
	}
	if (strcmp(m->type, "tmpfs") == 0) {
		if (m->bind_opts)
			return fail(m, err, "field %s must not be specified", "BindOptions");
		if (!anonymous)
			return fail(m, err, "field %s must not be specified", "Source");
		return check_tmpfs_options(m, err);
	}
	return fail(m, err, "%s", "mount type unknown");
}

/* ------------------------------------------------------------ mount points */

static json_t *mount_point_new(const char *type, const char *dest, bool rw)
{
	char *clean cleanup_free = berth_path_clean(dest);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:s}", "Type", type, "Name", "",
			 "Source", "", "Destination", clean, "Driver", "", "Mode", "", "RW", rw,
			 "Propagation", "");
}

static void set_str(json_t *o, const char *key, const char *v)
{
	json_object_set_new(o, key, json_string(v ? v : ""));
}

/* dockerd's ConvertTmpfsOptions: "ro,mode=700,size=1m,noexec". */
static char *tmpfs_data(const mount_spec *m)
{
	berth_buf b = {0};
	if (m->read_only)
		berth_buf_puts(&b, "ro");
	if (m->tmpfs_mode)
		berth_buf_printf(&b, "%smode=%llo", b.len ? "," : "",
				 (unsigned long long)m->tmpfs_mode);
	if (m->tmpfs_size) {
		static const struct {
			const char *suffix;
			json_int_t div;
		} units[] = {{"g", 1LL << 30}, {"m", 1LL << 20}, {"k", 1LL << 10}};
		json_int_t size = m->tmpfs_size;
		const char *suffix = "";
		for (size_t i = 0; i < BERTH_ARRAY_SIZE(units) && !*suffix; i++)
			if (size % units[i].div == 0)
				size /= units[i].div, suffix = units[i].suffix;
		berth_buf_printf(&b, "%ssize=%lld%s", b.len ? "," : "", (long long)size, suffix);
	}
	size_t i;
	json_t *opt;
	json_array_foreach(m->tmpfs_options, i, opt) {
		const char *val = json_string_value(json_array_get(opt, 1));
		berth_buf_printf(&b, "%s%s%s%s", b.len ? "," : "",
				 json_string_value(json_array_get(opt, 0)), val ? "=" : "",
				 val ? val : "");
	}
	return berth_buf_steal(&b);
}

/* dockerd's parseMountSpec, after validation. */
static json_t *spec_to_mount_point(const mount_spec *m)
{
	json_t *mp = mount_point_new(m->type, m->target, !m->read_only);
	if (strcmp(m->type, "volume") == 0) {
		bool named = m->source && *m->source;
		set_str(mp, "Name", named ? m->source : "");
		set_str(mp, "Driver", m->driver);
		json_object_set_new(mp, "Anonymous", json_boolean(!named));
		json_object_set_new(mp, "CopyData", json_boolean(!m->nocopy));
		if (m->subpath && *m->subpath)
			set_str(mp, "Subpath", m->subpath);
		if (m->labels)
			json_object_set_new(mp, "VolumeLabels", json_deep_copy(m->labels));
		if (m->driver_opts)
			json_object_set_new(mp, "DriverOpts", json_deep_copy(m->driver_opts));
	} else if (strcmp(m->type, "bind") == 0) {
		char *src cleanup_free = berth_path_clean(m->source);
		set_str(mp, "Source", src);
		bool given = m->propagation && *m->propagation;
		set_str(mp, "Propagation", given ? m->propagation : "rprivate");
		json_object_set_new(mp, "PropagationGiven", json_boolean(given));
		json_object_set_new(mp, "CreateSource", json_boolean(m->create_mountpoint));
	} else {
		char *data cleanup_free = tmpfs_data(m);
		set_str(mp, "TmpfsOptions", data);
	}
	return mp;
}

/* ------------------------------------------------------------------ Binds */

static int invalid_spec(const char *raw, berth_error **err)
{
	return berth_error_set(err, 400, "invalid volume specification: '%s'", raw);
}

int volume_parse_bind(const char *raw, const char *volume_driver, json_t **out, berth_error **err)
{
	char **arr = berth_str_split(raw, ':');
	size_t n = berth_strv_len(arr);
	mount_spec m = {0};
	const char *mode = "";
	int r = 0;
	/* dockerd splits in at most 4: a fourth part is always an error */
	if (arr[0] == NULL || *arr[0] == '\0' || n > 3 || (n == 2 && volume_mode_valid(arr[1])))
		r = invalid_spec(raw, err);
	else if (n == 1)
		m.target = arr[0];
	else
		m.source = arr[0], m.target = arr[1], mode = n == 3 ? arr[2] : "";
	if (r == 0 && !volume_mode_valid(mode))
		r = berth_error_set(err, 400, "invalid mode: %s", mode);
	if (r < 0) {
		berth_strv_free(arr);
		return -1;
	}
	m.type = m.source && m.source[0] == '/' ? "bind" : "volume";
	m.read_only = !volume_mode_rw(mode);
	bool is_volume = strcmp(m.type, "volume") == 0;
	if (volume_driver && *volume_driver && is_volume)
		m.volume_opts = true, m.driver = volume_driver;
	char *copy cleanup_free = mode_find(mode, MODE_COPY);
	if (copy)
		m.volume_opts = true, m.nocopy = true;
	char *prop cleanup_free = mode_find(mode, MODE_PROPAGATION);
	if (prop)
		m.bind_opts = true, m.propagation = prop;
	m.create_mountpoint = true; /* -v makes a missing host directory at start */
	if (validate_spec(&m, false, err) < 0) {
		berth_error_wrap(err, "invalid volume specification: '%s'", raw);
		berth_strv_free(arr);
		return -1;
	}
	json_t *mp = spec_to_mount_point(&m);
	set_str(mp, "Mode", mode);
	berth_strv_free(arr);
	*out = mp;
	return 0;
}

/* ----------------------------------------------------------------- Mounts */

static int member_object(const json_t *o, const char *key, const json_t **out, berth_error **err)
{
	const json_t *v = json_object_get(o, key);
	*out = json_is_null(v) ? NULL : v;
	if (*out && !json_is_object(*out))
		return berth_error_set(err, 400, "invalid JSON: field %s must be an object", key);
	return 0;
}

static int read_options(const json_t *spec, mount_spec *m, berth_error **err)
{
	const json_t *bind, *vol, *tmpfs, *driver = NULL;
	if (member_object(spec, "BindOptions", &bind, err) < 0 ||
	    member_object(spec, "VolumeOptions", &vol, err) < 0 ||
	    member_object(spec, "TmpfsOptions", &tmpfs, err) < 0 ||
	    (vol && member_object(vol, "DriverConfig", &driver, err) < 0))
		return -1;
	m->bind_opts = bind != NULL;
	m->volume_opts = vol != NULL;
	m->tmpfs_opts = tmpfs != NULL;
	if (berth_json_get_string(bind, "Propagation", &m->propagation, err) < 0 ||
	    berth_json_get_bool(bind, "CreateMountpoint", &m->create_mountpoint, err) < 0 ||
	    berth_json_get_bool(vol, "NoCopy", &m->nocopy, err) < 0 ||
	    berth_json_get_string(vol, "Subpath", &m->subpath, err) < 0 ||
	    member_object(vol, "Labels", &m->labels, err) < 0 ||
	    berth_json_get_string(driver, "Name", &m->driver, err) < 0 ||
	    member_object(driver, "Options", &m->driver_opts, err) < 0 ||
	    berth_json_get_int(tmpfs, "SizeBytes", &m->tmpfs_size, err) < 0 ||
	    berth_json_get_int(tmpfs, "Mode", &m->tmpfs_mode, err) < 0)
		return -1;
	const json_t *opts = json_object_get(tmpfs, "Options");
	m->tmpfs_options = json_is_array(opts) ? opts : NULL;
	return 0;
}

int volume_parse_mount(const json_t *spec, json_t **out, berth_error **err)
{
	if (!json_is_object(spec))
		return berth_error_set(err, 400, "invalid JSON: Mounts must hold objects");
	mount_spec m = {0};
	if (berth_json_get_string(spec, "Type", &m.type, err) < 0 ||
	    berth_json_get_string(spec, "Source", &m.source, err) < 0 ||
	    berth_json_get_string(spec, "Target", &m.target, err) < 0 ||
	    berth_json_get_bool(spec, "ReadOnly", &m.read_only, err) < 0 ||
	    read_options(spec, &m, err) < 0)
		return -1;
	if (m.type == NULL)
		m.type = "";
	if (validate_spec(&m, true, err) < 0)
		return -1;
	*out = spec_to_mount_point(&m);
	return 0;
}

/* ------------------------------------------------------------ Tmpfs, from */

int volume_parse_tmpfs(const char *dest, const char *data, json_t **out, berth_error **err)
{
	if (check_not_root(dest, err) < 0 || check_absolute(dest, err) < 0)
		return -1;
	char **opts = berth_str_split(data ? data : "", ',');
	bool ro = false;
	for (char **o = opts; *o; o++)
		ro = strcmp(*o, "ro") == 0 ? true : strcmp(*o, "rw") == 0 ? false : ro;
	berth_strv_free(opts);
	json_t *mp = mount_point_new("tmpfs", dest, !ro);
	set_str(mp, "TmpfsOptions", data);
	json_object_set_new(mp, "Hidden", json_true());
	*out = mp;
	return 0;
}

int volume_parse_volumes_from(const char *spec, char **name, char **mode, berth_error **err)
{
	if (spec == NULL || *spec == '\0')
		return berth_error_set(err, 400,
				       "volumes-from specification cannot be an empty string");
	const char *colon = strchr(spec, ':');
	const char *m = colon ? colon + 1 : "";
	if (*m == '\0')
		m = "rw";
	int counts[MODE_KINDS];
	/* Propagation and copy modes come from the source container. */
	if (!volume_mode_valid(m) || !mode_count(m, counts) || counts[MODE_PROPAGATION] ||
	    counts[MODE_COPY])
		return berth_error_set(err, 400, "invalid mode: %s", m);
	*name = colon ? berth_xstrndup(spec, (size_t)(colon - spec)) : berth_xstrdup(spec);
	*mode = berth_xstrdup(m);
	return 0;
}
