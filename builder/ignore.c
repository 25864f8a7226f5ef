/*
 * ignore.c - .dockerignore: Docker's pattern matcher. Patterns are cleaned
 * like filepath.Clean, compiled to anchored regular expressions ("**" spans
 * directories, "*" and "?" stay inside one), and the last pattern that
 * matches a path or one of its parents decides; "!" patterns re-include.
 */
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef struct ignore_pattern {
	char *text;       /* cleaned, without '!' */
	bool exclusion;   /* a "!" pattern */
	regex_t re;
} ignore_pattern;

struct berth_dockerignore {
	ignore_pattern *p;
	size_t n;
};

static int compile(ignore_pattern *p, berth_error **err)
{
	berth_buf re cleanup_buf = {0};
	berth_buf_puts(&re, "^");
	const char *s = p->text;
	for (size_t i = 0; s[i]; i++) {
		char c = s[i];
		if (c == '*' && s[i + 1] == '*') {
			i++;
			if (s[i + 1] == '/')
				i++;
			berth_buf_puts(&re, s[i + 1] == '\0' ? ".*" : "(.*/)?");
		} else if (c == '*') {
			berth_buf_puts(&re, "[^/]*");
		} else if (c == '?') {
			berth_buf_puts(&re, "[^/]");
		} else if (strchr(".+()|{}$^", c)) {
			berth_buf_printf(&re, "\\%c", c);
		} else if (c == '\\') {
			if (s[i + 1]) {
				i++;
				if (strchr(".+()|{}$^*?[]\\", s[i]))
					berth_buf_printf(&re, "\\%c", s[i]);
				else
					berth_buf_append(&re, &s[i], 1);
			} else {
				berth_buf_puts(&re, "\\\\");
			}
		} else {
			berth_buf_append(&re, &c, 1);
		}
	}
	berth_buf_puts(&re, "$");
	if (regcomp(&p->re, re.data, REG_EXTENDED | REG_NOSUB) != 0)
		return berth_error_set(err, 400, "syntax error in pattern: %s", p->text);
	return 0;
}

int berth_dockerignore_parse(const char *data, size_t len, berth_dockerignore **out,
			     berth_error **err)
{
	berth_dockerignore *di = berth_xcalloc(1, sizeof(*di));
	char *copy cleanup_free = berth_xstrndup(data, len);
	char **lines cleanup_free = NULL;
	char *save = NULL;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#')
			continue;
		char *s = line, *e = line + strlen(line);
		while (*s && df_space(*s))
			s++;
		while (e > s && df_space(e[-1]))
			e--;
		*e = '\0';
		if (*s == '\0')
			continue;
		bool excl = *s == '!';
		if (excl) {
			s++;
			while (*s && df_space(*s))
				s++;
		}
		char *text = *s ? berth_path_clean(s) : berth_xstrdup("");
		if (text[0] == '/' && text[1]) {
			char *t = berth_xstrdup(text + 1);
			free(text);
			text = t;
		}
		di->p = berth_xrealloc(di->p, (di->n + 1) * sizeof(*di->p));
		ignore_pattern *p = &di->p[di->n];
		p->text = text;
		p->exclusion = excl;
		if (compile(p, err) < 0) {
			free(text);
			berth_dockerignore_free(di);
			return -1;
		}
		di->n++;
	}
	*out = di;
	return 0;
}

void berth_dockerignore_free(berth_dockerignore *di)
{
	if (di == NULL)
		return;
	for (size_t i = 0; i < di->n; i++) {
		free(di->p[i].text);
		regfree(&di->p[i].re);
	}
	free(di->p);
	free(di);
}

static bool matches(const ignore_pattern *p, const char *path)
{
	if (regexec(&p->re, path, 0, NULL, 0) == 0)
		return true;
	/* a pattern matching a parent directory matches what is below it */
	char *parent cleanup_free = berth_xstrdup(path);
	for (char *slash = strchr(parent, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		bool m = regexec(&p->re, parent, 0, NULL, 0) == 0;
		*slash = '/';
		if (m)
			return true;
	}
	return false;
}

bool berth_dockerignore_excluded(const berth_dockerignore *di, const char *path)
{
	if (di == NULL)
		return false;
	char *clean cleanup_free = berth_path_clean(path);
	bool excluded = false;
	for (size_t i = 0; i < di->n; i++)
		if (matches(&di->p[i], clean))
			excluded = !di->p[i].exclusion;
	return excluded;
}

bool berth_dockerignore_descend(const berth_dockerignore *di, const char *dir)
{
	if (di == NULL)
		return true;
	char *prefix cleanup_free = berth_xasprintf("%s/", dir);
	for (size_t i = 0; i < di->n; i++) {
		if (!di->p[i].exclusion)
			continue;
		char *pat cleanup_free = berth_xasprintf("%s/", di->p[i].text);
		if (strncmp(pat, prefix, strlen(prefix)) == 0 || strpbrk(di->p[i].text, "*?["))
			return true;
	}
	return false;
}
