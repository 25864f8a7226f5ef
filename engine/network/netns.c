/*
 * netns.c - a container's network namespace as a bind-mounted nsfs file,
 * made on a pool thread: the thread unshares its own network namespace,
 * pins it with a bind mount, and goes back to berthd's.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "internal.h"

/* Back to the namespace the thread came from; a thread left in a
 * container's namespace would corrupt every later job on it. */
static void netns_return(int *fd)
{
	if (*fd < 0)
		return;
	if (setns(*fd, CLONE_NEWNET) < 0) {
		berth_errorf("setns back to berthd's network namespace: %s", strerror(errno));
		abort();
	}
	close(*fd);
}

int netns_create(const char *path, berth_error **err)
{
	int fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
	if (fd < 0)
		return berth_error_set_errno(err, errno, "create %s", path);
	close(fd);
	int self __attribute__((cleanup(netns_return))) = open("/proc/thread-self/ns/net",
							       O_RDONLY | O_CLOEXEC);
	if (self < 0) {
		unlink(path);
		return berth_error_set_errno(err, errno, "open /proc/thread-self/ns/net");
	}
	if (unshare(CLONE_NEWNET) < 0 ||
	    mount("/proc/thread-self/ns/net", path, NULL, MS_BIND, NULL) < 0) {
		int e = errno;
		unlink(path);
		return berth_error_set_errno(err, e, "network namespace %s", path);
	}
	return 0;
}

void netns_remove(const char *path)
{
	if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
		berth_warn("unmount %s: %s", path, strerror(errno));
	unlink(path);
}

int netns_run(int netns_fd, int (*fn)(void *arg, berth_error **err), void *arg,
	      berth_error **err)
{
	int self __attribute__((cleanup(netns_return))) = open("/proc/thread-self/ns/net",
							       O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return berth_error_set_errno(err, errno, "open /proc/thread-self/ns/net");
	if (setns(netns_fd, CLONE_NEWNET) < 0) {
		close(berth_steal_fd(&self));
		return berth_error_set_errno(err, errno, "enter network namespace");
	}
	return fn(arg, err);
}
