/*
 * attach.c - the attached stream shared by run, start -a, attach and exec:
 * the hijacked connection copied to and from the terminal (Docker's 8-byte
 * frames without a TTY, raw bytes with one), the terminal in raw mode,
 * detach keys, window size changes and signals forwarded; and `berth attach`.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "container.h"

/* ------------------------------------------------------------------ demux */

void berth_demux_reset(berth_demux *d)
{
	berth_buf_reset(&d->syserr);
	d->have = d->remaining = 0;
}

static int demux_frame_start(berth_demux *d, berth_error **err)
{
	d->stream = d->header[0];
	d->remaining = ((size_t)d->header[4] << 24) | ((size_t)d->header[5] << 16) |
		       ((size_t)d->header[6] << 8) | d->header[7];
	d->have = 0;
	if (d->stream > 3)
		return berth_error_set(err, 500, "Unrecognized input header: %d", d->stream);
	return 0;
}

int berth_demux_feed(berth_demux *d, const char *data, size_t len, berth_demux_cb cb,
		     void *userdata, berth_error **err)
{
	while (len > 0) {
		if (d->remaining == 0) {
			size_t take = 8 - d->have < len ? 8 - d->have : len;
			memcpy(d->header + d->have, data, take);
			d->have += take;
			data += take;
			len -= take;
			if (d->have == 8 && demux_frame_start(d, err) < 0)
				return -1;
			continue;
		}
		size_t take = d->remaining < len ? d->remaining : len;
		if (d->stream == 3) {
			berth_buf_append(&d->syserr, data, take);
		} else if (cb(userdata, d->stream == 2 ? 2 : 1, data, take) != 0) {
			return berth_error_set(err, 500, "the output stream was closed");
		}
		d->remaining -= take;
		data += take;
		len -= take;
		if (d->stream == 3 && d->remaining == 0)
			return berth_error_set(err, 500, "error from daemon in stream: %s",
					       d->syserr.data ? d->syserr.data : "");
	}
	return 0;
}

/* ----------------------------------------------------------- detach keys */

static int escape_key(const char *k, unsigned char *out, berth_error **err)
{
	if (strlen(k) == 1) {
		*out = (unsigned char)k[0];
		return 0;
	}
	if (strncmp(k, "ctrl-", 5) == 0 && strlen(k) == 6) {
		char c = k[5];
		if (c >= 'a' && c <= 'z') {
			*out = (unsigned char)(c - 'a' + 1);
			return 0;
		}
		const char *specials = "@[\\]^_";
		const char *p = strchr(specials, c);
		if (p && c) {
			*out = (unsigned char)(p - specials == 0 ? 0 : 27 + (p - specials - 1));
			return 0;
		}
	}
	return berth_error_set(err, 400, "Unknown character: '%s'", k);
}

int berth_escape_parse(const char *spec, berth_escape *e, berth_error **err)
{
	*e = (berth_escape){.keys = {16, 17}, .nkeys = 2};
	if (spec == NULL || *spec == '\0')
		return 0;
	berth_escape parsed = {0};
	char **keys = berth_str_split(spec, ',');
	int r = 0;
	for (size_t i = 0; keys[i] && r == 0; i++) {
		if (parsed.nkeys == sizeof(parsed.keys))
			r = berth_error_set(err, 400, "too many detach keys");
		else
			r = escape_key(keys[i], &parsed.keys[parsed.nkeys++], err);
	}
	berth_strv_free(keys);
	if (r == 0)
		*e = parsed;
	return r;
}

bool berth_escape_filter(berth_escape *e, const char *in, size_t len, berth_buf *out)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		if (e->nkeys && c == e->keys[e->matched]) {
			if (++e->matched == e->nkeys)
				return true;
			continue;
		}
		/* a broken sequence: what was held back goes through after all */
		berth_buf_append(out, e->keys, e->matched);
		e->matched = 0;
		if (e->nkeys && c == e->keys[0])
			e->matched = 1;
		else
			berth_buf_append(out, &in[i], 1);
	}
	return false;
}

/* ------------------------------------------------------------- terminal */

static struct {
	bool saved[1];
	struct termios state[1];
} term;

static void term_restore(void)
{
	if (term.saved[0]) {
		tcsetattr(STDIN_FILENO, TCSADRAIN, &term.state[0]);
		term.saved[0] = false;
	}
}

/* A signal that ends berth while the terminal is raw (SIGTERM from outside,
 * SIGHUP when the terminal goes, a crash) restores it first, then takes its
 * default action. tcsetattr is async-signal-safe. Signals that --sig-proxy
 * forwards are blocked and never get here. */
static const int fatal_signals[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGABRT, SIGSEGV, SIGBUS};

static void term_restore_and_die(int signo)
{
	if (term.saved[0])
		tcsetattr(STDIN_FILENO, TCSADRAIN, &term.state[0]);
	signal(signo, SIG_DFL);
	raise(signo);
}

static void term_register_restore(void)
{
	atexit(term_restore);
	struct sigaction sa = {.sa_handler = term_restore_and_die, .sa_flags = SA_RESETHAND};
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(fatal_signals); i++) {
		struct sigaction old;
		/* a signal the caller ignores stays ignored */
		if (sigaction(fatal_signals[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
			continue;
		sigaction(fatal_signals[i], &sa, NULL);
	}
}

/* moby/term's SetRawTerminal: stdin in Go's MakeRaw (on Linux the output
 * side is left alone; it is the same terminal anyway). NORAW disables it. */
static void term_make_raw(void)
{
	static bool registered;
	struct termios t;
	if (getenv("NORAW") || !isatty(STDIN_FILENO) || term.saved[0] ||
	    tcgetattr(STDIN_FILENO, &t) < 0)
		return;
	if (!registered) {
		term_register_restore();
		registered = true;
	}
	term.state[0] = t;
	term.saved[0] = true;
	cfmakeraw(&t);
	tcsetattr(STDIN_FILENO, TCSADRAIN, &t);
}

int berth_check_tty(bool attach_stdin, bool tty, berth_error **err)
{
	if (tty && attach_stdin && !isatty(STDIN_FILENO))
		return berth_error_set(err, 400, "the input device is not a TTY");
	return 0;
}

/* --------------------------------------------------------------- signals */

/* What docker forwards that a terminal user sends; SIGWINCH is for resizes. */
static const int proxied[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM};

int berth_signals_open(bool proxy)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGWINCH);
	for (size_t i = 0; proxy && i < BERTH_ARRAY_SIZE(proxied); i++)
		sigaddset(&set, proxied[i]);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

void berth_signals_close(int fd)
{
	if (fd < 0)
		return;
	close(fd);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGWINCH);
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(proxied); i++)
		sigaddset(&set, proxied[i]);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
}

void berth_stream_resize(berth_cli *cli, const char *id, bool is_exec, int delta)
{
	struct winsize ws;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0 || (ws.ws_row == 0 && ws.ws_col == 0))
		return;
	char *path cleanup_free =
		berth_xasprintf("/%s/%s/resize?h=%d&w=%d", is_exec ? "exec" : "containers", id,
				ws.ws_row + delta, ws.ws_col + delta);
	berth_error *err cleanup_error = NULL;
	berth_cli_call(cli, "POST", path, NULL, NULL, &err);
	if (err)
		berth_debug("resize: %s", err->msg);
}

static void forward_signal(berth_stream *s, int signo)
{
	if (signo == SIGWINCH) {
		if (s->resize)
			berth_stream_resize(s->cli, s->id, s->is_exec, 0);
		return;
	}
	if (s->is_exec)
		return;
	char *path cleanup_free = berth_xasprintf("/containers/%s/kill?signal=%d", s->id, signo);
	berth_error *err cleanup_error = NULL;
	berth_cli_call(s->cli, "POST", path, NULL, NULL, &err);
	if (err)
		berth_debug("Error sending signal: %s", err->msg);
}

static void drain_signals(berth_stream *s)
{
	struct signalfd_siginfo si;
	while (read(s->sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		forward_signal(s, (int)si.ssi_signo);
}

/* ---------------------------------------------------------------- stream */

typedef struct copy_state {
	berth_stream *s;
	berth_demux demux;
	berth_escape escape;
	bool escaping;     /* TTY input watched for the detach keys */
	bool in_open;      /* stdin still read */
	bool write_closed; /* the connection half-closed */
	berth_buf to_conn; /* stdin not sent yet: stdin waits while it is not empty */
} copy_state;

int berth_cli_write_stream(FILE *f, const char *data, size_t len)
{
	fflush(f);
	if (berth_write_all(fileno(f), data, len) == 0)
		return 0;
	if (errno == EPIPE) {
		/* what a Go program does: the reader is gone, die of SIGPIPE */
		term_restore();
		signal(SIGPIPE, SIG_DFL);
		raise(SIGPIPE);
	}
	return -1;
}

static int write_stream(void *userdata, int stream, const char *data, size_t len)
{
	berth_stream *s = userdata;
	bool wanted = stream == 2 ? s->err : s->out;
	if (!wanted)
		return 0;
	return berth_cli_write_stream(stream == 2 && !s->tty ? s->cli->err : s->cli->out, data,
				      len);
}

static int on_output(copy_state *c, const char *data, size_t len, berth_error **err)
{
	if (c->s->tty) {
		if (write_stream(c->s, 1, data, len) < 0)
			return berth_error_set_errno(err, errno, "write");
		return 0;
	}
	return berth_demux_feed(&c->demux, data, len, write_stream, c->s, err);
}

/* At stdin's end, once what it gave is sent: the daemon sees EOF. */
static void maybe_half_close(copy_state *c)
{
	if (!c->in_open && c->to_conn.len == 0 && !c->write_closed && c->s->in_fd >= 0) {
		shutdown(c->s->conn, SHUT_WR);
		c->write_closed = true;
	}
}

/* Sends what it can without blocking; a gone reader drops the input. */
static void flush_input(copy_state *c, bool block)
{
	while (c->to_conn.len) {
		ssize_t n = send(c->s->conn, c->to_conn.data, c->to_conn.len,
				 MSG_NOSIGNAL | (block ? 0 : MSG_DONTWAIT));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0) {
			berth_buf_reset(&c->to_conn); /* the output side sees the end */
			c->in_open = false;
			return;
		}
		berth_buf_consume(&c->to_conn, (size_t)n);
	}
	maybe_half_close(c);
}

/* true when the detach keys were typed. */
static bool on_input(copy_state *c)
{
	char chunk[4096];
	ssize_t n = read(c->s->in_fd, chunk, sizeof(chunk));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return false;
	if (n <= 0) {
		c->in_open = false;
		maybe_half_close(c);
		return false;
	}
	if (!c->escaping) {
		berth_buf_append(&c->to_conn, chunk, (size_t)n);
		return false;
	}
	return berth_escape_filter(&c->escape, chunk, (size_t)n, &c->to_conn);
}

static berth_stream_end stream_loop(copy_state *c, berth_error **err)
{
	berth_stream *s = c->s;
	bool any_output = s->out || s->err;
	for (;;) {
		if (!c->in_open && c->to_conn.len == 0 && !any_output)
			return BERTH_STREAM_DONE;
		bool reading = c->in_open && c->to_conn.len == 0;
		struct pollfd p[3] = {
			{.fd = s->conn, .events = POLLIN | (c->to_conn.len ? POLLOUT : 0)},
			{.fd = reading ? s->in_fd : -1, .events = POLLIN},
			{.fd = s->sig_fd, .events = POLLIN}};
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			berth_error_set_errno(err, errno, "poll");
			return BERTH_STREAM_FAILED;
		}
		if (p[2].revents)
			drain_signals(s);
		if (p[1].revents && on_input(c)) {
			flush_input(c, true); /* what came before the keys */
			return BERTH_STREAM_DETACHED;
		}
		if (p[0].revents & POLLOUT)
			flush_input(c, false);
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			char chunk[16384];
			ssize_t n = read(s->conn, chunk, sizeof(chunk));
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0)
				return BERTH_STREAM_DONE;
			if (on_output(c, chunk, (size_t)n, err) < 0)
				return BERTH_STREAM_FAILED;
		}
	}
}

berth_stream_end berth_stream_run(berth_stream *s, berth_error **err)
{
	copy_state c = {.s = s, .in_open = s->in_fd >= 0};
	signal(SIGPIPE, SIG_IGN); /* a closed connection or pipe is an error, not death */
	c.escaping = s->tty && s->in_fd >= 0;
	if (c.escaping && berth_escape_parse(s->detach_keys, &c.escape, NULL) < 0) {
		berth_warn("invalid detach escape keys, using default");
		berth_escape_parse(NULL, &c.escape, NULL);
	}
	if (c.escaping)
		term_make_raw();
	berth_stream_end end = BERTH_STREAM_DONE;
	if (s->pending.len && on_output(&c, s->pending.data, s->pending.len, err) < 0)
		end = BERTH_STREAM_FAILED;
	berth_buf_reset(&s->pending);
	if (end == BERTH_STREAM_DONE)
		end = stream_loop(&c, err);
	term_restore();
	berth_demux_reset(&c.demux);
	berth_buf_reset(&c.to_conn);
	return end;
}

void berth_stream_close(berth_stream *s)
{
	if (s->conn >= 0)
		close(s->conn);
	s->conn = -1;
	berth_buf_reset(&s->pending);
}

/* ------------------------------------------------------------ requests */

char *berth_cli_container_path(const char *name, const char *suffix)
{
	char *enc cleanup_free = berth_url_encode(name);
	return berth_xasprintf("/containers/%s%s", enc, suffix);
}

int berth_cli_inspect_container(berth_cli *cli, const char *name, json_t **out,
				berth_error **err)
{
	char *path cleanup_free = berth_cli_container_path(name, "/json");
	return berth_cli_call(cli, "GET", path, NULL, out, err);
}

berth_client_call *berth_cli_wait_send(berth_cli *cli, const char *id, const char *condition)
{
	berth_client *c;
	berth_client_call *call = NULL;
	berth_error *err cleanup_error = NULL;
	char *path cleanup_free = berth_xasprintf("/containers/%s/wait%s%s", id,
						  condition ? "?condition=" : "",
						  condition ? condition : "");
	if (berth_cli_client(cli, &c, &err) < 0 ||
	    berth_client_call_send(c, "POST", path, NULL, NULL, 0, &call, &err) < 0)
		berth_errorf("error waiting for container: %s", err->msg);
	return call;
}

/* Forwards signals (s may be NULL) until the answer starts to arrive. */
static void wait_answer(berth_stream *s, berth_client_call *call)
{
	while (s && s->sig_fd >= 0) {
		struct pollfd p[2] = {{.fd = berth_client_call_fd(call), .events = POLLIN},
				      {.fd = s->sig_fd, .events = POLLIN}};
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			return;
		if (p[1].revents)
			drain_signals(s);
		if (p[0].revents)
			return;
	}
}

int berth_cli_wait_finish(berth_cli *cli, berth_client_call *call, berth_stream *s)
{
	if (call == NULL)
		return 125;
	wait_answer(s, call);
	berth_client_response resp = {0};
	berth_error *err cleanup_error = NULL;
	json_t *j cleanup_json = NULL;
	int status = 125;
	if (berth_client_call_finish(call, &resp, &err) < 0) {
		fprintf(cli->err, "error waiting for container: %s\n", err->msg);
	} else if (resp.status >= 400) {
		char *msg cleanup_free = berth_client_error_message(&resp);
		fprintf(cli->err, "error waiting for container: %s\n", msg);
	} else if (berth_json_parse(resp.body.data, resp.body.len, &j, &err) == 0) {
		const char *msg = berth_json_string(json_object_get(j, "Error"), "Message");
		if (msg && *msg)
			fprintf(cli->err, "Error waiting for container: %s\n", msg);
		else
			status = (int)json_integer_value(json_object_get(j, "StatusCode"));
	}
	berth_client_response_reset(&resp);
	berth_client_call_free(call);
	return status;
}

const char *berth_cli_detach_keys(berth_cli *cli, const char *flag)
{
	static char *from_config;
	if (flag && *flag)
		return flag;
	if (from_config == NULL)
		from_config = berth_cli_config_string(cli, "detachKeys");
	return from_config;
}

/* ---------------------------------------------------------- berth attach */

typedef struct attach_opts {
	bool no_stdin, sig_proxy;
	const char *detach_keys;
} attach_opts;

/* docker's inspectContainerAndCheckState. */
static int attachable(berth_cli *cli, const char *name, json_t **out, berth_error **err)
{
	json_t *c = NULL;
	if (berth_cli_inspect_container(cli, name, &c, err) < 0)
		return -1;
	const json_t *st = json_object_get(c, "State");
	const char *why = NULL;
	if (!json_is_true(json_object_get(st, "Running")))
		why = "You cannot attach to a stopped container, start it first";
	else if (json_is_true(json_object_get(st, "Paused")))
		why = "You cannot attach to a paused container, unpause it first";
	else if (json_is_true(json_object_get(st, "Restarting")))
		why = "You cannot attach to a restarting container, wait until it is running";
	if (why) {
		json_decref(c);
		return berth_error_set(err, 409, "%s", why);
	}
	if (out)
		*out = c;
	else
		json_decref(c);
	return 0;
}

int berth_cli_attach_open(berth_cli *cli, const char *id, bool in, bool out, bool errs,
			  const char *detach_keys, berth_stream *s, berth_error **err)
{
	berth_client *c;
	if (berth_cli_client(cli, &c, err) < 0)
		return -1;
	berth_buf path cleanup_buf = {0};
	berth_buf_printf(&path, "/containers/%s/attach?stream=1%s%s%s", id, in ? "&stdin=1" : "",
			 out ? "&stdout=1" : "", errs ? "&stderr=1" : "");
	if (detach_keys && *detach_keys) {
		char *enc cleanup_free = berth_url_encode(detach_keys);
		berth_buf_printf(&path, "&detachKeys=%s", enc);
	}
	s->conn = -1;
	if (berth_client_hijack(c, "POST", path.data, "text/plain", NULL, 0, &s->conn, &s->pending,
				err) < 0) {
		if ((*err)->status >= 400)
			berth_error_wrap(err, "Error response from daemon");
		return -1;
	}
	return 0;
}

static int attach_run(berth_invocation *inv, const attach_opts *o)
{
	berth_cli *cli = inv->cli;
	const char *name = inv->args.v[0];
	berth_error *err cleanup_error = NULL;
	json_t *c cleanup_json = NULL;
	berth_client_call *wait = NULL;
	if (attachable(cli, name, &c, &err) < 0)
		return berth_cli_fail(cli, &err, BERTH_EXIT_ERROR);
	const char *id = berth_cli_str(c, "Id");
	const json_t *config = json_object_get(c, "Config");
	bool tty = json_is_true(json_object_get(config, "Tty"));
	bool in = !o->no_stdin && json_is_true(json_object_get(config, "OpenStdin"));
	if (berth_check_tty(!o->no_stdin, tty, &err) < 0)
		return berth_cli_fail(cli, &err, BERTH_EXIT_ERROR);
	wait = berth_cli_wait_send(cli, id, NULL);
	berth_stream s = {.cli = cli, .in_fd = in ? STDIN_FILENO : -1, .tty = tty, .out = true,
			  .err = true, .id = id, .sig_fd = -1};
	s.detach_keys = berth_cli_detach_keys(cli, o->detach_keys);
	s.resize = tty && isatty(STDOUT_FILENO);
	if (o->sig_proxy && !tty)
		s.sig_fd = berth_signals_open(true);
	else if (s.resize)
		s.sig_fd = berth_signals_open(false);
	int status = BERTH_EXIT_OK;
	if (berth_cli_attach_open(cli, id, in, true, true, s.detach_keys, &s, &err) < 0 ||
	    attachable(cli, id, NULL, &err) < 0) {
		status = berth_cli_fail(cli, &err, BERTH_EXIT_ERROR);
	} else {
		if (s.resize) {
			berth_stream_resize(cli, id, false, 1);
			berth_stream_resize(cli, id, false, 0);
		}
		berth_stream_end end = berth_stream_run(&s, &err);
		if (end == BERTH_STREAM_DETACHED) {
			fputs("read escape sequence\n", cli->err);
			status = BERTH_EXIT_ERROR;
		} else if (end == BERTH_STREAM_FAILED) {
			status = berth_cli_fail(cli, &err, BERTH_EXIT_ERROR);
		}
	}
	berth_stream_close(&s);
	if (status == BERTH_EXIT_OK)
		status = berth_cli_wait_finish(cli, berth_steal_ptr(&wait), &s);
	berth_signals_close(s.sig_fd);
	berth_client_call_free(wait);
	return status;
}

int berth_cli_attach(berth_invocation *inv)
{
	attach_opts o = {.sig_proxy = true};
	berth_flag flags[] = {
		{"detach-keys", 0, BERTH_FLAG_STRING, &o.detach_keys,
		 "Override the key sequence for detaching a container"},
		{"no-stdin", 0, BERTH_FLAG_BOOL, &o.no_stdin, "Do not attach STDIN"},
		{"sig-proxy", 0, BERTH_FLAG_BOOL, &o.sig_proxy,
		 "Proxy all received signals to the process", .def = "true"},
	};
	int status;
	if (!berth_cli_parse(inv, flags, BERTH_ARRAY_SIZE(flags), &status))
		return status;
	return attach_run(inv, &o);
}
