/* The device rules shared by the agent and the engine (src/common/
 * devspec.c): disks (with I/O limits and addresses), NICs, boot settings,
 * and disk target assignment. Input: a JSON object whose members "disk",
 * "nic", "boot" and "disks" go to the matching parser, so the structure-
 * aware mutator can move values between them. */
#include <ctype.h>
#include <string.h>

#include "devspec.h"
#include "fuzz.h"

static void check_disk(const vr_disk *d)
{
    /* a disk names a file or a volume (resolved later by the agent) */
    FUZZ_ASSERT(d->volume ? !d->path && json_is_object(d->volume)
                          : d->path && vr_valid_path(d->path));
    FUZZ_ASSERT(d->format && d->bus && d->device && d->cache && d->io);
    FUZZ_ASSERT(strlen(d->target) < sizeof(d->target));
    for (int i = 0; i < VR_IOTUNE_N; i++)
        FUZZ_ASSERT(d->iotune[i] >= 0 && (d->has_iotune || d->iotune[i] == 0));
}

static void disks(json_t *arr)
{
    vr_disk d[VR_MAX_STORAGE + 2];
    vr_error err = {0};
    size_t i;
    json_t *v;
    int n = 0;
    json_array_foreach(arr, i, v) {
        if (n == VR_MAX_STORAGE + 2)
            break;
        char where[32];
        snprintf(where, sizeof(where), "disks[%zu]", i);
        if (vr_disk_parse(v, where, &d[n], &err) < 0) {
            vr_fuzz_check_message(err.message, sizeof(err.message));
            continue;
        }
        check_disk(&d[n++]);
    }
    if (vr_disks_assign_targets(d, n, &err) < 0) {
        vr_fuzz_check_message(err.message, sizeof(err.message));
        return;
    }
    FUZZ_ASSERT(n <= VR_MAX_STORAGE);
    for (int a = 0; a < n; a++) {
        FUZZ_ASSERT(d[a].target[0] && strlen(d[a].target) >= 3);
        const char *prefix = !strcmp(d[a].bus, "virtio") ? "vd" : !strcmp(d[a].bus, "ide") ? "hd" : "sd";
        FUZZ_ASSERT(strncmp(d[a].target, prefix, 2) == 0);
        for (int b = 0; b < a; b++)
            FUZZ_ASSERT(strcmp(d[a].target, d[b].target) != 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *doc = vr_fuzz_load(data, size);
    if (!json_is_object(doc)) {
        json_decref(doc);
        return 0;
    }
    vr_error err = {0};
    json_t *v;
    if ((v = json_object_get(doc, "disk"))) {
        vr_disk d;
        if (vr_disk_parse(v, "disk", &d, &err) == 0)
            check_disk(&d);
        else
            vr_fuzz_check_message(err.message, sizeof(err.message));
    }
    if ((v = json_object_get(doc, "nic"))) {
        vr_nic n;
        if (vr_nic_parse(v, "nic", &n, &err) == 0) {
            FUZZ_ASSERT(vr_valid_mac(n.mac) && n.model);
            for (int i = 0; i < 17; i++)
                FUZZ_ASSERT(!isupper((unsigned char)n.mac[i]));
        } else {
            vr_fuzz_check_message(err.message, sizeof(err.message));
        }
    }
    if ((v = json_object_get(doc, "boot"))) {
        vr_boot b;
        if (vr_boot_parse(v, &b, &err) == 0)
            FUZZ_ASSERT(b.norder <= 3 && (b.kernel || (!b.initrd && !b.cmdline)));
        else
            vr_fuzz_check_message(err.message, sizeof(err.message));
    }
    if ((v = json_object_get(doc, "disks")) && json_is_array(v))
        disks(v);
    json_decref(doc);
    return 0;
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned seed)
{
    return vr_fuzz_json_mutate(data, size, max_size, seed);
}
