/* Layer extraction: file types, whiteouts, safety, and the byte-exact
 * rebuild of the layer tar from its directory (tar-split). */
#include <archive.h>
#include <archive_entry.h>
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

#include "engine/image/internal.h"

/* ------------------------------------------------------------- fixtures */

typedef struct tar_spec {
	const char *name;
	mode_t type;
	int mode;
	const char *data;     /* file contents, symlink or hardlink target */
	int rdev_major, rdev_minor;
	const char *xattr;    /* "user.k=v" */
} tar_spec;

static int filter_for(const char *compression, struct archive *a)
{
	if (strcmp(compression, "gzip") == 0)
		return archive_write_add_filter_gzip(a);
	if (strcmp(compression, "zstd") == 0)
		return archive_write_add_filter_zstd(a);
	return archive_write_add_filter_none(a);
}

/* Writes a tar (pax) of the entries, compressed as asked, into *out. */
static void make_tar(const tar_spec *specs, size_t n, const char *compression, berth_buf *out)
{
	struct archive *a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	assert_int_equal(filter_for(compression, a), ARCHIVE_OK);
	archive_write_set_bytes_in_last_block(a, 1);
	size_t cap = 1 << 22, used = 0;
	char *mem = malloc(cap);
	assert_int_equal(archive_write_open_memory(a, mem, cap, &used), ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		const tar_spec *s = &specs[i];
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname(e, s->name);
		archive_entry_set_mtime(e, 1700000000 + (time_t)i, 0);
		archive_entry_set_uid(e, 1000 + (la_int64_t)i);
		archive_entry_set_gid(e, 100);
		if (s->type == 0) { /* hard link */
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_perm(e, 0644);
			archive_entry_set_hardlink(e, s->data);
		} else {
			archive_entry_set_filetype(e, s->type);
			archive_entry_set_perm(e, (mode_t)s->mode);
		}
		if (s->type == AE_IFLNK)
			archive_entry_set_symlink(e, s->data);
		if (s->type == AE_IFCHR || s->type == AE_IFBLK) {
			archive_entry_set_rdevmajor(e, (dev_t)s->rdev_major);
			archive_entry_set_rdevminor(e, (dev_t)s->rdev_minor);
		}
		if (s->xattr) {
			const char *eq = strchr(s->xattr, '=');
			char *k = strndup(s->xattr, (size_t)(eq - s->xattr));
			archive_entry_xattr_add_entry(e, k, eq + 1, strlen(eq + 1));
			free(k);
		}
		bool file = s->type == AE_IFREG && s->data;
		archive_entry_set_size(e, file ? (la_int64_t)strlen(s->data) : 0);
		assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
		if (file)
			archive_write_data(a, s->data, strlen(s->data));
		archive_entry_free(e);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	berth_buf_append(out, mem, used);
	free(mem);
}

static char *tmpdir(void)
{
	char *d = strdup("/tmp/berth-unit-XXXXXX");
	assert_non_null(mkdtemp(d));
	return d;
}

static int collect(void *ud, const void *data, size_t len, berth_error **err)
{
	berth_buf_append(ud, data, len);
	return 0;
}

static int extract_buf(const berth_buf *tar, const char *dir, extract_result *res,
		       berth_error **err)
{
	mem_reader m = {.data = tar->data, .len = tar->len, .chunk = 777};
	return layer_extract(mem_read, &m, dir, 0, res, err);
}

/* ---------------------------------------------------------------- tests */

static const tar_spec rich[] = {
	{"./", AE_IFDIR, 0755, NULL, 0, 0, NULL},
	{"etc/", AE_IFDIR, 0755, NULL, 0, 0, NULL},
	{"etc/hostname", AE_IFREG, 0644, "berth\n", 0, 0, "user.origin=unit"},
	{"etc/link", 0, 0, "etc/hostname", 0, 0, NULL},
	{"bin/", AE_IFDIR, 0711, NULL, 0, 0, NULL},
	{"bin/sh", AE_IFLNK, 0777, "busybox", 0, 0, NULL},
	{"bin/busybox", AE_IFREG, 04755, "#!/bin/true\n", 0, 0, NULL},
	{"dev/null", AE_IFCHR, 0666, NULL, 1, 3, NULL},
	{"run/fifo", AE_IFIFO, 0600, NULL, 0, 0, NULL},
	{"var/.wh.cache", AE_IFREG, 0600, NULL, 0, 0, NULL},
	{"opt/.wh..wh..opq", AE_IFREG, 0600, NULL, 0, 0, NULL},
	{"empty", AE_IFREG, 0600, "", 0, 0, NULL},
	{"a/deeply/nested/path/that/is/longer/than/one/hundred/characters/for/the/ustar/"
	 "header/to/need/pax/file.txt", AE_IFREG, 0640, "long\n", 0, 0, NULL},
};

static void check_rich_tree(const char *dir)
{
	char p[512];
	struct stat st, st2;
	snprintf(p, sizeof(p), "%s/diff/etc/hostname", dir);
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(st.st_uid, 1002);
	assert_int_equal(st.st_mtime, 1700000002);
	char val[16] = "";
	assert_int_equal(lgetxattr(p, "user.origin", val, sizeof(val)), 4);
	snprintf(p, sizeof(p), "%s/diff/etc/link", dir);
	assert_int_equal(lstat(p, &st2), 0);
	assert_int_equal(st.st_ino, st2.st_ino);
	snprintf(p, sizeof(p), "%s/diff/bin/sh", dir);
	char target[64] = "";
	assert_int_equal(readlink(p, target, sizeof(target)), 7);
	assert_string_equal(target, "busybox");
	/* a symlink's and a node's owners are the entries', not the creator's */
	assert_int_equal(lstat(p, &st), 0);
	assert_int_equal(st.st_uid, 1005);
	assert_int_equal(st.st_gid, 100);
	snprintf(p, sizeof(p), "%s/diff/dev/null", dir);
	assert_int_equal(lstat(p, &st), 0);
	assert_int_equal(st.st_uid, 1007);
	snprintf(p, sizeof(p), "%s/diff/bin/busybox", dir);
	assert_int_equal(lstat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 04755);
	snprintf(p, sizeof(p), "%s/diff/bin", dir);
	assert_int_equal(lstat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0711);
	assert_int_equal(st.st_mtime, 1700000004);
	snprintf(p, sizeof(p), "%s/diff/dev/null", dir);
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISCHR(st.st_mode));
	assert_int_equal(major(st.st_rdev), 1);
	assert_int_equal(minor(st.st_rdev), 3);
	snprintf(p, sizeof(p), "%s/diff/run/fifo", dir);
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISFIFO(st.st_mode));
	/* whiteouts in overlay's form, and no .wh. files left */
	snprintf(p, sizeof(p), "%s/diff/var/cache", dir);
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISCHR(st.st_mode));
	assert_int_equal(st.st_rdev, makedev(0, 0));
	snprintf(p, sizeof(p), "%s/diff/var/.wh.cache", dir);
	assert_int_equal(lstat(p, &st), -1);
	snprintf(p, sizeof(p), "%s/diff/opt", dir);
	assert_int_equal(lgetxattr(p, "trusted.overlay.opaque", val, sizeof(val)), 1);
	assert_int_equal(val[0], 'y');
}

static void roundtrip(const char *compression)
{
	berth_buf tar = {0}, plain = {0}, rebuilt = {0};
	make_tar(rich, BERTH_ARRAY_SIZE(rich), compression, &tar);
	make_tar(rich, BERTH_ARRAY_SIZE(rich), "none", &plain);
	char *dir = tmpdir();
	extract_result res;
	berth_error *err = NULL;
	int rc = extract_buf(&tar, dir, &res, &err);
	if (rc < 0)
		fail_msg("extract: %s", err->msg);
	check_rich_tree(dir);
	char want[DIGEST_LEN + 1];
	digest_of(plain.data, plain.len, want);
	assert_string_equal(res.diff_id, want);
	digest_of(tar.data, tar.len, want);
	assert_string_equal(res.blob_digest, want);
	assert_int_equal(res.tar_size, (int64_t)plain.len);
	/* 6 + 12 (file) + 7 (symlink) + 5 (long) bytes: hard links count once */
	assert_int_equal(res.size, 6 + 12 + 7 + 5);
	rc = tarsplit_assemble(dir, res.diff_id, collect, &rebuilt, &err);
	if (rc < 0)
		fail_msg("assemble: %s", err->msg);
	assert_int_equal(rebuilt.len, plain.len);
	assert_memory_equal(rebuilt.data, plain.data, plain.len);
	remove_tree(dir);
	free(dir);
	berth_buf_reset(&tar);
	berth_buf_reset(&plain);
	berth_buf_reset(&rebuilt);
}

static void test_roundtrip_plain(void **state) { roundtrip("none"); }
static void test_roundtrip_gzip(void **state) { roundtrip("gzip"); }
static void test_roundtrip_zstd(void **state) { roundtrip("zstd"); }

/* With the blob hashed by the caller, extraction hashes only what it
 * decompressed: nothing at all for a plain tar, the diff ID for gzip. */
static void test_blob_elsewhere(void **state)
{
	const char *kinds[] = {"none", "gzip"};
	for (size_t k = 0; k < BERTH_ARRAY_SIZE(kinds); k++) {
		berth_buf tar = {0}, plain = {0};
		make_tar(rich, BERTH_ARRAY_SIZE(rich), kinds[k], &tar);
		make_tar(rich, BERTH_ARRAY_SIZE(rich), "none", &plain);
		char *dir = tmpdir();
		extract_result res;
		berth_error *err = NULL;
		mem_reader m = {.data = tar.data, .len = tar.len, .chunk = 777};
		if (layer_extract(mem_read, &m, dir, LAYER_BLOB_ELSEWHERE, &res, &err) < 0)
			fail_msg("extract: %s", err->msg);
		check_rich_tree(dir);
		assert_string_equal(res.blob_digest, "");
		char want[DIGEST_LEN + 1] = "";
		if (k > 0)
			digest_of(plain.data, plain.len, want);
		assert_string_equal(res.diff_id, want);
		assert_int_equal(res.tar_size, (int64_t)plain.len);
		remove_tree(dir);
		free(dir);
		berth_buf_reset(&tar);
		berth_buf_reset(&plain);
	}
}

/* A tar written by GNU tar from a real tree (busybox), in each format GNU tar
 * writes, rebuilds to the same bytes. */
static void test_roundtrip_gnu_tar(void **state)
{
	if (access("/bin/busybox", R_OK) != 0)
		skip();
	const char *formats[] = {"gnu", "posix", "ustar"};
	char *src = tmpdir();
	char cmd[1024];
	snprintf(cmd, sizeof(cmd),
		 "mkdir -p %s/root/bin %s/root/etc && cp /bin/busybox %s/root/bin/ && "
		 "ln -s busybox %s/root/bin/sh && echo hi > %s/root/etc/motd && "
		 "ln %s/root/etc/motd %s/root/etc/motd2", src, src, src, src, src, src, src);
	assert_int_equal(system(cmd), 0);
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(formats); i++) {
		snprintf(cmd, sizeof(cmd), "tar --format=%s -C %s/root -cf %s/layer.tar .",
			 formats[i], src, src);
		assert_int_equal(system(cmd), 0);
		snprintf(cmd, sizeof(cmd), "%s/layer.tar", src);
		berth_buf tar = {0}, rebuilt = {0};
		char *data;
		size_t len;
		assert_int_equal(berth_file_read_all(cmd, &data, &len, NULL), 0);
		berth_buf_append(&tar, data, len);
		free(data);
		char *dir = tmpdir();
		extract_result res;
		berth_error *err = NULL;
		if (extract_buf(&tar, dir, &res, &err) < 0)
			fail_msg("%s: %s", formats[i], err->msg);
		assert_int_equal(tarsplit_assemble(dir, res.diff_id, collect, &rebuilt, &err), 0);
		assert_int_equal(rebuilt.len, tar.len);
		assert_memory_equal(rebuilt.data, tar.data, tar.len);
		remove_tree(dir);
		free(dir);
		berth_buf_reset(&tar);
		berth_buf_reset(&rebuilt);
	}
	remove_tree(src);
	free(src);
}

static void expect_refused(const tar_spec *specs, size_t n, const char *needle)
{
	berth_buf tar = {0};
	make_tar(specs, n, "none", &tar);
	char *dir = tmpdir();
	char *outside = tmpdir();
	extract_result res;
	berth_error *err = NULL;
	assert_int_equal(extract_buf(&tar, dir, &res, &err), -1);
	assert_non_null(err);
	if (strstr(err->msg, needle) == NULL)
		fail_msg("message \"%s\" lacks \"%s\"", err->msg, needle);
	assert_int_equal(err->status, 400);
	berth_error_free(&err);
	remove_tree(dir);
	free(dir);
	rmdir(outside);
	free(outside);
	berth_buf_reset(&tar);
}

static void test_refuses_dotdot(void **state)
{
	const tar_spec s[] = {{"a/../../evil", AE_IFREG, 0644, "x", 0, 0, NULL}};
	expect_refused(s, 1, "path escapes the layer");
}

static void test_refuses_absolute(void **state)
{
	const tar_spec s[] = {{"/etc/evil", AE_IFREG, 0644, "x", 0, 0, NULL}};
	expect_refused(s, 1, "absolute path");
}

static void test_refuses_symlink_escape(void **state)
{
	const tar_spec abs[] = {
		{"evil", AE_IFLNK, 0777, "/tmp", 0, 0, NULL},
		{"evil/pwned", AE_IFREG, 0644, "x", 0, 0, NULL},
	};
	expect_refused(abs, 2, "escapes the layer through a symlink");
	const tar_spec rel[] = {
		{"a/", AE_IFDIR, 0755, NULL, 0, 0, NULL},
		{"a/up", AE_IFLNK, 0777, "../..", 0, 0, NULL},
		{"a/up/pwned", AE_IFREG, 0644, "x", 0, 0, NULL},
	};
	expect_refused(rel, 3, "escapes the layer through a symlink");
	assert_int_equal(access("/tmp/pwned", F_OK), -1);
}

/* A symlink that stays inside the layer may be walked through. */
static void test_inner_symlink_ok(void **state)
{
	const tar_spec s[] = {
		{"real/", AE_IFDIR, 0755, NULL, 0, 0, NULL},
		{"alias", AE_IFLNK, 0777, "real", 0, 0, NULL},
		{"alias/file", AE_IFREG, 0644, "x", 0, 0, NULL},
	};
	berth_buf tar = {0};
	make_tar(s, 3, "none", &tar);
	char *dir = tmpdir();
	extract_result res;
	berth_error *err = NULL;
	assert_int_equal(extract_buf(&tar, dir, &res, &err), 0);
	char p[512];
	snprintf(p, sizeof(p), "%s/diff/real/file", dir);
	assert_int_equal(access(p, F_OK), 0);
	remove_tree(dir);
	free(dir);
	berth_buf_reset(&tar);
}

static void test_corrupt_gzip(void **state)
{
	berth_buf tar = {0};
	make_tar(rich, BERTH_ARRAY_SIZE(rich), "gzip", &tar);
	tar.data[tar.len / 2] ^= 0x55;
	tar.data[tar.len / 2 + 1] ^= 0x55;
	char *dir = tmpdir();
	extract_result res;
	berth_error *err = NULL;
	assert_int_equal(extract_buf(&tar, dir, &res, &err), -1);
	assert_non_null(err);
	berth_error_free(&err);
	remove_tree(dir);
	free(dir);
	berth_buf_reset(&tar);
}

static void test_truncated(void **state)
{
	berth_buf tar = {0};
	make_tar(rich, BERTH_ARRAY_SIZE(rich), "none", &tar);
	tar.len = 1536 + 100; /* in the middle of an entry */
	char *dir = tmpdir();
	extract_result res;
	berth_error *err = NULL;
	assert_int_equal(extract_buf(&tar, dir, &res, &err), -1);
	assert_non_null(err);
	berth_error_free(&err);
	remove_tree(dir);
	free(dir);
	berth_buf_reset(&tar);
}

static void test_chain_id(void **state)
{
	char a[DIGEST_LEN + 1], b[DIGEST_LEN + 1], want[DIGEST_LEN + 1];
	const char *d1 = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
	const char *d2 = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
	chain_id(NULL, d1, a);
	assert_string_equal(a, d1);
	chain_id(a, d2, b);
	char *joined = berth_xasprintf("%s %s", d1, d2);
	digest_of(joined, strlen(joined), want);
	assert_string_equal(b, want);
	free(joined);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_plain),
		cmocka_unit_test(test_roundtrip_gzip),
		cmocka_unit_test(test_roundtrip_zstd),
		cmocka_unit_test(test_blob_elsewhere),
		cmocka_unit_test(test_roundtrip_gnu_tar),
		cmocka_unit_test(test_refuses_dotdot),
		cmocka_unit_test(test_refuses_absolute),
		cmocka_unit_test(test_refuses_symlink_escape),
		cmocka_unit_test(test_inner_symlink_ok),
		cmocka_unit_test(test_corrupt_gzip),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_chain_id),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
