/*
 * libFuzzer target: the --format template engine (common/template.c).
 * Input: a template, then a NUL or newline, then a JSON document to execute
 * it against (null when it does not parse). Checks the API's promises as
 * well as memory safety: errors are 400s with a message, and a failed
 * execution leaves the output buffer as it was.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

static void check_error(const berth_error *err)
{
	if (err == NULL || err->status != 400 || err->msg == NULL || strncmp(err->msg, "template: ", 10) != 0)
		__builtin_trap();
}

static void execute(const berth_template *t, const json_t *doc)
{
	berth_error *err = NULL;
	berth_buf out = {0};
	berth_buf_puts(&out, "prefix");
	if (berth_template_execute(t, doc, &out, &err) < 0) {
		check_error(err);
		if (out.len != 6)
			__builtin_trap();
	} else if (err != NULL) {
		__builtin_trap();
	}
	berth_error_free(&err);
	berth_cleanup_buf(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	size_t cut = 0;
	while (cut < size && s[cut] != '\0' && s[cut] != '\n')
		cut++;
	char *text = berth_xstrndup(s, cut);
	json_t *doc = cut < size ? json_loadb(s + cut + 1, size - cut - 1, JSON_DECODE_ANY, NULL) : NULL;
	berth_template *t = NULL;
	berth_error *err = NULL;
	if (berth_template_parse(text, &t, &err) == 0) {
		execute(t, doc);
		execute(t, NULL); /* a template runs any number of times, on any data */
	} else {
		check_error(err);
	}
	berth_error_free(&err);
	berth_template_free(t);
	json_decref(doc);
	free(text);
	return 0;
}
