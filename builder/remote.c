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
#define LIBGIT2_FUNCS(X)                                                              \
	X(git_libgit2_init) X(git_clone) X(git_error_last) X(git_checkout_tree)         \
	X(git_object_free) X(git_object_id) X(git_object_peel) X(git_repository_free)   \
	X(git_repository_set_head_detached) X(git_revparse_single)

static struct {
#define X(f) __typeof__(f) *f;
	LIBGIT2_FUNCS(X)
#undef X
} lg;

#define git_libgit2_init lg.git_libgit2_init
#define git_clone lg.git_clone
#define git_error_last lg.git_error_last
#define git_checkout_tree lg.git_checkout_tree
#define git_object_free lg.git_object_free
#define git_object_id lg.git_object_id
#define git_object_peel lg.git_object_peel
#define git_repository_free lg.git_repository_free
#define git_repository_set_head_detached lg.git_repository_set_head_detached
#define git_revparse_single lg.git_revparse_single

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
	if (berth_lazylib_load("libgit2.so.1.5", names, (void **)&lg, BERTH_ARRAY_SIZE(names),
			       &git_load_error) == 0)
		git_libgit2_init();
}

/* Checks out ref ("" : the default branch) as a detached HEAD. */
static int checkout_ref(git_repository *repo, const char *ref, berth_error **err)
{
	if (*ref == '\0')
		return 0;
	char *remote_branch cleanup_free = berth_xasprintf("origin/%s", ref);
	git_object *obj = NULL;
	if (git_revparse_single(&obj, repo, remote_branch) < 0 && git_revparse_single(&obj, repo, ref) < 0)
		return git_fail(ref, err);
	git_object *commit = NULL;
	int rc = git_object_peel(&commit, obj, GIT_OBJECT_COMMIT);
	git_object_free(obj);
	if (rc < 0)
		return git_fail(ref, err);
	git_checkout_options co = GIT_CHECKOUT_OPTIONS_INIT;
	co.checkout_strategy = GIT_CHECKOUT_FORCE;
	rc = git_checkout_tree(repo, commit, &co);
	if (rc == 0)
		rc = git_repository_set_head_detached(repo, git_object_id(commit));
	git_object_free(commit);
	return rc < 0 ? git_fail(ref, err) : 0;
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
	char *sub = df_clean_path(colon ? colon + 1 : ".");
	if (strcmp(sub, "..") == 0 || berth_str_has_prefix(sub, "../") || sub[0] == '/') {
		free(sub);
		return berth_error_set(err, 400, "subdir path out of the repository: %s", colon + 1);
	}
	char *clone_url cleanup_free = berth_str_has_prefix(url, "github.com/")
					       ? berth_xasprintf("https://%s", url) : berth_xstrdup(url);
	git_repository *repo = NULL;
	git_clone_options opts = GIT_CLONE_OPTIONS_INIT;
	int rc = git_clone(&repo, clone_url, dir, &opts) < 0 ? git_fail(clone_url, err) : 0;
	if (rc == 0)
		rc = checkout_ref(repo, ref, err);
	git_repository_free(repo);
	if (rc < 0) {
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
	int rc = ctx_extract_fd(fd, root, ".", NULL, err);
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
