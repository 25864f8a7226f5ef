/*
 * ops.c - blocking work on a container, one operation at a time.
 *
 * Start, stop, remove... each touch the container's mounts, bundle and shim;
 * running them in order per container (in the thread pool) means none of
 * them needs a lock, and the loop only ever sees finished results.
 */
#include <stdlib.h>

#include "internal.h"

struct container_op {
	uv_work_t work;
	berth_container *c;
	container_work_fn work_fn;
	container_done_fn done_fn;
	void *data;
	berth_error *err;
	container_op *next;
};

static void op_run_next(berth_container *c);

static void op_work(uv_work_t *w)
{
	container_op *op = w->data;
	if (op->work_fn && op->work_fn(op->data, &op->err) < 0 && op->err == NULL)
		berth_error_set(&op->err, 500, "operation failed");
}

static void op_done(uv_work_t *w, int status)
{
	container_op *op = w->data;
	berth_container *c = op->c;
	c->ops = op->next;
	c->op_running = false;
	/* done may queue more work; whichever is first runs next */
	op->done_fn(c, op->data, op->err);
	berth_error_free(&op->err);
	free(op);
	if (c->ops && !c->op_running)
		op_run_next(c);
	container_unref(c);
}

static void op_run_next(berth_container *c)
{
	container_op *op = c->ops;
	c->op_running = true;
	uv_queue_work(c->store->daemon->loop, &op->work, op_work, op_done);
}

static void op_done_now(uv_work_t *w, int status)
{
	container_op *op = w->data;
	berth_container *c = op->c;
	op->done_fn(c, op->data, op->err);
	berth_error_free(&op->err);
	free(op);
	container_unref(c);
}

static container_op *op_new(berth_container *c, container_work_fn work, container_done_fn done,
			    void *data)
{
	container_op *op = berth_xcalloc(1, sizeof(*op));
	op->work.data = op;
	op->c = c;
	op->work_fn = work;
	op->done_fn = done;
	op->data = data;
	container_ref(c);
	return op;
}

void container_op_run_now(berth_container *c, container_work_fn work, container_done_fn done,
			  void *data)
{
	container_op *op = op_new(c, work, done, data);
	uv_queue_work(c->store->daemon->loop, &op->work, op_work, op_done_now);
}

void container_op_queue(berth_container *c, container_work_fn work, container_done_fn done,
			void *data)
{
	container_op *op = op_new(c, work, done, data);
	container_op **tail = &c->ops;
	while (*tail)
		tail = &(*tail)->next;
	*tail = op;
	if (!c->op_running)
		op_run_next(c);
}
