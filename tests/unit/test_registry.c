/* The registry client's pure parts: manifests and indexes, platform
 * selection, names split into host and repository, X-Registry-Auth. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "registry/registry.h"

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define D3 "sha256:3333333333333333333333333333333333333333333333333333333333333333"

static void parse_ok(const char *ct, const char *doc, berth_registry_manifest *m)
{
	berth_error *err = NULL;
	if (berth_registry_manifest_parse(ct, doc, strlen(doc), m, &err) < 0)
		fail_msg("%s", err->msg);
}

static void parse_fails(const char *ct, const char *doc, const char *prefix)
{
	berth_registry_manifest m;
	berth_error *err = NULL;
	assert_int_equal(berth_registry_manifest_parse(ct, doc, strlen(doc), &m, &err), -1);
	if (strncmp(err->msg, prefix, strlen(prefix)) != 0)
		fail_msg("got \"%s\", want a message starting \"%s\"", err->msg, prefix);
	berth_error_free(&err);
}

static void test_schema2(void **state)
{
	berth_registry_manifest m;
	parse_ok("application/vnd.docker.distribution.manifest.v2+json",
		 "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\","
		 "\"config\":{\"mediaType\":\"application/vnd.docker.container.image.v1+json\",\"size\":7,\"digest\":\"" D1 "\"},"
		 "\"layers\":[{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\",\"size\":100,\"digest\":\"" D2 "\"},"
		 "{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\",\"size\":200,\"digest\":\"" D3 "\"}]}",
		 &m);
	assert_int_equal(m.kind, BERTH_REGISTRY_IMAGE);
	assert_string_equal(m.config.digest, D1);
	assert_int_equal(m.config.size, 7);
	assert_int_equal(m.n, 2);
	assert_string_equal(m.descs[1].digest, D3);
	assert_int_equal(m.descs[1].size, 200);
	berth_registry_manifest_reset(&m);
}

static void test_oci_without_media_type(void **state)
{
	berth_registry_manifest m;
	/* an OCI manifest may leave mediaType out; the header may be generic */
	parse_ok("application/json; charset=utf-8",
		 "{\"schemaVersion\":2,\"config\":{\"size\":1,\"digest\":\"" D1 "\"},\"layers\":[]}", &m);
	assert_int_equal(m.kind, BERTH_REGISTRY_IMAGE);
	assert_string_equal(m.media_type, "application/vnd.oci.image.manifest.v1+json");
	assert_int_equal(m.n, 0);
	berth_registry_manifest_reset(&m);
	parse_ok(NULL, "{\"schemaVersion\":2,\"manifests\":[]}", &m);
	assert_int_equal(m.kind, BERTH_REGISTRY_INDEX);
	berth_registry_manifest_reset(&m);
}

static const char *index_doc =
	"{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":["
	"{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"size\":1,\"digest\":\"" D1 "\","
	"\"platform\":{\"architecture\":\"arm\",\"os\":\"linux\",\"variant\":\"v6\"}},"
	"{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"size\":1,\"digest\":\"" D2 "\","
	"\"platform\":{\"architecture\":\"arm\",\"os\":\"linux\",\"variant\":\"v7\"}},"
	"{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"size\":1,\"digest\":\"" D3 "\","
	"\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}},"
	"{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"size\":1,\"digest\":\"" D1 "\","
	"\"platform\":{\"architecture\":\"unknown\",\"os\":\"unknown\"}}]}";

static void select_ok(const berth_registry_manifest *m, const char *platform, size_t want)
{
	size_t got = 99;
	berth_error *err = NULL;
	if (berth_registry_platform_select(m, platform, &got, &err) < 0)
		fail_msg("%s: %s", platform, err->msg);
	assert_int_equal(got, want);
}

static void test_platform(void **state)
{
	berth_registry_manifest m;
	parse_ok("application/vnd.oci.image.index.v1+json", index_doc, &m);
	assert_int_equal(m.kind, BERTH_REGISTRY_INDEX);
	assert_int_equal(m.n, 4);
	select_ok(&m, "linux/amd64", 2);
	select_ok(&m, "linux/x86_64", 2);
	select_ok(&m, "linux/arm/v7", 1);
	select_ok(&m, "linux/arm/v6", 0);
	berth_error *err = NULL;
	size_t got;
	assert_int_equal(berth_registry_platform_select(&m, "linux/s390x", &got, &err), -1);
	assert_int_equal(err->status, 404);
	assert_string_equal(err->msg, "no matching manifest for linux/s390x in the manifest list entries");
	berth_error_free(&err);
	assert_int_equal(berth_registry_platform_select(&m, "linux//", &got, &err), -1);
	assert_int_equal(err->status, 400);
	berth_error_free(&err);
	berth_registry_manifest_reset(&m);
}

static void test_refused(void **state)
{
	parse_fails("application/vnd.docker.distribution.manifest.v1+prettyjws",
		    "{\"schemaVersion\":1,\"fsLayers\":[]}", "[DEPRECATION NOTICE] Docker Image Format v1");
	parse_fails(NULL, "{\"schemaVersion\":1,\"fsLayers\":[]}", "[DEPRECATION NOTICE]");
	parse_fails(NULL, "[]", "invalid manifest");
	parse_fails(NULL, "{\"schemaVersion\":2", "invalid manifest");
	parse_fails("application/vnd.docker.distribution.manifest.v2+json",
		    "{\"schemaVersion\":2,\"config\":{\"digest\":\"sha256:12\"},\"layers\":[]}",
		    "invalid manifest: bad descriptor digest");
	parse_fails("application/vnd.docker.distribution.manifest.v2+json",
		    "{\"schemaVersion\":2,\"config\":{\"digest\":\"" D1 "\",\"size\":-1},\"layers\":[]}",
		    "invalid manifest: bad descriptor size");
	parse_fails("application/vnd.docker.distribution.manifest.v2+json",
		    "{\"schemaVersion\":2,\"config\":{\"digest\":\"" D1 "\"},\"layers\":{}}",
		    "invalid manifest: not a list");
	parse_fails("application/vnd.example.other", "{\"schemaVersion\":2}", "unsupported manifest media type");
}

static void test_split_name(void **state)
{
	char *host, *repo;
	berth_registry_split_name("docker.io/library/busybox", &host, &repo);
	assert_string_equal(host, "docker.io");
	assert_string_equal(repo, "library/busybox");
	free(host);
	free(repo);
	berth_registry_split_name("127.0.0.1:5000/a/b/c", &host, &repo);
	assert_string_equal(host, "127.0.0.1:5000");
	assert_string_equal(repo, "a/b/c");
	free(host);
	free(repo);
}

static void test_auth_decode(void **state)
{
	berth_registry_auth a;
	/* {"username":"a","password":"b+/?","serveraddress":"h:1"} in base64url, unpadded */
	berth_registry_auth_decode("eyJ1c2VybmFtZSI6ImEiLCJwYXNzd29yZCI6ImIrLz8iLCJzZXJ2ZXJhZGRyZXNzIjoiaDoxIn0", &a);
	assert_string_equal(a.username, "a");
	assert_string_equal(a.password, "b+/?");
	assert_string_equal(a.serveraddress, "h:1");
	berth_registry_auth_reset(&a);
	/* the docker CLI's anonymous "{}" and garbage are both anonymous */
	berth_registry_auth_decode("e30=", &a);
	assert_null(a.username);
	berth_registry_auth_decode("%%%", &a);
	assert_null(a.username);
	berth_registry_auth_decode(NULL, &a);
	assert_null(a.password);
	/* Go matches JSON keys without regard to case */
	json_t *j = json_pack("{s:s, s:s}", "Username", "u", "Password", "p");
	berth_registry_auth_from_json(j, &a);
	json_decref(j);
	assert_string_equal(a.username, "u");
	assert_string_equal(a.password, "p");
	berth_registry_auth_reset(&a);
}

static void test_config(void **state)
{
	json_t *file = json_pack("{s:[s], s:[s, s], s:i}", "insecure-registries", "10.0.0.0/8",
				 "registry-mirrors", "http://127.0.0.1:1", "http://127.0.0.1:2",
				 "max-download-attempts", 2);
	berth_registry_config c;
	berth_registry_config_init(&c, file, "/etc/berth/certs.d", 0, 7);
	json_decref(file);
	assert_string_equal(c.insecure[0], "10.0.0.0/8");
	assert_string_equal(c.mirrors[1], "http://127.0.0.1:2");
	assert_string_equal(c.certs_dirs[0], "/etc/berth/certs.d");
	assert_string_equal(c.certs_dirs[1], "/etc/docker/certs.d");
	assert_int_equal(c.max_downloads, 3);
	assert_int_equal(c.max_uploads, 7);
	assert_int_equal(c.attempts, 2);
	berth_registry_config_reset(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_schema2),
		cmocka_unit_test(test_oci_without_media_type),
		cmocka_unit_test(test_platform),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_split_name),
		cmocka_unit_test(test_auth_decode),
		cmocka_unit_test(test_config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
