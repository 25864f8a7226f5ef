/* main.c - berthd's entry point. */
#include <malloc.h>
#include <stdlib.h>

#include "engine.h"

int main(int argc, char **argv)
{
	/* libuv's pool (4 threads by default) runs every container operation,
	 * and most of them wait on a child (the shim, runc): 4 would make
	 * concurrent starts and stops queue behind each other */
	setenv("UV_THREADPOOL_SIZE", "16", 0);
	/* glibc gives each thread that allocates an arena of its own (up to 8
	 * per CPU): 16 pool threads after a burst of container operations left
	 * ~3 MiB more resident for nothing; two arenas keep the daemon's
	 * footprint without slowing the pool (it waits on children, not on
	 * malloc). MALLOC_ARENA_MAX in the environment still wins. */
	if (getenv("MALLOC_ARENA_MAX") == NULL)
		mallopt(M_ARENA_MAX, 2);
	berth_error *err cleanup_error = NULL;
	berth_config *cfg = NULL;
	bool exit_now = false;
	if (berth_config_parse(argc, argv, &cfg, &exit_now, &err) < 0) {
		fprintf(stderr, "berthd: %s\n", err->msg);
		return 1;
	}
	if (exit_now)
		return 0;
	berth_daemon *d = NULL;
	int rc = berth_daemon_start(cfg, &d, &err);
	if (rc == 0)
		rc = berth_daemon_run(d, &err);
	if (rc < 0)
		berth_log(BERTH_LOG_FATAL, "%s", err->msg);
	berth_daemon_free(d);
	berth_config_free(cfg);
	return rc < 0 ? 1 : 0;
}
