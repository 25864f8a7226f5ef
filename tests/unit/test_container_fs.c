/* What GET /containers/{id}/changes reports for an overlay upper dir over
 * its image's layers (berth_container_fs_changes): dockerd's OverlayChanges,
 * walk order, whiteouts and opaque directories as deletions, parents of
 * additions and deletions as modifications, unchanged parents left out, and
 * the runtime's empty mount points (/etc/hosts...) left out. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <cmocka.h>

#include "engine/container/container.h"

typedef struct fixture {
	char *dir, *upper, *lower1, *lower2;
} fixture;

static void rm_rf(const char *path)
{
	char *cmd = berth_xasprintf("rm -rf '%s'", path);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", path);
	free(cmd);
}

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	f->dir = strdup("/tmp/berth-cfs-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	f->upper = berth_xasprintf("%s/upper", f->dir);
	f->lower1 = berth_xasprintf("%s/lower1", f->dir);
	f->lower2 = berth_xasprintf("%s/lower2", f->dir);
	mkdir(f->upper, 0755);
	mkdir(f->lower1, 0755);
	mkdir(f->lower2, 0755);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	rm_rf(f->dir);
	free(f->upper);
	free(f->lower1);
	free(f->lower2);
	free(f->dir);
	free(f);
	return 0;
}

static char *at(const char *root, const char *rel)
{
	return berth_xasprintf("%s/%s", root, rel);
}

static void mk_dir(const char *root, const char *rel)
{
	char *p = at(root, rel);
	assert_int_equal(mkdir(p, 0755), 0);
	chmod(p, 0755);
	free(p);
}

static void put(const char *root, const char *rel, const char *data)
{
	char *p = at(root, rel);
	assert_int_equal(berth_file_write_atomic(p, data, strlen(data), 0644, NULL), 0);
	free(p);
}

static void whiteout(const char *root, const char *rel)
{
	char *p = at(root, rel);
	if (mknod(p, S_IFCHR | 0600, makedev(0, 0)) < 0)
		fail_msg("mknod %s: %s (the test needs root)", p, strerror(errno));
	free(p);
}

/* Gives dir the times of the same dir in another tree (after its
 * contents are in). */
static void same_times(const char *from_root, const char *to_root, const char *rel)
{
	char *a = at(from_root, rel), *b = at(to_root, rel);
	struct stat st;
	assert_int_equal(stat(a, &st), 0);
	struct timespec ts[2] = {st.st_atim, st.st_mtim};
	assert_int_equal(utimensat(AT_FDCWD, b, ts, 0), 0);
	free(a);
	free(b);
}

/* The changes as "K /path" lines, Docker's letters. */
static char *render(const json_t *changes)
{
	berth_buf b = {0};
	size_t i;
	json_t *c;
	json_array_foreach(changes, i, c) {
		int kind = (int)json_integer_value(json_object_get(c, "Kind"));
		berth_buf_printf(&b, "%c %s\n", "CAD"[kind], berth_json_string(c, "Path"));
	}
	return berth_buf_steal(&b);
}

static char *changes_of(fixture *f)
{
	char *lowers[] = {f->lower1, f->lower2, NULL};
	json_t *out = NULL;
	berth_error *err = NULL;
	if (berth_container_fs_changes(f->upper, lowers, &out, &err) < 0)
		fail_msg("changes: %s", err->msg);
	char *text = render(out);
	json_decref(out);
	return text;
}

static void test_changes(void **state)
{
	fixture *f = *state;
	/* the image: lower2 below lower1 */
	mk_dir(f->lower2, "etc");
	put(f->lower2, "etc/passwd", "root:x:0:0::/:/bin/sh\n");
	put(f->lower2, "etc/group", "root:x:0:\n");
	put(f->lower2, "old", "old\n");
	mk_dir(f->lower1, "dir");
	put(f->lower1, "dir/a", "a\n");
	mk_dir(f->lower1, "keep");
	put(f->lower1, "keep/x", "x\n");
	mk_dir(f->lower1, "same");
	put(f->lower1, "same/z", "z\n");

	/* the container: an opaque /dir (deleted, then made again) */
	mk_dir(f->upper, "dir");
	char *p = at(f->upper, "dir");
	if (setxattr(p, "trusted.overlay.opaque", "y", 1, 0) < 0)
		fail_msg("setxattr: %s (the test needs root)", strerror(errno));
	free(p);
	put(f->upper, "dir/b", "b\n");
	/* /etc: a deleted file, a modified one, the runtime's mount point */
	mk_dir(f->upper, "etc");
	whiteout(f->upper, "etc/group");
	put(f->upper, "etc/passwd", "root:x:0:0::/root:/bin/sh\n");
	put(f->upper, "etc/hosts", "");
	/* /keep: copied up unchanged, with a new file */
	mk_dir(f->upper, "keep");
	put(f->upper, "keep/y", "y\n");
	same_times(f->lower1, f->upper, "keep");
	/* /same: copied up only as a parent, nothing new in it */
	mk_dir(f->upper, "same");
	same_times(f->lower1, f->upper, "same");
	put(f->upper, "new", "new\n");
	put(f->upper, "old", "changed\n");

	char *got = changes_of(f);
	assert_string_equal(got, "D /dir\n"
				 "A /dir/b\n"
				 "C /etc\n"
				 "D /etc/group\n"
				 "C /etc/passwd\n"
				 "C /keep\n"
				 "A /keep/y\n"
				 "A /new\n"
				 "C /old\n");
	free(got);
}

static void test_runtime_files(void **state)
{
	fixture *f = *state;
	mk_dir(f->lower1, "etc");
	put(f->lower1, "etc/passwd", "x\n");
	/* a fresh container: only runc's mount points changed /etc */
	mk_dir(f->upper, "etc");
	put(f->upper, "etc/hostname", "");
	put(f->upper, "etc/hosts", "");
	put(f->upper, "etc/resolv.conf", "");
	char *got = changes_of(f);
	assert_string_equal(got, "");
	free(got);
	/* one written to the layer itself is a change */
	put(f->upper, "etc/hosts", "127.0.0.1 x\n");
	got = changes_of(f);
	assert_string_equal(got, "C /etc\nA /etc/hosts\n");
	free(got);
}

static void test_no_upper(void **state)
{
	fixture *f = *state;
	rm_rf(f->upper);
	char *got = changes_of(f);
	assert_string_equal(got, "");
	free(got);
	/* a layer that is missing is skipped, not an error */
	mkdir(f->upper, 0755);
	put(f->upper, "x", "x");
	char *lowers[] = {"/nonexistent/berth/layer", NULL};
	json_t *out = NULL;
	assert_int_equal(berth_container_fs_changes(f->upper, lowers, &out, NULL), 0);
	got = render(out);
	assert_string_equal(got, "A /x\n");
	free(got);
	json_decref(out);
}

/* Symbolic links in the upper dir are never followed (a container owns
 * them), and a lower layer's links are resolved inside the layer. */
static void test_links(void **state)
{
	fixture *f = *state;
	mk_dir(f->lower1, "real");
	put(f->lower1, "real/f", "f\n");
	char *p = at(f->lower1, "abs");
	assert_int_equal(symlink("/real", p), 0);
	free(p);
	mk_dir(f->upper, "real");
	same_times(f->lower1, f->upper, "real");
	p = at(f->upper, "escape");
	assert_int_equal(symlink("/", p), 0);
	free(p);
	p = at(f->upper, "abs");
	assert_int_equal(symlink("/elsewhere", p), 0);
	free(p);
	char *got = changes_of(f);
	assert_string_equal(got, "C /abs\nA /escape\n");
	free(got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_changes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_runtime_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_upper, setup, teardown),
		cmocka_unit_test_setup_teardown(test_links, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
