/* internal.h - shared by the files of builder/; not for other modules. */
#ifndef BERTH_BUILDER_INTERNAL_H
#define BERTH_BUILDER_INTERNAL_H

#include <sys/stat.h>
#include <sys/types.h>

#include "builder.h"
#include "engine/image/image.h"

/* parse.c */
bool df_space(char c);
char **df_parse_words(const char *rest, char escape, size_t *count);
const char *df_cmd_name(berth_df_cmd cmd);

/* instr.c */
int df_instr_validate(const berth_df_instr *in, berth_error **err);
int df_validate_order(const berth_dockerfile *df, berth_error **err);
bool df_stage_name_valid(const char *name);
int df_health_duration(const berth_df_instr *in, const char *name, int64_t *ns, berth_error **err);

/* ------------------------------------------------------------ evaluation */

typedef struct berth_client berth_client;

/* platform.c: normalized as containerd's platforms.Parse gives them. */
typedef struct build_platform {
	char *os, *arch, *variant; /* variant may be NULL */
} build_platform;
void build_platform_reset(build_platform *p);
void build_platform_host(build_platform *p);
/* 400 with containerd's wording ("\"a/b/c/d\": cannot parse platform
 * specifier: invalid argument"). */
int build_platform_parse(const char *spec, build_platform *out, berth_error **err);
char *build_platform_format(const build_platform *p);
/* Whether an image's os/architecture/variant satisfy want. */
bool build_platform_match(const build_platform *want, const char *os, const char *arch,
			  const char *variant);
/* BUILDPLATFORM, BUILDOS, ..., TARGETVARIANT -> value. */
json_t *build_platform_args(const build_platform *build, const build_platform *target);

/* One stage's state while it is dispatched (dockerd's dispatchState). */
typedef struct build_state {
	char *image_id;       /* "sha256:..."; NULL while on scratch */
	json_t *config;       /* the run config, the image's "config" */
	json_t *history;      /* the image's history so far */
	char *arch, *os, *variant;
	json_t *args;         /* the ARGs declared in this stage: name -> string or null */
	char *maintainer;
	char *name;           /* the stage's AS name, or NULL */
	bool cmd_set;         /* a CMD in this stage: ENTRYPOINT keeps it */
} build_state;

typedef struct build_stage {
	char *name;           /* lowercased AS name, or NULL */
	size_t from;          /* index of its FROM in df->instrs */
	size_t end;           /* one past its last instruction */
	char *image_id;       /* the result once built */
} build_stage;

struct berth_build {
	const berth_builder_env *env;
	const berth_build_opts *opts;
	char *context;        /* the context directory */
	berth_dockerfile *df;
	build_stage *stages;
	size_t nstages;       /* up to the target */
	size_t nmeta;         /* ARGs before the first FROM */
	json_t *meta_args;    /* name -> string or null */
	json_t *used_args;    /* build args some ARG referenced */
	berth_builder_out_fn out;
	void *userdata;
	berth_client *client; /* the daemon's API, for RUN containers */
	size_t step, total;
	int exit_code;        /* of the failing RUN */
	build_platform platform; /* opts->platform parsed; os NULL when not given */
	json_t *auto_args;    /* the automatic platform ARGs: name -> value */
	json_t *cache_from;   /* configs of the --cache-from images, each with "id" */
};


/* build.c */
int build_say(berth_build *b, const char *fmt, ...) BERTH_PRINTF(2, 3);
/* The environment expansions see: the stage's ENV, then its allowed ARGs. */
char **build_expand_env(const build_state *st, const berth_build *b, size_t *n);
/* The allowed ARGs with a value, as "K=V" for RUN, not shadowed by ENV. */
char **build_arg_env(const build_state *st, const berth_build *b, size_t *n);
int build_expand(const berth_build *b, const build_state *st, const char *word, char **out,
		 berth_error **err);
/* Probes the cache for the step whose container_config Cmd is cmd: on a hit
 * the state moves to the cached image and 1 is returned. */
int build_probe(berth_build *b, build_state *st, const json_t *cmd, berth_error **err);
/* Commits a step: a new image from st's config on top of st's image, with
 * layer (NULL: an empty layer) and a history entry created by cmd. */
int build_commit(berth_build *b, build_state *st, const json_t *cmd, const berth_image_source *layer,
		 berth_error **err);
/* ["/bin/sh", "-c", "#(nop) ", comment] with the stage's shell. */
json_t *build_nop_cmd(const build_state *st, const char *comment);
/* The same as one argument, "#(nop) " + comment (WORKDIR, COPY, ADD). */
json_t *build_nop_cmd_joined(const build_state *st, const char *comment);
/* CMD/ENTRYPOINT/RUN's argv: the exec form, or the shell form through SHELL. */
json_t *build_command_line(const build_state *st, const berth_df_instr *in);
/* The strings of an array joined with spaces (history's created_by). */
char *build_join(const json_t *cmd);
int build_load_image(build_state *st, berth_image_store *images, const char *id, berth_error **err);
const char *build_short_id(const char *id);
/* strcmp for qsort over an array of strings. */
int build_str_cmp(const void *a, const void *b);

/* steps.c: one function per instruction. */
int build_dispatch(berth_build *b, build_state *st, const berth_df_instr *in, berth_error **err);

/* run.c */
int build_run(berth_build *b, build_state *st, const berth_df_instr *in, berth_error **err);

/* Commits an overlay upper dir as the step's layer (none when empty). */
int build_commit_upper(berth_build *b, build_state *st, const json_t *cmd, const char *upper,
		       berth_error **err);

/* copy.c */
/* Opens path below root, resolving symlinks and ".." inside it (openat2
 * RESOLVE_IN_ROOT); err may be NULL. */
int copy_open_in(int root, const char *path, int flags, berth_error **err);
/* mkdir -p below root; new directories get 0755 and uid:gid. */
int copy_mkdir_in(int root, const char *path, uid_t uid, gid_t gid, berth_error **err);
int build_copy(berth_build *b, build_state *st, const berth_df_instr *in, berth_error **err);
int build_workdir_fs(berth_build *b, build_state *st, const char *dir, berth_error **err);

/* The names in a directory, sorted (NULL-terminated); NULL on error. */
char **copy_list_dir(int dirfd, berth_error **err);

/* tarsum.c: COPY/ADD's source hashes as dockerd's classic builder makes them. */
typedef enum sum_flavor {
	SUM_ARCHIVE, /* the context: the client's tar headers */
	SUM_LAZY,    /* an image or a download: headers made from stat */
} sum_flavor;
/* "file:<hex>" or "dir:<hex>" of a source below root. */
char *sum_source(int root, const char *rel, sum_flavor flavor);
/* The hash of a downloaded file named name, with the stat it gets: bare
 * hex, as dockerd writes it for a URL. */
char *sum_file(const char *path, const char *name, const struct stat *st);
/* One source's hash, or "multi:<hex>" of several. */
char *sum_sources(char *const *hashes, size_t n);

/* context.c: archives unpacked into an image (ADD). */
/* Whether fd holds a tar (maybe compressed); rewinds it. */
bool ctx_is_archive(int fd);
/* Unpacks the archive in fd at dest below root, with its owners or
 * (owners false) owned by root. */
int ctx_extract_fd(int fd, int root, const char *dest, bool owners, berth_error **err);

/* fetch.c */
/* The last segment of a URL's path ("f.tgz" of "http://h/a/f.tgz?x"). */
int url_basename(const char *url, char **out, berth_error **err);
/* GET url into path; *mtime (may be NULL) gets Last-Modified or 0. */
int build_fetch(const char *url, const char *path, int64_t *mtime, berth_error **err);

/* cache.c */
/* --cache-from: loads the source images' configs (a name that does not
 * resolve is skipped, as dockerd does). */
void cache_from_load(berth_build *b);
/* Whether a hit of the local index may be used: with --cache-from, only an
 * image that is a source or an ancestor of one. */
bool cache_from_trusts(const berth_build *b, const char *id);
/* The classic builder's cache on the sources: the step hits a source whose
 * history starts with the current image's and continues with cmd; the
 * ancestor that ends there is made from the layers it shares with the
 * source (or is the source itself). *id NULL on a miss. */
int cache_from_probe(berth_build *b, const build_state *st, const json_t *cmd, char **id,
		     berth_error **err);
char *cache_key(const char *parent, const json_t *config);
char *cache_get(const berth_builder_env *env, const char *key);
void cache_put(const berth_builder_env *env, const char *key, const char *id);

#endif
