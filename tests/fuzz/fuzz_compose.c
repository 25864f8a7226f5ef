/*
 * libFuzzer target: the Compose loader (compose/): YAML parsing, the schema
 * check, interpolation, normalization, merge of extends, profiles and the
 * reference checks, then the canonical YAML output and every service's
 * config hash. Checks the API's
 * promises as well as memory safety: a failure is a 400/404 with a message,
 * and a loaded model prints as YAML that loads back to the same model.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "compose/compose.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *env = json_pack("{ss ss}", "A", "a", "EMPTY", "");
	berth_compose_project *p = NULL;
	berth_error *err = NULL;
	if (berth_compose_load_string("fuzz.yaml", (const char *)data, size, "/nonexistent/fuzz",
				      env, &p, &err) < 0) {
		if (err == NULL || err->msg == NULL || (err->status != 400 && err->status != 404))
			__builtin_trap();
	} else {
		const char *k;
		json_t *v;
		json_object_foreach(json_object_get(p->model, "services"), k, v) {
			char hash[65];
			berth_compose_config_hash(v, hash);
		}
		berth_buf out = {0};
		berth_compose_yaml_emit(p->model, &out);
		berth_compose_project *again = NULL;
		berth_error *err2 = NULL;
		/* "$" in values would be interpolated again: only $-free output round-trips */
		if (out.data && strchr(out.data, '$') == NULL &&
		    berth_compose_load_string("again.yaml", out.data, out.len, "/nonexistent/fuzz",
					      env, &again, &err2) == 0 &&
		    !json_equal(p->model, again->model))
			__builtin_trap();
		berth_compose_project_free(again);
		berth_error_free(&err2);
		berth_cleanup_buf(&out);
	}
	berth_compose_project_free(p);
	berth_error_free(&err);
	json_decref(env);
	return 0;
}
