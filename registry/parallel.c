/* parallel.c - the worker pool of parallel pulls and pushes. */
#include <stdlib.h>

#include "internal.h"

typedef struct pool {
	size_t n, next;
	reg_item_fn fn;
	void *ud;
	bool *cancel;
	pthread_mutex_t mu;
	berth_error *err;
} pool;

static void *worker(void *arg)
{
	pool *p = arg;
	for (;;) {
		pthread_mutex_lock(&p->mu);
		size_t i = __atomic_load_n(p->cancel, __ATOMIC_RELAXED) ? p->n : p->next;
		if (i < p->n)
			p->next++;
		pthread_mutex_unlock(&p->mu);
		if (i >= p->n)
			return NULL;
		berth_error *e = NULL;
		if (p->fn(p->ud, i, &e) < 0) {
			pthread_mutex_lock(&p->mu);
			/* the first error is the cause; later ones are its cancellations */
			if (p->err == NULL)
				p->err = e;
			else
				berth_error_free(&e);
			__atomic_store_n(p->cancel, true, __ATOMIC_RELAXED);
			pthread_mutex_unlock(&p->mu);
		}
	}
}

int reg_parallel(size_t n, int nthreads, reg_item_fn fn, void *ud, bool *cancel,
		 berth_error **err)
{
	pool p = {.n = n, .fn = fn, .ud = ud, .cancel = cancel};
	pthread_mutex_init(&p.mu, NULL);
	size_t want = nthreads > 0 ? (size_t)nthreads : 1;
	if (want > n)
		want = n;
	pthread_t *threads = berth_xcalloc(want + 1, sizeof(*threads));
	size_t started = 0;
	for (size_t i = 1; i < want; i++)
		if (pthread_create(&threads[started], NULL, worker, &p) == 0)
			started++;
	worker(&p);
	for (size_t i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	free(threads);
	pthread_mutex_destroy(&p.mu);
	return p.err ? berth_error_propagate(&p.err, err) : 0;
}
