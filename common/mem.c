/* mem.c - allocation that aborts on exhaustion, growable buffers, cleanups. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

static void out_of_memory(void)
{
	static const char msg[] = "berth: out of memory\n";
	(void)!write(2, msg, sizeof(msg) - 1);
	abort();
}

void *berth_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (p == NULL)
		out_of_memory();
	return p;
}

void *berth_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (p == NULL)
		out_of_memory();
	return p;
}

void *berth_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (q == NULL)
		out_of_memory();
	return q;
}

char *berth_xstrdup(const char *s)
{
	return berth_xstrndup(s, strlen(s));
}

char *berth_xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);
	if (p == NULL)
		out_of_memory();
	return p;
}

char *berth_xasprintf(const char *fmt, ...)
{
	berth_buf b = {0};
	va_list ap;
	va_start(ap, fmt);
	berth_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	return berth_buf_steal(&b);
}

static void buf_reserve(berth_buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;
	if (need <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	b->data = berth_xrealloc(b->data, cap);
	b->cap = cap;
}

void berth_buf_append(berth_buf *b, const void *data, size_t len)
{
	buf_reserve(b, len);
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void berth_buf_puts(berth_buf *b, const char *s)
{
	berth_buf_append(b, s, strlen(s));
}

void berth_buf_vprintf(berth_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return;
	buf_reserve(b, (size_t)n);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void berth_buf_printf(berth_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	berth_buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void berth_buf_consume(berth_buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
	} else {
		memmove(b->data, b->data + n, b->len - n);
		b->len -= n;
	}
	if (b->data)
		b->data[b->len] = '\0';
}

char *berth_buf_steal(berth_buf *b)
{
	char *d = b->data ? b->data : berth_xstrdup("");
	b->data = NULL;
	b->len = b->cap = 0;
	return d;
}

void berth_buf_reset(berth_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void berth_cleanup_buf(berth_buf *b)
{
	berth_buf_reset(b);
}

void berth_cleanup_free(void *p)
{
	free(*(void **)p);
}

void berth_cleanup_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

void berth_cleanup_json(json_t **j)
{
	json_decref(*j);
}

void berth_cleanup_file(FILE **f)
{
	if (*f)
		fclose(*f);
}
