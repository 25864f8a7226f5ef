/*
 * main.c - `berth`: docker's global options, then one command of the
 * dispatch table. A new command is one row of berth_cli_commands (or of a
 * group's table, like berth_cli_system_commands) and one function; then
 * `contrib/completion/gen.sh build/release/bin/berth` brings bash completion
 * along (tests/integration/cli.bats fails until it has).
 */
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli.h"
#include "fs.h"

#define DEFAULT_HOST "unix:///run/berth.sock"
#define DEFAULT_TLS_HOST "tcp://localhost:2376"
#define ROOT_USE "[OPTIONS] COMMAND [ARG...]"

/* Common commands first, in the order docker lists them; then by name. */
const berth_command berth_cli_commands[] = {
	BERTH_CLI_RUN_ROW("Common Commands"),
	BERTH_CLI_EXEC_ROW("Common Commands"),
	BERTH_CLI_PS_ROW("ps", "Common Commands"),
	{"version", "[OPTIONS]", "Show the berth version information", NULL, "Common Commands", 0,
	 0, berth_cli_version, NULL},
	{"info", "[OPTIONS]", "Display system-wide information", "berth system info, berth info",
	 "Common Commands", 0, 0, berth_cli_info, NULL},
	{"compose", "[OPTIONS] COMMAND", "Docker Compose", NULL, "Management Commands", 0, -1,
	 berth_cli_compose, berth_cli_compose_commands},
	{"container", "", "Manage containers", NULL, "Management Commands", 0, -1, NULL, berth_cli_container_commands},
	{"system", "", "Manage berth", NULL, "Management Commands", 0, -1, NULL,
	 berth_cli_system_commands},
	{"volume", "COMMAND", "Manage volumes", NULL, "Management Commands", 0, -1, NULL, berth_cli_volume_commands},
	BERTH_CLI_BUILD_ROW("Common Commands"),
	{"network", "", "Manage networks", NULL, "Management Commands", 0, -1, NULL, berth_cli_network_commands},
	BERTH_CLI_PULL_ROW("Common Commands"),
	BERTH_CLI_PUSH_ROW("Common Commands"),
	{"login", "[OPTIONS] [SERVER]", "Log in to a registry", NULL, "Common Commands", 0, 1,
	 berth_cli_login, NULL},
	{"logout", "[SERVER]", "Log out from a registry", NULL, "Common Commands", 0, 1,
	 berth_cli_logout, NULL},
	{"images", "[OPTIONS] [REPOSITORY[:TAG]]", "List images", "berth image ls, berth image list, berth images", "Common Commands", 0, 1, berth_cli_images, NULL},
	{"image", "", "Manage images", NULL, "Management Commands", 0, -1, NULL, berth_cli_image_commands},
	{"history", "[OPTIONS] IMAGE", "Show the history of an image", "berth image history, berth history", "Commands", 1, 1, berth_cli_image_history, NULL},
	{"import", "[OPTIONS] file|URL|- [REPOSITORY[:TAG]]", "Import the contents from a tarball to create a filesystem image", "berth image import, berth import", "Commands", 1, 2, berth_cli_image_import, NULL},
	{"load", "[OPTIONS]", "Load an image from a tar archive or STDIN", "berth image load, berth load", "Commands", 0, 0, berth_cli_image_load, NULL},
	{"rmi", "[OPTIONS] IMAGE [IMAGE...]", "Remove one or more images", "berth image rm, berth image remove, berth rmi", "Commands", 1, -1, berth_cli_rmi, NULL},
	{"save", "[OPTIONS] IMAGE [IMAGE...]", "Save one or more images to a tar archive (streamed to STDOUT by default)", "berth image save, berth save", "Commands", 1, -1, berth_cli_image_save, NULL},
	{"tag", "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]", "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE", "berth image tag, berth tag", "Commands", 2, 2, berth_cli_image_tag, NULL},
	BERTH_CLI_ATTACH_ROW("Commands"),
	BERTH_CLI_COMMIT_ROW("Commands"),
	BERTH_CLI_CP_ROW("Commands"),
	BERTH_CLI_CREATE_ROW("Commands"),
	BERTH_CLI_DIFF_ROW("Commands"),
	{"events", "[OPTIONS]", "Get real time events from the server",
	 "berth system events, berth events", "Commands", 0, 0, berth_cli_events, NULL},
	BERTH_CLI_EXPORT_ROW("Commands"),
	{"inspect", "[OPTIONS] NAME|ID [NAME|ID...]", "Return low-level information on berth objects", NULL, "Commands", 1, -1, berth_cli_inspect, NULL},
	BERTH_CLI_KILL_ROW("Commands"),
	BERTH_CLI_LOGS_ROW("Commands"),
	BERTH_CLI_PAUSE_ROW("Commands"),
	BERTH_CLI_PORT_ROW("Commands"),
	BERTH_CLI_RENAME_ROW("Commands"),
	BERTH_CLI_RESTART_ROW("Commands"),
	BERTH_CLI_RM_ROW("Commands"),
	BERTH_CLI_START_ROW("Commands"),
	BERTH_CLI_STATS_ROW("Commands"),
	BERTH_CLI_STOP_ROW("Commands"),
	BERTH_CLI_TOP_ROW("Commands"),
	BERTH_CLI_UNPAUSE_ROW("Commands"),
	BERTH_CLI_UPDATE_ROW("Commands"),
	BERTH_CLI_WAIT_ROW("Commands"),
	{0},
};

static const char *const categories[] = {"Common Commands", "Management Commands",
					 "Swarm Commands", "Commands"};

typedef struct global_opts {
	const char *config;
	bool debug;
	berth_strlist hosts;
	const char *log_level;
	bool tls, tlsverify;
	const char *tlscacert, *tlscert, *tlskey;
	bool version;
	char *host; /* -H or DOCKER_HOST, as docker's ParseHost wrote it */
	/* defaults shown in help */
	char *config_default, *ca_default, *cert_default, *key_default;
} global_opts;

enum { F_CONFIG, F_DEBUG, F_HOST, F_LOG_LEVEL, F_TLS, F_TLSCACERT, F_TLSCERT, F_TLSKEY,
       F_TLSVERIFY, F_VERSION, F_COUNT };

static void global_flags(global_opts *g, berth_flag flags[F_COUNT])
{
	berth_flag table[F_COUNT] = {
		[F_CONFIG] = {"config", 0, BERTH_FLAG_STRING, &g->config,
			      "Location of client config files", .def = g->config_default},
		[F_DEBUG] = {"debug", 'D', BERTH_FLAG_BOOL, &g->debug, "Enable debug mode"},
		[F_HOST] = {"host", 'H', BERTH_FLAG_LIST, &g->hosts, "Daemon socket to connect to"},
		[F_LOG_LEVEL] = {"log-level", 'l', BERTH_FLAG_STRING, &g->log_level,
				 "Set the logging level (\"debug\", \"info\", \"warn\", \"error\", "
				 "\"fatal\")",
				 .def = "info"},
		[F_TLS] = {"tls", 0, BERTH_FLAG_BOOL, &g->tls, "Use TLS; implied by --tlsverify"},
		[F_TLSCACERT] = {"tlscacert", 0, BERTH_FLAG_STRING, &g->tlscacert,
				 "Trust certs signed only by this CA", .def = g->ca_default},
		[F_TLSCERT] = {"tlscert", 0, BERTH_FLAG_STRING, &g->tlscert,
			       "Path to TLS certificate file", .def = g->cert_default},
		[F_TLSKEY] = {"tlskey", 0, BERTH_FLAG_STRING, &g->tlskey, "Path to TLS key file",
			      .def = g->key_default},
		[F_TLSVERIFY] = {"tlsverify", 0, BERTH_FLAG_BOOL, &g->tlsverify,
				 "Use TLS and verify the remote",
				 .def = g->tlsverify ? "true" : NULL},
		[F_VERSION] = {"version", 'v', BERTH_FLAG_BOOL, &g->version,
			       "Print version information and quit"},
	};
	memcpy(flags, table, sizeof(table));
}

static const char *nonempty_env(const char *name)
{
	const char *v = getenv(name);
	return (v && *v) ? v : NULL;
}

static char *default_config_dir(void)
{
	const char *dir = nonempty_env("DOCKER_CONFIG");
	if (dir)
		return berth_xstrdup(dir);
	const char *home = nonempty_env("HOME");
	if (home == NULL) {
		struct passwd *pw = getpwuid(getuid());
		home = pw ? pw->pw_dir : "/";
	}
	return berth_xasprintf("%s/.docker", home);
}

static void global_defaults(global_opts *g)
{
	g->config_default = default_config_dir();
	const char *certs = nonempty_env("DOCKER_CERT_PATH");
	if (certs == NULL)
		certs = g->config_default;
	g->ca_default = berth_xasprintf("%s/ca.pem", certs);
	g->cert_default = berth_xasprintf("%s/cert.pem", certs);
	g->key_default = berth_xasprintf("%s/key.pem", certs);
	g->config = g->config_default;
	g->tlscacert = g->ca_default;
	g->tlscert = g->cert_default;
	g->tlskey = g->key_default;
	g->log_level = "info";
	g->tlsverify = nonempty_env("DOCKER_TLS_VERIFY") != NULL;
	g->tls = nonempty_env("DOCKER_TLS") != NULL;
}

static void global_reset(global_opts *g)
{
	berth_strlist_reset(&g->hosts);
	free(g->host);
	free(g->config_default);
	free(g->ca_default);
	free(g->cert_default);
	free(g->key_default);
}

static int terminal_cols(void)
{
	struct winsize ws;
	if (isatty(0) && ioctl(0, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col - 1;
	return 79;
}

static void root_help(berth_cli *cli, const berth_flag *flags, size_t nflags, FILE *to)
{
	berth_buf b cleanup_buf = {0};
	berth_buf_puts(&b, "Usage:  berth [OPTIONS] COMMAND\n\nA self-sufficient runtime for containers\n");
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(categories); i++) {
		berth_buf rows cleanup_buf = {0};
		berth_cli_command_rows(berth_cli_commands, categories[i], &rows);
		if (rows.len)
			berth_buf_printf(&b, "\n%s:\n%s", categories[i], rows.data);
	}
	berth_buf_puts(&b, "\nGlobal Options:\n");
	berth_flags_usage(flags, nflags, cli->term_cols, &b);
	berth_buf_puts(&b, "\nRun 'berth COMMAND --help' for more information on a command.\n");
	fputs(b.data, to);
}

/* docker's ParseTCPAddr: host and port, localhost and 2375 by default. */
static int parse_tcp(const char *addr, const char *original, char **out, berth_error **err)
{
	const char *path = strchr(addr, '/');
	char *hp cleanup_free = path ? berth_xstrndup(addr, (size_t)(path - addr)) : berth_xstrdup(addr);
	char *host cleanup_free = NULL;
	const char *port = "";
	if (hp[0] == '[') { /* [::1]:port */
		char *close = strchr(hp, ']');
		if (close == NULL)
			return berth_error_set(err, 400, "invalid bind address format: %s", original);
		host = berth_xstrndup(hp, (size_t)(close - hp + 1));
		if (close[1] == ':')
			port = close + 2;
	} else {
		char *colon = strrchr(hp, ':');
		host = colon ? berth_xstrndup(hp, (size_t)(colon - hp)) : berth_xstrdup(hp);
		if (colon)
			port = colon + 1;
	}
	if (port[strspn(port, "0123456789")] != '\0') /* Go's url.Parse */
		return berth_error_set(err, 400, "parse \"tcp://%s\": invalid port \":%s\" after host",
				       addr, port);
	*out = berth_xasprintf("tcp://%s:%s%s", *host ? host : "localhost", *port ? port : "2375",
			       path ? path : "");
	return 0;
}

/* docker's ParseHost: no scheme is tcp, unix:// alone is the default socket
 * (berth's), an unknown scheme is refused. */
static int parse_host(const char *value, char **out, berth_error **err)
{
	const char *sep = strstr(value, "://");
	if (sep == NULL)
		return parse_tcp(value, value, out, err);
	size_t n = (size_t)(sep - value);
	const char *rest = sep + 3;
	if (n == 3 && strncmp(value, "tcp", 3) == 0)
		return parse_tcp(rest, value, out, err);
	if (n == 4 && strncmp(value, "unix", 4) == 0)
		*out = *rest ? berth_xasprintf("unix://%s", rest) : berth_xstrdup(DEFAULT_HOST);
	else if ((n == 2 && strncmp(value, "fd", 2) == 0) || (n == 3 && strncmp(value, "ssh", 3) == 0))
		*out = berth_xstrdup(value);
	else
		return berth_error_set(err, 400, "invalid bind address format: %s", value);
	return 0;
}

/* With TLS on, the CA is always read; a certificate or key left at its
 * default place is dropped when it is not there (SetDefaultOptions). Missing
 * files fail here, as docker's "unable to resolve docker endpoint". */
static int configure_tls(berth_cli *cli, global_opts *g, berth_flag *flags, berth_error **err)
{
	cli->use_tls = g->tls || g->tlsverify || flags[F_TLSVERIFY].changed;
	if (!cli->use_tls)
		return 0;
	cli->tls.verify = g->tlsverify;
	cli->tls.ca = g->tlscacert;
	cli->tls.cert = flags[F_TLSCERT].changed || access(g->tlscert, F_OK) == 0 ? g->tlscert : NULL;
	cli->tls.key = flags[F_TLSKEY].changed || access(g->tlskey, F_OK) == 0 ? g->tlskey : NULL;
	const char *files[] = {cli->tls.ca, cli->tls.cert, cli->tls.key};
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(files); i++)
		if (files[i] && access(files[i], R_OK) < 0)
			return berth_error_set_errno(err, errno, "open %s", files[i]);
	return 0;
}

/* docker's ClientOptions.SetDefaultOptions and ParseHost. */
static int configure(berth_cli *cli, global_opts *g, berth_flag *flags)
{
	berth_log_level level;
	berth_error *err cleanup_error = NULL;
	if (berth_log_level_parse(g->log_level, &level) < 0) {
		fprintf(cli->err, "Unable to parse logging level: %s\n", g->log_level);
		return -1;
	}
	berth_log_set_level(g->debug ? BERTH_LOG_DEBUG : level);
	cli->debug = g->debug;
	cli->config_dir = g->config;
	berth_cli_load_config(cli);
	cli->api_version = nonempty_env("DOCKER_API_VERSION");
	if (g->hosts.n > 1)
		berth_error_set(&err, 400, "Specify only one -H");
	else
		configure_tls(cli, g, flags, &err);
	const char *host = g->hosts.n == 1 ? g->hosts.v[0] : nonempty_env("DOCKER_HOST");
	if (err == NULL && host)
		parse_host(host, &g->host, &err);
	if (err) {
		fprintf(cli->err, "Failed to initialize: unable to resolve docker endpoint: %s\n",
			err->msg);
		return -1;
	}
	cli->host = g->host ? g->host : cli->use_tls ? DEFAULT_TLS_HOST : DEFAULT_HOST;
	return 0;
}

static int help_command(berth_cli *cli, int argc, char **argv, const berth_flag *flags)
{
	if (argc == 0) {
		root_help(cli, flags, F_COUNT, cli->out);
		return BERTH_EXIT_OK;
	}
	berth_strlist words cleanup_strlist = {0};
	berth_buf path cleanup_buf = {0};
	berth_buf_puts(&path, "berth");
	const berth_command *table = berth_cli_commands, *first = NULL;
	for (int i = 0; i < argc; i++) {
		const berth_command *c = berth_cli_find_command(table, path.data, argv[i]);
		if (c == NULL) {
			fprintf(cli->err, "unknown help topic: %s\n", argv[i]);
			return BERTH_EXIT_ERROR;
		}
		first = first ? first : c;
		berth_strlist_push(&words, c->name);
		berth_buf_printf(&path, " %s", c->name);
		table = c->subcommands;
	}
	berth_strlist_push(&words, "--help");
	return berth_cli_dispatch(cli, first, "berth", (int)words.n - 1, words.v + 1);
}

static int run_command(berth_cli *cli, const berth_strlist *args, const berth_flag *flags)
{
	const char *name = args->v[0];
	if (strcmp(name, "help") == 0)
		return help_command(cli, (int)args->n - 1, args->v + 1, flags);
	const berth_command *c = berth_cli_find_command(berth_cli_commands, "berth", name);
	if (c)
		return berth_cli_dispatch(cli, c, "berth", (int)args->n - 1, args->v + 1);
	fprintf(cli->err,
		"berth: unknown command: berth %s\n\nRun 'berth --help' for more information\n", name);
	return BERTH_EXIT_ERROR;
}

int main(int argc, char **argv)
{
	berth_cli cli = {.out = stdout, .err = stderr, .term_cols = terminal_cols()};
	global_opts g = {0};
	berth_flag flags[F_COUNT];
	berth_strlist args cleanup_strlist = {0};
	berth_error *err cleanup_error = NULL;
	int status = BERTH_EXIT_OK;

	global_defaults(&g);
	global_flags(&g, flags);
	int r = berth_flags_parse(flags, F_COUNT, false, argc - 1, argv + 1, &args, NULL, &err);
	if (r < 0) {
		berth_cli_usage_error(&cli, "berth", ROOT_USE, err->msg, "Run");
		status = BERTH_EXIT_USAGE;
	} else if (r == BERTH_FLAGS_HELP) {
		root_help(&cli, flags, F_COUNT, cli.out);
	} else if (args.n == 0 && !g.version) {
		/* A bare `berth` prints its help on stderr, as docker does. */
		root_help(&cli, flags, F_COUNT, cli.err);
	} else if (g.version) {
		fprintf(cli.out, "berth version %s, build %s\n", BERTH_VERSION, BERTH_GIT_COMMIT);
	} else if (configure(&cli, &g, flags) < 0) {
		status = BERTH_EXIT_ERROR;
	} else {
		status = run_command(&cli, &args, flags);
	}
	berth_client_free(cli.client);
	json_decref(cli.config);
	global_reset(&g);
	fflush(stdout);
	return status;
}
