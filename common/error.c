/* error.c - the one error convention (see common.h). */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

static int error_vset(berth_error **err, int status, int errnum, const char *fmt, va_list ap)
{
	if (err == NULL)
		return -1;
	berth_error_free(err);
	berth_error *e = berth_xcalloc(1, sizeof(*e));
	berth_buf b = {0};
	berth_buf_vprintf(&b, fmt, ap);
	if (errnum != 0) {
		/* Go's syscall.Errno texts, which docker prints, are strerror's
		 * with a lowercase first letter ("no such file or directory") */
		const char *text = strerror(errnum);
		berth_buf_printf(&b, ": %c%s", tolower((unsigned char)text[0]), text[0] ? text + 1 : "");
	}
	e->status = status;
	e->errnum = errnum;
	e->msg = berth_buf_steal(&b);
	*err = e;
	return -1;
}

int berth_error_set(berth_error **err, int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	error_vset(err, status, 0, fmt, ap);
	va_end(ap);
	return -1;
}

int berth_error_set_errno(berth_error **err, int errnum, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	error_vset(err, 500, errnum, fmt, ap);
	va_end(ap);
	return -1;
}

int berth_error_wrap(berth_error **err, const char *fmt, ...)
{
	if (err == NULL || *err == NULL)
		return -1;
	berth_buf b = {0};
	va_list ap;
	va_start(ap, fmt);
	berth_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	berth_buf_printf(&b, ": %s", (*err)->msg);
	free((*err)->msg);
	(*err)->msg = berth_buf_steal(&b);
	return -1;
}

int berth_error_propagate(berth_error **from, berth_error **to)
{
	if (to == NULL) {
		berth_error_free(from);
		return -1;
	}
	berth_error_free(to);
	*to = *from;
	*from = NULL;
	return -1;
}

void berth_error_free(berth_error **err)
{
	if (err == NULL || *err == NULL)
		return;
	free((*err)->msg);
	free(*err);
	*err = NULL;
}
