/* unit_json.h - the unit tests' comparison of a JSON sub-tree with JSON
 * text (key order aside), for the files that include it after cmocka.h. */
#ifndef BERTH_TESTS_UNIT_JSON_H
#define BERTH_TESTS_UNIT_JSON_H

#include <jansson.h>

#include "common/common.h"

static void check_json(const json_t *got, const char *want)
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

#endif
