/* engine/container/logs.c: the follower against a rotation that falls
 * between any two of its opens. logs.c is included so that its fopen can be
 * replaced by one that rotates the log at the k-th open, for every k: each
 * point where a rotation can hit the follower, deterministically. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static FILE *rotating_fopen(const char *path, const char *mode);
#define fopen rotating_fopen
#include "engine/container/logs.c"
#undef fopen

static char *log_path;
static int opens, rotate_at; /* rotate_at: the open before which to rotate (0: none) */
static int first_new, last_new; /* the lines the injected rotation's new file gets */

static void write_lines(int from, int to)
{
	FILE *f = fopen(log_path, "ae");
	assert_non_null(f);
	for (int i = from; i <= to; i++)
		fprintf(f, "{\"log\":\"n %d\\n\",\"stream\":\"stdout\",\"time\":\"2026-12-06T00:00:00Z\"}\n",
			i);
	fclose(f);
}

/* as the shim does with max-file 3: .2 dropped, .1 to .2, the log to .1 */
static void rotate(void)
{
	char *one cleanup_free = berth_xasprintf("%s.1", log_path);
	char *two cleanup_free = berth_xasprintf("%s.2", log_path);
	unlink(two);
	rename(one, two);
	rename(log_path, one);
}

static void injected_rotation(void)
{
	rotate();
	write_lines(first_new, last_new);
	rotate_at = 0;
}

static FILE *rotating_fopen(const char *path, const char *mode)
{
	if (rotate_at > 0 && strncmp(path, log_path, strlen(log_path)) == 0 && ++opens == rotate_at)
		injected_rotation();
	return fopen(path, mode);
}

static void job_init(logs_job *j, berth_buf *out)
{
	char tmpl[] = "/tmp/berth-logs-test.XXXXXX";
	assert_non_null(mkdtemp(tmpl));
	free(log_path);
	log_path = berth_xasprintf("%s/log", tmpl);
	*j = (logs_job){.log_path = log_path, .tty = true, .want_stdout = true, .tail = -1,
			.sink = out};
	opens = 0;
	rotate_at = 0;
}

static void job_end(logs_job *j)
{
	if (j->f)
		fclose(j->f);
	berth_buf_reset(&j->frame);
	berth_buf_reset(&j->text);
	char *cmd cleanup_free = berth_xasprintf("rm -rf \"$(dirname %s)\"", log_path);
	assert_int_equal(system(cmd), 0);
}

static void assert_lines(berth_buf *out, int from, int to)
{
	berth_buf want cleanup_buf = {0};
	for (int i = from; i <= to; i++)
		berth_buf_printf(&want, "n %d\n", i);
	assert_string_equal(out->data ? out->data : "", want.data);
}

/* The follower is at the end of its file; the shim rotated once since (the
 * file it reads is now .1), and rotates again at the k-th open. */
static void test_follow_rotation_at_every_open(void **state)
{
	for (int k = 1; k <= LOGS_MAX_FILES + 4; k++) {
		berth_buf out cleanup_buf = {0};
		logs_job j;
		job_init(&j, &out);
		write_lines(1, 9);
		assert_int_equal(first_pass(&j, NULL), 0);
		out.len = 0;
		write_lines(10, 10);
		rotate();
		write_lines(11, 12);
		first_new = 13, last_new = 14;
		rotate_at = k;
		assert_int_equal(follow_pass(&j, NULL), 0);
		if (rotate_at > 0) /* not reached within this pass: the next one sees it */
			injected_rotation();
		assert_int_equal(follow_pass(&j, NULL), 0);
		assert_int_equal(follow_pass(&j, NULL), 0);
		berth_buf_append(&out, "", 0);
		assert_lines(&out, 10, 14);
		job_end(&j);
	}
}

/* The history's first read, with a rotation at the k-th open. */
static void test_first_pass_rotation_at_every_open(void **state)
{
	for (int k = 1; k <= LOGS_MAX_FILES + 4; k++) {
		berth_buf out cleanup_buf = {0};
		logs_job j;
		job_init(&j, &out);
		write_lines(1, 3);
		rotate();
		write_lines(4, 6);
		rotate_at = k;
		first_new = 7, last_new = 8;
		assert_int_equal(first_pass(&j, NULL), 0);
		if (rotate_at > 0)
			injected_rotation();
		assert_int_equal(follow_pass(&j, NULL), 0);
		berth_buf_append(&out, "", 0);
		assert_lines(&out, 1, 8);
		job_end(&j);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_follow_rotation_at_every_open),
		cmocka_unit_test(test_first_pass_rotation_at_every_open),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	free(log_path);
	return rc;
}
