/* Small engine-wide helpers: events, UUIDs, time. */
#include "engine.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <uuid/uuid.h>

#include "log.h"

void vr_uuid_new(char out[37])
{
    uuid_t u;
    uuid_generate_random(u);
    uuid_unparse_lower(u, out);
}

long long vr_now(void)
{
    return (long long)time(NULL);
}

long long vr_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void vr_event(vr_engine *e, const char *severity, const char *user, const char *object_type,
              const char *object_id, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    VR_INFO("event [%s] %s", severity, msg);
    vr_db_exec(e->db, "INSERT INTO events (time, severity, user_name, object_type, object_id, message)"
               " VALUES (?,?,?,?,?,?)",
               DB_ARGS(DB_INT(vr_now()), DB_TEXT(severity), DB_TEXT(user ? user : ""),
                       DB_TEXT(object_type), DB_TEXT(object_id), DB_TEXT(msg)), NULL);
}
