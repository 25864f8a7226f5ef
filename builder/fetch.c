/*
 * fetch.c - HTTP(S) downloads for ADD <url> and tarball contexts, with
 * libcurl: redirects followed, a status >= 400 is an error worded as
 * dockerd's ("failed to GET <url> with status 404 Not Found: ..."), the
 * Last-Modified time kept for ADD.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "lazy_curl.h"

int url_basename(const char *url, char **out, berth_error **err)
{
	const char *path = strstr(url, "://");
	path = path ? strchr(path + 3, '/') : NULL;
	size_t len = path ? strcspn(path, "?#") : 0;
	const char *end = path ? path + len : NULL;
	const char *slash = end;
	while (slash && slash > path && slash[-1] != '/')
		slash--;
	if (path == NULL || slash == end)
		return berth_error_set(err, 400, "cannot determine filename from url: %s", url);
	*out = berth_xstrndup(slash, (size_t)(end - slash));
	return 0;
}

static size_t to_fd(char *data, size_t size, size_t n, void *ud)
{
	return berth_write_all(*(int *)ud, data, size * n) < 0 ? 0 : size * n;
}

int build_fetch(const char *url, const char *path, int64_t *mtime, berth_error **err)
{
	int fd cleanup_close = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return berth_error_set_errno(err, errno, "create %s", path);
	if (berth_curl_load(err) < 0)
		return berth_error_wrap(err, "downloads");
	CURL *c = curl_easy_init();
	if (c == NULL)
		return berth_error_set(err, 500, "curl_easy_init failed");
	char errbuf[CURL_ERROR_SIZE] = "";
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, to_fd);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &fd);
	curl_easy_setopt(c, CURLOPT_FILETIME, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "berth/" BERTH_VERSION);
	CURLcode rc = curl_easy_perform(c);
	long status = 0;
	long filetime = -1;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(c, CURLINFO_FILETIME, &filetime);
	curl_easy_cleanup(c);
	if (rc != CURLE_OK)
		return berth_error_set(err, 400, "error downloading remote context %s: %s", url,
				       *errbuf ? errbuf : curl_easy_strerror(rc));
	if (status >= 400)
		return berth_error_set(err, 400, "failed to GET %s with status %ld", url, status);
	if (mtime)
		*mtime = filetime > 0 ? filetime : 0;
	return 0;
}
