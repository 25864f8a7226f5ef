/*
 * sock.c - UNIX sockets. sun_path holds 107 bytes and state dirs under an
 * exec root can be longer, so a long path is reached through
 * /proc/self/fd/N of its directory (for us) or /proc/PID/cwd (for runc).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "shim/internal.h"

int shim_set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* Fills addr for path; *dirfd is opened when the /proc detour is needed. */
static int fill_addr(const char *path, struct sockaddr_un *addr, int *dirfd, berth_error **err)
{
	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	*dirfd = -1;
	if (strlen(path) < sizeof(addr->sun_path)) {
		strcpy(addr->sun_path, path);
		return 0;
	}
	char *d cleanup_free = berth_xstrdup(path);
	char *b cleanup_free = berth_xstrdup(path);
	*dirfd = open(dirname(d), O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (*dirfd < 0)
		return berth_error_set_errno(err, errno, "open directory of %s", path);
	int n = snprintf(addr->sun_path, sizeof(addr->sun_path), "/proc/self/fd/%d/%s", *dirfd,
			 basename(b));
	if (n < 0 || (size_t)n >= sizeof(addr->sun_path)) {
		close(*dirfd);
		*dirfd = -1;
		return berth_error_set(err, 500, "socket name too long: %s", path);
	}
	return 0;
}

int shim_listen(const char *path, int *out, berth_error **err)
{
	struct sockaddr_un addr;
	int dirfd cleanup_close = -1;
	if (fill_addr(path, &addr, &dirfd, err) < 0)
		return -1;
	int fd cleanup_close = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return berth_error_set_errno(err, errno, "socket");
	if (unlink(addr.sun_path) < 0 && errno != ENOENT)
		return berth_error_set_errno(err, errno, "remove stale socket %s", path);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return berth_error_set_errno(err, errno, "bind %s", path);
	if (listen(fd, 64) < 0)
		return berth_error_set_errno(err, errno, "listen %s", path);
	*out = berth_steal_fd(&fd);
	return 0;
}

int berth_shim_connect(const char *path, int *out, berth_error **err)
{
	struct sockaddr_un addr;
	int dirfd cleanup_close = -1;
	if (fill_addr(path, &addr, &dirfd, err) < 0)
		return -1;
	int fd cleanup_close = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return berth_error_set_errno(err, errno, "socket");
	while (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		if (errno == EINTR)
			continue;
		int e = errno;
		return berth_error_set(err, e == ENOENT ? 404 : 500, "connect %s: %s", path, strerror(e));
	}
	*out = berth_steal_fd(&fd);
	return 0;
}

char *shim_peer_path(const char *cwd, const char *rel)
{
	char *abs = berth_xasprintf("%s/%s", cwd, rel);
	if (strlen(abs) < sizeof(((struct sockaddr_un *)0)->sun_path))
		return abs;
	free(abs);
	return berth_xasprintf("/proc/%d/cwd/%s", (int)getpid(), rel);
}

static int read_line(int fd, berth_buf *b, berth_error **err)
{
	char chunk[4096];
	for (;;) {
		char *nl = b->len ? memchr(b->data, '\n', b->len) : NULL;
		if (nl != NULL) {
			*nl = '\0';
			b->len = (size_t)(nl - b->data);
			return 0;
		}
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return berth_error_set_errno(err, errno, "read from shim");
		if (n == 0)
			return berth_error_set(err, 500, "the shim closed the connection");
		berth_buf_append(b, chunk, (size_t)n);
	}
}

/* The request, over a fresh connection. */
static int call(const char *state_dir, json_t *req, json_t **reply, berth_error **err)
{
	char *path cleanup_free = berth_xasprintf("%s/%s", state_dir, BERTH_SHIM_CONTROL_SOCK);
	int fd cleanup_close = -1;
	if (berth_shim_connect(path, &fd, err) < 0)
		return -1;
	char *line cleanup_free = json_dumps(req, JSON_COMPACT);
	if (line == NULL)
		return berth_error_set(err, 400, "cannot encode the request");
	if (berth_write_all(fd, line, strlen(line)) < 0 || berth_write_all(fd, "\n", 1) < 0)
		return berth_error_set_errno(err, errno, "write to shim");
	berth_buf b cleanup_buf = {0};
	if (read_line(fd, &b, err) < 0)
		return -1;
	return berth_json_parse_object(b.data, b.len, reply, err) < 0 ? berth_error_wrap(err, "reply from shim")
								     : 0;
}

/* A shim exits once its container is done: then status.json has the answer
 * to "wait" and "state". */
static int final_status(const char *state_dir, json_t *req, json_t **reply)
{
	const char *cmd = berth_json_string(req, "cmd"), *exec_id = berth_json_string(req, "exec_id");
	if (cmd == NULL || (strcmp(cmd, "wait") != 0 && strcmp(cmd, "state") != 0))
		return -1;
	if (exec_id && (strchr(exec_id, '/') || exec_id[0] == '.'))
		return -1;
	char *path cleanup_free =
		exec_id ? berth_xasprintf("%s/%s/%s/%s", state_dir, BERTH_SHIM_EXEC_DIR, exec_id,
					  BERTH_SHIM_STATUS_FILE)
			: berth_xasprintf("%s/%s", state_dir, BERTH_SHIM_STATUS_FILE);
	char *data cleanup_free = NULL;
	size_t len;
	json_t *j cleanup_json = NULL;
	if (berth_file_read_all(path, &data, &len, NULL) < 0 ||
	    berth_json_parse_object(data, len, &j, NULL) < 0)
		return -1;
	const char *status = berth_json_string(j, "status");
	if (status == NULL || strcmp(status, "exited") != 0)
		return -1;
	json_object_set_new(j, "ok", json_true());
	*reply = berth_steal_ptr(&j);
	return 0;
}

int berth_shim_call(const char *state_dir, json_t *req, json_t **reply, berth_error **err)
{
	json_t *j cleanup_json = NULL;
	if (call(state_dir, req, &j, err) < 0) {
		if (final_status(state_dir, req, &j) < 0)
			return -1;
		berth_error_free(err);
	}
	if (!json_is_true(json_object_get(j, "ok"))) {
		const char *msg = berth_json_string(j, "error");
		json_int_t status = json_integer_value(json_object_get(j, "status"));
		return berth_error_set(err, status ? (int)status : 500, "%s", msg ? msg : "shim error");
	}
	if (reply)
		*reply = berth_steal_ptr(&j);
	return 0;
}
