/*
 * loop.c - a poll(2) loop. The shim watches a handful of fds (the container's
 * output, a few sockets, a signalfd), so poll over a small array is as fast
 * as epoll here and keeps the shim one thread and a few pages of memory.
 *
 * Watches and timers live in arrays of pointers. Removing one only clears its
 * slot (compacted before the next poll), so callbacks may add and remove
 * watches, their own included, while the loop dispatches.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "shim/internal.h"

struct shim_loop {
	shim_watch **w;
	size_t nw, cw;
	shim_timer **t;
	size_t nt, ct;
	struct pollfd *pfd;
	size_t cpfd;
	bool stop;
};

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

shim_loop *shim_loop_new(void)
{
	return berth_xcalloc(1, sizeof(shim_loop));
}

void shim_loop_free(shim_loop *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->nw; i++)
		if (l->w[i])
			l->w[i]->slot = -1;
	for (size_t i = 0; i < l->nt; i++)
		if (l->t[i])
			l->t[i]->slot = -1;
	free(l->w);
	free(l->t);
	free(l->pfd);
	free(l);
}

void shim_loop_add(shim_loop *l, shim_watch *w, int fd, short events, shim_watch_cb cb, void *data)
{
	w->fd = fd;
	w->events = events;
	w->cb = cb;
	w->data = data;
	if (l->nw == l->cw) {
		l->cw = l->cw ? l->cw * 2 : 8;
		l->w = berth_xrealloc(l->w, l->cw * sizeof(*l->w));
	}
	w->slot = (long)l->nw;
	l->w[l->nw++] = w;
}

void shim_loop_remove(shim_loop *l, shim_watch *w)
{
	/* Also safe on a zeroed watch that was never added. */
	if (w->slot < 0 || (size_t)w->slot >= l->nw || l->w[w->slot] != w)
		return;
	l->w[w->slot] = NULL;
	w->slot = -1;
}

void shim_timer_start(shim_loop *l, shim_timer *t, int64_t after_ms, void (*cb)(shim_timer *),
		      void *data)
{
	shim_timer_stop(l, t);
	t->deadline_ns = mono_ns() + after_ms * 1000000LL;
	t->cb = cb;
	t->data = data;
	if (l->nt == l->ct) {
		l->ct = l->ct ? l->ct * 2 : 4;
		l->t = berth_xrealloc(l->t, l->ct * sizeof(*l->t));
	}
	t->slot = (long)l->nt;
	l->t[l->nt++] = t;
}

void shim_timer_stop(shim_loop *l, shim_timer *t)
{
	if (t->slot < 0 || (size_t)t->slot >= l->nt || l->t[t->slot] != t)
		return;
	l->t[t->slot] = NULL;
	t->slot = -1;
}

void shim_loop_stop(shim_loop *l)
{
	l->stop = true;
}

/* Drops the cleared slots, renumbering the rest. */
static void compact(shim_loop *l)
{
	size_t j = 0;
	for (size_t i = 0; i < l->nw; i++) {
		if (l->w[i] == NULL)
			continue;
		l->w[j] = l->w[i];
		l->w[j]->slot = (long)j;
		j++;
	}
	l->nw = j;
	j = 0;
	for (size_t i = 0; i < l->nt; i++) {
		if (l->t[i] == NULL)
			continue;
		l->t[j] = l->t[i];
		l->t[j]->slot = (long)j;
		j++;
	}
	l->nt = j;
}

static int next_timeout_ms(shim_loop *l)
{
	if (l->nt == 0)
		return -1;
	int64_t now = mono_ns(), min = INT64_MAX;
	for (size_t i = 0; i < l->nt; i++)
		if (l->t[i]->deadline_ns < min)
			min = l->t[i]->deadline_ns;
	if (min <= now)
		return 0;
	int64_t ms = (min - now + 999999) / 1000000;
	return ms > 60000 ? 60000 : (int)ms;
}

static void run_timers(shim_loop *l)
{
	int64_t now = mono_ns();
	size_t n = l->nt;
	for (size_t i = 0; i < n; i++) {
		shim_timer *t = l->t[i];
		if (t == NULL || t->deadline_ns > now)
			continue;
		l->t[i] = NULL;
		t->slot = -1;
		t->cb(t);
	}
}

static void dispatch(shim_loop *l, size_t n)
{
	for (size_t i = 0; i < n && !l->stop; i++) {
		if (l->pfd[i].revents == 0 || l->w[i] == NULL)
			continue;
		shim_watch *w = l->w[i];
		w->cb(w, l->pfd[i].revents);
	}
}

void shim_loop_run(shim_loop *l)
{
	l->stop = false;
	while (!l->stop) {
		compact(l);
		if (l->cpfd < l->nw) {
			l->cpfd = l->nw;
			l->pfd = berth_xrealloc(l->pfd, l->cpfd * sizeof(*l->pfd));
		}
		size_t n = l->nw;
		for (size_t i = 0; i < n; i++) {
			l->pfd[i].fd = l->w[i]->fd;
			l->pfd[i].events = l->w[i]->events;
			l->pfd[i].revents = 0;
		}
		int r = poll(l->pfd, n, next_timeout_ms(l));
		if (r < 0 && errno != EINTR) {
			shim_log("poll: %s", strerror(errno));
			return;
		}
		if (r > 0)
			dispatch(l, n);
		if (!l->stop)
			run_timers(l);
	}
}
