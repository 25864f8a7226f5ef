/*
 * merge.c - Compose's merge rules, applied to canonical services: mappings
 * merge key by key, shell commands are replaced, ports/volumes/secrets/
 * configs are unique by what identifies them (an override of the same
 * target replaces it), other lists append what they do not have yet.
 */
#include <string.h>

#include "internal.h"

static const char *str_or(const json_t *o, const char *key)
{
	const char *s = berth_json_string(o, key);
	return s ? s : "";
}

typedef char *(*key_fn)(const json_t *item);

static char *key_port(const json_t *p)
{
	return berth_xasprintf("%s:%s:%" JSON_INTEGER_FORMAT "/%s", str_or(p, "host_ip"),
			       str_or(p, "published"), json_integer_value(json_object_get(p, "target")),
			       str_or(p, "protocol"));
}

static char *key_target(const json_t *v)
{
	return berth_xstrdup(str_or(v, "target"));
}

/* secrets and configs: by where they are mounted (target, else source) */
static char *key_mount(const json_t *v)
{
	const char *t = berth_json_string(v, "target");
	return berth_xstrdup(t ? t : str_or(v, "source"));
}

static char *key_whole(const json_t *v)
{
	return berth_json_dump(v);
}

static const struct {
	const char *field;
	key_fn key; /* NULL: the override replaces the list */
} list_rules[] = {
	{"command", NULL}, {"entrypoint", NULL}, {"test", NULL}, {"profiles", NULL},
	{"ports", key_port}, {"volumes", key_target}, {"secrets", key_mount},
	{"configs", key_mount},
};

static void merge_list(json_t *base, const char *field, json_t *over, json_t *parent)
{
	key_fn key = key_whole;
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(list_rules); i++)
		if (strcmp(list_rules[i].field, field) == 0) {
			key = list_rules[i].key;
			if (key == NULL) {
				json_object_set(parent, field, over);
				return;
			}
		}
	size_t i, j;
	json_t *o, *b;
	json_array_foreach(over, i, o) {
		char *ko cleanup_free = key(o);
		bool replaced = false;
		json_array_foreach(base, j, b) {
			char *kb cleanup_free = key(b);
			if (strcmp(kb, ko) == 0) {
				json_array_set(base, j, o);
				replaced = true;
				break;
			}
		}
		if (!replaced)
			json_array_append(base, o);
	}
}

static void merge_object(json_t *base, const json_t *over)
{
	const char *k;
	json_t *o;
	json_object_foreach((json_t *)over, k, o) {
		json_t *b = json_object_get(base, k);
		if (json_is_object(b) && json_is_object(o))
			merge_object(b, o);
		else if (json_is_array(b) && json_is_array(o))
			merge_list(b, k, o, base);
		else
			json_object_set(base, k, o);
	}
}

void compose_merge_service(json_t *base, const json_t *over)
{
	merge_object(base, over);
}

/* The object holding the last key of a dotted path, and that key. */
static json_t *parent_of(json_t *root, const char *path, const char **key)
{
	char *copy cleanup_free = berth_xstrdup(path);
	json_t *at = root;
	char *seg = copy, *dot;
	while ((dot = strchr(seg, '.')) != NULL && json_is_object(at)) {
		*dot = '\0';
		at = json_object_get(at, seg);
		seg = dot + 1;
	}
	*key = path + (seg - copy);
	return json_is_object(at) ? at : NULL;
}

void compose_apply_tags(json_t *base, json_t *over, const json_t *tags)
{
	const char *path;
	json_t *what;
	json_object_foreach((json_t *)tags, path, what) {
		if (strchr(path, '['))
			continue; /* tags on list items: Compose has none either */
		const char *key;
		json_t *b = parent_of(base, path, &key);
		if (b)
			json_object_del(b, key);
		json_t *o = parent_of(over, path, &key);
		if (o && strcmp(json_string_value(what), "reset") == 0)
			json_object_del(o, key);
	}
}

void compose_merge_doc(json_t *base, const json_t *over)
{
	merge_object(base, over);
}
