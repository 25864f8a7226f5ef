/* compose/: loading Compose files. Expected models and messages are what
 * Docker Compose v2 (compose-go) gives for the same files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "compose/compose.h"
#include "unit_json.h"

/* ----------------------------------------------------------- helpers */

static char tmpdir[64];

static int make_dir(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/compose-unit.XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	return 0;
}

static int remove_dir(void **state)
{
	berth_error *err cleanup_error = NULL;
	assert_int_equal(berth_remove_all(tmpdir, &err), 0);
	return 0;
}

static void write_file(const char *name, const char *text)
{
	char *path cleanup_free = berth_xasprintf("%s/%s", tmpdir, name);
	char *dir cleanup_free = berth_xstrdup(path);
	*strrchr(dir, '/') = '\0';
	berth_error *err cleanup_error = NULL;
	assert_int_equal(berth_mkdir_all(dir, 0755, &err), 0);
	assert_int_equal(berth_file_write_atomic(path, text, strlen(text), 0644, &err), 0);
}

/* Loads with files (NULL: discovery in tmpdir) and an environment. */
static berth_compose_project *load(const char *const *files, char *const *env,
				   const char *const *profiles, char **errmsg)
{
	berth_compose_options o = {.files = files, .workdir = tmpdir, .environ = env,
				   .profiles = profiles};
	static char *const empty_env[] = {NULL};
	if (env == NULL)
		o.environ = empty_env;
	berth_compose_project *p = NULL;
	berth_error *err cleanup_error = NULL;
	if (berth_compose_load(&o, &p, &err) < 0) {
		assert_non_null(errmsg);
		*errmsg = berth_xstrdup(err->msg);
		return NULL;
	}
	if (errmsg)
		fail_msg("expected an error, loaded project %s", p->name);
	return p;
}

static const json_t *svc(const berth_compose_project *p, const char *name)
{
	const json_t *s = json_object_get(json_object_get(p->model, "services"), name);
	if (s == NULL)
		fail_msg("no service %s", name);
	return s;
}

static void check_error(const char *yaml, const char *want)
{
	write_file("err.yaml", yaml);
	const char *files[] = {"err.yaml", NULL};
	char *msg cleanup_free = NULL;
	load(files, NULL, NULL, &msg);
	char *full cleanup_free = berth_xasprintf(want, tmpdir);
	if (strcmp(msg, full) != 0)
		fail_msg("want [%s]\n got  [%s]", full, msg);
}

/* ------------------------------------------------------- interpolation */

static char *interp(const char *s, const char *env_json)
{
	json_t *env cleanup_json = json_loads(env_json, 0, NULL);
	char *out = NULL;
	berth_error *err cleanup_error = NULL;
	if (berth_compose_interpolate(s, env, &out, &err) < 0)
		return berth_xasprintf("ERR: %s", err->msg);
	return out;
}

#define check_interp(s, env, want)                                                  \
	do {                                                                        \
		char *got_ cleanup_free = interp(s, env);                           \
		if (strcmp(got_, want) != 0)                                        \
			fail_msg("%s: want [%s] got [%s]", s, want, got_);           \
	} while (0)

static void test_interpolation(void **state)
{
	const char *env = "{\"A\":\"a\",\"E\":\"\",\"B\":\"b\"}";
	check_interp("$A ${A} x$${A}", env, "a a x${A}");
	check_interp("${U:-def} ${E:-def} ${E-def} ${U-def}", env, "def def  def");
	check_interp("${A:+alt} ${E:+alt} ${E+alt} ${U+alt}", env, "alt  alt ");
	check_interp("${U:-${B:-x}} ${U:-${V:-nested}}", env, "b nested");
	check_interp("$$HOME costs $5 and $", env, "$HOME costs $5 and $");
	check_interp("${A:?must} ${E?fine}", env, "a ");
	check_interp("${U:?U is needed}", env, "ERR: required variable U is missing a value: U is needed");
	check_interp("${E:?}", env, "ERR: required variable E is missing a value");
	check_interp("${U?${B}!}", env, "ERR: required variable U is missing a value: b!");
	check_interp("${}", env,
		     "ERR: invalid interpolation format for \"${}\"; you may need to escape any $ "
		     "with another $");
	check_interp("${A", env,
		     "ERR: invalid interpolation format for \"${A\"; you may need to escape any $ "
		     "with another $");
	check_interp("${A:x}", env,
		     "ERR: invalid interpolation format for \"${A:x}\"; you may need to escape any "
		     "$ with another $");
	check_interp("$UNSET-after", env, "-after");
}

static void test_env_file(void **state)
{
	json_t *out cleanup_json = json_object();
	json_t *lookup cleanup_json = json_pack("{ss ss}", "SHELL_ONLY", "s", "HOME", "/root");
	berth_error *err cleanup_error = NULL;
	const char *text = "# comment\n"
			   "A=1\n"
			   "export B = two words \n"
			   "C='single $A'\n"
			   "D=\"double $A\\nnext\"\n"
			   "E=unquoted # comment\n"
			   "F=${A}${B}\n"
			   "SHELL_ONLY\n"
			   "NOT_SET\n"
			   "G=\"multi\nline\"\n"
			   "H=x#notacomment\n";
	assert_int_equal(berth_compose_env_parse(".env", text, lookup, out, &err), 0);
	check_json(out, "{\"A\":\"1\",\"B\":\"two words\",\"C\":\"single $A\","
			"\"D\":\"double 1\\nnext\",\"E\":\"unquoted\",\"F\":\"1two words\","
			"\"SHELL_ONLY\":\"s\",\"G\":\"multi\\nline\",\"H\":\"x#notacomment\"}");
	json_t *out2 cleanup_json = json_object();
	assert_int_equal(berth_compose_env_parse("bad.env", "A B=1\n", NULL, out2, &err), -1);
	assert_string_equal(err->msg, "bad.env:1: unexpected character \" \" in variable name \"A\"");
	berth_error_free(&err);
	assert_int_equal(berth_compose_env_parse("q.env", "A='open\n", NULL, out2, &err), -1);
	assert_string_equal(err->msg, "q.env:1: unterminated quoted value");
}

static void test_project_name(void **state)
{
	char *n cleanup_free = berth_compose_normalize_name("My Project.v2");
	assert_string_equal(n, "myprojectv2");
	char *m cleanup_free = berth_compose_normalize_name("_-lead");
	assert_string_equal(m, "lead");
}

/* ---------------------------------------------------------------- loading */

static void test_discovery_and_dotenv(void **state)
{
	write_file("compose.yaml", "services:\n  web:\n    image: busybox:${TAG}\n"
				   "    environment: [FROM_DOT, SHELL]\n");
	write_file("compose.override.yaml", "services:\n  web:\n    command: echo hi\n");
	write_file(".env", "TAG=1.36\nFROM_DOT=dot\nSHELL=from-dotenv\n");
	write_file("sub/dir/.keep", "");
	char *const env[] = {"SHELL=from-shell", NULL};
	berth_compose_project *p = load(NULL, env, NULL, NULL);
	const char *want_name = strrchr(tmpdir, '/') + 1;
	char *norm cleanup_free = berth_compose_normalize_name(want_name);
	assert_string_equal(p->name, norm);
	assert_string_equal(p->working_dir, tmpdir);
	char *f0 cleanup_free = berth_xasprintf("%s/compose.yaml", tmpdir);
	assert_string_equal(p->config_files[0], f0);
	assert_non_null(p->config_files[1]);
	check_json(json_object_get(svc(p, "web"), "image"), "\"busybox:1.36\"");
	/* the shell wins over .env */
	check_json(json_object_get(svc(p, "web"), "environment"),
		   "{\"FROM_DOT\":\"dot\",\"SHELL\":\"from-shell\"}");
	check_json(json_object_get(svc(p, "web"), "command"), "[\"echo\",\"hi\"]");
	berth_compose_project_free(p);
	unlink(f0);
}

static void test_merge_rules(void **state)
{
	write_file("base.yaml",
		   "name: merged\n"
		   "services:\n"
		   "  app:\n"
		   "    image: busybox\n"
		   "    command: [sh, -c, 'sleep 1']\n"
		   "    environment: {A: '1', B: '2'}\n"
		   "    labels: [l1=a]\n"
		   "    ports: ['8080:80', '9090:90']\n"
		   "    volumes: ['./a:/data', 'v:/cache']\n"
		   "    dns: 1.1.1.1\n"
		   "    healthcheck: {test: [CMD, true], interval: 5s}\n"
		   "volumes: {v: {}}\n");
	write_file("over.yaml",
		   "services:\n"
		   "  app:\n"
		   "    command: echo over\n"
		   "    environment: [B=3, C=4]\n"
		   "    labels: {l2: b}\n"
		   "    ports: ['8080:80', '7070:70']\n"
		   "    volumes: ['./b:/data']\n"
		   "    dns: [8.8.8.8]\n"
		   "    healthcheck: {test: echo ok}\n");
	const char *files[] = {"base.yaml", "over.yaml", NULL};
	berth_compose_project *p = load(files, NULL, NULL, NULL);
	assert_string_equal(p->name, "merged");
	const json_t *s = svc(p, "app");
	check_json(json_object_get(s, "command"), "[\"echo\",\"over\"]");
	check_json(json_object_get(s, "environment"), "{\"A\":\"1\",\"B\":\"3\",\"C\":\"4\"}");
	check_json(json_object_get(s, "labels"), "{\"l1\":\"a\",\"l2\":\"b\"}");
	check_json(json_object_get(s, "dns"), "[\"1.1.1.1\",\"8.8.8.8\"]");
	check_json(json_object_get(s, "healthcheck"),
		   "{\"test\":[\"CMD-SHELL\",\"echo ok\"],\"interval\":\"5s\"}");
	/* ports unique by what they publish, volumes by target */
	assert_int_equal(json_array_size(json_object_get(s, "ports")), 3);
	const json_t *vols = json_object_get(s, "volumes");
	assert_int_equal(json_array_size(vols), 2);
	char *b cleanup_free = berth_xasprintf("%s/b", tmpdir);
	assert_string_equal(berth_json_string(json_array_get(vols, 0), "source"), b);
	check_json(json_object_get(json_object_get(p->model, "volumes"), "v"), "{\"name\":\"merged_v\"}");
	berth_compose_project_free(p);
}

static void test_short_syntaxes(void **state)
{
	write_file("short.yaml",
		   "services:\n"
		   "  s:\n"
		   "    image: busybox\n"
		   "    ports: ['127.0.0.1:8000-8001:80-81/udp', 3000, '[::1]::53', '9000-9009:90']\n"
		   "    volumes: ['/host:/c:ro', 'named:/n:nocopy', /anon]\n"
		   "    depends_on: {d: {condition: service_healthy}}\n"
		   "    extra_hosts: {db: 10.0.0.1}\n"
		   "    scale: '2'\n"
		   "    mem_limit: 64m\n"
		   "    tmpfs: /run\n"
		   "    secrets: [token]\n"
		   "  d: {image: busybox, profiles: [never]}\n"
		   "volumes: {named: {external: true}}\n"
		   "secrets: {token: {file: ./token.txt}}\n");
	const char *files[] = {"short.yaml", NULL};
	const char *profiles[] = {"never", NULL};
	berth_compose_project *p = load(files, NULL, profiles, NULL);
	const json_t *s = svc(p, "s");
	check_json(json_object_get(s, "ports"),
		   "[{\"host_ip\":\"127.0.0.1\",\"mode\":\"ingress\",\"protocol\":\"udp\","
		   "\"published\":\"8000\",\"target\":80},"
		   "{\"host_ip\":\"127.0.0.1\",\"mode\":\"ingress\",\"protocol\":\"udp\","
		   "\"published\":\"8001\",\"target\":81},"
		   "{\"mode\":\"ingress\",\"protocol\":\"tcp\",\"target\":3000},"
		   "{\"host_ip\":\"::1\",\"mode\":\"ingress\",\"protocol\":\"tcp\",\"target\":53},"
		   /* a host range for one container port stays a range, as in nat.ParsePortSpecs */
		   "{\"mode\":\"ingress\",\"protocol\":\"tcp\",\"published\":\"9000-9009\",\"target\":90}]");
	check_json(json_object_get(s, "volumes"),
		   "[{\"type\":\"bind\",\"source\":\"/host\",\"target\":\"/c\",\"read_only\":true,"
		   "\"bind\":{\"create_host_path\":true}},"
		   "{\"type\":\"volume\",\"source\":\"named\",\"target\":\"/n\",\"volume\":{\"nocopy\":true}},"
		   "{\"type\":\"volume\",\"target\":\"/anon\",\"volume\":{}}]");
	check_json(json_object_get(s, "depends_on"),
		   "{\"d\":{\"condition\":\"service_healthy\",\"required\":true}}");
	check_json(json_object_get(s, "extra_hosts"), "[\"db=10.0.0.1\"]");
	check_json(json_object_get(s, "scale"), "2");
	check_json(json_object_get(s, "mem_limit"), "\"67108864\"");
	check_json(json_object_get(s, "tmpfs"), "[\"/run\"]");
	check_json(json_object_get(s, "secrets"), "[{\"source\":\"token\",\"target\":\"/run/secrets/token\"}]");
	assert_int_equal(berth_compose_replicas(s), 2);
	check_json(json_object_get(json_object_get(p->model, "volumes"), "named"),
		   "{\"external\":true,\"name\":\"named\"}");
	char *token cleanup_free = berth_xasprintf("%s/token.txt", tmpdir);
	assert_string_equal(berth_json_string(json_object_get(json_object_get(p->model, "secrets"), "token"), "file"), token);
	berth_compose_project_free(p);
}

static void test_profiles(void **state)
{
	write_file("prof.yaml", "services:\n"
				"  always: {image: busybox}\n"
				"  debug: {image: busybox, profiles: [debug]}\n"
				"  uses: {image: busybox, profiles: [tools], depends_on: {debug: {condition: service_started, required: false}}}\n");
	const char *files[] = {"prof.yaml", NULL};
	berth_compose_project *p = load(files, NULL, NULL, NULL);
	assert_int_equal(json_object_size(json_object_get(p->model, "services")), 1);
	assert_non_null(json_object_get(p->disabled, "debug"));
	berth_compose_project_free(p);
	char *const env[] = {"COMPOSE_PROFILES=tools", NULL};
	p = load(files, env, NULL, NULL);
	/* an optional dependency switched off is dropped */
	check_json(json_object_get(svc(p, "uses"), "depends_on"), "{}");
	berth_compose_project_free(p);
	const char *all[] = {"*", NULL};
	p = load(files, NULL, all, NULL);
	assert_int_equal(json_object_size(json_object_get(p->model, "services")), 3);
	berth_compose_project_free(p);
}

static void test_extends(void **state)
{
	write_file("common/base.yaml", "services:\n"
				       "  base:\n"
				       "    image: busybox\n"
				       "    environment: {FROM: base, KEEP: yes}\n"
				       "    volumes: ['./conf:/conf']\n");
	write_file("ext.yaml", "services:\n"
			       "  web:\n"
			       "    extends: {file: common/base.yaml, service: base}\n"
			       "    environment: {FROM: web}\n"
			       "  local:\n"
			       "    extends: web\n"
			       "    command: [true]\n");
	const char *files[] = {"ext.yaml", NULL};
	berth_compose_project *p = load(files, NULL, NULL, NULL);
	check_json(json_object_get(svc(p, "web"), "environment"),
		   "{\"FROM\":\"web\",\"KEEP\":\"yes\"}");
	char *conf cleanup_free = berth_xasprintf("%s/common/conf", tmpdir);
	assert_string_equal(berth_json_string(json_array_get(json_object_get(svc(p, "local"), "volumes"), 0), "source"), conf);
	check_json(json_object_get(svc(p, "local"), "image"), "\"busybox\"");
	assert_null(json_object_get(svc(p, "local"), "extends"));
	berth_compose_project_free(p);
	write_file("loop.yaml", "services:\n  a: {extends: b}\n  b: {extends: a, image: x}\n");
	const char *loop[] = {"loop.yaml", NULL};
	char *msg cleanup_free = NULL;
	load(loop, NULL, NULL, &msg);
	assert_non_null(strstr(msg, "Circular reference with extends"));
}

static void test_include(void **state)
{
	/* short and long syntax; each included project has its own directory
	 * (relative paths) and environment (its .env, or env_file), under the
	 * including project's variables */
	write_file("inc/db/compose.yaml", "services:\n  db:\n    image: busybox:${TAG:-none}\n"
					  "    volumes: ['./data:/data']\n");
	write_file("inc/db/.env", "TAG=db-env\n");
	write_file("inc/cache/a.yaml", "services:\n  cache:\n    image: busybox\n"
				       "    environment: ['V=${V}', 'W=${W}']\n"
				       "    volumes: ['./c:/c']\n");
	write_file("inc/cache/b.yaml", "services:\n  cache:\n    command: [sleep, '1']\n");
	write_file("inc/vars.env", "V=from-file\nW=from-file\n");
	write_file("inc/compose.yaml", "include:\n  - db/compose.yaml\n"
				       "  - path: [cache/a.yaml, cache/b.yaml]\n"
				       "    project_directory: proj\n    env_file: vars.env\n"
				       "services:\n  web: {image: busybox, depends_on: [db, cache]}\n");
	const char *files[] = {"inc/compose.yaml", NULL};
	char *const env[] = {"W=shell", NULL};
	berth_compose_project *p = load(files, env, NULL, NULL);
	check_json(json_object_get(svc(p, "db"), "image"), "\"busybox:db-env\"");
	char *data cleanup_free = berth_xasprintf("%s/inc/db/data", tmpdir);
	assert_string_equal(berth_json_string(json_array_get(json_object_get(svc(p, "db"), "volumes"), 0), "source"), data);
	check_json(json_object_get(svc(p, "cache"), "environment"), "{\"V\":\"from-file\",\"W\":\"shell\"}");
	check_json(json_object_get(svc(p, "cache"), "command"), "[\"sleep\",\"1\"]");
	char *c cleanup_free = berth_xasprintf("%s/inc/proj/c", tmpdir);
	assert_string_equal(berth_json_string(json_array_get(json_object_get(svc(p, "cache"), "volumes"), 0), "source"), c);
	assert_null(json_object_get(p->model, "include"));
	berth_compose_project_free(p);
	/* the same service defined again differently, and an include cycle */
	write_file("inc/clash.yaml", "include: [db/compose.yaml]\nservices:\n  db: {image: other}\n");
	const char *clash[] = {"inc/clash.yaml", NULL};
	char *msg cleanup_free = NULL;
	load(clash, NULL, NULL, &msg);
	assert_string_equal(msg, "services.db conflicts with imported resource");
	write_file("inc/loop/a.yaml", "include: [b.yaml]\nservices: {a: {image: x}}\n");
	write_file("inc/loop/b.yaml", "include: [a.yaml]\nservices: {b: {image: x}}\n");
	write_file("inc/loop/top.yaml", "include: [a.yaml]\n");
	const char *loop[] = {"inc/loop/top.yaml", NULL};
	char *msg2 cleanup_free = NULL;
	load(loop, NULL, NULL, &msg2);
	assert_non_null(strstr(msg2, "include cycle detected"));
}

static void test_merge_tags(void **state)
{
	write_file("tags/compose.yaml", "services:\n  web:\n    image: busybox\n"
					 "    ports: ['80:80', '81:81']\n"
					 "    environment: {A: '1', B: '2'}\n"
					 "    labels: {x: '1', z: '3'}\n    command: [sleep, '1']\n");
	write_file("tags/override.yaml", "services:\n  web:\n    ports: !reset []\n"
					  "    environment: !override {C: '3'}\n"
					  "    labels:\n      x: !reset\n      y: '2'\n"
					  "    command: !reset null\n");
	const char *files[] = {"tags/compose.yaml", "tags/override.yaml", NULL};
	berth_compose_project *p = load(files, NULL, NULL, NULL);
	assert_null(json_object_get(svc(p, "web"), "ports"));
	assert_null(json_object_get(svc(p, "web"), "command"));
	check_json(json_object_get(svc(p, "web"), "environment"), "{\"C\":\"3\"}");
	check_json(json_object_get(svc(p, "web"), "labels"), "{\"y\":\"2\",\"z\":\"3\"}");
	berth_compose_project_free(p);
	/* without the tags the same override merges */
	write_file("tags/plain.yaml", "services:\n  web:\n    environment: {C: '3'}\n");
	const char *plain[] = {"tags/compose.yaml", "tags/plain.yaml", NULL};
	p = load(plain, NULL, NULL, NULL);
	check_json(json_object_get(svc(p, "web"), "environment"),
		   "{\"A\":\"1\",\"B\":\"2\",\"C\":\"3\"}");
	assert_int_equal(json_array_size(json_object_get(svc(p, "web"), "ports")), 2);
	berth_compose_project_free(p);
}

static void test_volume_options(void **state)
{
	/* both bind options kept, unknown ones ignored, a bind section on a
	 * named volume creates the host path as compose-go's defaults say */
	write_file("vol/compose.yaml", "services:\n  s:\n    image: busybox\n"
				       "    volumes: ['./a:/a:z,rshared', 'v:/v:rw,bogus,rslave']\n"
				       "volumes: {v: {}}\n");
	const char *files[] = {"vol/compose.yaml", NULL};
	berth_compose_project *p = load(files, NULL, NULL, NULL);
	char *want cleanup_free = berth_xasprintf(
		"[{\"type\":\"bind\",\"source\":\"%s/vol/a\",\"target\":\"/a\","
		"\"bind\":{\"selinux\":\"z\",\"propagation\":\"rshared\",\"create_host_path\":true}},"
		"{\"type\":\"volume\",\"source\":\"v\",\"target\":\"/v\","
		"\"bind\":{\"propagation\":\"rslave\",\"create_host_path\":true},\"volume\":{}}]",
		tmpdir);
	check_json(json_object_get(svc(p, "s"), "volumes"), want);
	berth_compose_project_free(p);
	/* targets cleaned as Go's path.Clean does (compose-go's cleanTarget) */
	write_file("vol/clean.yaml", "services:\n  s:\n    image: busybox\n"
				     "    volumes: ['v:/data/', '/anon//x/./../y/', 'w:/../up']\n"
				     "volumes: {v: {}, w: {}}\n");
	const char *clean[] = {"vol/clean.yaml", NULL};
	p = load(clean, NULL, NULL, NULL);
	const json_t *vols = json_object_get(svc(p, "s"), "volumes");
	assert_string_equal(berth_json_string(json_array_get(vols, 0), "target"), "/data");
	assert_string_equal(berth_json_string(json_array_get(vols, 1), "target"), "/anon/y");
	assert_string_equal(berth_json_string(json_array_get(vols, 2), "target"), "/up");
	berth_compose_project_free(p);
	write_file("vol/bad.yaml", "services:\n  s:\n    image: busybox\n"
				   "    volumes: ['v:/v:ro:x']\n");
	const char *bad[] = {"vol/bad.yaml", NULL};
	char *msg cleanup_free = NULL;
	load(bad, NULL, NULL, &msg);
	assert_non_null(strstr(msg, "invalid spec: v:/v:ro:x: too many colons"));
}

static void test_errors(void **state)
{
	check_error("services:\n  web:\n    image: a\n    imgae: b\n",
		    "%s/err.yaml:4: services.web additional properties 'imgae' not allowed");
	check_error("services:\n  web:\n    image: a\n    ports: 80\n",
		    "%s/err.yaml:4: services.web.ports must be a list");
	check_error("services:\n  web:\n    image: a\n    command: {a: b}\n",
		    "%s/err.yaml:4: services.web.command must be a string or list");
	check_error("services:\n  web:\n    image: a\n    scale: many\n",
		    "%s/err.yaml:4: services.web.scale must be a integer");
	check_error("services:\n  web:\n    image: ${IMAGE:?set IMAGE}\n",
		    "%s/err.yaml:3: error while interpolating services.web.image: required variable "
		    "IMAGE is missing a value: set IMAGE");
	check_error("services:\n  web:\n    image: a\n    depends_on: [db]\n",
		    "%s/err.yaml:4: service \"web\" depends on undefined service \"db\": invalid "
		    "compose project");
	check_error("services:\n  web:\n    image: a\n    networks: [back]\n",
		    "%s/err.yaml:4: service \"web\" refers to undefined network back: invalid "
		    "compose project");
	check_error("services:\n  web:\n    image: a\n    volumes: ['data:/d']\n",
		    "%s/err.yaml:4: service \"web\" refers to undefined volume data: invalid "
		    "compose project");
	check_error("services:\n  web:\n    environment: [A=1]\n",
		    "service \"web\" has neither an image nor a build context specified: invalid "
		    "compose project");
	check_error("services:\n  web: [1]\n", "%s/err.yaml:2: services.web must be a mapping");
	check_error("services:\n  web:\n    image: a\n   bad: [\n  x: y\n",
		    "yaml: %s/err.yaml:4: invalid indentation in mapping");
	check_error("services:\n  web:\n    image: [a\n",
		    "yaml: %s/err.yaml:4: flow sequence without a closing bracket");
	check_error("services: {a: {image: x}}\nbogus: 1\n",
		    "%s/err.yaml:2: (root) additional properties 'bogus' not allowed");
	check_error("name: Bad Name\nservices: {}\n",
		    "\"Bad Name\" is not a valid project name: it must contain only characters from "
		    "[a-z0-9_-] and start with [a-z0-9]");
	check_error("services:\n  a: {image: x, ports: ['x:80']}\n",
		    "%s/err.yaml:2: services.a.ports[0]: invalid hostPort: x");
}

static void test_cycles(void **state)
{
	check_error("services:\n"
		    "  a: {image: x, depends_on: [b]}\n"
		    "  b: {image: x, depends_on: [c]}\n"
		    "  c: {image: x, depends_on: [a]}\n",
		    "dependency cycle detected: a -> b -> c -> a");
	check_error("services:\n  self: {image: x, depends_on: [self]}\n",
		    "dependency cycle detected: self -> self");
	json_t *services cleanup_json = json_pack(
		"{s{s{s{}}} s{s{s{}s{}}} s{} s{}}", "web", "depends_on", "api", "api", "depends_on",
		"db", "cache", "db", "cache");
	json_t *order cleanup_json = NULL;
	berth_error *err cleanup_error = NULL;
	assert_int_equal(berth_compose_order(services, &order, &err), 0);
	check_json(order, "[\"cache\",\"db\",\"api\",\"web\"]");
}

static void test_yaml_anchors_and_output(void **state)
{
	const char *yaml = "x-base: &base\n"
			   "  image: busybox\n"
			   "  environment: {A: '1'}\n"
			   "services:\n"
			   "  one:\n"
			   "    <<: *base\n"
			   "    command: [echo, 'a: b', '', 'yes', '007']\n"
			   "  two: *base\n";
	berth_compose_project *p = NULL;
	berth_error *err cleanup_error = NULL;
	assert_int_equal(berth_compose_load_string("anchors.yaml", yaml, strlen(yaml), "/srv/app",
						   NULL, &p, &err),
			 0);
	assert_string_equal(p->name, "app");
	check_json(json_object_get(svc(p, "two"), "environment"), "{\"A\":\"1\"}");
	berth_buf out cleanup_buf = {0};
	berth_compose_yaml_emit(p->model, &out);
	const char *want = "name: app\n"
			   "services:\n"
			   "  one:\n"
			   "    command:\n"
			   "      - echo\n"
			   "      - \"a: b\"\n"
			   "      - \"\"\n"
			   "      - yes\n"
			   "      - \"007\"\n"
			   "    environment:\n"
			   "      A: \"1\"\n"
			   "    image: busybox\n"
			   "    networks:\n"
			   "      default: null\n"
			   "  two:\n"
			   "    environment:\n"
			   "      A: \"1\"\n"
			   "    image: busybox\n"
			   "    networks:\n"
			   "      default: null\n"
			   "networks:\n"
			   "  default:\n"
			   "    name: app_default\n";
	if (strcmp(out.data, want) != 0)
		fail_msg("want:\n%s\ngot:\n%s", want, out.data);
	/* the YAML we print reads back as the same model */
	berth_compose_project *again = NULL;
	assert_int_equal(berth_compose_load_string("again.yaml", out.data, out.len, "/srv/app", NULL,
						   &again, &err),
			 0);
	assert_true(json_equal(p->model, again->model));
	berth_compose_project_free(again);
	berth_compose_project_free(p);
}

static void test_yaml_scalars_round_trip(void **state)
{
	json_t *j cleanup_json = json_pack("{sf sf si ss ss ss}", "real", 800.0, "frac", 0.5, "int", 800,
					   "numeric", "800", "bool", "true", "colon", "a: b");
	berth_buf out cleanup_buf = {0};
	berth_compose_yaml_emit(j, &out);
	assert_string_equal(out.data, "bool: \"true\"\ncolon: \"a: b\"\nfrac: 0.5\nint: 800\n"
				      "numeric: \"800\"\nreal: 800.0\n");
	/* a NUL ("\0" in a double-quoted scalar) survives: the fuzzer's find */
	json_t *nul cleanup_json = json_pack("{s s%}", "k", "a\0b", (size_t)3);
	berth_buf o2 cleanup_buf = {0};
	berth_compose_yaml_emit(nul, &o2);
	assert_string_equal(o2.data, "k: \"a\\x00b\"\n");
}

static void test_config_hash(void **state)
{
	json_t *a cleanup_json = json_pack("{ss si}", "image", "busybox", "scale", 1);
	json_t *b cleanup_json = json_pack("{si ss}", "scale", 3, "image", "busybox");
	json_t *c cleanup_json = json_pack("{ss}", "image", "busybox:1");
	char ha[65], hb[65], hc[65];
	berth_compose_config_hash(a, ha);
	berth_compose_config_hash(b, hb);
	berth_compose_config_hash(c, hc);
	assert_string_equal(ha, hb);
	assert_string_not_equal(ha, hc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_interpolation),
		cmocka_unit_test(test_env_file),
		cmocka_unit_test(test_project_name),
		cmocka_unit_test(test_discovery_and_dotenv),
		cmocka_unit_test(test_merge_rules),
		cmocka_unit_test(test_short_syntaxes),
		cmocka_unit_test(test_profiles),
		cmocka_unit_test(test_extends),
		cmocka_unit_test(test_include),
		cmocka_unit_test(test_merge_tags),
		cmocka_unit_test(test_volume_options),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_cycles),
		cmocka_unit_test(test_yaml_anchors_and_output),
		cmocka_unit_test(test_yaml_scalars_round_trip),
		cmocka_unit_test(test_config_hash),
	};
	return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
