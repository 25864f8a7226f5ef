/* Word expansion as dockerd applies it to ENV, LABEL, COPY, WORKDIR...:
 * quotes, escapes, $V, ${V}, ${V:-w}, ${V:+w}, ${V-w}, ${V+w}, ${V:?m}. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "builder/builder.h"

static char *const env[] = {"A=a", "EMPTY=", "SP=x y", "PATH=/bin", "A=shadowed", NULL};
#define NENV 5

static void expect(const char *in, const char *want)
{
	char *out = NULL;
	berth_error *err = NULL;
	if (berth_builder_expand(in, '\\', env, NENV, &out, &err) < 0)
		fail_msg("%s: %s", in, err->msg);
	if (strcmp(out, want) != 0)
		fail_msg("%s: got [%s], want [%s]", in, out, want);
	free(out);
}

static void expect_err(const char *in, const char *msg)
{
	char *out = NULL;
	berth_error *err = NULL;
	assert_int_equal(berth_builder_expand(in, '\\', env, NENV, &out, &err), -1);
	assert_int_equal(err->status, 400);
	assert_string_equal(err->msg, msg);
	berth_error_free(&err);
}

static void test_plain(void **state)
{
	expect("hello", "hello");
	expect("$A", "a");                 /* the first entry of a name wins */
	expect("${A}b", "ab");
	expect("$Ab", "");                 /* the name is Ab */
	expect("$UNSET-x", "-x");
	expect("a$", "a$");
	expect("$/x", "$/x");
	expect("$1x", "x");                /* positional: digits only */
	expect("${PATH}:/usr/bin", "/bin:/usr/bin");
}

static void test_modifiers(void **state)
{
	expect("${UNSET:-def}", "def");
	expect("${EMPTY:-def}", "def");
	expect("${A:-def}", "a");
	expect("${UNSET-def}", "def");
	expect("${EMPTY-def}", "");
	expect("${A:+alt}", "alt");
	expect("${EMPTY:+alt}", "");
	expect("${EMPTY+alt}", "alt");
	expect("${UNSET+alt}", "");
	expect("${UNSET:-$A-${SP}}", "a-x y");
	expect("${A:?boom}", "a");
	expect_err("${UNSET:?boom}", "UNSET: boom");
	expect_err("${EMPTY:?}", "EMPTY: is not allowed to be empty");
	expect_err("${UNSET?}", "UNSET: is not allowed to be unset");
	expect_err("${A", "syntax error: missing '}'");
	expect_err("${A:-x", "syntax error: missing '}'");
	expect_err("${}", "syntax error: bad substitution");
	expect_err("${A*x}", "unsupported modifier (*) in substitution");
}

static void test_quotes_and_escapes(void **state)
{
	expect("'$A'", "$A");
	expect("\"$A\"", "a");
	expect("\"a b\"c", "a bc");
	expect("\\$A", "$A");
	expect("a\\ b", "a b");
	expect("\"\\$A \\\" \\x\"", "$A \" \\x");
	expect("it\\'s", "it's");
	expect_err("'open", "unexpected end of statement while looking for matching single-quote");
	expect_err("\"open", "unexpected end of statement while looking for matching double-quote");
	/* the escape directive changes the escape character */
	char *out = NULL;
	assert_int_equal(berth_builder_expand("`$A c:\\x", '`', env, NENV, &out, NULL), 0);
	assert_string_equal(out, "$A c:\\x");
	free(out);
}

static void test_words(void **state)
{
	char **w = NULL;
	assert_int_equal(berth_builder_expand_words("a $SP \"c d\" e\\ f ''", '\\', env, NENV, &w, NULL), 0);
	assert_int_equal(berth_strv_len(w), 5);
	assert_string_equal(w[0], "a");
	assert_string_equal(w[1], "x");
	assert_string_equal(w[2], "y");
	assert_string_equal(w[3], "c d");
	assert_string_equal(w[4], "e f");
	berth_strv_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_modifiers),
		cmocka_unit_test(test_quotes_and_escapes),
		cmocka_unit_test(test_words),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
