/*
 * lazy_curl.h - libcurl opened with dlopen the first time it is needed
 * (common.h's lazy libraries): linked in, libcurl and what it pulls (krb5,
 * LDAP, ssh2, nghttp2, psl, ...) cost every berthd and every berth command a
 * few MiB of resident pages and dozens of shared objects, for the registry
 * client, the builder's downloads and the CLI's TLS only. Include this
 * instead of <curl/curl.h> and call berth_curl_load() before the first
 * curl_* call: the names below then go through the loaded library.
 */
#ifndef BERTH_LAZY_CURL_H
#define BERTH_LAZY_CURL_H

#include <curl/curl.h>

#include "common.h"

/* Every libcurl function berth calls. */
#define BERTH_CURL_FUNCS(X) \
	X(curl_global_init) \
	X(curl_easy_init) \
	X(curl_easy_cleanup) \
	X(curl_easy_reset) \
	X(curl_easy_setopt) \
	X(curl_easy_getinfo) \
	X(curl_easy_perform) \
	X(curl_easy_strerror) \
	X(curl_slist_append) \
	X(curl_slist_free_all) \
	X(curl_share_init) \
	X(curl_share_setopt) \
	X(curl_share_cleanup) \
	X(curl_multi_init) \
	X(curl_multi_add_handle) \
	X(curl_multi_remove_handle) \
	X(curl_multi_perform) \
	X(curl_multi_poll) \
	X(curl_multi_info_read) \
	X(curl_multi_cleanup) \
	X(curl_multi_strerror)

typedef struct berth_curl_lib {
#define X(f) __typeof__(f) *p_##f;
	BERTH_CURL_FUNCS(X)
#undef X
} berth_curl_lib_t;

extern berth_curl_lib_t berth_curl;

/* Opens libcurl and runs curl_global_init, once per process (thread-safe);
 * -1 with the reason when libcurl cannot be loaded. */
int berth_curl_load(berth_error **err);

/* curl.h's type-checking macros give way to the table. */
#undef curl_easy_setopt
#undef curl_easy_getinfo
#undef curl_share_setopt
#define curl_global_init (berth_curl.p_curl_global_init)
#define curl_easy_init (berth_curl.p_curl_easy_init)
#define curl_easy_cleanup (berth_curl.p_curl_easy_cleanup)
#define curl_easy_reset (berth_curl.p_curl_easy_reset)
#define curl_easy_setopt (berth_curl.p_curl_easy_setopt)
#define curl_easy_getinfo (berth_curl.p_curl_easy_getinfo)
#define curl_easy_perform (berth_curl.p_curl_easy_perform)
#define curl_easy_strerror (berth_curl.p_curl_easy_strerror)
#define curl_slist_append (berth_curl.p_curl_slist_append)
#define curl_slist_free_all (berth_curl.p_curl_slist_free_all)
#define curl_share_init (berth_curl.p_curl_share_init)
#define curl_share_setopt (berth_curl.p_curl_share_setopt)
#define curl_share_cleanup (berth_curl.p_curl_share_cleanup)
#define curl_multi_init (berth_curl.p_curl_multi_init)
#define curl_multi_add_handle (berth_curl.p_curl_multi_add_handle)
#define curl_multi_remove_handle (berth_curl.p_curl_multi_remove_handle)
#define curl_multi_perform (berth_curl.p_curl_multi_perform)
#define curl_multi_poll (berth_curl.p_curl_multi_poll)
#define curl_multi_info_read (berth_curl.p_curl_multi_info_read)
#define curl_multi_cleanup (berth_curl.p_curl_multi_cleanup)
#define curl_multi_strerror (berth_curl.p_curl_multi_strerror)

#endif
