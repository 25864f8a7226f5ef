/*
 * run.c - RUN: the step's command runs in a real container on the previous
 * step's image, created, attached, started, waited for and removed through
 * the daemon's own Engine API (the same path as `docker run`), and its
 * overlay upper dir becomes the step's layer through the image store's diff.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/image/image.h"
#include "internal.h"

static int api_client(berth_build *b, berth_error **err)
{
	if (b->client)
		return 0;
	if (b->env->api_host == NULL)
		return berth_error_set(err, 500, "RUN needs the daemon's API socket");
	if (berth_client_new(b->env->api_host, NULL, &b->client, err) < 0)
		return -1;
	berth_client_set_version(b->client, BERTH_API_VERSION);
	return 0;
}

/* A request whose answer must have status `want`; *out gets the body. */
static int api_call(berth_build *b, const char *method, const char *path, json_t *body, long want,
		    json_t **out, berth_error **err)
{
	char *text cleanup_free = body ? berth_json_dump(body) : NULL;
	berth_client_response resp = {0};
	int rc = berth_client_request(b->client, method, path, text ? "application/json" : NULL, text,
				      text ? strlen(text) : 0, &resp, err);
	if (rc == 0 && resp.status != want) {
		char *msg cleanup_free = berth_client_error_message(&resp);
		rc = berth_error_set(err, resp.status >= 400 ? (int)resp.status : 500, "%s", msg);
	}
	if (rc == 0 && out)
		rc = berth_json_parse(resp.body.data ? resp.body.data : "", resp.body.len, out, err);
	berth_client_response_reset(&resp);
	return rc;
}

static int strcmp_ptr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The RUN command as dockerd writes it in the history and compares it in
 * the cache: "|2 A=1 B=2 /bin/sh -c make" when build args are in effect. */
static json_t *saved_cmd(const berth_build *b, const build_state *st, const json_t *argv)
{
	size_t n = 0;
	char **args = build_arg_env(st, b, &n);
	json_t *out = json_array();
	size_t kept = 0;
	for (size_t i = 0; i < n; i++) {
		char *name cleanup_free = berth_xstrndup(args[i], strcspn(args[i], "="));
		if (json_object_get(st->args, name))
			args[kept++] = args[i];
		else
			free(args[i]);
	}
	args[kept] = NULL;
	qsort(args, kept, sizeof(char *), strcmp_ptr);
	if (kept) {
		json_array_append_new(out, json_sprintf("|%zu", kept));
		for (size_t i = 0; i < kept; i++)
			json_array_append_new(out, json_string(args[i]));
	}
	berth_strv_free(args);
	json_array_extend(out, (json_t *)argv);
	return out;
}

static json_t *create_body(const berth_build *b, const build_state *st, const json_t *argv)
{
	json_t *env = json_deep_copy(json_object_get(st->config, "Env"));
	if (!json_is_array(env)) {
		json_decref(env);
		env = json_array();
	}
	size_t n = 0;
	char **args = build_arg_env(st, b, &n);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(env, json_string(args[i]));
	berth_strv_free(args);
	const berth_build_opts *o = b->opts;
	json_t *hc = json_pack("{s:s, s:I, s:I, s:s}", "NetworkMode",
			       o->network_mode && *o->network_mode ? o->network_mode : "none", "ShmSize",
			       (json_int_t)o->shm_size, "Memory", (json_int_t)o->memory, "CpusetCpus",
			       o->cpuset_cpus ? o->cpuset_cpus : "");
	json_t *hosts = json_array();
	for (char *const *h = o->extra_hosts; h && *h; h++)
		json_array_append_new(hosts, json_string(*h));
	json_object_set_new(hc, "ExtraHosts", hosts);
	json_t *body = json_pack("{s:s, s:O, s:[s], s:o, s:b, s:b, s:b, s:{s:[s]}, s:o}", "Image",
				 st->image_id, "Cmd", argv, "Entrypoint", "", "Env", env, "AttachStdout",
				 true, "AttachStderr", true, "Tty", false, "Healthcheck", "Test", "NONE",
				 "HostConfig", hc);
	const char *keys[] = {"User", "WorkingDir", "Labels", "Volumes", "ExposedPorts"};
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(keys); i++) {
		json_t *v = json_object_get(st->config, keys[i]);
		if (v && !json_is_null(v))
			json_object_set(body, keys[i], v);
	}
	return body;
}

/* Docker's attach framing: 8-byte headers (stream, size); payloads go to
 * the build output as they come. */
static int pump_output(berth_build *b, int fd, berth_buf *pending, berth_error **err)
{
	char chunk[16384];
	for (;;) {
		while (pending->len >= 8) {
			uint32_t size;
			memcpy(&size, pending->data + 4, 4);
			size = ntohl(size);
			if (pending->len < 8 + (size_t)size)
				break;
			if (size && build_say(b, "%.*s", (int)size, pending->data + 8) < 0)
				return berth_error_set(err, 500, "the client went away");
			berth_buf_consume(pending, 8 + size);
		}
		ssize_t r = read(fd, chunk, sizeof(chunk));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return 0;
		berth_buf_append(pending, chunk, (size_t)r);
	}
}

static bool dir_empty(int dirfd)
{
	int fd = dup(dirfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	struct dirent *e;
	bool empty = true;
	while (empty && (e = readdir(d)))
		empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
	closedir(d);
	return empty;
}

/*
 * What the runtime leaves in the upper dir that dockerd keeps in a
 * container's init layer, which no commit sees: the empty mount points of
 * /etc/hosts, /etc/hostname and /etc/resolv.conf, and mount point
 * directories left empty. The container is gone after this step.
 */
static void drop_runtime_files(const char *upper)
{
	int root = open(upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return;
	const char *files[] = {"etc/hostname", "etc/hosts", "etc/resolv.conf"};
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(files); i++) {
		struct stat st;
		if (fstatat(root, files[i], &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
		    st.st_size == 0)
			unlinkat(root, files[i], 0);
	}
	const char *dirs[] = {"etc", "dev/pts", "dev/shm", "dev/mqueue", "dev", "proc", "sys"};
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(dirs); i++) {
		int fd = openat(root, dirs[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0 && dir_empty(fd))
			unlinkat(root, dirs[i], AT_REMOVEDIR);
		if (fd >= 0)
			close(fd);
	}
	close(root);
}

static int write_fd(void *ud, const void *data, size_t len, berth_error **err)
{
	if (berth_write_all(*(int *)ud, data, len) < 0)
		return berth_error_set_errno(err, errno, "write the layer");
	return 0;
}

/* Commits an upper dir as the step's layer (none when it holds nothing). */
int build_commit_upper(berth_build *b, build_state *st, const json_t *cmd, const char *upper,
		       berth_error **err)
{
	int dfd = open(upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	bool empty = dfd >= 0 && dir_empty(dfd);
	if (dfd >= 0)
		close(dfd);
	if (dfd < 0 || empty)
		return build_commit(b, st, cmd, NULL, err);
	int fd cleanup_close = open(b->env->state_dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0)
		return berth_error_set_errno(err, errno, "create the layer file");
	if (berth_image_diff(upper, write_fd, &fd, err) < 0)
		return -1;
	struct stat sb;
	if (fstat(fd, &sb) < 0)
		return berth_error_set_errno(err, errno, "stat the layer file");
	void *data = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (data == MAP_FAILED)
		return berth_error_set_errno(err, errno, "map the layer file");
	berth_image_source src = {data, (size_t)sb.st_size};
	int rc = build_commit(b, st, cmd, &src, err);
	munmap(data, (size_t)sb.st_size);
	return rc;
}

static int remove_container(berth_build *b, const char *id, berth_error **err)
{
	char *path cleanup_free = berth_xasprintf("/containers/%s?force=1&v=1", id);
	if (api_call(b, "DELETE", path, NULL, 204, NULL, err) < 0)
		return -1;
	return build_say(b, " ---> Removed intermediate container %s\n", build_short_id(id));
}

/* Runs argv in a container; *code gets its exit status. */
static int run_container(berth_build *b, const build_state *st, const json_t *argv, char **cid,
			 int *code, berth_error **err)
{
	json_t *body cleanup_json = create_body(b, st, argv);
	json_t *created cleanup_json = NULL;
	if (api_call(b, "POST", "/containers/create", body, 201, &created, err) < 0)
		return -1;
	*cid = berth_xstrdup(berth_json_string(created, "Id") ?: "");
	if (build_say(b, " ---> Running in %s\n", build_short_id(*cid)) < 0)
		return berth_error_set(err, 500, "the client went away");
	char *path cleanup_free = berth_xasprintf("/containers/%s/attach?stream=1&stdout=1&stderr=1", *cid);
	int fd cleanup_close = -1;
	berth_buf pending cleanup_buf = {0};
	if (berth_client_hijack(b->client, "POST", path, NULL, NULL, 0, &fd, &pending, err) < 0)
		return -1;
	free(path);
	path = berth_xasprintf("/containers/%s/start", *cid);
	if (api_call(b, "POST", path, NULL, 204, NULL, err) < 0 || pump_output(b, fd, &pending, err) < 0)
		return -1;
	free(path);
	path = berth_xasprintf("/containers/%s/wait", *cid);
	json_t *waited cleanup_json = NULL;
	if (api_call(b, "POST", path, NULL, 200, &waited, err) < 0)
		return -1;
	*code = (int)json_integer_value(json_object_get(waited, "StatusCode"));
	return 0;
}

static int upper_of(berth_build *b, const char *cid, char **upper, berth_error **err)
{
	char *path cleanup_free = berth_xasprintf("/containers/%s/json", cid);
	json_t *doc cleanup_json = NULL;
	if (api_call(b, "GET", path, NULL, 200, &doc, err) < 0)
		return -1;
	const char *u = berth_json_string(json_object_get(json_object_get(doc, "GraphDriver"), "Data"),
					  "UpperDir");
	if (u == NULL || *u == '\0')
		return berth_error_set(err, 500, "container %s has no upper dir", cid);
	*upper = berth_xstrdup(u);
	return 0;
}

int build_run(berth_build *b, build_state *st, const berth_df_instr *in, berth_error **err)
{
	const char *buildkit_only[] = {"mount", "network", "security"};
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(buildkit_only); i++)
		if (berth_df_flag(in, buildkit_only[i]))
			return berth_error_set(err, 400, "the --%s option requires BuildKit. Refer to "
							 "https://docs.docker.com/go/buildkit/ to learn how "
							 "to build images with BuildKit enabled",
					       buildkit_only[i]);
	json_t *argv cleanup_json = build_command_line(st, in);
	json_t *saved cleanup_json = saved_cmd(b, st, argv);
	int hit = build_probe(b, st, saved, err);
	if (hit != 0)
		return hit < 0 ? -1 : 0;
	if (st->image_id == NULL)
		return berth_error_set(err, 400, "Please provide a source image with `from` prior to run");
	if (api_client(b, err) < 0)
		return -1;
	char *cid cleanup_free = NULL;
	int code = 0;
	int rc = run_container(b, st, argv, &cid, &code, err);
	if (rc == 0 && code != 0) {
		char *by cleanup_free = build_join(argv);
		b->exit_code = code;
		rc = berth_error_set(err, 500, "The command '%s' returned a non-zero code: %d", by, code);
	}
	char *upper cleanup_free = NULL;
	if (rc == 0 && (rc = upper_of(b, cid, &upper, err)) == 0) {
		drop_runtime_files(upper);
		rc = build_commit_upper(b, st, saved, upper, err);
	}
	berth_error *rerr cleanup_error = NULL;
	if (cid && *cid && (b->opts->forcerm || (rc == 0 && b->opts->rm)) &&
	    remove_container(b, cid, &rerr) < 0)
		berth_warn("build: remove container %s: %s", cid, rerr->msg);
	return rc;
}
