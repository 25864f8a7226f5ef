/*
 * escape.c - detach keys, as dockerd reads them from an attached TTY's
 * stdin (term.ToBytes for the format, the escape proxy for matching).
 */
#include <ctype.h>
#include <string.h>

#include "shim/internal.h"

static int key_code(const char *key, size_t len, char *out)
{
	if (len == 1) {
		*out = key[0];
		return 0;
	}
	if (len != 6 || strncasecmp(key, "ctrl-", 5) != 0)
		return -1;
	char c = (char)tolower((unsigned char)key[5]);
	if (c >= 'a' && c <= 'z')
		*out = (char)(c - 'a' + 1);
	else if (c == '@')
		*out = 0;
	else if (c >= '[' && c <= '_')
		*out = (char)(c - '[' + 27);
	else
		return -1;
	return 0;
}

int shim_escape_parse(shim_escape *e, const char *spec, berth_error **err)
{
	memset(e, 0, sizeof(*e));
	const char *p = spec;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (e->nkeys == sizeof(e->keys) || key_code(p, len, &e->keys[e->nkeys]) < 0)
			return berth_error_set(err, 400, "Invalid detach keys (%s) provided", spec);
		e->nkeys++;
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	return 0;
}

bool shim_escape_filter(shim_escape *e, const char *in, size_t len, berth_buf *out)
{
	if (e->nkeys == 0) {
		berth_buf_append(out, in, len);
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		if (in[i] == e->keys[e->matched]) {
			if (++e->matched == e->nkeys) {
				e->matched = 0;
				return true;
			}
			continue;
		}
		/* Not the sequence after all: let the held keys through. */
		berth_buf_append(out, e->keys, e->matched);
		e->matched = 0;
		if (in[i] == e->keys[0])
			e->matched = 1;
		else
			berth_buf_append(out, &in[i], 1);
	}
	return false;
}
