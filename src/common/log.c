#include "log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <sys/stat.h>

#include "utf8.h"

static enum vr_log_level min_level = VR_LOG_INFO;
static const char *const level_names[] = {"debug", "info", "warn", "error"};

void vr_log_set_level(enum vr_log_level level) { min_level = level; }

/* Under systemd with stderr going to the journal ($JOURNAL_STREAM names
 * that stream): lines carry a syslog priority prefix ("<6>") instead of
 * our timestamp, so journalctl -p filters them and keeps its own time. */
static int journal_state; /* 0 unknown, 1 journal, 2 not */

static bool to_journal(void)
{
    int st = __atomic_load_n(&journal_state, __ATOMIC_RELAXED);
    if (st == 0) {
        const char *js = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat sb;
        st = js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 && fstat(2, &sb) == 0 &&
             (unsigned long long)sb.st_dev == dev && (unsigned long long)sb.st_ino == ino ? 1 : 2;
        __atomic_store_n(&journal_state, st, __ATOMIC_RELAXED);
    }
    return st == 1;
}

void vr_log(enum vr_log_level level, const char *fmt, ...)
{
    if (level < min_level)
        return;
    char line[2048];
    struct timespec ts;
    struct tm tm;
    int n;
    if (to_journal()) {
        static const int priority[] = {7, 6, 4, 3}; /* LOG_DEBUG, INFO, WARNING, ERR */
        n = snprintf(line, sizeof(line), "<%d>%s: ", priority[level], level_names[level]);
    } else {
        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s: ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, level_names[level]);
    }
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
