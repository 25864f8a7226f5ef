/* format.c - --format: templates, "json", "table" layouts and Go's tabwriter. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* ------------------------------------------------------------- tabwriter */

typedef struct tw_cell {
	const char *text;
	size_t len;
	size_t width; /* in runes, as Go counts */
} tw_cell;

typedef struct tw_line {
	tw_cell *cells;
	size_t n;
} tw_line;

typedef struct tabwriter {
	tw_line *lines;
	size_t nlines;
	size_t *widths; /* a stack: the widths of the columns left of the current one */
	size_t nwidths;
	size_t minwidth, padding;
	berth_buf *out;
} tabwriter;

static size_t rune_count(const char *s, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		n += ((unsigned char)s[i] & 0xC0) != 0x80;
	return n;
}

static void tw_add_cell(tw_line *line, const char *text, size_t len)
{
	line->cells = berth_xrealloc(line->cells, (line->n + 1) * sizeof(tw_cell));
	line->cells[line->n++] = (tw_cell){text, len, rune_count(text, len)};
}

/* Splits text into lines of cells; a cell ends at '\t', the text after the
 * last tab of a line is its last cell, and a final empty line has no cell. */
static void tw_split(tabwriter *tw, const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	for (;;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		tw->lines = berth_xrealloc(tw->lines, (tw->nlines + 1) * sizeof(tw_line));
		tw_line *line = &tw->lines[tw->nlines++];
		*line = (tw_line){0};
		const char *cell = p;
		for (const char *q = p; q < eol; q++) {
			if (*q == '\t') {
				tw_add_cell(line, cell, (size_t)(q - cell));
				cell = q + 1;
			}
		}
		if (nl || cell < eol)
			tw_add_cell(line, cell, (size_t)(eol - cell));
		if (nl == NULL)
			break;
		p = nl + 1;
	}
}

static void tw_write_lines(tabwriter *tw, size_t line0, size_t line1)
{
	for (size_t i = line0; i < line1; i++) {
		const tw_line *line = &tw->lines[i];
		for (size_t j = 0; j < line->n; j++) {
			const tw_cell *c = &line->cells[j];
			berth_buf_append(tw->out, c->text, c->len);
			if (j < tw->nwidths)
				for (size_t k = c->width; k < tw->widths[j]; k++)
					berth_buf_append(tw->out, " ", 1);
		}
		if (i + 1 < tw->nlines)
			berth_buf_append(tw->out, "\n", 1);
	}
}

/* Go's Writer.format: column blocks are runs of adjacent lines that have a
 * tab-terminated cell in this column; each is sized, then the columns to its
 * right are formatted recursively. */
static void tw_format(tabwriter *tw, size_t line0, size_t line1)
{
	size_t column = tw->nwidths;
	for (size_t this = line0; this < line1; this++) {
		if (column + 1 >= tw->lines[this].n)
			continue;
		tw_write_lines(tw, line0, this);
		line0 = this;
		size_t width = tw->minwidth;
		for (; this < line1; this++) {
			const tw_line *line = &tw->lines[this];
			if (column + 1 >= line->n)
				break;
			if (line->cells[column].width + tw->padding > width)
				width = line->cells[column].width + tw->padding;
		}
		tw->widths[tw->nwidths++] = width;
		tw_format(tw, line0, this);
		tw->nwidths--;
		line0 = this;
	}
	tw_write_lines(tw, line0, line1);
}

void berth_tabwriter_format(const char *text, size_t len, int minwidth, int padding,
			    berth_buf *out)
{
	tabwriter tw = {.minwidth = (size_t)minwidth, .padding = (size_t)padding, .out = out};
	tw_split(&tw, text, len);
	size_t maxcells = 0;
	for (size_t i = 0; i < tw.nlines; i++)
		if (tw.lines[i].n > maxcells)
			maxcells = tw.lines[i].n;
	tw.widths = berth_xcalloc(maxcells + 1, sizeof(size_t));
	tw_format(&tw, 0, tw.nlines);
	for (size_t i = 0; i < tw.nlines; i++)
		free(tw.lines[i].cells);
	free(tw.lines);
	free(tw.widths);
}

/* --------------------------------------------------------------- formats */

/* Docker's formatter: `\t` and `\n` typed on the command line become real. */
static char *unescape(const char *s)
{
	berth_buf b = {0};
	for (const char *p = s; *p; p++) {
		if (p[0] == '\\' && (p[1] == 't' || p[1] == 'n')) {
			berth_buf_puts(&b, p[1] == 't' ? "\t" : "\n");
			p++;
		} else {
			berth_buf_append(&b, p, 1);
		}
	}
	return berth_buf_steal(&b);
}

static char *trim_spaces(const char *s)
{
	while (*s == ' ')
		s++;
	size_t len = strlen(s);
	while (len > 0 && s[len - 1] == ' ')
		len--;
	return berth_xstrndup(s, len);
}

int berth_format_init(berth_format *f, const char *spec, const char *default_table,
		      berth_error **err)
{
	*f = (berth_format){.kind = BERTH_FORMAT_DEFAULT, .type = f->type,
			    .missingkey_error = f->missingkey_error, .name = f->name};
	if (spec == NULL || *spec == '\0')
		return 0;
	char *text cleanup_free = NULL;
	if (strcmp(spec, "json") == 0) {
		text = berth_xstrdup("{{json .}}");
		f->kind = BERTH_FORMAT_TEMPLATE;
	} else if (default_table == NULL) {
		/* Single-object commands (version, info, events) hand the text to
		 * Go's template parser untouched. */
		text = berth_xstrdup(spec);
		f->kind = BERTH_FORMAT_TEMPLATE;
	} else {
		bool table = berth_str_has_prefix(spec, "table");
		char *trimmed cleanup_free = trim_spaces(table ? spec + 5 : spec);
		/* a bare "table" is the command's own table, with or without its
		 * "table" prefix */
		const char *def = default_table;
		if (berth_str_has_prefix(def, "table"))
			def += strspn(def + 5, " ") + 5;
		if (table && *trimmed == '\0')
			text = unescape(def);
		else
			text = unescape(trimmed);
		f->kind = table ? BERTH_FORMAT_TABLE : BERTH_FORMAT_TEMPLATE;
	}
	if (berth_template_parse_named(f->name ? f->name : "", text, &f->tmpl, err) < 0) {
		f->kind = BERTH_FORMAT_DEFAULT;
		return -1;
	}
	return 0;
}

int berth_format_row_aux(berth_format *f, const json_t *data, const json_t *aux, berth_buf *out,
			 berth_error **err)
{
	berth_buf *dst = (f->kind == BERTH_FORMAT_TABLE) ? &f->text : out;
	berth_template_struct st = {data, f->type, aux};
	berth_template_env env = {.missingkey_error = f->missingkey_error,
				  .structs = &st, .nstructs = f->type ? 1 : 0};
	berth_template_env typed = {.go_type = f->go_type};
	berth_error *typed_err cleanup_error = NULL;
	if (f->go_type && berth_template_execute_env(f->tmpl, data, &typed, dst, &typed_err) == 0) {
		berth_buf_puts(dst, "\n");
		return 0;
	}
	if (berth_template_execute_env(f->tmpl, data, &env, dst, err) < 0)
		return -1;
	berth_buf_puts(dst, "\n");
	return 0;
}

int berth_format_row(berth_format *f, const json_t *data, berth_buf *out, berth_error **err)
{
	return berth_format_row_aux(f, data, data, out, err);
}

static int label_method(const json_t *aux, json_t *const *args, json_t **out)
{
	const char *v = berth_json_string(json_object_get(aux, "Labels"), json_string_value(args[0]));
	*out = json_string(v ? v : "");
	return 0;
}

const berth_template_method berth_cli_label_method[] = {{"Label", 1, label_method}, {0}};

/* docker's SubHeaderContext.Label: the header of a `.Label "com.x.tier"`
 * column is the key's last part, '-' and '_' as spaces. */
static int header_label(const json_t *aux, json_t *const *args, json_t **out)
{
	const char *key = json_string_value(args[0]);
	const char *dot = strrchr(key, '.');
	char *h = berth_xstrdup(dot ? dot + 1 : key);
	for (char *p = h; *p; p++)
		if (*p == '-' || *p == '_')
			*p = ' ';
	*out = json_string(h);
	free(h);
	return 0;
}

static const berth_template_method header_methods[] = {{"Label", 1, header_label}, {0}};
/* docker renders the header from a map of column names, with Label */
static const berth_template_type header_type = {"formatter.SubHeaderContext", false, NULL,
						 header_methods, true};

int berth_format_header(berth_format *f, const json_t *headers, berth_error **err)
{
	if (f->kind != BERTH_FORMAT_TABLE)
		return 0;
	const berth_template_type *type = f->type;
	f->type = &header_type;
	int r = berth_format_row(f, headers, NULL, err);
	f->type = type;
	return r;
}

void berth_format_flush(berth_format *f, berth_buf *out)
{
	if (f->kind != BERTH_FORMAT_TABLE || f->text.len == 0)
		return;
	berth_tabwriter_format(f->text.data, f->text.len, 10, 3, out);
	berth_buf_reset(&f->text);
}

void berth_format_reset(berth_format *f)
{
	berth_template_free(f->tmpl);
	f->tmpl = NULL;
	berth_buf_reset(&f->text);
}

/* ------------------------------------------------ helpers of list rows */

int berth_cli_natural_cmp(const char *a, const char *b)
{
	while (*a && *b) {
		bool da = isdigit((unsigned char)*a), db = isdigit((unsigned char)*b);
		if (da != db)
			return da ? -1 : 1;
		if (!da) {
			if (*a != *b)
				return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
			a++, b++;
			continue;
		}
		const char *za = a, *zb = b;
		while (*a == '0')
			a++;
		while (*b == '0')
			b++;
		const char *na = a, *nb = b;
		while (isdigit((unsigned char)*a))
			a++;
		while (isdigit((unsigned char)*b))
			b++;
		if (a - na != b - nb)
			return a - na < b - nb ? -1 : 1;
		int c = strncmp(na, nb, (size_t)(a - na));
		if (c != 0)
			return c;
		if (na - za != nb - zb) /* fewer leading zeros first */
			return na - za < nb - zb ? -1 : 1;
	}
	return *a ? 1 : *b ? -1 : 0;
}

static int by_str(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

char *berth_cli_joined_keys(const json_t *obj, bool with_values)
{
	size_t n = json_is_object(obj) ? json_object_size(obj) : 0, i = 0;
	char **items = berth_xcalloc(n + 1, sizeof(*items));
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)obj, k, v) items[i++] = with_values
		? berth_xasprintf("%s=%s", k, json_is_string(v) ? json_string_value(v) : "")
		: berth_xstrdup(k);
	qsort(items, n, sizeof(*items), by_str);
	berth_buf b = {0};
	berth_buf_puts(&b, "");
	for (i = 0; i < n; i++)
		berth_buf_printf(&b, "%s%s", i ? "," : "", items[i]);
	berth_strv_free(items);
	return berth_buf_steal(&b);
}

static int by_name(const void *x, const void *y)
{
	return berth_cli_natural_cmp(berth_cli_str(*(json_t *const *)x, "Name"),
				     berth_cli_str(*(json_t *const *)y, "Name"));
}

/* The format a named list is printed in: --format, else (without -q) the
 * configured one, else "table"; as docker's New*Format, a bare "table" is the
 * command's table, or the quiet column with -q. */
static const char *named_list_format(berth_cli *cli, const berth_named_list *l, char **config)
{
	const char *format = l->format;
	if (!l->quiet && (format == NULL || *format == '\0'))
		format = *config = berth_cli_config_string(cli, l->config_key);
	if (format == NULL || *format == '\0')
		format = "table";
	return strcmp(format, "table") == 0 && l->quiet ? l->quiet_format : format;
}

int berth_cli_print_named_list(berth_cli *cli, const berth_named_list *l)
{
	berth_filters *f cleanup_filters = berth_cli_filters_parse(l->filters);
	char *query cleanup_free = berth_cli_filters_param(f, '?');
	char *path cleanup_free = berth_xasprintf("%s%s", l->path, query);
	json_t *answer cleanup_json = NULL;
	berth_error *err cleanup_error = NULL;
	if (berth_cli_get_json(cli, path, &answer, &err) < 0)
		return berth_cli_fail(cli, &err, BERTH_EXIT_ERROR);
	const json_t *objects = l->member ? json_object_get(answer, l->member) : answer;
	char *config_format cleanup_free = NULL;
	const char *format = named_list_format(cli, l, &config_format);
	berth_format fmt cleanup_format = {.type = l->type};
	if (berth_format_init(&fmt, format, l->table, &err) < 0) {
		berth_error_wrap(&err, "template parsing error");
		return berth_cli_fail(cli, &err, BERTH_EXIT_ERROR);
	}
	size_t n = json_array_size(objects);
	json_t **items = berth_xcalloc(n + 1, sizeof(*items));
	for (size_t i = 0; i < n; i++)
		items[i] = json_array_get(objects, i);
	qsort(items, n, sizeof(*items), by_name);
	berth_buf out cleanup_buf = {0};
	int r = berth_format_header(&fmt, l->headers, &err);
	for (size_t i = 0; i < n && r == 0; i++) {
		json_t *row cleanup_json = l->row_of(items[i], l->ud);
		r = berth_format_row_aux(&fmt, row, items[i], &out, &err);
	}
	free(items);
	if (r < 0) {
		berth_error_wrap(&err, "template parsing error");
		return berth_cli_fail(cli, &err, BERTH_EXIT_ERROR);
	}
	berth_format_flush(&fmt, &out);
	berth_cli_write(cli, &out);
	return BERTH_EXIT_OK;
}

int berth_cli_format_init(berth_cli *cli, berth_format *f, const char *spec)
{
	berth_error *err cleanup_error = NULL;
	if (berth_format_init(f, spec, NULL, &err) == 0)
		return BERTH_EXIT_OK;
	berth_error_wrap(&err, "template parsing error");
	return berth_cli_fail(cli, &err, BERTH_EXIT_TEMPLATE);
}
