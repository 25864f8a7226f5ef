/* info.c - `berth info`: docker's layout of GET /info, after the client's own section. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* ---------------------------------------------------------------- output */

/* Go's fmt.Println(label, value). */
static void line(berth_buf *b, const char *label, const char *value)
{
	berth_buf_printf(b, "%s %s\n", label, value);
}

static void line_nonempty(berth_buf *b, const char *label, const char *value)
{
	if (value && *value)
		line(b, label, value);
}

static void line_int(berth_buf *b, const char *label, const json_t *obj, const char *key)
{
	berth_buf_printf(b, "%s %lld\n", label,
			 (long long)json_integer_value(json_object_get(obj, key)));
}

static void line_bool(berth_buf *b, const char *label, const json_t *obj, const char *key)
{
	line(b, label, berth_cli_bool(json_is_true(json_object_get(obj, key))));
}

static void str_member(berth_buf *b, const char *label, const json_t *obj, const char *key)
{
	line_nonempty(b, label, berth_cli_str(obj, key));
}

/* strings.Join(list, sep) of a JSON array of strings. */
static char *join(const json_t *list, const char *sep)
{
	berth_buf b = {0};
	size_t i;
	json_t *v;
	json_array_foreach(list, i, v) {
		if (i > 0)
			berth_buf_puts(&b, sep);
		berth_buf_puts(&b, json_is_string(v) ? json_string_value(v) : "");
	}
	return berth_buf_steal(&b);
}

static void line_join(berth_buf *b, const char *label, const json_t *list)
{
	char *s cleanup_free = join(list, " ");
	line(b, label, s);
}

static int by_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* --------------------------------------------------------------- client */

static json_t *client_info(berth_cli *cli, const char *api_version)
{
	json_t *ci = json_object();
	json_object_set_new(ci, "Debug", json_boolean(cli->debug));
	json_t *v = berth_cli_client_version(api_version);
	json_object_update(ci, v);
	json_decref(v);
	json_object_set_new(ci, "Plugins", json_array());
	json_object_set_new(ci, "Warnings", json_null());
	return ci;
}

static void print_client(const json_t *ci, berth_buf *b)
{
	berth_buf_puts(b, "Client:\n");
	str_member(b, " Version:   ", ci, "Version");
	line(b, " Context:   ", berth_cli_str(ci, "Context"));
	line_bool(b, " Debug Mode:", ci, "Debug");
}

/* --------------------------------------------------------------- server */

/* A titled list of strings, one a line; nothing at all when it is empty. */
static void print_list(berth_buf *b, const char *title, const json_t *list)
{
	if (json_array_size(list) == 0)
		return;
	berth_buf_puts(b, title);
	size_t i;
	json_t *v;
	json_array_foreach(list, i, v) berth_buf_printf(b, "  %s\n", json_string_value(v));
}

static void print_pairs(berth_buf *b, const char *indent, const json_t *pairs)
{
	size_t i;
	json_t *pair;
	json_array_foreach(pairs, i, pair) {
		berth_buf_printf(b, "%s%s: %s\n", indent, json_string_value(json_array_get(pair, 0)),
				 json_string_value(json_array_get(pair, 1)));
	}
}

static void print_plugins(const json_t *info, berth_buf *b)
{
	const json_t *plugins = json_object_get(info, "Plugins");
	berth_buf_puts(b, " Plugins:\n");
	line_join(b, "  Volume:", json_object_get(plugins, "Volume"));
	line_join(b, "  Network:", json_object_get(plugins, "Network"));
	if (json_array_size(json_object_get(plugins, "Authorization")) > 0)
		line_join(b, "  Authorization:", json_object_get(plugins, "Authorization"));
	line_join(b, "  Log:", json_object_get(plugins, "Log"));
	print_list(b, " CDI spec directories:\n", json_object_get(info, "CDISpecDirs"));
}

static void print_swarm_cluster(const json_t *swarm, berth_buf *b)
{
	const json_t *cluster = json_object_get(swarm, "Cluster");
	const json_t *spec = json_object_get(cluster, "Spec");
	line(b, "  ClusterID:", berth_cli_str(cluster, "ID"));
	line_int(b, "  Managers:", swarm, "Managers");
	line_int(b, "  Nodes:", swarm, "Nodes");
	const json_t *pool = json_object_get(cluster, "DefaultAddrPool");
	if (json_is_array(pool)) {
		char *pools cleanup_free = join(pool, "  ");
		berth_buf_printf(b, "  Default Address Pool: %s%s\n", pools,
				 json_array_size(pool) ? "  " : "");
		line_int(b, "  SubnetSize:", cluster, "SubnetSize");
	}
	if (json_integer_value(json_object_get(cluster, "DataPathPort")) > 0)
		line_int(b, "  Data Path Port:", cluster, "DataPathPort");
	berth_buf_puts(b, "  Orchestration:\n");
	line_int(b, "   Task History Retention Limit:", json_object_get(spec, "Orchestration"),
		 "TaskHistoryRetentionLimit");
	const json_t *raft = json_object_get(spec, "Raft");
	berth_buf_puts(b, "  Raft:\n");
	line_int(b, "   Snapshot Interval:", raft, "SnapshotInterval");
	if (json_object_get(raft, "KeepOldSnapshots"))
		line_int(b, "   Number of Old Snapshots to Retain:", raft, "KeepOldSnapshots");
	line_int(b, "   Heartbeat Tick:", raft, "HeartbeatTick");
	line_int(b, "   Election Tick:", raft, "ElectionTick");
	char human[64];
	berth_buf_puts(b, "  Dispatcher:\n");
	berth_human_duration(json_integer_value(json_object_get(json_object_get(spec, "Dispatcher"),
								   "HeartbeatPeriod")),
			     human, sizeof(human));
	line(b, "   Heartbeat Period:", human);
	const json_t *ca = json_object_get(spec, "CAConfig");
	berth_buf_puts(b, "  CA Configuration:\n");
	berth_human_duration(json_integer_value(json_object_get(ca, "NodeCertExpiry")), human,
			     sizeof(human));
	line(b, "   Expiry Duration:", human);
	line_int(b, "   Force Rotate:", ca, "ForceRotate");
	const json_t *ext = json_object_get(ca, "ExternalCAs");
	if (json_array_size(ext) > 0) {
		berth_buf_puts(b, "   External CAs:\n");
		size_t i;
		json_t *e;
		json_array_foreach(ext, i, e) berth_buf_printf(b, "     %s: %s\n",
							       berth_cli_str(e, "Protocol"),
							       berth_cli_str(e, "URL"));
	}
	line_bool(b, "  Autolock Managers:", json_object_get(spec, "EncryptionConfig"),
		  "AutoLockManagers");
	line_bool(b, "  Root Rotation In Progress:", cluster, "RootRotationInProgress");
}

static void print_swarm(const json_t *info, berth_buf *b)
{
	const json_t *swarm = json_object_get(info, "Swarm");
	const char *state = berth_cli_str(swarm, "LocalNodeState");
	line(b, " Swarm:", state);
	if (strcmp(state, "inactive") == 0 || strcmp(state, "locked") == 0)
		return;
	line(b, "  NodeID:", berth_cli_str(swarm, "NodeID"));
	str_member(b, "  Error:", swarm, "Error");
	line_bool(b, "  Is Manager:", swarm, "ControlAvailable");
	if (json_is_object(json_object_get(swarm, "Cluster")) &&
	    json_is_true(json_object_get(swarm, "ControlAvailable")) &&
	    *berth_cli_str(swarm, "Error") == '\0' && strcmp(state, "error") != 0)
		print_swarm_cluster(swarm, b);
	line(b, "  Node Address:", berth_cli_str(swarm, "NodeAddr"));
	const json_t *managers = json_object_get(swarm, "RemoteManagers");
	size_t n = json_array_size(managers);
	if (n > 0) {
		const char **addrs = berth_xcalloc(n, sizeof(*addrs));
		for (size_t i = 0; i < n; i++)
			addrs[i] = berth_cli_str(json_array_get(managers, i), "Addr");
		qsort(addrs, n, sizeof(*addrs), by_str);
		berth_buf_puts(b, "  Manager Addresses:\n");
		for (size_t i = 0; i < n; i++)
			berth_buf_printf(b, "   %s\n", addrs[i]);
		free(addrs);
	}
}

static void print_runtimes(const json_t *info, berth_buf *b)
{
	size_t n;
	const char **names = berth_json_sorted_keys(json_object_get(info, "Runtimes"), &n);
	if (n > 0) {
		berth_buf_puts(b, " Runtimes:");
		for (size_t i = 0; i < n; i++)
			berth_buf_printf(b, " %s", names[i]);
		berth_buf_puts(b, "\n");
		line(b, " Default Runtime:", berth_cli_str(info, "DefaultRuntime"));
	}
	free((void *)names);
}

/* docker's system.DecodeSecurityOptions: "name=seccomp,profile=default". */
static int print_security_options(const json_t *opts, berth_buf *b, berth_error **err)
{
	berth_buf out cleanup_buf = {0};
	berth_buf_puts(&out, " Security Options:\n");
	size_t i;
	json_t *opt;
	json_array_foreach(opts, i, opt) {
		char **kvs = berth_str_split(json_is_string(opt) ? json_string_value(opt) : "", ',');
		const char *profile = NULL, *name = "";
		int r = 0;
		for (char **kv = kvs; *kv && r == 0; kv++) {
			char *eq = strchr(*kv, '=');
			if (eq == NULL)
				r = berth_error_set(err, 500, "invalid security option \"%s\"", *kv);
			else if (eq == *kv || eq[1] == '\0')
				r = berth_error_set(err, 500, "invalid empty security option");
			else if (strncmp(*kv, "name=", 5) == 0)
				name = eq + 1;
			else if (strncmp(*kv, "profile=", 8) == 0)
				profile = eq + 1;
		}
		if (r == 0) {
			berth_buf_printf(&out, "  %s\n", name);
			if (profile)
				berth_buf_printf(&out, "   Profile: %s\n", profile);
		}
		berth_strv_free(kvs);
		if (r < 0)
			return -1;
	}
	berth_buf_append(b, out.data, out.len);
	return 0;
}

static int print_linux(const json_t *info, berth_buf *b, berth_error **err)
{
	line(b, " Init Binary:", berth_cli_str(info, "InitBinary"));
	line(b, " containerd version:", berth_cli_str(json_object_get(info, "ContainerdCommit"), "ID"));
	line(b, " runc version:", berth_cli_str(json_object_get(info, "RuncCommit"), "ID"));
	line(b, " init version:", berth_cli_str(json_object_get(info, "InitCommit"), "ID"));
	const json_t *sec = json_object_get(info, "SecurityOptions");
	if (json_array_size(sec) > 0)
		return print_security_options(sec, b, err);
	return 0;
}

static void print_host(const json_t *info, bool client_debug, berth_buf *b)
{
	str_member(b, " Kernel Version:", info, "KernelVersion");
	str_member(b, " Operating System:", info, "OperatingSystem");
	str_member(b, " OSType:", info, "OSType");
	str_member(b, " Architecture:", info, "Architecture");
	line_int(b, " CPUs:", info, "NCPU");
	char mem[32];
	berth_human_bytes_binary(json_integer_value(json_object_get(info, "MemTotal")), mem, sizeof(mem));
	line(b, " Total Memory:", mem);
	str_member(b, " Name:", info, "Name");
	str_member(b, " ID:", info, "ID");
	line(b, " Docker Root Dir:", berth_cli_str(info, "DockerRootDir"));
	line_bool(b, " Debug Mode:", info, "Debug");
	if (json_is_true(json_object_get(info, "Debug")) || client_debug) {
		line_int(b, "  File Descriptors:", info, "NFd");
		line_int(b, "  Goroutines:", info, "NGoroutines");
		line(b, "  System Time:", berth_cli_str(info, "SystemTime"));
		line_int(b, "  EventsListeners:", info, "NEventsListener");
	}
	str_member(b, " HTTP Proxy:", info, "HttpProxy");
	str_member(b, " HTTPS Proxy:", info, "HttpsProxy");
	str_member(b, " No Proxy:", info, "NoProxy");
}

static void print_registries(const json_t *info, berth_buf *b)
{
	const json_t *reg = json_object_get(info, "RegistryConfig");
	const json_t *cidrs = json_object_get(reg, "InsecureRegistryCIDRs");
	const json_t *indexes = json_object_get(reg, "IndexConfigs");
	if (json_array_size(cidrs) > 0 || (json_is_object(indexes) && json_object_size(indexes) > 0)) {
		berth_buf_puts(b, " Insecure Registries:\n");
		size_t n;
		const char **names = berth_json_sorted_keys(indexes, &n);
		for (size_t i = 0; i < n; i++) {
			const json_t *ic = json_object_get(indexes, names[i]);
			if (!json_is_true(json_object_get(ic, "Secure")))
				berth_buf_printf(b, "  %s\n", berth_cli_str(ic, "Name"));
		}
		free((void *)names);
		size_t i;
		json_t *cidr;
		json_array_foreach(cidrs, i, cidr) berth_buf_printf(b, "  %s\n", json_string_value(cidr));
	}
	print_list(b, " Registry Mirrors:\n", json_object_get(reg, "Mirrors"));
}

static void print_tail(const json_t *info, berth_buf *b)
{
	print_list(b, " Labels:\n", json_object_get(info, "Labels"));
	line_bool(b, " Experimental:", info, "ExperimentalBuild");
	print_registries(info, b);
	line_bool(b, " Live Restore Enabled:", info, "LiveRestoreEnabled");
	str_member(b, " Product License:", info, "ProductLicense");
	const json_t *pools = json_object_get(info, "DefaultAddressPools");
	if (json_array_size(pools) > 0) {
		berth_buf_puts(b, " Default Address Pools:\n");
		size_t i;
		json_t *p;
		json_array_foreach(pools, i, p) berth_buf_printf(
			b, "   Base: %s, Size: %lld\n", berth_cli_str(p, "Base"),
			(long long)json_integer_value(json_object_get(p, "Size")));
	}
	berth_buf_puts(b, "\n");
}

/* docker's prettyPrintServerInfo. */
static int print_server(const json_t *info, bool client_debug, berth_buf *b, berth_error **err)
{
	line_int(b, " Containers:", info, "Containers");
	line_int(b, "  Running:", info, "ContainersRunning");
	line_int(b, "  Paused:", info, "ContainersPaused");
	line_int(b, "  Stopped:", info, "ContainersStopped");
	line_int(b, " Images:", info, "Images");
	str_member(b, " Server Version:", info, "ServerVersion");
	str_member(b, " Storage Driver:", info, "Driver");
	print_pairs(b, "  ", json_object_get(info, "DriverStatus"));
	print_pairs(b, " ", json_object_get(info, "SystemStatus"));
	str_member(b, " Logging Driver:", info, "LoggingDriver");
	str_member(b, " Cgroup Driver:", info, "CgroupDriver");
	str_member(b, " Cgroup Version:", info, "CgroupVersion");
	print_plugins(info, b);
	print_swarm(info, b);
	print_runtimes(info, b);
	const char *ostype = berth_cli_str(info, "OSType");
	if (strcmp(ostype, "linux") == 0 && print_linux(info, b, err) < 0)
		return -1;
	if (strcmp(ostype, "windows") == 0)
		line(b, " Default Isolation:", berth_cli_str(info, "Isolation"));
	print_host(info, client_debug, b);
	print_tail(info, b);
	return 0;
}

/* ------------------------------------------------------------ --format */

/*
 * docker's needsServerInfo: a template whose fields all hang off .ClientInfo
 * or .ClientErrors renders without asking the daemon. Field chains start at a
 * '.' that follows no identifier, ')' or ']'.
 */
static bool needs_server(const char *format)
{
	bool any = false;
	for (const char *p = format; *p; p++) {
		if (p[0] != '.' || !isalpha((unsigned char)p[1]))
			continue;
		unsigned char prev = p > format ? (unsigned char)p[-1] : ' ';
		if (isalnum(prev) || prev == '_' || prev == ')' || prev == ']' || prev == '.')
			continue;
		any = true;
		if (!berth_str_has_prefix(p, ".ClientInfo") && !berth_str_has_prefix(p, ".ClientErrors"))
			return true;
	}
	return !any;
}

static int render_format(berth_invocation *inv, berth_format *fmt, json_t *data)
{
	berth_buf out cleanup_buf = {0};
	berth_error *err cleanup_error = NULL;
	static const berth_template_type info_type = {"system.dockerInfo"};
	static const berth_template_type client_type = {"*system.clientInfo"};
	const berth_template_struct structs[] = {
		{data, &info_type, NULL},
		{json_object_get(data, "ClientInfo"), &client_type, NULL},
	};
	berth_template_env env = {.structs = structs, .nstructs = BERTH_ARRAY_SIZE(structs)};
	int r = berth_template_execute_env(fmt->tmpl, data, &env, &out, &err);
	berth_buf_puts(&out, "\n");
	berth_cli_write(inv->cli, &out);
	return r < 0 ? berth_cli_fail(inv->cli, &err, BERTH_EXIT_ERROR) : BERTH_EXIT_OK;
}

/* docker's dockerInfo: the server's fields at the top level, then ClientInfo. */
static int info_format(berth_invocation *inv, berth_format *fmt, const char *format)
{
	berth_cli *cli = inv->cli;
	json_t *data cleanup_json = NULL;
	berth_error *err cleanup_error = NULL;
	const char *api = NULL;
	if (needs_server(format) && berth_cli_get_json(cli, "/info", &data, &err) == 0) {
		json_t *version cleanup_json = NULL;
		berth_error *verr cleanup_error = NULL;
		if (berth_cli_get_json(cli, "/version", &version, &verr) == 0)
			api = berth_cli_api_version(cli, berth_json_string(version, "ApiVersion"));
	}
	if (!json_is_object(data)) {
		json_decref(data);
		data = json_object();
	}
	if (err)
		fprintf(cli->err, "%s\n", err->msg);
	json_object_set_new(data, "ClientInfo", client_info(cli, api));
	int status = render_format(inv, fmt, data);
	return err ? BERTH_EXIT_ERROR : status;
}

static int info_pretty(berth_invocation *inv)
{
	berth_cli *cli = inv->cli;
	berth_buf out cleanup_buf = {0};
	json_t *ci cleanup_json = client_info(cli, NULL);
	print_client(ci, &out);
	berth_buf_puts(&out, "\nServer:\n");

	json_t *info cleanup_json = NULL;
	berth_error *err cleanup_error = NULL;
	if (berth_cli_get_json(cli, "/info", &info, &err) < 0) {
		berth_cli_write(cli, &out);
		return berth_cli_fail(cli, &err, BERTH_EXIT_ERROR);
	}
	int r = print_server(info, cli->debug, &out, &err);
	berth_cli_write(cli, &out);
	size_t i;
	json_t *w;
	json_array_foreach(json_object_get(info, "Warnings"), i, w)
		fprintf(cli->err, "%s\n", json_string_value(w));
	if (r < 0) {
		fprintf(cli->err, "ERROR: %s\n", err->msg);
		return BERTH_EXIT_ERROR;
	}
	return BERTH_EXIT_OK;
}

int berth_cli_info(berth_invocation *inv)
{
	const char *format = NULL;
	berth_flag flags[] = {
		{"format", 'f', BERTH_FLAG_STRING, &format, BERTH_FORMAT_HELP},
	};
	int status;
	if (!berth_cli_parse(inv, flags, BERTH_ARRAY_SIZE(flags), &status))
		return status;
	if (format == NULL || *format == '\0')
		return info_pretty(inv);

	berth_format fmt cleanup_format = {0};
	if ((status = berth_cli_format_init(inv->cli, &fmt, format)) != BERTH_EXIT_OK)
		return status;
	return info_format(inv, &fmt, format);
}
