/*
 * internal.h - shared by the registry module's files; not for other modules.
 *
 * A session is one operation's conversation with one registry (a repository
 * on a host): its base URL (https, or http for an insecure registry that
 * does not speak TLS), TLS material from certs.d, the credentials, the
 * authentication challenge the registry answered /v2/ with, Bearer tokens
 * by scope, and a curl share so that the operation's parallel transfers
 * reuse connections, DNS and TLS sessions. Everything in it is safe to use
 * from several threads.
 */
#ifndef BERTH_REGISTRY_INTERNAL_H
#define BERTH_REGISTRY_INTERNAL_H

#include <openssl/evp.h>
#include <pthread.h>

#include "lazy_curl.h"
#include "registry.h"

#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define MT_DOCKER_LAYER "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_SCHEMA1 "application/vnd.docker.distribution.manifest.v1+json"
#define MT_SCHEMA1_SIGNED "application/vnd.docker.distribution.manifest.v1+prettyjws"

#define DIGEST_LEN 71

typedef struct reg_token {
	char *scope;
	char *token;
} reg_token;

typedef struct reg_session {
	const berth_registry_config *cfg;
	char *host;            /* "127.0.0.1:5000"; "docker.io" for Docker Hub */
	char *repo;            /* "library/busybox" */
	char *base;            /* "https://127.0.0.1:5000" */
	bool insecure;         /* TLS unverified, plain HTTP allowed */
	char **cas;            /* certs.d CA files */
	char *client_cert, *client_key;
	berth_registry_auth auth;
	CURLSH *share;
	pthread_mutex_t share_mu[CURL_LOCK_DATA_LAST];
	pthread_mutex_t mu;    /* guards what follows */
	char *scheme;          /* challenge: "basic", "bearer" or NULL */
	char *realm, *service;
	reg_token *tokens;
	size_t ntokens;
} reg_session;

/* Opens a session and pings /v2/ (falling back to http:// when insecure).
 * base_url overrides the host's URL (a mirror). */
int reg_session_open(const berth_registry_config *cfg, const berth_registry_auth *auth,
		     const char *host, const char *repo, const char *base_url, reg_session **out,
		     berth_error **err);
void reg_session_free(reg_session *s);

typedef struct reg_response {
	long status;
	berth_buf body;
	char *content_type;
	char *location;
	char *digest;          /* Docker-Content-Digest */
	int64_t length;        /* Content-Length, -1 when absent */
	char *www_auth;
	char *link;            /* Link, the next page of a list */
	bool ranges;           /* Accept-Ranges: bytes */
} reg_response;
void reg_response_reset(reg_response *r);

typedef struct reg_request {
	const char *method;
	const char *url;       /* absolute, or a path under base */
	const char *actions;   /* token scope actions: "pull" or "pull,push" */
	const char *accept;    /* Accept header, may be NULL */
	const char *content_type;
	const void *body;
	size_t len;
	bool stream_body;      /* body is a read callback (read_cb, read_ud) */
	size_t (*read_cb)(char *buf, size_t size, size_t n, void *ud);
	void *read_ud;
	bool no_retry;         /* a streamed body cannot be sent again */
} reg_request;

/* One request with authentication and retries (5xx, 429, dropped
 * connections, with backoff). A status >= 400 is in resp, not an error. */
int reg_do(reg_session *s, const reg_request *rq, reg_response *resp, berth_error **err);
/* An easy handle set up for the session (TLS, share, auth header for
 * actions); headers to free with curl_slist_free_all after the transfer. */
CURL *reg_easy(reg_session *s, const char *url, const char *actions, struct curl_slist **headers,
	       berth_error **err);
/* Turns a registry error response into dockerd's wording. */
int reg_http_error(reg_session *s, const reg_response *r, const char *what, berth_error **err);
char *reg_url(reg_session *s, const char *path);
/* A CURLOPT_WRITEFUNCTION appending to a berth_buf. */
size_t reg_buf_write(char *data, size_t size, size_t n, void *buf);
/* Sleeps before attempt n (1, 2, ...): 200 ms doubling, at most 5 s. */
void reg_backoff(int attempt);

/* Auth (auth.c): a Bearer token for actions on the session's repository, or
 * the Basic header; *header NULL when anonymous. */
int reg_auth_header(reg_session *s, const char *actions, char **header, berth_error **err);
/* Records the challenge of a 401 answer; false when nothing new was learned
 * (retrying would not help). */
bool reg_auth_challenge(reg_session *s, const char *www_auth, const char *actions);
/* Fetches a token (no scope) with the credentials, for login. */
int reg_auth_login(reg_session *s, char **identity_token, berth_error **err);

/* "sha256:<hex>" of what c hashed (blob reads and gzipped uploads). */
void reg_sha256_final(EVP_MD_CTX *c, char out[DIGEST_LEN + 1]);

/* Streams a blob: a berth_image_read_fn reading GET /v2/<repo>/blobs/<digest>,
 * resumed with Range after a dropped connection, checked against digest
 * and size at the end (dockerd's "filesystem layer verification failed"). */
typedef struct reg_blob_reader reg_blob_reader;
reg_blob_reader *reg_blob_open(reg_session *s, const char *digest, int64_t size,
			       void (*progress)(void *ud, int64_t current), void *progress_ud);
/* Stops the transfer with an error once *cancel becomes true. */
void reg_blob_set_cancel(reg_blob_reader *r, const bool *cancel);
ssize_t reg_blob_read(void *userdata, const void **buf, berth_error **err);
/* Reads the rest of a blob: after a failed extraction, a digest mismatch
 * is the error to report rather than what the bad bytes made of the tar. */
int reg_blob_drain(reg_blob_reader *r, berth_error **err);
void reg_blob_close(reg_blob_reader *r);

/* A small blob (a config) into memory, verified. */
int reg_blob_get(reg_session *s, const char *digest, char **data, size_t *len,
		 berth_error **err);

/* GET a manifest by tag or digest (pull.c); *digest gets its digest,
 * checked when reference is one. familiar names it in errors. */
int reg_manifest_get(reg_session *s, const char *reference, const char *familiar,
		     berth_registry_manifest *m, char digest[DIGEST_LEN + 1], berth_error **err);
/* A session for host/repo: Docker Hub through its mirrors first. */
int reg_open_for(const berth_registry_config *cfg, const berth_registry_auth *auth,
		 const char *host, const char *repo, reg_session **s, berth_error **err);

/* A stream gzipped while it uploads (gzip.c): fill runs on a thread of its
 * own and passes the uncompressed bytes to reg_gzip_write; reg_gzip_read is
 * the upload's CURLOPT_READFUNCTION (userdata: the reg_gzip). finish stops
 * whatever still runs and gives the digest and size of what was read; it
 * fails with fill's error (the upload's own failure is the caller's). The
 * same input always compresses to the same bytes. */
typedef struct reg_gzip reg_gzip;
typedef int (*reg_gzip_fill_fn)(void *ud, reg_gzip *gz, berth_error **err);
reg_gzip *reg_gzip_start(reg_gzip_fill_fn fill, void *ud);
int reg_gzip_write(reg_gzip *gz, const void *data, size_t len, berth_error **err);
size_t reg_gzip_read(char *buf, size_t size, size_t n, void *gz);
int reg_gzip_finish(reg_gzip *gz, char digest[DIGEST_LEN + 1], int64_t *size, berth_error **err);

/* Runs fn(ud, i) for every i below n on up to nthreads threads (the
 * caller's among them). The first failure sets *cancel, which stops new
 * items from starting and tells running ones to give up, and is returned. */
typedef int (*reg_item_fn)(void *ud, size_t i, berth_error **err);
int reg_parallel(size_t n, int nthreads, reg_item_fn fn, void *ud, bool *cancel,
		 berth_error **err);

/* Progress messages in dockerd's shape. */
json_t *reg_status(const char *id, const char *status);
json_t *reg_progress(const char *id, const char *status, int64_t current, int64_t total);
void reg_emit(const berth_registry_op *op, json_t *msg);

#endif
