/* Host.getNetworks, Host.setupNetworks, Host.confirmNetworks and
 * VM.updateNic (docs/networks.md, "Agent verbs"). */
#include <unistd.h>

#include "jsonx.h"
#include "net_verbs.h"
#include "netstate.h"
#include "netview.h"
#include "verbs.h"

static const char *const no_keys[] = {NULL};

static int host_get_networks(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    json_t *nics;
    long long deadline;
    if (vr_json_check_keys(params, "params", VR_NAMES(no_keys), err) < 0 || vr_net_nics(&nics, err) < 0)
        return -1;
    json_t *running = vr_net_running(&deadline);
    *result = json_pack("{s:o, s:o, s:b, s:o}", "nics", nics, "networks", vr_net_view(running),
                        "bonding", access("/sys/class/net/bonding_masters", F_OK) == 0, "pending",
                        deadline ? json_pack("{s:I}", "deadline", (json_int_t)deadline) : json_null());
    json_decref(running);
    return 0;
}

static int host_setup_networks(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    return vr_net_setup(a, params, result, err);
}

static int host_confirm_networks(vr_agent *a, json_t *params, json_t **result, vr_error *err)
{
    if (vr_json_check_keys(params, "params", VR_NAMES(no_keys), err) < 0)
        return -1;
    return vr_net_confirm(a, result, err);
}

const vr_verb vr_net_verbs[] = {
    {"Host.getNetworks", host_get_networks},
    {"Host.setupNetworks", host_setup_networks},
    {"Host.confirmNetworks", host_confirm_networks},
    {"VM.updateNic", vr_vm_update_nic},
    {NULL, NULL},
};
