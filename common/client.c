/*
 * client.c - the Docker Engine API client (see common.h).
 *
 * Plain HTTP (UNIX sockets and tcp:// without TLS) is spoken here, one
 * connection per request: a CLI command makes a few requests and a connect
 * to a local socket costs microseconds. TLS goes through libcurl, loaded
 * with dlopen the first time it is needed: linked in, libcurl and what it
 * pulls (Kerberos, LDAP, GnuTLS, ...) cost every `berth ps` some 4 ms of
 * start-up. One easy handle per TLS client, reset between requests so that
 * its connection stays open (keep-alive) across the requests of one command.
 */
#include <ctype.h>
/* the functions are called through pointers: no type-checking macros */
#define CURL_DISABLE_TYPECHECK 1
#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common.h"
#include "lazy_curl.h"

#define USER_AGENT "berth-cli/" BERTH_VERSION

struct berth_client {
	char *host;      /* as given: the daemon's name in messages */
	char *unix_path; /* NULL for TCP */
	char *base_url;  /* scheme://authority, no trailing slash */
	bool tls;
	bool tls_verify;
	char *tls_ca, *tls_cert, *tls_key;
	char version[16];
	bool version_fixed; /* set by hand or negotiated: no more downgrades */
	CURL *curl;
	char **headers;  /* "Name: value" sent with every request */
};

/* One transfer in flight. */
typedef struct transfer {
	CURL *curl;
	berth_buf *body;            /* the whole body, without cb */
	berth_client_chunk_cb cb;   /* streaming */
	void *userdata;
	berth_buf errbody;          /* a streamed error response, collected */
	bool stopped;               /* cb asked to stop */
	char *api_version;          /* the API-Version header */
	char *content_type;         /* plain HTTP: the Content-Type header */
} transfer;

static char *xstrdup_or_null(const char *s)
{
	return s ? berth_xstrdup(s) : NULL;
}

/* tcp://host[:port] -> scheme://host:port (docker's default ports). */
static int parse_tcp(berth_client *c, const char *addr, berth_error **err)
{
	const char *scheme = c->tls ? "https" : "http";
	const char *sep = strstr(addr, "://");
	if (sep)
		addr = sep + 3;
	size_t len = strcspn(addr, "/");
	if (len == 0)
		return berth_error_set(err, 400, "unable to parse docker host `%s`", c->host);
	bool has_port = false;
	if (addr[0] == '[') {
		const char *close = memchr(addr, ']', len);
		has_port = close && close[1] == ':';
	} else {
		has_port = memchr(addr, ':', len) != NULL;
	}
	if (has_port)
		c->base_url = berth_xasprintf("%s://%.*s", scheme, (int)len, addr);
	else
		c->base_url = berth_xasprintf("%s://%.*s:%d", scheme, (int)len, addr,
					      c->tls ? 2376 : 2375);
	return 0;
}

int berth_client_new(const char *host, const berth_client_tls *tls, berth_client **out,
		     berth_error **err)
{
	berth_client *c = berth_xcalloc(1, sizeof(*c));
	c->host = berth_xstrdup(host);
	snprintf(c->version, sizeof(c->version), "%s", BERTH_API_VERSION);
	if (tls) {
		c->tls = true;
		c->tls_verify = tls->verify;
		c->tls_ca = xstrdup_or_null(tls->ca);
		c->tls_cert = xstrdup_or_null(tls->cert);
		c->tls_key = xstrdup_or_null(tls->key);
	}
	int r = 0;
	if (berth_str_has_prefix(host, "unix://")) {
		c->unix_path = berth_xstrdup(host + strlen("unix://"));
		c->base_url = berth_xstrdup("http://localhost");
		if (*c->unix_path == '\0')
			r = berth_error_set(err, 400, "unable to parse docker host `%s`", host);
	} else if (strstr(host, "://") == NULL || berth_str_has_prefix(host, "tcp://") ||
		   berth_str_has_prefix(host, "http://") || berth_str_has_prefix(host, "https://")) {
		if (berth_str_has_prefix(host, "https://"))
			c->tls = true;
		r = parse_tcp(c, host, err);
	} else {
		r = berth_error_set(err, 400, "unable to parse docker host `%s`", host);
	}
	if (r == 0 && c->tls) {
		if (berth_curl_load(err) < 0)
			r = berth_error_wrap(err, "TLS needs libcurl");
		else if ((c->curl = curl_easy_init()) == NULL)
			r = berth_error_set(err, 500, "TLS needs libcurl: cannot initialise it");
	}
	if (r < 0) {
		berth_client_free(c);
		return -1;
	}
	*out = c;
	return 0;
}

void berth_client_free(berth_client *c)
{
	if (c == NULL)
		return;
	if (c->curl)
		curl_easy_cleanup(c->curl);
	free(c->host);
	free(c->unix_path);
	free(c->base_url);
	free(c->tls_ca);
	free(c->tls_cert);
	free(c->tls_key);
	berth_strv_free(c->headers);
	free(c);
}

void berth_client_set_version(berth_client *c, const char *version)
{
	snprintf(c->version, sizeof(c->version), "%s", version);
	c->version_fixed = true;
}

/*
 * Requests go out at berth's API version without a ping first (a round trip
 * less for every command). A daemon older than that answers 400 "client
 * version 1.47 is too new. Maximum supported API version is 1.41": the
 * first such answer sets the version to the daemon's and the request is
 * sent again, as the docker CLI's negotiation would have chosen.
 */
static bool downgrade(berth_client *c, long status, const berth_buf *body)
{
	static const char marker[] = "Maximum supported API version is ";
	if (c->version_fixed)
		return false;
	const char *m = status == 400 && body->len
		? memmem(body->data, body->len, marker, sizeof(marker) - 1) : NULL;
	if (m == NULL) {
		c->version_fixed = true; /* the daemon took ours: negotiation would keep it */
		return false;
	}
	m += sizeof(marker) - 1;
	size_t n = 0, end = body->len - (size_t)(m - body->data);
	while (n < end && n < sizeof(c->version) - 1 && (isdigit((unsigned char)m[n]) || m[n] == '.'))
		n++;
	if (n == 0)
		return false;
	char v[16];
	snprintf(v, sizeof(v), "%.*s", (int)n, m);
	berth_client_set_version(c, v);
	return true;
}

const char *berth_client_version(berth_client *c)
{
	if (!c->version_fixed) {
		/* nothing answered yet: a ping tells the daemon's; one that cannot
		 * be reached leaves ours, and the next request says why */
		berth_error *err cleanup_error = NULL;
		berth_client_ping(c, &err);
	}
	return c->version;
}

void berth_client_response_reset(berth_client_response *resp)
{
	berth_buf_reset(&resp->body);
	free(resp->content_type);
	resp->content_type = NULL;
	resp->status = 0;
}

/* ------------------------------------------------------------- transfers */

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
	transfer *t = userdata;
	size_t n = size * nmemb;
	if (t->cb == NULL) {
		berth_buf_append(t->body, data, n);
		return n;
	}
	long status = 0;
	curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status >= 400) {
		berth_buf_append(&t->errbody, data, n);
		return n;
	}
	if (t->cb(t->userdata, data, n) != 0) {
		t->stopped = true;
		return n == 0 ? 1 : 0; /* anything but n aborts the transfer */
	}
	return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *userdata)
{
	transfer *t = userdata;
	size_t n = size * nmemb;
	static const char name[] = "api-version:";
	if (n > sizeof(name) - 1 && strncasecmp(data, name, sizeof(name) - 1) == 0) {
		const char *v = data + sizeof(name) - 1;
		size_t len = n - (sizeof(name) - 1);
		while (len > 0 && isspace((unsigned char)*v)) {
			v++;
			len--;
		}
		while (len > 0 && isspace((unsigned char)v[len - 1]))
			len--;
		free(t->api_version);
		t->api_version = berth_xstrndup(v, len);
	}
	return n;
}

static void setup_tls(berth_client *c)
{
	if (!c->tls)
		return;
	curl_easy_setopt(c->curl, CURLOPT_SSL_VERIFYPEER, c->tls_verify ? 1L : 0L);
	curl_easy_setopt(c->curl, CURLOPT_SSL_VERIFYHOST, c->tls_verify ? 2L : 0L);
	if (c->tls_ca)
		curl_easy_setopt(c->curl, CURLOPT_CAINFO, c->tls_ca);
	if (c->tls_cert)
		curl_easy_setopt(c->curl, CURLOPT_SSLCERT, c->tls_cert);
	if (c->tls_key)
		curl_easy_setopt(c->curl, CURLOPT_SSLKEY, c->tls_key);
}

static void setup_method(CURL *curl, const char *method, const void *body, size_t len)
{
	if (strcmp(method, "GET") == 0 && body == NULL) {
		curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
		return;
	}
	if (strcmp(method, "HEAD") == 0) {
		curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
		return;
	}
	if (strcmp(method, "POST") != 0)
		curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	if (body != NULL || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0) {
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body ? body : "");
	}
}

/* Docker's wording for a daemon it cannot reach. */
static int transport_error(berth_client *c, CURLcode rc, const char *method, const char *url,
			   const char *detail, berth_error **err)
{
	if (rc == CURLE_COULDNT_CONNECT && c->unix_path && access(c->unix_path, F_OK) == 0 &&
	    access(c->unix_path, R_OK | W_OK) < 0)
		return berth_error_set(err, 500,
				       "permission denied while trying to connect to the Docker "
				       "daemon socket at %s",
				       c->host);
	if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST)
		return berth_error_set(err, 500,
				       "Cannot connect to the Docker daemon at %s. Is the docker "
				       "daemon running?",
				       c->host);
	const char *why = (detail && *detail) ? detail : curl_easy_strerror(rc);
	char m[16];
	snprintf(m, sizeof(m), "%c%s", method[0], method + 1);
	for (char *p = m + 1; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return berth_error_set(err, 500, "error during connect: %s \"%s\": %s", m, url, why);
}

static int perform(berth_client *c, const char *method, const char *path, bool versioned,
		   const char *content_type, const void *body, size_t len, transfer *t,
		   long *status, berth_error **err)
{
	char *url cleanup_free = versioned
		? berth_xasprintf("%s/v%s%s", c->base_url, c->version, path)
		: berth_xasprintf("%s%s", c->base_url, path);
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *headers = curl_slist_append(NULL, "Expect:");
	for (char **h = c->headers; h && *h; h++)
		headers = curl_slist_append(headers, *h);
	if (content_type) {
		char *h cleanup_free = berth_xasprintf("Content-Type: %s", content_type);
		headers = curl_slist_append(headers, h);
	}
	curl_easy_reset(c->curl);
	t->curl = c->curl;
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->curl, CURLOPT_USERAGENT, USER_AGENT);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(c->curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c->curl, CURLOPT_HEADERDATA, t);
	if (c->unix_path)
		curl_easy_setopt(c->curl, CURLOPT_UNIX_SOCKET_PATH, c->unix_path);
	setup_tls(c);
	setup_method(c->curl, method, body, len);

	CURLcode rc = curl_easy_perform(c->curl);
	curl_slist_free_all(headers);
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, status);
	if (rc == CURLE_WRITE_ERROR && t->stopped)
		return 0;
	if (rc != CURLE_OK)
		return transport_error(c, rc, method, url, errbuf, err);
	return 0;
}

static int raw_request(berth_client *c, const char *method, const char *path, bool versioned,
		       const char *content_type, const void *body, size_t len, transfer *t,
		       long *status, berth_error **err);

int berth_client_request(berth_client *c, const char *method, const char *path,
			 const char *content_type, const void *body, size_t len,
			 berth_client_response *resp, berth_error **err)
{
	berth_client_response_reset(resp);
	if (!c->tls) {
		transfer t = {.body = &resp->body};
		int r = raw_request(c, method, path, true, content_type, body, len, &t,
				    &resp->status, err);
		free(t.api_version);
		resp->content_type = t.content_type;
		if (r == 0 && downgrade(c, resp->status, &resp->body))
			return berth_client_request(c, method, path, content_type, body, len, resp,
						    err);
		if (r == 0 && resp->body.data == NULL)
			berth_buf_puts(&resp->body, "");
		return r;
	}
	transfer t = {.body = &resp->body};
	int r = perform(c, method, path, true, content_type, body, len, &t, &resp->status, err);
	free(t.api_version);
	if (r < 0)
		return -1;
	char *ct = NULL;
	curl_easy_getinfo(c->curl, CURLINFO_CONTENT_TYPE, &ct);
	resp->content_type = xstrdup_or_null(ct);
	if (downgrade(c, resp->status, &resp->body))
		return berth_client_request(c, method, path, content_type, body, len, resp, err);
	if (resp->body.data == NULL)
		berth_buf_puts(&resp->body, "");
	return 0;
}

/*
 * Streams a 2xx body to cb. An error status (>= 400) never reaches cb: its
 * body is collected and returned as err, with the HTTP status, and *status
 * tells it too.
 */
void berth_client_set_header(berth_client *c, const char *name, const char *value)
{
	size_t n = 0, nl = strlen(name);
	for (size_t i = 0; c->headers && c->headers[i]; i++) {
		if (strncasecmp(c->headers[i], name, nl) == 0 && c->headers[i][nl] == ':')
			free(c->headers[i]);
		else
			c->headers[n++] = c->headers[i];
	}
	c->headers = berth_xrealloc(c->headers, (n + 2) * sizeof(*c->headers));
	if (value)
		c->headers[n++] = berth_xasprintf("%s: %s", name, value);
	c->headers[n] = NULL;
}

int berth_client_stream(berth_client *c, const char *method, const char *path,
			const char *content_type, const void *body, size_t len, long *status,
			berth_client_chunk_cb cb, void *userdata, berth_error **err)
{
	transfer t = {.cb = cb, .userdata = userdata};
	long st = 0;
	int r = c->tls ? perform(c, method, path, true, content_type, body, len, &t, &st, err)
		       : raw_request(c, method, path, true, content_type, body, len, &t, &st, err);
	free(t.api_version);
	free(t.content_type);
	if (r == 0 && downgrade(c, st, &t.errbody)) {
		berth_buf_reset(&t.errbody);
		return berth_client_stream(c, method, path, content_type, body, len, status, cb,
					   userdata, err);
	}
	if (status)
		*status = st;
	if (r == 0 && st >= 400) {
		berth_client_response resp = {.status = st, .body = t.errbody};
		char *msg cleanup_free = berth_client_error_message(&resp);
		berth_error_set(err, (int)st, "%s", msg);
		r = -1;
	}
	berth_buf_reset(&t.errbody);
	return r;
}

int berth_client_ping(berth_client *c, berth_error **err)
{
	berth_buf body cleanup_buf = {0};
	transfer t = {.body = &body};
	long status = 0;
	int r = c->tls ? perform(c, "GET", "/_ping", false, NULL, NULL, 0, &t, &status, err)
		       : raw_request(c, "GET", "/_ping", false, NULL, NULL, 0, &t, &status, err);
	free(t.content_type);
	if (r < 0) {
		free(t.api_version);
		return -1;
	}
	if (t.api_version && *t.api_version && berth_version_compare(t.api_version, c->version) < 0)
		berth_client_set_version(c, t.api_version);
	c->version_fixed = true;
	free(t.api_version);
	return 0;
}

/* ---------------------------------------------------------------- errors */

static const char *status_text(long status)
{
	static const struct {
		long code;
		const char *text;
	} texts[] = {
		{400, "Bad Request"},	{401, "Unauthorized"},	       {403, "Forbidden"},
		{404, "Not Found"},	{405, "Method Not Allowed"},   {409, "Conflict"},
		{500, "Internal Server Error"}, {501, "Not Implemented"}, {503, "Service Unavailable"},
	};
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(texts); i++)
		if (texts[i].code == status)
			return texts[i].text;
	return "Error";
}

char *berth_client_error_message(const berth_client_response *resp)
{
	const char *data = resp->body.data ? resp->body.data : "";
	size_t len = resp->body.len;
	json_t *j cleanup_json = json_loadb(data, len, JSON_DECODE_ANY, NULL);
	const char *msg = berth_json_string(j, "message");
	if (msg)
		return berth_xstrdup(msg);
	while (len > 0 && isspace((unsigned char)data[len - 1]))
		len--;
	if (len == 0)
		return berth_xasprintf("request returned %s for API route and version, check if "
				       "the server supports the requested API version",
				       status_text(resp->status));
	return berth_xstrndup(data, len);
}

/* ------------------------------------------------------- raw connections */

/*
 * Requests on a connection of their own, outside libcurl: hijacked streams
 * (attach, exec start: the socket becomes the container's stdio after the
 * 101 answer) and requests whose answer comes much later (wait), which run
 * alongside the others of one command.
 */

struct berth_client_call {
	int fd;
	berth_buf pending; /* bytes read past the response head */
	long status;
	long content_length; /* -1: none given */
	bool chunked;
	bool head_only; /* a HEAD request: no body follows */
	char *content_type;
	char *api_version;
};

/* "http://host:port" of base_url: a TCP connection to it. */
static int raw_connect_tcp(berth_client *c, int *fd, berth_error **err)
{
	const char *authority = strstr(c->base_url, "://") + 3;
	const char *colon = strrchr(authority, ':');
	char *host = berth_xstrndup(authority, (size_t)(colon - authority));
	if (host[0] == '[') {
		memmove(host, host + 1, strlen(host));
		host[strcspn(host, "]")] = '\0';
	}
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
	int rc = getaddrinfo(host, colon + 1, &hints, &res);
	free(host);
	if (rc != 0)
		return berth_error_set(err, 500,
				       "Cannot connect to the Docker daemon at %s. Is the docker daemon "
				       "running?",
				       c->host);
	int s = -1;
	for (struct addrinfo *ai = res; ai && s < 0; ai = ai->ai_next) {
		s = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (s >= 0 && connect(s, ai->ai_addr, ai->ai_addrlen) < 0) {
			close(s);
			s = -1;
		}
	}
	freeaddrinfo(res);
	if (s < 0)
		return berth_error_set(err, 500,
				       "Cannot connect to the Docker daemon at %s. Is the docker daemon "
				       "running?",
				       c->host);
	*fd = s;
	return 0;
}

static int raw_connect(berth_client *c, int *fd, berth_error **err)
{
	if (c->tls)
		return berth_error_set(err, 501,
				       "attach and exec over TLS (%s) are not supported yet by berth",
				       c->host);
	if (c->unix_path == NULL)
		return raw_connect_tcp(c, fd, err);
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	if (strlen(c->unix_path) >= sizeof(addr.sun_path))
		return berth_error_set(err, 400, "socket path too long: %s", c->unix_path);
	strcpy(addr.sun_path, c->unix_path);
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return berth_error_set_errno(err, errno, "socket");
	if (connect(s, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int e = errno;
		close(s);
		if (e == EACCES)
			return berth_error_set(err, 500,
					       "permission denied while trying to connect to the Docker "
					       "daemon socket at %s",
					       c->host);
		return berth_error_set(err, 500,
				       "Cannot connect to the Docker daemon at %s. Is the docker daemon "
				       "running?",
				       c->host);
	}
	*fd = s;
	return 0;
}

static int raw_send(berth_client *c, int fd, const char *method, const char *path,
		    bool versioned, const char *content_type, const void *body, size_t len,
		    bool upgrade, berth_error **err)
{
	berth_buf req cleanup_buf = {0};
	berth_buf_printf(&req, "%s %s%s%s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\n", method,
			 versioned ? "/v" : "", versioned ? c->version : "", path,
			 c->unix_path ? "api.moby.localhost" : strstr(c->base_url, "://") + 3,
			 USER_AGENT);
	if (content_type)
		berth_buf_printf(&req, "Content-Type: %s\r\n", content_type);
	for (char **h = c->headers; h && *h; h++)
		berth_buf_printf(&req, "%s\r\n", *h);
	berth_buf_printf(&req, "Content-Length: %zu\r\n", body ? len : 0);
	berth_buf_puts(&req, upgrade ? "Connection: Upgrade\r\nUpgrade: tcp\r\n"
				     : "Connection: close\r\n");
	berth_buf_puts(&req, "\r\n");
	/* the body as it is: an image or a build context may be large */
	if (berth_write_all(fd, req.data, req.len) < 0 ||
	    (body && len && berth_write_all(fd, body, len) < 0))
		return berth_error_set_errno(err, errno, "error during connect: %s %s", method, path);
	return 0;
}

/* Reads more of the connection into b; 0 at EOF. */
static ssize_t raw_fill(int fd, berth_buf *b)
{
	char chunk[16384];
	ssize_t n;
	do
		n = read(fd, chunk, sizeof(chunk));
	while (n < 0 && errno == EINTR);
	if (n > 0)
		berth_buf_append(b, chunk, (size_t)n);
	return n;
}

static const char *header_value(const char *head, const char *name, size_t *len)
{
	size_t nlen = strlen(name);
	for (const char *line = strstr(head, "\r\n"); line; line = strstr(line, "\r\n")) {
		line += 2;
		if (strncasecmp(line, name, nlen) == 0 && line[nlen] == ':') {
			const char *v = line + nlen + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			*len = strcspn(v, "\r\n");
			while (*len > 0 && (v[*len - 1] == ' ' || v[*len - 1] == '\t'))
				(*len)--;
			return v;
		}
	}
	return NULL;
}

/* Reads the status line and the headers; what follows stays in pending. */
static int raw_read_head(berth_client_call *call, berth_error **err)
{
	char *end;
	while ((end = call->pending.data ? strstr(call->pending.data, "\r\n\r\n") : NULL) == NULL) {
		ssize_t n = raw_fill(call->fd, &call->pending);
		if (n <= 0)
			return berth_error_set(err, 500,
					       "error during connect: the daemon closed the connection "
					       "before answering");
	}
	size_t head_len = (size_t)(end - call->pending.data) + 4;
	char *head cleanup_free = berth_xstrndup(call->pending.data, head_len);
	berth_buf_consume(&call->pending, head_len);
	if (sscanf(head, "HTTP/%*d.%*d %ld", &call->status) != 1)
		return berth_error_set(err, 500, "error during connect: malformed response");
	size_t len;
	const char *v = header_value(head, "Content-Length", &len);
	call->content_length = v ? strtol(v, NULL, 10) : -1;
	v = header_value(head, "Transfer-Encoding", &len);
	call->chunked = v && len == 7 && strncasecmp(v, "chunked", 7) == 0;
	v = header_value(head, "Content-Type", &len);
	call->content_type = v ? berth_xstrndup(v, len) : NULL;
	v = header_value(head, "Api-Version", &len);
	call->api_version = v ? berth_xstrndup(v, len) : NULL;
	if (call->status == 204 || call->status == 304 || call->head_only) {
		call->chunked = false;
		call->content_length = 0;
	}
	return 0;
}

/* Decodes as much of a chunked body as pending holds; true once complete. */
static bool dechunk(berth_buf *pending, berth_buf *out)
{
	for (;;) {
		char *nl = pending->len ? memmem(pending->data, pending->len, "\r\n", 2) : NULL;
		if (nl == NULL)
			return false;
		unsigned long size = strtoul(pending->data, NULL, 16);
		size_t line = (size_t)(nl - pending->data) + 2;
		if (size == 0)
			return true; /* trailers are of no interest */
		if (pending->len < line + size + 2)
			return false;
		berth_buf_append(out, pending->data + line, size);
		berth_buf_consume(pending, line + size + 2);
	}
}

static int raw_read_body(berth_client_call *call, berth_buf *out, berth_error **err)
{
	for (;;) {
		if (call->chunked) {
			if (dechunk(&call->pending, out))
				return 0;
		} else if (call->content_length >= 0 &&
			   call->pending.len >= (size_t)call->content_length) {
			berth_buf_append(out, call->pending.data, (size_t)call->content_length);
			return 0;
		}
		ssize_t n = raw_fill(call->fd, &call->pending);
		if (n < 0)
			return berth_error_set_errno(err, errno, "error reading the daemon's answer");
		if (n == 0)
			break;
	}
	if (call->chunked || call->content_length > (long)call->pending.len)
		return berth_error_set(err, 500, "unexpected EOF from the daemon");
	berth_buf_append(out, call->pending.data ? call->pending.data : "", call->pending.len);
	return 0;
}

static int raw_error(berth_client_call *call, berth_error **err)
{
	berth_client_response resp = {.status = call->status};
	berth_error *e cleanup_error = NULL;
	raw_read_body(call, &resp.body, &e);
	char *msg cleanup_free = berth_client_error_message(&resp);
	berth_buf_reset(&resp.body);
	return berth_error_set(err, (int)call->status, "%s", msg);
}

int berth_client_call_fd(const berth_client_call *call)
{
	return call->fd;
}

void berth_client_call_free(berth_client_call *call)
{
	if (call == NULL)
		return;
	if (call->fd >= 0)
		close(call->fd);
	berth_buf_reset(&call->pending);
	free(call->content_type);
	free(call->api_version);
	free(call);
}

static int raw_open(berth_client *c, const char *method, const char *path,
		    const char *content_type, const void *body, size_t len, bool upgrade,
		    berth_client_call **out, berth_error **err)
{
	berth_client_call *call = berth_xcalloc(1, sizeof(*call));
	call->fd = -1;
	if (raw_connect(c, &call->fd, err) < 0 ||
	    raw_send(c, call->fd, method, path, true, content_type, body, len, upgrade, err) < 0) {
		berth_client_call_free(call);
		return -1;
	}
	*out = call;
	return 0;
}

int berth_client_call_send(berth_client *c, const char *method, const char *path,
			   const char *content_type, const void *body, size_t len,
			   berth_client_call **out, berth_error **err)
{
	return raw_open(c, method, path, content_type, body, len, false, out, err);
}

int berth_client_call_finish(berth_client_call *call, berth_client_response *resp,
			     berth_error **err)
{
	berth_client_response_reset(resp);
	if (raw_read_head(call, err) < 0)
		return -1;
	resp->status = call->status;
	resp->content_type = call->content_type ? berth_xstrdup(call->content_type) : NULL;
	if (raw_read_body(call, &resp->body, err) < 0)
		return -1;
	if (resp->body.data == NULL)
		berth_buf_puts(&resp->body, "");
	return 0;
}

int berth_client_hijack(berth_client *c, const char *method, const char *path,
			const char *content_type, const void *body, size_t len, int *fd,
			berth_buf *pending, berth_error **err)
{
	berth_client_call *call = NULL;
	if (raw_open(c, method, path, content_type, body, len, true, &call, err) < 0)
		return -1;
	int r = raw_read_head(call, err);
	if (r == 0 && call->status != 101 && call->status != 200)
		r = call->status >= 400 ? raw_error(call, err)
					: berth_error_set(err, 500, "unexpected answer %ld to %s %s",
							  call->status, method, path);
	if (r == 0) {
		*fd = berth_steal_fd(&call->fd);
		berth_buf_append(pending, call->pending.data ? call->pending.data : "",
				 call->pending.len);
	}
	berth_client_call_free(call);
	return r;
}

/* A 2xx body as it comes: decoded chunks (or raw bytes) handed to t->cb. */
static int raw_stream_body(berth_client_call *call, transfer *t, berth_error **err)
{
	berth_buf piece cleanup_buf = {0};
	long left = call->content_length;
	for (;;) {
		bool done = false;
		if (call->chunked) {
			done = dechunk(&call->pending, &piece);
		} else {
			size_t take = call->pending.len;
			if (left >= 0 && (size_t)left < take)
				take = (size_t)left;
			berth_buf_append(&piece, call->pending.data ? call->pending.data : "", take);
			berth_buf_consume(&call->pending, take);
			if (left >= 0)
				left -= (long)take;
			done = left == 0;
		}
		if (piece.len && t->cb(t->userdata, piece.data, piece.len) != 0) {
			t->stopped = true;
			return 0;
		}
		berth_buf_consume(&piece, piece.len);
		if (done)
			return 0;
		ssize_t n = raw_fill(call->fd, &call->pending);
		if (n < 0)
			return berth_error_set_errno(err, errno, "error reading the daemon's answer");
		if (n == 0)
			return call->chunked || left > 0
				       ? berth_error_set(err, 500, "unexpected EOF from the daemon")
				       : 0;
	}
}

/* One request on a connection of its own: the body into t->body, or to
 * t->cb for a 2xx answer (an error answer is kept in t->errbody). */
static int raw_request(berth_client *c, const char *method, const char *path, bool versioned,
		       const char *content_type, const void *body, size_t len, transfer *t,
		       long *status, berth_error **err)
{
	berth_client_call *call = berth_xcalloc(1, sizeof(*call));
	call->fd = -1;
	call->head_only = strcmp(method, "HEAD") == 0;
	int r = raw_connect(c, &call->fd, err);
	if (r == 0)
		r = raw_send(c, call->fd, method, path, versioned, content_type, body, len, false,
			     err);
	if (r == 0)
		r = raw_read_head(call, err);
	if (r == 0) {
		*status = call->status;
		t->api_version = berth_steal_ptr(&call->api_version);
		t->content_type = berth_steal_ptr(&call->content_type);
		if (t->cb && call->status < 400)
			r = raw_stream_body(call, t, err);
		else
			r = raw_read_body(call, t->cb ? &t->errbody : t->body, err);
	}
	berth_client_call_free(call);
	return r;
}
