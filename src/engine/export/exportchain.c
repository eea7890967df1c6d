/* Exports that keep snapshots (collapse_snapshots: false; docs/storage.md
 * "Export domains"): each disk's chain copied volume by volume (the same
 * volume ids and parents), the OVF listing the snapshots; an import copies
 * the chains back and records the snapshot rows (exportjob.h). */
#include "exportjob.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devspec.h"
#include "i18n.h"
#include "snapjob_util.h"
#include "store_snapshots.h"
#include "vm_spec.h"

#define str vr_sj_str

json_t *vr_export_chain_plan(vr_engine *e, json_t *vm, json_t *plan, vr_error *err)
{
    json_t *snaps = vr_snapshots_of_vm(e, str(vm, "id"), err), *s, *d, *out = json_array();
    size_t i, k;
    json_array_foreach(snaps, i, s) {
        if (!err->code && (strcmp(str(s, "type"), "regular") || strcmp(str(s, "status"), "ok")))
            vr_error_set(err, VR_ERR_CONFLICT, "snapshot '%s' of VM '%s' is a %s snapshot, %s: a VM is exported"
                         " with its snapshots when none is previewed or changing", str(s, "description"),
                         str(vm, "name"), str(s, "type"), str(s, "status"));
        /* the memory of a snapshot with memory stays behind: the disks and definition go */
        json_array_append_new(out, json_pack("{s:s, s:s, s:O, s:O, s:O}", "id", str(s, "id"), "description",
                                             str(s, "description"), "created_at", json_object_get(s, "created_at"),
                                             "config", json_object_get(s, "config"), "volumes",
                                             json_object_get(s, "volumes")));
    }
    /* Each disk's chain, base first: the volumes its snapshots kept, oldest
     * first, then the leaf (a snapshot's volume is the one the next
     * snapshot's layer, or the leaf, was made over). */
    json_array_foreach(err->code ? NULL : plan, k, d) {
        json_t *chain = json_array();
        json_array_foreach(snaps, i, s) {
            const char *v = json_string_value(json_object_get(json_object_get(s, "volumes"), str(d, "disk")));
            const char *last = str(json_array_get(chain, json_array_size(chain) - 1), "volume");
            if (v && strcmp(v, last))
                json_array_append_new(chain, json_pack("{s:s, s:s}", "volume", v, "parent", last));
        }
        if (json_array_size(chain) &&
            strcmp(str(json_array_get(chain, json_array_size(chain) - 1), "volume"), str(d, "src_volume")))
            json_array_append_new(chain, json_pack("{s:s, s:s}", "volume", str(d, "src_volume"), "parent",
                                                   str(json_array_get(chain, json_array_size(chain) - 1),
                                                       "volume")));
        if (json_array_size(chain) > 1) {
            json_object_set_new(d, "format", json_string("cow"));
            json_object_set_new(d, "chain", chain);
        } else {
            json_decref(chain);
        }
    }
    json_decref(snaps);
    if (err->code) {
        json_decref(out);
        return NULL;
    }
    return out;
}

json_t *vr_export_ovf_snapshots(vr_engine *e, json_t *p)
{
    json_t *out = json_array(), *s, *d;
    size_t i, k;
    json_t *vm = json_object_get(p, "vm_row");
    json_array_foreach(json_object_get(p, "snapshots"), i, s) {
        json_t *cfg = json_object_get(s, "config"), *vols = json_object_get(s, "volumes"), *disks = json_array();
        json_array_foreach(json_object_get(p, "disks"), k, d) {
            const char *v = json_string_value(json_object_get(vols, str(d, "disk")));
            if (!v)
                continue; /* a disk added after the snapshot */
            json_t *sd = json_deep_copy(d);
            json_object_del(sd, "chain");
            json_object_set_new(sd, "volume", json_string(v));
            json_array_append_new(disks, sd);
        }
        json_t *sp = json_pack("{s:{s:s, s:s, s:s, s:O, s:O, s:O, s:O}, s:o, s:s}", "vm_row", "id", str(vm, "id"),
                               "name", str(vm, "name"), "description", "", "memory_mib",
                               json_object_get(cfg, "memory_mib"), "vcpus", json_object_get(cfg, "vcpus"),
                               "created_at", json_object_get(s, "created_at"), "spec", json_object_get(cfg, "spec"),
                               "disks", disks, "domain", str(p, "domain"));
        json_t *m = vr_export_ovf_model(e, sp);
        json_object_set(m, "id", json_object_get(s, "id"));
        json_object_set(m, "description", json_object_get(s, "description"));
        json_object_del(m, "name");
        json_object_del(m, "template");
        json_array_append_new(out, m);
        json_decref(sp);
    }
    return out;
}

/* The new disk (plan entry's disk) and volume of exported volume vol of
 * exported disk disk, or NULL. */
static json_t *planned(json_t *plan, const char *disk, const char *vol)
{
    json_t *v;
    size_t i;
    json_array_foreach(plan, i, v) if (!strcmp(str(v, "src_disk"), disk) && !strcmp(str(v, "src_volume"), vol))
        return v;
    return NULL;
}

int vr_import_snapshots(vr_engine *e, json_t *m, json_t *plan, const char *new_id, const char *dc, bool clone,
                        vr_error *err)
{
    json_t *vm = vr_sj_vm_row(e, new_id, err), *s, *d;
    size_t i, k;
    int rc = vm ? 0 : -1;
    json_array_foreach(rc == 0 ? json_object_get(m, "snapshots") : NULL, i, s) {
        json_t *vols = json_object(), *splan = json_array(), *mem = NULL, *spec = NULL;
        json_array_foreach(json_object_get(s, "disks"), k, d) if (*str(d, "disk")) {
            json_t *v = planned(plan, str(d, "disk"), str(d, "volume"));
            if (!v) { /* the reader checked this; a plan without that volume is no import */
                rc = vr_error_set(err, VR_ERR_CONFLICT, "snapshot %s names volume %s, which the export's chain of"
                                  " disk %s lacks", str(s, "id"), str(d, "volume"), str(d, "disk"));
                break;
            }
            json_object_set(vols, str(v, "disk"), json_object_get(v, "volume"));
            json_array_append_new(splan, json_pack("{s:s}", "disk", str(v, "disk")));
        }
        if (rc == 0) {
            mem = vr_import_members(e, s, splan, dc);
            spec = vr_vm_spec_build(mem, json_integer_value(json_object_get(s, "vcpus")),
                                    json_integer_value(json_object_get(s, "memory_mib")), err);
            rc = spec ? 0 : -1;
            if (!spec && err->code == VR_ERR_INVALID_PARAMS) /* the OVF's fault, not the request's */
                err->code = VR_ERR_CONFLICT;
        }
        /* the snapshot's NICs take the VM's MACs, NIC by NIC (a NIC the VM
         * no longer has goes: its MAC is not the VM's to give) */
        json_t *nics = json_object_get(spec, "nics"), *now = json_object_get(json_object_get(vm, "spec"), "nics");
        while (json_array_size(nics) > json_array_size(now))
            json_array_remove(nics, json_array_size(nics) - 1);
        json_array_foreach(nics, k, d) json_object_set(d, "mac", json_object_get(json_array_get(now, k), "mac"));
        json_t *cfg = rc == 0 ? json_pack("{s:O, s:O, s:O}", "memory_mib", json_object_get(s, "memory_mib"), "vcpus",
                                          json_object_get(s, "vcpus"), "spec", spec) : NULL;
        char *cfgt = cfg ? json_dumps(cfg, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        char *volt = json_dumps(vols, JSON_COMPACT | JSON_SORT_KEYS), id[37];
        snprintf(id, sizeof(id), "%s", str(s, "id"));
        if (clone)
            vr_uuid_new(id);
        if (rc == 0 && vr_db_exec(e->db, "INSERT INTO snapshots (id, vm_id, description, type, status, quiesced,"
                                  " created_at, config_json, volumes_json, seq) VALUES (?,?,?, 'regular', 'ok', 0,"
                                  " ?,?,?,?)", DB_ARGS(DB_TEXT(id), DB_TEXT(new_id), DB_TEXT(str(s, "description")),
                                                       DB_INT(json_integer_value(json_object_get(s, "created_at"))),
                                                       DB_TEXT(cfgt ?: "{}"), DB_TEXT(volt ?: "{}"),
                                                       DB_INT((long long)i + 1)), err) < 0)
            rc = err->code == VR_ERR_CONFLICT || err->code == 0 ? vr_error_set(err, VR_ERR_CONFLICT,
                 "snapshot %s of the export exists already; import it with clone: true", id) : -1;
        free(cfgt);
        free(volt);
        json_decref(cfg);
        json_decref(spec);
        json_decref(mem);
        json_decref(splan);
        json_decref(vols);
        if (rc < 0)
            break;
    }
    json_decref(vm);
    return rc;
}
