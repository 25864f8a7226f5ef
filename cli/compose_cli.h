/* compose_cli.h - what the `berth compose` command files share. */
#ifndef BERTH_CLI_COMPOSE_H
#define BERTH_CLI_COMPOSE_H

#include "cli.h"
#include "compose/compose.h"

/* Loads the project from the global flags; prints the error and returns -1. */
int berth_cli_compose_load(berth_invocation *inv, berth_compose_project **out);
/* Same, but `-p NAME` without a Compose file is an empty project NAME. */
int berth_cli_compose_load_or_name(berth_invocation *inv, berth_compose_project **out);
/* The engine context of a project; prints the error and returns -1. */
int berth_cli_compose_ctx(berth_invocation *inv, berth_compose_project *p, berth_compose_ctx *c);

/* The engine commands (cli/compose_cmds.c), rows of berth_cli_compose_commands. */
int berth_cli_compose_up(berth_invocation *inv);
int berth_cli_compose_create(berth_invocation *inv);
int berth_cli_compose_down(berth_invocation *inv);
int berth_cli_compose_action(berth_invocation *inv);
int berth_cli_compose_ps(berth_invocation *inv);
int berth_cli_compose_logs(berth_invocation *inv);
int berth_cli_compose_exec(berth_invocation *inv);
int berth_cli_compose_run(berth_invocation *inv);
int berth_cli_compose_top(berth_invocation *inv);
int berth_cli_compose_images(berth_invocation *inv);
int berth_cli_compose_port(berth_invocation *inv);
int berth_cli_compose_ls(berth_invocation *inv);
int berth_cli_compose_images_op(berth_invocation *inv);

#define BERTH_CLI_COMPOSE_ROWS \
	{"build", "[OPTIONS] [SERVICE...]", "Build or rebuild services", NULL, NULL, 0, -1, berth_cli_compose_images_op, NULL}, \
	{"create", "[OPTIONS] [SERVICE...]", "Creates containers for a service", NULL, NULL, 0, -1, berth_cli_compose_create, NULL}, \
	{"down", "[OPTIONS] [SERVICES]", "Stop and remove containers, networks", NULL, NULL, 0, -1, berth_cli_compose_down, NULL}, \
	{"exec", "[OPTIONS] SERVICE COMMAND [ARGS...]", "Execute a command in a running container", NULL, NULL, 2, -1, berth_cli_compose_exec, NULL}, \
	{"images", "[OPTIONS] [SERVICE...]", "List images used by the created containers", NULL, NULL, 0, -1, berth_cli_compose_images, NULL}, \
	{"kill", "[OPTIONS] [SERVICE...]", "Force stop service containers", NULL, NULL, 0, -1, berth_cli_compose_action, NULL}, \
	{"logs", "[OPTIONS] [SERVICE...]", "View output from containers", NULL, NULL, 0, -1, berth_cli_compose_logs, NULL}, \
	{"ls", "[OPTIONS]", "List running compose projects", NULL, NULL, 0, 0, berth_cli_compose_ls, NULL}, \
	{"pause", "[SERVICE...]", "Pause services", NULL, NULL, 0, -1, berth_cli_compose_action, NULL}, \
	{"port", "[OPTIONS] SERVICE PRIVATE_PORT", "Print the public port for a port binding", NULL, NULL, 2, 2, berth_cli_compose_port, NULL}, \
	{"ps", "[OPTIONS] [SERVICE...]", "List containers", NULL, NULL, 0, -1, berth_cli_compose_ps, NULL}, \
	{"pull", "[OPTIONS] [SERVICE...]", "Pull service images", NULL, NULL, 0, -1, berth_cli_compose_images_op, NULL}, \
	{"push", "[OPTIONS] [SERVICE...]", "Push service images", NULL, NULL, 0, -1, berth_cli_compose_images_op, NULL}, \
	{"restart", "[OPTIONS] [SERVICE...]", "Restart service containers", NULL, NULL, 0, -1, berth_cli_compose_action, NULL}, \
	{"rm", "[OPTIONS] [SERVICE...]", "Removes stopped service containers", NULL, NULL, 0, -1, berth_cli_compose_action, NULL}, \
	{"run", "[OPTIONS] SERVICE [COMMAND] [ARGS...]", "Run a one-off command on a service", NULL, NULL, 1, -1, berth_cli_compose_run, NULL}, \
	{"start", "[SERVICE...]", "Start services", NULL, NULL, 0, -1, berth_cli_compose_action, NULL}, \
	{"stop", "[OPTIONS] [SERVICE...]", "Stop services", NULL, NULL, 0, -1, berth_cli_compose_action, NULL}, \
	{"top", "[SERVICES...]", "Display the running processes", NULL, NULL, 0, -1, berth_cli_compose_top, NULL}, \
	{"unpause", "[SERVICE...]", "Unpause services", NULL, NULL, 0, -1, berth_cli_compose_action, NULL}, \
	{"up", "[OPTIONS] [SERVICE...]", "Create and start containers", NULL, NULL, 0, -1, berth_cli_compose_up, NULL},

#endif
