#include "agentcall.h"

#include <string.h>

#include "rpcclient.h"
#include "timeouts.h"

int vr_agent_call(vr_engine *e, const char *address, int port, const char *verb, json_t *params,
                  json_t **result, vr_error *err)
{
    vr_rpc_client *c;
    if (vr_rpc_client_new(e->agent_creds, address, port, &c, err) < 0) {
        json_decref(params);
        return -1;
    }
    vr_rpc_client_set_timeout(c, vr_timeout_agent_call_s(e, verb));
    int rc = vr_rpc_call(c, verb, params, result, err);
    vr_rpc_client_free(c);
    return rc;
}

int vr_agent_call_host(vr_engine *e, json_t *host, const char *verb, json_t *params,
                       json_t **result, vr_error *err)
{
    return vr_agent_call(e, json_string_value(json_object_get(host, "address")),
                         (int)json_integer_value(json_object_get(host, "port")), verb, params,
                         result, err);
}
