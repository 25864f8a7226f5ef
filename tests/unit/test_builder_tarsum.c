/* COPY/ADD source hashes: the values dockerd 20.10's classic builder put
 * in its history for the same files (tests/compat/build_dockerd.bats
 * compares them live where dockerd is installed). */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "builder/internal.h"

static char dir[] = "/tmp/berth-tarsum-XXXXXX";
static int root = -1;

static void put(const char *rel, const char *content, mode_t mode)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

static void mkdir_in(const char *rel, mode_t mode)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	assert_int_equal(mkdir(path, mode), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static int setup(void **state)
{
	if (mkdtemp(dir) == NULL)
		return -1;
	chmod(dir, 0755);
	mkdir_in("dir", 0755);
	put("dir/a.txt", "a\n", 0600);
	mkdir_in("dir/sub", 0750);
	put("dir/sub/b.txt", "b\n", 0644);
	char link[512];
	snprintf(link, sizeof(link), "%s/dir/link", dir);
	if (symlink("a.txt", link) < 0)
		return -1;
	put("one.md", "x\n", 0644);
	put("two.md", "y\n", 0644);
	root = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return root < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	close(root);
	berth_remove_all(dir, NULL);
	return 0;
}

static void expect(char *got, const char *want)
{
	assert_string_equal(got, want);
	free(got);
}

static void test_context_hashes(void **state)
{
	if (getuid() != 0)
		skip(); /* the owners are part of the hash: dockerd's files were root's */
	expect(sum_source(root, "dir/a.txt", SUM_ARCHIVE),
	       "file:3e31c99992a7d4fdb8c1efd4989acce6a96e1c642d587c40c3eeaf5b7f13f9f9");
	/* a directory: everything in it, links as what they point to */
	expect(sum_source(root, "dir", SUM_ARCHIVE),
	       "dir:6ac326b1d40b7b7d8337b243f2adb042a8a9b6982871d833cbe4beeab4f226a8");
	char *md[] = {sum_source(root, "one.md", SUM_ARCHIVE), sum_source(root, "two.md", SUM_ARCHIVE)};
	expect(sum_sources(md, 2),
	       "multi:3c40445a6fb111573014509419b3f889c279c10ccc669571ee3cfee2f2fe40fb");
	expect(sum_sources(md, 1), md[0]);
	free(md[0]);
	free(md[1]);
}

static void test_missing(void **state)
{
	/* dockerd falls back to the path itself */
	expect(sum_source(root, "nope", SUM_ARCHIVE), "nope");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_context_hashes),
		cmocka_unit_test(test_missing),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
