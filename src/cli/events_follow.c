/* `vireo events --follow`: print the engine's events as they are recorded.
 * Long-polls GET /api/events with the `after` search field (events newer
 * than the last one printed) and `wait` (the engine answers as soon as one
 * is written), so nothing is missed between requests, nothing is printed
 * twice and an event shows at once; one line per event, oldest first. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "http_client.h"
#include "table.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    stop = 1;
}

static void print_event(json_t *ev, bool json)
{
    if (json) {
        char *line = json_dumps(ev, JSON_COMPACT);
        if (line)
            puts(line);
        free(line);
    } else {
        static const char *const keys[] = {"time", "severity", "user", "message"};
        for (size_t i = 0; i < 4; i++) {
            char *cell = vr_cell(json_object_get(ev, keys[i]), i == 0 ? VR_FMT_TIME : VR_FMT_PLAIN);
            static const int width[] = {19, 7, 14, 0};
            printf("%-*s%s", width[i], cell ? cell : "", i < 3 ? "  " : "\n");
            free(cell);
        }
    }
    fflush(stdout);
}

/* Seconds the engine may hold one request (it allows up to 60). */
#define WAIT_S 25

/* One GET, held by the engine up to wait_s for something new; prints what
 * is new and advances *last. Returns vr_http's code. */
static int poll_once(const vr_session *s, const char *search, long max, int wait_s, long long *last, bool json)
{
    char clause[1100], *esc = NULL, *path = NULL;
    if (*last >= 0)
        snprintf(clause, sizeof(clause), "after=%lld%s%s", *last, search ? " and " : "", search ? search : "");
    else
        snprintf(clause, sizeof(clause), "%s", search ? search : "");
    vr_response r = {0};
    int rc = 3;
    if ((esc = vr_http_escape(clause)) &&
        asprintf(&path, "/api/events?max=%ld%s%s&wait=%d", max, *esc ? "&search=" : "", esc, wait_s) > 0)
        rc = vr_http(s, "GET", path, NULL, 0, &r);
    free(esc);
    free(path);
    json_t *rows = json_object_get(r.json, "events");
    /* The server pages newest first: more new events than one page holds
     * means the oldest of them cannot be shown in order. Say so. */
    json_int_t total = json_integer_value(json_object_get(r.json, "total"));
    if (rc == 0 && *last >= 0 && total > (json_int_t)json_array_size(rows))
        fprintf(stderr, "vireo: %lld events came faster than they could be followed; "
                "'vireo events' lists them\n", (long long)(total - (json_int_t)json_array_size(rows)));
    /* Newest first from the server: print from the end. */
    for (size_t i = json_array_size(rows); rc == 0 && i-- > 0;) {
        json_t *ev = json_array_get(rows, i);
        json_int_t id = json_integer_value(json_object_get(ev, "id"));
        if (id > *last) {
            print_event(ev, json);
            *last = id;
        }
    }
    if (rc == 0 && *last < 0)
        *last = 0; /* no events yet: follow from the start */
    vr_response_free(&r);
    return rc;
}

int vr_events_follow(const vr_session *s, const char *search, long backlog, bool json)
{
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    vr_http_abort_on(&stop);
    long long last = -1;
    int rc = poll_once(s, search, backlog > 0 ? backlog : 10, 0, &last, json);
    while (rc == 0 && !stop)
        rc = poll_once(s, search, 1000, WAIT_S, &last, json);
    vr_http_abort_on(NULL);
    return rc == 4 ? 0 : rc; /* ended by a signal: a normal end */
}
