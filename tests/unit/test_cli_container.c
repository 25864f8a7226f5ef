/* test_cli_container.c - the container commands' pure parts: docker's value
 * parsers, the create/run flags mapped to the create request, ps fields,
 * the 8-byte stream frames and detach keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli/container.h"

/* ----------------------------------------------------------- values */

/* The value parsers share one shape: a string to an int64 or docker's error. */
typedef int (*int64_parser)(const char *s, int64_t *out, berth_error **err);
typedef struct parse_case {
	const char *in;
	int64_t want;      /* when msg is NULL */
	const char *msg;   /* the error expected, NULL: it parses */
} parse_case;

static void check_parser(int64_parser parse, const parse_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int64_t got = -2;
		berth_error *err cleanup_error = NULL;
		int r = parse(cases[i].in, &got, &err);
		if (cases[i].msg) {
			assert_int_equal(r, -1);
			assert_string_equal(err->msg, cases[i].msg);
		} else {
			assert_int_equal(r, 0);
			assert_int_equal(got, cases[i].want);
		}
	}
}

static void test_ram_in_bytes(void **state)
{
	static const parse_case cases[] = {
		{"512", 512},
		{"32m", 32 * 1024 * 1024},
		{"32M", 32 * 1024 * 1024},
		{"1.5g", 1610612736},
		{"1GiB", 1073741824},
		{"2kb", 2048},
		{"10b", 10},
		{"1 KB", 1024},
		{"1t", 1099511627776LL},
		{"abc", 0, "invalid size: 'abc'"},
		{"3x", 0, "invalid suffix: 'x'"},
		{"1kk", 0, "invalid suffix: 'kk'"},
		{"1bb", 0, "invalid suffix: 'bb'"},
		{"-1", 0, "invalid size: '-1'"},
		{"", 0, "invalid size: ''"},
		{"1.2.3", 0, "strconv.ParseFloat: parsing \"1.2.3\": invalid syntax"},
	};
	check_parser(berth_cli_ram_in_bytes, cases, BERTH_ARRAY_SIZE(cases));
}

static void test_go_duration(void **state)
{
	static const parse_case cases[] = {
		{"0", 0},
		{"300ms", 300000000},
		{"1h2m3.5s", 3723500000000LL},
		{"-5s", -5000000000LL},
		{"1.5us", 1500},
		{"2\xc2\xb5s", 2000},
		{".5m", 30000000000LL},
		{"5x", 0, "time: unknown unit \"x\" in duration \"5x\""},
		{"5", 0, "time: missing unit in duration \"5\""},
		{"", 0, "time: invalid duration \"\""},
		{"s", 0, "time: invalid duration \"s\""},
		{".s", 0, "time: invalid duration \".s\""},
		{"3000000h", 0, "time: invalid duration \"3000000h\""},
	};
	check_parser(berth_cli_go_duration, cases, BERTH_ARRAY_SIZE(cases));
}

static void test_ints_and_cpus(void **state)
{
	static const parse_case ints[] = {
		{"-12", -12},
		{"0x10", 16},
		{"x", 0, "strconv.ParseInt: parsing \"x\": invalid syntax"},
		{"99999999999999999999", 0,
		 "strconv.ParseInt: parsing \"99999999999999999999\": value out of range"},
	};
	check_parser(berth_cli_parse_int, ints, BERTH_ARRAY_SIZE(ints));
	static const parse_case cpus[] = {
		{"1.5", 1500000000},
		{"2", 2000000000},
		{"3/2", 1500000000},
		{"0.0000000001", 0, "value is too precise"},
		{"abc", 0, "failed to parse abc as a rational number"},
	};
	check_parser(berth_cli_nano_cpus, cpus, BERTH_ARRAY_SIZE(cpus));
}

static void test_kv_file(void **state)
{
	char path[] = "/tmp/berth-test-env.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char *text = "\xEF\xBB\xBF"
			   "A=1\n# comment\n\n  B=two words \nBERTH_TEST_SET\nBERTH_TEST_UNSET\r\n";
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	setenv("BERTH_TEST_SET", "yes", 1);
	unsetenv("BERTH_TEST_UNSET");
	berth_strlist env cleanup_strlist = {0};
	assert_int_equal(berth_cli_read_kv_file(path, true, &env, NULL), 0);
	assert_int_equal(env.n, 3);
	assert_string_equal(env.v[0], "A=1");
	assert_string_equal(env.v[1], "B=two words ");
	assert_string_equal(env.v[2], "BERTH_TEST_SET=yes");
	berth_strlist labels cleanup_strlist = {0};
	assert_int_equal(berth_cli_read_kv_file(path, false, &labels, NULL), 0);
	assert_int_equal(labels.n, 2);
	unlink(path);
	berth_error *err cleanup_error = NULL;
	assert_int_equal(berth_cli_read_kv_file(path, true, &env, &err), -1);
	char *want cleanup_free = berth_xasprintf("open %s: no such file or directory", path);
	assert_string_equal(err->msg, want);
	char *e cleanup_free = berth_cli_env_value("BERTH_TEST_SET");
	assert_string_equal(e, "BERTH_TEST_SET=yes");
	char *e2 cleanup_free = berth_cli_env_value("BERTH_TEST_UNSET");
	assert_string_equal(e2, "BERTH_TEST_UNSET");
}

/* ------------------------------------------------------- create flags */

typedef struct built {
	berth_create_opts *opts;
	berth_create_plan plan;
	berth_error *err;
	int parsed;
} built;

/* Parses argv as `berth run` (or create) would and builds the request. */
static int build(built *b, berth_create_cmd cmd, ...)
{
	char *argv[64];
	int argc = 0;
	va_list ap;
	va_start(ap, cmd);
	for (char *a; (a = va_arg(ap, char *)) != NULL && argc < 63;)
		argv[argc++] = a;
	va_end(ap);
	berth_flag *flags;
	size_t nflags;
	berth_strlist args cleanup_strlist = {0};
	*b = (built){0};
	b->opts = berth_create_opts_new(cmd, &flags, &nflags);
	b->parsed = berth_flags_parse(flags, nflags, false, argc, argv, &args, NULL, &b->err);
	if (b->parsed < 0)
		return -1;
	return berth_create_opts_build(b->opts, &args, &b->plan, &b->err);
}

static void built_reset(built *b)
{
	berth_create_plan_reset(&b->plan);
	berth_create_opts_free(b->opts);
	berth_error_free(&b->err);
}

#define RUN(b, ...) build(b, BERTH_CREATE_CMD_RUN, __VA_ARGS__, NULL)

static const json_t *at(const json_t *j, const char *path)
{
	char *copy cleanup_free = berth_xstrdup(path);
	for (char *save = NULL, *k = strtok_r(copy, ".", &save); k && j; k = strtok_r(NULL, ".", &save))
		j = json_is_array(j) ? json_array_get(j, strtoul(k, NULL, 10)) : json_object_get(j, k);
	return j;
}

static void assert_json(const json_t *root, const char *path, const char *want)
{
	const json_t *v = at(root, path);
	char *got cleanup_free = v ? berth_json_dump(v) : berth_xstrdup("(missing)");
	if (strcmp(got, want) != 0)
		fail_msg("%s: got %s, want %s", path, got, want);
}

static void test_create_basic(void **state)
{
	built b;
	assert_int_equal(RUN(&b, "--rm", "--name", "web", "-e", "A=1", "-w", "/srv", "-u", "1000:1000",
			     "busybox", "ls", "-l", "/"),
			 0);
	const json_t *j = b.plan.body;
	assert_json(j, "Image", "\"busybox\"");
	assert_json(j, "Cmd", "[\"ls\",\"-l\",\"/\"]");
	assert_json(j, "Env", "[\"A=1\"]");
	assert_json(j, "WorkingDir", "\"/srv\"");
	assert_json(j, "User", "\"1000:1000\"");
	assert_json(j, "AttachStdin", "false");
	assert_json(j, "AttachStdout", "true");
	assert_json(j, "AttachStderr", "true");
	assert_json(j, "HostConfig.AutoRemove", "true");
	assert_json(j, "HostConfig.NetworkMode", "\"default\"");
	assert_json(j, "HostConfig.RestartPolicy", "{\"Name\":\"no\",\"MaximumRetryCount\":0}");
	assert_string_equal(b.plan.name, "web");
	assert_string_equal(b.plan.pull, "missing");
	assert_true(b.plan.auto_remove);
	assert_true(b.plan.sig_proxy);
	built_reset(&b);
}

static void test_create_stdio(void **state)
{
	built b;
	assert_int_equal(RUN(&b, "-it", "busybox", "sh"), 0);
	assert_json(b.plan.body, "AttachStdin", "true");
	assert_json(b.plan.body, "OpenStdin", "true");
	assert_json(b.plan.body, "StdinOnce", "true");
	assert_json(b.plan.body, "Tty", "true");
	built_reset(&b);
	assert_int_equal(RUN(&b, "-a", "stdin", "-a", "STDERR", "busybox"), 0);
	assert_json(b.plan.body, "AttachStdin", "true");
	assert_json(b.plan.body, "AttachStdout", "false");
	assert_json(b.plan.body, "AttachStderr", "true");
	assert_json(b.plan.body, "OpenStdin", "false");
	assert_true(b.plan.attach_given);
	built_reset(&b);
	assert_int_equal(RUN(&b, "-d", "--sig-proxy=false", "--detach-keys", "ctrl-a", "busybox"), 0);
	assert_true(b.plan.detach);
	assert_false(b.plan.sig_proxy);
	assert_string_equal(b.plan.detach_keys, "ctrl-a");
	built_reset(&b);
	/* flags after the image belong to the command */
	assert_int_equal(RUN(&b, "busybox", "-m", "1", "--rm"), 0);
	assert_json(b.plan.body, "Cmd", "[\"-m\",\"1\",\"--rm\"]");
	assert_json(b.plan.body, "HostConfig.Memory", "(missing)");
	built_reset(&b);
}

static void test_create_resources(void **state)
{
	built b;
	assert_int_equal(RUN(&b, "-m", "32m", "--memory-swap", "-1", "--memory-reservation", "1g",
			     "--cpus", "1.5", "-c", "512", "--cpuset-cpus", "0-1", "--pids-limit",
			     "100", "--shm-size", "128m", "--oom-kill-disable", "--memory-swappiness",
			     "10", "--blkio-weight", "300", "busybox"),
			 0);
	const json_t *j = b.plan.body;
	assert_json(j, "HostConfig.Memory", "33554432");
	assert_json(j, "HostConfig.MemorySwap", "-1");
	assert_json(j, "HostConfig.MemoryReservation", "1073741824");
	assert_json(j, "HostConfig.NanoCpus", "1500000000");
	assert_json(j, "HostConfig.CpuShares", "512");
	assert_json(j, "HostConfig.CpusetCpus", "\"0-1\"");
	assert_json(j, "HostConfig.PidsLimit", "100");
	assert_json(j, "HostConfig.ShmSize", "134217728");
	assert_json(j, "HostConfig.OomKillDisable", "true");
	assert_json(j, "HostConfig.MemorySwappiness", "10");
	assert_json(j, "HostConfig.BlkioWeight", "300");
	built_reset(&b);
	assert_int_equal(RUN(&b, "--ulimit", "nofile=1024:2048", "--ulimit", "nproc=10",
			     "--ulimit", "nofile=5", "--device-read-bps", "/dev/sda:1mb",
			     "--blkio-weight-device", "/dev/sda:200", "busybox"),
			 0);
	assert_json(b.plan.body, "HostConfig.Ulimits",
		    "[{\"Name\":\"nofile\",\"Hard\":5,\"Soft\":5},{\"Name\":\"nproc\",\"Hard\":10,"
		    "\"Soft\":10}]");
	assert_json(b.plan.body, "HostConfig.BlkioDeviceReadBps",
		    "[{\"Path\":\"/dev/sda\",\"Rate\":1048576}]");
	assert_json(b.plan.body, "HostConfig.BlkioWeightDevice",
		    "[{\"Path\":\"/dev/sda\",\"Weight\":200}]");
	built_reset(&b);
}

static void test_create_security_and_misc(void **state)
{
	built b;
	assert_int_equal(RUN(&b, "--read-only", "--privileged", "--cap-add", "net_admin",
			     "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
			     "--security-opt", "systempaths=unconfined", "--init", "--group-add",
			     "audio", "--sysctl", "net.ipv4.ip_forward=1", "--runtime", "runc",
			     "-h", "box", "--stop-signal", "SIGINT", "--stop-timeout", "30",
			     "--restart", "on-failure:3", "--entrypoint", "/bin/sh", "busybox"),
			 0);
	const json_t *j = b.plan.body;
	assert_json(j, "HostConfig.ReadonlyRootfs", "true");
	assert_json(j, "HostConfig.Privileged", "true");
	assert_json(j, "HostConfig.CapAdd", "[\"CAP_NET_ADMIN\"]");
	assert_json(j, "HostConfig.CapDrop", "[\"ALL\"]");
	assert_json(j, "HostConfig.SecurityOpt", "[\"no-new-privileges\"]");
	assert_json(j, "HostConfig.MaskedPaths", "[]");
	assert_json(j, "HostConfig.Init", "true");
	assert_json(j, "HostConfig.GroupAdd", "[\"audio\"]");
	assert_json(j, "HostConfig.Sysctls", "{\"net.ipv4.ip_forward\":\"1\"}");
	assert_json(j, "HostConfig.Runtime", "\"runc\"");
	assert_json(j, "HostConfig.RestartPolicy", "{\"Name\":\"on-failure\",\"MaximumRetryCount\":3}");
	assert_json(j, "Hostname", "\"box\"");
	assert_json(j, "StopSignal", "\"SIGINT\"");
	assert_json(j, "StopTimeout", "30");
	assert_json(j, "Entrypoint", "[\"/bin/sh\"]");
	built_reset(&b);
	assert_int_equal(RUN(&b, "--entrypoint=", "--log-driver", "json-file", "--log-opt",
			     "max-size=10m", "--add-host", "db=10.0.0.1", "--dns", "8.8.8.8",
			     "busybox"),
			 0);
	assert_json(b.plan.body, "Entrypoint", "[\"\"]");
	assert_json(b.plan.body, "HostConfig.LogConfig",
		    "{\"Type\":\"json-file\",\"Config\":{\"max-size\":\"10m\"}}");
	assert_json(b.plan.body, "HostConfig.ExtraHosts", "[\"db:10.0.0.1\"]");
	assert_json(b.plan.body, "HostConfig.Dns", "[\"8.8.8.8\"]");
	assert_json(b.plan.body, "HostConfig.DnsSearch", "[]");
	built_reset(&b);
}

static void test_create_storage(void **state)
{
	built b;
	assert_int_equal(RUN(&b, "-v", "/tmp:/data:ro", "-v", "/anon", "--tmpfs", "/run",
			     "--tmpfs", "/tmp:size=64k", "--mount",
			     "type=bind,source=/tmp,target=/t,readonly", "--mount",
			     "type=tmpfs,dst=/tm,tmpfs-size=64m,tmpfs-mode=1770", "--device",
			     "/dev/null:/dev/n:r", "busybox"),
			 0);
	const json_t *j = b.plan.body;
	assert_json(j, "HostConfig.Binds", "[\"/tmp:/data:ro\"]");
	assert_json(j, "Volumes", "{\"/anon\":{}}");
	assert_json(j, "HostConfig.Tmpfs", "{\"/run\":\"\",\"/tmp\":\"size=64k\"}");
	assert_json(j, "HostConfig.Mounts.0",
		    "{\"Type\":\"bind\",\"Source\":\"/tmp\",\"Target\":\"/t\",\"ReadOnly\":true}");
	assert_json(j, "HostConfig.Mounts.1",
		    "{\"Type\":\"tmpfs\",\"Target\":\"/tm\",\"TmpfsOptions\":{\"SizeBytes\":67108864,"
		    "\"Mode\":1016}}");
	assert_json(j, "HostConfig.Devices",
		    "[{\"PathOnHost\":\"/dev/null\",\"PathInContainer\":\"/dev/n\","
		    "\"CgroupPermissions\":\"r\"}]");
	built_reset(&b);
}

static void test_create_network_ports_health(void **state)
{
	built b;
	assert_int_equal(RUN(&b, "-p", "8080:80", "-p", "127.0.0.1:9000:9000/udp", "--expose",
			     "5000-5001", "--network", "mynet", "--network-alias", "web", "--ip",
			     "172.20.0.5", "--health-cmd", "true", "--health-interval", "5s",
			     "--health-retries", "3", "busybox"),
			 0);
	const json_t *j = b.plan.body;
	assert_json(j, "ExposedPorts",
		    "{\"80/tcp\":{},\"9000/udp\":{},\"5000/tcp\":{},\"5001/tcp\":{}}");
	assert_json(j, "HostConfig.PortBindings",
		    "{\"80/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"8080\"}],\"9000/udp\":[{\"HostIp\":"
		    "\"127.0.0.1\",\"HostPort\":\"9000\"}]}");
	assert_json(j, "HostConfig.NetworkMode", "\"mynet\"");
	assert_json(j, "NetworkingConfig.EndpointsConfig.mynet",
		    "{\"Aliases\":[\"web\"],\"IPAMConfig\":{\"IPv4Address\":\"172.20.0.5\"}}");
	assert_json(j, "Healthcheck",
		    "{\"Test\":[\"CMD-SHELL\",\"true\"],\"Interval\":5000000000,\"Retries\":3}");
	built_reset(&b);
	assert_int_equal(RUN(&b, "--net", "host", "--no-healthcheck", "busybox"), 0);
	assert_json(b.plan.body, "HostConfig.NetworkMode", "\"host\"");
	assert_json(b.plan.body, "NetworkingConfig", "(missing)");
	assert_json(b.plan.body, "Healthcheck", "{\"Test\":[\"NONE\"]}");
	built_reset(&b);
}

static void expect_build_error(const char *flag, const char *value, const char *msg)
{
	built b;
	assert_int_equal(build(&b, BERTH_CREATE_CMD_RUN, flag, value, "busybox", NULL), -1);
	if (strcmp(b.err->msg, msg) != 0)
		fail_msg("%s %s: got \"%s\", want \"%s\"", flag, value, b.err->msg, msg);
	built_reset(&b);
}

static void test_create_errors(void **state)
{
	expect_build_error("-m", "3x",
			   "invalid argument \"3x\" for \"-m, --memory\" flag: invalid suffix: 'x'");
	expect_build_error("--health-interval", "5x",
			   "invalid argument \"5x\" for \"--health-interval\" flag: time: unknown unit "
			   "\"x\" in duration \"5x\"");
	expect_build_error("--stop-timeout", "x",
			   "invalid argument \"x\" for \"--stop-timeout\" flag: strconv.ParseInt: "
			   "parsing \"x\": invalid syntax");
	expect_build_error("--ulimit", "nofile=5:2",
			   "invalid argument \"nofile=5:2\" for \"--ulimit\" flag: ulimit soft limit must "
			   "be less than or equal to hard limit: 5 > 2");
	expect_build_error("-a", "foo",
			   "invalid argument \"foo\" for \"-a, --attach\" flag: valid streams are STDIN, "
			   "STDOUT and STDERR");
	expect_build_error("--mount", "type=bind",
			   "invalid argument \"type=bind\" for \"--mount\" flag: target is required");
	expect_build_error("--restart", "on-failure:x",
			   "invalid restart policy format: maximum retry count must be an integer");
	expect_build_error("--pull", "foo",
			   "invalid pull option: 'foo': must be one of \"always\", \"missing\" or "
			   "\"never\"");
	expect_build_error("--pid", "foo", "--pid: invalid PID mode");
	expect_build_error("-p", "99999:80", "invalid hostPort: 99999");
	expect_build_error("--expose", "abc",
			   "invalid range format for --expose: abc, error: strconv.ParseUint: parsing "
			   "\"abc\": invalid syntax");
	built b;
	assert_int_equal(RUN(&b, "--rm", "--restart", "always", "busybox"), -1);
	assert_string_equal(b.err->msg, "conflicting options: cannot specify both --restart and --rm");
	built_reset(&b);
	assert_int_equal(RUN(&b, "--no-healthcheck", "--health-cmd", "x", "busybox"), -1);
	assert_string_equal(b.err->msg, "--no-healthcheck conflicts with --health-* options");
	built_reset(&b);
}

/* ---------------------------------------------------------------- ps */

static void test_ps_fields(void **state)
{
	char *e1 cleanup_free = berth_cli_ellipsis("sh -c 'while true; do sleep 1; done'", 20);
	assert_string_equal(e1, "sh -c 'while true; \xe2\x80\xa6");
	char *e2 cleanup_free = berth_cli_ellipsis("echo hi", 20);
	assert_string_equal(e2, "echo hi");
	char *e3 cleanup_free = berth_cli_ellipsis("12345678901234567890", 20);
	assert_string_equal(e3, "12345678901234567890");
	char *q cleanup_free = berth_cli_go_quote("say \"hi\"\n\\");
	assert_string_equal(q, "\"say \\\"hi\\\"\\n\\\\\"");
	int64_t now = 1700000000LL * 1000000000LL;
	char *r1 cleanup_free = berth_cli_running_for(1700000000LL - 5, now);
	assert_string_equal(r1, "5 seconds ago");
	char *r2 cleanup_free = berth_cli_running_for(1700000000LL - 90, now);
	assert_string_equal(r2, "About a minute ago");
	char *r3 cleanup_free = berth_cli_running_for(1700000000LL, now);
	assert_string_equal(r3, "Less than a second ago");
	char *r4 cleanup_free = berth_cli_running_for(1700000000LL - 3 * 86400, now);
	assert_string_equal(r4, "3 days ago");
}

static void test_ps_ports(void **state)
{
	json_t *ports cleanup_json = json_loads(
		"[{\"PrivatePort\":81,\"Type\":\"tcp\"},{\"PrivatePort\":80,\"Type\":\"tcp\"},"
		"{\"PrivatePort\":82,\"Type\":\"tcp\"},{\"PrivatePort\":53,\"Type\":\"udp\"},"
		"{\"IP\":\"0.0.0.0\",\"PrivatePort\":443,\"PublicPort\":8443,\"Type\":\"tcp\"},"
		"{\"IP\":\"0.0.0.0\",\"PrivatePort\":9000,\"PublicPort\":9000,\"Type\":\"tcp\"},"
		"{\"IP\":\"::\",\"PrivatePort\":22,\"PublicPort\":2222,\"Type\":\"tcp\"}]",
		0, NULL);
	char *s cleanup_free = berth_cli_displayable_ports(ports);
	assert_string_equal(s, "53/udp, 80-82/tcp, 0.0.0.0:9000->9000/tcp, [::]:2222->22/tcp, "
			       "0.0.0.0:8443->443/tcp");
	json_t *none cleanup_json = json_array();
	char *e cleanup_free = berth_cli_displayable_ports(none);
	assert_string_equal(e, "");
}

static void test_ps_row(void **state)
{
	json_t *c cleanup_json = json_loads(
		"{\"Id\":\"4f2d9c1b8a7e6d5c4b3a29181716151413121110090807060504030201000f0e\","
		"\"Names\":[\"/web\"],\"Image\":\"docker.io/library/busybox:latest\","
		"\"ImageID\":\"sha256:ee8886c19127afe6977c08831168d3997be2e5514a6f32e3a186ba4cd5936274\","
		"\"Command\":\"sh -c 'while true; do sleep 1; done'\",\"Created\":1699999995,"
		"\"State\":\"running\",\"Status\":\"Up 4 seconds\",\"Ports\":[],"
		"\"Labels\":{\"b\":\"2\",\"a\":\"1\"},\"SizeRw\":12,\"SizeRootFs\":1984284,"
		"\"Mounts\":[{\"Name\":\"averyveryverylongvolumename\",\"Driver\":\"local\"}],"
		"\"NetworkSettings\":{\"Networks\":{\"bridge\":{}}}}",
		0, NULL);
	int64_t now = 1700000000LL * 1000000000LL;
	json_t *row cleanup_json = berth_cli_ps_row(c, true, now);
	assert_json(row, "ID", "\"4f2d9c1b8a7e\"");
	assert_json(row, "Names", "\"web\"");
	assert_json(row, "Image", "\"busybox:latest\"");
	assert_json(row, "Command", "\"\\\"sh -c 'while true; \xe2\x80\xa6\\\"\"");
	assert_json(row, "RunningFor", "\"5 seconds ago\"");
	assert_json(row, "Labels", "\"a=1,b=2\"");
	assert_json(row, "Size", "\"12B (virtual 1.98MB)\"");
	assert_json(row, "Mounts", "\"averyveryveryl\xe2\x80\xa6\"");
	assert_json(row, "LocalVolumes", "\"1\"");
	assert_json(row, "Networks", "\"bridge\"");
	assert_json(row, "Status", "\"Up 4 seconds\"");
	json_t *full cleanup_json = berth_cli_ps_row(c, false, now);
	assert_json(full, "ID", "\"4f2d9c1b8a7e6d5c4b3a29181716151413121110090807060504030201000f0e\"");
	assert_json(full, "Image", "\"docker.io/library/busybox:latest\"");
	/* the keys of docker's MarshalJSON, in order */
	const char *keys[] = {"Command", "CreatedAt", "ID", "Image", "Labels", "LocalVolumes",
			      "Mounts", "Names", "Networks", "Platform", "Ports", "RunningFor", "Size",
			      "State", "Status"};
	size_t i = 0;
	const char *k;
	json_t *v;
	json_object_foreach(row, k, v) assert_string_equal(k, keys[i++]);
	assert_int_equal(i, BERTH_ARRAY_SIZE(keys));
}

/* ------------------------------------------------------------ frames */

typedef struct collected {
	berth_buf out, err;
} collected;

static int collect(void *userdata, int stream, const char *data, size_t len)
{
	collected *c = userdata;
	berth_buf_append(stream == 2 ? &c->err : &c->out, data, len);
	return 0;
}

static void frame(berth_buf *b, int stream, const char *payload)
{
	size_t n = strlen(payload);
	unsigned char h[8] = {(unsigned char)stream, 0, 0, 0, (unsigned char)(n >> 24),
			      (unsigned char)(n >> 16), (unsigned char)(n >> 8), (unsigned char)n};
	berth_buf_append(b, h, 8);
	berth_buf_append(b, payload, n);
}

static void test_demux(void **state)
{
	berth_buf stream cleanup_buf = {0};
	frame(&stream, 1, "hello ");
	frame(&stream, 2, "oops\n");
	frame(&stream, 1, "world\n");
	frame(&stream, 0, "");
	/* every split of the stream gives the same result */
	for (size_t step = 1; step <= stream.len; step++) {
		berth_demux d = {0};
		collected c = {0};
		for (size_t off = 0; off < stream.len; off += step) {
			size_t n = stream.len - off < step ? stream.len - off : step;
			assert_int_equal(berth_demux_feed(&d, stream.data + off, n, collect, &c, NULL), 0);
		}
		assert_string_equal(c.out.data, "hello world\n");
		assert_string_equal(c.err.data, "oops\n");
		berth_buf_reset(&c.out);
		berth_buf_reset(&c.err);
		berth_demux_reset(&d);
	}
	berth_buf bad cleanup_buf = {0};
	frame(&bad, 3, "exec failed");
	berth_demux d = {0};
	collected c = {0};
	berth_error *err cleanup_error = NULL;
	assert_int_equal(berth_demux_feed(&d, bad.data, bad.len, collect, &c, &err), -1);
	assert_string_equal(err->msg, "error from daemon in stream: exec failed");
	berth_error_free(&err);
	berth_demux_reset(&d);
	berth_buf_reset(&bad);
	frame(&bad, 7, "x");
	assert_int_equal(berth_demux_feed(&d, bad.data, bad.len, collect, &c, &err), -1);
	assert_string_equal(err->msg, "Unrecognized input header: 7");
	berth_demux_reset(&d);
}

static void test_escape(void **state)
{
	berth_escape e;
	berth_error *err cleanup_error = NULL;
	assert_int_equal(berth_escape_parse(NULL, &e, NULL), 0);
	assert_int_equal(e.nkeys, 2);
	assert_int_equal(e.keys[0], 16);
	assert_int_equal(e.keys[1], 17);
	assert_int_equal(berth_escape_parse("ctrl-a,x,ctrl-@,ctrl-_", &e, NULL), 0);
	assert_int_equal(e.nkeys, 4);
	assert_memory_equal(e.keys, "\x01x\x00\x1f", 4);
	assert_int_equal(berth_escape_parse("ctrl-1", &e, &err), -1);
	assert_string_equal(err->msg, "Unknown character: 'ctrl-1'");

	berth_escape_parse(NULL, &e, NULL);
	berth_buf out cleanup_buf = {0};
	assert_false(berth_escape_filter(&e, "ab\x10", 3, &out));
	assert_int_equal(out.len, 2); /* ctrl-p held back */
	assert_false(berth_escape_filter(&e, "c", 1, &out));
	assert_memory_equal(out.data, "ab\x10" "c", 4); /* released: not the sequence */
	berth_buf_reset(&out);
	assert_false(berth_escape_filter(&e, "\x10\x10", 2, &out));
	assert_memory_equal(out.data, "\x10", 1);
	assert_true(berth_escape_filter(&e, "\x11zz", 3, &out));
	assert_int_equal(out.len, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ram_in_bytes),
		cmocka_unit_test(test_go_duration),
		cmocka_unit_test(test_ints_and_cpus),
		cmocka_unit_test(test_kv_file),
		cmocka_unit_test(test_create_basic),
		cmocka_unit_test(test_create_stdio),
		cmocka_unit_test(test_create_resources),
		cmocka_unit_test(test_create_security_and_misc),
		cmocka_unit_test(test_create_storage),
		cmocka_unit_test(test_create_network_ports_health),
		cmocka_unit_test(test_create_errors),
		cmocka_unit_test(test_ps_fields),
		cmocka_unit_test(test_ps_ports),
		cmocka_unit_test(test_ps_row),
		cmocka_unit_test(test_demux),
		cmocka_unit_test(test_escape),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
