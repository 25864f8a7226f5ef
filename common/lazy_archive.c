/* lazy_archive.c - libarchive loaded on first use (see lazy_archive.h). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "common.h"
#include "lazy_archive.h"

static berth_archive_lib_t lib;
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* libarchive is one of berth's installed dependencies: without it the
 * process cannot go on. */
static void load(void)
{
	static const char *const names[] = {
#define X(f) #f,
		BERTH_ARCHIVE_FUNCS(X)
#undef X
	};
	void **slots = (void **)&lib;
	berth_error *err = NULL;
	if (berth_lazylib_load("libarchive.so.13", names, slots, BERTH_ARRAY_SIZE(names), &err) < 0) {
		fprintf(stderr, "berth: %s\n", err->msg);
		exit(1);
	}
}

const berth_archive_lib_t *berth_archive_lib(void)
{
	pthread_once(&once, load);
	return &lib;
}
