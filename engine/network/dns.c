/*
 * dns.c - the embedded DNS server of containers on user-defined networks,
 * as dockerd's at 127.0.0.11. berthd opens a UDP socket inside each such
 * container's namespace, bound to 127.0.0.11:53 (no NAT needed: a socket
 * keeps the namespace it was made in), and serves it on the loop: names and
 * aliases of containers on networks the asker is on (A, and PTR for their
 * addresses); other questions go to the host's resolvers from berthd's own
 * namespace and their answers are relayed.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define DNS_TTL 600
#define FORWARD_TIMEOUT_MS 5000

struct net_dns {
	uv_udp_t udp;
	berth_network_store *s;
	char container[65];
	net_dns *next;
};

/* One question relayed to the host's resolver. */
typedef struct dns_forward {
	uv_udp_t udp;
	uv_timer_t timer;
	net_dns *server;            /* NULL once the server is gone */
	struct sockaddr_in client;
	bool ended;
	int closed;                 /* handles closed, of 2 */
	berth_network_store *s;
	struct dns_forward *next;   /* on s->forwards */
} dns_forward;

typedef struct dns_question {
	char name[256];             /* lower case, no trailing dot */
	uint16_t type, klass;
	size_t end;                 /* offset past the question */
} dns_question;

/* ------------------------------------------------------------- parsing */

static int parse_question(const uint8_t *m, size_t len, dns_question *q)
{
	if (len < 12 || (m[2] & 0x80) || ((m[4] << 8) | m[5]) != 1)
		return -1;
	size_t off = 12, n = 0;
	while (off < len && m[off] != 0) {
		size_t l = m[off++];
		if (l > 63 || off + l > len || n + l + 1 >= sizeof(q->name))
			return -1;
		if (n)
			q->name[n++] = '.';
		for (size_t i = 0; i < l; i++)
			q->name[n++] = (char)tolower(m[off + i]);
		off += l;
	}
	if (off + 5 > len)
		return -1;
	q->name[n] = '\0';
	off++;
	q->type = (uint16_t)((m[off] << 8) | m[off + 1]);
	q->klass = (uint16_t)((m[off + 2] << 8) | m[off + 3]);
	q->end = off + 4;
	return 0;
}

static void put16(berth_buf *b, uint16_t v)
{
	uint8_t x[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	berth_buf_append(b, x, 2);
}

static void put32(berth_buf *b, uint32_t v)
{
	put16(b, (uint16_t)(v >> 16));
	put16(b, (uint16_t)v);
}

static void put_name(berth_buf *b, const char *name)
{
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);
		uint8_t lb = (uint8_t)(l > 63 ? 63 : l);
		berth_buf_append(b, &lb, 1);
		berth_buf_append(b, name, lb);
		name += l + (dot != NULL);
	}
	berth_buf_append(b, "", 1);
}

/* ------------------------------------------------------------- answers */

static bool endpoint_has_name(const net_endpoint *e, const char *name)
{
	if (strcasecmp(e->cname, name) == 0 || (strlen(name) >= 12 && strlen(name) <= 64 &&
						 strncmp(e->container, name, strlen(name)) == 0))
		return true;
	size_t i;
	json_t *a;
	json_array_foreach(e->aliases, i, a)
		if (strcasecmp(json_string_value(a), name) == 0)
			return true;
	return false;
}

static bool on_network(const net_network *n, const char *container)
{
	for (const net_endpoint *e = n->eps; e; e = e->next)
		if (strcmp(e->container, container) == 0)
			return true;
	return false;
}

/* Addresses of `name` on the user networks the asker is on: count found. */
static size_t lookup_a(berth_network_store *s, const char *asker, const char *name,
		       uint32_t *out, size_t max)
{
	size_t n = 0;
	for (const net_network *net = s->list; net; net = net->next) {
		if (net->is_default || !net->is_bridge || !on_network(net, asker))
			continue;
		/* "name.network" also resolves, as with dockerd */
		size_t nl = strlen(net->name), ql = strlen(name);
		char *bare cleanup_free = ql > nl + 1 && name[ql - nl - 1] == '.' &&
						  strcasecmp(name + ql - nl, net->name) == 0
					  ? berth_xstrndup(name, ql - nl - 1) : NULL;
		for (const net_endpoint *e = net->eps; e && n < max; e = e->next)
			if (endpoint_has_name(e, name) || (bare && endpoint_has_name(e, bare)))
				out[n++] = e->ip;
	}
	return n;
}

/* "4.3.2.1.in-addr.arpa" -> the container's "name.network". */
static char *lookup_ptr(berth_network_store *s, const char *asker, const char *name)
{
	unsigned a, b, c, d;
	char tail[32];
	if (sscanf(name, "%u.%u.%u.%u.%31s", &d, &c, &b, &a, tail) != 5 ||
	    strcmp(tail, "in-addr.arpa") != 0 || (a | b | c | d) > 255)
		return NULL;
	uint32_t ip = a << 24 | b << 16 | c << 8 | d;
	for (const net_network *net = s->list; net; net = net->next) {
		if (net->is_default || !net->is_bridge || !on_network(net, asker))
			continue;
		for (const net_endpoint *e = net->eps; e; e = e->next)
			if (e->ip == ip)
				return berth_xasprintf("%s.%s", e->cname, net->name);
	}
	return NULL;
}

/* The reply head: the question copied, flags QR|RD|RA and rcode. */
static void reply_head(berth_buf *b, const uint8_t *query, const dns_question *q,
		       uint16_t answers, int rcode)
{
	berth_buf_append(b, query, 2);
	uint8_t flags[2] = {(uint8_t)(0x84 | (query[2] & 0x01)), (uint8_t)(0x80 | rcode)};
	berth_buf_append(b, flags, 2);
	put16(b, 1);
	put16(b, answers);
	put16(b, 0);
	put16(b, 0);
	berth_buf_append(b, query + 12, q->end - 12);
}

static void send_done(uv_udp_send_t *r, int status)
{
	free(r->data);
	free(r);
}

static void udp_reply(uv_udp_t *udp, const struct sockaddr *to, const void *data, size_t len)
{
	uv_udp_send_t *r = berth_xmalloc(sizeof(*r));
	r->data = berth_xmalloc(len);
	memcpy(r->data, data, len);
	uv_buf_t buf = uv_buf_init(r->data, (unsigned)len);
	if (uv_udp_send(r, udp, &buf, 1, to, send_done) < 0)
		send_done(r, -1);
}

/* Answers from the containers' names; false: not ours, forward it. */
static bool answer_local(net_dns *d, const uint8_t *m, const dns_question *q, berth_buf *out)
{
	if (q->klass != 1)
		return false;
	if (q->type == 12) {
		char *ptr cleanup_free = lookup_ptr(d->s, d->container, q->name);
		if (ptr == NULL)
			return false;
		reply_head(out, m, q, 1, 0);
		put16(out, 0xc00c);
		put16(out, 12);
		put16(out, 1);
		put32(out, DNS_TTL);
		berth_buf out2 cleanup_buf = {0};
		put_name(&out2, ptr);
		put16(out, (uint16_t)out2.len);
		berth_buf_append(out, out2.data, out2.len);
		return true;
	}
	uint32_t ips[32];
	size_t n = lookup_a(d->s, d->container, q->name, ips, BERTH_ARRAY_SIZE(ips));
	if (n == 0)
		return false;
	/* a container's name asked for another type: no data, not forwarded */
	bool a = q->type == 1;
	reply_head(out, m, q, a ? (uint16_t)n : 0, 0);
	for (size_t i = 0; a && i < n; i++) {
		put16(out, 0xc00c);
		put16(out, 1);
		put16(out, 1);
		put32(out, DNS_TTL);
		put16(out, 4);
		put32(out, ips[i]);
	}
	return true;
}

/* ----------------------------------------------------------- forwarding */

static void forward_closed(uv_handle_t *h)
{
	dns_forward *f = h->data;
	if (++f->closed < 2)
		return;
	for (dns_forward **p = &f->s->forwards; *p; p = &(*p)->next) {
		if (*p == f) {
			*p = f->next;
			break;
		}
	}
	free(f);
}

static void forward_end(dns_forward *f)
{
	if (f->ended)
		return;
	f->ended = true;
	uv_close((uv_handle_t *)&f->udp, forward_closed);
	uv_close((uv_handle_t *)&f->timer, forward_closed);
}

static void forward_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	buf->base = berth_xmalloc(4096);
	buf->len = 4096;
}

static void forward_recv(uv_udp_t *udp, ssize_t nread, const uv_buf_t *buf,
			 const struct sockaddr *from, unsigned flags)
{
	dns_forward *f = udp->data;
	if (nread > 0 && f->server)
		udp_reply(&f->server->udp, (const struct sockaddr *)&f->client, buf->base, (size_t)nread);
	free(buf->base);
	if (nread != 0 || from != NULL)
		forward_end(f);
}

static void forward_timeout(uv_timer_t *t)
{
	forward_end(t->data);
}

/* The host's first nameserver (berthd's own namespace reaches it). */
static int host_resolver(struct sockaddr_in *out)
{
	char *text cleanup_free = NULL;
	size_t len;
	if (berth_file_read_all("/etc/resolv.conf", &text, &len, NULL) < 0)
		return -1;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		char ip[64];
		if (sscanf(line, "nameserver %63s", ip) == 1 && inet_pton(AF_INET, ip, &out->sin_addr) == 1) {
			out->sin_family = AF_INET;
			out->sin_port = htons(53);
			return 0;
		}
	}
	return -1;
}

static void forward(net_dns *d, const uint8_t *m, size_t len, const dns_question *q,
		    const struct sockaddr_in *client)
{
	struct sockaddr_in ns = {0};
	if (host_resolver(&ns) < 0) {
		berth_buf b cleanup_buf = {0};
		reply_head(&b, m, q, 0, 2); /* SERVFAIL */
		udp_reply(&d->udp, (const struct sockaddr *)client, b.data, b.len);
		return;
	}
	dns_forward *f = berth_xcalloc(1, sizeof(*f));
	f->s = d->s;
	f->next = d->s->forwards;
	d->s->forwards = f;
	f->server = d;
	f->client = *client;
	uv_loop_t *loop = d->s->d->loop;
	uv_udp_init(loop, &f->udp);
	uv_timer_init(loop, &f->timer);
	f->udp.data = f->timer.data = f;
	uv_udp_recv_start(&f->udp, forward_alloc, forward_recv);
	udp_reply(&f->udp, (const struct sockaddr *)&ns, m, len);
	uv_timer_start(&f->timer, forward_timeout, FORWARD_TIMEOUT_MS, 0);
}

/* --------------------------------------------------------------- server */

static void server_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	buf->base = berth_xmalloc(4096);
	buf->len = 4096;
}

static void server_recv(uv_udp_t *udp, ssize_t nread, const uv_buf_t *buf,
			const struct sockaddr *from, unsigned flags)
{
	net_dns *d = udp->data;
	dns_question q;
	const uint8_t *m = (const uint8_t *)buf->base;
	if (nread > 0 && from && from->sa_family == AF_INET &&
	    parse_question(m, (size_t)nread, &q) == 0) {
		berth_buf out cleanup_buf = {0};
		if (answer_local(d, m, &q, &out))
			udp_reply(udp, from, out.data, out.len);
		else
			forward(d, m, (size_t)nread, &q, (const struct sockaddr_in *)from);
	}
	free(buf->base);
}

typedef struct sock_req {
	int fd;
} sock_req;

static int open_socket(void *arg, berth_error **err)
{
	sock_req *r = arg;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return berth_error_set_errno(err, errno, "DNS socket");
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(53),
				 .sin_addr.s_addr = htonl(0x7f00000b)};
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		return berth_error_set_errno(err, e, "bind 127.0.0.11:53");
	}
	r->fd = fd;
	return 0;
}

int net_dns_socket(int netns_fd, int *out, berth_error **err)
{
	sock_req r = {-1};
	if (netns_run(netns_fd, open_socket, &r, err) < 0)
		return -1;
	*out = r.fd;
	return 0;
}

void net_dns_start(berth_network_store *s, const char *container, int fd)
{
	net_dns *d = berth_xcalloc(1, sizeof(*d));
	d->s = s;
	snprintf(d->container, sizeof(d->container), "%s", container);
	uv_udp_init(s->d->loop, &d->udp);
	d->udp.data = d;
	if (uv_udp_open(&d->udp, fd) < 0) {
		close(fd);
		uv_close((uv_handle_t *)&d->udp, (uv_close_cb)free);
		return;
	}
	uv_udp_recv_start(&d->udp, server_alloc, server_recv);
	d->next = s->dns;
	s->dns = d;
}

static void server_closed(uv_handle_t *h)
{
	free(h->data);
}

static void server_close(net_dns *d)
{
	/* pending forwards run out but no longer answer through it */
	for (dns_forward *f = d->s->forwards; f; f = f->next)
		if (f->server == d)
			f->server = NULL;
	uv_close((uv_handle_t *)&d->udp, server_closed);
}

void net_dns_stop(berth_network_store *s, const char *container)
{
	for (net_dns **p = &s->dns; *p; p = &(*p)->next) {
		if (strcmp((*p)->container, container) == 0) {
			net_dns *d = *p;
			*p = d->next;
			server_close(d);
			return;
		}
	}
}

/* At exit the daemon has closed every handle of the loop already. */
void net_dns_close_all(berth_network_store *s)
{
	while (s->dns) {
		net_dns *d = s->dns;
		s->dns = d->next;
		free(d);
	}
	while (s->forwards) {
		dns_forward *f = s->forwards;
		s->forwards = f->next;
		free(f);
	}
}

bool net_dns_running(berth_network_store *s, const char *container)
{
	for (net_dns *d = s->dns; d; d = d->next)
		if (strcmp(d->container, container) == 0)
			return true;
	return false;
}
