/* logs.h - prefixed, coloured log lines from several containers at once. */
#ifndef BERTH_COMPOSE_LOGS_H
#define BERTH_COMPOSE_LOGS_H

#include <pthread.h>

#include "engine.h"

typedef struct compose_log_printer {
	const berth_compose_ctx *c;
	pthread_mutex_t mu; /* one line at a time on out */
	pthread_cond_t cond; /* a reader is done */
	void **readers;
	size_t n;
} compose_log_printer;

void compose_log_printer_init(compose_log_printer *pr, const berth_compose_ctx *c);
/* The width prefixes are padded to: the longest container name. */
int compose_log_name_width(const json_t *containers);
/* "name  | " padded to width, coloured by index on a terminal. */
char *compose_log_prefix(const compose_log_printer *pr, const char *name, int index, int width);
/* Starts a reader thread for a container's logs (query: "&follow=1...");
 * *handle (may be NULL) names it for compose_log_reader_drain. */
int compose_log_printer_add(compose_log_printer *pr, const json_t *container, const char *query,
			    const char *prefix, void **handle, berth_error **err);
/* Blocks until that reader's stream ended and its lines are out. */
void compose_log_reader_drain(compose_log_printer *pr, void *handle);
void compose_log_line(compose_log_printer *pr, const char *prefix, const char *line, size_t len);
/* Joins the readers (they end with their streams) and frees them. */
void compose_log_printer_wait(compose_log_printer *pr);

#endif
