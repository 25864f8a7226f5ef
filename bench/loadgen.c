/*
 * loadgen: the load generator and process helper of `make bench`.
 *
 * Speaks HTTP/1.1 over a UNIX socket, the way Docker clients talk to an engine.
 *
 *   loadgen run    -s SOCK [-t THREADS] [-d SECONDS | -n COUNT] [-m METHOD] PATH
 *       THREADS threads (default 4), each with one keep-alive connection, send requests back
 *       to back for SECONDS (default 3) or until COUNT requests were answered in total.
 *       Responses are parsed fully (Content-Length, chunked, or until close). Prints one line:
 *       requests=N errors=N non2xx=N reconnects=N seconds=S rps=R p50_ms=L p99_ms=L max_ms=L
 *       where requests counts 2xx answers completed inside the time window and the latencies
 *       (request written to response read) are over those answers.
 *
 *   loadgen status -s SOCK [-m METHOD] [-b BODY | -f FILE] [-T TYPE] [-w SECONDS] PATH
 *       One request; prints the status code (000 when nothing answered) and, on a second line,
 *       the first 200 bytes of the body on one line.
 *
 *   loadgen get -s SOCK [-m METHOD] [-b BODY | -f FILE] [-T TYPE] [-w SECONDS] [-c] PATH
 *       One request; prints the body (with -c only its length in bytes, the body being
 *       discarded as it arrives); exit status 0 only for a 2xx answer. With -b (a string,
 *       Content-Type application/json) or -f (a file, Content-Type application/x-tar) the
 *       request carries that body; -T sets another Content-Type; -w is the I/O timeout
 *       (default 10 s).
 *
 *   loadgen churn -s SOCK [-t THREADS] -n COUNT -b CREATE_JSON [-k]
 *       THREADS clients (default 4, one keep-alive connection each) create COUNT containers in
 *       total with POST /containers/create (body CREATE_JSON), and for each: start, stop, and
 *       DELETE. With -k only create and start (the containers stay running). Prints one line:
 *       containers=N errors=N seconds=S rate=R (containers completed per second); the first
 *       failure is described on stderr.
 *
 *   loadgen rmall -s SOCK [-t THREADS] LIST_PATH
 *       GET LIST_PATH (a /containers/json query), then DELETE ?force=1&v=1 every container it
 *       names, THREADS at a time. Prints removed=N errors=N.
 *
 *   loadgen rand SEED BYTES
 *       Writes BYTES pseudo-random bytes (splitmix64 from SEED) to stdout: reproducible,
 *       incompressible file content for the generated images.
 *
 *   loadgen spawn -s SOCK -o FILE [-N] [-w SECONDS] -- COMMAND [ARGS...]
 *       Starts COMMAND (optionally in a new network namespace with lo up: -N), polls
 *       connect + GET /_ping on SOCK every millisecond, and writes "pid=P ms=M" to FILE
 *       (atomically) once the first 200 arrives: M is the time from just before execve to
 *       that answer. On failure it writes "pid=P ms=-1 error=...". It then stays COMMAND's
 *       parent: it forwards SIGTERM/SIGINT/SIGHUP to it as SIGTERM, reaps it, and exits with
 *       its status. If loadgen dies, COMMAND gets SIGTERM (PR_SET_PDEATHSIG).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BUF_SIZE (64 * 1024)
#define IO_TIMEOUT_S 10

static const char *g_sock;
static const char *g_method = "GET";
static const char *g_path = "/_ping";

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("loadgen: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

/* ---------- connection and HTTP/1.1 response parsing ---------- */

struct conn {
	int fd;
	size_t off, len;
	char buf[BUF_SIZE];
};

/* Sink for body bytes: NULL discards. */
typedef void (*body_sink)(void *arg, const char *p, size_t n);

struct response {
	int status;
	bool close; /* the connection cannot be reused */
};

static int conn_open(struct conn *c, int timeout_s)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(g_sock) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sa.sun_path, g_sock);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct timeval tv = {.tv_sec = timeout_s};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	c->fd = fd;
	c->off = c->len = 0;
	return 0;
}

static void conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->off = c->len = 0;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads more bytes into the buffer. Returns bytes read, 0 on EOF, -1 on error. */
static ssize_t conn_fill(struct conn *c)
{
	if (c->off > 0 && c->off == c->len)
		c->off = c->len = 0;
	if (c->len == sizeof(c->buf)) {
		if (c->off == 0)
			return -1; /* a line longer than the buffer */
		memmove(c->buf, c->buf + c->off, c->len - c->off);
		c->len -= c->off;
		c->off = 0;
	}
	for (;;) {
		ssize_t r = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r > 0)
			c->len += (size_t)r;
		return r;
	}
}

/* Returns the next line (CRLF or LF stripped, NUL-terminated in place), NULL on error/EOF. */
static char *conn_line(struct conn *c)
{
	size_t scanned = 0;
	for (;;) {
		char *start = c->buf + c->off;
		char *nl = memchr(start + scanned, '\n', c->len - c->off - scanned);
		if (nl) {
			size_t n = (size_t)(nl - start);
			c->off += n + 1;
			if (n > 0 && start[n - 1] == '\r')
				n--;
			start[n] = '\0';
			return start;
		}
		scanned = c->len - c->off;
		size_t old_off = c->off;
		if (conn_fill(c) <= 0)
			return NULL;
		if (c->off != old_off) /* compacted: offsets moved */
			scanned = 0;
	}
}

/* Consumes n body bytes. Returns 0, or -1 on error/EOF. */
static int conn_body(struct conn *c, uint64_t n, body_sink sink, void *arg)
{
	while (n > 0) {
		if (c->off == c->len && conn_fill(c) <= 0)
			return -1;
		size_t avail = c->len - c->off;
		size_t take = avail < n ? avail : (size_t)n;
		if (sink)
			sink(arg, c->buf + c->off, take);
		c->off += take;
		n -= take;
	}
	return 0;
}

static int conn_body_to_eof(struct conn *c, body_sink sink, void *arg)
{
	for (;;) {
		if (c->off < c->len) {
			if (sink)
				sink(arg, c->buf + c->off, c->len - c->off);
			c->off = c->len;
		}
		ssize_t r = conn_fill(c);
		if (r == 0)
			return 0;
		if (r < 0)
			return -1;
	}
}

static bool has_token(const char *value, const char *token)
{
	size_t tl = strlen(token);
	for (const char *p = value; *p;) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		const char *e = p;
		while (*e && *e != ',')
			e++;
		const char *te = e;
		while (te > p && (te[-1] == ' ' || te[-1] == '\t'))
			te--;
		if ((size_t)(te - p) == tl && strncasecmp(p, token, tl) == 0)
			return true;
		p = e;
	}
	return false;
}

/* Parses one response, body included. Returns 0 or -1 (connection unusable). */
static int read_response(struct conn *c, bool head, struct response *res, body_sink sink,
			 void *arg)
{
	char *line;
	int status;
	for (;;) {
		line = conn_line(c);
		if (!line)
			return -1;
		int minor;
		if (sscanf(line, "HTTP/1.%d %3d", &minor, &status) != 2 || status < 100 ||
		    status > 999)
			return -1;
		res->close = (minor == 0);
		bool chunked = false, have_len = false;
		uint64_t len = 0;
		while ((line = conn_line(c)) && *line) {
			char *colon = strchr(line, ':');
			if (!colon)
				return -1;
			*colon = '\0';
			char *v = colon + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			if (strcasecmp(line, "Content-Length") == 0) {
				char *end;
				errno = 0;
				unsigned long long l = strtoull(v, &end, 10);
				if (errno || end == v)
					return -1;
				len = l;
				have_len = true;
			} else if (strcasecmp(line, "Transfer-Encoding") == 0) {
				chunked = has_token(v, "chunked");
			} else if (strcasecmp(line, "Connection") == 0) {
				if (has_token(v, "close"))
					res->close = true;
				else if (has_token(v, "keep-alive"))
					res->close = false;
			}
		}
		if (!line)
			return -1;
		if (status >= 100 && status < 200 && status != 101)
			continue; /* interim response: the real one follows */
		res->status = status;
		if (head || status == 204 || status == 304 || status == 101)
			return 0;
		if (chunked) {
			for (;;) {
				line = conn_line(c);
				if (!line)
					return -1;
				char *end;
				errno = 0;
				unsigned long long n = strtoull(line, &end, 16);
				if (errno || end == line || (*end && *end != ';' && *end != ' '))
					return -1;
				if (n == 0)
					break;
				if (conn_body(c, n, sink, arg) < 0)
					return -1;
				line = conn_line(c);
				if (!line || *line)
					return -1;
			}
			while ((line = conn_line(c)) && *line)
				; /* trailers */
			return line ? 0 : -1;
		}
		if (have_len)
			return conn_body(c, len, sink, arg);
		res->close = true;
		return conn_body_to_eof(c, sink, arg);
	}
}

/* One request: method, path, and an optional body (a string or a file). */
struct req {
	const char *method;
	const char *path;
	const char *body; /* in memory, or NULL */
	size_t body_len;
	const char *body_file; /* or a file, or NULL */
	const char *ctype;
};

static const char *g_body;
static const char *g_body_file;
static const char *g_ctype;
static int g_timeout_s = IO_TIMEOUT_S;

static int build_head(char *buf, size_t size, const struct req *r, uint64_t body_len)
{
	int n;
	if (r->body || r->body_file)
		n = snprintf(buf, size,
			     "%s %s HTTP/1.1\r\nHost: localhost\r\nUser-Agent: berth-bench-loadgen\r\n"
			     "Content-Type: %s\r\nContent-Length: %" PRIu64 "\r\n\r\n",
			     r->method, r->path, r->ctype, body_len);
	else
		n = snprintf(buf, size,
			     "%s %s HTTP/1.1\r\nHost: localhost\r\nUser-Agent: berth-bench-loadgen\r\n\r\n",
			     r->method, r->path);
	if (n < 0 || (size_t)n >= size)
		die("request too long");
	return n;
}

/* Writes the request, body included. Returns 0, or -1 on an I/O error. */
static int send_request(struct conn *c, const struct req *r)
{
	char head[4096];
	if (r->body_file) {
		int fd = open(r->body_file, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			die("cannot open %s: %s", r->body_file, strerror(errno));
		off_t size = lseek(fd, 0, SEEK_END);
		if (size < 0 || lseek(fd, 0, SEEK_SET) < 0)
			die("cannot seek %s: %s", r->body_file, strerror(errno));
		int n = build_head(head, sizeof(head), r, (uint64_t)size);
		int rc = write_all(c->fd, head, (size_t)n);
		char *buf = rc == 0 ? malloc(1 << 20) : NULL;
		if (rc == 0 && !buf)
			die("out of memory");
		while (rc == 0) {
			ssize_t got = read(fd, buf, 1 << 20);
			if (got < 0 && errno == EINTR)
				continue;
			if (got < 0)
				die("cannot read %s: %s", r->body_file, strerror(errno));
			if (got == 0)
				break;
			rc = write_all(c->fd, buf, (size_t)got);
		}
		free(buf);
		close(fd);
		return rc;
	}
	int n = build_head(head, sizeof(head), r, r->body_len);
	if (write_all(c->fd, head, (size_t)n) < 0)
		return -1;
	if (r->body && r->body_len > 0)
		return write_all(c->fd, r->body, r->body_len);
	return 0;
}

static struct req make_req(const char *method, const char *path)
{
	struct req r = {.method = method, .path = path};
	if (g_body) {
		r.body = g_body;
		r.body_len = strlen(g_body);
		r.ctype = g_ctype ? g_ctype : "application/json";
	} else if (g_body_file) {
		r.body_file = g_body_file;
		r.ctype = g_ctype ? g_ctype : "application/x-tar";
	}
	return r;
}

/* ---------- run: the load ---------- */

struct worker {
	pthread_t tid;
	uint64_t ok, errors, non2xx, reconnects;
	double *lat; /* ms, one per counted answer */
	size_t nlat, caplat;
};

static int g_threads = 4;
static double g_seconds = 3;
static long long g_count = -1; /* total request budget when >= 0 */
static atomic_llong g_remaining;
static double g_deadline;
static pthread_barrier_t g_barrier;
static struct req g_req;

static void lat_add(struct worker *w, double ms)
{
	if (w->nlat == w->caplat) {
		w->caplat = w->caplat ? w->caplat * 2 : 4096;
		w->lat = realloc(w->lat, w->caplat * sizeof(*w->lat));
		if (!w->lat)
			die("out of memory");
	}
	w->lat[w->nlat++] = ms;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct conn *c = malloc(sizeof(*c));
	if (!c)
		die("out of memory");
	c->fd = -1;
	bool head = strcasecmp(g_req.method, "HEAD") == 0;
	int consecutive_errors = 0;

	if (conn_open(c, g_timeout_s) < 0) {
		c->fd = -1;
		w->errors++;
	}
	pthread_barrier_wait(&g_barrier); /* all connected */
	pthread_barrier_wait(&g_barrier); /* main set the deadline */

	for (;;) {
		if (g_count >= 0) {
			if (atomic_fetch_sub(&g_remaining, 1) <= 0)
				break;
		} else if (now_s() >= g_deadline) {
			break;
		}
		if (c->fd < 0) {
			if (conn_open(c, g_timeout_s) < 0) {
				c->fd = -1;
				goto error;
			}
			w->reconnects++;
		}
		double t0 = now_s();
		if (send_request(c, &g_req) < 0)
			goto error;
		struct response res = {0};
		if (read_response(c, head, &res, NULL, NULL) < 0)
			goto error;
		double t1 = now_s();
		if (g_count < 0 && t1 > g_deadline)
			break; /* answered after the window: not counted */
		if (res.status >= 200 && res.status < 300) {
			w->ok++;
			lat_add(w, (t1 - t0) * 1000.0);
		} else {
			w->non2xx++;
		}
		consecutive_errors = 0;
		if (res.close)
			conn_close(c);
		continue;
error:
		w->errors++;
		conn_close(c);
		if (++consecutive_errors > 100)
			break; /* the server is gone: stop hammering */
		usleep(1000);
	}
	conn_close(c);
	free(c);
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double percentile(const double *v, size_t n, double p)
{
	if (n == 0)
		return 0;
	size_t i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
	return v[i < n ? i : n - 1];
}

static int cmd_run(void)
{
	g_req = make_req(g_method, g_path);
	struct worker *w = calloc((size_t)g_threads, sizeof(*w));
	if (!w)
		die("out of memory");
	atomic_store(&g_remaining, g_count);
	pthread_barrier_init(&g_barrier, NULL, (unsigned)g_threads + 1);
	for (int i = 0; i < g_threads; i++)
		if (pthread_create(&w[i].tid, NULL, worker_main, &w[i]) != 0)
			die("pthread_create failed");
	pthread_barrier_wait(&g_barrier);
	double t0 = now_s();
	g_deadline = t0 + g_seconds;
	pthread_barrier_wait(&g_barrier);
	uint64_t ok = 0, errors = 0, non2xx = 0, reconnects = 0;
	size_t nlat = 0;
	for (int i = 0; i < g_threads; i++) {
		pthread_join(w[i].tid, NULL);
		ok += w[i].ok;
		errors += w[i].errors;
		non2xx += w[i].non2xx;
		reconnects += w[i].reconnects;
		nlat += w[i].nlat;
	}
	double *lat = malloc((nlat ? nlat : 1) * sizeof(*lat));
	if (!lat)
		die("out of memory");
	size_t k = 0;
	for (int i = 0; i < g_threads; i++) {
		if (w[i].nlat)
			memcpy(lat + k, w[i].lat, w[i].nlat * sizeof(*lat));
		k += w[i].nlat;
		free(w[i].lat);
	}
	qsort(lat, nlat, sizeof(*lat), cmp_double);
	double elapsed = g_count >= 0 ? now_s() - t0 : g_seconds;
	printf("requests=%" PRIu64 " errors=%" PRIu64 " non2xx=%" PRIu64 " reconnects=%" PRIu64
	       " seconds=%.3f rps=%.1f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f\n",
	       ok, errors, non2xx, reconnects, elapsed, elapsed > 0 ? (double)ok / elapsed : 0.0,
	       percentile(lat, nlat, 50), percentile(lat, nlat, 99),
	       nlat ? lat[nlat - 1] : 0.0);
	free(lat);
	free(w);
	return 0;
}

/* ---------- status / get: one request ---------- */

struct capture {
	char *p;
	size_t len, cap;
};

static void capture_sink(void *arg, const char *p, size_t n)
{
	struct capture *cap = arg;
	if (cap->len + n + 1 > cap->cap) {
		size_t nc = (cap->cap ? cap->cap * 2 : 4096);
		while (nc < cap->len + n + 1)
			nc *= 2;
		char *np = realloc(cap->p, nc);
		if (!np)
			die("out of memory");
		cap->p = np;
		cap->cap = nc;
	}
	memcpy(cap->p + cap->len, p, n);
	cap->len += n;
	cap->p[cap->len] = '\0';
}

/* One request on connection c (opened if closed); returns the status, 0 when nothing
 * answered; the body goes to *cap if given (reset first). */
static int conn_request(struct conn *c, const struct req *r, struct capture *cap, int timeout_s)
{
	if (cap)
		cap->len = 0;
	if (c->fd < 0 && conn_open(c, timeout_s) < 0) {
		c->fd = -1;
		return 0;
	}
	/* A server may answer (an error) before it has read the whole body: read anyway. */
	bool sent = send_request(c, r) == 0;
	struct response res = {0};
	int status = 0;
	if (read_response(c, strcasecmp(r->method, "HEAD") == 0, &res, cap ? capture_sink : NULL,
			  cap) == 0)
		status = res.status;
	if (!sent || status == 0 || res.close)
		conn_close(c);
	return status;
}

/* One request on a fresh connection; returns the status (0 when nothing answered), body in
 * *cap if given. */
static int one_request(struct capture *cap, int timeout_s)
{
	struct req r = make_req(g_method, g_path);
	struct conn *c = malloc(sizeof(*c));
	if (!c)
		die("out of memory");
	c->fd = -1;
	int status = conn_request(c, &r, cap, timeout_s);
	conn_close(c);
	free(c);
	return status;
}

static int cmd_status(void)
{
	struct capture cap = {0};
	int status = one_request(&cap, g_timeout_s);
	printf("%03d\n", status);
	for (size_t i = 0; i < cap.len && i < 200; i++)
		putchar(cap.p[i] == '\n' || cap.p[i] == '\r' ? ' ' : cap.p[i]);
	putchar('\n');
	free(cap.p);
	return 0;
}

static bool g_count_only; /* get -c */

static void count_sink(void *arg, const char *p, size_t n)
{
	(void)p;
	*(uint64_t *)arg += n;
}

static int cmd_get(void)
{
	struct capture cap = {0};
	int status;
	if (g_count_only) {
		struct req r = make_req(g_method, g_path);
		struct conn *c = malloc(sizeof(*c));
		if (!c)
			die("out of memory");
		c->fd = -1;
		uint64_t n = 0;
		status = 0;
		if (conn_open(c, g_timeout_s) == 0 && send_request(c, &r) == 0) {
			struct response res = {0};
			if (read_response(c, false, &res, count_sink, &n) == 0)
				status = res.status;
		}
		conn_close(c);
		free(c);
		printf("%" PRIu64 "\n", n);
	} else {
		status = one_request(&cap, g_timeout_s);
	}
	if (cap.len)
		fwrite(cap.p, 1, cap.len, stdout);
	free(cap.p);
	if (status < 200 || status > 299) {
		fprintf(stderr, "loadgen: %s %s on %s: status %03d\n", g_method, g_path, g_sock,
			status);
		return 1;
	}
	return 0;
}

/* ---------- churn and rmall: container lifecycles from parallel clients ---------- */

static bool g_keep;              /* churn -k: create and start only */
static atomic_int g_failed_once; /* the first failure is described, the others counted */
static char **g_ids;             /* rmall: the IDs to remove */
static atomic_llong g_next;
static long long g_total;

struct cworker {
	pthread_t tid;
	uint64_t done, errors;
	double start_s;            /* churn: time spent in POST start */
};
static double g_start_s;          /* churn: the workers' start_s, summed */

static void describe_failure(const char *what, const char *path, int status,
			     const struct capture *cap)
{
	if (atomic_exchange(&g_failed_once, 1))
		return;
	fprintf(stderr, "loadgen: %s %s: status %03d: %.300s\n", what, path, status,
		cap->len ? cap->p : "");
}

/* Copies the value of the first "Id":"..." in s into id (65 bytes). */
static bool json_id(const char *s, char *id)
{
	const char *p = s ? strstr(s, "\"Id\"") : NULL;
	if (!p)
		return false;
	p += 4;
	while (*p == ' ' || *p == ':')
		p++;
	if (*p++ != '"')
		return false;
	size_t n = strcspn(p, "\"");
	if (n == 0 || n > 64)
		return false;
	memcpy(id, p, n);
	id[n] = '\0';
	return true;
}

static void *churn_main(void *arg)
{
	struct cworker *w = arg;
	struct conn *c = malloc(sizeof(*c));
	if (!c)
		die("out of memory");
	c->fd = -1;
	struct capture cap = {0};
	char path[256], id[65];
	pthread_barrier_wait(&g_barrier);
	while (atomic_fetch_add(&g_next, 1) < g_total) {
		struct req r = {.method = "POST", .path = "/containers/create", .body = g_body,
				.body_len = strlen(g_body), .ctype = "application/json"};
		int st = conn_request(c, &r, &cap, g_timeout_s);
		if (st != 201 || !json_id(cap.p, id)) {
			describe_failure("POST", r.path, st, &cap);
			w->errors++;
			continue;
		}
		const char *steps[][2] = {{"POST", "start"}, {"POST", "stop"}, {"DELETE", ""}};
		int nsteps = g_keep ? 1 : 3;
		bool ok = true;
		for (int i = 0; i < nsteps && ok; i++) {
			snprintf(path, sizeof(path), "/containers/%s%s%s", id, *steps[i][1] ? "/" : "",
				 steps[i][1]);
			struct req s = {.method = steps[i][0], .path = path};
			double t0 = now_s();
			st = conn_request(c, &s, &cap, g_timeout_s);
			if (i == 0)
				w->start_s += now_s() - t0;
			if (st != 204 && !(i == 1 && st == 304)) {
				describe_failure(s.method, path, st, &cap);
				ok = false;
			}
		}
		if (ok)
			w->done++;
		else
			w->errors++;
	}
	free(cap.p);
	conn_close(c);
	free(c);
	return NULL;
}

static void *rmall_main(void *arg)
{
	struct cworker *w = arg;
	struct conn *c = malloc(sizeof(*c));
	if (!c)
		die("out of memory");
	c->fd = -1;
	struct capture cap = {0};
	char path[256];
	pthread_barrier_wait(&g_barrier);
	long long i;
	while ((i = atomic_fetch_add(&g_next, 1)) < g_total) {
		snprintf(path, sizeof(path), "/containers/%s?force=1&v=1", g_ids[i]);
		struct req r = {.method = "DELETE", .path = path};
		int st = conn_request(c, &r, &cap, g_timeout_s);
		if (st == 204 || st == 404) {
			w->done++;
		} else {
			describe_failure("DELETE", path, st, &cap);
			w->errors++;
		}
	}
	free(cap.p);
	conn_close(c);
	free(c);
	return NULL;
}

/* Runs fn on THREADS workers; returns the totals and the elapsed seconds. */
static double run_workers(void *(*fn)(void *), uint64_t *done, uint64_t *errors)
{
	struct cworker *w = calloc((size_t)g_threads, sizeof(*w));
	if (!w)
		die("out of memory");
	pthread_barrier_init(&g_barrier, NULL, (unsigned)g_threads + 1);
	for (int i = 0; i < g_threads; i++)
		if (pthread_create(&w[i].tid, NULL, fn, &w[i]) != 0)
			die("pthread_create failed");
	double t0 = now_s();
	pthread_barrier_wait(&g_barrier);
	*done = *errors = 0;
	for (int i = 0; i < g_threads; i++) {
		pthread_join(w[i].tid, NULL);
		*done += w[i].done;
		*errors += w[i].errors;
		g_start_s += w[i].start_s;
	}
	free(w);
	return now_s() - t0;
}

static int cmd_churn(void)
{
	if (!g_body || g_count < 1)
		die("churn needs -n COUNT and -b CREATE_JSON");
	g_total = g_count;
	uint64_t done, errors;
	double secs = run_workers(churn_main, &done, &errors);
	printf("containers=%" PRIu64 " errors=%" PRIu64 " seconds=%.3f rate=%.2f start_ms=%.3f\n",
	       done, errors, secs, secs > 0 ? (double)done / secs : 0.0,
	       done ? g_start_s * 1000 / (double)done : 0.0);
	return errors ? 1 : 0;
}

static int cmd_rmall(void)
{
	struct capture cap = {0};
	int status = one_request(&cap, g_timeout_s);
	if (status != 200) {
		fprintf(stderr, "loadgen: GET %s: status %03d\n", g_path, status);
		return 1;
	}
	size_t n = 0, capn = 0;
	char id[65];
	for (const char *p = cap.p; p && (p = strstr(p, "\"Id\"")); p += 4) {
		if (!json_id(p, id))
			continue;
		if (n == capn) {
			capn = capn ? capn * 2 : 64;
			g_ids = realloc(g_ids, capn * sizeof(*g_ids));
			if (!g_ids)
				die("out of memory");
		}
		g_ids[n++] = strdup(id);
	}
	free(cap.p);
	g_total = (long long)n;
	uint64_t done = 0, errors = 0;
	if (n > 0)
		run_workers(rmall_main, &done, &errors);
	printf("removed=%" PRIu64 " errors=%" PRIu64 "\n", done, errors);
	for (size_t i = 0; i < n; i++)
		free(g_ids[i]);
	free(g_ids);
	return errors ? 1 : 0;
}

/* ---------- rand: reproducible incompressible bytes ---------- */

static int cmd_rand(const char *seed_s, const char *bytes_s)
{
	uint64_t x = strtoull(seed_s, NULL, 0);
	unsigned long long left = strtoull(bytes_s, NULL, 0);
	static uint64_t buf[8192];
	while (left > 0) {
		for (size_t i = 0; i < sizeof(buf) / sizeof(buf[0]); i++) {
			uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
			z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
			z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
			buf[i] = z ^ (z >> 31);
		}
		size_t n = left < sizeof(buf) ? (size_t)left : sizeof(buf);
		if (fwrite(buf, 1, n, stdout) != n)
			return 1;
		left -= n;
	}
	return fflush(stdout) == 0 ? 0 : 1;
}

/* ---------- spawn: start a daemon, time it to its first /_ping ---------- */

static volatile sig_atomic_t g_child;

static void forward_signal(int sig)
{
	(void)sig;
	if (g_child > 0)
		kill((pid_t)g_child, SIGTERM);
}

static int lo_up(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	int rc = ioctl(fd, SIOCGIFFLAGS, &ifr);
	if (rc == 0) {
		ifr.ifr_flags |= IFF_UP;
		rc = ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	close(fd);
	return rc;
}

static void write_result(const char *out, const char *fmt, ...)
{
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof(tmp), "%s.tmp", out);
	FILE *f = fopen(tmp, "w");
	if (!f)
		die("cannot write %s: %s", tmp, strerror(errno));
	va_list ap;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	if (fclose(f) != 0 || rename(tmp, out) != 0)
		die("cannot write %s: %s", out, strerror(errno));
}

static int cmd_spawn(const char *out, bool netns, double wait_s, char **argv)
{
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0)
		die("pipe: %s", strerror(errno));
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		close(pfd[0]);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(127);
		signal(SIGINT, SIG_DFL);
		signal(SIGQUIT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		char msg[256];
		if (netns && (unshare(CLONE_NEWNET) < 0 || lo_up() < 0)) {
			int n = snprintf(msg, sizeof(msg), "E netns: %s", strerror(errno));
			if (write(pfd[1], msg, (size_t)n) < 0)
				_exit(127);
			_exit(127);
		}
		double t0 = now_s();
		if (write(pfd[1], &t0, sizeof(t0)) != (ssize_t)sizeof(t0))
			_exit(127);
		execvp(argv[0], argv);
		int n = snprintf(msg, sizeof(msg), "E exec %s: %s", argv[0], strerror(errno));
		if (write(pfd[1], msg, (size_t)n) < 0)
			_exit(127);
		_exit(127);
	}
	close(pfd[1]);
	g_child = pid;
	struct sigaction sa = {.sa_handler = forward_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	/* The child sends t0 then, unless exec fails, closes the pipe by exec'ing. */
	char buf[256 + sizeof(double)];
	size_t got = 0;
	for (;;) {
		ssize_t r = read(pfd[0], buf + got, sizeof(buf) - 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(pfd[0]);
	double t0 = 0;
	if (got >= 1 && buf[0] == 'E') {
		buf[got] = '\0';
		write_result(out, "pid=%d ms=-1 error=%s\n", pid, buf + 2);
	} else if (got < sizeof(t0)) {
		write_result(out, "pid=%d ms=-1 error=child-died-before-exec\n", pid);
	} else if (got > sizeof(t0)) {
		buf[got] = '\0';
		write_result(out, "pid=%d ms=-1 error=%s\n", pid, buf + sizeof(t0) + 2);
	} else {
		memcpy(&t0, buf, sizeof(t0));
		const char *err = "timeout";
		for (;;) {
			int status = one_request(NULL, 2);
			if (status == 200) {
				double ms = (now_s() - t0) * 1000.0;
				write_result(out, "pid=%d ms=%.3f\n", pid, ms);
				err = NULL;
				break;
			}
			int ws;
			if (waitpid(pid, &ws, WNOHANG) == pid) {
				write_result(out, "pid=%d ms=-1 error=exited-status-%d\n", pid,
					     WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws));
				return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
			}
			if (now_s() - t0 > wait_s)
				break;
			struct timespec ms1 = {0, 1000000};
			nanosleep(&ms1, NULL);
		}
		if (err)
			write_result(out, "pid=%d ms=-1 error=%s\n", pid, err);
	}
	int ws;
	for (;;) {
		pid_t r = waitpid(pid, &ws, 0);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR)
			return 1;
	}
	return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}

/* ---------- main ---------- */

static void usage(void)
{
	fputs("usage: loadgen run    -s SOCK [-t THREADS] [-d SECONDS | -n COUNT] [-m METHOD] PATH\n"
	      "       loadgen status -s SOCK [-m METHOD] [-b BODY | -f FILE] [-T TYPE] [-w S] PATH\n"
	      "       loadgen get    -s SOCK [-m METHOD] [-b BODY | -f FILE] [-T TYPE] [-w S] [-c] PATH\n"
	      "       loadgen churn  -s SOCK [-t THREADS] -n COUNT -b CREATE_JSON [-k]\n"
	      "       loadgen rmall  -s SOCK [-t THREADS] LIST_PATH\n"
	      "       loadgen spawn  -s SOCK -o FILE [-N] [-w SECONDS] -- COMMAND [ARGS...]\n"
	      "       loadgen rand   SEED BYTES\n",
	      stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	const char *cmd = argv[1];
	if (strcmp(cmd, "rand") == 0) {
		if (argc != 4)
			usage();
		return cmd_rand(argv[2], argv[3]);
	}
	const char *out = NULL;
	bool netns = false;
	double wait_s = -1;
	optind = 2;
	int opt;
	while ((opt = getopt(argc, argv, "+s:t:d:n:m:o:Nw:b:f:T:kch")) != -1) {
		switch (opt) {
		case 's': g_sock = optarg; break;
		case 't': g_threads = atoi(optarg); break;
		case 'd': g_seconds = atof(optarg); break;
		case 'n': g_count = atoll(optarg); break;
		case 'm': g_method = optarg; break;
		case 'o': out = optarg; break;
		case 'N': netns = true; break;
		case 'w': wait_s = atof(optarg); break;
		case 'b': g_body = optarg; break;
		case 'f': g_body_file = optarg; break;
		case 'T': g_ctype = optarg; break;
		case 'k': g_keep = true; break;
		case 'c': g_count_only = true; break;
		default: usage();
		}
	}
	if (!g_sock || (g_body && g_body_file) || (g_ctype && strpbrk(g_ctype, "\r\n")))
		usage();
	if (g_threads < 1 || g_threads > 1024)
		usage();
	if (strcmp(cmd, "spawn") == 0) {
		if (!out || optind >= argc)
			usage();
		return cmd_spawn(out, netns, wait_s < 0 ? 60 : wait_s, argv + optind);
	}
	if (wait_s > 0)
		g_timeout_s = (int)(wait_s + 0.999);
	if (strcmp(cmd, "churn") == 0) {
		if (optind != argc)
			usage();
		if (wait_s <= 0)
			g_timeout_s = 60; /* a stop may take its 10 s timeout, more under load */
		return cmd_churn();
	}
	if (optind < argc)
		g_path = argv[optind++];
	if (optind != argc || g_path[0] != '/' || strpbrk(g_path, " \r\n") ||
	    strpbrk(g_method, " \r\n/"))
		usage();
	if (strcmp(cmd, "run") == 0) {
		if (g_count < 0 && g_seconds <= 0)
			usage();
		return cmd_run();
	}
	if (strcmp(cmd, "rmall") == 0) {
		if (wait_s <= 0)
			g_timeout_s = 60;
		return cmd_rmall();
	}
	if (strcmp(cmd, "status") == 0)
		return cmd_status();
	if (strcmp(cmd, "get") == 0)
		return cmd_get();
	usage();
	return 2;
}
