/* The volume module's file trees: copying an image's content up into a
 * volume (types, owners, modes, times, xattrs, hard links, no link
 * following), sizing as dockerd does, removal, and paths resolved inside a
 * root file system. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <cmocka.h>

#include "engine/volume/internal.h"

typedef struct fixture {
	char *dir, *src, *dst;
} fixture;

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	f->dir = strdup("/tmp/berth-volfs-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	f->src = berth_xasprintf("%s/src", f->dir);
	f->dst = berth_xasprintf("%s/dst", f->dir);
	mkdir(f->src, 0755);
	mkdir(f->dst, 0755);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	fs_remove_tree(f->dir);
	free(f->src);
	free(f->dst);
	free(f->dir);
	free(f);
	return 0;
}

static void put(const char *dir, const char *name, const char *data, int mode)
{
	char *path = berth_xasprintf("%s/%s", dir, name);
	assert_int_equal(berth_file_write_atomic(path, data, strlen(data), mode, NULL), 0);
	chmod(path, (mode_t)mode); /* past the umask */
	free(path);
}

static struct stat stat_of(const char *dir, const char *name)
{
	char *path = berth_xasprintf("%s/%s", dir, name);
	struct stat st;
	if (lstat(path, &st) < 0)
		fail_msg("lstat %s: %s", path, strerror(errno));
	free(path);
	return st;
}

static char *read_file(const char *dir, const char *name)
{
	char *path = berth_xasprintf("%s/%s", dir, name);
	char *data = NULL;
	if (berth_file_read_all(path, &data, NULL, NULL) < 0)
		fail_msg("read %s", path);
	free(path);
	return data;
}

/* A tree with what images hold: nested dirs with odd modes, a set-uid file,
 * hard links, symbolic links (one pointing out of the tree), a fifo. */
static void build_tree(const char *src)
{
	char *sub = berth_xasprintf("%s/sub", src), *deep = berth_xasprintf("%s/sub/deep", src);
	mkdir(sub, 0750);
	chmod(sub, 0750);
	mkdir(deep, 0700);
	put(src, "f", "hello\n", 0644);
	put(src, "sub/tool", "#!/bin/sh\n", 04755);
	put(src, "sub/deep/secret", "s3cr3t", 0600);
	char *a = berth_xasprintf("%s/f", src), *b = berth_xasprintf("%s/sub/f-link", src);
	assert_int_equal(link(a, b), 0);
	char *ln = berth_xasprintf("%s/escape", src), *rel = berth_xasprintf("%s/sub/rel", src);
	assert_int_equal(symlink("/etc/passwd", ln), 0);
	assert_int_equal(symlink("../f", rel), 0);
	char *fifo = berth_xasprintf("%s/pipe", src);
	assert_int_equal(mkfifo(fifo, 0640), 0);
	if (geteuid() == 0) {
		assert_int_equal(chown(sub, 1000, 1001), 0);
		assert_int_equal(lchown(rel, 1002, 1003), 0);
	}
	struct timespec t[2] = {{1600000000, 0}, {1600000000, 0}};
	utimensat(AT_FDCWD, a, t, 0);
	chmod(src, 0711);
	free(sub), free(deep), free(a), free(b), free(ln), free(rel), free(fifo);
}

static void test_copy_tree(void **state)
{
	fixture *f = *state;
	build_tree(f->src);
	char *f_path = berth_xasprintf("%s/f", f->src);
	bool xattrs = setxattr(f_path, "user.berth", "v1", 2, 0) == 0;
	free(f_path);

	berth_error *err = NULL;
	if (fs_copy_tree(f->src, f->dst, &err) < 0)
		fail_msg("copy: %s", err->msg);

	char *data = read_file(f->dst, "f");
	assert_string_equal(data, "hello\n");
	free(data);
	data = read_file(f->dst, "sub/deep/secret");
	assert_string_equal(data, "s3cr3t");
	free(data);
	assert_int_equal(stat_of(f->dst, ".").st_mode & 07777, 0711);
	assert_int_equal(stat_of(f->dst, "sub").st_mode & 07777, 0750);
	assert_int_equal(stat_of(f->dst, "sub/deep").st_mode & 07777, 0700);
	assert_int_equal(stat_of(f->dst, "sub/tool").st_mode & 07777, 04755);
	assert_int_equal(stat_of(f->dst, "f").st_mtim.tv_sec, 1600000000);
	assert_true(S_ISFIFO(stat_of(f->dst, "pipe").st_mode));
	/* hard links stay one file */
	assert_int_equal(stat_of(f->dst, "f").st_ino, stat_of(f->dst, "sub/f-link").st_ino);
	/* links are copied as links, never followed */
	char target[256] = "";
	char *ln = berth_xasprintf("%s/escape", f->dst);
	assert_true(readlink(ln, target, sizeof(target) - 1) > 0);
	assert_string_equal(target, "/etc/passwd");
	free(ln);
	assert_true(S_ISLNK(stat_of(f->dst, "sub/rel").st_mode));
	if (geteuid() == 0) {
		assert_int_equal(stat_of(f->dst, "sub").st_uid, 1000);
		assert_int_equal(stat_of(f->dst, "sub").st_gid, 1001);
		assert_int_equal(stat_of(f->dst, "sub/rel").st_uid, 1002);
	}
	if (xattrs) {
		char value[16] = "";
		char *p = berth_xasprintf("%s/f", f->dst);
		assert_int_equal(getxattr(p, "user.berth", value, sizeof(value)), 2);
		assert_memory_equal(value, "v1", 2);
		free(p);
	}
	assert_false(fs_dir_empty(f->dst));
}

static void test_copy_errors(void **state)
{
	fixture *f = *state;
	berth_error *err = NULL;
	char *missing = berth_xasprintf("%s/missing", f->dir);
	assert_int_equal(fs_copy_tree(missing, f->dst, &err), -1);
	assert_non_null(strstr(err->msg, "no such file"));
	berth_error_free(&err);
	/* a name already in the destination is an error, not an overwrite */
	put(f->src, "same", "new", 0644);
	put(f->dst, "same", "old", 0644);
	assert_int_equal(fs_copy_tree(f->src, f->dst, &err), -1);
	assert_non_null(strstr(err->msg, "copy same"));
	berth_error_free(&err);
	char *data = read_file(f->dst, "same");
	assert_string_equal(data, "old");
	free(data);
	free(missing);
}

static void test_size_and_remove(void **state)
{
	fixture *f = *state;
	assert_int_equal(fs_tree_size(f->src), 0);
	assert_true(fs_dir_empty(f->src));
	put(f->src, "a", "12345", 0644);
	char *sub = berth_xasprintf("%s/d", f->src);
	mkdir(sub, 0755);
	put(f->src, "d/b", "123", 0644);
	char *a = berth_xasprintf("%s/a", f->src), *h = berth_xasprintf("%s/d/hard", f->src);
	assert_int_equal(link(a, h), 0);
	char *s = berth_xasprintf("%s/d/sym", f->src);
	assert_int_equal(symlink("a", s), 0);
	/* files once per inode, the link's own size, directories not counted */
	assert_int_equal(fs_tree_size(f->src), 5 + 3 + 1);
	char *missing = berth_xasprintf("%s/none", f->dir);
	assert_int_equal(fs_tree_size(missing), -1);
	assert_int_equal(fs_remove_tree(f->src), 0);
	struct stat st;
	assert_int_equal(lstat(f->src, &st), -1);
	assert_int_equal(fs_remove_tree(missing), 0);
	free(sub), free(a), free(h), free(s), free(missing);
}

static void expect_scoped(const char *root, const char *dest, const char *want_rel)
{
	char *got = fs_scoped_path(root, dest);
	char *want = berth_xasprintf("%s%s", root, want_rel);
	if (strcmp(got, want) != 0)
		fail_msg("scoped(%s) = %s, want %s", dest, got, want);
	free(got);
	free(want);
}

static void test_scoped_path(void **state)
{
	fixture *f = *state;
	char *p;
	mkdir((p = berth_xasprintf("%s/real", f->src)), 0755), free(p);
	symlink("/real", (p = berth_xasprintf("%s/abs", f->src))), free(p);
	symlink("real", (p = berth_xasprintf("%s/rel", f->src))), free(p);
	symlink("../../../../etc", (p = berth_xasprintf("%s/up", f->src))), free(p);
	symlink("loop2", (p = berth_xasprintf("%s/loop1", f->src))), free(p);
	symlink("loop1", (p = berth_xasprintf("%s/loop2", f->src))), free(p);
	expect_scoped(f->src, "/data", "/data");
	expect_scoped(f->src, "/abs/x", "/real/x");
	expect_scoped(f->src, "/rel/x/", "/real/x");
	expect_scoped(f->src, "/up/passwd", "/etc/passwd");
	expect_scoped(f->src, "/../../x", "/x");
	expect_scoped(f->src, "/", "");
	char *loop = fs_scoped_path(f->src, "/loop1");
	assert_true(berth_str_has_prefix(loop, f->src));
	free(loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_copy_tree, setup, teardown),
		cmocka_unit_test_setup_teardown(test_copy_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_size_and_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scoped_path, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
