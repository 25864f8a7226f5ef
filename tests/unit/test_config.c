/* berthd's flags and daemon.json. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "engine/engine.h"

static int parse(berth_config **cfg, berth_error **err, ...)
{
	char *argv[32] = {"berthd"};
	int argc = 1;
	va_list ap;
	va_start(ap, err);
	for (char *a; (a = va_arg(ap, char *)) != NULL;)
		argv[argc++] = a;
	va_end(ap);
	bool exit_now = false;
	return berth_config_parse(argc, argv, cfg, &exit_now, err);
}

static void test_defaults(void **state)
{
	berth_config *cfg = NULL;
	berth_error *err = NULL;
	assert_int_equal(parse(&cfg, &err, "--config-file", "/dev/null/none", NULL), -1);
	berth_error_free(&err);
	assert_int_equal(parse(&cfg, &err, NULL), 0);
	assert_string_equal(cfg->data_root, "/var/lib/berth");
	assert_string_equal(cfg->exec_root, "/run/berth");
	assert_int_equal(cfg->nhosts, 1);
	assert_string_equal(cfg->hosts[0], "unix:///run/berth.sock");
	assert_string_equal(cfg->default_runtime, "runc");
	assert_int_equal(cfg->max_concurrent_downloads, 3);
	berth_config_free(cfg);
}

static void test_flags(void **state)
{
	berth_config *cfg = NULL;
	berth_error *err = NULL;
	assert_int_equal(parse(&cfg, &err, "-H", "unix:///a.sock", "--host=unix:///b.sock", "-D",
			       "--data-root=/x", "--label", "a=b", "--exec-opt",
			       "native.cgroupdriver=systemd", "--add-runtime", "crun=/usr/bin/crun",
			       "--max-concurrent-downloads", "7", "--debug=false", NULL), 0);
	assert_int_equal(cfg->nhosts, 2);
	assert_string_equal(cfg->hosts[1], "unix:///b.sock");
	assert_false(cfg->debug);
	assert_string_equal(cfg->data_root, "/x");
	assert_string_equal(json_string_value(json_array_get(cfg->labels, 0)), "a=b");
	assert_string_equal(cfg->cgroup_driver, "systemd");
	assert_non_null(json_object_get(cfg->runtimes, "crun"));
	assert_int_equal(cfg->max_concurrent_downloads, 7);
	berth_config_free(cfg);
}

static void expect_error(const char *want, ...)
{
	char *argv[32] = {"berthd"};
	int argc = 1;
	va_list ap;
	va_start(ap, want);
	for (char *a; (a = va_arg(ap, char *)) != NULL;)
		argv[argc++] = a;
	va_end(ap);
	berth_config *cfg = NULL;
	berth_error *err = NULL;
	bool exit_now;
	assert_int_equal(berth_config_parse(argc, argv, &cfg, &exit_now, &err), -1);
	if (strstr(err->msg, want) == NULL)
		fail_msg("error '%s' lacks '%s'", err->msg, want);
	berth_error_free(&err);
}

static void test_flag_errors(void **state)
{
	expect_error("unknown flag: --nope", "--nope", NULL);
	expect_error("flag needs an argument", "--data-root", NULL);
	expect_error("invalid argument \"x\" for \"--max-concurrent-downloads\"", "--max-concurrent-downloads", "x", NULL);
	expect_error("needs mutual TLS", "-H", "tcp://0.0.0.0:2375", NULL);
	expect_error("needs mutual TLS", "-H", "tcp://127.0.0.1:2375", NULL);
	expect_error("invalid bind address format", "-H", "http://x", NULL);
	expect_error("--tlsverify needs", "--tlsverify", NULL);
	expect_error("unknown exec-opt", "--exec-opt", "foo=bar", NULL);
	expect_error("unable to parse logging level", "--log-level", "loud", NULL);
	expect_error("default runtime crun is not configured", "--default-runtime", "crun", NULL);
	expect_error("berthd takes no arguments", "extra", NULL);
}

static void test_insecure_tcp(void **state)
{
	berth_config *cfg = NULL;
	berth_error *err = NULL;
	assert_int_equal(parse(&cfg, &err, "-H", "tcp://127.0.0.1:2375", "--insecure-tcp", NULL), 0);
	berth_config_free(cfg);
}

static char *write_temp(const char *content)
{
	char *path = berth_xstrdup("/tmp/berth-config.XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	close(fd);
	return path;
}

static void file_error(const char *content, const char *want, char *const *flags)
{
	char *path cleanup_free = write_temp(content);
	berth_config *cfg = NULL;
	berth_error *err = NULL;
	assert_int_equal(parse(&cfg, &err, NULL), 0);
	assert_int_equal(berth_config_load_file(cfg, path, flags, &err), -1);
	if (strstr(err->msg, want) == NULL)
		fail_msg("error '%s' lacks '%s'", err->msg, want);
	berth_error_free(&err);
	berth_config_free(cfg);
	unlink(path);
}

static void test_file(void **state)
{
	char *flags[] = {"debug", NULL};
	file_error("{\"bogus\": 1, \"other\": 2}", "don't match any configuration option: bogus, other", NULL);
	file_error("{\"debug\": true}", "specified both as a flag and in the configuration file: debug", flags);
	file_error("{\"hosts\": \"unix:///x\"}", "hosts must be a list of strings", NULL);
	file_error("{\"mtu\": \"big\"}", "mtu must be an integer", NULL);
	file_error("[1]", "expected an object", NULL);

	char *path cleanup_free = write_temp("{\"labels\": [\"k=v\"], \"runtimes\": {\"crun\": {\"path\": \"/usr/bin/crun\"}}, \"bip\": \"10.9.0.1/24\", \"log-level\": \"warn\"}");
	berth_config *cfg = NULL;
	berth_error *err = NULL;
	assert_int_equal(parse(&cfg, &err, "--config-file", path, NULL), 0);
	assert_int_equal(json_array_size(cfg->labels), 1);
	assert_non_null(json_object_get(cfg->runtimes, "crun"));
	assert_non_null(json_object_get(cfg->runtimes, "runc"));
	assert_string_equal(berth_json_string(cfg->file, "bip"), "10.9.0.1/24");
	assert_int_equal(cfg->log_level, BERTH_LOG_WARN);
	berth_config_free(cfg);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),   cmocka_unit_test(test_flags),
		cmocka_unit_test(test_flag_errors), cmocka_unit_test(test_insecure_tcp),
		cmocka_unit_test(test_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
