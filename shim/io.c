/*
 * io.c - one process's stdio. Output (two pipes, or the pty master) is read
 * here and goes to the json-file log through a copier per stream and, as
 * read, to attach clients. Stdin from attach clients is queued and written
 * without blocking; while the queue is long, clients are not read.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "shim/internal.h"

#define STDIN_HIGH_WATER (64 * 1024)

static const char *stream_name(int id)
{
	return id == BERTH_SHIM_STDERR ? "stderr" : "stdout";
}

static void log_line(void *data, const char *line, size_t len, bool newline, int64_t ts)
{
	shim_stream *st = data;
	berth_error *err cleanup_error = NULL;
	if (st->io->log == NULL ||
	    shim_logfile_write(st->io->log, stream_name(st->id), line, len, newline, ts, &err) == 0)
		return;
	/* A full disk fails every line: say so once in a while, not each time. */
	static unsigned long failures;
	if (failures++ % 10000 == 0)
		shim_log("%s (%lu entries lost so far)", err->msg, failures);
}

static void stream_init(shim_stream *st, shim_io *io, int id)
{
	st->fd = -1;
	st->id = id;
	st->io = io;
	st->w.slot = -1;
	shim_copier_init(&st->copier, log_line, st);
}

void shim_io_init(shim_io *io, shim_loop *loop, bool tty, bool open_stdin, bool stdin_once)
{
	memset(io, 0, sizeof(*io));
	io->loop = loop;
	io->tty = tty;
	io->open_stdin = open_stdin;
	io->stdin_once = stdin_once;
	io->stdin_fd = -1;
	io->stdin_w.slot = -1;
	stream_init(&io->out, io, BERTH_SHIM_STDOUT);
	stream_init(&io->err, io, BERTH_SHIM_STDERR);
}

static void stdin_ready(shim_io *io);

static void close_fds(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0) {
			close(fds[i]);
			fds[i] = -1;
		}
}

/* A pipe: *ours gets one end (non-blocking), *theirs the other. */
static int make_pipe(bool ours_writes, int *ours, int *theirs, uid_t uid, gid_t gid,
		     berth_error **err)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return berth_error_set_errno(err, errno, "pipe");
	*ours = ours_writes ? p[1] : p[0];
	*theirs = ours_writes ? p[0] : p[1];
	if (shim_set_nonblock(*ours) < 0 || fchown(*theirs, uid, gid) < 0)
		return berth_error_set_errno(err, errno, "set up a stdio pipe");
	return 0;
}

int shim_io_pipes(shim_io *io, int child[3], uid_t uid, gid_t gid, berth_error **err)
{
	child[0] = child[1] = child[2] = -1;
	int r = 0;
	if (io->open_stdin)
		r = make_pipe(true, &io->stdin_fd, &child[0], uid, gid, err);
	else if ((child[0] = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
		r = berth_error_set_errno(err, errno, "open /dev/null");
	if (r == 0)
		r = make_pipe(false, &io->out.fd, &child[1], uid, gid, err);
	if (r == 0)
		r = make_pipe(false, &io->err.fd, &child[2], uid, gid, err);
	if (r < 0)
		close_fds(child, 3);
	else
		stdin_ready(io);
	return r;
}

void shim_io_set_console(shim_io *io, int master)
{
	io->out.fd = master;
	/* Its own descriptor, so that closing stdin leaves the output open. */
	if (io->open_stdin)
		io->stdin_fd = fcntl(master, F_DUPFD_CLOEXEC, 3);
	stdin_ready(io);
}

/* ------------------------------------------------------------------ output */

static void stream_cb(shim_watch *w, int revents);

static void set_reading(shim_io *io, bool on)
{
	shim_stream *streams[] = {&io->out, &io->err};
	for (size_t i = 0; i < 2; i++) {
		shim_stream *st = streams[i];
		if (st->fd < 0)
			continue;
		if (on && st->w.slot < 0)
			shim_loop_add(io->loop, &st->w, st->fd, POLLIN, stream_cb, st);
		else if (!on)
			shim_loop_remove(io->loop, &st->w);
	}
	io->reading = on;
}

bool shim_io_output_done(const shim_io *io)
{
	return io->out.fd < 0 && io->err.fd < 0;
}

static void stream_close(shim_stream *st)
{
	shim_io *io = st->io;
	shim_loop_remove(io->loop, &st->w);
	close(st->fd);
	st->fd = -1;
	shim_copier_eof(&st->copier);
	if (shim_io_output_done(io) && io->on_eof) {
		void (*cb)(void *) = io->on_eof;
		io->on_eof = NULL;
		cb(io->data);
	}
}

/* Returns false at the end of the stream (EOF, or EIO from a pty whose
 * other side is closed). */
static bool stream_read(shim_stream *st)
{
	char buf[8192];
	ssize_t n = read(st->fd, buf, sizeof(buf));
	if (n < 0)
		return errno == EAGAIN || errno == EINTR;
	if (n == 0)
		return false;
	shim_io *io = st->io;
	if (io->log)
		shim_copier_feed(&st->copier, buf, (size_t)n);
	if (io->attach) {
		shim_attach_broadcast(io->attach, st->id, buf, (size_t)n);
		if (io->reading && shim_attach_backlogged(io->attach))
			set_reading(io, false);
	}
	return true;
}

static void stream_cb(shim_watch *w, int revents)
{
	shim_stream *st = w->data;
	if (!stream_read(st))
		stream_close(st);
}

void shim_io_abandon(shim_io *io)
{
	shim_stream *streams[] = {&io->out, &io->err};
	for (size_t i = 0; i < 2; i++) {
		shim_stream *st = streams[i];
		for (int k = 0; st->fd >= 0 && k < 1024; k++) {
			struct pollfd p = {.fd = st->fd, .events = POLLIN};
			if (poll(&p, 1, 0) <= 0 || !stream_read(st))
				break;
		}
		if (st->fd >= 0)
			stream_close(st);
	}
}

void shim_io_discard(shim_io *io)
{
	shim_stream *streams[] = {&io->out, &io->err};
	io->on_eof = NULL;
	for (size_t i = 0; i < 2; i++) {
		shim_stream *st = streams[i];
		shim_loop_remove(io->loop, &st->w);
		if (st->fd >= 0)
			close(st->fd);
		st->fd = -1;
		shim_copier_free(&st->copier);
	}
}

/* ------------------------------------------------------------------- stdin */

static void stdin_close_now(shim_io *io)
{
	shim_loop_remove(io->loop, &io->stdin_w);
	if (io->stdin_fd >= 0)
		close(io->stdin_fd);
	io->stdin_fd = -1;
	io->stdin_gone = true;
	io->stdin_closing = false;
	berth_buf_reset(&io->stdin_buf);
	if (io->attach)
		shim_attach_pause_stdin(io->attach, false);
}

static void stdin_flush(shim_io *io)
{
	while (io->stdin_buf.len > 0) {
		ssize_t n = write(io->stdin_fd, io->stdin_buf.data, io->stdin_buf.len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0) {
			/* The process closed its stdin: nothing more to deliver. */
			stdin_close_now(io);
			return;
		}
		berth_buf_consume(&io->stdin_buf, (size_t)n);
	}
	if (io->stdin_buf.len == 0 && io->stdin_closing) {
		stdin_close_now(io);
		return;
	}
	if (io->attach)
		shim_attach_pause_stdin(io->attach, io->stdin_buf.len >= STDIN_HIGH_WATER);
}

static void stdin_cb(shim_watch *w, int revents)
{
	shim_io *io = w->data;
	if (revents & (POLLERR | POLLNVAL)) {
		stdin_close_now(io);
		return;
	}
	stdin_flush(io);
	if (io->stdin_fd >= 0 && io->stdin_buf.len == 0)
		shim_loop_remove(io->loop, &io->stdin_w);
}

/* Writes what can be written now, and watches for the rest. */
static void stdin_kick(shim_io *io)
{
	stdin_flush(io);
	if (io->stdin_fd >= 0 && io->stdin_buf.len > 0 && io->stdin_w.slot < 0)
		shim_loop_add(io->loop, &io->stdin_w, io->stdin_fd, POLLOUT, stdin_cb, io);
}

/* An exec's stdin exists only once it started, but its attach client may
 * write (and close) before: that is kept until then. */
static void stdin_ready(shim_io *io)
{
	io->stdin_open = io->stdin_fd >= 0;
	if (!io->stdin_open) {
		berth_buf_reset(&io->stdin_buf);
		return;
	}
	stdin_kick(io);
}

static bool stdin_pending(const shim_io *io)
{
	return io->open_stdin && !io->stdin_open && io->stdin_fd < 0 && !io->stdin_gone;
}

static void stdin_data(void *data, const char *buf, size_t len)
{
	shim_io *io = data;
	if (io->stdin_closing || (io->stdin_fd < 0 && !stdin_pending(io)))
		return;
	berth_buf_append(&io->stdin_buf, buf, len);
	if (stdin_pending(io)) {
		if (io->attach)
			shim_attach_pause_stdin(io->attach, io->stdin_buf.len >= STDIN_HIGH_WATER);
		return;
	}
	stdin_kick(io);
}

void shim_io_close_stdin(shim_io *io)
{
	if (io->stdin_fd < 0 && !stdin_pending(io))
		return;
	io->stdin_closing = true;
	if (io->stdin_fd >= 0 && io->stdin_buf.len == 0)
		stdin_close_now(io);
}

static void stdin_eof(void *data)
{
	shim_io *io = data;
	if (io->stdin_once)
		shim_io_close_stdin(io);
}

/* ------------------------------------------------------------------ attach */

static void attach_drained(void *data)
{
	shim_io *io = data;
	if (!io->reading && !shim_io_output_done(io))
		set_reading(io, true);
}

static void attach_finished(void *data)
{
	shim_io *io = data;
	if (io->on_finished)
		io->on_finished(io->data);
}

int shim_io_attach_listen(shim_io *io, const char *path, berth_error **err)
{
	static const shim_attach_ops ops = {
		.stdin_data = stdin_data,
		.stdin_eof = stdin_eof,
		.drained = attach_drained,
		.finished = attach_finished,
	};
	return shim_attach_listen(io->loop, path, io->tty, &ops, io, &io->attach, err);
}

void shim_io_start(shim_io *io, void (*on_eof)(void *), void *data)
{
	io->on_eof = on_eof;
	io->data = data;
	set_reading(io, true);
}

void shim_io_finish(shim_io *io, void (*on_finished)(void *), void *data)
{
	io->on_finished = on_finished;
	io->data = data;
	stdin_close_now(io);
	if (io->attach)
		shim_attach_finish(io->attach);
	else if (on_finished)
		on_finished(io->data);
}

int shim_io_resize(shim_io *io, unsigned height, unsigned width, berth_error **err)
{
	if (!io->tty)
		return berth_error_set(err, 400, "the process has no TTY");
	if (io->out.fd < 0)
		return berth_error_set(err, 409, "the process's TTY is closed");
	struct winsize ws = {.ws_row = (unsigned short)height, .ws_col = (unsigned short)width};
	if (ioctl(io->out.fd, TIOCSWINSZ, &ws) < 0)
		return berth_error_set_errno(err, errno, "resize the TTY");
	return 0;
}

void shim_io_free(shim_io *io)
{
	if (io->loop == NULL)
		return; /* never initialized */
	shim_attach_free(io->attach);
	io->attach = NULL;
	stdin_close_now(io);
	shim_io_discard(io);
}
