/*
 * tarsum.c - the source hashes COPY and ADD put in their history entry
 * ("COPY file:<hex> in /dest "), computed as dockerd's classic builder
 * does, so that the history of an image matches dockerd's and a
 * --cache-from image that dockerd built hits here too.
 *
 * A file's sum is sha256 over tarsum v1's header fields (name, mode, uid,
 * gid, size, typeflag, linkname, uname, gname, devmajor, devminor, no
 * mtime) and then its content. The header is the one dockerd sees: for
 * the context, the client's tar (permission bits only, no user names, as
 * the docker CLI writes it); for a --from image or a download, one made
 * from the file's stat (type bits in the mode, names looked up on the
 * host). A symlink is hashed as the file it resolves to; a directory is
 * "dir:" + sha256 of the sorted sums of everything in it, itself
 * included; several sources are "multi:" + sha256 of their hashes joined.
 */
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "internal.h"

static void hex_of(EVP_MD_CTX *md, char out[65])
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	EVP_DigestFinal_ex(md, d, &n);
	for (unsigned int i = 0; i < n && i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static char type_flag(mode_t m)
{
	return S_ISDIR(m) ? '5' : S_ISLNK(m) ? '2' : S_ISCHR(m) ? '3' : S_ISBLK(m) ? '4'
	       : S_ISFIFO(m) ? '6' : '0';
}

static void user_names(const struct stat *st, char *user, char *group, size_t len)
{
	char buf[4096];
	struct passwd pw, *pwp = NULL;
	struct group gr, *grp = NULL;
	user[0] = group[0] = '\0';
	if (getpwuid_r(st->st_uid, &pw, buf, sizeof(buf), &pwp) == 0 && pwp)
		snprintf(user, len, "%s", pwp->pw_name);
	if (getgrgid_r(st->st_gid, &gr, buf, sizeof(buf), &grp) == 0 && grp)
		snprintf(group, len, "%s", grp->gr_name);
}

/* The sum of one entry whose stat is st; fd (may be -1) reads its content. */
static void sum_entry(const char *name, const struct stat *st, const char *link, int fd,
		      sum_flavor flavor, char out[65])
{
	char user[256] = "", group[256] = "";
	bool lazy = flavor == SUM_LAZY;
	if (lazy)
		user_names(st, user, group, sizeof(user));
	bool dev = S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode);
	char *head cleanup_free = berth_xasprintf(
		"name%s%smode%ld" "uid%ugid%usize%lldtypeflag%clinkname%suname%sgname%sdevmajor%u"
		"devminor%u",
		name, S_ISDIR(st->st_mode) ? "/" : "",
		(long)(lazy ? st->st_mode : st->st_mode & 07777), (unsigned)st->st_uid,
		(unsigned)st->st_gid, S_ISREG(st->st_mode) ? (long long)st->st_size : 0LL,
		type_flag(st->st_mode), link ? link : "", user, group,
		dev ? major(st->st_rdev) : 0, dev ? minor(st->st_rdev) : 0);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	EVP_DigestUpdate(md, head, strlen(head));
	char buf[65536];
	ssize_t r;
	while (S_ISREG(st->st_mode) && fd >= 0 && (r = read(fd, buf, sizeof(buf))) > 0)
		EVP_DigestUpdate(md, buf, (size_t)r);
	hex_of(md, out);
	EVP_MD_CTX_free(md);
}

/* Where a path below root really is, relative to root (symlinks followed
 * inside it); NULL when it does not resolve. */
static char *resolve_rel(int root, const char *rel)
{
	int fd = copy_open_in(root, rel, O_PATH, NULL);
	if (fd < 0)
		return NULL;
	char rp[64], fp[64], rbuf[4096], fbuf[4096];
	snprintf(rp, sizeof(rp), "/proc/self/fd/%d", root);
	snprintf(fp, sizeof(fp), "/proc/self/fd/%d", fd);
	ssize_t rn = readlink(rp, rbuf, sizeof(rbuf) - 1), fn = readlink(fp, fbuf, sizeof(fbuf) - 1);
	close(fd);
	if (rn <= 0 || fn < rn)
		return NULL;
	rbuf[rn] = fbuf[fn] = '\0';
	if (strncmp(fbuf, rbuf, (size_t)rn) != 0)
		return NULL;
	const char *tail = fbuf + rn;
	if (rn == 1) /* the root is "/" */
		tail = fbuf + 1;
	else if (*tail == '/')
		tail++;
	return berth_xstrdup(*tail ? tail : ".");
}

/* dockerd's source.Hash(rel): the sum of what rel resolves to. */
static int sum_path(int root, const char *rel, sum_flavor flavor, char out[65])
{
	char *real cleanup_free = resolve_rel(root, rel);
	if (real == NULL)
		return -1;
	int fd cleanup_close = copy_open_in(root, real, O_RDONLY | O_NOFOLLOW | O_NONBLOCK, NULL);
	if (fd < 0)
		fd = copy_open_in(root, real, O_PATH | O_NOFOLLOW, NULL);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return -1;
	sum_entry(real, &st, NULL, S_ISREG(st.st_mode) ? fd : -1, flavor, out);
	return 0;
}

static void push_sum(char ***sums, size_t *n, const char *hex)
{
	*sums = berth_xrealloc(*sums, (*n + 2) * sizeof(char *));
	(*sums)[(*n)++] = berth_xstrdup(hex);
	(*sums)[*n] = NULL;
}

/* The sums of everything below the directory dfd (rel from the root). An
 * entry that is no symlink is where the walk found it: it is read through
 * dfd; a symlink is hashed as what it resolves to, if anything. */
static void walk(int root, int dfd, const char *rel, sum_flavor flavor, char ***sums, size_t *n)
{
	char **names = copy_list_dir(dfd, NULL);
	for (char **nm = names; nm && *nm; nm++) {
		char *child cleanup_free = strcmp(rel, ".") ? berth_xasprintf("%s/%s", rel, *nm)
							    : berth_xstrdup(*nm);
		char hex[65];
		struct stat st;
		if (fstatat(dfd, *nm, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISLNK(st.st_mode)) {
			if (sum_path(root, child, flavor, hex) == 0)
				push_sum(sums, n, hex);
			continue;
		}
		int fd cleanup_close = S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)
			? openat(dfd, *nm, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0))
			: -1;
		sum_entry(child, &st, NULL, S_ISREG(st.st_mode) ? fd : -1, flavor, hex);
		push_sum(sums, n, hex);
		if (S_ISDIR(st.st_mode) && fd >= 0)
			walk(root, fd, child, flavor, sums, n);
	}
	berth_strv_free(names);
}

/* prefix + ":" + sha256 of the strings joined with ",". */
static char *hash_list(const char *prefix, char *const *v, size_t n)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	for (size_t i = 0; i < n; i++) {
		if (i)
			EVP_DigestUpdate(md, ",", 1);
		EVP_DigestUpdate(md, v[i], strlen(v[i]));
	}
	char hex[65];
	hex_of(md, hex);
	EVP_MD_CTX_free(md);
	return berth_xasprintf("%s:%s", prefix, hex);
}

char *sum_source(int root, const char *rel, sum_flavor flavor)
{
	char hex[65];
	int fd cleanup_close = copy_open_in(root, rel, O_PATH, NULL);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return berth_xstrdup(rel);
	if (!S_ISDIR(st.st_mode))
		return sum_path(root, rel, flavor, hex) == 0 ? berth_xasprintf("file:%s", hex)
							     : berth_xstrdup(rel);
	char **sums = berth_xcalloc(1, sizeof(char *));
	size_t n = 0;
	char *real cleanup_free = resolve_rel(root, rel);
	if (real && strcmp(real, ".") != 0 && sum_path(root, real, flavor, hex) == 0)
		push_sum(&sums, &n, hex);
	int dfd cleanup_close = copy_open_in(root, real ? real : rel, O_RDONLY | O_DIRECTORY, NULL);
	if (dfd >= 0)
		walk(root, dfd, real ? real : rel, flavor, &sums, &n);
	qsort(sums, n, sizeof(char *), build_str_cmp);
	char *out = hash_list("dir", sums, n);
	berth_strv_free(sums);
	return out;
}

char *sum_file(const char *path, const char *name, const struct stat *st)
{
	int fd cleanup_close = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return berth_xstrdup(name);
	char hex[65];
	sum_entry(name, st, NULL, fd, SUM_LAZY, hex);
	return berth_xstrdup(hex);
}

char *sum_sources(char *const *hashes, size_t n)
{
	return n == 1 ? berth_xstrdup(hashes[0]) : hash_list("multi", hashes, n);
}
