/*
 * network.h - container networking: bridge networks with IPAM, a veth pair
 * per container endpoint, outbound NAT and published ports (nftables), and
 * the container's network namespace.
 *
 * On disk:
 *   <data-root>/network/<id>.json   one network's inspect document (without
 *                                   Containers), written atomically
 *   <exec-root>/netns/<container>   the container's network namespace, a
 *                                   bind-mounted nsfs file that outlives berthd
 *
 * The container records are the truth about endpoints: a container's
 * NetworkSettings.Networks names its networks, addresses and aliases, and a
 * restarted berthd rebuilds its endpoints from the running containers
 * (berth_network_restore).
 *
 * Threads: the store belongs to the loop. Work that blocks (netlink, the
 * namespace, nftables) runs on pool threads through berth_network_setup and
 * berth_network_teardown, on the opaque berth_network_sandbox the loop made.
 */
#ifndef BERTH_NETWORK_H
#define BERTH_NETWORK_H

#include "common.h"

typedef struct berth_daemon berth_daemon;
typedef struct berth_network_store berth_network_store;
typedef struct berth_network_sandbox berth_network_sandbox;

/* Loads the networks, creates the default bridge (daemon.json "bridge",
 * "bip", "default-address-pools", "mtu"; bridge "none": no default bridge)
 * and berth's nftables table. */
int berth_network_store_open(berth_daemon *d, berth_network_store **out, berth_error **err);
/* Removes the bridges and the firewall table when no container uses them
 * (a clean shutdown with no running container leaves nothing behind). */
void berth_network_store_close(berth_network_store *s);

/* ------------------------------------------------------------- the API */

/* GET /networks (filters: driver, id, label, name, scope, type, dangling)
 * and GET /networks/{id} (with its Containers). Loop, non-blocking. */
int berth_network_list(berth_network_store *s, const berth_filters *f, json_t **out,
		       berth_error **err);
int berth_network_inspect(berth_network_store *s, const char *name, json_t **out,
			  berth_error **err);

/*
 * Create, remove and prune change devices and the firewall: each begins on
 * the loop (validates, takes the name or the networks out of use), runs its
 * blocking part with berth_network_op_run on a pool thread, and ends on the
 * loop with berth_network_op_finish, which publishes the events, gives the
 * reply body (create: {"Id", "Warning"}; prune: {"NetworksDeleted"}; remove:
 * NULL) and frees the op.
 */
typedef struct berth_network_op berth_network_op;
int berth_network_create(berth_network_store *s, const json_t *body, berth_network_op **op,
			 berth_error **err);
int berth_network_remove(berth_network_store *s, const char *name, berth_network_op **op,
			 berth_error **err);
int berth_network_prune(berth_network_store *s, const berth_filters *f, berth_network_op **op,
			berth_error **err);
int berth_network_op_run(berth_network_op *op, berth_error **err);
int berth_network_op_finish(berth_network_op *op, berth_error *work_err, json_t **result,
			    berth_error **err);

/* ------------------------------------------------------ container hooks */

/* Container create: fills record's NetworkSettings.Networks from
 * HostConfig.NetworkMode and the request's NetworkingConfig (404 for an
 * unknown network, 400 for --ip outside the subnet or on the default bridge). */
int berth_network_container_create(berth_network_store *s, json_t *record,
				   const json_t *networking_config, berth_error **err);

/* Start (loop): allocates addresses and host ports for the record's networks
 * and returns what the pool thread sets up. NULL *out: the container has no
 * network of berth's (host, none handled by runc, container:X). */
int berth_network_prepare(berth_network_store *s, const json_t *record,
			  berth_network_sandbox **out, berth_error **err);
/* Start (pool thread): the namespace, veth pairs, addresses, routes, port
 * rules and the container's /etc/hosts and resolv.conf. */
int berth_network_setup(berth_network_sandbox *sb, berth_error **err);
/* The namespace file runc joins. */
const char *berth_network_sandbox_path(const berth_network_sandbox *sb);
/* Start done (loop): writes NetworkSettings into the record, registers the
 * endpoints and publishes "connect" events. Frees sb. */
void berth_network_commit(berth_network_store *s, berth_network_sandbox *sb, json_t *record);
/* Start failed (loop): releases what prepare took. Frees sb. Call
 * berth_network_teardown first when setup ran. */
void berth_network_abort(berth_network_store *s, berth_network_sandbox *sb);

/* Exit (loop): forgets the container's endpoints, clears the addresses in
 * the record and returns what the pool thread tears down (NULL: nothing). */
berth_network_sandbox *berth_network_release(berth_network_store *s, json_t *record);
/* Exit (pool thread): port rules and the namespace. Safe on NULL. */
void berth_network_teardown(berth_network_sandbox *sb);
void berth_network_sandbox_free(berth_network_sandbox *sb);

/* berthd restarted (loop): re-registers a running container's endpoints. */
void berth_network_restore(berth_network_store *s, const json_t *record);

/* POST /networks/{id}/connect and /disconnect (loop): updates the record's
 * NetworkSettings.Networks. For a running container (running true) *out is
 * the blocking part: berth_network_setup (connect) or berth_network_teardown
 * (disconnect) on a pool thread, then berth_network_commit on the loop
 * (connect) or berth_network_sandbox_free (disconnect). */
int berth_network_connect(berth_network_store *s, json_t *record, const char *network,
			  const json_t *endpoint_config, bool running,
			  berth_network_sandbox **out, berth_error **err);
int berth_network_disconnect(berth_network_store *s, json_t *record, const char *network,
			     bool running, berth_network_sandbox **out, berth_error **err);

#endif
