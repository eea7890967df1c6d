/* Structure-aware mutation of JSON inputs (VM specs, device objects,
 * JSON-RPC envelopes). Byte flips on a valid spec almost always give
 * malformed JSON, which only exercises jansson; changing one value of a
 * valid document reaches the rules behind it (limits, enums, paths,
 * addresses, unknown members). */
#include <limits.h>
#include <string.h>

#include "fuzz.h"

typedef struct rng {
    uint64_t s;
} rng;

static uint32_t next(rng *r)
{
    r->s = r->s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(r->s >> 33);
}

static uint32_t below(rng *r, uint32_t n) { return n ? next(r) % n : 0; }

/* Member names and values the parsers know, plus near misses. */
static const char *const words[] = {
    "name", "uuid", "memory_mib", "max_memory_mib", "vcpus", "max_vcpus", "cpu_model", "machine",
    "domain_type", "boot", "disks", "nics", "serial_console", "vnc", "balloon", "rng",
    "guest_agent", "listen", "kernel", "initrd", "cmdline", "order", "path", "format", "bus",
    "device", "cache", "io", "readonly", "serial", "target", "iotune", "address",
    "total_bytes_sec", "read_bytes_sec", "write_bytes_sec", "total_iops_sec", "read_iops_sec",
    "write_iops_sec", "type", "domain", "slot", "function", "controller", "unit", "mac", "model",
    "bridge", "kvm", "qemu", "raw", "qcow2", "virtio", "virtio-scsi", "sata", "ide", "disk",
    "cdrom", "none", "writethrough", "writeback", "directsync", "unsafe", "threads", "native",
    "e1000", "rtl8139", "pci", "drive", "hd", "network", "0x00", "0x1f", "0x0a", "0xffffffff",
    "0", "1", "99999", "52:54:00:12:34:56", "52:54:00:AB:CD:EF", "01:00:5e:00:00:01", "br0",
    "vda", "sdb", "hdz", "vdaa", "/k", "/var/lib/x.img", "a", "t-1", "jsonrpc", "2.0", "method",
    "params", "id", "Host.ping", "VM.create", "VM.hotplugDisk", "VM.setIoTune", "Host.subscribe",
    "0f0e0d0c-0b0a-4908-8706-050403020100", "127.0.0.1", "::1", "pc-q35-8.0", "host-passthrough",
    "bogus", "", "-"};

static const long long numbers[] = {0, 1, -1, 2, 3, 4, 5, 15, 16, 17, 20, 28, 29, 31, 32, 240, 241,
                                    1024, 2048, 4096, 4097, 4194304, 4194305, INT_MAX,
                                    (long long)INT_MAX + 1, 1LL << 50, (1LL << 50) + 1,
                                    LLONG_MAX, LLONG_MIN};

/* A string of n copies of unit (ASCII, two-, three- or four-byte UTF-8). */
static json_t *long_string(rng *r)
{
    static const char *const units[] = {"a", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x92\xbe", "/x"};
    const char *u = units[below(r, 5)];
    size_t n = 1 + below(r, 1100), ul = strlen(u);
    char *buf = malloc(n * ul + 2);
    if (!buf)
        return json_string("");
    size_t len = 0;
    if (below(r, 2))
        buf[len++] = '/'; /* absolute: passes the path check, reaches what follows */
    for (size_t i = 0; i < n; i++, len += ul)
        memcpy(buf + len, u, ul);
    json_t *s = json_stringn(buf, len);
    free(buf);
    return s;
}

static json_t *random_value(rng *r, int depth)
{
    switch (below(r, depth > 2 ? 7 : 9)) {
    case 0: return json_integer(numbers[below(r, sizeof(numbers) / sizeof(numbers[0]))]);
    case 1: return json_integer((json_int_t)next(r) - (1 << 15));
    case 2: return json_string(words[below(r, sizeof(words) / sizeof(words[0]))]);
    case 3: return long_string(r);
    case 4: return json_boolean(below(r, 2));
    case 5: return json_null();
    case 6: return json_real(below(r, 2) ? 1.5 : -0.0);
    case 7: {
        json_t *o = json_object();
        for (uint32_t i = below(r, 3); i > 0; i--)
            json_object_set_new(o, words[below(r, sizeof(words) / sizeof(words[0]))],
                                random_value(r, depth + 1));
        return o;
    }
    default: {
        json_t *a = json_array();
        for (uint32_t i = below(r, 4); i > 0; i--)
            json_array_append_new(a, random_value(r, depth + 1));
        return a;
    }
    }
}

/* A place holding a value: the root (parent NULL), a member or an element. */
typedef struct slot {
    json_t *parent, *value;
    const char *key;
    size_t index;
} slot;

#define MAX_SLOTS 512

static void collect(json_t *v, json_t *parent, const char *key, size_t index, slot *out, size_t *n)
{
    if (*n >= MAX_SLOTS)
        return;
    out[(*n)++] = (slot){parent, v, key, index};
    if (json_is_object(v)) {
        const char *k;
        json_t *m;
        json_object_foreach(v, k, m)
            collect(m, v, k, 0, out, n);
    } else if (json_is_array(v)) {
        size_t i;
        json_t *m;
        json_array_foreach(v, i, m)
            collect(m, v, NULL, i, out, n);
    }
}

/* Put `nv` (stolen) where slot s is; returns the new root. */
static json_t *replace(json_t *root, const slot *s, json_t *nv)
{
    if (!s->parent) {
        json_decref(root);
        return nv;
    }
    if (s->key)
        json_object_set_new(s->parent, s->key, nv);
    else
        json_array_set_new(s->parent, s->index, nv);
    return root;
}

static json_t *mutate_string(const char *s, rng *r)
{
    uint8_t buf[512];
    size_t len = strlen(s);
    if (len > sizeof(buf) / 2)
        len = sizeof(buf) / 2;
    memcpy(buf, s, len);
    (void)r;
    len = LLVMFuzzerMutate(buf, len, sizeof(buf));
    return json_stringn((const char *)buf, len); /* NULL if no longer UTF-8 */
}

/* One structural change; returns the (possibly new) root. */
static json_t *mutate(json_t *root, rng *r)
{
    static slot slots[MAX_SLOTS];
    size_t n = 0;
    collect(root, NULL, NULL, 0, slots, &n);
    slot *s = &slots[below(r, (uint32_t)n)];
    if (!s->parent && n > 1 && below(r, 8))
        s = &slots[1 + below(r, (uint32_t)n - 1)]; /* rarely replace the whole document */
    switch (below(r, 7)) {
    case 0: /* a member goes */
        if (s->parent && s->key) {
            json_object_del(s->parent, s->key);
            return root;
        }
        if (s->parent) {
            json_array_remove(s->parent, s->index);
            return root;
        }
        break;
    case 1: /* a member comes (maybe unknown, maybe a duplicate name elsewhere) */
        if (json_is_object(s->value)) {
            json_object_set_new(s->value, words[below(r, sizeof(words) / sizeof(words[0]))],
                                random_value(r, 0));
            return root;
        }
        break;
    case 2: /* an element repeats: reach the count limits */
        if (json_is_array(s->value) && json_array_size(s->value) > 0) {
            json_t *e = json_array_get(s->value, below(r, (uint32_t)json_array_size(s->value)));
            for (uint32_t k = 1 + below(r, 40); k > 0 && json_array_size(s->value) < 64; k--)
                json_array_append_new(s->value, json_deep_copy(e));
            return root;
        }
        break;
    case 3: /* a string's bytes change */
        if (json_is_string(s->value)) {
            json_t *nv = mutate_string(json_string_value(s->value), r);
            if (nv)
                return replace(root, s, nv);
        }
        break;
    case 4: /* a subtree moves somewhere else */
        if (n > 1) {
            slot *dst = &slots[below(r, (uint32_t)n)];
            if (json_is_object(dst->value) && dst->value != s->value) {
                json_object_set_new(dst->value, s->key ? s->key : "x", json_deep_copy(s->value));
                return root;
            }
        }
        break;
    default:
        break;
    }
    return replace(root, s, random_value(r, 0)); /* a value changes type or bounds */
}

size_t vr_fuzz_json_mutate(uint8_t *data, size_t size, size_t max_size, unsigned seed)
{
    rng r = {seed * 0x9E3779B97F4A7C15ULL + 1};
    json_t *root = below(&r, 4) ? vr_fuzz_load(data, size) : NULL;
    if (!root)
        return LLVMFuzzerMutate(data, size, max_size);
    for (uint32_t k = 1 + below(&r, 3); k > 0 && root; k--)
        root = mutate(root, &r);
    char *text = root ? json_dumps(root, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    json_decref(root);
    size_t len = text ? strlen(text) : 0;
    if (!text || len > max_size) {
        free(text);
        return LLVMFuzzerMutate(data, size, max_size);
    }
    memcpy(data, text, len);
    free(text);
    return len;
}
