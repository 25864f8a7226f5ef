/*
 * network.c - POST /networks/{id}/connect and /disconnect on a container:
 * the record changes on the loop; for a running container the veth is made
 * or deleted as one of its queued operations.
 */
#include <stdlib.h>

#include "engine/network/network.h"
#include "internal.h"

typedef struct net_job {
	berth_network_sandbox *sb;
	bool connect;
	berth_api_hold *hold;
} net_job;

static int net_work(void *data, berth_error **err)
{
	net_job *j = data;
	if (j->connect)
		return berth_network_setup(j->sb, err);
	berth_network_teardown(j->sb);
	return 0;
}

static void net_done(berth_container *c, void *data, berth_error *work_err)
{
	net_job *j = data;
	berth_network_store *ns = c->store->daemon->networks;
	berth_api_req *req = j->hold ? berth_api_hold_req(j->hold) : NULL;
	if (j->connect && work_err) {
		berth_network_abort(ns, j->sb);
	} else if (j->connect) {
		berth_network_commit(ns, j->sb, c->record);
	} else {
		berth_network_sandbox_free(j->sb);
	}
	container_save(c, NULL);
	if (req && work_err)
		berth_api_reply_error(req, work_err);
	else if (req)
		berth_api_reply_empty(req, 200);
	berth_api_hold_free(j->hold);
	free(j);
}

int berth_container_network(berth_container_store *s, berth_api_req *req, const char *network,
			    const json_t *body, bool connect, berth_error **err)
{
	const char *name = berth_json_string(body, "Container");
	berth_container *c;
	if (name == NULL || *name == '\0')
		return berth_error_set(err, 400, "container is required");
	if (berth_container_find(s, name, &c, err) < 0)
		return -1;
	bool running = container_running(c);
	berth_network_sandbox *sb = NULL;
	berth_network_store *ns = s->daemon->networks;
	int rc = connect ? berth_network_connect(ns, c->record, network,
						 json_object_get(body, "EndpointConfig"), running, &sb, err)
			 : berth_network_disconnect(ns, c->record, network, running, &sb, err);
	if (rc < 0)
		return -1;
	if (sb == NULL) {
		if (container_save(c, err) < 0)
			return -1;
		return berth_api_reply_empty(req, 200);
	}
	net_job *j = berth_xcalloc(1, sizeof(*j));
	j->sb = sb;
	j->connect = connect;
	j->hold = berth_api_hold_new(req);
	container_op_queue(c, net_work, net_done, j);
	return 0;
}
