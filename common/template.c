/*
 * template.c - the subset of Go's text/template that the docker CLI's
 * --format flag uses, evaluated against jansson values.
 *
 * text -> lexer (an array of tokens) -> parser (a tree of nodes) -> executor
 * (walks the tree with "dot" bound to a json_t). Messages copy Go's wording,
 * because users and scripts match on them:
 *
 *   template: :1: function "foo" not defined
 *   template: :1:7: executing "" at <.Name.X>: can't evaluate field X in type string
 *
 * Values stand for the Go types json.Unmarshal makes, except that JSON
 * integers stay integers (Go's int): string, int, float64, bool,
 * []interface {}, map[string]interface {}. JSON null plays Go's "no value"
 * (a missing map key or a nil interface) and prints as "<no value>".
 *
 * Every evaluation function hands back a new reference. A pipeline's "final"
 * argument (the previous command's value) is NULL when there is none, as Go's
 * missingVal, which is not the same thing as a null value.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

/* Limits that keep hostile templates from exhausting the stack, memory or
 * time; real docker templates are nowhere near them. */
#define MAX_DEPTH 100                    /* nested control structures and parentheses */
#define MAX_VALUE_DEPTH 4096             /* nesting of a value being printed */
#define MAX_STEPS 1000000L               /* nodes evaluated by one execution */
#define MAX_OUTPUT ((size_t)64 << 20)    /* bytes one execution may write */
#define MAX_ALLOC ((size_t)256 << 20)    /* bytes functions may build in one execution */
#define MAX_WIDTH 1000000                /* printf widths, as Go's fmt allows */

static json_t *must(json_t *j)
{
	/* jansson reports allocation failure as NULL; berth aborts on it. */
	if (j == NULL) {
		fputs("berth: out of memory\n", stderr);
		abort();
	}
	return j;
}

/* Room for element n of a growing array: capacity doubles at each power
 * of two, so n appends cost O(n). Arrays that shrink (the variable stack)
 * keep the room they had. */
static void *grow(void *v, size_t n, size_t size)
{
	if (n == 0 || (n & (n - 1)) == 0)
		return berth_xrealloc(v, (n ? 2 * n : 1) * size);
	return v;
}

static json_t *ref(const json_t *j)
{
	/* Values from the caller's data are const to it, not to their refcount. */
	return json_incref((json_t *)j);
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* ------------------------------------------------------------------ UTF-8 */

#define RUNE_ERROR 0xFFFDu

/* One rune, as Go's utf8.DecodeRune: an invalid sequence is U+FFFD of width 1.
 * len must be at least 1. */
static size_t utf8_decode(const char *s, size_t len, uint32_t *cp)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = u[0] < 0x80 ? 1 : u[0] < 0xC2 ? 0 : u[0] < 0xE0 ? 2 : u[0] < 0xF0 ? 3 : u[0] < 0xF5 ? 4 : 0;
	uint32_t c = n == 1 ? u[0] : n == 2 ? u[0] & 0x1Fu : n == 3 ? u[0] & 0x0Fu : u[0] & 0x07u;
	if (n == 0 || n > len)
		goto bad;
	for (size_t i = 1; i < n; i++) {
		if ((u[i] & 0xC0) != 0x80)
			goto bad;
		c = c << 6 | (u[i] & 0x3Fu);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10FFFF)) ||
	    (c >= 0xD800 && c <= 0xDFFF))
		goto bad;
	*cp = c;
	return n;
bad:
	*cp = RUNE_ERROR;
	return 1;
}

static bool invalid_rune(uint32_t cp, size_t width)
{
	return cp == RUNE_ERROR && width == 1;
}

static void utf8_append(berth_buf *b, uint32_t cp)
{
	unsigned char s[4];
	size_t n;
	if (cp < 0x80) {
		s[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		s[0] = (unsigned char)(0xC0 | cp >> 6);
		n = 2;
	} else if (cp < 0x10000) {
		s[0] = (unsigned char)(0xE0 | cp >> 12);
		n = 3;
	} else {
		s[0] = (unsigned char)(0xF0 | cp >> 18);
		n = 4;
	}
	for (size_t i = 1; i < n; i++)
		s[i] = (unsigned char)(0x80 | (cp >> (6 * (n - 1 - i)) & 0x3F));
	berth_buf_append(b, s, n);
}

static size_t utf8_count(const char *s, size_t len)
{
	size_t n = 0;
	uint32_t cp;
	for (size_t i = 0; i < len; n++)
		i += utf8_decode(s + i, len - i, &cp);
	return n;
}

/* Unicode's spaces beyond ASCII (Go's unicode.IsSpace). */
static bool is_unicode_space(uint32_t cp)
{
	return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
	       cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

/* Go's identifiers take Unicode letters and digits; berth takes every
 * non-ASCII rune but spaces and broken bytes, which is close enough. */
static bool is_alnum_rune(uint32_t cp, size_t width)
{
	if (cp < 0x80)
		return cp == '_' || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
		       (cp >= '0' && cp <= '9');
	return !invalid_rune(cp, width) && cp != RUNE_ERROR && !is_unicode_space(cp);
}

/* ------------------------------------------------------------- case maps */

/* Simple case mappings for the scripts names and labels use, after Go's
 * unicode.CaseRanges: deltas to upper and lower case, or UPPER_LOWER for
 * runs that alternate Upper, lower, Upper, lower... */
#define UPPER_LOWER INT32_MAX
static const struct case_range {
	uint32_t lo, hi;
	int32_t upper, lower;
} case_ranges[] = {
	{0x0041, 0x005A, 0, 32},     {0x0061, 0x007A, -32, 0},    {0x00B5, 0x00B5, 743, 0},
	{0x00C0, 0x00D6, 0, 32},     {0x00D8, 0x00DE, 0, 32},     {0x00E0, 0x00F6, -32, 0},
	{0x00F8, 0x00FE, -32, 0},    {0x00FF, 0x00FF, 121, 0},    {0x0100, 0x012F, UPPER_LOWER, UPPER_LOWER},
	{0x0130, 0x0130, 0, -199},   {0x0131, 0x0131, -232, 0},   {0x0132, 0x0137, UPPER_LOWER, UPPER_LOWER},
	{0x0139, 0x0148, UPPER_LOWER, UPPER_LOWER}, {0x014A, 0x0177, UPPER_LOWER, UPPER_LOWER},
	{0x0178, 0x0178, 0, -121},   {0x0179, 0x017E, UPPER_LOWER, UPPER_LOWER}, {0x017F, 0x017F, -300, 0},
	{0x01C4, 0x01C4, 0, 2},      {0x01C5, 0x01C5, -1, 1},     {0x01C6, 0x01C6, -2, 0},
	{0x01C7, 0x01C7, 0, 2},      {0x01C8, 0x01C8, -1, 1},     {0x01C9, 0x01C9, -2, 0},
	{0x01CA, 0x01CA, 0, 2},      {0x01CB, 0x01CB, -1, 1},     {0x01CC, 0x01CC, -2, 0},
	{0x01CD, 0x01DC, UPPER_LOWER, UPPER_LOWER}, {0x01DE, 0x01EF, UPPER_LOWER, UPPER_LOWER},
	{0x01F1, 0x01F1, 0, 2},      {0x01F2, 0x01F2, -1, 1},     {0x01F3, 0x01F3, -2, 0},
	{0x01F8, 0x021F, UPPER_LOWER, UPPER_LOWER}, {0x0222, 0x0233, UPPER_LOWER, UPPER_LOWER},
	{0x0386, 0x0386, 0, 38},     {0x0388, 0x038A, 0, 37},     {0x038C, 0x038C, 0, 64},
	{0x038E, 0x038F, 0, 63},     {0x0391, 0x03A1, 0, 32},     {0x03A3, 0x03AB, 0, 32},
	{0x03AC, 0x03AC, -38, 0},    {0x03AD, 0x03AF, -37, 0},    {0x03B1, 0x03C1, -32, 0},
	{0x03C2, 0x03C2, -31, 0},    {0x03C3, 0x03CB, -32, 0},    {0x03CC, 0x03CC, -64, 0},
	{0x03CD, 0x03CE, -63, 0},    {0x03D8, 0x03EF, UPPER_LOWER, UPPER_LOWER},
	{0x0400, 0x040F, 0, 80},     {0x0410, 0x042F, 0, 32},     {0x0430, 0x044F, -32, 0},
	{0x0450, 0x045F, -80, 0},    {0x0460, 0x0481, UPPER_LOWER, UPPER_LOWER},
	{0x048A, 0x04BF, UPPER_LOWER, UPPER_LOWER}, {0x04C0, 0x04C0, 0, 15},
	{0x04C1, 0x04CE, UPPER_LOWER, UPPER_LOWER}, {0x04CF, 0x04CF, -15, 0},
	{0x04D0, 0x052F, UPPER_LOWER, UPPER_LOWER}, {0x0531, 0x0556, 0, 48}, {0x0561, 0x0586, -48, 0},
	{0x1E00, 0x1E95, UPPER_LOWER, UPPER_LOWER}, {0x1EA0, 0x1EFF, UPPER_LOWER, UPPER_LOWER},
	{0xFF21, 0xFF3A, 0, 32},     {0xFF41, 0xFF5A, -32, 0},
};

enum case_mode { CASE_LOWER, CASE_UPPER, CASE_TITLE };

static uint32_t to_case(uint32_t cp, bool upper)
{
	size_t lo = 0, hi = BERTH_ARRAY_SIZE(case_ranges);
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct case_range *r = &case_ranges[mid];
		if (cp < r->lo) {
			hi = mid;
		} else if (cp > r->hi) {
			lo = mid + 1;
		} else {
			int32_t d = upper ? r->upper : r->lower;
			if (d == UPPER_LOWER)
				return r->lo + (((cp - r->lo) & ~1u) | (upper ? 0u : 1u));
			return (uint32_t)((int32_t)cp + d);
		}
	}
	return cp;
}

/* strings.Title starts a word after anything but a letter, digit or '_'
 * in ASCII, and after Unicode spaces beyond it. */
static bool title_separator(uint32_t cp)
{
	if (cp < 0x80)
		return !is_alnum_rune(cp, 1);
	return is_unicode_space(cp);
}

/* strings.ToLower/ToUpper/Title; broken bytes become U+FFFD as in Go. */
static void map_case(berth_buf *b, const char *s, size_t len, enum case_mode mode)
{
	uint32_t prev = ' ', cp;
	for (size_t i = 0; i < len;) {
		i += utf8_decode(s + i, len - i, &cp);
		uint32_t out = cp;
		if (mode == CASE_TITLE)
			out = title_separator(prev) ? to_case(cp, true) : cp;
		else
			out = to_case(cp, mode == CASE_UPPER);
		utf8_append(b, out);
		prev = cp;
	}
}

/* ---------------------------------------------------------- Go's quoting */

static bool rune_printable(uint32_t cp)
{
	return cp >= 0x20 && cp != 0x7F && !(cp >= 0x80 && cp < 0xA0) && cp != 0xAD && cp != 0xFEFF &&
	       !is_unicode_space(cp);
}

/* One rune of strconv.Quote: what %q and the parser's messages print. */
static void quote_rune(berth_buf *b, const char *raw, size_t width, uint32_t cp, char quote)
{
	static const char esc[] = "\a\b\f\n\r\t\v", name[] = "abfnrtv";
	const char *e = cp != 0 && cp < 0x80 ? strchr(esc, (int)cp) : NULL;
	if (invalid_rune(cp, width))
		berth_buf_printf(b, "\\x%02x", (unsigned char)raw[0]);
	else if (cp == (uint32_t)quote || cp == '\\')
		berth_buf_printf(b, "\\%c", (char)cp);
	else if (e != NULL)
		berth_buf_printf(b, "\\%c", name[e - esc]);
	else if (cp < 0x80 && !rune_printable(cp))
		berth_buf_printf(b, "\\x%02x", cp);
	else if (!rune_printable(cp))
		berth_buf_printf(b, "\\u%04x", cp);
	else
		berth_buf_append(b, raw, width);
}

/* strconv.Quote; max_runes > 0 cuts the string first, as %.10q does. */
static void go_quote(berth_buf *b, const char *s, size_t len, size_t max_runes, char quote)
{
	uint32_t cp;
	berth_buf_append(b, &quote, 1);
	for (size_t i = 0, n = 0; i < len && (max_runes == 0 || n < max_runes); n++) {
		size_t w = utf8_decode(s + i, len - i, &cp);
		quote_rune(b, s + i, w, cp, quote);
		i += w;
	}
	berth_buf_append(b, &quote, 1);
}

/* fmt's %#U: U+0041 'A'. */
static void put_rune_u(berth_buf *b, uint32_t cp)
{
	berth_buf_printf(b, "U+%04X", cp);
	if (rune_printable(cp)) {
		berth_buf_puts(b, " '");
		utf8_append(b, cp);
		berth_buf_puts(b, "'");
	}
}

/* ---------------------------------------------------------------- floats */

/* The shortest digits that read back as |v|, as strconv finds them: the
 * decimal point sits after dp of the nd digits. */
typedef struct decimal {
	char d[24];
	int nd, dp;
} decimal;

static void shortest_decimal(double v, decimal *dec)
{
	char buf[40];
	for (int prec = 0; prec < 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*e", prec, fabs(v));
		if (strtod(buf, NULL) == fabs(v))
			break;
	}
	const char *p = buf;
	dec->nd = 0;
	for (; *p != 'e'; p++)
		if (*p != '.')
			dec->d[dec->nd++] = *p;
	dec->dp = atoi(p + 1) + 1;
}

/* n copies of c, a chunk at a time: pad widths reach a million. */
static void put_repeat(berth_buf *b, char c, size_t n)
{
	char chunk[256];
	memset(chunk, c, sizeof(chunk));
	while (n > 0) {
		size_t k = n < sizeof(chunk) ? n : sizeof(chunk);
		berth_buf_append(b, chunk, k);
		n -= k;
	}
}

static void put_zeros(berth_buf *b, int n)
{
	put_repeat(b, '0', n > 0 ? (size_t)n : 0);
}

/* d.ddde±XX; Go's %e pads the exponent to two digits, encoding/json does not. */
static void put_sci(berth_buf *b, const decimal *dec, char e, bool two_digits)
{
	int exp = dec->dp - 1;
	berth_buf_append(b, dec->d, 1);
	if (dec->nd > 1) {
		berth_buf_append(b, ".", 1);
		berth_buf_append(b, dec->d + 1, (size_t)dec->nd - 1);
	}
	berth_buf_printf(b, two_digits ? "%c%c%02d" : "%c%c%d", e, exp < 0 ? '-' : '+', abs(exp));
}

static void put_fixed(berth_buf *b, const decimal *dec)
{
	if (dec->dp <= 0) {
		berth_buf_puts(b, "0.");
		put_zeros(b, -dec->dp);
		berth_buf_append(b, dec->d, (size_t)dec->nd);
	} else if (dec->dp >= dec->nd) {
		berth_buf_append(b, dec->d, (size_t)dec->nd);
		put_zeros(b, dec->dp - dec->nd);
	} else {
		berth_buf_append(b, dec->d, (size_t)dec->dp);
		berth_buf_append(b, ".", 1);
		berth_buf_append(b, dec->d + dec->dp, (size_t)(dec->nd - dec->dp));
	}
}

/* Go's %v of a float64 (strconv's shortest 'g'): 1.5, 1e+06, 1e-05. */
static void put_float_g(berth_buf *b, double v, char e)
{
	decimal dec;
	shortest_decimal(v, &dec);
	if (signbit(v))
		berth_buf_append(b, "-", 1);
	int exp = dec.dp - 1;
	if (exp < -4 || exp >= 6)
		put_sci(b, &dec, e, true);
	else
		put_fixed(b, &dec);
}

/* encoding/json's float64: plain digits from 1e-6 up to 1e21. */
static void put_float_json(berth_buf *b, double v)
{
	decimal dec;
	shortest_decimal(v, &dec);
	if (signbit(v))
		berth_buf_append(b, "-", 1);
	double a = fabs(v);
	if (a != 0 && (a < 1e-6 || a >= 1e21))
		put_sci(b, &dec, 'e', false);
	else
		put_fixed(b, &dec);
}

/* --------------------------------------------------------- value printing */

static const char *type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		return "string";
	case JSON_INTEGER:
		return "int";
	case JSON_REAL:
		return "float64";
	case JSON_TRUE:
	case JSON_FALSE:
		return "bool";
	case JSON_ARRAY:
		return "[]interface {}";
	case JSON_OBJECT:
		return "map[string]interface {}";
	default:
		return "<nil>";
	}
}

/* ------------------------------------------------------- Go-typed values */

/* The values of a typed execution (env->go_type) that stand for Go types
 * other than their JSON one: the nodes of the document reached through
 * struct fields, and the zero values made for absent fields. Looked up by
 * address, so each entry holds a reference until the execution ends. */
typedef struct typed_entry {
	json_t *v;
	const berth_go_type *type;
	bool nil; /* a nil slice, map or pointer: [], map[] or <nil> to print,
		   * null to json, false to if */
} typed_entry;

typedef struct typed_reg {
	typed_entry *e;
	size_t n, cap;
} typed_reg;

/* The registry of the execution running on this thread (printing reaches
 * it through print_value, whose callers know nothing of types). */
static __thread typed_reg *cur_typed;

static const typed_entry *typed_find(const json_t *v)
{
	for (size_t i = cur_typed && v ? cur_typed->n : 0; i-- > 0;)
		if (cur_typed->e[i].v == v)
			return &cur_typed->e[i];
	return NULL;
}

/* Takes v (a new reference) and returns it, noted as a t unless its JSON
 * type says all there is to say. */
static json_t *typed_note(json_t *v, const berth_go_type *t, bool nil)
{
	bool plain = strchr("sibfa", t->kind) != NULL ||
		     (t->kind == 'P' && !nil && strchr("sibf", t->elem->kind) != NULL);
	if (cur_typed == NULL || plain || json_is_null(v) || json_is_boolean(v))
		return v;
	if (cur_typed->n == cur_typed->cap) {
		cur_typed->cap = cur_typed->cap ? 2 * cur_typed->cap : 32;
		cur_typed->e = grow(cur_typed->e, cur_typed->cap, sizeof(*cur_typed->e));
	}
	cur_typed->e[cur_typed->n++] = (typed_entry){json_incref(v), t, nil};
	return v;
}

static json_t *typed_zero(const berth_go_type *t)
{
	switch (t->kind) {
	case 's':
		return must(json_string(""));
	case 'i':
		return must(json_integer(0));
	case 'f':
		return must(json_real(0));
	case 'b':
		return json_false();
	case 't':
		return typed_note(must(json_string("")), t, false);
	case 'd':
		return typed_note(must(json_integer(0)), t, false);
	case 'L':
		return typed_note(must(json_array()), t, true);
	case 'M':
	case 'S':
		return typed_note(must(json_object()), t, t->kind == 'M');
	case 'P': /* a value of its own: null is "no value" to a template */
		return typed_note(must(json_object()), t, true);
	default:
		return json_null();
	}
}

/* The struct a value of type t has fields of (through one pointer). */
static const berth_go_type *go_struct(const berth_go_type *t)
{
	if (t && t->kind == 'P')
		t = t->elem;
	return t && t->kind == 'S' ? t : NULL;
}

/* A field of a struct or of the structs embedded in it. */
static const berth_go_field *go_field(const berth_go_type *st, const char *name)
{
	for (size_t i = 0; i < st->nfields; i++) {
		const berth_go_field *f = &st->fields[i], *in;
		if (strcmp(f->name, name) == 0) /* an embedded struct by its type's name too */
			return f;
		if (f->embedded && go_struct(f->type) && (in = go_field(go_struct(f->type), name)))
			return in;
	}
	return NULL;
}

/* The value of field f of obj, typed: Go's zero value when absent or null. */
static json_t *typed_member(const json_t *obj, const berth_go_field *f)
{
	if (f->embedded) /* a copy: the object itself stays typed as the outer struct */
		return typed_note(must(json_copy((json_t *)obj)), f->type, false);
	json_t *v = json_object_get(obj, f->key);
	if (v == NULL || json_is_null(v))
		return typed_zero(f->type);
	return typed_note(json_incref(v), f->type, false);
}

/* child (a new reference), an element of container: typed as its elements. */
static json_t *typed_elem(const json_t *container, json_t *child)
{
	const typed_entry *te = typed_find(container);
	if (te == NULL || (te->type->kind != 'L' && te->type->kind != 'M'))
		return child;
	if (child == NULL || json_is_null(child)) {
		json_decref(child);
		return typed_zero(te->type->elem);
	}
	return typed_note(child, te->type->elem, false);
}

static int print_raw(berth_buf *b, const json_t *v, int depth);

/* fmt's %v of a Go value of type t held in v (NULL or null: its zero value). */
static int print_typed(berth_buf *b, const json_t *v, const berth_go_type *t, int depth)
{
	if (depth > MAX_VALUE_DEPTH)
		return -1;
	bool none = v == NULL || json_is_null(v);
	switch (t->kind) {
	case 'P':
		if (none)
			berth_buf_puts(b, "<nil>");
		else if (t->elem->stringer)
			t->elem->stringer(v, b);
		else if (depth > 0) /* fmt prints where a nested pointer points */
			berth_buf_puts(b, "0xc000010000");
		else
			return print_typed(b, v, t->elem, depth);
		return 0;
	case 'S':
		if (t->stringer && !none) {
			t->stringer(v, b);
			return 0;
		}
		berth_buf_puts(b, "{");
		for (size_t i = 0; i < t->nfields; i++) {
			const berth_go_field *f = &t->fields[i];
			if (i > 0)
				berth_buf_puts(b, " ");
			const json_t *fv = f->embedded ? v : (none ? NULL : json_object_get(v, f->key));
			if (print_typed(b, fv, f->type, depth + 1) < 0)
				return -1;
		}
		berth_buf_puts(b, "}");
		return 0;
	case 'L':
		berth_buf_puts(b, "[");
		for (size_t i = 0; !none && i < json_array_size(v); i++) {
			if (i > 0)
				berth_buf_puts(b, " ");
			if (print_typed(b, json_array_get(v, i), t->elem, depth + 1) < 0)
				return -1;
		}
		berth_buf_puts(b, "]");
		return 0;
	case 'M': {
		size_t n = 0;
		const char **keys cleanup_free = none ? NULL : berth_json_sorted_keys(v, &n);
		berth_buf_puts(b, "map[");
		for (size_t i = 0; i < n; i++) {
			berth_buf_printf(b, "%s%s:", i > 0 ? " " : "", keys[i]);
			if (print_typed(b, json_object_get(v, keys[i]), t->elem, depth + 1) < 0)
				return -1;
		}
		berth_buf_puts(b, "]");
		return 0;
	}
	case 't': {
		char *s cleanup_free = berth_time_go_string_rfc3339(none ? "" : json_string_value(v));
		berth_buf_puts(b, s);
		return 0;
	}
	case 'd':
		berth_go_duration(b, none ? 0 : (int64_t)json_integer_value(v));
		return 0;
	default:
		if (!none)
			return print_raw(b, v, depth);
		berth_buf_puts(b, t->kind == 's' ? "" : t->kind == 'b' ? "false" : t->kind == 'a' ? "<nil>" : "0");
		return 0;
	}
}

static int print_value(berth_buf *b, const json_t *v, int depth);

static int print_array(berth_buf *b, const json_t *v, int depth)
{
	berth_buf_append(b, "[", 1);
	for (size_t i = 0; i < json_array_size(v); i++) {
		if (i > 0)
			berth_buf_append(b, " ", 1);
		if (print_value(b, json_array_get(v, i), depth + 1) < 0)
			return -1;
	}
	berth_buf_append(b, "]", 1);
	return 0;
}

static int print_map(berth_buf *b, const json_t *v, int depth)
{
	size_t n;
	const char **keys cleanup_free = berth_json_sorted_keys(v, &n);
	berth_buf_puts(b, "map[");
	for (size_t i = 0; i < n; i++) {
		berth_buf_printf(b, "%s%s:", i > 0 ? " " : "", keys[i]);
		if (print_value(b, json_object_get(v, keys[i]), depth + 1) < 0)
			return -1;
	}
	berth_buf_append(b, "]", 1);
	return 0;
}

/* fmt's %v: strings raw, [a b] for slices, map[k:v] for maps, <nil> for nil;
 * a Go-typed value as its type prints. Fails only on values nested deeper
 * than MAX_VALUE_DEPTH. */
static int print_value(berth_buf *b, const json_t *v, int depth)
{
	const typed_entry *te = typed_find(v);
	if (te && te->nil && te->type->kind == 'P') {
		berth_buf_puts(b, "<nil>");
		return 0;
	}
	return te ? print_typed(b, v, te->type, depth) : print_raw(b, v, depth);
}

static int print_raw(berth_buf *b, const json_t *v, int depth)
{
	if (depth > MAX_VALUE_DEPTH)
		return -1;
	switch (json_typeof(v)) {
	case JSON_STRING:
		berth_buf_append(b, json_string_value(v), json_string_length(v));
		return 0;
	case JSON_INTEGER:
		berth_buf_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return 0;
	case JSON_REAL:
		put_float_g(b, json_real_value(v), 'e');
		return 0;
	case JSON_TRUE:
	case JSON_FALSE:
		berth_buf_puts(b, json_is_true(v) ? "true" : "false");
		return 0;
	case JSON_ARRAY:
		return print_array(b, v, depth);
	case JSON_OBJECT:
		return print_map(b, v, depth);
	default:
		berth_buf_puts(b, "<nil>");
		return 0;
	}
}

/* ------------------------------------------------------------- JSON output */

/* encoding/json's string escaping. docker's json function has
 * SetEscapeHTML(false): <, > and & stay, U+2028/9 and broken bytes do not;
 * html escapes them too, as json.Marshal does. */
static void json_quote(berth_buf *b, const char *s, size_t len, bool html)
{
	static const char hex[] = "0123456789abcdef";
	berth_buf_append(b, "\"", 1);
	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)s[i];
		uint32_t cp;
		size_t w = utf8_decode(s + i, len - i, &cp);
		const char *e = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\n' ? "\\n" : c == '\r' ? "\\r"
			      : c == '\t' ? "\\t" : c == '\b' ? "\\b" : c == '\f' ? "\\f" : NULL;
		if (e != NULL)
			berth_buf_puts(b, e);
		else if (c < 0x20 || (html && (c == '<' || c == '>' || c == '&')))
			berth_buf_printf(b, "\\u00%c%c", hex[c >> 4], hex[c & 0xF]);
		else if (invalid_rune(cp, w))
			berth_buf_puts(b, "\\ufffd");
		else if (cp == 0x2028 || cp == 0x2029)
			berth_buf_printf(b, "\\u%04x", cp);
		else
			berth_buf_append(b, s + i, w);
		i += w;
	}
	berth_buf_append(b, "\"", 1);
}

/* json.Marshal's compact output. marshal: as docker's formatter contexts
 * marshal themselves (a map: sorted keys, HTML escaped); otherwise in the
 * object's own order, as json.Marshal of docker's structs. Fails only on too
 * deep a value. */
static int json_encode(berth_buf *b, const json_t *v, int depth, bool marshal);

static int json_encode_object(berth_buf *b, const json_t *v, int depth, bool marshal)
{
	size_t n = 0;
	const char **keys cleanup_free = NULL;
	if (marshal) {
		keys = berth_json_sorted_keys(v, &n);
	} else {
		keys = berth_xcalloc(json_object_size(v) + 1, sizeof(*keys));
		for (void *it = json_object_iter((json_t *)v); it; it = json_object_iter_next((json_t *)v, it))
			keys[n++] = json_object_iter_key(it);
	}
	berth_buf_append(b, "{", 1);
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			berth_buf_append(b, ",", 1);
		json_quote(b, keys[i], strlen(keys[i]), marshal);
		berth_buf_append(b, ":", 1);
		if (json_encode(b, json_object_get(v, keys[i]), depth + 1, marshal) < 0)
			return -1;
	}
	berth_buf_append(b, "}", 1);
	return 0;
}

/* encoding/json's omitempty: false, 0, "", and nil or empty slices, maps
 * and pointers (NULL: absent). Structs are never empty. */
static bool go_empty(const json_t *v, const berth_go_type *t)
{
	if (v == NULL || json_is_null(v))
		return true;
	switch (t->kind) {
	case 's':
	case 't':
		return json_is_string(v) && json_string_length(v) == 0 && t->kind == 's';
	case 'i':
	case 'd':
		return json_is_integer(v) && json_integer_value(v) == 0;
	case 'f':
		return json_number_value(v) == 0;
	case 'b':
		return json_is_false(v);
	case 'L':
		return json_is_array(v) && json_array_size(v) == 0;
	case 'M':
		return json_is_object(v) && json_object_size(v) == 0;
	default:
		return false;
	}
}

static int json_typed(berth_buf *b, const json_t *v, const berth_go_type *t, int depth);
static int json_encode_raw(berth_buf *b, const json_t *v, int depth, bool marshal);

/* A struct's fields, embedded ones inline, in Go's order. */
static int json_fields(berth_buf *b, const json_t *obj, const berth_go_type *t, int depth,
		       bool *first)
{
	for (size_t i = 0; i < t->nfields; i++) {
		const berth_go_field *f = &t->fields[i];
		if (f->embedded && go_struct(f->type)) {
			if (json_fields(b, obj, go_struct(f->type), depth, first) < 0)
				return -1;
			continue;
		}
		const json_t *fv = obj ? json_object_get(obj, f->key) : NULL;
		if (f->omitempty && go_empty(fv, f->type))
			continue;
		berth_buf_puts(b, *first ? "" : ",");
		*first = false;
		json_quote(b, f->key, strlen(f->key), false);
		berth_buf_puts(b, ":");
		if (json_typed(b, fv, f->type, depth + 1) < 0)
			return -1;
	}
	return 0;
}

/* encoding/json of a Go value of type t held in v (NULL or null: its zero
 * value): fields in the struct's order, map keys sorted, nil as null. */
static int json_typed(berth_buf *b, const json_t *v, const berth_go_type *t, int depth)
{
	if (depth > MAX_VALUE_DEPTH)
		return -1;
	bool none = v == NULL || json_is_null(v);
	switch (t->kind) {
	case 'P':
		if (none)
			break;
		return json_typed(b, v, t->elem, depth);
	case 'S': {
		bool first = true;
		berth_buf_puts(b, "{");
		if (json_fields(b, none || !json_is_object(v) ? NULL : v, t, depth, &first) < 0)
			return -1;
		berth_buf_puts(b, "}");
		return 0;
	}
	case 'L':
		if (none || !json_is_array(v))
			break;
		berth_buf_puts(b, "[");
		for (size_t i = 0; i < json_array_size(v); i++) {
			berth_buf_puts(b, i ? "," : "");
			if (json_typed(b, json_array_get(v, i), t->elem, depth + 1) < 0)
				return -1;
		}
		berth_buf_puts(b, "]");
		return 0;
	case 'M': {
		if (none || !json_is_object(v))
			break;
		size_t n;
		const char **keys cleanup_free = berth_json_sorted_keys(v, &n);
		berth_buf_puts(b, "{");
		for (size_t i = 0; i < n; i++) {
			berth_buf_puts(b, i ? "," : "");
			json_quote(b, keys[i], strlen(keys[i]), false);
			berth_buf_puts(b, ":");
			if (json_typed(b, json_object_get(v, keys[i]), t->elem, depth + 1) < 0)
				return -1;
		}
		berth_buf_puts(b, "}");
		return 0;
	}
	case 't': {
		if (none || json_string_length(v) == 0) {
			berth_buf_puts(b, "\"0001-01-01T00:00:00Z\"");
			return 0;
		}
		/* RFC3339Nano: the fraction without its trailing zeros */
		const char *str = json_string_value(v), *dot = strchr(str, '.');
		size_t digits = dot ? strspn(dot + 1, "0123456789") : 0, keep = digits;
		while (keep > 0 && dot[keep] == '0')
			keep--;
		if (dot == NULL || digits == keep)
			return json_encode_raw(b, v, depth, false);
		berth_buf_printf(b, "\"%.*s%s\"", (int)(dot - str) + (keep ? (int)keep + 1 : 0), str,
				 dot + 1 + digits);
		return 0;
	}
	case 's':
		berth_buf_puts(b, none ? "\"\"" : "");
		return none ? 0 : json_encode(b, v, depth, false);
	case 'i':
	case 'd':
	case 'f':
	case 'b':
		if (none) {
			berth_buf_puts(b, t->kind == 'b' ? "false" : "0");
			return 0;
		}
		return json_encode_raw(b, v, depth, false);
	default:
		if (!none)
			return json_encode_raw(b, v, depth, false);
		break;
	}
	berth_buf_puts(b, "null");
	return 0;
}

static int json_encode(berth_buf *b, const json_t *v, int depth, bool marshal)
{
	const typed_entry *te = typed_find(v);
	if (te && te->nil) {
		berth_buf_puts(b, "null");
		return 0;
	}
	if (te)
		return json_typed(b, v, te->type, depth);
	return json_encode_raw(b, v, depth, marshal);
}

static int json_encode_raw(berth_buf *b, const json_t *v, int depth, bool marshal)
{
	if (depth > MAX_VALUE_DEPTH)
		return -1;
	switch (json_typeof(v)) {
	case JSON_STRING:
		json_quote(b, json_string_value(v), json_string_length(v), marshal);
		return 0;
	case JSON_REAL:
		put_float_json(b, json_real_value(v));
		return 0;
	case JSON_ARRAY:
		berth_buf_append(b, "[", 1);
		for (size_t i = 0; i < json_array_size(v); i++) {
			if (i > 0)
				berth_buf_append(b, ",", 1);
			if (json_encode(b, json_array_get(v, i), depth + 1, marshal) < 0)
				return -1;
		}
		berth_buf_append(b, "]", 1);
		return 0;
	case JSON_OBJECT:
		return json_encode_object(b, v, depth, marshal);
	case JSON_NULL:
		berth_buf_puts(b, "null");
		return 0;
	default:
		return print_value(b, v, depth); /* integers and booleans */
	}
}

/* ------------------------------------------------------------------ tree */

typedef struct span {
	size_t pos;        /* where Go places the node, for line:column */
	size_t start, end; /* the node's text, quoted by execution errors */
} span;

enum op_kind { OP_DOT, OP_FIELD, OP_VAR, OP_FUNC, OP_LITERAL, OP_NIL, OP_PIPE };

typedef struct tpl_pipe tpl_pipe;
typedef struct tpl_func tpl_func;

/* An argument: a term (., .Field, $x, a function, a literal, nil or a
 * parenthesized pipeline), maybe followed by fields: $x.A.B, (index .M "k").B */
typedef struct operand {
	enum op_kind kind;
	span sp;
	char *name;           /* OP_VAR: "$x" */
	const tpl_func *func; /* OP_FUNC */
	json_t *literal;      /* OP_LITERAL */
	tpl_pipe *pipe;       /* OP_PIPE */
	char **fields;
	size_t nfields;
} operand;

typedef struct command {
	operand *args;
	size_t nargs;
	span sp;
} command;

struct tpl_pipe {
	char *decl[2]; /* $i, $v := ... */
	size_t ndecl;
	bool assign; /* = rather than := */
	command *cmds;
	size_t ncmds;
	span sp;
};

enum node_kind { NODE_TEXT, NODE_ACTION, NODE_IF, NODE_RANGE, NODE_WITH, NODE_BREAK, NODE_CONTINUE };

typedef struct tpl_node tpl_node;
typedef struct node_list {
	tpl_node **v;
	size_t n;
} node_list;

struct tpl_node {
	enum node_kind kind;
	size_t pos, len; /* NODE_TEXT: its bytes in the source */
	tpl_pipe *pipe;
	node_list list, else_list;
	bool has_else;
};

struct berth_template {
	char *src;
	char *name;
	node_list root;
};

static void free_list(node_list *l);

static void free_pipe(tpl_pipe *p);

static void free_operand(operand *op)
{
	free(op->name);
	json_decref(op->literal);
	free_pipe(op->pipe);
	for (size_t i = 0; i < op->nfields; i++)
		free(op->fields[i]);
	free(op->fields);
}

static void free_pipe(tpl_pipe *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->ndecl; i++)
		free(p->decl[i]);
	for (size_t i = 0; i < p->ncmds; i++) {
		for (size_t j = 0; j < p->cmds[i].nargs; j++)
			free_operand(&p->cmds[i].args[j]);
		free(p->cmds[i].args);
	}
	free(p->cmds);
	free(p);
}

static void free_list(node_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free_pipe(l->v[i]->pipe);
		free_list(&l->v[i]->list);
		free_list(&l->v[i]->else_list);
		free(l->v[i]);
	}
	free(l->v);
}

static tpl_node *list_add(node_list *l, enum node_kind kind, size_t pos)
{
	tpl_node *n = berth_xcalloc(1, sizeof(*n));
	n->kind = kind;
	n->pos = pos;
	l->v = grow(l->v, l->n, sizeof(*l->v));
	l->v[l->n++] = n;
	return n;
}

/* ----------------------------------------------------------------- lexer */

enum tok_type {
	T_EOF, T_ERROR, T_TEXT, T_LEFT, T_RIGHT, T_SPACE, T_FIELD, T_VAR, T_IDENT, T_STRING,
	T_RAW, T_NUMBER, T_CHARCONST, T_BOOL, T_PIPE, T_LPAREN, T_RPAREN, T_DECLARE, T_ASSIGN,
	T_CHAR,
	T_KEYWORD, /* the rest print as <word> in messages, as Go's keywords do */
	T_DOT, T_BLOCK, T_BREAK, T_CONTINUE, T_DEFINE, T_ELSE, T_END, T_IF, T_NIL, T_RANGE,
	T_TEMPLATE, T_WITH,
};

static const struct {
	const char *word;
	enum tok_type type;
} keywords[] = {
	{"block", T_BLOCK}, {"break", T_BREAK}, {"continue", T_CONTINUE}, {"define", T_DEFINE},
	{"else", T_ELSE},   {"end", T_END},     {"if", T_IF},             {"nil", T_NIL},
	{"range", T_RANGE}, {"template", T_TEMPLATE}, {"with", T_WITH},
};

typedef struct token {
	enum tok_type type;
	size_t pos, len; /* its bytes in the source; text tokens after trimming */
	int line;
	char *msg; /* T_ERROR */
} token;

typedef struct lexer {
	const char *src;
	size_t len, pos, start;
	size_t counted; /* newlines before this offset are in line */
	int line, paren;
	token *toks;
	size_t n;
} lexer;

enum lex_state { LEX_TEXT, LEX_ACTION, LEX_DONE };

static int line_at(lexer *l, size_t pos)
{
	for (; l->counted < pos; l->counted++)
		if (l->src[l->counted] == '\n')
			l->line++;
	return l->line;
}

static token *push_token(lexer *l, enum tok_type type, size_t start, size_t end)
{
	l->toks = grow(l->toks, l->n, sizeof(*l->toks));
	token *t = &l->toks[l->n++];
	*t = (token){.type = type, .pos = start, .len = end - start, .line = line_at(l, start)};
	return t;
}

static enum lex_state emit(lexer *l, enum tok_type type)
{
	push_token(l, type, l->start, l->pos);
	l->start = l->pos;
	return LEX_ACTION;
}

/* The lexer stops at its first error, which the parser reports when it
 * reaches it, as Go's does. */
static enum lex_state lex_error(lexer *l, const char *fmt, ...) BERTH_PRINTF(2, 3);
static enum lex_state lex_error(lexer *l, const char *fmt, ...)
{
	berth_buf msg = {0};
	va_list ap;
	va_start(ap, fmt);
	berth_buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	push_token(l, T_ERROR, l->start, l->start)->msg = berth_buf_steal(&msg);
	return LEX_DONE;
}

static bool starts_with(const lexer *l, size_t at, const char *s)
{
	size_t n = strlen(s);
	return at <= l->len && l->len - at >= n && memcmp(l->src + at, s, n) == 0;
}

static bool left_trim_at(const lexer *l, size_t at)
{
	return at + 1 < l->len && l->src[at] == '-' && is_space(l->src[at + 1]);
}

/* "}}" or " -}}", which also trims the space after it. */
static bool at_right_delim(const lexer *l, bool *trim)
{
	*trim = l->pos < l->len && is_space(l->src[l->pos]) && starts_with(l, l->pos + 1, "-}}");
	return *trim || starts_with(l, l->pos, "}}");
}

static void skip_spaces(lexer *l)
{
	while (l->pos < l->len && is_space(l->src[l->pos]))
		l->pos++;
	l->start = l->pos;
}

static enum lex_state lex_comment(lexer *l, size_t at)
{
	l->start = at;
	const char *end = memmem(l->src + at + 2, l->len - at - 2, "*/", 2);
	if (end == NULL)
		return lex_error(l, "unclosed comment");
	l->pos = (size_t)(end - l->src) + 2;
	bool trim;
	if (!at_right_delim(l, &trim))
		return lex_error(l, "comment ends before closing delimiter");
	l->pos += trim ? 4 : 2;
	if (trim)
		skip_spaces(l);
	l->start = l->pos;
	return LEX_TEXT;
}

/* At "{{": a comment, or the start of an action. */
static enum lex_state lex_left_delim(lexer *l)
{
	size_t after = l->pos + 2 + (left_trim_at(l, l->pos + 2) ? 2 : 0);
	if (starts_with(l, after, "/*"))
		return lex_comment(l, after);
	l->pos += 2;
	emit(l, T_LEFT);
	l->pos = l->start = after;
	l->paren = 0;
	return LEX_ACTION;
}

static enum lex_state lex_text(lexer *l)
{
	const char *d = memmem(l->src + l->pos, l->len - l->pos, "{{", 2);
	if (d == NULL) {
		l->pos = l->len;
		if (l->pos > l->start)
			emit(l, T_TEXT);
		emit(l, T_EOF);
		return LEX_DONE;
	}
	size_t at = (size_t)(d - l->src), end = at;
	if (left_trim_at(l, at + 2))
		while (end > l->start && is_space(l->src[end - 1]))
			end--;
	if (end > l->start)
		push_token(l, T_TEXT, l->start, end);
	l->pos = l->start = at;
	return lex_left_delim(l);
}

static enum lex_state lex_right_delim(lexer *l, bool trim)
{
	if (trim)
		l->pos += 2;
	l->start = l->pos;
	l->pos += 2;
	emit(l, T_RIGHT);
	if (trim)
		skip_spaces(l);
	return LEX_TEXT;
}

static enum lex_state lex_space(lexer *l)
{
	size_t n = 0;
	while (l->pos < l->len && is_space(l->src[l->pos])) {
		l->pos++;
		n++;
	}
	/* leave the last space to a " -}}" trim marker */
	if (starts_with(l, l->pos, "-}}")) {
		l->pos--;
		if (n == 1)
			return LEX_ACTION;
	}
	return emit(l, T_SPACE);
}

static bool at_terminator(const lexer *l)
{
	if (l->pos >= l->len)
		return true;
	char c = l->src[l->pos];
	return is_space(c) || (c != '\0' && strchr(".,|:)(}", c) != NULL);
}

static size_t scan_alnum(lexer *l)
{
	size_t start = l->pos;
	uint32_t cp;
	while (l->pos < l->len) {
		size_t w = utf8_decode(l->src + l->pos, l->len - l->pos, &cp);
		if (!is_alnum_rune(cp, w))
			break;
		l->pos += w;
	}
	return l->pos - start;
}

static enum lex_state bad_character(lexer *l)
{
	uint32_t cp;
	berth_buf b cleanup_buf = {0};
	utf8_decode(l->src + l->pos, l->len - l->pos, &cp);
	put_rune_u(&b, cp);
	return lex_error(l, "bad character %s", b.data);
}

static enum tok_type word_type(const char *s, size_t n)
{
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(keywords); i++)
		if (strlen(keywords[i].word) == n && memcmp(keywords[i].word, s, n) == 0)
			return keywords[i].type;
	if ((n == 4 && memcmp(s, "true", 4) == 0) || (n == 5 && memcmp(s, "false", 5) == 0))
		return T_BOOL;
	return T_IDENT;
}

static enum lex_state lex_identifier(lexer *l)
{
	scan_alnum(l);
	if (!at_terminator(l))
		return bad_character(l);
	return emit(l, word_type(l->src + l->start, l->pos - l->start));
}

/* .Field or $var; a lone . or $ is dot or the root variable. */
static enum lex_state lex_field_or_var(lexer *l, enum tok_type type)
{
	l->pos++;
	if (at_terminator(l))
		return emit(l, type == T_VAR ? T_VAR : T_DOT);
	scan_alnum(l);
	if (!at_terminator(l))
		return bad_character(l);
	return emit(l, type);
}

static bool accept(lexer *l, const char *set)
{
	if (l->pos < l->len && l->src[l->pos] != '\0' && strchr(set, l->src[l->pos]) != NULL) {
		l->pos++;
		return true;
	}
	return false;
}

/* Go's scanNumber: loose on purpose, the parser validates. */
static bool scan_number(lexer *l)
{
	const char *digits = "0123456789_";
	bool decimal = true, hex = false;
	accept(l, "+-");
	if (accept(l, "0")) {
		if ((hex = accept(l, "xX")))
			digits = "0123456789abcdefABCDEF_";
		else if (accept(l, "oO"))
			digits = "01234567_";
		else if (accept(l, "bB"))
			digits = "01_";
		decimal = strlen(digits) == 11;
	}
	while (accept(l, digits))
		;
	if (accept(l, "."))
		while (accept(l, digits))
			;
	if ((decimal && accept(l, "eE")) || (hex && accept(l, "pP"))) {
		accept(l, "+-");
		while (accept(l, "0123456789_"))
			;
	}
	accept(l, "i");
	if (l->pos < l->len && scan_alnum(l) > 0)
		return false;
	return true;
}

static enum lex_state lex_number(lexer *l)
{
	bool ok = scan_number(l);
	/* a complex constant, 1+2i: lexed as Go does, refused by the parser */
	if (ok && l->pos < l->len && (l->src[l->pos] == '+' || l->src[l->pos] == '-'))
		ok = scan_number(l) && l->src[l->pos - 1] == 'i';
	if (!ok) {
		berth_buf b cleanup_buf = {0};
		go_quote(&b, l->src + l->start, l->pos - l->start, 0, '"');
		return lex_error(l, "bad number syntax: %s", b.data);
	}
	return emit(l, T_NUMBER);
}

static enum lex_state lex_quoted(lexer *l, char quote, enum tok_type type, const char *unterminated)
{
	for (l->pos++;;) {
		if (l->pos >= l->len || l->src[l->pos] == '\n')
			return lex_error(l, "%s", unterminated);
		char c = l->src[l->pos++];
		if (c == quote)
			return emit(l, type);
		if (c == '\\') {
			if (l->pos >= l->len || l->src[l->pos] == '\n')
				return lex_error(l, "%s", unterminated);
			l->pos++;
		}
	}
}

static enum lex_state lex_raw(lexer *l)
{
	const char *end = memchr(l->src + l->pos + 1, '`', l->len - l->pos - 1);
	if (end == NULL)
		return lex_error(l, "unterminated raw quoted string");
	l->pos = (size_t)(end - l->src) + 1;
	return emit(l, T_RAW);
}

static enum lex_state lex_punct(lexer *l, size_t n, enum tok_type type)
{
	l->pos += n;
	return emit(l, type);
}

/* Identifiers, and the printable ASCII characters the parser complains about. */
static enum lex_state lex_other(lexer *l)
{
	uint32_t cp;
	size_t w = utf8_decode(l->src + l->pos, l->len - l->pos, &cp);
	if (is_alnum_rune(cp, w))
		return lex_identifier(l);
	if (cp > 0x20 && cp < 0x7F)
		return lex_punct(l, 1, T_CHAR);
	berth_buf b cleanup_buf = {0};
	put_rune_u(&b, cp);
	return lex_error(l, "unrecognized character in action: %s", b.data);
}

static enum lex_state lex_inside_action(lexer *l)
{
	bool trim;
	if (at_right_delim(l, &trim))
		return l->paren != 0 ? lex_error(l, "unclosed left paren") : lex_right_delim(l, trim);
	if (l->pos >= l->len)
		return lex_error(l, "unclosed action");
	char c = l->src[l->pos], next = l->pos + 1 < l->len ? l->src[l->pos + 1] : '\0';
	if (is_space(c))
		return lex_space(l);
	switch (c) {
	case '=':
		return lex_punct(l, 1, T_ASSIGN);
	case ':':
		return next == '=' ? lex_punct(l, 2, T_DECLARE) : lex_error(l, "expected :=");
	case '|':
		return lex_punct(l, 1, T_PIPE);
	case '"':
		return lex_quoted(l, '"', T_STRING, "unterminated quoted string");
	case '\'':
		return lex_quoted(l, '\'', T_CHARCONST, "unterminated character constant");
	case '`':
		return lex_raw(l);
	case '$':
		return lex_field_or_var(l, T_VAR);
	case '(':
		l->paren++;
		return lex_punct(l, 1, T_LPAREN);
	case ')':
		return --l->paren < 0 ? lex_error(l, "unexpected right paren") : lex_punct(l, 1, T_RPAREN);
	case '.':
		if (l->pos + 1 < l->len && !is_digit(next))
			return lex_field_or_var(l, T_FIELD);
		return lex_number(l);
	}
	if (c == '+' || c == '-' || is_digit(c))
		return lex_number(l);
	return lex_other(l);
}

static void lex_all(lexer *l)
{
	enum lex_state s = LEX_TEXT;
	while (s != LEX_DONE)
		s = s == LEX_TEXT ? lex_text(l) : lex_inside_action(l);
}

static void free_tokens(token *toks, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(toks[i].msg);
	free(toks);
}

/* -------------------------------------------------------------- literals */

static int hex_value(char c)
{
	return is_digit(c) ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
}

/* n hex digits; -1 when they are not. */
static long read_hex(const char *s, size_t len, size_t n)
{
	long v = 0;
	if (len < n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (hex_value(s[i]) < 0)
			return -1;
		v = v * 16 + hex_value(s[i]);
	}
	return v;
}

/* The escape after a backslash, as strconv.UnquoteChar: *value is a byte
 * when *is_byte (\x, octal), else a rune. Returns its length, 0 if invalid. */
static size_t unquote_escape(const char *s, size_t len, char quote, long *value, bool *is_byte)
{
	static const char esc[] = "abfnrtv\\", val[] = "\a\b\f\n\r\t\v\\";
	const char *e = len > 0 && s[0] != '\0' ? strchr(esc, s[0]) : NULL;
	*is_byte = false;
	if (e != NULL || (len > 0 && s[0] == quote)) {
		*value = e ? val[e - esc] : quote;
		return 1;
	}
	if (len >= 3 && s[0] >= '0' && s[0] <= '3' && s[1] >= '0' && s[1] <= '7' && s[2] >= '0' && s[2] <= '7') {
		*value = (s[0] - '0') * 64 + (s[1] - '0') * 8 + (s[2] - '0');
		*is_byte = true;
		return 3;
	}
	size_t n = len == 0 ? 0 : s[0] == 'x' ? 2 : s[0] == 'u' ? 4 : s[0] == 'U' ? 8 : 0;
	if (n == 0 || (*value = read_hex(s + 1, len - 1, n)) < 0)
		return 0;
	*is_byte = s[0] == 'x';
	if (!*is_byte && (*value > 0x10FFFF || (*value >= 0xD800 && *value <= 0xDFFF)))
		return 0;
	return n + 1;
}

/* One character of a quoted literal: a rune, or a byte from \x or octal.
 * Returns its length in s, 0 when it is invalid. */
static size_t unquote_char(const char *s, size_t len, char quote, long *value, bool *is_byte)
{
	uint32_t cp;
	*is_byte = false;
	if (len == 0 || s[0] == quote || s[0] == '\n')
		return 0;
	if (s[0] != '\\') {
		size_t w = utf8_decode(s, len, &cp);
		*value = (long)cp;
		return w;
	}
	size_t n = unquote_escape(s + 1, len - 1, quote, value, is_byte);
	return n == 0 ? 0 : n + 1;
}

/* strconv.Unquote of a "..." or `...` token. */
static int unquote(const char *s, size_t len, berth_buf *out)
{
	if (s[0] == '`') {
		for (size_t i = 1; i + 1 < len; i++)
			if (s[i] != '\r')
				berth_buf_append(out, s + i, 1);
		return 0;
	}
	for (size_t i = 1; i + 1 < len;) {
		long v;
		bool is_byte;
		size_t n = unquote_char(s + i, len - 1 - i, '"', &v, &is_byte);
		if (n == 0)
			return -1;
		if (is_byte) {
			char c = (char)v;
			berth_buf_append(out, &c, 1);
		} else {
			utf8_append(out, (uint32_t)v);
		}
		i += n;
	}
	return 0;
}

/* Go's integer syntax: 42, -7, 0x1F, 0o17, 017, 0b101. */
static bool parse_int(const char *s, size_t len, json_int_t *out)
{
	bool neg = len > 0 && s[0] == '-';
	size_t i = len > 0 && (s[0] == '-' || s[0] == '+') ? 1 : 0;
	int base = 10;
	if (len - i > 1 && s[i] == '0') {
		char p = s[i + 1] | 0x20;
		base = p == 'x' ? 16 : p == 'o' ? 8 : p == 'b' ? 2 : 8;
		i += p == 'x' || p == 'o' || p == 'b' ? 2 : 1;
	}
	if (i >= len)
		return false;
	uint64_t v = 0;
	for (; i < len; i++) {
		int d = hex_value(s[i]);
		if (d < 0 || d >= base || v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
			return false;
		v = v * (uint64_t)base + (uint64_t)d;
	}
	if (v > (uint64_t)INT64_MAX + (neg ? 1 : 0))
		return false;
	*out = neg ? (json_int_t)(0 - v) : (json_int_t)v;
	return true;
}

/* Go lets _ separate digits, and follow a base prefix: 1_000, 0x_FF.
 * Returns the number without them, or NULL when they are misplaced. */
static char *strip_underscores(const char *s, size_t len)
{
	berth_buf b cleanup_buf = {0};
	size_t i = len > 0 && (s[0] == '+' || s[0] == '-') ? 1 : 0;
	char saw = '^'; /* what came last: ^ start, 0 a digit, _ or ! anything else */
	bool hex = len - i >= 2 && s[i] == '0' && (s[i + 1] | 0x20) == 'x';
	berth_buf_append(&b, s, i);
	if (len - i >= 2 && s[i] == '0' && s[i + 1] != '\0' && strchr("bBoOxX", s[i + 1]) != NULL) {
		berth_buf_append(&b, s + i, 2);
		i += 2;
		saw = '0';
	}
	for (; i < len; i++) {
		bool digit = is_digit(s[i]) || (hex && hex_value(s[i]) >= 0);
		if (s[i] == '_' ? saw != '0' : !digit && saw == '_')
			return NULL;
		saw = s[i] == '_' ? '_' : digit ? '0' : '!';
		if (s[i] != '_')
			berth_buf_append(&b, s + i, 1);
	}
	return saw == '_' ? NULL : berth_buf_steal(&b);
}

/* A number token: Go's int when its syntax says so, else float64. */
static json_t *parse_number(const char *text, size_t textlen)
{
	char *s cleanup_free = strip_underscores(text, textlen);
	if (s == NULL)
		return NULL;
	size_t len = strlen(s);
	json_int_t i;
	if (parse_int(s, len, &i))
		return must(json_integer(i));
	/* decimal floats only: no hex floats, no imaginary numbers */
	if (memchr(s, 'x', len) || memchr(s, 'X', len) || memchr(s, 'i', len) || memchr(s, 'p', len) ||
	    memchr(s, 'P', len))
		return NULL;
	char *end;
	double d = strtod(s, &end);
	if (*end != '\0' || end == s || !isfinite(d))
		return NULL;
	return must(json_real(d));
}

/* ---------------------------------------------------------------- parser */

typedef struct parser {
	const char *src;
	const token *toks;
	size_t ntoks, i;
	size_t seen; /* the furthest token read: Go reports its line */
	struct {
		const char *s;
		size_t n;
	} *vars; /* variables in scope, for the "undefined variable" check */
	size_t nvars;
	int range_depth, depth, action_line;
	const char *name;
	berth_error **err;
} parser;

/* How an item list ended. */
enum mark { MARK_NONE, MARK_END, MARK_ELSE };

static const tpl_func *find_func(const char *name, size_t len);

static const token *next_tok(parser *p)
{
	size_t i = p->i < p->ntoks ? p->i : p->ntoks - 1;
	p->i++;
	if (i > p->seen)
		p->seen = i;
	return &p->toks[i];
}

static void backup(parser *p)
{
	p->i--;
}

static const token *peek(parser *p)
{
	const token *t = next_tok(p);
	backup(p);
	return t;
}

static const token *next_non_space(parser *p)
{
	const token *t;
	do
		t = next_tok(p);
	while (t->type == T_SPACE);
	return t;
}

static const token *peek_non_space(parser *p)
{
	const token *t = next_non_space(p);
	backup(p);
	return t;
}

static int perr(parser *p, const char *fmt, ...) BERTH_PRINTF(2, 3);
static int perr(parser *p, const char *fmt, ...)
{
	berth_buf msg cleanup_buf = {0};
	va_list ap;
	va_start(ap, fmt);
	berth_buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	int line = p->toks[p->seen < p->ntoks ? p->seen : p->ntoks - 1].line;
	return berth_error_set(p->err, 400, "template: %s:%d: %s", p->name, line,
			       msg.data ? msg.data : "");
}

/* Go's item.String(): EOF, the error itself, <keyword>, or the quoted text. */
static void describe_token(const parser *p, const token *t, berth_buf *b)
{
	const char *s = p->src + t->pos;
	if (t->type == T_EOF) {
		berth_buf_puts(b, "EOF");
	} else if (t->type == T_ERROR) {
		berth_buf_puts(b, t->msg);
	} else if (t->type > T_KEYWORD) {
		berth_buf_printf(b, "<%.*s>", (int)t->len, s);
	} else {
		go_quote(b, s, t->len, t->len > 10 ? 10 : 0, '"');
		if (t->len > 10)
			berth_buf_puts(b, "...");
	}
}

static int unexpected(parser *p, const token *t, const char *context)
{
	berth_buf d cleanup_buf = {0};
	describe_token(p, t, &d);
	if (t->type != T_ERROR)
		return perr(p, "unexpected %s in %s", d.data, context);
	if (p->action_line == 0 || p->action_line == t->line)
		return perr(p, "%s", d.data);
	size_t n = strlen(t->msg);
	bool about_action = n >= 7 && strcmp(t->msg + n - 7, " action") == 0;
	return perr(p, "%s%s started at :%d", d.data, about_action ? "" : " in action", p->action_line);
}

static int expect(parser *p, enum tok_type type, const char *context)
{
	const token *t = next_non_space(p);
	return t->type == type ? 0 : unexpected(p, t, context);
}

static void declare_var(parser *p, const char *s, size_t n)
{
	p->vars = grow(p->vars, p->nvars, sizeof(*p->vars));
	p->vars[p->nvars].s = s;
	p->vars[p->nvars++].n = n;
}

static int use_var(parser *p, const token *t)
{
	for (size_t i = 0; i < p->nvars; i++)
		if (p->vars[i].n == t->len && memcmp(p->vars[i].s, p->src + t->pos, t->len) == 0)
			return 0;
	berth_buf q cleanup_buf = {0};
	go_quote(&q, p->src + t->pos, t->len, 0, '"');
	return perr(p, "undefined variable %s", q.data);
}

static int parse_pipeline(parser *p, const char *context, enum tok_type end, tpl_pipe **out);

/* 'a', '\n', '\u00e9': the rune's value, an int. */
static int parse_char_constant(parser *p, const token *t, operand *op)
{
	const char *s = p->src + t->pos;
	long v;
	bool is_byte;
	size_t n = unquote_char(s + 1, t->len - 1, '\'', &v, &is_byte);
	if (n == 0)
		return perr(p, "invalid syntax");
	if (n + 2 != t->len)
		return perr(p, "malformed character constant: %.*s", (int)t->len, s);
	op->literal = must(json_integer(v));
	return 0;
}

static int parse_literal(parser *p, const token *t, operand *op)
{
	const char *s = p->src + t->pos;
	berth_buf b cleanup_buf = {0};
	op->kind = OP_LITERAL;
	if (t->type == T_BOOL) {
		op->literal = json_boolean(t->len == 4);
	} else if (t->type == T_STRING || t->type == T_RAW) {
		if (unquote(s, t->len, &b) < 0)
			return perr(p, "invalid syntax");
		op->literal = must(json_stringn_nocheck(b.data ? b.data : "", b.len));
	} else if (t->type == T_CHARCONST) {
		return parse_char_constant(p, t, op);
	} else if ((op->literal = parse_number(s, t->len)) == NULL) {
		go_quote(&b, s, t->len, 0, '"');
		return perr(p, "illegal number syntax: %s", b.data);
	}
	return 0;
}

static int parse_paren(parser *p, operand *op)
{
	if (p->depth >= MAX_DEPTH)
		return perr(p, "max expression depth exceeded");
	p->depth++;
	op->kind = OP_PIPE;
	int rc = parse_pipeline(p, "parenthesized pipeline", T_RPAREN, &op->pipe);
	p->depth--;
	if (rc < 0)
		return -1;
	const token *rparen = &p->toks[p->i - 1]; /* the pipeline ended on it */
	op->sp.end = rparen->pos + rparen->len;
	return 0;
}

static int parse_ident(parser *p, const token *t, operand *op)
{
	op->kind = OP_FUNC;
	op->func = find_func(p->src + t->pos, t->len);
	if (op->func != NULL)
		return 0;
	berth_buf q cleanup_buf = {0};
	go_quote(&q, p->src + t->pos, t->len, 0, '"');
	return perr(p, "function %s not defined", q.data);
}

static void add_field(operand *op, const char *name, size_t len)
{
	op->fields = grow(op->fields, op->nfields, sizeof(*op->fields));
	op->fields[op->nfields++] = berth_xstrndup(name, len);
}

/* A term: a literal, a function name, ., .Field, $var or ( pipeline ).
 * *got is false when the next token is none of those. */
static int parse_term(parser *p, operand *op, bool *got)
{
	const token *t = next_non_space(p);
	*got = true;
	op->sp = (span){t->pos, t->pos, t->pos + t->len};
	switch (t->type) {
	case T_IDENT:
		return parse_ident(p, t, op);
	case T_DOT:
		op->kind = OP_DOT;
		return 0;
	case T_NIL:
		op->kind = OP_NIL;
		return 0;
	case T_VAR:
		op->kind = OP_VAR;
		op->name = berth_xstrndup(p->src + t->pos, t->len);
		return use_var(p, t);
	case T_FIELD:
		op->kind = OP_FIELD;
		add_field(op, p->src + t->pos + 1, t->len - 1);
		return 0;
	case T_BOOL:
	case T_NUMBER:
	case T_CHARCONST:
	case T_STRING:
	case T_RAW:
		return parse_literal(p, t, op);
	case T_LPAREN:
		return parse_paren(p, op);
	default:
		backup(p);
		*got = false;
		return 0;
	}
}

/* Fields chained on a term: .A.B, $x.A, (pipeline).A */
static int parse_chain(parser *p, operand *op)
{
	if (peek(p)->type != T_FIELD)
		return 0;
	if (op->kind == OP_LITERAL || op->kind == OP_NIL || op->kind == OP_DOT) {
		berth_buf q cleanup_buf = {0};
		go_quote(&q, p->src + op->sp.start, op->sp.end - op->sp.start, 0, '"');
		return perr(p, "unexpected . after term %s", q.data);
	}
	op->sp.pos = peek(p)->pos;
	while (peek(p)->type == T_FIELD) {
		const token *t = next_tok(p);
		add_field(op, p->src + t->pos + 1, t->len - 1);
		op->sp.end = t->pos + t->len;
	}
	return 0;
}

static int parse_operand(parser *p, command *cmd)
{
	operand op = {0};
	bool got;
	if (parse_term(p, &op, &got) < 0 || (got && parse_chain(p, &op) < 0)) {
		free_operand(&op);
		return -1;
	}
	if (got) {
		cmd->args = grow(cmd->args, cmd->nargs, sizeof(*cmd->args));
		cmd->args[cmd->nargs++] = op;
	}
	return 0;
}

/* Space-separated operands up to a | (consumed) or the end (left). */
static int parse_command(parser *p, tpl_pipe *pipe)
{
	pipe->cmds = grow(pipe->cmds, pipe->ncmds, sizeof(*pipe->cmds));
	command *cmd = &pipe->cmds[pipe->ncmds++];
	*cmd = (command){0};
	cmd->sp.pos = cmd->sp.start = peek_non_space(p)->pos;
	for (;;) {
		peek_non_space(p);
		if (parse_operand(p, cmd) < 0)
			return -1;
		const token *t = next_tok(p);
		if (t->type == T_SPACE)
			continue;
		if (t->type == T_RIGHT || t->type == T_RPAREN)
			backup(p);
		else if (t->type != T_PIPE)
			return unexpected(p, t, "operand");
		break;
	}
	if (cmd->nargs == 0)
		return perr(p, "empty command");
	cmd->sp.end = cmd->args[cmd->nargs - 1].sp.end;
	return 0;
}

static int add_decl(parser *p, tpl_pipe *pipe, const token *v, const char *context)
{
	if (pipe->ndecl == 2)
		return perr(p, "too many declarations in %s", context);
	pipe->decl[pipe->ndecl++] = berth_xstrndup(p->src + v->pos, v->len);
	declare_var(p, p->src + v->pos, v->len);
	return 0;
}

/* "$x :=", "$x =", and range's "$i, $v :=". */
static int parse_decls(parser *p, tpl_pipe *pipe, const char *context)
{
	bool range = strcmp(context, "range") == 0;
	for (;;) {
		const token *v = peek_non_space(p);
		if (v->type != T_VAR)
			return 0;
		size_t at = p->i;
		next_tok(p);
		const token *t = peek_non_space(p);
		if (t->type == T_ASSIGN || t->type == T_DECLARE) {
			pipe->assign = t->type == T_ASSIGN;
			next_non_space(p);
			return add_decl(p, pipe, v, context);
		}
		if (t->type != T_CHAR || p->src[t->pos] != ',') {
			p->i = at; /* $x is the first operand, not a declaration */
			return 0;
		}
		next_non_space(p);
		if (add_decl(p, pipe, v, context) < 0)
			return -1;
		if (!range || pipe->ndecl >= 2)
			return perr(p, "too many declarations in %s", context);
		enum tok_type n = peek_non_space(p)->type;
		if (n != T_VAR && n != T_RIGHT && n != T_RPAREN)
			return perr(p, "range can only initialize variables");
	}
}

static bool starts_operand(enum tok_type t)
{
	return t == T_BOOL || t == T_CHARCONST || t == T_DOT || t == T_FIELD || t == T_IDENT ||
	       t == T_NUMBER || t == T_NIL || t == T_RAW || t == T_STRING || t == T_VAR || t == T_LPAREN;
}

static int check_pipeline(parser *p, const tpl_pipe *pipe, const char *context)
{
	if (pipe->ncmds == 0)
		return perr(p, "missing value for %s", context);
	/* only the first command may start with something that is not callable */
	for (size_t i = 1; i < pipe->ncmds; i++) {
		enum op_kind k = pipe->cmds[i].args[0].kind;
		if (k == OP_LITERAL || k == OP_DOT || k == OP_NIL)
			return perr(p, "non executable command in pipeline stage %zu", i + 1);
	}
	return 0;
}

/* Declarations, then commands separated by |, up to the end token. */
static int parse_pipeline(parser *p, const char *context, enum tok_type end, tpl_pipe **out)
{
	tpl_pipe *pipe = *out = berth_xcalloc(1, sizeof(*pipe));
	pipe->sp.pos = pipe->sp.start = peek_non_space(p)->pos;
	if (parse_decls(p, pipe, context) < 0)
		return -1;
	for (;;) {
		const token *t = next_non_space(p);
		if (t->type == end)
			break;
		if (!starts_operand(t->type))
			return unexpected(p, t, context);
		backup(p);
		if (parse_command(p, pipe) < 0)
			return -1;
	}
	if (check_pipeline(p, pipe, context) < 0)
		return -1;
	pipe->sp.end = pipe->cmds[pipe->ncmds - 1].sp.end;
	return 0;
}

static int parse_list(parser *p, node_list *list, enum mark *mark);

static int parse_control(parser *p, enum node_kind kind, node_list *list);

static const char *control_name(enum node_kind kind)
{
	return kind == NODE_IF ? "if" : kind == NODE_RANGE ? "range" : "with";
}

/* After {{if}}, {{range}} or {{with}}: pipeline, list, maybe else, end.
 * "{{else if}}" is "{{else}}{{if}}...{{end}}" sharing the outer {{end}}. */
static int parse_control_body(parser *p, tpl_node *n)
{
	enum mark mark = MARK_NONE;
	if (parse_pipeline(p, control_name(n->kind), T_RIGHT, &n->pipe) < 0)
		return -1;
	p->range_depth += n->kind == NODE_RANGE;
	int rc = parse_list(p, &n->list, &mark);
	p->range_depth -= n->kind == NODE_RANGE;
	if (rc < 0 || mark == MARK_END)
		return rc;
	n->has_else = true;
	enum tok_type t = peek(p)->type;
	if ((n->kind == NODE_IF && t == T_IF) || (n->kind == NODE_WITH && t == T_WITH)) {
		next_tok(p);
		return parse_control(p, n->kind, &n->else_list);
	}
	if (parse_list(p, &n->else_list, &mark) < 0)
		return -1;
	return mark == MARK_END ? 0 : perr(p, "expected end; found {{else}}");
}

static int parse_control(parser *p, enum node_kind kind, node_list *list)
{
	if (p->depth >= MAX_DEPTH)
		return perr(p, "max nesting depth exceeded");
	size_t nvars = p->nvars;
	p->depth++;
	int rc = parse_control_body(p, list_add(list, kind, peek_non_space(p)->pos));
	p->depth--;
	p->nvars = nvars; /* variables live until the control's {{end}} */
	return rc;
}

static int parse_loop_control(parser *p, const token *kw, node_list *list)
{
	const char *ctx = kw->type == T_BREAK ? "{{break}}" : "{{continue}}";
	const token *t = next_non_space(p);
	if (t->type != T_RIGHT)
		return unexpected(p, t, ctx);
	if (p->range_depth == 0)
		return perr(p, "%s outside {{range}}", ctx);
	list_add(list, kw->type == T_BREAK ? NODE_BREAK : NODE_CONTINUE, kw->pos);
	return 0;
}

/* {{else}}, or the "else" of "{{else if ...": the "if" stays for the caller. */
static int parse_else(parser *p, enum mark *mark)
{
	enum tok_type t = peek_non_space(p)->type;
	*mark = MARK_ELSE;
	return t == T_IF || t == T_WITH ? 0 : expect(p, T_RIGHT, "else");
}

/* Inside {{ }}: a control word or a pipeline to print. */
static int parse_action(parser *p, node_list *list, enum mark *mark)
{
	const token *t = next_non_space(p);
	switch (t->type) {
	case T_BLOCK:
	case T_DEFINE:
	case T_TEMPLATE:
		return perr(p, "{{%.*s}} is not supported", (int)t->len, p->src + t->pos);
	case T_BREAK:
	case T_CONTINUE:
		return parse_loop_control(p, t, list);
	case T_ELSE:
		return parse_else(p, mark);
	case T_END:
		*mark = MARK_END;
		return expect(p, T_RIGHT, "end");
	case T_IF:
		return parse_control(p, NODE_IF, list);
	case T_RANGE:
		return parse_control(p, NODE_RANGE, list);
	case T_WITH:
		return parse_control(p, NODE_WITH, list);
	default:
		backup(p);
		tpl_node *n = list_add(list, NODE_ACTION, peek(p)->pos);
		return parse_pipeline(p, "command", T_RIGHT, &n->pipe);
	}
}

static int parse_item(parser *p, node_list *list, enum mark *mark)
{
	const token *t = next_non_space(p);
	if (t->type == T_TEXT) {
		tpl_node *n = list_add(list, NODE_TEXT, t->pos);
		n->len = t->len;
		return 0;
	}
	if (t->type != T_LEFT)
		return unexpected(p, t, "input");
	p->action_line = t->line;
	int rc = parse_action(p, list, mark);
	p->action_line = 0;
	return rc;
}

/* Items up to an {{end}} or {{else}}, which *mark tells apart. */
static int parse_list(parser *p, node_list *list, enum mark *mark)
{
	while (peek_non_space(p)->type != T_EOF) {
		*mark = MARK_NONE;
		if (parse_item(p, list, mark) < 0)
			return -1;
		if (*mark != MARK_NONE)
			return 0;
	}
	return perr(p, "unexpected EOF");
}

static int parse_root(parser *p, node_list *root)
{
	while (peek(p)->type != T_EOF) {
		enum mark mark = MARK_NONE;
		if (parse_item(p, root, &mark) < 0)
			return -1;
		if (mark != MARK_NONE)
			return perr(p, "unexpected %s", mark == MARK_END ? "{{end}}" : "{{else}}");
	}
	return 0;
}

/* -------------------------------------------------------------- executor */

typedef struct var {
	const char *name;
	json_t *value;
} var;

typedef struct exec {
	const berth_template *t;
	berth_buf out;
	var *vars;
	size_t nvars;
	const span *at; /* the node being evaluated, for error context */
	long steps;
	size_t alloc; /* bytes functions built so far */
	char *why;    /* a function's failure, reported as "error calling f: why" */
	const berth_template_env *env;
	berth_error **err;
} exec;

/* An execution error, located as Go does: line, column and node text. */
static int xerr(exec *ex, const char *fmt, ...) BERTH_PRINTF(2, 3);
static int xerr(exec *ex, const char *fmt, ...)
{
	berth_buf msg cleanup_buf = {0};
	va_list ap;
	va_start(ap, fmt);
	berth_buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	const char *src = ex->t->src, *m = msg.data ? msg.data : "", *name = ex->t->name;
	if (ex->at == NULL)
		return berth_error_set(ex->err, 400, "template: %s: %s", name, m);
	size_t line = 1, col0 = 0;
	for (size_t i = 0; i < ex->at->pos; i++)
		if (src[i] == '\n') {
			line++;
			col0 = i + 1;
		}
	return berth_error_set(ex->err, 400, "template: %s:%zu:%zu: executing \"%s\" at <%.*s>: %s",
			       name, line, ex->at->pos - col0, name, (int)(ex->at->end - ex->at->start),
			       src + ex->at->start, m);
}

/* A function's failure; the caller adds where and which function. */
static int fail(exec *ex, const char *fmt, ...) BERTH_PRINTF(2, 3);
static int fail(exec *ex, const char *fmt, ...)
{
	berth_buf msg = {0};
	va_list ap;
	va_start(ap, fmt);
	berth_buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	free(ex->why);
	ex->why = berth_buf_steal(&msg);
	return -1;
}

static int step(exec *ex)
{
	if (++ex->steps > MAX_STEPS)
		return xerr(ex, "template execution exceeded %ld steps", MAX_STEPS);
	return 0;
}

/* Functions account for what they build, so no template can make a
 * gigabyte out of a few bytes. */
static int charge(exec *ex, size_t bytes)
{
	if (bytes > MAX_ALLOC - ex->alloc)
		return fail(ex, "template execution exceeded its memory budget");
	ex->alloc += bytes;
	return 0;
}

static int new_string(exec *ex, const char *s, size_t len, json_t **out)
{
	if (charge(ex, len) < 0)
		return -1;
	*out = must(json_stringn_nocheck(len ? s : "", len));
	return 0;
}

static int write_out(exec *ex, const char *s, size_t len)
{
	if (len > MAX_OUTPUT - ex->out.len)
		return xerr(ex, "template output exceeds %zu bytes", MAX_OUTPUT);
	berth_buf_append(&ex->out, s, len);
	return 0;
}

/* Go's truth: false, 0, "", nil and empty collections are false. */
static bool truth(const json_t *v)
{
	const typed_entry *te = typed_find(v);
	if (te && strchr("PSt", te->type->kind)) /* Go: structs are true, pointers unless nil */
		return !te->nil;
	switch (json_typeof(v)) {
	case JSON_STRING:
		return json_string_length(v) > 0;
	case JSON_INTEGER:
		return json_integer_value(v) != 0;
	case JSON_REAL:
		return json_real_value(v) != 0;
	case JSON_TRUE:
		return true;
	case JSON_ARRAY:
		return json_array_size(v) > 0;
	case JSON_OBJECT:
		return json_object_size(v) > 0;
	default:
		return false;
	}
}

static bool int_value(const json_t *v, json_int_t *out)
{
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return true;
	}
	double d = json_real_value(v); /* 0 for non-reals */
	if (!json_is_real(v) || d != floor(d) || fabs(d) >= 9.2e18)
		return false;
	*out = (json_int_t)d;
	return true;
}

/* ------------------------------------------------------------- variables */

static void push_var(exec *ex, const char *name, json_t *v)
{
	ex->vars = grow(ex->vars, ex->nvars, sizeof(*ex->vars));
	ex->vars[ex->nvars++] = (var){name, ref(v)};
}

static void pop_vars(exec *ex, size_t mark)
{
	while (ex->nvars > mark)
		json_decref(ex->vars[--ex->nvars].value);
}

static var *find_var(exec *ex, const char *name)
{
	for (size_t i = ex->nvars; i > 0; i--)
		if (strcmp(ex->vars[i - 1].name, name) == 0)
			return &ex->vars[i - 1];
	return NULL;
}

static int set_var(exec *ex, const char *name, json_t *v)
{
	var *x = find_var(ex, name);
	if (x == NULL)
		return xerr(ex, "undefined variable: %s", name);
	json_decref(x->value);
	x->value = ref(v);
	return 0;
}

/* The n-th variable from the top: range's element (1) and index (2). */
static void set_top_var(exec *ex, size_t n, json_t *v)
{
	json_decref(ex->vars[ex->nvars - n].value);
	ex->vars[ex->nvars - n].value = ref(v);
}

static int var_value(exec *ex, const char *name, json_t **out)
{
	var *x = find_var(ex, name);
	if (x == NULL)
		return xerr(ex, "undefined variable: %s", name);
	*out = ref(x->value);
	return 0;
}

/* ------------------------------------------------------------ evaluation */

struct tpl_func {
	const char *name;
	const char *params; /* one letter a fixed parameter: v any, s string, i int, l []string */
	char variadic;      /* the letter of a ... parameter, or 0 */
	int (*fn)(exec *ex, json_t *const *argv, size_t argc, json_t **out);
	int lazy; /* and (1) and or (2) evaluate their arguments one by one */
};

static int eval_pipe(exec *ex, json_t *dot, const tpl_pipe *pipe, json_t **out);

static int call_func(exec *ex, json_t *dot, const operand *fn, const operand *args, size_t nargs,
		     json_t *final, const span *call, json_t **out);

/* The arguments a command gives its last field (a method call), or none. */
typedef struct call_args {
	json_t *dot;
	const operand *args;
	size_t nargs;
	json_t *final;
} call_args;

static size_t call_nargs(const call_args *a)
{
	return a ? a->nargs + (a->final != NULL) : 0;
}

static int typed_arg(exec *ex, json_t *dot, const operand *op, char type, json_t **out);
static int check_type(exec *ex, const json_t *v, char type);

static const berth_template_struct *struct_of(const exec *ex, const json_t *v)
{
	const berth_template_env *env = ex->env;
	for (size_t i = 0; env && i < env->nstructs; i++)
		if (env->structs[i].obj == v)
			return &env->structs[i];
	return NULL;
}

/* The JSON key holding a struct's Go field, NULL when the struct has none.
 * A renamed field's key may be absent (omitempty). */
static const char *struct_key(const berth_template_type *type, const json_t *obj, const char *name)
{
	for (const char *const *r = type->renames; r && r[0]; r += 2) {
		if (strcmp(r[0], name) == 0)
			return r[1];
		if (strcmp(r[1], name) == 0)
			return NULL;
	}
	return json_object_get(obj, name) ? name : NULL;
}

static int call_method(exec *ex, const berth_template_struct *st, const berth_template_method *m,
		       const call_args *a, json_t **out)
{
	size_t nin = call_nargs(a);
	if (nin != m->nargs)
		return xerr(ex, "wrong number of args for %s: want %zu got %zu", m->name, m->nargs, nin);
	json_t **argv = berth_xcalloc(nin + 1, sizeof(*argv));
	const span *at = ex->at;
	int rc = 0;
	for (size_t i = 0; rc == 0 && a && i < a->nargs; i++)
		rc = typed_arg(ex, a->dot, &a->args[i], 's', &argv[i]);
	if (rc == 0 && a && a->final) {
		argv[a->nargs] = ref(a->final);
		rc = check_type(ex, a->final, 's');
	}
	ex->at = at;
	if (rc == 0)
		rc = m->call(st->aux, argv, out);
	for (size_t i = 0; i < nin; i++)
		json_decref(argv[i]);
	free(argv);
	return rc < 0 && *ex->err == NULL ? xerr(ex, "error calling %s", m->name) : rc;
}

/* A field of a Go struct: a method, a field, or an error naming the type. */
static int struct_field(exec *ex, const berth_template_struct *st, const char *name,
			const call_args *a, json_t **out)
{
	const berth_template_type *type = st->type;
	for (const berth_template_method *m = type->methods; m && m->name; m++)
		if (strcmp(m->name, name) == 0)
			return call_method(ex, st, m, a, out);
	if (type->is_map) {
		if (a)
			return xerr(ex, "%s is not a method but has arguments", name);
		json_t *v = json_object_get(st->obj, name);
		*out = v ? ref(v) : json_null();
		return 0;
	}
	const char *key = struct_key(type, st->obj, name);
	if (key == NULL)
		return xerr(ex, "can't evaluate field %s in type %s", name, type->name);
	if (a && type->fields_are_methods)
		return xerr(ex, "wrong number of args for %s: want 0 got %zu", name, call_nargs(a));
	if (a)
		return xerr(ex, "%s has arguments but cannot be invoked as function", name);
	json_t *v = json_object_get(st->obj, key);
	*out = v ? ref(v) : must(json_string("")); /* Go's zero value of an omitted string */
	return 0;
}

/* A field of a Go struct (a typed execution). */
static int go_struct_field(exec *ex, const json_t *recv, const berth_go_type *st, const char *name,
			   const call_args *a, json_t **out)
{
	const berth_go_field *f = go_field(st, name);
	if (f == NULL)
		return xerr(ex, "can't evaluate field %s in type %s", name, st->name);
	if (a)
		return xerr(ex, "%s has arguments but cannot be invoked as function", name);
	*out = typed_member(recv, f);
	return 0;
}

static int eval_field(exec *ex, json_t *recv, const char *name, const call_args *a, json_t **out)
{
	/* a field of no value is no value, whatever Go says of nil pointers */
	if (json_is_null(recv)) {
		*out = json_null();
		return 0;
	}
	const berth_template_struct *st = struct_of(ex, recv);
	if (st)
		return struct_field(ex, st, name, a, out);
	const typed_entry *te = typed_find(recv);
	if (te && te->nil && te->type->kind == 'P')
		return xerr(ex, "nil pointer evaluating %s.%s", te->type->elem->name ? te->type->elem->name : "pointer", name);
	if (te && go_struct(te->type))
		return go_struct_field(ex, recv, go_struct(te->type), name, a, out);
	if (!json_is_object(recv))
		return xerr(ex, "can't evaluate field %s in type %s", name, type_name(recv));
	if (a)
		return xerr(ex, "%s is not a method but has arguments", name);
	json_t *v = json_object_get(recv, name);
	if (v == NULL && ex->env && ex->env->missingkey_error)
		return xerr(ex, "map has no entry for key \"%s\"", name);
	*out = v ? typed_elem(recv, ref(v)) : json_null();
	return 0;
}

/* The operand's fields, from base; a command's arguments go to the last. */
static int eval_chain(exec *ex, json_t *base, const operand *op, const call_args *a, json_t **out)
{
	json_t *cur = ref(base);
	ex->at = &op->sp;
	for (size_t i = 0; i < op->nfields; i++) {
		json_t *next = NULL;
		int rc = eval_field(ex, cur, op->fields[i], i + 1 == op->nfields ? a : NULL, &next);
		json_decref(cur);
		if (rc < 0)
			return -1;
		cur = next;
	}
	*out = cur;
	return 0;
}

/* The operand before its fields. */
static int eval_base(exec *ex, json_t *dot, const operand *op, json_t **out)
{
	switch (op->kind) {
	case OP_DOT:
	case OP_FIELD:
		*out = ref(dot);
		return 0;
	case OP_LITERAL:
		*out = ref(op->literal);
		return 0;
	case OP_VAR:
		return var_value(ex, op->name, out);
	case OP_PIPE:
		return eval_pipe(ex, dot, op->pipe, out);
	case OP_FUNC:
		return call_func(ex, dot, op, NULL, 0, NULL, &op->sp, out);
	default:
		*out = json_null();
		return 0;
	}
}

/* An operand as a function's argument. */
static int eval_arg(exec *ex, json_t *dot, const operand *op, json_t **out)
{
	json_t *base cleanup_json = NULL;
	ex->at = &op->sp;
	if (eval_base(ex, dot, op, &base) < 0)
		return -1;
	return eval_chain(ex, base, op, NULL, out);
}

static int not_a_function(exec *ex, const operand *op)
{
	ex->at = &op->sp;
	return xerr(ex, "can't give argument to non-function %.*s", (int)(op->sp.end - op->sp.start),
		    ex->t->src + op->sp.start);
}

/* One command: its first word gets the other words, and the previous
 * command's value (final) as its last argument. */
static int eval_command(exec *ex, json_t *dot, const command *cmd, json_t *final, json_t **out)
{
	const operand *first = &cmd->args[0];
	bool has_args = cmd->nargs > 1 || final != NULL;
	json_t *base cleanup_json = NULL;
	ex->at = &first->sp;
	if (first->kind == OP_FUNC && first->nfields == 0)
		return call_func(ex, dot, first, cmd->args + 1, cmd->nargs - 1, final, &cmd->sp, out);
	if (has_args && first->kind != OP_FIELD && first->nfields == 0)
		return not_a_function(ex, first);
	if (first->kind == OP_NIL)
		return xerr(ex, "nil is not a command");
	if (eval_base(ex, dot, first, &base) < 0)
		return -1;
	call_args a = {dot, cmd->args + 1, cmd->nargs - 1, final};
	return eval_chain(ex, base, first, has_args ? &a : NULL, out);
}

/* The commands in turn, each fed the one before; then the declarations. */
static int eval_pipe(exec *ex, json_t *dot, const tpl_pipe *pipe, json_t **out)
{
	json_t *val = NULL;
	ex->at = &pipe->sp;
	for (size_t i = 0; i < pipe->ncmds; i++) {
		json_t *next = NULL;
		int rc = step(ex) < 0 ? -1 : eval_command(ex, dot, &pipe->cmds[i], val, &next);
		json_decref(val);
		if (rc < 0)
			return -1;
		val = next;
	}
	for (size_t i = 0; i < pipe->ndecl; i++) {
		if (!pipe->assign) {
			push_var(ex, pipe->decl[i], val);
		} else if (set_var(ex, pipe->decl[i], val) < 0) {
			json_decref(val);
			return -1;
		}
	}
	*out = val;
	return 0;
}

/* ------------------------------------------------------- function calls */

static char param_type(const tpl_func *f, size_t i)
{
	return i < strlen(f->params) ? f->params[i] : f->variadic;
}

/* Go checks literals against the parameter by their syntax. */
static int literal_arg(exec *ex, const operand *op, char type, json_t **out)
{
	int len = (int)(op->sp.end - op->sp.start);
	const char *text = ex->t->src + op->sp.start;
	json_int_t i;
	bool is_nil = op->kind == OP_NIL;
	*out = is_nil ? json_null() : ref(op->literal);
	if (type == 'v' || (type == 'l' && is_nil))
		return 0;
	if (is_nil)
		return xerr(ex, "cannot assign nil to %s", type == 's' ? "string" : "int");
	if (type == 's' && !json_is_string(op->literal))
		return xerr(ex, "expected string; found %.*s", len, text);
	if (type == 'i' && !int_value(op->literal, &i))
		return xerr(ex, "expected integer; found %.*s", len, text);
	if (type == 'l')
		return xerr(ex, "can't handle %.*s for arg of type []string", len, text);
	return 0;
}

static bool all_strings(const json_t *a)
{
	for (size_t i = 0; i < json_array_size(a); i++)
		if (!json_is_string(json_array_get(a, i)))
			return false;
	return true;
}

/* Go's validateType for a computed value. */
static int check_type(exec *ex, const json_t *v, char type)
{
	json_int_t i;
	const char *want = type == 's' ? "string" : type == 'i' ? "int" : "[]string";
	if (type == 'v' || (type == 's' && json_is_string(v)) || (type == 'i' && int_value(v, &i)))
		return 0;
	if (type == 'l' && (json_is_null(v) || (json_is_array(v) && all_strings(v))))
		return 0;
	if (json_is_null(v))
		return xerr(ex, "invalid value; expected %s", want);
	return xerr(ex, "wrong type for value; expected %s; got %s", want, type_name(v));
}

static int typed_arg(exec *ex, json_t *dot, const operand *op, char type, json_t **out)
{
	ex->at = &op->sp;
	if (op->kind == OP_LITERAL || op->kind == OP_NIL)
		return literal_arg(ex, op, type, out);
	if (eval_arg(ex, dot, op, out) < 0)
		return -1;
	return check_type(ex, *out, type);
}

static int check_arity(exec *ex, const tpl_func *f, size_t nargs, size_t nin)
{
	size_t fixed = strlen(f->params);
	if (f->variadic && nin < fixed)
		return xerr(ex, "wrong number of args for %s: want at least %zu got %zu", f->name, fixed, nargs);
	if (!f->variadic && nin != fixed)
		return xerr(ex, "wrong number of args for %s: want %zu got %zu", f->name, fixed, nin);
	return 0;
}

/* and/or: the first argument that decides, evaluating no further. */
static int call_lazy(exec *ex, json_t *dot, const tpl_func *f, const operand *args, size_t nargs,
		     json_t *final, json_t **out)
{
	bool decides = f->lazy == 2;
	json_t *v = NULL;
	for (size_t i = 0; i < nargs; i++) {
		json_decref(v);
		v = NULL;
		if (typed_arg(ex, dot, &args[i], 'v', &v) < 0) {
			json_decref(v);
			return -1;
		}
		if (truth(v) == decides) {
			*out = v;
			return 0;
		}
	}
	if (final != NULL) {
		json_decref(v);
		v = ref(final);
	}
	*out = v;
	return 0;
}

static int eval_args(exec *ex, json_t *dot, const tpl_func *f, const operand *args, size_t nargs,
		     json_t *final, json_t **argv)
{
	for (size_t i = 0; i < nargs; i++)
		if (typed_arg(ex, dot, &args[i], param_type(f, i), &argv[i]) < 0)
			return -1;
	if (final == NULL)
		return 0;
	argv[nargs] = ref(final);
	return check_type(ex, final, param_type(f, nargs));
}

static int call_func(exec *ex, json_t *dot, const operand *fn, const operand *args, size_t nargs,
		     json_t *final, const span *call, json_t **out)
{
	const tpl_func *f = fn->func;
	size_t nin = nargs + (final != NULL);
	ex->at = &fn->sp;
	if (check_arity(ex, f, nargs, nin) < 0)
		return -1;
	if (f->lazy)
		return call_lazy(ex, dot, f, args, nargs, final, out);
	json_t **argv = berth_xcalloc(nin, sizeof(*argv));
	int rc = eval_args(ex, dot, f, args, nargs, final, argv);
	if (rc == 0 && (rc = f->fn(ex, argv, nin, out)) < 0) {
		ex->at = call;
		xerr(ex, "error calling %s: %s", f->name, ex->why ? ex->why : "failed");
	}
	for (size_t i = 0; i < nin; i++)
		json_decref(argv[i]);
	free(argv);
	return rc;
}

/* ------------------------------------------------------ string functions */

static const char *sval(const json_t *v)
{
	return json_string_value(v);
}

static size_t slen(const json_t *v)
{
	return json_string_length(v);
}

static int string_result(exec *ex, berth_buf *b, json_t **out)
{
	return new_string(ex, b->data, b->len, out);
}

/* docker's json: json.Marshal without HTML escaping or a trailing newline. */
static int fn_json(exec *ex, json_t *const *a, size_t n, json_t **out)
{
	berth_buf b cleanup_buf = {0};
	/* docker's contexts have a MarshalJSON of their own */
	const berth_template_struct *st = struct_of(ex, a[0]);
	if (json_encode(&b, a[0], 0, st && st->type->fields_are_methods) < 0)
		return fail(ex, "json: value nested too deeply");
	return string_result(ex, &b, out);
}

static int append_piece(exec *ex, json_t *arr, const char *s, size_t len)
{
	json_t *piece;
	if (charge(ex, len + 64) < 0 || new_string(ex, s, len, &piece) < 0)
		return -1;
	json_array_append_new(arr, piece);
	return 0;
}

/* strings.Split with an empty sep: one string per rune, broken bytes alone. */
static int explode(exec *ex, const char *s, size_t len, json_t *arr)
{
	uint32_t cp;
	for (size_t i = 0, w; i < len; i += w) {
		w = utf8_decode(s + i, len - i, &cp);
		if (append_piece(ex, arr, s + i, w) < 0)
			return -1;
	}
	return 0;
}

static int split_around(exec *ex, const char *s, size_t len, const char *sep, size_t seplen, json_t *arr)
{
	size_t start = 0;
	for (size_t i = 0; len - i >= seplen && i < len;) {
		if (memcmp(s + i, sep, seplen) != 0) {
			i++;
			continue;
		}
		if (append_piece(ex, arr, s + start, i - start) < 0)
			return -1;
		start = i += seplen;
	}
	return append_piece(ex, arr, s + start, len - start);
}

/* strings.Split */
static int fn_split(exec *ex, json_t *const *a, size_t n, json_t **out)
{
	json_t *arr cleanup_json = must(json_array());
	int rc = slen(a[1]) == 0 ? explode(ex, sval(a[0]), slen(a[0]), arr)
				 : split_around(ex, sval(a[0]), slen(a[0]), sval(a[1]), slen(a[1]), arr);
	if (rc < 0)
		return -1;
	*out = berth_steal_ptr(&arr);
	return 0;
}

/* strings.Join; null is Go's nil slice. */
static int fn_join(exec *ex, json_t *const *a, size_t n, json_t **out)
{
	berth_buf b cleanup_buf = {0};
	for (size_t i = 0; i < json_array_size(a[0]); i++) {
		if (i > 0)
			berth_buf_append(&b, sval(a[1]), slen(a[1]));
		const json_t *e = json_array_get(a[0], i);
		berth_buf_append(&b, sval(e), slen(e));
		if (b.len > MAX_ALLOC - ex->alloc)
			return charge(ex, b.len);
	}
	return string_result(ex, &b, out);
}

static int map_case_fn(exec *ex, const json_t *s, enum case_mode mode, json_t **out)
{
	berth_buf b cleanup_buf = {0};
	map_case(&b, sval(s), slen(s), mode);
	return string_result(ex, &b, out);
}

static int fn_lower(exec *ex, json_t *const *a, size_t n, json_t **out)
{
	return map_case_fn(ex, a[0], CASE_LOWER, out);
}

static int fn_upper(exec *ex, json_t *const *a, size_t n, json_t **out)
{
	return map_case_fn(ex, a[0], CASE_UPPER, out);
}

static int fn_title(exec *ex, json_t *const *a, size_t n, json_t **out)
{
	return map_case_fn(ex, a[0], CASE_TITLE, out);
}

static void put_spaces(berth_buf *b, size_t n)
{
	put_repeat(b, ' ', n);
}

/* docker's pad: spaces around a string, none around an empty one. */
static int fn_pad(exec *ex, json_t *const *a, size_t n, json_t **out)
{
	json_int_t pre, post;
	int_value(a[1], &pre);
	int_value(a[2], &post);
	if (slen(a[0]) == 0)
		return new_string(ex, "", 0, out);
	if (pre < 0 || post < 0)
		return fail(ex, "strings: negative Repeat count");
	if ((uint64_t)pre > MAX_ALLOC || (uint64_t)post > MAX_ALLOC)
		return charge(ex, MAX_ALLOC + 1);
	if (charge(ex, (size_t)(pre + post)) < 0)
		return -1;
	berth_buf b cleanup_buf = {0};
	put_spaces(&b, (size_t)pre);
	berth_buf_append(&b, sval(a[0]), slen(a[0]));
	put_spaces(&b, (size_t)post);
	return string_result(ex, &b, out);
}

/* docker's truncate: the first length bytes. */
static int fn_truncate(exec *ex, json_t *const *a, size_t n, json_t **out)
{
	json_int_t len;
	int_value(a[1], &len);
	if ((json_int_t)slen(a[0]) < len)
		return new_string(ex, sval(a[0]), slen(a[0]), out);
	if (len < 0)
		return fail(ex, "runtime error: slice bounds out of range [:%" JSON_INTEGER_FORMAT "]", len);
	return new_string(ex, sval(a[0]), (size_t)len, out);
}

/* --------------------------------------------------- collection functions */

static int fn_len(exec *ex, json_t *const *a, size_t n, json_t **out)
{
	const json_t *v = a[0];
	if (json_is_null(v))
		return fail(ex, "len of nil pointer");
	if (!json_is_string(v) && !json_is_array(v) && !json_is_object(v))
		return fail(ex, "len of type %s", type_name(v));
	size_t len = json_is_string(v) ? slen(v) : json_is_array(v) ? json_array_size(v) : json_object_size(v);
	*out = must(json_integer((json_int_t)len));
	return 0;
}

/* An array or string index, 0 <= x <= cap. */
static int index_arg(exec *ex, const json_t *idx, size_t cap, json_int_t *x)
{
	if (json_is_null(idx))
		return fail(ex, "cannot index slice/array with nil");
	if (!int_value(idx, x))
		return fail(ex, "cannot index slice/array with type %s", type_name(idx));
	if (*x < 0 || (uint64_t)*x > cap)
		return fail(ex, "index out of range: %" JSON_INTEGER_FORMAT, *x);
	return 0;
}

static int index_map(exec *ex, const json_t *item, const json_t *key, json_t **out)
{
	if (json_is_null(key))
		return fail(ex, "value is nil; should be of type string");
	if (!json_is_string(key))
		return fail(ex, "value has type %s; should be string", type_name(key));
	json_t *v = json_object_getn(item, sval(key), slen(key));
	*out = v ? ref(v) : json_null();
	return 0;
}

static int index_one(exec *ex, const json_t *item, const json_t *idx, json_t **out)
{
	json_int_t x;
	if (json_is_object(item))
		return index_map(ex, item, idx, out);
	if (json_is_null(item))
		return fail(ex, "index of nil pointer");
	if (!json_is_array(item) && !json_is_string(item))
		return fail(ex, "can't index item of type %s", type_name(item));
	size_t len = json_is_array(item) ? json_array_size(item) : slen(item);
	if (index_arg(ex, idx, len, &x) < 0)
		return -1;
	if ((size_t)x == len)
		return fail(ex, "index out of range: %" JSON_INTEGER_FORMAT, x);
	if (json_is_array(item))
		*out = ref(json_array_get(item, (size_t)x));
	else
		*out = must(json_integer((unsigned char)sval(item)[x]));
	return 0;
}

/* index: each index in turn, into maps by key and arrays by position. */
static int fn_index(exec *ex, json_t *const *a, size_t n, json_t **out)
{
	if (json_is_null(a[0]))
		return fail(ex, "index of untyped nil");
	json_t *item = ref(a[0]);
	for (size_t i = 1; i < n; i++) {
		json_t *next = NULL;
		int rc = index_one(ex, item, a[i], &next);
		if (rc == 0)
			next = typed_elem(item, next);
		json_decref(item);
		if (rc < 0)
			return -1;
		item = next;
	}
	*out = item;
	return 0;
}

static int slice_result(exec *ex, const json_t *item, size_t from, size_t to, json_t **out)
{
	if (json_is_string(item))
		return new_string(ex, sval(item) + from, to - from, out);
	if (charge(ex, (to - from) * 64) < 0)
		return -1;
	json_t *arr = must(json_array());
	for (size_t i = from; i < to; i++)
		json_array_append(arr, json_array_get(item, i));
	*out = arr;
	return 0;
}

/* slice x 1 2 is x[1:2]. */
static int fn_slice(exec *ex, json_t *const *a, size_t n, json_t **out)
{
	const json_t *item = a[0];
	if (json_is_null(item))
		return fail(ex, "slice of untyped nil");
	if (n > 4)
		return fail(ex, "too many slice indexes: %zu", n - 1);
	if (json_is_string(item) && n == 4)
		return fail(ex, "cannot 3-index slice a string");
	if (!json_is_string(item) && !json_is_array(item))
		return fail(ex, "can't slice item of type %s", type_name(item));
	size_t len = json_is_string(item) ? slen(item) : json_array_size(item);
	json_int_t idx[3] = {0, (json_int_t)len, (json_int_t)len};
	for (size_t i = 1; i < n; i++)
		if (index_arg(ex, a[i], len, &idx[i - 1]) < 0)
			return -1;
	for (size_t i = 0; i < (n == 4 ? 2u : 1u); i++)
		if (idx[i] > idx[i + 1])
			return fail(ex, "invalid slice index: %" JSON_INTEGER_FORMAT " > %" JSON_INTEGER_FORMAT,
				    idx[i], idx[i + 1]);
	return slice_result(ex, item, (size_t)idx[0], (size_t)idx[1], out);
}

/* ---------------------------------------------------- logic, comparisons */

static int fn_not(exec *ex, json_t *const *a, size_t n, json_t **out)
{
	*out = json_boolean(!truth(a[0]));
	return 0;
}

enum kind { K_NULL, K_BOOL, K_NUMBER, K_STRING, K_OTHER };

static enum kind kind_of(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_NULL:
		return K_NULL;
	case JSON_TRUE:
	case JSON_FALSE:
		return K_BOOL;
	case JSON_INTEGER:
	case JSON_REAL:
		return K_NUMBER;
	case JSON_STRING:
		return K_STRING;
	default:
		return K_OTHER;
	}
}

/* <0, 0, >0 for two numbers or two strings. Integers and reals compare
 * by value: JSON does not tell 1 from 1.0 the way Go's types do. */
static int compare(const json_t *a, const json_t *b)
{
	if (json_is_string(a)) {
		size_t la = slen(a), lb = slen(b);
		int c = memcmp(sval(a), sval(b), la < lb ? la : lb);
		return c != 0 ? c : (la > lb) - (la < lb);
	}
	if (json_is_integer(a) && json_is_integer(b))
		return (json_integer_value(a) > json_integer_value(b)) - (json_integer_value(a) < json_integer_value(b));
	double x = json_number_value(a), y = json_number_value(b);
	return (x > y) - (x < y);
}

static int equal(exec *ex, const json_t *a, const json_t *b, bool *res)
{
	enum kind ka = kind_of(a), kb = kind_of(b);
	if (ka == K_NULL || kb == K_NULL) {
		*res = ka == kb;
		return 0;
	}
	if (ka != kb)
		return fail(ex, "incompatible types for comparison");
	if (ka == K_OTHER)
		return fail(ex, "non-comparable type %s: invalid type for comparison", type_name(b));
	*res = ka == K_BOOL ? json_is_true(a) == json_is_true(b) : compare(a, b) == 0;
	return 0;
}

static int less(exec *ex, const json_t *a, const json_t *b, bool *res)
{
	enum kind ka = kind_of(a), kb = kind_of(b);
	if (ka == K_NULL || ka == K_OTHER || kb == K_NULL || kb == K_OTHER)
		return fail(ex, "invalid type for comparison");
	if (ka != kb)
		return fail(ex, "incompatible types for comparison");
	if (ka == K_BOOL)
		return fail(ex, "invalid type for comparison");
	*res = compare(a, b) < 0;
	return 0;
}

static int bool_result(bool v, json_t **out)
{
	*out = json_boolean(v);
	return 0;
}

/* eq x y z: x equals y or z. */
static int fn_eq(exec *ex, json_t *const *a, size_t n, json_t **out)
{
	bool res = false;
	if (n < 2)
		return fail(ex, "missing argument for comparison");
	for (size_t i = 1; i < n && !res; i++)
		if (equal(ex, a[0], a[i], &res) < 0)
			return -1;
	return bool_result(res, out);
}

static int fn_ne(exec *ex, json_t *const *a, size_t n, json_t **out)
{
	bool res;
	return equal(ex, a[0], a[1], &res) < 0 ? -1 : bool_result(!res, out);
}

static int fn_lt(exec *ex, json_t *const *a, size_t n, json_t **out)
{
	bool res;
	return less(ex, a[0], a[1], &res) < 0 ? -1 : bool_result(res, out);
}

/* le is lt or eq, gt and ge their negations, as in Go. */
static int less_or_equal(exec *ex, json_t *const *a, bool *res)
{
	if (less(ex, a[0], a[1], res) < 0)
		return -1;
	return *res ? 0 : equal(ex, a[0], a[1], res);
}

static int fn_le(exec *ex, json_t *const *a, size_t n, json_t **out)
{
	bool res;
	return less_or_equal(ex, a, &res) < 0 ? -1 : bool_result(res, out);
}

static int fn_gt(exec *ex, json_t *const *a, size_t n, json_t **out)
{
	bool res;
	return less_or_equal(ex, a, &res) < 0 ? -1 : bool_result(!res, out);
}

static int fn_ge(exec *ex, json_t *const *a, size_t n, json_t **out)
{
	bool res;
	return less(ex, a[0], a[1], &res) < 0 ? -1 : bool_result(!res, out);
}

/* -------------------------------------------------------- print, println */

static int too_deep(exec *ex)
{
	return fail(ex, "value nested too deeply");
}

/* fmt.Sprint adds spaces between operands when neither is a string;
 * fmt.Sprintln always, and a newline. */
static int sprint(exec *ex, json_t *const *a, size_t n, bool ln, json_t **out)
{
	berth_buf b cleanup_buf = {0};
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && (ln || (!json_is_string(a[i]) && !json_is_string(a[i - 1]))))
			berth_buf_append(&b, " ", 1);
		if (print_value(&b, a[i], 0) < 0)
			return too_deep(ex);
		if (b.len > MAX_ALLOC - ex->alloc)
			return charge(ex, b.len);
	}
	if (ln)
		berth_buf_append(&b, "\n", 1);
	return string_result(ex, &b, out);
}

static int fn_print(exec *ex, json_t *const *a, size_t n, json_t **out)
{
	return sprint(ex, a, n, false, out);
}

static int fn_println(exec *ex, json_t *const *a, size_t n, json_t **out)
{
	return sprint(ex, a, n, true, out);
}

/* ---------------------------------------------------------------- printf */

typedef struct fmt_spec {
	bool minus, plus, sharp, space, zero;
	int width, prec; /* -1 when absent */
	uint32_t verb;
} fmt_spec;

/* Pads to the width in runes, as fmt does. */
static void pad(berth_buf *b, const fmt_spec *sp, const char *s, size_t len)
{
	size_t runes = sp->width > 0 ? utf8_count(s, len) : 0;
	size_t fill = sp->width > 0 && (size_t)sp->width > runes ? (size_t)sp->width - runes : 0;
	if (!sp->minus)
		put_spaces(b, fill);
	berth_buf_append(b, s, len);
	if (sp->minus)
		put_spaces(b, fill);
}

static void bad_verb(berth_buf *b, const fmt_spec *sp, const json_t *v)
{
	berth_buf_puts(b, "%!");
	utf8_append(b, sp->verb);
	if (json_is_null(v)) {
		berth_buf_puts(b, "(<nil>)");
		return;
	}
	berth_buf_printf(b, "(%s=", type_name(v));
	print_value(b, v, MAX_VALUE_DEPTH); /* scalars only: never too deep */
	berth_buf_puts(b, ")");
}

static void put_hex(berth_buf *t, const char *s, size_t len, bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	for (size_t i = 0; i < len; i++) {
		char h[2] = {digits[(unsigned char)s[i] >> 4], digits[s[i] & 0xF]};
		berth_buf_append(t, h, 2);
	}
}

/* The text of a string under a verb; false for verbs strings do not take. */
static bool fmt_string(berth_buf *t, const fmt_spec *sp, const json_t *v)
{
	const char *s = sval(v);
	size_t len = slen(v), cut = 0;
	uint32_t cp;
	for (int n = 0; cut < len && (sp->prec < 0 || n < sp->prec); n++)
		cut += utf8_decode(s + cut, len - cut, &cp);
	if (sp->verb == 's' || sp->verb == 'v')
		berth_buf_append(t, s, cut);
	else if (sp->verb == 'q')
		go_quote(t, s, cut, 0, '"');
	else if (sp->verb == 'x' || sp->verb == 'X')
		put_hex(t, s, cut, sp->verb == 'X');
	else
		return false;
	return true;
}

/* fmt's fmtInteger: zero padding is a precision, prefixes come after it. */
static void fmt_integer(berth_buf *t, const fmt_spec *sp, json_int_t x, unsigned base, bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	uint64_t u = x < 0 ? 0 - (uint64_t)x : (uint64_t)x;
	int prec = sp->prec;
	char buf[160];
	size_t i = sizeof(buf);
	if (prec < 0 && sp->zero && sp->width > 0 && !sp->minus)
		prec = sp->width - (x < 0 || sp->plus || sp->space);
	if (sp->prec == 0 && u == 0)
		return; /* "%.0d" of 0 is nothing but padding */
	do {
		buf[--i] = digits[u % base];
		u /= base;
	} while (u > 0);
	while (prec > 0 && (size_t)prec > sizeof(buf) - i && i > 8)
		buf[--i] = '0';
	const char *prefix = !sp->sharp ? "" : base == 16 ? (upper ? "0X" : "0x") : base == 2 ? "0b"
			   : base == 8 && buf[i] != '0' ? "0" : "";
	if (sp->verb == 'O')
		prefix = "0o";
	if (x < 0 || sp->plus || sp->space)
		berth_buf_append(t, x < 0 ? "-" : sp->plus ? "+" : " ", 1);
	berth_buf_puts(t, prefix);
	berth_buf_append(t, buf + i, sizeof(buf) - i);
}

/* %c and %q of an integer: the rune, bare or quoted. */
static void fmt_rune(berth_buf *t, const fmt_spec *sp, json_int_t x)
{
	berth_buf r cleanup_buf = {0};
	if (x < 0 || x > 0x10FFFF || (x >= 0xD800 && x <= 0xDFFF))
		x = RUNE_ERROR;
	utf8_append(&r, (uint32_t)x);
	if (sp->verb == 'q')
		go_quote(t, r.data, r.len, 0, '\'');
	else
		berth_buf_append(t, r.data, r.len);
}

static bool fmt_int(berth_buf *t, const fmt_spec *sp, json_int_t x)
{
	switch (sp->verb) {
	case 'd':
	case 'v':
		fmt_integer(t, sp, x, 10, false);
		return true;
	case 'x':
	case 'X':
		fmt_integer(t, sp, x, 16, sp->verb == 'X');
		return true;
	case 'o':
	case 'O':
		fmt_integer(t, sp, x, 8, false);
		return true;
	case 'b':
		fmt_integer(t, sp, x, 2, false);
		return true;
	case 'c':
	case 'q':
		fmt_rune(t, sp, x);
		return true;
	case 'U':
		berth_buf_printf(t, "U+%04llX", (unsigned long long)x);
		return true;
	default:
		return false;
	}
}

/* %v %g %e %f of a float64: the digits of |d|, then sign and zeros. */
static bool fmt_float(berth_buf *t, const fmt_spec *sp, double d)
{
	berth_buf digits cleanup_buf = {0};
	int prec = sp->prec < 0 ? 6 : sp->prec;
	switch (sp->verb) {
	case 'v':
	case 'g':
	case 'G':
		if (sp->prec < 0)
			put_float_g(&digits, fabs(d), sp->verb == 'G' ? 'E' : 'e');
		else
			berth_buf_printf(&digits, sp->verb == 'G' ? "%.*G" : "%.*g", prec, fabs(d));
		break;
	case 'e':
	case 'E':
		berth_buf_printf(&digits, sp->verb == 'E' ? "%.*E" : "%.*e", prec, fabs(d));
		break;
	case 'f':
	case 'F':
		berth_buf_printf(&digits, "%.*f", prec, fabs(d));
		break;
	default:
		return false;
	}
	if (signbit(d) || sp->plus || sp->space)
		berth_buf_append(t, signbit(d) ? "-" : sp->plus ? "+" : " ", 1);
	if (sp->zero && !sp->minus && sp->width > 0 && (size_t)sp->width > t->len + digits.len)
		put_zeros(t, sp->width - (int)(t->len + digits.len));
	berth_buf_append(t, digits.data, digits.len);
	return true;
}

static bool fmt_other(berth_buf *t, const fmt_spec *sp, const json_t *v, int depth)
{
	if (json_is_boolean(v) && (sp->verb == 't' || sp->verb == 'v')) {
		berth_buf_puts(t, json_is_true(v) ? "true" : "false");
		return true;
	}
	/* a nil inside a slice or map prints as <nil> whatever the verb */
	if (json_is_null(v) && (depth > 0 || sp->verb == 'v')) {
		berth_buf_puts(t, "<nil>");
		return true;
	}
	return false;
}

static void fmt_scalar(berth_buf *b, const fmt_spec *sp, const json_t *v, int depth)
{
	berth_buf t cleanup_buf = {0};
	bool ok = json_is_string(v)    ? fmt_string(&t, sp, v)
		  : json_is_integer(v) ? fmt_int(&t, sp, json_integer_value(v))
		  : json_is_real(v)    ? fmt_float(&t, sp, json_real_value(v))
				       : fmt_other(&t, sp, v, depth);
	if (ok)
		pad(b, sp, t.data ? t.data : "", t.len);
	else
		bad_verb(b, sp, v);
}

static int fmt_arg(berth_buf *b, const fmt_spec *sp, const json_t *v, int depth);

/* Slices and maps apply the verb to each element: [%d %d], map[k:v]. */
static int fmt_collection(berth_buf *b, const fmt_spec *sp, const json_t *v, int depth)
{
	bool map = json_is_object(v);
	size_t n;
	const char **keys cleanup_free = map ? berth_json_sorted_keys(v, &n) : NULL;
	n = map ? n : json_array_size(v);
	berth_buf_puts(b, map ? "map[" : "[");
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			berth_buf_append(b, " ", 1);
		if (map) {
			json_t *k cleanup_json = must(json_string_nocheck(keys[i]));
			fmt_arg(b, sp, k, depth + 1);
			berth_buf_append(b, ":", 1);
		}
		if (fmt_arg(b, sp, map ? json_object_get(v, keys[i]) : json_array_get(v, i), depth + 1) < 0)
			return -1;
	}
	berth_buf_append(b, "]", 1);
	return 0;
}

static int fmt_arg(berth_buf *b, const fmt_spec *sp, const json_t *v, int depth)
{
	if (depth > MAX_VALUE_DEPTH)
		return -1;
	if (sp->verb == 'T') {
		const char *t = type_name(v);
		pad(b, sp, t, strlen(t));
		return 0;
	}
	if (json_is_array(v) || json_is_object(v))
		return fmt_collection(b, sp, v, depth);
	fmt_scalar(b, sp, v, depth);
	return 0;
}

/* A width or precision; too large consumes the format, as Go's parsenum. */
static size_t parse_fmt_num(const char *f, size_t n, size_t i, int *out)
{
	long v = 0;
	if (i >= n || !is_digit(f[i]))
		return i;
	for (; i < n && is_digit(f[i]); i++) {
		v = v * 10 + (f[i] - '0');
		if (v > MAX_WIDTH)
			return n;
	}
	*out = (int)v;
	return i;
}

/* Flags, width and precision after a '%'; returns where the verb is. */
static size_t parse_spec(const char *f, size_t n, size_t i, fmt_spec *sp)
{
	*sp = (fmt_spec){.width = -1, .prec = -1};
	for (; i < n && f[i] != '\0' && strchr("#0+- ", f[i]) != NULL; i++) {
		sp->sharp |= f[i] == '#';
		sp->plus |= f[i] == '+';
		sp->space |= f[i] == ' ';
		if (f[i] == '-')
			sp->minus = true, sp->zero = false;
		if (f[i] == '0')
			sp->zero = !sp->minus;
	}
	i = parse_fmt_num(f, n, i, &sp->width);
	if (i < n && f[i] == '.') {
		sp->prec = 0;
		i = parse_fmt_num(f, n, i + 1, &sp->prec);
	}
	return i;
}

static void fmt_extra(berth_buf *b, json_t *const *a, size_t from, size_t n)
{
	berth_buf_puts(b, "%!(EXTRA ");
	for (size_t i = from; i < n; i++) {
		if (i > from)
			berth_buf_puts(b, ", ");
		if (!json_is_null(a[i]))
			berth_buf_printf(b, "%s=", type_name(a[i]));
		print_value(b, a[i], 0);
	}
	berth_buf_puts(b, ")");
}

/* One verb at f[i]; *argi moves past the operand it uses. */
static size_t fmt_verb(berth_buf *b, const char *f, size_t n, size_t i, json_t *const *a, size_t argc,
		       size_t *argi, int *rc)
{
	fmt_spec sp;
	i = parse_spec(f, n, i, &sp);
	if (i >= n) {
		berth_buf_puts(b, "%!(NOVERB)");
		return n;
	}
	i += utf8_decode(f + i, n - i, &sp.verb);
	if (sp.verb == '%') {
		berth_buf_append(b, "%", 1);
	} else if (*argi >= argc) {
		berth_buf_puts(b, "%!");
		utf8_append(b, sp.verb);
		berth_buf_puts(b, "(MISSING)");
	} else {
		*rc = fmt_arg(b, &sp, a[(*argi)++], 0);
	}
	return i;
}

/* fmt.Sprintf for the verbs templates use: %s %d %v %q %x %f %t %c... */
static int fn_printf(exec *ex, json_t *const *a, size_t n, json_t **out)
{
	const char *f = sval(a[0]);
	size_t flen = slen(a[0]), argi = 1;
	berth_buf b cleanup_buf = {0};
	for (size_t i = 0; i < flen;) {
		const char *pct = memchr(f + i, '%', flen - i);
		size_t stop = pct ? (size_t)(pct - f) : flen;
		int rc = 0;
		berth_buf_append(&b, f + i, stop - i);
		i = pct ? fmt_verb(&b, f, flen, stop + 1, a, n, &argi, &rc) : flen;
		if (rc < 0)
			return too_deep(ex);
		if (b.len > MAX_ALLOC - ex->alloc)
			return charge(ex, b.len);
	}
	if (argi < n)
		fmt_extra(&b, a, argi, n);
	return string_result(ex, &b, out);
}

/* ------------------------------------------------------- function table */

static const tpl_func funcs[] = {
	{"and", "v", 'v', NULL, 1},
	{"eq", "v", 'v', fn_eq, 0},
	{"ge", "vv", 0, fn_ge, 0},
	{"gt", "vv", 0, fn_gt, 0},
	{"index", "v", 'v', fn_index, 0},
	{"join", "ls", 0, fn_join, 0},
	{"json", "v", 0, fn_json, 0},
	{"le", "vv", 0, fn_le, 0},
	{"len", "v", 0, fn_len, 0},
	{"lower", "s", 0, fn_lower, 0},
	{"lt", "vv", 0, fn_lt, 0},
	{"ne", "vv", 0, fn_ne, 0},
	{"not", "v", 0, fn_not, 0},
	{"or", "v", 'v', NULL, 2},
	{"pad", "sii", 0, fn_pad, 0},
	{"print", "", 'v', fn_print, 0},
	{"printf", "s", 'v', fn_printf, 0},
	{"println", "", 'v', fn_println, 0},
	{"slice", "v", 'v', fn_slice, 0},
	{"split", "ss", 0, fn_split, 0},
	{"title", "s", 0, fn_title, 0},
	{"truncate", "si", 0, fn_truncate, 0},
	{"upper", "s", 0, fn_upper, 0},
};

static const tpl_func *find_func(const char *name, size_t len)
{
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(funcs); i++)
		if (strlen(funcs[i].name) == len && memcmp(funcs[i].name, name, len) == 0)
			return &funcs[i];
	return NULL;
}

/* ------------------------------------------------------------------ walk */

enum { WALK_BREAK = 1, WALK_CONTINUE = 2 };

static int walk_list(exec *ex, json_t *dot, const node_list *l);

/* What {{pipeline}} prints: no value is "<no value>", the rest as %v. */
static int print_top(exec *ex, const json_t *v)
{
	berth_buf b cleanup_buf = {0};
	if (json_is_null(v))
		berth_buf_puts(&b, "<no value>");
	else if (print_value(&b, v, 0) < 0)
		return xerr(ex, "value nested too deeply");
	return write_out(ex, b.data, b.len);
}

static int walk_action(exec *ex, json_t *dot, const tpl_node *n)
{
	json_t *v cleanup_json = NULL;
	if (eval_pipe(ex, dot, n->pipe, &v) < 0)
		return -1;
	/* declarations print nothing, and live on until the enclosing {{end}} */
	return n->pipe->ndecl > 0 ? 0 : print_top(ex, v);
}

static int walk_if_with(exec *ex, json_t *dot, const tpl_node *n)
{
	size_t mark = ex->nvars;
	json_t *v cleanup_json = NULL;
	int rc = eval_pipe(ex, dot, n->pipe, &v);
	if (rc == 0 && truth(v))
		rc = walk_list(ex, n->kind == NODE_WITH ? v : dot, &n->list);
	else if (rc == 0 && n->has_else)
		rc = walk_list(ex, dot, &n->else_list);
	pop_vars(ex, mark);
	return rc;
}

/* One pass of a range body, with $i and $v (or $v alone) set. */
static int range_once(exec *ex, const tpl_node *n, json_t *index, json_t *elem, size_t mark)
{
	const tpl_pipe *p = n->pipe;
	int rc = step(ex); /* an empty body still costs: {{range 1000000000}}{{end}} */
	if (rc < 0)
		return -1;
	if (p->ndecl > 0 && p->assign)
		rc = set_var(ex, p->decl[0], p->ndecl > 1 ? index : elem);
	else if (p->ndecl > 0)
		set_top_var(ex, 1, elem);
	if (rc == 0 && p->ndecl > 1 && p->assign)
		rc = set_var(ex, p->decl[1], elem);
	else if (p->ndecl > 1)
		set_top_var(ex, 2, index);
	if (rc == 0)
		rc = walk_list(ex, elem, &n->list);
	pop_vars(ex, mark);
	return rc == WALK_CONTINUE ? 0 : rc;
}

static int range_array(exec *ex, const tpl_node *n, json_t *arr, size_t mark)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < json_array_size(arr); i++) {
		json_t *index cleanup_json = must(json_integer((json_int_t)i));
		json_t *elem cleanup_json = typed_elem(arr, ref(json_array_get(arr, i)));
		rc = range_once(ex, n, index, elem, mark);
	}
	return rc;
}

static int range_object(exec *ex, const tpl_node *n, json_t *obj, size_t mark)
{
	size_t count;
	const char **keys cleanup_free = berth_json_sorted_keys(obj, &count);
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < count; i++) {
		json_t *key cleanup_json = must(json_string_nocheck(keys[i]));
		json_t *elem cleanup_json = typed_elem(obj, ref(json_object_get(obj, keys[i])));
		rc = range_once(ex, n, key, elem, mark);
	}
	return rc;
}

/* range over an integer n: 0 to n-1, as Go 1.22. */
static int range_int(exec *ex, const tpl_node *n, json_int_t count, size_t mark)
{
	int rc = 0;
	for (json_int_t i = 0; rc == 0 && i < count; i++) {
		json_t *v cleanup_json = must(json_integer(i));
		rc = range_once(ex, n, v, v, mark);
	}
	return rc;
}

static int range_over(exec *ex, const tpl_node *n, json_t *v, size_t mark)
{
	berth_buf b cleanup_buf = {0};
	if (json_is_array(v))
		return range_array(ex, n, v, mark);
	if (json_is_object(v))
		return range_object(ex, n, v, mark);
	if (json_is_integer(v) && n->pipe->ndecl > 1)
		return xerr(ex, "can't use %" JSON_INTEGER_FORMAT " to iterate over more than one variable",
			    json_integer_value(v));
	if (json_is_integer(v))
		return range_int(ex, n, json_integer_value(v), mark);
	print_value(&b, v, 0);
	return xerr(ex, "range can't iterate over %s", b.data);
}

static int walk_range(exec *ex, json_t *dot, const tpl_node *n)
{
	size_t mark = ex->nvars;
	json_t *v cleanup_json = NULL;
	int rc = eval_pipe(ex, dot, n->pipe, &v);
	bool empty = rc == 0 && (json_is_null(v) || (json_is_array(v) && json_array_size(v) == 0) ||
				 (json_is_object(v) && json_object_size(v) == 0) ||
				 (json_is_integer(v) && json_integer_value(v) <= 0 && n->pipe->ndecl < 2));
	if (rc == 0 && !empty)
		rc = range_over(ex, n, v, ex->nvars);
	else if (rc == 0 && n->has_else)
		rc = walk_list(ex, dot, &n->else_list);
	pop_vars(ex, mark);
	/* a {{break}} stops this range, even from its {{else}}, as in Go */
	return rc == WALK_BREAK ? 0 : rc;
}

static int walk(exec *ex, json_t *dot, const tpl_node *n)
{
	if (step(ex) < 0)
		return -1;
	switch (n->kind) {
	case NODE_TEXT:
		return write_out(ex, ex->t->src + n->pos, n->len);
	case NODE_ACTION:
		return walk_action(ex, dot, n);
	case NODE_IF:
	case NODE_WITH:
		return walk_if_with(ex, dot, n);
	case NODE_RANGE:
		return walk_range(ex, dot, n);
	case NODE_BREAK:
		return WALK_BREAK;
	default:
		return WALK_CONTINUE;
	}
}

/* 0, -1 on error, or WALK_BREAK/WALK_CONTINUE on their way to a range. */
static int walk_list(exec *ex, json_t *dot, const node_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		int rc = walk(ex, dot, l->v[i]);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* ------------------------------------------------------------------- API */

int berth_template_parse_named(const char *name, const char *text, berth_template **out,
			       berth_error **err)
{
	berth_template *t cleanup_template = berth_xcalloc(1, sizeof(*t));
	t->src = berth_xstrdup(text);
	t->name = berth_xstrdup(name);
	lexer l = {.src = t->src, .len = strlen(t->src), .line = 1};
	lex_all(&l);
	parser p = {.src = t->src, .toks = l.toks, .ntoks = l.n, .name = t->name, .err = err};
	declare_var(&p, "$", 1);
	int rc = parse_root(&p, &t->root);
	free(p.vars);
	free_tokens(l.toks, l.n);
	if (rc < 0)
		return -1;
	*out = berth_steal_ptr(&t);
	return 0;
}

int berth_template_parse(const char *text, berth_template **out, berth_error **err)
{
	return berth_template_parse_named("", text, out, err);
}

/* Output goes to out only when the whole template succeeds. */
int berth_template_execute_env(const berth_template *t, const json_t *data,
			       const berth_template_env *env, berth_buf *out, berth_error **err)
{
	json_t *root = data ? (json_t *)data : json_null();
	exec ex = {.t = t, .env = env, .err = err};
	typed_reg reg = {0}, *outer = cur_typed;
	cur_typed = env && env->go_type ? &reg : NULL;
	if (cur_typed)
		json_decref(typed_note(json_incref(root), env->go_type, false));
	push_var(&ex, "$", root);
	int rc = walk_list(&ex, root, &t->root);
	pop_vars(&ex, 0);
	for (size_t i = 0; i < reg.n; i++)
		json_decref(reg.e[i].v);
	free(reg.e);
	cur_typed = outer;
	free(ex.vars);
	free(ex.why);
	if (rc == 0)
		berth_buf_append(out, ex.out.data ? ex.out.data : "", ex.out.len);
	berth_cleanup_buf(&ex.out);
	return rc < 0 ? -1 : 0;
}

int berth_template_execute(const berth_template *t, const json_t *data, berth_buf *out,
			   berth_error **err)
{
	return berth_template_execute_env(t, data, NULL, out, err);
}

void berth_template_free(berth_template *t)
{
	if (t == NULL)
		return;
	free_list(&t->root);
	free(t->src);
	free(t->name);
	free(t);
}

void berth_cleanup_template(berth_template **t)
{
	berth_template_free(*t);
}
