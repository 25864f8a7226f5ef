/* network.c - `berth network create|connect|disconnect|inspect|ls|prune|rm`
 * and `berth port`, with docker's output and errors. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"

#define NETWORK_TABLE "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}"

static char *network_path(const char *name, const char *suffix)
{
	char *enc cleanup_free = berth_url_encode(name);
	return berth_xasprintf("/networks/%s%s", enc, suffix);
}

static int fail(berth_cli *cli, berth_error **err)
{
	return berth_cli_fail(cli, err, BERTH_EXIT_ERROR);
}


/* --------------------------------------------------------------- create */

static int network_create(berth_invocation *inv)
{
	const char *driver = "bridge", *subnet = "", *gateway = "", *ip_range = "";
	bool internal = false, attachable = false, ipv6 = false;
	berth_strlist labels cleanup_strlist = {0}, opts cleanup_strlist = {0};
	berth_flag flags[] = {
		{"attachable", 0, BERTH_FLAG_BOOL, &attachable, "Enable manual container attachment"},
		{"driver", 'd', BERTH_FLAG_STRING, &driver, "Driver to manage the Network",
		 .def = "\"bridge\""},
		{"gateway", 0, BERTH_FLAG_STRING, &gateway, "IPv4 Gateway for the master subnet",
		 .type_name = "strings"},
		{"internal", 0, BERTH_FLAG_BOOL, &internal, "Restrict external access to the network"},
		{"ip-range", 0, BERTH_FLAG_STRING, &ip_range, "Allocate container ip from a sub-range",
		 .type_name = "strings"},
		{"ipv6", 0, BERTH_FLAG_BOOL, &ipv6, "Enable or disable IPv6 networking"},
		{"label", 0, BERTH_FLAG_LIST, &labels, "Set metadata on a network", .type_name = "list"},
		{"opt", 'o', BERTH_FLAG_LIST, &opts, "Set driver specific options", .type_name = "map",
		 .def = "map[]"},
		{"subnet", 0, BERTH_FLAG_STRING, &subnet,
		 "Subnet in CIDR format that represents a network segment", .type_name = "strings"},
	};
	int status;
	if (!berth_cli_parse(inv, flags, BERTH_ARRAY_SIZE(flags), &status))
		return status;
	berth_error *err cleanup_error = NULL;
	if ((*gateway || *ip_range) && *subnet == '\0') {
		berth_error_set(&err, 400, "every ip-range or gateway must have a corresponding subnet");
		return fail(inv->cli, &err);
	}
	json_t *ipam = json_pack("{s:s, s:[]}", "Driver", "default", "Config");
	if (*subnet) {
		json_t *c = json_pack("{s:s}", "Subnet", subnet);
		if (*gateway)
			json_object_set_new(c, "Gateway", json_string(gateway));
		if (*ip_range)
			json_object_set_new(c, "IPRange", json_string(ip_range));
		json_array_append_new(json_object_get(ipam, "Config"), c);
	}
	json_t *body cleanup_json = json_pack(
		"{s:s, s:s, s:b, s:b, s:b, s:o, s:o, s:o}", "Name", inv->args.v[0], "Driver", driver,
		"Internal", internal, "Attachable", attachable, "EnableIPv6", ipv6, "IPAM", ipam,
		"Options", berth_cli_kv_object(&opts), "Labels", berth_cli_kv_object(&labels));
	json_t *resp cleanup_json = NULL;
	if (berth_cli_call(inv->cli, "POST", "/networks/create", body, &resp, &err) < 0)
		return fail(inv->cli, &err);
	fprintf(inv->cli->out, "%s\n", berth_cli_str(resp, "Id"));
	return BERTH_EXIT_OK;
}

/* ------------------------------------------------- connect, disconnect */

static int network_connect(berth_invocation *inv)
{
	berth_strlist aliases cleanup_strlist = {0}, links cleanup_strlist = {0};
	const char *ip = "";
	berth_flag flags[] = {
		{"alias", 0, BERTH_FLAG_LIST, &aliases, "Add network-scoped alias for the container",
		 .type_name = "strings"},
		{"ip", 0, BERTH_FLAG_STRING, &ip, "IPv4 address (e.g., \"172.30.100.104\")",
		 .type_name = "string"},
		{"link", 0, BERTH_FLAG_LIST, &links, "Add link to another container",
		 .type_name = "list"},
	};
	int status;
	if (!berth_cli_parse(inv, flags, BERTH_ARRAY_SIZE(flags), &status))
		return status;
	json_t *ep = json_object();
	json_t *al = json_array();
	for (size_t i = 0; i < aliases.n; i++)
		json_array_append_new(al, json_string(aliases.v[i]));
	json_object_set_new(ep, "Aliases", al);
	if (*ip)
		json_object_set_new(ep, "IPAMConfig", json_pack("{s:s}", "IPv4Address", ip));
	json_t *body cleanup_json = json_pack("{s:s, s:o}", "Container", inv->args.v[1],
					      "EndpointConfig", ep);
	char *path cleanup_free = network_path(inv->args.v[0], "/connect");
	berth_error *err cleanup_error = NULL;
	if (berth_cli_call(inv->cli, "POST", path, body, NULL, &err) < 0)
		return fail(inv->cli, &err);
	return BERTH_EXIT_OK;
}

static int network_disconnect(berth_invocation *inv)
{
	bool force = false;
	berth_flag flags[] = {
		{"force", 'f', BERTH_FLAG_BOOL, &force,
		 "Force the container to disconnect from a network"},
	};
	int status;
	if (!berth_cli_parse(inv, flags, BERTH_ARRAY_SIZE(flags), &status))
		return status;
	json_t *body cleanup_json = json_pack("{s:s, s:b}", "Container", inv->args.v[1], "Force",
					      force);
	char *path cleanup_free = network_path(inv->args.v[0], "/disconnect");
	berth_error *err cleanup_error = NULL;
	if (berth_cli_call(inv->cli, "POST", path, body, NULL, &err) < 0)
		return fail(inv->cli, &err);
	return BERTH_EXIT_OK;
}

/* -------------------------------------------------------------- inspect */

static int network_inspect(berth_invocation *inv)
{
	const char *format = NULL;
	bool verbose = false;
	berth_flag flags[] = {
		{"format", 'f', BERTH_FLAG_STRING, &format, BERTH_FORMAT_HELP},
		{"verbose", 'v', BERTH_FLAG_BOOL, &verbose, "Verbose output for diagnostics"},
	};
	int status;
	if (!berth_cli_parse(inv, flags, BERTH_ARRAY_SIZE(flags), &status))
		return status;
	return berth_cli_inspect_objects(inv->cli, &inv->args, format, "network", false);
}

/* ------------------------------------------------------------------- ls */

/* docker's networkContext, keys sorted as its MarshalJSON writes them. */
static json_t *row_of(const json_t *net, const void *ud)
{
	bool no_trunc = *(const bool *)ud;
	const char *id = berth_cli_str(net, "Id");
	char short_id[13];
	snprintf(short_id, sizeof(short_id), "%.12s", id);
	char *labels cleanup_free = berth_cli_joined_keys(json_object_get(net, "Labels"), true);
	char *created cleanup_free = berth_time_go_string_rfc3339(berth_cli_str(net, "Created"));
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "CreatedAt", created,
			 "Driver", berth_cli_str(net, "Driver"), "ID", no_trunc ? id : short_id,
			 "IPv4", berth_cli_bool(json_is_true(json_object_get(net, "EnableIPv4"))),
			 "IPv6", berth_cli_bool(json_is_true(json_object_get(net, "EnableIPv6"))),
			 "Internal", berth_cli_bool(json_is_true(json_object_get(net, "Internal"))),
			 "Labels", labels, "Name", berth_cli_str(net, "Name"), "Scope",
			 berth_cli_str(net, "Scope"));
}

static json_t *headers(void)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "ID", "NETWORK ID",
			 "Name", "NAME", "Driver", "DRIVER", "Scope", "SCOPE", "IPv4", "IPV4",
			 "IPv6", "IPV6", "Internal", "INTERNAL", "Labels", "LABELS", "CreatedAt",
			 "CREATED AT");
}

static const berth_template_type network_context = {"*network.networkContext", true, NULL,
						     berth_cli_label_method};

static int network_ls(berth_invocation *inv)
{
	const char *format = NULL;
	bool quiet = false, no_trunc = false;
	berth_strlist filters cleanup_strlist = {0};
	berth_flag flags[] = {
		{"filter", 'f', BERTH_FLAG_LIST, &filters,
		 "Provide filter values (e.g. \"driver=bridge\")", .type_name = "filter",
		 .check = berth_cli_filter_check},
		{"format", 0, BERTH_FLAG_STRING, &format, BERTH_FORMAT_HELP},
		{"no-trunc", 0, BERTH_FLAG_BOOL, &no_trunc, "Do not truncate the output"},
		{"quiet", 'q', BERTH_FLAG_BOOL, &quiet, "Only display network IDs"},
	};
	int status;
	if (!berth_cli_parse(inv, flags, BERTH_ARRAY_SIZE(flags), &status))
		return status;
	json_t *hdr cleanup_json = headers();
	berth_named_list l = {"/networks", NULL, &filters, format, "networksFormat", quiet,
			      NETWORK_TABLE, "{{.ID}}", &network_context, hdr, row_of, &no_trunc};
	return berth_cli_print_named_list(inv->cli, &l);
}

/* ------------------------------------------------------------ rm, prune */

static int network_rm(berth_invocation *inv)
{
	bool force = false;
	berth_flag flags[] = {
		{"force", 'f', BERTH_FLAG_BOOL, &force, "Do not error if the network does not exist"},
	};
	int status;
	if (!berth_cli_parse(inv, flags, BERTH_ARRAY_SIZE(flags), &status))
		return status;
	int rc = BERTH_EXIT_OK;
	for (size_t i = 0; i < inv->args.n; i++) {
		char *path cleanup_free = network_path(inv->args.v[i], "");
		berth_error *err cleanup_error = NULL;
		if (berth_cli_call(inv->cli, "DELETE", path, NULL, NULL, &err) == 0) {
			fprintf(inv->cli->out, "%s\n", inv->args.v[i]);
		} else if (!(force && err->status == 404)) {
			fprintf(inv->cli->err, "%s\n", err->msg);
			rc = BERTH_EXIT_ERROR;
		}
	}
	return rc;
}

static int network_prune(berth_invocation *inv)
{
	return berth_cli_prune_command(inv, BERTH_PRUNE_NETWORKS,
				       "WARNING! This will remove all custom networks not used by at "
				       "least one container.\nAre you sure you want to continue?");
}

const berth_command berth_cli_network_commands[] = {
	{"connect", "[OPTIONS] NETWORK CONTAINER", "Connect a container to a network", NULL, NULL,
	 2, 2, network_connect, NULL},
	{"create", "[OPTIONS] NETWORK", "Create a network", NULL, NULL, 1, 1, network_create, NULL},
	{"disconnect", "[OPTIONS] NETWORK CONTAINER", "Disconnect a container from a network",
	 NULL, NULL, 2, 2, network_disconnect, NULL},
	{"inspect", "[OPTIONS] NETWORK [NETWORK...]",
	 "Display detailed information on one or more networks", NULL, NULL, 1, -1,
	 network_inspect, NULL},
	{"ls", "[OPTIONS]", "List networks", NULL, NULL, 0, 0, network_ls, NULL},
	{"prune", "[OPTIONS]", "Remove all unused networks", NULL, NULL, 0, 0, network_prune, NULL},
	{"rm", "NETWORK [NETWORK...]", "Remove one or more networks", NULL, NULL, 1, -1,
	 network_rm, NULL},
	{0},
};

/* ----------------------------------------------------------------- port */

static int by_str(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* `berth port CONTAINER [PRIVATE_PORT[/PROTO]]`: docker's lines, sorted. */
int berth_cli_port(berth_invocation *inv)
{
	int status;
	if (!berth_cli_parse(inv, NULL, 0, &status))
		return status;
	char *enc cleanup_free = berth_url_encode(inv->args.v[0]);
	char *path cleanup_free = berth_xasprintf("/containers/%s/json", enc);
	json_t *c cleanup_json = NULL;
	berth_error *err cleanup_error = NULL;
	if (berth_cli_get_json(inv->cli, path, &c, &err) < 0)
		return fail(inv->cli, &err);
	const char *want = inv->args.n > 1 ? inv->args.v[1] : NULL;
	char *want_key cleanup_free = want ? (strchr(want, '/') ? berth_xstrdup(want)
							       : berth_xasprintf("%s/tcp", want))
					   : NULL;
	const json_t *ports = json_object_get(json_object_get(c, "NetworkSettings"), "Ports");
	berth_strlist lines cleanup_strlist = {0};
	const char *key;
	json_t *arr;
	json_object_foreach((json_t *)ports, key, arr) {
		if (want_key && strcmp(key, want_key) != 0)
			continue;
		size_t i;
		json_t *b;
		json_array_foreach(arr, i, b) {
			char *line cleanup_free =
				want_key ? berth_xasprintf("%s:%s", berth_cli_str(b, "HostIp"),
							   berth_cli_str(b, "HostPort"))
					 : berth_xasprintf("%s -> %s:%s", key, berth_cli_str(b, "HostIp"),
							   berth_cli_str(b, "HostPort"));
			berth_strlist_push(&lines, line);
		}
	}
	if (want_key && lines.n == 0) {
		berth_error_set(&err, 1, "Error: No public port '%s' published for %s", want_key,
				inv->args.v[0]);
		return fail(inv->cli, &err);
	}
	if (lines.n > 0) /* lines.v is NULL for none, which qsort may not get */
		qsort(lines.v, lines.n, sizeof(*lines.v), by_str);
	for (size_t i = 0; i < lines.n; i++)
		fprintf(inv->cli->out, "%s\n", lines.v[i]);
	return BERTH_EXIT_OK;
}
