#include "host_claims.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct claim {
    struct claim *next;
    enum vr_claim_kind kind;
    char *value;
    vr_claims *owner;
} claim;

struct vr_claims {
    char *holder;
};

/* Held only to search and edit the list, never across a libvirt call. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static claim *claims;

vr_claims *vr_claims_new(const char *holder)
{
    vr_claims *c = calloc(1, sizeof(*c));
    if (c && !(c->holder = strdup(holder))) {
        free(c);
        c = NULL;
    }
    return c;
}

static bool same(enum vr_claim_kind kind, const char *a, const char *b)
{
    return kind == VR_CLAIM_NAME ? !strcmp(a, b) : !strcasecmp(a, b);
}

int vr_claims_add(vr_claims *c, enum vr_claim_kind kind, const char *value, vr_error *err)
{
    claim *mine = calloc(1, sizeof(*mine));
    if (!mine || !(mine->value = strdup(value))) {
        free(mine);
        return vr_error_set(err, VR_ERR_INTERNAL, "out of memory claiming '%s'", value);
    }
    mine->kind = kind;
    mine->owner = c;
    pthread_mutex_lock(&lock);
    const claim *taken = NULL;
    for (const claim *k = claims; k && !taken; k = k->next)
        if (k->kind == kind && k->owner != c && same(kind, k->value, value))
            taken = k;
    if (taken) {
        static const char *const what[] = {"name", "UUID", "MAC"};
        vr_error_set(err, kind == VR_CLAIM_MAC ? VR_ERR_CONFLICT : VR_ERR_VM_EXISTS,
                     "%s %s is being claimed on this host by %s", what[kind], value,
                     taken->owner->holder);
        pthread_mutex_unlock(&lock);
        free(mine->value);
        free(mine);
        return -1;
    }
    mine->next = claims;
    claims = mine;
    pthread_mutex_unlock(&lock);
    return 0;
}

void vr_claims_free(vr_claims *c)
{
    if (!c)
        return;
    claim *gone = NULL;
    pthread_mutex_lock(&lock);
    for (claim **pp = &claims; *pp;) {
        claim *k = *pp;
        if (k->owner == c) {
            *pp = k->next;
            k->next = gone;
            gone = k;
        } else {
            pp = &k->next;
        }
    }
    pthread_mutex_unlock(&lock);
    while (gone) {
        claim *next = gone->next;
        free(gone->value);
        free(gone);
        gone = next;
    }
    free(c->holder);
    free(c);
}
