/* map.c - a small string-keyed hash map (open addressing, linear probing). */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static size_t hash(const char *s)
{
	size_t h = 1469598103934665603ULL; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static map_entry *find(const map *m, const char *key)
{
	if (m->cap == 0)
		return NULL;
	for (size_t i = hash(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		map_entry *e = &m->slots[i];
		if (e->key == NULL || strcmp(e->key, key) == 0)
			return e;
	}
}

static void grow(map *m)
{
	map old = *m;
	m->cap = old.cap ? old.cap * 2 : 16;
	m->slots = berth_xcalloc(m->cap, sizeof(*m->slots));
	m->len = 0;
	for (size_t i = 0; i < old.cap; i++) {
		if (old.slots[i].key) {
			*find(m, old.slots[i].key) = old.slots[i];
			m->len++;
		}
	}
	free(old.slots);
}

void *map_get(const map *m, const char *key)
{
	map_entry *e = find(m, key);
	return e && e->key ? e->value : NULL;
}

void *map_put(map *m, const char *key, void *value)
{
	if ((m->len + 1) * 4 >= m->cap * 3)
		grow(m);
	map_entry *e = find(m, key);
	if (e->key) {
		void *old = e->value;
		e->value = value;
		return old;
	}
	e->key = berth_xstrdup(key);
	e->value = value;
	m->len++;
	return NULL;
}

/* Deletion with linear probing: re-insert the rest of the cluster so that
 * lookups never stop early at the hole. */
void *map_del(map *m, const char *key)
{
	map_entry *e = find(m, key);
	if (e == NULL || e->key == NULL)
		return NULL;
	void *value = e->value;
	free(e->key);
	e->key = NULL;
	m->len--;
	size_t i = (size_t)(e - m->slots);
	for (i = (i + 1) & (m->cap - 1); m->slots[i].key; i = (i + 1) & (m->cap - 1)) {
		map_entry moved = m->slots[i];
		m->slots[i].key = NULL;
		*find(m, moved.key) = moved;
	}
	return value;
}

bool map_next(const map *m, size_t *i, map_entry **e)
{
	for (; *i < m->cap; (*i)++) {
		if (m->slots[*i].key) {
			*e = &m->slots[(*i)++];
			return true;
		}
	}
	return false;
}

void map_free(map *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->slots[i].key);
	free(m->slots);
	memset(m, 0, sizeof(*m));
}
