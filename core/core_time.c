/*
 * core_time.c: UTC time with a seam for tests (STYLE.md rule 18).
 */
#include <stdio.h>
#include <sys/time.h>

#include "sceau/core.h"

static struct sc_time (*time_source)(void);

struct sc_time
sc_time_now(void)
{
	struct timespec ts;
	struct sc_time t;

	if (time_source != NULL)
		return time_source();
	clock_gettime(CLOCK_REALTIME, &ts);
	t.sec = (int64_t)ts.tv_sec;
	t.usec = (int32_t)(ts.tv_nsec / 1000);
	return t;
}

void
sc_time_set_source(struct sc_time (*fn)(void))
{
	time_source = fn;
}

void
sc_time_fmt(struct sc_time t, int usec, char out[32])
{
	struct tm tm;
	time_t s = (time_t)t.sec;
	char tmp[96];

	if (gmtime_r(&s, &tm) == NULL) {
		snprintf(out, 32, "1970-01-01T00:00:00Z");
		return;
	}
	if (usec)
		snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec, (int)t.usec);
	else
		snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02dZ",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec);
	snprintf(out, 32, "%.31s", tmp);
}
