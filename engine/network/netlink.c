/*
 * netlink.c - links, addresses and routes through rtnetlink (libmnl):
 * one socket and a few messages per container instead of several ip(8)
 * processes. Blocking: pool threads only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

typedef struct nl_sock {
	struct mnl_socket *nl;
	unsigned seq;
	char buf[8192];
} nl_sock;

static void nl_close(nl_sock **s)
{
	if (*s) {
		mnl_socket_close((*s)->nl);
		free(*s);
	}
}
#define cleanup_nl __attribute__((cleanup(nl_close)))

static int nl_open(nl_sock **out, berth_error **err)
{
	nl_sock *s = berth_xcalloc(1, sizeof(*s));
	s->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (s->nl == NULL || mnl_socket_bind(s->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int e = errno;
		if (s->nl)
			mnl_socket_close(s->nl);
		free(s);
		return berth_error_set_errno(err, e, "netlink socket");
	}
	s->seq = (unsigned)time(NULL);
	*out = s;
	return 0;
}

static struct nlmsghdr *nl_msg(nl_sock *s, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *h = mnl_nlmsg_put_header(s->buf);
	h->nlmsg_type = type;
	h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	h->nlmsg_seq = ++s->seq;
	return h;
}

/* Sends the request and reads its acknowledgement. */
static int nl_talk(nl_sock *s, struct nlmsghdr *h, const char *what, berth_error **err)
{
	if (mnl_socket_sendto(s->nl, h, h->nlmsg_len) < 0)
		return berth_error_set_errno(err, errno, "netlink %s", what);
	char rbuf[MNL_SOCKET_BUFFER_SIZE];
	ssize_t n = mnl_socket_recvfrom(s->nl, rbuf, sizeof(rbuf));
	int rc = n < 0 ? -1 : mnl_cb_run(rbuf, (size_t)n, h->nlmsg_seq, mnl_socket_get_portid(s->nl),
					 NULL, NULL);
	if (rc < 0)
		return berth_error_set_errno(err, errno, "%s", what);
	return 0;
}

static struct ifinfomsg *link_msg(nl_sock *s, uint16_t type, uint16_t flags, int index)
{
	struct nlmsghdr *h = nl_msg(s, type, flags);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(h, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = index;
	return ifi;
}

/* Up, with an MTU when mtu > 0 (a bridge without ports ignores the one it
 * was created with). */
static int link_up_mtu(nl_sock *s, int index, int mtu, berth_error **err)
{
	struct ifinfomsg *ifi = link_msg(s, RTM_NEWLINK, 0, index);
	ifi->ifi_change = IFF_UP;
	ifi->ifi_flags = IFF_UP;
	if (mtu > 0)
		mnl_attr_put_u32((struct nlmsghdr *)s->buf, IFLA_MTU, (uint32_t)mtu);
	return nl_talk(s, (struct nlmsghdr *)s->buf, "set link up", err);
}

static int link_up(nl_sock *s, int index, berth_error **err)
{
	return link_up_mtu(s, index, 0, err);
}

static int addr_add(nl_sock *s, int index, uint32_t ip, int prefix, berth_error **err)
{
	struct nlmsghdr *h = nl_msg(s, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(h, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = (unsigned char)prefix;
	ifa->ifa_index = (unsigned)index;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	uint32_t a = htonl(ip), b = htonl(ip | ~net_mask(prefix));
	mnl_attr_put_u32(h, IFA_LOCAL, a);
	mnl_attr_put_u32(h, IFA_ADDRESS, a);
	if (prefix < 31)
		mnl_attr_put_u32(h, IFA_BROADCAST, b);
	return nl_talk(s, h, "add address", err);
}

static int route_default(nl_sock *s, int index, uint32_t gw, berth_error **err)
{
	struct nlmsghdr *h = nl_msg(s, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
	struct rtmsg *rt = mnl_nlmsg_put_extra_header(h, sizeof(*rt));
	rt->rtm_family = AF_INET;
	rt->rtm_table = RT_TABLE_MAIN;
	rt->rtm_protocol = RTPROT_BOOT;
	rt->rtm_scope = RT_SCOPE_UNIVERSE;
	rt->rtm_type = RTN_UNICAST;
	mnl_attr_put_u32(h, RTA_GATEWAY, htonl(gw));
	mnl_attr_put_u32(h, RTA_OIF, (uint32_t)index);
	return nl_talk(s, h, "add default route", err);
}

int nl_sysctl_write(const char *path, const char *value, berth_error **err)
{
	int fd cleanup_close = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || berth_write_all(fd, value, strlen(value)) < 0)
		return berth_error_set_errno(err, errno, "write %s", path);
	return 0;
}

/* berth's networks are IPv4 only: no link-local IPv6 chatter (router
 * solicitations, MLD) on bridges and veths; sysctls under /proc/sys/net
 * are those of the calling thread's namespace. A kernel without IPv6 has
 * no such file. */
static void no_ipv6(const char *ifname)
{
	char *path cleanup_free = berth_xasprintf("/proc/sys/net/ipv6/conf/%s/disable_ipv6", ifname);
	nl_sysctl_write(path, "1", NULL);
}

int nl_bridge_add(const char *name, uint32_t ip, int prefix, int mtu, berth_error **err)
{
	nl_sock *s cleanup_nl = NULL;
	if (nl_open(&s, err) < 0)
		return -1;
	unsigned index = if_nametoindex(name);
	if (index == 0) {
		link_msg(s, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0);
		struct nlmsghdr *h = (struct nlmsghdr *)s->buf;
		mnl_attr_put_strz(h, IFLA_IFNAME, name);
		if (mtu > 0)
			mnl_attr_put_u32(h, IFLA_MTU, (uint32_t)mtu);
		struct nlattr *li = mnl_attr_nest_start(h, IFLA_LINKINFO);
		mnl_attr_put_strz(h, IFLA_INFO_KIND, "bridge");
		mnl_attr_nest_end(h, li);
		if (nl_talk(s, h, "create bridge", err) < 0)
			return berth_error_wrap(err, "bridge %s", name);
		index = if_nametoindex(name);
		no_ipv6(name);
		berth_error *e cleanup_error = NULL;
		if (addr_add(s, (int)index, ip, prefix, &e) < 0 && e->errnum != EEXIST)
			return berth_error_propagate(&e, err);
	}
	if (link_up_mtu(s, (int)index, mtu, err) < 0)
		return -1;
	/* published ports answer on 127.0.0.1: DNAT'd loopback packets must
	 * be allowed to leave through the bridge */
	char *rl cleanup_free = berth_xasprintf("/proc/sys/net/ipv4/conf/%s/route_localnet", name);
	if (nl_sysctl_write(rl, "1", err) < 0 ||
	    nl_sysctl_write("/proc/sys/net/ipv4/ip_forward", "1", err) < 0)
		return -1;
	return 0;
}

int nl_link_del(const char *name, berth_error **err)
{
	unsigned index = if_nametoindex(name);
	if (index == 0)
		return 0;
	nl_sock *s cleanup_nl = NULL;
	if (nl_open(&s, err) < 0)
		return -1;
	link_msg(s, RTM_DELLINK, 0, (int)index);
	return nl_talk(s, (struct nlmsghdr *)s->buf, "delete link", err);
}

typedef struct peer_cfg {
	const char *name;
	const uint8_t *mac;
	uint32_t ip, gw;
	int prefix;
} peer_cfg;

/* Inside the container's namespace: address, up, default route. */
static int peer_configure(void *arg, berth_error **err)
{
	const peer_cfg *p = arg;
	nl_sock *s cleanup_nl = NULL;
	if (nl_open(&s, err) < 0)
		return -1;
	int index = (int)if_nametoindex(p->name);
	if (index == 0)
		return berth_error_set_errno(err, errno, "%s in the container", p->name);
	no_ipv6(p->name);
	if (addr_add(s, index, p->ip, p->prefix, err) < 0 || link_up(s, index, err) < 0)
		return -1;
	if (p->gw && route_default(s, index, p->gw, err) < 0)
		return -1;
	return 0;
}

int nl_veth_add(const char *host, const char *master, int mtu, int netns_fd, const char *peer,
		const uint8_t mac[6], uint32_t ip, int prefix, uint32_t gw, berth_error **err)
{
	nl_sock *s cleanup_nl = NULL;
	if (nl_open(&s, err) < 0)
		return -1;
	unsigned master_index = if_nametoindex(master);
	if (master_index == 0)
		return berth_error_set(err, 500, "bridge %s is missing", master);
	link_msg(s, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0);
	struct nlmsghdr *h = (struct nlmsghdr *)s->buf;
	mnl_attr_put_strz(h, IFLA_IFNAME, host);
	mnl_attr_put_u32(h, IFLA_MASTER, master_index);
	if (mtu > 0)
		mnl_attr_put_u32(h, IFLA_MTU, (uint32_t)mtu);
	struct nlattr *li = mnl_attr_nest_start(h, IFLA_LINKINFO);
	mnl_attr_put_strz(h, IFLA_INFO_KIND, "veth");
	struct nlattr *data = mnl_attr_nest_start(h, IFLA_INFO_DATA);
	struct nlattr *pe = mnl_attr_nest_start(h, VETH_INFO_PEER);
	struct ifinfomsg *pifi = mnl_nlmsg_put_extra_header(h, sizeof(*pifi));
	pifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(h, IFLA_IFNAME, peer);
	mnl_attr_put_u32(h, IFLA_NET_NS_FD, (uint32_t)netns_fd);
	mnl_attr_put(h, IFLA_ADDRESS, 6, mac);
	if (mtu > 0)
		mnl_attr_put_u32(h, IFLA_MTU, (uint32_t)mtu);
	mnl_attr_nest_end(h, pe);
	mnl_attr_nest_end(h, data);
	mnl_attr_nest_end(h, li);
	if (nl_talk(s, h, "create veth pair", err) < 0)
		return berth_error_wrap(err, "veth %s", host);
	int index = (int)if_nametoindex(host);
	no_ipv6(host);
	if (index == 0 || link_up(s, index, err) < 0) {
		nl_link_del(host, NULL);
		return berth_error_set(err, 500, "veth %s: cannot bring it up", host);
	}
	peer_cfg pc = {peer, mac, ip, gw, prefix};
	if (netns_run(netns_fd, peer_configure, &pc, err) < 0) {
		nl_link_del(host, NULL);
		return -1;
	}
	return 0;
}

static int lo_up(void *arg, berth_error **err)
{
	nl_sock *s cleanup_nl = NULL;
	if (nl_open(&s, err) < 0)
		return -1;
	return link_up(s, (int)if_nametoindex("lo"), err);
}

int nl_lo_up(int netns_fd, berth_error **err)
{
	return netns_run(netns_fd, lo_up, NULL, err);
}
