/*
 * progress.c - dockerd's jsonmessage progress lines, and a reader that
 * reports how far a layer has been read ("Loading layer", "Importing").
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define BAR_WIDTH 50
#define UPDATE_EVERY (512 * 1024)

/* JSONProgress.String() as dockerd renders it for a non-terminal: a bar and
 * "current/total" in decimal units. */
static char *progress_text(int64_t current, int64_t total)
{
	char cur[32], tot[32];
	berth_human_size(current, 4, cur, sizeof(cur));
	if (total <= 0)
		return berth_xasprintf("%8s", cur);
	int pct = (int)((double)current / (double)total * 100) / 2;
	if (pct > BAR_WIDTH)
		pct = BAR_WIDTH;
	berth_buf b = {0};
	berth_buf_puts(&b, "[");
	for (int i = 0; i < pct; i++)
		berth_buf_puts(&b, "=");
	berth_buf_puts(&b, ">");
	for (int i = pct; i < BAR_WIDTH; i++)
		berth_buf_puts(&b, " ");
	berth_buf_puts(&b, "] ");
	berth_human_size(total, 4, tot, sizeof(tot));
	if (current > total)
		berth_buf_printf(&b, "%8s", cur);
	else
		berth_buf_printf(&b, "%8s/%s", cur, tot);
	return berth_buf_steal(&b);
}

json_t *progress_message(const char *id, const char *action, int64_t current, int64_t total)
{
	char *text cleanup_free = progress_text(current, total);
	json_t *detail = json_object();
	if (current)
		json_object_set_new(detail, "current", json_integer(current));
	if (total)
		json_object_set_new(detail, "total", json_integer(total));
	return json_pack("{s:s, s:o, s:s, s:s}", "status", action, "progressDetail", detail,
			 "progress", text, "id", id);
}

json_t *stream_message(const char *text)
{
	return json_pack("{s:s}", "stream", text);
}

/* pkg/progress.Reader: an update every 1% or 512 kB, whichever is less,
 * and one at the end. */
ssize_t progress_read(void *userdata, const void **buf, berth_error **err)
{
	progress_reader *p = userdata;
	ssize_t n = p->inner(p->inner_ud, buf, err);
	if (n < 0 || p->out == NULL)
		return n;
	p->current += n;
	int64_t every = UPDATE_EVERY;
	if (p->total > 0 && p->total / 100 < every)
		every = p->total / 100;
	if (p->current - p->last > every || (n == 0 && !p->done)) {
		p->out(p->out_ud, progress_message(p->id, p->action, p->current, p->total));
		p->last = p->current;
		p->done = (n == 0);
	}
	return n;
}
