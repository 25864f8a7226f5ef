/* events.c - `berth events`: streams GET /events and prints each event as it arrives. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef struct events_stream {
	berth_cli *cli;
	berth_format *fmt;
	berth_buf pending; /* bytes of an event not complete yet */
	berth_error *err;  /* why the stream was stopped */
} events_stream;

/* Go's "2006-01-02T15:04:05.000000000Z07:00" in the local time zone. */
static void format_local_time(int64_t ns, char *out, size_t outlen)
{
	time_t secs = (time_t)(ns / 1000000000LL);
	long frac = (long)(ns % 1000000000LL);
	if (frac < 0) {
		frac += 1000000000L;
		secs--;
	}
	struct tm tm;
	localtime_r(&secs, &tm);
	char base[32], zone[32] = "Z";
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	if (tm.tm_gmtoff != 0) {
		long off = tm.tm_gmtoff < 0 ? -tm.tm_gmtoff : tm.tm_gmtoff;
		snprintf(zone, sizeof(zone), "%c%02ld:%02ld", tm.tm_gmtoff < 0 ? '-' : '+',
			 off / 3600, (off / 60) % 60);
	}
	snprintf(out, outlen, "%s.%09ld%s", base, frac, zone);
}

/* docker's prettyPrintEvent: time type action id (k=v, ...), keys sorted. */
static void print_event(const json_t *ev, berth_buf *out)
{
	json_int_t nano = json_integer_value(json_object_get(ev, "timeNano"));
	json_int_t secs = json_integer_value(json_object_get(ev, "time"));
	char when[64];
	if (nano != 0 || secs != 0) {
		format_local_time(nano != 0 ? (int64_t)nano : (int64_t)secs * 1000000000LL, when,
				  sizeof(when));
		berth_buf_printf(out, "%s ", when);
	}
	const json_t *actor = json_object_get(ev, "Actor");
	berth_buf_printf(out, "%s %s %s", berth_cli_str(ev, "Type"), berth_cli_str(ev, "Action"),
			 berth_cli_str(actor, "ID"));
	const json_t *attrs = json_object_get(actor, "Attributes");
	size_t n;
	const char **keys cleanup_free = berth_json_sorted_keys(attrs, &n);
	if (n > 0) {
		berth_buf_puts(out, " (");
		for (size_t i = 0; i < n; i++)
			berth_buf_printf(out, "%s%s=%s", i ? ", " : "", keys[i],
					 berth_cli_str(attrs, keys[i]));
		berth_buf_puts(out, ")");
	}
	berth_buf_puts(out, "\n");
}

/* The event as docker's events.Message holds it: its fields in their order,
 * the attributes a map (sorted keys when marshalled). */
static json_t *go_message(const json_t *ev)
{
	static const char *const order[] = {"status", "id", "from", "Type", "Action",
					    "Actor", "scope", "time", "timeNano"};
	json_t *m = json_object();
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(order); i++) {
		const json_t *v = json_object_get(ev, order[i]);
		if (v == NULL)
			continue;
		if (strcmp(order[i], "Actor") == 0) {
			const json_t *attrs = json_object_get(v, "Attributes");
			size_t n;
			const char **keys cleanup_free = berth_json_sorted_keys(attrs, &n);
			json_t *sorted = json_object();
			for (size_t k = 0; k < n; k++)
				json_object_set(sorted, keys[k], json_object_get(attrs, keys[k]));
			json_object_set_new(m, "Actor", json_pack("{s:s, s:o}", "ID",
								   berth_cli_str(v, "ID"), "Attributes",
								   sorted));
		} else {
			json_object_set(m, order[i], (json_t *)v);
		}
	}
	return m;
}

static const char *const message_renames[] = {"Status", "status", "ID", "id", "From", "from",
					      "Scope", "scope", "Time", "time", "TimeNano",
					      "timeNano", NULL};
static const berth_template_type message_type = {"events.Message", false, message_renames};

static int handle_event(events_stream *s, const char *text, size_t len)
{
	json_t *ev cleanup_json = NULL;
	if (berth_json_parse(text, len, &ev, &s->err) < 0)
		return -1;
	berth_buf out cleanup_buf = {0};
	json_t *msg cleanup_json = go_message(ev);
	if (s->fmt->kind == BERTH_FORMAT_DEFAULT)
		print_event(ev, &out);
	else if (berth_format_row(s->fmt, msg, &out, &s->err) < 0)
		return -1;
	berth_cli_write(s->cli, &out);
	return 0;
}

/* Events are newline-delimited JSON; a chunk may hold several or a part of one. */
static int handle_lines(events_stream *s, bool final)
{
	while (s->pending.len > 0) {
		char *nl = memchr(s->pending.data, '\n', s->pending.len);
		if (nl == NULL && !(final && s->pending.len > 0))
			return 0;
		size_t len = nl ? (size_t)(nl - s->pending.data) : s->pending.len;
		size_t blank = 0;
		while (blank < len && isspace((unsigned char)s->pending.data[blank]))
			blank++;
		if (blank < len && handle_event(s, s->pending.data, len) < 0)
			return -1;
		berth_buf_consume(&s->pending, nl ? len + 1 : len);
	}
	return 0;
}

static int on_chunk(void *userdata, const char *data, size_t len)
{
	events_stream *s = userdata;
	berth_buf_append(&s->pending, data, len);
	return handle_lines(s, false) < 0 ? 1 : 0;
}

/* docker's timetypes.GetTimestamp: durations before now in whole seconds,
 * Unix times as typed, dates as "seconds.nanoseconds". */
int berth_cli_timestamp_query(const char *value, int64_t now, berth_buf *query, const char *name,
			 berth_error **err)
{
	int64_t ns, d;
	if (value == NULL || *value == '\0')
		return 0;
	if (berth_time_parse(value, now, &ns, err) < 0)
		return -1;
	char *enc = NULL;
	if (strcmp(value, "0") != 0 && berth_duration_parse(value, &d, NULL) == 0)
		enc = berth_xasprintf("%lld", (long long)((now - d) / 1000000000LL));
	else if (strspn(value, "0123456789.") == strlen(value))
		enc = berth_xstrdup(value);
	else
		enc = berth_xasprintf("%lld.%09lld", (long long)(ns / 1000000000LL),
				      (long long)(ns % 1000000000LL));
	berth_buf_printf(query, "%s%s=%s", query->len ? "&" : "?", name, enc);
	free(enc);
	return 0;
}

int berth_cli_filter_check(const char *value, berth_error **err)
{
	if (*value && strchr(value, '=') == NULL)
		return berth_error_set(err, 400, "bad format of filter (expected name=value)");
	return 0;
}

static char *trim(const char *s, size_t len)
{
	while (len > 0 && isspace((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	return berth_xstrndup(s, len);
}

/* docker's filters.ParseFlag: keys lowercased, keys and values trimmed. */
berth_filters *berth_cli_filters_parse(const berth_strlist *args)
{
	berth_filters *f = berth_filters_new();
	for (size_t i = 0; args && i < args->n; i++) {
		const char *eq = strchr(args->v[i], '=');
		if (eq == NULL)
			continue;
		char *key cleanup_free = trim(args->v[i], (size_t)(eq - args->v[i]));
		char *value cleanup_free = trim(eq + 1, strlen(eq + 1));
		for (char *p = key; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		berth_filters_add(f, key, value);
	}
	return f;
}

char *berth_cli_filters_param(const berth_filters *f, char lead)
{
	if (berth_filters_empty(f))
		return berth_xstrdup("");
	char *json cleanup_free = berth_filters_encode(f);
	char *enc cleanup_free = berth_url_encode(json);
	return berth_xasprintf("%cfilters=%s", lead, enc);
}

void berth_cli_filters_query(const berth_strlist *args, berth_buf *query)
{
	berth_filters *f cleanup_filters = berth_cli_filters_parse(args);
	char *param cleanup_free = berth_cli_filters_param(f, query->len ? '&' : '?');
	berth_buf_puts(query, param);
}

static int stream_events(berth_cli *cli, const char *path, events_stream *s)
{
	berth_client *c;
	berth_error *err cleanup_error = NULL;
	if (berth_cli_client(cli, &c, &err) < 0)
		return berth_cli_fail(cli, &err, BERTH_EXIT_ERROR);
	long status = 0;
	int r = berth_client_stream(c, "GET", path, NULL, NULL, 0, &status, on_chunk, s, &err);
	if (r == 0 && s->err == NULL)
		handle_lines(s, true);
	if (s->err)
		return berth_cli_fail(cli, &s->err, BERTH_EXIT_ERROR);
	if (r < 0 && status >= 400)
		berth_error_wrap(&err, "Error response from daemon");
	return r < 0 ? berth_cli_fail(cli, &err, BERTH_EXIT_ERROR) : BERTH_EXIT_OK;
}

int berth_cli_events(berth_invocation *inv)
{
	const char *since = NULL, *until = NULL, *format = NULL;
	berth_strlist filters cleanup_strlist = {0};
	berth_flag flags[] = {
		{"filter", 'f', BERTH_FLAG_LIST, &filters, "Filter output based on conditions provided",
		 .type_name = "filter", .check = berth_cli_filter_check},
		{"format", 0, BERTH_FLAG_STRING, &format, BERTH_FORMAT_HELP},
		{"since", 0, BERTH_FLAG_STRING, &since, "Show all events created since timestamp"},
		{"until", 0, BERTH_FLAG_STRING, &until, "Stream events until this timestamp"},
	};
	int status;
	if (!berth_cli_parse(inv, flags, BERTH_ARRAY_SIZE(flags), &status))
		return status;

	berth_format fmt cleanup_format = {.type = &message_type};
	berth_error *err cleanup_error = NULL;
	if (berth_format_init(&fmt, format, NULL, &err) < 0) {
		berth_error_wrap(&err, "Error parsing format");
		return berth_cli_fail(inv->cli, &err, BERTH_EXIT_TEMPLATE);
	}
	berth_buf query cleanup_buf = {0};
	int64_t now = berth_time_now_ns();
	if (berth_cli_timestamp_query(since, now, &query, "since", &err) < 0 ||
	    berth_cli_timestamp_query(until, now, &query, "until", &err) < 0)
		return berth_cli_fail(inv->cli, &err, BERTH_EXIT_ERROR);
	berth_cli_filters_query(&filters, &query);

	char *path cleanup_free = berth_xasprintf("/events%s", query.data ? query.data : "");
	events_stream s = {.cli = inv->cli, .fmt = &fmt};
	status = stream_events(inv->cli, path, &s);
	berth_buf_reset(&s.pending);
	return status;
}
