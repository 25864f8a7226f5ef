/*
 * yaml.c - Compose files in and out: libfyaml documents become JSON trees
 * (with the line of every field kept aside for errors), and canonical trees
 * are printed back as block YAML the way `docker compose config` prints them.
 */
#include <ctype.h>
#include <errno.h>
#include <libfyaml.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* --------------------------------------------------------------- positions */

char *compose_pos_at(const compose_pos *pos, const char *path)
{
	const char *at = pos && pos->map ? berth_json_string(pos->map, path) : NULL;
	return at ? berth_xasprintf("%s: ", at) : berth_xstrdup("");
}

int compose_error_at(berth_error **err, const compose_pos *pos, const char *path,
		     const char *fmt, ...)
{
	char *at cleanup_free = compose_pos_at(pos, path);
	va_list ap;
	berth_buf b cleanup_buf = {0};
	va_start(ap, fmt);
	berth_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	return berth_error_set(err, 400, "%s%s", at, b.data);
}

static void pos_record(compose_pos *pos, const char *name, const char *path, struct fy_node *n)
{
	struct fy_token *t = n ? fy_node_get_scalar_token(n) : NULL;
	const struct fy_mark *m = t ? fy_token_start_mark(t) : NULL;
	if (pos == NULL || pos->map == NULL || m == NULL)
		return;
	json_object_set_new(pos->map, path, json_sprintf("%s:%d", name, m->line + 1));
}

/* ------------------------------------------------------------------ input */

/* YAML 1.2 core schema for plain scalars: null, booleans, integers, floats. */
static json_t *plain_scalar(const char *s, size_t len)
{
	char *v cleanup_free = berth_xstrndup(s, len);
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};
	static const char *const trues[] = {"true", "True", "TRUE"};
	static const char *const falses[] = {"false", "False", "FALSE"};
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(nulls); i++)
		if (strcmp(v, nulls[i]) == 0)
			return json_null();
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(trues); i++) {
		if (strcmp(v, trues[i]) == 0)
			return json_true();
		if (strcmp(v, falses[i]) == 0)
			return json_false();
	}
	char *end;
	errno = 0;
	if (isdigit((unsigned char)v[0]) || ((v[0] == '-' || v[0] == '+') && isdigit((unsigned char)v[1]))) {
		long long i = strtoll(v, &end, 0);
		if (*end == '\0' && errno == 0 && !(v[0] == '0' && v[1] && isdigit((unsigned char)v[1])))
			return json_integer(i);
		errno = 0;
		double d = strtod(v, &end);
		if (*end == '\0' && errno == 0 && strpbrk(v, "xXpP") == NULL)
			return json_real(d);
	}
	return json_stringn(s, len);
}

typedef struct conv {
	const char *name;
	compose_pos *pos;
	int depth;
} conv;

static int convert(conv *c, struct fy_node *n, const char *path, json_t **out, berth_error **err);

static int convert_mapping(conv *c, struct fy_node *n, const char *path, json_t **out,
			   berth_error **err)
{
	json_t *obj cleanup_json = json_object();
	void *it = NULL;
	struct fy_node_pair *p;
	while ((p = fy_node_mapping_iterate(n, &it)) != NULL) {
		struct fy_node *k = fy_node_pair_key(p);
		if (k == NULL || fy_node_get_type(k) != FYNT_SCALAR)
			return berth_error_set(err, 400, "%s: non-string key in %s", c->name,
					       *path ? path : "the top level");
		size_t klen;
		const char *ks = fy_node_get_scalar(k, &klen);
		char *key cleanup_free = berth_xstrndup(ks, klen);
		char *sub cleanup_free = *path ? berth_xasprintf("%s.%s", path, key) : berth_xstrdup(key);
		pos_record(c->pos, c->name, sub, k);
		json_t *v = NULL;
		if (convert(c, fy_node_pair_value(p), sub, &v, err) < 0)
			return -1;
		json_object_set_new(obj, key, v);
	}
	*out = berth_steal_ptr(&obj);
	return 0;
}

static int convert(conv *c, struct fy_node *n, const char *path, json_t **out, berth_error **err)
{
	if (n == NULL) {
		*out = json_null();
		return 0;
	}
	if (++c->depth > 64)
		return berth_error_set(err, 400, "%s: document nested too deeply", c->name);
	/* Compose's merge tags; a !reset value is never read: it is null */
	size_t tlen;
	const char *tag = fy_node_get_tag(n, &tlen);
	bool reset = tag && tlen == 6 && memcmp(tag, "!reset", 6) == 0;
	if (tag && c->pos && c->pos->tags && (reset || (tlen == 9 && !memcmp(tag, "!override", 9))))
		json_object_set_new(c->pos->tags, path, json_string(reset ? "reset" : "override"));
	if (reset) {
		c->depth--;
		*out = json_null();
		return 0;
	}
	int r = 0;
	switch (fy_node_get_type(n)) {
	case FYNT_SCALAR: {
		size_t len;
		const char *s = fy_node_get_scalar(n, &len);
		*out = fy_node_get_style(n) == FYNS_PLAIN ? plain_scalar(s ? s : "", s ? len : 0)
							  : json_stringn(s ? s : "", s ? len : 0);
		break;
	}
	case FYNT_SEQUENCE: {
		json_t *arr cleanup_json = json_array();
		void *it = NULL;
		struct fy_node *item;
		for (size_t i = 0; (item = fy_node_sequence_iterate(n, &it)) != NULL; i++) {
			char *sub cleanup_free = berth_xasprintf("%s[%zu]", path, i);
			pos_record(c->pos, c->name, sub, item);
			json_t *v = NULL;
			if ((r = convert(c, item, sub, &v, err)) < 0)
				break;
			json_array_append_new(arr, v);
		}
		if (r == 0)
			*out = berth_steal_ptr(&arr);
		break;
	}
	case FYNT_MAPPING:
		r = convert_mapping(c, n, path, out, err);
		break;
	}
	c->depth--;
	return r;
}

static void cleanup_document(struct fy_document **d)
{
	if (*d)
		fy_document_destroy(*d);
}

static void cleanup_diag(struct fy_diag **d)
{
	if (*d)
		fy_diag_destroy(*d);
}

/* The line of the first byte that is not UTF-8 (or a NUL), 0 when all are.
 * libfyaml 0.7 can loop forever on invalid UTF-8: it never sees any. */
static int invalid_utf8_line(const unsigned char *s, size_t len)
{
	int line = 1;
	for (size_t i = 0; i < len;) {
		unsigned char c = s[i];
		size_t n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3
				   : (c & 0xf8) == 0xf0 ? 4 : 0;
		if (c == 0 || n == 0 || i + n > len || (n == 2 && c < 0xc2))
			return line;
		for (size_t k = 1; k < n; k++)
			if ((s[i + k] & 0xc0) != 0x80)
				return line;
		if (c == '\n')
			line++;
		i += n;
	}
	return 0;
}

int compose_yaml_parse(const char *name, const char *data, size_t len, json_t **out,
		       compose_pos *pos, berth_error **err)
{
	int bad = invalid_utf8_line((const unsigned char *)data, len);
	if (bad)
		return berth_error_set(err, 400, "yaml: %s:%d: invalid UTF-8 or NUL character", name,
				       bad);
	struct fy_diag_cfg dcfg;
	fy_diag_cfg_default(&dcfg);
	dcfg.fp = NULL;
	dcfg.colorize = false;
	struct fy_diag *diag __attribute__((cleanup(cleanup_diag))) = fy_diag_create(&dcfg);
	if (diag == NULL)
		return berth_error_set(err, 500, "cannot create a YAML diagnostic object");
	fy_diag_set_collect_errors(diag, true);
	struct fy_parse_cfg cfg = {.flags = FYPCF_QUIET | FYPCF_RESOLVE_DOCUMENT |
					    FYPCF_DEFAULT_VERSION_1_2 | FYPCF_JSON_NONE,
				   .diag = diag};
	struct fy_document *doc __attribute__((cleanup(cleanup_document))) =
		fy_document_build_from_string(&cfg, data, len);
	if (doc == NULL) {
		void *it = NULL;
		struct fy_diag_error *e = fy_diag_errors_iterate(diag, &it);
		if (e)
			/* diagnostics count lines from 1 already */
			return berth_error_set(err, 400, "yaml: %s:%d: %s", name, e->line,
					       e->msg);
		return berth_error_set(err, 400, "yaml: %s: invalid YAML", name);
	}
	struct fy_node *root = fy_document_root(doc);
	if (root == NULL) {
		*out = json_object();
		return 0;
	}
	if (fy_node_get_type(root) != FYNT_MAPPING)
		return berth_error_set(err, 400, "%s: top-level object must be a mapping", name);
	conv c = {.name = name, .pos = pos};
	return convert(&c, root, "", out, err);
}

/* ----------------------------------------------------------------- output */

/* Plain when YAML would read it back as the same string. */
static bool plain_ok(const char *s)
{
	if (*s == '\0' || isspace((unsigned char)*s) || isspace((unsigned char)s[strlen(s) - 1]))
		return false;
	if (strchr("-?:,[]{}#&*!|>'\"%@`~", *s) && !(s[0] == '-' && s[1] && s[1] != ' ' &&
							  !isdigit((unsigned char)s[1]) && s[1] != '.'))
		return false;
	if (strstr(s, ": ") || strstr(s, " #") || s[strlen(s) - 1] == ':')
		return false;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return false;
	json_t *back = plain_scalar(s, strlen(s));
	bool same = json_is_string(back);
	json_decref(back);
	return same;
}

/* len: a string may hold NUL ("\0" in a double-quoted YAML scalar) */
static void emit_string(const char *s, size_t len, berth_buf *out)
{
	if (strlen(s) == len && plain_ok(s)) {
		berth_buf_puts(out, s);
		return;
	}
	berth_buf_puts(out, "\"");
	for (const unsigned char *p = (const unsigned char *)s; p < (const unsigned char *)s + len; p++) {
		switch (*p) {
		case '"': berth_buf_puts(out, "\\\""); break;
		case '\\': berth_buf_puts(out, "\\\\"); break;
		case '\n': berth_buf_puts(out, "\\n"); break;
		case '\t': berth_buf_puts(out, "\\t"); break;
		case '\r': berth_buf_puts(out, "\\r"); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				berth_buf_printf(out, "\\x%02x", *p);
			else
				berth_buf_append(out, p, 1);
		}
	}
	berth_buf_puts(out, "\"");
}

static void emit_scalar(const json_t *j, berth_buf *out)
{
	switch (json_typeof(j)) {
	case JSON_STRING: emit_string(json_string_value(j), json_string_length(j), out); break;
	case JSON_INTEGER: berth_buf_printf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(j)); break;
	case JSON_REAL: {
		/* a real stays a real when read back: "800.0", not "800" */
		char num[64];
		snprintf(num, sizeof(num), "%.17g", json_real_value(j));
		berth_buf_printf(out, "%s%s", num, strpbrk(num, ".eE") ? "" : ".0");
		break;
	}
	case JSON_TRUE: berth_buf_puts(out, "true"); break;
	case JSON_FALSE: berth_buf_puts(out, "false"); break;
	default: berth_buf_puts(out, "null"); break;
	}
}

static bool is_empty_collection(const json_t *j)
{
	return (json_is_object(j) && json_object_size(j) == 0) ||
	       (json_is_array(j) && json_array_size(j) == 0);
}

static void emit_node(const json_t *j, int indent, berth_buf *out);

/* After "key:" or "- ": a scalar on the same line, a collection below. */
static void emit_value(const json_t *v, int indent, berth_buf *out)
{
	if (is_empty_collection(v)) {
		berth_buf_puts(out, json_is_object(v) ? " {}\n" : " []\n");
	} else if (json_is_object(v) || json_is_array(v)) {
		berth_buf_puts(out, "\n");
		emit_node(v, indent, out);
	} else {
		berth_buf_puts(out, " ");
		emit_scalar(v, out);
		berth_buf_puts(out, "\n");
	}
}

static int key_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void emit_node(const json_t *j, int indent, berth_buf *out)
{
	if (json_is_object(j)) {
		size_t n = json_object_size(j), i = 0;
		const char **keys = berth_xcalloc(n ? n : 1, sizeof(*keys));
		const char *k;
		json_t *v;
		json_object_foreach((json_t *)j, k, v)
			keys[i++] = k;
		qsort(keys, n, sizeof(*keys), key_cmp);
		for (i = 0; i < n; i++) {
			berth_buf_printf(out, "%*s", indent, "");
			emit_string(keys[i], strlen(keys[i]), out);
			berth_buf_puts(out, ":");
			emit_value(json_object_get(j, keys[i]), indent + 2, out);
		}
		free(keys);
	} else if (json_is_array(j)) {
		size_t i;
		json_t *v;
		json_array_foreach(j, i, v) {
			berth_buf_printf(out, "%*s-", indent, "");
			if (json_is_object(v) && json_object_size(v) > 0) {
				/* "- key: v" with the rest of the mapping aligned under key */
				berth_buf tmp cleanup_buf = {0};
				emit_node(v, indent + 2, &tmp);
				berth_buf_puts(out, " ");
				berth_buf_puts(out, tmp.data + indent + 2);
			} else {
				emit_value(v, indent + 2, out);
			}
		}
	} else {
		berth_buf_printf(out, "%*s", indent, "");
		emit_scalar(j, out);
		berth_buf_puts(out, "\n");
	}
}

/* Top-level sections in Compose's order, the rest sorted. */
void berth_compose_yaml_emit(const json_t *j, berth_buf *out)
{
	static const char *const order[] = {"name", "services", "networks", "volumes", "secrets",
					    "configs"};
	json_t *rest = json_copy((json_t *)j);
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(order); i++) {
		json_t *v = json_object_get(j, order[i]);
		if (v == NULL)
			continue;
		json_t *one = json_pack("{sO}", order[i], v);
		emit_node(one, 0, out);
		json_decref(one);
		json_object_del(rest, order[i]);
	}
	emit_node(rest, 0, out);
	json_decref(rest);
}
