#include "fault.h"

#include "i18n.h"

/* The whole mapping, one table. Agent errors keep their meaning where the
 * agent's code says it (no VM, bad state, limits); transport trouble with
 * an agent is a bad gateway; the database being away is 503, whatever the
 * request was. */
static const struct {
    int code, status;
    const char *reason;
} map[] = {
    {VR_ERR_PARSE, 400, "Bad Request"},
    {VR_ERR_INVALID_REQUEST, 400, "Bad Request"},
    {VR_ERR_INVALID_PARAMS, 400, "Bad Request"},
    {VR_ERR_NOT_FOUND, 404, "Not Found"},
    {VR_ERR_NO_VM, 404, "Not Found"},
    {VR_ERR_METHOD, 405, "Method Not Allowed"},
    {VR_ERR_FORBIDDEN, 403, "Forbidden"},
    {VR_ERR_CONFLICT, 409, "Conflict"},
    {VR_ERR_VM_EXISTS, 409, "Conflict"},
    {VR_ERR_BAD_STATE, 409, "Conflict"},
    {VR_ERR_NOT_OWNED, 409, "Conflict"},
    {VR_ERR_NOT_SPM, 409, "Conflict"},
    {VR_ERR_LEASE_HELD, 409, "Conflict"},
    {VR_ERR_NETWORK, 409, "Conflict"}, /* a configuration the host cannot apply */
    {VR_ERR_LIMIT, 422, "Unprocessable Entity"},
    {VR_ERR_UNSUPPORTED, 422, "Unprocessable Entity"},
    {VR_ERR_UNPROCESSABLE, 422, "Unprocessable Entity"},
    {VR_ERR_LIBVIRT, 502, "Bad Gateway"},
    {VR_ERR_IO, 502, "Bad Gateway"},
    {VR_ERR_STORAGE, 502, "Bad Gateway"},
    {VR_ERR_UNAVAILABLE, 503, "Service Unavailable"},
    {VR_ERR_INTERNAL, 500, "Internal Server Error"},
    {VR_ERR_NO_METHOD, 500, "Internal Server Error"},
};

int vr_fault_status(int code)
{
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (map[i].code == code)
            return map[i].status;
    return 500;
}

int vr_fault(vr_http_resp *resp, const vr_error *err)
{
    /* The detail in the request's language (docs/rest-api.md "Languages"). */
    char text[1024];
    const char *detail = vr_error_text(err, vr_i18n_thread(), text, sizeof(text));
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (map[i].code == err->code)
            return vr_http_fault(resp, map[i].status, map[i].reason, "%s", detail);
    if (!detail[0])
        return vr_http_fault(resp, 500, "Internal Server Error", "internal error");
    return vr_http_fault(resp, 500, "Internal Server Error", "%s", detail);
}
