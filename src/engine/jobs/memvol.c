/* Memory volumes seen from the engine (memvol.h). */
#include "memvol.h"

#include "agentcall.h"
#include "log.h"

static const char *str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k)) ?: "";
}

json_t *vr_memvol_ref(json_t *m)
{
    return json_pack("{s:s, s:s, s:s}", "domain", str(m, "domain"), "image", str(m, "image"), "volume",
                     str(m, "volume"));
}

json_t *vr_memvol_plan(const char *sd_id, const char *dc_id)
{
    char image[37], volume[37];
    vr_uuid_new(image);
    vr_uuid_new(volume);
    return json_pack("{s:s, s:s, s:s, s:s}", "domain", sd_id, "image", image, "volume", volume, "datacenter", dc_id);
}

int vr_memvol_create(vr_engine *e, json_t *spm, json_t *m, long long memory_mib, const char *desc, vr_error *err)
{
    /* The saved image: the guest's RAM plus device state; the file is
     * sparse, so a generous figure costs nothing. */
    json_t *p = vr_memvol_ref(m), *res = NULL;
    json_object_set_new(p, "size", json_integer((json_int_t)(memory_mib + 256) << 20));
    json_object_set_new(p, "description", json_string(desc));
    int rc = vr_agent_call_host(e, spm, "Volume.createMemory", p, &res, err);
    json_decref(res);
    return rc;
}

int vr_memvol_seal(vr_engine *e, json_t *spm, json_t *m, vr_error *err)
{
    json_t *res = NULL;
    int rc = vr_agent_call_host(e, spm, "Volume.sealMemory", vr_memvol_ref(m), &res, err);
    json_decref(res);
    return rc;
}

void vr_memvol_drop(vr_engine *e, json_t *spm, json_t *m, const char *job_id)
{
    json_t *res = NULL;
    vr_error err = {0};
    if (!json_is_object(m) || !spm)
        return;
    if (vr_agent_call_host(e, spm, "Volume.delete", vr_memvol_ref(m), &res, &err) < 0 && err.code != VR_ERR_NOT_FOUND)
        VR_WARN("job %s: cannot remove memory volume %s (image %s): %s", job_id, str(m, "volume"), str(m, "image"),
                err.message);
    json_decref(res);
}
