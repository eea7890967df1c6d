/* Small engine-wide helpers: events, UUIDs, time, registered threads. */
#include "engine.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uuid/uuid.h>

#include "http.h"
#include "i18n.h"
#include "log.h"
#include "utf8.h"

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
    /* Messages quote names and other programs' errors: cut by a plain
     * snprintf inside a multi-byte character (or quoting invalid bytes),
     * PostgreSQL refuses the row and SQLite stores text that jansson then
     * cannot return, so the event lost its message. */
    char msg[1024], who[256];
    va_list ap, again;
    va_start(ap, fmt);
    /* Also kept as its id and arguments, rendered per reader's language
     * (docs/architecture.md "Languages"); msg stays the English text. */
    va_copy(again, ap);
    json_t *m = vr_i18n_vcapture(fmt, again);
    va_end(again);
    vr_utf8_vformat(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    char *args = m ? json_dumps(json_object_get(m, "args"), JSON_COMPACT) : NULL;
    vr_utf8_fit(who, sizeof(who), user ? user : "", user ? strlen(user) : 0);
    VR_INFO("event [%s] %s", severity, msg);
    vr_db_exec(e->db, "INSERT INTO events (time, severity, user_name, object_type, object_id, message,"
               " message_id, message_args) VALUES (?,?,?,?,?,?,?,?)",
               DB_ARGS(DB_INT(vr_now()), DB_TEXT(severity), DB_TEXT(who), DB_TEXT(object_type),
                       DB_TEXT(object_id), DB_TEXT(msg), args ? DB_TEXT(fmt) : DB_NULL, args ? DB_TEXT(args) : DB_NULL),
               NULL);
    free(args);
    json_decref(m);
    vr_http_wake(); /* long polls on the events (docs/rest-api.md "Events") */
}

void vr_engine_thread_enter(vr_engine *e)
{
    __atomic_add_fetch(&e->threads, 1, __ATOMIC_ACQ_REL);
}

void vr_engine_thread_leave(vr_engine *e)
{
    __atomic_sub_fetch(&e->threads, 1, __ATOMIC_ACQ_REL);
}

int vr_engine_thread_start(vr_engine *e, void *(*fn)(void *), const char *what, vr_error *err)
{
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    vr_engine_thread_enter(e);
    int rc = pthread_create(&t, &attr, fn, e);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        vr_engine_thread_leave(e);
        return vr_error_set(err, VR_ERR_INTERNAL, "cannot start the %s thread", what);
    }
    return 0;
}

int vr_engine_wait_threads(vr_engine *e, int timeout_s)
{
    /* Polling: this runs once, at shutdown, and a counter needs no
     * initialisation in the many places an engine struct is built. */
    long long deadline = vr_now_ms() + (long long)timeout_s * 1000, next_note = vr_now_ms() + 2000;
    int left;
    while ((left = __atomic_load_n(&e->threads, __ATOMIC_ACQUIRE)) > 0 && vr_now_ms() < deadline) {
        if (vr_now_ms() >= next_note) {
            VR_INFO("waiting for %d engine thread(s) to finish their current step", left);
            next_note += 5000;
        }
        nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
    }
    return left;
}
