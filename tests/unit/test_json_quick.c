/* common/json_quick.c: the same values as berth_json_parse (jansson), the
 * same errors, for what it parses itself and for what it hands over. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common.h"

/* Both parsers on text: equal values in the same key order, or the same
 * error message. */
static void same(const char *text)
{
	json_t *quick cleanup_json = NULL, *slow cleanup_json = NULL;
	berth_error *qerr cleanup_error = NULL, *serr cleanup_error = NULL;
	int qr = berth_json_parse_quick(text, strlen(text), &quick, &qerr);
	int sr = berth_json_parse(text, strlen(text), &slow, &serr);
	assert_int_equal(qr, sr);
	if (sr < 0) {
		assert_string_equal(qerr->msg, serr->msg);
		assert_int_equal(qerr->status, serr->status);
		return;
	}
	assert_true(json_equal(quick, slow));
	/* json_equal ignores the order of keys; docker's output does not */
	char *a cleanup_free = json_dumps(quick, JSON_ENCODE_ANY);
	char *b cleanup_free = json_dumps(slow, JSON_ENCODE_ANY);
	assert_string_equal(a, b);
	/* integers stay integers (a template prints 3, not 3.000000) */
	if (json_is_integer(slow))
		assert_true(json_is_integer(quick));
}

static void test_plain_documents(void **state)
{
	same("{}");
	same("[]");
	same("  {\"a\": 1, \"b\": [true, false, null, -7, 0], \"c\": {\"d\": \"e\"}}\n");
	same("[{\"Id\":\"abc\",\"Names\":[\"/x\"],\"Created\":1796590732,\"Ports\":[],"
	     "\"Labels\":{},\"HostConfig\":{\"NetworkMode\":\"none\"},\"Mounts\":[]}]");
	same("\"a string\"");
	same("42");
	same("-0");
	same("null");
	same("{\"z\":1,\"a\":2,\"m\":3}"); /* insertion order kept */
	same("[[[[[[]]]]]]");
	same("{\"\":\"\"}");
	same("123456789012345678");
	same("-123456789012345678");
}

static void test_escapes(void **state)
{
	same("\"tab\\there \\\"quoted\\\" back\\\\slash \\/ \\b\\f\\n\\r\"");
	same("{\"k\\\"ey\": \"v\", \"k2\": \"\\u00e9\\u4e2d\\ud83d\\ude00\"}");
	same("{\"a\\nb\": {\"c\\td\": [\"\\u0041\"]}}");
	/* handed to jansson: its own errors */
	same("\"\\u0000\"");
	same("\"\\ud800\"");
	same("\"\\udc00x\"");
	same("\"\\x\"");
	same("\"\\u12\"");
}

/* What the quick parser leaves to jansson gives jansson's answer. */
static void test_handed_over(void **state)
{
	same("1.5");
	same("[1e3, -2.5E-2]");
	same("12345678901234567890");
	same("99999999999999999999999");
	same("\"caf\xc3\xa9\"");
	same("\"bad \xff utf8\"");
	same("\"control \x01 char\"");
	same("{\"a\":1,\"a\":2}");
	same("[1,]");
	same("{\"a\":1,}");
	same("{\"a\" 1}");
	same("[1 2]");
	same("01");
	same("-");
	same("tru");
	same("nul");
	same("{\"a\":1} trailing");
	same("[1]]");
	same("\"unterminated");
	same("{");
	same("");
	same("   ");
	berth_buf deep cleanup_buf = {0};
	for (int i = 0; i < 300; i++)
		berth_buf_puts(&deep, "[");
	for (int i = 0; i < 300; i++)
		berth_buf_puts(&deep, "]");
	same(deep.data);
}

static void test_null_input(void **state)
{
	json_t *j = NULL;
	berth_error *err cleanup_error = NULL;
	assert_int_equal(berth_json_parse_quick(NULL, 0, &j, &err), -1);
	assert_string_equal(err->msg, "invalid JSON: EOF");
	assert_null(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_documents),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_handed_over),
		cmocka_unit_test(test_null_input),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
