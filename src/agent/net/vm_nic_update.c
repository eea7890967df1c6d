/* VM.updateNic (docs/networks.md): hot change of a running VM's NIC -
 * network, bandwidth, filter, link state - with libvirt's update-device.
 * The NIC is rebuilt from what the live XML says it is now plus the fields
 * given, so fields not given stay, and goes through the same checks and
 * XML writer as a hot plugged one. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dominfo.h"
#include "domxml.h"
#include "jsonx.h"
#include "log.h"
#include "net_verbs.h"
#include "netstate.h"
#include "nicqos.h"
#include "vm_jobs.h"
#include "vmnic.h"

static json_t *first(xmlDocPtr doc, const char *base, const char *rel)
{
    char xp[256];
    snprintf(xp, sizeof(xp), "%s/%s", base, rel);
    json_t *all = vr_dom_xpath_strings(doc, xp);
    json_t *v = json_incref(json_array_get(all, 0));
    json_decref(all);
    return v;
}

/* The NIC of that MAC in a VM spec (borrowed), or NULL. */
static json_t *spec_nic(json_t *spec, const char *mac)
{
    size_t i;
    json_t *n;
    json_array_foreach(json_object_get(spec, "nics"), i, n) {
        const char *m = json_string_value(json_object_get(n, "mac"));
        if (m && !strcasecmp(m, mac))
            return n;
    }
    return NULL;
}

/* The NIC as the live XML and the stored spec describe it, in the NIC
 * spec's words. */
static json_t *current_nic(xmlDocPtr doc, json_t *spec, const char *mac)
{
    char base[128];
    snprintf(base, sizeof(base), "/domain/devices/interface[mac/@address='%s']", mac);
    json_t *nic = json_pack("{s:s}", "mac", mac), *v;
    if ((v = first(doc, base, "model/@type")))
        json_object_set_new(nic, "model", v);
    if ((v = first(doc, base, "source/@bridge"))) {
        int mtu;
        vr_error e;
        json_object_set_new(nic, vr_net_vm_network(json_string_value(v), &mtu, &e) == 0 ? "network"
                                                                                         : "bridge", v);
    }
    char xp[200];
    snprintf(xp, sizeof(xp), "%s/filterref[@filter='clean-traffic']", base);
    json_object_set_new(nic, "filter", json_boolean(vr_dom_xpath_count(doc, xp) > 0));
    if ((v = first(doc, base, "link/@state"))) {
        json_object_set_new(nic, "link", json_string(strcmp(json_string_value(v), "down") ? "up" : "down"));
        json_decref(v);
    }
    /* Shaping and mirroring are not in the XML (the agent applies them,
     * net/nicqos.h): the stored spec says what the NIC has. */
    json_t *was = spec_nic(spec, mac);
    if ((v = json_object_get(was, "bandwidth")))
        json_object_set(nic, "bandwidth", v);
    if ((v = json_object_get(was, "mirror")))
        json_object_set(nic, "mirror", v);
    /* The same address, or libvirt takes it for another device. */
    json_t *devs = vr_dom_devices(doc), *d;
    size_t i;
    json_array_foreach(devs, i, d) {
        if (json_equal(json_object_get(d, "mac"), json_object_get(nic, "mac")) &&
            json_object_get(d, "address"))
            json_object_set(nic, "address", json_object_get(d, "address"));
    }
    json_decref(devs);
    return nic;
}

int vr_vm_update_nic(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    static const char *const keys[] = {"uuid", "mac", "network", "bandwidth", "filter", "mirror",
                                       "link"};
    static const char *const changes[] = {"network", "bandwidth", "filter", "mirror", "link"};
    const char *given;
    char mac[18];
    virDomainPtr dom;
    if (vr_json_check_keys(params, "params", VR_NAMES(keys), err) < 0 ||
        vr_json_str(params, "params", "mac", true, &given, err) < 0)
        return -1;
    if (!vr_valid_mac(given))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "params.mac is not a MAC like 52:54:00:12:34:56");
    for (int i = 0; i < 18; i++)
        mac[i] = (char)tolower((unsigned char)given[i]);
    if (vr_vm_job_begin_lookup(a, params, "VM.updateNic", &dom, err) < 0)
        return -1;
    xmlDocPtr doc = NULL;
    json_t *nic = NULL, *spec = NULL;
    char *xml = NULL, xp[128];
    vr_nic n;
    int rc = -1;
    snprintf(xp, sizeof(xp), "/domain/devices/interface[mac/@address='%s']", mac);
    if (vr_dom_doc(dom, &doc, err) < 0)
        goto out;
    if (vr_dom_xpath_count(doc, xp) == 0) {
        vr_error_set(err, VR_ERR_INVALID_PARAMS, "VM %s has no NIC %s", virDomainGetName(dom), mac);
        goto out;
    }
    spec = vr_dom_spec(dom);
    nic = current_nic(doc, spec, mac);
    /* A field given replaces the NIC's; null takes it off (no bandwidth). */
    for (size_t k = 0; k < sizeof(changes) / sizeof(changes[0]); k++) {
        json_t *v = json_object_get(params, changes[k]);
        if (v && json_is_null(v))
            json_object_del(nic, changes[k]);
        else if (v)
            json_object_set(nic, changes[k], v);
    }
    if (json_object_get(params, "network"))
        json_object_del(nic, "bridge");
    if (vr_nic_parse(nic, "params", &n, err) < 0 || vr_domxml_nic(&n, &xml, err) < 0)
        goto out;
    /* libvirt cannot change a running NIC's MTU: a network move keeps it. */
    int mtu_new = 0;
    vr_net_nic_check(&n, &mtu_new, err);
    char rel[160];
    snprintf(rel, sizeof(rel), "%s/mtu/@size", xp);
    json_t *cur = vr_dom_xpath_strings(doc, rel);
    int mtu_now = json_array_size(cur) ? atoi(json_string_value(json_array_get(cur, 0))) : 0;
    json_decref(cur);
    if (mtu_new != mtu_now) {
        vr_error_set(err, VR_ERR_NETWORK,
                     "cannot move NIC %s of running VM %s onto network %s: its MTU %d differs from "
                     "the NIC's %d (libvirt cannot change it live)", mac, virDomainGetName(dom),
                     n.network ? n.network : "(none)", mtu_new, mtu_now);
        goto out;
    }
    if (virDomainUpdateDeviceFlags(dom, xml, VIR_DOMAIN_AFFECT_LIVE) < 0) {
        vr_libvirt_error(err, "cannot update NIC %s of VM %s", mac, virDomainGetName(dom));
        goto out;
    }
    vr_nicqos_want(&n); /* shaping and mirroring on or off the tap */
    /* The stored spec follows: VM.get, a migration's destination and the
     * next agent see the NIC as it now is. */
    vr_net_spec_nic(dom, mac, nic);
    VR_INFO("VM %s: NIC %s updated", virDomainGetName(dom), mac);
    *result = json_incref(nic);
    json_object_del(*result, "address");
    rc = 0;
out:
    free(xml);
    json_decref(nic);
    json_decref(spec);
    if (doc)
        xmlFreeDoc(doc);
    vr_vm_job_end_free(dom);
    return rc;
}
