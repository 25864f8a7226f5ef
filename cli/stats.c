/*
 * stats.c - `berth stats`: a live table of containers' resource usage.
 *
 * As the docker CLI: one stats stream per container, each read by its own
 * thread on its own connection; the main thread redraws the table every
 * 500 ms (clear screen, then the table). With --no-stream each container's
 * first complete sample (stream=false: precpu already primed by the daemon)
 * is printed once. Without names the list is the daemon's running (or, with
 * -a, all) containers, refreshed at every redraw.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define STATS_DEFAULT_TABLE                                                                  \
	"table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t" \
	"{{.BlockIO}}\t{{.PIDs}}"
#define STATS_REDRAW_US 500000

typedef struct stats_entry {
	char *arg;                  /* the name or ID as given or listed */
	json_t *row;                /* the rendered fields, under the lock */
	char *error;
	bool done;                  /* the stream ended */
	bool seen;                  /* still in the daemon's list */
	pthread_t thread;
	struct stats_table *table;
	struct stats_entry *next;
} stats_entry;

typedef struct stats_table {
	berth_cli *cli;
	pthread_mutex_t lock;
	stats_entry *entries;
	bool stream, no_trunc;
	const char *version;        /* negotiated by the main connection */
} stats_table;

static char *binary_size(double v)
{
	char buf[32];
	berth_human_bytes_binary((int64_t)v, buf, sizeof(buf));
	return berth_xstrdup(buf);
}

static char *decimal_size(double v)
{
	char buf[32];
	berth_human_size((int64_t)v, 3, buf, sizeof(buf));
	return berth_xstrdup(buf);
}

static double num(const json_t *o, const char *key)
{
	return (double)json_integer_value(json_object_get(o, key));
}

/* The docker CLI's calculateCPUPercentUnix. */
static double cpu_percent(const json_t *s)
{
	const json_t *cpu = json_object_get(s, "cpu_stats"), *pre = json_object_get(s, "precpu_stats");
	double cpu_delta = num(json_object_get(cpu, "cpu_usage"), "total_usage") -
			   num(json_object_get(pre, "cpu_usage"), "total_usage");
	double sys_delta = num(cpu, "system_cpu_usage") - num(pre, "system_cpu_usage");
	double ncpu = num(cpu, "online_cpus");
	if (ncpu == 0)
		ncpu = (double)json_array_size(json_object_get(json_object_get(cpu, "cpu_usage"), "percpu_usage"));
	return sys_delta > 0 && cpu_delta > 0 ? cpu_delta / sys_delta * ncpu * 100.0 : 0.0;
}

/* Usage without the page cache that could be dropped (v1 total_inactive_file,
 * v2 inactive_file), as the docker CLI shows it. */
static double mem_usage(const json_t *mem)
{
	const json_t *st = json_object_get(mem, "stats");
	double usage = num(mem, "usage");
	const json_t *inactive = json_object_get(st, "total_inactive_file");
	if (inactive == NULL)
		inactive = json_object_get(st, "inactive_file");
	double v = (double)json_integer_value(inactive);
	return v < usage ? usage - v : usage;
}

static void io_sums(const json_t *s, double *net_rx, double *net_tx, double *blk_r, double *blk_w)
{
	const char *key;
	json_t *n;
	json_object_foreach(json_object_get(s, "networks"), key, n) {
		*net_rx += num(n, "rx_bytes");
		*net_tx += num(n, "tx_bytes");
	}
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(json_object_get(s, "blkio_stats"), "io_service_bytes_recursive"), i, e) {
		const char *op = berth_json_string(e, "op");
		if (op && (*op == 'r' || *op == 'R'))
			*blk_r += num(e, "value");
		else if (op && (*op == 'w' || *op == 'W'))
			*blk_w += num(e, "value");
	}
}

/* One sample as the fields docker's stats templates know. */
static json_t *stats_row(const stats_entry *e, const json_t *s, bool no_trunc)
{
	const json_t *mem = json_object_get(s, "memory_stats");
	double usage = mem_usage(mem), limit = num(mem, "limit");
	double rx = 0, tx = 0, br = 0, bw = 0;
	io_sums(s, &rx, &tx, &br, &bw);
	const char *id = berth_cli_str(s, "id"), *name = berth_cli_str(s, "name");
	char *u cleanup_free = binary_size(usage), *l cleanup_free = binary_size(limit);
	char *r cleanup_free = decimal_size(rx), *t cleanup_free = decimal_size(tx);
	char *bro cleanup_free = decimal_size(br), *bwo cleanup_free = decimal_size(bw);
	char cpu[32], memp[32], pids[32];
	snprintf(cpu, sizeof(cpu), "%.2f%%", cpu_percent(s));
	snprintf(memp, sizeof(memp), "%.2f%%", limit > 0 ? usage / limit * 100.0 : 0.0);
	snprintf(pids, sizeof(pids), "%lld",
		 (long long)json_integer_value(json_object_get(json_object_get(s, "pids_stats"), "current")));
	json_t *row = json_pack("{s:s, s:s#, s:s, s:s, s:s, s:s}", "Container", e->arg, "ID", id,
				no_trunc ? strlen(id) : (strlen(id) < 12 ? strlen(id) : 12), "Name",
				*name == '/' ? name + 1 : name, "CPUPerc", cpu, "MemPerc", memp, "PIDs", pids);
	json_object_set_new(row, "MemUsage", json_sprintf("%s / %s", u, l));
	json_object_set_new(row, "NetIO", json_sprintf("%s / %s", r, t));
	json_object_set_new(row, "BlockIO", json_sprintf("%s / %s", bro, bwo));
	return row;
}

/* ----------------------------------------------------------- collectors */

typedef struct collector {
	stats_entry *e;
	berth_buf line;
} collector;

/* One line of the stream: a sample. */
static void on_line(collector *co, const char *text, size_t len)
{
	json_t *s cleanup_json = NULL;
	if (berth_json_parse_object(text, len, &s, NULL) < 0 || json_object_get(s, "read") == NULL)
		return;
	stats_entry *e = co->e;
	json_t *row = stats_row(e, s, e->table->no_trunc);
	pthread_mutex_lock(&e->table->lock);
	json_decref(e->row);
	e->row = row;
	pthread_mutex_unlock(&e->table->lock);
}

static int on_chunk(void *ud, const char *data, size_t len)
{
	collector *co = ud;
	berth_buf_append(&co->line, data, len);
	char *nl;
	while (co->line.len && (nl = memchr(co->line.data, '\n', co->line.len))) {
		size_t n = (size_t)(nl - co->line.data) + 1;
		on_line(co, co->line.data, n - 1);
		memmove(co->line.data, co->line.data + n, co->line.len - n);
		co->line.len -= n;
	}
	return 0;
}

static void *collect(void *ud)
{
	stats_entry *e = ud;
	stats_table *t = e->table;
	berth_error *err cleanup_error = NULL;
	berth_client *c = NULL;
	collector co = {.e = e};
	if (berth_client_new(t->cli->host, t->cli->use_tls ? &t->cli->tls : NULL, &c, &err) == 0) {
		berth_client_set_version(c, t->version);
		char *enc cleanup_free = berth_url_encode(e->arg);
		char *path cleanup_free = berth_xasprintf("/containers/%s/stats?stream=%d", enc, t->stream);
		long status = 0;
		if (berth_client_stream(c, "GET", path, NULL, NULL, 0, &status, on_chunk, &co, &err) < 0 &&
		    status >= 400)
			berth_error_wrap(&err, "Error response from daemon");
	}
	berth_buf_reset(&co.line);
	berth_client_free(c);
	pthread_mutex_lock(&t->lock);
	if (err)
		e->error = berth_xstrdup(err->msg);
	e->done = true;
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

static void add_entry(stats_table *t, const char *arg)
{
	stats_entry **tail = &t->entries;
	for (; *tail; tail = &(*tail)->next) {
		if (strcmp((*tail)->arg, arg) == 0) {
			(*tail)->seen = true;
			return;
		}
	}
	stats_entry *e = berth_xcalloc(1, sizeof(*e));
	e->arg = berth_xstrdup(arg);
	e->table = t;
	e->seen = true;
	pthread_mutex_lock(&t->lock);
	*tail = e;
	pthread_mutex_unlock(&t->lock);
	pthread_create(&e->thread, NULL, collect, e);
}

/* Without names: the daemon's list, by short ID as the docker CLI keys it. */
static int refresh_list(stats_table *t, bool all, berth_error **err)
{
	json_t *list cleanup_json = NULL;
	if (berth_cli_get_json(t->cli, all ? "/containers/json?all=1" : "/containers/json", &list, err) < 0)
		return -1;
	for (stats_entry *e = t->entries; e; e = e->next)
		e->seen = false;
	size_t i;
	json_t *c;
	json_array_foreach(list, i, c) {
		char id[13];
		snprintf(id, sizeof(id), "%s", berth_cli_str(c, "Id"));
		add_entry(t, id);
	}
	return 0;
}

/* ------------------------------------------------------------- drawing */

static const berth_template_type stats_context = {"*container.statsContext", true};

static int render(stats_table *t, const char *spec, berth_buf *out, berth_error **err)
{
	berth_format f cleanup_format = {.type = &stats_context};
	if (berth_format_init(&f, *spec ? spec : STATS_DEFAULT_TABLE, STATS_DEFAULT_TABLE, err) < 0)
		return berth_error_wrap(err, "template parsing error");
	json_t *headers cleanup_json = json_pack(
		"{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Container", "CONTAINER", "ID",
		"CONTAINER ID", "Name", "NAME", "CPUPerc", "CPU %", "MemUsage", "MEM USAGE / LIMIT",
		"MemPerc", "MEM %", "NetIO", "NET I/O", "BlockIO", "BLOCK I/O", "PIDs", "PIDS");
	if (f.kind == BERTH_FORMAT_TABLE && berth_format_header(&f, headers, err) < 0)
		return -1;
	pthread_mutex_lock(&t->lock);
	int rc = 0;
	for (stats_entry *e = t->entries; e && rc == 0; e = e->next) {
		if (e->row && e->seen)
			rc = berth_format_row(&f, e->row, f.kind == BERTH_FORMAT_TABLE ? &f.text : out, err);
	}
	pthread_mutex_unlock(&t->lock);
	if (rc < 0)
		return berth_error_wrap(err, "template parsing error");
	if (f.kind == BERTH_FORMAT_TABLE)
		berth_format_flush(&f, out);
	return rc;
}

static bool all_done(stats_table *t)
{
	pthread_mutex_lock(&t->lock);
	bool done = true;
	for (stats_entry *e = t->entries; e; e = e->next)
		done = done && e->done;
	pthread_mutex_unlock(&t->lock);
	return done;
}

static void table_free(stats_table *t)
{
	for (stats_entry *e = t->entries, *next; e; e = next) {
		next = e->next;
		pthread_join(e->thread, NULL);
		json_decref(e->row);
		free(e->error);
		free(e->arg);
		free(e);
	}
}

/* --no-stream: every collector ends after its one sample. */
static int print_once(stats_table *t, const char *format)
{
	while (!all_done(t))
		usleep(20000);
	int rc = BERTH_EXIT_OK;
	for (stats_entry *e = t->entries; e; e = e->next) {
		if (e->error) {
			fprintf(t->cli->err, "%s\n", e->error);
			rc = BERTH_EXIT_ERROR;
		}
	}
	if (rc != BERTH_EXIT_OK)
		return rc; /* docker prints the errors alone */
	berth_buf out cleanup_buf = {0};
	berth_error *err cleanup_error = NULL;
	if (render(t, format, &out, &err) < 0)
		return berth_cli_fail(t->cli, &err, BERTH_EXIT_ERROR);
	berth_cli_write(t->cli, &out);
	return rc;
}

static int redraw_forever(stats_table *t, const char *format, bool listed, bool all)
{
	for (;;) {
		berth_error *err cleanup_error = NULL;
		if (listed && refresh_list(t, all, &err) < 0)
			return berth_cli_fail(t->cli, &err, BERTH_EXIT_ERROR);
		if (!listed && all_done(t)) {
			for (stats_entry *e = t->entries; e; e = e->next) {
				if (e->error)
					fprintf(t->cli->err, "%s\n", e->error);
			}
			return BERTH_EXIT_ERROR;
		}
		berth_buf out cleanup_buf = {0};
		berth_buf_puts(&out, "\033[2J\033[H");
		if (render(t, format, &out, &err) < 0)
			return berth_cli_fail(t->cli, &err, BERTH_EXIT_ERROR);
		berth_cli_write(t->cli, &out);
		fflush(t->cli->out);
		usleep(STATS_REDRAW_US);
	}
}

int berth_cli_stats(berth_invocation *inv)
{
	bool all = false, no_stream = false, no_trunc = false;
	const char *format = "";
	berth_flag flags[] = {
		{"all", 'a', BERTH_FLAG_BOOL, &all, "Show all containers (default shows just running)"},
		{"format", 0, BERTH_FLAG_STRING, &format, BERTH_FORMAT_HELP},
		{"no-stream", 0, BERTH_FLAG_BOOL, &no_stream,
		 "Disable streaming stats and only pull the first result"},
		{"no-trunc", 0, BERTH_FLAG_BOOL, &no_trunc, "Do not truncate output"},
	};
	int status;
	if (!berth_cli_parse(inv, flags, BERTH_ARRAY_SIZE(flags), &status))
		return status;
	berth_client *client;
	berth_error *err cleanup_error = NULL;
	if (berth_cli_client(inv->cli, &client, &err) < 0)
		return berth_cli_fail(inv->cli, &err, BERTH_EXIT_ERROR);
	stats_table t = {.cli = inv->cli, .stream = !no_stream, .no_trunc = no_trunc,
			 .version = berth_client_version(client)};
	pthread_mutex_init(&t.lock, NULL);
	bool listed = inv->args.n == 0;
	if (listed && refresh_list(&t, all, &err) < 0)
		return berth_cli_fail(inv->cli, &err, BERTH_EXIT_ERROR);
	for (size_t i = 0; i < inv->args.n; i++)
		add_entry(&t, inv->args.v[i]);
	int rc = no_stream ? print_once(&t, format) : redraw_forever(&t, format, listed, all);
	table_free(&t);
	pthread_mutex_destroy(&t.lock);
	return rc;
}
