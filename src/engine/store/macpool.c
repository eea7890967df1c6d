/* MAC pools (macpool.h). Addresses are unique across the engine (macs.mac
 * is the key) whichever pool gave them; each remembers its pool so a
 * pool's use can be counted. */
#include "macpool.h"

#include <stdio.h>
#include <stdlib.h>
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


/* A pool's ranges as integers; the count. */
static size_t ranges_of(json_t *ranges, uint64_t first[VR_MACPOOL_MAX_RANGES], uint64_t last[VR_MACPOOL_MAX_RANGES])
{
    size_t i, n = 0;
    json_t *r;
    json_array_foreach(ranges, i, r) {
        const char *f = json_string_value(json_object_get(r, "from")) ?: "",
                   *t = json_string_value(json_object_get(r, "to")) ?: "";
        if (n < VR_MACPOOL_MAX_RANGES && mac_parse(f, strlen(f), &first[n]) == 0 &&
            mac_parse(t, strlen(t), &last[n]) == 0 && first[n] <= last[n])
            n++;
    }
    return n;
}

int vr_macpool_check_ranges(json_t *ranges, vr_error *err)
{
    if (!json_is_array(ranges) || !json_array_size(ranges) || json_array_size(ranges) > VR_MACPOOL_MAX_RANGES)
        return vr_error_set(err, VR_ERR_INVALID_PARAMS, "ranges must be an array of 1 to %d ranges {from, to}",
                            VR_MACPOOL_MAX_RANGES);
    uint64_t first[VR_MACPOOL_MAX_RANGES], last[VR_MACPOOL_MAX_RANGES];
    size_t i;
    json_t *r;
    json_array_foreach(ranges, i, r) {
        const char *k;
        json_t *v;
        if (!json_is_object(r))
            return vr_error_set(err, VR_ERR_INVALID_PARAMS, "ranges[%zu] must be an object {from, to}", i);
        json_object_foreach(r, k, v)
            if (strcmp(k, "from") && strcmp(k, "to"))
                return vr_error_set(err, VR_ERR_INVALID_PARAMS, "ranges[%zu]: unknown member '%.40s'", i, k);
        const char *f = json_string_value(json_object_get(r, "from")), *t = json_string_value(json_object_get(r, "to"));
        if (!f || !t || mac_parse(f, strlen(f), &first[i]) < 0 || mac_parse(t, strlen(t), &last[i]) < 0)
            return vr_error_set(err, VR_ERR_INVALID_PARAMS, "ranges[%zu]: from and to must be unicast MACs like"
                                " 56:6f:00:00:00:00", i);
        if (first[i] > last[i])
            return vr_error_set(err, VR_ERR_INVALID_PARAMS, "ranges[%zu]: %s-%s ends before it starts", i, f, t);
        if ((first[i] >> 40) != (last[i] >> 40))
            return vr_error_set(err, VR_ERR_INVALID_PARAMS, "ranges[%zu]: %s-%s must keep its first octet (every"
                                " address in it stays unicast)", i, f, t);
        for (size_t j = 0; j < i; j++)
            if (first[i] <= last[j] && first[j] <= last[i])
                return vr_error_set(err, VR_ERR_INVALID_PARAMS, "ranges[%zu] (%s-%s) overlaps ranges[%zu]", i, f, t,
                                    j);
        /* Stored as the allocator writes MACs: lowercase. */
        char canon[18];
        mac_format(first[i], canon);
        json_object_set_new(r, "from", json_string(canon));
        mac_format(last[i], canon);
        json_object_set_new(r, "to", json_string(canon));
    }
    return 0;
}

bool vr_macpool_overlap(json_t *a, json_t *b, char *where, size_t len)
{
    uint64_t fa[VR_MACPOOL_MAX_RANGES], la[VR_MACPOOL_MAX_RANGES], fb[VR_MACPOOL_MAX_RANGES],
        lb[VR_MACPOOL_MAX_RANGES];
    size_t na = ranges_of(a, fa, la), nb = ranges_of(b, fb, lb);
    for (size_t i = 0; i < na; i++)
        for (size_t j = 0; j < nb; j++)
            if (fa[i] <= lb[j] && fb[j] <= la[i]) {
                char x[18], y[18];
                mac_format(fb[j], x);
                mac_format(lb[j], y);
                snprintf(where, len, "%s-%s", x, y);
                return true;
            }
    return false;
}

json_t *vr_macpool_range_json(uint64_t first, uint64_t last)
{
    char f[18], t[18];
    mac_format(first, f);
    mac_format(last, t);
    return json_pack("[{s:s, s:s}]", "from", f, "to", t);
}

int vr_macpool_init(vr_engine *e, bool given, vr_error *err)
{
    json_t *ranges = vr_macpool_range_json(e->mac_first, e->mac_last);
    char *text = json_dumps(ranges, JSON_COMPACT);
    json_decref(ranges);
    /* An explicit --mac-pool wins; otherwise the Default pool keeps what
     * the API made of it, and only a new one gets the built-in range. */
    int rc = vr_db_exec(e->db, given ? "UPDATE mac_pools SET ranges_json = ? WHERE id = ?"
                                     : "UPDATE mac_pools SET ranges_json = ? WHERE id = ? AND ranges_json = '[]'",
                        DB_ARGS(DB_TEXT(text), DB_TEXT(VR_MACPOOL_DEFAULT_ID)), err);
    free(text);
    return rc < 0 ? -1 : 0;
}

static int try_insert(vr_engine *e, const char *vm_id, const char *pool_id, uint64_t v, char mac[18], vr_error *err)
{
    vr_error e2 = {0};
    mac_format(v, mac);
    if (vr_db_exec(e->db, "INSERT INTO macs (mac, vm_id, pool_id) VALUES (?, ?, ?)",
                   DB_ARGS(DB_TEXT(mac), DB_TEXT(vm_id), DB_TEXT(pool_id)), &e2) == 1)
        return 1;
    if (e2.code != VR_ERR_CONFLICT) {
        *err = e2;
        return -1;
    }
    return 0;
}

/* The first free address of [first, last], or last + 1. */
static uint64_t first_gap(vr_engine *e, uint64_t first, uint64_t last, vr_error *err)
{
    char lo[18], hi[18];
    mac_format(first, lo);
    mac_format(last, hi);
    json_t *rows;
    if (vr_db_query(e->db, "SELECT mac FROM macs WHERE mac >= ? AND mac <= ? ORDER BY mac",
                    DB_ARGS(DB_TEXT(lo), DB_TEXT(hi)), &rows, err) < 0)
        return last + 1;
    uint64_t want = first;
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
    return want;
}

int vr_macpool_allocate(vr_engine *e, const char *vm_id, char mac[18], vr_error *err)
{
    /* The pool of the VM's cluster (the VM's row is written already, in
     * the caller's transaction). */
    json_t *pool = vr_db_query_one(e->db, "SELECT p.id AS id, p.name AS name, p.ranges_json AS ranges_json FROM vms v"
                                   " JOIN clusters c ON c.id = v.cluster_id JOIN mac_pools p ON p.id = c.mac_pool_id"
                                   " WHERE v.id = ?", DB_ARGS(DB_TEXT(vm_id)), err);
    if (!pool)
        return err->code ? -1 : vr_error_set(err, VR_ERR_NOT_FOUND, "VM %s has no cluster with a MAC pool", vm_id);
    const char *pool_id = json_string_value(json_object_get(pool, "id")), *name = json_string_value(json_object_get(pool, "name"));
    uint64_t first[VR_MACPOOL_MAX_RANGES], last[VR_MACPOOL_MAX_RANGES], size = 0;
    size_t n = ranges_of(json_object_get(pool, "ranges"), first, last);
    for (size_t i = 0; i < n; i++)
        size += last[i] - first[i] + 1;
    int rc = 0;
    /* Random picks: allocations do not cluster, and a large pool rarely
     * needs a second try. */
    for (int attempt = 0; size && attempt < 16 && rc == 0; attempt++) {
        uint64_t r;
        if (getrandom(&r, sizeof(r), 0) != sizeof(r)) {
            rc = vr_error_set(err, VR_ERR_INTERNAL, "no randomness for a MAC");
            break;
        }
        r %= size;
        size_t i = 0;
        while (r > last[i] - first[i])
            r -= last[i] - first[i] + 1, i++;
        rc = try_insert(e, vm_id, pool_id, first[i] + r, mac, err);
    }
    /* A crowded pool: walk the used addresses in order to the first gap. */
    for (size_t i = 0; i < n && rc == 0; i++) {
        uint64_t want = first_gap(e, first[i], last[i], err);
        if (err->code)
            rc = -1;
        else if (want <= last[i] && (rc = try_insert(e, vm_id, pool_id, want, mac, err)) == 0)
            rc = vr_error_set(err, VR_ERR_CONFLICT, "MAC %s was just taken", mac);
    }
    if (rc == 0)
        rc = vr_error_set(err, VR_ERR_LIMIT, "the MAC pool '%s' is used up (%llu addresses)", name,
                          (unsigned long long)size);
    json_decref(pool);
    return rc < 0 ? -1 : 0;
}
