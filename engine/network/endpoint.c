/*
 * endpoint.c - a container's networking: its entries in
 * NetworkSettings.Networks at create, addresses and host ports taken on the
 * loop at start, the namespace and veth pairs made on a pool thread, the
 * record filled in when the start is done, and all of it given back at exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

static const char *network_mode(const json_t *record)
{
	const char *m = berth_json_string(json_object_get(record, "HostConfig"), "NetworkMode");
	return m == NULL || *m == '\0' || strcmp(m, "default") == 0 ? "bridge" : m;
}

/* host, none and container:X get nothing from berth (runc makes or joins
 * the namespace). */
static bool berth_networked(const json_t *record)
{
	const char *m = network_mode(record);
	return strcmp(m, "host") != 0 && strcmp(m, "none") != 0 && !berth_str_has_prefix(m, "container:");
}

static json_t *endpoint_settings(const net_network *n, const json_t *cfg)
{
	json_t *e = json_pack("{s:n, s:n, s:n, s:s, s:n, s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:i, s:n}",
			      "IPAMConfig", "Links", "Aliases", "MacAddress", "", "DriverOpts",
			      "NetworkID", n->id, "EndpointID", "", "Gateway", "", "IPAddress", "",
			      "IPPrefixLen", 0, "IPv6Gateway", "", "GlobalIPv6Address", "",
			      "GlobalIPv6PrefixLen", 0, "DNSNames");
	static const char *const keep[] = {"IPAMConfig", "Links", "Aliases", "MacAddress", "DriverOpts"};
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(keep); i++) {
		json_t *v = json_object_get(cfg, keep[i]);
		if (v && !json_is_null(v))
			json_object_set(e, keep[i], v);
	}
	return e;
}

static int check_endpoint(const net_network *n, const json_t *cfg, berth_error **err)
{
	const char *ip = berth_json_string(json_object_get(cfg, "IPAMConfig"), "IPv4Address");
	bool user = n->is_bridge && !n->is_default;
	if (ip && *ip) {
		if (!user)
			return berth_error_set(err, 400, "user specified IP address is supported on user "
							 "defined networks only");
		uint32_t a;
		if (net_parse_ip(ip, &a, err) < 0)
			return -1;
		if ((a & net_mask(n->prefix)) != n->subnet)
			return berth_error_set(err, 400, "no configured subnet or ip-range contain the "
							 "IP address %s", ip);
	}
	if (json_array_size(json_object_get(cfg, "Aliases")) > 0 && !user)
		return berth_error_set(err, 400, "network-scoped alias is supported only for "
						 "containers in user defined networks");
	return 0;
}

int berth_network_container_create(berth_network_store *s, json_t *record,
				   const json_t *networking_config, berth_error **err)
{
	const char *mode = network_mode(record);
	json_t *networks = json_object_get(json_object_get(record, "NetworkSettings"), "Networks");
	if (berth_str_has_prefix(mode, "container:"))
		return 0;
	net_network *primary = net_find(s, mode);
	if (primary == NULL)
		return berth_error_set(err, 404, "network %s not found", mode);
	const json_t *eps = json_object_get(networking_config, "EndpointsConfig");
	const json_t *cfg = json_object_get(eps, mode) ?: json_object_get(eps, primary->name);
	if (cfg == NULL && primary->is_default)
		cfg = json_object_get(eps, "default");
	if (check_endpoint(primary, cfg, err) < 0)
		return -1;
	json_object_set_new(networks, primary->name, endpoint_settings(primary, cfg));
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)eps, key, v) {
		net_network *n = net_find(s, strcmp(key, "default") == 0 ? "bridge" : key);
		if (n == NULL)
			return berth_error_set(err, 404, "network %s not found", key);
		if (n == primary)
			continue;
		if (!primary->is_bridge || !n->is_bridge)
			return berth_error_set(err, 400, "conflicting options: cannot attach both "
							 "user-defined and non-user-defined network-modes");
		if (check_endpoint(n, v, err) < 0)
			return -1;
		json_object_set_new(networks, n->name, endpoint_settings(n, v));
	}
	return 0;
}

/* ---------------------------------------------------------------- start */

static void endpoint_free(net_endpoint *e)
{
	free(e->cname);
	free(e->hostname);
	json_decref(e->aliases);
	free(e);
}

static void endpoint_unlink(net_endpoint *e)
{
	for (net_endpoint **p = &e->net->eps; *p; p = &(*p)->next) {
		if (*p == e) {
			*p = e->next;
			return;
		}
	}
}

static void endpoint_link(net_network *n, net_endpoint *e)
{
	e->net = n;
	net_endpoint **tail = &n->eps;
	while (*tail)
		tail = &(*tail)->next;
	*tail = e;
}

static const char *record_name(const json_t *record)
{
	const char *name = berth_json_string(record, "Name") ?: "";
	return *name == '/' ? name + 1 : name;
}

/* Takes an address on n for the container (the endpoint holds it from now). */
static int endpoint_new(net_network *n, const json_t *record, const json_t *settings,
			net_endpoint **out, berth_error **err)
{
	uint32_t want = 0, ip;
	const char *sip = berth_json_string(json_object_get(settings, "IPAMConfig"), "IPv4Address");
	if (sip && *sip && net_parse_ip(sip, &want, err) < 0)
		return -1;
	if (net_ipam_alloc(n, want, &ip, err) < 0)
		return -1;
	net_endpoint *e = berth_xcalloc(1, sizeof(*e));
	snprintf(e->container, sizeof(e->container), "%s", berth_json_string(record, "Id") ?: "");
	e->cname = berth_xstrdup(record_name(record));
	e->hostname = berth_xstrdup(berth_json_string(json_object_get(record, "Config"), "Hostname") ?: "");
	e->ip = ip;
	net_mac_from_ip(ip, e->mac);
	char rnd[65];
	berth_random_id(rnd);
	snprintf(e->endpoint_id, sizeof(e->endpoint_id), "%s", rnd);
	snprintf(e->veth, sizeof(e->veth), "veth%.7s", rnd + 20);
	json_t *aliases = json_object_get(settings, "Aliases");
	e->aliases = json_is_array(aliases) ? json_deep_copy(aliases) : json_array();
	endpoint_link(n, e);
	*out = e;
	return 0;
}

static void sandbox_del_veth(berth_network_sandbox *sb, const char *veth)
{
	if (*veth == '\0')
		return; /* restored after a restart: the namespace's end takes it */
	sb->veth_del = berth_xrealloc(sb->veth_del, (sb->nveth_del + 1) * sizeof(*sb->veth_del));
	snprintf(sb->veth_del[sb->nveth_del++], IFNAMSIZ, "%s", veth);
}

static void sandbox_add(berth_network_sandbox *sb, net_endpoint *e)
{
	sb->eps = berth_xrealloc(sb->eps, (sb->neps + 1) * sizeof(*sb->eps));
	sb->eps[sb->neps++] = e;
}

static berth_network_sandbox *sandbox_new(berth_network_store *s, const char *id)
{
	berth_network_sandbox *sb = berth_xcalloc(1, sizeof(*sb));
	sb->store = s;
	sb->dns_fd = -1;
	snprintf(sb->container, sizeof(sb->container), "%s", id);
	sb->path = berth_xasprintf("%s/%s", s->netns_dir, id);
	return sb;
}

void berth_network_sandbox_free(berth_network_sandbox *sb)
{
	if (sb == NULL)
		return;
	free(sb->path);
	free(sb->eps);
	free(sb->veth_del);
	net_ports_free(sb->ports);
	free(sb->hosts_path);
	free(sb->resolv_path);
	free(sb->hostname);
	json_decref(sb->extra_hosts);
	json_decref(sb->dns);
	json_decref(sb->dns_search);
	json_decref(sb->dns_options);
	json_decref(sb->links);
	if (sb->dns_fd >= 0)
		close(sb->dns_fd);
	free(sb);
}

static net_endpoint *endpoint_by_name(net_network *n, const char *name)
{
	for (net_endpoint *e = n->eps; e; e = e->next)
		if (strcmp(e->cname, name) == 0 || strncmp(e->container, name, strlen(name)) == 0)
			return e;
	return NULL;
}

/* --link other[:alias] on the default bridge: /etc/hosts lines. */
static json_t *link_lines(net_network *n, const json_t *links)
{
	json_t *out = json_array();
	size_t i;
	json_t *l;
	json_array_foreach(links, i, l) {
		/* "/other:/me/alias" as dockerd stores it, or "other:alias" */
		const char *s = json_string_value(l);
		if (s == NULL)
			continue;
		const char *colon = strchr(s, ':');
		char *other cleanup_free = berth_xstrndup(s + (*s == '/'), colon ? (size_t)(colon - s - (*s == '/')) : strlen(s));
		const char *alias = colon ? strrchr(colon + 1, '/') : NULL;
		alias = alias ? alias + 1 : colon ? colon + 1 : other;
		net_endpoint *e = endpoint_by_name(n, other);
		if (e == NULL)
			continue;
		char *ip cleanup_free = net_ip_str(e->ip);
		char *line = strcmp(alias, other) == 0
				     ? berth_xasprintf("%s\t%s %s", ip, other, e->hostname)
				     : berth_xasprintf("%s\t%s %s %s", ip, alias, e->hostname, other);
		json_array_append_new(out, json_string(line));
		free(line);
	}
	return out;
}

static int check_links(net_network *def, const json_t *links, berth_error **err)
{
	size_t i;
	json_t *l;
	json_array_foreach(links, i, l) {
		const char *s = json_string_value(l);
		const char *colon = s ? strchr(s, ':') : NULL;
		char *other cleanup_free = berth_xstrndup(s + (*s == '/'), colon ? (size_t)(colon - s - (*s == '/')) : strlen(s));
		if (def == NULL || endpoint_by_name(def, other) == NULL)
			return berth_error_set(err, 400, "could not get container for %s", other);
	}
	return 0;
}

/* An endpoint on each of the record's networks; *def: the default bridge,
 * when the container is on it. */
static int prepare_endpoints(berth_network_store *s, const json_t *record,
			     berth_network_sandbox *sb, net_network **def, berth_error **err)
{
	const char *key;
	json_t *v;
	json_object_foreach(json_object_get(json_object_get(record, "NetworkSettings"), "Networks"), key, v) {
		net_network *n = net_find(s, berth_json_string(v, "NetworkID") ?: key);
		net_endpoint *e;
		if (n == NULL || !n->is_bridge)
			return berth_error_set(err, 404, "network %s not found", key);
		if (endpoint_new(n, record, v, &e, err) < 0)
			return -1;
		sandbox_add(sb, e);
		sb->user_dns |= !n->is_default;
		if (n->is_default)
			*def = n;
	}
	return 0;
}

int berth_network_prepare(berth_network_store *s, const json_t *record,
			  berth_network_sandbox **out, berth_error **err)
{
	*out = NULL;
	if (!berth_networked(record))
		return 0;
	const json_t *hc = json_object_get(record, "HostConfig");
	const json_t *config = json_object_get(record, "Config");
	berth_network_sandbox *sb = sandbox_new(s, berth_json_string(record, "Id") ?: "");
	sb->create_ns = true;
	sb->remove_ns = true;
	sb->write_files = true;
	net_network *def = NULL;
	if (prepare_endpoints(s, record, sb, &def, err) < 0 ||
	    (sb->neps > 0 && check_links(def, json_object_get(hc, "Links"), err) < 0) ||
	    (sb->neps > 0 && !sb->eps[0]->net->internal &&
	     net_ports_reserve(record, &sb->ports, err) < 0)) {
		berth_network_abort(s, sb);
		return -1;
	}
	if (sb->neps == 0) {
		berth_network_sandbox_free(sb);
		return 0;
	}
	sb->port_ip = sb->eps[0]->ip;
	sb->hosts_path = berth_xstrdup(berth_json_string(record, "HostsPath") ?: "");
	sb->resolv_path = berth_xstrdup(berth_json_string(record, "ResolvConfPath") ?: "");
	sb->hostname = berth_xstrdup(berth_json_string(config, "Hostname") ?: "");
	sb->extra_hosts = json_incref(json_object_get(hc, "ExtraHosts"));
	sb->dns = json_incref(json_object_get(hc, "Dns"));
	sb->dns_search = json_incref(json_object_get(hc, "DnsSearch"));
	sb->dns_options = json_incref(json_object_get(hc, "DnsOptions"));
	sb->links = def ? link_lines(def, json_object_get(hc, "Links")) : json_array();
	*out = sb;
	return 0;
}

const char *berth_network_sandbox_path(const berth_network_sandbox *sb)
{
	return sb ? sb->path : NULL;
}

/* ------------------------------------------------------- files (pool) */

/* /etc/hosts and resolv.conf are made again at every start, before runc
 * mounts them: no fsync (two of them cost more than the rest of the
 * network's setup), a crash only loses what the next start rewrites. */
static int write_etc(const char *path, const berth_buf *b, berth_error **err)
{
	int fd cleanup_close = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || berth_write_all(fd, b->data ? b->data : "", b->len) < 0)
		return berth_error_set_errno(err, errno, "write %s", path);
	return 0;
}

static int write_hosts(const berth_network_sandbox *sb, berth_error **err)
{
	berth_buf b cleanup_buf = {0};
	berth_buf_puts(&b, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
			   "fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\n"
			   "ff02::2\tip6-allrouters\n");
	size_t i;
	json_t *h;
	json_array_foreach(sb->extra_hosts, i, h) {
		const char *eh = json_string_value(h);
		const char *sep = eh ? strchr(eh, ':') : NULL;
		if (sep == NULL)
			sep = eh ? strchr(eh, '=') : NULL;
		if (sep == NULL)
			continue;
		char *gw cleanup_free = net_ip_str(sb->eps[0]->net->gateway);
		const char *ip = strcmp(sep + 1, "host-gateway") == 0 ? gw : sep + 1;
		berth_buf_printf(&b, "%s\t%.*s\n", ip, (int)(sep - eh), eh);
	}
	json_array_foreach(sb->links, i, h)
		berth_buf_printf(&b, "%s\n", json_string_value(h));
	for (size_t k = 0; k < sb->neps; k++) {
		char *ip cleanup_free = net_ip_str(sb->eps[k]->ip);
		berth_buf_printf(&b, "%s\t%s\n", ip, sb->hostname);
	}
	return write_etc(sb->hosts_path, &b, err);
}

static void append_list(berth_buf *b, const char *word, const json_t *list)
{
	if (json_array_size(list) == 0)
		return;
	berth_buf_puts(b, word);
	size_t i;
	json_t *v;
	json_array_foreach(list, i, v)
		berth_buf_printf(b, " %s", json_string_value(v));
	berth_buf_puts(b, "\n");
}

/* dockerd: the host's resolv.conf without loopback nameservers (they mean
 * nothing inside the container), or the embedded server on user networks. */
static int write_resolv(const berth_network_sandbox *sb, berth_error **err)
{
	char *host cleanup_free = NULL;
	size_t len = 0;
	if (berth_file_read_all("/etc/resolv.conf", &host, &len, NULL) < 0)
		host = berth_xstrdup("");
	berth_buf b cleanup_buf = {0};
	bool custom_search = json_array_size(sb->dns_search) > 0;
	bool custom_opts = json_array_size(sb->dns_options) > 0;
	if (sb->user_dns)
		berth_buf_puts(&b, "nameserver 127.0.0.11\n");
	else
		append_list(&b, "nameserver", sb->dns);
	for (char *line = strtok(host, "\n"); line; line = strtok(NULL, "\n")) {
		bool ns = berth_str_has_prefix(line, "nameserver");
		if (ns && (sb->user_dns || json_array_size(sb->dns) > 0 || strstr(line, " 127.")))
			continue;
		if ((berth_str_has_prefix(line, "search") && custom_search) ||
		    (berth_str_has_prefix(line, "options") && (custom_opts || sb->user_dns)))
			continue;
		berth_buf_printf(&b, "%s\n", line);
	}
	append_list(&b, "search", sb->dns_search);
	if (sb->user_dns && !custom_opts)
		berth_buf_puts(&b, "options ndots:0\n");
	append_list(&b, "options", sb->dns_options);
	return write_etc(sb->resolv_path, &b, err);
}

/* ---------------------------------------------------------- setup (pool) */

static int setup_links(berth_network_sandbox *sb, int fd, berth_error **err)
{
	for (size_t i = 0; i < sb->neps; i++) {
		const net_endpoint *e = sb->eps[i];
		const net_network *n = e->net;
		char eth[IFNAMSIZ];
		snprintf(eth, sizeof(eth), "eth%d", sb->first_eth + (int)i);
		/* the first network gives the default route, as dockerd does */
		uint32_t gw = sb->create_ns && i == 0 && !n->internal ? n->gateway : 0;
		if (nl_veth_add(e->veth, n->bridge, n->mtu, fd, eth, e->mac, e->ip, n->prefix, gw, err) < 0)
			return -1;
	}
	return 0;
}

int berth_network_setup(berth_network_sandbox *sb, berth_error **err)
{
	if (sb->create_ns && netns_create(sb->path, err) < 0)
		return -1;
	int fd cleanup_close = open(sb->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		berth_error_set_errno(err, errno, "open %s", sb->path);
	} else if ((!sb->create_ns || nl_lo_up(fd, err) == 0) && setup_links(sb, fd, err) == 0 &&
		   net_fw_ports(sb->store, sb->ports, sb->port_ip, true, err) == 0 &&
		   (!sb->write_files || (write_hosts(sb, err) == 0 && write_resolv(sb, err) == 0)) &&
		   (!sb->user_dns || sb->dns_fd >= 0 || net_dns_socket(fd, &sb->dns_fd, err) == 0)) {
		return 0;
	}
	if (sb->create_ns) {
		net_fw_ports(sb->store, sb->ports, sb->port_ip, false, NULL);
		netns_remove(sb->path);
	} else {
		for (size_t i = 0; i < sb->neps; i++)
			nl_link_del(sb->eps[i]->veth, NULL);
	}
	return -1;
}

/* ----------------------------------------------------------- commit (loop) */

static void settings_fill(json_t *ns, const net_endpoint *e)
{
	const net_network *n = e->net;
	json_t *es = json_object_get(json_object_get(ns, "Networks"), n->name);
	if (es == NULL) {
		/* network connect: the entry comes with the endpoint */
		es = endpoint_settings(n, NULL);
		if (json_array_size(e->aliases))
			json_object_set(es, "Aliases", e->aliases);
		json_object_set_new(json_object_get(ns, "Networks"), n->name, es);
	}
	char *ip cleanup_free = net_ip_str(e->ip);
	char *gw cleanup_free = net_ip_str(n->gateway);
	char *mac cleanup_free = net_mac_str(e->mac);
	json_object_set_new(es, "NetworkID", json_string(n->id));
	json_object_set_new(es, "EndpointID", json_string(e->endpoint_id));
	json_object_set_new(es, "Gateway", json_string(n->internal ? "" : gw));
	json_object_set_new(es, "IPAddress", json_string(ip));
	json_object_set_new(es, "IPPrefixLen", json_integer(n->prefix));
	json_object_set_new(es, "MacAddress", json_string(mac));
	if (!n->is_default) {
		char short_id[13];
		snprintf(short_id, sizeof(short_id), "%.12s", e->container);
		json_t *names = json_pack("[s, s]", e->cname, short_id);
		json_array_extend(names, e->aliases);
		json_object_set_new(es, "DNSNames", names);
	}
	if (n->is_default) {
		static const char *const top[] = {"EndpointID", "Gateway", "IPAddress", "IPPrefixLen",
						  "MacAddress"};
		for (size_t i = 0; i < BERTH_ARRAY_SIZE(top); i++)
			json_object_set(ns, top[i], json_object_get(es, top[i]));
	}
}

void berth_network_commit(berth_network_store *s, berth_network_sandbox *sb, json_t *record)
{
	json_t *ns = json_object_get(record, "NetworkSettings");
	for (size_t i = 0; i < sb->neps; i++) {
		settings_fill(ns, sb->eps[i]);
		net_event(s, sb->eps[i]->net, "connect", sb->container);
	}
	if (sb->create_ns) {
		char sandbox_id[65];
		berth_sha256_hex(sb->container, strlen(sb->container), sandbox_id);
		json_object_set_new(ns, "SandboxID", json_string(sandbox_id));
		json_object_set_new(ns, "SandboxKey", json_string(sb->path));
		json_object_set_new(ns, "Ports", net_ports_json(record, sb->ports));
		net_ctr *c = berth_xcalloc(1, sizeof(*c));
		snprintf(c->id, sizeof(c->id), "%s", sb->container);
		c->netns = berth_xstrdup(sb->path);
		c->ports = berth_steal_ptr(&sb->ports);
		c->port_ip = sb->port_ip;
		c->next = s->ctrs;
		s->ctrs = c;
	}
	if (sb->dns_fd >= 0) {
		net_dns_start(s, sb->container, sb->dns_fd);
		sb->dns_fd = -1;
	}
	berth_network_sandbox_free(sb);
}

void berth_network_abort(berth_network_store *s, berth_network_sandbox *sb)
{
	if (sb == NULL)
		return;
	for (size_t i = 0; i < sb->neps; i++) {
		endpoint_unlink(sb->eps[i]);
		endpoint_free(sb->eps[i]);
	}
	berth_network_sandbox_free(sb);
}

/* ------------------------------------------------------------ exit (loop) */

static void settings_clear(json_t *es)
{
	static const char *const keys[] = {"EndpointID", "Gateway", "IPAddress", "MacAddress"};
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(keys); i++)
		if (json_object_get(es, keys[i]))
			json_object_set_new(es, keys[i], json_string(""));
	if (json_object_get(es, "IPPrefixLen"))
		json_object_set_new(es, "IPPrefixLen", json_integer(0));
	if (json_object_get(es, "DNSNames"))
		json_object_set_new(es, "DNSNames", json_null());
}

berth_network_sandbox *berth_network_release(berth_network_store *s, json_t *record)
{
	const char *id = berth_json_string(record, "Id") ?: "";
	json_t *ns = json_object_get(record, "NetworkSettings");
	const char *key = berth_json_string(ns, "SandboxKey");
	berth_network_sandbox *sb = key && *key ? sandbox_new(s, id) : NULL;
	for (net_network *n = s->list; n; n = n->next) {
		for (net_endpoint *e = n->eps, *next; e; e = next) {
			next = e->next;
			if (strcmp(e->container, id) != 0)
				continue;
			if (sb)
				sandbox_del_veth(sb, e->veth);
			endpoint_unlink(e);
			endpoint_free(e);
			net_event(s, n, "disconnect", id);
		}
	}
	net_dns_stop(s, id);
	if (sb) {
		sb->remove_ns = true;
		for (net_ctr **p = &s->ctrs; *p; p = &(*p)->next) {
			net_ctr *c = *p;
			if (strcmp(c->id, id) != 0)
				continue;
			*p = c->next;
			sb->ports = c->ports;
			sb->port_ip = c->port_ip;
			free(c->netns);
			free(c);
			break;
		}
	}
	settings_clear(ns);
	json_object_set_new(ns, "SandboxKey", json_string(""));
	json_object_set_new(ns, "SandboxID", json_string(""));
	json_object_set_new(ns, "Ports", json_object());
	const char *k;
	json_t *es;
	json_object_foreach(json_object_get(ns, "Networks"), k, es)
		settings_clear(es);
	return sb;
}

void berth_network_teardown(berth_network_sandbox *sb)
{
	if (sb == NULL)
		return;
	berth_error *e cleanup_error = NULL;
	if (net_fw_ports(sb->store, sb->ports, sb->port_ip, false, &e) < 0)
		berth_warn("container %.12s: %s", sb->container, e->msg);
	/* deleted here, on the stop path: left to the namespace's end they
	 * would be unregistered by the kernel's cleanup work, which holds the
	 * rtnl lock the next container's veth creation waits for */
	for (size_t i = 0; i < sb->nveth_del; i++)
		nl_link_del(sb->veth_del[i], NULL);
	if (sb->remove_ns)
		netns_remove(sb->path);
}

/* --------------------------------------------------------- restore (loop) */

/* The ports a running container published, from its record. */
static net_port *ports_from_record(const json_t *ports)
{
	net_port *list = NULL;
	const char *key;
	json_t *arr;
	json_object_foreach((json_t *)ports, key, arr) {
		size_t i;
		json_t *b;
		json_array_foreach(arr, i, b) {
			net_port *p = berth_xcalloc(1, sizeof(*p));
			p->fd = -1;
			p->container_port = (uint16_t)atoi(key);
			p->proto = strstr(key, "/udp") ? IPPROTO_UDP : IPPROTO_TCP;
			p->host_port = (uint16_t)atoi(berth_json_string(b, "HostPort") ?: "0");
			net_parse_ip(berth_json_string(b, "HostIp"), &p->host_ip, NULL);
			p->next = list;
			list = p;
		}
	}
	return list;
}

void berth_network_restore(berth_network_store *s, const json_t *record)
{
	const json_t *ns = json_object_get(record, "NetworkSettings");
	const char *key = berth_json_string(ns, "SandboxKey");
	if (!berth_networked(record) || key == NULL || *key == '\0')
		return;
	const char *id = berth_json_string(record, "Id") ?: "";
	bool user = false;
	uint32_t first_ip = 0;
	const char *name;
	json_t *es;
	json_object_foreach(json_object_get(ns, "Networks"), name, es) {
		net_network *n = net_find(s, berth_json_string(es, "NetworkID") ?: name);
		uint32_t ip;
		if (n == NULL || net_parse_ip(berth_json_string(es, "IPAddress"), &ip, NULL) < 0)
			continue;
		net_endpoint *e = berth_xcalloc(1, sizeof(*e));
		snprintf(e->container, sizeof(e->container), "%s", id);
		e->cname = berth_xstrdup(record_name(record));
		e->hostname = berth_xstrdup(berth_json_string(json_object_get(record, "Config"), "Hostname") ?: "");
		snprintf(e->endpoint_id, sizeof(e->endpoint_id), "%s", berth_json_string(es, "EndpointID") ?: "");
		e->ip = ip;
		net_mac_from_ip(ip, e->mac);
		json_t *aliases = json_object_get(es, "Aliases");
		e->aliases = json_is_array(aliases) ? json_deep_copy(aliases) : json_array();
		endpoint_link(n, e);
		user |= !n->is_default;
		if (first_ip == 0)
			first_ip = ip;
	}
	net_ctr *c = berth_xcalloc(1, sizeof(*c));
	snprintf(c->id, sizeof(c->id), "%s", id);
	c->netns = berth_xstrdup(key);
	c->ports = ports_from_record(json_object_get(ns, "Ports"));
	net_ports_rebind(c->ports, id);
	c->port_ip = first_ip;
	c->next = s->ctrs;
	s->ctrs = c;
	if (user) {
		int fd cleanup_close = open(key, O_RDONLY | O_CLOEXEC);
		int dfd = -1;
		berth_error *e cleanup_error = NULL;
		if (fd < 0 || net_dns_socket(fd, &dfd, &e) < 0)
			berth_warn("container %.12s: embedded DNS: %s", id, e ? e->msg : strerror(errno));
		else
			net_dns_start(s, id, dfd);
	}
}

/* -------------------------------------------------- connect, disconnect */

int berth_network_connect(berth_network_store *s, json_t *record, const char *network,
			  const json_t *endpoint_config, bool running,
			  berth_network_sandbox **out, berth_error **err)
{
	*out = NULL;
	net_network *n = net_find(s, network);
	if (n == NULL)
		return berth_error_set(err, 404, "network %s not found", network);
	if (!berth_networked(record) || !n->is_bridge)
		return berth_error_set(err, 400, "container sharing network namespace with another "
						 "container or host cannot be connected to any other "
						 "network");
	json_t *networks = json_object_get(json_object_get(record, "NetworkSettings"), "Networks");
	if (json_object_get(networks, n->name))
		return berth_error_set(err, 403, "endpoint with name %s already exists in network %s",
				       record_name(record), n->name);
	if (check_endpoint(n, endpoint_config, err) < 0)
		return -1;
	json_t *settings = endpoint_settings(n, endpoint_config);
	if (!running) {
		json_object_set_new(networks, n->name, settings);
		return 0;
	}
	json_t *settings_ref cleanup_json = settings;
	const char *key = berth_json_string(json_object_get(record, "NetworkSettings"), "SandboxKey");
	if (key == NULL || *key == '\0')
		return berth_error_set(err, 409, "container %s has no network namespace",
				       record_name(record));
	berth_network_sandbox *sb = sandbox_new(s, berth_json_string(record, "Id") ?: "");
	net_endpoint *e;
	if (endpoint_new(n, record, settings, &e, err) < 0) {
		berth_network_sandbox_free(sb);
		return -1;
	}
	sandbox_add(sb, e);
	sb->first_eth = (int)json_object_size(networks);
	sb->user_dns = !n->is_default && !net_dns_running(s, sb->container);
	*out = sb;
	return 0;
}

int berth_network_disconnect(berth_network_store *s, json_t *record, const char *network,
			     bool running, berth_network_sandbox **out, berth_error **err)
{
	*out = NULL;
	net_network *n = net_find(s, network);
	if (n == NULL)
		return berth_error_set(err, 404, "network %s not found", network);
	json_t *networks = json_object_get(json_object_get(record, "NetworkSettings"), "Networks");
	if (json_object_get(networks, n->name) == NULL)
		return berth_error_set(err, 403, "container %s is not connected to network %s",
				       record_name(record), n->name);
	const char *id = berth_json_string(record, "Id") ?: "";
	json_object_del(networks, n->name);
	for (net_endpoint *e = n->eps; e; e = e->next) {
		if (strcmp(e->container, id) != 0)
			continue;
		if (running) {
			*out = sandbox_new(s, id);
			sandbox_del_veth(*out, e->veth);
		}
		endpoint_unlink(e);
		endpoint_free(e);
		net_event(s, n, "disconnect", id);
		break;
	}
	return 0;
}
