/* version.c - `berth version`: docker's layout of the client's and the daemon's versions. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* docker adds an "Engine" component built from the top-level fields when the
 * daemon lists none, and shows build times in Go's ANSIC layout. */
static void normalize_server(json_t *server)
{
	json_t *components = json_object_get(server, "Components");
	if (!json_is_array(components)) {
		components = json_array();
		json_object_set_new(server, "Components", components);
	}
	size_t i;
	json_t *comp;
	json_array_foreach(components, i, comp) {
		if (strcmp(berth_cli_str(comp, "Name"), "Engine") != 0)
			continue;
		json_t *details = json_object_get(comp, "Details");
		const char *bt = berth_json_string(details, "BuildTime");
		if (bt) {
			char *ansic = berth_cli_reformat_date(bt);
			json_object_set_new(details, "BuildTime", json_string(ansic));
			free(ansic);
		}
		return;
	}
	char *built cleanup_free = berth_cli_reformat_date(berth_cli_str(server, "BuildTime"));
	json_t *details = json_object();
	static const char *const copied[] = {"ApiVersion", "MinAPIVersion", "GitCommit", "GoVersion",
					     "Os", "Arch"};
	for (size_t k = 0; k < BERTH_ARRAY_SIZE(copied); k++)
		json_object_set_new(details, copied[k], json_string(berth_cli_str(server, copied[k])));
	json_object_set_new(details, "BuildTime", json_string(built));
	json_object_set_new(details, "Experimental",
			    json_string(berth_cli_bool(json_is_true(json_object_get(server, "Experimental")))));
	json_array_append_new(components,
			      json_pack("{s:s, s:s, s:o}", "Name", "Engine", "Version",
					berth_cli_str(server, "Version"), "Details", details));
}

static void print_client(const json_t *client, berth_buf *b)
{
	const char *api = berth_cli_str(client, "ApiVersion");
	const char *def = berth_cli_str(client, "DefaultAPIVersion");
	berth_buf_puts(b, "Client:\n");
	berth_buf_printf(b, " Version:\t%s\n", berth_cli_str(client, "Version"));
	berth_buf_printf(b, " API version:\t%s", api);
	if (strcmp(api, def) != 0)
		berth_buf_printf(b, " (downgraded from %s)", def);
	berth_buf_printf(b, "\n Git commit:\t%s\n", berth_cli_str(client, "GitCommit"));
	berth_buf_printf(b, " Built:\t%s\n", berth_cli_str(client, "BuildTime"));
	berth_buf_printf(b, " OS/Arch:\t%s/%s\n", berth_cli_str(client, "Os"),
			 berth_cli_str(client, "Arch"));
	berth_buf_printf(b, " Context:\t%s", berth_cli_str(client, "Context"));
}

static void print_engine(const json_t *comp, berth_buf *b)
{
	const json_t *d = json_object_get(comp, "Details");
	berth_buf_printf(b, "\n  Version:\t%s", berth_cli_str(comp, "Version"));
	berth_buf_printf(b, "\n  API version:\t%s (minimum version %s)", berth_cli_str(d, "ApiVersion"),
			 berth_cli_str(d, "MinAPIVersion"));
	/* berth is no Go program: the line shows only for daemons that are. */
	if (*berth_cli_str(d, "GoVersion"))
		berth_buf_printf(b, "\n  Go version:\t%s", berth_cli_str(d, "GoVersion"));
	berth_buf_printf(b, "\n  Git commit:\t%s", berth_cli_str(d, "GitCommit"));
	berth_buf_printf(b, "\n  Built:\t%s", berth_cli_str(d, "BuildTime"));
	berth_buf_printf(b, "\n  OS/Arch:\t%s/%s", berth_cli_str(d, "Os"), berth_cli_str(d, "Arch"));
	berth_buf_printf(b, "\n  Experimental:\t%s", berth_cli_str(d, "Experimental"));
}

/* Other components: Version, then their details sorted by key. */
static void print_component(const json_t *comp, berth_buf *b)
{
	const json_t *d = json_object_get(comp, "Details");
	berth_buf_printf(b, "\n  Version:\t%s", berth_cli_str(comp, "Version"));
	size_t n;
	const char **keys cleanup_free = berth_json_sorted_keys(d, &n);
	for (size_t i = 0; i < n; i++)
		berth_buf_printf(b, "\n  %s:\t%s", keys[i], berth_cli_str(d, keys[i]));
}

static void print_server(const json_t *server, berth_buf *b)
{
	const char *platform = berth_cli_str(json_object_get(server, "Platform"), "Name");
	berth_buf_printf(b, "\n\nServer:%s%s", *platform ? " " : "", platform);
	size_t i;
	json_t *comp;
	json_array_foreach(json_object_get(server, "Components"), i, comp) {
		const char *name = berth_cli_str(comp, "Name");
		berth_buf_printf(b, "\n %s:", name);
		if (strcmp(name, "Engine") == 0)
			print_engine(comp, b);
		else
			print_component(comp, b);
	}
}

/* The template sees docker's versionInfo: Go names, where they differ from
 * the JSON keys (APIVersion is "ApiVersion"). */
static int execute(const berth_format *fmt, const json_t *data, berth_buf *out, berth_error **err)
{
	static const char *const api_version[] = {"APIVersion", "ApiVersion", NULL};
	static const berth_template_type info = {"system.versionInfo"};
	static const berth_template_type client = {"system.clientVersion", false, api_version};
	static const berth_template_type server = {"*types.Version", false, api_version};
	const berth_template_struct structs[] = {
		{data, &info, NULL},
		{json_object_get(data, "Client"), &client, NULL},
		{json_object_get(data, "Server"), &server, NULL},
	};
	berth_template_env env = {.structs = structs, .nstructs = BERTH_ARRAY_SIZE(structs)};
	return berth_template_execute_env(fmt->tmpl, data, &env, out, err);
}

static int render(berth_invocation *inv, berth_format *fmt, const json_t *data)
{
	berth_buf text cleanup_buf = {0};
	berth_buf out cleanup_buf = {0};
	berth_error *err cleanup_error = NULL;
	if (fmt->kind == BERTH_FORMAT_DEFAULT) {
		print_client(json_object_get(data, "Client"), &text);
		const json_t *server = json_object_get(data, "Server");
		if (json_is_object(server))
			print_server(server, &text);
	} else if (execute(fmt, data, &text, &err) < 0) {
		fputs("\n", inv->cli->out);
		return berth_cli_fail(inv->cli, &err, BERTH_EXIT_ERROR);
	}
	berth_buf_puts(&text, "\n");
	berth_tabwriter_format(text.data, text.len, 20, 1, &out);
	berth_cli_write(inv->cli, &out);
	return BERTH_EXIT_OK;
}

int berth_cli_version(berth_invocation *inv)
{
	const char *format = NULL;
	berth_flag flags[] = {
		{"format", 'f', BERTH_FLAG_STRING, &format, BERTH_FORMAT_HELP},
	};
	int status;
	if (!berth_cli_parse(inv, flags, BERTH_ARRAY_SIZE(flags), &status))
		return status;

	berth_format fmt cleanup_format = {.name = "version"};
	if ((status = berth_cli_format_init(inv->cli, &fmt, format)) != BERTH_EXIT_OK)
		return status;

	json_t *server cleanup_json = NULL;
	berth_error *server_err cleanup_error = NULL;
	if (berth_cli_get_json(inv->cli, "/version", &server, &server_err) == 0)
		normalize_server(server);
	const char *api = berth_cli_api_version(inv->cli, berth_json_string(server, "ApiVersion"));

	json_t *data cleanup_json = json_object();
	json_object_set_new(data, "Client", berth_cli_client_version(api));
	json_object_set(data, "Server", server ? server : json_null());
	status = render(inv, &fmt, data);
	if (server_err)
		return berth_cli_fail(inv->cli, &server_err, BERTH_EXIT_ERROR);
	return status;
}
