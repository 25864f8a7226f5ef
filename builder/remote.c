/*
 * remote.c - POST /build?remote=: a git repository cloned with libgit2
 * ("URL#ref:subdir", as dockerd's gitutils parses it), or an HTTP(S) URL
 * whose body is a context archive or, when it is not an archive, the
 * Dockerfile itself.
 */
#include <fcntl.h>
#include <errno.h>
#include <git2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/* libgit2, opened the first time a build has a git context (common.h's lazy
 * libraries): most berthd never clone anything. */
#define LIBGIT2_FUNCS(X) \
	X(git_libgit2_init) X(git_libgit2_shutdown) X(git_error_last) X(git_checkout_tree) \
	X(git_object_free) X(git_object_id) X(git_object_lookup_prefix) \
	X(git_oid_fromstrn) X(git_reference_free) X(git_reference_lookup) \
	X(git_reference_peel) X(git_remote_create_with_opts) X(git_remote_fetch) \
	X(git_remote_free) X(git_repository_free) X(git_repository_init) \
	X(git_repository_set_head_detached)

static struct {
#define X(f) __typeof__(f) *f;
	LIBGIT2_FUNCS(X)
#undef X
} lg;

#define git_libgit2_init lg.git_libgit2_init
#define git_libgit2_shutdown lg.git_libgit2_shutdown
#define git_error_last lg.git_error_last
#define git_checkout_tree lg.git_checkout_tree
#define git_object_free lg.git_object_free
#define git_object_id lg.git_object_id
#define git_object_lookup_prefix lg.git_object_lookup_prefix
#define git_oid_fromstrn lg.git_oid_fromstrn
#define git_reference_free lg.git_reference_free
#define git_reference_lookup lg.git_reference_lookup
#define git_reference_peel lg.git_reference_peel
#define git_remote_create_with_opts lg.git_remote_create_with_opts
#define git_remote_fetch lg.git_remote_fetch
#define git_remote_free lg.git_remote_free
#define git_repository_free lg.git_repository_free
#define git_repository_init lg.git_repository_init
#define git_repository_set_head_detached lg.git_repository_set_head_detached

static bool is_git_url(const char *s)
{
	const char *hash = strchr(s, '#');
	size_t n = hash ? (size_t)(hash - s) : strlen(s);
	return berth_str_has_prefix(s, "git://") || berth_str_has_prefix(s, "git@") ||
	       berth_str_has_prefix(s, "github.com/") ||
	       (n > 4 && strncmp(s + n - 4, ".git", 4) == 0 &&
		(berth_str_has_prefix(s, "http://") || berth_str_has_prefix(s, "https://") ||
		 berth_str_has_prefix(s, "file://") || berth_str_has_prefix(s, "ssh://")));
}

static int git_fail(const char *what, berth_error **err)
{
	const git_error *e = git_error_last();
	return berth_error_set(err, 400, "error fetching git context: %s: %s", what,
			       e && e->message ? e->message : "unknown error");
}

static pthread_once_t git_once = PTHREAD_ONCE_INIT;
static berth_error *git_load_error;

static void git_init(void)
{
	static const char *const names[] = {
#define X(f) #f,
		LIBGIT2_FUNCS(X)
#undef X
	};
	berth_lazylib_load("libgit2.so.1.5", names, (void **)&lg, BERTH_ARRAY_SIZE(names),
			   &git_load_error);
}

/* A branch, tag or commit (full or abbreviated) by name. Not through
 * git_revparse_single: libgit2 1.5 leaks a regex match per name that is not
 * found there. */
static int lookup_ref(git_repository *repo, const char *ref, git_object **out)
{
	const char *const forms[] = {"refs/remotes/origin/%s", "refs/tags/%s", "refs/heads/%s", "%s"};
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(forms); i++) {
		char *name cleanup_free = berth_xasprintf(forms[i], ref);
		git_reference *r = NULL;
		if (git_reference_lookup(&r, repo, name) < 0)
			continue;
		int rc = git_reference_peel(out, r, GIT_OBJECT_COMMIT);
		git_reference_free(r);
		return rc;
	}
	size_t len = strlen(ref);
	git_oid oid;
	if (len < 4 || len > GIT_OID_HEXSZ || strspn(ref, "0123456789abcdef") != len ||
	    git_oid_fromstrn(&oid, ref, len) < 0)
		return -1;
	return git_object_lookup_prefix(out, repo, &oid, len, GIT_OBJECT_COMMIT);
}

/* Checks out ref ("HEAD": the remote's default branch) as a detached HEAD. */
static int checkout_ref(git_repository *repo, const char *ref, berth_error **err)
{
	git_object *commit = NULL;
	if (lookup_ref(repo, ref, &commit) < 0)
		return berth_error_set(err, 400, "error fetching git context: %s: no such branch, tag "
						 "or commit", ref);
	git_checkout_options co = GIT_CHECKOUT_OPTIONS_INIT;
	co.checkout_strategy = GIT_CHECKOUT_FORCE;
	int rc = git_checkout_tree(repo, commit, &co);
	if (rc == 0)
		rc = git_repository_set_head_detached(repo, git_object_id(commit));
	git_object_free(commit);
	return rc < 0 ? git_fail(ref, err) : 0;
}

/* Fetches url's branches and tags into a new repository at dir and checks
 * out ref. The remote is anonymous and skips url.*.insteadOf: libgit2 1.5
 * leaks a regex match for each config entry it tries those on. libgit2's
 * state lives only as long as the fetch (its per-thread caches would stay
 * with the pool thread for good). */
static int fetch_checkout(const char *url, const char *dir, const char *ref, berth_error **err)
{
	git_libgit2_init();
	git_repository *repo = NULL;
	git_remote *origin = NULL;
	char *specs[] = {"+HEAD:refs/remotes/origin/HEAD", "+refs/heads/*:refs/remotes/origin/*",
			 "+refs/tags/*:refs/tags/*"};
	git_strarray refspecs = {specs, BERTH_ARRAY_SIZE(specs)};
	git_fetch_options fo = GIT_FETCH_OPTIONS_INIT;
	git_remote_create_options ro = GIT_REMOTE_CREATE_OPTIONS_INIT;
	ro.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF | GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
	int rc = git_repository_init(&repo, dir, 0);
	ro.repository = repo;
	if (rc == 0)
		rc = git_remote_create_with_opts(&origin, url, &ro);
	if (rc == 0)
		rc = git_remote_fetch(origin, &refspecs, &fo, NULL);
	if (rc < 0)
		rc = git_fail(url, err);
	else
		rc = checkout_ref(repo, *ref ? ref : "HEAD", err);
	git_remote_free(origin);
	git_repository_free(repo);
	git_libgit2_shutdown();
	return rc;
}

static int clone_git(const char *remote, const char *dir, char **subdir, berth_error **err)
{
	pthread_once(&git_once, git_init);
	if (git_load_error)
		return berth_error_set(err, 500, "git contexts: %s", git_load_error->msg);
	const char *hash = strchr(remote, '#');
	char *url cleanup_free = berth_xstrndup(remote, hash ? (size_t)(hash - remote) : strlen(remote));
	const char *frag = hash ? hash + 1 : "";
	const char *colon = strchr(frag, ':');
	char *ref cleanup_free = berth_xstrndup(frag, colon ? (size_t)(colon - frag) : strlen(frag));
	char *sub = berth_path_clean(colon ? colon + 1 : ".");
	if (strcmp(sub, "..") == 0 || berth_str_has_prefix(sub, "../") || sub[0] == '/') {
		free(sub);
		return berth_error_set(err, 400, "subdir path out of the repository: %s", colon + 1);
	}
	char *clone_url cleanup_free = berth_str_has_prefix(url, "github.com/")
					       ? berth_xasprintf("https://%s", url) : berth_xstrdup(url);
	if (fetch_checkout(clone_url, dir, ref, err) < 0) {
		free(sub);
		return -1;
	}
	*subdir = sub;
	return 0;
}

/* An HTTP context: an archive is unpacked, anything else is the Dockerfile. */
static int fetch_context(const char *remote, const char *dir, const char *dockerfile,
			 berth_error **err)
{
	if (berth_mkdir_all(dir, 0755, err) < 0)
		return -1;
	char *tmp cleanup_free = berth_xasprintf("%s/.remote-context", dir);
	if (build_fetch(remote, tmp, NULL, err) < 0)
		return -1;
	int fd cleanup_close = open(tmp, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return berth_error_set_errno(err, errno, "open %s", tmp);
	if (!ctx_is_archive(fd)) {
		char *df cleanup_free = berth_xasprintf("%s/%s", dir, dockerfile && *dockerfile ? dockerfile
												: "Dockerfile");
		return rename(tmp, df) < 0 ? berth_error_set_errno(err, errno, "rename %s", df) : 0;
	}
	int root cleanup_close = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	int rc = ctx_extract_fd(fd, root, ".", false, err);
	unlink(tmp);
	return rc;
}

int berth_builder_context_remote(const char *remote, const char *dir, const char *dockerfile,
				 char **subdir, berth_error **err)
{
	*subdir = NULL;
	if (is_git_url(remote))
		return clone_git(remote, dir, subdir, err);
	if (berth_str_has_prefix(remote, "http://") || berth_str_has_prefix(remote, "https://")) {
		*subdir = berth_xstrdup(".");
		return fetch_context(remote, dir, dockerfile, err);
	}
	return berth_error_set(err, 400, "unable to prepare context: unsupported remote context: %s",
			       remote);
}
