/* .dockerignore: Docker's pattern rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "builder/builder.h"

static berth_dockerignore *parse(const char *text)
{
	berth_dockerignore *di = NULL;
	berth_error *err = NULL;
	if (berth_dockerignore_parse(text, strlen(text), &di, &err) < 0)
		fail_msg("%s", err->msg);
	return di;
}

static void test_patterns(void **state)
{
	berth_dockerignore *di = parse("# comment\n*.log\n/build\n  tmp/  \n**/*.o\ndocs/**\n!docs/keep.md\n"
				       "sub/?.txt\n./dot/../cleaned\n");
	assert_true(berth_dockerignore_excluded(di, "a.log"));
	assert_false(berth_dockerignore_excluded(di, "dir/a.log"));   /* '*' stays in one dir */
	assert_true(berth_dockerignore_excluded(di, "build"));
	assert_true(berth_dockerignore_excluded(di, "build/x/y"));     /* a parent matches */
	assert_true(berth_dockerignore_excluded(di, "tmp/x"));
	assert_true(berth_dockerignore_excluded(di, "x.o"));
	assert_true(berth_dockerignore_excluded(di, "a/b/c/x.o"));     /* '**' spans dirs */
	assert_true(berth_dockerignore_excluded(di, "docs/a/b.md"));
	assert_false(berth_dockerignore_excluded(di, "docs/keep.md")); /* '!' re-includes */
	assert_true(berth_dockerignore_excluded(di, "sub/a.txt"));
	assert_false(berth_dockerignore_excluded(di, "sub/ab.txt"));
	assert_true(berth_dockerignore_excluded(di, "cleaned"));
	assert_false(berth_dockerignore_excluded(di, "# comment"));
	assert_false(berth_dockerignore_excluded(di, "Dockerfile"));
	assert_true(berth_dockerignore_descend(di, "docs"));
	assert_false(berth_dockerignore_descend(di, "build"));
	berth_dockerignore_free(di);
}

static void test_last_match_wins(void **state)
{
	berth_dockerignore *di = parse("!a.txt\n*\n!keep*\nkeep-not\n");
	assert_true(berth_dockerignore_excluded(di, "a.txt"));
	assert_false(berth_dockerignore_excluded(di, "keep1"));
	assert_true(berth_dockerignore_excluded(di, "keep-not"));
	berth_dockerignore_free(di);
	/* escaped metacharacters match themselves */
	di = parse("a\\*b\nx.y\n");
	assert_true(berth_dockerignore_excluded(di, "a*b"));
	assert_false(berth_dockerignore_excluded(di, "axxb"));
	assert_false(berth_dockerignore_excluded(di, "xzy"));
	berth_dockerignore_free(di);
	assert_false(berth_dockerignore_excluded(NULL, "anything"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_patterns),
		cmocka_unit_test(test_last_match_wins),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
