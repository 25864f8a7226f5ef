/* The Dockerfile parser: directives, continuations, comments, forms, the
 * argument shape of each instruction, and dockerd's error wording. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "builder/builder.h"

static berth_dockerfile *parse_ok(const char *text)
{
	berth_dockerfile *df = NULL;
	berth_error *err = NULL;
	if (berth_dockerfile_parse(text, strlen(text), &df, &err) < 0)
		fail_msg("%s: %s", text, err->msg);
	return df;
}

static void expect_error(const char *text, const char *msg)
{
	berth_dockerfile *df = NULL;
	berth_error *err = NULL;
	assert_int_equal(berth_dockerfile_parse(text, strlen(text), &df, &err), -1);
	assert_null(df);
	assert_int_equal(err->status, 400);
	assert_string_equal(err->msg, msg);
	berth_error_free(&err);
}

static void expect_args(const berth_df_instr *in, const char *const *want)
{
	size_t n = 0;
	while (want[n])
		n++;
	assert_int_equal(in->nargs, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(in->args[i], want[i]);
	assert_null(in->args[n]);
}
#define ARGS(in, ...) expect_args(in, (const char *const[]){__VA_ARGS__, NULL})

static void test_basic(void **state)
{
	berth_dockerfile *df = parse_ok("FROM busybox\n\n# comment\nrun echo hi\nCmd [\"sh\", \"-c\"]\n");
	assert_int_equal(df->n, 3);
	assert_int_equal(df->instrs[0].cmd, BERTH_DF_FROM);
	ARGS(&df->instrs[0], "busybox");
	assert_int_equal(df->instrs[1].cmd, BERTH_DF_RUN);
	assert_string_equal(df->instrs[1].name, "run");
	assert_int_equal(df->instrs[1].start_line, 4);
	assert_false(df->instrs[1].json);
	ARGS(&df->instrs[1], "echo hi");
	assert_true(df->instrs[2].json);
	ARGS(&df->instrs[2], "sh", "-c");
	assert_string_equal(df->instrs[2].original, "Cmd [\"sh\", \"-c\"]");
	berth_dockerfile_free(df);
}

static void test_continuations(void **state)
{
	berth_dockerfile *df = parse_ok("FROM a\nRUN echo a \\\n  b \\  \n# a comment inside\n\n   c\nLABEL x=1\n");
	assert_int_equal(df->n, 3);
	ARGS(&df->instrs[1], "echo a   b    c");
	assert_int_equal(df->instrs[1].start_line, 2);
	assert_int_equal(df->instrs[1].end_line, 6);
	assert_int_equal(df->instrs[2].start_line, 7);
	assert_non_null(df->warnings);
	assert_string_equal(df->warnings[0], "[WARNING]: Empty continuation line found in: RUN echo a   b    c");
	berth_dockerfile_free(df);

	/* CRLF line ends and a BOM */
	df = parse_ok("\xef\xbb\xbf" "FROM a\r\nRUN x \\\r\n y\r\n");
	ARGS(&df->instrs[1], "x  y");
	berth_dockerfile_free(df);
}

static void test_escape_directive(void **state)
{
	berth_dockerfile *df = parse_ok("# escape=`\n# syntax=docker/dockerfile:1\nFROM a\nRUN dir c:\\ `\n  && echo\n");
	assert_int_equal(df->escape, '`');
	assert_string_equal(df->syntax, "docker/dockerfile:1");
	ARGS(&df->instrs[1], "dir c:\\   && echo");
	berth_dockerfile_free(df);

	/* an unknown directive is a comment, and ends the directives */
	df = parse_ok("# unknown=x\n# escape=`\nFROM a\nRUN a \\\nb\n");
	assert_int_equal(df->escape, '\\');
	ARGS(&df->instrs[1], "a b");
	berth_dockerfile_free(df);

	/* a directive after a comment is a comment */
	df = parse_ok("# hello\n# escape=`\nFROM a\nRUN a \\\nb\n");
	assert_int_equal(df->escape, '\\');
	ARGS(&df->instrs[1], "a b");
	berth_dockerfile_free(df);

	expect_error("# escape=x\nFROM a\n", "dockerfile parse error on line 1: invalid escape token 'x' does not validate");
	expect_error("# escape=`\n# escape=\\\nFROM a\n",
		     "dockerfile parse error on line 2: only one escape parser directive can be used");
}

static void test_json_forms(void **state)
{
	berth_dockerfile *df = parse_ok("FROM a\nRUN [\"echo\", \"a\\\"b\\u0041\"]\nRUN [ \"echo\", bad ]\n"
					"ENTRYPOINT []\nCOPY [\"a b\", \"/c d/\"]\nVOLUME /a /b\n");
	ARGS(&df->instrs[1], "echo", "a\"bA");
	assert_true(df->instrs[1].json);
	assert_false(df->instrs[2].json); /* invalid JSON falls back to shell form */
	ARGS(&df->instrs[2], "[ \"echo\", bad ]");
	assert_true(df->instrs[3].json);
	assert_int_equal(df->instrs[3].nargs, 0);
	ARGS(&df->instrs[4], "a b", "/c d/");
	ARGS(&df->instrs[5], "/a", "/b");
	berth_dockerfile_free(df);
	expect_error("FROM a\nCMD [\"a\", 1]\n", "dockerfile parse error on line 2: when using JSON array "
						  "syntax, arrays must be comprised of strings only");
}

static void test_env_label_arg(void **state)
{
	berth_dockerfile *df = parse_ok("FROM a\nENV A=1 B=\"two words\" C=a\\ b\nENV OLD value with  spaces\n"
					"LABEL \"com.x\"=\"y z\" k=v\nARG X Y=2 Z=\"q r\"\n");
	ARGS(&df->instrs[1], "A", "1", "B", "\"two words\"", "C", "a\\ b");
	ARGS(&df->instrs[2], "OLD", "value with  spaces");
	ARGS(&df->instrs[3], "\"com.x\"", "\"y z\"", "k", "v");
	ARGS(&df->instrs[4], "X", "Y=2", "Z=\"q r\"");
	berth_dockerfile_free(df);
	expect_error("FROM a\nENV A\n", "dockerfile parse error on line 2: ENV must have two arguments");
	expect_error("FROM a\nENV A=1 B\n", "dockerfile parse error on line 2: Syntax error - can't find = in "
					    "\"B\". Must be of the form: name=value");
	expect_error("FROM a\nENV\n", "dockerfile parse error on line 2: ENV requires at least one argument");
	expect_error("FROM a\nLABEL =x\n", "dockerfile parse error on line 2: LABEL names can not be blank");
	expect_error("FROM a\nARG =x\n", "dockerfile parse error on line 2: ARG names can not be blank");
}

static void test_flags(void **state)
{
	berth_dockerfile *df = parse_ok("FROM --platform=linux/amd64 a AS b\nCOPY --from=b --chown=1:2 --link x y\n"
					"HEALTHCHECK --interval=5s --retries=3 CMD [\"true\"]\nHEALTHCHECK NONE\n");
	assert_string_equal(berth_df_flag(&df->instrs[0], "platform"), "linux/amd64");
	ARGS(&df->instrs[0], "a", "AS", "b");
	assert_string_equal(berth_df_flag(&df->instrs[1], "from"), "b");
	assert_string_equal(berth_df_flag(&df->instrs[1], "chown"), "1:2");
	assert_string_equal(berth_df_flag(&df->instrs[1], "link"), "");
	assert_null(berth_df_flag(&df->instrs[1], "chmod"));
	ARGS(&df->instrs[1], "x", "y");
	ARGS(&df->instrs[2], "CMD", "true");
	assert_true(df->instrs[2].json);
	ARGS(&df->instrs[3], "NONE");
	berth_dockerfile_free(df);
	expect_error("FROM a\nCOPY --foo=1 a b\n", "dockerfile parse error on line 2: unknown flag: foo");
	expect_error("FROM a\nRUN --from=x true\n", "dockerfile parse error on line 2: unknown flag: from");
	expect_error("FROM a\nCOPY --from a b\n", "dockerfile parse error on line 2: missing a value on flag: from");
	expect_error("FROM a\nCOPY --from=x --from=y a b\n",
		     "dockerfile parse error on line 2: Duplicate flag specified: from");
	expect_error("FROM a\nHEALTHCHECK --retries=-1 CMD true\n",
		     "dockerfile parse error on line 2: --retries cannot be negative (-1)");
	expect_error("FROM a\nHEALTHCHECK --interval=1us CMD true\n",
		     "dockerfile parse error on line 2: Interval \"interval\" cannot be less than 1ms");
	expect_error("FROM a\nHEALTHCHECK NONE x\n", "dockerfile parse error on line 2: HEALTHCHECK NONE takes no arguments");
	expect_error("FROM a\nHEALTHCHECK FOO x\n",
		     "dockerfile parse error on line 2: Unknown type \"FOO\" in HEALTHCHECK (try CMD)");
	expect_error("FROM a\nHEALTHCHECK CMD\n", "dockerfile parse error on line 2: Missing command after HEALTHCHECK CMD");
}

static void test_errors(void **state)
{
	expect_error("", "the Dockerfile (Dockerfile) cannot be empty");
	expect_error("# only a comment\n\n", "file with no instructions");
	expect_error("FROM a\nFOO bar\n", "dockerfile parse error on line 2: unknown instruction: FOO");
	expect_error("FROM a\nRUNN x\n", "dockerfile parse error on line 2: unknown instruction: RUNN (did you mean run?)");
	expect_error("RUN x\n", "dockerfile parse error on line 1: no build stage in current context");
	expect_error("FROM a b\n", "dockerfile parse error on line 1: FROM requires either one or three arguments");
	expect_error("FROM a AS 1x\n", "dockerfile parse error on line 1: invalid name for build stage: \"1x\", "
				       "name can't start with a number or contain symbols");
	expect_error("FROM a\nCOPY a\n", "dockerfile parse error on line 2: COPY requires at least two arguments, "
					 "but only one was provided. Destination could not be determined.");
	expect_error("FROM a\nWORKDIR\n", "dockerfile parse error on line 2: WORKDIR requires exactly one argument");
	expect_error("FROM a\nUSER\n", "dockerfile parse error on line 2: USER requires exactly one argument");
	expect_error("FROM a\nSHELL sh -c\n", "dockerfile parse error on line 2: SHELL requires the arguments to be in JSON form");
	expect_error("FROM a\nEXPOSE\n", "dockerfile parse error on line 2: EXPOSE requires at least one argument");
	expect_error("FROM a\nVOLUME [\"\"]\n", "dockerfile parse error on line 2: VOLUME specified can not be an empty string");
	expect_error("FROM a\nONBUILD ONBUILD RUN x\n",
		     "dockerfile parse error on line 2: Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
	expect_error("FROM a\nONBUILD FROM b\n", "dockerfile parse error on line 2: FROM isn't allowed as an ONBUILD trigger");
	expect_error("FROM a\nONBUILD\n", "dockerfile parse error on line 2: ONBUILD requires at least one argument");
}

static void test_arg_before_from_and_onbuild(void **state)
{
	berth_dockerfile *df = parse_ok("ARG V=1\nFROM a:${V}\nONBUILD RUN echo hi\nMAINTAINER me <m@x>\n");
	assert_int_equal(df->instrs[0].cmd, BERTH_DF_ARG);
	assert_non_null(df->instrs[2].sub);
	assert_int_equal(df->instrs[2].sub->cmd, BERTH_DF_RUN);
	ARGS(df->instrs[2].sub, "echo hi");
	ARGS(&df->instrs[2], "RUN echo hi");
	ARGS(&df->instrs[3], "me <m@x>");
	berth_dockerfile_free(df);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_continuations),
		cmocka_unit_test(test_escape_directive),
		cmocka_unit_test(test_json_forms),
		cmocka_unit_test(test_env_label_arg),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_arg_before_from_and_onbuild),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
