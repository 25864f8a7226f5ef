/* archive.c - libarchive loaded on first use (see archive.h). */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "archive.h"

static berth_archive_lib_t lib;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{
	void *h = dlopen("libarchive.so.13", RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		fprintf(stderr, "berth: cannot load libarchive: %s\n", dlerror());
		exit(1);
	}
	/* the names are macros now: # and ## keep them as written */
#define X(f)                                                                              \
	if ((lib.p_##f = (__typeof__(lib.p_##f))dlsym(h, #f)) == NULL) {                   \
		fprintf(stderr, "berth: libarchive has no %s\n", #f);                       \
		exit(1);                                                                   \
	}
	BERTH_ARCHIVE_FUNCS(X)
#undef X
}

const berth_archive_lib_t *berth_archive_lib(void)
{
	pthread_once(&once, load);
	return &lib;
}
