/* The migrate job (docs/migration.md "Engine"). The VM is `migratingfrom`
 * from the submit on; the monitors leave such a VM to this job. The job
 * asks the source agent's VM.migrate, mirrors the agent job (Job.get every
 * 200 ms: progress and "N MiB remaining" in the job's detail), passes
 * a cancel on as Job.cancel, and in the end records one host for the VM:
 * the destination on success, the source otherwise, and, when the outcome
 * is unknown, whichever host's agent says it runs the VM. */
#include "vmmigrate.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agentcall.h"
#include "agentjob.h"
#include "hostview.h"
#include "i18n.h"
#include "jobs.h"
#include "log.h"
#include "migpolicy.h"
#include "migqueue.h"
#include "rolenet.h"
#include "placement.h"
#include "scheduler.h"
#include "vnic.h"

/* Job.get this often: the engine's job ends within a fifth of a second
 * of the agent's (a migration takes seconds; bench/migration_bench.py). */
#define POLL_MS 200
/* A source agent that cannot be asked for this long: the outcome is
 * decided by asking both hosts where the VM runs. */
#define UNREACHABLE_S 60
/* The destination's agent is pinged every this many polls while the data
 * flows, and given up after this many failed pings in a row: libvirt
 * would finish the migration without it, leaving the VM on a host whose
 * agent nobody hears (killed, host lost). Cancelled instead, the VM stays
 * on the source. */
#define DEST_PING_POLLS 5
#define DEST_PING_MISSES 2

static const char *str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k)) ?: "";
}

static void run_migrate(vr_engine *e, const char *job_id, const char *vm_id, const char *user);

static json_t *host_row(vr_engine *e, const char *id)
{
    return vr_db_query_one(e->db, "SELECT id, name, address, port, status, cluster_id FROM hosts WHERE id = ?",
                           DB_ARGS(DB_TEXT(id)), NULL);
}

int vr_vm_migrate_submit(vr_engine *e, json_t *vm, const char *host_ref, long long bandwidth_mibps, bool by_engine,
                         int queue_rank, const char *user, char job_id[37], vr_error *err)
{
    const char *id = str(vm, "id"), *name = str(vm, "name"), *st = str(vm, "status"), *src = str(vm, "host_id");
    if ((strcmp(st, "up") && strcmp(st, "paused")) || !*src)
        return vr_error_set(err, VR_ERR_BAD_STATE, "VM '%s' is %s; only an up or paused VM can migrate", name, st);
    /* Its placement policy: a pinned VM never moves; one the engine moves
     * (maintenance) must be migratable, not only user_migratable. */
    json_t *policy = vr_placement_of(e, id);
    vr_place_affinity aff = vr_placement_affinity(policy);
    if (aff == VR_PLACE_PINNED || (aff == VR_PLACE_USER_MIGRATABLE && by_engine)) {
        json_decref(policy);
        return vr_error_set(err, VR_ERR_BAD_STATE, "VM '%s' cannot migrate: its placement policy is %s", name,
                            vr_place_affinity_names[aff]);
    }
    json_t *dest = NULL;
    if (host_ref) {
        dest = vr_db_query_one(e->db, "SELECT id, name, status, cluster_id FROM hosts WHERE id = ? OR name = ?",
                               DB_ARGS(DB_TEXT(host_ref), DB_TEXT(host_ref)), err);
        if (!dest) {
            json_decref(policy);
            return err->code ? -1 : vr_error_set(err, VR_ERR_NOT_FOUND, "no host '%s'", host_ref);
        }
        const char *why = !strcmp(str(dest, "id"), src) ? N_("VM '%s' already runs on host '%s'")
                        : strcmp(str(dest, "cluster_id"), str(vm, "cluster_id")) ? N_("VM '%s' cannot migrate to host '%s': it is in another cluster")
                        : strcmp(str(dest, "status"), "up") ? N_("VM '%s' cannot migrate to host '%s': the host is not up")
                        : !vr_placement_allows(policy, str(dest, "id"))
                            ? N_("VM '%s' cannot migrate to host '%s': its placement policy does not list that host")
                        : NULL;
        if (why) {
            vr_error_set(err, VR_ERR_BAD_STATE, why, name, str(dest, "name"));
            json_decref(dest);
            json_decref(policy);
            return -1;
        }
    }
    json_t *params = json_pack("{s:s, s:s, s:s?}", "source_host_id", src, "from_status", st, "dest_host_id",
                               dest ? str(dest, "id") : NULL);
    json_decref(dest);
    json_decref(policy);
    if (bandwidth_mibps > 0)
        json_object_set_new(params, "bandwidth_mibps", json_integer(bandwidth_mibps));
    vr_migq_stamp(params, queue_rank);
    char *ptext = json_dumps(params, JSON_COMPACT);
    json_decref(params);
    char desc[160];
    vr_i18n_format(desc, sizeof(desc), "Migrate VM '%s'", name);
    vr_uuid_new(job_id);
    int rc = -1;
    if (vr_db_begin(e->db, err) < 0)
        goto out;
    /* Compare-and-set: a VM that moved on meanwhile is not migrated. */
    int n = vr_db_exec(e->db, "UPDATE vms SET status = 'migratingfrom' WHERE id = ? AND status = ? AND host_id = ?",
                       DB_ARGS(DB_TEXT(id), DB_TEXT(st), DB_TEXT(src)), err);
    if (n == 0)
        vr_error_set(err, VR_ERR_BAD_STATE, "VM '%s' changed meanwhile; it is no longer %s", name, st);
    if (n <= 0 ||
        vr_db_exec(e->db, "INSERT INTO jobs (id, action, object_type, object_id, status, user_name, description,"
                   " params_json, created_at, updated_at) VALUES (?, 'migrate', 'vm', ?, 'pending', ?, ?, ?, ?, ?)",
                   DB_ARGS(DB_TEXT(job_id), DB_TEXT(id), DB_TEXT(user), DB_TEXT(desc), DB_TEXT(ptext),
                           DB_INT(vr_now()), DB_INT(vr_now())), err) < 0 ||
        vr_job_describe(e, job_id, desc, err) < 0) {
        vr_db_rollback(e->db);
        goto out;
    }
    if (vr_db_commit(e->db, err) < 0)
        goto out;
    vr_job_spawn(e, job_id, id, user, run_migrate);
    rc = 0;
out:
    free(ptext);
    return rc;
}

/* Record where the VM is now: on `host_id` with `status`, if the job still
 * owns it (migratingfrom on the source). A source that stopped answering
 * meanwhile had its monitor mark the VM unknown: running on the
 * destination it is placed there all the same; back on that source it
 * stays unknown for the source's monitor to resolve. */
static void settle(vr_engine *e, const char *vm_id, json_t *p, const char *host_id, const char *status)
{
    const char *src = str(p, "source_host_id");
    json_t *was = vr_db_query_one(e->db, "SELECT migrating_to_host_id FROM vms WHERE id = ?", DB_ARGS(DB_TEXT(vm_id)),
                                  NULL);
    vr_db_exec(e->db, strcmp(host_id, src)
                   ? "UPDATE vms SET host_id = ?, status = ?, migrating_to_host_id = NULL WHERE id = ?"
                     " AND status IN ('migratingfrom', 'unknown') AND host_id = ?"
                   : "UPDATE vms SET host_id = ?, status = ?, migrating_to_host_id = NULL WHERE id = ?"
                     " AND status = 'migratingfrom' AND host_id = ?",
               DB_ARGS(DB_TEXT(host_id), DB_TEXT(status), DB_TEXT(vm_id), DB_TEXT(src)), NULL);
    /* The destination's booking (pick_dest) ends with the migration: both
     * hosts' numbers now, not at their next polls. */
    pthread_mutex_lock(&e->sched_lock);
    const char *to = json_string_value(json_object_get(was, "migrating_to_host_id"));
    if (to && strcmp(to, src))
        vr_hostview_recount(e->view, e->db, to);
    vr_hostview_recount(e->view, e->db, src);
    pthread_mutex_unlock(&e->sched_lock);
    json_decref(was);
}


/* Where does the VM run? 1 on the destination (running there: the switch-
 * over happened, the source's copy is gone or going), 0 on the source (or
 * on neither: left to the source's monitor), -1 still in flight (the
 * destination holds the incoming copy, paused, while the source runs it). */
static int ask_both(vr_engine *e, const char *vm_id, json_t *src, json_t *dst)
{
    vr_error err = {0};
    json_t *r = NULL;
    bool dst_has = dst && vr_agent_call_host(e, dst, "VM.get", json_pack("{s:s}", "uuid", vm_id), &r, &err) == 0;
    bool dst_runs = dst_has && !strcmp(str(r, "state"), "running");
    json_decref(r);
    r = NULL;
    vr_error_clear(&err);
    bool on_src = vr_agent_call_host(e, src, "VM.get", json_pack("{s:s}", "uuid", vm_id), &r, &err) == 0;
    json_decref(r);
    return dst_runs ? 1 : dst_has && on_src ? -1 : 0;
}

/* Whether the destination's agent answers; a transport failure only
 * counts (an agent that answers with an error is alive). */
static bool dest_answers(vr_engine *e, json_t *dst)
{
    vr_error err = {0};
    json_t *r = NULL;
    int rc = vr_agent_call_host(e, dst, "Host.ping", json_object(), &r, &err);
    json_decref(r);
    return rc == 0 || err.code != VR_ERR_IO;
}

/* Follow the agent job on the source until it ends; record the outcome. */
static void follow(vr_engine *e, const char *job_id, const char *vm_id, const char *user, json_t *p, json_t *vm,
                   json_t *src, json_t *dst)
{
    const char *agent_job = str(p, "agent_job"), *name = str(vm, "name");
    bool cancel_sent = false, dest_lost = false;
    long long unreachable_since = 0, polls = 0;
    int dest_misses = 0;
    char detail[1024] = "";
    int outcome = -2; /* 1 succeeded, 0 failed, -1 cancelled */
    while (outcome == -2) {
        usleep(POLL_MS * 1000);
        if (e->stopping)
            return; /* resumed at the next start */
        vr_error err = {0};
        json_t *j = NULL;
        if (!cancel_sent && vr_job_cancel_requested(e, job_id)) {
            cancel_sent = vr_agent_call_host(e, src, "Job.cancel", json_pack("{s:s}", "id", agent_job), &j, &err) == 0
                          || err.code == VR_ERR_BAD_STATE;
            json_decref(j);
            j = NULL;
            vr_error_clear(&err);
        }
        if (vr_agent_call_host(e, src, "Job.get", json_pack("{s:s}", "id", agent_job), &j, &err) < 0) {
            bool lost = err.code == VR_ERR_INVALID_PARAMS; /* the agent restarted and forgot it */
            if (!unreachable_since)
                unreachable_since = vr_now();
            /* Lost: libvirt may still be migrating (its call outlives the
             * agent): wait until the VM is on one side only. */
            int where = lost || vr_now() - unreachable_since > UNREACHABLE_S ? ask_both(e, vm_id, src, dst) : -1;
            if (where < 0 && vr_now() - unreachable_since > 600)
                where = 0; /* never settled: the source's monitor decides */
            if (where >= 0) {
                outcome = where;
                vr_i18n_format(detail, sizeof(detail), "host '%s' lost the migration job (%s); VM '%s' found on host '%s'",
                         str(src, "name"), err.message, name, where ? str(dst, "name") : str(src, "name"));
            }
            continue;
        }
        if (json_is_true(json_object_get(j, "interrupted"))) {
            /* The agent restarted under the job and says so: as lost,
             * libvirt may have finished the migration on its own. */
            if (!unreachable_since)
                unreachable_since = vr_now();
            int where = ask_both(e, vm_id, src, dst);
            if (where < 0 && vr_now() - unreachable_since > 600)
                where = 0; /* never settled: the source's monitor decides */
            if (where >= 0) {
                outcome = where;
                vr_i18n_format(detail, sizeof(detail), "host '%s' was restarted during the migration; VM '%s' found on"
                         " host '%s'", str(src, "name"), name, where ? str(dst, "name") : str(src, "name"));
            }
            json_decref(j);
            continue;
        }
        unreachable_since = 0;
        const char *state = str(j, "state");
        vr_agent_job_detail(j, detail, sizeof(detail));
        if (!strcmp(state, "running")) {
            long long pct = json_integer_value(json_object_get(j, "progress"));
            vr_db_exec(e->db, "UPDATE jobs SET progress = ?, detail = ?, updated_at = ? WHERE id = ?",
                       DB_ARGS(DB_INT(5 + pct * 90 / 100), DB_TEXT(detail), DB_INT(vr_now()), DB_TEXT(job_id)), NULL);
            if (dst && !cancel_sent && ++polls % DEST_PING_POLLS == 0) {
                dest_misses = dest_answers(e, dst) ? 0 : dest_misses + 1;
                if (dest_misses >= DEST_PING_MISSES) {
                    json_t *c = NULL;
                    vr_error cerr = {0};
                    VR_WARN("migration of VM %s: destination host %s stopped answering; cancelling", vm_id,
                            str(dst, "name"));
                    cancel_sent = dest_lost = vr_agent_call_host(e, src, "Job.cancel", json_pack("{s:s}", "id",
                                                                 agent_job), &c, &cerr) == 0 ||
                                              cerr.code == VR_ERR_BAD_STATE;
                    json_decref(c);
                }
            }
        } else {
            outcome = !strcmp(state, "succeeded") ? 1 : !strcmp(state, "cancelled") ? -1 : 0;
        }
        json_decref(j);
    }
    if (dest_lost && outcome <= 0) { /* our cancel, not the user's: a failure */
        outcome = 0;
        vr_i18n_format(detail, sizeof(detail), "the destination host '%s' stopped answering during the migration;"
                       " cancelled, VM '%s' stays on host '%s'", str(dst, "name"), name, str(src, "name"));
    }
    const char *from = str(p, "from_status");
    if (outcome == 1) {
        settle(e, vm_id, p, str(dst, "id"), from);
        vr_vnic_after_migration(e, vm, dst, user);
        vr_event(e, "normal", user, "vm", vm_id, "VM '%s' migrated from host '%s' to host '%s'", name,
                 str(src, "name"), str(dst, "name"));
        vr_job_update(e, job_id, "finished", detail);
    } else {
        settle(e, vm_id, p, str(src, "id"), from);
        vr_event(e, outcome ? "normal" : "error", user, "vm", vm_id, "migration of VM '%s' to host '%s' %s: %s", name,
                 str(dst, "name"), outcome ? "cancelled" : "failed", detail);
        vr_job_update(e, job_id, outcome ? "cancelled" : "failed", detail);
    }
}

/* The destination: the one asked for, or the scheduler's pick among the
 * cluster's up hosts with room that run every network of the VM's NICs,
 * never the source. */
static json_t *pick_dest(vr_engine *e, json_t *vm, json_t *p, char *why, size_t len, bool *busy)
{
    *busy = false;
    const char *given = str(p, "dest_host_id");
    vr_error err = {0};
    vr_sched_eval ev;
    pthread_mutex_lock(&e->sched_lock);
    /* Its affinity groups count as for a start (the VM's own host is not
     * counted: it leaves it). */
    int rc = vr_sched_evaluate(e, vm, str(p, "source_host_id"), given, false, &ev, &err);
    if (rc >= 0 && ev.chosen >= 0) {
        /* Booked before the next placement looks (RHV's pending memory):
         * the VM names its destination, whose booking counts it from now
         * (vr_hostview_recount), so migrations picked at once (an
         * evacuation) spread by the room left. settle() undoes it. */
        const char *to = ev.hosts[ev.chosen].id;
        vr_db_exec(e->db, "UPDATE vms SET migrating_to_host_id = ? WHERE id = ? AND status = 'migratingfrom'",
                   DB_ARGS(DB_TEXT(to), DB_TEXT(str(vm, "id"))), NULL);
        vr_hostview_recount(e->view, e->db, to);
    }
    pthread_mutex_unlock(&e->sched_lock);
    if (rc < 0) {
        snprintf(why, len, "%s", err.message);
        return NULL;
    }
    snprintf(why, len, "%.*s", (int)(len ? len - 1 : 0), ev.reason); /* a long list of hosts is cut */
    for (size_t k = 0; ev.chosen < 0 && *given && k < ev.n; k++)
        if (!strcmp(ev.hosts[k].id, given) && ev.hosts[k].lacks_network)
            vr_i18n_format(why, len, "the chosen host does not run every network of the VM's NICs");
    for (size_t k = 0; ev.chosen < 0 && k < ev.n; k++)
        *busy |= !strcmp(ev.hosts[k].status, "incoming");
    json_t *h = ev.chosen >= 0 ? host_row(e, ev.hosts[ev.chosen].id) : NULL;
    vr_sched_eval_free(&ev);
    return h;
}

static void run_migrate(vr_engine *e, const char *job_id, const char *vm_id, const char *user)
{
    json_t *job = vr_db_query_one(e->db, "SELECT params_json FROM jobs WHERE id = ?", DB_ARGS(DB_TEXT(job_id)), NULL);
    json_t *p = json_deep_copy(json_object_get(job, "params"));
    json_decref(job);
    json_t *vm = vr_db_query_one(e->db, "SELECT id, name, status, host_id, cluster_id, memory_mib, vcpus, spec_json"
                                 " FROM vms WHERE id = ?", DB_ARGS(DB_TEXT(vm_id)), NULL);
    json_t *src = host_row(e, str(p, "source_host_id")), *dst = NULL;
    char why[512] = "";
    const char *name = vm ? str(vm, "name") : vm_id;
    if (!p || !vm || !src || strcmp(str(vm, "status"), "migratingfrom")) {
        vr_job_update(e, job_id, "failed", "the VM is no longer migrating from its host");
        goto out;
    }
    if (*str(p, "agent_job")) { /* resumed: sent before the restart */
        dst = host_row(e, str(p, "dest_host_id"));
        vr_job_update(e, job_id, "running", "following the migration again after an engine restart");
        follow(e, job_id, vm_id, user, p, vm, src, dst);
        goto out;
    }
    if (!json_is_true(json_object_get(p, "slot"))) {
        /* Beyond the source's outgoing limit: wait in the engine's queue
         * (migqueue.h); nothing is asked of any host meanwhile. */
        vr_migq_result q = vr_migq_wait(e, job_id, vm_id, name, p, why, sizeof(why));
        if (q == VR_MIGQ_STOPPING)
            goto out; /* resumed, still waiting, at the next start */
        if (q != VR_MIGQ_GRANTED) {
            settle(e, vm_id, p, str(src, "id"), str(p, "from_status"));
            if (q == VR_MIGQ_FAILED)
                vr_event(e, "error", user, "vm", vm_id, "cannot migrate VM '%s': %s", name, why);
            vr_job_update(e, job_id, q == VR_MIGQ_CANCELLED ? "cancelled" : "failed", why);
            goto out;
        }
    }
    vr_job_update(e, job_id, "running", "scheduling");
    vr_job_progress(e, job_id, 2);
    bool busy;
    dst = pick_dest(e, vm, p, why, sizeof(why), &busy);
    /* Hosts receiving their most migrations at once (sched/incoming.h):
     * theirs end by themselves, so wait for one (as VDSM's incoming limit
     * holds a migration back), at most 10 min, then fail with the reason. */
    for (int waited = 0; !dst && busy && waited < 600 * 2 && !e->stopping; waited++) {
        if (waited == 0)
            vr_job_update(e, job_id, "running", N_("waiting for a destination: the hosts that fit receive their"
                                                   " most migrations at once"));
        usleep(500 * 1000);
        json_t *now = vr_db_query_one(e->db, "SELECT status FROM vms WHERE id = ?", DB_ARGS(DB_TEXT(vm_id)), NULL);
        bool still = now && !strcmp(str(now, "status"), "migratingfrom");
        json_decref(now);
        if (!still || vr_job_cancel_requested(e, job_id))
            break;
        dst = pick_dest(e, vm, p, why, sizeof(why), &busy);
    }
    if (!dst || vr_job_cancel_requested(e, job_id)) {
        settle(e, vm_id, p, str(src, "id"), str(p, "from_status"));
        if (!dst)
            vr_event(e, "error", user, "vm", vm_id, "cannot migrate VM '%s': %s", name, why);
        vr_job_update(e, job_id, dst ? "cancelled" : "failed", dst ? N_("cancelled before it was sent to the host") : why);
        goto out;
    }
    /* The destination's own word on its networks, the view may be old. */
    vr_error nerr = {0};
    if (vr_vnic_check_dest(e, vm, dst, &nerr) < 0) {
        settle(e, vm_id, p, str(src, "id"), str(p, "from_status"));
        vr_event(e, "error", user, "vm", vm_id, "cannot migrate VM '%s': %s", name, nerr.message);
        vr_job_update(e, job_id, "failed", nerr.message);
        goto out;
    }
    json_object_set_new(p, "dest_host_id", json_string(str(dst, "id")));
    vr_job_params_store(e, job_id, p);
    /* The view names the destination meanwhile (RHV's migrating_to_vds),
     * set when pick_dest booked it. */
    char step[200];
    vr_i18n_format(step, sizeof(step), "migrating to host '%s'", str(dst, "name"));
    vr_job_update(e, job_id, "running", step);
    vr_job_progress(e, job_id, 5);
    /* The destination's libvirtd is reached where the engine reaches its
     * agent; the migration stream goes to its address on the cluster's
     * migration network (net/rolenet.h), else there too. Its consoles
     * listen on the destination's display network address, else loopback. */
    char mig_addr[64], mig_why[300], disp_addr[64], disp_why[300];
    vr_migrnet_address(e, vm_id, dst, mig_addr, sizeof(mig_addr), mig_why, sizeof(mig_why));
    if (*mig_why)
        vr_event(e, "warning", user, "vm", vm_id, "VM '%s' migrates over the management network: %s", name, mig_why);
    vr_dispnet_address(e, vm_id, dst, disp_addr, sizeof(disp_addr), disp_why, sizeof(disp_why));
    if (*disp_why)
        vr_event(e, "warning", user, "vm", vm_id, "the consoles of VM '%s' listen on the loopback of host '%s': %s",
                 name, str(dst, "name"), disp_why);
    json_t *res = NULL, *call = json_pack("{s:s, s:{s:s, s:s, s:s}}", "uuid", vm_id, "dest", "host",
                                          str(dst, "address"), "address", mig_addr, "display_address", disp_addr);
    vr_error err = {0};
    if (json_object_get(p, "bandwidth_mibps"))
        json_object_set(call, "bandwidth_mibps", json_object_get(p, "bandwidth_mibps"));
    /* The cluster's migration policy, read now: a change reaches the next
     * migration, also one queued before it. */
    json_t *cl = vr_db_query_one(e->db, "SELECT c.migration_json FROM clusters c JOIN vms v ON v.cluster_id = c.id"
                                 " WHERE v.id = ?", DB_ARGS(DB_TEXT(vm_id)), NULL);
    vr_migpolicy_apply(json_object_get(cl, "migration"), call);
    json_decref(cl);
    /* Where the destination mounts storage: the source rewrites the paths
     * of the VM's lease and storage-domain disks when it differs. */
    json_t *caps = vr_db_query_one(e->db, "SELECT capabilities_json FROM hosts WHERE id = ?",
                                   DB_ARGS(DB_TEXT(str(dst, "id"))), NULL);
    const char *root = json_string_value(json_object_get(json_object_get(caps, "capabilities"), "storage_root"));
    if (root)
        json_object_set_new(json_object_get(call, "dest"), "storage_root", json_string(root));
    json_decref(caps);
    if (vr_agent_call_host(e, src, "VM.migrate", call, &res, &err) < 0) {
        settle(e, vm_id, p, str(src, "id"), str(p, "from_status"));
        vr_event(e, "error", user, "vm", vm_id, "migration of VM '%s' to host '%s' refused by host '%s': %s", name,
                 str(dst, "name"), str(src, "name"), err.message);
        vr_job_update(e, job_id, "failed", err.message);
        goto out;
    }
    json_object_set_new(p, "agent_job", json_string(str(res, "job")));
    json_decref(res);
    vr_job_params_store(e, job_id, p);
    vr_event(e, "normal", user, "vm", vm_id, "VM '%s' migrating from host '%s' to host '%s'", name, str(src, "name"),
             str(dst, "name"));
    follow(e, job_id, vm_id, user, p, vm, src, dst);
out:
    json_decref(p);
    json_decref(vm);
    json_decref(src);
    json_decref(dst);
}

bool vr_vm_migrate_resume(vr_engine *e, json_t *r)
{
    if (strcmp(str(r, "action"), "migrate") || strcmp(str(r, "object_type"), "vm"))
        return false;
    const char *id = str(r, "id"), *vm = str(r, "object_id");
    json_t *p = json_object_get(r, "params");
    /* A job still waiting in the queue (no slot yet) simply waits again;
     * one from before the queue (no queue_seq) may have been sent. */
    bool queued = !json_is_true(json_object_get(p, "slot")) && json_object_get(p, "queue_seq");
    if (!strcmp(str(r, "status"), "running") && !*str(p, "agent_job") && !queued) {
        /* Cut short between the choice and the agent's answer: whether
         * VM.migrate went out is unknown. The source's running migration
         * job of this VM, if any, is it; without one, ask where it runs. */
        json_t *src = host_row(e, str(p, "source_host_id")), *dst = host_row(e, str(p, "dest_host_id"));
        json_t *list = NULL, *pc = json_deep_copy(p), *j;
        vr_error err = {0};
        size_t i;
        if (src && vr_agent_call_host(e, src, "Job.list", json_object(), &list, &err) == 0)
            json_array_foreach(json_object_get(list, "jobs"), i, j)
                if (!strcmp(str(j, "kind"), "VM.migrate") && !strcmp(str(j, "vm_uuid"), vm) &&
                    !*str(pc, "agent_job"))
                    json_object_set_new(pc, "agent_job", json_string(str(j, "id")));
        json_decref(list);
        if (*str(pc, "agent_job")) {
            vr_job_params_store(e, id, pc);
        } else {
            int on_dst = src ? ask_both(e, vm, src, dst) > 0 : 0;
            settle(e, vm, pc, on_dst ? str(dst, "id") : str(src, "id"), str(p, "from_status"));
            vr_job_update(e, id, "failed", on_dst ? N_("interrupted by an engine restart; the VM runs on the destination")
                                                  : N_("interrupted by an engine restart; the VM stays on its host"));
        }
        bool follow_it = *str(pc, "agent_job");
        json_decref(src);
        json_decref(dst);
        json_decref(pc);
        if (!follow_it)
            return true;
    }
    VR_INFO("resuming job %s (migration of VM %s)", id, vm);
    vr_job_spawn(e, id, vm, str(r, "user_name"), run_migrate);
    return true;
}

