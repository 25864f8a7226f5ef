/*
 * logs.c - GET /containers/{id}/logs from the json-file log the shim writes.
 *
 * Reading runs in the pool and writes through a pump (back-pressure from a
 * slow client). The first pass reads the rotated files (<log>.N ... <log>.1)
 * and the current one, oldest first, starting `tail` lines from the end.
 * With follow, later passes run every 100 ms from where the last one
 * stopped, each a short pool job (a follower never holds a pool thread
 * while it waits), and follow the current file through rotations; they end
 * once the shim has exited (its control socket is gone) and the file is
 * drained, or when the client leaves.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/api/pump.h"
#include "internal.h"
#include "shim/shim.h"

#define LOGS_FOLLOW_MS 100       /* between passes while the log is quiet */
#define LOGS_FOLLOW_BUSY_MS 5    /* while it grows: keep up with rotations */
#define LOGS_MAX_FILES 64 /* rotated files looked at: max-file is small */

typedef struct logs_job {
	berth_daemon *daemon;
	char *log_path;
	char *control_path;
	bool tty, want_stdout, want_stderr, timestamps, follow;
	int64_t since_ns, until_ns;
	long tail;                  /* -1: all */
	pump *pump;
	berth_buf *sink;            /* instead of the pump: attach's log replay */
	berth_buf frame;
	berth_buf text;             /* a decoded "log" string */
	FILE *f;                    /* the current file, kept between passes */
	ino_t ino;
	long offset;
	bool first_done;
	bool alive;                 /* the shim was there when the pass began */
	bool grew;                  /* the last pass read something */
	berth_api_hold *hold;       /* the request, between follow passes */
	uv_timer_t timer;
} logs_job;

/* One entry as the shim writes it: {"log":"...","stream":"stdout",
 * ["attrs":{...},]"time":"..."}. */
typedef struct log_entry {
	const char *text;
	size_t text_len;
	bool is_stderr;
	const char *time;           /* NUL-terminated copy in entry_time */
	char entry_time[48];
} log_entry;

/* ------------------------------------------------------------ decoding */

static int hex4(const char *p)
{
	int v = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

static void put_utf8(berth_buf *out, unsigned cp)
{
	char b[4];
	size_t n;
	if (cp < 0x80) {
		b[0] = (char)cp, n = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xc0 | cp >> 6), b[1] = (char)(0x80 | (cp & 0x3f)), n = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xe0 | cp >> 12), b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f)), n = 3;
	} else {
		b[0] = (char)(0xf0 | cp >> 18), b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3f)), b[3] = (char)(0x80 | (cp & 0x3f)), n = 4;
	}
	berth_buf_append(out, b, n);
}

/* A JSON string body from p (after its opening quote) into out; returns
 * the position after the closing quote, NULL when malformed. */
static const char *json_string_body(const char *p, const char *end, berth_buf *out)
{
	while (p < end) {
		const char *run = p;
		while (p < end && *p != '"' && *p != '\\')
			p++;
		berth_buf_append(out, run, (size_t)(p - run));
		if (p >= end)
			return NULL;
		if (*p == '"')
			return p + 1;
		if (++p >= end)
			return NULL;
		static const char plain[] = "\"\\/bfnrt", real[] = "\"\\/\b\f\n\r\t";
		const char *k = strchr(plain, *p);
		if (*p != 'u' && k) {
			berth_buf_append(out, &real[k - plain], 1);
			p++;
			continue;
		}
		if (*p != 'u' || end - p < 5)
			return NULL;
		int cp = hex4(p + 1);
		p += 5;
		if (cp >= 0xd800 && cp < 0xdc00 && end - p >= 6 && p[0] == '\\' && p[1] == 'u') {
			int lo = hex4(p + 2);
			if (lo >= 0xdc00 && lo < 0xe000) {
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				p += 6;
			}
		}
		if (cp < 0)
			return NULL;
		put_utf8(out, (unsigned)cp);
	}
	return NULL;
}

static const char *expect(const char *p, const char *end, const char *lit)
{
	size_t n = strlen(lit);
	return (size_t)(end - p) >= n && memcmp(p, lit, n) == 0 ? p + n : NULL;
}

/* The shim's own line layout, read without a JSON library (most of the
 * time of `docker logs` went to parsing every line as generic JSON). */
static bool parse_fast(logs_job *j, const char *p, const char *end, log_entry *e)
{
	j->text.len = 0;
	if (!(p = expect(p, end, "{\"log\":\"")) || !(p = json_string_body(p, end, &j->text)))
		return false;
	if (!(p = expect(p, end, ",\"stream\":\"")))
		return false;
	e->is_stderr = expect(p, end, "stderr\"") != NULL;
	if (!(p = expect(p, end, e->is_stderr ? "stderr\"" : "stdout\"")))
		return false;
	const char *t = memmem(p, (size_t)(end - p), ",\"time\":\"", 9);
	if (t == NULL)
		return false;
	t += 9;
	const char *q = memchr(t, '"', (size_t)(end - t));
	if (q == NULL || (size_t)(q - t) >= sizeof(e->entry_time))
		return false;
	memcpy(e->entry_time, t, (size_t)(q - t));
	e->entry_time[q - t] = '\0';
	e->time = e->entry_time;
	e->text = j->text.data ? j->text.data : "";
	e->text_len = j->text.len;
	return true;
}

/* Any other valid entry (written by another tool, fields reordered). */
static bool parse_slow(logs_job *j, const char *line, size_t len, log_entry *e)
{
	json_t *o cleanup_json = NULL;
	if (berth_json_parse_object(line, len, &o, NULL) < 0)
		return false;
	const char *text = berth_json_string(o, "log"), *stream = berth_json_string(o, "stream");
	const char *time = berth_json_string(o, "time") ?: "";
	if (text == NULL)
		return false;
	j->text.len = 0;
	berth_buf_puts(&j->text, text);
	e->text = j->text.data;
	e->text_len = j->text.len;
	e->is_stderr = stream && strcmp(stream, "stderr") == 0;
	snprintf(e->entry_time, sizeof(e->entry_time), "%s", time);
	e->time = e->entry_time;
	return true;
}

/* ------------------------------------------------------------ emitting */

/* One log entry out: Docker's stream frame, unless the container has a TTY. */
static int emit(logs_job *j, const log_entry *e, berth_error **err)
{
	if ((e->is_stderr && !j->want_stderr) || (!e->is_stderr && !j->want_stdout))
		return 0;
	j->frame.len = 0;
	if (!j->tty)
		berth_buf_append(&j->frame, "\0\0\0\0\0\0\0\0", 8);
	if (j->timestamps && *e->time)
		berth_buf_printf(&j->frame, "%s ", e->time);
	berth_buf_append(&j->frame, e->text, e->text_len);
	if (!j->tty) {
		uint32_t len = (uint32_t)(j->frame.len - 8);
		unsigned char *h = (unsigned char *)j->frame.data;
		h[0] = e->is_stderr ? 2 : 1;
		h[4] = (unsigned char)(len >> 24);
		h[5] = (unsigned char)(len >> 16);
		h[6] = (unsigned char)(len >> 8);
		h[7] = (unsigned char)len;
	}
	if (j->sink) {
		berth_buf_append(j->sink, j->frame.data, j->frame.len);
		return 0;
	}
	return pump_write(j->pump, j->frame.data, j->frame.len, err);
}

static bool in_window(logs_job *j, const log_entry *e)
{
	if (j->since_ns <= 0 && j->until_ns <= 0)
		return true;
	int64_t t = 0;
	berth_time_parse(*e->time ? e->time : "0", 0, &t, NULL);
	return (j->since_ns <= 0 || t >= j->since_ns) && (j->until_ns <= 0 || t <= j->until_ns);
}

static int emit_line(logs_job *j, const char *line, size_t len, berth_error **err)
{
	log_entry e = {0};
	if (!parse_fast(j, line, line + len, &e) && !parse_slow(j, line, len, &e))
		return 0; /* a damaged line is skipped, as dockerd does */
	return in_window(j, &e) ? emit(j, &e, err) : 0;
}

/* Emits the complete lines of f from *offset on (skipping the first *skip);
 * advances *offset. A line without its "\n" is the shim mid-write. */
static int read_lines(logs_job *j, FILE *f, long *offset, long *skip, berth_error **err)
{
	char *line = NULL;
	size_t cap = 0;
	fseek(f, *offset, SEEK_SET);
	ssize_t n;
	int rc = 0;
	while (rc == 0 && (n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] != '\n')
			break;
		*offset += n;
		if (skip && *skip > 0)
			(*skip)--;
		else
			rc = emit_line(j, line, (size_t)n - 1, err);
	}
	clearerr(f);
	free(line);
	return rc;
}

static long count_lines(FILE *f)
{
	long n = 0;
	char buf[65536];
	size_t r;
	while ((r = fread(buf, 1, sizeof(buf), f)) > 0) {
		for (const char *p = buf; (p = memchr(p, '\n', (size_t)(buf + r - p))); p++)
			n++;
	}
	rewind(f);
	return n;
}

/* -------------------------------------------------------------- passes */

/* The log's files, oldest first, opened as one consistent set: the current
 * file is opened first and the set is kept only when the current file is
 * still the same afterwards, so no rotation fell between the opens (one
 * that did would hide the file it turned into <log>.1, or show a file
 * twice). Returns the count; files[count - 1] is the current file, or NULL
 * when there is none yet (the shim between its rename and its create). */
static int open_files(logs_job *j, FILE *files[LOGS_MAX_FILES + 1], ino_t inos[LOGS_MAX_FILES + 1])
{
	for (int attempt = 0;; attempt++) {
		FILE *cur = fopen(j->log_path, "re");
		struct stat st, now;
		ino_t cur_ino = cur && fstat(fileno(cur), &st) == 0 ? st.st_ino : 0;
		int n = 0;
		for (int i = LOGS_MAX_FILES; i >= 1; i--) {
			char *p cleanup_free = berth_xasprintf("%s.%d", j->log_path, i);
			FILE *f = fopen(p, "re");
			if (f && fstat(fileno(f), &st) == 0) {
				inos[n] = st.st_ino;
				files[n++] = f;
			} else if (f) {
				fclose(f);
			}
		}
		bool same = cur ? stat(j->log_path, &now) == 0 && now.st_ino == cur_ino
				: stat(j->log_path, &now) < 0;
		/* a shim rotating without pause could keep us here: after a few
		 * tries the set is taken as it is */
		if (same || attempt >= 20) {
			inos[n] = cur_ino;
			files[n++] = cur;
			return n;
		}
		for (int i = 0; i < n; i++)
			fclose(files[i]);
		if (cur)
			fclose(cur);
	}
}

static void close_files(FILE **files, int n, FILE *keep)
{
	for (int i = 0; i < n; i++) {
		if (files[i] && files[i] != keep)
			fclose(files[i]);
	}
}

/* cur is the file followed from now on, from offset. */
static void follow_current(logs_job *j, FILE *cur, ino_t ino, long offset)
{
	j->f = cur;
	j->ino = ino;
	j->offset = offset;
}

/* The history: rotated files oldest first, then the current one, which
 * stays open for follow. */
static int first_pass(logs_job *j, berth_error **err)
{
	FILE *files[LOGS_MAX_FILES + 1];
	ino_t inos[LOGS_MAX_FILES + 1];
	int n = open_files(j, files, inos);
	FILE *cur = files[n - 1];
	if (cur == NULL)
		n--;
	/* tail: whole files from the newest back, then lines to skip */
	int start = 0;
	long skip = 0;
	if (j->tail >= 0) {
		long need = j->tail;
		start = n;
		while (start > 0 && need > 0) {
			long lines = count_lines(files[start - 1]);
			start--;
			skip = lines > need ? lines - need : 0;
			need -= lines - skip;
		}
	}
	int rc = 0;
	for (int i = start; i < n && rc == 0; i++) {
		long offset = 0;
		rc = read_lines(j, files[i], &offset, i == start ? &skip : NULL, err);
		if (files[i] == cur)
			j->offset = offset;
	}
	if (cur && start >= n && rc == 0) { /* tail 0: follow from the end */
		long all = LONG_MAX;
		rc = read_lines(j, cur, &j->offset, &all, err);
	}
	close_files(files, n, cur);
	if (cur)
		follow_current(j, cur, inos[n - 1], j->offset);
	return rc;
}

/* The file we read was rotated: finish it, then the files rotated after it
 * (found by its inode in the set; all of them when it was dropped), and go
 * on with the current file of the same set from its start. */
static int after_rotation(logs_job *j, berth_error **err)
{
	int rc = read_lines(j, j->f, &j->offset, NULL, err);
	fclose(j->f);
	j->f = NULL;
	FILE *files[LOGS_MAX_FILES + 1];
	ino_t inos[LOGS_MAX_FILES + 1];
	int n = open_files(j, files, inos);
	FILE *cur = files[n - 1];
	int first = 0;
	for (int i = 0; i < n - 1; i++) {
		if (inos[i] == j->ino)
			first = i + 1;
	}
	for (int i = first; i < n - 1 && rc == 0; i++) {
		long offset = 0;
		rc = read_lines(j, files[i], &offset, NULL, err);
	}
	close_files(files, n, cur);
	if (cur)
		follow_current(j, cur, inos[n - 1], 0);
	return rc;
}

/* Since the last pass: the rest of the current file, and when the shim
 * rotated it meanwhile, what came after. */
static int follow_pass(logs_job *j, berth_error **err)
{
	if (j->f == NULL) {
		FILE *f = fopen(j->log_path, "re");
		struct stat st;
		if (f == NULL)
			return 0;
		follow_current(j, f, fstat(fileno(f), &st) == 0 ? st.st_ino : 0, 0);
	}
	int rc = 0;
	for (int rounds = 0; rc == 0 && j->f && rounds < LOGS_MAX_FILES; rounds++) {
		rc = read_lines(j, j->f, &j->offset, NULL, err);
		struct stat st;
		if (rc < 0 || stat(j->log_path, &st) < 0 || st.st_ino == j->ino)
			break;
		rc = after_rotation(j, err);
	}
	return rc;
}

static int logs_work(void *data, berth_error **err)
{
	logs_job *j = data;
	/* looked at first, so that what the shim wrote before it went is read */
	j->alive = j->follow && access(j->control_path, F_OK) == 0;
	int rc;
	long before = j->offset;
	ino_t ino = j->ino;
	if (!j->first_done) {
		j->first_done = true;
		rc = first_pass(j, err);
	} else {
		rc = follow_pass(j, err);
	}
	j->grew = j->offset != before || j->ino != ino;
	/* an empty write finds out whether the client is still there */
	if (rc == 0 && j->follow)
		rc = pump_write(j->pump, "", 0, err);
	return rc;
}

static void job_free(uv_handle_t *h)
{
	logs_job *j = h->data;
	if (j->f)
		fclose(j->f);
	berth_api_hold_free(j->hold);
	free(j->log_path);
	free(j->control_path);
	berth_buf_reset(&j->frame);
	berth_buf_reset(&j->text);
	free(j);
}

static int logs_done(berth_daemon *d, berth_api_req *req, void *userdata, berth_error *work_err,
		     berth_error **err);

static void next_pass(uv_timer_t *t)
{
	logs_job *j = t->data;
	berth_api_req *req = berth_api_hold_req(j->hold);
	berth_api_hold_free(j->hold);
	j->hold = NULL;
	if (req == NULL || berth_api_defer(j->daemon, req, logs_work, logs_done, j) < 0) {
		pump_finish(j->pump, NULL, 0);
		uv_close((uv_handle_t *)&j->timer, job_free);
	}
}

static int logs_done(berth_daemon *d, berth_api_req *req, void *userdata, berth_error *work_err,
		     berth_error **err)
{
	logs_job *j = userdata;
	bool past_until = j->until_ns > 0 && berth_time_now_ns() > j->until_ns;
	if (req && work_err == NULL && j->follow && j->alive && !past_until) {
		j->hold = berth_api_hold_new(req);
		uv_timer_start(&j->timer, next_pass, j->grew ? LOGS_FOLLOW_BUSY_MS : LOGS_FOLLOW_MS, 0);
		return 0;
	}
	pump_finish(j->pump, NULL, 0);
	uv_close((uv_handle_t *)&j->timer, job_free);
	return 0;
}

int container_logs_render(const char *log_path, bool tty, bool want_stdout, bool want_stderr,
			  berth_buf *out, berth_error **err)
{
	logs_job j = {.log_path = (char *)log_path, .tty = tty, .want_stdout = want_stdout,
		      .want_stderr = want_stderr, .tail = -1, .sink = out};
	int rc = first_pass(&j, err);
	if (j.f)
		fclose(j.f);
	berth_buf_reset(&j.frame);
	berth_buf_reset(&j.text);
	return rc;
}

static int parse_window(berth_api_req *req, int64_t *since, int64_t *until, long *tail,
			berth_error **err)
{
	int64_t now = berth_time_now_ns();
	const char *q;
	*since = *until = 0;
	if ((q = berth_api_query(req, "since")) && *q && strcmp(q, "0") != 0 &&
	    berth_time_parse(q, now, since, err) < 0)
		return -1;
	if ((q = berth_api_query(req, "until")) && *q && strcmp(q, "0") != 0 &&
	    berth_time_parse(q, now, until, err) < 0)
		return -1;
	*tail = -1;
	if ((q = berth_api_query(req, "tail")) && *q && strcmp(q, "all") != 0) {
		char *end;
		*tail = strtol(q, &end, 10);
		if (*end || *tail < 0)
			*tail = -1;
	}
	return 0;
}

int berth_container_logs(berth_container_store *s, berth_api_req *req, const char *name,
			 berth_error **err)
{
	berth_container *c;
	if (berth_container_find(s, name, &c, err) < 0)
		return -1;
	bool out = berth_api_query_bool(req, "stdout", false);
	bool errs = berth_api_query_bool(req, "stderr", false);
	if (!out && !errs)
		return berth_error_set(err, 400, "Bad parameters: you must choose at least one stream");
	int64_t since, until;
	long tail;
	if (parse_window(req, &since, &until, &tail, err) < 0)
		return -1;
	logs_job *j = berth_xcalloc(1, sizeof(*j));
	j->daemon = s->daemon;
	j->log_path = berth_xstrdup(berth_json_string(c->record, "LogPath") ?: "");
	j->control_path = berth_xasprintf("%s/%s", c->shim_dir, BERTH_SHIM_CONTROL_SOCK);
	j->tty = json_is_true(json_object_get(json_object_get(c->record, "Config"), "Tty"));
	j->want_stdout = out;
	j->want_stderr = errs;
	j->timestamps = berth_api_query_bool(req, "timestamps", false);
	j->follow = berth_api_query_bool(req, "follow", false) && container_running(c);
	j->since_ns = since;
	j->until_ns = until;
	j->tail = tail;
	uv_timer_init(s->daemon->loop, &j->timer);
	j->timer.data = j;
	j->pump = pump_start(s->daemon, req, j->tty ? "application/vnd.docker.raw-stream"
						  : "application/vnd.docker.multiplexed-stream");
	if (j->pump == NULL) {
		uv_close((uv_handle_t *)&j->timer, job_free);
		return berth_error_set(err, 500, "could not start the logs stream");
	}
	return berth_api_defer(s->daemon, req, logs_work, logs_done, j);
}
