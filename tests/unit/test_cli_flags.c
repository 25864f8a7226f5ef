/* test_cli_flags.c - the CLI's flag parser, help layout, tabwriter and formats. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/cli.h"

typedef struct opts {
	bool debug, verbose;
	const char *format;
	const char *name;
	berth_strlist filters;
} opts;

static int filter_check(const char *value, berth_error **err)
{
	if (strchr(value, '=') == NULL)
		return berth_error_set(err, 400, "bad format of filter (expected name=value)");
	return 0;
}

#define FLAGS(o)                                                                              \
	berth_flag flags[] = {                                                                \
		{"debug", 'D', BERTH_FLAG_BOOL, &(o).debug, "Enable debug mode"},             \
		{"verbose", 'v', BERTH_FLAG_BOOL, &(o).verbose, "Be verbose"},                \
		{"format", 'f', BERTH_FLAG_STRING, &(o).format, "Format"},                    \
		{"name", 0, BERTH_FLAG_STRING, &(o).name, "Name"},                            \
		{"filter", 'F', BERTH_FLAG_LIST, &(o).filters, "Filter", .type_name = "filter", \
		 .check = filter_check},                                                      \
	}

/* Parses a NULL-terminated argument list. */
static int parse(berth_flag *flags, size_t n, bool interspersed, berth_strlist *args,
		 bool *short_help, berth_error **err, ...)
{
	char *argv[32];
	int argc = 0;
	va_list ap;
	va_start(ap, err);
	for (char *a; (a = va_arg(ap, char *)) != NULL && argc < 31;)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	return berth_flags_parse(flags, n, interspersed, argc, argv, args, short_help, err);
}

#define PARSE(inter, ...) \
	parse(flags, BERTH_ARRAY_SIZE(flags), inter, &args, &short_help, &err, __VA_ARGS__, NULL)

#define SETUP                                  \
	opts o = {0};                          \
	FLAGS(o);                              \
	berth_strlist args cleanup_strlist = {0}; \
	berth_error *err cleanup_error = NULL; \
	bool short_help = false;               \
	(void)short_help

static void test_long_forms(void **state)
{
	SETUP;
	assert_int_equal(PARSE(true, "--format={{json .}}", "--name", "web", "--debug"), 0);
	assert_string_equal(o.format, "{{json .}}");
	assert_string_equal(o.name, "web");
	assert_true(o.debug);
	assert_true(flags[0].changed);
	assert_false(flags[1].changed);
	assert_int_equal(args.n, 0);
}

static void test_short_forms(void **state)
{
	SETUP;
	assert_int_equal(PARSE(true, "-fjson"), 0);
	assert_string_equal(o.format, "json");
	assert_int_equal(PARSE(true, "-f", "x"), 0);
	assert_string_equal(o.format, "x");
	assert_int_equal(PARSE(true, "-f=y"), 0);
	assert_string_equal(o.format, "y");
}

static void test_bundled_bools(void **state)
{
	SETUP;
	assert_int_equal(PARSE(true, "-Dv"), 0);
	assert_true(o.debug);
	assert_true(o.verbose);
	o.debug = o.verbose = false;
	assert_int_equal(PARSE(true, "-vDfz"), 0);
	assert_true(o.debug && o.verbose);
	assert_string_equal(o.format, "z");
	assert_int_equal(PARSE(true, "--debug=false", "-v=false"), 0);
	assert_false(o.debug);
	assert_false(o.verbose);
}

static void test_repeatable(void **state)
{
	SETUP;
	assert_int_equal(PARSE(true, "-F", "a=1", "--filter", "b=2", "--filter=c=3", "-Fd=4"), 0);
	assert_int_equal(o.filters.n, 4);
	assert_string_equal(o.filters.v[0], "a=1");
	assert_string_equal(o.filters.v[2], "c=3");
	assert_string_equal(o.filters.v[3], "d=4");
	assert_null(o.filters.v[4]);
	berth_strlist_reset(&o.filters);
}

static void test_positionals(void **state)
{
	SETUP;
	assert_int_equal(PARSE(true, "a", "-D", "-", "b", "--", "-v", "--x"), 0);
	assert_true(o.debug);
	assert_false(o.verbose);
	assert_int_equal(args.n, 5);
	assert_string_equal(args.v[0], "a");
	assert_string_equal(args.v[1], "-");
	assert_string_equal(args.v[2], "b");
	assert_string_equal(args.v[3], "-v");
	assert_string_equal(args.v[4], "--x");
}

static void test_not_interspersed(void **state)
{
	SETUP;
	assert_int_equal(PARSE(false, "-D", "run", "-v", "--unknown"), 0);
	assert_true(o.debug);
	assert_false(o.verbose);
	assert_int_equal(args.n, 3);
	assert_string_equal(args.v[0], "run");
	assert_string_equal(args.v[2], "--unknown");
}

static void test_errors(void **state)
{
	SETUP;
	static const struct {
		const char *arg, *arg2, *msg;
	} cases[] = {
		{"--foo", NULL, "unknown flag: --foo"},
		{"--foo=1", NULL, "unknown flag: --foo"},
		{"-x", NULL, "unknown shorthand flag: 'x' in -x"},
		{"-Dx", NULL, "unknown shorthand flag: 'x' in -Dx"},
		{"--format", NULL, "flag needs an argument: --format"},
		{"-f", NULL, "flag needs an argument: 'f' in -f"},
		{"--debug=maybe", NULL,
		 "invalid argument \"maybe\" for \"-D, --debug\" flag: strconv.ParseBool: parsing "
		 "\"maybe\": invalid syntax"},
		{"-F", "foo",
		 "invalid argument \"foo\" for \"-F, --filter\" flag: bad format of filter (expected "
		 "name=value)"},
	};
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(cases); i++) {
		berth_error_free(&err);
		assert_int_equal(PARSE(true, cases[i].arg, cases[i].arg2), -1);
		assert_non_null(err);
		assert_string_equal(err->msg, cases[i].msg);
	}
	berth_strlist_reset(&o.filters);
}

static void test_help(void **state)
{
	SETUP;
	assert_int_equal(PARSE(true, "--help"), BERTH_FLAGS_HELP);
	assert_false(short_help);
	assert_int_equal(PARSE(true, "-Dh"), BERTH_FLAGS_HELP);
	assert_true(short_help);
	/* A command's --help wins over an argument count it does not accept. */
	assert_int_equal(PARSE(true, "x", "--help", "y"), BERTH_FLAGS_HELP);
}

static void test_parse_bool(void **state)
{
	bool b = false;
	assert_int_equal(berth_parse_bool("True", &b), 0);
	assert_true(b);
	assert_int_equal(berth_parse_bool("0", &b), 0);
	assert_false(b);
	assert_int_equal(berth_parse_bool("yes", &b), -1);
}

/* `docker version --help`'s Options block, byte for byte. */
static void test_usage_layout(void **state)
{
	const char *format = NULL;
	berth_flag flags[] = {{"format", 'f', BERTH_FLAG_STRING, &format, BERTH_FORMAT_HELP}};
	berth_buf out cleanup_buf = {0};
	berth_flags_usage(flags, 1, 79, &out);
	assert_string_equal(out.data,
		"  -f, --format string   Format output using a custom template:\n"
		"                        'json':             Print in JSON format\n"
		"                        'TEMPLATE':         Print output using the given\n"
		"                        Go template.\n"
		"                        Refer to https://docs.docker.com/go/formatting/\n"
		"                        for more information about formatting output with\n"
		"                        templates\n");
}

/* Sorted by name, defaults quoted for strings, wrapped like docker's root help. */
static void test_usage_sorted_defaults(void **state)
{
	opts o = {0};
	berth_flag more[] = {
		{"since", 0, BERTH_FLAG_STRING, &o.name, "Show all events created since timestamp"},
		{"config", 0, BERTH_FLAG_STRING, &o.format, "Location of client config files",
		 .def = "/root/.docker"},
		{"filter", 'f', BERTH_FLAG_LIST, &o.filters, "Filter output", .type_name = "filter"},
		{"tlsverify", 0, BERTH_FLAG_BOOL, &o.debug, "Use TLS", .def = "true"},
	};
	berth_buf out cleanup_buf = {0};
	berth_flags_usage(more, BERTH_ARRAY_SIZE(more), 79, &out);
	assert_string_equal(out.data,
		"      --config string   Location of client config files (default\n"
		"                        \"/root/.docker\")\n"
		"  -f, --filter filter   Filter output\n"
		"      --since string    Show all events created since timestamp\n"
		"      --tlsverify       Use TLS (default true)\n");
}

/* ------------------------------------------------------------ tabwriter */

static void check_tab(const char *in, int minwidth, int padding, const char *want)
{
	berth_buf out cleanup_buf = {0};
	berth_tabwriter_format(in, strlen(in), minwidth, padding, &out);
	assert_string_equal(out.data ? out.data : "", want);
}

static void test_tabwriter_version(void **state)
{
	check_tab("Client:\n Version:\t1\n API version:\t1.47\n\nServer:\n Engine:\n  Version:\t2\n"
		  "  Experimental:\tfalse\n containerd:\n  GitCommit:\tabc\n",
		  20, 1,
		  "Client:\n Version:           1\n API version:       1.47\n\nServer:\n Engine:\n"
		  "  Version:          2\n  Experimental:     false\n containerd:\n"
		  "  GitCommit:        abc\n");
}

static void test_tabwriter_table(void **state)
{
	check_tab("CONTAINER ID\tIMAGE\tNAMES\nabc\tbusybox:latest\tweb\n", 10, 3,
		  "CONTAINER ID   IMAGE            NAMES\n"
		  "abc            busybox:latest   web\n");
	/* Widths count runes, not bytes; empty cells are padded. */
	check_tab("A\tB\n\xc3\xa9t\xc3\xa9\t\tx\n", 1, 1, "A   B\n\xc3\xa9t\xc3\xa9  x\n");
}

static void test_tabwriter_blocks(void **state)
{
	/* A line without a tab ends a column block; trailing text has no newline. */
	check_tab("a\tb\nlong line\nxxxxxx\ty", 0, 1, "a b\nlong line\nxxxxxx y");
	/* Right columns align within the lines that have them. */
	check_tab("a\tb\tc\naaaa\tb\nx\ty\tz\n", 0, 1, "a    b c\naaaa b\nx    y z\n");
	check_tab("", 10, 3, "");
}

/* ---------------------------------------------------------------- format */

static void test_format_kinds(void **state)
{
	berth_format f cleanup_format = {0};
	berth_error *err cleanup_error = NULL;
	assert_int_equal(berth_format_init(&f, "", "table {{.ID}}", &err), 0);
	assert_int_equal(f.kind, BERTH_FORMAT_DEFAULT);
	assert_int_equal(berth_format_init(&f, NULL, NULL, &err), 0);
	assert_int_equal(f.kind, BERTH_FORMAT_DEFAULT);

	json_t *data cleanup_json = json_pack("{s:s, s:i}", "Name", "web", "Size", 3);
	berth_buf out cleanup_buf = {0};
	assert_int_equal(berth_format_init(&f, "json", NULL, &err), 0);
	assert_int_equal(f.kind, BERTH_FORMAT_TEMPLATE);
	assert_int_equal(berth_format_row(&f, data, &out, &err), 0);
	assert_string_equal(out.data, "{\"Name\":\"web\",\"Size\":3}\n");
	berth_format_reset(&f);
}

static void test_format_table(void **state)
{
	berth_format f cleanup_format = {0};
	berth_error *err cleanup_error = NULL;
	berth_buf out cleanup_buf = {0};
	json_t *headers cleanup_json = json_pack("{s:s, s:s}", "ID", "CONTAINER ID", "Name", "NAMES");
	json_t *row1 cleanup_json = json_pack("{s:s, s:s}", "ID", "abc", "Name", "web");
	json_t *row2 cleanup_json = json_pack("{s:s, s:s}", "ID", "0123456789ab", "Name", "db");
	/* A bare "table" takes the command's default; `\t` is unescaped. */
	assert_int_equal(berth_format_init(&f, "table", "{{.ID}}\\t{{.Name}}", &err), 0);
	assert_int_equal(f.kind, BERTH_FORMAT_TABLE);
	assert_int_equal(berth_format_header(&f, headers, &err), 0);
	assert_int_equal(berth_format_row(&f, row1, &out, &err), 0);
	assert_int_equal(berth_format_row(&f, row2, &out, &err), 0);
	assert_int_equal(out.len, 0);
	berth_format_flush(&f, &out);
	assert_string_equal(out.data, "CONTAINER ID   NAMES\n"
				      "abc            web\n"
				      "0123456789ab   db\n");
	berth_format_reset(&f);
	berth_buf_reset(&out);
	assert_int_equal(berth_format_init(&f, "table {{.Name}}", "{{.ID}}", &err), 0);
	assert_int_equal(berth_format_header(&f, headers, &err), 0);
	berth_format_flush(&f, &out);
	assert_string_equal(out.data, "NAMES\n");
}

/* ------------------------------------------------------------ commands */

typedef struct capture {
	char *out_data, *err_data;
	size_t out_len, err_len;
	berth_cli cli;
} capture;

static void capture_open(capture *c)
{
	memset(c, 0, sizeof(*c));
	c->cli.out = open_memstream(&c->out_data, &c->out_len);
	c->cli.err = open_memstream(&c->err_data, &c->err_len);
	c->cli.term_cols = 79;
}

static void capture_close(capture *c)
{
	fclose(c->cli.out);
	fclose(c->cli.err);
}

static void capture_free(capture *c)
{
	free(c->out_data);
	free(c->err_data);
}

static const berth_command noargs_cmd = {"version", "[OPTIONS]", "Show the version", NULL, NULL,
					 0, 0, NULL, NULL};

/* berth_cli_parse of a --format flag, its output captured in c. */
static int run_parse(capture *c, const berth_command *cmd, int argc, char **argv, bool *go_on)
{
	capture_open(c);
	const char *format = NULL;
	berth_flag flags[] = {{"format", 'f', BERTH_FLAG_STRING, &format, BERTH_FORMAT_HELP}};
	berth_invocation inv = {&c->cli, cmd, "berth version", argc, argv};
	int status = -1;
	*go_on = berth_cli_parse(&inv, flags, 1, &status);
	berth_strlist_reset(&inv.args);
	capture_close(c);
	return status;
}

static void test_cli_parse_errors(void **state)
{
	capture c;
	bool go_on;
	char *bad[] = {"--foo"};
	assert_int_equal(run_parse(&c, &noargs_cmd, 1, bad, &go_on), BERTH_EXIT_USAGE);
	assert_false(go_on);
	assert_string_equal(c.err_data, "unknown flag: --foo\n\nUsage:  berth version [OPTIONS]\n\n"
					"Run 'berth version --help' for more information\n");
	capture_free(&c);

	char *extra[] = {"extra"};
	assert_int_equal(run_parse(&c, &noargs_cmd, 1, extra, &go_on), BERTH_EXIT_ERROR);
	assert_string_equal(c.err_data, "berth: 'berth version' accepts no arguments\n\n"
					"Usage:  berth version [OPTIONS]\n\n"
					"Run 'berth version --help' for more information\n");
	capture_free(&c);

	static const berth_command min_cmd = {"version", "NAME [NAME...]", "x", NULL, NULL, 1, -1,
					      NULL, NULL};
	assert_int_equal(run_parse(&c, &min_cmd, 0, NULL, &go_on), BERTH_EXIT_ERROR);
	assert_true(berth_str_has_prefix(c.err_data,
					 "berth: 'berth version' requires at least 1 argument\n"));
	assert_non_null(strstr(c.err_data, "See 'berth version --help'"));
	capture_free(&c);
}

static void test_cli_parse_help(void **state)
{
	capture c;
	bool go_on;
	char *help[] = {"--help"};
	assert_int_equal(run_parse(&c, &noargs_cmd, 1, help, &go_on), BERTH_EXIT_OK);
	assert_false(go_on);
	assert_true(berth_str_has_prefix(c.out_data, "Usage:  berth version [OPTIONS]\n\n"
						     "Show the version\n\nOptions:\n"
						     "  -f, --format string   Format output"));
	assert_string_equal(c.err_data, "");
	capture_free(&c);

	char *ok[] = {"-f", "json"};
	run_parse(&c, &noargs_cmd, 2, ok, &go_on);
	assert_true(go_on);
	capture_free(&c);
}

static void test_reformat_date(void **state)
{
	/* RFC 3339 becomes Go's ANSIC layout in the zone it is written in;
	 * what does not parse stays as it is */
	static const char *const cases[][2] = {
		{"2025-05-30T12:07:14.000000000+00:00", "Fri May 30 12:07:14 2025"},
		{"2025-05-30T12:07:14Z", "Fri May 30 12:07:14 2025"},
		{"2025-05-30T12:07:14.5+02:00", "Fri May 30 12:07:14 2025"},
		{"Nov 27 2026 01:07:55", "Nov 27 2026 01:07:55"},
		{"", ""},
	};
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(cases); i++) {
		char *s cleanup_free = berth_cli_reformat_date(cases[i][0]);
		assert_string_equal(s, cases[i][1]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_long_forms),
		cmocka_unit_test(test_short_forms),
		cmocka_unit_test(test_bundled_bools),
		cmocka_unit_test(test_repeatable),
		cmocka_unit_test(test_positionals),
		cmocka_unit_test(test_not_interspersed),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_parse_bool),
		cmocka_unit_test(test_usage_layout),
		cmocka_unit_test(test_usage_sorted_defaults),
		cmocka_unit_test(test_tabwriter_version),
		cmocka_unit_test(test_tabwriter_table),
		cmocka_unit_test(test_tabwriter_blocks),
		cmocka_unit_test(test_format_kinds),
		cmocka_unit_test(test_format_table),
		cmocka_unit_test(test_cli_parse_errors),
		cmocka_unit_test(test_cli_parse_help),
		cmocka_unit_test(test_reformat_date),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
