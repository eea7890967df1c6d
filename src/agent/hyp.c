#include "hyp.h"
#include "i18n.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>

#include "events.h"
#include "jsonx.h"
#include "log.h"
#include "vm_leaseloss.h"

/* The RHEL 7 limit; libvirt may allow more for some machine types. */
#define VR_VCPU_LIMIT 240

/* The calling thread's libvirt error, copied aside by
 * vr_libvirt_error_save() before anything can reset it. */
static __thread virError saved_error;

void vr_libvirt_error_save(void)
{
    virResetError(&saved_error); /* frees a copy left by an unused save */
    if (virCopyLastError(&saved_error) < 0)
        virResetError(&saved_error);
}

int vr_libvirt_error_report(vr_error *err, const char *fmt, ...)
{
    char what[sizeof(err->message)];
    va_list ap;
    va_start(ap, fmt);
    vr_i18n_vformat(what, sizeof(what), fmt, ap); /* remembered: the message below quotes it in any language */
    va_end(ap);
    int code = VR_ERR_LIBVIRT;
    if (saved_error.code == VIR_ERR_NO_DOMAIN)
        code = VR_ERR_NO_VM;
    else if (saved_error.code == VIR_ERR_OPERATION_INVALID)
        code = VR_ERR_BAD_STATE;
    const char *reason = saved_error.code != VIR_ERR_OK && saved_error.message
                             ? saved_error.message : "unknown libvirt error";
    /* vr_error_set keeps the message valid UTF-8 and, if too long, drops
     * its middle: libvirt's reason at the end survives a long path. */
    vr_error_set(err, code, "%s: %s", what, reason);
    virResetError(&saved_error);
    return -1;
}

const char *vr_virt_mode_name(enum vr_virt_mode mode)
{
    switch (mode) {
    case VR_VIRT_KVM: return "kvm";
    case VR_VIRT_KVM_EMULATED: return "kvm-emulated";
    case VR_VIRT_TCG: return "tcg";
    }
    return "unknown";
}

enum vr_virt_mode vr_detect_virt_mode(const char *cpuinfo_path, const char *kvm_dev)
{
    if (access(kvm_dev, R_OK | W_OK) != 0)
        return VR_VIRT_TCG;
    /* /dev/kvm alone proves nothing: nested setups expose it without VMX/SVM
     * and then emulate every guest instruction, slower than TCG. */
    FILE *f = fopen(cpuinfo_path, "r");
    if (!f)
        return VR_VIRT_KVM_EMULATED;
    char line[8192];
    bool hw = false;
    while (!hw && fgets(line, sizeof(line), f)) {
        if (strncmp(line, "flags", 5) != 0)
            continue;
        for (char *tok = strtok(strchr(line, ':') ?: line, " :\t\n"); tok;
             tok = strtok(NULL, " \t\n"))
            if (!strcmp(tok, "vmx") || !strcmp(tok, "svm"))
                hw = true;
        break;
    }
    fclose(f);
    return hw ? VR_VIRT_KVM : VR_VIRT_KVM_EMULATED;
}

/* Ask libvirt's domain capabilities for the vCPU ceiling of a domain type. */
static int libvirt_max_vcpus(virConnectPtr conn, const char *type)
{
    char *xml = virConnectGetDomainCapabilities(conn, NULL, "x86_64", NULL, type, 0);
    if (!xml)
        return -1;
    int max = -1;
    xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "domcaps.xml", NULL, XML_PARSE_NONET);
    if (doc) {
        xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
        xmlXPathObjectPtr o = xmlXPathEvalExpression(BAD_CAST "string(/domainCapabilities/vcpu/@max)", ctx);
        if (o && o->stringval && *o->stringval)
            max = atoi((const char *)o->stringval);
        xmlXPathFreeObject(o);
        xmlXPathFreeContext(ctx);
        xmlFreeDoc(doc);
    }
    free(xml);
    return max;
}

static void on_conn_closed(virConnectPtr conn, int reason, void *opaque);

/* Open a connection with keepalive and a close callback. */
static virConnectPtr open_conn(vr_agent *a)
{
    virConnectPtr c = virConnectOpen(a->uri);
    if (!c)
        return NULL;
    /* Notice a dead libvirtd instead of blocking forever on it. */
    virConnectSetKeepAlive(c, 5, 3);
    virConnectRegisterCloseCallback(c, on_conn_closed, a, NULL);
    return c;
}

/* libvirtd went away (restart, crash): VMs keep running under QEMU; keep
 * trying to reconnect, then re-subscribe to events. The dead connection
 * object is deliberately not freed: verbs running on other threads may
 * still hold the pointer, and calls on it just fail. */
static bool reconnecting; /* a reconnect_thread runs: one at a time */

static void *reconnect_thread(void *arg)
{
    vr_agent *a = arg;
    for (int attempt = 1;; attempt++) {
        sleep(1);
        virConnectPtr c = open_conn(a);
        if (!c) {
            if (attempt % 10 == 1)
                VR_WARN("libvirt at %s still unreachable (attempt %d)", a->uri, attempt);
            virResetLastError();
            continue;
        }
        vr_error err = {0};
        if (vr_events_register(a, c, &err) < 0)
            VR_WARN("after reconnecting: %s", err.message);
        __atomic_store_n(&a->conn, c, __ATOMIC_SEQ_CST);
        __atomic_store_n(&reconnecting, false, __ATOMIC_SEQ_CST);
        VR_INFO("reconnected to libvirt at %s", a->uri);
        return NULL;
    }
}

static void start_reconnect(vr_agent *a)
{
    if (__atomic_exchange_n(&reconnecting, true, __ATOMIC_SEQ_CST))
        return;
    pthread_t t;
    if (pthread_create(&t, NULL, reconnect_thread, a) == 0)
        pthread_detach(t);
    else
        __atomic_store_n(&reconnecting, false, __ATOMIC_SEQ_CST); /* the next check tries again */
}

static void on_conn_closed(virConnectPtr conn, int reason, void *opaque)
{
    vr_agent *a = opaque;
    if (conn != a->conn)
        return;
    VR_WARN("lost the libvirt connection (reason %d); reconnecting", reason);
    start_reconnect(a);
}

void vr_hyp_check_alive(vr_agent *a)
{
    virConnectPtr c = __atomic_load_n(&a->conn, __ATOMIC_SEQ_CST);
    if (!c || __atomic_load_n(&reconnecting, __ATOMIC_SEQ_CST) || virConnectIsAlive(c) != 0)
        return;
    VR_WARN("the libvirt connection is closed and no close notice came; reconnecting");
    start_reconnect(a);
}

int vr_hyp_open(vr_agent *a, vr_error *err)
{
    a->conn = open_conn(a);
    if (!a->conn)
        return vr_libvirt_error(err, "cannot connect to libvirt at '%s'", a->uri);
    a->mode = vr_detect_virt_mode("/proc/cpuinfo", "/dev/kvm");
    snprintf(a->default_domain_type, sizeof(a->default_domain_type), "%s",
             a->mode == VR_VIRT_KVM ? "kvm" : "qemu");
    int max = libvirt_max_vcpus(a->conn, a->default_domain_type);
    a->max_vcpus = max > 0 && max < VR_VCPU_LIMIT ? max : VR_VCPU_LIMIT;
    /* Learn which running domains are ours (after an agent restart). */
    virDomainPtr *doms = NULL;
    int n = virConnectListAllDomains(a->conn, &doms, 0);
    int owned = 0;
    for (int i = 0; i < n; i++) {
        owned += vr_dom_is_owned(doms[i]);
        virDomainFree(doms[i]);
    }
    free(doms);
    VR_INFO("found %d domains, %d managed by Vireo", n < 0 ? 0 : n, owned);
    VR_INFO("libvirt %s: virtualization mode %s, domain type %s, max vCPUs %d", a->uri,
            vr_virt_mode_name(a->mode), a->default_domain_type, a->max_vcpus);
    return 0;
}

void vr_hyp_close(vr_agent *a)
{
    virConnectPtr c = __atomic_exchange_n(&a->conn, NULL, __ATOMIC_SEQ_CST);
    if (!c)
        return;
    /* Our own close is not a lost libvirtd: no reconnect. */
    virConnectUnregisterCloseCallback(c, on_conn_closed);
    virConnectClose(c);
}

/* UUIDs of domains seen carrying Vireo's metadata. A transient domain that
 * just stopped has no metadata left to read, yet its Stopped event must
 * still say it was ours: this set remembers. */
static pthread_mutex_t owned_lock = PTHREAD_MUTEX_INITIALIZER;
static json_t *owned_set;

static bool owned_remembered(const char *uuid, int op /* 1 add, -1 remove, 0 query */)
{
    pthread_mutex_lock(&owned_lock);
    if (!owned_set)
        owned_set = json_object();
    bool known = json_object_get(owned_set, uuid) != NULL;
    if (op > 0)
        json_object_set_new(owned_set, uuid, json_true());
    else if (op < 0)
        json_object_del(owned_set, uuid);
    pthread_mutex_unlock(&owned_lock);
    return known;
}

bool vr_dom_is_owned(virDomainPtr dom)
{
    char uuid[VIR_UUID_STRING_BUFLEN] = "";
    virDomainGetUUIDString(dom, uuid);
    char *meta = virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, VR_META_NS,
                                      VIR_DOMAIN_AFFECT_LIVE);
    if (meta) {
        free(meta);
        if (!owned_remembered(uuid, 1)) /* first seen: what its lease's loss would look like */
            vr_leaseloss_track(dom, uuid);
        return true;
    }
    virErrorPtr e = virGetLastError();
    bool gone = e && e->code == VIR_ERR_NO_DOMAIN;
    virResetLastError();
    return gone && owned_remembered(uuid, 0);
}

void vr_dom_forget(virDomainPtr dom)
{
    char uuid[VIR_UUID_STRING_BUFLEN] = "";
    virDomainGetUUIDString(dom, uuid);
    owned_remembered(uuid, -1);
}

int vr_dom_lookup(vr_agent *a, json_t *params, virDomainPtr *out, vr_error *err)
{
    const char *uuid = NULL;
    if (vr_json_str(params, "params", "uuid", true, &uuid, err) < 0)
        return -1;
    virDomainPtr dom = virDomainLookupByUUIDString(a->conn, uuid);
    if (!dom) {
        virResetLastError();
        return vr_error_set(err, VR_ERR_NO_VM, "no VM with UUID '%s' on this host", uuid);
    }
    if (!vr_dom_is_owned(dom)) {
        virDomainFree(dom);
        return vr_error_set(err, VR_ERR_NOT_OWNED,
                            "domain %s is not managed by Vireo; left alone", uuid);
    }
    *out = dom;
    return 0;
}

const char *vr_dom_state_name(int state)
{
    switch (state) {
    case VIR_DOMAIN_RUNNING: return "running";
    case VIR_DOMAIN_BLOCKED: return "blocked";
    case VIR_DOMAIN_PAUSED: return "paused";
    case VIR_DOMAIN_SHUTDOWN: return "shutting-down";
    case VIR_DOMAIN_SHUTOFF: return "shutoff";
    case VIR_DOMAIN_CRASHED: return "crashed";
    case VIR_DOMAIN_PMSUSPENDED: return "pmsuspended";
    default: return "unknown";
    }
}

int vr_owned_doms_list(vr_agent *a, vr_owned_dom **out)
{
    *out = NULL;
    virConnectPtr conn = __atomic_load_n(&a->conn, __ATOMIC_SEQ_CST);
    virDomainPtr *doms = NULL;
    int n = conn ? virConnectListAllDomains(conn, &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE) : -1;
    if (n < 0) {
        virResetLastError();
        return -1;
    }
    vr_owned_dom *owned = calloc((size_t)n + 1, sizeof(*owned));
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (owned && vr_dom_is_owned(doms[i]) && virDomainGetUUIDString(doms[i], owned[k].uuid) == 0) {
            owned[k++].dom = doms[i];
        } else {
            virResetLastError();
            virDomainFree(doms[i]);
        }
    }
    free(doms);
    *out = owned;
    return owned ? k : -1;
}

void vr_owned_doms_free(vr_owned_dom *doms, int n)
{
    for (int i = 0; i < n; i++)
        virDomainFree(doms[i].dom);
    free(doms);
}
