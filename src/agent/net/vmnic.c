/* VM NIC checks (vmnic.h). */
#include "vmnic.h"

#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <unistd.h>

#include "dominfo.h"
#include "log.h"
#include "netstate.h"
#include "nicqos.h"

int vr_net_nic_check(const vr_nic *n, int *mtu, vr_error *err)
{
    *mtu = 0;
    if (n->passthrough) {
        char host[64] = "?";
        gethostname(host, sizeof(host) - 1);
        host[sizeof(host) - 1] = '\0';
        /* No SR-IOV virtual functions here: no PCI network device at all. */
        return vr_error_set(err, VR_ERR_NETWORK, "host %s has no SR-IOV device for NIC %s", host,
                            n->mac);
    }
    if (!n->network)
        return 0;
    return vr_net_vm_network(n->network, mtu, err);
}

void vr_net_nics_recover(vr_agent *a)
{
    virDomainPtr *doms = NULL;
    int n = a->conn ? virConnectListAllDomains(a->conn, &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE) : -1;
    for (int i = 0; i < n; i++) {
        json_t *spec = vr_dom_spec(doms[i]), *jn;
        size_t k;
        json_array_foreach(json_object_get(spec, "nics"), k, jn) {
            vr_nic nic;
            vr_error e = {0};
            if (vr_nic_parse(jn, "nic", &nic, &e) == 0)
                vr_nicqos_want(&nic);
            else
                VR_WARN("VM %s: a NIC of its stored spec: %s", virDomainGetName(doms[i]), e.message);
        }
        json_decref(spec);
        virDomainFree(doms[i]);
    }
    free(doms);
}

void vr_net_spec_nic(virDomainPtr dom, const char *mac, json_t *nic)
{
    static const char *const live[] = {"network", "bridge", "bandwidth", "filter", "mirror", "link"};
    json_t *spec = vr_dom_spec(dom), *nics = json_object_get(spec, "nics"), *n, *stored = NULL;
    size_t i, at = 0;
    if (!spec)
        return; /* not a domain of ours */
    if (!json_is_array(nics))
        json_object_set_new(spec, "nics", nics = json_array());
    json_array_foreach(nics, i, n) {
        const char *m = json_string_value(json_object_get(n, "mac"));
        if (m && !strcasecmp(m, mac)) {
            stored = n;
            at = i;
        }
    }
    bool changed = nic || stored;
    if (!nic && stored) {
        json_array_remove(nics, at);
    } else if (nic) {
        if (!stored) {
            stored = json_pack("{s:s}", "mac", mac);
            json_array_append_new(nics, stored);
        }
        for (size_t k = 0; k < sizeof(live) / sizeof(live[0]); k++)
            json_object_del(stored, live[k]);
        json_t *copy = json_deep_copy(nic);
        json_object_del(copy, "address"); /* the stored one (or none) stays */
        json_object_update(stored, copy);
        json_decref(copy);
    }
    vr_error e = {0};
    if (changed && vr_dom_set_spec(dom, spec, &e) < 0)
        VR_WARN("VM %s: NIC %s changed, its stored spec not: %s", virDomainGetName(dom), mac, e.message);
    json_decref(spec);
}
