/* internal.h - shared by the files of builder/; not for other modules. */
#ifndef BERTH_BUILDER_INTERNAL_H
#define BERTH_BUILDER_INTERNAL_H

#include "builder.h"

/* parse.c */
bool df_space(char c);
char **df_parse_words(const char *rest, char escape, size_t *count);
const char *df_cmd_name(berth_df_cmd cmd);

/* instr.c */
int df_instr_validate(const berth_df_instr *in, berth_error **err);
int df_validate_order(const berth_dockerfile *df, berth_error **err);
bool df_stage_name_valid(const char *name);
int df_health_duration(const berth_df_instr *in, const char *name, int64_t *ns, berth_error **err);

/* ignore.c */
char *df_clean_path(const char *path);

#endif
