/*
 * json_quick.c - a parser for the JSON berthd answers with, building the
 * values json_loadb() would. jansson reads one byte at a time through a
 * callback and spends ~13 ns a byte: a `berth ps` of 100 containers (72 KiB)
 * spent a sixth of its time there. This parser takes the plain subset
 * (ASCII strings, integers) and hands anything else back to jansson, so
 * that rare inputs and every error still get jansson's answer.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

/* Deeper documents go to jansson (whose own limit is 2048). */
#define QUICK_MAX_DEPTH 256

typedef struct quick {
	const char *p, *end;
	int depth;
	berth_buf scratch; /* strings with escapes, decoded */
} quick;

static void skip_space(quick *q)
{
	while (q->p < q->end && (*q->p == ' ' || *q->p == '\n' || *q->p == '\r' || *q->p == '\t'))
		q->p++;
}

/* One escape after the backslash at q->p; -1 for \u, which berthd (jansson
 * without JSON_ENSURE_ASCII) writes only for rare control bytes: jansson's to
 * decode and judge, like bad escapes. */
static int unescape(quick *q)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	if (q->end - q->p < 2 || q->p[1] == '\0')
		return -1;
	const char *e = strchr(from, q->p[1]);
	if (e == NULL)
		return -1;
	berth_buf_append(&q->scratch, &to[e - from], 1);
	q->p += 2;
	return 0;
}

/* The string opening at q->p: its text in *s and *len (into the input or into
 * q->scratch); -1 for what jansson must see (non-ASCII, control bytes). */
static int string(quick *q, const char **s, size_t *len)
{
	const char *start = ++q->p;
	while (q->p < q->end && *q->p != '"' && *q->p != '\\' && (unsigned char)*q->p >= 0x20 &&
	       (unsigned char)*q->p < 0x80)
		q->p++;
	if (q->p < q->end && *q->p == '"') {
		*s = start, *len = (size_t)(q->p++ - start);
		return 0;
	}
	q->scratch.len = 0;
	berth_buf_append(&q->scratch, start, (size_t)(q->p - start));
	while (q->p < q->end && *q->p != '"') {
		unsigned char c = (unsigned char)*q->p;
		if (c < 0x20 || c >= 0x80)
			return -1;
		if (c != '\\')
			berth_buf_append(&q->scratch, q->p++, 1);
		else if (unescape(q) < 0)
			return -1;
	}
	if (q->p >= q->end)
		return -1;
	q->p++;
	*s = q->scratch.data ? q->scratch.data : "", *len = q->scratch.len;
	return 0;
}

/* Integers only: reals, leading zeros and overflows are jansson's. */
static json_t *number(quick *q)
{
	const char *start = q->p;
	if (q->p < q->end && *q->p == '-')
		q->p++;
	const char *digits = q->p;
	while (q->p < q->end && *q->p >= '0' && *q->p <= '9')
		q->p++;
	size_t n = (size_t)(q->p - digits);
	if (n == 0 || n > 18 || (digits[0] == '0' && n > 1) ||
	    (q->p < q->end && (*q->p == '.' || *q->p == 'e' || *q->p == 'E')))
		return NULL;
	json_int_t v = 0;
	for (const char *d = digits; d < q->p; d++)
		v = v * 10 + (*d - '0');
	return json_integer(*start == '-' ? -v : v);
}

static json_t *value(quick *q);

static json_t *literal(quick *q, const char *word, json_t *v)
{
	size_t n = strlen(word);
	if ((size_t)(q->end - q->p) < n || memcmp(q->p, word, n) != 0)
		return NULL;
	q->p += n;
	return v;
}

static int array_item(quick *q, json_t *a)
{
	json_t *v = value(q);
	return v ? json_array_append_new(a, v) : -1;
}

static int object_member(quick *q, json_t *o)
{
	const char *k;
	size_t klen;
	if (q->p >= q->end || *q->p != '"' || string(q, &k, &klen) < 0)
		return -1;
	/* a key decoded into scratch leaves it before the value reuses it */
	char *copy cleanup_free = k == q->scratch.data ? berth_xstrndup(k, klen) : NULL;
	skip_space(q);
	if (q->p >= q->end || *q->p != ':')
		return -1;
	q->p++;
	skip_space(q);
	json_t *v = value(q);
	size_t before = json_object_size(o);
	/* a duplicate key is an error to jansson (JSON_REJECT_DUPLICATES) */
	if (v == NULL || json_object_setn_new_nocheck(o, copy ? copy : k, klen, v) < 0 ||
	    json_object_size(o) == before)
		return -1;
	return 0;
}

/* The array or object c opening at q->p, its items read by item until close;
 * NULL (c released) for anything that is jansson's to judge. */
static json_t *container(quick *q, json_t *c, char close, int (*item)(quick *, json_t *))
{
	q->p++;
	skip_space(q);
	if (q->p < q->end && *q->p == close) {
		q->p++;
		return c;
	}
	for (;;) {
		if (item(q, c) < 0)
			break;
		skip_space(q);
		if (q->p >= q->end || (*q->p != ',' && *q->p != close))
			break;
		if (*q->p++ == close)
			return c;
		skip_space(q);
	}
	json_decref(c);
	return NULL;
}

static json_t *value(quick *q)
{
	if (q->p >= q->end)
		return NULL;
	json_t *v = NULL;
	const char *s;
	size_t len;
	switch (*q->p) {
	case '{':
	case '[':
		if (++q->depth > QUICK_MAX_DEPTH)
			return NULL;
		v = *q->p == '{' ? container(q, json_object(), '}', object_member)
				 : container(q, json_array(), ']', array_item);
		q->depth--;
		return v;
	case '"':
		return string(q, &s, &len) < 0 ? NULL : json_stringn_nocheck(s, len);
	case 't':
		return literal(q, "true", json_true());
	case 'f':
		return literal(q, "false", json_false());
	case 'n':
		return literal(q, "null", json_null());
	default:
		return number(q);
	}
}

int berth_json_parse_quick(const char *data, size_t len, json_t **out, berth_error **err)
{
	quick q = {data, data + len, 0, {0}};
	if (data != NULL) {
		skip_space(&q);
		json_t *v = value(&q);
		skip_space(&q);
		berth_buf_reset(&q.scratch);
		if (v && q.p == q.end) {
			*out = v;
			return 0;
		}
		json_decref(v);
	}
	return berth_json_parse(data, len, out, err);
}
