/* Parked requests: long polls held without a thread (docs/rest-api.md
 * "Events", GET /api/events?wait=). A handler that has nothing to answer
 * yet asks to be parked until a time (vr_http_resp.park_until_ns); the
 * server suspends the connection (libmicrohttpd's MHD_suspend_connection:
 * it leaves the event loop, no worker thread waits on it) and lists it
 * here. vr_http_wake() (every new event) or the time coming resumes it,
 * and the server runs its handler again, which answers or parks it anew.
 *
 * Wakes are counted (lot.gen): a request run again records the count
 * before its handler reads anything, and an event that came meanwhile
 * (its wake found nothing to resume) resumes it as soon as it parks, so no
 * wake is lost between a listing and its park. Wakes in a burst are
 * served together: all held requests at once, by the lot's thread (not
 * the thread that wrote the event), the first of a quiet spell at once,
 * then at most every WAKE_GAP_NS - or twice as long as the last round took
 * to come back (every held listing run again), so that followers who see
 * none of a burst of events take at most a third of the server.
 *
 * One lot per process (one HTTPS server). Suspending and resuming happen
 * under the lot's lock, so a wake can never overtake a suspend. The
 * library must not be stopped with a suspended connection: closing the
 * lot resumes them all and waits until each was answered (its answer
 * sent, or the client gone). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <microhttpd.h>

#include "hist.h"
#include "http_conn.h"
#include "log.h"
#include "park.h"

/* Between two rounds of resuming everything held (a burst of events). */
#define WAKE_GAP_NS (50ull * 1000000ull)

typedef struct parked {
    struct MHD_Connection *conn;
    request *rq;
    uint64_t until_ns;
    char key[128];        /* whom it is for ("": every wake is for it) */
    long long mark;       /* how far it has seen */
    bool asked;           /* in the round being asked about */
    struct parked *next;
} parked;

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;      /* the timer: a new earliest time, or closing */
    pthread_cond_t back;    /* a resumed request came back */
    parked *head;
    int count;              /* parked now */
    int resuming;           /* resumed, neither held again nor ended */
    unsigned long long gen; /* wakes so far */
    bool wake_due;          /* a wake not yet served */
    uint64_t last_wake_ns;  /* when everything held was last resumed */
    uint64_t gap_ns;        /* between two such rounds: WAKE_GAP_NS or 2x the last round's time */
    bool open, timer_up, timer_stop;
    pthread_t timer;
    bool (*relevant)(void *ctx, const char *key, long long mark);
    void *relevant_ctx;
} lot = {.mu = PTHREAD_MUTEX_INITIALIZER};

#define MAX_KEYS 64 /* distinct keys asked about per round; more: resumed unasked */

static void abs_time(struct timespec *ts, uint64_t mono_ns)
{
    ts->tv_sec = (time_t)(mono_ns / 1000000000ull);
    ts->tv_nsec = (long)(mono_ns % 1000000000ull);
}

/* Under lot.mu: resume one entry (unlinked by the caller). */
static void resume(parked *p)
{
    p->rq->park_state = VR_PARK_RESUMING;
    lot.resuming++;
    lot.count--;
    MHD_resume_connection(p->conn);
    free(p);
}

/* Under lot.mu: resume the entries due by now_ns (all: UINT64_MAX). */
static void resume_due(uint64_t now_ns)
{
    for (parked **pp = &lot.head; *pp;) {
        parked *p = *pp;
        if (p->until_ns <= now_ns) {
            *pp = p->next;
            resume(p);
        } else {
            pp = &p->next;
        }
    }
}

/* Under lot.mu: a resumed request held again or ended; the last of a
 * round sets the gap before the next. */
static void came_back(void)
{
    if (--lot.resuming == 0 && lot.last_wake_ns) {
        uint64_t took = vr_mono_ns() - lot.last_wake_ns;
        lot.gap_ns = 2 * took > WAKE_GAP_NS ? 2 * took : WAKE_GAP_NS;
        pthread_cond_signal(&lot.cv); /* a wake that came meanwhile is due after the gap */
    }
    pthread_cond_broadcast(&lot.back);
}

/* Under lot.mu, which it drops while asking: a wake round. Each distinct
 * key among the held requests is asked about once (smallest mark); those
 * of a key with nothing new stay held; the others, and those held while
 * it asked, run again. */
static void wake_round(void)
{
    struct { char key[128]; long long mark; bool yes; } keys[MAX_KEYS];
    int n = 0;
    for (parked *p = lot.head; p; p = p->next) {
        p->asked = lot.relevant && *p->key;
        if (!p->asked)
            continue;
        int i = 0;
        while (i < n && strcmp(keys[i].key, p->key))
            i++;
        if (i == n && n == MAX_KEYS) {
            p->asked = false;
            continue;
        }
        if (i == n) {
            snprintf(keys[n].key, sizeof(keys[n].key), "%s", p->key);
            keys[n++].mark = p->mark;
        } else if (p->mark < keys[i].mark) {
            keys[i].mark = p->mark;
        }
    }
    if (n) {
        pthread_mutex_unlock(&lot.mu);
        for (int i = 0; i < n; i++)
            keys[i].yes = lot.relevant(lot.relevant_ctx, keys[i].key, keys[i].mark);
        pthread_mutex_lock(&lot.mu);
    }
    for (parked **pp = &lot.head; *pp;) {
        parked *p = *pp;
        bool go = !p->asked; /* not asked about (no key, too many keys, held meanwhile): run again */
        if (p->asked)
            for (int i = 0; i < n; i++)
                if (!strcmp(keys[i].key, p->key))
                    go = keys[i].yes;
        if (go) {
            *pp = p->next;
            resume(p);
        } else {
            pp = &p->next;
        }
    }
}

static void *timer_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lot.mu);
    while (!lot.timer_stop) {
        uint64_t now = vr_mono_ns();
        if (lot.wake_due && lot.resuming == 0 && now >= lot.last_wake_ns + lot.gap_ns) {
            lot.wake_due = false;
            lot.last_wake_ns = now;
            wake_round();
        } else {
            resume_due(now);
        }
        /* (a round still coming back: its end signals) */
        uint64_t first = lot.wake_due && !lot.resuming ? lot.last_wake_ns + lot.gap_ns : UINT64_MAX;
        for (parked *p = lot.head; p; p = p->next)
            if (p->until_ns < first)
                first = p->until_ns;
        if (first == UINT64_MAX) {
            pthread_cond_wait(&lot.cv, &lot.mu);
        } else {
            struct timespec ts;
            abs_time(&ts, first);
            pthread_cond_timedwait(&lot.cv, &lot.mu, &ts);
        }
    }
    pthread_mutex_unlock(&lot.mu);
    return NULL;
}

int vr_park_open(bool (*relevant)(void *ctx, const char *key, long long mark), void *ctx)
{
    pthread_mutex_lock(&lot.mu);
    lot.relevant = relevant;
    lot.relevant_ctx = ctx;
    int rc = 0;
    if (!lot.timer_up) {
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* vr_mono_ns's clock */
        pthread_cond_init(&lot.cv, &ca);
        pthread_cond_init(&lot.back, &ca);
        pthread_condattr_destroy(&ca);
        lot.timer_stop = false;
        rc = pthread_create(&lot.timer, NULL, timer_main, NULL) ? -1 : 0;
        lot.timer_up = rc == 0;
    }
    lot.open = lot.timer_up;
    pthread_mutex_unlock(&lot.mu);
    return rc;
}

bool vr_park(struct MHD_Connection *conn, request *rq, uint64_t until_ns, const char *key, long long mark)
{
    parked *p = calloc(1, sizeof(*p));
    if (!p)
        return false;
    pthread_mutex_lock(&lot.mu);
    if (!lot.open) { /* closing: the handler's answer goes out now */
        pthread_mutex_unlock(&lot.mu);
        free(p);
        return false;
    }
    *p = (parked){.conn = conn, .rq = rq, .until_ns = until_ns, .mark = mark, .next = lot.head};
    snprintf(p->key, sizeof(p->key), "%s", key ? key : "");
    lot.head = p;
    lot.count++;
    if (rq->park_state == VR_PARK_RESUMING) /* run again, held again */
        came_back();
    if (rq->park_gen != __atomic_load_n(&lot.gen, __ATOMIC_ACQUIRE)) /* an event came while it listed */
        lot.wake_due = true;
    rq->park_state = VR_PARK_PARKED;
    rq->park_until_ns = until_ns;
    MHD_suspend_connection(conn);
    pthread_cond_signal(&lot.cv);
    pthread_mutex_unlock(&lot.mu);
    return true;
}

void vr_park_done(request *rq)
{
    pthread_mutex_lock(&lot.mu);
    if (rq->park_state == VR_PARK_RESUMING) {
        came_back();
    } else if (rq->park_state == VR_PARK_PARKED) { /* never: a held request does not end */
        for (parked **pp = &lot.head; *pp; pp = &(*pp)->next)
            if ((*pp)->rq == rq) {
                parked *p = *pp;
                *pp = p->next;
                free(p);
                lot.count--;
                break;
            }
    }
    rq->park_state = VR_PARK_NONE;
    pthread_mutex_unlock(&lot.mu);
}

unsigned long long vr_park_gen(void)
{
    return __atomic_load_n(&lot.gen, __ATOMIC_ACQUIRE); /* every request asks: no lock */
}

void vr_http_wake(void)
{
    pthread_mutex_lock(&lot.mu);
    __atomic_add_fetch(&lot.gen, 1, __ATOMIC_ACQ_REL);
    if (lot.timer_up && !lot.wake_due) {
        lot.wake_due = true;
        pthread_cond_signal(&lot.cv);
    }
    pthread_mutex_unlock(&lot.mu);
}

int vr_http_parked(void)
{
    pthread_mutex_lock(&lot.mu);
    int n = lot.count;
    pthread_mutex_unlock(&lot.mu);
    return n;
}

void vr_park_close(void)
{
    pthread_mutex_lock(&lot.mu);
    if (!lot.timer_up) {
        pthread_mutex_unlock(&lot.mu);
        return;
    }
    lot.open = false;
    resume_due(UINT64_MAX);
    /* The library's threads run the resumed handlers, which answer now
     * (the lot is closed), and send the answers; bounded, in case one is
     * stuck. */
    struct timespec ts;
    abs_time(&ts, vr_mono_ns() + 10ull * 1000000000ull);
    while (lot.resuming > 0)
        if (pthread_cond_timedwait(&lot.back, &lot.mu, &ts)) {
            VR_WARN("HTTP: %d resumed long polls were not answered before stopping", lot.resuming);
            break;
        }
    lot.timer_stop = true;
    pthread_cond_signal(&lot.cv);
    pthread_mutex_unlock(&lot.mu);
    pthread_join(lot.timer, NULL);
    pthread_mutex_lock(&lot.mu);
    lot.timer_up = false;
    pthread_cond_destroy(&lot.cv);
    pthread_cond_destroy(&lot.back);
    pthread_mutex_unlock(&lot.mu);
}
