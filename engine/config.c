/*
 * config.c - berthd's flags and daemon.json, with dockerd's names.
 *
 * One table lists every option: its flag, its daemon.json key, its type and
 * where it lands in berth_config. Flags and file values go through the same
 * setter (as JSON values), so a key behaves the same from either source.
 * Keys that a later module reads (bip, dns, log-opts, ...) are accepted and
 * kept in cfg->file; berthd warns at start about those not used yet.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine.h"

#define DEFAULT_CONFIG_FILE "/etc/berth/daemon.json"

typedef enum opt_type { T_STR, T_BOOL, T_INT, T_STRLIST, T_OBJECT, T_ANY } opt_type;

typedef struct option_def option_def;
typedef int (*opt_setter)(berth_config *cfg, const option_def *o, json_t *v, berth_error **err);

struct option_def {
	const char *flag;       /* long flag name, NULL when daemon.json only */
	char short_flag;
	const char *key;        /* daemon.json key */
	opt_type type;
	size_t offset;          /* field in berth_config, for the plain setters */
	opt_setter set;         /* NULL: stored in cfg->file for a later module */
	const char *arg;        /* metavariable in --help, NULL for booleans */
	const char *help;
};

static int set_str(berth_config *cfg, const option_def *o, json_t *v, berth_error **err)
{
	char **field = (char **)((char *)cfg + o->offset);
	free(*field);
	*field = berth_xstrdup(json_string_value(v));
	return 0;
}

/* Keys a module reads from cfg->file itself (the registry client's). */
static int set_in_file(berth_config *cfg, const option_def *o, json_t *v, berth_error **err)
{
	return 0;
}

static int set_bool(berth_config *cfg, const option_def *o, json_t *v, berth_error **err)
{
	*(bool *)((char *)cfg + o->offset) = json_is_true(v);
	return 0;
}

static int set_int(berth_config *cfg, const option_def *o, json_t *v, berth_error **err)
{
	json_int_t n = json_integer_value(v);
	if (n < 0)
		return berth_error_set(err, 400, "%s must be a positive integer", o->key);
	*(int64_t *)((char *)cfg + o->offset) = n;
	return 0;
}

static int set_hosts(berth_config *cfg, const option_def *o, json_t *v, berth_error **err)
{
	size_t i;
	json_t *h;
	json_array_foreach(v, i, h) {
		cfg->hosts = berth_xrealloc(cfg->hosts, (cfg->nhosts + 1) * sizeof(char *));
		cfg->hosts[cfg->nhosts++] = berth_xstrdup(json_string_value(h));
	}
	return 0;
}

static int set_labels(berth_config *cfg, const option_def *o, json_t *v, berth_error **err)
{
	size_t i;
	json_t *l;
	json_array_foreach(v, i, l) {
		if (strchr(json_string_value(l), '=') == NULL)
			return berth_error_set(err, 400, "bad attribute format: %s", json_string_value(l));
		json_array_append(cfg->labels, l);
	}
	return 0;
}

static int set_log_level(berth_config *cfg, const option_def *o, json_t *v, berth_error **err)
{
	if (berth_log_level_parse(json_string_value(v), &cfg->log_level) < 0)
		return berth_error_set(err, 400, "unable to parse logging level: %s", json_string_value(v));
	return 0;
}

static int set_exec_opts(berth_config *cfg, const option_def *o, json_t *v, berth_error **err)
{
	size_t i;
	json_t *e;
	json_array_foreach(v, i, e) {
		const char *opt = json_string_value(e);
		const char *eq = strchr(opt, '=');
		if (eq == NULL)
			return berth_error_set(err, 400, "invalid exec-opt (%s): must be formatted 'opt=value'", opt);
		if (strncmp(opt, "native.cgroupdriver", (size_t)(eq - opt)) != 0)
			return berth_error_set(err, 400, "unknown exec-opt: %s", opt);
		if (strcmp(eq + 1, "cgroupfs") != 0 && strcmp(eq + 1, "systemd") != 0)
			return berth_error_set(err, 400, "native.cgroupdriver option %s not supported", eq + 1);
		free(cfg->cgroup_driver);
		cfg->cgroup_driver = berth_xstrdup(eq + 1);
	}
	return 0;
}

/* --add-runtime name=path, or daemon.json "runtimes": {name: {"path": ...}}. */
static int set_runtimes(berth_config *cfg, const option_def *o, json_t *v, berth_error **err)
{
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		const char *eq = strchr(s, '=');
		if (eq == NULL || eq == s || eq[1] == '\0')
			return berth_error_set(err, 400, "invalid runtime %s: expected name=path", s);
		char *name cleanup_free = berth_xstrndup(s, (size_t)(eq - s));
		json_object_set_new(cfg->runtimes, name, json_pack("{s:s}", "path", eq + 1));
		return 0;
	}
	const char *name;
	json_t *rt;
	json_object_foreach(v, name, rt) {
		if (!json_is_object(rt) || !json_is_string(json_object_get(rt, "path")))
			return berth_error_set(err, 400, "runtime %s must have a \"path\"", name);
		json_object_set(cfg->runtimes, name, rt);
	}
	return 0;
}

/* Network options, read by engine/network. */
static int set_network(berth_config *cfg, const option_def *o, json_t *v, berth_error **err)
{
	if (cfg->network == NULL)
		cfg->network = json_object();
	json_object_set(cfg->network, o->key, v);
	return 0;
}

#define CFG(field) offsetof(berth_config, field)

static const option_def options[] = {
	{"host", 'H', "hosts", T_STRLIST, 0, set_hosts, "list", "Daemon socket(s) to connect to"},
	{"data-root", 0, "data-root", T_STR, CFG(data_root), set_str, "string", "Root directory of persistent state"},
	{"exec-root", 0, "exec-root", T_STR, CFG(exec_root), set_str, "string", "Root directory for execution state files"},
	{"pidfile", 'p', "pidfile", T_STR, CFG(pidfile), set_str, "string", "Path to use for daemon PID file"},
	{"log-level", 'l', "log-level", T_STR, 0, set_log_level, "string", "Set the logging level (\"debug\"|\"info\"|\"warn\"|\"error\"|\"fatal\")"},
	{"debug", 'D', "debug", T_BOOL, CFG(debug), set_bool, NULL, "Enable debug mode"},
	{"group", 'G', "group", T_STR, CFG(group), set_str, "string", "Group for the unix socket"},
	{"config-file", 0, NULL, T_STR, CFG(config_file), set_str, "string", "Daemon configuration file (default \"" DEFAULT_CONFIG_FILE "\")"},
	{"tls", 0, "tls", T_BOOL, CFG(tls), set_bool, NULL, "Use TLS; implied by --tlsverify"},
	{"tlsverify", 0, "tlsverify", T_BOOL, CFG(tlsverify), set_bool, NULL, "Use TLS and verify the remote"},
	{"tlscacert", 0, "tlscacert", T_STR, CFG(tlscacert), set_str, "string", "Trust certs signed only by this CA"},
	{"tlscert", 0, "tlscert", T_STR, CFG(tlscert), set_str, "string", "Path to TLS certificate file"},
	{"tlskey", 0, "tlskey", T_STR, CFG(tlskey), set_str, "string", "Path to TLS key file"},
	{"insecure-tcp", 0, "insecure-tcp", T_BOOL, CFG(insecure_tcp), set_bool, NULL, "Allow plain TCP on 127.0.0.1 (testing only)"},
	{"experimental", 0, "experimental", T_BOOL, CFG(experimental), set_bool, NULL, "Enable experimental features"},
	{"live-restore", 0, "live-restore", T_BOOL, CFG(live_restore), set_bool, NULL, "Enable live restore of containers when the daemon stops (default true)"},
	{"default-runtime", 0, "default-runtime", T_STR, CFG(default_runtime), set_str, "string", "Default OCI runtime for containers"},
	{"add-runtime", 0, "runtimes", T_OBJECT, 0, set_runtimes, "name=path", "Register an additional OCI compatible runtime"},
	{"label", 0, "labels", T_STRLIST, 0, set_labels, "list", "Set key=value labels to the daemon"},
	{"exec-opt", 0, "exec-opts", T_STRLIST, 0, set_exec_opts, "list", "Runtime execution options"},
	{"max-concurrent-downloads", 0, "max-concurrent-downloads", T_INT, CFG(max_concurrent_downloads), set_int, "int", "Set the max concurrent downloads (default 3)"},
	{"max-concurrent-uploads", 0, "max-concurrent-uploads", T_INT, CFG(max_concurrent_uploads), set_int, "int", "Set the max concurrent uploads (default 5)"},
	/* daemon.json keys kept for the modules that read them (networks,
	 * registry, logging, containers). */
	{"bridge", 'b', "bridge", T_STR, 0, set_network, "string", "Attach containers to a network bridge (\"none\": no default bridge)"},
	{"bip", 0, "bip", T_STR, 0, set_network, "string", "Specify default-bridge IP"},
	{NULL, 0, "default-address-pools", T_ANY, 0, set_network, NULL, NULL},
	{NULL, 0, "fixed-cidr", T_STR, 0, set_network, NULL, NULL},
	{"mtu", 0, "mtu", T_INT, 0, set_network, "int", "Set the containers network MTU"},
	{"iptables", 0, "iptables", T_BOOL, 0, set_network, NULL, "Enable addition of firewall rules (nftables table ip berth)"},
	{NULL, 0, "ip-forward", T_BOOL, 0, NULL, NULL, NULL},
	{NULL, 0, "ip-masq", T_BOOL, 0, NULL, NULL, NULL},
	{NULL, 0, "ipv6", T_BOOL, 0, NULL, NULL, NULL},
	{NULL, 0, "userland-proxy", T_BOOL, 0, NULL, NULL, NULL},
	{"dns", 0, "dns", T_STRLIST, 0, set_network, "list", "DNS server to use"},
	{NULL, 0, "dns-opts", T_STRLIST, 0, set_network, NULL, NULL},
	{NULL, 0, "dns-search", T_STRLIST, 0, set_network, NULL, NULL},
	{NULL, 0, "registry-mirrors", T_STRLIST, 0, set_in_file, NULL, NULL},
	{NULL, 0, "insecure-registries", T_STRLIST, 0, set_in_file, NULL, NULL},
	{NULL, 0, "max-download-attempts", T_INT, 0, set_in_file, NULL, NULL},
	{NULL, 0, "log-driver", T_STR, 0, NULL, NULL, NULL},
	{NULL, 0, "log-opts", T_OBJECT, 0, NULL, NULL, NULL},
	{NULL, 0, "storage-driver", T_STR, 0, NULL, NULL, NULL},
	{NULL, 0, "default-ulimits", T_OBJECT, 0, NULL, NULL, NULL},
	{NULL, 0, "default-shm-size", T_STR, 0, NULL, NULL, NULL},
	{NULL, 0, "shutdown-timeout", T_INT, 0, NULL, NULL, NULL},
	{NULL, 0, "seccomp-profile", T_STR, 0, NULL, NULL, NULL},
	{NULL, 0, "no-new-privileges", T_BOOL, 0, NULL, NULL, NULL},
	{NULL, 0, "init", T_BOOL, 0, NULL, NULL, NULL},
	{NULL, 0, "init-path", T_STR, 0, NULL, NULL, NULL},
	{NULL, 0, "cgroup-parent", T_STR, 0, NULL, NULL, NULL},
	{NULL, 0, "default-cgroupns-mode", T_STR, 0, NULL, NULL, NULL},
	{NULL, 0, "features", T_OBJECT, 0, NULL, NULL, NULL},
	{NULL, 0, "builder", T_OBJECT, 0, NULL, NULL, NULL},
};

static const char *type_name(opt_type t)
{
	static const char *const names[] = {"a string", "a boolean", "an integer",
					    "a list of strings", "an object", "a value"};
	return names[t];
}

static bool type_ok(opt_type t, const json_t *v)
{
	switch (t) {
	case T_STR:
		return json_is_string(v);
	case T_BOOL:
		return json_is_boolean(v);
	case T_INT:
		return json_is_integer(v);
	case T_OBJECT:
		return json_is_object(v);
	case T_ANY:
		return true;
	case T_STRLIST: {
		if (!json_is_array(v))
			return false;
		size_t i;
		json_t *s;
		json_array_foreach(v, i, s) {
			if (!json_is_string(s))
				return false;
		}
		return true;
	}
	}
	return false;
}

static const option_def *find_flag(const char *name, size_t len, char short_flag)
{
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(options); i++) {
		const option_def *o = &options[i];
		if (o->flag == NULL)
			continue;
		if (short_flag ? o->short_flag == short_flag
			       : (strlen(o->flag) == len && memcmp(o->flag, name, len) == 0))
			return o;
	}
	return NULL;
}

static const option_def *find_key(const char *key)
{
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(options); i++) {
		if (options[i].key && strcmp(options[i].key, key) == 0)
			return &options[i];
	}
	return NULL;
}

/* A flag's text value as the JSON value its setter takes. */
static int flag_value(const option_def *o, const char *text, json_t **out, berth_error **err)
{
	switch (o->type) {
	case T_BOOL:
		if (strcmp(text, "true") != 0 && strcmp(text, "false") != 0 && strcmp(text, "1") != 0 &&
		    strcmp(text, "0") != 0)
			return berth_error_set(err, 400, "invalid argument \"%s\" for \"--%s\" flag", text, o->flag);
		*out = json_boolean(strcmp(text, "true") == 0 || strcmp(text, "1") == 0);
		return 0;
	case T_INT: {
		char *end;
		long long n = strtoll(text, &end, 10);
		if (*text == '\0' || *end != '\0')
			return berth_error_set(err, 400, "invalid argument \"%s\" for \"--%s\" flag", text, o->flag);
		*out = json_integer(n);
		return 0;
	}
	case T_STRLIST:
		*out = json_pack("[s]", text);
		return 0;
	default:
		*out = json_string(text);
		return 0;
	}
}

static void usage(FILE *f)
{
	fprintf(f, "Usage:\tberthd [OPTIONS]\n\nA self-sufficient runtime for containers, "
		   "serving the Docker Engine API.\n\nOptions:\n");
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(options); i++) {
		const option_def *o = &options[i];
		if (o->flag == NULL)
			continue;
		char left[64];
		snprintf(left, sizeof(left), "%s%c%s--%s %s", o->short_flag ? "-" : "   ",
			 o->short_flag ? o->short_flag : ' ', o->short_flag ? ", " : " ", o->flag,
			 o->arg ? o->arg : "");
		fprintf(f, "  %-40s %s\n", left, o->help);
	}
	fprintf(f, "  %-40s %s\n  %-40s %s\n", "-h, --help", "Print usage", "-v, --version",
		"Print version information and quit");
}

static void mark_set(char ***flags_set, const char *key)
{
	size_t n = berth_strv_len(*flags_set);
	for (size_t i = 0; i < n; i++) {
		if (strcmp((*flags_set)[i], key) == 0)
			return;
	}
	*flags_set = berth_xrealloc(*flags_set, (n + 2) * sizeof(char *));
	(*flags_set)[n] = berth_xstrdup(key);
	(*flags_set)[n + 1] = NULL;
}

/* Splits one argv element into option + inline value; *consumed says whether
 * the next argv element was taken as the value. */
static int parse_one(berth_config *cfg, int argc, char **argv, int *i, char ***flags_set,
		     bool *exit_now, berth_error **err)
{
	const char *a = argv[*i];
	const char *name = a + (a[1] == '-' ? 2 : 1);
	bool is_long = a[1] == '-';
	const char *eq = is_long ? strchr(name, '=') : NULL;
	size_t len = eq ? (size_t)(eq - name) : strlen(name);
	if ((is_long && len == 4 && strncmp(name, "help", 4) == 0) || strcmp(a, "-h") == 0) {
		usage(stdout);
		*exit_now = true;
		return 0;
	}
	if ((is_long && strcmp(name, "version") == 0) || strcmp(a, "-v") == 0) {
		printf("berthd version %s, build %s\n", BERTH_VERSION, BERTH_GIT_COMMIT);
		*exit_now = true;
		return 0;
	}
	const option_def *o = find_flag(name, len, is_long ? 0 : name[0]);
	if (o == NULL)
		return berth_error_set(err, 400, "unknown flag: %.*s", (int)(len + (is_long ? 2 : 1)), a);
	const char *value = eq ? eq + 1 : (!is_long && name[1]) ? name + 1 : NULL;
	if (value == NULL && o->type == T_BOOL)
		value = "true";
	if (value == NULL) {
		if (*i + 1 >= argc)
			return berth_error_set(err, 400, "flag needs an argument: %s", a);
		value = argv[++*i];
	}
	json_t *v cleanup_json = NULL;
	if (flag_value(o, value, &v, err) < 0)
		return -1;
	if (o->key)
		mark_set(flags_set, o->key);
	return o->set(cfg, o, v, err);
}

static void config_defaults(berth_config *cfg)
{
	cfg->log_level = BERTH_LOG_INFO;
	cfg->runtimes = json_pack("{s:{s:s}}", "runc", "path", "runc");
	cfg->labels = json_array();
	/* berth keeps containers running across its own restarts unless told
	 * otherwise: the shim design makes it safe, and it is what users of a
	 * daemon they restart for upgrades want (dockerd defaults to false) */
	cfg->live_restore = true;
	cfg->max_concurrent_downloads = 3;
	cfg->max_concurrent_uploads = 5;
}

/* What neither the flags nor the file set. */
static void config_fill_unset(berth_config *cfg)
{
	if (cfg->data_root == NULL)
		cfg->data_root = berth_xstrdup("/var/lib/berth");
	if (cfg->exec_root == NULL)
		cfg->exec_root = berth_xstrdup("/run/berth");
	if (cfg->pidfile == NULL)
		cfg->pidfile = berth_xstrdup("/run/berth.pid");
	if (cfg->nhosts == 0) {
		cfg->hosts = berth_xcalloc(1, sizeof(char *));
		cfg->hosts[cfg->nhosts++] = berth_xstrdup("unix:///run/berth.sock");
	}
	if (cfg->default_runtime == NULL)
		cfg->default_runtime = berth_xstrdup("runc");
	if (cfg->cgroup_driver == NULL) {
		struct stat st;
		bool systemd = stat("/run/systemd/system", &st) == 0;
		cfg->cgroup_driver = berth_xstrdup(systemd ? "systemd" : "cgroupfs");
	}
	if (cfg->debug)
		cfg->log_level = BERTH_LOG_DEBUG;
	if (cfg->tlsverify)
		cfg->tls = true;
}

/* A tcp:// host needs mutual TLS, except 127.0.0.1 with --insecure-tcp. */
static int config_validate(berth_config *cfg, berth_error **err)
{
	if (cfg->tlsverify && (!cfg->tlscacert || !cfg->tlscert || !cfg->tlskey))
		return berth_error_set(err, 400, "--tlsverify needs --tlscacert, --tlscert and --tlskey");
	if (cfg->tls && (!cfg->tlscert || !cfg->tlskey))
		return berth_error_set(err, 400, "--tls needs --tlscert and --tlskey");
	for (size_t i = 0; i < cfg->nhosts; i++) {
		const char *h = cfg->hosts[i];
		if (!berth_str_has_prefix(h, "unix://") && !berth_str_has_prefix(h, "tcp://") &&
		    !berth_str_has_prefix(h, "fd://"))
			return berth_error_set(err, 400, "invalid bind address format: %s", h);
		if (!berth_str_has_prefix(h, "tcp://") || cfg->tlsverify)
			continue;
		bool loopback = berth_str_has_prefix(h, "tcp://127.0.0.1:");
		if (!(loopback && cfg->insecure_tcp))
			return berth_error_set(err, 400,
					       "%s: a TCP socket needs mutual TLS (--tlsverify --tlscacert "
					       "--tlscert --tlskey); plain TCP is allowed only on 127.0.0.1 "
					       "with --insecure-tcp", h);
	}
	if (json_object_get(cfg->runtimes, cfg->default_runtime) == NULL)
		return berth_error_set(err, 400, "default runtime %s is not configured", cfg->default_runtime);
	return 0;
}

int berth_config_load_file(berth_config *cfg, const char *path, char *const *flags_set,
			   berth_error **err)
{
	char *data cleanup_free = NULL;
	size_t len = 0;
	if (berth_file_read_all(path, &data, &len, err) < 0)
		return -1;
	json_t *root cleanup_json = NULL;
	if (berth_json_parse_object(data, len, &root, err) < 0)
		return berth_error_wrap(err, "unable to configure the daemon with file %s", path);
	berth_buf unknown cleanup_buf = {0}, conflicts cleanup_buf = {0};
	const char *key;
	json_t *v;
	json_object_foreach(root, key, v) {
		const option_def *o = find_key(key);
		if (o == NULL) {
			berth_buf_printf(&unknown, "%s%s", unknown.len ? ", " : "", key);
			continue;
		}
		for (char *const *f = flags_set; f && *f; f++) {
			if (strcmp(*f, key) == 0) {
				char *fv cleanup_free = berth_json_dump(v);
				berth_buf_printf(&conflicts, "%s%s: (from file: %s)", conflicts.len ? ", " : "",
						 key, fv);
			}
		}
		if (!type_ok(o->type, v))
			return berth_error_set(err, 400,
					       "unable to configure the daemon with file %s: %s must be %s",
					       path, key, type_name(o->type));
	}
	if (unknown.len)
		return berth_error_set(err, 400, "unable to configure the daemon with file %s: the following "
					 "directives don't match any configuration option: %s", path, unknown.data);
	if (conflicts.len)
		return berth_error_set(err, 400, "unable to configure the daemon with file %s: the following "
					 "directives are specified both as a flag and in the configuration file: %s",
				       path, conflicts.data);
	json_object_foreach(root, key, v) {
		const option_def *o = find_key(key);
		if (o->set == NULL)
			berth_warn("%s: %s is accepted but not used yet by berthd", path, key);
		else if (o->set(cfg, o, v, err) < 0)
			return berth_error_wrap(err, "unable to configure the daemon with file %s", path);
	}
	json_decref(cfg->file);
	cfg->file = berth_steal_ptr(&root);
	return 0;
}

int berth_config_parse(int argc, char **argv, berth_config **out, bool *exit_now,
		       berth_error **err)
{
	berth_config *cfg = berth_xcalloc(1, sizeof(*cfg));
	char **flags_set = NULL;
	*exit_now = false;
	config_defaults(cfg);
	int rc = 0;
	for (int i = 1; i < argc && rc == 0 && !*exit_now; i++) {
		if (argv[i][0] != '-' || argv[i][1] == '\0')
			rc = berth_error_set(err, 400, "berthd takes no arguments: %s", argv[i]);
		else
			rc = parse_one(cfg, argc, argv, &i, &flags_set, exit_now, err);
	}
	if (rc == 0 && !*exit_now) {
		struct stat st;
		const char *file = cfg->config_file ? cfg->config_file : DEFAULT_CONFIG_FILE;
		if (cfg->config_file || stat(file, &st) == 0)
			rc = berth_config_load_file(cfg, file, flags_set, err);
	}
	berth_strv_free(flags_set);
	if (rc == 0 && *exit_now) {
		berth_config_free(cfg);
		*out = NULL;
		return 0;
	}
	if (rc == 0) {
		config_fill_unset(cfg);
		rc = config_validate(cfg, err);
	}
	if (rc < 0) {
		berth_config_free(cfg);
		return -1;
	}
	*out = cfg;
	return 0;
}

int berth_config_reload(berth_config *cfg, berth_error **err)
{
	const char *file = cfg->config_file ? cfg->config_file : DEFAULT_CONFIG_FILE;
	struct stat st;
	if (cfg->config_file == NULL && stat(file, &st) < 0)
		return 0;
	berth_config *fresh = berth_xcalloc(1, sizeof(*fresh));
	config_defaults(fresh);
	fresh->debug = cfg->debug;
	fresh->log_level = cfg->log_level;
	int rc = berth_config_load_file(fresh, file, NULL, err);
	if (rc == 0) {
		cfg->debug = fresh->debug;
		cfg->log_level = fresh->debug ? BERTH_LOG_DEBUG : fresh->log_level;
		cfg->max_concurrent_downloads = fresh->max_concurrent_downloads;
		cfg->max_concurrent_uploads = fresh->max_concurrent_uploads;
		json_decref(cfg->labels);
		cfg->labels = json_incref(fresh->labels);
		json_object_update(cfg->runtimes, fresh->runtimes);
		json_decref(cfg->file);
		cfg->file = json_incref(fresh->file);
	}
	berth_config_free(fresh);
	return rc;
}

void berth_config_free(berth_config *cfg)
{
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < cfg->nhosts; i++)
		free(cfg->hosts[i]);
	free(cfg->hosts);
	free(cfg->data_root);
	free(cfg->exec_root);
	free(cfg->pidfile);
	free(cfg->group);
	free(cfg->config_file);
	free(cfg->tlscacert);
	free(cfg->tlscert);
	free(cfg->tlskey);
	free(cfg->default_runtime);
	free(cfg->cgroup_driver);
	json_decref(cfg->runtimes);
	json_decref(cfg->labels);
	json_decref(cfg->network);
	json_decref(cfg->file);
	free(cfg);
}
