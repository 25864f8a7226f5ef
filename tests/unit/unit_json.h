/* unit_json.h - the unit tests' comparisons of JSON sub-trees (with JSON
 * text, key order aside, or key by key), for the files that include it after
 * cmocka.h. */
#ifndef BERTH_TESTS_UNIT_JSON_H
#define BERTH_TESTS_UNIT_JSON_H

#include <jansson.h>
#include <stdarg.h>
#include <string.h>

#include "common/common.h"

__attribute__((unused)) static void check_json(const json_t *got, const char *want)
{
	json_error_t jerr;
	json_t *w cleanup_json = json_loads(want, JSON_DECODE_ANY, &jerr);
	if (w == NULL)
		fail_msg("bad test JSON %s: %s", want, jerr.text);
	if (!json_equal((json_t *)got, w)) {
		char *g cleanup_free = got ? json_dumps(got, JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
		fail_msg("want %s\n got  %s", want, g ? g : "(null)");
	}
}

/* Each key of obj holds the string that follows it: key, value, ..., NULL.
 * Other keys are not looked at. */
__attribute__((sentinel, unused)) static void check_json_strings(const json_t *obj, ...)
{
	va_list ap;
	va_start(ap, obj);
	for (const char *key; (key = va_arg(ap, const char *)) != NULL;) {
		const char *want = va_arg(ap, const char *);
		const char *got = berth_json_string(obj, key);
		if (got == NULL || strcmp(got, want) != 0)
			fail_msg("%s: want \"%s\"\n got  %s%s%s", key, want, got ? "\"" : "",
				 got ? got : "(none)", got ? "\"" : "");
	}
	va_end(ap);
}

#endif
