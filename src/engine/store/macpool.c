#include "macpool.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "devspec.h"

static int mac_parse(const char *s, size_t len, uint64_t *out)
{
    char buf[18];
    if (len != 17)
        return -1;
    memcpy(buf, s, 17);
    buf[17] = '\0';
    if (!vr_valid_mac(buf))
        return -1;
    uint64_t v = 0;
    for (int i = 0; i < 17; i += 3) {
        unsigned b;
        if (sscanf(buf + i, "%2x", &b) != 1)
            return -1;
        v = v << 8 | b;
    }
    *out = v;
    return 0;
}

static void mac_format(uint64_t v, char out[18])
{
    snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", (unsigned)(v >> 40) & 0xff,
             (unsigned)(v >> 32) & 0xff, (unsigned)(v >> 24) & 0xff, (unsigned)(v >> 16) & 0xff,
             (unsigned)(v >> 8) & 0xff, (unsigned)v & 0xff);
}

int vr_macpool_parse(const char *range, uint64_t *first, uint64_t *last, vr_error *err)
{
    const char *dash = strchr(range, '-');
    if (!dash || mac_parse(range, (size_t)(dash - range), first) < 0 ||
        mac_parse(dash + 1, strlen(dash + 1), last) < 0)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "MAC pool '%s' is not FIRST-LAST with two "
                            "unicast MACs like 56:6f:00:00:00:00-56:6f:00:00:ff:ff", range);
    if (*first > *last)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "MAC pool '%s' ends before it starts", range);
    /* Every address in between must be unicast too: keep the first octet. */
    if ((*first >> 40) != (*last >> 40))
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "MAC pool '%s' must keep its first octet", range);
    return 0;
}

static int try_insert(vr_engine *e, const char *vm_id, uint64_t v, char mac[18], vr_error *err)
{
    vr_error e2 = {0};
    mac_format(v, mac);
    if (vr_db_exec(e->db, "INSERT INTO macs (mac, vm_id) VALUES (?, ?)",
                   DB_ARGS(DB_TEXT(mac), DB_TEXT(vm_id)), &e2) == 1)
        return 1;
    if (e2.code != VR_ERR_CONFLICT) {
        *err = e2;
        return -1;
    }
    return 0;
}

int vr_macpool_allocate(vr_engine *e, const char *vm_id, char mac[18], vr_error *err)
{
    uint64_t size = e->mac_last - e->mac_first + 1;
    /* Random picks: allocations do not cluster, and a large pool rarely
     * needs a second try. */
    for (int attempt = 0; attempt < 16; attempt++) {
        uint64_t r;
        if (getrandom(&r, sizeof(r), 0) != sizeof(r))
            return vr_error_set(err, VR_ERR_INTERNAL, "no randomness for a MAC");
        int rc = try_insert(e, vm_id, e->mac_first + r % size, mac, err);
        if (rc != 0)
            return rc < 0 ? -1 : 0;
    }
    /* A crowded pool: walk the used addresses in order to the first gap. */
    char lo[18], hi[18];
    mac_format(e->mac_first, lo);
    mac_format(e->mac_last, hi);
    json_t *rows;
    if (vr_db_query(e->db, "SELECT mac FROM macs WHERE mac >= ? AND mac <= ? ORDER BY mac",
                    DB_ARGS(DB_TEXT(lo), DB_TEXT(hi)), &rows, err) < 0)
        return -1;
    uint64_t want = e->mac_first;
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        uint64_t used;
        const char *s = json_string_value(json_object_get(row, "mac")) ?: "";
        if (mac_parse(s, strlen(s), &used) < 0 || used < want)
            continue;
        if (used > want)
            break;
        want++;
    }
    json_decref(rows);
    if (want > e->mac_last)
        return vr_error_set(err, VR_ERR_LIMIT, "the MAC pool %s-%s is used up (%llu addresses)", lo, hi,
                            (unsigned long long)size);
    int rc = try_insert(e, vm_id, want, mac, err);
    return rc == 1 ? 0 : rc < 0 ? -1 : vr_error_set(err, VR_ERR_CONFLICT, "MAC %s was just taken", mac);
}
