/* OCI spec generation (engine/oci): dockerd's merge of image and request,
 * entrypoint/cmd, env, users from a temp rootfs's /etc/passwd and
 * /etc/group, capabilities, resources, mounts, namespaces, seccomp, and
 * Docker's errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <ftw.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/oci/oci.h"

#define ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static char rootfs[PATH_MAX];
static char profile[PATH_MAX + 64];

static const char passwd[] = "root:x:0:0:root:/root:/bin/sh\n"
			     "daemon:x:1:1::/:/bin/false\n"
			     "\n"
			     "user:x:1000:1000::/home/user:/bin/sh\n";
static const char group[] = "root:x:0:\n"
			    "wheel:x:10:root\n"
			    "user:x:1000:\n"
			    "extra:x:2000:user,other\n";

static void write_file(const char *dir, const char *name, const char *text)
{
	char *p = berth_xasprintf("%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	free(p);
}

/* The tree's contrib/seccomp/default.json, from the repo root or from the
 * binary's place in build/<kind>/tests/. */
static void find_profile(void)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	snprintf(profile, sizeof(profile), "contrib/seccomp/default.json");
	if (access(profile, R_OK) == 0 || n <= 0)
		return;
	exe[n] = '\0';
	*strrchr(exe, '/') = '\0';
	snprintf(profile, sizeof(profile), "%s/../../../contrib/seccomp/default.json", exe);
}

static int group_setup(void **state)
{
	snprintf(rootfs, sizeof(rootfs), "/tmp/berth-oci-unit.XXXXXX");
	if (mkdtemp(rootfs) == NULL)
		return -1;
	char *etc = berth_xasprintf("%s/etc", rootfs);
	mkdir(etc, 0755);
	write_file(etc, "passwd", passwd);
	write_file(etc, "group", group);
	free(etc);
	find_profile();
	return access(profile, R_OK);
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(p);
}

static int group_teardown(void **state)
{
	return nftw(rootfs, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* JSON with single quotes, for readable literals. */
static json_t *J(const char *s)
{
	if (s == NULL)
		return NULL;
	char *d = berth_xstrdup(s);
	for (char *p = d; *p; p++)
		if (*p == '\'')
			*p = '"';
	json_error_t e;
	json_t *j = json_loads(d, JSON_DECODE_ANY, &e);
	if (j == NULL)
		fail_msg("bad test JSON %s: %s", s, e.text);
	free(d);
	return j;
}

typedef struct gen {
	berth_oci_input in;
	json_t *img, *cfg, *hc;
} gen;

static void gen_init(gen *g, const char *img, const char *cfg, const char *hc)
{
	memset(g, 0, sizeof(*g));
	g->img = J(img);
	g->cfg = J(cfg ? cfg : "{'Cmd':['sh']}");
	g->hc = J(hc);
	g->in.id = ID;
	g->in.rootfs = rootfs;
	g->in.image_config = g->img;
	g->in.config = g->cfg;
	g->in.host_config = g->hc;
	g->in.seccomp_profile = profile;
}

static void gen_free(gen *g)
{
	json_decref(g->img);
	json_decref(g->cfg);
	json_decref(g->hc);
}

static json_t *gen_ok(gen *g)
{
	json_t *spec = NULL;
	berth_error *err = NULL;
	if (berth_oci_spec_generate(&g->in, &spec, &err) < 0)
		fail_msg("generate: %d %s", err->status, err->msg);
	gen_free(g);
	return spec;
}

static void gen_fails(gen *g, int status, const char *msg)
{
	json_t *spec = NULL;
	berth_error *err = NULL;
	assert_int_equal(berth_oci_spec_generate(&g->in, &spec, &err), -1);
	assert_null(spec);
	assert_string_equal(err->msg, msg);
	assert_int_equal(err->status, status);
	berth_error_free(&err);
	gen_free(g);
}

static json_t *spec_of(const char *img, const char *cfg, const char *hc)
{
	gen g;
	gen_init(&g, img, cfg, hc);
	return gen_ok(&g);
}

static void fails(const char *img, const char *cfg, const char *hc, const char *msg)
{
	gen g;
	gen_init(&g, img, cfg, hc);
	gen_fails(&g, 400, msg);
}

/* Compares a JSON value at a path like "process.args" with expected JSON. */
static const json_t *at(const json_t *j, const char *path)
{
	char *copy = berth_xstrdup(path), *save = NULL;
	for (char *k = strtok_r(copy, ".", &save); k && j; k = strtok_r(NULL, ".", &save))
		j = json_is_array(j) ? json_array_get(j, strtoul(k, NULL, 10))
				     : json_object_get(j, k);
	free(copy);
	return j;
}

static void expect(const json_t *spec, const char *path, const char *want)
{
	json_t *w = J(want);
	const json_t *got = at(spec, path);
	if (!json_equal(got, w)) {
		char *g = got ? json_dumps(got, JSON_ENCODE_ANY) : strdup("(absent)");
		fail_msg("%s: got %s, want %s", path, g, want);
	}
	json_decref(w);
}

static const json_t *mount_at(const json_t *spec, const char *dest)
{
	size_t i;
	const json_t *m;
	json_array_foreach(json_object_get(spec, "mounts"), i, m) {
		if (strcmp(json_string_value(json_object_get(m, "destination")), dest) == 0)
			return m;
	}
	return NULL;
}

static bool has_ns(const json_t *spec, const char *type, const char **path)
{
	size_t i;
	const json_t *ns;
	json_array_foreach(at(spec, "linux.namespaces"), i, ns) {
		if (strcmp(json_string_value(json_object_get(ns, "type")), type) == 0) {
			if (path)
				*path = json_string_value(json_object_get(ns, "path"));
			return true;
		}
	}
	return false;
}

/* The seccomp rule whose names hold name, with the given action. */
static const json_t *seccomp_rule(const json_t *spec, const char *name, const char *action)
{
	size_t i, k;
	const json_t *r, *n;
	json_array_foreach(at(spec, "linux.seccomp.syscalls"), i, r) {
		if (strcmp(json_string_value(json_object_get(r, "action")), action) != 0)
			continue;
		json_array_foreach(json_object_get(r, "names"), k, n) {
			if (strcmp(json_string_value(n), name) == 0)
				return r;
		}
	}
	return NULL;
}

#define DEFAULT_CAPS                                                                           \
	"['CAP_CHOWN','CAP_DAC_OVERRIDE','CAP_FSETID','CAP_FOWNER','CAP_MKNOD','CAP_NET_RAW',"  \
	"'CAP_SETGID','CAP_SETUID','CAP_SETFCAP','CAP_SETPCAP','CAP_NET_BIND_SERVICE',"         \
	"'CAP_SYS_CHROOT','CAP_KILL','CAP_AUDIT_WRITE']"

/* ------------------------------------------------------------- defaults */

static void test_defaults(void **state)
{
	json_t *s = spec_of("{'Cmd':['/bin/sh']}", "{}", NULL);
	expect(s, "ociVersion", "'" BERTH_OCI_VERSION "'");
	assert_string_equal(json_string_value(at(s, "root.path")), rootfs);
	expect(s, "root.readonly", "false");
	expect(s, "hostname", "'0123456789ab'");
	expect(s, "process.args", "['/bin/sh']");
	expect(s, "process.cwd", "'/'");
	expect(s, "process.terminal", "false");
	expect(s, "process.oomScoreAdj", "0");
	expect(s, "process.user", "{'uid':0,'gid':0,'additionalGids':[0,10]}");
	expect(s, "process.capabilities.bounding", DEFAULT_CAPS);
	expect(s, "process.capabilities.effective", DEFAULT_CAPS);
	expect(s, "process.capabilities.permitted", DEFAULT_CAPS);
	assert_null(at(s, "process.noNewPrivileges"));
	expect(s, "linux.cgroupsPath", "'/berth/" ID "'");
	expect(s, "linux.namespaces",
	       "[{'type':'mount'},{'type':'network'},{'type':'uts'},{'type':'pid'},"
	       "{'type':'ipc'}]");
	expect(s, "linux.maskedPaths",
	       "['/proc/asound','/proc/acpi','/proc/kcore','/proc/keys','/proc/latency_stats',"
	       "'/proc/timer_list','/proc/timer_stats','/proc/sched_debug','/proc/scsi',"
	       "'/sys/firmware','/sys/devices/virtual/powercap']");
	expect(s, "linux.readonlyPaths",
	       "['/proc/bus','/proc/fs','/proc/irq','/proc/sys','/proc/sysrq-trigger']");
	expect(s, "linux.devices", "[]");
	expect(s, "linux.resources.devices.0", "{'allow':false,'access':'rwm'}");
	expect(s, "linux.resources.devices.7",
	       "{'allow':false,'type':'c','major':10,'minor':229,'access':'rwm'}");
	expect(s, "linux.seccomp.defaultAction", "'SCMP_ACT_ERRNO'");
	expect(s, "linux.seccomp.defaultErrnoRet", "1");
	assert_null(at(s, "linux.resources.memory"));
	assert_null(at(s, "linux.resources.pids"));
	json_decref(s);
}

static void test_default_mounts(void **state)
{
	json_t *s = spec_of(NULL, NULL, NULL);
	expect(s, "mounts.0", "{'destination':'/proc','type':'proc','source':'proc',"
			      "'options':['nosuid','noexec','nodev']}");
	expect(s, "mounts.1", "{'destination':'/dev','type':'tmpfs','source':'tmpfs',"
			      "'options':['nosuid','strictatime','mode=755','size=65536k']}");
	expect(s, "mounts.2", "{'destination':'/dev/pts','type':'devpts','source':'devpts',"
			      "'options':['nosuid','noexec','newinstance','ptmxmode=0666',"
			      "'mode=0620','gid=5']}");
	expect(s, "mounts.3", "{'destination':'/sys','type':'sysfs','source':'sysfs',"
			      "'options':['nosuid','noexec','nodev','ro']}");
	expect(s, "mounts.4", "{'destination':'/sys/fs/cgroup','type':'cgroup','source':'cgroup',"
			      "'options':['ro','nosuid','noexec','nodev']}");
	expect(s, "mounts.5", "{'destination':'/dev/mqueue','type':'mqueue','source':'mqueue',"
			      "'options':['nosuid','noexec','nodev']}");
	expect(s, "mounts.6", "{'destination':'/dev/shm','type':'tmpfs','source':'shm',"
			      "'options':['nosuid','noexec','nodev','mode=1777','size=67108864']}");
	assert_int_equal(json_array_size(json_object_get(s, "mounts")), 7);
	json_decref(s);
}

/* ------------------------------------------------------------------ env */

static void test_env_merge(void **state)
{
	json_t *s = spec_of("{'Env':['PATH=/img/bin','A=1','B=2'],'Cmd':['sh']}",
			    "{'Env':['B=3','C=4'],'Hostname':'web'}", NULL);
	expect(s, "process.env", "['PATH=/img/bin','HOSTNAME=web','B=3','C=4','A=1']");
	expect(s, "hostname", "'web'");
	json_decref(s);
}

static void test_env_defaults_tty_unset(void **state)
{
	json_t *s = spec_of(NULL, "{'Cmd':['sh'],'Tty':true,'Env':['X=1','HOSTNAME']}", NULL);
	expect(s, "process.env", "['PATH=" BERTH_OCI_DEFAULT_PATH "','TERM=xterm','X=1']");
	json_decref(s);
	/* TERM from the request wins over the TTY default. */
	s = spec_of(NULL, "{'Cmd':['sh'],'Tty':true,'Env':['TERM=vt100']}", NULL);
	expect(s, "process.env", "['PATH=" BERTH_OCI_DEFAULT_PATH "','HOSTNAME=0123456789ab',"
				 "'TERM=vt100']");
	json_decref(s);
}

static void test_config_merge(void **state)
{
	json_t *cfg = J("{'Env':['B=3'],'ExposedPorts':{'80/tcp':{}},'Labels':{'a':'mine'},"
			"'Healthcheck':{'Interval':5}}");
	json_t *img = J("{'Env':['A=1','B=2'],'User':'user','WorkingDir':'/w','StopSignal':"
			"'SIGQUIT','ExposedPorts':{'443/tcp':{}},'Volumes':{'/data':{}},"
			"'Labels':{'a':'img','b':'img'},'Cmd':'echo hi',"
			"'Healthcheck':{'Test':['CMD','true'],'Interval':1,'Retries':3}}");
	berth_error *err = NULL;
	assert_int_equal(berth_oci_config_merge(cfg, img, &err), 0);
	expect(cfg, "Env", "['B=3','A=1']");
	expect(cfg, "User", "'user'");
	expect(cfg, "WorkingDir", "'/w'");
	expect(cfg, "StopSignal", "'SIGQUIT'");
	expect(cfg, "ExposedPorts", "{'80/tcp':{},'443/tcp':{}}");
	expect(cfg, "Volumes", "{'/data':{}}");
	expect(cfg, "Labels", "{'a':'mine','b':'img'}");
	expect(cfg, "Cmd", "['echo hi']");
	expect(cfg, "Entrypoint", "null");
	expect(cfg, "Healthcheck", "{'Test':['CMD','true'],'Interval':5,'Retries':3}");
	json_decref(cfg);
	json_decref(img);
}

/* --------------------------------------------------------- entrypoint/cmd */

static void test_command_table(void **state)
{
	static const struct {
		const char *img, *cfg, *argv;
	} cases[] = {
		{"{'Entrypoint':['/ep'],'Cmd':['a']}", "{}", "['/ep','a']"},
		{"{'Entrypoint':['/ep'],'Cmd':['a']}", "{'Cmd':['b']}", "['/ep','b']"},
		{"{'Entrypoint':['/ep'],'Cmd':['a']}", "{'Entrypoint':['/x']}", "['/x']"},
		{"{'Entrypoint':['/ep'],'Cmd':['a']}", "{'Entrypoint':['/x'],'Cmd':['c']}",
		 "['/x','c']"},
		{"{'Entrypoint':['/ep'],'Cmd':['a']}", "{'Entrypoint':[''],'Cmd':['c']}", "['c']"},
		{"{'Entrypoint':['/ep'],'Cmd':['a']}", "{'Entrypoint':[]}", "['a']"},
		{"{'Cmd':['a','b']}", "{'Entrypoint':null,'Cmd':null}", "['a','b']"},
		{"{'Cmd':['a']}", "{'Entrypoint':'/bin/sh -c','Cmd':'ls'}", "['/bin/sh -c','ls']"},
		{NULL, "{'Cmd':['only']}", "['only']"},
		{"{'Entrypoint':['/ep']}", "{}", "['/ep']"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *s = spec_of(cases[i].img, cases[i].cfg, NULL);
		expect(s, "process.args", cases[i].argv);
		json_decref(s);
	}
}

static void test_command_errors(void **state)
{
	fails(NULL, "{}", NULL, "No command specified");
	fails("{'Entrypoint':['/ep'],'Cmd':['a']}", "{'Entrypoint':['']}", NULL,
	      "No command specified");
	fails(NULL, "{'Cmd':[1]}", NULL,
	      "invalid JSON: field Cmd must be a string or an array of strings");
	json_t *argv = NULL;
	berth_error *err = NULL;
	json_t *cfg = J("{'Entrypoint':['a'],'Cmd':['b']}");
	assert_int_equal(berth_oci_command(cfg, &argv, &err), 0);
	expect(argv, "", "['a','b']");
	json_decref(argv);
	json_decref(cfg);
}

static void test_config_merged_flag(void **state)
{
	/* A stored, merged Config: Entrypoint null stays null (no image EP). */
	gen g;
	gen_init(&g, "{'Entrypoint':['/ep'],'Cmd':['a']}", "{'Entrypoint':null,'Cmd':['c']}", NULL);
	g.in.config_merged = true;
	json_t *s = gen_ok(&g);
	expect(s, "process.args", "['c']");
	json_decref(s);
}

static void test_workdir(void **state)
{
	json_t *s = spec_of("{'WorkingDir':'/app//src/./x/..'}", NULL, NULL);
	expect(s, "process.cwd", "'/app/src'");
	json_decref(s);
	s = spec_of("{'WorkingDir':'/app'}", "{'Cmd':['sh'],'WorkingDir':'/mine'}", NULL);
	expect(s, "process.cwd", "'/mine'");
	json_decref(s);
	fails(NULL, "{'Cmd':['sh'],'WorkingDir':'rel'}", NULL,
	      "the working directory 'rel' is invalid, it needs to be an absolute path");
}

/* ----------------------------------------------------------------- users */

static void expect_user(const char *user, uint32_t uid, uint32_t gid, const char *gids)
{
	uint32_t u = 99, g = 99;
	json_t *list = NULL;
	berth_error *err = NULL;
	if (berth_oci_user_resolve(rootfs, user, &u, &g, &list, &err) < 0)
		fail_msg("%s: %s", user, err->msg);
	assert_int_equal(u, uid);
	assert_int_equal(g, gid);
	expect(list, "", gids);
	json_decref(list);
}

static void expect_user_error(const char *user, const char *msg)
{
	uint32_t u, g;
	json_t *list = NULL;
	berth_error *err = NULL;
	assert_int_equal(berth_oci_user_resolve(rootfs, user, &u, &g, &list, &err), -1);
	assert_string_equal(err->msg, msg);
	assert_int_equal(err->status, 400);
	assert_null(list);
	berth_error_free(&err);
}

static void test_user_names(void **state)
{
	expect_user("", 0, 0, "[0,10]");
	expect_user(NULL, 0, 0, "[0,10]");
	expect_user("root", 0, 0, "[0,10]");
	expect_user("user", 1000, 1000, "[1000,2000]");
	expect_user("daemon", 1, 1, "[1]");
}

static void test_user_numeric(void **state)
{
	expect_user("1000", 1000, 1000, "[1000,2000]");
	expect_user("4242", 4242, 0, "[0]");
	expect_user("1000:3000", 1000, 3000, "[3000]");
	expect_user("4242:4343", 4242, 4343, "[4343]");
}

static void test_user_groups(void **state)
{
	expect_user("user:extra", 1000, 2000, "[2000]");
	expect_user("root:user", 0, 1000, "[1000]");
	expect_user("user:10", 1000, 10, "[10]");
}

static void test_user_errors(void **state)
{
	expect_user_error("foo", "unable to find user foo: no matching entries in passwd file");
	expect_user_error("user:nogroup",
			  "unable to find group nogroup: no matching entries in group file");
	expect_user_error("-1", "uids and gids must be in range 0-2147483647");
	expect_user_error("1:99999999999", "uids and gids must be in range 0-2147483647");
	fails(NULL, "{'Cmd':['sh'],'User':'nobody'}", NULL,
	      "unable to find user nobody: no matching entries in passwd file");
}

/* An image without /etc/passwd: numbers work, names do not. */
static void test_user_no_passwd(void **state)
{
	uint32_t u, g;
	json_t *list = NULL;
	berth_error *err = NULL;
	const char *none = "/nonexistent-root";
	assert_int_equal(berth_oci_user_resolve(none, "123:456", &u, &g, &list, &err), 0);
	assert_int_equal(u, 123);
	assert_int_equal(g, 456);
	json_decref(list);
	assert_int_equal(berth_oci_user_resolve(none, "", &u, &g, &list, &err), 0);
	assert_int_equal(u, 0);
	expect(list, "", "[0]");
	json_decref(list);
	assert_int_equal(berth_oci_user_resolve(none, "app", &u, &g, &list, &err), -1);
	assert_string_equal(err->msg,
			    "unable to find user app: no matching entries in passwd file");
	berth_error_free(&err);
}

/* /etc/passwd as an absolute symlink resolves inside the rootfs, not on
 * the host. */
static void test_user_passwd_symlink(void **state)
{
	char *root2 = berth_xasprintf("%s/img2", rootfs);
	char *etc = berth_xasprintf("%s/etc", root2);
	char *link = berth_xasprintf("%s/passwd", etc);
	assert_int_equal(berth_mkdir_all(etc, 0755, NULL), 0);
	write_file(etc, "passwd.real", "app:x:777:778::/:/bin/sh\n");
	assert_int_equal(symlink("/etc/passwd.real", link), 0);
	uint32_t u, g;
	json_t *list = NULL;
	berth_error *err = NULL;
	assert_int_equal(berth_oci_user_resolve(root2, "app", &u, &g, &list, &err), 0);
	assert_int_equal(u, 777);
	assert_int_equal(g, 778);
	json_decref(list);
	/* The host's root user is not visible through the link. */
	assert_int_equal(berth_oci_user_resolve(root2, "root", &u, &g, &list, &err), -1);
	berth_error_free(&err);
	free(root2);
	free(etc);
	free(link);
}

static void test_group_add(void **state)
{
	json_t *s = spec_of(NULL, "{'Cmd':['sh'],'User':'user'}",
			    "{'GroupAdd':['wheel','2000','5555']}");
	expect(s, "process.user", "{'uid':1000,'gid':1000,'additionalGids':[1000,2000,10,5555]}");
	json_decref(s);
	fails(NULL, NULL, "{'GroupAdd':['nosuch']}",
	      "Unable to find group nosuch: no matching entries in group file");
}

/* ---------------------------------------------------------- capabilities */

static void test_caps_add_drop(void **state)
{
	json_t *s = spec_of(NULL, NULL,
			    "{'CapAdd':['NET_ADMIN','cap_sys_ptrace','chown'],"
			    "'CapDrop':['chown','CAP_KILL','Net_Raw']}");
	expect(s, "process.capabilities.bounding",
	       "['CAP_DAC_OVERRIDE','CAP_FSETID','CAP_FOWNER','CAP_MKNOD','CAP_SETGID',"
	       "'CAP_SETUID','CAP_SETFCAP','CAP_SETPCAP','CAP_NET_BIND_SERVICE','CAP_SYS_CHROOT',"
	       "'CAP_AUDIT_WRITE','CAP_NET_ADMIN','CAP_SYS_PTRACE','CAP_CHOWN']");
	json_decref(s);
}

static void test_caps_all(void **state)
{
	json_t *s = spec_of(NULL, NULL, "{'CapDrop':['ALL'],'CapAdd':['chown','setuid']}");
	expect(s, "process.capabilities.bounding", "['CAP_CHOWN','CAP_SETUID']");
	json_decref(s);
	s = spec_of(NULL, NULL, "{'CapDrop':['all']}");
	expect(s, "process.capabilities.bounding", "[]");
	json_decref(s);
	/* --cap-add ALL: everything this process holds, minus the drops. */
	json_t *all = NULL;
	berth_error *err = NULL;
	assert_int_equal(berth_oci_caps(NULL, NULL, true, &all, &err), 0);
	assert_true(json_array_size(all) > 14);
	s = spec_of(NULL, NULL, "{'CapAdd':['ALL'],'CapDrop':['MKNOD']}");
	const json_t *got = at(s, "process.capabilities.bounding");
	assert_int_equal(json_array_size(got), json_array_size(all) - 1);
	size_t i;
	const json_t *v;
	json_array_foreach(got, i, v)
		assert_string_not_equal(json_string_value(v), "CAP_MKNOD");
	json_decref(s);
	json_decref(all);
}

static void test_caps_errors(void **state)
{
	fails(NULL, NULL, "{'CapAdd':['FOO']}", "unknown capability: \"CAP_FOO\"");
	fails(NULL, NULL, "{'CapDrop':['cap_bar']}", "unknown capability: \"CAP_BAR\"");
	fails(NULL, NULL, "{'CapAdd':'NET_ADMIN'}",
	      "invalid JSON: field CapAdd must be an array of strings");
}

static void test_caps_non_root(void **state)
{
	json_t *s = spec_of(NULL, "{'Cmd':['sh'],'User':'1000'}", NULL);
	expect(s, "process.capabilities.bounding", DEFAULT_CAPS);
	assert_null(at(s, "process.capabilities.effective"));
	assert_null(at(s, "process.capabilities.permitted"));
	json_decref(s);
}

static void test_privileged(void **state)
{
	json_t *s = spec_of(NULL, NULL, "{'Privileged':true,'CapDrop':['ALL']}");
	json_t *all = NULL;
	berth_error *err = NULL;
	assert_int_equal(berth_oci_caps(NULL, NULL, true, &all, &err), 0);
	assert_true(json_equal(at(s, "process.capabilities.bounding"), all));
	json_decref(all);
	assert_null(at(s, "linux.maskedPaths"));
	assert_null(at(s, "linux.readonlyPaths"));
	assert_null(at(s, "linux.seccomp"));
	expect(mount_at(s, "/sys"), "options", "['nosuid','noexec','nodev']");
	expect(mount_at(s, "/sys/fs/cgroup"), "options", "['nosuid','noexec','nodev']");
	expect(s, "linux.resources.devices", "[{'allow':true,'access':'rwm'}]");
	/* Every host device; /dev/null at least. */
	bool null_seen = false;
	size_t i;
	const json_t *d;
	json_array_foreach(at(s, "linux.devices"), i, d)
		null_seen |= strcmp(json_string_value(at(d, "path")), "/dev/null") == 0;
	assert_true(null_seen);
	json_decref(s);
}

/* --------------------------------------------------------------- ulimits */

static void test_ulimits(void **state)
{
	gen g;
	gen_init(&g, NULL, NULL,
		 "{'Ulimits':[{'Name':'nofile','Soft':100,'Hard':200},"
		 "{'Name':'core','Soft':-1,'Hard':-1}]}");
	json_t *defaults = J("{'nproc':{'Name':'nproc','Soft':50,'Hard':60},"
			     "'nofile':{'Name':'nofile','Soft':1,'Hard':2}}");
	g.in.default_ulimits = defaults;
	json_t *s = gen_ok(&g);
	json_decref(defaults);
	expect(s, "process.rlimits.0", "{'type':'RLIMIT_NOFILE','soft':100,'hard':200}");
	expect(s, "process.rlimits.2", "{'type':'RLIMIT_NPROC','soft':50,'hard':60}");
	assert_int_equal(json_array_size(at(s, "process.rlimits")), 3);
	/* -1 is RLIM_INFINITY, written as 2^64-1. */
	char *text = berth_oci_spec_dump(s);
	assert_non_null(strstr(text, "{\"type\":\"RLIMIT_CORE\",\"hard\":18446744073709551615,"
				     "\"soft\":18446744073709551615}"));
	free(text);
	json_decref(s);
}

static void test_ulimits_default_and_errors(void **state)
{
	json_t *s = spec_of(NULL, NULL, NULL);
	const json_t *nofile = at(s, "process.rlimits.0");
	expect(nofile, "type", "'RLIMIT_NOFILE'");
	assert_true(json_integer_value(json_object_get(nofile, "soft")) <= BERTH_OCI_NOFILE_SOFT);
	assert_true(json_integer_value(json_object_get(nofile, "hard")) <= BERTH_OCI_NOFILE_HARD);
	json_decref(s);
	fails(NULL, NULL, "{'Ulimits':[{'Name':'bogus','Soft':1,'Hard':1}]}",
	      "invalid ulimit type: bogus");
	fails(NULL, NULL, "{'Ulimits':[{'Name':'nproc','Soft':10,'Hard':5}]}",
	      "ulimit soft limit must be less than or equal to hard limit: 10 > 5");
}

/* ------------------------------------------------------------- resources */

static void test_resources(void **state)
{
	json_t *s = spec_of(NULL, NULL,
			    "{'Memory':67108864,'MemoryReservation':33554432,'NanoCpus':1500000000,"
			    "'CpuShares':512,'CpusetCpus':'0','CpusetMems':'0','PidsLimit':10,"
			    "'BlkioWeight':300,'OomKillDisable':false,'MemorySwappiness':-1}");
	expect(s, "linux.resources.memory",
	       "{'limit':67108864,'reservation':33554432,'swap':134217728,"
	       "'disableOOMKiller':false}");
	expect(s, "linux.resources.cpu",
	       "{'shares':512,'cpus':'0','mems':'0','period':100000,'quota':150000}");
	expect(s, "linux.resources.pids", "{'limit':10}");
	expect(s, "linux.resources.blockIO", "{'weight':300}");
	json_decref(s);
	s = spec_of(NULL, NULL,
		    "{'Memory':67108864,'MemorySwap':-1,'CpuPeriod':50000,'CpuQuota':25000,"
		    "'PidsLimit':0,'MemorySwappiness':10}");
	expect(s, "linux.resources.memory", "{'limit':67108864,'swappiness':10}");
	expect(s, "linux.resources.cpu", "{'period':50000,'quota':25000}");
	expect(s, "linux.resources.pids", "{'limit':-1}");
	json_decref(s);
}

static void test_resource_errors(void **state)
{
	fails(NULL, NULL, "{'Memory':1048576}", "Minimum memory limit allowed is 6MB");
	fails(NULL, NULL, "{'Memory':67108864,'MemorySwap':33554432}",
	      "Minimum memoryswap limit should be larger than memory limit, see usage");
	fails(NULL, NULL, "{'MemorySwap':67108864}",
	      "You should always set the Memory limit when using Memoryswap limit, see usage");
	fails(NULL, NULL, "{'Memory':67108864,'MemoryReservation':134217728}",
	      "Minimum memory limit can not be less than memory reservation limit, see usage");
	fails(NULL, NULL, "{'MemorySwappiness':101}",
	      "Invalid value: 101, valid memory swappiness range is 0-100");
	fails(NULL, NULL, "{'NanoCpus':1000000000,'CpuPeriod':100000}",
	      "Conflicting options: Nano CPUs and CPU Period cannot both be set");
	fails(NULL, NULL, "{'CpuPeriod':10}",
	      "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s "
	      "(i.e. 1000000)");
	fails(NULL, NULL, "{'CpuQuota':10}", "CPU cfs quota can not be less than 1ms (i.e. 1000)");
	fails(NULL, NULL, "{'CpuShares':-2}",
	      "invalid CPU shares (-2): value must be a positive integer");
	fails(NULL, NULL, "{'BlkioWeight':5}", "Range of blkio weight is from 10 to 1000");
	fails(NULL, NULL, "{'OomScoreAdj':1001}",
	      "Invalid value 1001, range for oom score adj is [-1000, 1000]");
	fails(NULL, NULL, "{'ShmSize':-1}", "SHM size can not be less than 0");
	fails(NULL, NULL, "{'Memory':'lots'}", "invalid JSON: field Memory must be an integer");
}

static void test_validate_warnings(void **state)
{
	json_t *hc = J("{'OomKillDisable':true,'CpuPercent':50,'NetworkMode':'host',"
		       "'PortBindings':{'80/tcp':[{'HostPort':'80'}]}}");
	json_t *w = json_array();
	berth_error *err = NULL;
	assert_int_equal(berth_oci_hostconfig_validate(hc, w, &err), 0);
	expect(w, "", "['OOM killer is disabled for the container, but no memory limit is set, "
		      "this can result in the system running out of resources.',"
		      "'linux does not support CPU percent. Percent discarded.',"
		      "'Published ports are discarded when using host network mode']");
	json_decref(w);
	json_decref(hc);
}

/* --------------------------------------------------------------- mounts */

static void test_shm(void **state)
{
	json_t *s = spec_of(NULL, NULL, "{'ShmSize':134217728}");
	expect(mount_at(s, "/dev/shm"), "options",
	       "['nosuid','noexec','nodev','mode=1777','size=134217728']");
	json_decref(s);
	s = spec_of(NULL, NULL, "{'IpcMode':'none'}");
	assert_null(mount_at(s, "/dev/shm"));
	assert_true(has_ns(s, "ipc", NULL));
	json_decref(s);
	s = spec_of(NULL, NULL, "{'IpcMode':'host'}");
	expect(mount_at(s, "/dev/shm"), "",
	       "{'destination':'/dev/shm','type':'bind','source':'/dev/shm',"
	       "'options':['rbind','rprivate']}");
	assert_false(has_ns(s, "ipc", NULL));
	json_decref(s);
	gen g;
	gen_init(&g, NULL, NULL, "{'IpcMode':'shareable'}");
	g.in.shm_path = "/run/berth/c1/shm";
	s = gen_ok(&g);
	expect(mount_at(s, "/dev/shm"), "source", "'/run/berth/c1/shm'");
	json_decref(s);
}

static void test_tmpfs(void **state)
{
	json_t *s = spec_of(NULL, NULL, "{'Tmpfs':{'/run':'rw,size=65536k','/tmp':''}}");
	expect(mount_at(s, "/run"), "",
	       "{'destination':'/run','type':'tmpfs','source':'tmpfs',"
	       "'options':['noexec','nosuid','nodev','rprivate','rw','size=65536k']}");
	expect(mount_at(s, "/tmp"), "options", "['noexec','nosuid','nodev','rprivate']");
	json_decref(s);
	json_t *opts = NULL;
	berth_error *err = NULL;
	assert_int_equal(berth_oci_tmpfs_options("exec,size=1m,mode=1777,size=2m,shared", &opts,
						 &err), 0);
	expect(opts, "", "['nosuid','nodev','exec','mode=1777','size=2m','shared']");
	json_decref(opts);
	fails(NULL, NULL, "{'Tmpfs':{'/x':'bogus'}}", "invalid tmpfs option [\"bogus\"]");
	fails(NULL, NULL, "{'Tmpfs':{'/x':'color=red'}}",
	      "invalid tmpfs option [\"color\" \"red\"]");
	fails(NULL, NULL, "{'Tmpfs':{'/':''}}", "invalid specification: destination can't be '/'");
	fails(NULL, NULL, "{'Tmpfs':{'rel':''}}",
	      "invalid mount path: 'rel' mount path must be absolute");
}

static void test_readonly_rootfs(void **state)
{
	gen g;
	gen_init(&g, NULL, NULL, "{'ReadonlyRootfs':true}");
	g.in.hosts_path = "/c/hosts";
	g.in.hostname_path = "/c/hostname";
	g.in.resolv_conf_path = "/c/resolv.conf";
	json_t *mounts = J("[{'destination':'/data','type':'bind','source':'/v','options':"
			   "['rbind','rw']}]");
	g.in.mounts = mounts;
	json_t *s = gen_ok(&g);
	json_decref(mounts);
	expect(s, "root.readonly", "true");
	expect(mount_at(s, "/sys"), "options", "['nosuid','noexec','nodev','ro']");
	expect(mount_at(s, "/proc"), "options", "['nosuid','noexec','nodev']");
	expect(mount_at(s, "/dev"), "options", "['nosuid','strictatime','mode=755','size=65536k']");
	expect(mount_at(s, "/dev/shm"), "options",
	       "['nosuid','noexec','nodev','mode=1777','size=67108864']");
	expect(mount_at(s, "/etc/hosts"), "options", "['rbind','ro','rprivate']");
	expect(mount_at(s, "/data"), "options", "['rbind','rw']");
	json_decref(s);
}

static void test_user_mounts_order(void **state)
{
	gen g;
	gen_init(&g, NULL, NULL, "{'Tmpfs':{'/a/b/c':''}}");
	g.in.hosts_path = "/c/hosts";
	g.in.resolv_conf_path = "/c/resolv.conf";
	json_t *mounts = J("[{'destination':'/a/b','type':'bind','source':'/v1'},"
			   "{'destination':'/etc/resolv.conf','type':'bind','source':'/mine'},"
			   "{'destination':'/a','type':'bind','source':'/v2'},"
			   "{'destination':'/dev/shm','type':'bind','source':'/myshm'}]");
	g.in.mounts = mounts;
	json_t *s = gen_ok(&g);
	json_decref(mounts);
	/* defaults without /dev/shm (the caller's), then the container's by depth */
	const char *order[] = {
		"/proc", "/dev", "/dev/pts", "/sys", "/sys/fs/cgroup", "/dev/mqueue", "/a", "/a/b",
		"/etc/resolv.conf", "/dev/shm", "/etc/hosts", "/a/b/c",
	};
	const json_t *list = json_object_get(s, "mounts");
	assert_int_equal(json_array_size(list), sizeof(order) / sizeof(order[0]));
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		assert_string_equal(json_string_value(at(json_array_get(list, i), "destination")),
				    order[i]);
	expect(mount_at(s, "/etc/resolv.conf"), "source", "'/mine'");
	expect(mount_at(s, "/etc/hosts"), "options", "['rbind','rprivate']");
	json_decref(s);
}

static void test_masked_paths_override(void **state)
{
	json_t *s = spec_of(NULL, NULL, "{'MaskedPaths':[],'ReadonlyPaths':['/proc/x']}");
	expect(s, "linux.maskedPaths", "[]");
	expect(s, "linux.readonlyPaths", "['/proc/x']");
	json_decref(s);
}

static void test_init(void **state)
{
	json_t *s = spec_of(NULL, "{'Cmd':['sleep','1']}", "{'Init':true}");
	expect(s, "process.args", "['/sbin/docker-init','--','sleep','1']");
	expect(mount_at(s, BERTH_OCI_INIT_TARGET), "",
	       "{'destination':'/sbin/docker-init','type':'bind','source':'" BERTH_OCI_INIT_PATH
	       "','options':['bind','ro']}");
	json_decref(s);
	/* Not with the host's PID namespace; the daemon's default otherwise. */
	s = spec_of(NULL, "{'Cmd':['sleep','1']}", "{'Init':true,'PidMode':'host'}");
	expect(s, "process.args", "['sleep','1']");
	assert_null(mount_at(s, BERTH_OCI_INIT_TARGET));
	json_decref(s);
	gen g;
	gen_init(&g, NULL, "{'Cmd':['x']}", NULL);
	g.in.init_default = true;
	g.in.init_path = "/opt/tini";
	s = gen_ok(&g);
	expect(s, "process.args", "['/sbin/docker-init','--','x']");
	expect(mount_at(s, BERTH_OCI_INIT_TARGET), "source", "'/opt/tini'");
	json_decref(s);
}

/* ------------------------------------------------------------ namespaces */

static void test_network_modes(void **state)
{
	const char *path = NULL;
	json_t *s = spec_of(NULL, NULL, "{'NetworkMode':'host'}");
	assert_false(has_ns(s, "network", NULL));
	char host[256] = "";
	gethostname(host, sizeof(host) - 1);
	assert_string_equal(json_string_value(at(s, "hostname")), host);
	assert_null(json_object_get(at(s, "linux.sysctl"), "net.ipv4.ping_group_range"));
	json_decref(s);
	s = spec_of(NULL, NULL, "{'NetworkMode':'none'}");
	assert_true(has_ns(s, "network", &path));
	assert_null(path);
	json_decref(s);
	gen g;
	gen_init(&g, NULL, NULL, "{'NetworkMode':'container:web'}");
	g.in.netns_path = "/proc/42/ns/net";
	s = gen_ok(&g);
	assert_true(has_ns(s, "network", &path));
	assert_string_equal(path, "/proc/42/ns/net");
	json_decref(s);
	gen_init(&g, NULL, NULL, "{'NetworkMode':'container:web'}");
	gen_fails(&g, 500, "NetworkMode: the network namespace to join was not given");
	gen_init(&g, NULL, NULL, "{'NetworkMode':'bridge'}");
	g.in.netns_path = "/run/berth/netns/c1";
	s = gen_ok(&g);
	assert_true(has_ns(s, "network", &path));
	assert_string_equal(path, "/run/berth/netns/c1");
	json_decref(s);
}

static void test_other_namespaces(void **state)
{
	const char *path = NULL;
	json_t *s = spec_of(NULL, NULL,
			    "{'PidMode':'host','UTSMode':'host','CgroupnsMode':'private'}");
	assert_false(has_ns(s, "pid", NULL));
	assert_false(has_ns(s, "uts", NULL));
	assert_null(at(s, "hostname"));
	assert_true(has_ns(s, "cgroup", NULL));
	json_decref(s);
	gen g;
	gen_init(&g, NULL, NULL, "{'PidMode':'container:a','IpcMode':'container:b'}");
	g.in.pidns_path = "/proc/7/ns/pid";
	g.in.ipcns_path = "/proc/8/ns/ipc";
	s = gen_ok(&g);
	assert_true(has_ns(s, "pid", &path));
	assert_string_equal(path, "/proc/7/ns/pid");
	assert_true(has_ns(s, "ipc", &path));
	assert_string_equal(path, "/proc/8/ns/ipc");
	json_decref(s);
	/* cgroup v2 hosts get a private cgroup namespace unless asked. */
	gen_init(&g, NULL, NULL, NULL);
	g.in.cgroup2 = true;
	s = gen_ok(&g);
	assert_true(has_ns(s, "cgroup", NULL));
	json_decref(s);
	gen_init(&g, NULL, NULL, "{'CgroupnsMode':'host'}");
	g.in.cgroup2 = true;
	s = gen_ok(&g);
	assert_false(has_ns(s, "cgroup", NULL));
	json_decref(s);
}

static void test_namespace_errors(void **state)
{
	fails(NULL, NULL, "{'IpcMode':'bogus'}", "invalid IPC mode: bogus");
	fails(NULL, NULL, "{'PidMode':'container:'}", "invalid PID mode: container:");
	fails(NULL, NULL, "{'UTSMode':'private'}", "invalid UTS mode: private");
	fails(NULL, NULL, "{'CgroupnsMode':'shared'}", "invalid cgroup namespace mode: shared");
}

static void test_cgroups_path(void **state)
{
	gen g;
	gen_init(&g, NULL, NULL, NULL);
	g.in.cgroup_driver = "systemd";
	json_t *s = gen_ok(&g);
	expect(s, "linux.cgroupsPath", "'system.slice:berth:" ID "'");
	json_decref(s);
	gen_init(&g, NULL, NULL, "{'CgroupParent':'/custom/'}");
	g.in.cgroup_parent = "/daemon";
	s = gen_ok(&g);
	expect(s, "linux.cgroupsPath", "'/custom/" ID "'");
	json_decref(s);
	gen_init(&g, NULL, NULL, NULL);
	g.in.cgroup_parent = "/daemon";
	s = gen_ok(&g);
	expect(s, "linux.cgroupsPath", "'/daemon/" ID "'");
	json_decref(s);
	gen_init(&g, NULL, NULL, "{'CgroupParent':'bad'}");
	g.in.cgroup_driver = "systemd";
	gen_fails(&g, 400, "cgroup-parent for systemd cgroup should be a valid slice named as "
			   "\"xxx.slice\"");
}

/* --------------------------------------------------------------- sysctls */

static void test_sysctls(void **state)
{
	json_t *s = spec_of(NULL, "{'Cmd':['sh'],'Domainname':'example.com'}",
			    "{'Sysctls':{'net.core.somaxconn':'1024','kernel.shmmax':'1000',"
			    "'fs.mqueue.msg_max':'20'}}");
	const json_t *sys = at(s, "linux.sysctl");
	assert_string_equal(json_string_value(json_object_get(sys, "kernel.domainname")),
			    "example.com");
	assert_string_equal(json_string_value(json_object_get(sys, "net.core.somaxconn")), "1024");
	assert_string_equal(json_string_value(json_object_get(sys, "kernel.shmmax")), "1000");
	const json_t *ping = json_object_get(sys, "net.ipv4.ping_group_range");
	if (access("/proc/sys/net/ipv4/ping_group_range", F_OK) == 0)
		assert_string_equal(json_string_value(ping), "0 2147483647");
	json_decref(s);
	fails(NULL, NULL, "{'NetworkMode':'host','Sysctls':{'net.ipv4.ip_forward':'1'}}",
	      "sysctl \"net.ipv4.ip_forward\" not allowed in host network namespace");
	fails(NULL, NULL, "{'IpcMode':'host','Sysctls':{'kernel.msgmax':'1'}}",
	      "sysctl \"kernel.msgmax\" is not allowed in the hosts ipc namespace");
	fails(NULL, NULL, "{'Sysctls':{'vm.swappiness':'1'}}",
	      "sysctl \"vm.swappiness\" is not in a separate kernel namespace");
}

/* --------------------------------------------------------------- seccomp */

static void test_seccomp_default(void **state)
{
	json_t *s = spec_of(NULL, NULL, NULL);
	assert_non_null(seccomp_rule(s, "read", "SCMP_ACT_ALLOW"));
	assert_non_null(seccomp_rule(s, "socket", "SCMP_ACT_ALLOW"));
	/* No CAP_SYS_ADMIN: no unshare/mount; clone only without namespace
	 * flags; clone3 answers ENOSYS. */
	assert_null(seccomp_rule(s, "unshare", "SCMP_ACT_ALLOW"));
	assert_null(seccomp_rule(s, "mount", "SCMP_ACT_ALLOW"));
	expect(seccomp_rule(s, "clone", "SCMP_ACT_ALLOW"), "args",
	       "[{'index':0,'value':2114060288,'op':'SCMP_CMP_MASKED_EQ'}]");
	expect(seccomp_rule(s, "clone3", "SCMP_ACT_ERRNO"), "errnoRet", "38");
	assert_non_null(seccomp_rule(s, "chroot", "SCMP_ACT_ALLOW")); /* CAP_SYS_CHROOT */
	assert_non_null(seccomp_rule(s, "ptrace", "SCMP_ACT_ALLOW")); /* minKernel 4.8 */
#if defined(__x86_64__)
	expect(s, "linux.seccomp.architectures",
	       "['SCMP_ARCH_X86_64','SCMP_ARCH_X86','SCMP_ARCH_X32']");
	assert_non_null(seccomp_rule(s, "arch_prctl", "SCMP_ACT_ALLOW"));
	assert_null(seccomp_rule(s, "set_tls", "SCMP_ACT_ALLOW"));
#endif
	/* Rules carry only OCI keys. */
	assert_null(at(s, "linux.seccomp.syscalls.0.includes"));
	assert_null(at(s, "linux.seccomp.archMap"));
	json_decref(s);
}

static void test_seccomp_caps(void **state)
{
	json_t *s = spec_of(NULL, NULL, "{'CapAdd':['SYS_ADMIN','SYS_PTRACE']}");
	assert_non_null(seccomp_rule(s, "unshare", "SCMP_ACT_ALLOW"));
	assert_non_null(seccomp_rule(s, "mount", "SCMP_ACT_ALLOW"));
	assert_non_null(seccomp_rule(s, "kcmp", "SCMP_ACT_ALLOW"));
	assert_null(seccomp_rule(s, "clone3", "SCMP_ACT_ERRNO"));
	json_decref(s);
	s = spec_of(NULL, NULL, "{'CapDrop':['SYS_CHROOT']}");
	assert_null(seccomp_rule(s, "chroot", "SCMP_ACT_ALLOW"));
	json_decref(s);
}

static void test_seccomp_options(void **state)
{
	json_t *s = spec_of(NULL, NULL, "{'SecurityOpt':['seccomp=unconfined']}");
	assert_null(at(s, "linux.seccomp"));
	json_decref(s);
	s = spec_of(NULL, NULL,
		    "{'SecurityOpt':['seccomp={\\'defaultAction\\':\\'SCMP_ACT_ALLOW\\',"
		    "\\'syscalls\\':[{\\'name\\':\\'kexec_load\\',"
		    "\\'action\\':\\'SCMP_ACT_ERRNO\\'}]}']}");
	expect(s, "linux.seccomp",
	       "{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['kexec_load'],"
	       "'action':'SCMP_ACT_ERRNO'}]}");
	json_decref(s);
	gen g;
	gen_init(&g, NULL, NULL, NULL);
	g.in.seccomp_profile = "unconfined";
	s = gen_ok(&g);
	assert_null(at(s, "linux.seccomp"));
	json_decref(s);
	fails(NULL, NULL, "{'SecurityOpt':['seccomp=not json']}",
	      "Decoding seccomp profile failed: '[' or '{' expected near 'not'");
	fails(NULL, NULL,
	      "{'SecurityOpt':['seccomp={\\'defaultAction\\':\\'SCMP_ACT_ALLOW\\',"
	      "\\'architectures\\':[\\'SCMP_ARCH_X86\\'],\\'archMap\\':[{}]}']}",
	      "'architectures' and 'archMap' were specified in the seccomp profile, use either "
	      "'architectures' or 'archMap'");
	gen_init(&g, NULL, NULL, NULL);
	g.in.seccomp_profile = "/nonexistent/profile.json";
	gen_fails(&g, 500, "seccomp profile /nonexistent/profile.json: open "
			   "/nonexistent/profile.json: no such file or directory");
}

static void test_security_opts(void **state)
{
	json_t *s = spec_of(NULL, NULL,
			    "{'SecurityOpt':['no-new-privileges','apparmor=unconfined',"
			    "'label=disable']}");
	expect(s, "process.noNewPrivileges", "true");
	json_decref(s);
	s = spec_of(NULL, NULL, "{'SecurityOpt':['no-new-privileges:false']}");
	assert_null(at(s, "process.noNewPrivileges"));
	json_decref(s);
	gen g;
	gen_init(&g, NULL, NULL, "{'SecurityOpt':['writable-cgroups=true']}");
	g.in.no_new_privileges_default = true;
	s = gen_ok(&g);
	expect(s, "process.noNewPrivileges", "true");
	expect(mount_at(s, "/sys/fs/cgroup"), "options", "['nosuid','noexec','nodev']");
	json_decref(s);
	fails(NULL, NULL, "{'SecurityOpt':['bogus']}", "invalid --security-opt 1: \"bogus\"");
	fails(NULL, NULL, "{'SecurityOpt':['foo=bar']}", "invalid --security-opt 2: \"foo=bar\"");
	fails(NULL, NULL, "{'SecurityOpt':['no-new-privileges=maybe']}",
	      "invalid --security-opt 2: \"no-new-privileges=maybe\"");
}

/* --------------------------------------------------------------- devices */

static void test_devices(void **state)
{
	json_t *s = spec_of(NULL, NULL,
			    "{'Devices':[{'PathOnHost':'/dev/null','PathInContainer':'/dev/mynull',"
			    "'CgroupPermissions':'rw'}],"
			    "'DeviceCgroupRules':['c 42:* rmw','b *:* m']}");
	const json_t *d = at(s, "linux.devices.0");
	expect(d, "path", "'/dev/mynull'");
	expect(d, "type", "'c'");
	expect(d, "major", "1");
	expect(d, "minor", "3");
	expect(s, "linux.resources.devices.8",
	       "{'allow':true,'type':'c','major':1,'minor':3,'access':'rw'}");
	expect(s, "linux.resources.devices.9",
	       "{'allow':true,'type':'c','major':42,'minor':-1,'access':'rmw'}");
	expect(s, "linux.resources.devices.10",
	       "{'allow':true,'type':'b','major':-1,'minor':-1,'access':'m'}");
	json_decref(s);
	fails(NULL, NULL, "{'Devices':[{'PathOnHost':'/nonexistent-dev'}]}",
	      "error gathering device information while adding custom device "
	      "\"/nonexistent-dev\": no such file or directory");
	fails(NULL, NULL, "{'DeviceCgroupRules':['x 1:2 r']}",
	      "invalid device cgroup rule format: 'x 1:2 r'");
}

/* -------------------------------------------------------- console, write */

static void test_console_and_annotations(void **state)
{
	gen g;
	gen_init(&g, NULL, "{'Cmd':['sh'],'Tty':true}",
		 "{'ConsoleSize':[24,80],'Annotations':{'a':'b'},'OomScoreAdj':-500}");
	g.in.console = true;
	json_t *s = gen_ok(&g);
	expect(s, "process.terminal", "true");
	expect(s, "process.consoleSize", "{'height':24,'width':80}");
	expect(s, "process.oomScoreAdj", "-500");
	expect(s, "annotations", "{'a':'b'}");
	json_decref(s);
}

static void test_spec_write(void **state)
{
	json_t *s = spec_of(NULL, NULL, NULL);
	char *path = berth_xasprintf("%s/config.json", rootfs);
	berth_error *err = NULL;
	assert_int_equal(berth_oci_spec_write(s, path, &err), 0);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	json_error_t jerr;
	json_t *back = json_load_file(path, 0, &jerr);
	assert_true(json_equal(back, s));
	json_decref(back);
	json_decref(s);
	unlink(path);
	free(path);
}

static void test_required_input(void **state)
{
	berth_oci_input in = {.rootfs = "/"};
	json_t *spec = NULL;
	berth_error *err = NULL;
	assert_int_equal(berth_oci_spec_generate(&in, &spec, &err), -1);
	assert_int_equal(err->status, 500);
	berth_error_free(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_default_mounts),
		cmocka_unit_test(test_env_merge),
		cmocka_unit_test(test_env_defaults_tty_unset),
		cmocka_unit_test(test_config_merge),
		cmocka_unit_test(test_command_table),
		cmocka_unit_test(test_command_errors),
		cmocka_unit_test(test_config_merged_flag),
		cmocka_unit_test(test_workdir),
		cmocka_unit_test(test_user_names),
		cmocka_unit_test(test_user_numeric),
		cmocka_unit_test(test_user_groups),
		cmocka_unit_test(test_user_errors),
		cmocka_unit_test(test_user_no_passwd),
		cmocka_unit_test(test_user_passwd_symlink),
		cmocka_unit_test(test_group_add),
		cmocka_unit_test(test_caps_add_drop),
		cmocka_unit_test(test_caps_all),
		cmocka_unit_test(test_caps_errors),
		cmocka_unit_test(test_caps_non_root),
		cmocka_unit_test(test_privileged),
		cmocka_unit_test(test_ulimits),
		cmocka_unit_test(test_ulimits_default_and_errors),
		cmocka_unit_test(test_resources),
		cmocka_unit_test(test_resource_errors),
		cmocka_unit_test(test_validate_warnings),
		cmocka_unit_test(test_shm),
		cmocka_unit_test(test_tmpfs),
		cmocka_unit_test(test_readonly_rootfs),
		cmocka_unit_test(test_user_mounts_order),
		cmocka_unit_test(test_masked_paths_override),
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_network_modes),
		cmocka_unit_test(test_other_namespaces),
		cmocka_unit_test(test_namespace_errors),
		cmocka_unit_test(test_cgroups_path),
		cmocka_unit_test(test_sysctls),
		cmocka_unit_test(test_seccomp_default),
		cmocka_unit_test(test_seccomp_caps),
		cmocka_unit_test(test_seccomp_options),
		cmocka_unit_test(test_security_opts),
		cmocka_unit_test(test_devices),
		cmocka_unit_test(test_console_and_annotations),
		cmocka_unit_test(test_spec_write),
		cmocka_unit_test(test_required_input),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
