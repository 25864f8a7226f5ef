/*
 * http.c - sessions with one registry: TLS from certs.d, the insecure
 * fallback to plain HTTP, requests with authentication and retries.
 */
#include <ctype.h>
#include <dirent.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "internal.h"

#define USER_AGENT "berth/" BERTH_VERSION
#define CONNECT_TIMEOUT_S 15L
#define MAX_BACKOFF_MS 5000

void reg_backoff(int attempt)
{
	long ms = 200L << (attempt > 5 ? 5 : attempt - 1);
	if (ms > MAX_BACKOFF_MS)
		ms = MAX_BACKOFF_MS;
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* ------------------------------------------------------------- certs.d */

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Docker's rules: *.crt are CAs, X.cert with X.key a client pair. */
static void load_certs_dir(reg_session *s, const char *dir)
{
	DIR *d = opendir(dir);
	if (d == NULL)
		return;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		char *path cleanup_free = berth_xasprintf("%s/%s", dir, de->d_name);
		if (has_suffix(de->d_name, ".crt")) {
			size_t n = berth_strv_len(s->cas);
			s->cas = berth_xrealloc(s->cas, (n + 2) * sizeof(*s->cas));
			s->cas[n] = berth_steal_ptr(&path);
			s->cas[n + 1] = NULL;
		} else if (has_suffix(de->d_name, ".cert") && s->client_cert == NULL) {
			size_t stem = strlen(path) - strlen(".cert");
			s->client_key = berth_xasprintf("%.*s.key", (int)stem, path);
			s->client_cert = berth_steal_ptr(&path);
		}
	}
	closedir(d);
}

/* Adds the certs.d CAs to the system's rather than replacing them. */
static CURLcode add_cas(CURL *curl, void *ssl_ctx, void *ud)
{
	reg_session *s = ud;
	X509_STORE *store = SSL_CTX_get_cert_store(ssl_ctx);
	for (char **ca = s->cas; ca && *ca; ca++) {
		FILE *f = fopen(*ca, "r");
		if (f == NULL)
			continue;
		X509 *x;
		while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
			X509_STORE_add_cert(store, x);
			X509_free(x);
		}
		fclose(f);
	}
	return CURLE_OK;
}

/* ------------------------------------------------------------ insecure */

static bool cidr_match(const char *cidr, const char *ip)
{
	char net[64];
	const char *slash = strchr(cidr, '/');
	if (slash == NULL || (size_t)(slash - cidr) >= sizeof(net))
		return false;
	memcpy(net, cidr, (size_t)(slash - cidr));
	net[slash - cidr] = '\0';
	int bits = atoi(slash + 1);
	unsigned a[4], b[4];
	if (sscanf(net, "%u.%u.%u.%u", &a[0], &a[1], &a[2], &a[3]) != 4 ||
	    sscanf(ip, "%u.%u.%u.%u", &b[0], &b[1], &b[2], &b[3]) != 4 || bits < 0 || bits > 32)
		return false;
	uint32_t na = a[0] << 24 | a[1] << 16 | a[2] << 8 | a[3];
	uint32_t nb = b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3];
	uint32_t mask = bits == 0 ? 0 : ~0u << (32 - bits);
	return (na & mask) == (nb & mask);
}

/* dockerd: listed hosts, listed CIDRs and 127.0.0.0/8 (localhost resolves
 * there) are insecure. */
static bool host_insecure(const berth_registry_config *cfg, const char *host)
{
	char *name cleanup_free = berth_xstrndup(host, strcspn(host, ":"));
	if (strcmp(name, "localhost") == 0 || cidr_match("127.0.0.0/8", name))
		return true;
	for (char **i = cfg->insecure; i && *i; i++)
		if (strcmp(*i, host) == 0 || strcmp(*i, name) == 0 || cidr_match(*i, name))
			return true;
	return false;
}

/* ------------------------------------------------------------- sessions */

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access a, void *ud)
{
	reg_session *s = ud;
	pthread_mutex_lock(&s->share_mu[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *ud)
{
	reg_session *s = ud;
	pthread_mutex_unlock(&s->share_mu[data]);
}

void reg_session_free(reg_session *s)
{
	if (s == NULL)
		return;
	if (s->share)
		curl_share_cleanup(s->share);
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_destroy(&s->share_mu[i]);
	pthread_mutex_destroy(&s->mu);
	for (size_t i = 0; i < s->ntokens; i++) {
		free(s->tokens[i].scope);
		free(s->tokens[i].token);
	}
	free(s->tokens);
	free(s->scheme);
	free(s->realm);
	free(s->service);
	berth_strv_free(s->cas);
	free(s->client_cert);
	free(s->client_key);
	berth_registry_auth_reset(&s->auth);
	free(s->host);
	free(s->repo);
	free(s->base);
	free(s);
}

static void copy_auth(berth_registry_auth *to, const berth_registry_auth *from)
{
	memset(to, 0, sizeof(*to));
	if (from == NULL)
		return;
#define DUP(f) to->f = from->f && *from->f ? berth_xstrdup(from->f) : NULL
	DUP(username);
	DUP(password);
	DUP(identitytoken);
	DUP(registrytoken);
	DUP(serveraddress);
#undef DUP
}

static int ping(reg_session *s, berth_error **err)
{
	reg_response r = {0};
	reg_request rq = {.method = "GET", .url = "/v2/", .no_retry = true};
	int rc = reg_do(s, &rq, &r, err);
	if (rc == 0 && r.status != 200 && r.status != 401)
		rc = reg_http_error(s, &r, "ping", err);
	reg_response_reset(&r);
	return rc;
}

int reg_session_open(const berth_registry_config *cfg, const berth_registry_auth *auth,
		     const char *host, const char *repo, const char *base_url, reg_session **out,
		     berth_error **err)
{
	if (berth_curl_load(err) < 0)
		return berth_error_wrap(err, "registry client");
	reg_session *s = berth_xcalloc(1, sizeof(*s));
	s->cfg = cfg;
	s->host = berth_xstrdup(host);
	s->repo = berth_xstrdup(repo ? repo : "");
	copy_auth(&s->auth, auth);
	pthread_mutex_init(&s->mu, NULL);
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&s->share_mu[i], NULL);
	s->share = curl_share_init();
	curl_share_setopt(s->share, CURLSHOPT_LOCKFUNC, share_lock);
	curl_share_setopt(s->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
	curl_share_setopt(s->share, CURLSHOPT_USERDATA, s);
	curl_share_setopt(s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
	curl_share_setopt(s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	const char *url_host = base_url ? strstr(base_url, "://") : NULL;
	char *cert_host cleanup_free = url_host ? berth_xstrndup(url_host + 3, strcspn(url_host + 3, "/"))
						: berth_xstrdup(host);
	s->insecure = host_insecure(cfg, cert_host);
	for (char **d = cfg->certs_dirs; d && *d; d++) {
		char *dir cleanup_free = berth_xasprintf("%s/%s", *d, cert_host);
		load_certs_dir(s, dir);
	}
	if (base_url) {
		s->base = berth_xstrndup(base_url, strlen(base_url) - (has_suffix(base_url, "/") ? 1 : 0));
	} else {
		s->base = berth_xasprintf("https://%s", host);
	}
	berth_error *first cleanup_error = NULL;
	if (ping(s, &first) < 0) {
		if (!s->insecure || base_url || first->status != 500) {
			reg_session_free(s);
			return berth_error_propagate(&first, err);
		}
		free(s->base);
		s->base = berth_xasprintf("http://%s", host);
		if (ping(s, err) < 0) {
			reg_session_free(s);
			return -1;
		}
	}
	*out = s;
	return 0;
}

/* ------------------------------------------------------------- requests */

void reg_response_reset(reg_response *r)
{
	berth_buf_reset(&r->body);
	free(r->content_type);
	free(r->location);
	free(r->digest);
	free(r->www_auth);
	free(r->link);
	memset(r, 0, sizeof(*r));
}

char *reg_url(reg_session *s, const char *path)
{
	if (strstr(path, "://"))
		return berth_xstrdup(path);
	return berth_xasprintf("%s%s", s->base, path);
}

size_t reg_buf_write(char *data, size_t size, size_t n, void *ud)
{
	berth_buf_append(ud, data, size * n);
	return size * n;
}

static char *header_value(const char *line, size_t len, const char *name)
{
	size_t nl = strlen(name);
	if (len <= nl + 1 || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
		return NULL;
	const char *v = line + nl + 1;
	const char *end = line + len;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
		end--;
	return berth_xstrndup(v, (size_t)(end - v));
}

static void set_header(char **field, char *value)
{
	if (value == NULL)
		return;
	free(*field);
	*field = value;
}

static size_t on_header(char *data, size_t size, size_t n, void *ud)
{
	reg_response *r = ud;
	size_t len = size * n;
	if (len > 5 && strncmp(data, "HTTP/", 5) == 0) {
		/* a new response (after a redirect or 100): forget the last */
		free(r->www_auth);
		r->www_auth = NULL;
		return len;
	}
	set_header(&r->content_type, header_value(data, len, "Content-Type"));
	set_header(&r->location, header_value(data, len, "Location"));
	set_header(&r->digest, header_value(data, len, "Docker-Content-Digest"));
	set_header(&r->link, header_value(data, len, "Link"));
	char *auth = header_value(data, len, "WWW-Authenticate");
	/* a registry may offer several schemes: keep Bearer over Basic */
	if (auth && (r->www_auth == NULL || strncasecmp(auth, "bearer", 6) == 0))
		set_header(&r->www_auth, auth);
	else
		free(auth);
	char *length cleanup_free = header_value(data, len, "Content-Length");
	if (length)
		r->length = strtoll(length, NULL, 10);
	char *ranges cleanup_free = header_value(data, len, "Accept-Ranges");
	if (ranges && strcasecmp(ranges, "bytes") == 0)
		r->ranges = true;
	return len;
}

CURL *reg_easy(reg_session *s, const char *url, const char *actions, struct curl_slist **headers,
	       berth_error **err)
{
	char *auth cleanup_free = NULL;
	if (reg_auth_header(s, actions, &auth, err) < 0)
		return NULL;
	CURL *c = curl_easy_init();
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_SHARE, s->share);
	curl_easy_setopt(c, CURLOPT_USERAGENT, USER_AGENT);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	/* a stalled transfer counts as dropped: under 1 kB/s for 60 s */
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(c, CURLOPT_SSL_CTX_FUNCTION, add_cas);
	curl_easy_setopt(c, CURLOPT_SSL_CTX_DATA, s);
	if (s->insecure) {
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (s->client_cert) {
		curl_easy_setopt(c, CURLOPT_SSLCERT, s->client_cert);
		curl_easy_setopt(c, CURLOPT_SSLKEY, s->client_key);
	}
	*headers = NULL;
	if (auth) {
		char *h cleanup_free = berth_xasprintf("Authorization: %s", auth);
		*headers = curl_slist_append(*headers, h);
	}
	return c;
}

static bool retryable(CURLcode cc, long status)
{
	if (cc != CURLE_OK)
		return cc != CURLE_SSL_CACERT && cc != CURLE_PEER_FAILED_VERIFICATION &&
		       cc != CURLE_SSL_CONNECT_ERROR && cc != CURLE_URL_MALFORMAT &&
		       cc != CURLE_COULDNT_RESOLVE_HOST && cc != CURLE_UNSUPPORTED_PROTOCOL;
	return status == 429 || status >= 500;
}

static CURLcode perform(reg_session *s, const reg_request *rq, const char *url, reg_response *resp,
			berth_error **err)
{
	struct curl_slist *headers = NULL;
	CURL *c = reg_easy(s, url, rq->actions, &headers, err);
	if (c == NULL)
		return CURLE_LOGIN_DENIED;
	if (rq->accept) {
		char *h cleanup_free = berth_xasprintf("Accept: %s", rq->accept);
		headers = curl_slist_append(headers, h);
	}
	if (rq->content_type) {
		char *h cleanup_free = berth_xasprintf("Content-Type: %s", rq->content_type);
		headers = curl_slist_append(headers, h);
	}
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, rq->method);
	if (strcmp(rq->method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	if (rq->stream_body) {
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, rq->read_cb);
		curl_easy_setopt(c, CURLOPT_READDATA, rq->read_ud);
		/* layers are megabytes: fewer, larger writes to the socket */
		curl_easy_setopt(c, CURLOPT_UPLOAD_BUFFERSIZE, 512L * 1024);
		headers = curl_slist_append(headers, "Transfer-Encoding: chunked");
	} else if (rq->body || strcmp(rq->method, "PUT") == 0 || strcmp(rq->method, "POST") == 0 ||
		   strcmp(rq->method, "PATCH") == 0) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, rq->body ? rq->body : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->len);
	}
	headers = curl_slist_append(headers, "Expect:");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, reg_buf_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp->body);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, resp);
	resp->length = -1;
	char detail[CURL_ERROR_SIZE] = "";
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, detail);
	CURLcode cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
	if (cc != CURLE_OK) {
		char m[16]; /* as Go's errors print it: "Get", "Head" */
		snprintf(m, sizeof(m), "%s", rq->method);
		for (char *p = m + 1; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		berth_error_set(err, 500, "%s \"%s\": %s", m, url,
				*detail ? detail : curl_easy_strerror(cc));
	}
	curl_easy_cleanup(c);
	curl_slist_free_all(headers);
	return cc;
}

int reg_do(reg_session *s, const reg_request *rq, reg_response *resp, berth_error **err)
{
	char *url cleanup_free = reg_url(s, rq->url);
	bool auth_retried = false;
	for (int attempt = 1;; attempt++) {
		reg_response_reset(resp);
		berth_error *e cleanup_error = NULL;
		CURLcode cc = perform(s, rq, url, resp, &e);
		if (cc == CURLE_LOGIN_DENIED)
			return berth_error_propagate(&e, err);
		if (cc == CURLE_OK && resp->status == 401 && !auth_retried && !rq->stream_body &&
		    reg_auth_challenge(s, resp->www_auth, rq->actions)) {
			auth_retried = true;
			attempt--;
			continue;
		}
		if (rq->no_retry || attempt >= s->cfg->attempts || !retryable(cc, resp->status)) {
			if (cc != CURLE_OK)
				return berth_error_propagate(&e, err);
			return 0;
		}
		berth_debug("registry: %s %s: %s, retrying", rq->method, url,
			    cc != CURLE_OK ? curl_easy_strerror(cc) : "server error");
		reg_backoff(attempt);
	}
}

/* The registry's {"errors": [{"code", "message"}]}, as dockerd words it:
 * "manifest unknown", "unauthorized: authentication required". */
int reg_http_error(reg_session *s, const reg_response *r, const char *what, berth_error **err)
{
	json_t *j cleanup_json = json_loadb(r->body.data ? r->body.data : "", r->body.len, 0, NULL);
	json_t *first = json_array_get(json_object_get(j, "errors"), 0);
	const char *code = berth_json_string(first, "code");
	const char *msg = berth_json_string(first, "message");
	int status = r->status == 401 || r->status == 403 ? r->status
		     : r->status == 404 ? 404 : 500;
	pthread_mutex_lock(&s->mu);
	bool basic = s->scheme && strcmp(s->scheme, "basic") == 0;
	pthread_mutex_unlock(&s->mu);
	/* dockerd's words, and statuses the docker CLI does not answer with a
	 * login prompt */
	if (r->status == 401 && basic && s->auth.username == NULL)
		return berth_error_set(err, 500, "%s %s/v2/%s: no basic auth credentials", what,
				       s->base, s->repo);
	if (r->status == 401 && (code == NULL || strcmp(code, "UNAUTHORIZED") == 0))
		return berth_error_set(err, 401, "unauthorized: %s",
				       msg ? msg : "authentication required");
	if (msg && code && strcmp(code, "MANIFEST_UNKNOWN") == 0)
		return berth_error_set(err, 404, "manifest unknown: %s", msg);
	if (msg && code && strcmp(code, "NAME_UNKNOWN") == 0)
		return berth_error_set(err, 404, "name unknown: %s", msg);
	if (msg)
		return berth_error_set(err, status, "%s", msg);
	return berth_error_set(err, status, "%s: unexpected status from %s request to %s/v2/%s: %ld",
			       what, what, s->base, s->repo, r->status);
}
