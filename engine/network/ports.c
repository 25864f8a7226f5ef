/*
 * ports.c - published ports: HostConfig.PortBindings and PublishAllPorts
 * resolved to host ports, each held by a bound socket while the container
 * runs (so a second container, or another program, gets "port is already
 * allocated"), and NetworkSettings.Ports as dockerd reports them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"

void net_ports_free(net_port *p)
{
	while (p) {
		net_port *next = p->next;
		if (p->fd >= 0)
			close(p->fd);
		free(p);
		p = next;
	}
}

/* "80/tcp" */
static int parse_key(const char *key, int *proto, uint16_t *port, berth_error **err)
{
	char *end = NULL;
	long v = strtol(key, &end, 10);
	const char *pr = *end == '/' ? end + 1 : "tcp";
	if (end == key || v < 1 || v > 65535 || (*end && *end != '/'))
		return berth_error_set(err, 400, "invalid port specification: \"%s\"", key);
	if (strcmp(pr, "tcp") == 0)
		*proto = IPPROTO_TCP;
	else if (strcmp(pr, "udp") == 0)
		*proto = IPPROTO_UDP;
	else
		return berth_error_set(err, 400, "invalid proto: %s", pr);
	*port = (uint16_t)v;
	return 0;
}

/* Binds host_ip:port (port 0 in [lo, hi]: the first free one). */
static int reserve(net_port *p, uint16_t lo, uint16_t hi, berth_error **err)
{
	for (uint32_t port = lo; port <= hi; port++) {
		int fd = socket(AF_INET, (p->proto == IPPROTO_UDP ? SOCK_DGRAM : SOCK_STREAM) |
					     SOCK_CLOEXEC, 0);
		if (fd < 0)
			return berth_error_set_errno(err, errno, "socket");
		struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
					 .sin_addr.s_addr = htonl(p->host_ip)};
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			socklen_t len = sizeof(sa);
			getsockname(fd, (struct sockaddr *)&sa, &len);
			p->fd = fd;
			p->host_port = ntohs(sa.sin_port);
			return 0;
		}
		int e = errno;
		close(fd);
		if (lo == hi || e != EADDRINUSE) {
			char *ip cleanup_free = net_ip_str(p->host_ip);
			if (e == EADDRINUSE)
				return berth_error_set(err, 500, "driver failed programming external "
								 "connectivity on endpoint: Bind for %s:%u "
								 "failed: port is already allocated", ip, port);
			return berth_error_set_errno(err, e, "bind %s:%u", ip, port);
		}
	}
	return berth_error_set(err, 500, "all ports are allocated");
}

/* HostPort "", "8080" or "8000-8010". */
static int host_range(const char *s, uint16_t *lo, uint16_t *hi, berth_error **err)
{
	if (s == NULL || *s == '\0') {
		*lo = *hi = 0;
		return 0;
	}
	char *end = NULL;
	long a = strtol(s, &end, 10), b = a;
	if (*end == '-')
		b = strtol(end + 1, &end, 10);
	if (*end || a < 0 || b > 65535 || b < a)
		return berth_error_set(err, 400, "invalid port range: %s", s);
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return 0;
}

static int add_binding(net_port **list, int proto, uint16_t cport, const json_t *b,
		       berth_error **err)
{
	net_port *p = berth_xcalloc(1, sizeof(*p));
	p->fd = -1;
	p->proto = proto;
	p->container_port = cport;
	p->next = *list;
	*list = p;
	const char *hip = berth_json_string(b, "HostIp");
	if (hip && *hip && strcmp(hip, "0.0.0.0") != 0) {
		if (strchr(hip, ':'))
			return 1; /* IPv6: not published (no IPv6 networking yet) */
		if (net_parse_ip(hip, &p->host_ip, err) < 0)
			return -1;
	}
	uint16_t lo = 0, hi = 0;
	if (host_range(berth_json_string(b, "HostPort"), &lo, &hi, err) < 0)
		return -1;
	return reserve(p, lo, hi, err);
}

/* Each binding, and with PublishAllPorts each exposed port without one,
 * onto *list (which the caller frees, also on failure). */
static int reserve_all(const json_t *record, net_port **list, berth_error **err)
{
	const json_t *hc = json_object_get(record, "HostConfig");
	const json_t *bindings = json_object_get(hc, "PortBindings");
	bool all = json_is_true(json_object_get(hc, "PublishAllPorts"));
	const json_t *exposed = json_object_get(json_object_get(record, "Config"), "ExposedPorts");
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)bindings, key, v) {
		int proto;
		uint16_t cport;
		size_t i;
		json_t *b;
		if (parse_key(key, &proto, &cport, err) < 0 ||
		    (json_array_size(v) == 0 && all && add_binding(list, proto, cport, NULL, err) < 0))
			return -1;
		json_array_foreach(v, i, b)
			if (add_binding(list, proto, cport, b, err) < 0)
				return -1;
	}
	json_object_foreach((json_t *)exposed, key, v) {
		int proto;
		uint16_t cport;
		if (!all || json_object_get(bindings, key) != NULL)
			continue;
		if (parse_key(key, &proto, &cport, err) < 0 ||
		    add_binding(list, proto, cport, NULL, err) < 0)
			return -1;
	}
	return 0;
}

int net_ports_reserve(const json_t *record, net_port **out, berth_error **err)
{
	net_port *list = NULL;
	if (reserve_all(record, &list, err) < 0) {
		net_ports_free(list);
		return -1;
	}
	/* drop the IPv6 bindings, which were not reserved */
	for (net_port **p = &list; *p;) {
		if ((*p)->fd < 0) {
			net_port *dead = *p;
			*p = dead->next;
			free(dead);
		} else {
			p = &(*p)->next;
		}
	}
	*out = list;
	return 0;
}

void net_ports_rebind(net_port *list, const char *container)
{
	for (net_port *p = list; p; p = p->next) {
		berth_error *e cleanup_error = NULL;
		if (p->fd < 0 && reserve(p, p->host_port, p->host_port, &e) < 0)
			berth_warn("container %.12s: %s", container, e->msg);
	}
}

json_t *net_ports_json(const json_t *record, const net_port *ports)
{
	json_t *out = json_object();
	const char *key;
	json_t *v;
	json_object_foreach(json_object_get(json_object_get(record, "Config"), "ExposedPorts"), key, v)
		json_object_set_new(out, key, json_null());
	json_object_foreach(json_object_get(json_object_get(record, "HostConfig"), "PortBindings"), key, v)
		json_object_set_new(out, key, json_null());
	/* the list was built in reverse */
	const net_port *rev[256];
	size_t n = 0;
	for (const net_port *p = ports; p && n < BERTH_ARRAY_SIZE(rev); p = p->next)
		rev[n++] = p;
	while (n-- > 0) {
		const net_port *p = rev[n];
		char *k cleanup_free = berth_xasprintf("%u/%s", p->container_port,
						       p->proto == IPPROTO_UDP ? "udp" : "tcp");
		json_t *arr = json_object_get(out, k);
		if (!json_is_array(arr)) {
			arr = json_array();
			json_object_set_new(out, k, arr);
		}
		char *ip cleanup_free = net_ip_str(p->host_ip);
		char *port cleanup_free = berth_xasprintf("%u", p->host_port);
		json_array_append_new(arr, json_pack("{s:s, s:s}", "HostIp", ip, "HostPort", port));
	}
	return out;
}
