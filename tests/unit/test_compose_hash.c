/* compose/hash.c: com.docker.compose.config-hash as Docker Compose computes
 * it. Every expected JSON below was written by hand from compose-go's
 * types.ServiceConfig (field order, omitempty, custom MarshalJSON of
 * UnitBytes, Duration, HostsList, OptOut, UlimitsConfig) and encoding/json's
 * rules (sorted map keys, <>& escaped); the hashes are `sha256sum` of it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "compose/internal.h"

/* The canonical service `name` of a one-file project in /srv/app. */
static json_t *service(const char *yaml, const char *name)
{
	berth_compose_project *p = NULL;
	berth_error *err cleanup_error = NULL;
	json_t *env cleanup_json = json_object();
	if (berth_compose_load_string("compose.yaml", yaml, strlen(yaml), "/srv/app", env, &p,
				      &err) < 0)
		fail_msg("load: %s", err->msg);
	json_t *s = json_incref(json_object_get(json_object_get(p->model, "services"), name));
	berth_compose_project_free(p);
	assert_non_null(s);
	return s;
}

static void check(const char *yaml, const char *name, const char *json, const char *hash)
{
	json_t *svc cleanup_json = service(yaml, name);
	char *got cleanup_free = compose_service_hash_json(svc);
	assert_string_equal(got, json);
	char h[65];
	berth_compose_config_hash(svc, h);
	assert_string_equal(h, hash);
}

static void test_minimal(void **state)
{
	/* command and entrypoint have no omitempty; the implicit default network */
	check("services:\n  a:\n    image: busybox\n", "a",
	      "{\"command\":null,\"entrypoint\":null,\"image\":\"busybox\","
	      "\"networks\":{\"default\":null}}",
	      "2afd7866203dca40993313263173003833e9de9c3ad83f2f59484e32a5605234");
}

static void test_cleared_fields(void **state)
{
	/* what ServiceHash clears changes nothing ... */
	check("services:\n  a:\n    image: busybox\n    scale: 3\n"
	      "    pull_policy: always\n    depends_on: [b]\n  b:\n    image: busybox\n",
	      "a",
	      "{\"command\":null,\"entrypoint\":null,\"image\":\"busybox\","
	      "\"networks\":{\"default\":null}}",
	      "2afd7866203dca40993313263173003833e9de9c3ad83f2f59484e32a5605234");
	/* ... but a deploy section stays, with its two struct values */
	check("services:\n  a:\n    image: busybox\n    deploy:\n      replicas: 2\n", "a",
	      "{\"command\":null,\"deploy\":{\"resources\":{},\"placement\":{}},"
	      "\"entrypoint\":null,\"image\":\"busybox\",\"networks\":{\"default\":null}}",
	      "3494957511a9b091d7f90aa251b1bdfd2e7808316404a558b50731a407bcf780");
}

static void test_web(void **state)
{
	/* short ports and volumes in their long forms (a short bind creates its
	 * host path: create_host_path, a plain bool), UnitBytes quoted, the
	 * Duration as Go prints it, HTML characters escaped, env null kept */
	check("services:\n  web:\n    image: busybox\n    command: httpd -f -p 80\n"
	      "    ports: [\"8080:80\"]\n    environment:\n      B:\n      A: \"1\"\n"
	      "    volumes:\n      - data:/data\n      - ./site:/www:ro\n"
	      "    healthcheck:\n      test: wget -q -O- http://localhost/ <x>&\n"
	      "      interval: 90s\n      retries: 3\n    cpus: 0.5\n    mem_limit: 64m\n"
	      "volumes:\n  data:\n",
	      "web",
	      "{\"cpus\":0.5,\"command\":[\"httpd\",\"-f\",\"-p\",\"80\"],\"entrypoint\":null,"
	      "\"environment\":{\"A\":\"1\",\"B\":null},\"healthcheck\":{\"test\":[\"CMD-SHELL\","
	      "\"wget -q -O- http://localhost/ \\u003cx\\u003e\\u0026\"],\"interval\":\"1m30s\","
	      "\"retries\":3},\"image\":\"busybox\",\"mem_limit\":\"67108864\","
	      "\"networks\":{\"default\":null},\"ports\":[{\"mode\":\"ingress\",\"target\":80,"
	      "\"published\":\"8080\",\"protocol\":\"tcp\"}],\"volumes\":[{\"type\":\"volume\","
	      "\"source\":\"data\",\"target\":\"/data\",\"volume\":{}},{\"type\":\"bind\","
	      "\"source\":\"/srv/app/site\",\"target\":\"/www\",\"read_only\":true,"
	      "\"bind\":{\"create_host_path\":true}}]}",
	      "ca417795d148d2734f787efbb896c611e16ab2ee2d4864b84ae34f7780fa2f4e");
}

static void test_deploy_hosts_duration(void **state)
{
	check("services:\n  db:\n    image: busybox\n    extra_hosts: [\"b:1.2.3.4\", \"a=[::1]\"]\n"
	      "    stop_grace_period: 1500ms\n    deploy:\n      replicas: 2\n"
	      "      resources:\n        limits: {cpus: \"0.25\", memory: 32M}\n",
	      "db",
	      "{\"command\":null,\"deploy\":{\"resources\":{\"limits\":{\"cpus\":0.25,"
	      "\"memory\":\"33554432\"}},\"placement\":{}},\"entrypoint\":null,"
	      "\"extra_hosts\":[\"a=::1\",\"b=1.2.3.4\"],\"image\":\"busybox\","
	      "\"networks\":{\"default\":null},\"stop_grace_period\":\"1.5s\"}",
	      "08f995f3a43342642cdae940b47d864c1562db3f85c036dc2da00171fdf30561");
}

static void test_maps_and_pointers(void **state)
{
	/* an empty command is [] (not null), *bool false is kept, labels from a
	 * list, ulimits as a number or {soft, hard}, networks with settings */
	check("services:\n  a:\n    image: busybox\n    command: []\n"
	      "    entrypoint: /bin/sh -c\n    init: false\n    user: \"1000\"\n"
	      "    working_dir: /w\n    hostname: h1\n    cap_add: [NET_ADMIN]\n"
	      "    labels: [z, a.b=1]\n    sysctls: {net.core.somaxconn: 1024}\n"
	      "    tmpfs: /run\n    ulimits:\n      nproc: 65535\n"
	      "      nofile: {soft: 1024, hard: 2048}\n    networks:\n      front:\n"
	      "      back:\n        aliases: [api]\n        ipv4_address: 10.5.0.9\n"
	      "networks:\n  front:\n  back:\n",
	      "a",
	      "{\"cap_add\":[\"NET_ADMIN\"],\"command\":[],\"entrypoint\":[\"/bin/sh\",\"-c\"],"
	      "\"hostname\":\"h1\",\"image\":\"busybox\",\"init\":false,"
	      "\"labels\":{\"a.b\":\"1\",\"z\":\"\"},\"networks\":{\"back\":{\"aliases\":[\"api\"],"
	      "\"ipv4_address\":\"10.5.0.9\"},\"front\":null},"
	      "\"sysctls\":{\"net.core.somaxconn\":\"1024\"},\"tmpfs\":[\"/run\"],"
	      "\"ulimits\":{\"nofile\":{\"soft\":1024,\"hard\":2048},\"nproc\":65535},"
	      "\"user\":\"1000\",\"working_dir\":\"/w\"}",
	      "fc07fa54b37327a3aa6dd1e9e1fc1066478386e1558a61eed7beb717cf4786c1");
}

static void test_refs_and_flags(void **state)
{
	/* secrets get compose-go's default target, configs none; a long bind
	 * with a bind section creates its host path (defaultVolumeBind), one
	 * without has no section; expose and
	 * dns are lists of strings; sizes are quoted */
	check("services:\n  a:\n    image: busybox\n    expose: [80, \"443\"]\n"
	      "    restart: unless-stopped\n    stop_signal: SIGINT\n"
	      "    logging: {driver: json-file, options: {max-size: 1m}}\n"
	      "    read_only: true\n    tty: true\n    stdin_open: true\n    privileged: true\n"
	      "    pids_limit: 100\n    shm_size: 1g\n    secrets: [token]\n"
	      "    configs: [{source: conf, target: /etc/c}]\n    dns: 1.1.1.1\n"
	      "    healthcheck: {disable: true}\n"
	      "    volumes:\n      - {type: bind, source: ./x, target: /x, bind: {propagation: rshared}}\n"
	      "      - {type: bind, source: /y, target: /y}\n"
	      "secrets: {token: {file: ./t}}\nconfigs: {conf: {file: ./c}}\n",
	      "a",
	      "{\"command\":null,\"configs\":[{\"source\":\"conf\",\"target\":\"/etc/c\"}],\"dn"
	      "s\":[\"1.1.1.1\"],\"entrypoint\":null,\"expose\":[\"80\",\"443\"],\"healthcheck"
	      "\":{\"disable\":true},\"image\":\"busybox\",\"logging\":{\"driver\":\"json-file\""
	      ",\"options\":{\"max-size\":\"1m\"}},\"networks\":{\"default\":null},\"pids_limit"
	      "\":100,\"privileged\":true,\"read_only\":true,\"restart\":\"unless-stopped\",\"s"
	      "ecrets\":[{\"source\":\"token\",\"target\":\"/run/secrets/token\"}],\"shm_size\""
	      ":\"1073741824\",\"stdin_open\":true,\"stop_signal\":\"SIGINT\",\"tty\":true,"
	      "\"volumes\":[{\"type\":\"bind\",\"source\":\"/srv/app/x\",\"target\":\"/x\","
	      "\"bind\":{\"propagation\":\"rshared\",\"create_host_path\":true}},"
	      "{\"type\":\"bind\",\"source\":\"/y\",\"target\":\"/y\"}]}",
	      "426521a348aa68cc86b0a3adda6482c3c53e1903f93a6448100b3d479bd656e5");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_minimal),
		cmocka_unit_test(test_cleared_fields),
		cmocka_unit_test(test_web),
		cmocka_unit_test(test_deploy_hosts_duration),
		cmocka_unit_test(test_maps_and_pointers),
		cmocka_unit_test(test_refs_and_flags),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
