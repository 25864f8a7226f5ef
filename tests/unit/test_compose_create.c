/* compose/: the POST /containers/create body of a service replica, as
 * Docker Compose v2 builds it (labels, names of networks and volumes,
 * ports, mounts, healthcheck, resources). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "compose/compose.h"
#include "unit_json.h"

static const char *yaml =
	"name: shop\n"
	"services:\n"
	"  db:\n"
	"    image: busybox\n"
	"  web:\n"
	"    image: busybox:1\n"
	"    command: httpd -f\n"
	"    environment: {A: '1', UNSET: null}\n"
	"    labels: {tier: front}\n"
	"    ports: ['127.0.0.1:8080:80', '53/udp']\n"
	"    volumes: ['data:/data:ro', './site:/www', {type: tmpfs, target: /cache}]\n"
	"    depends_on: {db: {condition: service_healthy}}\n"
	"    healthcheck: {test: wget -q localhost, interval: 2s, timeout: 1500ms, retries: 3}\n"
	"    restart: on-failure:4\n"
	"    mem_limit: 64m\n"
	"    cpus: 0.5\n"
	"    extra_hosts: ['gw=10.0.0.1']\n"
	"    stop_grace_period: 3s\n"
	"    networks:\n"
	"      back: {aliases: [www]}\n"
	"    secrets: [token]\n"
	"networks: {back: {}}\n"
	"volumes: {data: {}}\n"
	"secrets: {token: {file: ./token}}\n";

static berth_compose_project *project(void)
{
	berth_compose_project *p = NULL;
	berth_error *err cleanup_error = NULL;
	if (berth_compose_load_string("compose.yaml", yaml, strlen(yaml), "/srv/shop", NULL, &p, &err) < 0)
		fail_msg("load: %s", err->msg);
	return p;
}

static void test_body(void **state)
{
	berth_compose_project *p = project();
	const json_t *svc = json_object_get(json_object_get(p->model, "services"), "web");
	json_t *b cleanup_json = berth_compose_create_body(p, "web", svc, 2, false, true);
	const json_t *hc = json_object_get(b, "HostConfig");
	check_json(json_object_get(b, "Image"), "\"busybox:1\"");
	check_json(json_object_get(b, "Cmd"), "[\"httpd\",\"-f\"]");
	check_json(json_object_get(b, "Env"), "[\"A=1\"]");
	check_json(json_object_get(b, "StopTimeout"), "3");
	check_json(json_object_get(b, "Healthcheck"),
		   "{\"Test\":[\"CMD-SHELL\",\"wget -q localhost\"],\"Interval\":2000000000,"
		   "\"Timeout\":1500000000,\"Retries\":3}");
	check_json(json_object_get(b, "ExposedPorts"), "{\"80/tcp\":{},\"53/udp\":{}}");
	check_json(json_object_get(hc, "PortBindings"),
		   "{\"80/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"8080\"}],"
		   "\"53/udp\":[{\"HostIp\":\"\",\"HostPort\":\"\"}]}");
	check_json(json_object_get(hc, "Binds"), "[\"/srv/shop/site:/www\",\"/srv/shop/token:/run/secrets/token:ro\"]");
	check_json(json_object_get(hc, "Mounts"),
		   "[{\"Type\":\"volume\",\"Source\":\"shop_data\",\"Target\":\"/data\",\"ReadOnly\":true},"
		   "{\"Type\":\"tmpfs\",\"Target\":\"/cache\",\"ReadOnly\":false}]");
	check_json(json_object_get(hc, "RestartPolicy"), "{\"Name\":\"on-failure\",\"MaximumRetryCount\":4}");
	check_json(json_object_get(hc, "Memory"), "67108864");
	check_json(json_object_get(hc, "NanoCpus"), "500000000");
	check_json(json_object_get(hc, "ExtraHosts"), "[\"gw:10.0.0.1\"]");
	check_json(json_object_get(hc, "NetworkMode"), "\"shop_back\"");
	check_json(json_object_get(b, "NetworkingConfig"),
		   "{\"EndpointsConfig\":{\"shop_back\":{\"Aliases\":[\"web\",\"www\"]}}}");
	const json_t *l = json_object_get(b, "Labels");
	char hash[65];
	berth_compose_config_hash(svc, hash);
	check_json_strings(l, "tier", "front", "com.docker.compose.project", "shop",
			   "com.docker.compose.service", "web", "com.docker.compose.container-number", "2",
			   "com.docker.compose.oneoff", "False",
			   "com.docker.compose.project.working_dir", "/srv/shop",
			   "com.docker.compose.depends_on", "db:service_healthy:false",
			   "com.docker.compose.config-hash", hash, NULL);
	/* without networks (an engine without /networks): the engine's default */
	json_t *nb cleanup_json = berth_compose_create_body(p, "web", svc, 1, false, false);
	assert_null(json_object_get(json_object_get(nb, "HostConfig"), "NetworkMode"));
	assert_null(json_object_get(nb, "NetworkingConfig"));
	/* one-off containers publish nothing and never restart */
	json_t *ob cleanup_json = berth_compose_create_body(p, "web", svc, 1, true, true);
	assert_string_equal(berth_json_string(json_object_get(ob, "Labels"), "com.docker.compose.oneoff"), "True");
	check_json(json_object_get(json_object_get(ob, "HostConfig"), "PortBindings"), "{}");
	check_json(json_object_get(json_object_get(ob, "HostConfig"), "RestartPolicy"), "{\"Name\":\"no\"}");
	berth_compose_project_free(p);
}

static void test_built_image_name(void **state)
{
	const char *y = "services:\n  app:\n    build: .\n";
	berth_compose_project *p = NULL;
	berth_error *err cleanup_error = NULL;
	assert_int_equal(berth_compose_load_string("c.yaml", y, strlen(y), "/x/My_App", NULL, &p, &err), 0);
	assert_string_equal(p->name, "my_app");
	const json_t *svc = json_object_get(json_object_get(p->model, "services"), "app");
	json_t *b cleanup_json = berth_compose_create_body(p, "app", svc, 1, false, true);
	assert_string_equal(berth_json_string(b, "Image"), "my_app-app");
	berth_compose_project_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_body),
		cmocka_unit_test(test_built_image_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
