/*
 * auth.c - credentials (X-Registry-Auth, POST /auth), the registry's
 * challenge (WWW-Authenticate), Basic headers and Bearer tokens cached by
 * scope, as distribution's token auth specifies them.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

/* ---------------------------------------------------------- credentials */

void berth_registry_auth_reset(berth_registry_auth *a)
{
	free(a->username);
	free(a->password);
	free(a->identitytoken);
	free(a->registrytoken);
	free(a->serveraddress);
	memset(a, 0, sizeof(*a));
}

void berth_registry_auth_from_json(const json_t *j, berth_registry_auth *out)
{
	memset(out, 0, sizeof(*out));
	static const struct {
		const char *key;
		size_t off;
	} fields[] = {
		{"username", offsetof(berth_registry_auth, username)},
		{"password", offsetof(berth_registry_auth, password)},
		{"identitytoken", offsetof(berth_registry_auth, identitytoken)},
		{"registrytoken", offsetof(berth_registry_auth, registrytoken)},
		{"serveraddress", offsetof(berth_registry_auth, serveraddress)},
	};
	const char *key;
	json_t *v;
	/* Go's encoding/json matches keys case-insensitively */
	json_object_foreach((json_t *)j, key, v) {
		for (size_t i = 0; i < BERTH_ARRAY_SIZE(fields); i++) {
			char **f = (char **)((char *)out + fields[i].off);
			if (strcasecmp(key, fields[i].key) == 0 && json_is_string(v) && *f == NULL &&
			    *json_string_value(v))
				*f = berth_xstrdup(json_string_value(v));
		}
	}
}

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

/* Both alphabets, padding optional (the docker CLI sends URL-safe). */
static char *b64_decode(const char *s, size_t *len)
{
	size_t n = strlen(s);
	char *out = berth_xmalloc(n + 1);
	size_t o = 0;
	unsigned acc = 0;
	int bits = 0;
	for (size_t i = 0; i < n && s[i] != '='; i++) {
		int v = b64_value(s[i]);
		if (v < 0) {
			free(out);
			return NULL;
		}
		acc = acc << 6 | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (char)(acc >> bits & 0xff);
		}
	}
	out[o] = '\0';
	*len = o;
	return out;
}

void berth_registry_auth_decode(const char *header, berth_registry_auth *out)
{
	memset(out, 0, sizeof(*out));
	if (header == NULL || *header == '\0')
		return;
	size_t len = 0;
	char *json cleanup_free = b64_decode(header, &len);
	json_t *j cleanup_json = json ? json_loadb(json, len, 0, NULL) : NULL;
	if (json_is_object(j))
		berth_registry_auth_from_json(j, out);
}

/* ------------------------------------------------------------ challenge */

/* `Bearer realm="https://auth/token",service="registry",scope="..."`:
 * the value of one parameter. */
static char *challenge_param(const char *h, const char *name)
{
	size_t nl = strlen(name);
	for (const char *p = h; (p = strcasestr(p, name)) != NULL; p += nl) {
		if (p > h && (isalnum((unsigned char)p[-1]) || p[-1] == '_'))
			continue;
		const char *q = p + nl;
		while (*q == ' ')
			q++;
		if (*q != '=')
			continue;
		q++;
		while (*q == ' ')
			q++;
		if (*q == '"') {
			const char *end = strchr(q + 1, '"');
			return end ? berth_xstrndup(q + 1, (size_t)(end - q - 1)) : NULL;
		}
		return berth_xstrndup(q, strcspn(q, ", "));
	}
	return NULL;
}

bool reg_auth_challenge(reg_session *s, const char *www_auth, const char *actions)
{
	if (www_auth == NULL)
		return false;
	char *scheme cleanup_free = berth_xstrndup(www_auth, strcspn(www_auth, " "));
	for (char *p = scheme; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (strcmp(scheme, "basic") != 0 && strcmp(scheme, "bearer") != 0)
		return false;
	pthread_mutex_lock(&s->mu);
	bool learned = s->scheme == NULL || strcmp(s->scheme, scheme) != 0;
	free(s->scheme);
	s->scheme = berth_steal_ptr(&scheme);
	if (strcmp(s->scheme, "bearer") == 0) {
		free(s->realm);
		free(s->service);
		s->realm = challenge_param(www_auth, "realm");
		s->service = challenge_param(www_auth, "service");
		/* a token we hold was refused: drop them and ask again */
		learned |= s->ntokens > 0;
		for (size_t i = 0; i < s->ntokens; i++) {
			free(s->tokens[i].scope);
			free(s->tokens[i].token);
		}
		s->ntokens = 0;
	}
	pthread_mutex_unlock(&s->mu);
	return learned && (s->auth.username || s->auth.identitytoken || strcmp(s->scheme, "bearer") == 0);
}

/* ---------------------------------------------------------------- tokens */

static char *basic_header(const berth_registry_auth *a)
{
	char *plain cleanup_free = berth_xasprintf("%s:%s", a->username, a->password ? a->password : "");
	char *b64 cleanup_free = berth_base64(plain, strlen(plain));
	return berth_xasprintf("Basic %s", b64);
}

/* GET realm?service=..&scope=.. with the credentials as Basic (dockerd
 * also does this for anonymous pulls, without Authorization). */
static int fetch_token(reg_session *s, const char *realm, const char *service, const char *scope,
		       char **token, char **refresh, berth_error **err)
{
	berth_buf url = {0};
	berth_buf_puts(&url, realm);
	char sep = strchr(realm, '?') ? '&' : '?';
	if (service) {
		char *e cleanup_free = berth_url_encode(service);
		berth_buf_printf(&url, "%cservice=%s", sep, e);
		sep = '&';
	}
	if (scope) {
		char *e cleanup_free = berth_url_encode(scope);
		berth_buf_printf(&url, "%cscope=%s", sep, e);
	}
	if (s->auth.username && s->auth.identitytoken == NULL)
		berth_buf_printf(&url, "%caccount=%s", strchr(url.data, '?') ? '&' : '?', s->auth.username);
	CURL *c = curl_easy_init();
	struct curl_slist *headers = NULL;
	if (s->auth.username) {
		char *b cleanup_free = basic_header(&s->auth);
		char *h cleanup_free = berth_xasprintf("Authorization: %s", b);
		headers = curl_slist_append(headers, h);
	}
	berth_buf body = {0};
	curl_easy_setopt(c, CURLOPT_URL, url.data);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c, CURLOPT_SHARE, s->share);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 15L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, reg_buf_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
	if (s->insecure) {
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	CURLcode cc = curl_easy_perform(c);
	long status = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	curl_slist_free_all(headers);
	int rc = 0;
	json_t *j cleanup_json = NULL;
	if (cc != CURLE_OK) {
		rc = berth_error_set(err, 500, "Get \"%s\": %s", realm, curl_easy_strerror(cc));
	} else if (status == 401 || status == 403) {
		rc = berth_error_set(err, 401, "unauthorized: incorrect username or password");
	} else if (status != 200 || (j = json_loadb(body.data ? body.data : "", body.len, 0, NULL)) == NULL) {
		rc = berth_error_set(err, 500, "token server %s answered %ld", realm, status);
	} else {
		const char *t = berth_json_string(j, "token");
		if (t == NULL || *t == '\0')
			t = berth_json_string(j, "access_token");
		if (t == NULL || *t == '\0')
			rc = berth_error_set(err, 500, "token server %s gave no token", realm);
		else
			*token = berth_xstrdup(t);
		const char *r = berth_json_string(j, "refresh_token");
		if (rc == 0 && refresh && r)
			*refresh = berth_xstrdup(r);
	}
	berth_buf_reset(&body);
	berth_buf_reset(&url);
	return rc;
}

static char *scope_for(reg_session *s, const char *actions)
{
	if (actions == NULL || *s->repo == '\0')
		return NULL;
	return berth_xasprintf("repository:%s:%s", s->repo, actions);
}

int reg_auth_header(reg_session *s, const char *actions, char **header, berth_error **err)
{
	*header = NULL;
	if (s->auth.registrytoken) {
		*header = berth_xasprintf("Bearer %s", s->auth.registrytoken);
		return 0;
	}
	pthread_mutex_lock(&s->mu);
	char *scheme cleanup_free = s->scheme ? berth_xstrdup(s->scheme) : NULL;
	char *realm cleanup_free = s->realm ? berth_xstrdup(s->realm) : NULL;
	char *service cleanup_free = s->service ? berth_xstrdup(s->service) : NULL;
	char *scope cleanup_free = scope_for(s, actions ? actions : "pull");
	for (size_t i = 0; i < s->ntokens && scheme && strcmp(scheme, "bearer") == 0; i++)
		if (strcmp(s->tokens[i].scope, scope ? scope : "") == 0)
			*header = berth_xasprintf("Bearer %s", s->tokens[i].token);
	pthread_mutex_unlock(&s->mu);
	if (*header || scheme == NULL)
		return 0;
	if (strcmp(scheme, "basic") == 0) {
		if (s->auth.username)
			*header = basic_header(&s->auth);
		return 0;
	}
	if (realm == NULL)
		return berth_error_set(err, 500, "registry %s asks for a token without a realm", s->host);
	char *token cleanup_free = NULL;
	if (fetch_token(s, realm, service, scope, &token, NULL, err) < 0)
		return -1;
	pthread_mutex_lock(&s->mu);
	s->tokens = berth_xrealloc(s->tokens, (s->ntokens + 1) * sizeof(*s->tokens));
	s->tokens[s->ntokens++] = (reg_token){berth_xstrdup(scope ? scope : ""), berth_xstrdup(token)};
	pthread_mutex_unlock(&s->mu);
	*header = berth_xasprintf("Bearer %s", token);
	return 0;
}

/* docker login: Basic registries check the credentials on /v2/, token
 * registries at the token server. */
int reg_auth_login(reg_session *s, char **identity_token, berth_error **err)
{
	pthread_mutex_lock(&s->mu);
	char *scheme cleanup_free = s->scheme ? berth_xstrdup(s->scheme) : NULL;
	char *realm cleanup_free = s->realm ? berth_xstrdup(s->realm) : NULL;
	char *service cleanup_free = s->service ? berth_xstrdup(s->service) : NULL;
	pthread_mutex_unlock(&s->mu);
	if (scheme && strcmp(scheme, "bearer") == 0 && realm) {
		char *token cleanup_free = NULL;
		return fetch_token(s, realm, service, NULL, &token, identity_token, err);
	}
	reg_response r = {0};
	reg_request rq = {.method = "GET", .url = "/v2/", .no_retry = true};
	int rc = reg_do(s, &rq, &r, err);
	if (rc == 0 && r.status != 200)
		rc = berth_error_set(err, 401, "login attempt to %s/v2/ failed with status: %ld %s",
				     s->base, r.status, r.status == 401 ? "Unauthorized" : "");
	reg_response_reset(&r);
	return rc;
}
