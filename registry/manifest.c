/*
 * manifest.c - image manifests and indexes (Docker schema 2 and OCI), the
 * platform an index entry is chosen for, and names split into host and
 * repository.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "internal.h"

#define MAX_ENTRIES 10000

void berth_registry_split_name(const char *name, char **host, char **repo)
{
	const char *slash = strchr(name, '/');
	if (slash == NULL) {
		*host = berth_xstrdup("docker.io");
		*repo = berth_xstrdup(name);
		return;
	}
	*host = berth_xstrndup(name, (size_t)(slash - name));
	*repo = berth_xstrdup(slash + 1);
}

static void desc_reset(berth_registry_desc *d)
{
	free(d->media_type);
	free(d->digest);
	free(d->os);
	free(d->arch);
	free(d->variant);
	berth_strv_free(d->urls);
	memset(d, 0, sizeof(*d));
}

void berth_registry_manifest_reset(berth_registry_manifest *m)
{
	desc_reset(&m->config);
	for (size_t i = 0; i < m->n; i++)
		desc_reset(&m->descs[i]);
	free(m->descs);
	free(m->media_type);
	memset(m, 0, sizeof(*m));
}

static bool digest_ok(const char *d)
{
	if (d == NULL || strncmp(d, "sha256:", 7) != 0 || strlen(d) != DIGEST_LEN)
		return false;
	return strspn(d + 7, "0123456789abcdef") == 64;
}

static char *dup_string(const json_t *obj, const char *key)
{
	const char *v = berth_json_string(obj, key);
	return v ? berth_xstrdup(v) : NULL;
}

static int parse_desc(const json_t *j, berth_registry_desc *d, berth_error **err)
{
	const char *digest = berth_json_string(j, "digest");
	json_t *size = json_object_get(j, "size");
	if (!json_is_object(j) || !digest_ok(digest))
		return berth_error_set(err, 500, "invalid manifest: bad descriptor digest %s",
				       digest ? digest : "(missing)");
	if (size && (!json_is_integer(size) || json_integer_value(size) < 0))
		return berth_error_set(err, 500, "invalid manifest: bad descriptor size");
	d->digest = berth_xstrdup(digest);
	d->size = size ? json_integer_value(size) : -1;
	d->media_type = dup_string(j, "mediaType");
	json_t *platform = json_object_get(j, "platform");
	d->os = dup_string(platform, "os");
	d->arch = dup_string(platform, "architecture");
	d->variant = dup_string(platform, "variant");
	json_t *urls = json_object_get(j, "urls");
	if (json_array_size(urls) > 0) {
		d->urls = berth_xcalloc(json_array_size(urls) + 1, sizeof(*d->urls));
		size_t i, n = 0;
		json_t *u;
		json_array_foreach(urls, i, u)
			if (json_is_string(u))
				d->urls[n++] = berth_xstrdup(json_string_value(u));
	}
	return 0;
}

static int parse_list(const json_t *arr, berth_registry_manifest *m, berth_error **err)
{
	if (arr && !json_is_array(arr))
		return berth_error_set(err, 500, "invalid manifest: not a list");
	if (json_array_size(arr) > MAX_ENTRIES)
		return berth_error_set(err, 500, "invalid manifest: too many entries");
	m->descs = berth_xcalloc(json_array_size(arr) + 1, sizeof(*m->descs));
	size_t i;
	json_t *d;
	json_array_foreach(arr, i, d) {
		if (parse_desc(d, &m->descs[i], err) < 0)
			return -1;
		m->n = i + 1;
	}
	return 0;
}

static bool is_type(const char *mt, const char *a, const char *b)
{
	return mt && (strcmp(mt, a) == 0 || (b && strcmp(mt, b) == 0));
}

/* "application/json; charset=utf-8" -> "application/json" */
static char *bare_type(const char *ct)
{
	if (ct == NULL)
		return NULL;
	size_t n = strcspn(ct, "; ");
	return n ? berth_xstrndup(ct, n) : NULL;
}

static int schema1_error(berth_error **err)
{
	return berth_error_set(err, 400, "[DEPRECATION NOTICE] Docker Image Format v1 and Docker "
				 "Image manifest version 2, schema 1 support has been removed. Suggest "
				 "the author of the image to upgrade the image to the OCI Format or "
				 "Docker Image manifest v2, schema 2. More information at "
				 "https://docs.docker.com/go/deprecated-image-specs/");
}

int berth_registry_manifest_parse(const char *content_type, const char *data, size_t len,
				  berth_registry_manifest *out, berth_error **err)
{
	memset(out, 0, sizeof(*out));
	json_error_t jerr;
	json_t *j cleanup_json = json_loadb(data ? data : "", len, 0, &jerr);
	if (!json_is_object(j))
		return berth_error_set(err, 500, "invalid manifest: %s",
				       j ? "not an object" : jerr.text);
	char *mt cleanup_free = bare_type(content_type);
	const char *own = berth_json_string(j, "mediaType");
	/* registries answer application/json or octet-stream for some */
	if (mt == NULL || !strstr(mt, "vnd.")) {
		free(mt);
		mt = own ? berth_xstrdup(own) : NULL;
	}
	json_int_t version = json_integer_value(json_object_get(j, "schemaVersion"));
	if (is_type(mt, MT_SCHEMA1, MT_SCHEMA1_SIGNED) || version == 1)
		return schema1_error(err);
	if (mt == NULL) /* an OCI document may leave mediaType out */
		mt = berth_xstrdup(json_object_get(j, "manifests") ? MT_OCI_INDEX : MT_OCI_MANIFEST);
	int rc;
	if (is_type(mt, MT_DOCKER_LIST, MT_OCI_INDEX)) {
		out->kind = BERTH_REGISTRY_INDEX;
		rc = parse_list(json_object_get(j, "manifests"), out, err);
	} else if (is_type(mt, MT_DOCKER_MANIFEST, MT_OCI_MANIFEST)) {
		out->kind = BERTH_REGISTRY_IMAGE;
		rc = parse_desc(json_object_get(j, "config"), &out->config, err);
		if (rc == 0)
			rc = parse_list(json_object_get(j, "layers"), out, err);
	} else {
		rc = berth_error_set(err, 500, "unsupported manifest media type %s", mt);
	}
	if (rc == 0 && version != 2)
		rc = berth_error_set(err, 500, "unsupported manifest schema version %lld",
				     (long long)version);
	out->media_type = berth_steal_ptr(&mt);
	if (rc < 0)
		berth_registry_manifest_reset(out);
	return rc;
}

/* Go's names for the machine. */
static const char *host_arch(void)
{
	static const struct {
		const char *uname, *go;
	} names[] = {
		{"x86_64", "amd64"}, {"aarch64", "arm64"}, {"armv7l", "arm"}, {"armv6l", "arm"},
		{"i686", "386"}, {"i386", "386"}, {"ppc64le", "ppc64le"}, {"s390x", "s390x"},
		{"riscv64", "riscv64"},
	};
	static char arch[sizeof(((struct utsname *)0)->machine)];
	struct utsname u;
	if (arch[0])
		return arch;
	const char *a = uname(&u) == 0 ? u.machine : "x86_64";
	snprintf(arch, sizeof(arch), "%s", a);
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(names); i++)
		if (strcmp(a, names[i].uname) == 0)
			snprintf(arch, sizeof(arch), "%s", names[i].go);
	return arch;
}

int berth_registry_platform_select(const berth_registry_manifest *index, const char *platform,
				   size_t *out, berth_error **err)
{
	char *os cleanup_free = NULL, *arch cleanup_free = NULL, *variant cleanup_free = NULL;
	if (platform && *platform) {
		char **parts = berth_str_split(platform, '/');
		size_t n = berth_strv_len(parts);
		if (n < 1 || n > 3 || !*parts[0] || (n > 1 && !*parts[1])) {
			berth_strv_free(parts);
			return berth_error_set(err, 400, "\"%s\": unknown operating system or "
							 "architecture: invalid argument", platform);
		}
		os = berth_xstrdup(parts[0]);
		arch = berth_xstrdup(n > 1 ? parts[1] : host_arch());
		variant = n > 2 ? berth_xstrdup(parts[2]) : NULL;
		berth_strv_free(parts);
	} else {
		os = berth_xstrdup("linux");
		arch = berth_xstrdup(host_arch());
	}
	if (strcmp(arch, "aarch64") == 0) {
		free(arch);
		arch = berth_xstrdup("arm64");
	} else if (strcmp(arch, "x86_64") == 0) {
		free(arch);
		arch = berth_xstrdup("amd64");
	}
	/* an exact variant first, then an entry without one, then any */
	int best = -1, best_rank = 0;
	for (size_t i = 0; i < index->n; i++) {
		const berth_registry_desc *d = &index->descs[i];
		if (!d->os || !d->arch || strcmp(d->os, os) != 0 || strcmp(d->arch, arch) != 0)
			continue;
		int rank = variant == NULL ? (d->variant == NULL ? 3 : 2)
			   : d->variant && strcmp(d->variant, variant) == 0 ? 3
			   : d->variant == NULL ? 1 : 0;
		if (rank > best_rank) {
			best = (int)i;
			best_rank = rank;
		}
	}
	if (best < 0) {
		return berth_error_set(err, 404, "no matching manifest for %s/%s%s%s in the manifest "
						 "list entries", os, arch, variant ? "/" : "",
				       variant ? variant : "");
	}
	*out = (size_t)best;
	return 0;
}
