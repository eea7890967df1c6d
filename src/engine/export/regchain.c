/* The disk chains a registration finds on the domain (register.h,
 * docs/storage.md "The OVF store of data domains"). The OVF store lags the
 * VM by up to a round: a snapshot taken after its last write left layers
 * on storage that the OVF does not name. The volumes are the truth about
 * the data (each .meta names its parent), so the VM is registered with
 * the chain they form, down from the disk's leaf; the OVF's chain must be
 * the start of it (its snapshots are kept), and each layer it does not
 * know becomes a recovered snapshot row, so no write is lost and every
 * volume under the leaf belongs to a snapshot (merge, restore and removal
 * work on it as on any). A chain that does not hold together - a volume
 * missing, ILLEGAL, or a loop - is refused: registering it would run the
 * guest on a broken disk. */
#include "register.h"

#include <stdio.h>
#include <string.h>

#include "agentcall.h"
#include "exportjob.h"
#include "i18n.h"
#include "snapjob_util.h"
#include "store.h"

#define str vr_sj_str

/* Volume vol of image in the domain's Volume.list answer res, or NULL. */
static json_t *stored(json_t *res, const char *image, const char *vol)
{
    json_t *v;
    size_t i;
    json_array_foreach(json_object_get(res, "volumes"), i, v)
        if (!strcmp(str(v, "image"), image) && !strcmp(str(v, "volume"), vol))
            return v;
    return NULL;
}

/* Whether vol is a volume anywhere on the domain (another image's). */
static bool anywhere(json_t *res, const char *vol)
{
    json_t *v;
    size_t i;
    json_array_foreach(json_object_get(res, "volumes"), i, v) if (!strcmp(str(v, "volume"), vol))
        return true;
    return false;
}

/* Disk d's chain on storage, base first, walked down from leaf by the
 * volumes' parents: a new array of res's entries, or NULL with err. The
 * walk ends at a volume over none (all-zero parent) or over a template's
 * (SHARED: not the VM's own) or another image's volume. */
static json_t *walk(json_t *res, json_t *sd, json_t *m, json_t *d, const char *leaf, vr_error *err)
{
    json_t *chain = json_array(), *v, *x;
    const char *image = str(d, "disk"), *vol = leaf;
    size_t k;
    while (!err->code) {
        v = stored(res, image, vol);
        bool seen = false;
        json_array_foreach(chain, k, x) seen |= x == v;
        if (!v)
            vr_error_set(err, VR_ERR_CONFLICT, "volume %s of the chain of disk %s ('%s') of VM '%s' is not on storage"
                         " domain '%s'", vol, image, str(d, "alias"), str(m, "name"), str(sd, "name"));
        else if (seen)
            vr_error_set(err, VR_ERR_CONFLICT, "the volumes of disk %s ('%s') of VM '%s' on storage domain '%s' form"
                         " a loop at volume %s", image, str(d, "alias"), str(m, "name"), str(sd, "name"), vol);
        else if (strcmp(str(v, "legality"), "LEGAL"))
            vr_error_set(err, VR_ERR_CONFLICT, "volume %s of disk %s ('%s') of VM '%s' on storage domain '%s' is"
                         " ILLEGAL: %s", vol, image, str(d, "alias"), str(m, "name"), str(sd, "name"),
                         str(v, "reason"));
        if (err->code)
            break;
        json_array_insert(chain, 0, v);
        const char *parent = str(v, "parent");
        json_t *pv = stored(res, image, parent);
        if (!*parent || !strcmp(parent, "00000000-0000-0000-0000-000000000000") ||
            (pv && !strcmp(str(pv, "voltype"), "SHARED")) || (!pv && anywhere(res, parent)))
            return chain;
        vol = parent; /* missing: refused at the next turn */
    }
    json_decref(chain);
    return NULL;
}

/* Disk d's OVF chain against the one on storage (st): the number of
 * volumes of st the OVF knows, or -1 with err when a layered OVF chain is
 * not the start of st (its snapshots name volumes that are not there). */
static int known_part(json_t *sd, json_t *m, json_t *d, json_t *st, vr_error *err)
{
    json_t *ovf = json_object_get(d, "chain");
    bool layered = json_array_size(ovf) > 0;
    size_t k = 0, n = layered ? json_array_size(ovf) : 1;
    while (k < n && k < json_array_size(st) &&
           !strcmp(layered ? str(json_array_get(ovf, k), "volume") : str(d, "volume"),
                   str(json_array_get(st, k), "volume")))
        k++;
    if (!layered || k == n)
        return (int)k;
    vr_error_set(err, VR_ERR_CONFLICT, "volume %s of the OVF's chain of disk %s ('%s') of VM '%s' is not on storage"
                 " domain '%s' in that place (the chain there: %zu volumes up to leaf %s)",
                 str(json_array_get(ovf, k), "volume"), str(d, "disk"), str(d, "alias"), str(m, "name"),
                 str(sd, "name"), json_array_size(st), str(json_array_get(st, json_array_size(st) - 1), "volume"));
    return -1;
}

/* The recovered snapshots of m, one per depth under the leaves (the
 * newest first in news: a snapshot takes every disk of a VM at once, so
 * the j-th layer under each leaf is the j-th newest snapshot's), appended
 * to m.snapshots oldest first, the VM's definition as the OVF has it. */
static void recover(json_t *sd, json_t *m, json_t *news)
{
    char desc[300];
    vr_i18n_format(desc, sizeof(desc), "found on storage domain '%s' at registration, newer than its OVF store",
                   str(sd, "name"));
    json_t *snaps = json_object_get(m, "snapshots"), *d;
    if (!json_is_array(snaps))
        json_object_set_new(m, "snapshots", snaps = json_array());
    size_t depth = 0, i, j;
    json_array_foreach(news, i, d) depth = json_array_size(d) > depth ? json_array_size(d) : depth;
    for (j = depth; j-- > 0;) {
        json_t *disks = json_array();
        long long at = 0;
        json_array_foreach(json_object_get(m, "disks"), i, d) {
            json_t *layer = json_array_get(json_array_get(news, i), j);
            if (*str(d, "disk") && !layer)
                continue; /* no layer that deep: a disk the VM got later */
            json_t *sdk = json_deep_copy(d);
            json_object_del(sdk, "chain");
            if (layer) {
                json_object_set(sdk, "volume", json_object_get(layer, "volume"));
                long long t = json_integer_value(json_object_get(layer, "at"));
                at = t > at ? t : at;
            }
            json_array_append_new(disks, sdk);
        }
        char id[37];
        vr_uuid_new(id);
        json_t *s = json_pack("{s:s, s:s, s:I, s:o}", "id", id, "description", desc, "created_at", (json_int_t)at,
                              "disks", disks);
        const char *same[] = {"memory_mib", "vcpus", "nics", "boot"};
        for (i = 0; i < sizeof(same) / sizeof(same[0]); i++)
            if (json_object_get(m, same[i]))
                json_object_set(s, same[i], json_object_get(m, same[i]));
        json_array_append_new(snaps, s);
    }
}

int vr_regchain_apply(json_t *res, json_t *leaves, json_t *sd, json_t *m, vr_error *err)
{
    json_t *d, *news = json_array();
    size_t i, k;
    int rc = 0;
    json_array_foreach(json_object_get(m, "disks"), i, d) {
        json_t *layers = json_array(); /* the volumes the OVF does not know under the leaf, newest first */
        json_array_append_new(news, layers);
        if (!*str(d, "disk") || rc < 0)
            continue;
        json_t *st = walk(res, sd, m, d, str(leaves, str(d, "disk")), err);
        int known = st ? known_part(sd, m, d, st, err) : -1;
        if (known < 0) {
            rc = -1;
            json_decref(st);
            continue;
        }
        size_t n = json_array_size(st), from = known ? (size_t)known - 1 : 0;
        for (k = n - 1; k-- > from;) /* a snapshot's volume; its time the layer made over it */
            json_array_append_new(layers, json_pack("{s:s, s:I}", "volume", str(json_array_get(st, k), "volume"),
                                                    "at", json_integer_value(json_object_get(json_array_get(st, k + 1),
                                                                                             "ctime"))));
        if (n > 1) { /* the chain the VM is registered with: the domain's */
            json_t *chain = json_array();
            for (k = 0; k < n; k++)
                json_array_append_new(chain, json_pack("{s:s, s:s}", "volume", str(json_array_get(st, k), "volume"),
                                                       "parent", k ? str(json_array_get(st, k - 1), "volume") : ""));
            json_object_set_new(d, "chain", chain);
        }
        json_object_set_new(d, "volume", json_string(str(json_array_get(st, n - 1), "volume")));
        json_decref(st);
    }
    if (rc == 0)
        recover(sd, m, news);
    json_decref(news);
    return rc;
}

int vr_register_chains(vr_engine *e, json_t *sd, json_t *m, vr_error *err)
{
    json_t *d, *res = NULL, *host = vr_export_host(e, str(sd, "id"), err), *leaves = json_object();
    size_t i;
    int rc = host ? vr_agent_call_host(e, host, "Volume.list", json_pack("{s:s}", "domain", str(sd, "id")), &res,
                                       err) : -1;
    json_decref(host);
    json_array_foreach(rc == 0 ? json_object_get(m, "disks") : NULL, i, d) if (*str(d, "disk") && rc == 0) {
        json_t *row = vr_db_query_one(e->db, "SELECT volume_id FROM disks WHERE id = ?",
                                      DB_ARGS(DB_TEXT(str(d, "disk"))), err);
        if (row) /* the leaf the domain's import took */
            json_object_set(leaves, str(d, "disk"), json_object_get(row, "volume_id"));
        else
            rc = err->code ? -1 : vr_error_set(err, VR_ERR_CONFLICT, "disk %s ('%s') of VM '%s' is not known here:"
                                               " import the storage domain that holds it first", str(d, "disk"),
                                               str(d, "alias"), str(m, "name"));
        json_decref(row);
    }
    if (rc == 0)
        rc = vr_regchain_apply(res, leaves, sd, m, err);
    json_decref(leaves);
    json_decref(res);
    return rc;
}
