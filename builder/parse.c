/*
 * parse.c - Dockerfile text to instructions, with the rules of dockerd's
 * parser: directives, continuations, comments, builder flags and the
 * argument shape of each instruction. Validation of each instruction is in
 * instr.c.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Go's unicode.IsSpace over ASCII (what matters in a Dockerfile). */
bool df_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static void strv_push(char ***v, size_t *n, char *s)
{
	*v = berth_xrealloc(*v, (*n + 2) * sizeof(char *));
	(*v)[(*n)++] = s;
	(*v)[*n] = NULL;
}

/* ------------------------------------------------------------- flags */

/* Leading "--name=value" words; returns where the arguments start. */
static const char *extract_flags(const char *line, char ***flags)
{
	size_t n = 0;
	*flags = berth_xcalloc(1, sizeof(char *));
	const char *p = line;
	for (;;) {
		while (*p && df_space(*p))
			p++;
		if (p[0] != '-' || p[1] != '-')
			return p;
		berth_buf w cleanup_buf = {0};
		berth_buf_puts(&w, "");
		bool blank_ok = false;
		char quote = 0;
		const char *q = p;
		for (; *q && (quote || !df_space(*q)); q++) {
			char ch = *q;
			if (quote) {
				if (ch == quote) {
					quote = 0;
					continue;
				}
			} else if (ch == '\'' || ch == '"') {
				quote = ch;
				blank_ok = true;
				continue;
			}
			if (ch == '\\') {
				if (q[1] == '\0')
					continue;
				ch = *++q;
			}
			berth_buf_append(&w, &ch, 1);
		}
		if (strcmp(w.data, "--") == 0)
			return q;
		if (blank_ok || w.len)
			strv_push(flags, &n, berth_buf_steal(&w));
		p = q;
		if (*p == '\0')
			return p;
	}
}

/* ------------------------------------------------------------ words */

/* Splits on whitespace keeping quotes and escapes in the words, as
 * dockerd's parseWords does for ENV, LABEL and ARG. */
char **df_parse_words(const char *rest, char escape, size_t *count)
{
	char **words = berth_xcalloc(1, sizeof(char *));
	size_t n = 0;
	berth_buf w cleanup_buf = {0};
	berth_buf_puts(&w, "");
	enum { SPACES, WORD, QUOTE } phase = SPACES;
	char quote = 0;
	bool blank_ok = false;
	size_t len = strlen(rest);
	for (size_t pos = 0; pos <= len; pos++) {
		char ch = pos < len ? rest[pos] : 0;
		if (phase == SPACES) {
			if (pos == len)
				break;
			if (df_space(ch))
				continue;
			phase = WORD;
		}
		if (pos == len) {
			if (blank_ok || w.len)
				strv_push(&words, &n, berth_buf_steal(&w));
			break;
		}
		if (phase == WORD) {
			if (df_space(ch)) {
				phase = SPACES;
				if (blank_ok || w.len)
					strv_push(&words, &n, berth_buf_steal(&w));
				berth_buf_reset(&w);
				berth_buf_puts(&w, "");
				blank_ok = false;
				continue;
			}
			if (ch == '\'' || ch == '"') {
				quote = ch;
				blank_ok = true;
				phase = QUOTE;
			}
			if (ch == escape) {
				if (pos + 1 == len)
					continue;
				berth_buf_append(&w, &ch, 1);
				ch = rest[++pos];
			}
			berth_buf_append(&w, &ch, 1);
			continue;
		}
		if (ch == quote)
			phase = WORD;
		if (ch == escape && quote != '\'') {
			if (pos + 1 == len) {
				phase = WORD;
				continue;
			}
			berth_buf_append(&w, &ch, 1);
			ch = rest[++pos];
		}
		berth_buf_append(&w, &ch, 1);
	}
	*count = n;
	return words;
}

/* ------------------------------------------------------------- JSON */

typedef enum { JSON_OK, JSON_NOT_JSON, JSON_NOT_STRINGS } json_form;

static json_form parse_json_form(const char *rest, char ***argv, size_t *argc)
{
	while (*rest && df_space(*rest))
		rest++;
	if (*rest != '[')
		return JSON_NOT_JSON;
	json_t *arr cleanup_json = json_loads(rest, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	if (!json_is_array(arr))
		return JSON_NOT_JSON;
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v))
			return JSON_NOT_STRINGS;
	}
	*argv = berth_xcalloc(json_array_size(arr) + 1, sizeof(char *));
	json_array_foreach(arr, i, v)
		(*argv)[i] = berth_xstrndup(json_string_value(v), json_string_length(v));
	*argc = json_array_size(arr);
	return JSON_OK;
}

static int not_strings(berth_error **err)
{
	return berth_error_set(err, 400, "when using JSON array syntax, arrays must be comprised of strings only");
}

/* --------------------------------------------- per-instruction shapes */

typedef int (*arg_parser)(const char *rest, char escape, berth_df_instr *in, berth_error **err);

static void set_one(berth_df_instr *in, const char *s)
{
	in->args = berth_xcalloc(2, sizeof(char *));
	if (*s) {
		in->args[0] = berth_xstrdup(s);
		in->nargs = 1;
	}
}

static int parse_string(const char *rest, char escape, berth_df_instr *in, berth_error **err)
{
	set_one(in, rest);
	return 0;
}

static int parse_maybe_json(const char *rest, char escape, berth_df_instr *in, berth_error **err)
{
	if (*rest == '\0') {
		set_one(in, "");
		return 0;
	}
	switch (parse_json_form(rest, &in->args, &in->nargs)) {
	case JSON_OK:
		in->json = true;
		return 0;
	case JSON_NOT_STRINGS:
		return not_strings(err);
	default:
		set_one(in, rest);
		return 0;
	}
}

static int parse_whitespace_list(const char *rest, char escape, berth_df_instr *in,
				 berth_error **err)
{
	in->args = berth_xcalloc(1, sizeof(char *));
	const char *p = rest;
	while (*p) {
		while (*p && (df_space(*p) && *p != '\n'))
			p++;
		const char *start = p;
		while (*p && !(df_space(*p) && *p != '\n'))
			p++;
		if (p > start)
			strv_push(&in->args, &in->nargs, berth_xstrndup(start, (size_t)(p - start)));
	}
	return 0;
}

static int parse_maybe_json_list(const char *rest, char escape, berth_df_instr *in,
				 berth_error **err)
{
	switch (parse_json_form(rest, &in->args, &in->nargs)) {
	case JSON_OK:
		in->json = true;
		return 0;
	case JSON_NOT_STRINGS:
		return not_strings(err);
	default:
		return parse_whitespace_list(rest, escape, in, err);
	}
}

/* ENV and LABEL: "KEY value" (old form) or "K=v K2=v2". */
static int parse_name_val(const char *rest, char escape, berth_df_instr *in, berth_error **err)
{
	size_t n = 0;
	char **words = df_parse_words(rest, escape, &n);
	in->args = berth_xcalloc(1, sizeof(char *));
	const char *key = in->cmd == BERTH_DF_ENV ? "ENV" : "LABEL";
	int rc = 0;
	if (n == 0) {
		if (*rest)
			rc = berth_error_set(err, 400, "%s requires at least one argument", key);
	} else if (strchr(words[0], '=') == NULL) {
		const char *p = rest;
		while (*p && !df_space(*p))
			p++;
		const char *v = p;
		while (*v && df_space(*v))
			v++;
		if (*v == '\0') {
			rc = berth_error_set(err, 400, "%s must have two arguments", key);
		} else {
			strv_push(&in->args, &in->nargs, berth_xstrndup(rest, (size_t)(p - rest)));
			strv_push(&in->args, &in->nargs, berth_xstrdup(v));
		}
	} else {
		for (size_t i = 0; i < n && rc == 0; i++) {
			char *eq = strchr(words[i], '=');
			if (eq == NULL) {
				rc = berth_error_set(err, 400, "Syntax error - can't find = in \"%s\". "
							       "Must be of the form: name=value", words[i]);
				break;
			}
			strv_push(&in->args, &in->nargs, berth_xstrndup(words[i], (size_t)(eq - words[i])));
			strv_push(&in->args, &in->nargs, berth_xstrdup(eq + 1));
		}
	}
	berth_strv_free(words);
	return rc;
}

static int parse_arg_words(const char *rest, char escape, berth_df_instr *in, berth_error **err)
{
	in->args = df_parse_words(rest, escape, &in->nargs);
	return 0;
}

static int parse_healthcheck(const char *rest, char escape, berth_df_instr *in, berth_error **err)
{
	const char *sep = rest;
	while (*sep && !df_space(*sep))
		sep++;
	if (sep == rest) {
		in->args = berth_xcalloc(1, sizeof(char *));
		return 0;
	}
	const char *next = sep;
	while (*next && df_space(*next))
		next++;
	berth_df_instr cmd = {.cmd = BERTH_DF_CMD};
	if (parse_maybe_json(next, escape, &cmd, err) < 0) {
		berth_df_instr_reset(&cmd);
		return -1;
	}
	in->args = berth_xcalloc(cmd.nargs + 2, sizeof(char *));
	in->args[0] = berth_xstrndup(rest, (size_t)(sep - rest));
	for (size_t i = 0; i < cmd.nargs; i++)
		in->args[i + 1] = berth_steal_ptr(&cmd.args[i]);
	in->nargs = cmd.nargs + 1;
	in->json = cmd.json;
	berth_df_instr_reset(&cmd);
	return 0;
}

static int parse_onbuild(const char *rest, char escape, berth_df_instr *in, berth_error **err)
{
	set_one(in, rest);
	if (*rest == '\0')
		return 0;
	in->sub = berth_xcalloc(1, sizeof(*in->sub));
	return berth_df_instr_parse(rest, escape, in->sub, err);
}

static const struct {
	const char *name;
	berth_df_cmd cmd;
	arg_parser parse;
} instructions[] = {
	{"add", BERTH_DF_ADD, parse_maybe_json_list},
	{"arg", BERTH_DF_ARG, parse_arg_words},
	{"cmd", BERTH_DF_CMD, parse_maybe_json},
	{"copy", BERTH_DF_COPY, parse_maybe_json_list},
	{"entrypoint", BERTH_DF_ENTRYPOINT, parse_maybe_json},
	{"env", BERTH_DF_ENV, parse_name_val},
	{"expose", BERTH_DF_EXPOSE, parse_whitespace_list},
	{"from", BERTH_DF_FROM, parse_whitespace_list},
	{"healthcheck", BERTH_DF_HEALTHCHECK, parse_healthcheck},
	{"label", BERTH_DF_LABEL, parse_name_val},
	{"maintainer", BERTH_DF_MAINTAINER, parse_string},
	{"onbuild", BERTH_DF_ONBUILD, parse_onbuild},
	{"run", BERTH_DF_RUN, parse_maybe_json},
	{"shell", BERTH_DF_SHELL, parse_maybe_json},
	{"stopsignal", BERTH_DF_STOPSIGNAL, parse_string},
	{"user", BERTH_DF_USER, parse_string},
	{"volume", BERTH_DF_VOLUME, parse_maybe_json_list},
	{"workdir", BERTH_DF_WORKDIR, parse_string},
};

const char *df_cmd_name(berth_df_cmd cmd)
{
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(instructions); i++)
		if (instructions[i].cmd == cmd)
			return instructions[i].name;
	return "?";
}

/* Levenshtein distance, for "did you mean" on unknown instructions. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 32 || lb > 32)
		return 99;
	size_t d[33][33];
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			d[i][j] = best;
		}
	return d[la][lb];
}

static int unknown_instruction(const char *name, berth_error **err)
{
	char *upper cleanup_free = berth_xstrdup(name);
	char *lower cleanup_free = berth_xstrdup(name);
	for (char *p = upper; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	for (char *p = lower; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	/* close enough to be a typo: one edit per three letters */
	const char *best = NULL;
	size_t best_d = strlen(lower) / 3 + 1;
	if (best_d < 2)
		best_d = 2;
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(instructions); i++) {
		size_t d = edit_distance(lower, instructions[i].name);
		if (d < best_d) {
			best_d = d;
			best = instructions[i].name;
		}
	}
	if (best)
		return berth_error_set(err, 400, "unknown instruction: %s (did you mean %s?)", upper, best);
	return berth_error_set(err, 400, "unknown instruction: %s", upper);
}

int berth_df_instr_parse(const char *line, char escape, berth_df_instr *out, berth_error **err)
{
	const char *p = line;
	while (*p && df_space(*p))
		p++;
	const char *end = p + strlen(p);
	while (end > p && df_space(end[-1]))
		end--;
	char *trimmed cleanup_free = berth_xstrndup(p, (size_t)(end - p));
	size_t nlen = 0;
	while (trimmed[nlen] && !df_space(trimmed[nlen]))
		nlen++;
	out->name = berth_xstrndup(trimmed, nlen);
	out->original = berth_xstrdup(trimmed);
	const char *rest = extract_flags(trimmed + nlen, &out->flags);
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(instructions); i++) {
		if (strcasecmp(out->name, instructions[i].name) == 0) {
			out->cmd = instructions[i].cmd;
			return instructions[i].parse(rest, escape, out, err);
		}
	}
	return unknown_instruction(out->name, err);
}

void berth_df_instr_reset(berth_df_instr *in)
{
	free(in->name);
	free(in->original);
	berth_strv_free(in->flags);
	berth_strv_free(in->args);
	if (in->sub) {
		berth_df_instr_reset(in->sub);
		free(in->sub);
	}
	memset(in, 0, sizeof(*in));
}

const char *berth_df_flag(const berth_df_instr *in, const char *name)
{
	size_t nl = strlen(name);
	for (char **f = in->flags; f && *f; f++) {
		const char *s = *f + 2;
		if (strncmp(s, name, nl) == 0 && (s[nl] == '=' || s[nl] == '\0'))
			return s[nl] == '=' ? s + nl + 1 : "";
	}
	return NULL;
}

/* ------------------------------------------------------------- lines */

typedef struct line_reader {
	const char *data;
	size_t len, pos;
	int lineno;
} line_reader;

/* The next line without its newline (and a trailing '\r'). */
static bool next_line(line_reader *r, const char **s, size_t *n)
{
	if (r->pos >= r->len)
		return false;
	const char *start = r->data + r->pos;
	const char *nl = memchr(start, '\n', r->len - r->pos);
	size_t l = nl ? (size_t)(nl - start) : r->len - r->pos;
	r->pos += l + (nl ? 1 : 0);
	if (l && start[l - 1] == '\r')
		l--;
	*s = start;
	*n = l;
	r->lineno++;
	return true;
}

static bool is_comment(const char *s, size_t n)
{
	size_t i = 0;
	while (i < n && df_space(s[i]))
		i++;
	return i < n && s[i] == '#';
}

static bool is_blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!df_space(s[i]))
			return false;
	return true;
}

/* Strips a trailing escape (plus blanks after it): true when the line
 * continues. */
static bool trim_continuation(berth_buf *line, char escape)
{
	size_t l = line->len;
	while (l && (line->data[l - 1] == ' ' || line->data[l - 1] == '\t'))
		l--;
	if (l == 0 || line->data[l - 1] != escape)
		return false;
	line->len = l - 1;
	line->data[line->len] = '\0';
	return true;
}

static size_t skip_space(const char *s, size_t i, size_t n)
{
	while (i < n && df_space(s[i]))
		i++;
	return i;
}

/* "# key = value" while directives are still allowed; anything else ends
 * them. */
static int directive(berth_dockerfile *df, const char *s, size_t n, bool *done, bool seen[2],
		     berth_error **err)
{
	size_t i = skip_space(s, 0, n);
	*done = true;
	if (i >= n || s[i] != '#')
		return 0;
	i = skip_space(s, i + 1, n);
	size_t ks = i;
	if (i >= n || !isalpha((unsigned char)s[i]))
		return 0;
	while (i < n && isalnum((unsigned char)s[i]))
		i++;
	size_t ke = i;
	i = skip_space(s, i, n);
	if (i >= n || s[i] != '=')
		return 0;
	i = skip_space(s, i + 1, n);
	size_t ve = n;
	while (ve > i && df_space(s[ve - 1]))
		ve--;
	if (ve == i)
		return 0;
	*done = false;
	char *key cleanup_free = berth_xstrndup(s + ks, ke - ks);
	char *val cleanup_free = berth_xstrndup(s + i, ve - i);
	for (char *p = key; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	int which = strcmp(key, "escape") == 0 ? 0 : strcmp(key, "syntax") == 0 ? 1 : -1;
	if (which < 0) {
		*done = true; /* an unknown directive is a comment: none may follow */
		return 0;
	}
	if (seen[which])
		return berth_error_set(err, 400, "only one %s parser directive can be used", key);
	seen[which] = true;
	if (which == 1) {
		df->syntax = berth_steal_ptr(&val);
		return 0;
	}
	if (strcmp(val, "`") != 0 && strcmp(val, "\\") != 0)
		return berth_error_set(err, 400, "invalid escape token '%s' does not validate", val);
	df->escape = val[0];
	return 0;
}

static int add_instr(berth_dockerfile *df, const char *line, int start, int end, berth_error **err)
{
	df->instrs = berth_xrealloc(df->instrs, (df->n + 1) * sizeof(*df->instrs));
	berth_df_instr *in = &df->instrs[df->n];
	memset(in, 0, sizeof(*in));
	in->start_line = start;
	in->end_line = end;
	df->n++;
	if (berth_df_instr_parse(line, df->escape, in, err) < 0)
		return -1;
	return df_instr_validate(in, err);
}

static int parse_lines(berth_dockerfile *df, const char *data, size_t len, berth_error **err)
{
	line_reader r = {.data = data, .len = len};
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		r.pos = 3;
	bool directives_done = false, seen[2] = {false, false};
	size_t nwarn = 0;
	const char *s;
	size_t n;
	while (next_line(&r, &s, &n)) {
		if (!directives_done && directive(df, s, n, &directives_done, seen, err) < 0)
			return berth_error_wrap(err, "dockerfile parse error on line %d", r.lineno);
		if (is_comment(s, n) || is_blank(s, n))
			continue;
		int start = r.lineno;
		berth_buf line cleanup_buf = {0};
		size_t i = 0;
		while (i < n && df_space(s[i]))
			i++;
		berth_buf_append(&line, s + i, n - i);
		bool empty_cont = false;
		bool more = trim_continuation(&line, df->escape);
		while (more && next_line(&r, &s, &n)) {
			if (is_comment(s, n))
				continue;
			if (is_blank(s, n)) {
				empty_cont = true;
				continue;
			}
			berth_buf cont cleanup_buf = {0};
			berth_buf_append(&cont, s, n);
			more = trim_continuation(&cont, df->escape);
			berth_buf_append(&line, cont.data, cont.len);
		}
		if (line.len == 0 || is_blank(line.data, line.len))
			continue;
		if (empty_cont) {
			df->warnings = berth_xrealloc(df->warnings, (nwarn + 2) * sizeof(char *));
			df->warnings[nwarn++] = berth_xasprintf("[WARNING]: Empty continuation line found in: %s",
								line.data);
			df->warnings[nwarn] = NULL;
		}
		if (add_instr(df, line.data, start, r.lineno, err) < 0)
			return berth_error_wrap(err, "dockerfile parse error on line %d", start);
	}
	return 0;
}

int berth_dockerfile_parse(const char *data, size_t len, berth_dockerfile **out, berth_error **err)
{
	if (len == 0)
		return berth_error_set(err, 400, "the Dockerfile (Dockerfile) cannot be empty");
	berth_dockerfile *df cleanup_dockerfile = berth_xcalloc(1, sizeof(*df));
	df->escape = '\\';
	if (parse_lines(df, data, len, err) < 0)
		return -1;
	if (df->n == 0)
		return berth_error_set(err, 400, "file with no instructions");
	if (df_validate_order(df, err) < 0)
		return -1;
	*out = berth_steal_ptr(&df);
	return 0;
}

void berth_dockerfile_free(berth_dockerfile *df)
{
	if (df == NULL)
		return;
	for (size_t i = 0; i < df->n; i++)
		berth_df_instr_reset(&df->instrs[i]);
	free(df->instrs);
	free(df->syntax);
	berth_strv_free(df->warnings);
	free(df);
}

void berth_cleanup_dockerfile(berth_dockerfile **df)
{
	berth_dockerfile_free(*df);
}
