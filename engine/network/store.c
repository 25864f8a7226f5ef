/*
 * store.c - the networks: records on disk, the built-in bridge, host and
 * none networks, create/remove/prune/list/inspect, events.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define DEFAULT_BRIDGE "berth0"
#define DEFAULT_BIP "172.17.0.1/16"
#define OPT_BRIDGE_NAME "com.docker.network.bridge.name"
#define OPT_MTU "com.docker.network.driver.mtu"

/* An address pool networks without --subnet are cut from. */
typedef struct pool {
	uint32_t lo, hi;
	int size;
} pool;

/* dockerd's defaults: 172.17-31.0.0/16, then 192.168.0.0/20 blocks. */
static const pool default_pools[] = {
	{0xac110000u, 0xac1fffffu, 16},
	{0xc0a80000u, 0xc0a8ffffu, 20},
};

static void net_free(net_network *n)
{
	free(n->name);
	json_decref(n->record);
	free(n);
}

/* Fills the parsed fields from the record's IPAM and Options. */
static int net_parse(net_network *n, berth_error **err)
{
	const json_t *r = n->record;
	snprintf(n->id, sizeof(n->id), "%s", berth_json_string(r, "Id") ?: "");
	n->name = berth_xstrdup(berth_json_string(r, "Name") ?: "");
	const char *driver = berth_json_string(r, "Driver") ?: "bridge";
	n->is_bridge = strcmp(driver, "bridge") == 0;
	n->internal = json_is_true(json_object_get(r, "Internal"));
	const json_t *opts = json_object_get(r, "Options");
	n->is_default = strcmp(berth_json_string(opts, "com.docker.network.bridge.default_bridge") ?: "",
			       "true") == 0;
	n->builtin = n->is_default || !n->is_bridge;
	if (!n->is_bridge)
		return 0;
	/* dockerd's name unless -o com.docker.network.bridge.name says otherwise
	 * (not written into Options, which show what the user gave) */
	const char *br = berth_json_string(opts, OPT_BRIDGE_NAME);
	if (br && *br)
		snprintf(n->bridge, sizeof(n->bridge), "%s", br);
	else
		snprintf(n->bridge, sizeof(n->bridge), "br-%.12s", n->id);
	const char *mtu = berth_json_string(opts, OPT_MTU);
	n->mtu = mtu ? atoi(mtu) : 0;
	const json_t *cfg = json_array_get(json_object_get(json_object_get(r, "IPAM"), "Config"), 0);
	if (net_parse_cidr(berth_json_string(cfg, "Subnet"), &n->subnet, &n->prefix, err) < 0)
		return -1;
	n->subnet &= net_mask(n->prefix);
	const char *gw = berth_json_string(cfg, "Gateway");
	if (gw && *gw) {
		if (net_parse_ip(gw, &n->gateway, err) < 0)
			return -1;
	} else {
		n->gateway = n->subnet + 1;
	}
	n->range_lo = n->subnet + 1;
	n->range_hi = (n->subnet | ~net_mask(n->prefix)) - 1;
	const char *range = berth_json_string(cfg, "IPRange");
	if (range && *range) {
		uint32_t r0;
		int rp;
		if (net_parse_cidr(range, &r0, &rp, err) < 0)
			return -1;
		r0 &= net_mask(rp);
		if (rp < n->prefix || (r0 & net_mask(n->prefix)) != n->subnet)
			return berth_error_set(err, 400, "invalid ip-range %s: not in subnet", range);
		n->range_lo = r0 > n->subnet ? r0 : n->subnet + 1;
		n->range_hi = (r0 | ~net_mask(rp)) - ((r0 | ~net_mask(rp)) == (n->subnet | ~net_mask(n->prefix)));
	}
	return 0;
}

static char *record_path(berth_network_store *s, const char *id)
{
	return berth_xasprintf("%s/%s.json", s->dir, id);
}

static int net_save(berth_network_store *s, const net_network *n, berth_error **err)
{
	char *path cleanup_free = record_path(s, n->id);
	char *text cleanup_free = berth_json_dump(n->record);
	return berth_file_write_atomic(path, text, strlen(text), 0600, err);
}

net_network *net_find_exact(berth_network_store *s, const char *name_or_id)
{
	for (net_network *n = s->list; n; n = n->next)
		if (strcmp(n->id, name_or_id) == 0 || strcmp(n->name, name_or_id) == 0)
			return n;
	return NULL;
}

/* dockerd: full ID, then name, then a unique ID prefix. */
net_network *net_find(berth_network_store *s, const char *name_or_id)
{
	net_network *n = net_find_exact(s, name_or_id);
	if (n || *name_or_id == '\0')
		return n;
	net_network *found = NULL;
	for (n = s->list; n; n = n->next) {
		if (berth_str_has_prefix(n->id, name_or_id)) {
			if (found)
				return NULL;
			found = n;
		}
	}
	return found;
}

static int find_or_404(berth_network_store *s, const char *name, net_network **out,
		       berth_error **err)
{
	*out = net_find(s, name ? name : "");
	if (*out == NULL)
		return berth_error_set(err, 404, "network %s not found", name ? name : "");
	return 0;
}

void net_event(berth_network_store *s, net_network *n, const char *action, const char *container)
{
	json_t *attrs = json_pack("{s:s, s:s}", "name", n->name, "type",
				  berth_json_string(n->record, "Driver") ?: "bridge");
	if (container)
		json_object_set_new(attrs, "container", json_string(container));
	berth_events_publish(s->d->events, "network", action, n->id, attrs);
}

void net_fw_update(berth_network_store *s)
{
	char *rules = net_fw_rules(s);
	pthread_mutex_lock(&s->fw_lock);
	free(s->fw_rules);
	s->fw_rules = rules;
	pthread_mutex_unlock(&s->fw_lock);
}

static json_t *new_record(const char *name, const char *id, const char *driver)
{
	char now[64];
	berth_time_format_rfc3339(berth_time_now_ns(), now, sizeof(now));
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:{s:s, s:n, s:[]}, s:b, s:b, s:b,"
			 " s:{s:s}, s:b, s:{}, s:{}}",
			 "Name", name, "Id", id, "Created", now, "Scope", "local", "Driver", driver,
			 "EnableIPv6", false, "IPAM", "Driver", "default", "Options", "Config",
			 "Internal", false, "Attachable", false, "Ingress", false, "ConfigFrom",
			 "Network", "", "ConfigOnly", false, "Options", "Labels");
}

static net_network *net_add(berth_network_store *s, json_t *record, berth_error **err)
{
	net_network *n = berth_xcalloc(1, sizeof(*n));
	n->record = record;
	if (net_parse(n, err) < 0) {
		net_free(n);
		return NULL;
	}
	net_network **tail = &s->list;
	while (*tail)
		tail = &(*tail)->next;
	*tail = n;
	return n;
}

static void net_unlink(berth_network_store *s, net_network *n)
{
	for (net_network **p = &s->list; *p; p = &(*p)->next) {
		if (*p == n) {
			*p = n->next;
			n->next = NULL;
			return;
		}
	}
}

static bool overlaps(berth_network_store *s, uint32_t subnet, int prefix, const net_network *self)
{
	for (net_network *n = s->list; n; n = n->next) {
		if (n == self || !n->is_bridge)
			continue;
		int p = n->prefix < prefix ? n->prefix : prefix;
		if ((n->subnet & net_mask(p)) == (subnet & net_mask(p)))
			return true;
	}
	return false;
}

/* The daemon's pools (default-address-pools) or dockerd's defaults. */
static int next_subnet(berth_network_store *s, uint32_t *subnet, int *prefix, berth_error **err)
{
	const json_t *cfg = json_object_get(s->d->config->network, "default-address-pools");
	size_t npools = json_array_size(cfg);
	pool *pools cleanup_free = berth_xcalloc(npools ? npools : 1, sizeof(pool));
	for (size_t i = 0; i < npools; i++) {
		const json_t *p = json_array_get(cfg, i);
		uint32_t base;
		int bp;
		json_int_t size = json_integer_value(json_object_get(p, "size"));
		if (net_parse_cidr(berth_json_string(p, "base"), &base, &bp, err) < 0)
			return -1;
		if (size < bp || size > 30)
			return berth_error_set(err, 400, "invalid default-address-pools size %lld",
					       (long long)size);
		pools[i] = (pool){base & net_mask(bp), (base & net_mask(bp)) | ~net_mask(bp), (int)size};
	}
	const pool *use = npools ? pools : default_pools;
	size_t n = npools ? npools : BERTH_ARRAY_SIZE(default_pools);
	for (size_t i = 0; i < n; i++) {
		uint32_t step = 1u << (32 - use[i].size);
		for (uint64_t a = use[i].lo; a + step - 1 <= use[i].hi; a += step) {
			if (!overlaps(s, (uint32_t)a, use[i].size, NULL)) {
				*subnet = (uint32_t)a;
				*prefix = use[i].size;
				return 0;
			}
		}
	}
	return berth_error_set(err, 403, "could not find an available, non-overlapping IPv4 "
					 "address pool among the defaults to assign to the network");
}

/* ----------------------------------------------------------------- open */

static int load_records(berth_network_store *s, berth_error **err)
{
	DIR *dir = opendir(s->dir);
	if (dir == NULL)
		return berth_error_set_errno(err, errno, "open %s", s->dir);
	struct dirent *de;
	while ((de = readdir(dir)) != NULL) {
		size_t len = strlen(de->d_name);
		if (len < 6 || strcmp(de->d_name + len - 5, ".json") != 0)
			continue;
		char *path cleanup_free = berth_xasprintf("%s/%s", s->dir, de->d_name);
		char *data cleanup_free = NULL;
		json_t *rec = NULL;
		berth_error *e cleanup_error = NULL;
		if (berth_file_read_all(path, &data, &len, &e) < 0 ||
		    berth_json_parse_object(data, len, &rec, &e) < 0 || net_add(s, rec, &e) == NULL)
			berth_warn("network record %s: %s", path, e ? e->msg : "unreadable");
	}
	closedir(dir);
	return 0;
}

/* The default bridge as the daemon's options say now ("bip", "bridge",
 * "mtu", "fixed-cidr"), replacing the record of an earlier configuration. */
static int ensure_default_bridge(berth_network_store *s, berth_error **err)
{
	const json_t *cfg = s->d->config->network;
	const char *bridge = berth_json_string(cfg, "bridge") ?: DEFAULT_BRIDGE;
	net_network *old = net_find_exact(s, "bridge");
	if (strcmp(bridge, "none") == 0) {
		if (old) {
			char *path cleanup_free = record_path(s, old->id);
			unlink(path);
			net_unlink(s, old);
			net_free(old);
		}
		return 0;
	}
	const char *bip = berth_json_string(cfg, "bip") ?: DEFAULT_BIP;
	uint32_t gw;
	int prefix;
	if (net_parse_cidr(bip, &gw, &prefix, err) < 0)
		return berth_error_wrap(err, "bip");
	char *subnet cleanup_free = net_cidr_str(gw & net_mask(prefix), prefix);
	char *gateway cleanup_free = net_ip_str(gw);
	json_int_t mtu = json_integer_value(json_object_get(cfg, "mtu"));
	char *mtu_s cleanup_free = berth_xasprintf("%lld", (long long)(mtu > 0 ? mtu : 1500));
	char id[65];
	if (old)
		snprintf(id, sizeof(id), "%s", old->id);
	else
		berth_random_id(id);
	json_t *rec = new_record("bridge", id, "bridge");
	json_array_append_new(json_object_get(json_object_get(rec, "IPAM"), "Config"),
			      json_pack("{s:s, s:s}", "Subnet", subnet, "Gateway", gateway));
	const char *fixed = berth_json_string(cfg, "fixed-cidr");
	if (fixed && *fixed)
		json_object_set_new(json_array_get(json_object_get(json_object_get(rec, "IPAM"), "Config"), 0),
				    "IPRange", json_string(fixed));
	json_object_set_new(rec, "Options",
			    json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}",
				      "com.docker.network.bridge.default_bridge", "true",
				      "com.docker.network.bridge.enable_icc", "true",
				      "com.docker.network.bridge.enable_ip_masquerade", "true",
				      "com.docker.network.bridge.host_binding_ipv4", "0.0.0.0",
				      OPT_BRIDGE_NAME, bridge, OPT_MTU, mtu_s));
	if (old) {
		json_object_set(rec, "Created", json_object_get(old->record, "Created"));
		net_unlink(s, old);
		net_free(old);
	}
	net_network *n = net_add(s, rec, err);
	return n ? net_save(s, n, err) : -1;
}

static int ensure_builtin(berth_network_store *s, const char *name, berth_error **err)
{
	if (net_find_exact(s, name))
		return 0;
	char id[65];
	berth_random_id(id);
	net_network *n = net_add(s, new_record(name, id, strcmp(name, "none") == 0 ? "null" : name), err);
	return n ? net_save(s, n, err) : -1;
}

int berth_network_store_open(berth_daemon *d, berth_network_store **out, berth_error **err)
{
	berth_network_store *s = berth_xcalloc(1, sizeof(*s));
	*out = s;
	s->d = d;
	pthread_mutex_init(&s->fw_lock, NULL);
	const json_t *ipt = json_object_get(d->config->network, "iptables");
	s->firewall = ipt == NULL || json_is_true(ipt);
	s->dir = berth_xasprintf("%s/network", d->config->data_root);
	s->netns_dir = berth_xasprintf("%s/netns", d->config->exec_root);
	if (berth_mkdir_all(s->dir, 0700, err) < 0 || berth_mkdir_all(s->netns_dir, 0755, err) < 0 ||
	    load_records(s, err) < 0 || ensure_default_bridge(s, err) < 0 ||
	    ensure_builtin(s, "host", err) < 0 || ensure_builtin(s, "none", err) < 0)
		return -1;
	/* Bridges and the table exist from the start: berthd runs before the
	 * loop serves, so blocking here is fine. */
	for (net_network *n = s->list; n; n = n->next)
		if (n->is_bridge && nl_bridge_add(n->bridge, n->gateway, n->prefix, n->mtu, err) < 0)
			return -1;
	net_fw_update(s);
	return net_fw_apply(s, err);
}

void berth_network_store_close(berth_network_store *s)
{
	if (s == NULL)
		return;
	net_dns_close_all(s);
	/* Running containers keep their networking for the next berthd. */
	if (s->ctrs == NULL) {
		for (net_network *n = s->list; n; n = n->next)
			if (n->is_bridge)
				nl_link_del(n->bridge, NULL);
		net_fw_remove(s);
	}
	while (s->ctrs) {
		net_ctr *c = s->ctrs;
		s->ctrs = c->next;
		net_ports_free(c->ports);
		free(c->netns);
		free(c);
	}
	while (s->list) {
		net_network *n = s->list;
		s->list = n->next;
		while (n->eps) {
			net_endpoint *e = n->eps;
			n->eps = e->next;
			free(e->cname);
			free(e->hostname);
			json_decref(e->aliases);
			free(e);
		}
		net_free(n);
	}
	pthread_mutex_destroy(&s->fw_lock);
	free(s->fw_rules);
	free(s->dir);
	free(s->netns_dir);
	free(s);
}

/* ------------------------------------------------------- list, inspect */

static json_t *containers_of(const net_network *n)
{
	json_t *out = json_object();
	for (const net_endpoint *e = n->eps; e; e = e->next) {
		char *mac cleanup_free = net_mac_str(e->mac);
		char *ip cleanup_free = net_cidr_str(e->ip, n->prefix);
		json_object_set_new(out, e->container,
				    json_pack("{s:s, s:s, s:s, s:s, s:s}", "Name", e->cname,
					      "EndpointID", e->endpoint_id, "MacAddress", mac,
					      "IPv4Address", ip, "IPv6Address", ""));
	}
	return out;
}

static bool net_matches(const net_network *n, const berth_filters *f)
{
	if (f == NULL)
		return true;
	char *const *ids = berth_filters_get(f, "id");
	if (ids) {
		bool any = false;
		for (size_t i = 0; ids[i]; i++)
			any |= berth_str_has_prefix(n->id, ids[i]);
		if (!any)
			return false;
	}
	char *const *names = berth_filters_get(f, "name");
	if (names) {
		bool any = false;
		for (size_t i = 0; names[i]; i++)
			any |= strstr(n->name, names[i]) != NULL;
		if (!any)
			return false;
	}
	char *const *dangling = berth_filters_get(f, "dangling");
	if (dangling && dangling[0]) {
		bool want = strcmp(dangling[0], "true") == 0 || strcmp(dangling[0], "1") == 0;
		if (want != (n->eps == NULL && !n->builtin))
			return false;
	}
	return berth_filters_match(f, "driver", berth_json_string(n->record, "Driver")) &&
	       berth_filters_match(f, "scope", "local") &&
	       berth_filters_match(f, "type", n->builtin ? "builtin" : "custom") &&
	       berth_filters_match_labels(f, "label", json_object_get(n->record, "Labels"));
}

int berth_network_list(berth_network_store *s, const berth_filters *f, json_t **out,
		       berth_error **err)
{
	static const char *const allowed[] = {"driver", "id", "label", "name", "scope", "type",
					      "dangling", NULL};
	if (f && berth_filters_validate(f, allowed, err) < 0)
		return -1;
	const char *const *types = (const char *const *)(f ? berth_filters_get(f, "type") : NULL);
	for (size_t i = 0; types && types[i]; i++)
		if (strcmp(types[i], "custom") != 0 && strcmp(types[i], "builtin") != 0)
			return berth_error_set(err, 400, "invalid filter: 'type'='%s'", types[i]);
	json_t *arr = json_array();
	for (net_network *n = s->list; n; n = n->next) {
		if (!net_matches(n, f))
			continue;
		json_t *r = json_deep_copy(n->record);
		json_object_set_new(r, "Containers", json_object());
		json_array_append_new(arr, r);
	}
	*out = arr;
	return 0;
}

int berth_network_inspect(berth_network_store *s, const char *name, json_t **out,
			  berth_error **err)
{
	net_network *n;
	if (find_or_404(s, name, &n, err) < 0)
		return -1;
	json_t *r = json_deep_copy(n->record);
	json_object_set_new(r, "Containers", containers_of(n));
	*out = r;
	return 0;
}

/* ------------------------------------------------- create, remove, prune */

typedef enum op_kind { OP_CREATE, OP_REMOVE, OP_PRUNE } op_kind;

struct berth_network_op {
	op_kind kind;
	berth_network_store *s;
	net_network **nets;         /* created, or taken out of the list */
	size_t nnets;
	char *warning;
};

static berth_network_op *op_new(berth_network_store *s, op_kind kind)
{
	berth_network_op *op = berth_xcalloc(1, sizeof(*op));
	op->s = s;
	op->kind = kind;
	return op;
}

static void op_add(berth_network_op *op, net_network *n)
{
	op->nets = berth_xrealloc(op->nets, (op->nnets + 1) * sizeof(*op->nets));
	op->nets[op->nnets++] = n;
}

static int string_map(const json_t *body, const char *key, json_t **out, berth_error **err)
{
	json_t *v = json_object_get(body, key);
	*out = json_object();
	if (v == NULL || json_is_null(v))
		return 0;
	const char *k;
	json_t *x;
	if (!json_is_object(v))
		return berth_error_set(err, 400, "invalid JSON: %s must be an object", key);
	json_object_foreach(v, k, x) {
		if (!json_is_string(x))
			return berth_error_set(err, 400, "invalid JSON: %s.%s must be a string", key, k);
		json_object_set(*out, k, x);
	}
	return 0;
}

/* IPAM.Config[0] checked and completed (Subnet chosen from the pools). */
static int ipam_config(berth_network_store *s, const json_t *body, json_t **out,
		       berth_error **err)
{
	const json_t *ipam = json_object_get(body, "IPAM");
	const json_t *cfgs = json_object_get(ipam, "Config");
	const char *drv = berth_json_string(ipam, "Driver");
	if (drv && *drv && strcmp(drv, "default") != 0)
		return berth_error_set(err, 400, "IPAM driver %s is not supported", drv);
	json_t *cfg = json_object();
	*out = cfg;
	const json_t *c0 = json_array_get(cfgs, 0);
	if (json_array_size(cfgs) > 1) {
		/* IPv6 subnets are the only second config we accept to ignore */
		for (size_t i = 0; i < json_array_size(cfgs); i++)
			if (!strchr(berth_json_string(json_array_get(cfgs, i), "Subnet") ?: "", ':'))
				c0 = json_array_get(cfgs, i);
	}
	const char *subnet = berth_json_string(c0, "Subnet");
	uint32_t addr;
	int prefix;
	if (subnet && *subnet) {
		if (net_parse_cidr(subnet, &addr, &prefix, err) < 0)
			return -1;
		if (prefix > 30)
			return berth_error_set(err, 400, "subnet %s is too small", subnet);
		addr &= net_mask(prefix);
		if (overlaps(s, addr, prefix, NULL))
			return berth_error_set(err, 403, "invalid pool request: Pool overlaps with "
							 "other one on this address space");
	} else if (next_subnet(s, &addr, &prefix, err) < 0) {
		return -1;
	}
	char *sn cleanup_free = net_cidr_str(addr, prefix);
	json_object_set_new(cfg, "Subnet", json_string(sn));
	const char *gw = berth_json_string(c0, "Gateway");
	uint32_t g = addr + 1;
	if (gw && *gw && net_parse_ip(gw, &g, err) < 0)
		return -1;
	if ((g & net_mask(prefix)) != addr)
		return berth_error_set(err, 400, "invalid gateway %s: not in subnet %s", gw, sn);
	char *gs cleanup_free = net_ip_str(g);
	json_object_set_new(cfg, "Gateway", json_string(gs));
	const char *range = berth_json_string(c0, "IPRange");
	if (range && *range)
		json_object_set_new(cfg, "IPRange", json_string(range));
	return 0;
}

static int create_record(berth_network_store *s, const json_t *body, json_t **out,
			 berth_error **err)
{
	const char *name = berth_json_string(body, "Name");
	if (name == NULL || *name == '\0')
		return berth_error_set(err, 400, "network name must not be empty");
	const char *driver = berth_json_string(body, "Driver");
	if (driver == NULL || *driver == '\0')
		driver = "bridge";
	if (strcmp(driver, "host") == 0 || strcmp(driver, "null") == 0)
		return berth_error_set(err, 403, "only one instance of \"%s\" network is allowed", driver);
	if (strcmp(driver, "bridge") != 0)
		return berth_error_set(err, 404, "plugin \"%s\" not found", driver);
	if (net_find_exact(s, name))
		return berth_error_set(err, 409, "network with name %s already exists", name);
	if (json_is_true(json_object_get(body, "EnableIPv6")))
		return berth_error_set(err, 400, "IPv6 networks are not supported by berth yet");
	json_t *opts cleanup_json = NULL, *labels cleanup_json = NULL, *cfg cleanup_json = NULL;
	if (string_map(body, "Options", &opts, err) < 0 || string_map(body, "Labels", &labels, err) < 0 ||
	    ipam_config(s, body, &cfg, err) < 0)
		return -1;
	char id[65];
	berth_random_id(id);
	char *def cleanup_free = berth_xasprintf("br-%.12s", id);
	const char *br = berth_json_string(opts, OPT_BRIDGE_NAME);
	if (br == NULL || *br == '\0')
		br = def;
	if (strlen(br) >= IFNAMSIZ)
		return berth_error_set(err, 400, "bridge name %s is too long", br);
	for (net_network *n = s->list; n; n = n->next)
		if (n->is_bridge && strcmp(n->bridge, br) == 0)
			return berth_error_set(err, 409, "bridge name %s is already in use", br);
	json_t *rec = new_record(name, id, driver);
	json_array_append(json_object_get(json_object_get(rec, "IPAM"), "Config"), cfg);
	json_object_set(rec, "Options", opts);
	json_object_set(rec, "Labels", labels);
	json_object_set_new(rec, "Internal", json_boolean(json_is_true(json_object_get(body, "Internal"))));
	json_object_set_new(rec, "Attachable", json_boolean(json_is_true(json_object_get(body, "Attachable"))));
	*out = rec;
	return 0;
}

int berth_network_create(berth_network_store *s, const json_t *body, berth_network_op **op,
			 berth_error **err)
{
	json_t *rec = NULL;
	if (create_record(s, body, &rec, err) < 0)
		return -1;
	net_network *n = net_add(s, rec, err);
	if (n == NULL)
		return -1;
	*op = op_new(s, OP_CREATE);
	op_add(*op, n);
	net_fw_update(s);
	return 0;
}

int berth_network_remove(berth_network_store *s, const char *name, berth_network_op **op,
			 berth_error **err)
{
	net_network *n;
	if (find_or_404(s, name, &n, err) < 0)
		return -1;
	if (n->builtin)
		return berth_error_set(err, 403, "%s is a pre-defined network and cannot be removed",
				       n->name);
	if (n->eps)
		return berth_error_set(err, 403, "error while removing network: network %s id %s "
						 "has active endpoints", n->name, n->id);
	net_unlink(s, n);
	*op = op_new(s, OP_REMOVE);
	op_add(*op, n);
	net_fw_update(s);
	return 0;
}

int berth_network_prune(berth_network_store *s, const berth_filters *f, berth_network_op **op,
			berth_error **err)
{
	static const char *const allowed[] = {"until", "label", "label!", NULL};
	if (f && berth_filters_validate(f, allowed, err) < 0)
		return -1;
	int64_t until = 0;
	char *const *u = f ? berth_filters_get(f, "until") : NULL;
	if (u && u[0] && berth_time_parse(u[0], berth_time_now_ns(), &until, err) < 0)
		return -1;
	*op = op_new(s, OP_PRUNE);
	for (net_network *n = s->list, *next; n; n = next) {
		next = n->next;
		if (n->builtin || n->eps)
			continue;
		if (f && !berth_filters_match_labels(f, "label", json_object_get(n->record, "Labels")))
			continue;
		char *const *neg = f ? berth_filters_get(f, "label!") : NULL;
		if (neg && neg[0] && berth_filters_match_labels(f, "label!", json_object_get(n->record, "Labels")))
			continue;
		int64_t created = 0;
		if (until && berth_time_parse(berth_json_string(n->record, "Created"), 0, &created, NULL) == 0 &&
		    created > until)
			continue;
		net_unlink(s, n);
		op_add(*op, n);
	}
	net_fw_update(s);
	return 0;
}

int berth_network_op_run(berth_network_op *op, berth_error **err)
{
	berth_network_store *s = op->s;
	for (size_t i = 0; i < op->nnets; i++) {
		net_network *n = op->nets[i];
		if (op->kind == OP_CREATE) {
			if (nl_bridge_add(n->bridge, n->gateway, n->prefix, n->mtu, err) < 0)
				return -1;
			if (net_save(s, n, err) < 0) {
				nl_link_del(n->bridge, NULL);
				return -1;
			}
		} else {
			char *path cleanup_free = record_path(s, n->id);
			unlink(path);
			berth_error *e cleanup_error = NULL;
			if (nl_link_del(n->bridge, &e) < 0)
				berth_warn("network %s: %s", n->name, e->msg);
		}
	}
	return net_fw_apply(s, err);
}

int berth_network_op_finish(berth_network_op *op, berth_error *work_err, json_t **result,
			    berth_error **err)
{
	berth_network_store *s = op->s;
	*result = NULL;
	if (op->kind == OP_CREATE) {
		net_network *n = op->nets[0];
		if (work_err) {
			net_unlink(s, n);
			net_free(n);
			net_fw_update(s);
		} else {
			net_event(s, n, "create", NULL);
			*result = json_pack("{s:s, s:s}", "Id", n->id, "Warning", "");
		}
	} else {
		json_t *names = json_array();
		for (size_t i = 0; i < op->nnets; i++) {
			net_event(s, op->nets[i], "destroy", NULL);
			json_array_append_new(names, json_string(op->nets[i]->name));
			net_free(op->nets[i]);
		}
		if (op->kind == OP_PRUNE)
			*result = json_pack("{s:o}", "NetworksDeleted", names);
		else
			json_decref(names);
	}
	free(op->nets);
	free(op->warning);
	free(op);
	if (work_err)
		return berth_error_set(err, work_err->status, "%s", work_err->msg);
	return 0;
}
