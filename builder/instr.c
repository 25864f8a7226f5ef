/*
 * instr.c - validation of parsed instructions, with dockerd's messages:
 * allowed flags, argument counts, FROM's shape and stage names, ONBUILD's
 * triggers, HEALTHCHECK's options.
 */
#include <ctype.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Flags each instruction accepts; a trailing '!' marks a boolean. */
static const struct {
	berth_df_cmd cmd;
	const char *flags[7];
} allowed_flags[] = {
	{BERTH_DF_ADD, {"chown", "chmod", "link!", "keep-git-dir!", "checksum", NULL}},
	{BERTH_DF_COPY, {"from", "chown", "chmod", "link!", NULL}},
	{BERTH_DF_FROM, {"platform", NULL}},
	{BERTH_DF_RUN, {"mount", "network", "security", NULL}},
	{BERTH_DF_HEALTHCHECK, {"interval", "timeout", "start-period", "start-interval", "retries", NULL}},
};

static int check_flags(const berth_df_instr *in, berth_error **err)
{
	const char *const *ok = NULL;
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(allowed_flags); i++)
		if (allowed_flags[i].cmd == in->cmd)
			ok = allowed_flags[i].flags;
	for (size_t i = 0; in->flags && in->flags[i]; i++) {
		const char *f = in->flags[i];
		if (strncmp(f, "--", 2) != 0)
			return berth_error_set(err, 400, "Arg should start with -- : %s", f);
		const char *eq = strchr(f + 2, '=');
		size_t nl = eq ? (size_t)(eq - f - 2) : strlen(f + 2);
		const char *match = NULL;
		for (size_t k = 0; ok && ok[k]; k++) {
			size_t kl = strcspn(ok[k], "!");
			if (kl == nl && strncmp(ok[k], f + 2, nl) == 0)
				match = ok[k];
		}
		if (match == NULL)
			return berth_error_set(err, 400, "unknown flag: %.*s", (int)nl, f + 2);
		bool boolean = match[strlen(match) - 1] == '!';
		if (!boolean && eq == NULL)
			return berth_error_set(err, 400, "missing a value on flag: %.*s", (int)nl, f + 2);
		if (boolean && eq && strcasecmp(eq + 1, "true") != 0 && strcasecmp(eq + 1, "false") != 0)
			return berth_error_set(err, 400, "expecting boolean value for flag %.*s, not: %s",
					       (int)nl, f + 2, eq + 1);
		for (size_t j = 0; j < i; j++) {
			if (strncmp(in->flags[j] + 2, f + 2, nl) == 0 &&
			    (in->flags[j][2 + nl] == '=' || in->flags[j][2 + nl] == '\0'))
				return berth_error_set(err, 400, "Duplicate flag specified: %.*s", (int)nl, f + 2);
		}
	}
	return 0;
}

static void upper(const char *s, char *out, size_t outlen)
{
	size_t i = 0;
	for (; s[i] && i + 1 < outlen; i++)
		out[i] = (char)toupper((unsigned char)s[i]);
	out[i] = '\0';
}

static int need_args(const berth_df_instr *in, size_t min, bool exactly, berth_error **err)
{
	char name[16];
	upper(df_cmd_name(in->cmd), name, sizeof(name));
	if (exactly && in->nargs != min)
		return berth_error_set(err, 400, "%s requires exactly one argument", name);
	if (in->nargs < min)
		return berth_error_set(err, 400, "%s requires at least one argument", name);
	return 0;
}

bool df_stage_name_valid(const char *name)
{
	regex_t re;
	regcomp(&re, "^[a-z][a-z0-9_.-]*$", REG_EXTENDED | REG_NOSUB);
	bool ok = regexec(&re, name, 0, NULL, 0) == 0;
	regfree(&re);
	return ok;
}

static int check_from(const berth_df_instr *in, berth_error **err)
{
	if (!(in->nargs == 1 || (in->nargs == 3 && strcasecmp(in->args[1], "as") == 0)))
		return berth_error_set(err, 400, "FROM requires either one or three arguments");
	if (in->nargs == 3 && !df_stage_name_valid(in->args[2])) {
		char *lower cleanup_free = berth_xstrdup(in->args[2]);
		for (char *p = lower; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		if (!df_stage_name_valid(lower))
			return berth_error_set(err, 400, "invalid name for build stage: \"%s\", name can't "
							 "start with a number or contain symbols", in->args[2]);
	}
	return 0;
}

static int check_key_values(const berth_df_instr *in, const char *what, berth_error **err)
{
	if (in->nargs == 0)
		return berth_error_set(err, 400, "%s requires at least one argument", what);
	for (size_t i = 0; i + 1 < in->nargs; i += 2)
		if (in->args[i][0] == '\0')
			return berth_error_set(err, 400, "%s names can not be blank", what);
	return 0;
}

static int check_onbuild(const berth_df_instr *in, berth_error **err)
{
	if (in->sub == NULL)
		return berth_error_set(err, 400, "ONBUILD requires at least one argument");
	switch (in->sub->cmd) {
	case BERTH_DF_ONBUILD:
		return berth_error_set(err, 400, "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
	case BERTH_DF_FROM:
	case BERTH_DF_MAINTAINER:
		return berth_error_set(err, 400, "%s isn't allowed as an ONBUILD trigger",
				       in->sub->cmd == BERTH_DF_FROM ? "FROM" : "MAINTAINER");
	default:
		return df_instr_validate(in->sub, err);
	}
}

/* A healthcheck duration flag: Go's duration, 0 or at least 1ms. */
int df_health_duration(const berth_df_instr *in, const char *name, int64_t *ns, berth_error **err)
{
	const char *v = berth_df_flag(in, name);
	*ns = 0;
	if (v == NULL || *v == '\0')
		return 0;
	berth_error *perr cleanup_error = NULL;
	if (berth_duration_parse(v, ns, &perr) < 0)
		return berth_error_set(err, 400, "time: invalid duration \"%s\"", v);
	if (*ns != 0 && *ns < 1000000)
		return berth_error_set(err, 400, "Interval \"%s\" cannot be less than 1ms", name);
	return 0;
}

static int check_healthcheck(const berth_df_instr *in, berth_error **err)
{
	if (in->nargs == 0)
		return berth_error_set(err, 400, "HEALTHCHECK requires at least one argument");
	if (strcasecmp(in->args[0], "NONE") == 0) {
		if (in->nargs > 1)
			return berth_error_set(err, 400, "HEALTHCHECK NONE takes no arguments");
		return 0;
	}
	if (strcasecmp(in->args[0], "CMD") != 0)
		return berth_error_set(err, 400, "Unknown type \"%s\" in HEALTHCHECK (try CMD)",
				       in->args[0]);
	if (in->nargs < 2 || (!in->json && in->args[1][0] == '\0'))
		return berth_error_set(err, 400, "Missing command after HEALTHCHECK CMD");
	const char *durations[] = {"interval", "timeout", "start-period", "start-interval"};
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(durations); i++) {
		int64_t ns;
		if (df_health_duration(in, durations[i], &ns, err) < 0)
			return -1;
	}
	const char *r = berth_df_flag(in, "retries");
	if (r && *r) {
		char *end;
		long v = strtol(r, &end, 10);
		if (*end)
			return berth_error_set(err, 400, "strconv.ParseInt: parsing \"%s\": invalid syntax", r);
		if (v < 0)
			return berth_error_set(err, 400, "--retries cannot be negative (%ld)", v);
	}
	return 0;
}

int df_instr_validate(const berth_df_instr *in, berth_error **err)
{
	if (check_flags(in, err) < 0)
		return -1;
	switch (in->cmd) {
	case BERTH_DF_ADD:
	case BERTH_DF_COPY:
		if (in->nargs < 2)
			return berth_error_set(err, 400, "%s requires at least two arguments, but only one was "
							 "provided. Destination could not be determined.",
					       in->cmd == BERTH_DF_ADD ? "ADD" : "COPY");
		return 0;
	case BERTH_DF_ARG:
		if (need_args(in, 1, false, err) < 0)
			return -1;
		for (size_t i = 0; i < in->nargs; i++)
			if (in->args[i][0] == '=' || in->args[i][0] == '\0')
				return berth_error_set(err, 400, "ARG names can not be blank");
		return 0;
	case BERTH_DF_ENV:
		return check_key_values(in, "ENV", err);
	case BERTH_DF_LABEL:
		return check_key_values(in, "LABEL", err);
	case BERTH_DF_EXPOSE:
		return need_args(in, 1, false, err);
	case BERTH_DF_FROM:
		return check_from(in, err);
	case BERTH_DF_HEALTHCHECK:
		return check_healthcheck(in, err);
	case BERTH_DF_MAINTAINER:
	case BERTH_DF_STOPSIGNAL:
	case BERTH_DF_USER:
	case BERTH_DF_WORKDIR:
		return need_args(in, 1, true, err);
	case BERTH_DF_ONBUILD:
		return check_onbuild(in, err);
	case BERTH_DF_SHELL:
		if (!in->json)
			return berth_error_set(err, 400, "SHELL requires the arguments to be in JSON form");
		return need_args(in, 1, false, err);
	case BERTH_DF_VOLUME:
		if (need_args(in, 1, false, err) < 0)
			return -1;
		for (size_t i = 0; i < in->nargs; i++)
			if (in->args[i][0] == '\0')
				return berth_error_set(err, 400, "VOLUME specified can not be an empty string");
		return 0;
	default:
		return 0;
	}
}

int df_validate_order(const berth_dockerfile *df, berth_error **err)
{
	for (size_t i = 0; i < df->n; i++) {
		if (df->instrs[i].cmd == BERTH_DF_FROM)
			return 0;
		if (df->instrs[i].cmd != BERTH_DF_ARG)
			return berth_error_set(err, 400, "dockerfile parse error on line %d: no build stage in "
							 "current context", df->instrs[i].start_line);
	}
	return 0;
}
