/*
 * firewall.c - berth's nftables table "ip berth" (libnftables, in process):
 * NAT for the bridges, published ports as elements of four maps, isolation
 * between networks. Everything berth adds is in that one table, so removing
 * it removes it all; see docs/ARCHITECTURE.md for why nftables.
 *
 * The chains are rewritten whole (flush + add in one transaction) when the
 * networks change; ports are map elements added and deleted per container,
 * so starting a container never rewrites a chain.
 */
#include <nftables/libnftables.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const char table_def[] =
	"add table ip berth\n"
	"add map ip berth tcp_any { type inet_service : ipv4_addr . inet_service; }\n"
	"add map ip berth udp_any { type inet_service : ipv4_addr . inet_service; }\n"
	"add map ip berth tcp_ip { type ipv4_addr . inet_service : ipv4_addr . inet_service; }\n"
	"add map ip berth udp_ip { type ipv4_addr . inet_service : ipv4_addr . inet_service; }\n"
	"add chain ip berth ports\n"
	"add chain ip berth prerouting { type nat hook prerouting priority dstnat; policy accept; }\n"
	"add chain ip berth output { type nat hook output priority -100; policy accept; }\n"
	"add chain ip berth postrouting { type nat hook postrouting priority srcnat; policy accept; }\n"
	"add chain ip berth forward { type filter hook forward priority filter; policy accept; }\n"
	"flush chain ip berth ports\n"
	"flush chain ip berth prerouting\n"
	"flush chain ip berth output\n"
	"flush chain ip berth postrouting\n"
	"flush chain ip berth forward\n"
	"add rule ip berth prerouting fib daddr type local jump ports\n"
	"add rule ip berth output fib daddr type local jump ports\n"
	"add rule ip berth ports meta l4proto tcp dnat ip to ip daddr . tcp dport map @tcp_ip\n"
	"add rule ip berth ports meta l4proto tcp dnat ip to tcp dport map @tcp_any\n"
	"add rule ip berth ports meta l4proto udp dnat ip to ip daddr . udp dport map @udp_ip\n"
	"add rule ip berth ports meta l4proto udp dnat ip to udp dport map @udp_any\n";

static int nft_run(const char *script, berth_error **err)
{
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	if (ctx == NULL)
		return berth_error_set(err, 500, "nftables: cannot make a context");
	nft_ctx_buffer_output(ctx);
	nft_ctx_buffer_error(ctx);
	int rc = nft_run_cmd_from_buffer(ctx, script);
	if (rc != 0) {
		const char *msg = nft_ctx_get_error_buffer(ctx);
		berth_error_set(err, 500, "nftables: %s", msg && *msg ? msg : "failed");
		berth_debug("nftables script that failed:\n%s", script);
	}
	nft_ctx_free(ctx);
	return rc != 0 ? -1 : 0;
}

char *net_fw_rules(berth_network_store *s)
{
	berth_buf b = {0};
	for (net_network *n = s->list; n; n = n->next) {
		if (!n->is_bridge)
			continue;
		char *cidr cleanup_free = net_cidr_str(n->subnet, n->prefix);
		const char *br = n->bridge;
		if (n->internal) {
			berth_buf_printf(&b, "add rule ip berth forward iifname \"%s\" oifname != \"%s\" drop\n"
					     "add rule ip berth forward oifname \"%s\" iifname != \"%s\" drop\n",
					 br, br, br, br);
			continue;
		}
		berth_buf_printf(&b, "add rule ip berth postrouting ip saddr %s oifname != \"%s\" masquerade\n"
				     "add rule ip berth postrouting oifname \"%s\" ip saddr 127.0.0.0/8 masquerade\n"
				     "add rule ip berth postrouting iifname \"%s\" oifname \"%s\" ct status dnat masquerade\n",
				 cidr, br, br, br, br);
		/* networks are isolated from each other, as dockerd does */
		for (net_network *o = s->list; o; o = o->next)
			if (o != n && o->is_bridge)
				berth_buf_printf(&b, "add rule ip berth forward iifname \"%s\" oifname \"%s\" drop\n",
						 br, o->bridge);
	}
	berth_buf_puts(&b, "");
	return berth_buf_steal(&b);
}

int net_fw_apply(berth_network_store *s, berth_error **err)
{
	if (!s->firewall)
		return 0;
	pthread_mutex_lock(&s->fw_lock);
	char *script = berth_xasprintf("%s%s", table_def, s->fw_rules ? s->fw_rules : "");
	int rc = nft_run(script, err);
	pthread_mutex_unlock(&s->fw_lock);
	free(script);
	return rc;
}

int net_fw_ports(berth_network_store *s, const net_port *ports, uint32_t ip, bool add,
		 berth_error **err)
{
	if (!s->firewall || ports == NULL)
		return 0;
	berth_buf b cleanup_buf = {0};
	char *to cleanup_free = net_ip_str(ip);
	for (const net_port *p = ports; p; p = p->next) {
		const char *proto = p->proto == IPPROTO_UDP ? "udp" : "tcp";
		char *hip cleanup_free = net_ip_str(p->host_ip);
		if (p->host_ip)
			berth_buf_printf(&b, "%s element ip berth %s_ip { %s . %u : %s . %u }\n",
					 add ? "add" : "delete", proto, hip, p->host_port, to,
					 p->container_port);
		else
			berth_buf_printf(&b, "%s element ip berth %s_any { %u : %s . %u }\n",
					 add ? "add" : "delete", proto, p->host_port, to,
					 p->container_port);
	}
	/* a delete names the key only */
	if (!add) {
		for (char *c = b.data; (c = strstr(c, " : ")) != NULL;) {
			char *end = strchr(c, '}');
			memmove(c, end - 1, strlen(end - 1) + 1);
		}
	}
	pthread_mutex_lock(&s->fw_lock);
	int rc = nft_run(b.data, err);
	pthread_mutex_unlock(&s->fw_lock);
	return rc;
}

void net_fw_remove(berth_network_store *s)
{
	if (!s->firewall)
		return;
	pthread_mutex_lock(&s->fw_lock);
	berth_error *e cleanup_error = NULL;
	if (nft_run("delete table ip berth\n", &e) < 0)
		berth_debug("%s", e->msg);
	pthread_mutex_unlock(&s->fw_lock);
}
