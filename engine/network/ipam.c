/* ipam.c - IPv4 addresses: parsing, printing, allocation in a network. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

uint32_t net_mask(int prefix)
{
	return prefix <= 0 ? 0 : 0xffffffffu << (32 - prefix);
}

int net_parse_ip(const char *s, uint32_t *addr, berth_error **err)
{
	struct in_addr a;
	if (s == NULL || inet_pton(AF_INET, s, &a) != 1)
		return berth_error_set(err, 400, "invalid IP address: %s", s ? s : "");
	*addr = ntohl(a.s_addr);
	return 0;
}

int net_parse_cidr(const char *s, uint32_t *addr, int *prefix, berth_error **err)
{
	const char *slash = s ? strchr(s, '/') : NULL;
	char *end = NULL;
	long p = slash ? strtol(slash + 1, &end, 10) : -1;
	if (slash == NULL || end == slash + 1 || *end || p < 0 || p > 32)
		return berth_error_set(err, 400, "invalid CIDR address: %s", s ? s : "");
	char *ip cleanup_free = berth_xstrndup(s, (size_t)(slash - s));
	if (net_parse_ip(ip, addr, NULL) < 0)
		return berth_error_set(err, 400, "invalid CIDR address: %s", s);
	*prefix = (int)p;
	return 0;
}

char *net_ip_str(uint32_t ip)
{
	return berth_xasprintf("%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}

char *net_cidr_str(uint32_t ip, int prefix)
{
	char *a cleanup_free = net_ip_str(ip);
	return berth_xasprintf("%s/%d", a, prefix);
}

static bool ip_used(const net_network *n, uint32_t ip)
{
	if (ip == n->gateway)
		return true;
	for (const net_endpoint *e = n->eps; e; e = e->next)
		if (e->ip == ip)
			return true;
	return false;
}

int net_ipam_alloc(net_network *n, uint32_t want, uint32_t *out, berth_error **err)
{
	uint32_t mask = net_mask(n->prefix);
	if (want) {
		char *w cleanup_free = net_ip_str(want);
		if ((want & mask) != n->subnet)
			return berth_error_set(err, 400, "no configured subnet or ip-range contain the "
							 "IP address %s", w);
		if (ip_used(n, want))
			return berth_error_set(err, 409, "Address already in use");
		*out = want;
		return 0;
	}
	for (uint32_t ip = n->range_lo; ip <= n->range_hi && ip >= n->range_lo; ip++) {
		if (!ip_used(n, ip)) {
			*out = ip;
			return 0;
		}
	}
	return berth_error_set(err, 503, "no available IPv4 addresses on this network's address "
					 "pools: %s (%s)", n->name, n->id);
}

/* dockerd's 02:42 prefix followed by the address. */
void net_mac_from_ip(uint32_t ip, uint8_t mac[6])
{
	mac[0] = 0x02;
	mac[1] = 0x42;
	mac[2] = (uint8_t)(ip >> 24);
	mac[3] = (uint8_t)(ip >> 16);
	mac[4] = (uint8_t)(ip >> 8);
	mac[5] = (uint8_t)ip;
}

char *net_mac_str(const uint8_t mac[6])
{
	return berth_xasprintf("%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
			       mac[4], mac[5]);
}
