/* router.c - API version prefixes and route matching over every group's table. */
#include <stdlib.h>
#include <string.h>

#include "api.h"

/* Every API group's routes; a new group adds its table here. */
static const berth_api_route *const route_tables[] = {
	berth_api_system_routes,
	berth_api_image_routes,
	berth_api_volume_routes,
	berth_api_container_routes,
	berth_api_exec_routes,
	berth_api_build_routes,
	berth_api_network_routes,
	berth_api_distribution_routes,
	NULL,
};

int berth_api_split_version(const char *path, size_t len, char version[16], size_t *rest_off,
			    berth_error **err)
{
	snprintf(version, 16, "%s", BERTH_API_VERSION);
	*rest_off = 0;
	if (len < 3 || path[0] != '/' || path[1] != 'v' || path[2] < '0' || path[2] > '9')
		return 0;
	size_t end = 2;
	while (end < len && path[end] != '/')
		end++;
	size_t vlen = end - 2;
	if (vlen >= 16)
		return 0;
	for (size_t i = 2; i < end; i++) {
		if (!((path[i] >= '0' && path[i] <= '9') || path[i] == '.'))
			return 0; /* not a version segment: let routing answer 404 */
	}
	char v[16];
	memcpy(v, path + 2, vlen);
	v[vlen] = '\0';
	if (berth_version_compare(v, BERTH_API_VERSION) > 0)
		return berth_error_set(err, 400,
				       "client version %s is too new. Maximum supported API version is %s",
				       v, BERTH_API_VERSION);
	if (berth_version_compare(v, BERTH_API_MIN_VERSION) < 0)
		return berth_error_set(err, 400,
				       "client version %s is too old. Minimum supported API version is %s, "
				       "please upgrade your client to a newer version",
				       v, BERTH_API_MIN_VERSION);
	memcpy(version, v, vlen + 1);
	*rest_off = end;
	return 0;
}

/* Returns the length of the segment starting at s (up to '/' or end). */
static size_t segment_len(const char *s, size_t len)
{
	const char *slash = memchr(s, '/', len);
	return slash ? (size_t)(slash - s) : len;
}

static bool add_param(berth_api_match *m, const char *name, size_t name_len, const char *value,
		      size_t value_len)
{
	if (m->nparams >= BERTH_API_MAX_PARAMS || value_len == 0)
		return false;
	m->params[m->nparams].name = name;
	m->params[m->nparams].name_len = name_len;
	m->params[m->nparams].value = berth_url_decode(value, value_len);
	m->nparams++;
	return true;
}

/* Matches pattern against path, both starting just after a '/'. Parameters
 * "{x}" take one segment; "{x*}" takes one or more, shortest first, so that
 * "/images/{name*}/json" leaves "json" for the literal. */
static bool match_from(const char *pat, const char *path, size_t len, berth_api_match *m)
{
	if (*pat == '\0')
		return len == 0;
	const char *pat_seg_end = strchr(pat, '/');
	size_t pat_seg = pat_seg_end ? (size_t)(pat_seg_end - pat) : strlen(pat);
	const char *pat_next = pat + pat_seg + (pat_seg_end ? 1 : 0);
	bool pat_more = pat_seg_end != NULL;
	size_t seg = segment_len(path, len);
	bool path_more = seg < len;

	if (pat[0] != '{') {
		if (seg != pat_seg || memcmp(pat, path, seg) != 0 || pat_more != path_more)
			return false;
		return !pat_more || match_from(pat_next, path + seg + 1, len - seg - 1, m);
	}
	bool greedy = pat[pat_seg - 2] == '*';
	const char *name = pat + 1;
	size_t name_len = pat_seg - 2 - (greedy ? 1 : 0);
	size_t take = seg;
	for (;;) {
		size_t saved = m->nparams;
		bool more = take < len;
		if (more == pat_more && add_param(m, name, name_len, path, take)) {
			if (!pat_more || match_from(pat_next, path + take + 1, len - take - 1, m))
				return true;
			free(m->params[--m->nparams].value);
		}
		m->nparams = saved;
		if (!greedy || take >= len)
			return false;
		take += 1 + segment_len(path + take + 1, len - take - 1);
	}
}

int berth_api_route_match(const char *method, const char *path, size_t len,
			  berth_api_match *match, berth_error **err)
{
	memset(match, 0, sizeof(*match));
	if (len > 0 && path[0] == '/') {
		for (size_t t = 0; route_tables[t]; t++) {
			for (const berth_api_route *r = route_tables[t]; r->method; r++) {
				if (strcmp(r->method, method) != 0)
					continue;
				if (match_from(r->pattern + 1, path + 1, len - 1, match)) {
					match->route = r;
					return 0;
				}
				berth_api_match_reset(match);
			}
		}
	}
	return berth_error_set(err, 404, "page not found");
}

void berth_api_match_reset(berth_api_match *match)
{
	for (size_t i = 0; i < match->nparams; i++)
		free(match->params[i].value);
	memset(match, 0, sizeof(*match));
}
