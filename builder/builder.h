/*
 * builder.h - the classic builder: Dockerfiles to layered images.
 *
 * Three layers, each usable alone:
 *
 *   - The parser (pure, no I/O): berth_dockerfile_parse turns Dockerfile text
 *     into instructions with dockerd's rules (parser directives, line
 *     continuations, comments inside continuations, JSON/shell forms, the
 *     per-instruction argument shapes) and dockerd's error wording
 *     ("dockerfile parse error on line N: unknown instruction: FOO").
 *   - Word expansion (pure): berth_builder_expand is the shell-style
 *     substitution dockerd applies to the instructions that support it
 *     ($V, ${V}, ${V:-w}, ${V:+w}, ${V-w}, ${V+w}, ${V:?m}, quotes, escapes);
 *     berth_dockerignore_* are .dockerignore's patterns.
 *   - The evaluator: berth_build_run executes a parsed Dockerfile against a
 *     context directory, running RUN steps as containers through the daemon's
 *     own API, committing layers into the image store, and reporting the
 *     classic builder's output stream. It blocks: call it from a thread that
 *     is not berthd's loop.
 */
#ifndef BERTH_BUILDER_H
#define BERTH_BUILDER_H

#include "common.h"

/* ---------------------------------------------------------------- parser */

typedef enum berth_df_cmd {
	BERTH_DF_ADD,
	BERTH_DF_ARG,
	BERTH_DF_CMD,
	BERTH_DF_COPY,
	BERTH_DF_ENTRYPOINT,
	BERTH_DF_ENV,
	BERTH_DF_EXPOSE,
	BERTH_DF_FROM,
	BERTH_DF_HEALTHCHECK,
	BERTH_DF_LABEL,
	BERTH_DF_MAINTAINER,
	BERTH_DF_ONBUILD,
	BERTH_DF_RUN,
	BERTH_DF_SHELL,
	BERTH_DF_STOPSIGNAL,
	BERTH_DF_USER,
	BERTH_DF_VOLUME,
	BERTH_DF_WORKDIR,
} berth_df_cmd;

/*
 * One instruction. `args` depends on the instruction, as dockerd's AST has it:
 *   ENV, LABEL         key, value, key, value... (values still quoted:
 *                      expansion removes the quotes)
 *   ARG                the words "NAME" or "NAME=default"
 *   HEALTHCHECK        "CMD" or "NONE", then the command (json: argv)
 *   RUN, CMD, ENTRYPOINT, SHELL
 *                      json: the argv; else one string, the shell form
 *   ONBUILD            one string: the trigger as written (also in `sub`)
 *   everything else    the whitespace-separated words (or JSON strings)
 */
typedef struct berth_df_instr {
	berth_df_cmd cmd;
	char *name;          /* as written: "run", "RUN", "Run" */
	char *original;      /* the instruction, continuations joined */
	char **flags;        /* "--from=x" as written; NULL-terminated */
	char **args;         /* NULL-terminated */
	size_t nargs;
	bool json;           /* exec (JSON) form */
	int start_line, end_line;
	struct berth_df_instr *sub; /* ONBUILD's trigger instruction */
} berth_df_instr;

typedef struct berth_dockerfile {
	berth_df_instr *instrs;
	size_t n;
	char escape;         /* '\\' or '`' (the escape directive) */
	char *syntax;        /* the syntax directive, noted and ignored */
	char **warnings;     /* "Empty continuation line found in: ..."; may be NULL */
} berth_dockerfile;

/* Parses and validates (flags, argument counts, instruction names). Errors
 * are 400 with dockerd's wording and the line. name ("Dockerfile") is used
 * in the message for empty input. */
int berth_dockerfile_parse(const char *data, size_t len, berth_dockerfile **out,
			   berth_error **err);
void berth_dockerfile_free(berth_dockerfile *df);
void berth_cleanup_dockerfile(berth_dockerfile **df);
#define cleanup_dockerfile __attribute__((cleanup(berth_cleanup_dockerfile)))

/* Parses one instruction line without directives (ONBUILD triggers, a
 * child's trigger replay). */
int berth_df_instr_parse(const char *line, char escape, berth_df_instr *out, berth_error **err);
void berth_df_instr_reset(berth_df_instr *in);

/* The value of "--name=value" among flags: NULL when absent, "" for a bare
 * "--name" (boolean flags). */
const char *berth_df_flag(const berth_df_instr *in, const char *name);

/* ------------------------------------------------------------- expansion */

/* Expands one word against env ("K=V" entries; the last of a name wins):
 * quotes are removed, escapes applied, variables substituted. 400 with
 * dockerd's wording for a bad substitution. */
int berth_builder_expand(const char *word, char escape, char *const *env, size_t nenv,
			 char **out, berth_error **err);
/* The same, splitting the result into words on unquoted whitespace
 * (NULL-terminated; free with berth_strv_free). */
int berth_builder_expand_words(const char *word, char escape, char *const *env, size_t nenv,
			       char ***out, berth_error **err);

/* ---------------------------------------------------------- .dockerignore */

typedef struct berth_dockerignore berth_dockerignore;

/* Parses a .dockerignore: one pattern per line, '#' comments, '!'
 * exceptions, paths cleaned as filepath.Clean does, leading '/' dropped.
 * 400 for a pattern that does not compile. */
int berth_dockerignore_parse(const char *data, size_t len, berth_dockerignore **out,
			     berth_error **err);
void berth_dockerignore_free(berth_dockerignore *di);
/* Whether a context-relative path ("a/b.txt", no leading "./") is excluded,
 * with the last matching pattern winning and parents' exclusions applying
 * to their children. */
bool berth_dockerignore_excluded(const berth_dockerignore *di, const char *path);
/* Whether an excluded directory may still hold an included file (a '!'
 * pattern reaches below it), so a walk must descend into it. */
bool berth_dockerignore_descend(const berth_dockerignore *di, const char *dir);

/* --------------------------------------------------------------- building */



/* Output of a build: one jsonmessage object at a time ({"stream": ..},
 * {"aux": ..}); the callee takes the reference. Returns -1 to abort the
 * build (the client went away). */
typedef int (*berth_builder_out_fn)(void *userdata, json_t *msg);

/* The seam for FROM of an image that is not in the store: the registry
 * client pulls `ref` (for platform, "os/arch[/variant]", NULL: the host's)
 * and gives its ID. NULL: nothing can be pulled, FROM of
 * a missing image fails as dockerd does without a registry. */
typedef int (*berth_builder_pull_fn)(void *userdata, const char *ref, const char *platform,
				     char **id, berth_error **err);

typedef struct berth_build_opts {
	const char *dockerfile;   /* path inside the context ("Dockerfile") */
	char *const *tags;        /* "name:tag", NULL-terminated or NULL */
	json_t *buildargs;        /* {"A": "v" or null} or NULL */
	json_t *labels;           /* {"k": "v"} or NULL */
	const char *target;       /* stage name or NULL */
	const char *network_mode; /* NULL: "none" */
	bool nocache, quiet, rm, forcerm, pull;
	char *const *extra_hosts; /* "host:ip", NULL-terminated or NULL */
	int64_t shm_size, memory;
	const char *cpuset_cpus;
	const char *platform;     /* "linux/arm64": FROM's default; NULL: any */
	char *const *cache_from;  /* images trusted as cache sources; NULL-terminated or NULL */
} berth_build_opts;

typedef struct berth_image_store berth_image_store;

typedef struct berth_builder_env {
	berth_image_store *images;
	const char *state_dir;    /* <data-root>/builder: the cache index */
	const char *api_host;     /* the daemon's own socket for RUN containers */
	berth_builder_pull_fn pull;
	void *pull_userdata;
} berth_builder_env;

/*
 * A build in two steps, so that a bad Dockerfile is an HTTP error before the
 * first byte of output: prepare reads and parses the Dockerfile found in
 * context_dir (opts->dockerfile, default "Dockerfile") and checks the target;
 * run executes it. Both block (pool threads). env and opts must outlive b.
 */
typedef struct berth_build berth_build;

int berth_build_prepare(const berth_builder_env *env, const char *context_dir,
			const berth_build_opts *opts, berth_build **out, berth_error **err);
/* On success *id gets the image ID ("sha256:...") and the tags are set
 * (*tagged gets their familiar names, may be NULL). A RUN step that fails
 * sets *exit_code to its status ("The command '/bin/sh -c exit 3' returned
 * a non-zero code: 3"); other failures leave it 0. */
int berth_build_run(berth_build *b, berth_builder_out_fn out, void *userdata, char **id,
		    int *exit_code, berth_error **err);
void berth_build_free(berth_build *b);

/* Unpacks a build context (tar, optionally gzip, bzip2, xz or zstd) into
 * dir, leaving out what its .dockerignore excludes except the Dockerfile
 * (its path in the context; NULL for "Dockerfile") and .dockerignore. */
int berth_builder_context_extract(const void *data, size_t len, const char *dir,
				  const char *dockerfile, berth_error **err);
/* Fetches a remote context into dir (POST /build?remote=): a git URL
 * ("https://h/r.git#ref:subdir", "git://", "git@", "github.com/...",
 * "file:///r.git") cloned with libgit2, or an HTTP(S) URL whose body is a
 * context archive or else the Dockerfile (saved as dockerfile, NULL for
 * "Dockerfile"). *subdir gets the directory to build in, relative to dir. */
int berth_builder_context_remote(const char *remote, const char *dir, const char *dockerfile,
				 char **subdir, berth_error **err);

/* Removes a directory tree in the background (moved to <state_dir>/trash
 * first, so that it is gone from where it was at once). */
void berth_builder_discard(const char *state_dir, const char *dir);

/* Clears what builds of an earlier berthd left (mounts, temporary trees);
 * call before the first build of a process. */
void berth_builder_sweep(const char *state_dir);

/* POST /build/prune: forgets the cache index. *reclaimed gets 0: the cached
 * images are ordinary images that `image prune` removes. */
int berth_builder_prune(const berth_builder_env *env, int64_t *reclaimed, berth_error **err);

#endif
