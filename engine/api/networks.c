/*
 * networks.c - the network API group: list, inspect, create, remove, prune,
 * connect and disconnect. Create, remove and prune change devices and the
 * firewall: their blocking part runs in the thread pool (engine/network's
 * berth_network_op); connect and disconnect go through the container's
 * queue of operations.
 */
#include <stdlib.h>

#include "api.h"
#include "engine/container/container.h"
#include "engine/engine.h"
#include "engine/network/network.h"

static int networks_list(berth_daemon *d, berth_api_req *req, berth_error **err)
{
	berth_filters *f cleanup_filters = NULL;
	json_t *out = NULL;
	if (berth_filters_parse(berth_api_query(req, "filters"), &f, err) < 0 ||
	    berth_network_list(d->networks, f, &out, err) < 0)
		return -1;
	return berth_api_reply_json(req, 200, out);
}

static int networks_inspect(berth_daemon *d, berth_api_req *req, berth_error **err)
{
	json_t *out = NULL;
	if (berth_network_inspect(d->networks, berth_api_param(req, "id"), &out, err) < 0)
		return -1;
	return berth_api_reply_json(req, 200, out);
}

/* ------------------------------------------- create, remove, prune */

typedef struct op_job {
	berth_network_op *op;
	int status;
} op_job;

static int op_work(void *ud, berth_error **err)
{
	op_job *j = ud;
	return berth_network_op_run(j->op, err);
}

static int op_done(berth_daemon *d, berth_api_req *req, void *ud, berth_error *work_err,
		   berth_error **err)
{
	op_job *j = ud;
	json_t *result = NULL;
	int rc = berth_network_op_finish(j->op, work_err, &result, err);
	int status = j->status;
	free(j);
	if (rc < 0 || req == NULL) {
		json_decref(result);
		return rc;
	}
	if (result == NULL)
		return berth_api_reply_empty(req, status);
	return berth_api_reply_json(req, status, result);
}

static int run_op(berth_daemon *d, berth_api_req *req, berth_network_op *op, int status)
{
	op_job *j = berth_xcalloc(1, sizeof(*j));
	j->op = op;
	j->status = status;
	return berth_api_defer(d, req, op_work, op_done, j);
}

static int networks_create(berth_daemon *d, berth_api_req *req, berth_error **err)
{
	json_t *body cleanup_json = NULL;
	berth_network_op *op = NULL;
	if (berth_api_body_json(req, false, &body, err) < 0 ||
	    berth_network_create(d->networks, body, &op, err) < 0)
		return -1;
	return run_op(d, req, op, 201);
}

static int networks_remove(berth_daemon *d, berth_api_req *req, berth_error **err)
{
	berth_network_op *op = NULL;
	if (berth_network_remove(d->networks, berth_api_param(req, "id"), &op, err) < 0)
		return -1;
	return run_op(d, req, op, 204);
}

static int networks_prune(berth_daemon *d, berth_api_req *req, berth_error **err)
{
	berth_filters *f cleanup_filters = NULL;
	berth_network_op *op = NULL;
	if (berth_filters_parse(berth_api_query(req, "filters"), &f, err) < 0 ||
	    berth_network_prune(d->networks, f, &op, err) < 0)
		return -1;
	return run_op(d, req, op, 200);
}

/* ------------------------------------------------ connect, disconnect */

static int connect_or_disconnect(berth_daemon *d, berth_api_req *req, bool connect,
				 berth_error **err)
{
	json_t *body cleanup_json = NULL;
	if (berth_api_body_json(req, false, &body, err) < 0)
		return -1;
	return berth_container_network(d->containers, req, berth_api_param(req, "id"), body,
				       connect, err);
}

static int networks_connect(berth_daemon *d, berth_api_req *req, berth_error **err)
{
	return connect_or_disconnect(d, req, true, err);
}

static int networks_disconnect(berth_daemon *d, berth_api_req *req, berth_error **err)
{
	return connect_or_disconnect(d, req, false, err);
}

const berth_api_route berth_api_network_routes[] = {
	{"GET", "/networks", networks_list},
	{"POST", "/networks/create", networks_create},
	{"POST", "/networks/prune", networks_prune},
	{"GET", "/networks/{id}", networks_inspect},
	{"DELETE", "/networks/{id}", networks_remove},
	{"POST", "/networks/{id}/connect", networks_connect},
	{"POST", "/networks/{id}/disconnect", networks_disconnect},
	{NULL, NULL, NULL},
};
