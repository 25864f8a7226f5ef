/* log.c - logging in dockerd's logrus text format, to stderr. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

static berth_log_level current_level = BERTH_LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warning", "error", "fatal"};

int berth_log_level_parse(const char *name, berth_log_level *out)
{
	static const struct {
		const char *name;
		berth_log_level level;
	} names[] = {
		{"debug", BERTH_LOG_DEBUG}, {"info", BERTH_LOG_INFO},	{"warn", BERTH_LOG_WARN},
		{"warning", BERTH_LOG_WARN}, {"error", BERTH_LOG_ERROR}, {"fatal", BERTH_LOG_FATAL},
	};
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(names); i++) {
		if (strcmp(name, names[i].name) == 0) {
			*out = names[i].level;
			return 0;
		}
	}
	return -1;
}

void berth_log_set_level(berth_log_level level)
{
	current_level = level;
}

void berth_log(berth_log_level level, const char *fmt, ...)
{
	if (level < current_level)
		return;
	char ts[64];
	berth_time_format_rfc3339(berth_time_now_ns(), ts, sizeof(ts));
	berth_buf b = {0};
	berth_buf_printf(&b, "time=\"%s\" level=%s msg=\"", ts, level_names[level]);
	va_list ap;
	va_start(ap, fmt);
	berth_buf msg = {0};
	berth_buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	for (size_t i = 0; i < msg.len; i++) {
		char c = msg.data[i];
		if (c == '"' || c == '\\')
			berth_buf_append(&b, "\\", 1);
		if (c == '\n') {
			berth_buf_puts(&b, "\\n");
			continue;
		}
		berth_buf_append(&b, &c, 1);
	}
	berth_buf_puts(&b, "\"\n");
	(void)berth_write_all(2, b.data, b.len);
	berth_buf_reset(&b);
	berth_buf_reset(&msg);
}
