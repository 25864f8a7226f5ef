/*
 * libFuzzer target: the Dockerfile parser, word expansion and .dockerignore
 * patterns (builder/). Checks the API's promises as well as memory safety:
 * a parse either fails with a 400 and a message or gives instructions whose
 * arguments are NULL-terminated and counted; expansion of every argument
 * either succeeds or fails with a 400.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "builder/builder.h"

static void check_error(berth_error **err)
{
	if (*err == NULL || (*err)->status != 400 || (*err)->msg == NULL || (*err)->msg[0] == '\0')
		__builtin_trap();
	berth_error_free(err);
}

static void expand_all(const berth_df_instr *in, char escape)
{
	static char *const env[] = {"A=a", "EMPTY=", "SP=x y", NULL};
	if (in->args == NULL || in->args[in->nargs] != NULL)
		__builtin_trap();
	for (size_t i = 0; i < in->nargs; i++) {
		berth_error *err = NULL;
		char *out = NULL;
		char **words = NULL;
		if (berth_builder_expand(in->args[i], escape, env, 3, &out, &err) < 0)
			check_error(&err);
		if (berth_builder_expand_words(in->args[i], escape, env, 3, &words, &err) < 0)
			check_error(&err);
		free(out);
		berth_strv_free(words);
	}
	if (in->sub)
		expand_all(in->sub, escape);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	berth_dockerfile *df = NULL;
	berth_error *err = NULL;
	if (berth_dockerfile_parse((const char *)data, size, &df, &err) == 0) {
		if (df->n == 0)
			__builtin_trap();
		for (size_t i = 0; i < df->n; i++)
			expand_all(&df->instrs[i], df->escape);
		berth_dockerfile_free(df);
	} else {
		check_error(&err);
	}
	berth_dockerignore *di = NULL;
	if (berth_dockerignore_parse((const char *)data, size, &di, &err) == 0) {
		berth_dockerignore_excluded(di, "a/b.txt");
		berth_dockerignore_descend(di, "a");
		berth_dockerignore_free(di);
	} else {
		check_error(&err);
	}
	return 0;
}
