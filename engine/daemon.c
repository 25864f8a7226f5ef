/*
 * daemon.c - berthd's life: data root lock, engine ID, pidfile, stores,
 * the server, signals, and the facts /version and /info report.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "engine.h"
#include "container/container.h"
#include "image/image.h"
#include "network/network.h"
#include "volume/volume.h"

#define EVENTS_HISTORY 1024
#define CGROUP2_MAGIC 0x63677270

typedef struct daemon_signals {
	uv_signal_t term, intr, hup;
} daemon_signals;

/* Takes an exclusive lock on <data-root>/berthd.lock for the daemon's life:
 * two berthd on one data root would corrupt each other's stores. */
static int lock_data_root(berth_daemon *d, berth_error **err)
{
	char *path cleanup_free = berth_xasprintf("%s/berthd.lock", d->config->data_root);
	int fd cleanup_close = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return berth_error_set_errno(err, errno, "open %s", path);
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		char pid[32] = "";
		ssize_t n = pread(fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		return berth_error_set(err, 409, "another berthd (pid %s) is using data root %s",
				       *pid ? pid : "unknown", d->config->data_root);
	}
	char pid[32];
	int len = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)len, 0) != len)
		return berth_error_set_errno(err, errno, "write %s", path);
	d->lock_fd = berth_steal_fd(&fd);
	return 0;
}

/* dockerd refuses to start while its pidfile names a live process. */
static int write_pidfile(const char *path, berth_error **err)
{
	char *old cleanup_free = NULL;
	if (berth_file_read_all(path, &old, NULL, NULL) == 0) {
		long pid = strtol(old, NULL, 10);
		char *proc cleanup_free = berth_xasprintf("/proc/%ld", pid);
		if (pid > 0 && pid != (long)getpid() && access(proc, F_OK) == 0)
			return berth_error_set(err, 409, "pid file found, ensure berthd is not running "
							 "or delete %s", path);
	}
	char pid[32];
	int len = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	return berth_file_write_atomic(path, pid, (size_t)len, 0644, err);
}

/* The engine ID survives restarts, like dockerd's engine-id file. */
static int load_engine_id(berth_daemon *d, berth_error **err)
{
	char *path cleanup_free = berth_xasprintf("%s/engine-id", d->config->data_root);
	char *data cleanup_free = NULL;
	if (berth_file_read_all(path, &data, NULL, NULL) == 0 && strlen(data) >= 36) {
		snprintf(d->id, sizeof(d->id), "%.36s", data);
		return 0;
	}
	char hex[65];
	berth_random_id(hex);
	snprintf(d->id, sizeof(d->id), "%.8s-%.4s-4%.3s-a%.3s-%.12s", hex, hex + 8, hex + 12,
		 hex + 15, hex + 18);
	return berth_file_write_atomic(path, d->id, strlen(d->id), 0644, err);
}

static const char *go_arch(const char *machine)
{
	static const char *const map[][2] = {
		{"x86_64", "amd64"}, {"aarch64", "arm64"}, {"armv7l", "arm"}, {"i686", "386"},
	};
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(map); i++) {
		if (strcmp(machine, map[i][0]) == 0)
			return map[i][1];
	}
	return machine;
}

static char *os_pretty_name(void)
{
	char *data cleanup_free = NULL;
	if (berth_file_read_all("/etc/os-release", &data, NULL, NULL) < 0)
		return berth_xstrdup("Linux");
	char *p = strstr(data, "PRETTY_NAME=");
	if (p == NULL)
		return berth_xstrdup("Linux");
	p += strlen("PRETTY_NAME=");
	if (*p == '"')
		p++;
	return berth_xstrndup(p, strcspn(p, "\"\n"));
}

static const char *backing_fs(const char *path)
{
	struct statfs st;
	if (statfs(path, &st) < 0)
		return "unknown";
	switch ((unsigned long)st.f_type) {
	case 0xEF53:
		return "extfs";
	case 0x58465342:
		return "xfs";
	case 0x01021994:
		return "tmpfs";
	case 0x9123683E:
		return "btrfs";
	case 0x794c7630:
		return "overlayfs";
	default:
		return "unknown";
	}
}

static bool cgroup_v2(void)
{
	struct statfs st;
	return statfs("/sys/fs/cgroup", &st) == 0 && (unsigned long)st.f_type == CGROUP2_MAGIC;
}

/* The parts of /version and /info that do not change while berthd runs. */
static void compute_static_facts(berth_daemon *d)
{
	struct utsname u;
	uname(&u);
	struct sysinfo si;
	sysinfo(&si);
	const char *arch = go_arch(u.machine);
	json_t *engine = json_pack(
		"{s:s, s:s, s:{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}}", "Name", "Engine", "Version",
		BERTH_VERSION, "Details", "ApiVersion", BERTH_API_VERSION, "Arch", arch, "BuildTime",
		__DATE__ " " __TIME__, "Experimental", d->config->experimental ? "true" : "false",
		"GitCommit", BERTH_GIT_COMMIT, "GoVersion", "none", "KernelVersion", u.release, "Os",
		"linux");
	json_object_set_new(json_object_get(engine, "Details"), "MinAPIVersion",
			    json_string(BERTH_API_MIN_VERSION));
	d->version = json_pack("{s:{s:s}, s:[o], s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
			       "Platform", "Name", "berth", "Components", engine, "Version",
			       BERTH_VERSION, "ApiVersion", BERTH_API_VERSION, "MinAPIVersion",
			       BERTH_API_MIN_VERSION, "GitCommit", BERTH_GIT_COMMIT, "GoVersion",
			       "none", "Os", "linux", "Arch", arch, "KernelVersion", u.release,
			       "BuildTime", __DATE__ " " __TIME__);

	char *os cleanup_free = os_pretty_name();
	bool v2 = cgroup_v2();
	d->info_static = json_pack(
		"{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:b}",
		"ID", d->id, "Name", d->hostname, "KernelVersion", u.release, "OperatingSystem", os,
		"OSVersion", "", "OSType", "linux", "Architecture", u.machine, "NCPU",
		(json_int_t)sysconf(_SC_NPROCESSORS_ONLN), "MemTotal",
		(json_int_t)si.totalram * (json_int_t)si.mem_unit, "Driver", "overlay2", "DockerRootDir",
		d->config->data_root, "CgroupDriver", d->config->cgroup_driver, "CgroupVersion",
		v2 ? "2" : "1", "LoggingDriver", "json-file", "ServerVersion", BERTH_VERSION,
		"MemoryLimit", true, "SwapLimit", v2);
	json_object_set_new(d->info_static, "DriverStatus",
			    json_pack("[[s,s],[s,s],[s,s],[s,s]]", "Backing Filesystem",
				      backing_fs(d->config->data_root), "Supports d_type", "true",
				      "Using metacopy", "false", "Native Overlay Diff", "true"));
}

/* runc and the init binary are asked for their versions once, off the loop,
 * so that /version never waits on them (dockerd asks on every call). */
typedef struct component_probe {
	uv_work_t work;
	berth_daemon *daemon;
	char *runc_version, *runc_commit, *init_version, *init_commit;
} component_probe;

/* Runs `cmd` and returns the word after `key` on the line that has it. */
static char *command_field(const char *cmd, const char *key)
{
	FILE *f = popen(cmd, "r");
	if (f == NULL)
		return NULL;
	char line[256];
	char *value = NULL;
	while (fgets(line, sizeof(line), f)) {
		char *p = strstr(line, key);
		if (p && value == NULL) {
			p += strlen(key);
			p += strspn(p, " :");
			value = berth_xstrndup(p, strcspn(p, " \n"));
		}
	}
	pclose(f);
	return value;
}

static void probe_work(uv_work_t *w)
{
	component_probe *p = w->data;
	const char *runc = berth_json_string(json_object_get(p->daemon->config->runtimes, p->daemon->config->default_runtime), "path");
	char *cmd cleanup_free = berth_xasprintf("'%s' --version 2>/dev/null", runc ? runc : "runc");
	p->runc_version = command_field(cmd, "version");
	p->runc_commit = command_field(cmd, "commit");
	p->init_version = command_field("tini --version 2>/dev/null", "version");
	p->init_commit = command_field("tini --version 2>/dev/null", "git.");
}

static void add_component(berth_daemon *d, const char *name, const char *version, const char *commit,
			  const char *info_key)
{
	if (version == NULL)
		return;
	json_array_append_new(json_object_get(d->version, "Components"),
			      json_pack("{s:s, s:s, s:{s:s}}", "Name", name, "Version", version,
					"Details", "GitCommit", commit ? commit : ""));
	json_object_set_new(d->info_static, info_key, json_pack("{s:s}", "ID", commit ? commit : version));
}

static void probe_done(uv_work_t *w, int status)
{
	component_probe *p = w->data;
	add_component(p->daemon, "runc", p->runc_version, p->runc_commit, "RuncCommit");
	add_component(p->daemon, "docker-init", p->init_version, p->init_commit, "InitCommit");
	free(p->runc_version);
	free(p->runc_commit);
	free(p->init_version);
	free(p->init_commit);
	free(p);
}

static void probe_components(berth_daemon *d)
{
	json_object_set_new(d->info_static, "ContainerdCommit", json_pack("{s:s}", "ID", ""));
	component_probe *p = berth_xcalloc(1, sizeof(*p));
	p->daemon = d;
	p->work.data = p;
	uv_queue_work(d->loop, &p->work, probe_work, probe_done);
}

static void stop_loop(void *userdata)
{
	berth_daemon *d = userdata;
	uv_stop(d->loop);
}

/* Without live restore the containers stop first, as dockerd's do. */
static void on_stop_signal(uv_signal_t *h, int signum)
{
	berth_daemon *d = h->data;
	berth_info("Processing signal '%s'", strsignal(signum));
	berth_server_stop(d->server);
	if (d->stopping)
		return;
	d->stopping = true;
	if (d->config->live_restore ||
	    !berth_container_store_shutdown(d->containers, stop_loop, d))
		stop_loop(d);
}

/* SIGHUP reloads daemon.json's reloadable keys, as dockerd does, and says so
 * with a "daemon reload" event. */
static void on_reload_signal(uv_signal_t *h, int signum)
{
	berth_daemon *d = h->data;
	berth_config *c = d->config;
	berth_error *err cleanup_error = NULL;
	if (berth_config_reload(c, &err) < 0) {
		berth_errorf("reload: %s", err->msg);
		return;
	}
	berth_log_set_level(c->log_level);
	char *labels cleanup_free = berth_json_dump(c->labels);
	char downloads[32], uploads[32];
	snprintf(downloads, sizeof(downloads), "%lld", (long long)c->max_concurrent_downloads);
	snprintf(uploads, sizeof(uploads), "%lld", (long long)c->max_concurrent_uploads);
	berth_events_publish(d->events, "daemon", "reload", d->id,
			     json_pack("{s:s, s:s, s:s, s:s, s:s}", "debug", c->debug ? "true" : "false",
				       "labels", labels, "max-concurrent-downloads", downloads,
				       "max-concurrent-uploads", uploads, "name", d->hostname));
	berth_info("Reloaded configuration");
}

static void start_signal(berth_daemon *d, uv_signal_t *h, uv_signal_cb cb, int signum)
{
	uv_signal_init(d->loop, h);
	h->data = d;
	uv_signal_start(h, cb, signum);
	uv_unref((uv_handle_t *)h);
}

/* Creates the roots and makes them absolute, as dockerd does: runc and the
 * shims run elsewhere than berthd's working directory. */
static int prepare_roots(berth_config *c, berth_error **err)
{
	char **roots[] = {&c->data_root, &c->exec_root};
	const int modes[] = {0711, 0700};
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(roots); i++) {
		if (berth_mkdir_all(*roots[i], modes[i], err) < 0)
			return -1;
		char *abs = realpath(*roots[i], NULL);
		if (abs == NULL)
			return berth_error_set_errno(err, errno, "resolve %s", *roots[i]);
		free(*roots[i]);
		*roots[i] = abs;
	}
	return 0;
}

int berth_daemon_start(berth_config *cfg, berth_daemon **out, berth_error **err)
{
	berth_daemon *d = berth_xcalloc(1, sizeof(*d));
	*out = d;
	d->config = cfg;
	d->lock_fd = -1;
	d->started_ns = berth_time_now_ns();
	char host[256] = "";
	gethostname(host, sizeof(host) - 1);
	d->hostname = berth_xstrdup(host);
	berth_log_set_level(cfg->log_level);
	signal(SIGPIPE, SIG_IGN);

	if (prepare_roots(cfg, err) < 0 || lock_data_root(d, err) < 0 ||
	    write_pidfile(cfg->pidfile, err) < 0 || load_engine_id(d, err) < 0)
		return -1;
	d->loop = berth_xmalloc(sizeof(uv_loop_t));
	uv_loop_init(d->loop);
	d->events = berth_events_new(EVENTS_HISTORY);
	compute_static_facts(d);
	probe_components(d);

	/* Stores: each module opens its state here, before the API serves. */
	if (berth_image_store_open(cfg->data_root, &d->images, err) < 0 ||
	    berth_volume_store_open(cfg->data_root, &d->volumes, err) < 0 ||
	    berth_network_store_open(d, &d->networks, err) < 0 ||
	    berth_container_store_open(d, &d->containers, err) < 0)
		return -1;
	berth_volume_store_publish_to(d->volumes, d->loop, d->events);

	daemon_signals *sig = berth_xcalloc(1, sizeof(*sig));
	d->signals = sig;
	start_signal(d, &sig->term, on_stop_signal, SIGTERM);
	start_signal(d, &sig->intr, on_stop_signal, SIGINT);
	start_signal(d, &sig->hup, on_reload_signal, SIGHUP);
	if (berth_server_start(d, &d->server, err) < 0)
		return -1;
	berth_info("berthd %s started (data root %s, API %s)", BERTH_VERSION, cfg->data_root,
		   BERTH_API_VERSION);
	return 0;
}

int berth_daemon_run(berth_daemon *d, berth_error **err)
{
	uv_run(d->loop, UV_RUN_DEFAULT);
	berth_info("Daemon shutdown complete");
	return 0;
}

static void close_handle(uv_handle_t *h, void *arg)
{
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

void berth_daemon_free(berth_daemon *d)
{
	if (d == NULL)
		return;
	berth_server_stop(d->server);
	if (d->loop) {
		/* Let connections see their EOF and close, then drop what is left. */
		for (int i = 0; i < 8; i++)
			uv_run(d->loop, UV_RUN_NOWAIT);
		berth_server_dispose(d->server);
		berth_container_store_detach(d->containers);
		uv_run(d->loop, UV_RUN_NOWAIT);
		uv_walk(d->loop, close_handle, NULL);
		uv_run(d->loop, UV_RUN_DEFAULT);
		uv_loop_close(d->loop);
		free(d->loop);
	}
	berth_server_free(d->server);
	berth_events_free(d->events);
	berth_container_store_close(d->containers);
	berth_network_store_close(d->networks);
	berth_image_store_close(d->images);
	berth_volume_store_close(d->volumes);
	json_decref(d->version);
	json_decref(d->info_static);
	free(d->signals);
	if (d->config && d->config->pidfile && d->lock_fd >= 0)
		unlink(d->config->pidfile);
	if (d->lock_fd >= 0)
		close(d->lock_fd);
	free(d->hostname);
	free(d);
}
