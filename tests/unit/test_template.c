/* common/template.c: the Go text/template subset behind --format. Expected
 * outputs and messages are what Go's text/template with docker's functions
 * prints for the same template and data. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common.h"

/* Parses and executes tpl against json in env (NULL: untyped); returns the
 * output, or the error message prefixed with "ERR: ". */
static char *run(const char *tpl, const char *json, const berth_template_env *env)
{
	berth_error *err cleanup_error = NULL;
	berth_template *t cleanup_template = NULL;
	json_t *data cleanup_json = NULL;
	if (json != NULL) {
		json_error_t jerr;
		data = json_loads(json, JSON_DECODE_ANY, &jerr);
		if (data == NULL)
			fail_msg("bad test JSON %s: %s", json, jerr.text);
	}
	if (berth_template_parse(tpl, &t, &err) < 0) {
		assert_int_equal(err->status, 400);
		return berth_xasprintf("ERR: %s", err->msg);
	}
	berth_buf out = {0};
	if (berth_template_execute_env(t, data, env, &out, &err) < 0) {
		assert_int_equal(err->status, 400);
		assert_int_equal(out.len, 0);
		return berth_xasprintf("ERR: %s", err->msg);
	}
	return berth_buf_steal(&out);
}

#define check_in(env, tpl, json, want)                                                           \
	do {                                                                                       \
		char *got_ cleanup_free = run(tpl, json, env);                                      \
		if (strcmp(got_, want) != 0)                                                       \
			fail_msg("template %s\n  want [%s]\n  got  [%s]", tpl, want, got_);        \
	} while (0)
#define check(tpl, json, want) check_in(NULL, tpl, json, want)

#define check_err(tpl, json, want) check(tpl, json, "ERR: " want)

static const char *container =
	"{\"ID\":\"4c01db0b339c\",\"Names\":\"web\",\"Image\":\"nginx:1.25\",\"Status\":\"Up 2 hours\","
	"\"Labels\":{\"com.example.tier\":\"front\",\"app\":\"shop\"},"
	"\"Config\":{\"Cmd\":[\"nginx\",\"-g\",\"daemon off;\"],\"Env\":null,\"Tty\":false},"
	"\"State\":{\"Running\":true,\"Pid\":4242,\"ExitCode\":0,\"Health\":null},"
	"\"Mounts\":[{\"Source\":\"/srv\",\"Destination\":\"/usr/share/nginx\",\"RW\":true}],"
	"\"NetworkSettings\":{\"Networks\":{\"bridge\":{\"IPAddress\":\"172.17.0.2\"},"
	"\"backend\":{\"IPAddress\":\"10.0.0.5\"}}},\"CPU\":1.5,\"Big\":1000000.0}";

static void test_text(void **state)
{
	check("", NULL, "");
	check("plain text", NULL, "plain text");
	check("a } b { c }} d", NULL, "a } b { c }} d");
	check("tab\tnewline\n", NULL, "tab\tnewline\n");
	check("{{`{{`}}", NULL, "{{");
}

static void test_fields(void **state)
{
	const char *d = "{\"Name\":\"web\",\"A\":{\"B\":{\"C\":3}},\"Null\":null,\"Arr\":[1,2]}";
	check("{{.Name}}", d, "web");
	check("{{.A.B.C}}", d, "3");
	check("{{ .A.B.C }}", d, "3");
	check("{{.Missing}}", d, "<no value>");
	check("{{.Null}}", d, "<no value>");
	check("{{.Null.X.Y}}", d, "<no value>");
	check("{{.Missing.X}}", d, "<no value>");
	check("{{.A.Missing}}", d, "<no value>");
	check("{{$.Name}}", d, "web");
	check("{{.}}", "\"just a string\"", "just a string");
	check("{{.}}", "null", "<no value>");
	check("{{.}}", NULL, "<no value>");
	check("{{.name}}", d, "<no value>"); /* keys are case sensitive */
}

static void test_pipelines(void **state)
{
	const char *d = "{\"Name\":\"Web\",\"Labels\":{\"b\":\"2\",\"a\":\"1\"}}";
	check("{{.Name | upper}}", d, "WEB");
	check("{{.Name | lower | upper}}", d, "WEB");
	check("{{.Labels | json}}", d, "{\"b\":\"2\",\"a\":\"1\"}");
	check("{{json .Labels}}", d, "{\"b\":\"2\",\"a\":\"1\"}");
	check("{{.Name | printf \"%s-%s\" \"x\"}}", d, "x-Web");
	check("{{\"a,b\" | split \",\" | len}}", NULL, "1"); /* split "," "a,b" */
	check("{{split \"a,b\" \",\" | len}}", NULL, "2");
	check("{{.Name |}}", d, "Web");
	check("{{(.Name)}}", d, "Web");
	check("{{len (split (join (split \"a b c\" \" \") \",\") \",\")}}", NULL, "3");
}

static void test_json_function(void **state)
{
	check("{{json .}}", "{\"z\":1,\"a\":[1,2.5,true,false,null],\"m\":{}}",
	      "{\"z\":1,\"a\":[1,2.5,true,false,null],\"m\":{}}");
	/* no HTML escaping, but Go's escapes for quotes, controls and U+2028 */
	check("{{json .}}", "\"<a href=\\\"x\\\">&amp;</a>\"", "\"<a href=\\\"x\\\">&amp;</a>\"");
	check("{{json .}}", "\"t\\tn\\nr\\rb\\bf\\f\\u0001\\u001f\\u007f\\\\\"",
	      "\"t\\tn\\nr\\rb\\bf\\f\\u0001\\u001f\x7f\\\\\"");
	check("{{json .}}", "\"\\u2028\\u2029\"", "\"\\u2028\\u2029\"");
	check("{{json .}}", "\"h\\u00e9llo \\ud83d\\ude00\"", "\"h\xc3\xa9llo \xf0\x9f\x98\x80\"");
	check("{{json .}}", "[1e21,1e20,0.000001,1e-7,-0.0,1.5,100.0,123456789012]",
	      "[1e+21,100000000000000000000,0.000001,1e-7,-0,1.5,100,123456789012]");
	check("{{json .Missing}}", "{}", "null");
	check("{{json \"x\"}} {{json 1}} {{json 1.5}} {{json true}} {{json nil}}", NULL,
	      "\"x\" 1 1.5 true null");
	/* broken UTF-8 (truncate cuts bytes) becomes U+FFFD */
	check("{{json (truncate \"\xc3\xa9\" 1)}}", NULL, "\"\\ufffd\"");
}

static void test_index(void **state)
{
	const char *d = "{\"M\":{\"key\":\"v\",\"n\":{\"deep\":1}},\"L\":[\"a\",\"b\",[\"x\"]],\"S\":\"AB\"}";
	check("{{index .M \"key\"}}", d, "v");
	check("{{index .M \"nope\"}}", d, "<no value>");
	check("{{index .L 1}}", d, "b");
	check("{{index .L 2 0}}", d, "x");
	check("{{index .M \"n\" \"deep\"}}", d, "1");
	check("{{index .S 1}}", d, "66");
	check("{{index .M}}", d, "map[key:v n:map[deep:1]]");
	check("{{(index .M \"n\").deep}}", d, "1");
	check("{{index . \"with-dash\"}}", "{\"with-dash\":\"ok\"}", "ok");
}

static void test_join_split(void **state)
{
	const char *d = "{\"L\":[\"a\",\"b\",\"c\"],\"S\":\"x,y,,z\",\"E\":[],\"N\":null}";
	check("{{join .L \", \"}}", d, "a, b, c");
	check("{{join .E \",\"}}|{{join .N \",\"}}", d, "|");
	check("{{split .S \",\"}}", d, "[x y  z]");
	check("{{len (split .S \",\")}}", d, "4");
	check("{{len (split \"\" \",\")}} {{len (split \"\" \"\")}}", NULL, "1 0");
	check("{{split \"h\xc3\xa9llo\" \"\"}}", NULL, "[h \xc3\xa9 l l o]");
	check("{{split \"a::b::\" \"::\"}}", NULL, "[a b ]");
	check("{{join (split \"a-b-c\" \"-\") \"+\"}}", NULL, "a+b+c");
	check("{{range split \"x y\" \" \"}}<{{.}}>{{end}}", NULL, "<x><y>");
}

static void test_case_functions(void **state)
{
	check("{{lower \"HeLLo\"}} {{upper \"HeLLo\"}}", NULL, "hello HELLO");
	check("{{lower \"\xc3\x89T\xc3\x89 \xce\xa3\xce\x91\xce\xa3 \xd0\x9f\xd0\xa0\xd0\x98\"}}", NULL,
	      "\xc3\xa9t\xc3\xa9 \xcf\x83\xce\xb1\xcf\x83 \xd0\xbf\xd1\x80\xd0\xb8"); /* été σασ при */
	check("{{upper \"stra\xc3\x9f" "e \xc3\xaf\xc3\xa7 \xc5\x82\xc3\xb3" "d\xc5\xba\"}}", NULL,
	      "STRA\xc3\x9f" "E \xc3\x8f\xc3\x87 \xc5\x81\xc3\x93" "D\xc5\xb9"); /* ß has no upper */
	check("{{title \"hello wide world\"}}", NULL, "Hello Wide World");
	check("{{title \"foo-bar baz_qux x.y\"}}", NULL, "Foo-Bar Baz_qux X.Y");
	check("{{title \"\xc3\xa9" "cole \xc3\xa0 paris\"}}", NULL, "\xc3\x89" "cole \xc3\x80 Paris");
	check("{{title \"aLREADY\"}}", NULL, "ALREADY"); /* Title leaves the rest alone */
	check("{{upper \"\xef\xbd\x81\xc7\x86\"}} {{lower \"\xc4\xb0\"}}", NULL, "\xef\xbc\xa1\xc7\x84 i"); /* ａǆ İ */
	check("{{upper \"\xff\"}}", NULL, "\xef\xbf\xbd"); /* a broken byte is U+FFFD, as in Go */
}

static void test_print_println(void **state)
{
	check("{{print \"a\" 1 2 \"b\" 3}}", NULL, "a1 2b3");
	check("{{print 1 2}}|{{print \"a\" \"b\"}}|{{print}}", NULL, "1 2|ab|");
	check("{{println \"a\" 1 \"b\"}}", NULL, "a 1 b\n");
	check("{{println}}", NULL, "\n");
	check("{{print nil .Missing}}", "{}", "<nil> <nil>");
	check("{{print .}}", "[1,\"x\",null,{\"k\":[true]}]", "[1 x <nil> map[k:[true]]]");
}

static void test_printf(void **state)
{
	check("{{printf \"%s-%d-%v-%q\" \"a\" 42 1.5 \"q\\\"\"}}", NULL, "a-42-1.5-\"q\\\"\"");
	check("{{printf \"[%5s|%-5s|%.2s|%05d|%+d|%x|%X|%#x|%o|%b]\" \"ab\" \"cd\" \"xyz\" -42 7 255 255 255 8 5}}",
	      NULL, "[   ab|cd   |xy|-0042|+7|ff|FF|0xff|10|101]");
	check("{{printf \"%.2f %e %g %8.3f %t %c %U %q\" 3.14159 1234.5 0.00001 2.5 true 233 65 65}}", NULL,
	      "3.14 1.234500e+03 1e-05    2.500 true \xc3\xa9 U+0041 'A'");
	check("{{printf \"%v %d %s\" .L .L .M}}", "{\"L\":[1,2],\"M\":{\"b\":\"x\",\"a\":\"y\"}}",
	      "[1 2] [1 2] map[a:y b:x]");
	check("{{printf \"%d %s\"}}", NULL, "%!d(MISSING) %!s(MISSING)");
	check("{{printf \"%d\" \"x\"}}", NULL, "%!d(string=x)");
	check("{{printf \"x\" 1 \"y\"}}", NULL, "x%!(EXTRA int=1, string=y)");
	check("{{printf \"%\"}}|{{printf \"100%%\"}}|{{printf \"%z\" 3}}", NULL, "%!(NOVERB)|100%|%!z(int=3)");
	check("{{printf \"%s|%v\" nil nil}}", NULL, "%!s(<nil>)|<nil>");
	check("{{printf \"%T %T %T %T\" 1 1.5 \"s\" .}}", "[]", "int float64 string []interface {}");
	check("{{printf \"%6.2f|%-8v|\" 3.14159 \"h\xc3\xa9\"}}", NULL, "  3.14|h\xc3\xa9      |");
	check("{{printf \"%x %X %x\" \"hi\" \"hi\" -255}}", NULL, "6869 6869 -ff");
	check("{{printf \"[%.0d|%3.0d|%#o|%O|%#b|%x]\" 0 0 8 8 5 .}}", "[10,11]", "[|   |010|0o10|0b101|[a b]]");
	check("{{printf \"%+.1f|%08.3f|%-7.2e|%.3g|%G|% d\" 2.25 -3.14159 1234.5 3.14159 1e-7 5}}", NULL,
	      "+2.2|-003.142|1.23e+03|3.14|1E-07| 5");
	check("{{printf \"%q\" \"\\x01\\n\\xff\\u0085\\u00e9\"}}", NULL, "\"\\x01\\n\\xff\\u0085\xc3\xa9\"");
	check("{{printf \"%c|%q|%t|%s\" -1 9 1 true}}", NULL, "\xef\xbf\xbd|'\\t'|%!t(int=1)|%!s(bool=true)");
	check("{{printf \"%d|%v\" .}}", "[[1,null],{\"k\":null}]", "[[1 <nil>] map[%!d(string=k):<nil>]]|%!v(MISSING)");
	check("{{printf \"%5.1q|%-4d|\" \"abc\" 7}}", NULL, "  \"a\"|7   |");
}

static void test_len_slice(void **state)
{
	const char *d = "{\"S\":\"h\xc3\xa9llo\",\"L\":[1,2,3],\"M\":{\"a\":1,\"b\":2}}";
	check("{{len .S}} {{len .L}} {{len .M}}", d, "6 3 2");
	check("{{slice .L 1}} {{slice .L 1 2}} {{slice .L}}", d, "[2 3] [2] [1 2 3]");
	check("{{slice \"hello\" 1 3}}", NULL, "el");
	check("{{len print}} {{len (slice .L 3)}}", d, "0 0");
}

static void test_truncate_pad(void **state)
{
	check("{{truncate \"abcdef\" 3}}|{{truncate \"ab\" 5}}|{{truncate \"ab\" 2}}", NULL, "abc|ab|ab");
	check("[{{pad \"x\" 2 1}}]", NULL, "[  x ]");
	check("[{{pad \"\" 2 1}}]", NULL, "[]"); /* docker pads nothing around nothing */
	check("{{truncate .ID 12}}", "{\"ID\":\"4c01db0b339c9e2f\"}", "4c01db0b339c");
	/* the piped value is the last argument: truncate 12 .ID */
	check_err("{{.ID | truncate 12}}", "{\"ID\":\"x\"}",
		  "template: :1:17: executing \"\" at <12>: expected string; found 12");
}

static void test_comparisons(void **state)
{
	const char *d = "{\"I\":5,\"F\":1.5,\"S\":\"b\",\"B\":true,\"N\":null}";
	check("{{eq .I 5}} {{eq .I 6}} {{eq .I 6 7 5}} {{eq .S \"b\"}} {{eq .B true}} {{eq .F 1.5}}", d,
	      "true false true true true true");
	check("{{ne .I 5}} {{ne .S \"a\"}}", d, "false true");
	check("{{lt .I 6}} {{le .I 5}} {{gt .I 5}} {{ge .I 5}} {{lt \"a\" .S}} {{gt .F 1}}", d,
	      "true true false true true true");
	check("{{eq .N .Missing}} {{eq .S .N}} {{eq .I 5.0}}", d, "true false true");
	check_err("{{eq .I \"5\"}}", d,
		  "template: :1:2: executing \"\" at <eq .I \"5\">: error calling eq: incompatible types for comparison");
	check_err("{{lt .B .B}}", d,
		  "template: :1:2: executing \"\" at <lt .B .B>: error calling lt: invalid type for comparison");
	check_err("{{eq .I}}", d,
		  "template: :1:2: executing \"\" at <eq .I>: error calling eq: missing argument for comparison");
}

static void test_logic(void **state)
{
	check("{{and 1 0 2}}|{{and 1 2}}|{{or 0 \"\" \"x\"}}|{{or 0 \"\"}}|{{not 0}}|{{not \"x\"}}", NULL,
	      "0|2|x||true|false");
	/* and/or stop at the deciding argument: the index below never runs */
	check("{{and false (index nil 1)}}|{{or true (index nil 1)}}", NULL, "false|true");
	check("{{if and .A (not .B)}}yes{{end}}", "{\"A\":1,\"B\":false}", "yes");
	check("{{.A | or .B}}", "{\"A\":\"a\",\"B\":\"\"}", "a");
}

static void test_if_else(void **state)
{
	const char *t = "{{if .A}}a{{else if .B}}b{{else if .C}}c{{else}}none{{end}}";
	check(t, "{\"A\":1}", "a");
	check(t, "{\"B\":1}", "b");
	check(t, "{\"C\":1}", "c");
	check(t, "{}", "none");
	check("{{if .A}}yes{{end}}", "{\"A\":false}", "");
	check("{{if $x := .A}}{{$x}}{{end}}", "{\"A\":\"v\"}", "v");
	check("{{if .A}}{{if .B}}ab{{else}}a{{end}}{{end}}", "{\"A\":1,\"B\":0}", "a");
}

static void test_truthiness(void **state)
{
	static const struct {
		const char *json, *want;
	} cases[] = {
		{"false", "F"}, {"true", "T"},  {"0", "F"},      {"1", "T"},      {"-1", "T"},
		{"0.0", "F"},   {"0.1", "T"},   {"\"\"", "F"},   {"\"0\"", "T"},  {"null", "F"},
		{"[]", "F"},    {"[0]", "T"},   {"{}", "F"},     {"{\"a\":0}", "T"},
	};
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(cases); i++)
		check("{{if .}}T{{else}}F{{end}}", cases[i].json, cases[i].want);
	check("{{if .Missing}}T{{else}}F{{end}}", "{}", "F");
}

static void test_range(void **state)
{
	const char *d = "{\"L\":[\"a\",\"b\"],\"E\":[],\"M\":{\"z\":1,\"a\":2,\"m\":3},\"Top\":\"T\"}";
	check("{{range .L}}[{{.}}]{{end}}", d, "[a][b]");
	check("{{range .E}}x{{else}}empty{{end}}|{{range .Missing}}x{{else}}none{{end}}", d, "empty|none");
	check("{{range $i, $v := .L}}{{$i}}={{$v}} {{end}}", d, "0=a 1=b ");
	check("{{range $v := .L}}{{$v}}{{end}}", d, "ab");
	check("{{range $k, $v := .M}}{{$k}}:{{$v}} {{end}}", d, "a:2 m:3 z:1 ");
	check("{{range .M}}{{.}}{{end}}", d, "231");
	check("{{range .L}}{{$.Top}}{{.}}{{end}}", d, "TaTb");
	check("{{range 3}}{{.}}{{end}}|{{range 0}}x{{else}}zero{{end}}", NULL, "012|zero");
	check("{{range .}}{{range $}}{{.}}{{end}};{{end}}", "[1,2]", "12;12;");
	/* with =, range assigns to variables declared outside it */
	check("{{$i := 0}}{{$v := 0}}{{range $i, $v = .}}{{end}}{{$i}}-{{$v}}", "[\"a\",\"b\"]", "1-b");
	check("{{$v := 0}}{{range $v = .}}{{end}}{{$v}}", "[\"a\",\"b\"]", "b");
	check("{{range $i, $e := .}}{{range $j, $f := $e}}{{$i}}{{$j}}{{$f}} {{end}}{{end}}",
	      "[[\"a\",\"b\"],[\"c\"]]", "00a 01b 10c ");
}

static void test_break_continue(void **state)
{
	const char *d = "{\"L\":[\"a\",\"b\",\"c\"]}";
	check("{{range .L}}{{if eq . \"b\"}}{{break}}{{end}}{{.}}{{end}}", d, "a");
	check("{{range .L}}{{if eq . \"b\"}}{{continue}}{{end}}{{.}}{{end}}", d, "ac");
	check("{{range .L}}{{range $.L}}{{break}}{{end}}{{.}}{{end}}", d, "abc");
	check_err("{{break}}", NULL, "template: :1: {{break}} outside {{range}}");
	check_err("{{range .L}}{{else}}{{continue}}{{end}}", d, "template: :1: {{continue}} outside {{range}}");
}

static void test_with(void **state)
{
	const char *d = "{\"A\":{\"B\":\"bee\"},\"E\":\"\"}";
	check("{{with .A}}{{.B}}{{end}}", d, "bee");
	check("{{with .E}}x{{else}}empty{{end}}", d, "empty");
	check("{{with .X}}x{{else with .A}}{{.B}}{{end}}", d, "bee");
	check("{{with $a := .A}}{{$a.B}}{{.B}}{{end}}", d, "beebee");
	check("{{with .A}}{{$.E}}{{.B}}{{end}}", d, "bee");
}

static void test_variables(void **state)
{
	check("{{$x := .A}}{{$x}}{{$x = \"changed\"}} {{$x}}", "{\"A\":\"a\"}", "a changed");
	check("{{$n := 0}}{{range .}}{{$n = .}}{{end}}{{$n}}", "[1,2,3]", "3");
	check("{{$x := 1}}{{if true}}{{$x := 2}}{{$x}}{{end}}{{$x}}", NULL, "21");
	check("{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}", NULL, "2");
	check("{{$}}", "7", "7");
	check("{{$x := .}}{{$x.A.B}}", "{\"A\":{\"B\":\"deep\"}}", "deep");
	check_err("{{$x}}", NULL, "template: :1: undefined variable \"$x\"");
	check_err("{{if true}}{{$y := 1}}{{end}}{{$y}}", NULL, "template: :1: undefined variable \"$y\"");
	check_err("{{if false}}{{$y := 1}}{{else}}{{$y}}{{end}}", NULL,
		  "template: :1:33: executing \"\" at <$y>: undefined variable: $y");
}

static void test_trim_and_comments(void **state)
{
	const char *d = "{\"A\":\"a\"}";
	check("x  {{- .A -}}  y", d, "xay");
	check("x \n\t {{- .A}} \n y", d, "xa \n y");
	check("x  {{.A -}} \n\t y", d, "x  ay");
	check("x {{-3}} y", NULL, "x -3 y"); /* no space after -: a negative number */
	check("a{{/* a comment */}}b", NULL, "ab");
	check("a \n {{- /* trimmed */ -}} \n b", NULL, "ab");
	check("{{range .}}\n  {{- .}}\n{{- end}}", "[1,2]", "12");
	check("{{.A\n}}", d, "a"); /* newlines are spaces inside actions */
	check("{{.A   -}}  x", d, "ax");  /* several spaces before the marker */
	check("{{.A\t-}}\nx", d, "ax");
}

static void test_literals(void **state)
{
	check("{{\"a\\tb\\u00e9\\x41\\101\\\\\\\"\"}}", NULL, "a\tb\xc3\xa9" "AA\\\"");
	check("{{`raw\\n{{`}}", NULL, "raw\\n{{");
	check("{{'a'}} {{'\\n'}} {{'\xc3\xa9'}}", NULL, "97 10 233");
	check("{{0x1F}} {{017}} {{0o17}} {{0b101}} {{-5}} {{+5}} {{1_000}}", NULL, "31 15 15 5 -5 5 1000");
	check("{{1.5}} {{1e3}} {{.5}} {{1.0}} {{true}} {{false}}", NULL, "1.5 1000 0.5 1 true false");
	check_err("{{\"\\q\"}}", NULL, "template: :1: invalid syntax");
	check_err("{{'ab'}}", NULL, "template: :1: malformed character constant: 'ab'");
	check_err("{{1__0}}", NULL, "template: :1: illegal number syntax: \"1__0\"");
	check_err("{{3x}}", NULL, "template: :1: bad number syntax: \"3x\"");
}

static void test_value_printing(void **state)
{
	check("{{.}}", "[1,2.5,\"a b\",true,null]", "[1 2.5 a b true <nil>]");
	check("{{.}}", "{\"b\":{\"y\":[1]},\"a\":\"x\",\"C\":null}", "map[C:<nil> a:x b:map[y:[1]]]");
	check("{{.}}", "[]", "[]");
	check("{{.}}", "{}", "map[]");
	check("{{.A}} {{.B}} {{.C}} {{.D}} {{.E}} {{.F}} {{.G}} {{.H}}",
	      "{\"A\":1.5,\"B\":1000000.0,\"C\":0.00001,\"D\":123456.0,\"E\":0.0001,\"F\":1234567.0,"
	      "\"G\":-2.5e-10,\"H\":1e100}",
	      "1.5 1e+06 1e-05 123456 0.0001 1.234567e+06 -2.5e-10 1e+100");
	check("{{.}}", "9007199254740993", "9007199254740993");
	check("{{.}}", "0.1", "0.1");
	check("{{.}}", "-0.0", "-0");
}

static void test_parse_errors(void **state)
{
	static const char *const cases[][2] = {
		{"{{foo}}", "template: :1: function \"foo\" not defined"},
		{"{{.Name}", "template: :1: unexpected \"}\" in operand"},
		{"{{.Name", "template: :1: unclosed action"},
		{"x\n{{.Name\n\n", "template: :4: unclosed action started at :2"},
		{"{{if .A}}x", "template: :1: unexpected EOF"},
		{"{{end}}", "template: :1: unexpected {{end}}"},
		{"{{else}}", "template: :1: unexpected {{else}}"},
		{"{{if .A}}{{else}}{{else}}{{end}}", "template: :1: expected end; found {{else}}"},
		{"{{}}", "template: :1: missing value for command"},
		{"{{range}}{{end}}", "template: :1: missing value for range"},
		{"{{\"abc}}", "template: :1: unterminated quoted string"},
		{"{{`abc}}", "template: :1: unterminated raw quoted string"},
		{"{{.A\"x\"}}", "template: :1: bad character U+0022 '\"'"},
		{"{{.A \x01}}", "template: :1: unrecognized character in action: U+0001"},
		{"{{/* x", "template: :1: unclosed comment"},
		{"{{/* x */ .A}}", "template: :1: comment ends before closing delimiter"},
		{"{{.A | \"x\"}}", "template: :1: non executable command in pipeline stage 2"},
		{"{{(.A}}", "template: :1: unclosed left paren"},
		{"{{.A)}}", "template: :1: unexpected right paren"},
		{"{{.A :}}", "template: :1: expected :="},
		{"{{\"x\".A}}", "template: :1: unexpected . after term \"\\\"x\\\"\""},
		{"{{$a, $b := 1}}", "template: :1: too many declarations in command"},
		{"{{range $i, $v, $w := .}}{{end}}", "template: :1: too many declarations in range"},
		{"{{range .}}{{break 1}}{{end}}", "template: :1: unexpected \"1\" in {{break}}"},
		{"{{.A end}}", "template: :1: unexpected <end> in operand"},
		{"{{if .A}}{{end x}}", "template: :1: unexpected \"x\" in end"},
		{"{{\"0123456789abc\" \"}}", "template: :1: unterminated quoted string"},
		{"{{define \"x\"}}{{end}}", "template: :1: {{define}} is not supported"},
		{"a\nb\n{{nope}}", "template: :3: function \"nope\" not defined"},
		{"{{range $i, 1}}{{end}}", "template: :1: range can only initialize variables"},
		{"{{block \"x\" .}}{{end}}", "template: :1: {{block}} is not supported"},
		{"{{if 1}}{{end \"0123456789abcdef\"}}", "template: :1: unexpected \"\\\"012345678\"... in end"},
		{"{{'\\q'}}", "template: :1: invalid syntax"},
		{"{{.A |  | .B}}", "template: :1: unexpected \"|\" in command"},
		{"{{$x := }}", "template: :1: missing value for command"},
	};
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(cases); i++) {
		char *want cleanup_free = berth_xasprintf("ERR: %s", cases[i][1]);
		check(cases[i][0], NULL, want);
	}
}

static const char *exec_data = "{\"A\":\"a\",\"L\":[1,2],\"M\":{\"k\":\"v\"},\"N\":null,\"I\":5,\"B\":true}";

static void test_exec_errors(void **state)
{
	static const char *const cases[][2] = {
		{"{{.A.X}}", "template: :1:4: executing \"\" at <.A.X>: can't evaluate field X in type string"},
		{"{{.L.X}}", "template: :1:4: executing \"\" at <.L.X>: can't evaluate field X in type []interface {}"},
		{"{{index .A \"x\"}}", "template: :1:2: executing \"\" at <index .A \"x\">: error calling index: "
				     "cannot index slice/array with type string"},
		{"{{index .I 1}}", "template: :1:2: executing \"\" at <index .I 1>: error calling index: "
				   "can't index item of type int"},
		{"{{index .L 5}}", "template: :1:2: executing \"\" at <index .L 5>: error calling index: "
				   "index out of range: 5"},
		{"{{index .M 1}}", "template: :1:2: executing \"\" at <index .M 1>: error calling index: "
				   "value has type int; should be string"},
		{"{{index .N 1}}", "template: :1:2: executing \"\" at <index .N 1>: error calling index: "
				   "index of untyped nil"},
		{"{{upper}}", "template: :1:2: executing \"\" at <upper>: wrong number of args for upper: want 1 got 0"},
		{"{{index}}", "template: :1:2: executing \"\" at <index>: wrong number of args for index: "
			      "want at least 1 got 0"},
		{"{{upper .I}}", "template: :1:8: executing \"\" at <.I>: wrong type for value; expected string; got int"},
		{"{{upper .N}}", "template: :1:8: executing \"\" at <.N>: invalid value; expected string"},
		{"{{upper 1}}", "template: :1:8: executing \"\" at <1>: expected string; found 1"},
		{"{{join .L \",\"}}", "template: :1:7: executing \"\" at <.L>: wrong type for value; "
				      "expected []string; got []interface {}"},
		{"{{.A | .M}}", "template: :1:7: executing \"\" at <.M>: M is not a method but has arguments"},
		{"{{1 2}}", "template: :1:2: executing \"\" at <1>: can't give argument to non-function 1"},
		{"{{nil}}", "template: :1:2: executing \"\" at <nil>: nil is not a command"},
		{"{{range .A}}{{end}}", "template: :1:8: executing \"\" at <.A>: range can't iterate over a"},
		{"{{range $i, $v := 3}}{{end}}", "template: :1:18: executing \"\" at <3>: "
						 "can't use 3 to iterate over more than one variable"},
		{"{{len .I}}", "template: :1:2: executing \"\" at <len .I>: error calling len: len of type int"},
		{"{{pad .A -1 0}}", "template: :1:2: executing \"\" at <pad .A -1 0>: error calling pad: "
				    "strings: negative Repeat count"},
		{"{{truncate .A -1}}", "template: :1:2: executing \"\" at <truncate .A -1>: error calling truncate: "
				       "runtime error: slice bounds out of range [:-1]"},
		{"{{slice .L 2 1}}", "template: :1:2: executing \"\" at <slice .L 2 1>: error calling slice: "
				     "invalid slice index: 2 > 1"},
		{"x\n  {{.A.X}}", "template: :2:6: executing \"\" at <.A.X>: can't evaluate field X in type string"},
	};
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(cases); i++) {
		char *want cleanup_free = berth_xasprintf("ERR: %s", cases[i][1]);
		check(cases[i][0], exec_data, want);
	}
}

/* Arguments of the wrong kind, and the functions' own failures. */
static void test_function_errors(void **state)
{
	static const char *const cases[][2] = {
		{"{{upper .B}}", "template: :1:8: executing \"\" at <.B>: wrong type for value; expected string; got bool"},
		{"{{upper .M}}", "template: :1:8: executing \"\" at <.M>: wrong type for value; expected string; "
				 "got map[string]interface {}"},
		{"{{upper nil}}", "template: :1:8: executing \"\" at <nil>: cannot assign nil to string"},
		{"{{truncate .A \"x\"}}", "template: :1:14: executing \"\" at <\"x\">: expected integer; found \"x\""},
		{"{{upper lower}}", "template: :1:8: executing \"\" at <lower>: wrong number of args for lower: "
				    "want 1 got 0"},
		{"{{index .L nil}}", "template: :1:2: executing \"\" at <index .L nil>: error calling index: "
				     "cannot index slice/array with nil"},
		{"{{index .M nil}}", "template: :1:2: executing \"\" at <index .M nil>: error calling index: "
				     "value is nil; should be of type string"},
		{"{{index .A 1}}", "template: :1:2: executing \"\" at <index .A 1>: error calling index: "
				   "index out of range: 1"},
		{"{{slice .N}}", "template: :1:2: executing \"\" at <slice .N>: error calling slice: slice of untyped nil"},
		{"{{slice .I 1}}", "template: :1:2: executing \"\" at <slice .I 1>: error calling slice: "
				   "can't slice item of type int"},
		{"{{slice .A 0 1 1}}", "template: :1:2: executing \"\" at <slice .A 0 1 1>: error calling slice: "
				       "cannot 3-index slice a string"},
		{"{{slice .L 0 1 1 1}}", "template: :1:2: executing \"\" at <slice .L 0 1 1 1>: error calling slice: "
					 "too many slice indexes: 4"},
		{"{{len .N}}", "template: :1:2: executing \"\" at <len .N>: error calling len: len of nil pointer"},
		{"{{eq .M .M}}", "template: :1:2: executing \"\" at <eq .M .M>: error calling eq: "
				 "non-comparable type map[string]interface {}: invalid type for comparison"},
		{"{{ge .I .A}}", "template: :1:2: executing \"\" at <ge .I .A>: error calling ge: "
				 "incompatible types for comparison"},
		{"{{gt .N 1}}", "template: :1:2: executing \"\" at <gt .N 1>: error calling gt: invalid type for comparison"},
	};
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(cases); i++) {
		char *want cleanup_free = berth_xasprintf("ERR: %s", cases[i][1]);
		check(cases[i][0], exec_data, want);
	}
}

static void test_unicode(void **state)
{
	const char *d = "{\"\xc3\x91" "ame\":\"\xc3\xb1\",\"\xe6\x97\xa5\xe6\x9c\xac\":\"\xe8\xaa\x9e\","
			"\"S\":\"\xf0\x9f\x90\xb3 berth\"}";
	check("{{.\xc3\x91" "ame}} {{.\xe6\x97\xa5\xe6\x9c\xac}}", d, "\xc3\xb1 \xe8\xaa\x9e");
	check("\xe2\x86\x92 {{.S}} \xe2\x86\x90", d, "\xe2\x86\x92 \xf0\x9f\x90\xb3 berth \xe2\x86\x90");
	check("{{len .S}} {{upper .S}}", d, "10 \xf0\x9f\x90\xb3 BERTH");
	check("{{printf \"%q\" .S}}", d, "\"\xf0\x9f\x90\xb3 berth\"");
	check("{{range $k, $v := .}}{{$k}};{{end}}", d, "S;\xc3\x91" "ame;\xe6\x97\xa5\xe6\x9c\xac;");
}

static void test_docker_formats(void **state)
{
	check("{{.ID}}\t{{.Names}}\t{{.Image}}\t{{.Status}}", container,
	      "4c01db0b339c\tweb\tnginx:1.25\tUp 2 hours");
	check("{{.State.Running}} {{.State.Pid}} {{.State.Health}}", container, "true 4242 <no value>");
	check("{{json .Config.Cmd}}", container, "[\"nginx\",\"-g\",\"daemon off;\"]");
	check("{{join .Config.Cmd \" \"}}", container, "nginx -g daemon off;");
	check("{{range $k, $v := .Labels}}{{$k}}={{$v}} {{end}}", container, "app=shop com.example.tier=front ");
	check("{{index .Labels \"com.example.tier\"}}", container, "front");
	check("{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}", container, "10.0.0.5 172.17.0.2 ");
	check("{{range $n, $c := .NetworkSettings.Networks}}{{$n}}:{{$c.IPAddress}};{{end}}", container,
	      "backend:10.0.0.5;bridge:172.17.0.2;");
	check("{{range .Mounts}}{{.Source}}:{{.Destination}}{{if not .RW}}:ro{{end}}{{end}}", container,
	      "/srv:/usr/share/nginx");
	check("{{if .State.Running}}running{{else}}exited ({{.State.ExitCode}}){{end}}", container, "running");
	check("{{.Config.Env}}|{{.Config.Tty}}|{{.CPU}}|{{.Big}}", container, "<no value>|false|1.5|1e+06");
	check("{{title .Names}} {{upper .Names | printf \"%-6s|\"}}", container, "Web WEB   |");
	check("{{json .State}}", container, "{\"Running\":true,\"Pid\":4242,\"ExitCode\":0,\"Health\":null}");
}

static void test_output_contract(void **state)
{
	berth_error *err cleanup_error = NULL;
	berth_template *t cleanup_template = NULL;
	json_t *ok cleanup_json = json_pack("{s:[i,i]}", "L", 1, 2);
	json_t *bad cleanup_json = json_pack("{s:s}", "L", "str");
	assert_int_equal(berth_template_parse("{{range .L}}<{{.}}>{{end}}", &t, &err), 0);
	berth_buf out cleanup_buf = {0};
	berth_buf_puts(&out, "keep:");
	/* appends; a template runs any number of times */
	assert_int_equal(berth_template_execute(t, ok, &out, &err), 0);
	assert_int_equal(berth_template_execute(t, ok, &out, &err), 0);
	assert_string_equal(out.data, "keep:<1><2><1><2>");
	/* on error the buffer is left as it was */
	assert_int_equal(berth_template_execute(t, bad, &out, &err), -1);
	assert_int_equal(err->status, 400);
	assert_string_equal(out.data, "keep:<1><2><1><2>");
	/* the data is left as it was, refcounts included */
	assert_int_equal(ok->refcount, 1);
	berth_template_free(NULL);
	berth_template *none cleanup_template = NULL;
	assert_int_equal(berth_template_parse("{{", &none, NULL), -1); /* err may be NULL */
	assert_null(none);
}

static json_t *nested_arrays(int depth)
{
	json_t *v = json_array();
	for (int i = 0; i < depth; i++) {
		json_t *outer = json_array();
		json_array_append_new(outer, v);
		v = outer;
	}
	return v;
}

static void test_limits(void **state)
{
	berth_buf deep cleanup_buf = {0};
	for (int i = 0; i < 150; i++)
		berth_buf_puts(&deep, "{{if 1}}");
	char *got cleanup_free = run(deep.data, NULL, NULL);
	assert_string_equal(got, "ERR: template: :1: max nesting depth exceeded");
	berth_buf parens cleanup_buf = {0};
	berth_buf_puts(&parens, "{{");
	for (int i = 0; i < 150; i++)
		berth_buf_puts(&parens, "(");
	char *got2 cleanup_free = run(parens.data, NULL, NULL);
	assert_string_equal(got2, "ERR: template: :1: max expression depth exceeded");

	/* a value nested deeper than the printers go is an error, not a crash */
	static const char *const printers[] = {"{{json .}}", "{{.}}", "{{print .}}", "{{printf \"%v\" .}}",
					      "{{range .}}{{.}}{{end}}"};
	json_t *v cleanup_json = nested_arrays(10000);
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(printers); i++) {
		berth_error *err cleanup_error = NULL;
		berth_template *t cleanup_template = NULL;
		assert_int_equal(berth_template_parse(printers[i], &t, &err), 0);
		berth_buf out cleanup_buf = {0};
		assert_int_equal(berth_template_execute(t, v, &out, &err), -1);
		assert_non_null(strstr(err->msg, "nested too deeply"));
	}

	check("{{range 100000000000}}{{end}}", NULL,
	      "ERR: template: :1:8: executing \"\" at <100000000000>: template execution exceeded 1000000 steps");
	char *big cleanup_free = run("{{range 300}}{{$x := pad \"x\" 1000000 0}}{{end}}", NULL, NULL);
	assert_non_null(strstr(big, "error calling pad: template execution exceeded its memory budget"));
	char *wide cleanup_free = run("{{range 100000}}{{printf \"%1000d\" 1}}{{end}}", NULL, NULL);
	assert_non_null(strstr(wide, "template output exceeds"));
}

static void test_cleanup(void **state)
{
	for (int i = 0; i < 3; i++) {
		berth_template *t cleanup_template = NULL;
		berth_error *err cleanup_error = NULL;
		assert_int_equal(berth_template_parse("{{range $i, $v := .}}{{$i}}{{with $v}}{{.}}{{end}}{{end}}",
						      &t, &err), 0);
		assert_null(err);
	}
}

/* Go structs: docker's formatter contexts and version's renamed fields. */
static int label_of(const json_t *aux, json_t *const *args, json_t **out)
{
	const char *v = berth_json_string(json_object_get(aux, "Labels"), json_string_value(args[0]));
	*out = json_string(v ? v : "");
	return 0;
}

static char *run_env(const char *name, const char *tpl, const char *json, bool missingkey)
{
	static const berth_template_method methods[] = {{"Label", 1, label_of}, {0}};
	static const char *const renames[] = {"APIVersion", "ApiVersion", NULL};
	static const berth_template_type ctx = {"*formatter.ContainerContext", true, renames,
						methods};
	berth_error *err cleanup_error = NULL;
	berth_template *t cleanup_template = NULL;
	json_t *data cleanup_json = json_loads(json, 0, NULL);
	assert_non_null(data);
	if (berth_template_parse_named(name, tpl, &t, &err) < 0)
		return berth_xasprintf("ERR: %s", err->msg);
	berth_template_struct st = {data, &ctx, data};
	berth_template_env env = {.missingkey_error = missingkey, .structs = &st,
				  .nstructs = missingkey ? 0 : 1};
	berth_buf out = {0};
	if (berth_template_execute_env(t, data, &env, &out, &err) < 0) {
		berth_buf_reset(&out);
		return berth_xasprintf("ERR: %s", err->msg);
	}
	return berth_buf_steal(&out);
}

#define check_env(name, tpl, json, missingkey, want)                                              \
	do {                                                                                       \
		char *got_ cleanup_free = run_env(name, tpl, json, missingkey);                     \
		if (strcmp(got_, want) != 0)                                                       \
			fail_msg("template %s\n  want [%s]\n  got  [%s]", tpl, want, got_);        \
	} while (0)

static void test_structs(void **state)
{
	const char *c = "{\"Names\":\"web\",\"ApiVersion\":\"1.47\",\"Labels\":{\"tier\":\"<db>\"}}";
	check_env("", "{{.Names}} {{.Label \"tier\"}}|{{.Label \"x\"}}|", c, false, "web <db>||");
	check_env("", "{{\"tier\" | .Label}}", c, false, "<db>");
	check_env("", "{{.APIVersion}}", c, false, "1.47");
	/* a renamed field left out of the JSON (omitempty) is Go's "" */
	check_env("", "[{{.APIVersion}}]", "{\"Names\":\"web\"}", false, "[]");
	check_env("", "{{.ApiVersion}}", c, false,
		  "ERR: template: :1:2: executing \"\" at <.ApiVersion>: can't evaluate field "
		  "ApiVersion in type *formatter.ContainerContext");
	check_env("", "{{.Nope}}", c, false,
		  "ERR: template: :1:2: executing \"\" at <.Nope>: can't evaluate field Nope in "
		  "type *formatter.ContainerContext");
	check_env("", "{{.Label}}", c, false,
		  "ERR: template: :1:2: executing \"\" at <.Label>: wrong number of args for Label: "
		  "want 1 got 0");
	check_env("", "{{.Names \"x\"}}", c, false,
		  "ERR: template: :1:2: executing \"\" at <.Names>: wrong number of args for Names: "
		  "want 0 got 1");
	check_env("", "{{.Label 1}}", c, false,
		  "ERR: template: :1:9: executing \"\" at <1>: expected string; found 1");
	/* a context marshals itself: sorted keys, HTML escaped; its maps do not */
	check_env("", "{{json .}}", c, false,
		  "{\"ApiVersion\":\"1.47\",\"Labels\":{\"tier\":\"\\u003cdb\\u003e\"},\"Names\":\"web\"}");
	check_env("", "{{json .Labels}}", c, false, "{\"tier\":\"<db>\"}");
	/* docker inspect's missingkey=error on maps; present keys as before */
	check_env("", "{{.Names}}", c, true, "web");
	check_env("", "{{.Nope}}", c, true,
		  "ERR: template: :1:2: executing \"\" at <.Nope>: map has no entry for key \"Nope\"");
	check_env("", "{{.Labels.nope}}", c, true,
		  "ERR: template: :1:9: executing \"\" at <.Labels.nope>: map has no entry for key "
		  "\"nope\"");
	/* a named template names itself in its errors */
	check_env("version", "{{.Nope", c, false, "ERR: template: version:1: unclosed action");
	check_env("version", "{{.Nope}}", c, false,
		  "ERR: template: version:1:2: executing \"version\" at <.Nope>: can't evaluate field "
		  "Nope in type *formatter.ContainerContext");
}

/* A small Go type, as docker inspect's: struct Obj { Name string; Env
 * []string; Labels map[string]string; Policy struct{Name string; Max int};
 * Health *struct{...}; Started time.Time; Every time.Duration;
 * Tags []string `json:",omitempty"`; Inner (embedded) struct{Deep int} }. */
static const berth_go_type t_s = {'s'}, t_i = {'i'}, t_t = {'t'}, t_d = {'d'};
static const berth_go_type t_strs = {'L', NULL, &t_s}, t_labels = {'M', NULL, &t_s};
static const berth_go_field policy_fields[] = {{"Name", "Name", &t_s}, {"Max", "Max", &t_i}};
static const berth_go_type t_policy = {'S', "main.Policy", NULL, policy_fields, 2};
static const berth_go_type t_health = {'P', NULL, &t_policy};
static const berth_go_field inner_fields[] = {{"Deep", "Deep", &t_i}};
static const berth_go_type t_inner = {'S', "main.Inner", NULL, inner_fields, 1};
static const berth_go_field obj_fields[] = {
	{"Name", "Name", &t_s},	       {"Env", "Env", &t_strs},
	{"Labels", "Labels", &t_labels}, {"Policy", "Policy", &t_policy},
	{"Health", "Health", &t_health}, {"Started", "Started", &t_t},
	{"Every", "Every", &t_d},	       {"Tags", "Tags", &t_strs, false, true},
	{"Inner", NULL, &t_inner, true},
};
static const berth_go_type t_obj = {'S', "main.Obj", NULL, obj_fields, 9};

#define check_typed(tpl, json, want)                                                             \
	check_in(&(berth_template_env){.go_type = &t_obj}, tpl, json, want)

static void test_go_types(void **state)
{
	/* absent or null fields are Go's zero values, not "no value" */
	check_typed("{{.Name}}|{{.Env}}|{{.Labels}}|{{.Policy}}|{{.Health}}|{{.Every}}|{{.Tags}}",
		    "{\"Env\":null}", "|[]|map[]|{ 0}|<nil>|0s|[]");
	check_typed("{{.Started}}", "{}", "0001-01-01 00:00:00 +0000 UTC");
	check_typed("{{.Started}}", "{\"Started\":\"2026-12-06T21:06:38.1675Z\"}",
		    "2026-12-06 21:06:38.1675 +0000 UTC");
	check_typed("{{.Every}} {{.Policy.Max}}", "{\"Every\":5400000000000,\"Policy\":{\"Max\":3}}",
		    "1h30m0s 3");
	/* structs print their fields in order, embedded ones nested; pointers
	 * nested in a struct print as an address */
	check_typed("{{.}}",
		    "{\"Name\":\"x\",\"Env\":[\"A=1\"],\"Health\":{\"Name\":\"ok\"},\"Deep\":7}",
		    "{x [A=1] map[] { 0} 0xc000010000 0001-01-01 00:00:00 +0000 UTC 0s [] {7}}");
	check_typed("{{.Health}} {{.Inner.Deep}} {{.Deep}}", "{\"Health\":{\"Name\":\"ok\"},\"Deep\":7}",
		    "{ok 0} 7 7");
	/* map lookups: a missing key is no value by field, the zero value by index */
	check_typed("{{.Labels.a}}|{{.Labels.b}}|{{index .Labels \"b\"}}|", "{\"Labels\":{\"a\":\"1\"}}",
		    "1|<no value>||");
	/* json: nil slices and maps are null, fields in Go's order, omitempty
	 * ones left out, map keys sorted */
	check_typed("{{json .Env}} {{json .Labels}} {{json .Health}} {{json .Policy}}", "{}",
		    "null null null {\"Name\":\"\",\"Max\":0}");
	check_typed("{{json .}}", "{\"Labels\":{\"b\":\"2\",\"a\":\"1\"},\"Name\":\"x\",\"Extra\":1}",
		    "{\"Name\":\"x\",\"Env\":null,\"Labels\":{\"a\":\"1\",\"b\":\"2\"},\"Policy\":"
		    "{\"Name\":\"\",\"Max\":0},\"Health\":null,\"Started\":\"0001-01-01T00:00:00Z\","
		    "\"Every\":0,\"Deep\":0}");
	/* if: a nil pointer is false, a struct true; range over a nil slice */
	check_typed("{{if .Health}}h{{else}}-{{end}}{{if .Policy}}p{{end}}{{range .Env}}e{{else}}0{{end}}",
		    "{}", "-p0");
	/* what the struct does not have is an error (docker then runs the raw
	 * document), and so is a field of a nil pointer */
	check_typed("{{.Nope}}", "{\"Nope\":1}",
		    "ERR: template: :1:2: executing \"\" at <.Nope>: can't evaluate field Nope in "
		    "type main.Obj");
	check_typed("{{.Health.Name}}", "{}",
		    "ERR: template: :1:9: executing \"\" at <.Health.Name>: nil pointer evaluating "
		    "main.Policy.Name");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_go_types),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_pipelines),
		cmocka_unit_test(test_json_function),
		cmocka_unit_test(test_index),
		cmocka_unit_test(test_join_split),
		cmocka_unit_test(test_case_functions),
		cmocka_unit_test(test_print_println),
		cmocka_unit_test(test_printf),
		cmocka_unit_test(test_len_slice),
		cmocka_unit_test(test_truncate_pad),
		cmocka_unit_test(test_comparisons),
		cmocka_unit_test(test_logic),
		cmocka_unit_test(test_if_else),
		cmocka_unit_test(test_truthiness),
		cmocka_unit_test(test_range),
		cmocka_unit_test(test_break_continue),
		cmocka_unit_test(test_with),
		cmocka_unit_test(test_variables),
		cmocka_unit_test(test_trim_and_comments),
		cmocka_unit_test(test_literals),
		cmocka_unit_test(test_value_printing),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_exec_errors),
		cmocka_unit_test(test_function_errors),
		cmocka_unit_test(test_unicode),
		cmocka_unit_test(test_docker_formats),
		cmocka_unit_test(test_output_contract),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_cleanup),
		cmocka_unit_test(test_structs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
