/*
 * loadgen: the load generator and process helper of `make bench`.
 *
 * Speaks HTTP/1.1 over a UNIX socket, the way Docker clients talk to an engine.
 *
 *   loadgen run    -s SOCK [-t THREADS] [-d SECONDS | -n COUNT] [-m METHOD] PATH
 *       THREADS threads (default 4), each with one keep-alive connection, send requests back
 *       to back for SECONDS (default 3) or until COUNT requests were answered in total.
 *       Responses are parsed fully (Content-Length, chunked, or until close). Prints one line:
 *       requests=N errors=N non2xx=N reconnects=N seconds=S rps=R
 *       where requests counts 2xx answers completed inside the time window.
 *
 *   loadgen status -s SOCK [-m METHOD] PATH
 *       One request; prints the status code (000 when nothing answered) and, on a second line,
 *       the first 200 bytes of the body on one line.
 *
 *   loadgen get -s SOCK [-m METHOD] PATH
 *       One request; prints the body; exit status 0 only for a 2xx answer.
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

static int build_request(char *buf, size_t size)
{
	int n = snprintf(buf, size,
			 "%s %s HTTP/1.1\r\nHost: localhost\r\nUser-Agent: berth-bench-loadgen\r\n\r\n",
			 g_method, g_path);
	if (n < 0 || (size_t)n >= size)
		die("request too long");
	return n;
}

/* ---------- run: the load ---------- */

struct worker {
	pthread_t tid;
	uint64_t ok, errors, non2xx, reconnects;
};

static int g_threads = 4;
static double g_seconds = 3;
static long long g_count = -1; /* total request budget when >= 0 */
static atomic_llong g_remaining;
static double g_deadline;
static pthread_barrier_t g_barrier;
static char g_req[4096];
static size_t g_req_len;

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct conn *c = malloc(sizeof(*c));
	if (!c)
		die("out of memory");
	c->fd = -1;
	bool head = strcasecmp(g_method, "HEAD") == 0;
	int consecutive_errors = 0;

	if (conn_open(c, IO_TIMEOUT_S) < 0) {
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
			if (conn_open(c, IO_TIMEOUT_S) < 0) {
				c->fd = -1;
				goto error;
			}
			w->reconnects++;
		}
		if (write_all(c->fd, g_req, g_req_len) < 0)
			goto error;
		struct response res = {0};
		if (read_response(c, head, &res, NULL, NULL) < 0)
			goto error;
		if (g_count < 0 && now_s() > g_deadline)
			break; /* answered after the window: not counted */
		if (res.status >= 200 && res.status < 300)
			w->ok++;
		else
			w->non2xx++;
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

static int cmd_run(void)
{
	g_req_len = (size_t)build_request(g_req, sizeof(g_req));
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
	for (int i = 0; i < g_threads; i++) {
		pthread_join(w[i].tid, NULL);
		ok += w[i].ok;
		errors += w[i].errors;
		non2xx += w[i].non2xx;
		reconnects += w[i].reconnects;
	}
	double elapsed = g_count >= 0 ? now_s() - t0 : g_seconds;
	printf("requests=%" PRIu64 " errors=%" PRIu64 " non2xx=%" PRIu64 " reconnects=%" PRIu64
	       " seconds=%.3f rps=%.1f\n",
	       ok, errors, non2xx, reconnects, elapsed, elapsed > 0 ? (double)ok / elapsed : 0.0);
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

/* One request; returns the status (0 when nothing answered), body in *cap if given. */
static int one_request(struct capture *cap, int timeout_s)
{
	char req[4096];
	int n = build_request(req, sizeof(req));
	struct conn *c = malloc(sizeof(*c));
	if (!c)
		die("out of memory");
	c->fd = -1;
	int status = 0;
	if (conn_open(c, timeout_s) == 0 && write_all(c->fd, req, (size_t)n) == 0) {
		struct response res = {0};
		if (read_response(c, strcasecmp(g_method, "HEAD") == 0, &res,
				  cap ? capture_sink : NULL, cap) == 0)
			status = res.status;
	}
	conn_close(c);
	free(c);
	return status;
}

static int cmd_status(void)
{
	struct capture cap = {0};
	int status = one_request(&cap, IO_TIMEOUT_S);
	printf("%03d\n", status);
	for (size_t i = 0; i < cap.len && i < 200; i++)
		putchar(cap.p[i] == '\n' || cap.p[i] == '\r' ? ' ' : cap.p[i]);
	putchar('\n');
	free(cap.p);
	return 0;
}

static int cmd_get(void)
{
	struct capture cap = {0};
	int status = one_request(&cap, IO_TIMEOUT_S);
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
	      "       loadgen status -s SOCK [-m METHOD] PATH\n"
	      "       loadgen get    -s SOCK [-m METHOD] PATH\n"
	      "       loadgen spawn  -s SOCK -o FILE [-N] [-w SECONDS] -- COMMAND [ARGS...]\n",
	      stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	const char *cmd = argv[1];
	const char *out = NULL;
	bool netns = false;
	double wait_s = 60;
	optind = 2;
	int opt;
	while ((opt = getopt(argc, argv, "+s:t:d:n:m:o:Nw:h")) != -1) {
		switch (opt) {
		case 's': g_sock = optarg; break;
		case 't': g_threads = atoi(optarg); break;
		case 'd': g_seconds = atof(optarg); break;
		case 'n': g_count = atoll(optarg); break;
		case 'm': g_method = optarg; break;
		case 'o': out = optarg; break;
		case 'N': netns = true; break;
		case 'w': wait_s = atof(optarg); break;
		default: usage();
		}
	}
	if (!g_sock)
		usage();
	if (strcmp(cmd, "spawn") == 0) {
		if (!out || optind >= argc)
			usage();
		return cmd_spawn(out, netns, wait_s, argv + optind);
	}
	if (optind < argc)
		g_path = argv[optind++];
	if (optind != argc || g_path[0] != '/' || strpbrk(g_path, " \r\n") ||
	    strpbrk(g_method, " \r\n/"))
		usage();
	if (strcmp(cmd, "run") == 0) {
		if (g_threads < 1 || g_threads > 1024 || (g_count < 0 && g_seconds <= 0))
			usage();
		return cmd_run();
	}
	if (strcmp(cmd, "status") == 0)
		return cmd_status();
	if (strcmp(cmd, "get") == 0)
		return cmd_get();
	usage();
	return 2;
}
