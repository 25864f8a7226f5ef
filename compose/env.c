/*
 * env.c - variables: Compose's interpolation syntax, .env files, project
 * names, and the shell-word splitting of string commands.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static bool name_start(char c)
{
	return c == '_' || isalpha((unsigned char)c);
}

static bool name_char(char c)
{
	return c == '_' || isalnum((unsigned char)c);
}

/* ------------------------------------------------------------ interpolation */

static int interp(const char *s, size_t len, const json_t *env, berth_buf *out, berth_error **err);

static int interp_invalid(const char *whole, berth_error **err)
{
	return berth_error_set(err, 400,
			       "invalid interpolation format for \"%s\"; you may need to escape any $ "
			       "with another $",
			       whole);
}

/* The "}" closing the "${" whose content starts at s, nested ones skipped. */
static const char *closing_brace(const char *s, const char *end)
{
	int depth = 1;
	for (const char *p = s; p < end; p++) {
		if (p[0] == '$' && p + 1 < end && p[1] == '$') {
			p++;
		} else if (p[0] == '$' && p + 1 < end && p[1] == '{') {
			depth++;
			p++;
		} else if (*p == '}' && --depth == 0) {
			return p;
		}
	}
	return NULL;
}

/* $NAME or ${NAME}: an unset variable is blank, with compose's warning. */
static void put_value(berth_buf *out, const char *name, const char *value)
{
	if (value == NULL)
		fprintf(stderr,
			"WARN[0000] The \"%s\" variable is not set. Defaulting to a blank string.\n",
			name);
	berth_buf_puts(out, value ? value : "");
}

/* ${NAME<op>word}: body is what is between the braces. */
static int interp_braced(const char *body, size_t len, const json_t *env, berth_buf *out,
			 berth_error **err)
{
	size_t n = 0;
	char *whole cleanup_free = berth_xasprintf("${%.*s}", (int)len, body);
	if (len == 0 || !name_start(body[0]))
		return interp_invalid(whole, err);
	while (n < len && name_char(body[n]))
		n++;
	char *name cleanup_free = berth_xstrndup(body, n);
	const char *value = berth_json_string(env, name);
	const char *op = body + n, *end = body + len;
	bool colon = op < end && *op == ':';
	if (colon)
		op++;
	if (op == end && !colon) {
		put_value(out, name, value);
		return 0;
	}
	if (op == end || strchr("-?+", *op) == NULL)
		return interp_invalid(whole, err);
	/* with ':', an empty value counts as unset */
	bool set = value != NULL && (!colon || *value != '\0');
	const char *word = op + 1;
	size_t wlen = (size_t)(end - word);
	switch (*op) {
	case '-':
		return set ? (berth_buf_puts(out, value), 0) : interp(word, wlen, env, out, err);
	case '+':
		return set ? interp(word, wlen, env, out, err) : 0;
	default: /* '?' */
		if (set) {
			berth_buf_puts(out, value);
			return 0;
		}
		berth_buf msg cleanup_buf = {0};
		if (interp(word, wlen, env, &msg, err) < 0)
			return -1;
		return berth_error_set(err, 400, "required variable %s is missing a value%s%s", name,
				       msg.len ? ": " : "", msg.len ? msg.data : "");
	}
}

static int interp(const char *s, size_t len, const json_t *env, berth_buf *out, berth_error **err)
{
	const char *p = s, *end = s + len;
	while (p < end) {
		const char *d = memchr(p, '$', (size_t)(end - p));
		if (d == NULL) {
			berth_buf_append(out, p, (size_t)(end - p));
			break;
		}
		berth_buf_append(out, p, (size_t)(d - p));
		if (d + 1 < end && d[1] == '$') {
			berth_buf_puts(out, "$");
			p = d + 2;
		} else if (d + 1 < end && d[1] == '{') {
			const char *close = closing_brace(d + 2, end);
			if (close == NULL) {
				char *whole cleanup_free = berth_xstrndup(d, (size_t)(end - d));
				return interp_invalid(whole, err);
			}
			if (interp_braced(d + 2, (size_t)(close - d - 2), env, out, err) < 0)
				return -1;
			p = close + 1;
		} else if (d + 1 < end && name_start(d[1])) {
			const char *q = d + 1;
			while (q < end && name_char(*q))
				q++;
			char *name cleanup_free = berth_xstrndup(d + 1, (size_t)(q - d - 1));
			put_value(out, name, berth_json_string(env, name));
			p = q;
		} else {
			/* a lone '$' (end of string, "$ ", "$1") stays as it is */
			berth_buf_puts(out, "$");
			p = d + 1;
		}
	}
	return 0;
}

int berth_compose_interpolate(const char *s, const json_t *env, char **out, berth_error **err)
{
	berth_buf b cleanup_buf = {0};
	berth_buf_puts(&b, "");
	if (interp(s, strlen(s), env, &b, err) < 0)
		return -1;
	*out = berth_buf_steal(&b);
	return 0;
}

int compose_interpolate_tree(json_t *doc, const json_t *env, const compose_pos *pos,
			     const char *path, berth_error **err)
{
	if (json_is_object(doc)) {
		const char *k;
		json_t *v;
		json_object_foreach(doc, k, v) {
			char *sub cleanup_free = *path ? berth_xasprintf("%s.%s", path, k) : berth_xstrdup(k);
			if (compose_interpolate_tree(v, env, pos, sub, err) < 0)
				return -1;
		}
	} else if (json_is_array(doc)) {
		size_t i;
		json_t *v;
		json_array_foreach(doc, i, v) {
			char *sub cleanup_free = berth_xasprintf("%s[%zu]", path, i);
			if (compose_interpolate_tree(v, env, pos, sub, err) < 0)
				return -1;
		}
	} else if (json_is_string(doc) && strchr(json_string_value(doc), '$')) {
		char *s cleanup_free = NULL;
		berth_error *e cleanup_error = NULL;
		if (berth_compose_interpolate(json_string_value(doc), env, &s, &e) < 0) {
			/* items are reported under their list's name, as Compose does */
			char *field cleanup_free = berth_xstrdup(path);
			char *br = strchr(field, '[');
			return compose_error_at(err, pos, path, "error while interpolating %s: %s",
						br ? (*br = '\0', field) : field, e->msg);
		}
		json_string_set(doc, s);
	}
	return 0;
}

/* ---------------------------------------------------------------- env files */

typedef struct envp {
	const char *name;
	const char *p, *end;
	int line;
	const json_t *lookup;
	json_t *out;
} envp;

static void skip_blanks(envp *e)
{
	while (e->p < e->end && (*e->p == ' ' || *e->p == '\t'))
		e->p++;
}

static void skip_line(envp *e)
{
	while (e->p < e->end && *e->p != '\n')
		e->p++;
	if (e->p < e->end) {
		e->p++;
		e->line++;
	}
}

/* Variables of the file so far win over the lookup environment. */
static json_t *env_scope(const envp *e)
{
	json_t *scope = e->lookup ? json_copy((json_t *)e->lookup) : json_object();
	json_object_update(scope, e->out);
	return scope;
}

static int env_quoted(envp *e, char q, berth_buf *v, berth_error **err)
{
	int start = e->line;
	for (e->p++; e->p < e->end && *e->p != q; e->p++) {
		if (*e->p == '\n')
			e->line++;
		if (q == '"' && *e->p == '\\' && e->p + 1 < e->end) {
			char c = *++e->p;
			berth_buf_append(v, c == 'n' ? "\n" : c == 't' ? "\t" : c == 'r' ? "\r" : &c, 1);
			continue;
		}
		berth_buf_append(v, e->p, 1);
	}
	if (e->p >= e->end)
		return berth_error_set(err, 400, "%s:%d: unterminated quoted value", e->name, start);
	e->p++;
	if (q == '\'')
		return 0;
	json_t *scope cleanup_json = env_scope(e);
	char *s cleanup_free = NULL;
	if (berth_compose_interpolate(v->data ? v->data : "", scope, &s, err) < 0)
		return berth_error_wrap(err, "%s:%d", e->name, start);
	berth_buf_reset(v);
	berth_buf_puts(v, s);
	return 0;
}

static int env_unquoted(envp *e, berth_buf *v, berth_error **err)
{
	const char *start = e->p;
	while (e->p < e->end && *e->p != '\n' && *e->p != '\r')
		e->p++;
	size_t len = (size_t)(e->p - start);
	/* " #" starts a comment */
	for (size_t i = 0; i < len; i++)
		if (start[i] == '#' && i > 0 && (start[i - 1] == ' ' || start[i - 1] == '\t')) {
			len = i;
			break;
		}
	while (len > 0 && isspace((unsigned char)start[len - 1]))
		len--;
	char *raw cleanup_free = berth_xstrndup(start, len);
	json_t *scope cleanup_json = env_scope(e);
	char *s cleanup_free = NULL;
	if (berth_compose_interpolate(raw, scope, &s, err) < 0)
		return berth_error_wrap(err, "%s:%d", e->name, e->line);
	berth_buf_puts(v, s);
	return 0;
}

static int env_line(envp *e, berth_error **err)
{
	skip_blanks(e);
	if (e->p >= e->end || *e->p == '#' || *e->p == '\n' || *e->p == '\r') {
		skip_line(e);
		return 0;
	}
	if ((size_t)(e->end - e->p) > 7 && strncmp(e->p, "export ", 7) == 0) {
		e->p += 7;
		skip_blanks(e);
	}
	const char *k = e->p;
	while (e->p < e->end && !strchr("= \t\n\r", *e->p))
		e->p++;
	char *key cleanup_free = berth_xstrndup(k, (size_t)(e->p - k));
	for (const char *c = key; *c; c++)
		if (!name_char(*c) && *c != '.' && *c != '-')
			return berth_error_set(err, 400,
					       "%s:%d: unexpected character \"%c\" in variable name "
					       "\"%s\"",
					       e->name, e->line, *c, key);
	skip_blanks(e);
	if (e->p < e->end && !strchr("=#\r\n", *e->p))
		return berth_error_set(err, 400,
				       "%s:%d: unexpected character \"%c\" in variable name \"%s\"",
				       e->name, e->line, e->p[-1], key);
	if (e->p >= e->end || *e->p != '=') {
		/* KEY alone: its value from the environment, if any */
		const char *v = berth_json_string(e->lookup, key);
		if (v)
			json_object_set_new(e->out, key, json_string(v));
		skip_line(e);
		return 0;
	}
	e->p++;
	skip_blanks(e);
	berth_buf v cleanup_buf = {0};
	berth_buf_puts(&v, "");
	int r = (e->p < e->end && (*e->p == '"' || *e->p == '\''))
			? env_quoted(e, *e->p, &v, err)
			: env_unquoted(e, &v, err);
	if (r < 0)
		return -1;
	json_object_set_new(e->out, key, json_string(v.data));
	skip_line(e);
	return 0;
}

int berth_compose_env_parse(const char *name, const char *text, const json_t *lookup,
			    json_t *out, berth_error **err)
{
	envp e = {.name = name, .p = text, .end = text + strlen(text), .line = 1,
		  .lookup = lookup, .out = out};
	while (e.p < e.end)
		if (env_line(&e, err) < 0)
			return -1;
	return 0;
}

/* ------------------------------------------------------------------- names */

char *berth_compose_normalize_name(const char *s)
{
	berth_buf b cleanup_buf = {0};
	berth_buf_puts(&b, "");
	for (const char *p = s; *p; p++) {
		char c = (char)tolower((unsigned char)*p);
		if (isalnum((unsigned char)c) || ((c == '_' || c == '-') && b.len > 0))
			berth_buf_append(&b, &c, 1);
	}
	return berth_buf_steal(&b);
}

char *compose_abs_path(const char *dir, const char *path)
{
	if (path[0] == '/')
		return berth_xstrdup(path);
	if (path[0] == '~' && (path[1] == '/' || path[1] == '\0')) {
		const char *home = getenv("HOME");
		return berth_xasprintf("%s%s", home ? home : "", path + 1);
	}
	/* "./x" and "x" are dir/x; "." is dir; trailing "/." and "./" dropped */
	while (path[0] == '.' && path[1] == '/')
		path += 2;
	if (strcmp(path, ".") == 0 || *path == '\0')
		return berth_xstrdup(dir);
	berth_buf b cleanup_buf = {0};
	berth_buf_puts(&b, dir);
	/* "../" climbs */
	while (strncmp(path, "../", 3) == 0 || strcmp(path, "..") == 0) {
		char *slash = strrchr(b.data, '/');
		if (slash && slash != b.data) {
			b.len = (size_t)(slash - b.data);
			b.data[b.len] = '\0';
		} else {
			b.len = 1;
			b.data[1] = '\0';
		}
		path += path[2] ? 3 : 2;
	}
	if (*path)
		berth_buf_printf(&b, "%s%s", b.data[b.len - 1] == '/' ? "" : "/", path);
	size_t l = b.len;
	if (l > 1 && b.data[l - 1] == '/')
		b.data[--b.len] = '\0';
	return berth_buf_steal(&b);
}

/* ------------------------------------------------------------ shell words */

int compose_shell_split(const char *s, json_t **out, berth_error **err)
{
	json_t *words cleanup_json = json_array();
	berth_buf w cleanup_buf = {0};
	bool in_word = false;
	for (const char *p = s; *p; p++) {
		if (isspace((unsigned char)*p)) {
			if (in_word)
				json_array_append_new(words, json_string(w.data ? w.data : ""));
			berth_buf_reset(&w);
			in_word = false;
			continue;
		}
		in_word = true;
		berth_buf_puts(&w, "");
		if (*p == '\\' && p[1]) {
			berth_buf_append(&w, ++p, 1);
		} else if (*p == '\'' || *p == '"') {
			char q = *p;
			for (p++; *p && *p != q; p++) {
				if (q == '"' && *p == '\\' && p[1] && strchr("\\\"$`", p[1]))
					p++;
				berth_buf_append(&w, p, 1);
			}
			if (*p != q)
				return berth_error_set(err, 400, "invalid command line string");
		} else {
			berth_buf_append(&w, p, 1);
		}
	}
	if (in_word)
		json_array_append_new(words, json_string(w.data ? w.data : ""));
	*out = berth_steal_ptr(&words);
	return 0;
}
