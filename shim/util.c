/* util.c - the shim's own log and Docker's time format. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "shim/internal.h"

int64_t shim_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm): no
 * gmtime/strftime, whose time zone code would be linked into the static shim
 * (and read /etc/localtime) just to print UTC. */
static void civil(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
	days += 719468;
	int64_t era = (days >= 0 ? days : days - 146096) / 146097;
	unsigned doe = (unsigned)(days - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

void shim_time_format(int64_t ns, char *out, size_t len)
{
	int64_t secs = ns / 1000000000LL;
	long frac = (long)(ns % 1000000000LL);
	if (frac < 0) {
		frac += 1000000000L;
		secs--;
	}
	int64_t days = secs / 86400, rem = secs % 86400;
	if (rem < 0) {
		rem += 86400;
		days--;
	}
	int64_t y;
	unsigned m, d;
	civil(days, &y, &m, &d);
	int n = snprintf(out, len, "%04lld-%02u-%02uT%02d:%02d:%02d", (long long)y, m, d,
			 (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
	if (n < 0 || (size_t)n >= len)
		return;
	if (frac == 0) {
		snprintf(out + n, len - (size_t)n, "Z");
		return;
	}
	char digits[16];
	snprintf(digits, sizeof(digits), "%09ld", frac);
	int k = 9;
	while (k > 0 && digits[k - 1] == '0')
		k--;
	snprintf(out + n, len - (size_t)n, ".%.*sZ", k, digits);
}

/* Not berth_log: that would pull util.o and with it OpenSSL into every shim. */
void shim_log(const char *fmt, ...)
{
	char ts[64];
	shim_time_format(shim_now_ns(), ts, sizeof(ts));
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	char line[1200];
	int n = snprintf(line, sizeof(line), "%s berth-shim[%d]: %s\n", ts, (int)getpid(), msg);
	if (n > 0)
		(void)berth_write_all(2, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}
