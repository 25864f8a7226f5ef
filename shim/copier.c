/*
 * copier.c - dockerd's log copier (daemon/logger/copier.go): output is cut
 * at newlines; a run of SHIM_LINE_MAX bytes without one is flushed as a
 * partial entry, and so is what is left at EOF. All pieces of a long line
 * carry the time of its first piece, so that readers can join them.
 */
#include <stdlib.h>
#include <string.h>

#include "shim/internal.h"

void shim_copier_init(shim_copier *c, shim_line_cb cb, void *data)
{
	memset(c, 0, sizeof(*c));
	c->cb = cb;
	c->data = data;
	c->now = shim_now_ns;
}

void shim_copier_free(shim_copier *c)
{
	free(c->buf);
	c->buf = NULL;
	c->n = 0;
}

/* Emits the complete lines in the buffer; returns the bytes they took. */
static size_t emit_lines(shim_copier *c)
{
	size_t p = 0;
	const char *nl;
	while ((nl = memchr(c->buf + p, '\n', c->n - p)) != NULL) {
		size_t q = (size_t)(nl - (c->buf + p));
		int64_t ts = c->partial ? c->partial_ts : c->now();
		c->partial = false;
		c->cb(c->data, c->buf + p, q, true, ts);
		p += q + 1;
	}
	return p;
}

static void emit_partial(shim_copier *c)
{
	if (c->n == 0)
		return;
	if (!c->partial) {
		c->partial = true;
		c->partial_ts = c->now();
	}
	c->cb(c->data, c->buf, c->n, false, c->partial_ts);
	c->n = 0;
}

void shim_copier_feed(shim_copier *c, const char *data, size_t len)
{
	while (len > 0) {
		if (c->buf == NULL)
			c->buf = berth_xmalloc(SHIM_LINE_MAX);
		size_t take = SHIM_LINE_MAX - c->n;
		if (take > len)
			take = len;
		memcpy(c->buf + c->n, data, take);
		c->n += take;
		data += take;
		len -= take;
		size_t p = emit_lines(c);
		if (p == 0 && c->n == SHIM_LINE_MAX) {
			emit_partial(c);
		} else if (p > 0) {
			memmove(c->buf, c->buf + p, c->n - p);
			c->n -= p;
		}
	}
}

void shim_copier_eof(shim_copier *c)
{
	emit_partial(c);
	c->partial = false;
	shim_copier_free(c);
}
