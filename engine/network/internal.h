/* internal.h - shared by the files of engine/network; not for other modules. */
#ifndef BERTH_NETWORK_INTERNAL_H
#define BERTH_NETWORK_INTERNAL_H

#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <uv.h>

#include "engine/engine.h"
#include "network.h"

typedef struct net_endpoint net_endpoint;
typedef struct net_port net_port;
typedef struct net_dns net_dns;
typedef struct net_ctr net_ctr;

/* One network. Addresses are host byte order. */
typedef struct net_network {
	char id[65];
	char *name;
	json_t *record;             /* inspect document without Containers */
	char bridge[IFNAMSIZ];
	uint32_t subnet, gateway;
	int prefix;
	uint32_t range_lo, range_hi; /* IPRange, else the subnet's hosts */
	int mtu;
	bool internal;
	bool builtin;               /* bridge, host, none: never removed */
	bool is_bridge;             /* has a bridge device (not host/none) */
	bool is_default;            /* the default "bridge": /etc/hosts, links */
	net_endpoint *eps;
	struct net_network *next;
} net_network;

struct net_port {
	int proto;                  /* IPPROTO_TCP or IPPROTO_UDP */
	uint16_t container_port, host_port;
	uint32_t host_ip;           /* 0: every address */
	int fd;                     /* holds the host port while published */
	net_port *next;
};

/* A container on a network. */
struct net_endpoint {
	char container[65];
	char *cname;
	char *hostname;
	char endpoint_id[65];
	net_network *net;
	uint32_t ip;
	uint8_t mac[6];
	char veth[IFNAMSIZ];
	json_t *aliases;            /* strings, as given */
	net_endpoint *next;         /* on net->eps */
};

/* A running container on berth's networks: its published ports. */
struct net_ctr {
	char id[65];
	char *netns;                /* its namespace file */
	net_port *ports;
	uint32_t port_ip;           /* where its ports lead */
	net_ctr *next;
};

struct berth_network_store {
	berth_daemon *d;
	char *dir;                  /* <data-root>/network */
	char *netns_dir;            /* <exec-root>/netns */
	net_network *list;
	bool firewall;              /* daemon.json "iptables" (default true) */
	net_ctr *ctrs;              /* running containers with berth's networking */
	pthread_mutex_t fw_lock;    /* held while nft runs */
	char *fw_rules;             /* the chains' desired text, under fw_lock */
	net_dns *dns;               /* embedded DNS servers, one per container */
	struct dns_forward *forwards; /* questions relayed to the host's resolver */
};

/* What berth_network_prepare gives the pool thread. */
struct berth_network_sandbox {
	berth_network_store *store;
	char container[65];
	char *path;                 /* the namespace file */
	bool create_ns;             /* false: it exists (network connect) */
	bool remove_ns;             /* teardown: unmount it */
	net_endpoint **eps;         /* being set up (already holding their addresses) */
	size_t neps;
	int first_eth;              /* eth<N> of eps[0] */
	net_port *ports;            /* host ports published */
	uint32_t port_ip;           /* where they lead */
	bool write_files;           /* /etc/hosts and resolv.conf */
	char *hosts_path, *resolv_path, *hostname;
	json_t *extra_hosts;        /* HostConfig.ExtraHosts */
	json_t *dns, *dns_search, *dns_options;
	json_t *links;              /* "ip\tnames" lines for /etc/hosts */
	bool user_dns;              /* on a user-defined network: 127.0.0.11 */
	int dns_fd;                 /* the embedded DNS socket inside the namespace */
	char (*veth_del)[IFNAMSIZ]; /* teardown: host ends to delete first */
	size_t nveth_del;
};

/* ------------------------------------------------------------- ipam.c */

int net_parse_cidr(const char *s, uint32_t *addr, int *prefix, berth_error **err);
int net_parse_ip(const char *s, uint32_t *addr, berth_error **err);
char *net_ip_str(uint32_t ip);
char *net_cidr_str(uint32_t ip, int prefix);
uint32_t net_mask(int prefix);
/* The lowest free address of the range that no endpoint uses. */
int net_ipam_alloc(net_network *n, uint32_t want, uint32_t *out, berth_error **err);
void net_mac_from_ip(uint32_t ip, uint8_t mac[6]);
char *net_mac_str(const uint8_t mac[6]);

/* ------------------------------------------------------------ store.c */

net_network *net_find(berth_network_store *s, const char *name_or_id);
net_network *net_find_exact(berth_network_store *s, const char *name_or_id);
void net_event(berth_network_store *s, net_network *n, const char *action, const char *container);
/* Regenerates the chains' text (loop) for the pool's net_fw_apply. */
void net_fw_update(berth_network_store *s);

/* ---------------------------------------------------------- netlink.c */

/* Blocking (pool threads). */
int nl_bridge_add(const char *name, uint32_t ip, int prefix, int mtu, berth_error **err);
int nl_link_del(const char *name, berth_error **err);
/* A veth pair: host end `host` on bridge `master`, the other end named
 * `peer` inside the namespace netns_fd, with mac, ip/prefix and a default
 * route via gw (gw 0: none). */
int nl_veth_add(const char *host, const char *master, int mtu, int netns_fd, const char *peer,
		const uint8_t mac[6], uint32_t ip, int prefix, uint32_t gw, berth_error **err);
/* Brings lo up in the namespace. */
int nl_lo_up(int netns_fd, berth_error **err);
int nl_sysctl_write(const char *path, const char *value, berth_error **err);

/* ------------------------------------------------------------ netns.c */

int netns_create(const char *path, berth_error **err);
void netns_remove(const char *path);
/* Runs fn in the namespace on this thread, then comes back. */
int netns_run(int netns_fd, int (*fn)(void *arg, berth_error **err), void *arg,
	      berth_error **err);

/* --------------------------------------------------------- firewall.c */

/* Blocking: applies s->fw_rules (the chains) and the table. */
int net_fw_apply(berth_network_store *s, berth_error **err);
/* Blocking: adds or deletes a container's port map elements. */
int net_fw_ports(berth_network_store *s, const net_port *ports, uint32_t ip, bool add,
		 berth_error **err);
/* Blocking: deletes berth's whole table. */
void net_fw_remove(berth_network_store *s);
/* The chain text for the current networks (loop). */
char *net_fw_rules(berth_network_store *s);

/* ------------------------------------------------------------ ports.c */

/* The container's bindings (PortBindings, PublishAllPorts + ExposedPorts):
 * reserves each host port with a bound socket (ephemeral when empty). */
int net_ports_reserve(const json_t *record, net_port **out, berth_error **err);
void net_ports_free(net_port *p);
/* berthd restarted: holds the host ports of a running container again. */
void net_ports_rebind(net_port *list, const char *container);
/* NetworkSettings.Ports from the container's ports. */
json_t *net_ports_json(const json_t *record, const net_port *ports);

/* -------------------------------------------------------------- dns.c */

/* Serves 127.0.0.11:53 in a container's namespace on fd (taken). */
void net_dns_start(berth_network_store *s, const char *container, int fd);
void net_dns_stop(berth_network_store *s, const char *container);
void net_dns_close_all(berth_network_store *s);
bool net_dns_running(berth_network_store *s, const char *container);
/* Opens the DNS socket inside the namespace (pool thread). */
int net_dns_socket(int netns_fd, int *out, berth_error **err);

#endif
