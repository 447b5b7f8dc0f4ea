/*
 * tsa_clock.c: is the clock synchronised? (ETSI EN 319 421 §7.7.2: the
 * TSA stops issuing when its clock may be outside the declared accuracy.)
 *
 * "adjtimex": the kernel's NTP state, as set by chronyd or ntpd through
 * adjtimex(2). Unsynchronised when the call returns TIME_ERROR, when
 * STA_UNSYNC is set, or when the kernel's maximum error bound exceeds the
 * declared accuracy.
 *
 * "file:PATH": the first word of PATH, "synced" or "unsynced". A seam for
 * tests, and a hook for an external monitor that checks several UTC
 * sources (EN 319 421 §7.7.2 asks for at least two).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/timex.h>

#include "tsa_int.h"

static int say(char *why, size_t whylen, int rc, const char *fmt, ...)
    SC_ATTR_PRINTF(4, 5);

/* Fills the optional @why and @return @rc. */
static int
say(char *why, size_t whylen, int rc, const char *fmt, ...)
{
	va_list ap;

	if (why != NULL && whylen > 0) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

static int
from_adjtimex(unsigned accuracy_ms, char *why, size_t whylen)
{
	struct timex tx;
	int st;

	memset(&tx, 0, sizeof(tx)); /* modes 0: read only */
	st = adjtimex(&tx);
	if (st == -1)
		return say(why, whylen, -1, "adjtimex failed (errno %ld)",
		    (long)errno);
	if (st == TIME_ERROR || (tx.status & STA_UNSYNC) != 0)
		return say(why, whylen, 0,
		    "kernel clock not synchronised (STA_UNSYNC, state %ld)",
		    (long)st);
	if (tx.maxerror > (long)accuracy_ms * 1000)
		return say(why, whylen, 0,
		    "kernel maximum clock error %ld us exceeds the accuracy",
		    tx.maxerror);
	return say(why, whylen, 1, "synchronised, maximum error %ld us",
	    tx.maxerror);
}

static int
from_file(const char *path, char *why, size_t whylen)
{
	char buf[32];
	size_t n;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL)
		return say(why, whylen, -1,
		    "clock source file unreadable (%ld)", (long)errno);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, " \t\r\n")] = '\0';
	if (strcmp(buf, "synced") == 0)
		return say(why, whylen, 1, "synchronised (file)");
	if (strcmp(buf, "unsynced") == 0)
		return say(why, whylen, 0, "not synchronised (file)");
	return say(why, whylen, -1,
	    "clock source file: neither synced nor unsynced");
}

int
sc_tsa_clock_synced(const char *source, unsigned accuracy_ms, char *why,
    size_t whylen)
{
	if (source != NULL && strcmp(source, "adjtimex") == 0)
		return from_adjtimex(accuracy_ms, why, whylen);
	if (source != NULL && strncmp(source, "file:", 5) == 0 &&
	    source[5] != '\0')
		return from_file(source + 5, why, whylen);
	return say(why, whylen, -1, "unknown clock source");
}
