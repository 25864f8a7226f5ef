/* lazy_curl.c - libcurl opened on first use (see lazy_curl.h). */
#include <pthread.h>

#include "lazy_curl.h"

berth_curl_lib_t berth_curl;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static berth_error *load_error;

static void load(void)
{
	static const char *const names[] = {
#define X(f) #f,
		BERTH_CURL_FUNCS(X)
#undef X
	};
	if (berth_lazylib_load("libcurl.so.4", names, (void **)&berth_curl, BERTH_ARRAY_SIZE(names),
			       &load_error) < 0)
		return;
	/* not thread-safe itself: the once makes it so */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		berth_error_set(&load_error, 500, "curl_global_init failed");
}

int berth_curl_load(berth_error **err)
{
	pthread_once(&once, load);
	if (load_error)
		return berth_error_set(err, load_error->status, "%s", load_error->msg);
	return 0;
}
