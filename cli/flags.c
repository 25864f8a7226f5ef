/* flags.c - a small flag parser with spf13/pflag's syntax, messages and help layout. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void berth_strlist_push(berth_strlist *l, const char *s)
{
	l->v = berth_xrealloc(l->v, (l->n + 2) * sizeof(char *));
	l->v[l->n++] = berth_xstrdup(s);
	l->v[l->n] = NULL;
}

void berth_strlist_reset(berth_strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int berth_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
	static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(yes); i++) {
		if (strcmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

/* "-f, --filter" or "--since", as pflag names a flag in its errors. */
static char *flag_display(const berth_flag *f)
{
	if (f->shorthand)
		return berth_xasprintf("-%c, --%s", f->shorthand, f->name);
	return berth_xasprintf("--%s", f->name);
}

static int invalid_argument(const berth_flag *f, const char *value, const char *why,
			    berth_error **err)
{
	char *name cleanup_free = flag_display(f);
	return berth_error_set(err, 400, "invalid argument \"%s\" for \"%s\" flag: %s", value, name,
			       why);
}

static int flag_set(berth_flag *f, const char *value, berth_error **err)
{
	if (f->check) {
		berth_error *cerr cleanup_error = NULL;
		if (f->check(value, &cerr) < 0)
			return invalid_argument(f, value, cerr->msg, err);
	}
	switch (f->type) {
	case BERTH_FLAG_BOOL: {
		bool b;
		if (berth_parse_bool(value, &b) < 0) {
			char *why cleanup_free = berth_xasprintf(
				"strconv.ParseBool: parsing \"%s\": invalid syntax", value);
			return invalid_argument(f, value, why, err);
		}
		*(bool *)f->value = b;
		break;
	}
	case BERTH_FLAG_STRING:
		*(const char **)f->value = value;
		break;
	case BERTH_FLAG_LIST:
		berth_strlist_push(f->value, value);
		break;
	}
	f->changed = true;
	return 0;
}

static berth_flag *find_long(berth_flag *flags, size_t n, const char *name, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(flags[i].name) == len && strncmp(flags[i].name, name, len) == 0)
			return &flags[i];
	return NULL;
}

static berth_flag *find_short(berth_flag *flags, size_t n, char c)
{
	for (size_t i = 0; i < n; i++)
		if (flags[i].shorthand == c)
			return &flags[i];
	return NULL;
}

/* "--name", "--name=value"; *i advances past a separate value. */
static int parse_long(berth_flag *flags, size_t n, int argc, char **argv, int *i,
		      berth_error **err)
{
	const char *arg = argv[*i] + 2;
	const char *eq = strchr(arg, '=');
	size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
	if (len == 4 && strncmp(arg, "help", 4) == 0)
		return BERTH_FLAGS_HELP;
	berth_flag *f = find_long(flags, n, arg, len);
	if (f == NULL)
		return berth_error_set(err, 400, "unknown flag: --%.*s", (int)len, arg);
	if (eq)
		return flag_set(f, eq + 1, err);
	if (f->type == BERTH_FLAG_BOOL)
		return flag_set(f, "true", err);
	if (*i + 1 >= argc)
		return berth_error_set(err, 400, "flag needs an argument: --%s", f->name);
	return flag_set(f, argv[++*i], err);
}

/* "-abc", "-fvalue", "-f value", "-f=value". */
static int parse_short(berth_flag *flags, size_t n, int argc, char **argv, int *i,
		       bool *short_help, berth_error **err)
{
	const char *arg = argv[*i];
	for (const char *p = arg + 1; *p; p++) {
		if (*p == 'h' && find_short(flags, n, 'h') == NULL) {
			if (short_help)
				*short_help = true;
			return BERTH_FLAGS_HELP;
		}
		berth_flag *f = find_short(flags, n, *p);
		if (f == NULL)
			return berth_error_set(err, 400, "unknown shorthand flag: '%c' in %s", *p, arg);
		const char *rest = p + 1;
		if (f->type == BERTH_FLAG_BOOL && *rest != '=') {
			if (flag_set(f, "true", err) < 0)
				return -1;
			continue;
		}
		if (*rest == '=')
			rest++;
		if (*rest || p[1] == '=')
			return flag_set(f, rest, err);
		if (*i + 1 >= argc)
			return berth_error_set(err, 400, "flag needs an argument: '%c' in -%c", *p, *p);
		return flag_set(f, argv[++*i], err);
	}
	return 0;
}

int berth_flags_parse(berth_flag *flags, size_t nflags, bool interspersed, int argc,
		      char **argv, berth_strlist *args, bool *short_help, berth_error **err)
{
	bool help = false;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0) {
			for (i++; i < argc; i++)
				berth_strlist_push(args, argv[i]);
			break;
		}
		if (a[0] != '-' || a[1] == '\0') {
			berth_strlist_push(args, a);
			if (interspersed)
				continue;
			for (i++; i < argc; i++)
				berth_strlist_push(args, argv[i]);
			break;
		}
		int r = (a[1] == '-') ? parse_long(flags, nflags, argc, argv, &i, err)
				      : parse_short(flags, nflags, argc, argv, &i, short_help, err);
		if (r < 0)
			return -1;
		if (r == BERTH_FLAGS_HELP)
			help = true;
	}
	return help ? BERTH_FLAGS_HELP : 0;
}

/* ------------------------------------------------------------------ help */

/* pflag's wrapN: splits s at whitespace before i bytes, or takes it all when
 * it fits within i + slop. */
static size_t wrap_n(size_t i, size_t slop, const char *s, size_t len, size_t *skip)
{
	*skip = 0;
	if (i + slop > len)
		return len;
	size_t w = 0;
	bool found = false;
	for (size_t k = i; k-- > 0;) {
		if (s[k] == ' ' || s[k] == '\t' || s[k] == '\n') {
			w = k;
			found = true;
			break;
		}
	}
	if (!found || w == 0)
		return len;
	*skip = 1;
	if (s[w] == '\n')
		return w;
	for (size_t k = w; k-- > 1;) {
		if (s[k] == '\n') {
			return k;
		}
	}
	return w;
}

static void put_indented(berth_buf *out, const char *s, size_t len, size_t indent)
{
	for (size_t k = 0; k < len; k++) {
		berth_buf_append(out, &s[k], 1);
		if (s[k] == '\n')
			for (size_t j = 0; j < indent; j++)
				berth_buf_puts(out, " ");
	}
}

/* pflag's wrap(i, w, s): the first line is already indented by the caller. */
static void wrap_text(size_t indent, int cols, const char *s, berth_buf *out)
{
	size_t len = strlen(s);
	if (cols <= 0) {
		put_indented(out, s, len, indent);
		return;
	}
	long width = cols - (long)indent;
	if (width < 24) {
		indent = 16;
		width = cols - 16;
		berth_buf_puts(out, "\n");
		for (size_t j = 0; j < indent; j++)
			berth_buf_puts(out, " ");
	}
	if (width < 24) {
		put_indented(out, s, len, indent);
		return;
	}
	size_t slop = 5, wrap = (size_t)width - slop, skip;
	bool first = true;
	while (first || len > 0) {
		size_t take = wrap_n(wrap, slop, s, len, &skip);
		if (!first) {
			berth_buf_puts(out, "\n");
			for (size_t j = 0; j < indent; j++)
				berth_buf_puts(out, " ");
		}
		put_indented(out, s, take, indent);
		s += take + skip;
		len -= take + skip;
		first = false;
	}
}

static const char *type_name(const berth_flag *f)
{
	if (f->type_name)
		return f->type_name;
	switch (f->type) {
	case BERTH_FLAG_STRING:
		return "string";
	case BERTH_FLAG_LIST:
		return "list";
	case BERTH_FLAG_BOOL:
		break;
	}
	return "";
}

static int by_name(const void *a, const void *b)
{
	const berth_flag *const *fa = a, *const *fb = b;
	return strcmp((*fa)->name, (*fb)->name);
}

void berth_flags_usage(const berth_flag *flags, size_t nflags, int cols, berth_buf *out)
{
	const berth_flag **sorted = berth_xcalloc(nflags + 1, sizeof(*sorted));
	char **heads = berth_xcalloc(nflags + 1, sizeof(*heads));
	size_t maxlen = 0, shown = 0;
	for (size_t i = 0; i < nflags; i++)
		if (!flags[i].hidden)
			sorted[shown++] = &flags[i];
	nflags = shown;
	qsort(sorted, nflags, sizeof(*sorted), by_name);
	for (size_t i = 0; i < nflags; i++) {
		const berth_flag *f = sorted[i];
		const char *t = type_name(f);
		if (f->shorthand)
			heads[i] = berth_xasprintf("  -%c, --%s%s%s", f->shorthand, f->name,
						   *t ? " " : "", t);
		else
			heads[i] = berth_xasprintf("      --%s%s%s", f->name, *t ? " " : "", t);
		/* pflag counts the separator it puts after the head. */
		if (strlen(heads[i]) + 1 > maxlen)
			maxlen = strlen(heads[i]) + 1;
	}
	for (size_t i = 0; i < nflags; i++) {
		const berth_flag *f = sorted[i];
		berth_buf usage = {0};
		berth_buf_puts(&usage, f->usage ? f->usage : "");
		/* pflag quotes the default of string flags only ("int" shows -1) */
		if (f->def && f->type == BERTH_FLAG_STRING &&
		    (f->type_name == NULL || strcmp(f->type_name, "string") == 0))
			berth_buf_printf(&usage, " (default \"%s\")", f->def);
		else if (f->def)
			berth_buf_printf(&usage, " (default %s)", f->def);
		berth_buf_printf(out, "%s %*s ", heads[i], (int)(maxlen - strlen(heads[i])), "");
		wrap_text(maxlen + 2, cols, usage.data ? usage.data : "", out);
		berth_buf_puts(out, "\n");
		berth_buf_reset(&usage);
		free(heads[i]);
	}
	free(heads);
	free(sorted);
}
