/*
 * cli.h - the berth command: the types shared by the files of cli/.
 *
 * A command is one entry of a dispatch table (berth_command). Its run
 * function receives a berth_invocation: the global options (berth_cli), the
 * command path as typed ("berth system info") and the arguments after the
 * command name. It returns the process exit status, docker's:
 *
 *   0    success
 *   1    the command failed (daemon unreachable, error from the daemon)
 *   64   the --format template does not parse
 *   125  bad flags or arguments
 *
 * Flags are declared per command as a berth_flag array pointing into the
 * command's own option struct; berth_cli_parse() parses them, answers
 * --help, and prints docker's flag errors.
 */
#ifndef BERTH_CLI_H
#define BERTH_CLI_H

#include "common.h"

#define BERTH_EXIT_OK 0
#define BERTH_EXIT_ERROR 1
#define BERTH_EXIT_TEMPLATE 64
#define BERTH_EXIT_USAGE 125

/* ----------------------------------------------------------------- flags */

/* A growable list of strings (repeatable flags, positional arguments). */
typedef struct berth_strlist {
	char **v; /* NULL-terminated once non-empty */
	size_t n;
} berth_strlist;

void berth_strlist_push(berth_strlist *l, const char *s);
void berth_strlist_reset(berth_strlist *l);
#define cleanup_strlist __attribute__((cleanup(berth_strlist_reset)))

typedef enum berth_flag_type {
	BERTH_FLAG_BOOL,   /* value: bool * */
	BERTH_FLAG_STRING, /* value: const char ** (points into argv) */
	BERTH_FLAG_LIST,   /* value: berth_strlist *; every occurrence appends */
} berth_flag_type;

/* Validates one value of a flag; the message becomes
 * `invalid argument "v" for "-f, --filter" flag: <message>`. */
typedef int (*berth_flag_check)(const char *value, berth_error **err);

typedef struct berth_flag {
	const char *name;      /* long name, without "--" */
	char shorthand;        /* 0 when none */
	berth_flag_type type;
	void *value;
	const char *usage;     /* help text; may contain newlines */
	const char *type_name; /* shown after the name in help ("filter"); NULL: from type */
	const char *def;       /* default shown in help, NULL when none */
	berth_flag_check check;
	bool changed;          /* set by the parser */
	bool hidden;           /* accepted, not shown in help (docker's --net) */
} berth_flag;

/* pflag's `docker --format` help text, shared by every --format flag; list
 * commands, which have a table, add the table lines. */
#define BERTH_FORMAT_HELP_HEAD "Format output using a custom template:\n"
#define BERTH_FORMAT_HELP_TAIL                                                             \
	"'json':             Print in JSON format\n"                                       \
	"'TEMPLATE':         Print output using the given Go template.\n"                  \
	"Refer to https://docs.docker.com/go/formatting/ for more information about "     \
	"formatting output with templates"
#define BERTH_FORMAT_HELP BERTH_FORMAT_HELP_HEAD BERTH_FORMAT_HELP_TAIL
#define BERTH_TABLE_FORMAT_HELP                                                            \
	BERTH_FORMAT_HELP_HEAD                                                             \
	"'table':            Print output in table format with column headers (default)\n" \
	"'table TEMPLATE':   Print output in table format using the given Go template\n"   \
	BERTH_FORMAT_HELP_TAIL

#define BERTH_FLAGS_HELP 1

/*
 * Parses argv (argv[0] is the first argument, not the command name) the way
 * spf13/pflag does: --flag=value, --flag value, -f value, -fvalue, bundled
 * booleans (-Dv), repeatable list flags, and "--" ending the flags.
 * With interspersed, flags may follow positional arguments; without it the
 * first positional argument ends the flags (the rest is returned as is).
 * Returns 0, BERTH_FLAGS_HELP when --help/-h was given (*short_help tells
 * -h), or -1 with pflag's message ("unknown flag: --foo").
 */
int berth_flags_parse(berth_flag *flags, size_t nflags, bool interspersed, int argc,
		      char **argv, berth_strlist *args, bool *short_help, berth_error **err);
/* The "Options:" block of a help text, as pflag's FlagUsagesWrapped(cols). */
void berth_flags_usage(const berth_flag *flags, size_t nflags, int cols, berth_buf *out);
/* Go's strconv.ParseBool. */
int berth_parse_bool(const char *s, bool *out);

/* --------------------------------------------------------------- format */

/* Go's text/tabwriter, flags 0, padchar ' ': cells end with '\t', columns
 * of adjacent lines align to max(minwidth, widest cell + padding). */
void berth_tabwriter_format(const char *text, size_t len, int minwidth, int padding,
			    berth_buf *out);

typedef enum berth_format_kind {
	BERTH_FORMAT_DEFAULT,  /* no --format: the command's own rendering */
	BERTH_FORMAT_TEMPLATE, /* a template, "json" included ({{json .}}) */
	BERTH_FORMAT_TABLE,    /* "table ...": header line + rows, tab-aligned */
} berth_format_kind;

typedef struct berth_format {
	berth_format_kind kind;
	berth_template *tmpl;
	berth_buf text; /* rows rendered so far (tables) */
	/* The Go struct docker renders each row from (NULL: a map), and
	 * whether a missing map key is an error (docker inspect). */
	const berth_template_type *type;
	bool missingkey_error;
	const char *name; /* the template's name in errors ("version"); NULL: "" */
	/* Set per row: the Go type a row is tried as first, as docker inspect
	 * does; on an error the row runs again on the raw document. */
	const berth_go_type *go_type;
} berth_format;

/*
 * Settings made before (type, missingkey_error, name) are kept.
 * spec is the --format value: "" (default), "json", "table", "table TEMPLATE"
 * or "TEMPLATE"; `\t` and `\n` are unescaped as docker does. default_table is
 * the command's table template used for a bare "table" (NULL when the command
 * has none). A parse error is returned with status 64's message prefix left
 * to the caller.
 */
int berth_format_init(berth_format *f, const char *spec, const char *default_table,
		      berth_error **err);
/* Renders one object: a template row followed by "\n". */
int berth_format_row(berth_format *f, const json_t *data, berth_buf *out, berth_error **err);
/* The same, for a row standing for f->type whose methods read aux (the
 * object from the API the row was made of). */
int berth_format_row_aux(berth_format *f, const json_t *data, const json_t *aux, berth_buf *out,
			 berth_error **err);
/* docker's formatter contexts: `.Label "k"` reads aux's "Labels". */
extern const berth_template_method berth_cli_label_method[];
/* Tables: renders the header from a {"Field": "HEADER"} object. */
int berth_format_header(berth_format *f, const json_t *headers, berth_error **err);
/* Tables: appends the aligned table to out. */
void berth_format_flush(berth_format *f, berth_buf *out);
void berth_format_reset(berth_format *f);
#define cleanup_format __attribute__((cleanup(berth_format_reset)))

/* docker's sortorder.NaturalLess as a comparison: digit runs compare as
 * numbers ("net2" before "net10"), as docker sorts names in ls. */
int berth_cli_natural_cmp(const char *a, const char *b);
/* An object's keys ("k=v" with values) sorted and joined with ",": docker's
 * Labels column (its map order is random, ours is stable). "" when none. */
char *berth_cli_joined_keys(const json_t *obj, bool with_values);

/* ---------------------------------------------------------------- the CLI */

typedef struct berth_cli {
	const char *host;     /* -H, DOCKER_HOST, or the default socket */
	const char *config_dir;
	json_t *config;       /* config_dir's config.json, {} when there is none */
	const char *api_version; /* DOCKER_API_VERSION: fixed, no negotiation */
	bool debug;
	bool use_tls;
	berth_client_tls tls;
	berth_client *client; /* connected lazily by berth_cli_client */
	FILE *out;
	FILE *err;
	int term_cols; /* help wrapping width */
	char api_version_used[16];
} berth_cli;

typedef struct berth_command berth_command;
typedef struct berth_invocation berth_invocation;

struct berth_invocation {
	berth_cli *cli;
	const berth_command *cmd;
	const char *path; /* "berth system info" */
	int argc;
	char **argv;      /* the arguments after the command name */
	berth_strlist args; /* positional arguments, after berth_cli_parse */
	bool args_end_flags; /* set before berth_cli_parse: the first positional
			      * argument ends the flags (run IMAGE CMD -x) */
};

struct berth_command {
	const char *name;
	const char *use;   /* after the path in "Usage:": "[OPTIONS]", "COMMAND" */
	const char *short_desc;
	const char *aliases; /* "berth system info, berth info" or NULL */
	const char *category; /* root help section: "Common Commands", ... */
	int min_args, max_args; /* max_args < 0: no limit */
	int (*run)(berth_invocation *inv);
	const berth_command *subcommands; /* groups: a table ended by a zero entry */
};

/*
 * Parses a leaf command's flags and checks its argument count. Returns true
 * to go on; false when the command is done and must return *status (0 after
 * printing --help, 125 or 1 after printing a usage error).
 */
bool berth_cli_parse(berth_invocation *inv, berth_flag *flags, size_t nflags, int *status);
/* The command of a table called name under path ("berth container"), by
 * its name or one of its aliases. */
const berth_command *berth_cli_find_command(const berth_command *cmds, const char *path,
					    const char *name);
/* Runs a group command ("system"): dispatches to its subcommands. */
int berth_cli_run_group(berth_invocation *inv);
/* Runs cmd with argv (arguments after its name) under the path parent + name. */
int berth_cli_dispatch(berth_cli *cli, const berth_command *cmd, const char *parent, int argc,
		       char **argv);
/* Help texts, as docker's cobra templates print them. */
void berth_cli_command_help(const berth_command *cmd, const char *path, const berth_flag *flags,
			    size_t nflags, int cols, berth_buf *out);
/* cobra's "  name        Short" rows of a table; category NULL: all rows. */
void berth_cli_command_rows(const berth_command *cmds, const char *category, berth_buf *out);
void berth_cli_usage_error(berth_cli *cli, const char *path, const char *use, const char *msg,
			   const char *hint_verb);
/* Prints err's message on stderr, frees it, returns status. */
int berth_cli_fail(berth_cli *cli, berth_error **err, int status);
/* The connected client, at berth's API version until the daemon asks for less. */
int berth_cli_client(berth_cli *cli, berth_client **out, berth_error **err);
/* A request whose error (status >= 400) becomes "Error response from daemon:
 * <message>" with the status. body may be NULL; out may be NULL. */
int berth_cli_call(berth_cli *cli, const char *method, const char *path, const json_t *body,
		   json_t **out, berth_error **err);
/* GET path as JSON; a daemon error becomes "Error response from daemon: ...". */
int berth_cli_get_json(berth_cli *cli, const char *path, json_t **out, berth_error **err);
/* Prints every error of a multi-object command on stderr, joined as Go's
 * errors.Join; returns 1 when there was one. */
int berth_cli_report_errors(berth_cli *cli, berth_strlist *errors);
/* Reads config_dir/config.json once, as docker does at start: a file that
 * does not parse is a warning, and an empty configuration. */
void berth_cli_load_config(berth_cli *cli);
/* A string from the client's config.json ("psFormat", "detachKeys"), or NULL. */
char *berth_cli_config_string(berth_cli *cli, const char *key);

/* Registry credentials as the docker CLI keeps them (credentials.c):
 * config.json's "auths", or the credential helper docker-credential-NAME
 * that "credHelpers" (per server) or "credsStore" names. server is
 * config.json's key: "host:port", or "https://index.docker.io/v1/". */
typedef struct berth_cli_creds {
	char *username, *password, *identitytoken;
} berth_cli_creds;
void berth_cli_creds_reset(berth_cli_creds *c);
#define cleanup_creds __attribute__((cleanup(berth_cli_creds_reset)))
/* Nothing stored is no error (all fields NULL); a failing helper is. */
int berth_cli_creds_get(berth_cli *cli, const char *server, berth_cli_creds *out,
			berth_error **err);
/* In config.json itself it is docker's "stored unencrypted" warning. */
int berth_cli_creds_store(berth_cli *cli, const char *server, const berth_cli_creds *c,
			  berth_error **err);
/* A helper that fails to erase is a warning on stderr, as in docker. */
int berth_cli_creds_erase(berth_cli *cli, const char *server, berth_error **err);
/* config.json's key for a registry host ("docker.io" is the Hub's URL). */
char *berth_cli_server_key(const char *host);
/* The X-Registry-Auth value for server: "e30=" ({}) when not logged in. */
char *berth_cli_server_auth(berth_cli *cli, const char *server, berth_error **err);
/* docker inspect of refs: objects of one type ("container", "image",
 * "volume"), or any type (NULL) tried as docker does; size asks for
 * container sizes. */
int berth_cli_inspect_objects(berth_cli *cli, const berth_strlist *refs, const char *format,
			      const char *type, bool size);
/* `volume ls`, `network ls`: GET path with the --filter values, then the
 * objects listed by name in natural order, each rendered from the row row_of
 * makes of it (its methods read the object). */
typedef struct berth_named_list {
	const char *path;         /* "/networks" */
	const char *member;       /* the list's member in the answer; NULL: the answer */
	const berth_strlist *filters;
	const char *format;       /* --format; none: config.json's config_key, else "table" */
	const char *config_key;   /* "networksFormat" */
	bool quiet;
	const char *table;        /* the command's "table ..." */
	const char *quiet_format; /* what -q makes of "table": "{{.ID}}" */
	const berth_template_type *type;
	const json_t *headers;
	json_t *(*row_of)(const json_t *obj, const void *ud);
	const void *ud;
} berth_named_list;
int berth_cli_print_named_list(berth_cli *cli, const berth_named_list *l);
/* berth_format_init of a command without a table; what does not parse is
 * docker's "template parsing error: ..." with exit code 64, the code
 * returned (BERTH_EXIT_OK when f is ready). */
int berth_cli_format_init(berth_cli *cli, berth_format *f, const char *spec);
/* The Go type docker inspect renders an object of this type ("container",
 * "image", "network", "volume") from; NULL for others (cli/inspect_types.c). */
const berth_go_type *berth_cli_inspect_go_type(const char *object_type);
/* "k=v" items (or bare "k": "") into an object; later items win. */
json_t *berth_cli_kv_object(const berth_strlist *l);
/* Writes a buffer to cli->out. */
void berth_cli_write(berth_cli *cli, const berth_buf *b);

/* A string member, "" when absent: Go's zero value in docker's templates. */
const char *berth_cli_str(const json_t *obj, const char *key);
/* Go's fmt.Println of a bool. */
const char *berth_cli_bool(bool b);

/* Docker's "Client:" identity, shared by version and info: the JSON of
 * docker's clientVersion; api_version may be NULL (omitted). */
json_t *berth_cli_client_version(const char *api_version);
/* The API version in use: DOCKER_API_VERSION, else min(server's, ours). */
const char *berth_cli_api_version(berth_cli *cli, const char *server_api_version);
const char *berth_cli_os(void);
const char *berth_cli_arch(void);
/* The build time of the CLI in Go's ANSIC layout ("Fri May 30 12:07:14 2025"). */
const char *berth_cli_build_time(void);
/* RFC 3339 times from the daemon in ANSIC, as docker's reformatDate. */
char *berth_cli_reformat_date(const char *rfc3339);

/* --filter and time arguments, shared by events, ps, logs (cli/events.c). */
int berth_cli_filter_check(const char *value, berth_error **err);
/* The --filter values as docker's filters.ParseFlag reads them. */
berth_filters *berth_cli_filters_parse(const berth_strlist *args);
/* "" when f is empty, else lead ('?' or '&') and "filters=<JSON>" url-encoded. */
char *berth_cli_filters_param(const berth_filters *f, char lead);
/* Appends "filters=<JSON>" (url-encoded) to query, after '?' or '&'. */
void berth_cli_filters_query(const berth_strlist *args, berth_buf *query);
/* Appends "name=<timestamp>" for a --since/--until value (none when empty). */
int berth_cli_timestamp_query(const char *value, int64_t now, berth_buf *query,
			      const char *name, berth_error **err);

/* A streamed request; a daemon error reads "Error response from daemon: ...". */
int berth_cli_stream(berth_cli *cli, const char *method, const char *path, const void *body,
		     size_t len, berth_client_chunk_cb cb, void *ud, berth_error **err);
/* GET path into output, through a temp file beside it renamed when complete
 * (docker's CopyToFile), or to stdout when output is NULL. An output that is
 * not a regular file is refused first, as docker's ValidateOutputPath; errors
 * start with fail_prefix ("failed to save image"), a file that cannot be
 * made with open_verb ("create"). Returns the exit code. */
int berth_cli_download(berth_cli *cli, const char *path, const char *output,
		       const char *fail_prefix, const char *open_verb);
/* The -o/--output flag of save and export: parses the command's flags and,
 * as docker, refuses to write an archive to a terminal. *output is NULL for
 * stdout. False, with the exit code in *status, when the command ends here. */
bool berth_cli_parse_output(berth_invocation *inv, const char **output, int *status);

/* Prunes (cli/prune.c): docker's "[y/N]" prompt; true for "y". */
bool berth_cli_confirm(berth_cli *cli, const char *message);
typedef enum berth_prune_kind {
	BERTH_PRUNE_CONTAINERS,
	BERTH_PRUNE_NETWORKS,
	BERTH_PRUNE_VOLUMES,
	BERTH_PRUNE_IMAGES,
	BERTH_PRUNE_BUILD_CACHE,
} berth_prune_kind;
/* POST /<kind>/prune with f, then docker's report and total; the exit code. */
int berth_cli_prune(berth_cli *cli, berth_prune_kind kind, const berth_filters *f);
/* A prune command with only --filter and --force: asks with warning unless
 * forced, then berth_cli_prune. */
int berth_cli_prune_command(berth_invocation *inv, berth_prune_kind kind, const char *warning);
int berth_cli_container_prune(berth_invocation *inv);
int berth_cli_system_prune(berth_invocation *inv);

/* The commands. */
int berth_cli_version(berth_invocation *inv);
int berth_cli_info(berth_invocation *inv);
int berth_cli_events(berth_invocation *inv);

/* Containers (cli/container.c, ps.c, logs.c, attach.c, exec.c, inspect.c). */
int berth_cli_create(berth_invocation *inv);
int berth_cli_run(berth_invocation *inv);
int berth_cli_start(berth_invocation *inv);
int berth_cli_stop(berth_invocation *inv);
int berth_cli_restart(berth_invocation *inv);
int berth_cli_kill(berth_invocation *inv);
int berth_cli_pause(berth_invocation *inv);
int berth_cli_unpause(berth_invocation *inv);
int berth_cli_wait(berth_invocation *inv);
int berth_cli_rm(berth_invocation *inv);
int berth_cli_rename(berth_invocation *inv);
int berth_cli_top(berth_invocation *inv);
/* A GET /containers/{id}/top answer as tab-separated lines for the tabwriter. */
void berth_cli_top_rows(const json_t *top, berth_buf *text);
int berth_cli_ps(berth_invocation *inv);
int berth_cli_logs(berth_invocation *inv);
int berth_cli_attach(berth_invocation *inv);
int berth_cli_exec(berth_invocation *inv);
int berth_cli_inspect(berth_invocation *inv);
int berth_cli_typed_inspect(berth_invocation *inv);
int berth_cli_stats(berth_invocation *inv);
int berth_cli_update(berth_invocation *inv);

extern const berth_command berth_cli_container_commands[];

/* The container commands' rows, for `berth container` and the top level
 * (category: the root help's section, NULL in the group). */
#define BERTH_CLI_CONTAINER_ALIASES(cmd) "berth container " cmd ", berth " cmd
#define BERTH_CLI_ATTACH_ROW(category)                                                  \
	{"attach", "[OPTIONS] CONTAINER",                                               \
	 "Attach local standard input, output, and error streams to a running container", \
	 BERTH_CLI_CONTAINER_ALIASES("attach"), category, 1, 1, berth_cli_attach, NULL}
#define BERTH_CLI_CREATE_ROW(category)                                                  \
	{"create", "[OPTIONS] IMAGE [COMMAND] [ARG...]", "Create a new container",         \
	 BERTH_CLI_CONTAINER_ALIASES("create"), category, 1, -1, berth_cli_create, NULL}
#define BERTH_CLI_EXEC_ROW(category)                                                    \
	{"exec", "[OPTIONS] CONTAINER COMMAND [ARG...]",                                  \
	 "Execute a command in a running container", BERTH_CLI_CONTAINER_ALIASES("exec"), \
	 category, 2, -1, berth_cli_exec, NULL}
#define BERTH_CLI_KILL_ROW(category)                                                    \
	{"kill", "[OPTIONS] CONTAINER [CONTAINER...]", "Kill one or more running containers", \
	 BERTH_CLI_CONTAINER_ALIASES("kill"), category, 1, -1, berth_cli_kill, NULL}
#define BERTH_CLI_LOGS_ROW(category)                                                    \
	{"logs", "[OPTIONS] CONTAINER", "Fetch the logs of a container",                   \
	 BERTH_CLI_CONTAINER_ALIASES("logs"), category, 1, 1, berth_cli_logs, NULL}
#define BERTH_CLI_PS_ROW(name, category)                                                \
	{name, "[OPTIONS]", "List containers",                                             \
	 "berth container ls, berth container list, berth container ps, berth ps", category, \
	 0, 0, berth_cli_ps, NULL}
#define BERTH_CLI_PAUSE_ROW(category)                                                   \
	{"pause", "CONTAINER [CONTAINER...]",                                              \
	 "Pause all processes within one or more containers",                              \
	 BERTH_CLI_CONTAINER_ALIASES("pause"), category, 1, -1, berth_cli_pause, NULL}
#define BERTH_CLI_STATS_ROW(category)                                                   \
	{"stats", "[OPTIONS] [CONTAINER...]",                                              \
	 "Display a live stream of container(s) resource usage statistics",                \
	 BERTH_CLI_CONTAINER_ALIASES("stats"), category, 0, -1, berth_cli_stats, NULL}
#define BERTH_CLI_UPDATE_ROW(category)                                                  \
	{"update", "[OPTIONS] CONTAINER [CONTAINER...]",                                   \
	 "Update configuration of one or more containers",                                 \
	 BERTH_CLI_CONTAINER_ALIASES("update"), category, 1, -1, berth_cli_update, NULL}
#define BERTH_CLI_PORT_ROW(category)                                                    \
	{"port", "CONTAINER [PRIVATE_PORT[/PROTO]]",                                        \
	 "List port mappings or a specific mapping for the container",                     \
	 BERTH_CLI_CONTAINER_ALIASES("port"), category, 1, 2, berth_cli_port, NULL}
#define BERTH_CLI_RENAME_ROW(category)                                                  \
	{"rename", "CONTAINER NEW_NAME", "Rename a container",                             \
	 BERTH_CLI_CONTAINER_ALIASES("rename"), category, 2, 2, berth_cli_rename, NULL}
#define BERTH_CLI_RESTART_ROW(category)                                                 \
	{"restart", "[OPTIONS] CONTAINER [CONTAINER...]", "Restart one or more containers", \
	 BERTH_CLI_CONTAINER_ALIASES("restart"), category, 1, -1, berth_cli_restart, NULL}
#define BERTH_CLI_RM_ROW(category)                                                      \
	{"rm", "[OPTIONS] CONTAINER [CONTAINER...]", "Remove one or more containers",       \
	 "berth container rm, berth container remove, berth rm", category, 1, -1,         \
	 berth_cli_rm, NULL}
#define BERTH_CLI_RUN_ROW(category)                                                     \
	{"run", "[OPTIONS] IMAGE [COMMAND] [ARG...]",                                      \
	 "Create and run a new container from an image", BERTH_CLI_CONTAINER_ALIASES("run"), \
	 category, 1, -1, berth_cli_run, NULL}
#define BERTH_CLI_START_ROW(category)                                                   \
	{"start", "[OPTIONS] CONTAINER [CONTAINER...]", "Start one or more stopped containers", \
	 BERTH_CLI_CONTAINER_ALIASES("start"), category, 1, -1, berth_cli_start, NULL}
#define BERTH_CLI_STOP_ROW(category)                                                    \
	{"stop", "[OPTIONS] CONTAINER [CONTAINER...]", "Stop one or more running containers", \
	 BERTH_CLI_CONTAINER_ALIASES("stop"), category, 1, -1, berth_cli_stop, NULL}
#define BERTH_CLI_TOP_ROW(category)                                                     \
	{"top", "CONTAINER [ps OPTIONS]", "Display the running processes of a container",  \
	 BERTH_CLI_CONTAINER_ALIASES("top"), category, 1, -1, berth_cli_top, NULL}
#define BERTH_CLI_UNPAUSE_ROW(category)                                                 \
	{"unpause", "CONTAINER [CONTAINER...]",                                            \
	 "Unpause all processes within one or more containers",                            \
	 BERTH_CLI_CONTAINER_ALIASES("unpause"), category, 1, -1, berth_cli_unpause, NULL}
#define BERTH_CLI_WAIT_ROW(category)                                                    \
	{"wait", "CONTAINER [CONTAINER...]",                                               \
	 "Block until one or more containers stop, then print their exit codes",           \
	 BERTH_CLI_CONTAINER_ALIASES("wait"), category, 1, -1, berth_cli_wait, NULL}

extern const berth_command berth_cli_system_commands[];
extern const berth_command berth_cli_volume_commands[];
extern const berth_command berth_cli_network_commands[];
int berth_cli_port(berth_invocation *inv);
extern const berth_command berth_cli_image_commands[]; /* cli/image.c, with: */
int berth_cli_images(berth_invocation *inv);
int berth_cli_rmi(berth_invocation *inv);
int berth_cli_image_load(berth_invocation *inv);
int berth_cli_image_save(berth_invocation *inv);
int berth_cli_image_import(berth_invocation *inv);
int berth_cli_image_tag(berth_invocation *inv);
int berth_cli_image_history(berth_invocation *inv);
int berth_cli_system_df(berth_invocation *inv);
int berth_cli_build(berth_invocation *inv); /* cli/build.c */
#define BERTH_CLI_BUILD_ROW(category)                                                   \
	{"build", "[OPTIONS] PATH", "Build an image from a Dockerfile",                     \
	 "berth image build, berth build", category, 1, 1, berth_cli_build, NULL}

/* `berth compose` (cli/compose*.c). */
int berth_cli_compose(berth_invocation *inv);
extern const berth_command berth_cli_compose_commands[];

/* cli/registry.c */
int berth_cli_pull(berth_invocation *inv);
int berth_cli_push(berth_invocation *inv);
int berth_cli_login(berth_invocation *inv);
int berth_cli_logout(berth_invocation *inv);
/* The X-Registry-Auth value for the registry of an image reference, from
 * config.json or its credential helper ("{}" encoded when not logged in; a
 * failing helper is a warning). */
char *berth_cli_registry_auth(berth_cli *cli, const char *image);
#define BERTH_CLI_PULL_ROW(category)                                                    \
	{"pull", "[OPTIONS] NAME[:TAG|@DIGEST]", "Download an image from a registry",     \
	 "berth image pull, berth pull", category, 1, 1, berth_cli_pull, NULL}
#define BERTH_CLI_PUSH_ROW(category)                                                    \
	{"push", "[OPTIONS] NAME[:TAG]", "Upload an image to a registry",                  \
	 "berth image push, berth push", category, 1, 1, berth_cli_push, NULL}

/* Root help and the command table (cli/main.c). */
extern const berth_command berth_cli_commands[];

#endif
