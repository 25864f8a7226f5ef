/*
 * reference.c - image references as distribution/reference parses them.
 *
 *   reference := name [":" tag] ["@" digest]
 *   name      := [domain "/"] path-component ["/" path-component]*
 *
 * Names are normalized as dockerd stores them ("busybox" is
 * "docker.io/library/busybox") and shown in the familiar form the docker CLI
 * prints ("busybox:latest").
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define DEFAULT_DOMAIN "docker.io"
#define LEGACY_DOMAIN "index.docker.io"
#define OFFICIAL_PREFIX "library/"
#define NAME_MAX_LEN 255

static bool lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* path-component := [a-z0-9]+ (separator [a-z0-9]+)*, separator := [_.]|__|-+ */
static bool valid_component(const char *p, size_t n)
{
	size_t i = 0;
	while (i < n) {
		size_t run = 0;
		while (i < n && lower_alnum(p[i]))
			i++, run++;
		if (run == 0)
			return false;
		if (i == n)
			return true;
		if (p[i] == '.')
			i++;
		else if (p[i] == '_')
			i += (i + 1 < n && p[i + 1] == '_') ? 2 : 1;
		else if (p[i] == '-')
			while (i < n && p[i] == '-')
				i++;
		else
			return false;
		if (i == n)
			return false; /* a separator must be followed by alphanumerics */
	}
	return n > 0;
}

static bool valid_path(const char *p, size_t n)
{
	while (n > 0) {
		const char *slash = memchr(p, '/', n);
		size_t len = slash ? (size_t)(slash - p) : n;
		if (!valid_component(p, len))
			return false;
		if (!slash)
			return true;
		p += len + 1;
		n -= len + 1;
		if (n == 0)
			return false;
	}
	return false;
}

/* domain-component := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9] */
static bool valid_host(const char *p, size_t n)
{
	if (n >= 2 && p[0] == '[' && p[n - 1] == ']') {
		for (size_t i = 1; i + 1 < n; i++)
			if (!isxdigit((unsigned char)p[i]) && p[i] != ':')
				return false;
		return n > 2;
	}
	size_t start = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && p[i] != '.') {
			if (!isalnum((unsigned char)p[i]) && p[i] != '-')
				return false;
			continue;
		}
		if (i == start || p[start] == '-' || p[i - 1] == '-')
			return false;
		start = i + 1;
	}
	return true;
}

static bool valid_domain(const char *p, size_t n)
{
	const char *colon = NULL;
	const char *bracket = memchr(p, ']', n);
	const char *from = bracket ? bracket : p;
	colon = memchr(from, ':', n - (size_t)(from - p));
	if (colon == NULL)
		return valid_host(p, n);
	size_t port_len = n - (size_t)(colon - p) - 1;
	if (port_len == 0 || strspn(colon + 1, "0123456789") < port_len)
		return false;
	return valid_host(p, (size_t)(colon - p));
}

/* tag := [\w][\w.-]{0,127} */
static bool valid_tag(const char *t)
{
	size_t n = strlen(t);
	if (n == 0 || n > 128 || !(isalnum((unsigned char)t[0]) || t[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!isalnum((unsigned char)t[i]) && !strchr("_.-", t[i]))
			return false;
	return true;
}

bool digest_valid(const char *d)
{
	if (strncmp(d, "sha256:", 7) != 0 || strlen(d) != DIGEST_LEN)
		return false;
	for (const char *p = d + 7; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

static bool is_hex64(const char *s)
{
	if (strlen(s) != 64)
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

/* distribution/reference's splitDockerDomain. */
static void split_domain(const char *s, char **domain, char **remote)
{
	const char *slash = strchr(s, '/');
	if (slash == NULL) {
		*domain = berth_xstrdup(DEFAULT_DOMAIN);
		*remote = berth_xstrdup(s);
	} else {
		char *first cleanup_free = berth_xstrndup(s, (size_t)(slash - s));
		bool has_upper = false;
		for (char *p = first; *p; p++)
			has_upper |= isupper((unsigned char)*p) != 0;
		if (strcmp(first, "localhost") == 0 || strpbrk(first, ".:") || has_upper) {
			*domain = berth_xstrdup(strcmp(first, LEGACY_DOMAIN) == 0 ? DEFAULT_DOMAIN : first);
			*remote = berth_xstrdup(slash + 1);
		} else {
			*domain = berth_xstrdup(DEFAULT_DOMAIN);
			*remote = berth_xstrdup(s);
		}
	}
	if (strcmp(*domain, DEFAULT_DOMAIN) == 0 && strchr(*remote, '/') == NULL) {
		char *r = berth_xasprintf(OFFICIAL_PREFIX "%s", *remote);
		free(*remote);
		*remote = r;
	}
}

static int invalid(berth_error **err)
{
	return berth_error_set(err, 400, "invalid reference format");
}

/* Splits "name[:tag][@digest]" in place into its three parts. */
static int split_parts(char *s, berth_image_ref *out, berth_error **err)
{
	char *at = strchr(s, '@');
	if (at) {
		*at = '\0';
		if (!digest_valid(at + 1))
			return strncmp(at + 1, "sha256:", 7) == 0
				       ? berth_error_set(err, 400, "invalid checksum digest format")
				       : invalid(err);
		out->digest = berth_xstrdup(at + 1);
	}
	char *slash = strrchr(s, '/');
	char *colon = strrchr(slash ? slash : s, ':');
	if (colon) {
		*colon = '\0';
		if (!valid_tag(colon + 1))
			return invalid(err);
		out->tag = berth_xstrdup(colon + 1);
	}
	return 0;
}

int berth_image_ref_parse(const char *s, berth_image_ref *out, berth_error **err)
{
	memset(out, 0, sizeof(*out));
	if (is_hex64(s))
		return berth_error_set(err, 400,
				       "invalid repository name (%s), cannot specify 64-byte hexadecimal "
				       "strings", s);
	if (*s == '\0')
		return invalid(err);
	char *domain cleanup_free = NULL, *remote cleanup_free = NULL;
	split_domain(s, &domain, &remote);
	size_t remote_name_len = strcspn(remote, ":@");
	for (size_t i = 0; i < remote_name_len; i++) {
		if (isupper((unsigned char)remote[i]))
			return berth_error_set(err, 400,
					       "invalid reference format: repository name (%.*s) must "
					       "be lowercase", (int)remote_name_len, remote);
	}
	if (split_parts(remote, out, err) < 0) {
		berth_image_ref_reset(out);
		return -1;
	}
	if (!valid_domain(domain, strlen(domain)) || !valid_path(remote, strlen(remote))) {
		berth_image_ref_reset(out);
		return invalid(err);
	}
	out->name = berth_xasprintf("%s/%s", domain, remote);
	if (strlen(out->name) > NAME_MAX_LEN) {
		berth_image_ref_reset(out);
		return berth_error_set(err, 400, "repository name must not be more than %d characters",
				       NAME_MAX_LEN);
	}
	return 0;
}

void berth_image_ref_reset(berth_image_ref *r)
{
	free(r->name);
	free(r->tag);
	free(r->digest);
	memset(r, 0, sizeof(*r));
}

static char *join(const char *name, const berth_image_ref *r)
{
	berth_buf b = {0};
	berth_buf_puts(&b, name);
	if (r->tag)
		berth_buf_printf(&b, ":%s", r->tag);
	if (r->digest)
		berth_buf_printf(&b, "@%s", r->digest);
	return berth_buf_steal(&b);
}

char *berth_image_ref_string(const berth_image_ref *r)
{
	return join(r->name, r);
}

char *berth_image_familiar_name(const char *name)
{
	if (!berth_str_has_prefix(name, DEFAULT_DOMAIN "/"))
		return berth_xstrdup(name);
	const char *path = name + strlen(DEFAULT_DOMAIN "/");
	if (berth_str_has_prefix(path, OFFICIAL_PREFIX) &&
	    strchr(path + strlen(OFFICIAL_PREFIX), '/') == NULL)
		path += strlen(OFFICIAL_PREFIX);
	return berth_xstrdup(path);
}

char *berth_image_ref_familiar(const berth_image_ref *r)
{
	char *name cleanup_free = berth_image_familiar_name(r->name);
	return join(name, r);
}

char *berth_image_familiar_string(const char *full)
{
	/* keys of the tag index are well-formed: split at '@' or the tag colon */
	const char *at = strchr(full, '@');
	const char *slash = strrchr(full, '/');
	const char *colon = strrchr(slash ? slash : full, ':');
	const char *end = at ? at : colon ? colon : full + strlen(full);
	char *name cleanup_free = berth_xstrndup(full, (size_t)(end - full));
	char *familiar cleanup_free = berth_image_familiar_name(name);
	return berth_xasprintf("%s%s", familiar, end);
}
