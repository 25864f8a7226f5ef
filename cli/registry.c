/*
 * registry.c - `berth pull|push|login|logout` (and `berth image pull|push`).
 *
 * Credentials are where the docker CLI keeps them (credentials.c: config.json
 * or a credential helper) and travel to the daemon in X-Registry-Auth as the
 * docker CLI sends them (base64url of an AuthConfig).
 * Progress is drawn as docker's jsonmessage does: one line per layer that
 * is redrawn in place on a terminal, plain status lines otherwise.
 */
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "engine/image/image.h"

#define HUB_SERVER "https://index.docker.io/v1/"

/* "http://h:1/v2/" -> "h:1", as the docker CLI's ConvertToHostname. */
static char *hostname_of(const char *server)
{
	const char *p = strstr(server, "://");
	p = p ? p + 3 : server;
	return berth_xstrndup(p, strcspn(p, "/"));
}

char *berth_cli_registry_auth(berth_cli *cli, const char *image)
{
	berth_image_ref ref = {0};
	char *host cleanup_free = NULL;
	if (berth_image_ref_parse(image, &ref, NULL) < 0) {
		host = berth_xstrdup("docker.io");
	} else {
		const char *slash = strchr(ref.name, '/');
		host = berth_xstrndup(ref.name, slash ? (size_t)(slash - ref.name) : strlen(ref.name));
		berth_image_ref_reset(&ref);
	}
	char *server cleanup_free = berth_cli_server_key(host);
	berth_error *err cleanup_error = NULL;
	char *auth = berth_cli_server_auth(cli, server, &err);
	if (auth == NULL) { /* anonymous then: the registry will say what it wants */
		fprintf(cli->err, "WARNING: %s\n", err->msg);
		auth = berth_xstrdup("e30=");
	}
	return auth;
}

/* ---------------------------------------------------------------- progress */

/* docker's jsonmessage.DisplayJSONMessagesStream: on a terminal each id
 * keeps its line and is redrawn in place; elsewhere progress is dropped and
 * statuses are printed as they come. */
typedef struct progress {
	berth_cli *cli;
	bool terminal, quiet;
	berth_buf pending;
	char **ids;
	size_t nids;
	berth_error *err;
	char *aux_digest;
} progress;

static void draw(progress *p, const json_t *msg)
{
	FILE *out = p->cli->out;
	const char *id = berth_json_string(msg, "id");
	const char *status = berth_cli_str(msg, "status");
	const char *bar = berth_json_string(msg, "progress");
	if (!p->terminal) {
		if (bar && *bar && strcmp(status, "Extracting") != 0)
			return;
		if (id)
			fprintf(out, "%s: ", id);
		fprintf(out, "%s\n", status);
		return;
	}
	size_t line = p->nids;
	for (size_t i = 0; id && i < p->nids; i++)
		if (strcmp(p->ids[i], id) == 0)
			line = i;
	if (id && line == p->nids) {
		p->ids = berth_xrealloc(p->ids, (p->nids + 1) * sizeof(*p->ids));
		p->ids[p->nids++] = berth_xstrdup(id);
		fputs("\n", out);
	}
	size_t up = id ? p->nids - line : 0;
	if (up)
		fprintf(out, "\033[%zuA", up);
	fputs("\r\033[2K", out);
	if (id)
		fprintf(out, "%s: ", id);
	fprintf(out, "%s%s%s", status, bar && *bar ? " " : "", bar ? bar : "");
	if (up)
		fprintf(out, "\033[%zuB\r", up);
	else
		fputs("\n", out);
}

static void on_message(progress *p, const json_t *msg)
{
	json_t *detail = json_object_get(msg, "errorDetail");
	const char *error = berth_json_string(msg, "error");
	if (detail || error) {
		const char *text = berth_json_string(detail, "message");
		if (p->err == NULL)
			berth_error_set(&p->err, 500, "%s", text ? text : error);
		return;
	}
	json_t *aux = json_object_get(msg, "aux");
	if (aux) {
		free(p->aux_digest);
		p->aux_digest = berth_json_string(aux, "Digest")
					? berth_xstrdup(berth_json_string(aux, "Digest")) : NULL;
		return;
	}
	if (!p->quiet)
		draw(p, msg);
}

static int on_chunk(void *ud, const char *data, size_t len)
{
	progress *p = ud;
	berth_buf_append(&p->pending, data, len);
	char *nl;
	while ((nl = memchr(p->pending.data, '\n', p->pending.len)) != NULL) {
		size_t n = (size_t)(nl - p->pending.data) + 1;
		json_t *msg = json_loadb(p->pending.data, n, JSON_DISABLE_EOF_CHECK, NULL);
		if (msg)
			on_message(p, msg);
		json_decref(msg);
		berth_buf_consume(&p->pending, n);
	}
	fflush(p->cli->out);
	return 0;
}

static void progress_reset(progress *p)
{
	berth_buf_reset(&p->pending);
	for (size_t i = 0; i < p->nids; i++)
		free(p->ids[i]);
	free(p->ids);
	free(p->aux_digest);
	berth_error_free(&p->err);
}

/* POST path with the registry's credentials, drawing the progress. */
static int stream(berth_cli *cli, const char *path, const char *host, progress *p,
		  berth_error **err)
{
	berth_client *c;
	if (berth_cli_client(cli, &c, err) < 0)
		return -1;
	char *server cleanup_free = berth_cli_server_key(host);
	char *auth cleanup_free = berth_cli_server_auth(cli, server, err);
	if (auth == NULL)
		return -1;
	berth_client_set_header(c, "X-Registry-Auth", auth);
	int r = berth_cli_stream(cli, "POST", path, NULL, 0, on_chunk, p, err);
	berth_client_set_header(c, "X-Registry-Auth", NULL);
	on_chunk(p, "\n", 1);
	if (r == 0 && p->err)
		r = berth_error_propagate(&p->err, err);
	return r;
}

/* ------------------------------------------------------------ references */

typedef struct named {
	berth_image_ref ref;
	char *host, *repo_full, *familiar;
} named;

static void named_reset(named *n)
{
	berth_image_ref_reset(&n->ref);
	free(n->host);
	free(n->repo_full);
	free(n->familiar);
}

/* Parses as the docker CLI does; without tag or digest "latest" is used and
 * said so. */
static int parse_named(berth_cli *cli, const char *s, bool all_tags, named *n, berth_error **err)
{
	memset(n, 0, sizeof(*n));
	if (berth_image_ref_parse(s, &n->ref, err) < 0)
		return -1;
	if (n->ref.tag == NULL && n->ref.digest == NULL && !all_tags) {
		n->ref.tag = berth_xstrdup("latest");
		fprintf(cli->out, "Using default tag: latest\n");
	}
	const char *slash = strchr(n->ref.name, '/');
	n->host = berth_xstrndup(n->ref.name, (size_t)(slash - n->ref.name));
	n->familiar = berth_image_familiar_name(n->ref.name);
	n->repo_full = berth_image_ref_string(&n->ref);
	return 0;
}

/* ------------------------------------------------------------------ pull */

int berth_cli_pull(berth_invocation *inv)
{
	bool all = false, quiet = false, dct = false;
	const char *platform = NULL;
	berth_flag flags[] = {
		{"all-tags", 'a', BERTH_FLAG_BOOL, &all, "Download all tagged images in the repository"},
		{"disable-content-trust", 0, BERTH_FLAG_BOOL, &dct, "Skip image verification",
		 .def = "true"},
		{"platform", 0, BERTH_FLAG_STRING, &platform, "Set platform if server is multi-platform capable"},
		{"quiet", 'q', BERTH_FLAG_BOOL, &quiet, "Suppress verbose output"},
	};
	int status;
	if (!berth_cli_parse(inv, flags, BERTH_ARRAY_SIZE(flags), &status))
		return status;
	berth_error *err cleanup_error = NULL;
	named n;
	if (parse_named(inv->cli, inv->args.v[0], all, &n, &err) < 0)
		return berth_cli_fail(inv->cli, &err, BERTH_EXIT_ERROR);
	if (all && (n.ref.tag || n.ref.digest)) {
		named_reset(&n);
		berth_error_set(&err, 400, "tag can't be used with --all-tags/-a");
		return berth_cli_fail(inv->cli, &err, BERTH_EXIT_ERROR);
	}
	char *image cleanup_free = berth_url_encode(n.ref.name);
	/* without a tag the daemon pulls every tag */
	const char *want = n.ref.digest ? n.ref.digest : n.ref.tag;
	char *tag cleanup_free = want ? berth_url_encode(want) : NULL;
	char *plat cleanup_free = platform ? berth_url_encode(platform) : NULL;
	char *path cleanup_free = berth_xasprintf("/images/create?fromImage=%s%s%s%s%s", image,
						  tag ? "&tag=" : "", tag ? tag : "",
						  plat ? "&platform=" : "", plat ? plat : "");
	progress p = {.cli = inv->cli, .terminal = isatty(fileno(inv->cli->out)), .quiet = quiet};
	int r = stream(inv->cli, path, n.host, &p, &err);
	if (r == 0)
		fprintf(inv->cli->out, "%s\n", n.repo_full);
	progress_reset(&p);
	named_reset(&n);
	return r < 0 ? berth_cli_fail(inv->cli, &err, BERTH_EXIT_ERROR) : BERTH_EXIT_OK;
}

/* ------------------------------------------------------------------ push */

int berth_cli_push(berth_invocation *inv)
{
	bool all = false, quiet = false, dct = false;
	const char *platform = NULL;
	berth_flag flags[] = {
		{"all-tags", 'a', BERTH_FLAG_BOOL, &all, "Push all tags of an image to the repository"},
		{"disable-content-trust", 0, BERTH_FLAG_BOOL, &dct, "Skip image signing", .def = "true"},
		{"platform", 0, BERTH_FLAG_STRING, &platform, "Push a platform-specific manifest"},
		{"quiet", 'q', BERTH_FLAG_BOOL, &quiet, "Suppress verbose output"},
	};
	int status;
	if (!berth_cli_parse(inv, flags, BERTH_ARRAY_SIZE(flags), &status))
		return status;
	berth_error *err cleanup_error = NULL;
	named n;
	if (parse_named(inv->cli, inv->args.v[0], all, &n, &err) < 0)
		return berth_cli_fail(inv->cli, &err, BERTH_EXIT_ERROR);
	if (all && n.ref.tag) {
		named_reset(&n);
		berth_error_set(&err, 400, "tag can't be used with --all-tags/-a");
		return berth_cli_fail(inv->cli, &err, BERTH_EXIT_ERROR);
	}
	char *name cleanup_free = berth_url_encode(n.familiar);
	char *tag cleanup_free = berth_url_encode(n.ref.tag ? n.ref.tag : "");
	char *path cleanup_free = berth_xasprintf("/images/%s/push?tag=%s", name, tag);
	progress p = {.cli = inv->cli, .terminal = isatty(fileno(inv->cli->out)), .quiet = quiet};
	int r = stream(inv->cli, path, n.host, &p, &err);
	if (r == 0 && quiet)
		fprintf(inv->cli->out, "%s\n", n.repo_full);
	progress_reset(&p);
	named_reset(&n);
	return r < 0 ? berth_cli_fail(inv->cli, &err, BERTH_EXIT_ERROR) : BERTH_EXIT_OK;
}

/* ----------------------------------------------------------- login/logout */

static char *read_line(FILE *in, bool echo)
{
	struct termios old, quiet;
	bool tty = isatty(fileno(in)) && tcgetattr(fileno(in), &old) == 0;
	if (tty && !echo) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(fileno(in), TCSANOW, &quiet);
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, in);
	if (tty && !echo) {
		tcsetattr(fileno(in), TCSANOW, &old);
		fputs("\n", stderr);
	}
	if (n < 0) {
		free(line);
		return berth_xstrdup("");
	}
	line[strcspn(line, "\r\n")] = '\0';
	return line;
}

/* The server as the docker CLI keys it: the Hub's URL, else the host. */
static char *login_server(const char *arg)
{
	if (arg == NULL || *arg == '\0')
		return berth_xstrdup(HUB_SERVER);
	char *host cleanup_free = hostname_of(arg);
	return berth_cli_server_key(host);
}

/* POST /auth with u/pw; *token gets the identity token the registry gave,
 * if any. *unauthorized: the daemon said 401. */
static int login_with(berth_cli *cli, const char *server, const char *u, const char *pw,
		      char **token, bool *unauthorized, berth_error **err)
{
	json_t *body cleanup_json = json_pack("{s:s, s:s, s:s}", "username", u, "password", pw,
					      "serveraddress", server);
	char *text cleanup_free = json_dumps(body, JSON_COMPACT);
	berth_client *c;
	berth_client_response resp = {0};
	if (berth_cli_client(cli, &c, err) < 0 ||
	    berth_client_request(c, "POST", "/auth", "application/json", text, strlen(text), &resp,
				 err) < 0)
		return -1;
	if (resp.status >= 400) {
		char *msg cleanup_free = berth_client_error_message(&resp);
		*unauthorized = resp.status == 401;
		berth_client_response_reset(&resp);
		return berth_error_set(err, 401, "Error response from daemon: %s", msg);
	}
	json_t *answer cleanup_json = json_loadb(resp.body.data ? resp.body.data : "", resp.body.len,
						 0, NULL);
	berth_client_response_reset(&resp);
	const char *t = berth_json_string(answer, "IdentityToken");
	*token = t && *t ? berth_xstrdup(t) : NULL;
	return 0;
}

/* Keeps the login where the docker CLI would (the identity token rather
 * than the password when there is one). */
static int save_login(berth_cli *cli, const char *server, const char *u, const char *pw,
		      const char *token, berth_error **err)
{
	berth_cli_creds creds = {.username = (char *)u, .password = (char *)pw,
				 .identitytoken = (char *)token};
	if (berth_cli_creds_store(cli, server, &creds, err) == 0)
		return 0;
	char *msg cleanup_free = berth_xstrdup((*err)->msg);
	berth_error_free(err);
	return berth_error_set(err, 500, "Error saving credentials: %s", msg);
}

/* `docker login HOST` without credentials tries the stored ones first (from
 * config.json or the credential helper); true when they worked. */
static bool login_stored(berth_cli *cli, const char *server)
{
	berth_cli_creds stored cleanup_creds = {0};
	berth_error *err cleanup_error = NULL;
	if (berth_cli_creds_get(cli, server, &stored, &err) < 0 || stored.username == NULL ||
	    !*stored.username || stored.password == NULL || !*stored.password)
		return false;
	fprintf(cli->err, "Authenticating with existing credentials... [Username: %s]\n\n"
			  " Info -> To login with a different account, run 'docker logout' "
			  "followed by 'docker login'\n\n\n", stored.username);
	bool unauthorized = false;
	char *token cleanup_free = NULL;
	if (login_with(cli, server, stored.username, stored.password, &token, &unauthorized,
		       &err) == 0)
		return token == NULL || save_login(cli, server, stored.username, stored.password,
						   token, &err) == 0;
	if (unauthorized)
		fprintf(cli->err, "Stored credentials invalid or expired\n");
	else
		fprintf(cli->err, "Login did not succeed, error: %s\n", err->msg);
	return false;
}

int berth_cli_login(berth_invocation *inv)
{
	const char *user = NULL, *pass = NULL;
	bool pass_stdin = false;
	berth_flag flags[] = {
		{"password", 'p', BERTH_FLAG_STRING, &pass, "Password"},
		{"password-stdin", 0, BERTH_FLAG_BOOL, &pass_stdin, "Take the password from stdin"},
		{"username", 'u', BERTH_FLAG_STRING, &user, "Username"},
	};
	int status;
	if (!berth_cli_parse(inv, flags, BERTH_ARRAY_SIZE(flags), &status))
		return status;
	berth_error *err cleanup_error = NULL;
	berth_cli *cli = inv->cli;
	if (pass && pass_stdin)
		berth_error_set(&err, 400, "--password and --password-stdin are mutually exclusive");
	else if (pass_stdin && (user == NULL || *user == '\0'))
		berth_error_set(&err, 400, "Must provide --username with --password-stdin");
	if (err)
		return berth_cli_fail(cli, &err, BERTH_EXIT_ERROR);
	if (pass)
		fprintf(cli->err, "WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n");
	char *server cleanup_free = login_server(inv->args.n ? inv->args.v[0] : NULL);
	if (user == NULL && pass == NULL && !pass_stdin && login_stored(cli, server)) {
		fprintf(cli->out, "Login Succeeded\n");
		return BERTH_EXIT_OK;
	}
	char *u cleanup_free = user ? berth_xstrdup(user) : NULL;
	char *pw cleanup_free = pass ? berth_xstrdup(pass) : NULL;
	if (pass_stdin)
		pw = read_line(stdin, true);
	if ((u == NULL || pw == NULL) && !isatty(STDIN_FILENO)) {
		berth_error_set(&err, 400, "Cannot perform an interactive login from a non TTY device");
		return berth_cli_fail(cli, &err, BERTH_EXIT_ERROR);
	}
	if (u == NULL) {
		fprintf(cli->out, "Username: ");
		fflush(cli->out);
		u = read_line(stdin, true);
	}
	if (pw == NULL) {
		fprintf(cli->out, "Password: ");
		fflush(cli->out);
		pw = read_line(stdin, false);
	}
	bool unauthorized = false;
	char *token cleanup_free = NULL;
	if (login_with(cli, server, u, pw, &token, &unauthorized, &err) < 0 ||
	    save_login(cli, server, u, pw, token, &err) < 0)
		return berth_cli_fail(cli, &err, BERTH_EXIT_ERROR);
	fprintf(cli->out, "Login Succeeded\n");
	return BERTH_EXIT_OK;
}

int berth_cli_logout(berth_invocation *inv)
{
	int status;
	if (!berth_cli_parse(inv, NULL, 0, &status))
		return status;
	berth_cli *cli = inv->cli;
	char *server cleanup_free = login_server(inv->args.n ? inv->args.v[0] : NULL);
	berth_error *err cleanup_error = NULL;
	/* logged in is an entry in "auths" (empty when a helper keeps the secret) */
	if (json_object_get(json_object_get(cli->config, "auths"), server) == NULL) {
		fprintf(cli->out, "Not logged in to %s\n", server);
		return BERTH_EXIT_OK;
	}
	fprintf(cli->out, "Removing login credentials for %s\n", server);
	if (berth_cli_creds_erase(cli, server, &err) < 0)
		return berth_cli_fail(cli, &err, BERTH_EXIT_ERROR);
	return BERTH_EXIT_OK;
}
