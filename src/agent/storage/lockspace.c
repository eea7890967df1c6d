/* Storage domain lockspaces through the sanlock daemon (see lockspace.h). */
#include "lockspace.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sanlock.h>
#include <sanlock_admin.h>

#include "log.h"
#include "sanlk.h"
#include "sdinfo.h"

#define MAX_ASKED 64

/* Joins this agent asked for and not yet saw complete or left: a join that
 * sanlock dropped (host id taken, storage unreadable) is "free" again, and
 * this is how Lockspace.status can tell it failed. */
static struct {
    char name[SANLK_NAME_LEN + 1];
    int host_id;
} asked[MAX_ASKED];
static int nasked;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void remember(const char *name, int host_id, bool on)
{
    pthread_mutex_lock(&lock);
    int i = 0;
    while (i < nasked && strcmp(asked[i].name, name))
        i++;
    if (!on && i < nasked)
        asked[i] = asked[--nasked];
    else if (on && (i < nasked || nasked < MAX_ASKED)) {
        if (i == nasked)
            nasked++;
        vr_sd_fmt(asked[i].name, sizeof(asked[i].name), "%s", name);
        asked[i].host_id = host_id;
    }
    pthread_mutex_unlock(&lock);
}

static bool was_asked(const char *name)
{
    pthread_mutex_lock(&lock);
    bool found = false;
    for (int i = 0; i < nasked && !found; i++)
        found = !strcmp(asked[i].name, name);
    pthread_mutex_unlock(&lock);
    return found;
}

/* sanlock's entry for lockspace name: 1 and *out if found, 0 if not, or a
 * negative sanlock error. */
static int lookup(const char *name, struct sanlk_lockspace *out)
{
    struct sanlk_lockspace *lss = NULL;
    int n = 0, rv = sanlock_get_lockspaces(&lss, &n, 0);
    if (rv < 0) { /* -ENOSPC too: n would then exceed what lss holds */
        free(lss);
        return rv;
    }
    int found = 0;
    for (int i = 0; i < n && !found; i++)
        if (!strncmp(lss[i].name, name, SANLK_NAME_LEN)) {
            *out = lss[i];
            found = 1;
        }
    free(lss);
    return found;
}

static const char *state_of(const struct sanlk_lockspace *ls)
{
    return ls->flags & SANLK_LSF_REM ? "leaving" : ls->flags & SANLK_LSF_ADD ? "joining" : "joined";
}

/* Already known to sanlock: same host id is the same join; 0, 1 if
 * absent, -1 with err otherwise. */
static int check_existing(const char *sd_uuid, int host_id, const char **state, vr_error *err)
{
    struct sanlk_lockspace cur;
    int rv = lookup(sd_uuid, &cur);
    if (rv < 0)
        return vr_sanlk_error(err, VR_ERR_STORAGE, rv, "list sanlock lockspaces");
    if (rv == 0)
        return 1;
    if (cur.flags & SANLK_LSF_REM)
        return vr_error_set(err, VR_ERR_BAD_STATE, "the lockspace of domain %s is being left; "
                            "join again when Lockspace.status says free", sd_uuid);
    if ((int)cur.host_id != host_id)
        return vr_error_set(err, VR_ERR_BAD_STATE, "this host is in the lockspace of domain %s "
                            "with host id %d already, not %d; leave it first", sd_uuid,
                            (int)cur.host_id, host_id);
    *state = state_of(&cur);
    return 0;
}

int vr_ls_join(const vr_agent *a, const char *sd_uuid, int host_id, int io_timeout,
               const char **state, vr_error *err)
{
    int rc = check_existing(sd_uuid, host_id, state, err);
    if (rc <= 0)
        return rc;
    char dir[PATH_MAX];
    if (vr_sd_domain_dir(a, sd_uuid, dir, sizeof(dir), err) < 0)
        return -1;
    struct sanlk_lockspace ls;
    if (vr_sanlk_lockspace(&ls, dir, sd_uuid, host_id) < 0)
        return vr_error_set(err, VR_ERR_STORAGE, "path %s is too long for sanlock", dir);
    int rv = sanlock_add_lockspace_timeout(&ls, SANLK_ADD_ASYNC, (uint32_t)io_timeout);
    if (rv == -EEXIST || rv == -EINPROGRESS) /* someone else's join won the race */
        return check_existing(sd_uuid, host_id, state, err) < 0 ? -1 : 0;
    if (rv < 0)
        return vr_sanlk_error(err, VR_ERR_STORAGE, rv, "join the lockspace");
    remember(sd_uuid, host_id, true);
    VR_INFO("joining the lockspace of domain %s as host id %d", sd_uuid, host_id);
    *state = "joining";
    return 0;
}

int vr_ls_leave(const char *sd_uuid, vr_error *err)
{
    struct sanlk_lockspace cur;
    int rv = lookup(sd_uuid, &cur);
    if (rv < 0)
        return vr_sanlk_error(err, VR_ERR_STORAGE, rv, "list sanlock lockspaces");
    if (rv == 1 && cur.flags & SANLK_LSF_ADD) /* sanlock cannot stop a join half way */
        return vr_error_set(err, VR_ERR_BAD_STATE, "the lockspace of domain %s is still being "
                            "joined; leave it once Lockspace.status says joined", sd_uuid);
    remember(sd_uuid, 0, false);
    if (rv == 0)
        return 0;
    /* UNUSED: never let sanlock kill a lease holder (this agent) to leave */
    rv = sanlock_rem_lockspace(&cur, SANLK_REM_UNUSED);
    if (rv == -ENOENT || rv == -EINPROGRESS)
        return 0;
    if (rv == -EBUSY)
        return vr_error_set(err, VR_ERR_BAD_STATE, "cannot leave the lockspace of domain %s: a "
                            "lease in it is held (stop the SPM first)", sd_uuid);
    if (rv < 0)
        return vr_sanlk_error(err, VR_ERR_STORAGE, rv, "leave the lockspace");
    VR_INFO("left the lockspace of domain %s", sd_uuid);
    return 0;
}

int vr_ls_status(const char *sd_uuid, const char **state, int *host_id, bool *failed,
                 vr_error *err)
{
    struct sanlk_lockspace cur;
    int rv = lookup(sd_uuid, &cur);
    if (rv < 0)
        return vr_sanlk_error(err, VR_ERR_STORAGE, rv, "list sanlock lockspaces");
    *failed = false;
    if (rv == 0) {
        *state = "free";
        *host_id = -1;
        *failed = was_asked(sd_uuid);
        return 0;
    }
    *state = state_of(&cur);
    *host_id = (int)cur.host_id;
    if (!strcmp(*state, "joined"))
        remember(sd_uuid, 0, false);
    return 0;
}

bool vr_ls_any_under(const char *path, char *which, size_t size)
{
    struct sanlk_lockspace *lss = NULL;
    int n = 0, rv = sanlock_get_lockspaces(&lss, &n, 0);
    size_t len = strlen(path);
    bool found = false;
    for (int i = 0; rv >= 0 && i < n && !found; i++) {
        const char *p = lss[i].host_id_disk.path;
        if (!strncmp(p, path, len) && p[len] == '/') {
            found = true;
            vr_sd_fmt(which, size, "%.*s", SANLK_NAME_LEN, lss[i].name);
        }
    }
    free(lss);
    return found;
}

void vr_ls_annotate(json_t *domains)
{
    struct sanlk_lockspace *lss = NULL;
    int n = 0;
    if (sanlock_get_lockspaces(&lss, &n, 0) < 0) {
        free(lss);
        return;
    }
    size_t i;
    json_t *d;
    json_array_foreach(domains, i, d) {
        const char *id = json_string_value(json_object_get(d, "domain"));
        const char *state = "free";
        int host_id = -1;
        for (int k = 0; id && k < n; k++)
            if (!strncmp(lss[k].name, id, SANLK_NAME_LEN)) {
                state = state_of(&lss[k]);
                host_id = (int)lss[k].host_id;
            }
        json_object_set_new(d, "lockspace", json_string(state));
        json_object_set_new(d, "host_id", json_integer(host_id));
    }
    free(lss);
}

/* What this host's sanlock thinks of host id `id`, which took a lease in
 * its generation gen, in lockspace domain: "live", "fail" (stopped
 * renewing), "dead" (past sanlock's host-dead time: its leases can be
 * taken), "free" (its host id lease released: it left the lockspace),
 * "stale" (that host id joined again since, in a newer generation: what
 * it held before is void, sanlock lets others take it), or "unknown" (not
 * joined here). */
const char *vr_ls_host_state(const char *domain, long long id, unsigned long long gen)
{
    static const char *const names[] = {[SANLK_HOST_UNKNOWN] = "unknown", [SANLK_HOST_FREE] = "free",
                                        [SANLK_HOST_LIVE] = "live", [SANLK_HOST_FAIL] = "fail",
                                        [SANLK_HOST_DEAD] = "dead"};
    struct sanlk_host *hss = NULL;
    int n = 0;
    int rv = sanlock_get_hosts(domain, (uint64_t)id, &hss, &n, 0);
    uint32_t st = rv == 0 && n > 0 ? hss[0].flags & SANLK_HOST_MASK : SANLK_HOST_UNKNOWN;
    bool newer = rv == 0 && n > 0 && gen && hss[0].generation > gen;
    free(hss);
    if (newer && st != SANLK_HOST_FREE && st != SANLK_HOST_DEAD)
        return "stale";
    return st <= SANLK_HOST_DEAD && names[st] ? names[st] : "unknown";
}
