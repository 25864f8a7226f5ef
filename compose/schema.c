/*
 * schema.c - the Compose Specification's field names and types, checked on
 * each file before anything else reads it. Messages are Compose's:
 * "services.web additional properties 'foo' not allowed",
 * "services.web.ports must be a list", prefixed with file:line.
 */
#include <string.h>

#include "internal.h"

enum { TS = 1, TI = 2, TN = 4, TB = 8, TL = 16, TM = 32, TA = 63 };
#define TLM (TL | TM)
#define TSL (TS | TL)
#define TSM (TS | TM)
#define TSN (TS | TI | TN)

typedef struct schema schema;
typedef struct field {
	const char *name;
	int types;
	const schema *sub;   /* fields of a mapping value */
} field;

struct schema {
	const field *fields;    /* NULL-name terminated; NULL: any keys */
	bool x_ok;              /* x- extensions allowed */
	const schema *each;     /* every value is an object of this schema */
};

static const field build_fields[] = {
	{"context", TS}, {"dockerfile", TS}, {"dockerfile_inline", TS}, {"args", TLM},
	{"target", TS}, {"labels", TLM}, {"cache_from", TL}, {"cache_to", TL}, {"network", TS},
	{"ssh", TLM}, {"secrets", TL}, {"tags", TL}, {"platforms", TL}, {"extra_hosts", TLM},
	{"shm_size", TSN}, {"no_cache", TB}, {"pull", TB}, {"additional_contexts", TLM},
	{"isolation", TS}, {"privileged", TB}, {"ulimits", TM}, {NULL}};
static const schema build_schema = {build_fields, true};

static const field health_fields[] = {
	{"test", TSL}, {"interval", TS}, {"timeout", TS}, {"retries", TI | TN | TS},
	{"start_period", TS}, {"start_interval", TS}, {"disable", TB}, {NULL}};
static const schema health_schema = {health_fields, true};

static const field deploy_fields[] = {
	{"mode", TS}, {"replicas", TI | TS}, {"resources", TM}, {"restart_policy", TM},
	{"labels", TLM}, {"placement", TM}, {"update_config", TM}, {"rollback_config", TM},
	{"endpoint_mode", TS}, {NULL}};
static const schema deploy_schema = {deploy_fields, true};

static const field logging_fields[] = {{"driver", TS}, {"options", TM}, {NULL}};
static const schema logging_schema = {logging_fields, true};

static const field extends_fields[] = {{"service", TS}, {"file", TS}, {NULL}};
static const schema extends_schema = {extends_fields, false};

static const field service_fields[] = {
	{"annotations", TLM}, {"attach", TB}, {"blkio_config", TM}, {"build", TSM, &build_schema},
	{"cap_add", TL}, {"cap_drop", TL}, {"cgroup", TS}, {"cgroup_parent", TS},
	{"command", TSL}, {"configs", TL}, {"container_name", TS}, {"cpu_count", TI | TS},
	{"cpu_percent", TI | TS}, {"cpu_shares", TSN}, {"cpu_quota", TSN}, {"cpu_period", TSN},
	{"cpu_rt_period", TSN}, {"cpu_rt_runtime", TSN}, {"cpus", TSN}, {"cpuset", TS},
	{"credential_spec", TM}, {"depends_on", TLM}, {"deploy", TM, &deploy_schema},
	{"develop", TM}, {"device_cgroup_rules", TL}, {"devices", TL}, {"dns", TSL},
	{"dns_opt", TL}, {"dns_search", TSL}, {"domainname", TS}, {"entrypoint", TSL},
	{"env_file", TSL}, {"environment", TLM}, {"expose", TL}, {"extends", TSM, &extends_schema},
	{"external_links", TL}, {"extra_hosts", TLM}, {"group_add", TL},
	{"healthcheck", TM, &health_schema}, {"hostname", TS}, {"image", TS}, {"init", TB},
	{"ipc", TS}, {"isolation", TS}, {"labels", TLM}, {"links", TL},
	{"logging", TM, &logging_schema}, {"mac_address", TS}, {"mem_limit", TSN},
	{"mem_reservation", TSN}, {"mem_swappiness", TSN}, {"memswap_limit", TSN},
	{"network_mode", TS}, {"networks", TLM}, {"oom_kill_disable", TB},
	{"oom_score_adj", TSN}, {"pid", TS}, {"pids_limit", TSN}, {"platform", TS},
	{"ports", TL}, {"privileged", TB}, {"profiles", TL}, {"pull_policy", TS},
	{"read_only", TB}, {"restart", TS}, {"runtime", TS}, {"scale", TI | TS},
	{"secrets", TL}, {"security_opt", TL}, {"shm_size", TSN}, {"stdin_open", TB},
	{"stop_grace_period", TS}, {"stop_signal", TS}, {"storage_opt", TM}, {"sysctls", TLM},
	{"tmpfs", TSL}, {"tty", TB}, {"ulimits", TM}, {"user", TS}, {"userns_mode", TS},
	{"uts", TS}, {"volumes", TL}, {"volumes_from", TL}, {"working_dir", TS}, {NULL}};
static const schema service_schema = {service_fields, true};

static const field network_fields[] = {
	{"driver", TS}, {"driver_opts", TM}, {"ipam", TM}, {"external", TB | TM},
	{"internal", TB}, {"attachable", TB}, {"labels", TLM}, {"name", TS},
	{"enable_ipv6", TB}, {NULL}};
static const schema network_schema = {network_fields, true};

static const field volume_fields[] = {
	{"driver", TS}, {"driver_opts", TM}, {"external", TB | TM}, {"labels", TLM},
	{"name", TS}, {NULL}};
static const schema volume_schema = {volume_fields, true};

static const field secret_fields[] = {
	{"file", TS}, {"environment", TS}, {"content", TS}, {"external", TB | TM},
	{"name", TS}, {"labels", TLM}, {"driver", TS}, {"driver_opts", TM},
	{"template_driver", TS}, {NULL}};
static const schema secret_schema = {secret_fields, true};

static const schema services_schema = {NULL, false, &service_schema};
static const schema networks_schema = {NULL, false, &network_schema};
static const schema volumes_schema = {NULL, false, &volume_schema};
static const schema secrets_schema = {NULL, false, &secret_schema};

static const field top_fields[] = {
	{"version", TS | TN | TI}, {"name", TS}, {"services", TM, &services_schema},
	{"networks", TM, &networks_schema}, {"volumes", TM, &volumes_schema},
	{"secrets", TM, &secrets_schema}, {"configs", TM, &secrets_schema}, {"include", TL},
	{NULL}};
static const schema top_schema = {top_fields, true};

static const char *const type_names[] = {"string", "integer", "number", "boolean", "list",
					 "mapping"};

static int json_type_bit(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_STRING: return TS;
	case JSON_INTEGER: return TI | TN;
	case JSON_REAL: return TN;
	case JSON_TRUE:
	case JSON_FALSE: return TB;
	case JSON_ARRAY: return TL;
	case JSON_OBJECT: return TM;
	default: return 0;
	}
}

static int type_error(const compose_pos *pos, const char *path, int types, berth_error **err)
{
	berth_buf b cleanup_buf = {0};
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(type_names); i++)
		if (types & (1 << i))
			berth_buf_printf(&b, "%s%s", b.len ? " or " : "", type_names[i]);
	return compose_error_at(err, pos, path, "%s must be a %s", path, b.data);
}

static int check(const schema *s, const json_t *obj, const compose_pos *pos, const char *path,
		 berth_error **err);

static int check_value(const field *f, const json_t *v, const compose_pos *pos, const char *path,
		       berth_error **err)
{
	/* null is "not set"; strings may become numbers or booleans once
	 * interpolated, so they are checked after interpolation */
	int bit = json_type_bit(v);
	if (bit == 0)
		return 0;
	if (!(bit & f->types) && !(bit == TS && (f->types & (TI | TN | TB))))
		return type_error(pos, path, f->types, err);
	if (f->sub && json_is_object(v))
		return check(f->sub, v, pos, path, err);
	return 0;
}

static int check(const schema *s, const json_t *obj, const compose_pos *pos, const char *path,
		 berth_error **err)
{
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)obj, k, v) {
		char *sub cleanup_free = *path ? berth_xasprintf("%s.%s", path, k) : berth_xstrdup(k);
		if (s->each) {
			if (!json_is_object(v) && !json_is_null(v))
				return compose_error_at(err, pos, sub, "%s must be a mapping", sub);
			if (json_is_object(v) && check(s->each, v, pos, sub, err) < 0)
				return -1;
			continue;
		}
		if (s->fields == NULL || (s->x_ok && berth_str_has_prefix(k, "x-")))
			continue;
		const field *f = s->fields;
		while (f->name && strcmp(f->name, k) != 0)
			f++;
		if (f->name == NULL)
			return compose_error_at(err, pos, sub, "%s additional properties '%s' not allowed",
						*path ? path : "(root)", k);
		if (check_value(f, v, pos, sub, err) < 0)
			return -1;
	}
	return 0;
}

int compose_schema_check(const json_t *doc, const compose_pos *pos, berth_error **err)
{
	return check(&top_schema, doc, pos, "", err);
}
