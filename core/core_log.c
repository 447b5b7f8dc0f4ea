/*
 * core_log.c: one line per event, UTC time first (STYLE.md rule 15).
 * Level and stream are set once before threads start.
 */
#include <stdio.h>
#include <string.h>

#include "sceau/core.h"

static enum sc_log_level log_level = SC_LOG_INFO;
static FILE *log_fp;

static const char *const level_names[] = {
	[SC_LOG_ERR] = "err",
	[SC_LOG_WARNING] = "warning",
	[SC_LOG_NOTICE] = "notice",
	[SC_LOG_INFO] = "info",
	[SC_LOG_DEBUG] = "debug",
};

void
sc_log_init(enum sc_log_level level, FILE *fp)
{
	log_level = level;
	log_fp = fp;
}

int
sc_log_level_parse(const char *s, enum sc_log_level *out)
{
	for (int l = SC_LOG_ERR; l <= SC_LOG_DEBUG; l++) {
		if (strcmp(s, level_names[l]) == 0) {
			*out = (enum sc_log_level)l;
			return 0;
		}
	}
	return -1;
}

void
sc_log(enum sc_log_level level, const char *fmt, ...)
{
	char line[2048], ts[32];
	va_list ap;
	FILE *fp;
	size_t n;

	if (level > log_level)
		return;
	sc_time_fmt(sc_time_now(), 1, ts);
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One event, one line: fold any newline that a message carries. */
	for (n = 0; line[n] != '\0'; n++) {
		if (line[n] == '\n' || line[n] == '\r')
			line[n] = ' ';
	}
	fp = log_fp != NULL ? log_fp : stderr;
	flockfile(fp);
	fprintf(fp, "%s %s %s\n", ts, level_names[level], line);
	fflush(fp);
	funlockfile(fp);
}

void
sc_log_err(const char *subject, const struct sc_err *err)
{
	sc_log(sc_code_http(err->code) >= 500 ? SC_LOG_ERR : SC_LOG_INFO,
	    "%s: %s: %s%s%s", subject, sc_code_name(err->code), err->msg,
	    err->detail[0] != '\0' ? ": " : "", err->detail);
}
