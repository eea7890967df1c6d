/* SPM lease acquire/release through sanlock (see spm.h). */
#include "spm.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <stdint.h>
#include <sanlock.h>
#include <sanlock_admin.h>
#include <sanlock_resource.h>
#include <sanlock_rv.h>

#include "lockspace.h"
#include "log.h"
#include "sanlk.h"
#include "sdinfo.h"
#include "spm_state.h"
#include "i18n.h"

/* Start and stop one at a time: they change the registration and roles. */
static pthread_mutex_t op_lock = PTHREAD_MUTEX_INITIALIZER;
static int reg_fd = -1; /* under op_lock; open for the agent's lifetime */

static pthread_mutex_t contend_lock = PTHREAD_MUTEX_INITIALIZER;
static char contending[VR_SPM_MAX_POOLS][37];

static void set_contending(const char *pool, bool on)
{
    pthread_mutex_lock(&contend_lock);
    for (int i = 0; i < VR_SPM_MAX_POOLS; i++) {
        if (on && !contending[i][0]) {
            vr_sd_fmt(contending[i], sizeof(contending[i]), "%s", pool);
            break;
        }
        if (!on && !strcmp(contending[i], pool)) {
            contending[i][0] = 0;
            break;
        }
    }
    pthread_mutex_unlock(&contend_lock);
}

static bool is_contending(const char *pool)
{
    pthread_mutex_lock(&contend_lock);
    bool found = false;
    for (int i = 0; i < VR_SPM_MAX_POOLS && !found; i++)
        found = !strcmp(contending[i], pool);
    pthread_mutex_unlock(&contend_lock);
    return found;
}

static bool gone(int rv)
{
    return rv == -EPIPE || rv == -ECONNRESET || rv == -ENOTCONN || rv == -EBADF;
}

static void drop_registration(void)
{
    if (reg_fd >= 0)
        close(reg_fd);
    reg_fd = -1;
}

/* sanlock never writes to the registration socket unasked: readable means
 * it closed it (the daemon restarted, and our leases went with it). Under
 * op_lock. */
static void check_registration(void)
{
    struct pollfd p = {.fd = reg_fd, .events = POLLIN | POLLRDHUP};
    if (reg_fd >= 0 && poll(&p, 1, 0) > 0) {
        VR_WARN("sanlock closed our registration (daemon restarted?)");
        drop_registration();
    }
}

/* Under op_lock. Not inherited by helper programs: a child holding the
 * socket would keep the lease alive after this process died. */
static int registration(vr_error *err)
{
    if (reg_fd >= 0)
        return reg_fd;
    int fd = sanlock_register();
    if (fd < 0)
        return vr_sanlk_error(err, VR_ERR_STORAGE, fd, "register with sanlock");
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    reg_fd = fd;
    return fd;
}

static int sdm_of(const vr_agent *a, const char *master, vr_sanlk_res *res, char *dir,
                  vr_error *err)
{
    char leases[PATH_MAX];
    if (vr_sd_domain_dir(a, master, dir, PATH_MAX, err) < 0)
        return -1;
    vr_sd_fmt(leases, sizeof(leases), "%s/dom_md/leases", dir);
    if (vr_sanlk_resource(res, master, "SDM", leases, VR_SDM_OFFSET) < 0)
        return vr_error_set(err, VR_ERR_STORAGE, "path %s is too long for sanlock", leases);
    return 0;
}

/* Owner host id (-1 if free) and version of the lease on storage. */
static int read_owner(vr_sanlk_res *res, long long *owner, long long *lver, vr_error *err)
{
    return vr_sanlk_read_owner(res, owner, lver, err);
}

static int lease_held(vr_sanlk_res *res, const char *pool, int rv, vr_error *err)
{
    long long owner = -1, lver;
    vr_error ignored = {0};
    read_owner(res, &owner, &lver, &ignored);
    char who[48];
    if (owner > 0)
        vr_i18n_format(who, sizeof(who), "host id %lld", owner);
    else
        vr_i18n_format(who, sizeof(who), "another host");
    if (rv == SANLK_ACQUIRE_OWNED_RETRY)
        return vr_error_set(err, VR_ERR_LEASE_HELD, "the SPM lease of data center %s (domain %s) is held by %s, which"
                            " stopped renewing it; sanlock frees it once that host is presumed dead", pool,
                            res->r.lockspace_name, who);
    return vr_error_set(err, VR_ERR_LEASE_HELD, "the SPM lease of data center %s (domain %s) is held by %s", pool,
                        res->r.lockspace_name, who);
}

/* Checks before contending: lockspace joined with host_id, domain usable. */
static int check_master(const char *dir, const char *pool, const char *master, int host_id,
                        vr_error *err)
{
    const char *state;
    int ls_host;
    bool failed;
    if (vr_ls_status(master, &state, &ls_host, &failed, err) < 0)
        return -1;
    if (strcmp(state, "joined"))
        return vr_error_set(err, VR_ERR_BAD_STATE, "the lockspace of domain %s is %s on this "
                            "host: join lockspace first", master, state);
    if (ls_host != host_id)
        return vr_error_set(err, VR_ERR_BAD_STATE, "this host is in the lockspace of domain %s "
                            "as host id %d, not %d", master, ls_host, host_id);
    vr_md md = {0};
    if (vr_sd_md_load(dir, master, &md, err) < 0)
        return -1;
    const char *owner = vr_md_get(&md, "POOL_UUID"), *cls = vr_md_get(&md, "CLASS");
    int rc = 0;
    if (owner && *owner && strcmp(owner, pool))
        rc = vr_error_set(err, VR_ERR_BAD_STATE, "domain %s belongs to data center %s, not %s",
                          master, owner, pool);
    else if (!cls || strcmp(cls, "Data"))
        rc = vr_error_set(err, VR_ERR_BAD_STATE, "domain %s is a %s domain; only a data domain "
                          "can be master", master, cls ? cls : "(no class)");
    vr_md_clear(&md);
    return rc;
}

/* A domain of pool that storage says is Regular lost the master role to
 * another (SPM.moveMaster wrote it so before letting its lease go): a new
 * SPM there would be a second one beside the holder of the new master's
 * lease. A detached domain (no POOL_UUID yet, first attach) may start. */
static long long master_version(const char *dir, const char *uuid)
{
    vr_md md = {0};
    vr_error ignored = {0};
    long long mv = 0;
    if (vr_sd_md_load(dir, uuid, &md, &ignored) == 0)
        vr_md_get_ll(&md, "MASTER_VERSION", &mv);
    vr_md_clear(&md);
    return mv;
}

/* Likewise a master of pool whose MASTER_VERSION is below the pool's
 * newest (the engine's, min_version): a master lost with its SPM,
 * reconstructed on another domain, and put back still saying Master. A
 * domain not attached yet (the first master) is not compared. *mv gets its
 * version. */
static int check_still_master(const char *dir, const char *pool, const char *master, long long min_version,
                              long long *mv, vr_error *err)
{
    vr_md md = {0};
    if (vr_sd_md_load(dir, master, &md, err) < 0)
        return -1;
    const char *owner = vr_md_get(&md, "POOL_UUID"), *role = vr_md_get(&md, "ROLE");
    *mv = 0;
    vr_md_get_ll(&md, "MASTER_VERSION", mv);
    int rc = 0;
    if (owner && !strcmp(owner, pool) && role && !strcmp(role, "Regular"))
        rc = vr_error_set(err, VR_ERR_BAD_STATE, "domain %s is no longer the master of data center %s "
                          "(its metadata says Regular, master version %lld): the master role moved to "
                          "another domain", master, pool, *mv);
    else if (owner && !strcmp(owner, pool) && *mv < min_version)
        rc = vr_error_set(err, VR_ERR_BAD_STATE, "domain %s is no longer the master of data center %s "
                          "(its master version %lld is below the data center's %lld): the master role "
                          "moved to another domain", master, pool, *mv, min_version);
    vr_md_clear(&md);
    return rc;
}

static int record(const char *dir, const char *master, int host_id, long long lver, vr_error *err)
{
    vr_md md = {0};
    int rc = vr_sd_md_load(dir, master, &md, err);
    if (!rc && (vr_md_set_ll(&md, "SPM_ID", host_id) < 0 || vr_md_set_ll(&md, "LVER", lver) < 0))
        rc = vr_error_set(err, VR_ERR_STORAGE, "metadata of domain %s is full", master);
    if (!rc)
        rc = vr_sd_md_store(dir, &md, err);
    vr_md_clear(&md);
    return rc;
}

static int acquire(vr_sanlk_res *res, const char *pool, vr_error *err)
{
    check_registration();
    for (int attempt = 0;; attempt++) {
        int fd = registration(err);
        if (fd < 0)
            return -1;
        struct sanlk_resource *list[] = {&res->r};
        int rv = sanlock_acquire(fd, -1, SANLK_ACQUIRE_OWNER_NOWAIT, 1, list, NULL);
        if (rv == 0)
            return 0;
        if (gone(rv) && attempt == 0) { /* sanlock restarted since we registered */
            drop_registration();
            continue;
        }
        if (rv == -ENOSPC) /* sanlock's word for "lockspace gone or failing" */
            return vr_error_set(err, VR_ERR_STORAGE, "cannot acquire the SPM lease: sanlock's "
                                "lockspace of domain %s on this host is failing or gone (its "
                                "lease on storage could not be renewed); join it again",
                                res->r.lockspace_name);
        if (rv == SANLK_ACQUIRE_IDLIVE || rv == SANLK_ACQUIRE_OWNED ||
            rv == SANLK_ACQUIRE_OWNED_RETRY || rv == SANLK_ACQUIRE_OTHER || rv == -EAGAIN)
            return lease_held(res, pool, rv, err);
        return vr_sanlk_error(err, VR_ERR_STORAGE, rv, "acquire the SPM lease");
    }
}

static void release(vr_sanlk_res *res)
{
    struct sanlk_resource *list[] = {&res->r};
    int rv = reg_fd >= 0 ? sanlock_release(reg_fd, -1, 0, 1, list) : 0;
    if (rv < 0)
        VR_WARN("releasing the SPM lease in domain %s: %s", res->r.lockspace_name,
                vr_sanlk_strerror(rv));
    if (gone(rv))
        drop_registration();
}

/* Whether sanlock still has pool's SDM lease on our registration (the
 * daemon may have restarted, dropping it). Under op_lock. */
static bool still_held(const char *master)
{
    check_registration();
    if (reg_fd < 0)
        return false;
    int n = 0;
    char *state = NULL;
    int rv = sanlock_inquire(reg_fd, -1, 0, &n, &state);
    char want[64];
    vr_sd_fmt(want, sizeof(want), "%s:SDM:", master);
    bool held = rv == 0 && state && strstr(state, want);
    free(state);
    if (gone(rv))
        drop_registration();
    return rv < 0 && !gone(rv) ? true : held; /* unknown: trust our record */
}

int vr_spm_start(const vr_agent *a, const char *pool, const char *master, int host_id, long long min_version,
                 long long *lver, long long *version, vr_error *err)
{
    char dir[PATH_MAX], held_master[37];
    vr_sanlk_res res;
    pthread_mutex_lock(&op_lock);
    int rc = 0;
    *version = 0;
    if (vr_spm_state_get(pool, held_master, lver) && !still_held(held_master)) {
        VR_WARN("sanlock no longer holds the SPM lease of data center %s for us", pool);
        vr_spm_state_clear(pool);
    }
    if (vr_spm_state_get(pool, held_master, lver)) {
        if (strcmp(held_master, master))
            rc = vr_error_set(err, VR_ERR_BAD_STATE, "this host is SPM of data center %s on "
                              "master domain %s, not %s", pool, held_master, master);
        else {
            vr_error ignored = {0};
            if (sdm_of(a, master, &res, dir, &ignored) == 0)
                *version = master_version(dir, master);
        }
        goto out;
    }
    if (sdm_of(a, master, &res, dir, err) < 0 || check_still_master(dir, pool, master, min_version, version, err) < 0 ||
        check_master(dir, pool, master, host_id, err) < 0) {
        rc = -1;
        goto out;
    }
    set_contending(pool, true);
    rc = acquire(&res, pool, err);
    bool got = rc == 0;
    long long owner = -1;
    if (!rc)
        rc = read_owner(&res, &owner, lver, err);
    if (!rc)
        rc = record(dir, master, host_id, *lver, err);
    if (!rc && vr_spm_state_set(pool, master, *lver) < 0)
        rc = vr_error_set(err, VR_ERR_LIMIT, "this host is SPM of %d data centers already",
                          VR_SPM_MAX_POOLS);
    if (rc && got)
        release(&res); /* acquired but could not say so on storage: let go */
    set_contending(pool, false);
    if (!rc)
        VR_INFO("SPM of data center %s (master %s, host id %d, lver %lld)", pool, master, host_id,
                *lver);
out:
    pthread_mutex_unlock(&op_lock);
    return rc;
}


int vr_spm_status(const vr_agent *a, const char *pool, const char *master, const char **status,
                  long long *spm_id, long long *lver, vr_error *err)
{
    char dir[PATH_MAX], held_master[37];
    vr_sanlk_res res;
    if (sdm_of(a, master, &res, dir, err) < 0)
        return -1;
    pthread_mutex_lock(&op_lock);
    bool spm = vr_spm_state_get(pool, held_master, NULL);
    if (spm && !still_held(held_master)) {
        VR_WARN("sanlock no longer holds the SPM lease of data center %s for us", pool);
        vr_spm_state_clear(pool);
        spm = false;
    }
    pthread_mutex_unlock(&op_lock);
    *status = spm ? "SPM" : is_contending(pool) ? "Contending" : "Free";
    return read_owner(&res, spm_id, lver, err);
}

int vr_spm_stop(const vr_agent *a, const char *pool, vr_error *err)
{
    char master[37];
    pthread_mutex_lock(&op_lock);
    int rc = 0;
    if (!vr_spm_state_get(pool, master, NULL))
        goto out;
    int jobs = vr_spm_state_clear_idle(pool);
    if (jobs > 0) {
        rc = vr_error_set(err, VR_ERR_BAD_STATE, "cannot stop being SPM of data center %s: storage jobs still"
                          " running: %d", pool, jobs);
        goto out;
    }
    vr_sanlk_res res;
    char dir[PATH_MAX], leases[PATH_MAX] = "";
    vr_error ignored = {0};
    if (vr_sd_domain_dir(a, master, dir, sizeof(dir), &ignored) == 0)
        vr_sd_fmt(leases, sizeof(leases), "%s/dom_md/leases", dir);
    vr_sanlk_resource(&res, master, "SDM", leases, VR_SDM_OFFSET);
    release(&res);
    VR_INFO("no longer SPM of data center %s", pool);
out:
    pthread_mutex_unlock(&op_lock);
    return rc;
}

/* Write the master keys into domain uuid's metadata (in dir): Master with
 * this SPM's id and lease version, or Regular; MASTER_VERSION = version. */
static int write_role(const char *dir, const char *uuid, const char *pool, bool master, long long version,
                      int host_id, long long lver, vr_error *err)
{
    vr_md md = {0};
    int rc = vr_sd_md_load(dir, uuid, &md, err);
    if (!rc && (vr_md_set(&md, "ROLE", master ? "Master" : "Regular") < 0 ||
                vr_md_set_ll(&md, "MASTER_VERSION", version) < 0 || vr_md_set(&md, "POOL_UUID", pool) < 0 ||
                (master && (vr_md_set_ll(&md, "SPM_ID", host_id) < 0 || vr_md_set_ll(&md, "LVER", lver) < 0))))
        rc = vr_error_set(err, VR_ERR_STORAGE, "metadata of domain %s is full", uuid);
    if (!rc)
        rc = vr_sd_md_store(dir, &md, err);
    vr_md_clear(&md);
    return rc;
}

int vr_spm_move_master(const vr_agent *a, const char *pool, const char *from, const char *to, int host_id,
                       long long *version, long long *lver, vr_error *err)
{
    char held_master[37], from_dir[PATH_MAX], to_dir[PATH_MAX];
    vr_sanlk_res from_res, to_res;
    pthread_mutex_lock(&op_lock);
    int rc = 0;
    if (vr_spm_state_get(pool, held_master, lver) && !still_held(held_master)) {
        VR_WARN("sanlock no longer holds the SPM lease of data center %s for us", pool);
        vr_spm_state_clear(pool);
    }
    if (!vr_spm_state_get(pool, held_master, lver)) {
        rc = vr_error_set(err, VR_ERR_NOT_SPM, "host is not the SPM of data center %s", pool);
        goto out;
    }
    if (strcmp(held_master, from) && strcmp(held_master, to)) {
        rc = vr_error_set(err, VR_ERR_BAD_STATE, "this host is SPM of data center %s on master domain %s, "
                          "neither %s nor %s", pool, held_master, from, to);
        goto out;
    }
    if (sdm_of(a, to, &to_res, to_dir, err) < 0) {
        rc = -1;
        goto out;
    }
    /* The old master may be unreachable (the reason to move): its path is
     * only needed to release and demote it. */
    vr_error ignored = {0};
    bool from_ok = sdm_of(a, from, &from_res, from_dir, &ignored) == 0;
    long long mv_from = from_ok ? master_version(from_dir, from) : 0, mv_to = master_version(to_dir, to);
    *version = (mv_from > mv_to ? mv_from : mv_to) + (strcmp(held_master, to) ? 1 : 0);
    if (strcmp(held_master, to)) {
        /* Both leases at once for a moment, never neither held: sanlock
         * keeps any other host off both while the role moves. */
        if (check_master(to_dir, pool, to, host_id, err) < 0 || acquire(&to_res, pool, err) < 0) {
            rc = -1;
            goto out;
        }
        long long owner = -1;
        if (read_owner(&to_res, &owner, lver, err) < 0 ||
            write_role(to_dir, to, pool, true, *version, host_id, *lver, err) < 0 ||
            vr_spm_state_set(pool, to, *lver) < 0) {
            if (!err->code)
                vr_error_set(err, VR_ERR_LIMIT, "this host is SPM of %d data centers already", VR_SPM_MAX_POOLS);
            release(&to_res);
            rc = -1;
            goto out;
        }
    }
    /* Regular on storage before its lease goes: from then on no host can
     * become SPM there (vr_spm_start refuses a demoted master). */
    if (from_ok && write_role(from_dir, from, pool, false, *version, host_id, *lver, &ignored) < 0)
        VR_WARN("master role moved to %s, but domain %s cannot be marked Regular: %s (its lower master "
                "version tells)", to, from, ignored.message);
    if (from_ok)
        release(&from_res);
    VR_INFO("SPM of data center %s: master domain moved from %s to %s (master version %lld, lver %lld)", pool,
            from, to, *version, *lver);
out:
    pthread_mutex_unlock(&op_lock);
    return rc;
}

int vr_spm_reconstruct_master(const vr_agent *a, const char *pool, const char *from, const char *to,
                              long long version, vr_error *err)
{
    char held_master[37], from_dir[PATH_MAX], to_dir[PATH_MAX];
    vr_sanlk_res from_res, to_res;
    long long lver;
    /* under the lock of SPM.start: no start of this host races the write */
    pthread_mutex_lock(&op_lock);
    int rc = -1;
    if (vr_spm_state_get(pool, held_master, &lver) && !still_held(held_master)) {
        VR_WARN("sanlock no longer holds the SPM lease of data center %s for us", pool);
        vr_spm_state_clear(pool);
    }
    if (vr_spm_state_get(pool, held_master, &lver)) {
        vr_error_set(err, VR_ERR_BAD_STATE, "this host is the SPM of data center %s (on master domain %s): a "
                     "master is reconstructed only without an SPM (SPM.moveMaster moves it)", pool, held_master);
        goto out;
    }
    vr_md md = {0};
    if (sdm_of(a, to, &to_res, to_dir, err) < 0 || vr_sd_md_load(to_dir, to, &md, err) < 0)
        goto out;
    const char *owner = vr_md_get(&md, "POOL_UUID"), *cls = vr_md_get(&md, "CLASS"), *role = vr_md_get(&md, "ROLE");
    long long mv = 0;
    vr_md_get_ll(&md, "MASTER_VERSION", &mv);
    bool again = role && !strcmp(role, "Master") && mv == version;
    if (!owner || strcmp(owner, pool))
        vr_error_set(err, VR_ERR_BAD_STATE, "domain %s is not attached to data center %s (its POOL_UUID is '%s')",
                     to, pool, owner ? owner : "");
    else if (!cls || strcmp(cls, "Data"))
        vr_error_set(err, VR_ERR_BAD_STATE, "domain %s is a %s domain; only a data domain can be master", to,
                     cls ? cls : "(no class)");
    else if (mv >= version && !again)
        vr_error_set(err, VR_ERR_BAD_STATE, "domain %s has master version %lld already: the new master version "
                     "%lld must be above it", to, mv, version);
    vr_md_clear(&md);
    if (err->code)
        goto out;
    /* The old master, when this host can still read it, must be older and
     * is demoted (SPM.start then refuses it); unreadable, its version is
     * the caller's word (the engine keeps the newest it saw). */
    vr_error ignored = {0};
    bool from_ok = sdm_of(a, from, &from_res, from_dir, &ignored) == 0 && vr_sd_md_load(from_dir, from, &md,
                                                                                       &ignored) == 0;
    long long fv = 0;
    const char *from_pool = from_ok ? vr_md_get(&md, "POOL_UUID") : NULL;
    from_ok = from_pool && !strcmp(from_pool, pool); /* another pool's (detached): not ours to demote */
    if (from_ok)
        vr_md_get_ll(&md, "MASTER_VERSION", &fv);
    vr_md_clear(&md);
    if (from_ok && fv >= version && !again) {
        vr_error_set(err, VR_ERR_BAD_STATE, "the old master %s has master version %lld: the new master version "
                     "%lld must be above it", from, fv, version);
        goto out;
    }
    /* Master first: from then on the old one is the older master. No SPM
     * yet (SPM_ID -1): SPM.start on the new master records its own. */
    if (!again && write_role(to_dir, to, pool, true, version, -1, -1, err) < 0)
        goto out;
    if (from_ok && write_role(from_dir, from, pool, false, version, -1, -1, &ignored) < 0)
        VR_WARN("master of data center %s reconstructed on %s, but domain %s cannot be marked Regular: %s (its "
                "lower master version tells)", pool, to, from, ignored.message);
    VR_INFO("data center %s: master reconstructed on %s (from %s, master version %lld)", pool, to, from, version);
    rc = 0;
out:
    pthread_mutex_unlock(&op_lock);
    return rc;
}
