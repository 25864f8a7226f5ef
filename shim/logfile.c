/*
 * logfile.c - Docker's json-file log driver: the entry format of
 * jsonlog.JSONLogs.MarshalJSONBuf, byte for byte (its string escaping is
 * Go's HTML-safe one, with invalid UTF-8 turned into U+FFFD), and the
 * rotation of loggerutils.LogFile (rotate before a write once the file has
 * reached max-size; keep max-file files).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shim/internal.h"

struct shim_logfile {
	int fd;
	char *path;
	int64_t size;
	shim_log_opts opts;
	char *attrs;
	berth_buf buf;          /* reused for every entry */
};

void shim_log_opts_init(shim_log_opts *o)
{
	o->max_size = -1;
	o->max_file = 1;
}

int shim_ram_in_bytes(const char *s, int64_t *out)
{
	const char *p = s;
	if (*p < '0' || *p > '9')
		return -1;
	char *end;
	double v = strtod(p, &end);
	/* strtod also takes "1e3", "0x10", "inf": insist on digits[.digits]. */
	for (const char *q = p; q < end; q++)
		if ((*q < '0' || *q > '9') && *q != '.')
			return -1;
	p = end;
	if (*p == ' ')
		p++;
	static const char units[] = "kmgtp";
	double mul = 1;
	const char *u = *p ? strchr(units, *p | 0x20) : NULL;
	if (u != NULL) {
		for (const char *k = units; k <= u; k++)
			mul *= 1024;
		p++;
	}
	if (*p == 'i' || *p == 'I')
		p++;
	if (*p == 'b' || *p == 'B')
		p++;
	if (*p != '\0')
		return -1;
	*out = (int64_t)(v * mul);
	return 0;
}

int shim_log_opt_parse(shim_log_opts *o, const char *kv, berth_error **err)
{
	const char *eq = strchr(kv, '=');
	if (eq == NULL)
		return berth_error_set(err, 400, "invalid log opt '%s': expected key=value", kv);
	size_t klen = (size_t)(eq - kv);
	const char *v = eq + 1;
	if (klen == 8 && strncmp(kv, "max-size", klen) == 0) {
		int64_t n;
		if (shim_ram_in_bytes(v, &n) < 0)
			return berth_error_set(err, 400, "invalid size: '%s'", v);
		if (n <= 0)
			return berth_error_set(err, 400, "max-size must be a positive number");
		o->max_size = n;
		return 0;
	}
	if (klen == 8 && strncmp(kv, "max-file", klen) == 0) {
		char *end;
		errno = 0;
		long n = strtol(v, &end, 10);
		if (*v == '\0' || *end != '\0' || errno != 0 || n > 1000000)
			return berth_error_set(err, 400, "strconv.Atoi: parsing \"%s\": invalid syntax", v);
		if (n < 1)
			return berth_error_set(err, 400, "max-file cannot be less than 1");
		o->max_file = (int)n;
		return 0;
	}
	if (klen == 8 && strncmp(kv, "compress", klen) == 0) {
		if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
			return 0;
		return berth_error_set(err, 400, "log opt compress=%s is not supported by berth-shim", v);
	}
	return berth_error_set(err, 400, "unknown log opt '%.*s' for json-file log driver", (int)klen,
			       kv);
}

/* Go's utf8.DecodeRune: the rune at s and its length; *size is 1 and the
 * result -1 for an invalid or truncated sequence. */
static long decode_rune(const unsigned char *s, size_t len, size_t *size)
{
	unsigned char b = s[0];
	size_t n;
	unsigned char lo = 0x80, hi = 0xbf;
	long r;
	*size = 1;
	if (b >= 0xc2 && b <= 0xdf) {
		n = 2;
		r = b & 0x1f;
	} else if (b >= 0xe0 && b <= 0xef) {
		n = 3;
		r = b & 0x0f;
		if (b == 0xe0)
			lo = 0xa0;
		else if (b == 0xed)
			hi = 0x9f;
	} else if (b >= 0xf0 && b <= 0xf4) {
		n = 4;
		r = b & 0x07;
		if (b == 0xf0)
			lo = 0x90;
		else if (b == 0xf4)
			hi = 0x8f;
	} else {
		return -1;
	}
	if (len < n || s[1] < lo || s[1] > hi)
		return -1;
	for (size_t i = 1; i < n; i++) {
		if (i > 1 && (s[i] < 0x80 || s[i] > 0xbf))
			return -1;
		r = (r << 6) | (s[i] & 0x3f);
	}
	*size = n;
	return r;
}

/* ffjsonWriteJSONBytesAsString. */
static void encode_string(berth_buf *b, const char *str, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;
	size_t start = 0, i = 0;
	berth_buf_append(b, "\"", 1);
	while (i < len) {
		unsigned char c = s[i];
		if (c < 0x80) {
			if (c >= 0x20 && c != '\\' && c != '"' && c != '<' && c != '>' && c != '&') {
				i++;
				continue;
			}
			berth_buf_append(b, str + start, i - start);
			if (c == '\\' || c == '"') {
				char esc[2] = {'\\', (char)c};
				berth_buf_append(b, esc, 2);
			} else if (c == '\n') {
				berth_buf_append(b, "\\n", 2);
			} else if (c == '\r') {
				berth_buf_append(b, "\\r", 2);
			} else {
				char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xf]};
				berth_buf_append(b, esc, 6);
			}
			start = ++i;
			continue;
		}
		size_t size;
		long r = decode_rune(s + i, len - i, &size);
		if (r < 0 || r == 0x2028 || r == 0x2029) {
			berth_buf_append(b, str + start, i - start);
			berth_buf_puts(b, r < 0 ? "\\ufffd" : r == 0x2028 ? "\\u2028" : "\\u2029");
			start = i + size;
		}
		i += size;
	}
	berth_buf_append(b, str + start, len - start);
	berth_buf_append(b, "\"", 1);
}

void shim_logfile_encode(berth_buf *b, const char *stream, const char *attrs, const char *line,
			 size_t len, bool newline, int64_t ts)
{
	berth_buf_puts(b, "{\"log\":");
	if (newline) {
		/* The line and its newline as one string: escape the line, then
		 * put \n inside the closing quote. */
		encode_string(b, line, len);
		b->len--;
		berth_buf_puts(b, "\\n\"");
	} else {
		encode_string(b, line, len);
	}
	berth_buf_puts(b, ",\"stream\":");
	encode_string(b, stream, strlen(stream));
	if (attrs != NULL && *attrs != '\0') {
		berth_buf_puts(b, ",\"attrs\":");
		berth_buf_puts(b, attrs);
	}
	char t[64];
	shim_time_format(ts, t, sizeof(t));
	berth_buf_printf(b, ",\"time\":\"%s\"}\n", t);
}

int shim_logfile_open(const char *path, const shim_log_opts *o, const char *attrs,
		      shim_logfile **out, berth_error **err)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0)
		return berth_error_set_errno(err, errno, "open log file %s", path);
	off_t size = lseek(fd, 0, SEEK_END);
	shim_logfile *lf = berth_xcalloc(1, sizeof(*lf));
	lf->fd = fd;
	lf->path = berth_xstrdup(path);
	lf->size = size < 0 ? 0 : size;
	lf->opts = *o;
	lf->attrs = attrs ? berth_xstrdup(attrs) : NULL;
	*out = lf;
	return 0;
}

static char *numbered(const char *path, int i)
{
	return berth_xasprintf("%s.%d", path, i);
}

/* file.log.N-1 is dropped, the others move up by one, file.log becomes
 * file.log.1; with max-file 1 the file is just started afresh. */
static int rotate(shim_logfile *lf, berth_error **err)
{
	close(lf->fd);
	lf->fd = -1;
	int max = lf->opts.max_file;
	if (max >= 2) {
		char *last cleanup_free = numbered(lf->path, max - 1);
		if (unlink(last) < 0 && errno != ENOENT)
			shim_log("remove %s: %s", last, strerror(errno));
		for (int i = max - 1; i > 1; i--) {
			char *to cleanup_free = numbered(lf->path, i);
			char *from cleanup_free = numbered(lf->path, i - 1);
			if (rename(from, to) < 0 && errno != ENOENT)
				shim_log("rename %s: %s", from, strerror(errno));
		}
		char *first cleanup_free = numbered(lf->path, 1);
		if (rename(lf->path, first) < 0 && errno != ENOENT)
			shim_log("rename %s: %s", lf->path, strerror(errno));
	} else if (unlink(lf->path) < 0 && errno != ENOENT) {
		shim_log("remove %s: %s", lf->path, strerror(errno));
	}
	lf->fd = open(lf->path, O_WRONLY | O_APPEND | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (lf->fd < 0)
		return berth_error_set_errno(err, errno, "open log file %s", lf->path);
	lf->size = 0;
	return 0;
}

int shim_logfile_write(shim_logfile *lf, const char *stream, const char *line, size_t len,
		       bool newline, int64_t ts, berth_error **err)
{
	lf->buf.len = 0;
	shim_logfile_encode(&lf->buf, stream, lf->attrs, line, len, newline, ts);
	if ((lf->opts.max_size >= 0 && lf->size >= lf->opts.max_size) || lf->fd < 0)
		if (rotate(lf, err) < 0)
			return -1;
	if (berth_write_all(lf->fd, lf->buf.data, lf->buf.len) < 0)
		return berth_error_set_errno(err, errno, "write log file %s", lf->path);
	lf->size += (int64_t)lf->buf.len;
	return 0;
}

void shim_logfile_close(shim_logfile *lf)
{
	if (lf == NULL)
		return;
	if (lf->fd >= 0)
		close(lf->fd);
	free(lf->path);
	free(lf->attrs);
	berth_buf_reset(&lf->buf);
	free(lf);
}
