/* VM lifecycle verbs: create, destroy, shutdown, reboot, pause, resume, list. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dominfo.h"
#include "i18n.h"
#include "domxml.h"
#include "host_claims.h"
#include "hyp.h"
#include "jsonx.h"
#include "long_jobs.h"
#include "log.h"
#include "verbs.h"
#include "vm_health.h"
#include "vm_jobs.h"
#include "storage/vmlease.h"
#include "vmspec.h"
#include "storage/enospc.h"
#include "storage/volume_memory.h"

/* Summary of one domain as returned by VM.create and VM.list. */
static json_t *vm_summary(virDomainPtr dom, bool with_devices)
{
    char uuid[VIR_UUID_STRING_BUFLEN] = "";
    int state = 0, reason = 0;
    virDomainGetUUIDString(dom, uuid);
    if (virDomainGetState(dom, &state, &reason, 0) < 0)
        virResetLastError();
    bool owned = vr_dom_is_owned(dom);
    json_t *o = json_pack("{s:s, s:s, s:s, s:b, s:b}", "uuid", uuid, "name", virDomainGetName(dom),
                          "state", vr_dom_state_name(state), "owned", owned,
                          "responsive", vr_health_responsive(uuid));
    char disk[64];
    const char *why = vr_enospc_pause_reason(dom, state, reason, disk, sizeof(disk));
    if (why)
        json_object_set_new(o, "pause_reason", json_string(why));
    if (why && *disk)
        json_object_set_new(o, "pause_disk", json_string(disk));
    xmlDocPtr doc;
    if (with_devices && owned && vr_dom_doc(dom, &doc, NULL) == 0) {
        json_object_set_new(o, "devices", vr_dom_devices(doc));
        json_t *type = vr_dom_xpath_strings(doc, "/domain/@type");
        json_object_set(o, "domain_type", json_array_get(type, 0));
        json_decref(type);
        xmlFreeDoc(doc);
    }
    return o;
}

/* Name, UUID and MACs of spec are not used by any libvirt domain (owned
 * or not, running or only defined). The caller holds claims on them. */
static int check_unique(vr_agent *a, const vr_vm_spec *spec, vr_error *err)
{
    virDomainPtr dom = virDomainLookupByName(a->conn, spec->name);
    if (!dom)
        dom = virDomainLookupByUUIDString(a->conn, spec->uuid);
    virResetLastError();
    if (dom) {
        char uuid[VIR_UUID_STRING_BUFLEN];
        virDomainGetUUIDString(dom, uuid);
        vr_error_set(err, VR_ERR_VM_EXISTS, "a VM named '%s' (UUID %s) already runs on this host",
                     virDomainGetName(dom), uuid);
        virDomainFree(dom);
        return -1;
    }
    for (int i = 0; i < spec->nnics; i++) {
        char owner[128];
        if (vr_mac_in_use(a, spec->nics[i].mac, owner, sizeof(owner)))
            return vr_error_set(err, VR_ERR_CONFLICT, "MAC %s is already used by VM '%s' on this host",
                                spec->nics[i].mac, owner);
    }
    return 0;
}

/* Start the VM of spec params: a fresh boot, or (restore: a memory
 * volume's file) the guest as it was saved (VM.restore). */
static int start_vm(vr_agent *a, json_t *params, const char *restore, json_t **result, vr_error *err)
{
    vr_vm_spec *spec = calloc(1, sizeof(*spec));
    vr_claims *claims = NULL;
    char *xml = NULL;
    int rc = -1;
    if (!spec)
        return vr_error_set(err, VR_ERR_INTERNAL, "out of memory");
    if (vr_vm_spec_parse(a, params, spec, err) < 0)
        goto out;
    char log[512];
    snprintf(log, sizeof(log), "%s/vireo-%s-console.log", a->console_log_dir, spec->uuid);
    if (vr_domxml_domain(spec, log, &xml, err) < 0)
        goto out;
    /* Claim name, UUID and MACs first, so that a concurrent create or NIC
     * hotplug cannot pass the same checks; then check and create with no
     * lock held (host_claims.h). Claims end once libvirt lists the VM. */
    char holder[128];
    snprintf(holder, sizeof(holder), "VM.create of '%s'", spec->name);
    claims = vr_claims_new(holder);
    if (!claims) {
        vr_error_set(err, VR_ERR_INTERNAL, "out of memory creating VM '%s'", spec->name);
        goto out;
    }
    if (vr_claims_add(claims, VR_CLAIM_NAME, spec->name, err) < 0 ||
        vr_claims_add(claims, VR_CLAIM_UUID, spec->uuid, err) < 0)
        goto out;
    for (int i = 0; i < spec->nnics; i++)
        if (vr_claims_add(claims, VR_CLAIM_MAC, spec->nics[i].mac, err) < 0)
            goto out;
    if (check_unique(a, spec, err) < 0)
        goto out;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    virDomainPtr dom = NULL;
    if (!restore)
        dom = virDomainCreateXML(a->conn, xml, 0);
    else if (virDomainRestoreFlags(a->conn, restore, xml, VIR_DOMAIN_SAVE_RUNNING) == 0)
        dom = virDomainLookupByUUIDString(a->conn, spec->uuid);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (!dom) {
        vr_libvirt_error(err, restore ? N_("cannot restore VM '%s' from %s") : N_("cannot start VM '%s'"), spec->name,
                         restore);
        goto out;
    }
    /* A lease libvirt did not take (no sanlock lock manager on this host)
     * would let the VM run twice: such a VM does not run here. */
    if (spec->lease_domain && vr_vmlease_held_here(a, spec->lease_domain, spec->uuid, err) != 1) {
        virDomainDestroy(dom);
        virDomainFree(dom);
        if (!err->code)
            vr_error_set(err, VR_ERR_UNSUPPORTED, "VM '%s' started without holding its lease in domain %s: libvirt on"
                         " this host does not use the sanlock lock manager (qemu.conf lock_manager = \"sanlock\");"
                         " it was stopped", spec->name, spec->lease_domain);
        goto out;
    }
    VR_INFO("VM %s (%s) %s, type %s, libvirt took %ld ms", spec->name, spec->uuid,
            restore ? "restored from its saved memory" : "started", spec->domain_type,
            (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
    *result = vm_summary(dom, true);
    virDomainFree(dom);
    rc = 0;
out:
    vr_claims_free(claims);
    free(xml);
    free(spec);
    return rc;
}

static int vm_create(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    return start_vm(a, params, NULL, result, err);
}

/* VM.create's spec plus memory: {domain, image, volume}, a LEGAL memory
 * volume (VM.save, volume_memory.c). The guest resumes where it was saved,
 * on this host or any other that sees the domain. */
static int vm_restore(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    vr_volume_ref r;
    char path[PATH_MAX];
    if (vr_volume_ref_parse(json_object_get(params, "memory"), "params.memory", &r, err) < 0 ||
        vr_memory_volume_path(a, &r, true, path, sizeof(path), err) < 0)
        return -1;
    json_t *spec = json_deep_copy(params);
    json_object_del(spec, "memory");
    int rc = start_vm(a, spec, path, result, err);
    json_decref(spec);
    return rc;
}

/* Verbs taking only {"uuid"} and calling one libvirt function, as the VM
 * job `job` (NULL: no job, see vm_jobs.h). failed: the whole message of a
 * failure, a catalog format taking the VM's name (no verb pasted into a
 * sentence: it would stay English in other languages). */
static int simple_op(vr_agent *a, json_t *params, json_t **result, vr_error *err,
                     int (*op)(virDomainPtr), const char *what, const char *failed, const char *job)
{
    static const char *const keys[] = {"uuid", NULL};
    virDomainPtr dom;
    if (vr_json_check_keys(params, "params", VR_NAMES(keys), err) < 0 ||
        (job ? vr_vm_job_begin_lookup(a, params, job, &dom, err)
             : vr_dom_lookup(a, params, &dom, err)) < 0)
        return -1;
    int rc = op(dom);
    if (rc < 0)
        vr_libvirt_error(err, failed, virDomainGetName(dom));
    else {
        VR_INFO("VM %s: %s", virDomainGetName(dom), what);
        *result = json_object();
    }
    if (job)
        vr_vm_job_end_free(dom);
    else
        virDomainFree(dom);
    return rc < 0 ? -1 : 0;
}

static int op_reboot(virDomainPtr d) { return virDomainReboot(d, VIR_DOMAIN_REBOOT_ACPI_POWER_BTN); }

/* No job: destroy is the way out of a VM whose job hangs (libvirt kills
 * QEMU without waiting for the domain's job either). */
static int vm_destroy(vr_agent *a, json_t *p, json_t **r, vr_error *e)
{
    return simple_op(a, p, r, e, virDomainDestroy, "destroy", N_("cannot destroy VM %s"), NULL);
}
static int vm_pause(vr_agent *a, json_t *p, json_t **r, vr_error *e)
{
    return simple_op(a, p, r, e, virDomainSuspend, "pause", N_("cannot pause VM %s"), "VM.pause");
}
static int vm_cont(vr_agent *a, json_t *p, json_t **r, vr_error *e)
{
    return simple_op(a, p, r, e, virDomainResume, "resume", N_("cannot resume VM %s"), "VM.cont");
}
static int vm_reboot(vr_agent *a, json_t *p, json_t **r, vr_error *e)
{
    return simple_op(a, p, r, e, op_reboot, "reboot", N_("cannot reboot VM %s"), "VM.reboot");
}

/* After an ACPI shutdown request, wait for the guest; destroy it if it is
 * still the same running domain when the timeout expires. This is a long
 * job (long_jobs.h): clients follow its progress and may cancel it. */
struct shutdown_watch {
    virDomainPtr dom;
    int id;
    long long timeout_s;
    vr_long_job *job;
    char name[65];
};

static long long ms_since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long long)(now.tv_sec - t0->tv_sec) * 1000 + (now.tv_nsec - t0->tv_nsec) / 1000000;
}

static void *shutdown_watcher(void *arg)
{
    struct shutdown_watch *w = arg;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    enum vr_job_end end = VR_JOB_SUCCEEDED;
    char detail[sizeof(((vr_error *)0)->message)];
    for (;;) {
        int state = 0;
        /* A domain that stopped is gone (transient) or shut off. */
        if (virDomainGetState(w->dom, &state, NULL, 0) < 0 || state == VIR_DOMAIN_SHUTOFF ||
            virDomainGetID(w->dom) != (unsigned)w->id) {
            virResetLastError();
            snprintf(detail, sizeof(detail), "VM %s powered off", w->name);
            break;
        }
        if (vr_long_job_cancel_requested(w->job)) {
            end = VR_JOB_CANCELLED;
            snprintf(detail, sizeof(detail),
                     "cancelled: VM %s will not be forced off (its guest may still power off)",
                     w->name);
            break;
        }
        long long ms = ms_since(&t0);
        if (ms >= w->timeout_s * 1000) {
            VR_WARN("VM %s did not power off within %llds; destroying it", w->name, w->timeout_s);
            vr_error e = {0};
            if (virDomainDestroy(w->dom) < 0)
                vr_libvirt_error(&e, "cannot force VM %s off", w->name);
            if (e.code && e.code != VR_ERR_NO_VM) { /* gone meanwhile: it powered off */
                end = VR_JOB_FAILED;
                snprintf(detail, sizeof(detail), "%s", e.message);
            } else {
                snprintf(detail, sizeof(detail), "VM %s did not power off within %lld s; forced off",
                         w->name, w->timeout_s);
            }
            break;
        }
        char now[192]; /* a name of up to 64 bytes and two numbers */
        snprintf(now, sizeof(now), "waiting for VM %s to power off (%lld of %lld s)", w->name,
                 ms / 1000, w->timeout_s);
        vr_long_job_progress(w->job, (int)(ms / (w->timeout_s * 10)), now);
        usleep(200 * 1000);
    }
    vr_long_job_finish(w->job, end, detail);
    virDomainFree(w->dom);
    free(w);
    return NULL;
}

/* Start the watcher of a shutdown and copy its job id into job_id; false
 * if it could not start (the shutdown request stands; the VM is then not
 * forced off). */
static bool watch_shutdown(vr_agent *a, virDomainPtr dom, long long timeout_s, char job_id[37])
{
    struct shutdown_watch *w = calloc(1, sizeof(*w));
    char uuid[VIR_UUID_STRING_BUFLEN] = "", what[128];
    if (!w || virDomainRef(dom) < 0) {
        free(w);
        return false;
    }
    w->dom = dom;
    w->id = (int)virDomainGetID(dom);
    w->timeout_s = timeout_s;
    snprintf(w->name, sizeof(w->name), "%s", virDomainGetName(dom) ?: "?");
    virDomainGetUUIDString(dom, uuid);
    snprintf(what, sizeof(what), "waiting for VM %s to power off (0 of %lld s)", w->name, timeout_s);
    w->job = vr_long_job_new(a, "VM.shutdown", uuid, w->name, what);
    if (w->job) /* before the watcher may finish it */
        snprintf(job_id, 37, "%s", vr_long_job_id(w->job));
    pthread_t t;
    if (!w->job || pthread_create(&t, NULL, shutdown_watcher, w) != 0) {
        VR_WARN("VM %s: cannot watch its shutdown; it will not be forced off", w->name);
        if (w->job)
            vr_long_job_finish(w->job, VR_JOB_FAILED, "cannot start the shutdown watcher");
        virDomainFree(dom);
        free(w);
        return false;
    }
    pthread_detach(t);
    return true;
}

static int vm_shutdown(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    static const char *const keys[] = {"uuid", "timeout_s", "force", NULL};
    long long timeout = 60;
    bool force = true;
    virDomainPtr dom;
    if (vr_json_check_keys(params, "params", VR_NAMES(keys), err) < 0 ||
        vr_json_int(params, "params", "timeout_s", false, 1, 3600, &timeout, err) < 0 ||
        vr_json_bool(params, "params", "force", false, &force, err) < 0 ||
        vr_vm_job_begin_lookup(a, params, "VM.shutdown", &dom, err) < 0)
        return -1;
    /* The VM's job covers the request only: the guest's power-off and the
     * watcher's wait must not lock the VM for up to timeout_s. */
    int rc = virDomainShutdownFlags(dom, VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN);
    if (rc < 0)
        vr_libvirt_error(err, "cannot shut down VM %s", virDomainGetName(dom));
    char uuid[VIR_UUID_STRING_BUFLEN] = "";
    virDomainGetUUIDString(dom, uuid);
    vr_vm_job_end(uuid);
    if (rc < 0) {
        virDomainFree(dom);
        return -1;
    }
    VR_INFO("VM %s: ACPI shutdown requested (timeout %llds%s)", virDomainGetName(dom), timeout,
            force ? ", then destroy" : "");
    char job[37];
    bool watched = force && watch_shutdown(a, dom, timeout, job);
    *result = json_pack("{s:I, s:b, s:s?}", "timeout_s", (json_int_t)timeout, "force", force,
                        "job", watched ? job : NULL);
    virDomainFree(dom);
    return 0;
}

static int vm_list(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    static const char *const keys[] = {"full", NULL};
    bool full = false;
    if (vr_json_check_keys(params, "params", VR_NAMES(keys), err) < 0 ||
        vr_json_bool(params, "params", "full", false, &full, err) < 0)
        return -1;
    virDomainPtr *doms = NULL;
    int n = virConnectListAllDomains(a->conn, &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
    if (n < 0)
        return vr_libvirt_error(err, "cannot list domains");
    json_t *list = json_array();
    for (int i = 0; i < n; i++) {
        json_array_append_new(list, vm_summary(doms[i], full));
        virDomainFree(doms[i]);
    }
    free(doms);
    *result = json_pack("{s:o}", "vms", list);
    return 0;
}

/* Spec, state and assigned device addresses of one VM. */
static int vm_get(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    static const char *const keys[] = {"uuid", NULL};
    virDomainPtr dom;
    if (vr_json_check_keys(params, "params", VR_NAMES(keys), err) < 0 || vr_dom_lookup(a, params, &dom, err) < 0)
        return -1;
    json_t *o = vm_summary(dom, true);
    json_t *spec = vr_dom_spec(dom);
    json_object_set_new(o, "spec", spec ? spec : json_null());
    /* A libvirt job runs (a save, a migration...), or one of ours runs or
     * waits its turn (a VM.save not yet in libvirt): the VM is changing. */
    virDomainJobInfo ji;
    char uuid[VIR_UUID_STRING_BUFLEN] = "";
    virDomainGetUUIDString(dom, uuid);
    json_object_set_new(o, "job_active", json_boolean((virDomainGetJobInfo(dom, &ji) == 0 &&
                                                       ji.type != VIR_DOMAIN_JOB_NONE) ||
                                                      vr_vm_job_pending(uuid)));
    virResetLastError();
    virDomainFree(dom);
    *result = o;
    return 0;
}

const vr_verb vr_vm_lifecycle_verbs[] = {
    {"VM.create", vm_create},   {"VM.destroy", vm_destroy}, {"VM.shutdown", vm_shutdown},
    {"VM.reboot", vm_reboot},   {"VM.pause", vm_pause},     {"VM.cont", vm_cont},
    {"VM.list", vm_list},       {"VM.get", vm_get},         {"VM.restore", vm_restore},
    {NULL, NULL},
};
