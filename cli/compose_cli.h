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
#define BERTH_CLI_COMPOSE_ROWS

#endif
