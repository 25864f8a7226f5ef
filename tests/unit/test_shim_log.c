/* shim/: dockerd's line splitting, the json-file entry format and rotation,
 * log options, Docker's time format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "shim/internal.h"

/* ------------------------------------------------------------- the copier */

typedef struct entry {
	char *line;
	size_t len;
	bool newline;
	int64_t ts;
} entry;

static entry entries[64];
static size_t nentries;
static int64_t fake_clock;

static int64_t fake_now(void)
{
	return ++fake_clock;
}

static void collect(void *data, const char *line, size_t len, bool newline, int64_t ts)
{
	assert_true(nentries < BERTH_ARRAY_SIZE(entries));
	entries[nentries++] = (entry){berth_xstrndup(line, len), len, newline, ts};
}

static void reset_entries(void)
{
	for (size_t i = 0; i < nentries; i++)
		free(entries[i].line);
	nentries = 0;
	fake_clock = 0;
}

static void copier_new(shim_copier *c)
{
	reset_entries();
	shim_copier_init(c, collect, NULL);
	c->now = fake_now;
}

static void test_copier_lines(void **state)
{
	shim_copier c;
	copier_new(&c);
	shim_copier_feed(&c, "one\ntw", 6);
	assert_int_equal(nentries, 1);
	assert_string_equal(entries[0].line, "one");
	assert_true(entries[0].newline);
	shim_copier_feed(&c, "o\n\nthree", 8);
	assert_int_equal(nentries, 3);
	assert_string_equal(entries[1].line, "two");
	assert_string_equal(entries[2].line, ""); /* an empty line is an entry */
	assert_true(entries[2].newline);
	/* what is left at EOF is a partial entry: no newline */
	shim_copier_eof(&c);
	assert_int_equal(nentries, 4);
	assert_string_equal(entries[3].line, "three");
	assert_false(entries[3].newline);
	/* each complete line has its own time */
	assert_true(entries[0].ts < entries[1].ts && entries[1].ts < entries[2].ts);
	shim_copier_eof(&c);
	assert_int_equal(nentries, 4);
	reset_entries();
}

static void test_copier_partial(void **state)
{
	shim_copier c;
	copier_new(&c);
	size_t n = SHIM_LINE_MAX * 2 + 100;
	char *big = berth_xmalloc(n + 1);
	memset(big, 'a', n);
	big[n] = '\n';
	/* fed in odd chunks: the cut is at 16 KiB whatever the reads were */
	for (size_t off = 0; off <= n; off += 1000)
		shim_copier_feed(&c, big + off, off + 1000 <= n + 1 ? 1000 : n + 1 - off);
	assert_int_equal(nentries, 3);
	assert_int_equal(entries[0].len, SHIM_LINE_MAX);
	assert_false(entries[0].newline);
	assert_int_equal(entries[1].len, SHIM_LINE_MAX);
	assert_false(entries[1].newline);
	assert_int_equal(entries[2].len, 100);
	assert_true(entries[2].newline);
	/* all pieces of one line share the time of the first */
	assert_true(entries[0].ts == entries[1].ts && entries[1].ts == entries[2].ts);
	/* the next line has its own time again */
	shim_copier_feed(&c, "next\n", 5);
	assert_true(entries[3].ts > entries[2].ts);
	free(big);
	shim_copier_free(&c);
	reset_entries();
}

static void test_copier_full_buffer_after_line(void **state)
{
	/* "x\n" then 16 KiB without a newline: the line goes out, and the
	 * partial is cut when 16 KiB of the unterminated run are buffered. */
	shim_copier c;
	copier_new(&c);
	char *buf = berth_xmalloc(SHIM_LINE_MAX + 10);
	memcpy(buf, "x\n", 2);
	memset(buf + 2, 'b', SHIM_LINE_MAX + 8);
	shim_copier_feed(&c, buf, SHIM_LINE_MAX + 10);
	assert_int_equal(nentries, 2);
	assert_string_equal(entries[0].line, "x");
	assert_int_equal(entries[1].len, SHIM_LINE_MAX);
	shim_copier_eof(&c);
	assert_int_equal(nentries, 3);
	assert_int_equal(entries[2].len, 8);
	assert_int_equal(entries[2].ts, entries[1].ts);
	free(buf);
	reset_entries();
}

/* --------------------------------------------------------- the entry format */

#define TS 1764204985123456789LL /* 2025-11-27T00:56:25.123456789Z */

static char *encode(const char *stream, const char *attrs, const char *line, size_t len,
		    bool newline, int64_t ts)
{
	berth_buf b = {0};
	shim_logfile_encode(&b, stream, attrs, line, len, newline, ts);
	return berth_buf_steal(&b);
}

static void test_encode_docker_format(void **state)
{
	char *s = encode("stdout", NULL, "hello", 5, true, TS);
	assert_string_equal(s, "{\"log\":\"hello\\n\",\"stream\":\"stdout\","
			       "\"time\":\"2025-11-27T00:56:25.123456789Z\"}\n");
	free(s);
	s = encode("stderr", "{\"tag\":\"x\"}", "part", 4, false, TS);
	assert_string_equal(s, "{\"log\":\"part\",\"stream\":\"stderr\",\"attrs\":{\"tag\":\"x\"},"
			       "\"time\":\"2025-11-27T00:56:25.123456789Z\"}\n");
	free(s);
}

static void test_encode_escaping(void **state)
{
	/* Go's HTML-safe escaping as in jsonlog: \n and \r short, other
	 * controls \u00XX (tab too), <>& escaped, quotes and backslashes. */
	const char in[] = "a\"b\\c\td\re<f>&g\x01";
	char *s = encode("stdout", NULL, in, sizeof(in) - 1, false, TS);
	assert_non_null(strstr(s, "\"log\":\"a\\\"b\\\\c\\u0009d\\re\\u003cf\\u003e\\u0026g\\u0001\""));
	free(s);
	/* valid UTF-8 passes, invalid bytes become U+FFFD, U+2028 escaped */
	const char utf[] = "\xc3\xa9\xe2\x82\xac\xf0\x9f\x9a\x80|\xff|\xe2\x82|\xe2\x80\xa8|\xed\xa0\x80";
	s = encode("stdout", NULL, utf, sizeof(utf) - 1, false, TS);
	assert_non_null(strstr(s, "\"log\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x9a\x80|\\ufffd|\\ufffd\\ufffd|"
				  "\\u2028|\\ufffd\\ufffd\\ufffd\""));
	free(s);
	/* NUL bytes are data */
	s = encode("stdout", NULL, "a\0b", 3, true, TS);
	assert_non_null(strstr(s, "\"log\":\"a\\u0000b\\n\""));
	free(s);
}

static void test_time_format(void **state)
{
	char t[64];
	shim_time_format(TS, t, sizeof(t));
	assert_string_equal(t, "2025-11-27T00:56:25.123456789Z");
	/* RFC3339Nano trims trailing zeros, and the fraction when it is 0 */
	shim_time_format(1764204985120000000LL, t, sizeof(t));
	assert_string_equal(t, "2025-11-27T00:56:25.12Z");
	shim_time_format(1764204985000000000LL, t, sizeof(t));
	assert_string_equal(t, "2025-11-27T00:56:25Z");
	shim_time_format(1764204985000000001LL, t, sizeof(t));
	assert_string_equal(t, "2025-11-27T00:56:25.000000001Z");
	/* the calendar (no gmtime in the shim): leap days, centuries, 1970 */
	static const struct {
		int64_t secs;
		const char *want;
	} dates[] = {
		{0, "1970-01-01T00:00:00Z"},	       {951782400, "2000-02-29T00:00:00Z"},
		{1709251199, "2024-02-29T23:59:59Z"}, {4107542400, "2100-03-01T00:00:00Z"},
		{9223372036, "2262-04-11T23:47:16Z"}, {-86400, "1969-12-31T00:00:00Z"},
	};
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(dates); i++) {
		shim_time_format(dates[i].secs * 1000000000LL, t, sizeof(t));
		assert_string_equal(t, dates[i].want);
	}
	shim_time_format(-1, t, sizeof(t));
	assert_string_equal(t, "1969-12-31T23:59:59.999999999Z");
}

/* ------------------------------------------------------------- log options */

static void test_log_opts(void **state)
{
	shim_log_opts o;
	shim_log_opts_init(&o);
	assert_int_equal(o.max_size, -1);
	assert_int_equal(o.max_file, 1);
	berth_error *err = NULL;
	assert_int_equal(shim_log_opt_parse(&o, "max-size=10m", &err), 0);
	assert_int_equal(o.max_size, 10 * 1024 * 1024);
	assert_int_equal(shim_log_opt_parse(&o, "max-file=5", &err), 0);
	assert_int_equal(o.max_file, 5);
	assert_int_equal(shim_log_opt_parse(&o, "compress=false", &err), 0);
	assert_int_equal(shim_log_opt_parse(&o, "max-size=abc", &err), -1);
	assert_string_equal(err->msg, "invalid size: 'abc'");
	berth_error_free(&err);
	assert_int_equal(shim_log_opt_parse(&o, "max-size=0", &err), -1);
	assert_string_equal(err->msg, "max-size must be a positive number");
	berth_error_free(&err);
	assert_int_equal(shim_log_opt_parse(&o, "max-file=0", &err), -1);
	assert_string_equal(err->msg, "max-file cannot be less than 1");
	berth_error_free(&err);
	assert_int_equal(shim_log_opt_parse(&o, "max-file=x", &err), -1);
	assert_string_equal(err->msg, "strconv.Atoi: parsing \"x\": invalid syntax");
	berth_error_free(&err);
	assert_int_equal(shim_log_opt_parse(&o, "mode=non-blocking", &err), -1);
	assert_string_equal(err->msg, "unknown log opt 'mode' for json-file log driver");
	assert_int_equal(err->status, 400);
	berth_error_free(&err);
}

static void test_ram_in_bytes(void **state)
{
	static const struct {
		const char *in;
		int64_t out;
	} ok[] = {
		{"100", 100}, {"10k", 10240}, {"10K", 10240}, {"10kb", 10240}, {"10KiB", 10240},
		{"1.5m", 1572864}, {"1g", 1073741824LL}, {"2 MB", 2097152}, {"1t", 1099511627776LL},
		{"7b", 7},
	};
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(ok); i++) {
		int64_t v = -1;
		assert_int_equal(shim_ram_in_bytes(ok[i].in, &v), 0);
		assert_int_equal(v, ok[i].out);
	}
	static const char *const bad[] = {"", "k", "-1", "1x", "1e3", "0x10", "1kk", " 1", "1.5.5"};
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(bad); i++) {
		int64_t v;
		assert_int_equal(shim_ram_in_bytes(bad[i], &v), -1);
	}
}

/* ---------------------------------------------------------------- rotation */

static char *tmpdir(void)
{
	char *d = berth_xstrdup("/tmp/test-shim-log.XXXXXX");
	assert_non_null(mkdtemp(d));
	return d;
}

static size_t count_lines(const char *path)
{
	char *data = NULL;
	size_t len = 0, n = 0;
	if (berth_file_read_all(path, &data, &len, NULL) < 0)
		return 0;
	for (size_t i = 0; i < len; i++)
		n += data[i] == '\n';
	free(data);
	return n;
}

static bool exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

static void test_rotation(void **state)
{
	char *dir = tmpdir();
	char *path = berth_xasprintf("%s/c-json.log", dir);
	shim_log_opts o = {.max_size = 300, .max_file = 3};
	shim_logfile *lf = NULL;
	berth_error *err = NULL;
	assert_int_equal(shim_logfile_open(path, &o, NULL, &lf, &err), 0);
	/* each entry is 87 bytes: 4 fit before the file reaches 300 */
	for (int i = 0; i < 4; i++)
		assert_int_equal(shim_logfile_write(lf, "stdout", "0123456789", 10, true, TS, &err), 0);
	assert_int_equal(count_lines(path), 4);
	char *p1 = berth_xasprintf("%s.1", path), *p2 = berth_xasprintf("%s.2", path),
	     *p3 = berth_xasprintf("%s.3", path);
	assert_false(exists(p1));
	/* the next write rotates first */
	assert_int_equal(shim_logfile_write(lf, "stdout", "0123456789", 10, true, TS, &err), 0);
	assert_int_equal(count_lines(path), 1);
	assert_int_equal(count_lines(p1), 4);
	for (int i = 0; i < 8; i++)
		assert_int_equal(shim_logfile_write(lf, "stderr", "x", 1, false, TS, &err), 0);
	assert_true(exists(p2));
	assert_false(exists(p3)); /* max-file 3: c-json.log, .1, .2 */
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	shim_logfile_close(lf);

	/* reopened, the size is counted from what is there */
	assert_int_equal(shim_logfile_open(path, &o, NULL, &lf, &err), 0);
	size_t before = count_lines(path);
	assert_int_equal(shim_logfile_write(lf, "stdout", "y", 1, true, TS, &err), 0);
	assert_true(count_lines(path) == before + 1 || count_lines(path) == 1);
	shim_logfile_close(lf);

	/* max-file 1: the file starts afresh, nothing is kept */
	shim_log_opts one = {.max_size = 100, .max_file = 1};
	unlink(p1);
	unlink(p2);
	assert_int_equal(shim_logfile_open(path, &one, NULL, &lf, &err), 0);
	for (int i = 0; i < 5; i++)
		assert_int_equal(shim_logfile_write(lf, "stdout", "z", 1, true, TS, &err), 0);
	assert_false(exists(p1));
	assert_int_equal(count_lines(path), 1);
	shim_logfile_close(lf);

	unlink(path);
	rmdir(dir);
	free(p1);
	free(p2);
	free(p3);
	free(path);
	free(dir);
}

static void test_logfile_open_error(void **state)
{
	shim_log_opts o;
	shim_log_opts_init(&o);
	shim_logfile *lf = NULL;
	berth_error *err = NULL;
	assert_int_equal(shim_logfile_open("/nonexistent/dir/x.log", &o, NULL, &lf, &err), -1);
	assert_non_null(strstr(err->msg, "no such file or directory"));
	berth_error_free(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_copier_lines),
		cmocka_unit_test(test_copier_partial),
		cmocka_unit_test(test_copier_full_buffer_after_line),
		cmocka_unit_test(test_encode_docker_format),
		cmocka_unit_test(test_encode_escaping),
		cmocka_unit_test(test_time_format),
		cmocka_unit_test(test_log_opts),
		cmocka_unit_test(test_ram_in_bytes),
		cmocka_unit_test(test_rotation),
		cmocka_unit_test(test_logfile_open_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
