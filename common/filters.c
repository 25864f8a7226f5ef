/* filters.c - Docker's list filters (see common.h). */
#include <stdlib.h>
#include <string.h>

#include "common.h"

typedef struct filter_key {
	char *key;
	char **values; /* NULL-terminated */
} filter_key;

struct berth_filters {
	filter_key *keys;
	size_t nkeys;
};

berth_filters *berth_filters_new(void)
{
	return berth_xcalloc(1, sizeof(berth_filters));
}

void berth_filters_free(berth_filters *f)
{
	if (f == NULL)
		return;
	for (size_t i = 0; i < f->nkeys; i++) {
		free(f->keys[i].key);
		berth_strv_free(f->keys[i].values);
	}
	free(f->keys);
	free(f);
}

void berth_cleanup_filters(berth_filters **f)
{
	berth_filters_free(*f);
}

static filter_key *find_key(const berth_filters *f, const char *key)
{
	for (size_t i = 0; i < f->nkeys; i++) {
		if (strcmp(f->keys[i].key, key) == 0)
			return &f->keys[i];
	}
	return NULL;
}

void berth_filters_add(berth_filters *f, const char *key, const char *value)
{
	filter_key *k = find_key(f, key);
	if (k == NULL) {
		f->keys = berth_xrealloc(f->keys, (f->nkeys + 1) * sizeof(*f->keys));
		k = &f->keys[f->nkeys++];
		k->key = berth_xstrdup(key);
		k->values = berth_xcalloc(1, sizeof(char *));
	}
	size_t n = berth_strv_len(k->values);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(k->values[i], value) == 0)
			return;
	}
	k->values = berth_xrealloc(k->values, (n + 2) * sizeof(char *));
	k->values[n] = berth_xstrdup(value);
	k->values[n + 1] = NULL;
}

int berth_filters_add_arg(berth_filters *f, const char *arg, berth_error **err)
{
	const char *eq = strchr(arg, '=');
	if (eq == NULL)
		return berth_error_set(err, 400, "bad format of filter (expected name=value)");
	char *key cleanup_free = berth_xstrndup(arg, (size_t)(eq - arg));
	char *k = key;
	while (*k == ' ')
		k++;
	berth_filters_add(f, k, eq + 1);
	return 0;
}

/* One key's value: {"v": true, ...} (current) or ["v", ...] (old). */
static int parse_values(berth_filters *f, const char *key, json_t *v, berth_error **err)
{
	if (json_is_array(v)) {
		size_t i;
		json_t *item;
		json_array_foreach(v, i, item) {
			if (!json_is_string(item))
				return berth_error_set(err, 400, "invalid filter: values of %s must be strings", key);
			berth_filters_add(f, key, json_string_value(item));
		}
		return 0;
	}
	if (json_is_object(v)) {
		const char *value;
		json_t *flag;
		json_object_foreach(v, value, flag) {
			if (!json_is_boolean(flag))
				return berth_error_set(err, 400, "invalid filter: values of %s must be booleans", key);
			if (json_is_true(flag))
				berth_filters_add(f, key, value);
		}
		return 0;
	}
	return berth_error_set(err, 400, "invalid filter: %s must be a map or a list", key);
}

int berth_filters_parse(const char *json, berth_filters **out, berth_error **err)
{
	berth_filters *f cleanup_filters = berth_filters_new();
	if (json && *json) {
		json_t *root cleanup_json = NULL;
		if (berth_json_parse(json, strlen(json), &root, err) < 0)
			return -1;
		if (!json_is_object(root))
			return berth_error_set(err, 400, "invalid filter: expected a JSON object");
		const char *key;
		json_t *v;
		json_object_foreach(root, key, v) {
			if (parse_values(f, key, v, err) < 0)
				return -1;
		}
	}
	*out = berth_steal_ptr(&f);
	return 0;
}

char *berth_filters_encode(const berth_filters *f)
{
	json_t *root cleanup_json = json_object();
	for (size_t i = 0; i < f->nkeys; i++) {
		json_t *vals = json_object();
		for (char **v = f->keys[i].values; *v; v++)
			json_object_set_new(vals, *v, json_true());
		json_object_set_new(root, f->keys[i].key, vals);
	}
	return berth_json_dump(root);
}

int berth_filters_validate(const berth_filters *f, const char *const *allowed, berth_error **err)
{
	for (size_t i = 0; f && i < f->nkeys; i++) {
		bool ok = false;
		for (const char *const *a = allowed; *a && !ok; a++)
			ok = strcmp(*a, f->keys[i].key) == 0;
		if (!ok)
			return berth_error_set(err, 400, "invalid filter '%s'", f->keys[i].key);
	}
	return 0;
}

bool berth_filters_empty(const berth_filters *f)
{
	return f == NULL || f->nkeys == 0;
}

char *const *berth_filters_get(const berth_filters *f, const char *key)
{
	filter_key *k = f ? find_key(f, key) : NULL;
	return k ? k->values : NULL;
}

bool berth_filters_match(const berth_filters *f, const char *key, const char *value)
{
	char *const *values = berth_filters_get(f, key);
	if (values == NULL)
		return true;
	for (char *const *v = values; *v; v++) {
		if (value && strcmp(*v, value) == 0)
			return true;
	}
	return false;
}

bool berth_filters_match_labels(const berth_filters *f, const char *key, const json_t *labels)
{
	char *const *values = berth_filters_get(f, key);
	for (char *const *v = values; v && *v; v++) {
		const char *eq = strchr(*v, '=');
		char *name cleanup_free = eq ? berth_xstrndup(*v, (size_t)(eq - *v)) : berth_xstrdup(*v);
		const char *have = berth_json_string(labels, name);
		if (have == NULL || (eq && strcmp(have, eq + 1) != 0))
			return false;
	}
	return true;
}
