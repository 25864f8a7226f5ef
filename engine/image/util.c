/* util.c - digests, chain IDs, Go-compatible times and JSON for the store. */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "internal.h"

struct sha256_ctx {
	EVP_MD_CTX *md;
};

sha256_ctx *sha256_new(void)
{
	sha256_ctx *c = berth_xcalloc(1, sizeof(*c));
	c->md = EVP_MD_CTX_new();
	if (c->md == NULL || EVP_DigestInit_ex(c->md, EVP_sha256(), NULL) != 1)
		abort();
	return c;
}

void sha256_update(sha256_ctx *c, const void *data, size_t len)
{
	EVP_DigestUpdate(c->md, data, len);
}

void sha256_final(sha256_ctx *c, char out[DIGEST_LEN + 1])
{
	unsigned char md[32];
	unsigned int n = 0;
	EVP_DigestFinal_ex(c->md, md, &n);
	memcpy(out, "sha256:", 7);
	for (unsigned int i = 0; i < 32; i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
	sha256_free(c);
}

void sha256_free(sha256_ctx *c)
{
	if (c == NULL)
		return;
	EVP_MD_CTX_free(c->md);
	free(c);
}

void digest_of(const void *data, size_t len, char out[DIGEST_LEN + 1])
{
	memcpy(out, "sha256:", 7);
	berth_sha256_hex(data, len, out + 7);
}

void chain_id(const char *parent_chain, const char *diff_id, char out[DIGEST_LEN + 1])
{
	if (parent_chain == NULL || *parent_chain == '\0') {
		memcpy(out, diff_id, DIGEST_LEN + 1);
		return;
	}
	char buf[2 * DIGEST_LEN + 2];
	int n = snprintf(buf, sizeof(buf), "%s %s", parent_chain, diff_id);
	digest_of(buf, (size_t)n, out);
}

/* RFC 3339 with an optional fraction and zone, as Go writes times. */
int64_t parse_rfc3339(const char *s)
{
	if (s == NULL)
		return 0;
	int64_t ns = 0;
	if (berth_time_parse(s, 0, &ns, NULL) < 0)
		return 0;
	return ns;
}

void format_go_time(int64_t ns, char *out, size_t outlen)
{
	char full[64];
	berth_time_format_rfc3339(ns, full, sizeof(full));
	/* "...:SS.123000000Z" -> "...:SS.123Z"; no fraction at all when zero */
	char *dot = strchr(full, '.');
	char *z = dot ? strchr(dot, 'Z') : NULL;
	if (dot && z) {
		char *end = z;
		while (end > dot + 1 && end[-1] == '0')
			end--;
		if (end == dot + 1)
			end = dot;
		memmove(end, z, strlen(z) + 1);
	}
	snprintf(out, outlen, "%s", full);
}

/* Go's encoding/json escapes <, > and & inside strings; jansson does not.
 * Outside strings those characters never occur in JSON, so a byte-wise
 * rewrite is exact. */
char *json_go_dump(const json_t *j)
{
	char *raw cleanup_free = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER |
						     JSON_ENCODE_ANY);
	if (raw == NULL)
		abort();
	berth_buf b = {0};
	for (const char *p = raw; *p; p++) {
		switch (*p) {
		case '<': berth_buf_puts(&b, "\\u003c"); break;
		case '>': berth_buf_puts(&b, "\\u003e"); break;
		case '&': berth_buf_puts(&b, "\\u0026"); break;
		default: berth_buf_append(&b, p, 1);
		}
	}
	return berth_buf_steal(&b);
}

const char *host_arch(void)
{
	static const char *const names[][2] = {
		{"x86_64", "amd64"}, {"aarch64", "arm64"}, {"armv7l", "arm"},
		{"i686", "386"},     {"ppc64le", "ppc64le"}, {"s390x", "s390x"},
	};
	struct utsname u;
	if (uname(&u) == 0) {
		for (size_t i = 0; i < BERTH_ARRAY_SIZE(names); i++)
			if (strcmp(u.machine, names[i][0]) == 0)
				return names[i][1];
	}
	return "amd64";
}

char *berth_image_json_line(const json_t *msg)
{
	char *body cleanup_free = json_go_dump(msg);
	return berth_xasprintf("%s\r\n", body);
}
