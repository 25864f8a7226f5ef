/*
 * container_opts.c - `create` and `run` flags: one table of docker's flags,
 * each with its help text and the create-request field it fills, and the
 * few composite steps (env files, volumes, ports, health, networks...) that
 * one flag cannot do alone. Messages are docker's (cli/command/container/
 * opts.go, the opts package, go-units).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "container.h"

/* ---------------------------------------------------------- value parsing */

/* Go's syscall.Errno text: strerror with a lower-case first letter. */
static const char *go_strerror(int errnum)
{
	static char buf[128];
	snprintf(buf, sizeof(buf), "%s", strerror(errnum));
	buf[0] = (char)tolower((unsigned char)buf[0]);
	return buf;
}

/* go-units' parseSize with the binary map. */
int berth_cli_ram_in_bytes(const char *s, int64_t *out, berth_error **err)
{
	const char *sep = NULL;
	for (const char *p = s; *p; p++)
		if (strchr("0123456789. ", *p))
			sep = p;
	if (sep == NULL)
		return berth_error_set(err, 400, "invalid size: '%s'", s);
	char *num cleanup_free = berth_xstrndup(s, (size_t)(sep - s) + (*sep == ' ' ? 0 : 1));
	const char *sfx = sep + 1;
	char *end;
	errno = 0;
	double size = strtod(num, &end);
	if (*num == '\0' || *end != '\0' || strspn(num, "0123456789.eE+-") != strlen(num))
		return berth_error_set(err, 400, "strconv.ParseFloat: parsing \"%s\": invalid syntax", num);
	if (size < 0)
		return berth_error_set(err, 400, "invalid size: '%s'", s);
	size_t n = strlen(sfx);
	char lower[4] = "";
	for (size_t i = 0; i < n && i < 3; i++)
		lower[i] = (char)tolower((unsigned char)sfx[i]);
	static const char units[] = "kmgtp";
	const char *u = n ? strchr(units, lower[0]) : NULL;
	if (n == 0 || (n == 1 && lower[0] == 'b')) {
		*out = (int64_t)size;
		return 0;
	}
	bool ok = n <= 3 && u && *u && (n == 1 || (n == 2 && lower[1] == 'b') ||
					 (n == 3 && strcmp(lower + 1, "ib") == 0));
	if (!ok)
		return berth_error_set(err, 400, "invalid suffix: '%s'", n <= 3 ? lower : sfx);
	for (const char *k = units; k <= u; k++)
		size *= 1024;
	*out = (int64_t)size;
	return 0;
}

/* Go's time.ParseDuration, error messages included. */
int berth_cli_go_duration(const char *orig, int64_t *out_ns, berth_error **err)
{
	static const struct {
		const char *unit;
		uint64_t ns;
	} units[] = {{"ns", 1ULL},		{"us", 1000ULL},	{"\xc2\xb5s", 1000ULL},
		     {"\xce\xbcs", 1000ULL},	{"ms", 1000000ULL},	{"s", 1000000000ULL},
		     {"m", 60000000000ULL},	{"h", 3600000000000ULL}};
	const char *s = orig;
	bool neg = false;
	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	if (strcmp(s, "0") == 0) {
		*out_ns = 0;
		return 0;
	}
	if (*s == '\0')
		return berth_error_set(err, 400, "time: invalid duration \"%s\"", orig);
	uint64_t total = 0;
	while (*s) {
		if (!(*s == '.' || isdigit((unsigned char)*s)))
			return berth_error_set(err, 400, "time: invalid duration \"%s\"", orig);
		const char *start = s;
		uint64_t whole = 0;
		while (isdigit((unsigned char)*s)) {
			if (whole > (UINT64_MAX - 9) / 10)
				return berth_error_set(err, 400, "time: invalid duration \"%s\"", orig);
			whole = whole * 10 + (uint64_t)(*s++ - '0');
		}
		bool pre = s != start;
		double frac = 0, scale = 1;
		bool post = false;
		if (*s == '.') {
			s++;
			post = isdigit((unsigned char)*s);
			while (isdigit((unsigned char)*s)) {
				scale *= 10;
				frac += (*s++ - '0') / scale;
			}
		}
		if (!pre && !post)
			return berth_error_set(err, 400, "time: invalid duration \"%s\"", orig);
		size_t ulen = 0;
		while (s[ulen] && s[ulen] != '.' && !isdigit((unsigned char)s[ulen]))
			ulen++;
		if (ulen == 0)
			return berth_error_set(err, 400, "time: missing unit in duration \"%s\"", orig);
		uint64_t unit = 0;
		for (size_t i = 0; i < BERTH_ARRAY_SIZE(units); i++)
			if (strlen(units[i].unit) == ulen && strncmp(s, units[i].unit, ulen) == 0)
				unit = units[i].ns;
		if (unit == 0)
			return berth_error_set(err, 400, "time: unknown unit \"%.*s\" in duration \"%s\"",
					       (int)ulen, s, orig);
		s += ulen;
		if (whole > (uint64_t)INT64_MAX / unit)
			return berth_error_set(err, 400, "time: invalid duration \"%s\"", orig);
		total += whole * unit + (uint64_t)(frac * (double)unit);
		if (total > (uint64_t)INT64_MAX)
			return berth_error_set(err, 400, "time: invalid duration \"%s\"", orig);
	}
	*out_ns = neg ? -(int64_t)total : (int64_t)total;
	return 0;
}

static int parse_integer(const char *s, bool is_unsigned, int bits, int64_t *out,
			 berth_error **err)
{
	const char *fn = is_unsigned ? "strconv.ParseUint" : "strconv.ParseInt";
	char *end;
	errno = 0;
	if (*s == '\0' || isspace((unsigned char)*s) || (is_unsigned && (*s == '-' || *s == '+')))
		return berth_error_set(err, 400, "%s: parsing \"%s\": invalid syntax", fn, s);
	long long v = strtoll(s, &end, 0);
	if (*end != '\0')
		return berth_error_set(err, 400, "%s: parsing \"%s\": invalid syntax", fn, s);
	bool range = errno == ERANGE;
	if (bits < 64) {
		long long max = is_unsigned ? (1LL << bits) - 1 : (1LL << (bits - 1)) - 1;
		long long min = is_unsigned ? 0 : -(1LL << (bits - 1));
		range = range || v > max || v < min;
	}
	if (range)
		return berth_error_set(err, 400, "%s: parsing \"%s\": value out of range", fn, s);
	*out = v;
	return 0;
}

int berth_cli_parse_int(const char *s, int64_t *out, berth_error **err)
{
	return parse_integer(s, false, 64, out, err);
}

/* "a/b" as big.Rat reads it. */
static int nano_cpus_fraction(const char *s, const char *slash, int64_t *out, berth_error **err)
{
	char *end;
	long long num = strtoll(s, &end, 10), den;
	if (end != slash || slash == s)
		return berth_error_set(err, 400, "failed to parse %s as a rational number", s);
	den = strtoll(slash + 1, &end, 10);
	if (*end || den <= 0 || !isdigit((unsigned char)slash[1]) || llabs(num) > 9000000000LL)
		return berth_error_set(err, 400, "failed to parse %s as a rational number", s);
	if ((num * 1000000000LL) % den != 0)
		return berth_error_set(err, 400, "value is too precise");
	*out = num * 1000000000LL / den;
	return 0;
}

/* docker's NanoCPUs: a decimal (big.Rat) times 1e9, which must be whole. */
int berth_cli_nano_cpus(const char *s, int64_t *out, berth_error **err)
{
	const char *slash = strchr(s, '/');
	if (slash)
		return nano_cpus_fraction(s, slash, out, err);
	const char *p = s;
	bool neg = *p == '-';
	if (*p == '-' || *p == '+')
		p++;
	size_t whole_len = strspn(p, "0123456789");
	const char *frac = p + whole_len;
	size_t frac_len = 0;
	if (*frac == '.') {
		frac++;
		frac_len = strspn(frac, "0123456789");
	}
	if ((whole_len == 0 && frac_len == 0) || frac[frac_len] != '\0' || whole_len > 9)
		return berth_error_set(err, 400, "failed to parse %s as a rational number", s);
	int64_t nano = 0;
	for (size_t i = 0; i < whole_len; i++)
		nano = nano * 10 + (p[i] - '0');
	for (size_t i = 0; i < 9; i++)
		nano = nano * 10 + (i < frac_len ? frac[i] - '0' : 0);
	for (size_t i = 9; i < frac_len; i++)
		if (frac[i] != '0')
			return berth_error_set(err, 400, "value is too precise");
	*out = neg ? -nano : nano;
	return 0;
}

char *berth_cli_env_value(const char *arg)
{
	if (strchr(arg, '='))
		return berth_xstrdup(arg);
	const char *v = getenv(arg);
	return v ? berth_xasprintf("%s=%s", arg, v) : berth_xstrdup(arg);
}

static bool valid_utf8(const unsigned char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		unsigned char c = s[i];
		size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
		if (n == 0 || i + n > len)
			return false;
		for (size_t k = 1; k < n; k++)
			if ((s[i + k] & 0xC0) != 0x80)
				return false;
		i += n;
	}
	return true;
}

/* One line of a KEY=value file (docker's kvfile.Parse). */
static int kv_line(char *line, int lineno, bool env, berth_strlist *out, berth_error **err)
{
	if (!valid_utf8((unsigned char *)line, strlen(line)))
		return berth_error_set(err, 400, "invalid utf8 bytes at line %d", lineno);
	if (lineno == 1 && strncmp(line, "\xEF\xBB\xBF", 3) == 0)
		line += 3;
	while (isspace((unsigned char)*line))
		line++;
	if (*line == '\0' || *line == '#')
		return 0;
	size_t klen = strcspn(line, "=");
	if (klen == 0)
		return berth_error_set(err, 400, "no variable name on line '%s'", line);
	for (size_t i = 0; i < klen; i++)
		if (isspace((unsigned char)line[i]))
			return berth_error_set(err, 400, "variable '%.*s' contains whitespaces",
					       (int)klen, line);
	if (line[klen] == '=') {
		berth_strlist_push(out, line);
	} else if (env && getenv(line)) {
		char *kv cleanup_free = berth_xasprintf("%s=%s", line, getenv(line));
		berth_strlist_push(out, kv);
	}
	return 0;
}

int berth_cli_read_kv_file(const char *path, bool env, berth_strlist *out, berth_error **err)
{
	FILE *f cleanup_file = fopen(path, "r");
	if (f == NULL)
		return berth_error_set(err, 400, "open %s: %s", path, go_strerror(errno));
	char *line cleanup_free = NULL;
	size_t cap = 0;
	ssize_t n;
	for (int lineno = 1; (n = getline(&line, &cap, f)) >= 0; lineno++) {
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (n > 0 && line[n - 1] == '\r')
			line[--n] = '\0';
		if (kv_line(line, lineno, env, out, err) < 0)
			return -1;
	}
	return 0;
}

char *berth_cli_short_id(const char *id)
{
	if (berth_str_has_prefix(id, "sha256:"))
		id += 7;
	return berth_xstrndup(id, 12);
}

/* ------------------------------------------------------------- the table */

typedef enum opt_kind {
	K_NONE,     /* read by a step or by run/create themselves */
	K_BOOL,     /* true when given as true */
	K_BOOLPTR,  /* the value, when given (pointer fields: Init) */
	K_STRING,
	K_INT,
	K_UINT16,
	K_UINT64,
	K_BYTES,    /* RAMInBytes */
	K_SWAP,     /* RAMInBytes or -1 */
	K_CPUS,     /* NanoCPUs */
	K_LIST,     /* array of strings, when any */
	K_LIST_ALL, /* array of strings, [] when none (Dns*) */
	K_MAP,      /* k=v items to an object */
} opt_kind;

typedef enum opt_scope {
	S_BOTH,
	S_RUN,
	S_CREATE,
} opt_scope;

typedef struct create_opt {
	const char *name;
	char shorthand;
	opt_kind kind;
	const char *target; /* "User", "HostConfig.Memory" */
	const char *usage;
	const char *type_name;
	const char *def;
	berth_flag_check check;
	int alias_of; /* another entry's index: a hidden second name */
	opt_scope scope;
	bool hidden;  /* Windows-only: docker hides them from a Linux daemon's users */
} create_opt;

enum {
	O_NONE, /* 0: "no alias" */
	O_ADD_HOST, O_ANNOTATION, O_ATTACH, O_BLKIO_WEIGHT, O_BLKIO_WEIGHT_DEVICE, O_CAP_ADD,
	O_CAP_DROP, O_CGROUP_PARENT, O_CGROUPNS, O_CIDFILE, O_CPU_COUNT, O_CPU_PERCENT,
	O_CPU_PERIOD, O_CPU_QUOTA, O_CPU_RT_PERIOD, O_CPU_RT_RUNTIME, O_CPU_SHARES, O_CPUS,
	O_CPUSET_CPUS, O_CPUSET_MEMS, O_DETACH, O_DETACH_KEYS, O_DEVICE, O_DEVICE_CGROUP_RULE,
	O_DEVICE_READ_BPS, O_DEVICE_READ_IOPS, O_DEVICE_WRITE_BPS, O_DEVICE_WRITE_IOPS,
	O_DISABLE_CONTENT_TRUST, O_DNS, O_DNS_OPT, O_DNS_OPTION, O_DNS_SEARCH, O_DOMAINNAME,
	O_ENTRYPOINT, O_ENV, O_ENV_FILE, O_EXPOSE, O_GPUS, O_GROUP_ADD, O_HEALTH_CMD,
	O_HEALTH_INTERVAL, O_HEALTH_RETRIES, O_HEALTH_START_INTERVAL, O_HEALTH_START_PERIOD,
	O_HEALTH_TIMEOUT, O_HELP, O_HOSTNAME, O_INIT, O_INTERACTIVE, O_IO_MAXBANDWIDTH,
	O_IO_MAXIOPS, O_IP, O_IP6, O_IPC, O_ISOLATION, O_KERNEL_MEMORY, O_LABEL, O_LABEL_FILE,
	O_LINK, O_LINK_LOCAL_IP, O_LOG_DRIVER, O_LOG_OPT, O_MAC_ADDRESS, O_MEMORY,
	O_MEMORY_RESERVATION, O_MEMORY_SWAP, O_MEMORY_SWAPPINESS, O_MOUNT, O_NAME, O_NET,
	O_NET_ALIAS, O_NETWORK, O_NETWORK_ALIAS, O_NO_HEALTHCHECK, O_OOM_KILL_DISABLE,
	O_OOM_SCORE_ADJ, O_PID, O_PIDS_LIMIT, O_PLATFORM, O_PRIVILEGED, O_PUBLISH, O_PUBLISH_ALL,
	O_PULL_CREATE, O_PULL_RUN, O_QUIET, O_READ_ONLY, O_RESTART, O_RM, O_RUNTIME,
	O_SECURITY_OPT, O_SHM_SIZE, O_SIG_PROXY, O_STOP_SIGNAL, O_STOP_TIMEOUT, O_STORAGE_OPT,
	O_SYSCTL, O_TMPFS, O_TTY, O_ULIMIT, O_USE_API_SOCKET, O_USER, O_USERNS, O_UTS, O_VOLUME,
	O_VOLUME_DRIVER, O_VOLUMES_FROM, O_WORKDIR,
	O_COUNT,
};

/* Checks with docker's messages; values are converted again when building. */
static int check_int(const char *v, berth_error **err)
{
	int64_t n;
	return berth_cli_parse_int(v, &n, err);
}

static int check_uint16(const char *v, berth_error **err)
{
	int64_t n;
	return parse_integer(v, true, 16, &n, err);
}

static int check_uint64(const char *v, berth_error **err)
{
	int64_t n;
	return parse_integer(v, true, 64, &n, err);
}

static int check_bytes(const char *v, berth_error **err)
{
	int64_t n;
	return berth_cli_ram_in_bytes(v, &n, err);
}

static int check_swap(const char *v, berth_error **err)
{
	return strcmp(v, "-1") == 0 ? 0 : check_bytes(v, err);
}

static int check_cpus(const char *v, berth_error **err)
{
	int64_t n;
	return berth_cli_nano_cpus(v, &n, err);
}

static int check_duration(const char *v, berth_error **err)
{
	int64_t n;
	return berth_cli_go_duration(v, &n, err);
}

static int check_attach(const char *v, berth_error **err)
{
	if (strcasecmp(v, "stdin") && strcasecmp(v, "stdout") && strcasecmp(v, "stderr"))
		return berth_error_set(err, 400, "valid streams are STDIN, STDOUT and STDERR");
	return 0;
}

static int check_env(const char *v, berth_error **err)
{
	if (*v == '=' || *v == '\0')
		return berth_error_set(err, 400, "invalid environment variable: %s", v);
	return 0;
}

static int check_label(const char *v, berth_error **err)
{
	size_t klen = strcspn(v, "=");
	size_t sp = 0;
	while (sp < klen && isspace((unsigned char)v[sp]))
		sp++;
	if (sp == klen)
		return berth_error_set(err, 400, "invalid label '%s': empty name", v);
	return 0;
}

static bool is_ip(const char *s)
{
	unsigned char buf[16];
	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

static int check_ip(const char *v, berth_error **err)
{
	if (!is_ip(v))
		return berth_error_set(err, 400, "IP address is not correctly formatted: %s", v);
	return 0;
}

static int check_extra_host(const char *v, berth_error **err)
{
	const char *sep = strchr(v, '=');
	if (sep == NULL)
		sep = strchr(v, ':');
	if (sep == NULL || sep == v)
		return berth_error_set(err, 400, "bad format for add-host: \"%s\"", v);
	const char *ip = sep + 1;
	if (strcmp(ip, "host-gateway") == 0)
		return 0;
	char *bare cleanup_free = berth_xstrdup(ip);
	if (bare[0] == '[' && bare[strlen(bare) - 1] == ']') {
		memmove(bare, bare + 1, strlen(bare));
		bare[strlen(bare) - 1] = '\0';
	}
	if (!is_ip(bare))
		return berth_error_set(err, 400, "invalid IP address in add-host: \"%s\"", ip);
	return 0;
}

static int check_regex(const char *v, const char *pattern, const char *fmt, berth_error **err)
{
	regex_t re;
	if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0)
		return berth_error_set(err, 500, "bad pattern %s", pattern);
	int bad = regexec(&re, v, 0, NULL, 0);
	regfree(&re);
	return bad ? berth_error_set(err, 400, fmt, v) : 0;
}

static int check_dns_search(const char *v, berth_error **err)
{
	if (strcmp(v, ".") == 0)
		return 0;
	return check_regex(v, "^([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
			      "(\\.([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*\\.?$",
			   "%s is not a valid domain", err);
}

static int check_cgroup_rule(const char *v, berth_error **err)
{
	return check_regex(v, "^[acb] ([0-9]+|\\*):([0-9]+|\\*) [rwm]{1,3}$",
			   "invalid device cgroup format '%s'", err);
}

static int check_sysctl(const char *v, berth_error **err)
{
	static const char *const names[] = {"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni",
					    "kernel.sem", "kernel.shmall", "kernel.shmmax",
					    "kernel.shmmni", "kernel.shm_rmid_forced"};
	size_t klen = strcspn(v, "=");
	if (v[klen] != '=')
		return berth_error_set(err, 400, "sysctl '%s' is not allowed", v);
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(names); i++)
		if (strlen(names[i]) == klen && strncmp(v, names[i], klen) == 0)
			return 0;
	if (strncmp(v, "net.", 4) == 0 || strncmp(v, "fs.mqueue.", 10) == 0)
		return 0;
	return berth_error_set(err, 400, "sysctl '%s' is not allowed", v);
}

static int parse_ulimit(const char *v, json_t **out, berth_error **err);
static int parse_mount(const char *v, json_t **out, berth_error **err);
static int parse_throttle(const char *v, bool iops, json_t **out, berth_error **err);
static int parse_weight_device(const char *v, json_t **out, berth_error **err);

static int check_ulimit(const char *v, berth_error **err)
{
	json_t *u cleanup_json = NULL;
	return parse_ulimit(v, &u, err);
}

static int check_mount(const char *v, berth_error **err)
{
	json_t *m cleanup_json = NULL;
	return parse_mount(v, &m, err);
}

static int check_bps(const char *v, berth_error **err)
{
	json_t *t cleanup_json = NULL;
	return parse_throttle(v, false, &t, err);
}

static int check_iops(const char *v, berth_error **err)
{
	json_t *t cleanup_json = NULL;
	return parse_throttle(v, true, &t, err);
}

static int check_weight_device(const char *v, berth_error **err)
{
	json_t *t cleanup_json = NULL;
	return parse_weight_device(v, &t, err);
}

#define DUR_HELP(text) text " (ms|s|m|h) (default 0s)"

static const create_opt create_opts[O_COUNT] = {
	[O_ADD_HOST] = {"add-host", 0, K_NONE, NULL, "Add a custom host-to-IP mapping (host:ip)",
			"list", .check = check_extra_host},
	[O_ANNOTATION] = {"annotation", 0, K_MAP, "HostConfig.Annotations",
			  "Add an annotation to the container (passed through to the OCI runtime)",
			  "map", "map[]"},
	[O_ATTACH] = {"attach", 'a', K_NONE, NULL, "Attach to STDIN, STDOUT or STDERR", "list",
		      .check = check_attach},
	[O_BLKIO_WEIGHT] = {"blkio-weight", 0, K_UINT16, "HostConfig.BlkioWeight",
			    "Block IO (relative weight), between 10 and 1000, or 0 to disable "
			    "(default 0)",
			    "uint16", .check = check_uint16},
	[O_BLKIO_WEIGHT_DEVICE] = {"blkio-weight-device", 0, K_NONE, NULL,
				   "Block IO weight (relative device weight)", "list", "[]",
				   .check = check_weight_device},
	[O_CAP_ADD] = {"cap-add", 0, K_NONE, NULL, "Add Linux capabilities", "list"},
	[O_CAP_DROP] = {"cap-drop", 0, K_NONE, NULL, "Drop Linux capabilities", "list"},
	[O_CGROUP_PARENT] = {"cgroup-parent", 0, K_STRING, "HostConfig.CgroupParent",
			     "Optional parent cgroup for the container"},
	[O_CGROUPNS] = {"cgroupns", 0, K_STRING, "HostConfig.CgroupnsMode",
			"Cgroup namespace to use (host|private)\n"
			"'host':    Run the container in the Docker host's cgroup namespace\n"
			"'private': Run the container in its own private cgroup namespace\n"
			"'':        Use the cgroup namespace as configured by the\n"
			"           default-cgroupns-mode option on the daemon (default)"},
	[O_CIDFILE] = {"cidfile", 0, K_STRING, "HostConfig.ContainerIDFile",
		       "Write the container ID to the file"},
	[O_CPU_COUNT] = {"cpu-count", 0, K_INT, "HostConfig.CpuCount", "CPU count (Windows only)",
			 "int", .check = check_int, .hidden = true},
	[O_CPU_PERCENT] = {"cpu-percent", 0, K_INT, "HostConfig.CpuPercent",
			   "CPU percent (Windows only)", "int", .check = check_int, .hidden = true},
	[O_CPU_PERIOD] = {"cpu-period", 0, K_INT, "HostConfig.CpuPeriod",
			  "Limit CPU CFS (Completely Fair Scheduler) period", "int",
			  .check = check_int},
	[O_CPU_QUOTA] = {"cpu-quota", 0, K_INT, "HostConfig.CpuQuota",
			 "Limit CPU CFS (Completely Fair Scheduler) quota", "int",
			 .check = check_int},
	[O_CPU_RT_PERIOD] = {"cpu-rt-period", 0, K_INT, "HostConfig.CpuRealtimePeriod",
			     "Limit CPU real-time period in microseconds", "int",
			     .check = check_int},
	[O_CPU_RT_RUNTIME] = {"cpu-rt-runtime", 0, K_INT, "HostConfig.CpuRealtimeRuntime",
			      "Limit CPU real-time runtime in microseconds", "int",
			      .check = check_int},
	[O_CPU_SHARES] = {"cpu-shares", 'c', K_INT, "HostConfig.CpuShares",
			  "CPU shares (relative weight)", "int", .check = check_int},
	[O_CPUS] = {"cpus", 0, K_CPUS, "HostConfig.NanoCpus", "Number of CPUs", "decimal",
		    .check = check_cpus},
	[O_CPUSET_CPUS] = {"cpuset-cpus", 0, K_STRING, "HostConfig.CpusetCpus",
			   "CPUs in which to allow execution (0-3, 0,1)"},
	[O_CPUSET_MEMS] = {"cpuset-mems", 0, K_STRING, "HostConfig.CpusetMems",
			   "MEMs in which to allow execution (0-3, 0,1)"},
	[O_DETACH] = {"detach", 'd', K_NONE, NULL,
		      "Run container in background and print container ID", .scope = S_RUN},
	[O_DETACH_KEYS] = {"detach-keys", 0, K_NONE, NULL,
			   "Override the key sequence for detaching a container", "string",
			   .scope = S_RUN},
	[O_DEVICE] = {"device", 0, K_NONE, NULL, "Add a host device to the container", "list"},
	[O_DEVICE_CGROUP_RULE] = {"device-cgroup-rule", 0, K_LIST, "HostConfig.DeviceCgroupRules",
				  "Add a rule to the cgroup allowed devices list",
				  .check = check_cgroup_rule},
	[O_DEVICE_READ_BPS] = {"device-read-bps", 0, K_NONE, NULL,
			       "Limit read rate (bytes per second) from a device", "list", "[]",
			       .check = check_bps},
	[O_DEVICE_READ_IOPS] = {"device-read-iops", 0, K_NONE, NULL,
				"Limit read rate (IO per second) from a device", "list", "[]",
				.check = check_iops},
	[O_DEVICE_WRITE_BPS] = {"device-write-bps", 0, K_NONE, NULL,
				"Limit write rate (bytes per second) to a device", "list", "[]",
				.check = check_bps},
	[O_DEVICE_WRITE_IOPS] = {"device-write-iops", 0, K_NONE, NULL,
				 "Limit write rate (IO per second) to a device", "list", "[]",
				 .check = check_iops},
	[O_DISABLE_CONTENT_TRUST] = {"disable-content-trust", 0, K_NONE, NULL,
				     "Skip image verification", .def = "true"},
	[O_DNS] = {"dns", 0, K_LIST_ALL, "HostConfig.Dns", "Set custom DNS servers",
		   .check = check_ip},
	[O_DNS_OPT] = {"dns-opt", 0, K_NONE, NULL, "Set DNS options", .alias_of = O_DNS_OPTION},
	[O_DNS_OPTION] = {"dns-option", 0, K_LIST_ALL, "HostConfig.DnsOptions", "Set DNS options"},
	[O_DNS_SEARCH] = {"dns-search", 0, K_LIST_ALL, "HostConfig.DnsSearch",
			  "Set custom DNS search domains", .check = check_dns_search},
	[O_DOMAINNAME] = {"domainname", 0, K_STRING, "Domainname", "Container NIS domain name"},
	[O_ENTRYPOINT] = {"entrypoint", 0, K_NONE, NULL,
			  "Overwrite the default ENTRYPOINT of the image", "string"},
	[O_ENV] = {"env", 'e', K_NONE, NULL, "Set environment variables", "list",
		   .check = check_env},
	[O_ENV_FILE] = {"env-file", 0, K_NONE, NULL, "Read in a file of environment variables",
			"list"},
	[O_EXPOSE] = {"expose", 0, K_NONE, NULL, "Expose a port or a range of ports", "list"},
	[O_GPUS] = {"gpus", 0, K_NONE, NULL,
		    "GPU devices to add to the container ('all' to pass all GPUs)", "gpu-request"},
	[O_GROUP_ADD] = {"group-add", 0, K_LIST, "HostConfig.GroupAdd",
			 "Add additional groups to join"},
	[O_HEALTH_CMD] = {"health-cmd", 0, K_NONE, NULL, "Command to run to check health",
			  "string"},
	[O_HEALTH_INTERVAL] = {"health-interval", 0, K_NONE, NULL,
			       DUR_HELP("Time between running the check"), "duration",
			       .check = check_duration},
	[O_HEALTH_RETRIES] = {"health-retries", 0, K_NONE, NULL,
			      "Consecutive failures needed to report unhealthy", "int",
			      .check = check_int},
	[O_HEALTH_START_INTERVAL] = {"health-start-interval", 0, K_NONE, NULL,
				     DUR_HELP("Time between running the check during the start "
					      "period"),
				     "duration", .check = check_duration},
	[O_HEALTH_START_PERIOD] = {"health-start-period", 0, K_NONE, NULL,
				   DUR_HELP("Start period for the container to initialize before "
					    "starting health-retries countdown"),
				   "duration", .check = check_duration},
	[O_HEALTH_TIMEOUT] = {"health-timeout", 0, K_NONE, NULL,
			      DUR_HELP("Maximum time to allow one check to run"), "duration",
			      .check = check_duration},
	[O_HELP] = {"help", 0, K_NONE, NULL, "Print usage"},
	[O_HOSTNAME] = {"hostname", 'h', K_STRING, "Hostname", "Container host name"},
	[O_INIT] = {"init", 0, K_BOOLPTR, "HostConfig.Init",
		    "Run an init inside the container that forwards signals and reaps processes"},
	[O_INTERACTIVE] = {"interactive", 'i', K_NONE, NULL,
			   "Keep STDIN open even if not attached"},
	[O_IO_MAXBANDWIDTH] = {"io-maxbandwidth", 0, K_BYTES, "HostConfig.IOMaximumBandwidth",
			       "Maximum IO bandwidth limit for the system drive (Windows only)",
			       "bytes", .check = check_bytes, .hidden = true},
	[O_IO_MAXIOPS] = {"io-maxiops", 0, K_UINT64, "HostConfig.IOMaximumIOps",
			  "Maximum IOps limit for the system drive (Windows only)", "uint",
			  .check = check_uint64, .hidden = true},
	[O_IP] = {"ip", 0, K_NONE, NULL, "IPv4 address (e.g., 172.30.100.104)", "string"},
	[O_IP6] = {"ip6", 0, K_NONE, NULL, "IPv6 address (e.g., 2001:db8::33)", "string"},
	[O_IPC] = {"ipc", 0, K_STRING, "HostConfig.IpcMode", "IPC mode to use"},
	[O_ISOLATION] = {"isolation", 0, K_STRING, "HostConfig.Isolation",
			 "Container isolation technology"},
	/* accepted and checked, not sent: docker 28 no longer does */
	[O_KERNEL_MEMORY] = {"kernel-memory", 0, K_NONE, NULL, "Kernel memory limit", "bytes",
			     .check = check_bytes},
	[O_LABEL] = {"label", 'l', K_NONE, NULL, "Set meta data on a container", "list",
		     .check = check_label},
	[O_LABEL_FILE] = {"label-file", 0, K_NONE, NULL, "Read in a line delimited file of labels",
			  "list"},
	[O_LINK] = {"link", 0, K_LIST, "HostConfig.Links", "Add link to another container"},
	[O_LINK_LOCAL_IP] = {"link-local-ip", 0, K_NONE, NULL,
			     "Container IPv4/IPv6 link-local addresses", "list"},
	[O_LOG_DRIVER] = {"log-driver", 0, K_NONE, NULL, "Logging driver for the container",
			  "string"},
	[O_LOG_OPT] = {"log-opt", 0, K_NONE, NULL, "Log driver options", "list"},
	[O_MAC_ADDRESS] = {"mac-address", 0, K_NONE, NULL,
			   "Container MAC address (e.g., 92:d0:c6:0a:29:33)", "string"},
	[O_MEMORY] = {"memory", 'm', K_BYTES, "HostConfig.Memory", "Memory limit", "bytes",
		      .check = check_bytes},
	[O_MEMORY_RESERVATION] = {"memory-reservation", 0, K_BYTES, "HostConfig.MemoryReservation",
				  "Memory soft limit", "bytes", .check = check_bytes},
	[O_MEMORY_SWAP] = {"memory-swap", 0, K_SWAP, "HostConfig.MemorySwap",
			   "Swap limit equal to memory plus swap: '-1' to enable unlimited swap",
			   "bytes", .check = check_swap},
	[O_MEMORY_SWAPPINESS] = {"memory-swappiness", 0, K_INT, "HostConfig.MemorySwappiness",
				 "Tune container memory swappiness (0 to 100)", "int", "-1",
				 .check = check_int},
	[O_MOUNT] = {"mount", 0, K_NONE, NULL, "Attach a filesystem mount to the container",
		     "mount", .check = check_mount},
	[O_NAME] = {"name", 0, K_NONE, NULL, "Assign a name to the container", "string"},
	[O_NET] = {"net", 0, K_NONE, NULL, "Connect a container to a network", "network",
		   .alias_of = O_NETWORK},
	[O_NET_ALIAS] = {"net-alias", 0, K_NONE, NULL, "Add network-scoped alias for the container",
			 "list", .alias_of = O_NETWORK_ALIAS},
	[O_NETWORK] = {"network", 0, K_NONE, NULL, "Connect a container to a network", "network"},
	[O_NETWORK_ALIAS] = {"network-alias", 0, K_NONE, NULL,
			     "Add network-scoped alias for the container", "list"},
	[O_NO_HEALTHCHECK] = {"no-healthcheck", 0, K_NONE, NULL,
			      "Disable any container-specified HEALTHCHECK"},
	[O_OOM_KILL_DISABLE] = {"oom-kill-disable", 0, K_BOOLPTR, "HostConfig.OomKillDisable",
				"Disable OOM Killer"},
	[O_OOM_SCORE_ADJ] = {"oom-score-adj", 0, K_INT, "HostConfig.OomScoreAdj",
			     "Tune host's OOM preferences (-1000 to 1000)", "int",
			     .check = check_int},
	[O_PID] = {"pid", 0, K_STRING, "HostConfig.PidMode", "PID namespace to use"},
	[O_PIDS_LIMIT] = {"pids-limit", 0, K_INT, "HostConfig.PidsLimit",
			  "Tune container pids limit (set -1 for unlimited)", "int",
			  .check = check_int},
	[O_PLATFORM] = {"platform", 0, K_NONE, NULL, "Set platform if server is multi-platform capable",
			"string"},
	[O_PRIVILEGED] = {"privileged", 0, K_BOOL, "HostConfig.Privileged",
			  "Give extended privileges to this container"},
	[O_PUBLISH] = {"publish", 'p', K_NONE, NULL, "Publish a container's port(s) to the host",
		       "list"},
	[O_PUBLISH_ALL] = {"publish-all", 'P', K_BOOL, "HostConfig.PublishAllPorts",
			   "Publish all exposed ports to random ports"},
	[O_PULL_CREATE] = {"pull", 0, K_NONE, NULL,
			   "Pull image before creating (\"always\", \"|missing\", \"never\")",
			   "string", "missing", .scope = S_CREATE},
	[O_PULL_RUN] = {"pull", 0, K_NONE, NULL,
			"Pull image before running (\"always\", \"missing\", \"never\")", "string",
			"missing", .scope = S_RUN},
	[O_QUIET] = {"quiet", 'q', K_NONE, NULL, "Suppress the pull output"},
	[O_READ_ONLY] = {"read-only", 0, K_BOOL, "HostConfig.ReadonlyRootfs",
			 "Mount the container's root filesystem as read only"},
	[O_RESTART] = {"restart", 0, K_NONE, NULL, "Restart policy to apply when a container exits",
		       "string", "no"},
	[O_RM] = {"rm", 0, K_BOOL, "HostConfig.AutoRemove",
		  "Automatically remove the container and its associated anonymous volumes when "
		  "it exits"},
	[O_RUNTIME] = {"runtime", 0, K_STRING, "HostConfig.Runtime",
		       "Runtime to use for this container"},
	[O_SECURITY_OPT] = {"security-opt", 0, K_NONE, NULL, "Security Options", "list"},
	[O_SHM_SIZE] = {"shm-size", 0, K_BYTES, "HostConfig.ShmSize", "Size of /dev/shm", "bytes",
			.check = check_bytes},
	[O_SIG_PROXY] = {"sig-proxy", 0, K_NONE, NULL, "Proxy received signals to the process",
			 .def = "true", .scope = S_RUN},
	[O_STOP_SIGNAL] = {"stop-signal", 0, K_STRING, "StopSignal", "Signal to stop the container"},
	[O_STOP_TIMEOUT] = {"stop-timeout", 0, K_INT, "StopTimeout",
			    "Timeout (in seconds) to stop a container", "int", .check = check_int},
	[O_STORAGE_OPT] = {"storage-opt", 0, K_NONE, NULL,
			   "Storage driver options for the container", "list"},
	[O_SYSCTL] = {"sysctl", 0, K_MAP, "HostConfig.Sysctls", "Sysctl options", "map", "map[]",
		      .check = check_sysctl},
	[O_TMPFS] = {"tmpfs", 0, K_NONE, NULL, "Mount a tmpfs directory", "list"},
	[O_TTY] = {"tty", 't', K_BOOL, "Tty", "Allocate a pseudo-TTY"},
	[O_ULIMIT] = {"ulimit", 0, K_NONE, NULL, "Ulimit options", "ulimit", "[]",
		      .check = check_ulimit},
	[O_USE_API_SOCKET] = {"use-api-socket", 0, K_NONE, NULL,
			      "Bind mount Docker API socket and required auth"},
	[O_USER] = {"user", 'u', K_STRING, "User",
		    "Username or UID (format: <name|uid>[:<group|gid>])"},
	[O_USERNS] = {"userns", 0, K_STRING, "HostConfig.UsernsMode", "User namespace to use"},
	[O_UTS] = {"uts", 0, K_STRING, "HostConfig.UTSMode", "UTS namespace to use"},
	[O_VOLUME] = {"volume", 'v', K_NONE, NULL, "Bind mount a volume", "list"},
	[O_VOLUME_DRIVER] = {"volume-driver", 0, K_STRING, "HostConfig.VolumeDriver",
			     "Optional volume driver for the container"},
	[O_VOLUMES_FROM] = {"volumes-from", 0, K_LIST, "HostConfig.VolumesFrom",
			    "Mount volumes from the specified container(s)"},
	[O_WORKDIR] = {"workdir", 'w', K_STRING, "WorkingDir",
		       "Working directory inside the container"},
};

/* Which berth_flag type holds an entry's value: from its kind, or for the
 * entries read by steps from the type shown in help (none: a boolean). */
static berth_flag_type flag_type(const create_opt *o)
{
	static const char *const lists[] = {"list", "map", "mount", "ulimit", "network"};
	switch (o->kind) {
	case K_BOOL:
	case K_BOOLPTR:
		return BERTH_FLAG_BOOL;
	case K_LIST:
	case K_LIST_ALL:
	case K_MAP:
		return BERTH_FLAG_LIST;
	case K_NONE:
		break;
	default:
		return BERTH_FLAG_STRING;
	}
	if (o->alias_of)
		return flag_type(&create_opts[o->alias_of]);
	if (o->type_name == NULL)
		return BERTH_FLAG_BOOL;
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(lists); i++)
		if (strcmp(o->type_name, lists[i]) == 0)
			return BERTH_FLAG_LIST;
	return BERTH_FLAG_STRING;
}

typedef struct opt_value {
	bool b;
	const char *s;
	berth_strlist l;
} opt_value;

struct berth_create_opts {
	berth_create_cmd cmd;
	opt_value v[O_COUNT];
	berth_flag flags[O_COUNT];
	size_t nflags;
	int flag_of[O_COUNT]; /* index into flags, -1 when not a flag of this command */
};

/* `update` takes these of the create flags, with the same names and checks. */
static const int update_opts[] = {
	O_BLKIO_WEIGHT, O_CPU_PERIOD,	O_CPU_QUOTA,	 O_CPU_RT_PERIOD, O_CPU_RT_RUNTIME,
	O_CPU_SHARES,	O_CPUS,		O_CPUSET_CPUS,	 O_CPUSET_MEMS,	  O_KERNEL_MEMORY,
	O_MEMORY,	O_MEMORY_RESERVATION, O_MEMORY_SWAP, O_PIDS_LIMIT,  O_RESTART,
};

static bool in_scope(const create_opt *o, berth_create_cmd cmd)
{
	if (cmd == BERTH_CREATE_CMD_UPDATE) {
		for (size_t i = 0; i < BERTH_ARRAY_SIZE(update_opts); i++)
			if (o == &create_opts[update_opts[i]])
				return true;
		return false;
	}
	return o->scope == S_BOTH || (o->scope == S_RUN) == (cmd == BERTH_CREATE_CMD_RUN);
}

berth_create_opts *berth_create_opts_new(berth_create_cmd cmd, berth_flag **flags,
					 size_t *nflags)
{
	berth_create_opts *o = berth_xcalloc(1, sizeof(*o));
	o->cmd = cmd;
	o->v[O_SIG_PROXY].b = true;
	o->v[O_DISABLE_CONTENT_TRUST].b = true;
	o->v[O_RESTART].s = "no";
	o->v[O_PULL_RUN].s = o->v[O_PULL_CREATE].s = "missing";
	for (int i = 1; i < O_COUNT; i++) {
		const create_opt *c = &create_opts[i];
		o->flag_of[i] = -1;
		if (!in_scope(c, cmd))
			continue;
		opt_value *val = &o->v[c->alias_of ? c->alias_of : i];
		berth_flag_type t = flag_type(c);
		void *ptr = t == BERTH_FLAG_BOOL ? (void *)&val->b
			    : t == BERTH_FLAG_LIST ? (void *)&val->l : (void *)&val->s;
		const char *type_name = c->type_name;
		if (type_name == NULL && t == BERTH_FLAG_LIST)
			type_name = "list";
		o->flag_of[i] = (int)o->nflags;
		o->flags[o->nflags++] = (berth_flag){
			.name = c->name, .shorthand = c->shorthand, .type = t, .value = ptr,
			.usage = c->usage, .type_name = type_name, .def = c->def,
			.check = c->check, .hidden = c->alias_of != 0 || c->hidden,
		};
	}
	*flags = o->flags;
	*nflags = o->nflags;
	return o;
}

void berth_create_opts_free(berth_create_opts *o)
{
	if (o == NULL)
		return;
	for (int i = 0; i < O_COUNT; i++)
		berth_strlist_reset(&o->v[i].l);
	free(o);
}

static bool changed(const berth_create_opts *o, int idx)
{
	for (int i = 1; i < O_COUNT; i++)
		if ((i == idx || create_opts[i].alias_of == idx) && o->flag_of[i] >= 0 &&
		    o->flags[o->flag_of[i]].changed)
			return true;
	return false;
}

/* ------------------------------------------------------------ building */

typedef struct build_ctx {
	berth_create_opts *o;
	const berth_strlist *args;
	json_t *body; /* Config members, HostConfig, NetworkingConfig */
	json_t *hc;
	berth_create_plan *plan;
} build_ctx;

static const opt_value *val(const build_ctx *b, int idx)
{
	return &b->o->v[idx];
}

static json_t *sub_object(json_t *parent, const char *key)
{
	json_t *o = json_object_get(parent, key);
	if (!o) {
		o = json_object();
		json_object_set_new(parent, key, o);
	}
	return o;
}

/* Sets "A.B" in root, creating the objects on the way. */
static void set_path(json_t *root, const char *path, json_t *value)
{
	const char *dot = strchr(path, '.');
	if (dot == NULL) {
		json_object_set_new(root, path, value);
		return;
	}
	char *head cleanup_free = berth_xstrndup(path, (size_t)(dot - path));
	json_t *child = json_object_get(root, head);
	if (!json_is_object(child)) {
		child = json_object();
		json_object_set_new(root, head, child);
	}
	set_path(child, dot + 1, value);
}

static json_t *strlist_json(const berth_strlist *l)
{
	json_t *a = json_array();
	for (size_t i = 0; i < l->n; i++)
		json_array_append_new(a, json_string(l->v[i]));
	return a;
}

json_t *berth_cli_kv_object(const berth_strlist *l)
{
	json_t *obj = json_object();
	for (size_t i = 0; i < l->n; i++) {
		const char *eq = strchr(l->v[i], '=');
		char *k cleanup_free = berth_xstrndup(l->v[i], eq ? (size_t)(eq - l->v[i])
								  : strlen(l->v[i]));
		json_object_set_new(obj, k, json_string(eq ? eq + 1 : ""));
	}
	return obj;
}

static json_t *convert(const create_opt *c, const opt_value *v)
{
	int64_t n = 0;
	switch (c->kind) {
	case K_BOOL:
		return v->b ? json_true() : NULL;
	case K_BOOLPTR:
		return json_boolean(v->b);
	case K_STRING:
		return json_string(v->s);
	case K_INT:
	case K_UINT16:
	case K_UINT64:
		parse_integer(v->s, c->kind != K_INT, c->kind == K_UINT16 ? 16 : 64, &n, NULL);
		return json_integer(n);
	case K_BYTES:
		berth_cli_ram_in_bytes(v->s, &n, NULL);
		return json_integer(n);
	case K_SWAP:
		if (strcmp(v->s, "-1") == 0)
			return json_integer(-1);
		berth_cli_ram_in_bytes(v->s, &n, NULL);
		return json_integer(n);
	case K_CPUS:
		berth_cli_nano_cpus(v->s, &n, NULL);
		return json_integer(n);
	case K_LIST:
		return v->l.n ? strlist_json(&v->l) : NULL;
	case K_LIST_ALL:
		return strlist_json(&v->l);
	case K_MAP:
		return v->l.n ? berth_cli_kv_object(&v->l) : NULL;
	case K_NONE:
		break;
	}
	return NULL;
}

/* Every entry that maps straight to one field. */
static int step_table(build_ctx *b, berth_error **err)
{
	for (int i = 1; i < O_COUNT; i++) {
		const create_opt *c = &create_opts[i];
		if (c->kind == K_NONE || c->target == NULL || b->o->flag_of[i] < 0)
			continue;
		if (c->kind != K_LIST_ALL && !changed(b->o, i))
			continue;
		json_t *j = convert(c, val(b, i));
		if (j)
			set_path(b->body, c->target, j);
	}
	return 0;
}

static bool attach_has(const berth_strlist *l, const char *stream)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcasecmp(l->v[i], stream) == 0)
			return true;
	return false;
}

/* -a, -i, -t: which streams the client attaches. */
static int step_stdio(build_ctx *b, berth_error **err)
{
	const berth_strlist *a = &val(b, O_ATTACH)->l;
	bool in = attach_has(a, "stdin") || val(b, O_INTERACTIVE)->b;
	bool out = a->n == 0 || attach_has(a, "stdout");
	bool errs = a->n == 0 || attach_has(a, "stderr");
	bool open_stdin = val(b, O_INTERACTIVE)->b;
	json_object_set_new(b->body, "AttachStdin", json_boolean(in));
	json_object_set_new(b->body, "AttachStdout", json_boolean(out));
	json_object_set_new(b->body, "AttachStderr", json_boolean(errs));
	json_object_set_new(b->body, "Tty", json_boolean(val(b, O_TTY)->b));
	json_object_set_new(b->body, "OpenStdin", json_boolean(open_stdin));
	json_object_set_new(b->body, "StdinOnce", json_boolean(open_stdin && in));
	b->plan->attach_given = a->n > 0;
	return 0;
}

static int step_command(build_ctx *b, berth_error **err)
{
	json_object_set_new(b->body, "Image", json_string(b->args->v[0]));
	if (b->args->n > 1) {
		json_t *cmd = json_array();
		for (size_t i = 1; i < b->args->n; i++)
			json_array_append_new(cmd, json_string(b->args->v[i]));
		json_object_set_new(b->body, "Cmd", cmd);
	}
	const char *ep = val(b, O_ENTRYPOINT)->s;
	if ((ep && *ep) || changed(b->o, O_ENTRYPOINT))
		json_object_set_new(b->body, "Entrypoint", json_pack("[s]", ep ? ep : ""));
	return 0;
}

/* --env-file then -e (ReadKVEnvStrings), and --label-file then -l. */
static int kv_files_then(const berth_strlist *files, const berth_strlist *items, bool env,
			 berth_strlist *out, berth_error **err)
{
	for (size_t i = 0; i < files->n; i++)
		if (berth_cli_read_kv_file(files->v[i], env, out, err) < 0)
			return -1;
	for (size_t i = 0; i < items->n; i++) {
		char *item cleanup_free = env ? berth_cli_env_value(items->v[i])
					      : berth_xstrdup(items->v[i]);
		berth_strlist_push(out, item);
	}
	return 0;
}

static int step_env(build_ctx *b, berth_error **err)
{
	berth_strlist env cleanup_strlist = {0};
	if (kv_files_then(&val(b, O_ENV_FILE)->l, &val(b, O_ENV)->l, true, &env, err) < 0)
		return -1;
	if (env.n)
		json_object_set_new(b->body, "Env", strlist_json(&env));
	return 0;
}

static int step_labels(build_ctx *b, berth_error **err)
{
	berth_strlist labels cleanup_strlist = {0};
	if (kv_files_then(&val(b, O_LABEL_FILE)->l, &val(b, O_LABEL)->l, false, &labels, err) < 0)
		return -1;
	if (labels.n == 0)
		return 0;
	json_t *obj = json_object();
	for (size_t i = 0; i < labels.n; i++) {
		const char *l = labels.v[i];
		size_t klen = strcspn(l, "=");
		size_t sp = 0;
		while (isspace((unsigned char)l[sp]))
			sp++;
		while (klen > sp && isspace((unsigned char)l[klen - 1]))
			klen--;
		char *k cleanup_free = berth_xstrndup(l + sp, klen - sp);
		const char *eq = strchr(l, '=');
		json_object_set_new(obj, k, json_string(eq ? eq + 1 : ""));
	}
	json_object_set_new(b->body, "Labels", obj);
	return 0;
}

/* --add-host "name=ip" is sent as "name:ip". */
static int step_extra_hosts(build_ctx *b, berth_error **err)
{
	const berth_strlist *h = &val(b, O_ADD_HOST)->l;
	if (h->n == 0)
		return 0;
	json_t *a = json_array();
	for (size_t i = 0; i < h->n; i++) {
		char *e cleanup_free = berth_xstrdup(h->v[i]);
		char *eq = strchr(e, '=');
		if (eq)
			*eq = ':';
		json_array_append_new(a, json_string(e));
	}
	set_path(b->body, "HostConfig.ExtraHosts", a);
	return 0;
}

static int by_string(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* docker's normalizeCaps: upper case, "CAP_" prefixed (but "ALL"), unique,
 * sorted; spaces are kept as docker keeps them. */
static json_t *normalize_caps(const berth_strlist *in)
{
	berth_strlist out cleanup_strlist = {0};
	for (size_t i = 0; i < in->n; i++) {
		char *c cleanup_free = berth_xstrdup(in->v[i]);
		char *full cleanup_free = NULL;
		const char *cap = c;
		for (char *p = c; *p; p++)
			*p = (char)toupper((unsigned char)*p);
		if (*cap == '\0')
			continue;
		if (strcmp(cap, "ALL") != 0 && !berth_str_has_prefix(cap, "CAP_"))
			cap = full = berth_xasprintf("CAP_%s", cap);
		bool dup = false;
		for (size_t k = 0; k < out.n; k++)
			dup = dup || strcmp(out.v[k], cap) == 0;
		if (!dup)
			berth_strlist_push(&out, cap);
	}
	if (out.n)
		qsort(out.v, out.n, sizeof(char *), by_string);
	return strlist_json(&out);
}

static int step_caps(build_ctx *b, berth_error **err)
{
	json_object_set_new(b->hc, "CapAdd", normalize_caps(&val(b, O_CAP_ADD)->l));
	json_object_set_new(b->hc, "CapDrop", normalize_caps(&val(b, O_CAP_DROP)->l));
	return 0;
}

/* -v: "src:dst[:mode]" are binds, a lone "/path" an anonymous volume. */
static int step_volumes(build_ctx *b, berth_error **err)
{
	const berth_strlist *v = &val(b, O_VOLUME)->l;
	json_t *binds = json_array(), *volumes = json_object();
	for (size_t i = 0; i < v->n; i++) {
		if (strchr(v->v[i], ':'))
			json_array_append_new(binds, json_string(v->v[i]));
		else
			json_object_set_new(volumes, v->v[i], json_object());
	}
	if (json_array_size(binds))
		set_path(b->body, "HostConfig.Binds", json_incref(binds));
	if (json_object_size(volumes))
		json_object_set(b->body, "Volumes", volumes);
	json_decref(binds);
	json_decref(volumes);
	return 0;
}

static int step_tmpfs(build_ctx *b, berth_error **err)
{
	const berth_strlist *t = &val(b, O_TMPFS)->l;
	if (t->n == 0)
		return 0;
	json_t *obj = json_object();
	for (size_t i = 0; i < t->n; i++) {
		const char *colon = strchr(t->v[i], ':');
		char *path cleanup_free = berth_xstrndup(t->v[i], colon ? (size_t)(colon - t->v[i])
								    : strlen(t->v[i]));
		json_object_set_new(obj, path, json_string(colon ? colon + 1 : ""));
	}
	set_path(b->body, "HostConfig.Tmpfs", obj);
	return 0;
}

/* A list of items, each parsed to an object, into target. */
static int object_list(build_ctx *b, int idx, const char *target,
		       int (*parse)(const char *, json_t **, berth_error **), berth_error **err)
{
	const berth_strlist *l = &val(b, idx)->l;
	if (l->n == 0)
		return 0;
	json_t *a cleanup_json = json_array();
	for (size_t i = 0; i < l->n; i++) {
		json_t *item = NULL;
		if (parse(l->v[i], &item, err) < 0)
			return -1;
		json_array_append_new(a, item);
	}
	set_path(b->body, target, json_incref(a));
	return 0;
}

static int parse_bps(const char *v, json_t **out, berth_error **err)
{
	return parse_throttle(v, false, out, err);
}

static int parse_iops(const char *v, json_t **out, berth_error **err)
{
	return parse_throttle(v, true, out, err);
}

static int step_mounts(build_ctx *b, berth_error **err)
{
	return object_list(b, O_MOUNT, "HostConfig.Mounts", parse_mount, err);
}

static int step_blkio(build_ctx *b, berth_error **err)
{
	return object_list(b, O_BLKIO_WEIGHT_DEVICE, "HostConfig.BlkioWeightDevice",
			   parse_weight_device, err) < 0 ||
			       object_list(b, O_DEVICE_READ_BPS, "HostConfig.BlkioDeviceReadBps",
					   parse_bps, err) < 0 ||
			       object_list(b, O_DEVICE_WRITE_BPS, "HostConfig.BlkioDeviceWriteBps",
					   parse_bps, err) < 0 ||
			       object_list(b, O_DEVICE_READ_IOPS, "HostConfig.BlkioDeviceReadIOps",
					   parse_iops, err) < 0 ||
			       object_list(b, O_DEVICE_WRITE_IOPS, "HostConfig.BlkioDeviceWriteIOps",
					   parse_iops, err) < 0
		       ? -1
		       : 0;
}

/* go-units' ParseUlimit. */
static int parse_ulimit(const char *v, json_t **out, berth_error **err)
{
	static const char *const names[] = {"core",   "cpu",    "data",	  "fsize",	"locks",
					    "memlock", "msgqueue", "nice",	  "nofile",	"nproc",
					    "rss",    "rtprio", "rttime", "sigpending", "stack"};
	const char *eq = strchr(v, '=');
	if (eq == NULL)
		return berth_error_set(err, 400, "invalid ulimit argument: %s", v);
	char *name cleanup_free = berth_xstrndup(v, (size_t)(eq - v));
	bool known = false;
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(names); i++)
		known = known || strcmp(names[i], name) == 0;
	if (!known)
		return berth_error_set(err, 400, "invalid ulimit type: %s", name);
	char **parts = berth_str_split(eq + 1, ':');
	size_t n = berth_strv_len(parts);
	int64_t soft = 0, hard = 0;
	int r = 0;
	if (n > 2)
		r = berth_error_set(err, 400, "too many limit value arguments - %s, can only have up "
					      "to two, `soft[:hard]`", eq + 1);
	else if ((n == 2 && parse_integer(parts[1], false, 64, &hard, err) < 0) ||
		 parse_integer(parts[0] ? parts[0] : "", false, 64, &soft, err) < 0)
		r = -1;
	berth_strv_free(parts);
	if (r < 0)
		return -1;
	if (n == 1)
		hard = soft;
	if (hard != -1 && soft > hard)
		return berth_error_set(err, 400, "ulimit soft limit must be less than or equal to hard "
					       "limit: %lld > %lld", (long long)soft, (long long)hard);
	*out = json_pack("{s:s, s:I, s:I}", "Name", name, "Hard", (json_int_t)hard, "Soft",
			 (json_int_t)soft);
	return 0;
}

/* Later --ulimit values of a name replace earlier ones, as UlimitOpt does. */
static int step_ulimits(build_ctx *b, berth_error **err)
{
	const berth_strlist *l = &val(b, O_ULIMIT)->l;
	if (l->n == 0)
		return 0;
	json_t *a cleanup_json = json_array();
	for (size_t i = 0; i < l->n; i++) {
		json_t *u = NULL;
		if (parse_ulimit(l->v[i], &u, err) < 0)
			return -1;
		size_t k;
		json_t *old;
		bool replaced = false;
		json_array_foreach(a, k, old) {
			if (strcmp(berth_cli_str(old, "Name"), berth_cli_str(u, "Name")) == 0) {
				json_array_set(a, k, u);
				replaced = true;
				break;
			}
		}
		if (!replaced)
			json_array_append(a, u);
		json_decref(u);
	}
	set_path(b->body, "HostConfig.Ulimits", json_incref(a));
	return 0;
}

/* "path:weight" for --blkio-weight-device. */
static int parse_weight_device(const char *v, json_t **out, berth_error **err)
{
	const char *colon = strchr(v, ':');
	if (colon == NULL || colon == v)
		return berth_error_set(err, 400, "bad format: %s", v);
	if (strncmp(v, "/dev/", 5) != 0)
		return berth_error_set(err, 400, "bad format for device path: %s", v);
	int64_t w;
	if (parse_integer(colon + 1, true, 16, &w, NULL) < 0 || (w > 0 && (w < 10 || w > 1000)))
		return berth_error_set(err, 400, "invalid weight for device: %s", v);
	char *path cleanup_free = berth_xstrndup(v, (size_t)(colon - v));
	*out = json_pack("{s:s, s:I}", "Path", path, "Weight", (json_int_t)w);
	return 0;
}

/* "path:rate" for --device-{read,write}-{bps,iops}. */
static int parse_throttle(const char *v, bool iops, json_t **out, berth_error **err)
{
	const char *colon = strchr(v, ':');
	if (colon == NULL || colon == v)
		return berth_error_set(err, 400, "bad format: %s", v);
	if (strncmp(v, "/dev/", 5) != 0)
		return berth_error_set(err, 400, "bad format for device path: %s", v);
	int64_t rate;
	if (iops ? parse_integer(colon + 1, true, 64, &rate, NULL) < 0
		 : berth_cli_ram_in_bytes(colon + 1, &rate, NULL) < 0)
		return berth_error_set(err, 400,
				       iops ? "invalid rate for device: %s. The correct format is "
					      "<device-path>:<number>. Number must be a positive integer"
					    : "invalid rate for device: %s. The correct format is "
					      "<device-path>:<number>[<unit>]. Number must be a positive "
					      "integer. Unit is optional and can be kb, mb, or gb",
				       v);
	char *path cleanup_free = berth_xstrndup(v, (size_t)(colon - v));
	*out = json_pack("{s:s, s:I}", "Path", path, "Rate", (json_int_t)rate);
	return 0;
}

/* ----------------------------------------------------------------- mounts */

/* One record of Go's encoding/csv: fields split at commas, "quoted" fields. */
static char **csv_fields(const char *s)
{
	berth_strlist l = {0};
	berth_buf field cleanup_buf = {0};
	bool quoted = false;
	for (const char *p = s;; p++) {
		if (quoted && *p == '"' && p[1] == '"') {
			berth_buf_append(&field, "\"", 1);
			p++;
		} else if (*p == '"') {
			quoted = !quoted;
		} else if ((*p == ',' && !quoted) || *p == '\0') {
			berth_strlist_push(&l, field.data ? field.data : "");
			berth_buf_reset(&field);
			if (*p == '\0')
				break;
		} else {
			berth_buf_append(&field, p, 1);
		}
	}
	return l.v;
}

static void map_item(json_t *obj, const char *kv)
{
	const char *eq = strchr(kv, '=');
	char *k cleanup_free = berth_xstrndup(kv, eq ? (size_t)(eq - kv) : strlen(kv));
	json_object_set_new(obj, k, json_string(eq ? eq + 1 : ""));
}

static int mount_flag(json_t *m, const char *key, const char *field, berth_error **err)
{
	if (strcmp(key, "readonly") == 0 || strcmp(key, "ro") == 0)
		json_object_set_new(m, "ReadOnly", json_true());
	else if (strcmp(key, "volume-nocopy") == 0)
		json_object_set_new(sub_object(m, "VolumeOptions"), "NoCopy", json_true());
	else if (strcmp(key, "bind-nonrecursive") == 0)
		json_object_set_new(sub_object(m, "BindOptions"), "NonRecursive", json_true());
	else
		return berth_error_set(err, 400, "invalid field '%s' must be a key=value pair", field);
	return 0;
}

static int mount_field(json_t *m, const char *key, const char *v, const char *field,
		       berth_error **err)
{
	if (strcmp(key, "type") == 0) {
		char *t cleanup_free = berth_xstrdup(v);
		for (char *p = t; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		json_object_set_new(m, "Type", json_string(t));
	} else if (strcmp(key, "source") == 0 || strcmp(key, "src") == 0) {
		char abs[PATH_MAX];
		bool rel = strcmp(v, ".") == 0 || strncmp(v, "./", 2) == 0;
		json_object_set_new(m, "Source", json_string(rel && realpath(v, abs) ? abs : v));
	} else if (strcmp(key, "target") == 0 || strcmp(key, "dst") == 0 ||
		   strcmp(key, "destination") == 0) {
		json_object_set_new(m, "Target", json_string(v));
	} else if (strcmp(key, "readonly") == 0 || strcmp(key, "ro") == 0) {
		bool ro;
		if (berth_parse_bool(v, &ro) < 0)
			return berth_error_set(err, 400, "invalid value for %s: %s", key, v);
		json_object_set_new(m, "ReadOnly", json_boolean(ro));
	} else if (strcmp(key, "consistency") == 0) {
		json_object_set_new(m, "Consistency", json_string(v));
	} else if (strcmp(key, "bind-propagation") == 0) {
		json_object_set_new(sub_object(m, "BindOptions"), "Propagation", json_string(v));
	} else if (strcmp(key, "bind-nonrecursive") == 0 || strcmp(key, "volume-nocopy") == 0) {
		bool b;
		if (berth_parse_bool(v, &b) < 0)
			return berth_error_set(err, 400, "invalid value for %s: %s", key, v);
		json_object_set_new(sub_object(m, key[0] == 'b' ? "BindOptions" : "VolumeOptions"),
				    key[0] == 'b' ? "NonRecursive" : "NoCopy", json_boolean(b));
	} else if (strcmp(key, "volume-driver") == 0) {
		json_object_set_new(sub_object(sub_object(m, "VolumeOptions"), "DriverConfig"), "Name",
				    json_string(v));
	} else if (strcmp(key, "volume-subpath") == 0) {
		json_object_set_new(sub_object(m, "VolumeOptions"), "Subpath", json_string(v));
	} else if (strcmp(key, "volume-label") == 0) {
		map_item(sub_object(sub_object(m, "VolumeOptions"), "Labels"), v);
	} else if (strcmp(key, "volume-opt") == 0) {
		map_item(sub_object(sub_object(sub_object(m, "VolumeOptions"), "DriverConfig"),
				    "Options"),
			 v);
	} else if (strcmp(key, "tmpfs-size") == 0) {
		int64_t size;
		if (berth_cli_ram_in_bytes(v, &size, NULL) < 0)
			return berth_error_set(err, 400, "invalid value for %s: %s", key, v);
		json_object_set_new(sub_object(m, "TmpfsOptions"), "SizeBytes", json_integer(size));
	} else if (strcmp(key, "tmpfs-mode") == 0) {
		char *end;
		unsigned long mode = strtoul(v, &end, 8);
		if (*v == '\0' || *end != '\0' || mode > 0xFFFFFFFFUL)
			return berth_error_set(err, 400, "invalid value for %s: %s", key, v);
		json_object_set_new(sub_object(m, "TmpfsOptions"), "Mode", json_integer((json_int_t)mode));
	} else {
		return berth_error_set(err, 400, "unexpected key '%s' in '%s'", key, field);
	}
	return 0;
}

static int mount_check(const json_t *m, berth_error **err)
{
	const char *type = berth_cli_str(m, "Type");
	static const struct {
		const char *member, *prefix, *type;
	} mixes[] = {{"VolumeOptions", "volume", "volume"},
		     {"BindOptions", "bind", "bind"},
		     {"TmpfsOptions", "tmpfs", "tmpfs"}};
	if (*type == '\0')
		return berth_error_set(err, 400, "type is required");
	if (*berth_cli_str(m, "Target") == '\0')
		return berth_error_set(err, 400, "target is required");
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(mixes); i++)
		if (json_object_get(m, mixes[i].member) && strcmp(type, mixes[i].type) != 0)
			return berth_error_set(err, 400,
					       "cannot mix '%s-*' options with mount type '%s'",
					       mixes[i].prefix, type);
	return 0;
}

/* opts.MountOpt.Set: "type=bind,source=/a,target=/b,readonly". */
static int parse_mount(const char *v, json_t **out, berth_error **err)
{
	json_t *m cleanup_json = json_pack("{s:s}", "Type", "volume");
	char **fields = csv_fields(v);
	int r = 0;
	for (size_t i = 0; fields && fields[i] && r == 0; i++) {
		const char *eq = strchr(fields[i], '=');
		char *key cleanup_free = berth_xstrndup(fields[i], eq ? (size_t)(eq - fields[i])
								      : strlen(fields[i]));
		for (char *p = key; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		r = eq ? mount_field(m, key, eq + 1, fields[i], err)
		       : mount_flag(m, key, fields[i], err);
	}
	berth_strv_free(fields);
	if (r < 0 || mount_check(m, err) < 0)
		return -1;
	*out = json_incref(m);
	return 0;
}

/* ------------------------------------------------------------------ ports */

/* nat.ParsePortRange: "80" or "8000-8010", with its errors. */
static int port_range(const char *s, unsigned long *start, unsigned long *end, berth_error **err)
{
	int64_t a, b;
	if (*s == '\0')
		return berth_error_set(err, 400, "empty string specified for ports");
	const char *dash = strchr(s, '-');
	char *first cleanup_free = berth_xstrndup(s, dash ? (size_t)(dash - s) : strlen(s));
	if (parse_integer(first, true, 16, &a, err) < 0)
		return -1;
	b = a;
	if (dash) {
		char *second cleanup_free = berth_xstrndup(dash + 1, strcspn(dash + 1, "-"));
		if (parse_integer(second, true, 16, &b, err) < 0)
			return -1;
		if (b < a)
			return berth_error_set(err, 400, "invalid range specified for container and "
						       "host Ports: %s", s);
	}
	*start = (unsigned long)a;
	*end = (unsigned long)b;
	return 0;
}

static void add_port(build_ctx *b, const char *proto, unsigned long port, const char *ip,
		     const char *host_port)
{
	char key[32];
	snprintf(key, sizeof(key), "%lu/%s", port, proto);
	json_t *exposed = sub_object(b->body, "ExposedPorts");
	if (!json_object_get(exposed, key))
		json_object_set_new(exposed, key, json_object());
	if (host_port == NULL)
		return;
	json_t *bindings = sub_object(b->hc, "PortBindings");
	json_t *list = json_object_get(bindings, key);
	if (!list) {
		list = json_array();
		json_object_set_new(bindings, key, list);
	}
	json_array_append_new(list, json_pack("{s:s, s:s}", "HostIp", ip, "HostPort", host_port));
}

/* "proto" and "port" of "port[/proto]", tcp by default. */
static const char *split_proto(char *spec)
{
	char *slash = strchr(spec, '/');
	if (slash == NULL || slash[1] == '\0') {
		if (slash)
			*slash = '\0';
		return "tcp";
	}
	*slash = '\0';
	for (char *p = slash + 1; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return slash + 1;
}

/* nat.ParsePortSpec: [[ip:]hostPort:]containerPort[/proto]. */
static int publish_spec(build_ctx *b, const char *raw, berth_error **err)
{
	char *spec cleanup_free = berth_xstrdup(raw);
	char *last = strrchr(spec, ':');
	char *container = last ? last + 1 : spec;
	char *host = NULL, *ip = "";
	if (last) {
		*last = '\0';
		char *prev = strrchr(spec, ':');
		host = prev ? prev + 1 : spec;
		if (prev) {
			*prev = '\0';
			ip = spec;
		}
	}
	if (ip[0] == '[' && ip[strlen(ip) - 1] == ']') {
		ip++;
		ip[strlen(ip) - 1] = '\0';
	}
	if (*ip && !is_ip(ip))
		return berth_error_set(err, 400, "invalid IP address: %s", ip);
	const char *proto = split_proto(container);
	if (*container == '\0')
		return berth_error_set(err, 400, "no port specified: %s<empty>", raw);
	unsigned long cs, ce, hs = 0, he = 0;
	if (port_range(container, &cs, &ce, NULL) < 0)
		return berth_error_set(err, 400, "invalid containerPort: %s", container);
	if (host && *host && port_range(host, &hs, &he, NULL) < 0)
		return berth_error_set(err, 400, "invalid hostPort: %s", host);
	bool has_host = host && *host;
	if (has_host && ce - cs != he - hs && ce != cs)
		return berth_error_set(err, 400, "invalid ranges specified for container and host "
					       "Ports: %s and %s", container, host);
	if (strcmp(proto, "tcp") && strcmp(proto, "udp") && strcmp(proto, "sctp"))
		return berth_error_set(err, 400, "invalid proto: %s", proto);
	for (unsigned long i = 0; i <= ce - cs; i++) {
		char hp[32] = "";
		if (has_host && cs == ce && hs != he)
			snprintf(hp, sizeof(hp), "%lu-%lu", hs, he);
		else if (has_host)
			snprintf(hp, sizeof(hp), "%lu", hs + i);
		add_port(b, proto, cs + i, ip, hp);
	}
	return 0;
}

/* docker's convertToStandardNotation: "target=80,published=8080,protocol=udp". */
static char *standard_notation(const char *spec, berth_error **err)
{
	if (strchr(spec, '=') == NULL)
		return berth_xstrdup(spec);
	const char *published = "", *target = "", *protocol = "tcp";
	char **params = berth_str_split(spec, ',');
	char *out = NULL;
	for (size_t i = 0; params[i]; i++) {
		char *eq = strchr(params[i], '=');
		if (eq == NULL) {
			berth_error_set(err, 400, "invalid publish opts format (should be name=value "
						  "but got '%s')", params[i]);
			berth_strv_free(params);
			return NULL;
		}
		*eq = '\0';
		if (strcmp(params[i], "published") == 0)
			published = eq + 1;
		else if (strcmp(params[i], "target") == 0)
			target = eq + 1;
		else if (strcmp(params[i], "protocol") == 0)
			protocol = eq + 1;
	}
	out = berth_xasprintf("%s:%s/%s", published, target, protocol);
	berth_strv_free(params);
	return out;
}

static int step_ports(build_ctx *b, berth_error **err)
{
	const berth_strlist *p = &val(b, O_PUBLISH)->l, *e = &val(b, O_EXPOSE)->l;
	for (size_t i = 0; i < p->n; i++) {
		char *spec cleanup_free = standard_notation(p->v[i], err);
		if (spec == NULL || publish_spec(b, spec, err) < 0)
			return -1;
	}
	for (size_t i = 0; i < e->n; i++) {
		if (strchr(e->v[i], ':'))
			return berth_error_set(err, 400, "invalid port format for --expose: %s", e->v[i]);
		char *spec cleanup_free = berth_xstrdup(e->v[i]);
		const char *proto = split_proto(spec);
		unsigned long s, end;
		berth_error *why cleanup_error = NULL;
		if (port_range(spec, &s, &end, &why) < 0)
			return berth_error_set(err, 400, "invalid range format for --expose: %s, error: %s",
					       e->v[i], why->msg);
		for (unsigned long k = s; k <= end; k++)
			add_port(b, proto, k, NULL, NULL);
	}
	return 0;
}

/* ---------------------------------------------------------------- devices */

static bool device_mode(const char *m)
{
	if (*m == '\0' || strlen(m) > 3)
		return false;
	for (const char *p = m; *p; p++)
		if (!strchr("rwm", *p) || strchr(p + 1, *p))
			return false;
	return true;
}

static json_t *device_json(const char *src, const char *dst, const char *mode)
{
	return json_pack("{s:s, s:s, s:s}", "PathOnHost", src, "PathInContainer", dst,
			 "CgroupPermissions", mode);
}

/* validateLinuxPath + parseLinuxDevice: "src[:dst][:mode]", globs with '*'. */
static int parse_device(const char *v, json_t *out, berth_error **err)
{
	char **parts = berth_str_split(v, ':');
	size_t n = berth_strv_len(parts);
	const char *src = parts[0] ? parts[0] : "", *dst = "", *mode = "rwm";
	int r = 0;
	if (n > 3 || *src == '\0')
		r = berth_error_set(err, 400, "bad format for path: %s", v);
	else if (n == 3 && !device_mode(parts[2]))
		r = berth_error_set(err, 400, "bad mode specified: %s", parts[2]);
	if (r == 0 && n >= 2) {
		if (n == 2 && device_mode(parts[1])) {
			mode = parts[1];
		} else {
			dst = parts[1];
			if (n == 3)
				mode = parts[2];
		}
	}
	const char *ctr = *dst ? dst : src;
	if (r == 0 && ctr[0] != '/')
		r = berth_error_set(err, 400, "%s is not an absolute path", ctr);
	if (r == 0 && src[strlen(src) - 1] == '*') {
		glob_t g = {0};
		if (*dst)
			r = berth_error_set(err, 400, "device with * suffix can't have dst: %s", v);
		else if (glob(src, 0, NULL, &g) == 0)
			for (size_t i = 0; i < g.gl_pathc; i++)
				json_array_append_new(out, device_json(g.gl_pathv[i], g.gl_pathv[i], mode));
		globfree(&g);
	} else if (r == 0) {
		json_array_append_new(out, device_json(src, *dst ? dst : src, mode));
	}
	berth_strv_free(parts);
	return r;
}

static int step_devices(build_ctx *b, berth_error **err)
{
	const berth_strlist *d = &val(b, O_DEVICE)->l;
	if (d->n == 0)
		return 0;
	json_t *a cleanup_json = json_array();
	for (size_t i = 0; i < d->n; i++)
		if (parse_device(d->v[i], a, err) < 0)
			return -1;
	set_path(b->body, "HostConfig.Devices", json_incref(a));
	return 0;
}

/* --gpus: "all", a count, or "count=N,device=a,driver=x,capabilities=y". */
static int step_gpus(build_ctx *b, berth_error **err)
{
	const char *g = val(b, O_GPUS)->s;
	if (g == NULL)
		return 0;
	json_t *req = json_pack("{s:s, s:i, s:n, s:[[s]], s:{}}", "Driver", "", "Count", 0,
				"DeviceIDs", "Capabilities", "gpu", "Options");
	char **fields = csv_fields(g);
	int r = 0;
	for (size_t i = 0; fields[i] && r == 0; i++) {
		const char *f = fields[i], *eq = strchr(f, '=');
		const char *v = eq ? eq + 1 : f;
		if (!eq || strncmp(f, "count=", 6) == 0) {
			int64_t n = -1;
			if (strcmp(v, "all") != 0 && parse_integer(v, false, 64, &n, NULL) < 0)
				r = berth_error_set(err, 400, "unexpected key '%s' in '%s'", f, g);
			json_object_set_new(req, "Count", json_integer(n));
		} else if (strncmp(f, "device=", 7) == 0) {
			char **ids = berth_str_split(v, ',');
			json_t *a = json_array();
			for (size_t k = 0; ids[k]; k++)
				json_array_append_new(a, json_string(ids[k]));
			berth_strv_free(ids);
			json_object_set_new(req, "DeviceIDs", a);
		} else if (strncmp(f, "driver=", 7) == 0) {
			json_object_set_new(req, "Driver", json_string(v));
		} else if (strncmp(f, "capabilities=", 13) == 0) {
			json_object_set_new(req, "Capabilities", json_pack("[[s]]", v));
		} else {
			r = berth_error_set(err, 400, "unexpected key '%.*s' in '%s'",
					    (int)(eq - f), f, g);
		}
	}
	berth_strv_free(fields);
	if (r == 0)
		set_path(b->body, "HostConfig.DeviceRequests", json_pack("[O]", req));
	json_decref(req);
	return r;
}

/* ----------------------------------------------------------- host config */

static int step_restart(build_ctx *b, berth_error **err)
{
	const char *policy = val(b, O_RESTART)->s;
	const char *colon = strchr(policy, ':');
	if (colon == policy)
		return berth_error_set(err, 400, "invalid restart policy format: no policy provided "
						 "before colon");
	int64_t count = 0;
	if (colon && colon[1] && parse_integer(colon + 1, false, 64, &count, NULL) < 0)
		return berth_error_set(err, 400, "invalid restart policy format: maximum retry count "
						 "must be an integer");
	char *name cleanup_free = berth_xstrndup(policy, colon ? (size_t)(colon - policy)
							       : strlen(policy));
	if (*policy)
		json_object_set_new(b->hc, "RestartPolicy",
				    json_pack("{s:s, s:I}", "Name", name, "MaximumRetryCount",
					      (json_int_t)count));
	bool none = *name == '\0' || strcmp(name, "no") == 0;
	b->plan->auto_remove = val(b, O_RM)->b;
	if (b->plan->auto_remove && !none)
		return berth_error_set(err, 400, "conflicting options: cannot specify both --restart "
						 "and --rm");
	return 0;
}

static int step_logging(build_ctx *b, berth_error **err)
{
	const char *driver = val(b, O_LOG_DRIVER)->s;
	const berth_strlist *opts = &val(b, O_LOG_OPT)->l;
	if (driver && strcmp(driver, "none") == 0 && opts->n > 0)
		return berth_error_set(err, 400, "invalid logging opts for driver %s", driver);
	if ((driver && *driver) || opts->n)
		json_object_set_new(b->hc, "LogConfig",
				    json_pack("{s:s, s:o}", "Type", driver ? driver : "", "Config",
					      berth_cli_kv_object(opts)));
	return 0;
}

/* A seccomp profile named by file goes to the daemon as its content. */
static int seccomp_inline(const char *path, char **out, berth_error **err)
{
	char *data cleanup_free = NULL;
	size_t len;
	berth_error *e cleanup_error = NULL;
	if (berth_file_read_all(path, &data, &len, &e) < 0)
		return berth_error_set(err, 400, "opening seccomp profile (%s) failed: open %s: %s",
				       path, path, go_strerror(e->errnum ? e->errnum : ENOENT));
	json_t *j cleanup_json = json_loadb(data, len, 0, NULL);
	if (j == NULL)
		return berth_error_set(err, 400, "compacting json for seccomp profile (%s) failed",
				       path);
	char *compact cleanup_free = berth_json_dump(j);
	*out = berth_xasprintf("seccomp=%s", compact);
	return 0;
}

static int security_opt(const char *opt, json_t *list, bool *unconfined, berth_error **err)
{
	if (strcmp(opt, "systempaths=unconfined") == 0) {
		*unconfined = true;
		return 0;
	}
	size_t klen = strcspn(opt, "=");
	if (opt[klen] == '\0' && strcmp(opt, "no-new-privileges") != 0)
		klen = strcspn(opt, ":");
	const char *v = opt[klen] ? opt + klen + 1 : NULL;
	if ((v == NULL || *v == '\0') && strcmp(opt, "no-new-privileges") != 0)
		return berth_error_set(err, 400, "Invalid --security-opt: \"%s\"", opt);
	if (klen == 7 && strncmp(opt, "seccomp", 7) == 0 && strcmp(v, "unconfined") != 0 &&
	    strcmp(v, "builtin") != 0) {
		char *inl cleanup_free = NULL;
		if (seccomp_inline(v, &inl, err) < 0)
			return -1;
		json_array_append_new(list, json_string(inl));
		return 0;
	}
	json_array_append_new(list, json_string(opt));
	return 0;
}

static int step_security(build_ctx *b, berth_error **err)
{
	const berth_strlist *s = &val(b, O_SECURITY_OPT)->l;
	if (s->n == 0)
		return 0;
	json_t *list cleanup_json = json_array();
	bool unconfined = false;
	for (size_t i = 0; i < s->n; i++)
		if (security_opt(s->v[i], list, &unconfined, err) < 0)
			return -1;
	json_object_set(b->hc, "SecurityOpt", list);
	if (unconfined) {
		json_object_set_new(b->hc, "MaskedPaths", json_array());
		json_object_set_new(b->hc, "ReadonlyPaths", json_array());
	}
	return 0;
}

static int step_storage(build_ctx *b, berth_error **err)
{
	const berth_strlist *s = &val(b, O_STORAGE_OPT)->l;
	for (size_t i = 0; i < s->n; i++)
		if (strchr(s->v[i], '=') == NULL)
			return berth_error_set(err, 400, "invalid storage option");
	if (s->n)
		json_object_set_new(b->hc, "StorageOpt", berth_cli_kv_object(s));
	return 0;
}

/* PID, UTS, user and cgroup namespace modes, as docker validates them. */
static int step_namespaces(build_ctx *b, berth_error **err)
{
	const char *pid = val(b, O_PID)->s, *uts = val(b, O_UTS)->s;
	const char *userns = val(b, O_USERNS)->s, *cgroupns = val(b, O_CGROUPNS)->s;
	bool pid_ok = !pid || !*pid || strcmp(pid, "host") == 0 ||
		      (strncmp(pid, "container:", 10) == 0 && pid[10] && !strchr(pid + 10, ':'));
	if (!pid_ok)
		return berth_error_set(err, 400, "--pid: invalid PID mode");
	if (uts && *uts && strcmp(uts, "host") != 0)
		return berth_error_set(err, 400, "--uts: invalid UTS mode");
	if (userns && *userns && strcmp(userns, "host") != 0)
		return berth_error_set(err, 400, "--userns: invalid USER mode");
	if (cgroupns && *cgroupns && strcmp(cgroupns, "host") && strcmp(cgroupns, "private"))
		return berth_error_set(err, 400, "--cgroupns: invalid CGROUP mode");
	return 0;
}

static int step_resources(build_ctx *b, berth_error **err)
{
	int64_t swappiness = -1;
	if (changed(b->o, O_MEMORY_SWAPPINESS))
		berth_cli_parse_int(val(b, O_MEMORY_SWAPPINESS)->s, &swappiness, NULL);
	if (swappiness != -1 && (swappiness < 0 || swappiness > 100))
		return berth_error_set(err, 400, "invalid value: %lld. Valid memory swappiness range "
						 "is 0-100", (long long)swappiness);
	const char *mac = val(b, O_MAC_ADDRESS)->s;
	if (mac && *mac &&
	    check_regex(mac, "^([0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}$", "%s is not a valid mac address",
			err) < 0)
		return -1;
	if (val(b, O_USE_API_SOCKET)->b)
		return berth_error_set(err, 400, "--use-api-socket is not supported by berth yet");
	return 0;
}

/* ----------------------------------------------------------------- health */

static int health_duration(build_ctx *b, int idx, const char *flag, json_t *hc, const char *key,
			   berth_error **err)
{
	int64_t ns = 0;
	if (val(b, idx)->s)
		berth_cli_go_duration(val(b, idx)->s, &ns, NULL);
	if (ns < 0)
		return berth_error_set(err, 400, "--%s cannot be negative", flag);
	if (ns)
		json_object_set_new(hc, key, json_integer(ns));
	return 0;
}

static int step_health(build_ctx *b, berth_error **err)
{
	const char *cmd = val(b, O_HEALTH_CMD)->s;
	int64_t retries = 0;
	if (val(b, O_HEALTH_RETRIES)->s)
		berth_cli_parse_int(val(b, O_HEALTH_RETRIES)->s, &retries, NULL);
	static const int durations[] = {O_HEALTH_INTERVAL, O_HEALTH_TIMEOUT, O_HEALTH_START_PERIOD,
					O_HEALTH_START_INTERVAL};
	bool any = (cmd && *cmd) || retries != 0;
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(durations); i++) {
		int64_t ns = 0;
		const char *s = val(b, durations[i])->s;
		any = any || (s && berth_cli_go_duration(s, &ns, NULL) == 0 && ns != 0);
	}
	if (val(b, O_NO_HEALTHCHECK)->b) {
		if (any)
			return berth_error_set(err, 400, "--no-healthcheck conflicts with --health-* "
							 "options");
		json_object_set_new(b->body, "Healthcheck", json_pack("{s:[s]}", "Test", "NONE"));
		return 0;
	}
	if (!any)
		return 0;
	json_t *hc cleanup_json = json_object();
	if (cmd && *cmd)
		json_object_set_new(hc, "Test", json_pack("[s, s]", "CMD-SHELL", cmd));
	if (health_duration(b, O_HEALTH_INTERVAL, "health-interval", hc, "Interval", err) < 0 ||
	    health_duration(b, O_HEALTH_TIMEOUT, "health-timeout", hc, "Timeout", err) < 0)
		return -1;
	if (retries < 0)
		return berth_error_set(err, 400, "--health-retries cannot be negative");
	if (health_duration(b, O_HEALTH_START_PERIOD, "health-start-period", hc, "StartPeriod",
			    err) < 0 ||
	    health_duration(b, O_HEALTH_START_INTERVAL, "health-start-interval", hc,
			    "StartInterval", err) < 0)
		return -1;
	if (retries)
		json_object_set_new(hc, "Retries", json_integer(retries));
	json_object_set(b->body, "Healthcheck", hc);
	return 0;
}

/* --------------------------------------------------------------- networks */

static bool user_defined(const char *net)
{
	return strcmp(net, "default") && strcmp(net, "bridge") && strcmp(net, "host") &&
	       strcmp(net, "none") && strncmp(net, "container:", 10);
}

/* The first network gets --network-alias, --ip, --ip6, --link-local-ip, --link. */
static int first_endpoint(build_ctx *b, const char *net, json_t **out, berth_error **err)
{
	const berth_strlist *aliases = &val(b, O_NETWORK_ALIAS)->l, *links = &val(b, O_LINK)->l;
	const berth_strlist *lla = &val(b, O_LINK_LOCAL_IP)->l;
	const char *ip = val(b, O_IP)->s, *ip6 = val(b, O_IP6)->s;
	if (!user_defined(net) && aliases->n)
		return berth_error_set(err, 400, "network-scoped aliases are only supported for "
						 "user-defined networks");
	json_t *ep = json_object();
	if (aliases->n)
		json_object_set_new(ep, "Aliases", strlist_json(aliases));
	if (links->n && user_defined(net)) /* legacy links stay in HostConfig */
		json_object_set_new(ep, "Links", strlist_json(links));
	const char *mac = val(b, O_MAC_ADDRESS)->s;
	if (mac && *mac)
		json_object_set_new(ep, "MacAddress", json_string(mac));
	if ((ip && *ip) || (ip6 && *ip6) || lla->n) {
		json_t *ipam = json_object();
		if (ip && *ip)
			json_object_set_new(ipam, "IPv4Address", json_string(ip));
		if (ip6 && *ip6)
			json_object_set_new(ipam, "IPv6Address", json_string(ip6));
		if (lla->n)
			json_object_set_new(ipam, "LinkLocalIPs", strlist_json(lla));
		json_object_set_new(ep, "IPAMConfig", ipam);
	}
	*out = ep;
	return 0;
}

static int step_network(build_ctx *b, berth_error **err)
{
	berth_strlist defaults cleanup_strlist = {0};
	const berth_strlist *nets = &val(b, O_NETWORK)->l;
	if (nets->n == 0) {
		berth_strlist_push(&defaults, "default");
		nets = &defaults;
	}
	json_object_set_new(b->hc, "NetworkMode", json_string(nets->v[0]));
	json_t *endpoints cleanup_json = json_object();
	bool user = false, builtin = false;
	for (size_t i = 0; i < nets->n; i++) {
		const char *net = nets->v[i];
		if (*net == '\0')
			return berth_error_set(err, 400, "no name set for network");
		user = user || user_defined(net);
		builtin = builtin || !user_defined(net);
		if (json_object_get(endpoints, net))
			return berth_error_set(err, 400, "network \"%s\" is specified multiple times",
					       net);
		json_t *ep = NULL;
		if (i > 0)
			ep = json_object();
		else if (first_endpoint(b, net, &ep, err) < 0)
			return -1;
		if (nets->n == 1 && json_object_size(ep) == 0)
			json_decref(ep); /* docker leaves a plain --network to the daemon */
		else
			json_object_set_new(endpoints, net, ep);
	}
	if (user && builtin)
		return berth_error_set(err, 400, "conflicting options: cannot attach both user-defined "
						 "and non-user-defined network-modes");
	if (json_object_size(endpoints))
		json_object_set_new(b->body, "NetworkingConfig",
				    json_pack("{s:O}", "EndpointsConfig", endpoints));
	return 0;
}

/* The terminal's size for the TTY to start with, as docker's create sends it. */
static int step_console(build_ctx *b, berth_error **err)
{
	struct winsize ws;
	if (val(b, O_TTY)->b && isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0)
		json_object_set_new(b->hc, "ConsoleSize", json_pack("[i, i]", ws.ws_row, ws.ws_col));
	return 0;
}

static int step_plan(build_ctx *b, berth_error **err)
{
	berth_create_plan *p = b->plan;
	bool run = b->o->cmd == BERTH_CREATE_CMD_RUN;
	p->name = val(b, O_NAME)->s;
	p->platform = val(b, O_PLATFORM)->s;
	p->pull = val(b, run ? O_PULL_RUN : O_PULL_CREATE)->s;
	p->cidfile = val(b, O_CIDFILE)->s;
	p->quiet = val(b, O_QUIET)->b;
	p->detach = val(b, O_DETACH)->b;
	p->sig_proxy = val(b, O_SIG_PROXY)->b;
	p->detach_keys = val(b, O_DETACH_KEYS)->s;
	if (strcmp(p->pull, "always") && strcmp(p->pull, "missing") && strcmp(p->pull, "never") &&
	    *p->pull)
		return berth_error_set(err, 400, "invalid pull option: '%s': must be one of \"always\", "
						 "\"missing\" or \"never\"", p->pull);
	return 0;
}

typedef int (*build_step)(build_ctx *b, berth_error **err);

/* In docker's order of validation (opts.go's parse), so that the first error
 * reported is docker's. */
static const build_step steps[] = {
	step_plan,     step_stdio,    step_command, step_table,	   step_resources, step_caps,
	step_extra_hosts,
	step_volumes,  step_tmpfs,    step_mounts,  step_ports,	   step_devices,
	step_env,      step_labels,   step_namespaces, step_restart, step_logging,
	step_security, step_storage,  step_health,  step_blkio,	   step_ulimits,
	step_gpus,     step_network,  step_console,
};

int berth_create_opts_build(berth_create_opts *o, const berth_strlist *args,
			    berth_create_plan *plan, berth_error **err)
{
	*plan = (berth_create_plan){0};
	plan->body = json_object();
	build_ctx b = {.o = o, .args = args, .body = plan->body, .plan = plan};
	b.hc = json_object();
	json_object_set_new(plan->body, "HostConfig", b.hc);
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(steps); i++)
		if (steps[i](&b, err) < 0)
			return -1;
	return 0;
}

int berth_create_opts_update(berth_create_opts *o, json_t **body, berth_error **err)
{
	berth_create_plan plan = {.body = json_object()};
	build_ctx b = {.o = o, .body = plan.body, .plan = &plan, .hc = json_object()};
	json_object_set_new(plan.body, "HostConfig", b.hc);
	bool any = false;
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(update_opts); i++)
		any = any || changed(o, update_opts[i]);
	int rc = 0;
	if (!any)
		rc = berth_error_set(err, 400, "you must provide one or more flags when using this command");
	else if (step_table(&b, err) < 0 || (changed(o, O_RESTART) && step_restart(&b, err) < 0))
		rc = -1;
	if (rc == 0)
		*body = json_incref(b.hc);
	berth_create_plan_reset(&plan);
	return rc;
}

void berth_create_plan_reset(berth_create_plan *plan)
{
	json_decref(plan->body);
	plan->body = NULL;
}
