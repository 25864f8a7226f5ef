/* oci_json.c - reading Docker's JSON shapes with the error convention.
 *
 * (Files here are named oci_*.c: libengine.a is built with `ar r`, which
 * replaces members by base name, so names must not repeat across engine/.) */
#include <ctype.h>
#include <string.h>
#include <sys/utsname.h>

#include "internal.h"

static const json_t *member(const json_t *obj, const char *key)
{
	const json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
	return json_is_null(v) ? NULL : v;
}

static int all_strings(const json_t *arr, const char *key, berth_error **err)
{
	size_t i;
	const json_t *v;
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v))
			return berth_error_set(err, 400, "invalid JSON: field %s must be an array "
							 "of strings", key);
	}
	return 0;
}

int oci_strslice(const json_t *obj, const char *key, json_t **out, berth_error **err)
{
	const json_t *v = member(obj, key);
	*out = NULL;
	if (v == NULL)
		return 0;
	if (json_is_string(v)) {
		*out = json_pack("[O]", v);
		return 0;
	}
	if (!json_is_array(v) || all_strings(v, key, err) < 0)
		return berth_error_set(err, 400, "invalid JSON: field %s must be a string or an "
						 "array of strings", key);
	*out = json_deep_copy(v);
	return 0;
}

int oci_string_array(const json_t *obj, const char *key, const json_t **out, berth_error **err)
{
	const json_t *v = member(obj, key);
	*out = NULL;
	if (v == NULL)
		return 0;
	if (!json_is_array(v))
		return berth_error_set(err, 400, "invalid JSON: field %s must be an array of "
						 "strings", key);
	if (all_strings(v, key, err) < 0)
		return -1;
	*out = v;
	return 0;
}

int oci_object(const json_t *obj, const char *key, const json_t **out, berth_error **err)
{
	const json_t *v = member(obj, key);
	*out = NULL;
	if (v == NULL)
		return 0;
	if (!json_is_object(v))
		return berth_error_set(err, 400, "invalid JSON: field %s must be an object", key);
	*out = v;
	return 0;
}

int oci_int(const json_t *obj, const char *key, json_int_t def, json_int_t *out, berth_error **err)
{
	*out = def;
	return berth_json_get_int(obj, key, out, err);
}

int oci_str(const json_t *obj, const char *key, const char **out, berth_error **err)
{
	*out = "";
	return berth_json_get_string(obj, key, out, err);
}

bool oci_array_has_string(const json_t *arr, const char *s)
{
	size_t i;
	const json_t *v;
	json_array_foreach(arr, i, v) {
		if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
			return true;
	}
	return false;
}

json_t *oci_string_list(const char *const *v, size_t n)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < n && v[i] != NULL; i++)
		json_array_append_new(arr, json_string(v[i]));
	return arr;
}

json_t *oci_child(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	if (v == NULL) {
		v = json_object();
		json_object_set_new(obj, key, v);
	}
	return v;
}

int oci_kernel_version(void)
{
	struct utsname u;
	int major = 0, minor = 0;
	if (uname(&u) == 0)
		sscanf(u.release, "%d.%d", &major, &minor);
	return major * 1000 + minor;
}

const char *oci_strerror(int errnum)
{
	static __thread char buf[128];
	snprintf(buf, sizeof(buf), "%s", strerror(errnum));
	buf[0] = (char)tolower((unsigned char)buf[0]);
	return buf;
}
