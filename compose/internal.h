/* internal.h - what the files of compose/ share (not part of the API). */
#ifndef BERTH_COMPOSE_INTERNAL_H
#define BERTH_COMPOSE_INTERNAL_H

#include "compose.h"

/* Where each field of the loaded files came from: "services.web.ports" ->
 * "compose.yaml:12", for errors. Later files overwrite earlier ones. */
typedef struct compose_pos {
	json_t *map;
	/* The !reset and !override tags of the file being loaded: path ->
	 * "reset" | "override"; NULL: tags are not recorded. */
	json_t *tags;
} compose_pos;

/* Parses YAML (anchors and merge keys resolved) into JSON, recording the
 * line of every key and sequence item under prefix paths in pos. */
int compose_yaml_parse(const char *name, const char *data, size_t len, json_t **out,
		       compose_pos *pos, berth_error **err);

/* "file:line: " for a path, or "" when unknown. Caller frees. */
char *compose_pos_at(const compose_pos *pos, const char *path);
/* Sets a 400 error "<file:line: >message" for the field at path. */
int compose_error_at(berth_error **err, const compose_pos *pos, const char *path,
		     const char *fmt, ...) BERTH_PRINTF(4, 5);

/* Validates the types and field names of one file's document. */
int compose_schema_check(const json_t *doc, const compose_pos *pos, berth_error **err);

/* Interpolates every string of doc in place. */
int compose_interpolate_tree(json_t *doc, const json_t *env, const compose_pos *pos,
			     const char *path, berth_error **err);

/* Canonical forms of the services of one file; relative paths from dir. */
int compose_normalize_service(const char *name, json_t *svc, const char *dir, const json_t *env,
			      const compose_pos *pos, berth_error **err);

/* Compose's merge of an override service into a base service. */
void compose_merge_service(json_t *base, const json_t *over);
/* Merge of whole documents (services, networks, volumes, ...). */
void compose_merge_doc(json_t *base, const json_t *over);
/* Before over merges into base, its !reset and !override tags (from
 * compose_pos.tags): the field at a tagged path leaves base, so that over's
 * value replaces it; a !reset field leaves over too. */
void compose_apply_tags(json_t *base, json_t *over, const json_t *tags);

/* Splits a command line as a POSIX shell would (quotes, backslashes). */
int compose_shell_split(const char *s, json_t **out, berth_error **err);

/* A scalar as text ("8080" for 8080, "true" for true), NULL for the rest.
 * Caller frees. */
char *compose_scalar_text(const json_t *v);

/* docker's RAMInBytes: "512m", "1g", "1024" (bytes). */
int compose_parse_size(const char *s, long long *out);

/* The JSON Docker Compose hashes for a service (compose-go's ServiceConfig
 * as encoding/json writes it, without what ServiceHash clears). */
char *compose_service_hash_json(const json_t *service);

/* Resolves a possibly relative path against dir ("~" is $HOME). */
char *compose_abs_path(const char *dir, const char *path);

#endif
