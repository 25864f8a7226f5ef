/* config.c - the registry settings of daemon.json, and login/inspect. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define DEFAULT_ATTEMPTS 5
#define SYSTEM_CERTS_D "/etc/docker/certs.d"

static char **string_list(const json_t *arr)
{
	char **v = berth_xcalloc(json_array_size(arr) + 1, sizeof(*v));
	size_t i, n = 0;
	json_t *e;
	json_array_foreach(arr, i, e)
		if (json_is_string(e))
			v[n++] = berth_xstrdup(json_string_value(e));
	return v;
}

void berth_registry_config_init(berth_registry_config *c, const json_t *file,
				const char *certs_dir, int64_t downloads, int64_t uploads)
{
	memset(c, 0, sizeof(*c));
	c->insecure = string_list(json_object_get(file, "insecure-registries"));
	c->mirrors = string_list(json_object_get(file, "registry-mirrors"));
	c->certs_dirs = berth_xcalloc(3, sizeof(*c->certs_dirs));
	size_t n = 0;
	if (certs_dir)
		c->certs_dirs[n++] = berth_xstrdup(certs_dir);
	c->certs_dirs[n] = berth_xstrdup(SYSTEM_CERTS_D);
	c->max_downloads = downloads > 0 ? (int)downloads : 3;
	c->max_uploads = uploads > 0 ? (int)uploads : 5;
	json_int_t attempts = json_integer_value(json_object_get(file, "max-download-attempts"));
	c->attempts = attempts > 0 ? (int)attempts : DEFAULT_ATTEMPTS;
}

void berth_registry_config_reset(berth_registry_config *c)
{
	berth_strv_free(c->insecure);
	berth_strv_free(c->mirrors);
	berth_strv_free(c->certs_dirs);
	memset(c, 0, sizeof(*c));
}

/* "https://index.docker.io/v1/", "127.0.0.1:5000", "http://h:1/" -> host */
static char *login_host(const char *server)
{
	if (server == NULL || *server == '\0')
		return berth_xstrdup("docker.io");
	const char *p = strstr(server, "://");
	p = p ? p + 3 : server;
	char *host = berth_xstrndup(p, strcspn(p, "/"));
	if (strcmp(host, "index.docker.io") == 0 || strcmp(host, "registry-1.docker.io") == 0) {
		free(host);
		host = berth_xstrdup("docker.io");
	}
	return host;
}

int berth_registry_login(const berth_registry_config *cfg, const berth_registry_auth *auth,
			 char **identity_token, berth_error **err)
{
	char *host cleanup_free = login_host(auth->serveraddress);
	reg_session *s = NULL;
	berth_registry_auth anon = {0};
	/* the ping is anonymous so that the challenge is learned first */
	if (reg_open_for(cfg, &anon, host, "", &s, err) < 0)
		return -1;
	s->auth.username = auth->username ? berth_xstrdup(auth->username) : NULL;
	s->auth.password = auth->password ? berth_xstrdup(auth->password) : NULL;
	int rc = reg_auth_login(s, identity_token, err);
	reg_session_free(s);
	return rc;
}

static json_t *desc_json(const berth_registry_desc *d, const char *media_type)
{
	json_t *j = json_pack("{s:s, s:s, s:I}", "mediaType", media_type ? media_type : "",
			      "digest", d->digest, "size", (json_int_t)d->size);
	return j;
}

static json_t *platform_json(const berth_registry_desc *d)
{
	json_t *p = json_pack("{s:s, s:s}", "architecture", d->arch ? d->arch : "", "os",
			      d->os ? d->os : "");
	if (d->variant)
		json_object_set_new(p, "variant", json_string(d->variant));
	return p;
}

/* An image manifest's platform is its config's. */
static json_t *config_platform(reg_session *s, const berth_registry_manifest *m)
{
	char *data cleanup_free = NULL;
	size_t len = 0;
	json_t *cfg cleanup_json = NULL;
	if (reg_blob_get(s, m->config.digest, &data, &len, NULL) == 0)
		cfg = json_loadb(data, len, 0, NULL);
	berth_registry_desc d = {.os = (char *)berth_json_string(cfg, "os"),
				 .arch = (char *)berth_json_string(cfg, "architecture"),
				 .variant = (char *)berth_json_string(cfg, "variant")};
	return platform_json(&d);
}

int berth_registry_inspect(const berth_registry_config *cfg, const berth_registry_auth *auth,
			   const char *ref, json_t **out, berth_error **err)
{
	berth_image_ref r;
	if (berth_image_ref_parse(ref, &r, err) < 0)
		return -1;
	if (r.tag == NULL && r.digest == NULL)
		r.tag = berth_xstrdup("latest");
	char *host cleanup_free = NULL, *repo cleanup_free = NULL;
	berth_registry_split_name(r.name, &host, &repo);
	char *familiar cleanup_free = berth_image_ref_familiar(&r);
	reg_session *s = NULL;
	berth_registry_manifest m = {0};
	char digest[DIGEST_LEN + 1];
	int rc = reg_open_for(cfg, auth, host, repo, &s, err);
	if (rc == 0)
		rc = reg_manifest_get(s, r.digest ? r.digest : r.tag, familiar, &m, digest, err);
	if (rc == 0) {
		/* the size of the manifest itself is what Descriptor.size says */
		berth_registry_desc self = {.digest = digest, .size = 0};
		reg_response hr = {0};
		char *path cleanup_free = berth_xasprintf("/v2/%s/manifests/%s", repo, digest);
		reg_request rq = {.method = "HEAD", .url = path, .actions = "pull",
				  .accept = m.media_type};
		if (reg_do(s, &rq, &hr, NULL) == 0 && hr.length > 0)
			self.size = hr.length;
		reg_response_reset(&hr);
		json_t *platforms = json_array();
		for (size_t i = 0; m.kind == BERTH_REGISTRY_INDEX && i < m.n; i++)
			if (m.descs[i].os && strcmp(m.descs[i].os, "unknown") != 0)
				json_array_append_new(platforms, platform_json(&m.descs[i]));
		if (m.kind == BERTH_REGISTRY_IMAGE)
			json_array_append_new(platforms, config_platform(s, &m));
		*out = json_pack("{s:o, s:o}", "Descriptor", desc_json(&self, m.media_type),
				 "Platforms", platforms);
	}
	berth_registry_manifest_reset(&m);
	reg_session_free(s);
	berth_image_ref_reset(&r);
	return rc;
}
