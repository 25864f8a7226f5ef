/*
 * platform.c - FROM --platform and the build's platform: containerd's
 * specifier rules ("linux", "arm64", "linux/arm/v7"; aliases such as
 * x86_64 or aarch64 normalized), the match of an image's os/architecture
 * against one, and the automatic platform ARGs (BUILDPLATFORM, TARGETOS...)
 * as BuildKit defines them.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "internal.h"

static const char *const known_os[] = {
	"aix", "android", "darwin", "dragonfly", "freebsd", "hurd", "illumos", "ios", "js",
	"linux", "nacl", "netbsd", "openbsd", "plan9", "solaris", "windows", "zos",
};

static const char *const known_arch[] = {
	"386", "amd64", "amd64p32", "arm", "armbe", "arm64", "arm64be", "ppc64", "ppc64le",
	"loong64", "mips", "mipsle", "mips64", "mips64le", "mips64p32", "mips64p32le", "ppc",
	"riscv", "riscv64", "s390", "s390x", "sparc", "sparc64", "wasm",
};

static bool in_list(const char *const *list, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], s) == 0)
			return true;
	return false;
}

void build_platform_reset(build_platform *p)
{
	free(p->os);
	free(p->arch);
	free(p->variant);
	memset(p, 0, sizeof(*p));
}

/* containerd's normalizeArch: Go's names, the variant spelled "v7". */
static void set_arch(build_platform *p, const char *arch, const char *variant)
{
	char *a = berth_xstrdup(arch), *v = berth_xstrdup(variant ? variant : "");
	for (char *c = a; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	static const struct {
		const char *alias, *arch, *variant;
	} aliases[] = {
		{"i386", "386", ""}, {"i686", "386", ""}, {"x86_64", "amd64", NULL},
		{"x86-64", "amd64", NULL}, {"aarch64", "arm64", NULL}, {"armhf", "arm", "v7"},
		{"armel", "arm", "v6"}, {"armv7l", "arm", "v7"}, {"armv6l", "arm", "v6"},
	};
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(aliases); i++) {
		if (strcmp(a, aliases[i].alias) != 0)
			continue;
		free(a);
		a = berth_xstrdup(aliases[i].arch);
		if (aliases[i].variant) {
			free(v);
			v = berth_xstrdup(aliases[i].variant);
		}
	}
	if ((strcmp(a, "arm64") == 0 && (strcmp(v, "8") == 0 || strcmp(v, "v8") == 0)) ||
	    (strcmp(a, "amd64") == 0 && strcmp(v, "v1") == 0)) {
		v[0] = '\0';
	} else if (strcmp(a, "arm") == 0 && v[0] >= '5' && v[0] <= '8' && v[1] == '\0') {
		char *nv = berth_xasprintf("v%s", v);
		free(v);
		v = nv;
	}
	free(p->arch);
	free(p->variant);
	p->arch = a;
	p->variant = *v ? v : NULL;
	if (!*v)
		free(v);
}

static void set_os(build_platform *p, const char *os)
{
	free(p->os);
	p->os = berth_xstrdup(os);
	for (char *c = p->os; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	if (strcmp(p->os, "macos") == 0) {
		free(p->os);
		p->os = berth_xstrdup("darwin");
	}
}

void build_platform_host(build_platform *p)
{
	struct utsname u;
	memset(p, 0, sizeof(*p));
	set_os(p, "linux");
	set_arch(p, uname(&u) == 0 ? u.machine : "amd64", NULL);
}

static bool component_ok(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
			return false;
	return true;
}

/* Go's %q for the specifiers in messages. */
static char *go_quote(const char *s)
{
	json_t *j = json_string(s);
	char *q = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
	json_decref(j);
	return q ? q : berth_xstrdup("\"\"");
}

int build_platform_parse(const char *spec, build_platform *out, berth_error **err)
{
	memset(out, 0, sizeof(*out));
	char *q cleanup_free = go_quote(spec);
	if (strchr(spec, '*'))
		return berth_error_set(err, 400, "%s: wildcards not yet supported: invalid argument", q);
	char **parts = berth_str_split(spec, '/');
	size_t n = berth_strv_len(parts);
	if (n == 0) {
		berth_strv_free(parts);
		parts = berth_xcalloc(2, sizeof(char *));
		parts[0] = berth_xstrdup("");
		n = 1;
	}
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (component_ok(parts[i], strlen(parts[i])))
			continue;
		char *pq cleanup_free = go_quote(parts[i]);
		rc = berth_error_set(err, 400, "%s is an invalid component of %s: platform specifier "
					       "component must match \"^[A-Za-z0-9_-]+$\": invalid argument",
				     pq, q);
	}
	if (rc == 0 && n == 1) {
		build_platform host;
		build_platform_host(&host);
		set_os(out, parts[0]);
		if (in_list(known_os, BERTH_ARRAY_SIZE(known_os), out->os)) {
			set_arch(out, host.arch, host.variant);
		} else {
			set_arch(out, parts[0], NULL);
			if (!in_list(known_arch, BERTH_ARRAY_SIZE(known_arch), out->arch))
				rc = berth_error_set(err, 400, "%s: unknown operating system or "
							       "architecture: invalid argument", q);
			set_os(out, "linux");
		}
		build_platform_reset(&host);
	} else if (rc == 0 && n <= 3) {
		set_os(out, parts[0]);
		set_arch(out, parts[1], n == 3 ? parts[2] : NULL);
	} else if (rc == 0) {
		rc = berth_error_set(err, 400, "%s: cannot parse platform specifier: invalid argument", q);
	}
	berth_strv_free(parts);
	if (rc < 0)
		build_platform_reset(out);
	return rc;
}

char *build_platform_format(const build_platform *p)
{
	return berth_xasprintf("%s/%s%s%s", p->os, p->arch, p->variant ? "/" : "",
			       p->variant ? p->variant : "");
}

bool build_platform_match(const build_platform *want, const char *os, const char *arch,
			  const char *variant)
{
	build_platform have = {0};
	set_os(&have, os && *os ? os : "linux");
	set_arch(&have, arch && *arch ? arch : "amd64", variant);
	bool ok = strcmp(have.os, want->os) == 0 && strcmp(have.arch, want->arch) == 0 &&
		  (!want->variant || !have.variant || strcmp(want->variant, have.variant) == 0);
	build_platform_reset(&have);
	return ok;
}

/* BuildKit's automatic platform ARGs: defined before the first FROM, and in
 * a stage once it declares them (ARG TARGETARCH). */
json_t *build_platform_args(const build_platform *build, const build_platform *target)
{
	json_t *args = json_object();
	const struct {
		const char *prefix;
		const build_platform *p;
	} sides[] = {{"BUILD", build}, {"TARGET", target}};
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(sides); i++) {
		const build_platform *p = sides[i].p;
		char key[32];
		snprintf(key, sizeof(key), "%sPLATFORM", sides[i].prefix);
		char *full cleanup_free = build_platform_format(p);
		json_object_set_new(args, key, json_string(full));
		snprintf(key, sizeof(key), "%sOS", sides[i].prefix);
		json_object_set_new(args, key, json_string(p->os));
		snprintf(key, sizeof(key), "%sARCH", sides[i].prefix);
		json_object_set_new(args, key, json_string(p->arch));
		snprintf(key, sizeof(key), "%sVARIANT", sides[i].prefix);
		json_object_set_new(args, key, json_string(p->variant ? p->variant : ""));
	}
	return args;
}
