#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "utf8.h"

static enum vr_log_level min_level = VR_LOG_INFO;
static const char *const level_names[] = {"debug", "info", "warn", "error"};

void vr_log_set_level(enum vr_log_level level) { min_level = level; }

void vr_log(enum vr_log_level level, const char *fmt, ...)
{
    if (level < min_level)
        return;
    char line[2048];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s: ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, level_names[level]);
    va_list ap;
    va_start(ap, fmt);
    /* Valid UTF-8, bounded, cut between characters. */
    vr_utf8_vformat(line + n, sizeof(line) - (size_t)n, fmt, ap);
    va_end(ap);
    /* Messages quote what clients sent: a newline or escape sequence in
     * them must not forge a log line or drive a terminal. */
    for (char *p = line + n; *p; p++)
        if ((unsigned char)*p < 0x20 ? *p != '\t' : *p == 0x7f)
            *p = '?';
    /* One fputs per line keeps lines whole when threads log concurrently. */
    fprintf(stderr, "%s\n", line);
}
