/*
 * common.h - the code every berth module shares.
 *
 * One error convention for the whole tree:
 *
 *   - A function that can fail returns an int: 0 (or a non-negative count) on
 *     success, -1 on failure.
 *   - On failure it fills `berth_error **err` with a message and the HTTP status
 *     that best describes it (400 bad parameter, 404 no such object, 409
 *     conflict, 500 anything else), so an API handler can hand any error
 *     straight to the client in Docker's shape: {"message": "..."}.
 *   - The caller owns the error: it frees it with berth_error_free(), or lets a
 *     `cleanup_error` variable do so.
 *
 *       berth_error *err cleanup_error = NULL;
 *       if (berth_file_read_all(path, &buf, &len, &err) < 0)
 *               return berth_error_propagate(&err, outer_err);
 *
 * Resources are released with __attribute__((cleanup)) helpers (cleanup_free,
 * cleanup_close, cleanup_json, ...) rather than goto ladders; a function that
 * hands a resource to its caller takes it out of the variable first with
 * berth_steal_ptr() / berth_steal_fd().
 */
#ifndef BERTH_COMMON_H
#define BERTH_COMMON_H

#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#define BERTH_VERSION "0.1.0"
#define BERTH_API_VERSION "1.47"
#define BERTH_API_MIN_VERSION "1.24"

#ifndef BERTH_GIT_COMMIT
#define BERTH_GIT_COMMIT "unknown"
#endif

#define BERTH_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define BERTH_UNUSED __attribute__((unused))
#define BERTH_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* ---------------------------------------------------------------- errors */

typedef struct berth_error {
	int status;  /* HTTP status this error maps to */
	int errnum;  /* errno when a system call failed, else 0 */
	char *msg;   /* human readable, Docker's wording where clients match on it */
} berth_error;

/* Sets *err (when err is not NULL) and returns -1. */
int berth_error_set(berth_error **err, int status, const char *fmt, ...) BERTH_PRINTF(3, 4);
/* Same, appending ": strerror(errnum)" and recording errnum; status 500. */
int berth_error_set_errno(berth_error **err, int errnum, const char *fmt, ...) BERTH_PRINTF(3, 4);
/* Prefixes the message of an existing error: "prefix: old message". */
int berth_error_wrap(berth_error **err, const char *fmt, ...) BERTH_PRINTF(2, 3);
/* Moves *from into *to (freeing *from when to is NULL) and returns -1. */
int berth_error_propagate(berth_error **from, berth_error **to);
void berth_error_free(berth_error **err);

/* ------------------------------------------------------- cleanup helpers */

void berth_cleanup_free(void *p);
void berth_cleanup_close(int *fd);
void berth_cleanup_json(json_t **j);
void berth_cleanup_file(FILE **f);

#define cleanup_free __attribute__((cleanup(berth_cleanup_free)))
#define cleanup_close __attribute__((cleanup(berth_cleanup_close)))
#define cleanup_json __attribute__((cleanup(berth_cleanup_json)))
#define cleanup_file __attribute__((cleanup(berth_cleanup_file)))
#define cleanup_error __attribute__((cleanup(berth_error_free)))

static inline void *berth_steal_ptr_(void *pp)
{
	void **p = pp, *v = *p;
	*p = NULL;
	return v;
}
#define berth_steal_ptr(pp) berth_steal_ptr_((void *)(pp))

static inline int berth_steal_fd(int *fd)
{
	int v = *fd;
	*fd = -1;
	return v;
}

/* ---------------------------------------------------------------- memory */

/* Allocation failures abort: berth cannot do anything useful without memory. */
void *berth_xmalloc(size_t n);
void *berth_xcalloc(size_t n, size_t size);
void *berth_xrealloc(void *p, size_t n);
char *berth_xstrdup(const char *s);
char *berth_xstrndup(const char *s, size_t n);
char *berth_xasprintf(const char *fmt, ...) BERTH_PRINTF(1, 2);

/* A growable byte buffer, always NUL-terminated. */
typedef struct berth_buf {
	char *data;
	size_t len;
	size_t cap;
} berth_buf;

void berth_buf_append(berth_buf *b, const void *data, size_t len);
void berth_buf_puts(berth_buf *b, const char *s);
void berth_buf_printf(berth_buf *b, const char *fmt, ...) BERTH_PRINTF(2, 3);
void berth_buf_vprintf(berth_buf *b, const char *fmt, va_list ap);
/* Removes the first n bytes. */
void berth_buf_consume(berth_buf *b, size_t n);
/* Hands the data to the caller (never NULL) and empties the buffer. */
char *berth_buf_steal(berth_buf *b);
void berth_buf_reset(berth_buf *b);
void berth_cleanup_buf(berth_buf *b);
#define cleanup_buf __attribute__((cleanup(berth_cleanup_buf)))

/* ----------------------------------------------------------------- files */

/* Reads a whole file; *data is NUL-terminated. 404 when it does not exist. */
int berth_file_read_all(const char *path, char **data, size_t *len, berth_error **err);
/* Writes atomically: a temp file beside path, fsync, rename, fsync of the dir. */
int berth_file_write_atomic(const char *path, const void *data, size_t len, int mode,
			    berth_error **err);
/* Replaces path atomically (temp file, rename) without syncing the
 * directory, as Docker writes its files: readers never see a partial file,
 * a crash of the process loses nothing, and only a power loss may bring
 * back the previous version. sync: fsync the data first (a record that
 * must not come back empty); without it, for files that live no longer
 * than a boot or are written again (runtime state under the exec root,
 * a container's /etc files). */
int berth_file_replace(const char *path, const void *data, size_t len, int mode, bool sync,
		       berth_error **err);
/* mkdir -p; existing directories are fine. */
int berth_mkdir_all(const char *path, int mode, berth_error **err);
/* rm -rf: removes path and everything below it, not following symlinks
 * (and not crossing into mounts: a mount point below path is an error). A
 * missing path is fine. Blocking: thread pool only in berthd. */
int berth_remove_all(const char *path, berth_error **err);
/* The apparent size of a tree (st_size of everything but directories):
 * what SizeRw and prune's SpaceReclaimed report. A missing path is 0.
 * Blocking. */
int64_t berth_dir_usage(const char *path);
/* Writes all of buf to fd, retrying on EINTR and short writes. */
int berth_write_all(int fd, const void *buf, size_t len);

/* ------------------------------------------------------------------ JSON */

/* Parses a request body. Errors are 400 with Docker's wording. */
int berth_json_parse(const char *data, size_t len, json_t **out, berth_error **err);
/* Same, and insists on an object. */
int berth_json_parse_object(const char *data, size_t len, json_t **out, berth_error **err);
/* berth_json_parse, several times faster on large plain documents (API
 * answers): the same values, and jansson's own answer for anything else. */
int berth_json_parse_quick(const char *data, size_t len, json_t **out, berth_error **err);
/* Compact serialization; never NULL. */
char *berth_json_dump(const json_t *j);
/* Typed getters for optional members: absent or null gives the default, a wrong
 * type is a 400 naming the field. */
int berth_json_get_string(const json_t *obj, const char *key, const char **out, berth_error **err);
int berth_json_get_int(const json_t *obj, const char *key, json_int_t *out, berth_error **err);
int berth_json_get_bool(const json_t *obj, const char *key, bool *out, berth_error **err);
/* Returns the object member, or NULL; never errors. */
const char *berth_json_string(const json_t *obj, const char *key);
/* An object's keys sorted bytewise, the order Go visits a map in (none for
 * what is not an object); free the array, not the strings. */
const char **berth_json_sorted_keys(const json_t *obj, size_t *n);

/* -------------------------------------------------------------- logging */

typedef enum berth_log_level {
	BERTH_LOG_DEBUG,
	BERTH_LOG_INFO,
	BERTH_LOG_WARN,
	BERTH_LOG_ERROR,
	BERTH_LOG_FATAL,
} berth_log_level;

/* Accepts dockerd's names: debug, info, warn, error, fatal. */
int berth_log_level_parse(const char *name, berth_log_level *out);
void berth_log_set_level(berth_log_level level);
void berth_log(berth_log_level level, const char *fmt, ...) BERTH_PRINTF(2, 3);
#define berth_debug(...) berth_log(BERTH_LOG_DEBUG, __VA_ARGS__)
#define berth_info(...) berth_log(BERTH_LOG_INFO, __VA_ARGS__)
#define berth_warn(...) berth_log(BERTH_LOG_WARN, __VA_ARGS__)
#define berth_errorf(...) berth_log(BERTH_LOG_ERROR, __VA_ARGS__)

/* ------------------------------------------------------------ utilities */

/* Nanoseconds on the realtime clock. */
int64_t berth_time_now_ns(void);
/* RFC 3339 with nanoseconds, UTC: "2026-11-27T00:58:22.123456789Z". */
void berth_time_format_rfc3339(int64_t ns, char *out, size_t outlen);
/* Go's time.Time.String() in the local zone:
 * "2026-12-06 21:06:38.167529753 +0000 UTC". */
char *berth_time_go_string(int64_t ns);
/* The same of an RFC 3339 time; Go's zero time for "" or what does not parse. */
char *berth_time_go_string_rfc3339(const char *rfc3339);
/* Docker's time arguments: Unix seconds with optional fraction ("1700000000.5"),
 * RFC 3339 ("2026-11-27T00:00:00Z"), or a duration before now ("10m", "1h30m").
 * Returns nanoseconds since the epoch. */
int berth_time_parse(const char *s, int64_t now_ns, int64_t *out_ns, berth_error **err);
/* Go-style duration "1h2m3.5s", "300ms" to nanoseconds. */
int berth_duration_parse(const char *s, int64_t *out_ns, berth_error **err);
/* Go's time.Duration.String(): "0s", "1.5s", "1m30s", "1h0m0s", "300ms", "2µs". */
void berth_go_duration(berth_buf *b, int64_t ns);

/* Standard base64 with padding, NUL-terminated (malloc'd). */
char *berth_base64(const void *data, size_t len);

/* 64 random hex characters (a Docker object ID). */
void berth_random_id(char out[65]);
/* Lowercase hex of the SHA-256 of data. */
void berth_sha256_hex(const void *data, size_t len, char out[65]);

/* Human sizes as the docker CLI prints them, decimal units with `precision`
 * significant digits (docker images uses 3: "1.98MB"; system df uses 4). */
void berth_human_size(int64_t bytes, int precision, char *out, size_t outlen);
/* Binary units for memory: "23.43GiB". */
void berth_human_bytes_binary(int64_t bytes, char *out, size_t outlen);
/* "2 minutes", "About an hour", "3 days" (Go's units.HumanDuration). */
void berth_human_duration(int64_t ns, char *out, size_t outlen);

/* Compares API versions "1.41" < "1.47": <0, 0, >0. */
int berth_version_compare(const char *a, const char *b);

/* Splits "a,b,c" style lists; returns a NULL-terminated array to free with
 * berth_strv_free. */
char **berth_str_split(const char *s, char sep);
void berth_strv_free(char **v);
size_t berth_strv_len(char *const *v);
bool berth_str_has_prefix(const char *s, const char *prefix);
/* Go's path.Clean (filepath.Clean on Linux): one slash between elements, no
 * "." elements, ".." removing the element before it (nothing above the root),
 * no trailing slash; "" is ".". */
char *berth_path_clean(const char *p);
/* Go's filepath.Base: the last element, trailing slashes ignored; "/" for
 * the root, "." for "". */
char *berth_path_base(const char *p);
/* docker's archive.PreserveTrailingDotOrSeparator: cleaned, with the "/."
 * or "/" that orig (the path before cleaning) ends in put back, for what
 * they say to cp ("dir/." the directory's contents, "dir/" a directory). */
char *berth_path_preserve(const char *cleaned, const char *orig);

/* Percent-decoding for URL queries; '+' becomes a space. */
char *berth_url_decode(const char *s, size_t len);
/* Percent-encoding for query values. */
char *berth_url_encode(const char *s);

/* --------------------------------------------------------- lazy libraries */

/*
 * Libraries that only some requests need (libarchive, libcurl, libgit2) are
 * opened with dlopen the first time they are used rather than linked in:
 * linked, their resident pages and their loading cost every berthd and
 * every `berth ps` a few MiB and milliseconds. A user declares a struct of
 * function pointers named like the functions, #defines each name onto its
 * member, and fills it through this, once (pthread_once). -1 with dlerror's
 * text when the library or a symbol is missing.
 */
int berth_lazylib_load(const char *soname, const char *const *names, void **slots, size_t n,
		       berth_error **err);

/* ------------------------------------------------------------ processes */

/*
 * Runs argv[0] (looked up in PATH) to its end: input (may be NULL) on its
 * stdin, its stdout and stderr collected into out and errout (either may be
 * NULL: discarded). *exit_code gets the exit status, or 128+signal. -1 only
 * when it could not be started. Blocking: pool threads and tools.
 */
int berth_proc_run(char *const argv[], const char *input, size_t input_len, berth_buf *out,
		   berth_buf *errout, int *exit_code, berth_error **err);

/* ------------------------------------------------------------- templates */

/*
 * The Go text/template subset the docker CLI's --format uses, evaluated
 * against JSON data: {{.Field}}, {{.A.B}}, {{json .}}, {{index .M "k"}},
 * {{range}}/{{if}}/{{else}}/{{end}}, {{join .L ","}}, {{lower}}, {{upper}},
 * {{title}}, {{println}}, pipelines (`.A | json`). A missing field prints
 * "<no value>" as Go does for maps.
 */
typedef struct berth_template berth_template;

int berth_template_parse(const char *text, berth_template **out, berth_error **err);
/* Go's template.New(name): the name shows in its errors ("template: version:1: ..."). */
int berth_template_parse_named(const char *name, const char *text, berth_template **out,
			       berth_error **err);
int berth_template_execute(const berth_template *t, const json_t *data, berth_buf *out,
			   berth_error **err);

/*
 * The docker CLI executes most templates against Go structs, not maps: an
 * unknown field is an error naming the type, some fields are methods taking
 * arguments (`.Label "k"`), and a few Go names differ from their JSON keys.
 * An environment says which objects of the data stand for which structs.
 */
typedef struct berth_template_method {
	const char *name;
	size_t nargs; /* string arguments */
	/* aux is what the object was registered with; *out a new reference */
	int (*call)(const json_t *aux, json_t *const *args, json_t **out);
} berth_template_method;

typedef struct berth_template_type {
	const char *name;            /* as Go prints it: "*formatter.ContainerContext" */
	bool fields_are_methods;     /* docker's formatter contexts: arity errors, not Go's
				      * "has arguments but cannot be invoked" */
	const char *const *renames;  /* Go name, JSON key pairs, NULL-ended; a renamed
				      * field whose key is absent (omitempty) reads "" */
	const berth_template_method *methods; /* ended by a zero entry; may be NULL */
	bool is_map; /* a Go map type with methods: other names are its keys */
} berth_template_type;

typedef struct berth_template_struct {
	const json_t *obj;
	const berth_template_type *type;
	const json_t *aux;
} berth_template_struct;

/*
 * A Go type, for templates run the way docker inspect runs them first: on
 * its Go structs, where an absent slice prints "[]", an absent map "map[]",
 * a nil pointer "<nil>", a struct "{field field ...}", a time.Time as Go
 * prints it, and a field the struct does not have is an error (the caller
 * then runs the template on the raw document, as docker falls back).
 */
typedef struct berth_go_type berth_go_type;
typedef struct berth_go_field {
	const char *name; /* Go's */
	const char *key;  /* the JSON key */
	const berth_go_type *type;
	bool embedded;    /* its fields are the struct's own; %v prints it nested */
	bool omitempty;   /* json leaves it out when empty */
} berth_go_field;
struct berth_go_type {
	/* 's' string, 'i' integer, 'f' float, 'b' bool, 't' time.Time (RFC 3339
	 * in JSON), 'd' time.Duration, 'a' interface{}, 'S' struct, 'L' slice,
	 * 'M' map (string keys), 'P' pointer */
	char kind;
	const char *name;          /* structs, as errors name them: "container.State" */
	const berth_go_type *elem; /* L, M, P */
	const berth_go_field *fields;
	size_t nfields;
	/* a String() method, which fmt prints instead of the fields */
	void (*stringer)(const json_t *v, berth_buf *out);
};

typedef struct berth_template_env {
	bool missingkey_error; /* Option("missingkey=error"), as docker inspect runs */
	const berth_template_struct *structs;
	size_t nstructs;
	const berth_go_type *go_type; /* the data is this Go type (NULL: JSON values) */
} berth_template_env;

int berth_template_execute_env(const berth_template *t, const json_t *data,
			       const berth_template_env *env, berth_buf *out, berth_error **err);
void berth_template_free(berth_template *t);
void berth_cleanup_template(berth_template **t);
#define cleanup_template __attribute__((cleanup(berth_cleanup_template)))

/* ------------------------------------------------------------ API client */

/*
 * A client for the Docker Engine API (berthd's or dockerd's) over a UNIX
 * socket, or TCP with optional mutual TLS. Used by the berth CLI and compose.
 */
typedef struct berth_client berth_client;

typedef struct berth_client_tls {
	bool verify;        /* verify the server against ca */
	const char *ca;     /* PEM files; NULL when unused */
	const char *cert;
	const char *key;
} berth_client_tls;

typedef struct berth_client_response {
	long status;
	berth_buf body;
	char *content_type;
} berth_client_response;

/* host: "unix:///run/berth.sock", "tcp://127.0.0.1:2376"; tls may be NULL. */
int berth_client_new(const char *host, const berth_client_tls *tls, berth_client **out,
		     berth_error **err);
void berth_client_free(berth_client *c);
/* API version to prefix paths with ("1.47"); negotiated by berth_client_ping. */
void berth_client_set_version(berth_client *c, const char *version);
/* The version in use: set, negotiated by a ping, or taken from the first
 * answer (requests go out at berth's version and an older daemon's "too
 * new" answer brings it down); before any of these, a ping negotiates it. */
const char *berth_client_version(berth_client *c);
/* A header sent with every later request (X-Registry-Auth); a NULL value
 * removes it. */
void berth_client_set_header(berth_client *c, const char *name, const char *value);
/* GET /_ping, and adopt min(server's API-Version, ours). */
int berth_client_ping(berth_client *c, berth_error **err);

/* One request; body may be NULL. A status >= 400 is returned in resp, not as
 * an error: err is for transport failures ("Cannot connect to the ..."). */
int berth_client_request(berth_client *c, const char *method, const char *path,
			 const char *content_type, const void *body, size_t len,
			 berth_client_response *resp, berth_error **err);
void berth_client_response_reset(berth_client_response *resp);

/* Streams the response body to cb as it arrives (events, pull, build...).
 * cb returns non-zero to stop. *status receives the HTTP status. */
typedef int (*berth_client_chunk_cb)(void *userdata, const char *data, size_t len);
int berth_client_stream(berth_client *c, const char *method, const char *path,
			const char *content_type, const void *body, size_t len, long *status,
			berth_client_chunk_cb cb, void *userdata, berth_error **err);

/* The "message" of a Docker error body, or the body itself. */
char *berth_client_error_message(const berth_client_response *resp);

/* Hijacks a connection of its own (attach, exec start): sends the request
 * with "Connection: Upgrade" and "Upgrade: tcp", and on 101 (or 200) hands
 * over the socket as *fd, with the bytes that came after the response head
 * appended to pending. A status >= 400 is err with the daemon's message and
 * that status. UNIX sockets and plain TCP; TLS is not supported yet. */
int berth_client_hijack(berth_client *c, const char *method, const char *path,
			const char *content_type, const void *body, size_t len, int *fd,
			berth_buf *pending, berth_error **err);

/* A request sent at once on a connection of its own, its answer read later
 * with berth_client_call_finish (blocking): `wait` alongside attach and start.
 * As with berth_client_request, a status >= 400 is in resp, not err. */
typedef struct berth_client_call berth_client_call;
int berth_client_call_send(berth_client *c, const char *method, const char *path,
			   const char *content_type, const void *body, size_t len,
			   berth_client_call **out, berth_error **err);
int berth_client_call_finish(berth_client_call *call, berth_client_response *resp,
			     berth_error **err);
/* The connection, to poll for the answer alongside other descriptors. */
int berth_client_call_fd(const berth_client_call *call);
void berth_client_call_free(berth_client_call *call);

/* -------------------------------------------------------------- filters */

/*
 * Docker's list filters: the `filters` query parameter is JSON, either
 * {"key": {"value": true}} (current) or {"key": ["value"]} (old clients).
 * The CLI builds them from `--filter key=value` with berth_filters_add.
 */
typedef struct berth_filters berth_filters;

berth_filters *berth_filters_new(void);
/* NULL or "" gives empty filters. 400 "invalid filter" style errors. */
int berth_filters_parse(const char *json, berth_filters **out, berth_error **err);
void berth_filters_free(berth_filters *f);
void berth_cleanup_filters(berth_filters **f);
#define cleanup_filters __attribute__((cleanup(berth_cleanup_filters)))
/* Adds "key=value" as the CLI's --filter does; 400 when there is no '='. */
int berth_filters_add_arg(berth_filters *f, const char *arg, berth_error **err);
void berth_filters_add(berth_filters *f, const char *key, const char *value);
/* The current JSON form ({"key":{"value":true}}); caller frees. */
char *berth_filters_encode(const berth_filters *f);
/* 400 "invalid filter 'key'" for a key not in the NULL-terminated list. */
int berth_filters_validate(const berth_filters *f, const char *const *allowed, berth_error **err);
bool berth_filters_empty(const berth_filters *f);
/* The values of key (NULL-terminated, owned by f), or NULL when absent. */
char *const *berth_filters_get(const berth_filters *f, const char *key);
/* True when key is absent, or value equals one of its values. */
bool berth_filters_match(const berth_filters *f, const char *key, const char *value);
/* "label" filters against a JSON object of labels: every "k" must exist and
 * every "k=v" must match (Docker's semantics). */
bool berth_filters_match_labels(const berth_filters *f, const char *key, const json_t *labels);

#endif
