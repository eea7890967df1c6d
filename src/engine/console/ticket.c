#include "ticket.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gnutls/crypto.h>

#include "engine.h"

/* A used or expired ticket is remembered this long after its expiry, so a
 * replay is told "already used" rather than "unknown". */
#define KEEP_MS (5 * 60 * 1000LL)

typedef struct entry {
    struct entry *next;
    char ticket[VR_TICKET_LEN + 1];
    vr_ticket t;
    bool used;
} entry;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static entry *tickets;

static void sweep_locked(long long now)
{
    for (entry **p = &tickets; *p;) {
        if ((*p)->t.expires_ms + KEEP_MS < now) {
            entry *dead = *p;
            *p = dead->next;
            free(dead);
        } else {
            p = &(*p)->next;
        }
    }
}

int vr_ticket_issue(vr_ticket *t, int seconds, char out[VR_TICKET_LEN + 1])
{
    static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned char rnd[VR_TICKET_LEN];
    if (gnutls_rnd(GNUTLS_RND_KEY, rnd, sizeof(rnd)) < 0)
        return -1;
    for (int i = 0; i < VR_TICKET_LEN; i++)
        out[i] = b64url[rnd[i] & 63];
    out[VR_TICKET_LEN] = '\0';
    entry *n = calloc(1, sizeof(*n));
    if (!n)
        return -1;
    long long now = vr_now_ms();
    t->expires_ms = now + seconds * 1000LL;
    memcpy(n->ticket, out, sizeof(n->ticket));
    n->t = *t;
    pthread_mutex_lock(&lock);
    sweep_locked(now);
    n->next = tickets;
    tickets = n;
    pthread_mutex_unlock(&lock);
    return 0;
}

void vr_ticket_set_display(const char *ticket, const char *address, int port)
{
    pthread_mutex_lock(&lock);
    for (entry *e = tickets; e; e = e->next)
        if (!strcmp(e->ticket, ticket)) {
            snprintf(e->t.address, sizeof(e->t.address), "%s", address);
            e->t.port = port;
        }
    pthread_mutex_unlock(&lock);
}

/* Compare in time independent of where the strings differ. */
static bool same(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char d = la != lb;
    for (size_t i = 0; i < la && i < lb; i++)
        d |= (unsigned char)(a[i] ^ b[i]);
    return d == 0;
}

vr_ticket_status vr_ticket_take(const char *ticket, const char *vm_id, const char *user, vr_ticket *t)
{
    memset(t, 0, sizeof(*t));
    long long now = vr_now_ms();
    vr_ticket_status st = VR_TICKET_UNKNOWN;
    pthread_mutex_lock(&lock);
    for (entry *e = tickets; e; e = e->next) {
        if (!same(e->ticket, ticket))
            continue;
        *t = e->t;
        if (e->used)
            st = VR_TICKET_USED;
        else if (now >= e->t.expires_ms)
            st = VR_TICKET_EXPIRED;
        else if (strcmp(e->t.vm_id, vm_id))
            st = VR_TICKET_OTHER_VM;
        else if (user && strcmp(e->t.user, user))
            st = VR_TICKET_OTHER_USER;
        else {
            e->used = true;
            st = VR_TICKET_OK;
        }
        break;
    }
    sweep_locked(now);
    pthread_mutex_unlock(&lock);
    return st;
}

const char *vr_ticket_status_text(vr_ticket_status s)
{
    static const char *const text[] = {"is valid", "is unknown", "was already used", "has expired",
                                       "was issued for another VM", "was issued to another user"};
    return (unsigned)s < sizeof(text) / sizeof(text[0]) ? text[s] : "is refused";
}
