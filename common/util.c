/* util.c - time, IDs, digests, human-readable numbers, strings, URLs. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "common.h"

int64_t berth_time_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void berth_time_format_rfc3339(int64_t ns, char *out, size_t outlen)
{
	time_t secs = (time_t)(ns / 1000000000LL);
	long frac = (long)(ns % 1000000000LL);
	struct tm tm;
	gmtime_r(&secs, &tm);
	char base[32];
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, outlen, "%s.%09ldZ", base, frac);
}

/* "V[.frac]UNIT": frac is rest in `digits` digits, trailing zeros off. */
static void go_fixed(berth_buf *b, uint64_t v, uint64_t rest, int digits, const char *unit)
{
	char frac[32];
	snprintf(frac, sizeof(frac), "%0*llu", digits, (unsigned long long)rest);
	size_t n = digits ? strlen(frac) : 0;
	while (n > 0 && frac[n - 1] == '0')
		n--;
	berth_buf_printf(b, "%llu%s%.*s%s", (unsigned long long)v, n ? "." : "", (int)n, frac,
			 unit);
}

void berth_go_duration(berth_buf *b, int64_t ns)
{
	uint64_t u = ns < 0 ? -(uint64_t)ns : (uint64_t)ns;
	if (ns < 0)
		berth_buf_puts(b, "-");
	if (u == 0) {
		berth_buf_puts(b, "0s");
	} else if (u < 1000) {
		go_fixed(b, u, 0, 0, "ns");
	} else if (u < 1000000) {
		go_fixed(b, u / 1000, u % 1000, 3, "µs");
	} else if (u < 1000000000) {
		go_fixed(b, u / 1000000, u % 1000000, 6, "ms");
	} else {
		uint64_t h = u / 3600000000000ULL, m = u / 60000000000ULL % 60;
		if (h)
			berth_buf_printf(b, "%lluh", (unsigned long long)h);
		if (h || m)
			berth_buf_printf(b, "%llum", (unsigned long long)m);
		go_fixed(b, u / 1000000000 % 60, u % 1000000000, 9, "s");
	}
}

/* Go's time.ParseDuration. */
int berth_duration_parse(const char *s, int64_t *out_ns, berth_error **err)
{
	static const struct {
		const char *unit;
		double ns;
	} units[] = {
		{"ns", 1}, {"us", 1e3}, {"\xc2\xb5s", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"h", 3600e9},
	};
	const char *p = s;
	double total = 0;
	int sign = 1;
	if (*p == '-' || *p == '+')
		sign = (*p++ == '-') ? -1 : 1;
	if (strcmp(p, "0") == 0) {
		*out_ns = 0;
		return 0;
	}
	if (*p == '\0')
		return berth_error_set(err, 400, "time: invalid duration \"%s\"", s);
	while (*p) {
		if (!isdigit((unsigned char)*p) && *p != '.')
			return berth_error_set(err, 400, "time: invalid duration \"%s\"", s);
		char *end;
		double v = strtod(p, &end);
		if (end == p)
			return berth_error_set(err, 400, "time: invalid duration \"%s\"", s);
		p = end;
		size_t best = 0;
		double mult = 0;
		for (size_t i = 0; i < BERTH_ARRAY_SIZE(units); i++) {
			size_t l = strlen(units[i].unit);
			if (strncmp(p, units[i].unit, l) == 0 && l > best) {
				best = l;
				mult = units[i].ns;
			}
		}
		if (best == 0)
			return berth_error_set(err, 400, "time: missing unit in duration \"%s\"", s);
		p += best;
		total += v * mult;
	}
	if (total > 9.2e18)
		return berth_error_set(err, 400, "time: invalid duration \"%s\"", s);
	*out_ns = (int64_t)(sign * total);
	return 0;
}

static bool all_digits_frac(const char *s)
{
	bool dot = false, digit = false;
	for (const char *p = s; *p; p++) {
		if (*p == '.' && !dot)
			dot = true;
		else if (isdigit((unsigned char)*p))
			digit = true;
		else
			return false;
	}
	return digit;
}

/* Parses "+07:00", "-0700" or "Z" at p; returns seconds east of UTC. */
static int parse_zone(const char *p, long *offset)
{
	if (*p == 'Z' || *p == 'z') {
		*offset = 0;
		return p[1] == '\0' ? 0 : -1;
	}
	if (*p != '+' && *p != '-')
		return -1;
	int h, m;
	if (sscanf(p + 1, "%2d:%2d", &h, &m) != 2 && sscanf(p + 1, "%2d%2d", &h, &m) != 2)
		return -1;
	*offset = (*p == '-' ? -1 : 1) * (h * 3600L + m * 60L);
	return 0;
}

int berth_time_parse(const char *s, int64_t now_ns, int64_t *out_ns, berth_error **err)
{
	int64_t d;
	if (strcmp(s, "0") != 0 && strpbrk(s, "hmsuµn") && berth_duration_parse(s, &d, NULL) == 0) {
		*out_ns = now_ns - d;
		return 0;
	}
	if (all_digits_frac(s)) {
		char *end;
		long long secs = strtoll(s, &end, 10);
		int64_t frac = 0;
		if (*end == '.') {
			char digits[10] = "000000000";
			size_t n = strlen(end + 1);
			memcpy(digits, end + 1, n > 9 ? 9 : n);
			frac = strtoll(digits, NULL, 10);
		}
		*out_ns = (int64_t)secs * 1000000000LL + frac;
		return 0;
	}
	struct tm tm = {0};
	const char *rest = strptime(s, "%Y-%m-%d", &tm);
	if (rest == NULL)
		goto bad;
	int64_t frac = 0;
	if (*rest == 'T') {
		const char *r = strptime(rest + 1, "%H:%M:%S", &tm);
		if (r == NULL)
			r = strptime(rest + 1, "%H:%M", &tm);
		if (r == NULL)
			goto bad;
		rest = r;
		if (*rest == '.') {
			char digits[10] = "000000000";
			size_t n = strspn(rest + 1, "0123456789");
			memcpy(digits, rest + 1, n > 9 ? 9 : n);
			frac = strtoll(digits, NULL, 10);
			rest += 1 + n;
		}
	}
	long offset = 0;
	bool local = (*rest == '\0');
	if (!local && parse_zone(rest, &offset) < 0)
		goto bad;
	time_t t;
	if (local) {
		tm.tm_isdst = -1;
		t = mktime(&tm);
	} else {
		t = timegm(&tm) - offset;
	}
	*out_ns = (int64_t)t * 1000000000LL + frac;
	return 0;
bad:
	return berth_error_set(err, 400, "failed to parse value as time or duration: \"%s\"", s);
}

char *berth_time_go_string(int64_t ns)
{
	time_t t = (time_t)(ns / 1000000000LL);
	long frac = (long)(ns % 1000000000LL);
	if (frac < 0)
		t--, frac += 1000000000L;
	struct tm tm;
	localtime_r(&t, &tm);
	char date[32], zone[32], digits[16] = "";
	strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S", &tm);
	strftime(zone, sizeof(zone), "%z %Z", &tm);
	if (frac) {
		/* Go's ".999999999": the fraction without its trailing zeros */
		snprintf(digits, sizeof(digits), ".%09ld", frac);
		for (size_t n = strlen(digits); digits[n - 1] == '0'; n--)
			digits[n - 1] = '\0';
	}
	return berth_xasprintf("%s%s %s", date, digits, zone);
}

char *berth_time_go_string_rfc3339(const char *rfc3339)
{
	int64_t ns;
	if (rfc3339 == NULL || *rfc3339 == '\0' || berth_time_parse(rfc3339, 0, &ns, NULL) < 0)
		return berth_xstrdup("0001-01-01 00:00:00 +0000 UTC"); /* Go's zero time.Time */
	return berth_time_go_string(ns);
}

void berth_random_id(char out[65])
{
	unsigned char raw[32];
	size_t got = 0;
	while (got < sizeof(raw)) {
		ssize_t n = getrandom(raw + got, sizeof(raw) - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			abort();
		got += (size_t)n;
	}
	for (size_t i = 0; i < sizeof(raw); i++)
		sprintf(out + 2 * i, "%02x", raw[i]);
	out[64] = '\0';
}

/* libcrypto is opened on first use rather than linked: relocating it costs
 * every short berth command (`berth ps`) a third of its start-up, and the CLI
 * only hashes for compose and encodes credentials. berthd has it loaded
 * already. */
static struct {
	__typeof__(EVP_Digest) *digest;
	__typeof__(EVP_sha256) *sha256;
	__typeof__(EVP_EncodeBlock) *encode_block;
} crypto;
static pthread_once_t crypto_once = PTHREAD_ONCE_INIT;

static void crypto_load(void)
{
	static const char *const names[] = {"EVP_Digest", "EVP_sha256", "EVP_EncodeBlock"};
	berth_error *err = NULL;
	if (berth_lazylib_load("libcrypto.so.3", names, (void **)&crypto, BERTH_ARRAY_SIZE(names), &err) < 0) {
		fprintf(stderr, "berth: %s\n", err->msg);
		exit(1);
	}
}

char *berth_base64(const void *data, size_t len)
{
	char *out = berth_xmalloc(4 * ((len + 2) / 3) + 1);
	pthread_once(&crypto_once, crypto_load);
	crypto.encode_block((unsigned char *)out, data, (int)len);
	return out;
}

void berth_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	pthread_once(&crypto_once, crypto_load);
	crypto.digest(data, len, md, &mdlen, crypto.sha256(), NULL);
	for (unsigned int i = 0; i < mdlen; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
	out[64] = '\0';
}

static void human_units(double size, double base, const char *const *units, size_t nunits,
			int precision, char *out, size_t outlen)
{
	size_t i = 0;
	while (size >= base && i < nunits - 1) {
		size /= base;
		i++;
	}
	snprintf(out, outlen, "%.*g%s", precision, size, units[i]);
}

void berth_human_size(int64_t bytes, int precision, char *out, size_t outlen)
{
	static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"};
	human_units((double)bytes, 1000.0, units, BERTH_ARRAY_SIZE(units), precision, out, outlen);
}

void berth_human_bytes_binary(int64_t bytes, char *out, size_t outlen)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"};
	human_units((double)bytes, 1024.0, units, BERTH_ARRAY_SIZE(units), 4, out, outlen);
}

void berth_human_duration(int64_t ns, char *out, size_t outlen)
{
	double secs_f = (double)ns / 1e9;
	long seconds = (long)secs_f;
	long minutes = (long)(secs_f / 60);
	long hours = (long)(secs_f / 3600 + 0.5);
	if (seconds < 1)
		snprintf(out, outlen, "Less than a second");
	else if (seconds == 1)
		snprintf(out, outlen, "1 second");
	else if (seconds < 60)
		snprintf(out, outlen, "%ld seconds", seconds);
	else if (minutes == 1)
		snprintf(out, outlen, "About a minute");
	else if (minutes < 60)
		snprintf(out, outlen, "%ld minutes", minutes);
	else if (hours == 1)
		snprintf(out, outlen, "About an hour");
	else if (hours < 48)
		snprintf(out, outlen, "%ld hours", hours);
	else if (hours < 24 * 7 * 2)
		snprintf(out, outlen, "%ld days", hours / 24);
	else if (hours < 24 * 30 * 2)
		snprintf(out, outlen, "%ld weeks", hours / 24 / 7);
	else if (hours < 24 * 365 * 2)
		snprintf(out, outlen, "%ld months", hours / 24 / 30);
	else
		snprintf(out, outlen, "%ld years", (long)(secs_f / 3600) / 24 / 365);
}

int berth_version_compare(const char *a, const char *b)
{
	/* Dotted numeric parts, compared left to right; a missing part is 0. */
	while (*a || *b) {
		long va = strtol(a, (char **)&a, 10), vb = strtol(b, (char **)&b, 10);
		if (va != vb)
			return va < vb ? -1 : 1;
		a += strcspn(a, ".");
		b += strcspn(b, ".");
		if (*a == '.')
			a++;
		if (*b == '.')
			b++;
	}
	return 0;
}

char **berth_str_split(const char *s, char sep)
{
	size_t n = 1;
	for (const char *p = s; *p; p++)
		n += (*p == sep);
	char **v = berth_xcalloc(n + 1, sizeof(char *));
	size_t i = 0;
	const char *start = s;
	for (const char *p = s;; p++) {
		if (*p == sep || *p == '\0') {
			v[i++] = berth_xstrndup(start, (size_t)(p - start));
			start = p + 1;
			if (*p == '\0')
				break;
		}
	}
	return v;
}

char *berth_path_clean(const char *p)
{
	bool rooted = p[0] == '/';
	char **parts = berth_str_split(p, '/');
	size_t n = 0;
	for (size_t i = 0; parts[i]; i++) {
		if (*parts[i] == '\0' || strcmp(parts[i], ".") == 0) {
			free(parts[i]);
		} else if (strcmp(parts[i], "..") == 0 && n > 0 && strcmp(parts[n - 1], "..") != 0) {
			free(parts[i]);
			free(parts[--n]);
		} else if (strcmp(parts[i], "..") == 0 && rooted) {
			free(parts[i]);
		} else {
			parts[n++] = parts[i];
		}
	}
	parts[n] = NULL;
	berth_buf b = {0};
	berth_buf_puts(&b, rooted ? "/" : "");
	for (size_t i = 0; i < n; i++)
		berth_buf_printf(&b, "%s%s", i ? "/" : "", parts[i]);
	if (b.len == 0)
		berth_buf_puts(&b, ".");
	berth_strv_free(parts);
	return berth_buf_steal(&b);
}

char *berth_path_base(const char *p)
{
	size_t len = strlen(p);
	while (len > 1 && p[len - 1] == '/')
		len--;
	if (len == 0)
		return berth_xstrdup(".");
	if (len == 1 && p[0] == '/')
		return berth_xstrdup("/");
	const char *s = p + len;
	while (s > p && s[-1] != '/')
		s--;
	return berth_xstrndup(s, (size_t)(p + len - s));
}

static bool ends_with_slash(const char *p)
{
	size_t n = strlen(p);
	return n > 0 && p[n - 1] == '/';
}

static bool names_current_dir(const char *p)
{
	char *base = berth_path_base(p);
	bool dot = strcmp(base, ".") == 0;
	free(base);
	return dot;
}

char *berth_path_preserve(const char *cleaned, const char *orig)
{
	berth_buf b = {0};
	berth_buf_puts(&b, cleaned);
	if (!names_current_dir(cleaned) && names_current_dir(orig)) {
		if (!ends_with_slash(b.data))
			berth_buf_puts(&b, "/");
		berth_buf_puts(&b, ".");
	}
	if (!ends_with_slash(b.data) && ends_with_slash(orig))
		berth_buf_puts(&b, "/");
	return berth_buf_steal(&b);
}

void berth_strv_free(char **v)
{
	if (v == NULL)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

size_t berth_strv_len(char *const *v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	return n;
}

bool berth_str_has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

char *berth_url_decode(const char *s, size_t len)
{
	char *out = berth_xmalloc(len + 1);
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '+') {
			out[o++] = ' ';
		} else if (s[i] == '%' && i + 2 < len && hexval(s[i + 1]) >= 0 &&
			   hexval(s[i + 2]) >= 0) {
			out[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	return out;
}

char *berth_url_encode(const char *s)
{
	berth_buf b = {0};
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (isalnum(*p) || strchr("-_.~", *p))
			berth_buf_append(&b, p, 1);
		else
			berth_buf_printf(&b, "%%%02X", *p);
	}
	return berth_buf_steal(&b);
}
