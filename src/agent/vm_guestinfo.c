#include "vm_guestinfo.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "hyp.h"
#include "log.h"
#include "ticker.h"
#include "vm_health.h"

#define PERIOD_MS 3000
/* libvirt's default is to wait for the guest agent forever; a guest whose
 * qemu-ga hangs must cost one round 5 s, not stop every later one. The
 * same timeout bounds a quiesced snapshot's freeze and thaw. */
#define AGENT_TIMEOUT_S 5
/* A report is kept across failed rounds (a snapshot freezing the guest
 * refuses the queries for a moment) for this long, then dropped. */
#define STALE_MS 20000

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static json_t *cache; /* uuid -> {"info": {...}, "at": mono ms, "domid": id} */
static vr_agent *agent;
static vr_ticker *ticker;

static void put_str(json_t *o, const char *key, virTypedParameterPtr p, int n, const char *field)
{
    const char *s = NULL;
    if (virTypedParamsGetString(p, n, field, &s) == 1 && s)
        json_object_set_new(o, key, json_string(s));
}

static bool is_loopback(const char *type, const char *addr)
{
    return !strcmp(type, "ipv4") ? !strncmp(addr, "127.", 4) : !strcmp(addr, "::1");
}

/* libvirt's typed parameters ("if.0.addr.1.addr") as a JSON report. */
static json_t *report(virTypedParameterPtr p, int n)
{
    json_t *os = json_object(), *ifs = json_array(), *ips = json_array();
    static const char *const osf[][2] = {
        {"id", "os.id"}, {"name", "os.name"}, {"pretty_name", "os.pretty-name"},
        {"version", "os.version"}, {"version_id", "os.version-id"},
        {"kernel_release", "os.kernel-release"}, {"kernel_version", "os.kernel-version"},
        {"machine", "os.machine"}};
    for (size_t i = 0; i < sizeof(osf) / sizeof(osf[0]); i++)
        put_str(os, osf[i][0], p, n, osf[i][1]);
    unsigned nif = 0;
    virTypedParamsGetUInt(p, n, "if.count", &nif);
    for (unsigned i = 0; i < nif && i < 64; i++) {
        char f[64];
        const char *name = NULL, *mac = NULL;
        unsigned naddr = 0;
        snprintf(f, sizeof(f), "if.%u.name", i);
        virTypedParamsGetString(p, n, f, &name);
        snprintf(f, sizeof(f), "if.%u.hwaddr", i);
        virTypedParamsGetString(p, n, f, &mac);
        snprintf(f, sizeof(f), "if.%u.addr.count", i);
        virTypedParamsGetUInt(p, n, f, &naddr);
        json_t *addrs = json_array();
        for (unsigned k = 0; k < naddr && k < 256; k++) {
            const char *type = NULL, *addr = NULL;
            unsigned prefix = 0;
            snprintf(f, sizeof(f), "if.%u.addr.%u.type", i, k);
            virTypedParamsGetString(p, n, f, &type);
            snprintf(f, sizeof(f), "if.%u.addr.%u.addr", i, k);
            virTypedParamsGetString(p, n, f, &addr);
            snprintf(f, sizeof(f), "if.%u.addr.%u.prefix", i, k);
            virTypedParamsGetUInt(p, n, f, &prefix);
            if (!type || !addr)
                continue;
            json_array_append_new(addrs, json_pack("{s:s, s:s, s:i}", "type", type, "address", addr,
                                                   "prefix", (int)prefix));
            if (!is_loopback(type, addr))
                json_array_append_new(ips, json_string(addr));
        }
        json_array_append_new(ifs, json_pack("{s:s, s:s?, s:o}", "name", name ?: "", "mac", mac,
                                             "addresses", addrs));
    }
    json_t *o = json_pack("{s:o, s:o, s:o, s:I}", "os", os, "interfaces", ifs, "ips", ips,
                          "updated_at", (json_int_t)time(NULL));
    put_str(o, "hostname", p, n, "hostname");
    return o;
}

/* Ask one VM's guest agent; NULL when it cannot answer now. */
static json_t *ask(virDomainPtr dom)
{
    virTypedParameterPtr p = NULL;
    int n = 0;
    unsigned types = VIR_DOMAIN_GUEST_INFO_HOSTNAME | VIR_DOMAIN_GUEST_INFO_OS |
                     VIR_DOMAIN_GUEST_INFO_INTERFACES;
    if (virDomainGetGuestInfo(dom, types, &p, &n, 0) < 0) {
        virResetLastError(); /* no agent on the channel: the usual case, no news */
        return NULL;
    }
    json_t *o = report(p, n);
    virTypedParamsFree(p, n);
    return o;
}

static void round_fn(void *arg)
{
    (void)arg;
    vr_owned_dom *doms;
    int n = vr_owned_doms_list(agent, &doms);
    if (n < 0)
        return;
    json_t *seen = json_object();
    for (int i = 0; i < n; i++) {
        const char *uuid = doms[i].uuid;
        virDomainPtr dom = doms[i].dom;
        json_object_set_new(seen, uuid, json_true());
        /* a QEMU that does not answer would only make the call wait */
        if (!vr_health_responsive(uuid))
            continue;
        json_int_t domid = (json_int_t)virDomainGetID(dom);
        pthread_mutex_lock(&lock);
        json_t *e = json_object_get(cache, uuid);
        bool timeout_set = e && json_integer_value(json_object_get(e, "domid")) == domid;
        pthread_mutex_unlock(&lock);
        /* Once per run of the VM: libvirt keeps it in the domain's status. */
        if (!timeout_set && virDomainAgentSetResponseTimeout(dom, AGENT_TIMEOUT_S, 0) < 0) {
            char why[256]; /* copied first: the next libvirt call resets the error */
            snprintf(why, sizeof(why), "%s", virGetLastErrorMessage());
            VR_DEBUG("VM %s: cannot set the guest agent timeout: %s", virDomainGetName(dom), why);
            virResetLastError();
        }
        json_t *info = ask(dom);
        long long now = vr_mono_ms();
        pthread_mutex_lock(&lock);
        e = json_object_get(cache, uuid);
        if (!e || json_integer_value(json_object_get(e, "domid")) != domid) {
            e = json_pack("{s:I, s:I, s:n}", "domid", domid, "at", (json_int_t)0, "info");
            json_object_set_new(cache, uuid, e);
        }
        if (info) {
            json_object_set_new(e, "info", info);
            json_object_set_new(e, "at", json_integer(now));
        }
        pthread_mutex_unlock(&lock);
    }
    vr_owned_doms_free(doms, n);
    const char *id;
    json_t *e, *tmp;
    pthread_mutex_lock(&lock);
    json_object_foreach_safe(cache, tmp, id, e) {
        if (!json_object_get(seen, id))
            json_object_del(cache, id);
    }
    pthread_mutex_unlock(&lock);
    json_decref(seen);
}

int vr_guestinfo_start(vr_agent *a, vr_error *err)
{
    agent = a;
    pthread_mutex_lock(&lock);
    if (!cache)
        cache = json_object();
    pthread_mutex_unlock(&lock);
    ticker = vr_ticker_start("guest agent reports", PERIOD_MS, round_fn, NULL, err);
    return ticker ? 0 : -1;
}

void vr_guestinfo_stop(void)
{
    /* A round waits at most AGENT_TIMEOUT_S per VM; it is left behind, with
     * the cache it uses, rather than holding up the agent's stop. */
    vr_ticker_stop(ticker, 2000);
    ticker = NULL;
}

json_t *vr_guestinfo_get(const char *uuid)
{
    json_t *out = NULL;
    pthread_mutex_lock(&lock);
    json_t *e = cache ? json_object_get(cache, uuid) : NULL;
    json_t *info = json_object_get(e, "info");
    if (json_is_object(info) && vr_mono_ms() - json_integer_value(json_object_get(e, "at")) < STALE_MS)
        out = json_deep_copy(info);
    pthread_mutex_unlock(&lock);
    return out;
}
