/* system.c - `berth system`: df, events, info and prune. */
#include "cli.h"

const berth_command berth_cli_system_commands[] = {
	{"df", "[OPTIONS]", "Show berth disk usage", NULL, NULL, 0, 0, berth_cli_system_df, NULL},
	{"events", "[OPTIONS]", "Get real time events from the server",
	 "berth system events, berth events", NULL, 0, 0, berth_cli_events, NULL},
	{"info", "[OPTIONS]", "Display system-wide information", "berth system info, berth info",
	 NULL, 0, 0, berth_cli_info, NULL},
	{"prune", "[OPTIONS]", "Remove unused data", NULL, NULL, 0, 0, berth_cli_system_prune, NULL},
	{0},
};
