/*
 * fs.h - `berth commit`, `berth diff`, `berth export` and `berth cp`
 * (cli/fs.c): their rows for the dispatch tables.
 */
#ifndef BERTH_CLI_FS_H
#define BERTH_CLI_FS_H

#include "cli.h"

int berth_cli_commit(berth_invocation *inv);
int berth_cli_diff(berth_invocation *inv);
int berth_cli_export(berth_invocation *inv);
int berth_cli_cp(berth_invocation *inv);

#define BERTH_CLI_COMMIT_ROW(category)                                                  \
	{"commit", "[OPTIONS] CONTAINER [REPOSITORY[:TAG]]",                               \
	 "Create a new image from a container's changes", "berth container commit, berth commit", \
	 category, 1, 2, berth_cli_commit, NULL}
#define BERTH_CLI_CP_ROW(category)                                                      \
	{"cp", "[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tberth cp [OPTIONS] SRC_PATH|- "  \
	       "CONTAINER:DEST_PATH",                                                       \
	 "Copy files/folders between a container and the local filesystem",                \
	 "berth container cp, berth cp", category, 2, 2, berth_cli_cp, NULL}
#define BERTH_CLI_DIFF_ROW(category)                                                    \
	{"diff", "CONTAINER", "Inspect changes to files or directories on a container's filesystem", \
	 "berth container diff, berth diff", category, 1, 1, berth_cli_diff, NULL}
#define BERTH_CLI_EXPORT_ROW(category)                                                  \
	{"export", "[OPTIONS] CONTAINER", "Export a container's filesystem as a tar archive", \
	 "berth container export, berth export", category, 1, 1, berth_cli_export, NULL}

#endif
