/*
 * graph.c - what follows from a canonical service: the dependency order of
 * services (with Compose's cycle error), the number of replicas (the config
 * hash is hash.c's).
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* state: absent = unvisited, 1 = on the path, 2 = done */
static int visit(const json_t *services, const char *name, json_t *state, json_t *path,
		 json_t *order, berth_error **err)
{
	json_int_t s = json_integer_value(json_object_get(state, name));
	if (s == 2)
		return 0;
	if (s == 1) {
		berth_buf b cleanup_buf = {0};
		size_t i, start = 0;
		json_t *v;
		json_array_foreach(path, i, v)
			if (strcmp(json_string_value(v), name) == 0)
				start = i;
		for (i = start; i < json_array_size(path); i++)
			berth_buf_printf(&b, "%s -> ", json_string_value(json_array_get(path, i)));
		berth_buf_puts(&b, name);
		return berth_error_set(err, 400, "dependency cycle detected: %s", b.data);
	}
	json_object_set_new(state, name, json_integer(1));
	json_array_append_new(path, json_string(name));
	size_t n;
	const json_t *deps = json_object_get(json_object_get(services, name), "depends_on");
	const char **keys = berth_json_sorted_keys(deps, &n);
	int r = 0;
	for (size_t i = 0; i < n && r == 0; i++)
		if (json_object_get(services, keys[i]))
			r = visit(services, keys[i], state, path, order, err);
	free(keys);
	json_array_remove(path, json_array_size(path) - 1);
	if (r == 0) {
		json_object_set_new(state, name, json_integer(2));
		json_array_append_new(order, json_string(name));
	}
	return r;
}

int berth_compose_order(const json_t *services, json_t **order, berth_error **err)
{
	json_t *state cleanup_json = json_object();
	json_t *path cleanup_json = json_array();
	json_t *out cleanup_json = json_array();
	size_t n;
	const char **keys = berth_json_sorted_keys(services, &n);
	int r = 0;
	for (size_t i = 0; i < n && r == 0; i++)
		r = visit(services, keys[i], state, path, out, err);
	free(keys);
	if (r < 0)
		return -1;
	*order = berth_steal_ptr(&out);
	return 0;
}

int berth_compose_replicas(const json_t *service)
{
	json_t *deploy = json_object_get(service, "deploy");
	json_t *r = json_object_get(deploy, "replicas");
	if (json_is_integer(r))
		return (int)json_integer_value(r);
	json_t *scale = json_object_get(service, "scale");
	if (json_is_integer(scale))
		return (int)json_integer_value(scale);
	return 1;
}
