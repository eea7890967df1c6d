/* VM NIC checks (vmnic.h). */
#include "vmnic.h"

#include <stdio.h>
#include <unistd.h>

#include "netstate.h"

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
