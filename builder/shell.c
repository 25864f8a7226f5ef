/*
 * shell.c - the word expansion dockerd applies to ENV, LABEL, ARG, COPY,
 * ADD, EXPOSE, FROM, USER, VOLUME, WORKDIR and STOPSIGNAL: quotes, escapes
 * and POSIX-style parameter substitution, without running a shell.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef struct lexer {
	const char *s;
	size_t pos, len;
	char escape;
	char *const *env;
	size_t nenv;
} lexer;

/* Words as the unquoted whitespace splits them. */
typedef struct words {
	char **v;
	size_t n;
	berth_buf word;
	bool in_word;
} words;

#define END (-1)

static int peek(const lexer *lx)
{
	return lx->pos < lx->len ? (unsigned char)lx->s[lx->pos] : END;
}

static int next(lexer *lx)
{
	return lx->pos < lx->len ? (unsigned char)lx->s[lx->pos++] : END;
}

static void words_flush(words *w)
{
	if (w->word.len == 0)
		return;
	w->v = berth_xrealloc(w->v, (w->n + 2) * sizeof(char *));
	w->v[w->n++] = berth_buf_steal(&w->word);
	w->v[w->n] = NULL;
}

static void words_raw(words *w, const char *s, size_t n)
{
	if (w == NULL)
		return;
	berth_buf_append(&w->word, s, n);
	w->in_word = true;
}

static void words_char(words *w, char c)
{
	if (w == NULL)
		return;
	if (df_space(c)) {
		if (w->in_word) {
			words_flush(w);
			w->in_word = false;
		}
		return;
	}
	words_raw(w, &c, 1);
}

/* The value of name in env: the first entry of that name wins. */
static const char *lookup(const lexer *lx, const char *name)
{
	size_t nl = strlen(name);
	for (size_t i = 0; i < lx->nenv; i++) {
		const char *e = lx->env[i];
		if (strncmp(e, name, nl) == 0 && (e[nl] == '=' || e[nl] == '\0'))
			return e[nl] == '=' ? e + nl + 1 : "";
	}
	return NULL;
}

static bool special_param(int c)
{
	return c != END && strchr("@*#?-$!0", c) != NULL;
}

static char *process_name(lexer *lx)
{
	berth_buf name = {0};
	berth_buf_puts(&name, "");
	while (peek(lx) != END) {
		int c = peek(lx);
		if (name.len == 0 && isdigit(c)) {
			while (peek(lx) != END && isdigit(peek(lx))) {
				char d = (char)next(lx);
				berth_buf_append(&name, &d, 1);
			}
			return berth_buf_steal(&name);
		}
		if (name.len == 0 && special_param(c)) {
			char d = (char)next(lx);
			berth_buf_append(&name, &d, 1);
			return berth_buf_steal(&name);
		}
		if (!isalnum(c) && c != '_' && c < 0x80)
			break;
		char d = (char)next(lx);
		berth_buf_append(&name, &d, 1);
	}
	return berth_buf_steal(&name);
}

static int process_stop_on(lexer *lx, int stop, berth_buf *out, words *w, berth_error **err);

static int missing_brace(berth_error **err)
{
	return berth_error_set(err, 400, "syntax error: missing '}'");
}

/* The word after a modifier, up to the closing brace. */
static int modifier_word(lexer *lx, char **word, berth_error **err)
{
	berth_buf b cleanup_buf = {0};
	berth_buf_puts(&b, "");
	berth_error *inner cleanup_error = NULL;
	if (process_stop_on(lx, '}', &b, NULL, &inner) < 0) {
		if (peek(lx) == END)
			return missing_brace(err);
		return berth_error_propagate(&inner, err);
	}
	*word = berth_buf_steal(&b);
	return 0;
}

static int unset_error(const char *name, const char *word, const char *def, berth_error **err)
{
	return berth_error_set(err, 400, "%s: %s", name, *word ? word : def);
}

static int braced(lexer *lx, berth_buf *out, berth_error **err)
{
	next(lx); /* { */
	int c = peek(lx);
	if (c == END)
		return missing_brace(err);
	if (c == '{' || c == '}' || c == ':')
		return berth_error_set(err, 400, "syntax error: bad substitution");
	char *name cleanup_free = process_name(lx);
	int ch = next(lx);
	const char *value = lookup(lx, name);
	if (ch == '}') {
		berth_buf_puts(out, value ? value : "");
		return 0;
	}
	bool colon = ch == ':';
	int mod = colon ? next(lx) : ch;
	if (mod == END)
		return missing_brace(err);
	if (mod != '+' && mod != '-' && mod != '?')
		return berth_error_set(err, 400, "unsupported modifier (%c) in substitution", mod);
	char *word cleanup_free = NULL;
	if (modifier_word(lx, &word, err) < 0)
		return -1;
	bool set = value != NULL, nonempty = value && *value;
	switch (mod) {
	case '+':
		berth_buf_puts(out, (colon ? nonempty : set) ? word : "");
		return 0;
	case '-':
		berth_buf_puts(out, (colon ? nonempty : set) ? value : word);
		return 0;
	default:
		if (!set)
			return unset_error(name, word, "is not allowed to be unset", err);
		if (colon && !nonempty)
			return unset_error(name, word, "is not allowed to be empty", err);
		berth_buf_puts(out, value);
		return 0;
	}
}

static int process_dollar(lexer *lx, berth_buf *out, berth_error **err)
{
	next(lx); /* $ */
	if (peek(lx) == '{')
		return braced(lx, out, err);
	char *name cleanup_free = process_name(lx);
	if (*name == '\0') {
		berth_buf_puts(out, "$");
		return 0;
	}
	const char *value = lookup(lx, name);
	berth_buf_puts(out, value ? value : "");
	return 0;
}

static int single_quote(lexer *lx, berth_buf *out, berth_error **err)
{
	next(lx);
	for (;;) {
		int c = next(lx);
		if (c == END)
			return berth_error_set(err, 400, "unexpected end of statement while looking for "
							 "matching single-quote");
		if (c == '\'')
			return 0;
		char ch = (char)c;
		berth_buf_append(out, &ch, 1);
	}
}

static int double_quote(lexer *lx, berth_buf *out, berth_error **err)
{
	next(lx);
	for (;;) {
		int c = peek(lx);
		if (c == END)
			return berth_error_set(err, 400, "unexpected end of statement while looking for "
							 "matching double-quote");
		if (c == '"') {
			next(lx);
			return 0;
		}
		if (c == '$') {
			if (process_dollar(lx, out, err) < 0)
				return -1;
			continue;
		}
		c = next(lx);
		if (c == lx->escape) {
			int p = peek(lx);
			if (p == END)
				continue;
			if (p == '"' || p == '$' || p == lx->escape)
				c = next(lx);
		}
		char ch = (char)c;
		berth_buf_append(out, &ch, 1);
	}
}

static int process_stop_on(lexer *lx, int stop, berth_buf *out, words *w, berth_error **err)
{
	while (peek(lx) != END) {
		int c = peek(lx);
		if (stop != END && c == stop) {
			next(lx);
			return 0;
		}
		if (c == '\'' || c == '"' || c == '$') {
			berth_buf tmp cleanup_buf = {0};
			berth_buf_puts(&tmp, "");
			int rc = c == '\'' ? single_quote(lx, &tmp, err)
				 : c == '"' ? double_quote(lx, &tmp, err) : process_dollar(lx, &tmp, err);
			if (rc < 0)
				return -1;
			berth_buf_append(out, tmp.data, tmp.len);
			if (c == '$') {
				for (size_t i = 0; i < tmp.len; i++)
					words_char(w, tmp.data[i]);
			} else {
				words_raw(w, tmp.data, tmp.len);
			}
			continue;
		}
		c = next(lx);
		char ch = (char)c;
		if (c == lx->escape) {
			c = next(lx);
			if (c == END)
				break;
			ch = (char)c;
			words_raw(w, &ch, 1);
		} else {
			words_char(w, ch);
		}
		berth_buf_append(out, &ch, 1);
	}
	if (stop != END)
		return berth_error_set(err, 400, "unexpected end of statement while looking for matching %c",
				       stop);
	return 0;
}

static int expand(const char *word, char escape, char *const *env, size_t nenv, char **out,
		  words *w, berth_error **err)
{
	lexer lx = {.s = word, .len = strlen(word), .escape = escape, .env = env, .nenv = nenv};
	berth_buf b cleanup_buf = {0};
	berth_buf_puts(&b, "");
	if (process_stop_on(&lx, END, &b, w, err) < 0)
		return -1;
	if (out)
		*out = berth_buf_steal(&b);
	return 0;
}

int berth_builder_expand(const char *word, char escape, char *const *env, size_t nenv,
			 char **out, berth_error **err)
{
	return expand(word, escape, env, nenv, out, NULL, err);
}

int berth_builder_expand_words(const char *word, char escape, char *const *env, size_t nenv,
			       char ***out, berth_error **err)
{
	words w = {0};
	int rc = expand(word, escape, env, nenv, NULL, &w, err);
	words_flush(&w);
	berth_cleanup_buf(&w.word);
	if (rc < 0) {
		berth_strv_free(w.v);
		return -1;
	}
	*out = w.v ? w.v : berth_xcalloc(1, sizeof(char *));
	return 0;
}
