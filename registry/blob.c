/*
 * blob.c - blobs read from a registry.
 *
 * A layer streams straight into the extractor, which pulls bytes: the
 * reader drives its own curl multi handle (sharing the session's
 * connections) until the write callback has delivered something, and hands
 * that over. Bytes are hashed as they pass; a dropped connection or a 5xx
 * resumes with Range from the last byte handed over (or skips what was
 * already seen when the registry ignores Range); the digest and size are
 * checked at the end, so a bad blob fails the extraction before anything
 * is committed.
 */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define POLL_MS 1000

struct reg_blob_reader {
	reg_session *s;
	char *url;
	char digest[DIGEST_LEN + 1];
	int64_t size;            /* -1: unknown */
	CURLM *multi;
	CURL *easy;
	struct curl_slist *headers;
	berth_buf incoming;      /* written by curl, not handed over yet */
	berth_buf handed;        /* what the last read returned */
	berth_buf errbody;       /* the body of an error answer */
	int64_t received;        /* bytes handed over (and hashed) */
	int64_t skip;            /* bytes of a restarted 200 answer to drop */
	long status;
	bool running, eof, verified;
	int attempt;
	EVP_MD_CTX *sha;
	void (*progress)(void *ud, int64_t current);
	void *progress_ud;
	const bool *cancel;
};

static size_t on_data(char *data, size_t size, size_t n, void *ud)
{
	reg_blob_reader *r = ud;
	size_t len = size * n;
	if (r->status == 0)
		curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &r->status);
	if (r->status != 200 && r->status != 206) {
		if (r->errbody.len < 65536)
			berth_buf_append(&r->errbody, data, len);
		return len;
	}
	if (r->status == 200 && r->skip > 0) {
		size_t drop = (size_t)r->skip < len ? (size_t)r->skip : len;
		r->skip -= (int64_t)drop;
		data += drop;
		len -= drop;
	}
	berth_buf_append(&r->incoming, data, len);
	return size * n;
}

static void stop(reg_blob_reader *r)
{
	if (r->easy) {
		curl_multi_remove_handle(r->multi, r->easy);
		curl_easy_cleanup(r->easy);
		r->easy = NULL;
	}
	curl_slist_free_all(r->headers);
	r->headers = NULL;
	r->running = false;
}

static int start(reg_blob_reader *r, berth_error **err)
{
	r->easy = reg_easy(r->s, r->url, "pull", &r->headers, err);
	if (r->easy == NULL)
		return -1;
	r->headers = curl_slist_append(r->headers, "Expect:");
	curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, r->headers);
	curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, r);
	if (r->received > 0)
		curl_easy_setopt(r->easy, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)r->received);
	r->skip = r->received;
	r->status = 0;
	berth_buf_reset(&r->errbody);
	curl_multi_add_handle(r->multi, r->easy);
	r->running = true;
	return 0;
}

reg_blob_reader *reg_blob_open(reg_session *s, const char *digest, int64_t size,
			       void (*progress)(void *ud, int64_t current), void *progress_ud)
{
	reg_blob_reader *r = berth_xcalloc(1, sizeof(*r));
	r->s = s;
	char *path cleanup_free = berth_xasprintf("/v2/%s/blobs/%s", s->repo, digest);
	r->url = reg_url(s, path);
	snprintf(r->digest, sizeof(r->digest), "%s", digest);
	r->size = size;
	r->multi = curl_multi_init();
	r->sha = EVP_MD_CTX_new();
	EVP_DigestInit_ex(r->sha, EVP_sha256(), NULL);
	r->progress = progress;
	r->progress_ud = progress_ud;
	return r;
}

void reg_blob_set_cancel(reg_blob_reader *r, const bool *cancel)
{
	r->cancel = cancel;
}

void reg_blob_close(reg_blob_reader *r)
{
	if (r == NULL)
		return;
	stop(r);
	curl_multi_cleanup(r->multi);
	EVP_MD_CTX_free(r->sha);
	berth_buf_reset(&r->incoming);
	berth_buf_reset(&r->handed);
	berth_buf_reset(&r->errbody);
	free(r->url);
	free(r);
}

static int verification_failed(reg_blob_reader *r, berth_error **err)
{
	return berth_error_set(err, 500, "filesystem layer verification failed for digest %s",
			       r->digest);
}

void reg_sha256_final(EVP_MD_CTX *c, char out[DIGEST_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_DigestFinal_ex(c, md, &mdlen);
	char *p = out + snprintf(out, DIGEST_LEN + 1, "sha256:");
	for (unsigned i = 0; i < mdlen && i < 32; i++)
		p += snprintf(p, 3, "%02x", md[i]);
}

static int check_end(reg_blob_reader *r, berth_error **err)
{
	char got[DIGEST_LEN + 1];
	reg_sha256_final(r->sha, got);
	if ((r->size >= 0 && r->received != r->size) || strcmp(got + 7, r->digest + 7) != 0)
		return verification_failed(r, err);
	return 0;
}

/* The transfer ended: done, retried, or an error. */
static int finished(reg_blob_reader *r, CURLcode cc, berth_error **err)
{
	long status = r->status;
	if (status == 0)
		curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
	stop(r);
	if (cc == CURLE_OK && (status == 200 || status == 206)) {
		r->eof = true;
		return 0;
	}
	bool retry = cc != CURLE_OK || status == 429 || status >= 500 || status == 408;
	if (retry && ++r->attempt < r->s->cfg->attempts) {
		berth_info("registry: blob %s: %s, resuming at %lld", r->digest,
			   cc != CURLE_OK ? curl_easy_strerror(cc) : "server error",
			   (long long)r->received);
		berth_buf_reset(&r->incoming);
		reg_backoff(r->attempt);
		return start(r, err);
	}
	if (cc != CURLE_OK)
		return berth_error_set(err, 500, "Get \"%s\": %s", r->url, curl_easy_strerror(cc));
	reg_response resp = {.status = status, .body = r->errbody};
	int rc = reg_http_error(r->s, &resp, "blob", err);
	return rc;
}

static int pump(reg_blob_reader *r, berth_error **err)
{
	int still = 0;
	CURLMcode mc = curl_multi_perform(r->multi, &still);
	if (mc != CURLM_OK)
		return berth_error_set(err, 500, "curl: %s", curl_multi_strerror(mc));
	int left;
	CURLMsg *m;
	while ((m = curl_multi_info_read(r->multi, &left)) != NULL)
		if (m->msg == CURLMSG_DONE && m->easy_handle == r->easy)
			return finished(r, m->data.result, err);
	if (still && r->incoming.len == 0)
		curl_multi_poll(r->multi, NULL, 0, POLL_MS, NULL);
	return 0;
}

ssize_t reg_blob_read(void *userdata, const void **buf, berth_error **err)
{
	reg_blob_reader *r = userdata;
	berth_buf_reset(&r->handed);
	for (;;) {
		if (r->cancel && __atomic_load_n(r->cancel, __ATOMIC_RELAXED))
			return berth_error_set(err, 500, "download of %s cancelled", r->digest);
		if (r->incoming.len > 0) {
			r->handed = r->incoming;
			memset(&r->incoming, 0, sizeof(r->incoming));
			EVP_DigestUpdate(r->sha, r->handed.data, r->handed.len);
			r->received += (int64_t)r->handed.len;
			if (r->size >= 0 && r->received > r->size)
				return verification_failed(r, err);
			if (r->progress)
				r->progress(r->progress_ud, r->received);
			*buf = r->handed.data;
			return (ssize_t)r->handed.len;
		}
		if (r->verified)
			return 0;
		if (r->eof) {
			if (check_end(r, err) < 0)
				return -1;
			r->verified = true;
			return 0;
		}
		if (!r->running && start(r, err) < 0)
			return -1;
		if (pump(r, err) < 0)
			return -1;
	}
}

int reg_blob_drain(reg_blob_reader *r, berth_error **err)
{
	const void *chunk;
	ssize_t n;
	while ((n = reg_blob_read(r, &chunk, err)) > 0)
		;
	return n < 0 ? -1 : 0;
}

int reg_blob_get(reg_session *s, const char *digest, char **data, size_t *len,
		 berth_error **err)
{
	reg_blob_reader *r = reg_blob_open(s, digest, -1, NULL, NULL);
	berth_buf out = {0};
	const void *chunk;
	ssize_t n;
	while ((n = reg_blob_read(r, &chunk, err)) > 0)
		berth_buf_append(&out, chunk, (size_t)n);
	reg_blob_close(r);
	if (n < 0) {
		berth_buf_reset(&out);
		return -1;
	}
	*len = out.len;
	*data = berth_buf_steal(&out);
	return 0;
}

/* ------------------------------------------------------------- progress */

json_t *reg_status(const char *id, const char *status)
{
	if (id == NULL)
		return json_pack("{s:s}", "status", status);
	return json_pack("{s:s, s:{}, s:s}", "status", status, "progressDetail", "id", id);
}

/* JSONProgress.String() for a non-terminal, as progress.c in the image
 * store renders it; the docker CLI redraws its own bars from the numbers. */
json_t *reg_progress(const char *id, const char *status, int64_t current, int64_t total)
{
	char cur[32], tot[32];
	berth_human_size(current, 4, cur, sizeof(cur));
	berth_human_size(total, 4, tot, sizeof(tot));
	int width = 50, filled = total > 0 ? (int)((double)current / (double)total * width) : 0;
	if (filled > width)
		filled = width;
	char bar[64];
	memset(bar, '=', (size_t)filled);
	bar[filled] = '>';
	memset(bar + filled + 1, ' ', (size_t)(width - filled));
	bar[width + 1] = '\0';
	char *text cleanup_free = total > 0 ? berth_xasprintf("[%s] %8s/%s", bar, cur, tot)
					    : berth_xasprintf("%8s", cur);
	return json_pack("{s:s, s:{s:I, s:I}, s:s, s:s}", "status", status, "progressDetail",
			 "current", (json_int_t)current, "total", (json_int_t)total, "progress", text,
			 "id", id);
}

void reg_emit(const berth_registry_op *op, json_t *msg)
{
	if (op->progress)
		op->progress(op->userdata, msg);
	else
		json_decref(msg);
}
