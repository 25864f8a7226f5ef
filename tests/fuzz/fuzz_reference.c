/*
 * libFuzzer target: image references (engine/image/reference.c, which the
 * registry client and the CLI use). Checks the parser's promises as well as
 * memory safety: errors are 400s with a message; what parses prints back to
 * a string that parses to the same reference, and so does its familiar form
 * (unless that starts like a host, "docker.io/a.b/c" -> "a.b/c", or is 64
 * hex digits, which read as an ID: quirks distribution/reference shares).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/image/image.h"

static void same(const berth_image_ref *a, const char *s)
{
	berth_image_ref b;
	if (berth_image_ref_parse(s, &b, NULL) < 0)
		__builtin_trap();
	if (strcmp(a->name, b.name) != 0 || (a->tag == NULL) != (b.tag == NULL) ||
	    (a->tag && strcmp(a->tag, b.tag) != 0) || (a->digest == NULL) != (b.digest == NULL) ||
	    (a->digest && strcmp(a->digest, b.digest) != 0))
		__builtin_trap();
	berth_image_ref_reset(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	berth_image_ref r;
	berth_error *err = NULL;
	if (berth_image_ref_parse(s, &r, &err) < 0) {
		if (err == NULL || err->status != 400 || err->msg == NULL || *err->msg == '\0')
			__builtin_trap();
		berth_error_free(&err);
	} else {
		if (err != NULL || r.name == NULL || strchr(r.name, '/') == NULL)
			__builtin_trap();
		char *full = berth_image_ref_string(&r);
		char *familiar = berth_image_ref_familiar(&r);
		same(&r, full);
		size_t first = strcspn(familiar, "/");
		bool hostlike = familiar[first] == '/' &&
				(memchr(familiar, '.', first) || memchr(familiar, ':', first) ||
				 strncmp(familiar, "localhost/", 10) == 0);
		bool id = strlen(familiar) == 64 && strspn(familiar, "0123456789abcdef") == 64;
		if (!hostlike && !id)
			same(&r, familiar);
		free(full);
		free(familiar);
		berth_image_ref_reset(&r);
	}
	free(s);
	return 0;
}
