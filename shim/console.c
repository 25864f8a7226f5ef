/*
 * console.c - runc's --console-socket: runc creates the container's pty and
 * sends us its master over this socket (SCM_RIGHTS) before `runc create` or
 * `runc exec --detach` returns.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "shim/internal.h"

static int receive_fd(int conn, int *out, berth_error **err)
{
	char name[4096];
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	struct iovec iov = {.iov_base = name, .iov_len = sizeof(name)};
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	ssize_t n;
	do
		n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return berth_error_set_errno(err, errno, "receive the console");
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	if (cm == NULL || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
	    cm->cmsg_len != CMSG_LEN(sizeof(int)))
		return berth_error_set(err, 500, "the runtime sent no console file descriptor");
	memcpy(out, CMSG_DATA(cm), sizeof(int));
	return 0;
}

int shim_console_receive(int listen_fd, int timeout_ms, int *master, berth_error **err)
{
	struct pollfd p = {.fd = listen_fd, .events = POLLIN};
	int r;
	do
		r = poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return berth_error_set(err, 500, "the runtime did not send the console");
	int conn cleanup_close = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (conn < 0)
		return berth_error_set_errno(err, errno, "accept on the console socket");
	int fd = -1;
	if (receive_fd(conn, &fd, err) < 0)
		return -1;
	if (shim_set_nonblock(fd) < 0) {
		int e = errno;
		close(fd);
		return berth_error_set_errno(err, e, "console");
	}
	*master = fd;
	return 0;
}
