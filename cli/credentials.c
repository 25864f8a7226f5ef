/*
 * credentials.c - registry credentials where the docker CLI keeps them.
 *
 * In config.json's "auths" ({server: {"auth": base64(user:pass),
 * "identitytoken"}}), keyed by the registry host, or
 * "https://index.docker.io/v1/" for Docker Hub; or, when "credHelpers" names
 * a helper for that server or "credsStore" one for all, in a credential
 * helper: the program docker-credential-NAME with the action (get, store,
 * erase) as its argument, the server (or the credentials as JSON) on stdin
 * and JSON on stdout. As with the docker CLI, a server stored through a
 * helper keeps an empty entry in "auths" (logout looks there), and the
 * helper's answer wins over what the file says.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define HUB_SERVER "https://index.docker.io/v1/"
/* the user name a helper stores an identity token under */
#define TOKEN_USER "<token>"
#define NOT_FOUND "credentials not found in native keychain"

/* ------------------------------------------------------------ config.json */

static char *config_path(berth_cli *cli)
{
	return berth_xasprintf("%s/config.json", cli->config_dir);
}

/* The config.json the command read at its start (borrowed), not the file
 * parsed once more for each lookup. */
static json_t *config_load(berth_cli *cli)
{
	berth_cli_load_config(cli);
	return cli->config;
}

static int config_save(berth_cli *cli, json_t *cfg, berth_error **err)
{
	if (berth_mkdir_all(cli->config_dir, 0700, err) < 0)
		return -1;
	char *path cleanup_free = config_path(cli);
	char *text cleanup_free = json_dumps(cfg, JSON_INDENT(2));
	return berth_file_write_atomic(path, text, strlen(text), 0600, err);
}

/* The "auths" object of cfg, made when absent. */
static json_t *config_auths(json_t *cfg)
{
	json_t *auths = json_object_get(cfg, "auths");
	if (!json_is_object(auths)) {
		auths = json_object();
		json_object_set_new(cfg, "auths", auths);
	}
	return auths;
}

char *berth_cli_server_key(const char *host)
{
	if (strcmp(host, "docker.io") == 0 || strcmp(host, "index.docker.io") == 0 ||
	    strcmp(host, "registry-1.docker.io") == 0)
		return berth_xstrdup(HUB_SERVER);
	return berth_xstrdup(host);
}

/* ---------------------------------------------------------------- base64 */

static char *base64_std(const char *s)
{
	return berth_base64(s, strlen(s));
}

/* Go's base64.URLEncoding (padded), as the docker CLI sends X-Registry-Auth */
static char *base64url(const char *s)
{
	char *u = base64_std(s);
	for (char *p = u; *p; p++)
		*p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
	return u;
}

static char *base64_decode(const char *s)
{
	berth_buf b = {0};
	unsigned acc = 0;
	int bits = 0;
	for (const char *p = s; *p && *p != '='; p++) {
		const char *tbl = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
		const char *at = strchr(tbl, *p);
		if (at == NULL)
			break;
		acc = acc << 6 | (unsigned)(at - tbl);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			char c = (char)(acc >> bits & 0xff);
			berth_buf_append(&b, &c, 1);
		}
	}
	return berth_buf_steal(&b);
}

/* ------------------------------------------------------- credential helpers */

/* The helper for server: credHelpers[server], else credsStore; NULL: the file. */
static const char *helper_for(const json_t *cfg, const char *server)
{
	const char *h = berth_json_string(json_object_get(cfg, "credHelpers"), server);
	if (h == NULL)
		h = berth_json_string(cfg, "credsStore");
	return h && *h ? h : NULL;
}

/* Runs docker-credential-NAME ACTION with input; *out gets its stdout, and
 * a failure is worded as the docker CLI's helper client words it ("error
 * getting credentials - err: exit status 1, out: `...`"). *missing: the
 * helper said it has nothing for that server (a get's "not found"). */
static int helper_run(const char *name, const char *action, const char *input, berth_buf *out,
		      bool *missing, berth_error **err)
{
	char *prog cleanup_free = berth_xasprintf("docker-credential-%s", name);
	char *argv[] = {prog, (char *)action, NULL};
	const char *gerund = strcmp(action, "get") == 0 ? "getting"
			     : strcmp(action, "store") == 0 ? "storing" : "erasing";
	int code = 0;
	berth_error *e cleanup_error = NULL;
	if (berth_proc_run(argv, input, strlen(input), out, NULL, &code, &e) < 0)
		return berth_error_set(err, 500, "error %s credentials - err: exec: \"%s\": "
					    "executable file not found in $PATH, out: ``", gerund, prog);
	if (code == 0)
		return 0;
	char *text cleanup_free = berth_xstrndup(out->data ? out->data : "", out->len);
	char *t = text + strspn(text, " \t\r\n");
	for (size_t n = strlen(t); n > 0 && strchr(" \t\r\n", t[n - 1]); n--)
		t[n - 1] = '\0';
	if (missing && strcmp(t, NOT_FOUND) == 0) {
		*missing = true;
		return 0;
	}
	return berth_error_set(err, 500, "error %s credentials - err: exit status %d, out: `%s`",
			       gerund, code, t);
}

static int helper_get(const char *name, const char *server, berth_cli_creds *out,
		      berth_error **err)
{
	berth_buf b cleanup_buf = {0};
	bool missing = false;
	if (helper_run(name, "get", server, &b, &missing, err) < 0)
		return -1;
	if (missing)
		return 0;
	json_t *j cleanup_json = json_loadb(b.data ? b.data : "", b.len, 0, NULL);
	const char *user = berth_json_string(j, "Username");
	const char *secret = berth_json_string(j, "Secret");
	if (!json_is_object(j))
		return berth_error_set(err, 500, "error getting credentials - err: invalid JSON from "
						 "docker-credential-%s", name);
	if (user && strcmp(user, TOKEN_USER) == 0) {
		out->identitytoken = berth_xstrdup(secret ? secret : "");
	} else {
		out->username = berth_xstrdup(user ? user : "");
		out->password = berth_xstrdup(secret ? secret : "");
	}
	return 0;
}

/* ------------------------------------------------------------------ API */

void berth_cli_creds_reset(berth_cli_creds *c)
{
	free(c->username);
	free(c->password);
	free(c->identitytoken);
	memset(c, 0, sizeof(*c));
}

int berth_cli_creds_get(berth_cli *cli, const char *server, berth_cli_creds *out,
			berth_error **err)
{
	memset(out, 0, sizeof(*out));
	json_t *cfg = config_load(cli);
	const char *helper = helper_for(cfg, server);
	if (helper)
		return helper_get(helper, server, out, err);
	json_t *entry = json_object_get(json_object_get(cfg, "auths"), server);
	const char *encoded = berth_json_string(entry, "auth");
	if (encoded && *encoded) {
		char *plain cleanup_free = base64_decode(encoded);
		char *colon = strchr(plain, ':');
		if (colon) {
			*colon = '\0';
			out->username = berth_xstrdup(plain);
			out->password = berth_xstrdup(colon + 1);
		}
	}
	const char *token = berth_json_string(entry, "identitytoken");
	if (token && *token)
		out->identitytoken = berth_xstrdup(token);
	return 0;
}

int berth_cli_creds_store(berth_cli *cli, const char *server, const berth_cli_creds *c,
			  berth_error **err)
{
	json_t *cfg = config_load(cli);
	const char *helper = helper_for(cfg, server);
	/* into the shared config only once the helper took the secret */
	json_t *entry cleanup_json = json_object();
	if (helper) {
		bool token = c->identitytoken && *c->identitytoken;
		json_t *in cleanup_json = json_pack("{s:s, s:s, s:s}", "ServerURL", server, "Username",
						    token ? TOKEN_USER : c->username, "Secret",
						    token ? c->identitytoken : c->password);
		char *text cleanup_free = json_dumps(in, JSON_COMPACT);
		berth_buf out cleanup_buf = {0};
		if (helper_run(helper, "store", text, &out, NULL, err) < 0)
			return -1;
	} else {
		bool token = c->identitytoken && *c->identitytoken;
		char *plain cleanup_free = berth_xasprintf("%s:%s", c->username,
							   token ? "" : c->password);
		char *encoded cleanup_free = base64_std(plain);
		json_object_set_new(entry, "auth", json_string(encoded));
		if (token)
			json_object_set_new(entry, "identitytoken", json_string(c->identitytoken));
	}
	json_object_set(config_auths(cfg), server, entry);
	if (config_save(cli, cfg, err) < 0)
		return -1;
	if (helper == NULL) {
		char *path cleanup_free = config_path(cli);
		fprintf(cli->err, "\nWARNING! Your credentials are stored unencrypted in '%s'.\n"
				  "Configure a credential helper to remove this warning. See\n"
				  "https://docs.docker.com/go/credential-store/\n\n", path);
	}
	return 0;
}

int berth_cli_creds_erase(berth_cli *cli, const char *server, berth_error **err)
{
	json_t *cfg = config_load(cli);
	json_t *auths = json_object_get(cfg, "auths");
	const char *helper = helper_for(cfg, server);
	berth_buf out cleanup_buf = {0};
	if (helper && helper_run(helper, "erase", server, &out, NULL, err) < 0) {
		/* as the docker CLI: a warning, and the file's entry goes anyway */
		fflush(cli->out);
		fprintf(cli->err, "WARNING: could not erase credentials: %s: %s\n", server,
			(*err)->msg);
		berth_error_free(err);
	}
	json_object_del(auths, server);
	return config_save(cli, cfg, err);
}

char *berth_cli_server_auth(berth_cli *cli, const char *server, berth_error **err)
{
	berth_cli_creds c cleanup_creds = {0};
	if (berth_cli_creds_get(cli, server, &c, err) < 0)
		return NULL;
	json_t *auth cleanup_json = json_object();
	if (c.username && *c.username)
		json_object_set_new(auth, "username", json_string(c.username));
	if (c.password && *c.password)
		json_object_set_new(auth, "password", json_string(c.password));
	if (c.identitytoken && *c.identitytoken)
		json_object_set_new(auth, "identitytoken", json_string(c.identitytoken));
	if (json_object_size(auth))
		json_object_set_new(auth, "serveraddress", json_string(server));
	char *text cleanup_free = json_dumps(auth, JSON_COMPACT);
	return base64url(text);
}
