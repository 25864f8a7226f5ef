/* proc.c - running a helper program to its end (runc update, tools). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

extern char **environ;

static void close_pair(int p[2])
{
	for (int i = 0; i < 2; i++) {
		if (p[i] >= 0)
			close(p[i]);
		p[i] = -1;
	}
}

/* Feeds stdin and drains stdout/stderr together: a child that writes much
 * before it reads all its input must not deadlock against us. */
static void pump_child(int in_fd, const char *input, size_t input_len, int out_fd, int err_fd,
		       berth_buf *out, berth_buf *errout)
{
	struct pollfd fds[3] = {{.fd = in_fd, .events = POLLOUT},
				{.fd = out_fd, .events = POLLIN},
				{.fd = err_fd, .events = POLLIN}};
	berth_buf *sinks[3] = {NULL, out, errout};
	size_t sent = 0;
	if (input_len == 0 && fds[0].fd >= 0) {
		close(fds[0].fd);
		fds[0].fd = -1;
	}
	while (fds[0].fd >= 0 || fds[1].fd >= 0 || fds[2].fd >= 0) {
		if (poll(fds, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (fds[0].fd >= 0 && fds[0].revents) {
			ssize_t w = write(fds[0].fd, input + sent, input_len - sent);
			if (w > 0)
				sent += (size_t)w;
			if (w < 0 || sent == input_len) {
				close(fds[0].fd);
				fds[0].fd = -1;
			}
		}
		for (int i = 1; i < 3; i++) {
			if (fds[i].fd < 0 || fds[i].revents == 0)
				continue;
			char buf[4096];
			ssize_t r = read(fds[i].fd, buf, sizeof(buf));
			if (r > 0 && sinks[i])
				berth_buf_append(sinks[i], buf, (size_t)r);
			if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN)) {
				close(fds[i].fd);
				fds[i].fd = -1;
			}
		}
	}
}

int berth_proc_run(char *const argv[], const char *input, size_t input_len, berth_buf *out,
		   berth_buf *errout, int *exit_code, berth_error **err)
{
	int in[2] = {-1, -1}, o[2] = {-1, -1}, e[2] = {-1, -1};
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(o, O_CLOEXEC) < 0 || pipe2(e, O_CLOEXEC) < 0) {
		int saved = errno;
		close_pair(in);
		close_pair(o);
		close_pair(e);
		return berth_error_set_errno(err, saved, "pipe");
	}
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, o[1], 1);
	posix_spawn_file_actions_adddup2(&fa, e[1], 2);
	pid_t pid;
	int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(in[0]);
	close(o[1]);
	close(e[1]);
	if (rc != 0) {
		close(in[1]);
		close(o[0]);
		close(e[0]);
		return berth_error_set(err, 500, "exec %s: %s", argv[0], strerror(rc));
	}
	/* a child that exits without reading its stdin must not kill us */
	sigset_t pipe_set, old;
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	pump_child(in[1], input, input_len, o[0], e[0], out, errout);
	struct timespec none = {0};
	while (sigtimedwait(&pipe_set, NULL, &none) > 0)
		; /* the SIGPIPE a failed write left pending */
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	*exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	return 0;
}
