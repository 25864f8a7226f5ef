/* engine/network without devices: CIDR parsing, address allocation,
 * MAC addresses, the firewall chains' text for a set of networks, and
 * NetworkSettings.Ports from a container's record and its bound ports. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "engine/network/internal.h"

static void test_cidr(void **state)
{
	uint32_t a;
	int p;
	berth_error *err = NULL;
	assert_int_equal(net_parse_cidr("10.1.2.3/24", &a, &p, &err), 0);
	assert_int_equal(a, 0x0a010203u);
	assert_int_equal(p, 24);
	static const char *const bad[] = {"10.1.2.3", "10.1.2.3/33", "10.1.2/24", "x/8", "10.0.0.0/",
					  "10.0.0.0/8x"};
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(bad); i++) {
		assert_int_equal(net_parse_cidr(bad[i], &a, &p, &err), -1);
		assert_int_equal(err->status, 400);
		berth_error_free(&err);
	}
	char *s = net_cidr_str(0xac110002u, 16);
	assert_string_equal(s, "172.17.0.2/16");
	free(s);
	assert_int_equal(net_mask(0), 0);
	assert_int_equal(net_mask(32), 0xffffffffu);
}

static net_endpoint *add_ep(net_network *n, uint32_t ip)
{
	net_endpoint *e = calloc(1, sizeof(*e));
	e->ip = ip;
	e->net = n;
	e->next = n->eps;
	n->eps = e;
	return e;
}

static void free_eps(net_network *n)
{
	while (n->eps) {
		net_endpoint *e = n->eps;
		n->eps = e->next;
		free(e);
	}
}

static void test_ipam(void **state)
{
	net_network n = {.name = "t", .subnet = 0x0a000000u, .prefix = 29, .gateway = 0x0a000001u,
			 .range_lo = 0x0a000001u, .range_hi = 0x0a000006u};
	uint32_t ip;
	berth_error *err = NULL;
	/* the gateway is skipped, then the lowest free address each time */
	assert_int_equal(net_ipam_alloc(&n, 0, &ip, &err), 0);
	assert_int_equal(ip, 0x0a000002u);
	add_ep(&n, ip);
	add_ep(&n, 0x0a000004u);
	assert_int_equal(net_ipam_alloc(&n, 0, &ip, &err), 0);
	assert_int_equal(ip, 0x0a000003u);
	add_ep(&n, ip);
	/* a static address in use, or outside the subnet */
	assert_int_equal(net_ipam_alloc(&n, 0x0a000004u, &ip, &err), -1);
	assert_int_equal(err->status, 409);
	berth_error_free(&err);
	assert_int_equal(net_ipam_alloc(&n, 0x0b000004u, &ip, &err), -1);
	assert_int_equal(err->status, 400);
	berth_error_free(&err);
	add_ep(&n, 0x0a000005u);
	add_ep(&n, 0x0a000006u);
	assert_int_equal(net_ipam_alloc(&n, 0, &ip, &err), -1);
	assert_int_equal(err->status, 503);
	berth_error_free(&err);
	free_eps(&n);
}

static void test_mac(void **state)
{
	uint8_t mac[6];
	net_mac_from_ip(0xac110002u, mac);
	char *s = net_mac_str(mac);
	assert_string_equal(s, "02:42:ac:11:00:02");
	free(s);
}

static void test_fw_rules(void **state)
{
	net_network internal = {.name = "sealed", .bridge = "br-in", .subnet = 0x0a010000u,
				.prefix = 16, .is_bridge = true, .internal = true};
	net_network user = {.name = "app", .bridge = "br-app", .subnet = 0x0a020000u,
			    .prefix = 24, .is_bridge = true, .next = &internal};
	net_network host = {.name = "host", .next = &user};
	berth_network_store s = {.list = &host};
	char *rules = net_fw_rules(&s);
	assert_non_null(strstr(rules, "postrouting ip saddr 10.2.0.0/24 oifname != \"br-app\" masquerade"));
	assert_non_null(strstr(rules, "postrouting oifname \"br-app\" ip saddr 127.0.0.0/8 masquerade"));
	assert_non_null(strstr(rules, "iifname \"br-app\" oifname \"br-app\" ct status dnat masquerade"));
	assert_non_null(strstr(rules, "forward iifname \"br-app\" oifname \"br-in\" drop"));
	assert_non_null(strstr(rules, "forward iifname \"br-in\" oifname != \"br-in\" drop"));
	assert_non_null(strstr(rules, "forward oifname \"br-in\" iifname != \"br-in\" drop"));
	/* no NAT for an internal network, nothing for host */
	assert_null(strstr(rules, "10.1.0.0/16"));
	assert_null(strstr(rules, "host"));
	free(rules);
}

static void test_ports_json(void **state)
{
	json_t *rec = NULL;
	const char *text = "{\"Config\": {\"ExposedPorts\": {\"80/tcp\": {}, \"53/udp\": {}, \"9/tcp\": {}}},"
			   " \"HostConfig\": {\"PortBindings\": {\"80/tcp\": [{\"HostPort\": \"8080\"}]}}}";
	assert_int_equal(berth_json_parse(text, strlen(text), &rec, NULL), 0);
	net_port p2 = {.proto = IPPROTO_UDP, .container_port = 53, .host_port = 5353,
		       .host_ip = 0x7f000001u, .fd = -1};
	net_port p1 = {.proto = IPPROTO_TCP, .container_port = 80, .host_port = 8080, .fd = -1,
		       .next = &p2};
	json_t *ports = net_ports_json(rec, &p1);
	char *s = json_dumps(ports, JSON_SORT_KEYS | JSON_COMPACT);
	assert_string_equal(s, "{\"53/udp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"5353\"}],"
			       "\"80/tcp\":[{\"HostIp\":\"0.0.0.0\",\"HostPort\":\"8080\"}],\"9/tcp\":null}");
	free(s);
	json_decref(ports);
	json_decref(rec);
}

static void test_ports_reserve(void **state)
{
	/* a port bound by someone else is "already allocated"; -P takes one */
	json_t *rec = NULL;
	const char *text = "{\"Config\": {\"ExposedPorts\": {\"80/tcp\": {}}},"
			   " \"HostConfig\": {\"PublishAllPorts\": true,"
			   " \"PortBindings\": {\"81/tcp\": [{\"HostIp\": \"127.0.0.1\", \"HostPort\": \"\"}]}}}";
	assert_int_equal(berth_json_parse(text, strlen(text), &rec, NULL), 0);
	net_port *ports = NULL;
	berth_error *err = NULL;
	assert_int_equal(net_ports_reserve(rec, &ports, &err), 0);
	int n = 0;
	for (net_port *p = ports; p; p = p->next, n++)
		assert_true(p->host_port > 0 && p->fd >= 0);
	assert_int_equal(n, 2);
	char *again = berth_xasprintf("{\"HostConfig\": {\"PortBindings\": {\"80/tcp\": [{\"HostIp\":"
				      " \"127.0.0.1\", \"HostPort\": \"%u\"}]}}}",
				      ports->container_port == 81 ? ports->host_port
								   : ports->next->host_port);
	json_t *rec2 = NULL;
	assert_int_equal(berth_json_parse(again, strlen(again), &rec2, NULL), 0);
	net_port *taken = NULL;
	assert_int_equal(net_ports_reserve(rec2, &taken, &err), -1);
	assert_non_null(strstr(err->msg, "port is already allocated"));
	berth_error_free(&err);
	free(again);
	json_decref(rec2);
	net_ports_free(ports);
	json_decref(rec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cidr),	   cmocka_unit_test(test_ipam),
		cmocka_unit_test(test_mac),	   cmocka_unit_test(test_fw_rules),
		cmocka_unit_test(test_ports_json), cmocka_unit_test(test_ports_reserve),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
