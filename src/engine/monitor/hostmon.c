#include "hostmon.h"
#include "hoststatus.h"
#include "vmstatus.h"
#include "statshistory.h"
#include "vmstats.h"
#include "vmexit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>

#include "agentjob.h"
#include "autofence.h"
#include "fencejob.h"
#include "hostnet.h"
#include "hoststorage.h"
#include "mgmtnet.h"
#include "hostview.h"
#include "i18n.h"
#include "log.h"
#include "maintenance.h"
#include "revoke.h"
#include "rpcclient.h"
#include "softfence.h"
#include "timeouts.h"

/* A VM must be missing from two polls in a row before it is declared down:
 * a poll that began just before a start cannot see the new VM yet. */
#define MISSES_BEFORE_DOWN 2

/* How long before a host certificate's end an event says to renew it. */
#define CERT_WARN_S (30 * 86400LL)

typedef struct monitor {
    vr_engine *e;
    char host_id[37];
    long long first_failure; /* 0 while the host answers */
    bool fence_tried;        /* this outage's automatic fence was tried */
    json_t *misses;          /* vm id -> consecutive polls missing */
    bool have_caps;
    vr_rpc_client *conn;     /* kept across polls; dropped on any failure */
    vr_host_storage *storage; /* its connections and lockspaces (hoststorage.h) */
    vr_host_net *net;         /* its reported networks (net/hostnet.h) */
    int crl_sent;             /* the revocations its agent knows of (deploy/revoke.h) */
    long long cert_warned;    /* the end of the certificate it warned about */
    long long syncs;          /* sync_vms rounds so far (the "elsewhere:" marks) */
} monitor;

/* Through the host status machine: a maintenance set meanwhile by an
 * administrator is kept (the poll's view of the host is older). */
static void set_host_status(monitor *m, json_t *host, const char *status, const char *detail)
{
    int to = vr_host_status_parse(status);
    if (to >= 0)
        vr_host_set_status(m->e, m->host_id, (vr_host_status)to, detail, "", NULL);
}

/* Why this host cannot serve its cluster, or NULL if it can. */
static const char *incompatibility(vr_engine *e, json_t *host, json_t *caps, char *buf, size_t len)
{
    json_t *cl = vr_db_query_one(e->db, "SELECT virt_mode, cpu_type FROM clusters WHERE id = ?",
                                 DB_ARGS(DB_TEXT(json_string_value(json_object_get(host, "cluster_id")))),
                                 NULL);
    const char *want = cl ? json_string_value(json_object_get(cl, "virt_mode")) : "any";
    const char *have = json_string_value(json_object_get(caps, "virt_mode")) ?: "unknown";
    const char *why = NULL;
    if (!strcmp(want, "kvm") && strcmp(have, "kvm")) {
        vr_i18n_format(buf, len, "cluster requires hardware KVM; host virtualization mode is %s", have);
        why = buf;
    }
    /* A named CPU type must be one QEMU can give guests here; host-model and
     * host-passthrough adapt to any host. Agents that predate cpu_models
     * are not judged on it. */
    const char *cpu = cl ? json_string_value(json_object_get(cl, "cpu_type")) : NULL;
    json_t *models = json_object_get(caps, "cpu_models");
    if (!why && cpu && json_is_array(models) && strcmp(cpu, "host-model") &&
        strcmp(cpu, "host-passthrough")) {
        bool found = false;
        size_t i;
        json_t *mdl;
        json_array_foreach(models, i, mdl) found |= !strcmp(json_string_value(mdl) ?: "", cpu);
        if (!found) {
            vr_i18n_format(buf, len, "host cannot provide the cluster's CPU type %s (%s guests here)",
                     cpu, json_string_value(json_object_get(caps, "default_domain_type")) ?: "?");
            why = buf;
        }
    }
    json_decref(cl);
    return why;
}

/* The status a VM the agent reports running should have, given its
 * current one: a QEMU that does not answer is notresponding whatever it
 * was doing; a requested shutdown stays poweringdown until it is gone. */
static const char *vm_status(json_t *agent_vm, const char *current)
{
    const char *state = json_string_value(json_object_get(agent_vm, "state")) ?: "";
    if (json_is_false(json_object_get(agent_vm, "responsive")))
        return "notresponding";
    if (!strcmp(state, "paused"))
        return "paused";
    return !strcmp(current, "poweringdown") ? "poweringdown" : "up";
}

/* Whether the poll before this one (sync m->syncs - 1) also saw what
 * key names ("KIND:uuid"): then the note is spent (a later sighting counts
 * from one again), else this poll is noted. One poll's list may be older
 * than a job that just ended, so some moves wait for two in a row. */
static bool seen_twice(monitor *m, const char *kind, const char *uuid)
{
    char key[64];
    snprintf(key, sizeof(key), "%s:%s", kind, uuid);
    json_t *last = json_object_get(m->misses, key);
    if (last && json_integer_value(last) == m->syncs - 1) {
        json_object_del(m->misses, key);
        return true;
    }
    json_object_set_new(m->misses, key, json_integer(m->syncs));
    return false;
}

/* Bring the VMs of this host in line with what its agent reports. */
static void sync_vms(monitor *m, json_t *host, json_t *agent_vms)
{
    m->syncs++;
    json_t *seen = json_object(); /* uuid -> the agent's entry */
    size_t i;
    json_t *v;
    json_array_foreach(agent_vms, i, v) {
        if (json_is_true(json_object_get(v, "owned")) && json_is_string(json_object_get(v, "uuid")))
            json_object_set(seen, json_string_value(json_object_get(v, "uuid")), v);
    }
    json_t *rows = NULL;
    /* VMs the engine placed here. */
    if (vr_db_query(m->e->db, "SELECT id, name, status, CASE WHEN memory_json IS NULL THEN 0 ELSE 1 END AS has_memory FROM vms"
                    " WHERE host_id = ?",
                    DB_ARGS(DB_TEXT(m->host_id)), &rows, NULL) < 0)
        rows = json_array();
    const char *hname = json_string_value(json_object_get(host, "name"));
    json_array_foreach(rows, i, v) {
        const char *id = json_string_value(json_object_get(v, "id"));
        const char *name = json_string_value(json_object_get(v, "name"));
        const char *st = json_string_value(json_object_get(v, "status"));
        json_t *agent_vm = json_object_get(seen, id);
        if (!strcmp(st, "waitforlaunch") || !strcmp(st, "migratingfrom") || !strcmp(st, "savingstate")) {
            json_object_del(seen, id); /* a start, migration or suspend is in flight; its job owns this VM */
            continue;
        }
        if (agent_vm) {
            json_object_del(m->misses, id);
            /* Running, so saved memory it still names is stale (a restore
             * whose answer was lost): never restore it again. */
            if (json_integer_value(json_object_get(v, "has_memory")) &&
                vr_db_exec(m->e->db, "UPDATE vms SET memory_json = NULL WHERE id = ? AND memory_json IS NOT NULL",
                           DB_ARGS(DB_TEXT(id)), NULL) > 0)
                vr_event(m->e, "warning", "", "vm", id, "VM '%s' runs on host '%s'; the memory it was saved with is"
                         " no longer used (its volume may be left on storage)", name, hname);
            const char *want = vm_status(agent_vm, st);
            char why[300];
            vr_i18n_format(why, sizeof(why), " on host '%s'", hname); /* a message: quoted translated */
            if (strcmp(st, want))
                vr_vm_move(m->e, id, name, m->host_id, vr_vm_status_parse(st), vr_vm_status_parse(want), "", why);
            vr_vm_note_pause(m->e, id, name, m->host_id, agent_vm);
            json_object_del(seen, id);
            continue;
        }
        long long miss = json_integer_value(json_object_get(m->misses, id)) + 1;
        json_object_set_new(m->misses, id, json_integer(miss));
        if (miss < MISSES_BEFORE_DOWN)
            continue;
        json_object_del(m->misses, id);
        /* Gone without our hearing its Stopped event (sent while we were
         * not connected, or the agent was down): the host says why. */
        json_t *ex = NULL;
        vr_error err = {0};
        if (vr_rpc_call(m->conn, "VM.getExit", json_pack("{s:s, s:s}", "uuid", id, "name", name), &ex, &err) < 0 &&
            (err.code == VR_ERR_BAD_STATE || err.code == VR_ERR_IO)) {
            /* It runs after all (a late start: the next poll sees it), or
             * the host stopped answering (the next poll asks again). */
            json_decref(ex);
            continue;
        }
        char why[300];
        snprintf(why, sizeof(why), " (no longer running on host '%s')", hname);
        vr_vm_ended(m->e, id, m->host_id, vr_vm_status_parse(st), json_string_value(json_object_get(ex, "reason")),
                    why);
        json_decref(ex);
    }
    json_decref(rows);
    /* Running here but not recorded here: a start whose reply was lost
     * (engine restart mid-start). Adopt it rather than ever start twice. */
    const char *uuid;
    json_t *agent_vm;
    json_object_foreach(seen, uuid, agent_vm) {
        /* The copy an incoming migration holds (paused by libvirt until
         * the switch-over, reason starting or migration: RHV's
         * MigratingTo) is not the VM running here: its migrate job
         * settles the VM, libvirt discards a failed copy. It never raises
         * "runs twice" and is never adopted, also in the moment after the
         * job recorded the VM back on its source. */
        const char *why_paused = json_string_value(json_object_get(agent_vm, "pause_reason")) ?: "";
        if (!strcmp(json_string_value(json_object_get(agent_vm, "state")) ?: "", "paused") &&
            (!strcmp(why_paused, "starting") || !strcmp(why_paused, "migration")))
            continue;
        /* A migration's job owns its VM to the end, also when the source
         * stopped answering meanwhile (its VMs are "unknown" then): the
         * job asks both hosts where it runs. */
        json_t *vm = vr_db_query_one(m->e->db, "SELECT id, name, status, host_id,"
                                     " (SELECT name FROM hosts WHERE id = vms.host_id) AS host FROM vms"
                                     " WHERE id = ? AND status NOT IN ('waitforlaunch', 'migratingfrom', 'savingstate')"
                                     " AND NOT EXISTS (SELECT 1 FROM jobs WHERE jobs.object_id = vms.id AND"
                                     " jobs.action = 'migrate' AND jobs.status IN ('pending', 'running'))",
                                     DB_ARGS(DB_TEXT(uuid)), NULL);
        if (!vm)
            continue;
        const char *other = json_string_value(json_object_get(vm, "host_id"));
        if (other && strcmp(json_string_value(json_object_get(vm, "status")), "down")) {
            /* Recorded as running elsewhere: never flip-flop between
             * hosts; raise the alarm once per monitor, and only when two
             * polls in a row saw it here: the list of one poll may be
             * older than a migration that just ended (the source's copy
             * goes a moment after the job recorded the destination). */
            if (!seen_twice(m, "elsewhere", uuid)) {
                json_decref(vm);
                continue;
            }
            char key[64];
            snprintf(key, sizeof(key), "dup:%s", uuid);
            if (!json_object_get(m->misses, key)) {
                json_object_set_new(m->misses, key, json_true());
                vr_event(m->e, "error", "", "vm", uuid,
                         "VM '%s' runs on host '%s' but is recorded on host '%s': it may run twice;"
                         " stop one copy", json_string_value(json_object_get(vm, "name")), hname,
                         json_string_value(json_object_get(vm, "host")) ?: "?");
            }
            json_decref(vm);
            continue;
        }
        /* A VM recorded down is adopted only when two polls in a row saw it
         * here: one poll's list may be older than a stop that just ended
         * (the job recorded it down after its destroy, the list was taken
         * before), and adopting it then would call a stopped VM up. */
        if (!other && !seen_twice(m, "adopt", uuid)) {
            json_decref(vm);
            continue;
        }
        const char *want = vm_status(agent_vm, "up");
        /* still as read above: a start or stop since then wins */
        if (vr_db_exec(m->e->db, "UPDATE vms SET status = ?, host_id = ? WHERE id = ? AND status = ? AND"
                       " (host_id IS NULL OR host_id = ?)",
                       DB_ARGS(DB_TEXT(want), DB_TEXT(m->host_id), DB_TEXT(uuid),
                               DB_TEXT(json_string_value(json_object_get(vm, "status"))), DB_TEXT(m->host_id)),
                       NULL) > 0)
            vr_event(m->e, "normal", "", "vm", uuid, "VM '%s' found running on host '%s'; now %s",
                     json_string_value(json_object_get(vm, "name")), hname, want);
        json_decref(vm);
    }
    json_decref(seen);
}

/* Past the grace: the automatic fence, once per outage (autofence.c). */
static void maybe_fence(monitor *m, json_t *host)
{
    if (!m->fence_tried)
        m->fence_tried = vr_host_auto_fence(m->e, m->host_id, json_string_value(json_object_get(host, "name")));
}

static void host_failed(monitor *m, json_t *host, const char *why)
{
    const char *st = json_string_value(json_object_get(host, "status"));
    long long now = vr_now();
    if (!m->first_failure)
        m->first_failure = now;
    if (!strcmp(st, "maintenance"))
        return;
    if (now - m->first_failure < m->e->grace_s) {
        if (strcmp(st, "connecting") && strcmp(st, "nonresponsive"))
            set_host_status(m, host, "connecting", why);
        return;
    }
    if (strcmp(st, "nonresponsive")) {
        set_host_status(m, host, "nonresponsive", why);
        /* Its VMs may or may not still run: say so, and never start them
         * elsewhere on a guess; only a fence proves them gone. */
        vr_db_exec(m->e->db, "UPDATE vms SET status = 'unknown' WHERE host_id = ? AND status != 'down'",
                   DB_ARGS(DB_TEXT(m->host_id)), NULL);
        vr_event(m->e, "warning", "", "host", m->host_id, "VMs on host '%s' are now unknown",
                 json_string_value(json_object_get(host, "name")));
    }
    maybe_fence(m, host);
}

/* The certificate the engine signed for the host ends within 30 days:
 * say so once (per engine run and certificate). */
static void cert_ending(monitor *m, json_t *host)
{
    long long end = json_integer_value(json_object_get(host, "cert_expires"));
    long long left = end - vr_now();
    if (!end || left > CERT_WARN_S || m->cert_warned == end)
        return;
    m->cert_warned = end;
    char when[32] = "?";
    time_t t = (time_t)end;
    struct tm tm;
    if (gmtime_r(&t, &tm))
        strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", &tm);
    vr_event(m->e, "warning", "", "host", m->host_id, "the certificate of host '%s' %s %s: renew it with"
             " enrollcertificate", json_string_value(json_object_get(host, "name")) ?: "?",
             left > 0 ? "ends on" : "ended on", when);
}

static void poll_once(monitor *m, json_t *host)
{
    vr_engine *e = m->e;
    vr_error err = {0};
    json_t *caps = NULL, *stats = NULL, *vms = NULL;
    /* A fence job owns the host and its VMs until it has powered it off
     * (and on): a poll meanwhile could find it back up without its VMs. */
    if (vr_host_being_fenced(e, m->host_id)) {
        m->first_failure = 0;
        return;
    }
    /* A deploy job owns the host while it installs it or renews its
     * certificate (its agent restarts); after a failed install nothing
     * there is trusted until a reinstall. The connection is dropped: the
     * agent comes back with another certificate. */
    if (json_integer_value(json_object_get(host, "deploying")) ||
        !strcmp(json_string_value(json_object_get(host, "status")) ?: "", "installfailed")) {
        m->first_failure = 0;
        vr_rpc_client_free(m->conn);
        m->conn = NULL;
        return;
    }
    /* One TLS session per host for as long as it works: a handshake per
     * poll would cost more than the poll. */
    if (!m->conn) {
        m->have_caps = false; /* (re)connected: the host may have changed */
        vr_host_storage_reset(m->storage);
        vr_host_net_reset(m->net);
        if (vr_rpc_client_new(e->agent_creds, json_string_value(json_object_get(host, "address")),
                              (int)json_integer_value(json_object_get(host, "port")), &m->conn,
                              &err) < 0)
            goto failed;
        vr_rpc_client_set_timeout(m->conn, vr_timeout_agent_call_s(e, NULL));
        json_t *r = NULL;
        /* Events tell us at once what polls would find seconds later (and
         * its jobs' ends: their followers ask at once, jobs/agentjob.c); an
         * agent that cannot send them is still monitored by polls. */
        if (vr_rpc_call(m->conn, "Host.subscribe", json_pack("{s:b}", "jobs", 1), &r, &err) < 0) {
            if (err.code == VR_ERR_IO)
                goto failed;
            VR_DEBUG("host %s sends no events: %s", json_string_value(json_object_get(host, "name")),
                     err.message);
            vr_error_clear(&err);
        }
        json_decref(r);
    }
    vr_rpc_client *c = m->conn;
    if ((!m->have_caps && vr_rpc_call(c, "Host.getCapabilities", NULL, &caps, &err) < 0) ||
        vr_rpc_call(c, "Host.getStats", NULL, &stats, &err) < 0 ||
        vr_rpc_call(c, "VM.list", NULL, &vms, &err) < 0 || !json_is_object(stats) ||
        !json_is_array(json_object_get(vms, "vms"))) {
        if (!err.code)
            vr_error_set(&err, VR_ERR_IO, "agent sent malformed replies");
        goto failed;
    }
    m->first_failure = 0;
    m->fence_tried = false;
    char *stext = json_dumps(stats, JSON_COMPACT);
    /* Stored as text for the API, the scheduler's numbers as columns. */
    vr_db_exec(e->db, "UPDATE hosts SET last_seen = ?, stats_json = ?, cpu_percent = ?,"
               " mem_total_mib = ? WHERE id = ?",
               DB_ARGS(DB_INT(vr_now()), DB_TEXT(stext),
                       DB_REAL(json_number_value(json_object_get(stats, "cpu_percent"))),
                       DB_INT(json_integer_value(json_object_get(json_object_get(stats, "memory"),
                                                                 "total_kib")) / 1024),
                       DB_TEXT(m->host_id)), NULL);
    free(stext);
    vr_statshist_host(e->statshist, m->host_id, stats, vr_now_ms());
    if (caps) {
        char *ctext = json_dumps(caps, JSON_COMPACT);
        vr_db_exec(e->db, "UPDATE hosts SET capabilities_json = ?, virt_mode = ?, max_vcpus = ?,"
                   " cpus = ? WHERE id = ?",
                   DB_ARGS(DB_TEXT(ctext),
                           DB_TEXT(json_string_value(json_object_get(caps, "virt_mode")) ?: ""),
                           DB_INT(json_integer_value(json_object_get(caps, "max_vcpus"))),
                           DB_INT(json_integer_value(json_object_get(
                               json_object_get(caps, "cpu_topology"), "cpus"))),
                           DB_TEXT(m->host_id)), NULL);
        free(ctext);
        m->have_caps = true;
    } else {
        json_t *row = vr_db_query_one(e->db, "SELECT capabilities_json FROM hosts WHERE id = ?",
                                      DB_ARGS(DB_TEXT(m->host_id)), NULL);
        caps = json_incref(json_object_get(row, "capabilities"));
        json_decref(row);
    }
    const char *st = json_string_value(json_object_get(host, "status"));
    char buf[256];
    const char *why = incompatibility(e, host, caps, buf, sizeof(buf));
    /* Storage only for a host that could serve: one in maintenance keeps
     * away from the data center's leases. */
    char sbuf[512];
    if (!why && strcmp(st, "maintenance") && strcmp(st, "installing") && strcmp(st, "initializing") &&
        vr_host_storage_poll(e, c, host, m->storage, sbuf, sizeof(sbuf)) > 0)
        why = sbuf;
    /* ...and has let go of them (left its lockspaces, disconnected), which
     * its maintenance job does; this catches up after an engine restart or
     * a refusal. */
    if (!strcmp(st, "maintenance") && !vr_maint_running(e, m->host_id) &&
        vr_host_storage_leave(e, c, host, m->storage, sbuf, sizeof(sbuf)) < 0)
        VR_DEBUG("%s", sbuf);
    /* Networks for every host that could serve, installing ones too: an
     * activated host without a required network is not up. */
    char nbuf[512];
    if (strcmp(st, "maintenance") && vr_host_net_poll(e, c, host, m->net, nbuf, sizeof(nbuf)) > 0 && !why)
        why = nbuf;
    if (strcmp(st, "maintenance")) {
        if (why)
            set_host_status(m, host, "nonoperational", why);
        else if (strcmp(st, "up"))
            set_host_status(m, host, "up", "");
    }
    sync_vms(m, host, json_object_get(vms, "vms"));
    vr_vmstats_poll(e, c, m->host_id);
    vr_crl_send(e, c, json_string_value(json_object_get(host, "name")) ?: "?", &m->crl_sent);
    cert_ending(m, host);
    /* The scheduler's booking for this host, recomputed from the truth. */
    vr_hostview_recount(e->view, e->db, m->host_id);
    json_decref(caps);
    json_decref(stats);
    json_decref(vms);
    return;
failed:
    vr_rpc_client_free(m->conn);
    m->conn = NULL;
    json_decref(caps);
    json_decref(stats);
    json_decref(vms);
    VR_DEBUG("host %s poll failed: %s", json_string_value(json_object_get(host, "name")), err.message);
    vr_vmstats_forget_host(e->vmstats, m->host_id); /* no figures rather than stale ones */
    host_failed(m, host, err.message);
}

/* A VM event from the agent: apply the state change it implies to a VM
 * the engine placed on this host. Polls remain the source of truth; this
 * only makes changes visible sooner. Returns true when the event calls for
 * a poll now (a VM responding again may be up or paused: the poll knows). */
static bool on_vm_event(monitor *m, json_t *params)
{
    const char *uuid = json_string_value(json_object_get(params, "uuid"));
    const char *ev = json_string_value(json_object_get(params, "event"));
    if (!uuid || !ev)
        return false;
    if (!strcmp(ev, "Responding"))
        return true;
    if (vr_host_being_fenced(m->e, m->host_id)) /* the fence job's (poll_once) */
        return false;
    const char *to = !strcmp(ev, "Suspended") ? "paused" : !strcmp(ev, "Resumed") ? "up"
                   : !strcmp(ev, "Stopped") ? "down" : !strcmp(ev, "NotResponding") ? "notresponding"
                   : NULL;
    if (!to)
        return false;
    json_t *vm = vr_db_query_one(m->e->db, "SELECT name, status FROM vms WHERE id = ? AND host_id = ?",
                                 DB_ARGS(DB_TEXT(uuid), DB_TEXT(m->host_id)), NULL);
    const char *st = vm ? json_string_value(json_object_get(vm, "status")) : NULL;
    if (!st || !strcmp(st, to) || !strcmp(st, "waitforlaunch") || !strcmp(st, "migratingfrom") ||
        !strcmp(st, "savingstate")) {
        json_decref(vm);
        return false;
    }
    char why[300];
    vr_i18n_format(why, sizeof(why), " (%s/%s reported by its host)", ev,
                   json_string_value(json_object_get(params, "detail")) ?: "");
    json_object_del(m->misses, uuid);
    if (!strcmp(to, "down"))
        vr_vm_ended(m->e, uuid, m->host_id, vr_vm_status_parse(st),
                    json_string_value(json_object_get(params, "reason")), why);
    else
        vr_vm_move(m->e, uuid, json_string_value(json_object_get(vm, "name")), m->host_id, vr_vm_status_parse(st),
                   vr_vm_status_parse(to), "", why);
    json_decref(vm);
    return false;
}

/* Until the next poll is due, handle the agent's event notifications. */
static void wait_for_events(monitor *m, long long next_poll_ms)
{
    for (;;) {
        long long left = next_poll_ms - vr_now_ms();
        if (left <= 0 || m->e->stopping)
            return;
        /* Sleep until the poll is due or an event comes: hundreds of
         * monitors waking up several times a second would cost the API
         * threads their CPU. (Shutdown does not wait for monitors.) */
        if (!m->conn) {
            usleep((useconds_t)left * 1000);
            continue;
        }
        json_t *msg = NULL;
        vr_error err = {0};
        int rc = vr_rpc_wait_notification(m->conn, (int)left, &msg, &err);
        if (rc < 0) {
            /* The next poll reconnects (and reports the host if it is down). */
            vr_rpc_client_free(m->conn);
            m->conn = NULL;
            continue;
        }
        const char *method = json_string_value(json_object_get(msg, "method")) ?: "";
        bool poll_now = rc == 0 && !strcmp(method, "VM.event") && on_vm_event(m, json_object_get(msg, "params"));
        const char *jstate = json_string_value(json_object_get(json_object_get(msg, "params"), "state"));
        if (rc == 0 && !strcmp(method, "Job.progress") && jstate && strcmp(jstate, "running"))
            vr_agent_job_ended(); /* its followers ask now (jobs/agentjob.c) */
        if (rc == 0 && !strcmp(method, "Host.networksRolledBack")) { /* its networks changed by themselves */
            vr_host_net_rolled_back(m->e, m->host_id, json_object_get(msg, "params"), m->net);
            poll_now = true;
        }
        json_decref(msg);
        if (poll_now)
            return;
    }
}

static void *monitor_thread(void *arg)
{
    monitor *m = arg;
    /* Monitoring is background work: with hundreds of hosts it must not
     * take the CPU from the threads answering API requests. */
    setpriority(PRIO_PROCESS, (id_t)gettid(), 10);
    while (!m->e->stopping) {
        json_t *host = vr_db_query_one(m->e->db, "SELECT id, name, address, port, status, cluster_id, cert_expires,"
                                       " CASE WHEN " VR_HOST_DEPLOYING_SQL " THEN 1 ELSE 0 END AS deploying"
                                       " FROM hosts WHERE id = ?", DB_ARGS(DB_TEXT(m->host_id)), NULL);
        if (!host)
            break; /* removed */
        long long next = vr_now_ms() + m->e->poll_ms;
        poll_once(m, host);
        vr_hostview_refresh(m->e->view, m->e->db, m->host_id);
        json_decref(host);
        wait_for_events(m, next);
    }
    vr_engine *e = m->e;
    vr_vmstats_forget_host(e->vmstats, m->host_id);
    vr_rpc_client_free(m->conn);
    json_decref(m->misses);
    vr_host_storage_free(m->storage);
    vr_host_net_free(m->net);
    free(m);
    vr_engine_thread_leave(e); /* lets vr_hostmon_stop's caller close the database */
    return NULL;
}

int vr_hostmon_add(vr_engine *e, const char *host_id, vr_error *err)
{
    monitor *m = calloc(1, sizeof(*m));
    if (!m)
        return vr_error_set(err, VR_ERR_INTERNAL, "out of memory");
    m->e = e;
    snprintf(m->host_id, sizeof(m->host_id), "%s", host_id);
    m->misses = json_object();
    m->storage = vr_host_storage_new();
    m->net = vr_host_net_new();
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    vr_engine_thread_enter(e);
    int rc = pthread_create(&t, &attr, monitor_thread, m);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        vr_engine_thread_leave(e);
        json_decref(m->misses);
        vr_host_storage_free(m->storage);
        vr_host_net_free(m->net);
        free(m);
        return vr_error_set(err, VR_ERR_INTERNAL, "cannot start a host monitor");
    }
    return 0;
}

int vr_hostmon_start(vr_engine *e, vr_error *err)
{
    json_t *rows;
    /* Before any host is judged on its cluster's networks: data centers
     * and clusters older than networks get their management network. */
    if (vr_mgmtnet_ensure_all(e, err) < 0)
        return -1;
    if (vr_db_query(e->db, "SELECT id FROM hosts", DB_NOARGS, &rows, err) < 0)
        return -1;
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r) {
        if (vr_hostmon_add(e, json_string_value(json_object_get(r, "id")), err) < 0) {
            json_decref(rows);
            return -1;
        }
    }
    json_decref(rows);
    return 0;
}

void vr_hostmon_stop(vr_engine *e)
{
    /* Monitors see this between steps (a poll, a wait for events) and
     * end; they are registered engine threads, so the caller joins them
     * with vr_engine_wait_threads before closing the database. */
    e->stopping = 1;
}
