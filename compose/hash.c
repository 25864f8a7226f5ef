/*
 * hash.c - com.docker.compose.config-hash exactly as Docker Compose v2 (and
 * v5) computes it, so that a project started by either is left alone by the
 * other: sha256 of encoding/json's rendering of compose-go's ServiceConfig
 * with build, pull_policy, scale, deploy.replicas, depends_on and profiles
 * cleared (docker/compose pkg/compose/hash.go ServiceHash).
 *
 * encoding/json writes struct fields in declaration order (dropping the
 * omitempty ones that are zero: "", 0, false, nil or empty slices and maps,
 * but never a struct value), map keys sorted, nil pointers as null, and
 * escapes <, > and & in strings. The tables below are compose-go's structs in
 * their order; each field says how its Go type renders (UnitBytes as a
 * quoted number, Duration as Go's String(), HostsList as sorted "host=ip").
 * The structs are compose-go v2's, which Docker Compose v2 (and v5) build
 * with: a bind's create_host_path is a plain bool there (compose-go v3's
 * OptOut would leave out the true that short syntax sets).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef enum gokind {
	G_STR,    /* string, omitempty */
	G_INT,    /* int64, omitempty */
	G_BOOL,   /* bool, omitempty */
	G_F32,    /* float32 (cpus, NanoCPUs), omitempty */
	G_PTR,    /* *bool, *int, *uint64: present means emitted, even 0 or false */
	G_LIST,   /* []string, StringList, StringOrNumberList, omitempty */
	G_CMD,    /* ShellCommand: no omitempty, absent is null */
	G_MAP,    /* map[string]string (Labels, Mapping, Options), sorted */
	G_ENV,    /* MappingWithEquals: map[string]*string, null kept */
	G_BYTES,  /* UnitBytes: "%d" quoted, omitempty */
	G_DUR,    /* *Duration: Go's time.Duration.String(), quoted */
	G_DURV,   /* Duration value, omitempty (0 omitted) */
	G_HOSTS,  /* HostsList: sorted "host=ip" strings */
	G_OBJ,    /* *struct: absent is omitted, present is an object even if empty */
	G_VOBJ,   /* struct value: always emitted */
	G_OBJS,   /* []struct, omitempty */
	G_OBJMAP, /* map[string]*struct, sorted, null values kept */
	G_ULIMIT, /* map[string]*UlimitsConfig: a number, or {soft, hard} */
	G_MODE,   /* *FileMode: "0%o" quoted */
} gokind;

typedef struct gofield {
	const char *name;
	gokind kind;
	const struct gofield *sub; /* G_OBJ, G_VOBJ, G_OBJS, G_OBJMAP */
} gofield;

#define END {NULL, G_STR, NULL}

static const gofield resource_fields[] = {
	{"cpus", G_F32}, {"memory", G_BYTES}, {"pids", G_INT}, END};
static const gofield resources_fields[] = {
	{"limits", G_OBJ, resource_fields}, {"reservations", G_OBJ, resource_fields}, END};
static const gofield update_fields[] = {
	{"parallelism", G_PTR}, {"delay", G_DURV}, {"failure_action", G_STR},
	{"monitor", G_DURV}, {"max_failure_ratio", G_F32}, {"order", G_STR}, END};
static const gofield restart_policy_fields[] = {
	{"condition", G_STR}, {"delay", G_DUR}, {"max_attempts", G_PTR}, {"window", G_DUR}, END};
static const gofield preference_fields[] = {{"spread", G_STR}, END};
static const gofield placement_fields[] = {
	{"constraints", G_LIST}, {"preferences", G_OBJS, preference_fields},
	{"max_replicas_per_node", G_INT}, END};
/* replicas is cleared by ServiceHash */
static const gofield deploy_fields[] = {
	{"mode", G_STR}, {"labels", G_MAP}, {"update_config", G_OBJ, update_fields},
	{"rollback_config", G_OBJ, update_fields}, {"resources", G_VOBJ, resources_fields},
	{"restart_policy", G_OBJ, restart_policy_fields},
	{"placement", G_VOBJ, placement_fields}, {"endpoint_mode", G_STR}, END};

static const gofield fileref_fields[] = {
	{"source", G_STR}, {"target", G_STR}, {"uid", G_STR}, {"gid", G_STR}, {"mode", G_MODE},
	END};
static const gofield health_fields[] = {
	{"test", G_LIST}, {"timeout", G_DUR}, {"interval", G_DUR}, {"retries", G_PTR},
	{"start_period", G_DUR}, {"start_interval", G_DUR}, {"disable", G_BOOL}, END};
static const gofield logging_fields[] = {{"driver", G_STR}, {"options", G_MAP}, END};
static const gofield network_fields[] = {
	{"aliases", G_LIST}, {"driver_opts", G_MAP}, {"gw_priority", G_INT},
	{"interface_name", G_STR}, {"ipv4_address", G_STR}, {"ipv6_address", G_STR},
	{"link_local_ips", G_LIST}, {"mac_address", G_STR}, {"priority", G_INT}, END};
static const gofield port_fields[] = {
	{"name", G_STR}, {"mode", G_STR}, {"host_ip", G_STR}, {"target", G_INT},
	{"published", G_STR}, {"protocol", G_STR}, {"app_protocol", G_STR}, END};
static const gofield bind_fields[] = {
	{"selinux", G_STR}, {"propagation", G_STR}, {"create_host_path", G_BOOL},
	{"recursive", G_STR}, END};
static const gofield volvol_fields[] = {
	{"labels", G_MAP}, {"nocopy", G_BOOL}, {"subpath", G_STR}, END};
static const gofield tmpfs_fields[] = {{"size", G_BYTES}, {"mode", G_INT}, END};
static const gofield image_fields[] = {{"subpath", G_STR}, END};
static const gofield volume_fields[] = {
	{"type", G_STR}, {"source", G_STR}, {"target", G_STR}, {"read_only", G_BOOL},
	{"consistency", G_STR}, {"bind", G_OBJ, bind_fields}, {"volume", G_OBJ, volvol_fields},
	{"tmpfs", G_OBJ, tmpfs_fields}, {"image", G_OBJ, image_fields}, END};
static const gofield device_fields[] = {
	{"source", G_STR}, {"target", G_STR}, {"permissions", G_STR}, END};
static const gofield ulimit_fields[] = {{"soft", G_INT}, {"hard", G_INT}, END};
static const gofield credspec_fields[] = {
	{"config", G_STR}, {"file", G_STR}, {"registry", G_STR}, END};
/* WeightDevice and ThrottleDevice have no json tags: Go's field names */
static const gofield weight_fields[] = {{"Path", G_STR}, {"Weight", G_INT}, END};
static const gofield throttle_fields[] = {{"Path", G_STR}, {"Rate", G_BYTES}, END};
static const gofield blkio_fields[] = {
	{"weight", G_INT}, {"weight_device", G_OBJS, weight_fields},
	{"device_read_bps", G_OBJS, throttle_fields}, {"device_read_iops", G_OBJS, throttle_fields},
	{"device_write_bps", G_OBJS, throttle_fields},
	{"device_write_iops", G_OBJS, throttle_fields}, END};

/* compose-go types.ServiceConfig in declaration order. Cleared by ServiceHash
 * or never in the model here: profiles, build, depends_on, pull_policy,
 * scale, env_file (WithDiscardEnvFile), extends (resolved while loading). */
static const gofield service_fields[] = {
	{"annotations", G_MAP}, {"attach", G_PTR}, {"cap_add", G_LIST}, {"cap_drop", G_LIST},
	{"blkio_config", G_OBJ, blkio_fields}, {"cgroup_parent", G_STR}, {"cgroup", G_STR}, {"cpu_count", G_INT},
	{"cpu_percent", G_F32}, {"cpu_period", G_INT}, {"cpu_quota", G_INT},
	{"cpu_rt_period", G_INT}, {"cpu_rt_runtime", G_INT}, {"cpus", G_F32},
	{"cpuset", G_STR}, {"cpu_shares", G_INT}, {"command", G_CMD},
	{"configs", G_OBJS, fileref_fields}, {"container_name", G_STR},
	{"credential_spec", G_OBJ, credspec_fields}, {"deploy", G_OBJ, deploy_fields}, {"device_cgroup_rules", G_LIST},
	{"devices", G_OBJS, device_fields}, {"dns", G_LIST}, {"dns_opt", G_LIST},
	{"dns_search", G_LIST}, {"domainname", G_STR}, {"entrypoint", G_CMD},
	{"environment", G_ENV}, {"expose", G_LIST}, {"external_links", G_LIST},
	{"extra_hosts", G_HOSTS}, {"group_add", G_LIST}, {"hostname", G_STR},
	{"healthcheck", G_OBJ, health_fields}, {"image", G_STR}, {"init", G_PTR},
	{"ipc", G_STR}, {"isolation", G_STR}, {"labels", G_MAP}, {"links", G_LIST},
	{"logging", G_OBJ, logging_fields}, {"mem_limit", G_BYTES},
	{"mem_reservation", G_BYTES}, {"memswap_limit", G_BYTES}, {"mem_swappiness", G_BYTES},
	{"mac_address", G_STR}, {"network_mode", G_STR},
	{"networks", G_OBJMAP, network_fields}, {"oom_kill_disable", G_BOOL},
	{"oom_score_adj", G_INT}, {"pid", G_STR}, {"pids_limit", G_INT}, {"platform", G_STR},
	{"ports", G_OBJS, port_fields}, {"privileged", G_BOOL}, {"read_only", G_BOOL},
	{"restart", G_STR}, {"runtime", G_STR}, {"secrets", G_OBJS, fileref_fields},
	{"security_opt", G_LIST}, {"shm_size", G_BYTES}, {"stdin_open", G_BOOL},
	{"stop_grace_period", G_DUR}, {"stop_signal", G_STR}, {"storage_opt", G_MAP},
	{"sysctls", G_MAP}, {"tmpfs", G_LIST}, {"tty", G_BOOL}, {"ulimits", G_ULIMIT},
	{"use_api_socket", G_BOOL}, {"user", G_STR}, {"userns_mode", G_STR}, {"uts", G_STR},
	{"volume_driver", G_STR}, {"volumes", G_OBJS, volume_fields},
	{"volumes_from", G_LIST}, {"working_dir", G_STR}, END};

/* ------------------------------------------------------------ Go's output */

static void go_string(berth_buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	berth_buf_puts(b, "\"");
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		unsigned char c = *p;
		if (c == '"' || c == '\\') {
			char e[2] = {'\\', (char)c};
			berth_buf_append(b, e, 2);
		} else if (c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f') {
			char e[2] = {'\\', c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\t' ? 't'
								    : c == '\b' ? 'b' : 'f'};
			berth_buf_append(b, e, 2);
		} else if (c < 0x20 || c == '<' || c == '>' || c == '&') {
			char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
			berth_buf_append(b, e, 6);
		} else if (c == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9)) {
			berth_buf_puts(b, p[2] == 0xa8 ? "\\u2028" : "\\u2029");
			p += 2;
		} else {
			berth_buf_append(b, &c, 1);
		}
	}
	berth_buf_puts(b, "\"");
}

/* strconv.FormatFloat(f, 'f', -1, 32): the fewest digits that read back as
 * the same float32, in fixed notation (cpus never reach 1e21 or 1e-6). */
static void go_float32(berth_buf *b, float f)
{
	char e[32];
	int prec = 1;
	for (; prec < 9; prec++) {
		snprintf(e, sizeof(e), "%.*e", prec - 1, (double)f);
		if (strtof(e, NULL) == f)
			break;
	}
	snprintf(e, sizeof(e), "%.*e", prec - 1, (double)f);
	char digits[16];
	size_t nd = 0;
	const char *p = e;
	if (*p == '-') {
		berth_buf_puts(b, "-");
		p++;
	}
	for (; *p && *p != 'e'; p++)
		if (*p != '.')
			digits[nd++] = *p;
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	int exp = atoi(p + 1);
	if (exp < 0) {
		berth_buf_puts(b, "0.");
		for (int i = 0; i < -exp - 1; i++)
			berth_buf_puts(b, "0");
		berth_buf_append(b, digits, nd);
		return;
	}
	for (int i = 0; i <= exp || (size_t)i < nd; i++) {
		if (i == exp + 1)
			berth_buf_puts(b, ".");
		berth_buf_append(b, (size_t)i < nd ? &digits[i] : "0", 1);
	}
}

/* The model keeps some numbers as text ("1024" for sizes, "2" after
 * interpolation): their value, or 0 for what is not a number. */
static long long number_of(const json_t *v)
{
	if (json_is_integer(v))
		return json_integer_value(v);
	if (json_is_real(v))
		return (long long)json_real_value(v);
	if (json_is_true(v))
		return 1;
	long long n = 0;
	if (json_is_string(v) && compose_parse_size(json_string_value(v), &n) < 0)
		n = 0;
	return n;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void emit_struct(berth_buf *b, const json_t *obj, const gofield *fields);
static bool emit_value(berth_buf *b, const json_t *v, const gofield *f);

static void emit_list(berth_buf *b, const json_t *v)
{
	berth_buf_puts(b, "[");
	size_t i;
	const json_t *item;
	json_array_foreach(v, i, item) {
		char *s cleanup_free = compose_scalar_text(item);
		if (i)
			berth_buf_puts(b, ",");
		go_string(b, s ? s : "");
	}
	berth_buf_puts(b, "]");
}

/* map[string]X: sorted keys, each value by f (or null/string for maps of text). */
static void emit_map(berth_buf *b, const json_t *v, const gofield *f)
{
	size_t n;
	const char **keys cleanup_free = berth_json_sorted_keys(v, &n);
	berth_buf_puts(b, "{");
	for (size_t i = 0; i < n; i++) {
		const json_t *item = json_object_get(v, keys[i]);
		if (i)
			berth_buf_puts(b, ",");
		go_string(b, keys[i]);
		berth_buf_puts(b, ":");
		char *s cleanup_free = compose_scalar_text(item);
		if (f->kind == G_OBJMAP && json_is_object(item))
			emit_struct(b, item, f->sub);
		else if (f->kind == G_ULIMIT && json_is_object(item))
			emit_struct(b, item, ulimit_fields);
		else if (f->kind == G_ULIMIT)
			berth_buf_printf(b, "%lld", number_of(item));
		else if (s == NULL && f->kind != G_MAP)
			berth_buf_puts(b, "null");
		else
			go_string(b, s ? s : "");
	}
	berth_buf_puts(b, "}");
}

/* extra_hosts: the model keeps "host=ip" or "host:ip" strings; Go renders
 * every one as "host=ip" (brackets off IPv6 addresses), sorted. */
static void emit_hosts(berth_buf *b, const json_t *v)
{
	size_t n = json_array_size(v);
	char **items = berth_xcalloc(n + 1, sizeof(*items));
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		char *s = compose_scalar_text(json_array_get(v, i));
		if (s == NULL)
			continue;
		char *sep = strpbrk(s, "=:");
		if (sep)
			*sep = '=';
		size_t len = strlen(s);
		if (sep && sep[1] == '[' && len > 0 && s[len - 1] == ']') {
			memmove(sep + 1, sep + 2, len - (size_t)(sep - s) - 3);
			s[len - 2] = '\0';
		}
		items[k++] = s;
	}
	qsort(items, k, sizeof(*items), cmp_str);
	berth_buf_puts(b, "[");
	for (size_t i = 0; i < k; i++) {
		if (i)
			berth_buf_puts(b, ",");
		go_string(b, items[i]);
	}
	berth_buf_puts(b, "]");
	berth_strv_free(items);
}

/* devices' short syntax "SRC[:DST[:PERMS]]", as compose-go expands it */
static json_t *device_long(const char *spec)
{
	char **parts = berth_str_split(spec, ':');
	size_t n = berth_strv_len(parts);
	json_t *d = json_pack("{ss ss ss}", "source", parts[0], "target", n > 1 ? parts[1] : parts[0],
			      "permissions", n > 2 ? parts[2] : "rwm");
	berth_strv_free(parts);
	return d;
}

static bool emit_duration(berth_buf *b, const json_t *v, bool omit_zero)
{
	int64_t ns = 0;
	if (json_is_integer(v))
		ns = json_integer_value(v) * 1000000000LL;
	else if (!json_is_string(v) || berth_duration_parse(json_string_value(v), &ns, NULL) < 0)
		return false;
	if (omit_zero && ns == 0)
		return false;
	berth_buf_puts(b, "\"");
	berth_go_duration(b, ns);
	berth_buf_puts(b, "\"");
	return true;
}

/* Writes v as f's Go type would be written; false when omitempty drops it. */
static bool emit_value(berth_buf *b, const json_t *v, const gofield *f)
{
	if (v == NULL || json_is_null(v))
		v = NULL;
	if (f->kind == G_CMD) {
		if (json_is_array(v))
			emit_list(b, v);
		else
			berth_buf_puts(b, "null");
		return true;
	}
	if (f->kind == G_VOBJ) {
		emit_struct(b, json_is_object(v) ? v : NULL, f->sub);
		return true;
	}
	if (v == NULL)
		return false;
	switch (f->kind) {
	case G_STR: {
		char *s cleanup_free = compose_scalar_text(v);
		if (s == NULL || *s == '\0')
			return false;
		go_string(b, s);
		return true;
	}
	case G_INT:
	case G_BYTES: {
		long long n = number_of(v);
		if (n == 0)
			return false;
		berth_buf_printf(b, f->kind == G_BYTES ? "\"%lld\"" : "%lld", n);
		return true;
	}
	case G_BOOL:
		if (!json_is_true(v))
			return false;
		berth_buf_puts(b, "true");
		return true;
	case G_F32: {
		char *s cleanup_free = compose_scalar_text(v);
		float f32 = s ? strtof(s, NULL) : 0;
		if (f32 == 0)
			return false;
		go_float32(b, f32);
		return true;
	}
	case G_PTR:
		if (json_is_boolean(v))
			berth_buf_puts(b, json_is_true(v) ? "true" : "false");
		else
			berth_buf_printf(b, "%lld", number_of(v));
		return true;
	case G_LIST:
		if (json_is_string(v)) {
			berth_buf_puts(b, "[");
			go_string(b, json_string_value(v));
			berth_buf_puts(b, "]");
			return true;
		}
		if (json_array_size(v) == 0)
			return false;
		emit_list(b, v);
		return true;
	case G_HOSTS:
		if (json_array_size(v) == 0)
			return false;
		emit_hosts(b, v);
		return true;
	case G_MAP:
	case G_ENV:
	case G_OBJMAP:
	case G_ULIMIT:
		if (json_object_size(v) == 0)
			return false;
		emit_map(b, v, f);
		return true;
	case G_DUR:
		return emit_duration(b, v, false);
	case G_DURV:
		return emit_duration(b, v, true);
	case G_OBJ:
		if (!json_is_object(v))
			return false;
		emit_struct(b, v, f->sub);
		return true;
	case G_OBJS: {
		if (json_array_size(v) == 0)
			return false;
		berth_buf_puts(b, "[");
		size_t i;
		const json_t *item;
		json_array_foreach(v, i, item) {
			if (i)
				berth_buf_puts(b, ",");
			json_t *dev cleanup_json = NULL;
			if (json_is_string(item) && f->sub == device_fields)
				item = dev = device_long(json_string_value(item));
			emit_struct(b, json_is_object(item) ? item : NULL, f->sub);
		}
		berth_buf_puts(b, "]");
		return true;
	}
	case G_MODE:
		berth_buf_printf(b, "\"0%llo\"", (unsigned long long)number_of(v));
		return true;
	default:
		return false;
	}
}

static void emit_struct(berth_buf *b, const json_t *obj, const gofield *fields)
{
	berth_buf_puts(b, "{");
	bool first = true;
	for (const gofield *f = fields; f->name; f++) {
		size_t mark = b->len;
		berth_buf_printf(b, "%s\"%s\":", first ? "" : ",", f->name);
		if (emit_value(b, json_object_get(obj, f->name), f)) {
			first = false;
		} else {
			b->len = mark;
			b->data[mark] = '\0';
		}
	}
	berth_buf_puts(b, "}");
}

char *compose_service_hash_json(const json_t *service)
{
	berth_buf b cleanup_buf = {0};
	emit_struct(&b, service, service_fields);
	return berth_buf_steal(&b);
}

void berth_compose_config_hash(const json_t *service, char out[65])
{
	char *s cleanup_free = compose_service_hash_json(service);
	berth_sha256_hex(s, strlen(s), out);
}
