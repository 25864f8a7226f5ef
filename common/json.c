/* json.c - jansson helpers with the error convention. */
#include <stdlib.h>
#include <string.h>

#include "common.h"

int berth_json_parse(const char *data, size_t len, json_t **out, berth_error **err)
{
	if (data == NULL || len == 0)
		return berth_error_set(err, 400, "invalid JSON: EOF");
	json_error_t jerr;
	json_t *j = json_loadb(data, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
	if (j == NULL)
		return berth_error_set(err, 400, "invalid JSON: %s (line %d, column %d)", jerr.text,
				       jerr.line, jerr.column);
	*out = j;
	return 0;
}

int berth_json_parse_object(const char *data, size_t len, json_t **out, berth_error **err)
{
	json_t *j cleanup_json = NULL;
	if (berth_json_parse(data, len, &j, err) < 0)
		return -1;
	if (!json_is_object(j))
		return berth_error_set(err, 400, "invalid JSON: expected an object");
	*out = berth_steal_ptr(&j);
	return 0;
}

char *berth_json_dump(const json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
	return s ? s : berth_xstrdup("null");
}

static const json_t *member(const json_t *obj, const char *key)
{
	if (!json_is_object(obj))
		return NULL;
	const json_t *v = json_object_get(obj, key);
	return json_is_null(v) ? NULL : v;
}

int berth_json_get_string(const json_t *obj, const char *key, const char **out, berth_error **err)
{
	const json_t *v = member(obj, key);
	if (v == NULL)
		return 0;
	if (!json_is_string(v))
		return berth_error_set(err, 400, "invalid JSON: field %s must be a string", key);
	*out = json_string_value(v);
	return 0;
}

int berth_json_get_int(const json_t *obj, const char *key, json_int_t *out, berth_error **err)
{
	const json_t *v = member(obj, key);
	if (v == NULL)
		return 0;
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return 0;
	}
	if (json_is_real(v) && json_real_value(v) == (double)(json_int_t)json_real_value(v)) {
		*out = (json_int_t)json_real_value(v);
		return 0;
	}
	return berth_error_set(err, 400, "invalid JSON: field %s must be an integer", key);
}

int berth_json_get_bool(const json_t *obj, const char *key, bool *out, berth_error **err)
{
	const json_t *v = member(obj, key);
	if (v == NULL)
		return 0;
	if (!json_is_boolean(v))
		return berth_error_set(err, 400, "invalid JSON: field %s must be a boolean", key);
	*out = json_is_true(v);
	return 0;
}

const char *berth_json_string(const json_t *obj, const char *key)
{
	const json_t *v = member(obj, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static int by_key(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

const char **berth_json_sorted_keys(const json_t *obj, size_t *n)
{
	*n = json_object_size(obj);
	const char **keys = berth_xcalloc(*n + 1, sizeof(*keys));
	size_t i = 0;
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)obj, k, v)
		keys[i++] = k;
	qsort(keys, *n, sizeof(*keys), by_key);
	return keys;
}
