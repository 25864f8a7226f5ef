/* command.c - running commands: flag parsing, help texts, usage errors, the client. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

/* ------------------------------------------------------------------ help */

static void help_usage_line(const char *path, const char *use, berth_buf *out)
{
	berth_buf_printf(out, "Usage:  %s%s%s\n", path, (use && *use) ? " " : "", use ? use : "");
}

/* cobra's "  name        Short" rows: names padded to at least 11 columns. */
void berth_cli_command_rows(const berth_command *cmds, const char *category, berth_buf *out)
{
	int pad = 11;
	for (const berth_command *c = cmds; c->name; c++)
		if ((int)strlen(c->name) > pad)
			pad = (int)strlen(c->name);
	for (const berth_command *c = cmds; c->name; c++)
		if (category == NULL || (c->category && strcmp(c->category, category) == 0))
			berth_buf_printf(out, "  %-*s %s\n", pad, c->name, c->short_desc);
}

void berth_cli_command_help(const berth_command *cmd, const char *path, const berth_flag *flags,
			    size_t nflags, int cols, berth_buf *out)
{
	/* cobra adds COMMAND to a group's usage line; docker's `volume` has it
	 * in its Use already, `image` and `container` do not (their usage
	 * errors show the difference) */
	bool bare_group = cmd->subcommands && (cmd->use == NULL || *cmd->use == '\0');
	help_usage_line(path, bare_group ? "COMMAND" : cmd->use, out);
	berth_buf_printf(out, "\n%s\n", cmd->short_desc);
	if (cmd->aliases)
		berth_buf_printf(out, "\nAliases:\n  %s\n", cmd->aliases);
	if (cmd->subcommands) {
		berth_buf_puts(out, "\nCommands:\n");
		berth_cli_command_rows(cmd->subcommands, NULL, out);
		berth_buf_printf(out, "\nRun '%s COMMAND --help' for more information on a command.\n",
				 path);
	}
	if (nflags > 0) {
		berth_buf_puts(out, "\nOptions:\n");
		berth_flags_usage(flags, nflags, cols, out);
	}
}

void berth_cli_usage_error(berth_cli *cli, const char *path, const char *use, const char *msg,
			   const char *hint_verb)
{
	berth_buf b cleanup_buf = {0};
	berth_buf_printf(&b, "%s\n\n", msg);
	help_usage_line(path, use, &b);
	berth_buf_printf(&b, "\n%s '%s --help' for more information\n", hint_verb, path);
	fputs(b.data, cli->err);
}

static void print_help(berth_invocation *inv, const berth_flag *flags, size_t nflags, FILE *to)
{
	berth_buf b cleanup_buf = {0};
	berth_cli_command_help(inv->cmd, inv->path, flags, nflags, inv->cli->term_cols, &b);
	fputs(b.data, to);
}

/* ------------------------------------------------------------- arguments */

/* docker's cli.NoArgs, ExactArgs, RequiresMinArgs, RequiresMaxArgs. */
static bool check_args(berth_invocation *inv)
{
	const berth_command *cmd = inv->cmd;
	int n = (int)inv->args.n;
	const char *verb = "Run";
	char *msg cleanup_free = NULL;
	if (cmd->max_args == 0 && n > 0) {
		msg = berth_xasprintf("berth: '%s' accepts no arguments", inv->path);
	} else if (cmd->min_args == cmd->max_args && n != cmd->min_args) {
		msg = berth_xasprintf("berth: '%s' requires %d argument%s", inv->path, cmd->min_args,
				      cmd->min_args == 1 ? "" : "s");
	} else if (n < cmd->min_args) {
		msg = berth_xasprintf("berth: '%s' requires at least %d argument%s", inv->path,
				      cmd->min_args, cmd->min_args == 1 ? "" : "s");
		verb = "See";
	} else if (cmd->max_args >= 0 && n > cmd->max_args) {
		msg = berth_xasprintf("berth: '%s' requires at most %d argument%s", inv->path,
				      cmd->max_args, cmd->max_args == 1 ? "" : "s");
		verb = "SRun"; /* sic: docker 28's RequiresMaxArgs */
	} else {
		return true;
	}
	berth_cli_usage_error(inv->cli, inv->path, cmd->use, msg, verb);
	return false;
}

bool berth_cli_parse(berth_invocation *inv, berth_flag *flags, size_t nflags, int *status)
{
	berth_error *err cleanup_error = NULL;
	bool short_help = false;
	int r = berth_flags_parse(flags, nflags, !inv->args_end_flags, inv->argc, inv->argv,
				  &inv->args, &short_help, &err);
	if (r < 0) {
		berth_cli_usage_error(inv->cli, inv->path, inv->cmd->use, err->msg, "Run");
		*status = BERTH_EXIT_USAGE;
		return false;
	}
	if (r == BERTH_FLAGS_HELP) {
		if (short_help)
			fputs("Flag shorthand -h has been deprecated, use --help\n", inv->cli->out);
		print_help(inv, flags, nflags, inv->cli->out);
		*status = BERTH_EXIT_OK;
		return false;
	}
	if (!check_args(inv)) {
		*status = BERTH_EXIT_ERROR;
		return false;
	}
	return true;
}

/* ------------------------------------------------------------- dispatch */

/* Whether aliases ("berth container ls, berth container list, berth ps")
 * names `path word`: cobra's Aliases are the help's list. */
static bool has_alias(const char *aliases, const char *path, const char *word)
{
	size_t plen = strlen(path), wlen = strlen(word);
	for (const char *p = aliases; p && *p; p += strspn(p, ", ")) {
		size_t n = strcspn(p, ",");
		if (n == plen + 1 + wlen && strncmp(p, path, plen) == 0 && p[plen] == ' ' &&
		    strncmp(p + plen + 1, word, wlen) == 0)
			return true;
		p += n;
	}
	return false;
}

const berth_command *berth_cli_find_command(const berth_command *cmds, const char *path,
					    const char *name)
{
	for (const berth_command *c = cmds; c && c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	for (const berth_command *c = cmds; c && c->name; c++)
		if (has_alias(c->aliases, path, name))
			return c;
	return NULL;
}

int berth_cli_run_group(berth_invocation *inv)
{
	berth_error *err cleanup_error = NULL;
	int r = berth_flags_parse(NULL, 0, false, inv->argc, inv->argv, &inv->args, NULL, &err);
	if (r < 0) {
		berth_cli_usage_error(inv->cli, inv->path, inv->cmd->use, err->msg, "Run");
		return BERTH_EXIT_USAGE;
	}
	if (r == BERTH_FLAGS_HELP || inv->args.n == 0) {
		/* A bare group prints its help on stderr, as cobra does. */
		print_help(inv, NULL, 0, r == BERTH_FLAGS_HELP ? inv->cli->out : inv->cli->err);
		return BERTH_EXIT_OK;
	}
	const berth_command *sub =
		berth_cli_find_command(inv->cmd->subcommands, inv->path, inv->args.v[0]);
	if (sub == NULL) {
		char *msg cleanup_free = berth_xasprintf("berth: unknown command: %s %s", inv->path,
							 inv->args.v[0]);
		berth_cli_usage_error(inv->cli, inv->path, inv->cmd->use, msg, "Run");
		return BERTH_EXIT_ERROR;
	}
	return berth_cli_dispatch(inv->cli, sub, inv->path, (int)inv->args.n - 1, inv->args.v + 1);
}

int berth_cli_dispatch(berth_cli *cli, const berth_command *cmd, const char *parent, int argc,
		       char **argv)
{
	char *path cleanup_free = berth_xasprintf("%s %s", parent, cmd->name);
	berth_invocation inv = {.cli = cli, .cmd = cmd, .path = path, .argc = argc, .argv = argv};
	int status = cmd->run ? cmd->run(&inv) : berth_cli_run_group(&inv);
	berth_strlist_reset(&inv.args);
	return status;
}

/* ---------------------------------------------------------------- output */

int berth_cli_fail(berth_cli *cli, berth_error **err, int status)
{
	if (err && *err) {
		fprintf(cli->err, "%s\n", (*err)->msg);
		berth_error_free(err);
	}
	return status;
}

void berth_cli_write(berth_cli *cli, const berth_buf *b)
{
	if (b->len)
		fwrite(b->data, 1, b->len, cli->out);
	fflush(cli->out);
}

/* ---------------------------------------------------------------- client */

int berth_cli_client(berth_cli *cli, berth_client **out, berth_error **err)
{
	if (cli->client == NULL) {
		berth_client *c = NULL;
		if (berth_client_new(cli->host, cli->use_tls ? &cli->tls : NULL, &c, err) < 0)
			return -1;
		/* without DOCKER_API_VERSION the version is berth's until an older
		 * daemon says otherwise (the client downgrades on its answer) */
		if (cli->api_version)
			berth_client_set_version(c, cli->api_version);
		cli->client = c;
	}
	*out = cli->client;
	return 0;
}

int berth_cli_call(berth_cli *cli, const char *method, const char *path, const json_t *body,
		   json_t **out, berth_error **err)
{
	berth_client *c;
	if (berth_cli_client(cli, &c, err) < 0)
		return -1;
	char *data cleanup_free = body ? berth_json_dump(body) : NULL;
	berth_client_response resp = {0};
	if (berth_client_request(c, method, path, body ? "application/json" : NULL, data,
				 data ? strlen(data) : 0, &resp, err) < 0)
		return -1;
	int r = 0;
	if (resp.status >= 400) {
		char *msg cleanup_free = berth_client_error_message(&resp);
		r = berth_error_set(err, (int)resp.status, "Error response from daemon: %s", msg);
	} else if (out && berth_json_parse_quick(resp.body.data, resp.body.len, out, err) < 0) {
		r = berth_error_wrap(err, "Error reading the daemon's answer to %s %s", method, path);
	}
	berth_client_response_reset(&resp);
	return r;
}

int berth_cli_get_json(berth_cli *cli, const char *path, json_t **out, berth_error **err)
{
	return berth_cli_call(cli, "GET", path, NULL, out, err);
}

int berth_cli_report_errors(berth_cli *cli, berth_strlist *errors)
{
	for (size_t i = 0; i < errors->n; i++)
		fprintf(cli->err, "%s\n", errors->v[i]);
	return errors->n ? BERTH_EXIT_ERROR : BERTH_EXIT_OK;
}

void berth_cli_load_config(berth_cli *cli)
{
	if (cli->config != NULL)
		return;
	char *path cleanup_free =
		cli->config_dir ? berth_xasprintf("%s/config.json", cli->config_dir) : NULL;
	json_error_t jerr;
	if (path && access(path, F_OK) == 0) {
		cli->config = json_load_file(path, 0, &jerr);
		if (cli->config == NULL || !json_is_object(cli->config))
			fprintf(cli->err, "WARNING: Error parsing config file (%s): %s\n", path,
				cli->config ? "not a JSON object" : jerr.text);
		if (cli->config && !json_is_object(cli->config)) {
			json_decref(cli->config);
			cli->config = NULL;
		}
	}
	if (cli->config == NULL)
		cli->config = json_object();
}

char *berth_cli_config_string(berth_cli *cli, const char *key)
{
	berth_cli_load_config(cli);
	const char *v = berth_json_string(cli->config, key);
	return v && *v ? berth_xstrdup(v) : NULL;
}

const char *berth_cli_str(const json_t *obj, const char *key)
{
	const char *s = berth_json_string(obj, key);
	return s ? s : "";
}

const char *berth_cli_bool(bool b)
{
	return b ? "true" : "false";
}

/* -------------------------------------------------------------- identity */

const char *berth_cli_api_version(berth_cli *cli, const char *server_api_version)
{
	const char *v = BERTH_API_VERSION;
	if (cli->api_version)
		v = cli->api_version;
	else if (server_api_version && *server_api_version &&
		 berth_version_compare(server_api_version, v) < 0)
		v = server_api_version;
	snprintf(cli->api_version_used, sizeof(cli->api_version_used), "%s", v);
	return cli->api_version_used;
}

json_t *berth_cli_client_version(const char *api_version)
{
	json_t *v = json_object();
	json_object_set_new(v, "Version", json_string(BERTH_VERSION));
	if (api_version)
		json_object_set_new(v, "ApiVersion", json_string(api_version));
	json_object_set_new(v, "DefaultAPIVersion", json_string(BERTH_API_VERSION));
	json_object_set_new(v, "GitCommit", json_string(BERTH_GIT_COMMIT));
	json_object_set_new(v, "Os", json_string(berth_cli_os()));
	json_object_set_new(v, "Arch", json_string(berth_cli_arch()));
	json_object_set_new(v, "BuildTime", json_string(berth_cli_build_time()));
	json_object_set_new(v, "Context", json_string("default"));
	return v;
}

const char *berth_cli_os(void)
{
#if defined(__linux__)
	return "linux";
#else
	return "unknown";
#endif
}

/* Go's GOARCH names. */
const char *berth_cli_arch(void)
{
#if defined(__x86_64__)
	return "amd64";
#elif defined(__aarch64__)
	return "arm64";
#elif defined(__arm__)
	return "arm";
#elif defined(__i386__)
	return "386";
#elif defined(__powerpc64__) && defined(__LITTLE_ENDIAN__)
	return "ppc64le";
#elif defined(__s390x__)
	return "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
	return "riscv64";
#else
	return "unknown";
#endif
}

/* Go's time.ANSIC: "Mon Jan _2 15:04:05 2006". */
static void format_ansic(const struct tm *tm, char *out, size_t outlen)
{
	strftime(out, outlen, "%a %b %e %H:%M:%S %Y", tm);
}

const char *berth_cli_build_time(void)
{
	static char built[64];
	if (built[0] == '\0') {
		struct tm tm = {0};
		if (strptime(__DATE__ " " __TIME__, "%b %d %Y %H:%M:%S", &tm) == NULL)
			return __DATE__ " " __TIME__;
		time_t t = timegm(&tm);
		gmtime_r(&t, &tm);
		format_ansic(&tm, built, sizeof(built));
	}
	return built;
}

/* The zone offset at the end of an RFC 3339 time, in seconds; 0 for Z. */
static long rfc3339_offset(const char *s)
{
	const char *t = strchr(s, 'T');
	const char *z = t ? strpbrk(t, "+-Zz") : NULL;
	if (z == NULL || *z == 'Z' || *z == 'z')
		return 0;
	int h = 0, m = 0;
	if (sscanf(z + 1, "%2d:%2d", &h, &m) < 1)
		return 0;
	return (*z == '-' ? -1 : 1) * (h * 3600L + m * 60L);
}

char *berth_cli_reformat_date(const char *rfc3339)
{
	int64_t ns;
	/* Go's RFC3339Nano wants a date, a time and a zone. */
	const char *t = strchr(rfc3339, 'T');
	if (t == NULL || strpbrk(t, "+-Zz") == NULL ||
	    berth_time_parse(rfc3339, 0, &ns, NULL) < 0 || strspn(rfc3339, "0123456789") != 4)
		return berth_xstrdup(rfc3339);
	time_t secs = (time_t)(ns / 1000000000LL) + rfc3339_offset(rfc3339);
	struct tm tm;
	gmtime_r(&secs, &tm);
	char out[64];
	format_ansic(&tm, out, sizeof(out));
	return berth_xstrdup(out);
}

int berth_cli_stream(berth_cli *cli, const char *method, const char *path, const void *body,
		     size_t len, berth_client_chunk_cb cb, void *ud, berth_error **err)
{
	berth_client *c;
	if (berth_cli_client(cli, &c, err) < 0)
		return -1;
	long status = 0;
	int r = berth_client_stream(c, method, path, body ? "application/x-tar" : NULL, body, len,
				    &status, cb, ud, err);
	if (r < 0 && status >= 400)
		berth_error_wrap(err, "Error response from daemon");
	return r;
}

typedef struct download_out {
	int fd;
	berth_error *err;
} download_out;

static int on_download_chunk(void *ud, const char *data, size_t len)
{
	download_out *o = ud;
	if (berth_write_all(o->fd, data, len) < 0) {
		berth_error_set_errno(&o->err, errno, "write");
		return 1;
	}
	return 0;
}

/* docker's ValidateOutputPath, before anything is asked of the daemon. */
static int check_output_path(const char *output, berth_error **err)
{
	char *copy cleanup_free = berth_xstrdup(output);
	const char *dir = dirname(copy);
	struct stat st;
	if (strcmp(dir, ".") != 0 && stat(dir, &st) < 0)
		return berth_error_set_errno(err, errno, "invalid output path: stat %s", dir);
	if (stat(output, &st) < 0 || S_ISREG(st.st_mode))
		return 0;
	const char *what = S_ISDIR(st.st_mode)	  ? "a directory"
			   : S_ISCHR(st.st_mode)  ? "a character device file"
			   : S_ISBLK(st.st_mode)  ? "a block device file"
			   : S_ISFIFO(st.st_mode) ? "a named pipe (FIFO)"
			   : S_ISSOCK(st.st_mode) ? "a socket"
						  : "an irregular file";
	return berth_error_set(err, 400, "cannot write to %s", what);
}

int berth_cli_download(berth_cli *cli, const char *path, const char *output,
		       const char *fail_prefix, const char *open_verb)
{
	berth_error *err cleanup_error = NULL;
	bool to_file = output != NULL;
	if (to_file && check_output_path(output, &err) < 0) {
		berth_error_wrap(&err, "%s", fail_prefix);
		return berth_cli_fail(cli, &err, BERTH_EXIT_ERROR);
	}
	/* like docker's CopyToFile: a temp file beside the target, renamed when complete */
	char *tmp cleanup_free = to_file ? berth_xasprintf("%s.berth-XXXXXX", output) : NULL;
	download_out o = {.fd = to_file ? mkostemp(tmp, O_CLOEXEC) : STDOUT_FILENO};
	if (o.fd < 0) {
		berth_error_set_errno(&err, errno, "%s: %s %s", fail_prefix, open_verb, output);
		return berth_cli_fail(cli, &err, BERTH_EXIT_ERROR);
	}
	int r = berth_cli_stream(cli, "GET", path, NULL, 0, on_download_chunk, &o, &err);
	if (to_file) {
		fchmod(o.fd, 0644);
		close(o.fd);
		if (r == 0 && o.err == NULL && rename(tmp, output) < 0)
			berth_error_set_errno(&o.err, errno, "rename %s", output);
		if (r < 0 || o.err)
			unlink(tmp);
	}
	if (o.err)
		return berth_cli_fail(cli, &o.err, BERTH_EXIT_ERROR);
	return r < 0 ? berth_cli_fail(cli, &err, BERTH_EXIT_ERROR) : BERTH_EXIT_OK;
}

bool berth_cli_parse_output(berth_invocation *inv, const char **output, int *status)
{
	*output = NULL;
	berth_flag flags[] = {
		{"output", 'o', BERTH_FLAG_STRING, output, "Write to a file, instead of STDOUT",
		 .type_name = "string"},
	};
	if (!berth_cli_parse(inv, flags, BERTH_ARRAY_SIZE(flags), status))
		return false;
	if (*output && **output == '\0')
		*output = NULL;
	if (*output == NULL && isatty(STDOUT_FILENO)) {
		berth_error *err cleanup_error = NULL;
		berth_error_set(&err, 400, "cowardly refusing to save to a terminal. Use the -o flag "
					   "or redirect");
		*status = berth_cli_fail(inv->cli, &err, BERTH_EXIT_ERROR);
		return false;
	}
	return true;
}
